//! store: "remember what the bot did": the audit log of admin commands and
//! the lifetime count of questions by answer kind, in the shared state
//! database of `db` (SQLite `state.db` in the data folder, or PostgreSQL
//! when `DATABASE_URL` names one; migrations `0005_state.sql`), and the
//! knowledge versions replicas reloaded to (`0006_reload_events.sql`),
//! which the other replicas follow (`crate::frontends::follow`).
//!
//! Invariant: stores and returns rows exactly; knows nothing of Telegram.

use crate::on_pool;
use crate::state::db::{Backend, Db, DbError};
use sqlx::Row;
use std::collections::BTreeMap;
use std::path::Path;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A statement failed.
    #[error("state database: {0}")]
    Sql(#[from] sqlx::Error),
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Db(#[from] DbError),
}

/// One admin command as written to the audit table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Telegram user id; 0 when a signal asked.
    pub user_id: i64,
    pub chat_id: i64,
    pub command: String,
    pub args: String,
    /// `ok: …`, `refused: …` or `failed: …`.
    pub outcome: String,
}

/// A knowledge version a replica reloaded to, as written to
/// `reload_events` (migrations `0006_reload_events.sql`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeVersionRow {
    /// Newer rows have larger ids.
    pub id: i64,
    /// The knowledge content hash (`Snapshot::version`).
    pub version: String,
    /// Milliseconds since 1970 (UTC), by the database's clock.
    pub at_ms: i64,
    /// Telegram user id; 0 when a signal asked.
    pub user_id: i64,
    /// What asked: `/reload` or `SIGHUP`.
    pub source: String,
}

/// An audit row with its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// Milliseconds since 1970 (UTC), by the database's clock.
    pub at_ms: i64,
    pub entry: AuditEntry,
}

#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    /// Over an open, migrated database.
    pub fn new(db: Db) -> Store {
        Store { db }
    }

    /// PostgreSQL when `database_url` names it, else `state.db` in `data_dir`.
    pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store::new(Db::connect(database_url, data_dir).await?))
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        on_pool!(&self.db, pool => {
            let sql = format!(
                "INSERT INTO audit (at_ms, user_id, chat_id, command, args, outcome) \
                 VALUES ({}, $1, $2, $3, $4, $5)",
                pool.now_ms()
            );
            sqlx::query(&sql)
                .bind(entry.user_id)
                .bind(entry.chat_id)
                .bind(&entry.command)
                .bind(&entry.args)
                .bind(&entry.outcome)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The newest audit rows, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        const SQL: &str = "SELECT at_ms, user_id, chat_id, command, args, outcome \
                           FROM audit ORDER BY id DESC LIMIT $1";
        on_pool!(&self.db, pool => {
            let rows = sqlx::query(SQL).bind(limit).fetch_all(pool).await?;
            rows.into_iter()
                .map(|r| {
                    Ok(AuditRow {
                        at_ms: r.try_get("at_ms")?,
                        entry: AuditEntry {
                            user_id: r.try_get("user_id")?,
                            chat_id: r.try_get("chat_id")?,
                            command: r.try_get("command")?,
                            args: r.try_get("args")?,
                            outcome: r.try_get("outcome")?,
                        },
                    })
                })
                .collect()
        })
    }

    /// Records that a replica now answers from knowledge `version`, for the
    /// other replicas to follow; returns the new row's id.
    pub async fn record_knowledge_version(
        &self,
        version: &str,
        user_id: i64,
        source: &str,
    ) -> Result<i64, StoreError> {
        on_pool!(&self.db, pool => {
            let sql = format!(
                "INSERT INTO reload_events (version, at_ms, user_id, source) \
                 VALUES ($1, {}, $2, $3) RETURNING id",
                pool.now_ms()
            );
            let row = sqlx::query(&sql)
                .bind(version)
                .bind(user_id)
                .bind(source)
                .fetch_one(pool)
                .await?;
            Ok(row.try_get("id")?)
        })
    }

    /// The newest recorded knowledge version, if any.
    pub async fn latest_knowledge_version(
        &self,
    ) -> Result<Option<KnowledgeVersionRow>, StoreError> {
        const SQL: &str = "SELECT id, version, at_ms, user_id, source \
                           FROM reload_events ORDER BY id DESC LIMIT 1";
        on_pool!(&self.db, pool => {
            let Some(r) = sqlx::query(SQL).fetch_optional(pool).await? else {
                return Ok(None);
            };
            Ok(Some(KnowledgeVersionRow {
                id: r.try_get("id")?,
                version: r.try_get("version")?,
                at_ms: r.try_get("at_ms")?,
                user_id: r.try_get("user_id")?,
                source: r.try_get("source")?,
            }))
        })
    }

    /// Adds question counts by answer kind.
    pub async fn add_question_counts(
        &self,
        counts: &BTreeMap<String, u64>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO question_counts (kind, count) VALUES ($1, $2) \
                           ON CONFLICT (kind) DO UPDATE SET count = question_counts.count + excluded.count";
        on_pool!(&self.db, pool => {
            let mut tx = pool.begin_write().await?;
            for (kind, n) in counts {
                sqlx::query(SQL)
                    .bind(kind)
                    .bind(*n as i64)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Lifetime question counts by answer kind.
    pub async fn question_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        on_pool!(&self.db, pool => {
            let rows = sqlx::query("SELECT kind, count FROM question_counts")
                .fetch_all(pool)
                .await?;
            rows.into_iter()
                .map(|r| Ok((r.try_get("kind")?, r.try_get::<i64, _>("count")? as u64)))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn audit_rows_and_counts_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(None, dir.path()).await.unwrap();
        let entry = AuditEntry {
            user_id: 42,
            chat_id: 42,
            command: "reload".into(),
            args: String::new(),
            outcome: "refused: not an admin".into(),
        };
        store.record_audit(&entry).await.unwrap();
        let rows = store.recent_audit(10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].entry, entry);
        let counts: BTreeMap<String, u64> =
            [("fact".to_string(), 2), ("none".to_string(), 1)].into();
        store.add_question_counts(&counts).await.unwrap();
        store.add_question_counts(&counts).await.unwrap();
        let total = store.question_counts().await.unwrap();
        assert_eq!(total["fact"], 4);
        assert_eq!(total["none"], 2);
    }

    #[tokio::test]
    async fn the_latest_knowledge_version_is_the_last_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(None, dir.path()).await.unwrap();
        assert_eq!(store.latest_knowledge_version().await.unwrap(), None);
        let first = store
            .record_knowledge_version("aaa", 7, "/reload")
            .await
            .unwrap();
        let second = store
            .record_knowledge_version("bbb", 0, "SIGHUP")
            .await
            .unwrap();
        assert!(second > first);
        let latest = store.latest_knowledge_version().await.unwrap().unwrap();
        assert_eq!((latest.id, latest.version.as_str()), (second, "bbb"));
        assert_eq!((latest.user_id, latest.source.as_str()), (0, "SIGHUP"));
        assert!(latest.at_ms > 1_700_000_000_000);
    }
}
