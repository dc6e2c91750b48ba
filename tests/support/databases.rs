//! Fresh databases for the store tests: a SQLite file in a temporary
//! folder, or a new schema on the PostgreSQL server that
//! `CUSTOMS_IP_BOT_TEST_POSTGRES_URL` names (an admin URL, such as
//! `postgres://postgres@127.0.0.1:5432/postgres`; `.ci/with-postgres.sh`
//! starts a throwaway server and sets it). One schema per database asked
//! for, so tests run in parallel; dropped when the test passes.
//!
//! Without the URL the PostgreSQL variants print that they were skipped
//! and pass; with `CI=true` they fail instead, so CI never skips them.

use customs_ip_bot::state::broadcasts::BroadcastStore;
use customs_ip_bot::state::db::Db;
use sqlx::postgres::PgConnectOptions;
use sqlx::Connection;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub const POSTGRES_URL_VAR: &str = "CUSTOMS_IP_BOT_TEST_POSTGRES_URL";

/// Runs the async test fn `$name(&TestDatabases)` twice: on SQLite
/// (`$name::sqlite`) and on PostgreSQL (`$name::postgres`).
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$attr:meta])* $name:ident) => {
        mod $name {
            $(#[$attr])*
            async fn sqlite() {
                let dbs = super::databases::TestDatabases::sqlite();
                super::$name(&dbs).await;
            }

            $(#[$attr])*
            async fn postgres() {
                let Some(dbs) = super::databases::TestDatabases::postgres(stringify!($name)) else {
                    return;
                };
                super::$name(&dbs).await;
                dbs.drop_schemas().await;
            }
        }
    };
}

/// Where one fresh database is; open it as many times as there are
/// replicas (each open is a new pool).
#[derive(Debug, Clone)]
pub enum Location {
    SqliteFile(PathBuf),
    PostgresSchema(Box<PgConnectOptions>),
}

impl Location {
    pub async fn open(&self) -> Db {
        match self {
            Location::SqliteFile(path) => Db::open_sqlite(path).await.unwrap(),
            Location::PostgresSchema(options) => {
                Db::connect_postgres((**options).clone()).await.unwrap()
            }
        }
    }

    /// A broadcast store on it: one replica.
    pub async fn store(&self) -> BroadcastStore {
        BroadcastStore::from_db(self.open().await)
    }
}

/// The databases of one test, on one backend.
pub struct TestDatabases {
    /// None: SQLite.
    admin: Option<PgConnectOptions>,
    dirs: Mutex<Vec<tempfile::TempDir>>,
    schemas: Mutex<Vec<String>>,
}

impl TestDatabases {
    pub fn sqlite() -> TestDatabases {
        TestDatabases {
            admin: None,
            dirs: Mutex::default(),
            schemas: Mutex::default(),
        }
    }

    /// The PostgreSQL server of `CUSTOMS_IP_BOT_TEST_POSTGRES_URL`; None
    /// (after saying so on stderr) when it is not set, except under
    /// `CI=true`, where that is a failure.
    pub fn postgres(test: &str) -> Option<TestDatabases> {
        let url = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|u| !u.is_empty());
        let Some(url) = url else {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !in_ci,
                "{test}: CI=true but {POSTGRES_URL_VAR} is not set: the PostgreSQL tests \
                 must run in CI (.ci/with-postgres.sh sets it)"
            );
            // Straight to stderr, past the test harness's capture: a skip
            // must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "{test}::postgres skipped: set {POSTGRES_URL_VAR} to run the PostgreSQL tests \
                 (.ci/with-postgres.sh cargo test --release)"
            );
            return None;
        };
        let admin = PgConnectOptions::from_str(&url)
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} does not parse: {e}"));
        Some(TestDatabases {
            admin: Some(admin),
            dirs: Mutex::default(),
            schemas: Mutex::default(),
        })
    }

    /// A new, empty database (migrated when opened).
    pub async fn fresh(&self) -> Location {
        static FRESH: AtomicU64 = AtomicU64::new(0);
        match &self.admin {
            None => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("state.db");
                self.dirs.lock().unwrap().push(dir);
                Location::SqliteFile(path)
            }
            Some(admin) => {
                let schema = format!(
                    "customs_ip_bot_test_{}_{}",
                    std::process::id(),
                    FRESH.fetch_add(1, Ordering::Relaxed)
                );
                let mut conn = sqlx::PgConnection::connect_with(admin).await.unwrap();
                sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                self.schemas.lock().unwrap().push(schema.clone());
                Location::PostgresSchema(Box::new(admin.clone().options([("search_path", schema)])))
            }
        }
    }

    /// A broadcast store on a new database.
    pub async fn store(&self) -> BroadcastStore {
        self.fresh().await.store().await
    }

    /// Drops this test's schemas (a failed test leaves them, to look at).
    pub async fn drop_schemas(&self) {
        let Some(admin) = &self.admin else { return };
        let schemas = std::mem::take(&mut *self.schemas.lock().unwrap());
        let mut conn = sqlx::PgConnection::connect_with(admin).await.unwrap();
        for schema in schemas {
            sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await
                .unwrap();
        }
        conn.close().await.unwrap();
    }
}
