//! broadcast: "send this year's summary with its chart to every subscribed
//! chat, exactly once each, within Telegram's limits, across restarts".
//! [`prepare_job`] makes the job's content from a snapshot,
//! [`crate::state::broadcasts`] keeps subscriptions, jobs and one delivery row per recipient,
//! [`rate`] says when the next message may go, and [`deliver`] is the loop
//! that reads pending deliveries, sends them through a closure the
//! Telegram layer supplies, and records each outcome.
//!
//! Crash window: a delivery stays `pending` until the outcome of its send
//! is recorded, one row update right after Telegram answers. A graceful
//! stop (the `stop` future) sends nothing new and records the sends in
//! flight, so nobody is skipped and nobody gets it twice. After a hard
//! kill, the sends that were in flight (at most `max_in_flight`) may or may
//! not have arrived; [`InterruptedPolicy`] decides: `Resend`
//! (default, at least once: those chats may get a second copy) or `GiveUp`
//! (at most once: they are reported failed).
//!
//! Invariant: no teloxide here; sending is the caller's closure. The loop
//! reads time only through a [`Clock`], so tests run it on a fake one.

pub mod rate;

use crate::domain::model::Language;
use crate::frontends::chart::{self, ChartError};
use crate::knowledge::snapshot::Snapshot;
use crate::state::broadcasts::{
    BroadcastStore, BroadcastStoreError, InterruptedPolicy, JobStatus, NewJob, Recipient,
};
use futures_util::stream::{FuturesUnordered, StreamExt};
use rate::{Hold, RateLimiter, RateLimits};
use serde::Deserialize;
use std::collections::VecDeque;
use std::future::Future;
use std::time::{Duration, Instant};

/// What became of one send, as the Telegram layer reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// Delivered; Telegram's message id (of the last message, when a
    /// delivery is a photo and a text).
    Sent { message_id: i64 },
    /// 429 Too Many Requests with `parameters.retry_after`: everything
    /// waits that long, then this chat is tried again.
    RetryAfter(Duration),
    /// 403 Forbidden (blocked, kicked, chat deactivated), with Telegram's
    /// description: the delivery fails and the subscription ends.
    Forbidden(String),
    /// 400 with `parameters.migrate_to_chat_id`: the group became a
    /// supergroup; the subscription moves and the delivery goes there.
    MigrateTo(i64),
    /// A network error or 5xx: tried again after `transient_backoff`, up to
    /// `max_attempts` attempts.
    Transient(String),
    /// Any other error (chat not found, bad request…): failed for good.
    Failed(String),
}

/// How the delivery loop runs; `[broadcast.delivery]` in the config.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct DeliverySettings {
    /// Telegram's limits: 30 messages a second overall, 20 a minute per chat.
    #[serde(flatten)]
    pub limits: RateLimits,
    /// Messages one delivery sends (2 when the summary does not fit in the
    /// photo's caption and follows as a text); each counts against the limits.
    pub messages_per_delivery: u32,
    /// Sends awaiting Telegram's reply at once.
    pub max_in_flight: usize,
    /// Pending deliveries read per database round trip; a cancelled job
    /// stops within one batch.
    pub read_batch: u32,
    /// Attempts before a transient error fails a delivery (429s do not count).
    pub max_attempts: u32,
    /// Wait before retrying after a transient error, in seconds.
    pub transient_backoff_seconds: u64,
    /// What a restart does with deliveries a killed process left `sending`.
    pub on_interrupted: InterruptedPolicy,
    /// How long the rows a loop claimed stay its own without renewal (the
    /// loop renews every third of it); a replica killed mid-job leaves rows
    /// that another replica takes after this, in seconds.
    pub claim_lease_seconds: u64,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            limits: RateLimits::default(),
            messages_per_delivery: 1,
            max_in_flight: 8,
            read_batch: 32,
            max_attempts: 5,
            transient_backoff_seconds: 5,
            on_interrupted: InterruptedPolicy::Resend,
            claim_lease_seconds: crate::state::broadcasts::DEFAULT_CLAIM_LEASE.as_secs(),
        }
    }
}

