//! broadcast::store: "who is subscribed, which broadcasts exist, and who
//! has received which one?" Subscriptions, the bot's membership events,
//! broadcast jobs and one delivery row per recipient, in the SQL database
//! (`migrations/*/0003_broadcast.sql`).
//!
//! Delivery rows move `pending → sent | failed | skipped`. A row stays
//! `pending` until the outcome of its send is recorded, one statement
//! right after Telegram answers; under [`InterruptedPolicy::GiveUp`] it is
//! marked `sending` right before the send, so that the rows a killed
//! process leaves `sending` are exactly the sends it had in flight.
//!
//! Several replicas (PostgreSQL): a delivery loop claims the rows it will
//! send ([`BroadcastStore::claim_batch`]: `claimed_by` its replica id,
//! `claimed_until` a lease on the database's clock, read `FOR UPDATE SKIP
//! LOCKED`), renews the lease while it runs and releases the rows when it
//! stops. A row is claimable when unclaimed, expired, or the claimer's own
//! (the same replica after a restart). So two replicas never send the
//! same delivery, and a killed replica's rows wait for its lease.
//!
//! Invariant: every state change is one SQL statement or one transaction;
//! nothing here talks to Telegram or reads the clock (timestamps are the
//! database's `CURRENT_TIMESTAMP` and [`Backend::now_ms`]). The SQL is
//! portable between SQLite and PostgreSQL (`$n` placeholders, `RETURNING`,
//! `ON CONFLICT`), run on either through [`on_pool!`].

pub use crate::domain::broadcast::{JobCounts, JobReport, JobStatus};
use crate::on_pool;
use crate::state::db::{Backend, Db, DbError};
use serde::Deserialize;
use sqlx::Row;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Why the broadcast state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BroadcastStoreError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Open(#[from] DbError),
    /// A statement failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// No job has this id (a user's mistake: a wrong id in a command).
    #[error("no broadcast job {0}")]
    NoSuchJob(i64),
    /// A stored value does not decode (written by another version?).
    #[error("stored broadcast row does not decode: {0}")]
    Decode(String),
}

type Result<T> = std::result::Result<T, BroadcastStoreError>;

/// A stored status, or a decode error naming it.
fn parse_status(text: &str) -> Result<JobStatus> {
    JobStatus::parse(text)
        .ok_or_else(|| BroadcastStoreError::Decode(format!("job status {text:?}")))
}

/// What a group, supergroup or private chat subscribed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub chat_id: i64,
    /// private, group, supergroup or channel.
    pub kind: String,
    pub title: Option<String>,
    pub subscribed_by: Option<i64>,
}

/// The result of /subscribe or /unsubscribe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionChange {
    /// The chat was not receiving broadcasts and now does (or the reverse).
    Changed,
    /// Nothing to do: it already was (or was not) subscribed.
    Unchanged,
}

/// A my_chat_member update: the bot's status in a chat changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipEvent {
    pub chat_id: i64,
    pub kind: String,
    pub title: Option<String>,
    /// The bot's new status: member, administrator, left, kicked, restricted.
    pub status: String,
    /// Who changed it.
    pub changed_by: Option<i64>,
}

impl MembershipEvent {
    /// The bot can no longer post there.
    pub fn removes_the_bot(&self) -> bool {
        matches!(self.status.as_str(), "left" | "kicked")
    }
}

/// A broadcast to be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub year: u16,
    /// The summary text as it will be sent.
    pub message: String,
    /// The chart PNG as it will be sent.
    pub chart: Option<Vec<u8>>,
    /// The admin who asked; None for the automatic mode.
    pub created_by: Option<i64>,
    pub automatic: bool,
    pub knowledge_version: Option<String>,
    /// Skip the confirmation step (automatic mode without confirmation).
    pub confirmed: bool,
}

