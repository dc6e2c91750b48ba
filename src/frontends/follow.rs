//! knowledge_sync: "a replica reloaded; make every other replica answer
//! from the same knowledge". After a successful reload (/reload or SIGHUP)
//! a replica records the new knowledge version (the content hash) in the
//! shared database (`reload_events`, through `store`); every replica
//! polls the newest row every `reload_poll_seconds` and, when that row is
//! newer than the last it followed and names a version other than the one
//! it answers from, reloads its own copy of the knowledge folder.
//!
//! Polling, not LISTEN/NOTIFY: it works the same on SQLite and PostgreSQL,
//! and a replica that was down or disconnected when the reload happened
//! catches up at its next poll.
//!
//! Invariant: knows nothing of Telegram; each replica reloads from its own
//! knowledge folder (the same files: a shared volume or the same image), so
//! a folder that differs is logged, not fetched from elsewhere.

use crate::knowledge::engine::{Engine, ReloadError, ReloadReport};
use crate::state::audit::{AuditEntry, KnowledgeVersionRow, Store};
use std::sync::Arc;
use std::time::Duration;

/// Records a successful reload for the other replicas; a failed one is not
/// recorded. A database error is logged: the reload itself stands.
pub async fn publish(
    store: &Store,
    result: &Result<ReloadReport, ReloadError>,
    user_id: i64,
    source: &str,
) {
    let Ok(report) = result else { return };
    if let Err(e) = store
        .record_knowledge_version(&report.version, user_id, source)
        .await
    {
        tracing::error!(error = %e, "recording the knowledge version for the other replicas");
    }
}

/// What one look at the newest recorded version did.
#[derive(Debug)]
pub enum Followed {
    /// No row newer than the last one followed.
    Nothing,
    /// A newer row names the version this replica already answers from.
    AlreadyCurrent(KnowledgeVersionRow),
    /// A newer row named another version: this replica reloaded.
    Reloaded(KnowledgeVersionRow, Box<Result<ReloadReport, ReloadError>>),
}

/// One replica's position in the `reload_events` log.
pub struct Follower {
    engine: Arc<Engine>,
    store: Store,
    last_followed: i64,
}

impl Follower {
    /// Starts after the newest row: at start a replica builds from its own
    /// folder, which is at least as new as any reload recorded before.
    pub async fn start(engine: Arc<Engine>, store: Store) -> Follower {
        let last_followed = match store.latest_knowledge_version().await {
            Ok(row) => row.map_or(0, |r| r.id),
            Err(e) => {
                tracing::warn!(error = %e, "reading the knowledge versions");
                0
            }
        };
        Follower {
            engine,
            store,
            last_followed,
        }
    }

    /// Looks at the newest row once and reloads when it asks to. A reload
    /// refused as busy (this replica is reloading already) is tried again
    /// at the next look.
    pub async fn check(&mut self) -> Result<Followed, crate::state::audit::StoreError> {
        let Some(row) = self.store.latest_knowledge_version().await? else {
            return Ok(Followed::Nothing);
        };
        if row.id <= self.last_followed {
            return Ok(Followed::Nothing);
        }
        if row.version == self.engine.snapshot().version {
            self.last_followed = row.id;
            return Ok(Followed::AlreadyCurrent(row));
        }
        // The replica that took the reload has gated it already.
        let result = reload_in_background(self.engine.clone(), true).await;
        if !matches!(result, Err(ReloadError::Busy)) {
            self.last_followed = row.id;
        }
        Ok(Followed::Reloaded(row, Box::new(result)))
    }

    /// Checks every `every` forever, logging and auditing each reload.
    pub async fn run(mut self, every: Duration) {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match self.check().await {
                Ok(Followed::Reloaded(row, result)) => self.audit(&row, &result).await,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "reading the knowledge versions"),
            }
        }
    }

    async fn audit(&self, row: &KnowledgeVersionRow, result: &Result<ReloadReport, ReloadError>) {
        let outcome = match result {
            Ok(report) if report.version == row.version => {
                tracing::info!(version = %row.version, "followed another replica's reload");
                format!("ok: version {}", report.version)
            }
            Ok(report) => {
                tracing::warn!(
                    recorded = %row.version, here = %report.version,
                    "followed another replica's reload, but this replica's knowledge folder differs"
                );
                format!(
                    "ok: version {} (the other replica has {})",
                    report.version, row.version
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "following another replica's reload");
                format!("failed: {e}")
            }
        };
        let entry = AuditEntry {
            user_id: row.user_id,
            chat_id: 0,
            command: "reload".into(),
            args: format!("following {} (knowledge version #{})", row.source, row.id),
            outcome,
        };
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::error!(error = %e, ?entry, "writing the audit log");
        }
    }
}

/// Runs `Engine::reload` on a blocking thread: building a snapshot is CPU
/// work, and the old snapshot keeps answering meanwhile. `force` swaps in
/// knowledge that regresses on the gating set.
///
/// The reload runs on a runtime of its own on that thread, so nothing it
/// awaits depends on the caller's runtime: a bot shutting down mid-reload
/// lets it finish (or fail) instead of leaving it waiting for workers that
/// are gone, and the shutdown never hangs on it.
pub async fn reload_in_background(
    engine: Arc<Engine>,
    force: bool,
) -> Result<ReloadReport, ReloadError> {
    let reload = move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ReloadError::Thread)?
            .block_on(engine.reload(force))
    };
    match tokio::task::spawn_blocking(reload).await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