/// The automatic mode: what a reload that brings a new year's summary does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutomaticBroadcast {
    /// Nothing; admins use /broadcast YEAR.
    #[default]
    Off,
    /// Queue a job waiting for an admin's 确认发送.
    Confirm,
    /// Queue a confirmed job: it goes out without confirmation.
    Send,
}

/// `[broadcast]` in the config.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct BroadcastSettings {
    pub automatic: AutomaticBroadcast,
    /// The summary's language.
    pub language: Language,
    pub delivery: DeliverySettings,
}

/// The time source of the delivery loop.
pub trait Clock {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// Real time, through tokio.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }
}

/// What one run of the loop did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub job: i64,
    pub sent: u64,
    pub failed: u64,
    /// Subscriptions ended by a 403.
    pub deactivated: u64,
    /// Deliveries moved to a migrated chat's new id.
    pub migrated: u64,
    /// Skipped: migrated to a chat that was a recipient already.
    pub skipped: u64,
    /// 429s and transient errors retried.
    pub retried: u64,
    /// Rows found `sending` at the start (a `give_up` run was killed).
    pub recovered: u64,
    /// Every delivery has an outcome and the job is done.
    pub finished: bool,
    /// The loop stopped early on request; the job resumes with the next run.
    pub stopped: bool,
    /// The job was not runnable (waiting for confirmation, cancelled, done).
    pub not_runnable: bool,
}

/// The content of a broadcast of `year` from `snapshot`: the summary and
/// its chart. None when the snapshot has no summary for that year.
pub fn prepare_job(
    snapshot: &Snapshot,
    year: u16,
    language: Language,
    created_by: Option<i64>,
    automatic: bool,
    confirmed: bool,
) -> Result<Option<NewJob>, ChartError> {
    let summary = snapshot.summary(year, language);
    if !summary.found {
        return Ok(None);
    }
    let chart = chart::summary_chart(snapshot, year)?;
    Ok(Some(NewJob {
        year,
        message: summary.answer,
        chart: Some(chart),
        created_by,
        automatic,
        knowledge_version: Some(snapshot.version.clone()),
        confirmed,
    }))
}

/// The years a reload brings that the automatic mode queues: headline
/// years of the new knowledge that the old one lacked and that were never
/// broadcast.
pub fn years_to_queue(before: &[u16], after: &[u16], already_broadcast: &[u16]) -> Vec<u16> {
    after
        .iter()
        .copied()
        .filter(|y| !before.contains(y) && !already_broadcast.contains(y))
        .collect()
}

