//! db: "which SQL database holds the shared state, and how do I run one
//! statement on it?" The state shared by replicas (subscriptions,
//! broadcasts) lives in PostgreSQL when `DATABASE_URL` names one
//! (`postgres://` or `postgresql://`), else in the SQLite file
//! `state.db` of the data folder. Each backend has its migrations
//! (`migrations/sqlite`, `migrations/postgres`), with the same meaning.
//!
//! The stores write their SQL once, portable between the two (`$n`
//! placeholders, `RETURNING`, `ON CONFLICT`, integers as `i64`, booleans as
//! `bool`), and run it on either pool through [`on_pool!`]: the body is
//! compiled once per backend. What cannot be portable is a method of
//! [`Backend`]: how a writing transaction begins, the time in milliseconds,
//! the row-lock clause of a queue read.
//!
//! Invariant: the knowledge tables are not here: each build of the
//! knowledge keeps them in its own generation of the data folder
//! (`knowledge::generations`); they are a cache of the build, not shared
//! state.

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// `DATABASE_URL` does not parse (a user's mistake in the settings).
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadUrl(sqlx::Error),
    /// The server or file could not be reached or opened.
    #[error("database: {0}")]
    Connect(#[from] sqlx::Error),
    /// The migrations could not be applied.
    #[error("database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating) a SQLite file and applies `migrations/sqlite` (the
/// shared state: audit, broadcasts, reload events), with the caller's
/// error type. WAL with `synchronous = NORMAL`: a committed row survives
/// the process being killed; only an OS crash can lose the last commits.
pub async fn open_sqlite_pool<E>(path: &Path) -> Result<SqlitePool, E>
where
    E: From<sqlx::Error> + From<sqlx::migrate::MigrateError>,
{
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// An open, migrated database: one pool per process.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The file of the default backend, in the data folder.
pub const SQLITE_FILE: &str = "state.db";

/// Whether a `DATABASE_URL` names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Db {
    /// PostgreSQL when `database_url` starts with `postgres://` or
    /// `postgresql://`; otherwise (none, empty, anything else) the SQLite
    /// file `state.db` in `data_dir`. Applies the backend's migrations.
    pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> Result<Db, DbError> {
        match database_url.map(str::trim) {
            Some(url) if is_postgres_url(url) => {
                let options = PgConnectOptions::from_str(url).map_err(DbError::BadUrl)?;
                Db::connect_postgres(options).await
            }
            _ => Db::open_sqlite(&data_dir.join(SQLITE_FILE)).await,
        }
    }

    /// The state store on a SQLite file ([`open_sqlite_pool`]).
    pub async fn open_sqlite(path: &Path) -> Result<Db, DbError> {
        Ok(Db::Sqlite(open_sqlite_pool::<DbError>(path).await?))
    }

    /// Connects to PostgreSQL and applies `migrations/postgres` (several
    /// replicas starting at once: sqlx takes an advisory lock).
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Db, DbError> {
        let pool = PgPoolOptions::new()
            .max_connections(5)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Db::Postgres(pool))
    }

    /// "sqlite" or "postgres", for logs and test names.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes the pool (waits for connections to return).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// What differs between the backends, as methods of their pools.
pub trait Backend {
    type Database: sqlx::Database;

    /// A transaction that will write: on SQLite it takes the write lock at
    /// once (`BEGIN IMMEDIATE`; in WAL mode a deferred one that reads, then
    /// writes under another writer fails with SQLITE_BUSY instead of
    /// waiting); on PostgreSQL a plain `BEGIN` (row locks do the rest).
    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, Self::Database>, sqlx::Error>,
    > + Send;

    /// An SQL expression: the database's clock in milliseconds since 1970,
    /// as a 64-bit integer (one clock for every replica).
    fn now_ms(&self) -> &'static str;

    /// The clause that ends a queue read: on PostgreSQL `FOR UPDATE SKIP
    /// LOCKED` (rows another transaction is claiming are passed over); on
    /// SQLite nothing (the write lock of `BEGIN IMMEDIATE` serialises
    /// claims).
    fn skip_locked(&self) -> &'static str;
}

impl Backend for SqlitePool {
    type Database = sqlx::Sqlite;

    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error>,
    > + Send {
        self.begin_with("BEGIN IMMEDIATE")
    }

    fn now_ms(&self) -> &'static str {
        "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    }

    fn skip_locked(&self) -> &'static str {
        ""
    }
}

impl Backend for PgPool {
    type Database = sqlx::Postgres;

    fn begin_write(
        &self,
    ) -> impl std::future::Future<
        Output = Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error>,
    > + Send {
        self.begin()
    }

    fn now_ms(&self) -> &'static str {
        "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
    }

    fn skip_locked(&self) -> &'static str {
        "FOR UPDATE SKIP LOCKED"
    }
}

/// Runs `body` with `pool` bound to the open pool, whichever backend it
/// is: `on_pool!(&self.db, pool => sqlx::query("…").execute(pool).await)`.
/// The body is compiled once per backend, so it may use rows and
/// transactions of either.
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::state::db::Db::Sqlite($pool) => $body,
            $crate::state::db::Db::Postgres($pool) => $body,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_postgres_scheme_picks_postgres() {
        for (url, postgres) in [
            ("postgres://bot@db/bot", true),
            ("postgresql://bot:secret@127.0.0.1:5432/bot", true),
            ("sqlite://data/state.db", false),
            ("", false),
            ("mysql://db/bot", false),
        ] {
            assert_eq!(is_postgres_url(url), postgres, "{url}");
        }
    }

    #[tokio::test]
    async fn without_a_postgres_url_the_state_is_a_sqlite_file_in_the_data_folder() {
        let dir = tempfile::tempdir().unwrap();
        for url in [None, Some(""), Some("sqlite://elsewhere.db")] {
            let db = Db::connect(url, dir.path()).await.unwrap();
            assert_eq!(db.backend_name(), "sqlite");
            db.close().await;
        }
        assert!(dir.path().join(SQLITE_FILE).exists());
        assert!(matches!(
            Db::connect(Some("postgres://bot@127.0.0.1:notaport/bot"), dir.path()).await,
            Err(DbError::BadUrl(_))
        ));
    }
}
