//! store: "remember what the bot did": the audit log of admin commands and
//! the lifetime count of questions by answer kind. SQLite through sqlx, in
//! the same database file and with the same migrations (`migrations/sqlite`)
//! as the knowledge tables of `persist`.
//!
//! Invariant: stores and returns rows exactly; knows nothing of Telegram.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{Row, SqlitePool};
use std::collections::BTreeMap;
use std::path::Path;

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or a statement failed.
    #[error("state database: {0}")]
    Sql(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("state database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
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

/// An audit row with its time (ISO 8601, UTC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub at: String,
    pub entry: AuditEntry,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating) the database file and applies the migrations.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    pub async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit (user_id, chat_id, command, args, outcome) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(entry.user_id)
        .bind(entry.chat_id)
        .bind(&entry.command)
        .bind(&entry.args)
        .bind(&entry.outcome)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest audit rows, newest first.
    pub async fn recent_audit(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, user_id, chat_id, command, args, outcome FROM audit ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditRow {
                    at: r.try_get("at")?,
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
    }

    /// Adds question counts by answer kind.
    pub async fn add_question_counts(
        &self,
        counts: &BTreeMap<String, u64>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for (kind, n) in counts {
            sqlx::query(
                "INSERT INTO question_counts (kind, count) VALUES ($1, $2) \
                 ON CONFLICT(kind) DO UPDATE SET count = count + excluded.count",
            )
            .bind(kind)
            .bind(*n as i64)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Lifetime question counts by answer kind.
    pub async fn question_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let rows = sqlx::query("SELECT kind, count FROM question_counts")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get::<i64, _>("count")? as u64)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn audit_rows_and_counts_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).await.unwrap();
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
    async fn shares_the_database_file_with_the_knowledge_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        crate::persist::TableStore::open(&path).await.unwrap();
        Store::open(&path).await.unwrap();
        crate::persist::TableStore::open(&path).await.unwrap();
    }
}