/// Why the automatic mode could not queue a job.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error(transparent)]
    Store(#[from] BroadcastStoreError),
    #[error(transparent)]
    Chart(#[from] ChartError),
}

/// After a reload: queues a job per new year, per the automatic mode.
/// Returns the jobs created (waiting for confirmation under `Confirm`).
pub async fn queue_automatic(
    store: &BroadcastStore,
    settings: &BroadcastSettings,
    years_before: &[u16],
    after: &Snapshot,
) -> Result<Vec<i64>, QueueError> {
    if settings.automatic == AutomaticBroadcast::Off {
        return Ok(Vec::new());
    }
    let already = store.years_broadcast().await?;
    let confirmed = settings.automatic == AutomaticBroadcast::Send;
    let mut jobs = Vec::new();
    for year in years_to_queue(years_before, &after.headline_years(), &already) {
        if let Some(job) = prepare_job(after, year, settings.language, None, true, confirmed)? {
            jobs.push(store.create_job(&job).await?);
        }
    }
    Ok(jobs)
}

/// Delivers a confirmed (or interrupted running) job to its recipients:
/// resolves a killed run's crash window, reads pending deliveries in chat
/// id order, sends each through `send(chat_id)` as the rate limits allow
/// (up to `max_in_flight` at once), and records each outcome as soon as it
/// comes. Returns when every delivery has an outcome, when the job was
/// cancelled, or when `stop` completes: then nothing new is sent, the sends
/// in flight are awaited and recorded, and the rest stays pending for the
/// next run.
///
/// Several replicas may run the loop for the same job at once: each claims
/// the rows it reads (a lease of `claim_lease_seconds`, renewed while it
/// runs; `FOR UPDATE SKIP LOCKED` on PostgreSQL), so no delivery is sent by
/// two. A loop returns unfinished when the rows left are claimed by another
/// replica; the rows of a replica killed mid-job are taken after their
/// lease by the next run: the worker (the Telegram layer) polls
/// [`BroadcastStore::jobs_to_run`] and runs one loop per job per process.
/// Each replica applies its own rate limits: with N replicas delivering,
/// give each 1/N of Telegram's global limit.
pub async fn deliver<C, F, Fut, S>(
    store: &BroadcastStore,
    job: i64,
    settings: &DeliverySettings,
    clock: &C,
    mut send: F,
    stop: S,
) -> Result<DeliveryReport, BroadcastStoreError>
where
    C: Clock,
    F: FnMut(i64) -> Fut,
    Fut: Future<Output = SendOutcome>,
    S: Future<Output = ()>,
{
    let mut run = Run::new(store, job, settings);
    if !store.start_job(job).await? {
        run.report.not_runnable = true;
        return Ok(run.report);
    }
    run.report.recovered = store.recover_interrupted(job, run.policy).await?;
    let mut in_flight = FuturesUnordered::new();
    let mut stopping = false;
    let mut stop = std::pin::pin!(stop);
    let mut renewed_at = clock.now();
    loop {
        let now = clock.now();
        if now.saturating_duration_since(renewed_at) >= run.lease / 3 {
            run.renew_claims().await?;
            renewed_at = now;
        }
        run.requeue_ready(now);
        let mut wake: Option<Duration> = None;
        while !stopping && in_flight.len() < run.max_in_flight {
            match run.next_send(clock).await? {
                Next::Send(r) => {
                    let sending = send(r.target);
                    in_flight.push(async move { (r, sending.await) });
                }
                Next::HoldEveryone(d) => {
                    wake = Some(d);
                    break;
                }
                Next::Nothing => break,
            }
        }
        let wake = run.earliest_wake(now, wake);
        if in_flight.is_empty() {
            if stopping || run.all_done() {
                break;
            }
            tokio::select! {
                _ = clock.sleep(wake.unwrap_or(Duration::ZERO)) => {}
                _ = &mut stop, if !stopping => stopping = true,
            }
            continue;
        }
        let completed = tokio::select! {
            biased;
            Some(done) = in_flight.next() => Some(done),
            _ = &mut stop, if !stopping => { stopping = true; None }
            _ = clock.sleep(wake.unwrap_or(Duration::ZERO)), if wake.is_some() => None,
        };
        if let Some((r, outcome)) = completed {
            run.record(r, outcome, clock).await?;
        }
    }
    run.finish(stopping).await
}

/// What the delivery loop does next.
enum Next {
    /// Send to this recipient now.
    Send(Recipient),
    /// Nobody may be sent to for this long (a global limit or a 429).
    HoldEveryone(Duration),
    /// Nothing to send now.
    Nothing,
}

/// The state of one run of the delivery loop: the rows claimed and not yet
/// sent, the limiter, the report so far.
struct Run<'a> {
    store: &'a BroadcastStore,
    job: i64,
    policy: InterruptedPolicy,
    batch: u32,
    max_in_flight: usize,
    max_attempts: u32,
    backoff: Duration,
    messages: u32,
    lease: Duration,
    limiter: RateLimiter,
    /// Read from the store and not yet sent: ready now…
    queue: VecDeque<Recipient>,
    /// …or waiting until a time.
    later: Vec<(Instant, Recipient)>,
    cursor: Option<i64>,
    exhausted: bool,
    report: DeliveryReport,
}