/// A stored broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub year: u16,
    pub status: JobStatus,
    pub automatic: bool,
    pub created_by: Option<i64>,
    pub message: String,
    pub chart: Option<Vec<u8>>,
    /// Telegram's file id of the chart once uploaded, to reuse.
    pub file_id: Option<String>,
    pub knowledge_version: Option<String>,
}

/// One delivery to make: the recipient row's key and where to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    /// The delivery row's key: the chat id at confirmation.
    pub chat_id: i64,
    /// Where to send: the chat's new id after a migration, else `chat_id`.
    pub target: i64,
    /// Sends tried so far.
    pub attempts: u32,
}

/// What a restart does with the sends a killed process had in flight:
/// each may or may not have reached its chat (Telegram has no idempotency
/// key and no way to ask). A graceful stop leaves none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterruptedPolicy {
    /// Send them again (at least once): a chat may get the summary twice,
    /// but no chat misses it. The default: a missed yearly summary goes
    /// unnoticed, a repeated one is visible and harmless. Costs nothing:
    /// those rows are still `pending`.
    #[default]
    Resend,
    /// Report them failed with [`INTERRUPTED`] (at most once): no chat gets
    /// it twice. Costs one more row update per message (`sending` before
    /// each send).
    GiveUp,
}

/// The reason recorded on an interrupted delivery given up.
pub const INTERRUPTED: &str = "interrupted: the process stopped during this send";

/// How long a delivery loop's claim on its rows lasts unless renewed; a
/// replica killed mid-job leaves rows that others take after this.
pub const DEFAULT_CLAIM_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

/// Subscriptions, jobs and deliveries in SQL: SQLite or PostgreSQL.
#[derive(Clone)]
pub struct BroadcastStore {
    db: Db,
    /// Who claims delivery rows: unique per store unless set.
    replica: Arc<str>,
}

impl BroadcastStore {
    /// The store the settings name: PostgreSQL when `database_url` starts
    /// with `postgres://` or `postgresql://` (shared by replicas), else the
    /// SQLite file `state.db` in `data_dir`. Applies the migrations.
    pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> Result<BroadcastStore> {
        Ok(BroadcastStore::from_db(
            Db::connect(database_url, data_dir).await?,
        ))
    }

    /// Opens (creating) a SQLite file and applies the migrations.
    pub async fn open(path: &Path) -> Result<BroadcastStore> {
        Ok(BroadcastStore::from_db(Db::open_sqlite(path).await?))
    }