impl<'a> Run<'a> {
    fn new(store: &'a BroadcastStore, job: i64, settings: &DeliverySettings) -> Run<'a> {
        Run {
            store,
            job,
            policy: settings.on_interrupted,
            batch: settings.read_batch.max(1),
            max_in_flight: settings.max_in_flight.max(1),
            max_attempts: settings.max_attempts.max(1),
            backoff: Duration::from_secs(settings.transient_backoff_seconds),
            messages: settings.messages_per_delivery.max(1),
            lease: Duration::from_secs(settings.claim_lease_seconds.max(1)),
            limiter: RateLimiter::new(settings.limits),
            queue: VecDeque::new(),
            later: Vec::new(),
            cursor: None,
            exhausted: false,
            report: DeliveryReport {
                job,
                ..Default::default()
            },
        }
    }

    /// Keeps the claims on the rows read and not yet sent; a row another
    /// replica took after a lapse is not sent here.
    async fn renew_claims(&mut self) -> Result<(), BroadcastStoreError> {
        let held: std::collections::HashSet<i64> = self
            .store
            .renew_claims(self.job, self.lease)
            .await?
            .into_iter()
            .collect();
        self.queue.retain(|r| held.contains(&r.chat_id));
        self.later.retain(|(_, r)| held.contains(&r.chat_id));
        Ok(())
    }

    /// Recipients whose wait is over go back to the front of the queue.
    fn requeue_ready(&mut self, now: Instant) {
        if self.later.is_empty() {
            return;
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = self.later.drain(..).partition(|(t, _)| *t <= now);
        self.later = waiting;
        for (_, r) in ready.into_iter().rev() {
            self.queue.push_front(r);
        }
    }

    /// Claims more rows when the queue is empty.
    async fn claim_more(&mut self) -> Result<(), BroadcastStoreError> {
        if !self.queue.is_empty() || self.exhausted {
            return Ok(());
        }
        let next = self
            .store
            .claim_batch(self.job, self.cursor, self.batch, self.lease)
            .await?;
        match next.last() {
            Some(last) => self.cursor = Some(last.chat_id),
            None => {
                self.exhausted = true;
                if self.store.job_state(self.job).await? == JobStatus::Cancelled {
                    self.later.clear();
                }
            }
        }
        self.queue.extend(next);
        Ok(())
    }

    /// The next recipient the limits allow now, marked as being sent to.
    async fn next_send<C: Clock>(&mut self, clock: &C) -> Result<Next, BroadcastStoreError> {
        loop {
            self.claim_more().await?;
            let Some(r) = self.queue.front().copied() else {
                return Ok(Next::Nothing);
            };
            // The time of the send, not of the loop's turn: a database round
            // trip (a claim, `sending`) may have passed since.
            let now = clock.now();
            match self.limiter.hold(r.target, now) {
                None => {
                    self.queue.pop_front();
                    let r = Recipient {
                        attempts: r.attempts + 1,
                        ..r
                    };
                    if self.policy == InterruptedPolicy::GiveUp
                        && !self
                            .store
                            .mark_sending(self.job, r.chat_id, r.attempts)
                            .await?
                    {
                        continue; // cancelled meanwhile
                    }
                    for _ in 0..self.messages {
                        self.limiter.start(r.target);
                    }
                    return Ok(Next::Send(r));
                }
                Some(Hold::Everyone(d)) => return Ok(Next::HoldEveryone(d)),
                Some(Hold::ThisChat(d)) => {
                    self.queue.pop_front();
                    self.later.push((now + d, r));
                }
            }
        }
    }

    /// How long the loop may sleep: until the global hold ends or the
    /// first waiting recipient is ready.
    fn earliest_wake(&self, now: Instant, wake: Option<Duration>) -> Option<Duration> {
        match self.later.iter().map(|(t, _)| *t).min() {
            Some(t) => {
                let d = t.saturating_duration_since(now);
                Some(wake.map_or(d, |w| w.min(d)))
            }
            None => wake,
        }
    }

    fn all_done(&self) -> bool {
        self.exhausted && self.queue.is_empty() && self.later.is_empty()
    }

    /// Records one send's outcome: sent, retried later, failed, migrated.
    async fn record<C: Clock>(
        &mut self,
        r: Recipient,
        outcome: SendOutcome,
        clock: &C,
    ) -> Result<(), BroadcastStoreError> {
        let replied_at = clock.now();
        for _ in 0..self.messages {
            self.limiter.finish(r.target, replied_at);
        }
        let (store, job) = (self.store, self.job);
        match outcome {
            SendOutcome::Sent { message_id } => {
                store
                    .mark_sent(job, r.chat_id, message_id, r.attempts)
                    .await?;
                self.report.sent += 1;
            }
            SendOutcome::RetryAfter(wait) => {
                self.limiter.pause_until(clock.now() + wait);
                let reason = format!("429: retry after {} s", wait.as_secs());
                store
                    .note_retry(job, r.chat_id, &reason, r.attempts)
                    .await?;
                self.report.retried += 1;
                self.queue.push_front(r);
            }
            SendOutcome::Forbidden(description) => {
                store.deactivate_on_403(job, r, &description).await?;
                self.report.failed += 1;
                self.report.deactivated += 1;
            }
            SendOutcome::MigrateTo(new) => self.record_migration(r, new).await?,
            SendOutcome::Transient(reason) if r.attempts < self.max_attempts => {
                store
                    .note_retry(job, r.chat_id, &reason, r.attempts)
                    .await?;
                self.report.retried += 1;
                self.later.push((clock.now() + self.backoff, r));
            }
            SendOutcome::Transient(reason) | SendOutcome::Failed(reason) => {
                store
                    .mark_failed(job, r.chat_id, &reason, r.attempts)
                    .await?;
                self.report.failed += 1;
            }
        }
        Ok(())
    }

    /// A group became a supergroup: send to its new id, unless that chat
    /// is a recipient already or the chat keeps migrating.
    async fn record_migration(
        &mut self,
        r: Recipient,
        new: i64,
    ) -> Result<(), BroadcastStoreError> {
        let (store, job) = (self.store, self.job);
        self.report.migrated += 1;
        if r.attempts >= self.max_attempts {
            let reason = format!("migrated again, to {new}");
            store
                .mark_failed(job, r.chat_id, &reason, r.attempts)
                .await?;
            self.report.failed += 1;
        } else if store.migrate_chat(job, r.chat_id, new).await? {
            let reason = format!("migrated to {new}");
            store
                .note_retry(job, r.chat_id, &reason, r.attempts)
                .await?;
            self.queue.push_front(Recipient { target: new, ..r });
        } else {
            self.report.skipped += 1;
        }
        Ok(())
    }

    /// Rows still pending and claimed (a stop, a cancel) go back at once.
    async fn finish(mut self, stopping: bool) -> Result<DeliveryReport, BroadcastStoreError> {
        self.store.release_claims(self.job).await?;
        if stopping {
            self.report.stopped = true;
        } else {
            self.report.finished = self.store.finish_job_if_complete(self.job).await?;
        }
        Ok(self.report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_years_new_in_this_reload_and_never_broadcast_are_queued() {
        assert_eq!(
            years_to_queue(&[2016, 2020], &[2016, 2020, 2024], &[]),
            vec![2024]
        );
        assert_eq!(
            years_to_queue(&[2016], &[2016, 2024], &[2024]),
            Vec::<u16>::new()
        );
        // The first start (nothing before) queues nothing already broadcast.
        assert_eq!(years_to_queue(&[], &[2020, 2024], &[2020]), vec![2024]);
    }

    #[test]
    fn settings_read_from_toml_with_defaults() {
        let s: BroadcastSettings = toml::from_str(
            "automatic = \"confirm\"\n[delivery]\nglobal_per_second = 10\non_interrupted = \"give_up\"\n",
        )
        .unwrap();
        assert_eq!(s.automatic, AutomaticBroadcast::Confirm);
        assert_eq!(s.delivery.limits.global_per_second, 10);
        assert_eq!(s.delivery.limits.per_chat_per_minute, 20);
        assert_eq!(s.delivery.on_interrupted, InterruptedPolicy::GiveUp);
        assert_eq!(s.delivery.max_in_flight, 8);
    }
}