    /// Uses an open database whose migrations have run. Its replica id is
    /// new: `host:pid:n`.
    pub fn from_db(db: Db) -> BroadcastStore {
        static STORES: AtomicU64 = AtomicU64::new(0);
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "replica".into());
        let replica = format!(
            "{host}:{}:{}",
            std::process::id(),
            STORES.fetch_add(1, Ordering::Relaxed)
        );
        BroadcastStore {
            db,
            replica: replica.into(),
        }
    }

    /// The same database under a stable replica id: a process restarted
    /// with the same id takes back its claims at once instead of after the
    /// lease. Two live processes must never share one.
    pub fn with_replica_id(self, replica: &str) -> BroadcastStore {
        BroadcastStore {
            replica: replica.into(),
            ..self
        }
    }

    pub fn replica_id(&self) -> &str {
        &self.replica
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    // ---- Subscriptions.

    /// /subscribe: the chat receives broadcasts from now on.
    pub async fn subscribe(&self, s: &Subscription) -> Result<SubscriptionChange> {
        let was_active: Option<bool> = on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            let was_active: Option<bool> =
                sqlx::query_scalar("SELECT active FROM subscriptions WHERE chat_id = $1")
                    .bind(s.chat_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            sqlx::query(
                "INSERT INTO subscriptions (chat_id, kind, title, active, subscribed_by) \
                 VALUES ($1, $2, $3, TRUE, $4) \
                 ON CONFLICT (chat_id) DO UPDATE SET kind = excluded.kind, title = excluded.title, \
                   active = TRUE, subscribed_by = excluded.subscribed_by, inactive_reason = NULL, \
                   updated_at = CURRENT_TIMESTAMP",
            )
            .bind(s.chat_id)
            .bind(&s.kind)
            .bind(&s.title)
            .bind(s.subscribed_by)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            was_active
        });
        Ok(if was_active == Some(true) {
            SubscriptionChange::Unchanged
        } else {
            SubscriptionChange::Changed
        })
    }

    /// /unsubscribe: no more broadcasts to this chat.
    pub async fn unsubscribe(&self, chat_id: i64) -> Result<SubscriptionChange> {
        self.deactivate(chat_id, "unsubscribed").await
    }

    async fn deactivate(&self, chat_id: i64, reason: &str) -> Result<SubscriptionChange> {
        let changed = on_pool!(&self.db, pool => sqlx::query(
            "UPDATE subscriptions SET active = FALSE, inactive_reason = $2, \
             updated_at = CURRENT_TIMESTAMP WHERE chat_id = $1 AND active",
        )
        .bind(chat_id)
        .bind(reason)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(if changed > 0 {
            SubscriptionChange::Changed
        } else {
            SubscriptionChange::Unchanged
        })
    }

    /// Records a my_chat_member update; the bot leaving or being removed
    /// ends the chat's subscription.
    pub async fn record_membership(&self, e: &MembershipEvent) -> Result<()> {
        on_pool!(&self.db, pool => sqlx::query(
            "INSERT INTO chat_membership (chat_id, kind, title, status, changed_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(e.chat_id)
        .bind(&e.kind)
        .bind(&e.title)
        .bind(&e.status)
        .bind(e.changed_by)
        .execute(pool)
        .await?
        .rows_affected());
        if e.removes_the_bot() {
            self.deactivate(e.chat_id, "removed").await?;
        }
        Ok(())
    }

    /// The bot's last recorded status in a chat.
    pub async fn membership(&self, chat_id: i64) -> Result<Option<String>> {
        Ok(on_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT status FROM chat_membership WHERE chat_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(chat_id)
        .fetch_optional(pool)
        .await?))
    }

    /// Whether the chat receives broadcasts.
    pub async fn is_subscribed(&self, chat_id: i64) -> Result<bool> {
        let active: Option<bool> = on_pool!(&self.db, pool =>
            sqlx::query_scalar("SELECT active FROM subscriptions WHERE chat_id = $1")
                .bind(chat_id)
                .fetch_optional(pool)
                .await?);
        Ok(active.unwrap_or(false))
    }

    /// Every chat that receives broadcasts, by chat id.
    pub async fn active_subscriptions(&self) -> Result<Vec<Subscription>> {
        Ok(on_pool!(&self.db, pool => sqlx::query(
            "SELECT chat_id, kind, title, subscribed_by FROM subscriptions \
             WHERE active ORDER BY chat_id",
        )
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| Subscription {
            chat_id: r.get(0),
            kind: r.get(1),
            title: r.get(2),
            subscribed_by: r.get(3),
        })
        .collect()))
    }

    // ---- Jobs.

    /// Stores a job; a job created confirmed gets its recipients (the
    /// active subscriptions) in the same transaction.
    pub async fn create_job(&self, job: &NewJob) -> Result<i64> {
        let status = if job.confirmed {
            JobStatus::Confirmed
        } else {
            JobStatus::PendingConfirmation
        };
        Ok(on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO broadcast_jobs (year, status, automatic, created_by, knowledge_version, message, chart, \
                   confirmed_by, confirmed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN CURRENT_TIMESTAMP END) RETURNING id",
            )
            .bind(job.year as i64)
            .bind(status.as_str())
            .bind(job.automatic)
            .bind(job.created_by)
            .bind(&job.knowledge_version)
            .bind(&job.message)
            .bind(&job.chart)
            .bind(if job.confirmed { job.created_by } else { None })
            .bind(job.confirmed)
            .fetch_one(&mut *tx)
            .await?;
            if job.confirmed {
                sqlx::query(SNAPSHOT_RECIPIENTS)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            id
        }))
    }

    /// 确认发送: the job's recipients become the active subscriptions of
    /// this moment, in the same transaction. Only a job waiting for
    /// confirmation can be confirmed; otherwise its current status.
    pub async fn confirm_job(&self, id: i64, by: Option<i64>) -> Result<Confirmation> {
        let recipients: Option<u64> = on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE broadcast_jobs SET status = 'confirmed', confirmed_by = $2, \
                 confirmed_at = CURRENT_TIMESTAMP WHERE id = $1 AND status = 'pending_confirmation'",
            )
            .bind(id)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                None
            } else {
                let recipients = sqlx::query(SNAPSHOT_RECIPIENTS)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Some(recipients)
            }
        });
        Ok(match recipients {
            Some(recipients) => Confirmation::Confirmed { recipients },
            None => Confirmation::NotWaiting(self.job_state(id).await?),
        })
    }

    /// 取消: stops a job that is not finished; deliveries not yet sent are
    /// skipped. A loop running it stops at its next batch (sends already
    /// in flight are still recorded as sent).
    pub async fn cancel_job(&self, id: i64, by: Option<i64>) -> Result<Cancellation> {
        let cancelled: bool = on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE broadcast_jobs SET status = 'cancelled', cancelled_by = $2, \
                 finished_at = CURRENT_TIMESTAMP \
                 WHERE id = $1 AND status IN ('pending_confirmation', 'confirmed', 'running')",
            )
            .bind(id)
            .bind(by)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                false
            } else {
                sqlx::query(
                    "UPDATE broadcast_deliveries SET status = 'skipped', last_error = 'cancelled' \
                     WHERE job_id = $1 AND status IN ('pending', 'sending')",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                true
            }
        });
        Ok(if cancelled {
            Cancellation::Cancelled
        } else {
            Cancellation::AlreadyOver(self.job_state(id).await?)
        })
    }

    /// A delivery loop takes the job: confirmed → running. True also for a
    /// job already running (resuming after a restart, or on another
    /// replica).
    pub async fn start_job(&self, id: i64) -> Result<bool> {
        let done = on_pool!(&self.db, pool => sqlx::query(
            "UPDATE broadcast_jobs SET status = 'running' \
             WHERE id = $1 AND status IN ('confirmed', 'running')",
        )
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done > 0)
    }

    /// Marks a running job done when none of its deliveries is left.
    pub async fn finish_job_if_complete(&self, id: i64) -> Result<bool> {
        let done = on_pool!(&self.db, pool => sqlx::query(
            "UPDATE broadcast_jobs SET status = 'done', finished_at = CURRENT_TIMESTAMP \
             WHERE id = $1 AND status = 'running' AND NOT EXISTS \
               (SELECT 1 FROM broadcast_deliveries WHERE job_id = $1 AND status IN ('pending', 'sending'))",
        )
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done > 0)
    }

    /// Jobs a delivery loop should run: confirmed, or running (when the
    /// process stopped, or on another replica). Oldest first.
    pub async fn jobs_to_run(&self) -> Result<Vec<i64>> {
        Ok(on_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT id FROM broadcast_jobs WHERE status IN ('confirmed', 'running') ORDER BY id",
        )
        .fetch_all(pool)
        .await?))
    }

    /// The job with its message and chart.
    pub async fn job(&self, id: i64) -> Result<Job> {
        let job = on_pool!(&self.db, pool => {
            let r = sqlx::query(
                "SELECT id, year, status, automatic, created_by, message, chart, file_id, knowledge_version \
                 FROM broadcast_jobs WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(BroadcastStoreError::NoSuchJob(id))?;
            Job {
                id: r.get(0),
                year: year_of(r.get(1))?,
                status: parse_status(r.get(2))?,
                automatic: r.get(3),
                created_by: r.get(4),
                message: r.get(5),
                chart: r.get(6),
                file_id: r.get(7),
                knowledge_version: r.get(8),
            }
        });
        Ok(job)
    }

    /// Keeps Telegram's file id of the uploaded chart, so that the other
    /// recipients get the same photo without another upload.
    pub async fn set_file_id(&self, id: i64, file_id: &str) -> Result<()> {
        on_pool!(&self.db, pool => sqlx::query("UPDATE broadcast_jobs SET file_id = $2 WHERE id = $1")
            .bind(id)
            .bind(file_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(())
    }

    /// A job's status.
    pub async fn job_state(&self, id: i64) -> Result<JobStatus> {
        let status: String = on_pool!(&self.db, pool =>
            sqlx::query_scalar("SELECT status FROM broadcast_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?)
        .ok_or(BroadcastStoreError::NoSuchJob(id))?;
        parse_status(&status)
    }

    /// /broadcast status for one job: sent, failed, pending, skipped.
    pub async fn job_status(&self, id: i64) -> Result<JobReport> {
        let (year, status, by_status): (i64, String, Vec<(String, i64)>) = on_pool!(&self.db, pool => {
            let job = sqlx::query("SELECT year, status FROM broadcast_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .ok_or(BroadcastStoreError::NoSuchJob(id))?;
            let rows = sqlx::query(
                "SELECT status, COUNT(*) FROM broadcast_deliveries WHERE job_id = $1 GROUP BY status",
            )
            .bind(id)
            .fetch_all(pool)
            .await?;
            (
                job.get(0),
                job.get(1),
                rows.into_iter().map(|r| (r.get(0), r.get(1))).collect(),
            )
        });
        let mut counts = JobCounts::default();
        for (status, n) in by_status {
            let n = n as u64;
            match status.as_str() {
                "sent" => counts.sent += n,
                "failed" => counts.failed += n,
                "skipped" => counts.skipped += n,
                _ => counts.pending += n,
            }
        }
        Ok(JobReport {
            id,
            year: year_of(year)?,
            status: parse_status(&status)?,
            counts,
        })
    }

    /// The newest jobs' reports, newest first.
    pub async fn recent_jobs(&self, limit: u32) -> Result<Vec<JobReport>> {
        let ids: Vec<i64> = on_pool!(&self.db, pool =>
            sqlx::query_scalar("SELECT id FROM broadcast_jobs ORDER BY id DESC LIMIT $1")
                .bind(limit as i64)
                .fetch_all(pool)
                .await?);
        let mut reports = Vec::with_capacity(ids.len());
        for id in ids {
            reports.push(self.job_status(id).await?);
        }
        Ok(reports)
    }

    /// Years that have a job that was not cancelled: the automatic mode
    /// does not queue them again.
    pub async fn years_broadcast(&self) -> Result<Vec<u16>> {
        let years: Vec<i64> = on_pool!(&self.db, pool => sqlx::query_scalar(
            "SELECT DISTINCT year FROM broadcast_jobs WHERE status <> 'cancelled' ORDER BY year",
        )
        .fetch_all(pool)
        .await?);
        years.into_iter().map(year_of).collect()
    }

    // ---- Deliveries.

    /// Resolves the crash window of a killed run: deliveries left
    /// `sending` (only `give_up` marks them, right before each send) whose
    /// claim is dead: this replica's own (from before its restart: run one
    /// loop per job per process), expired, or absent. Rows a live replica
    /// is sending are left alone. Returns how many there were.
    pub async fn recover_interrupted(&self, job: i64, policy: InterruptedPolicy) -> Result<u64> {
        let done = on_pool!(&self.db, pool => {
            let dead_claim = format!(
                "(claimed_by IS NULL OR claimed_by = $2 OR claimed_until < {})",
                pool.now_ms()
            );
            match policy {
                InterruptedPolicy::Resend => {
                    sqlx::query(&format!(
                        "UPDATE broadcast_deliveries SET status = 'pending', \
                         last_error = 'interrupted: sent again' \
                         WHERE job_id = $1 AND status = 'sending' AND {dead_claim}"
                    ))
                    .bind(job)
                    .bind(&*self.replica)
                    .execute(pool)
                    .await?
                }
                InterruptedPolicy::GiveUp => {
                    sqlx::query(&format!(
                        "UPDATE broadcast_deliveries SET status = 'failed', last_error = $3 \
                         WHERE job_id = $1 AND status = 'sending' AND {dead_claim}"
                    ))
                    .bind(job)
                    .bind(&*self.replica)
                    .bind(INTERRUPTED)
                    .execute(pool)
                    .await?
                }
            }
            .rows_affected()
        });
        Ok(done)
    }

    /// Claims the next `limit` pending deliveries of a running job after
    /// chat id `after`, in chat id order, for `lease`: no other replica
    /// takes them until the lease ends (renewed by
    /// [`renew_claims`](Self::renew_claims)) or they are released. Empty
    /// when none is left to this replica or the job is no longer running
    /// (cancelled). A row stays `pending` until its outcome is recorded
    /// (or, under `give_up`, until [`mark_sending`](Self::mark_sending)).
    ///
    /// On PostgreSQL the rows are read `FOR UPDATE SKIP LOCKED` and
    /// claimed in one statement: two replicas never claim the same row; on
    /// SQLite the write lock serialises claims.
    pub async fn claim_batch(
        &self,
        job: i64,
        after: Option<i64>,
        limit: u32,
        lease: std::time::Duration,
    ) -> Result<Vec<Recipient>> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        let mut claimed: Vec<Recipient> = on_pool!(&self.db, pool => {
            let now = pool.now_ms();
            let sql = format!(
                "UPDATE broadcast_deliveries SET claimed_by = $3, claimed_until = {now} + $5 \
                 WHERE job_id = $1 AND chat_id IN ( \
                   SELECT d.chat_id FROM broadcast_deliveries d \
                   WHERE d.job_id = $1 AND d.status = 'pending' AND d.chat_id > $2 \
                     AND (d.claimed_by IS NULL OR d.claimed_by = $3 OR d.claimed_until < {now}) \
                     AND EXISTS (SELECT 1 FROM broadcast_jobs j WHERE j.id = $1 AND j.status = 'running') \
                   ORDER BY d.chat_id LIMIT $4 {lock}) \
                 RETURNING chat_id, migrated_to, attempts",
                lock = pool.skip_locked(),
            );
            let mut tx = pool.begin_write().await?;
            let rows = sqlx::query(&sql)
                .bind(job)
                .bind(after.unwrap_or(i64::MIN))
                .bind(&*self.replica)
                .bind(limit as i64)
                .bind(lease_ms)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows.into_iter()
                .map(|r| {
                    let chat_id: i64 = r.get(0);
                    Recipient {
                        chat_id,
                        target: r.get::<Option<i64>, _>(1).unwrap_or(chat_id),
                        attempts: r.get::<i64, _>(2) as u32,
                    }
                })
                .collect()
        });
        claimed.sort_by_key(|r| r.chat_id);
        Ok(claimed)
    }

    /// Extends this replica's claims on a job's undelivered rows by
    /// `lease` from now; returns the chat ids (delivery keys) it still
    /// holds. A row missing from them was taken over after the lease
    /// lapsed (this replica stalled): do not send it.
    pub async fn renew_claims(&self, job: i64, lease: std::time::Duration) -> Result<Vec<i64>> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        Ok(on_pool!(&self.db, pool => sqlx::query_scalar(&format!(
            "UPDATE broadcast_deliveries SET claimed_until = {} + $3 \
             WHERE job_id = $1 AND claimed_by = $2 AND status IN ('pending', 'sending') \
             RETURNING chat_id",
            pool.now_ms()
        ))
        .bind(job)
        .bind(&*self.replica)
        .bind(lease_ms)
        .fetch_all(pool)
        .await?))
    }

    /// Gives back this replica's claims on a job's pending rows (a loop
    /// that stops or ends): another replica, or the next run, may take
    /// them at once.
    pub async fn release_claims(&self, job: i64) -> Result<u64> {
        Ok(on_pool!(&self.db, pool => sqlx::query(
            "UPDATE broadcast_deliveries SET claimed_by = NULL, claimed_until = NULL \
             WHERE job_id = $1 AND claimed_by = $2 AND status = 'pending'",
        )
        .bind(job)
        .bind(&*self.replica)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Under `give_up`, right before a send: `pending → sending`. False
    /// when the row is no longer pending (the job was cancelled) or no
    /// longer this replica's: do not send.
    pub async fn mark_sending(&self, job: i64, chat_id: i64, attempts: u32) -> Result<bool> {
        let done = on_pool!(&self.db, pool => sqlx::query(
            "UPDATE broadcast_deliveries SET status = 'sending', attempts = $3 \
             WHERE job_id = $1 AND chat_id = $2 AND status = 'pending' AND claimed_by = $4",
        )
        .bind(job)
        .bind(chat_id)
        .bind(attempts as i64)
        .bind(&*self.replica)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(done > 0)
    }

    /// Sent: records Telegram's message id (also on a job cancelled while
    /// the send was in flight: it did arrive).
    pub async fn mark_sent(
        &self,
        job: i64,
        chat_id: i64,
        message_id: i64,
        attempts: u32,
    ) -> Result<()> {
        on_pool!(&self.db, pool => sqlx::query(
            "UPDATE broadcast_deliveries SET status = 'sent', message_id = $3, attempts = $4, \
             sent_at = CURRENT_TIMESTAMP WHERE job_id = $1 AND chat_id = $2",
        )
        .bind(job)
        .bind(chat_id)
        .bind(message_id)
        .bind(attempts as i64)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// Failed for good, with the reason.
    pub async fn mark_failed(
        &self,
        job: i64,
        chat_id: i64,
        reason: &str,
        attempts: u32,
    ) -> Result<()> {
        on_pool!(&self.db, pool => sqlx::query(
            "UPDATE broadcast_deliveries SET status = 'failed', last_error = $3, attempts = $4 \
             WHERE job_id = $1 AND chat_id = $2",
        )
        .bind(job)
        .bind(chat_id)
        .bind(reason)
        .bind(attempts as i64)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// A send to be tried again (after a 429, a transient error or a
    /// migration): back to `pending` with the reason, unless the job was
    /// cancelled meanwhile.
    pub async fn note_retry(
        &self,
        job: i64,
        chat_id: i64,
        reason: &str,
        attempts: u32,
    ) -> Result<()> {
        on_pool!(&self.db, pool => sqlx::query(
            "UPDATE broadcast_deliveries SET status = 'pending', last_error = $3, attempts = $4 \
             WHERE job_id = $1 AND chat_id = $2 AND status IN ('pending', 'sending')",
        )
        .bind(job)
        .bind(chat_id)
        .bind(reason)
        .bind(attempts as i64)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// A 403 (bot blocked, kicked, chat deactivated): the delivery failed
    /// and the subscription of `target` (the chat actually sent to) ends.
    pub async fn deactivate_on_403(
        &self,
        job: i64,
        recipient: Recipient,
        description: &str,
    ) -> Result<()> {
        on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE broadcast_deliveries SET status = 'failed', last_error = $3, attempts = $4 \
                 WHERE job_id = $1 AND chat_id = $2",
            )
            .bind(job)
            .bind(recipient.chat_id)
            .bind(description)
            .bind(recipient.attempts as i64)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE subscriptions SET active = FALSE, inactive_reason = 'forbidden', \
                 updated_at = CURRENT_TIMESTAMP WHERE chat_id = $1",
            )
            .bind(recipient.target)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The group `old` became the supergroup `new`: the subscription moves
    /// to the new id, and so do undelivered rows of every job. Returns
    /// whether this job's delivery should now go to `new`; false when `new`
    /// is already a recipient of the job (that row delivers; this one is
    /// skipped, so nobody gets it twice).
    pub async fn migrate_chat(&self, job: i64, old: i64, new: i64) -> Result<bool> {
        Ok(on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            let new_exists: Option<bool> =
                sqlx::query_scalar("SELECT active FROM subscriptions WHERE chat_id = $1")
                    .bind(new)
                    .fetch_optional(&mut *tx)
                    .await?;
            if new_exists.is_some() {
                sqlx::query(
                    "UPDATE subscriptions SET active = TRUE, inactive_reason = NULL, \
                     updated_at = CURRENT_TIMESTAMP WHERE chat_id = $1",
                )
                .bind(new)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE subscriptions SET active = FALSE, inactive_reason = 'migrated', \
                     updated_at = CURRENT_TIMESTAMP WHERE chat_id = $1",
                )
                .bind(old)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "UPDATE subscriptions SET chat_id = $2, kind = 'supergroup', \
                     updated_at = CURRENT_TIMESTAMP WHERE chat_id = $1",
                )
                .bind(old)
                .bind(new)
                .execute(&mut *tx)
                .await?;
            }
            // Undelivered rows of every job go to the new id.
            sqlx::query(
                "UPDATE broadcast_deliveries SET migrated_to = $2 \
                 WHERE (chat_id = $1 OR migrated_to = $1) AND status IN ('pending', 'sending')",
            )
            .bind(old)
            .bind(new)
            .execute(&mut *tx)
            .await?;
            // Is the new id a recipient of this job in its own right (or
            // through another row)?
            let other: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM broadcast_deliveries WHERE job_id = $1 AND chat_id <> $2 \
                 AND (chat_id = $3 OR migrated_to = $3)",
            )
            .bind(job)
            .bind(old)
            .bind(new)
            .fetch_one(&mut *tx)
            .await?;
            let deliver = other == 0;
            let (status, reason) = if deliver {
                (None, format!("migrated to {new}"))
            } else {
                (Some("skipped"), format!("migrated to {new}, which is a recipient already"))
            };
            sqlx::query(
                "UPDATE broadcast_deliveries SET status = COALESCE($3, status), last_error = $4 \
                 WHERE job_id = $1 AND chat_id = $2",
            )
            .bind(job)
            .bind(old)
            .bind(status)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            deliver
        }))
    }

    /// Every delivery of a job: (chat id, target, status, attempts,
    /// message id). For tests and audits.
    pub async fn deliveries(&self, job: i64) -> Result<Vec<DeliveryRow>> {
        Ok(on_pool!(&self.db, pool => sqlx::query(
            "SELECT chat_id, migrated_to, status, attempts, message_id, last_error \
             FROM broadcast_deliveries WHERE job_id = $1 ORDER BY chat_id",
        )
        .bind(job)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| DeliveryRow {
            chat_id: r.get(0),
            migrated_to: r.get(1),
            status: r.get(2),
            attempts: r.get::<i64, _>(3) as u32,
            message_id: r.get(4),
            last_error: r.get(5),
        })
        .collect()))
    }
}

/// One delivery row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub chat_id: i64,
    pub migrated_to: Option<i64>,
    pub status: String,
    pub attempts: u32,
    pub message_id: Option<i64>,
    pub last_error: Option<String>,
}

/// The result of 确认发送.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    Confirmed {
        recipients: u64,
    },
    /// The job was not waiting for confirmation (confirmed twice, cancelled…).
    NotWaiting(JobStatus),
}

/// The result of 取消.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancellation {
    Cancelled,
    /// Done or cancelled before.
    AlreadyOver(JobStatus),
}

/// A job's recipients: the active subscriptions, one delivery row each.
const SNAPSHOT_RECIPIENTS: &str = "INSERT INTO broadcast_deliveries (job_id, chat_id) \
     SELECT $1, chat_id FROM subscriptions WHERE active ORDER BY chat_id";

fn year_of(value: i64) -> Result<u16> {
    u16::try_from(value).map_err(|_| BroadcastStoreError::Decode(format!("year {value}")))
}
