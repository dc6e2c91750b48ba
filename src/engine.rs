//! engine: "here is a question, give me the answer from the current
//! knowledge". Holds the current snapshot behind an `ArcSwap`, answers from
//! it, and rebuilds it on reload while the old one keeps answering.
//!
//! Invariant: the engine never talks to Telegram; reply formatting for a
//! channel belongs to that channel.

use crate::model::{Answer, Language};
use crate::snapshot::{Snapshot, SnapshotError};
use arc_swap::ArcSwap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where the engine reads knowledge and keeps its data.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub knowledge_dir: PathBuf,
    pub data_dir: PathBuf,
}

/// What a reload changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReloadReport {
    pub documents_added: Vec<String>,
    pub documents_removed: Vec<String>,
    pub facts_added: usize,
    pub facts_changed: usize,
    pub facts_removed: usize,
    pub conflicts: usize,
    /// Knowledge files that could not be read, with the reason; the rest loaded.
    pub problems: Vec<String>,
    /// Share of the project's own question set answered right, before and after.
    pub score_before: f64,
    pub score_after: f64,
    pub took: Duration,
    /// The new knowledge version (content hash).
    pub version: String,
}

/// Why a reload was refused; the old snapshot keeps answering.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new knowledge could not be loaded at all.
    #[error("the new knowledge could not be loaded: {0}")]
    Load(#[from] SnapshotError),
    /// The new knowledge answers the project's own questions worse.
    #[error("the new knowledge scores {after:.1}% on the project's questions, the current one {before:.1}%")]
    Worse { before: f64, after: f64 },
    /// Another reload is running.
    #[error("a reload is already running")]
    Busy,
}

pub struct Engine {
    settings: EngineSettings,
    current: ArcSwap<Snapshot>,
    reloading: tokio::sync::Mutex<()>,
}

impl Engine {
    /// Opens the knowledge (reusing the data folder's build when the
    /// knowledge did not change).
    pub async fn open(settings: EngineSettings) -> Result<Engine, SnapshotError> {
        let snapshot = Snapshot::open_or_build(&settings.knowledge_dir, &settings.data_dir).await?;
        Ok(Engine {
            settings,
            current: ArcSwap::from_pointee(snapshot),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    /// The snapshot answering now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Answers one question from the current snapshot.
    pub fn ask(&self, question: &str) -> Answer {
        self.current.load().answer(question)
    }

    /// The yearly summary, in the given language.
    pub fn summary(&self, year: u16, language: Language) -> Answer {
        self.current.load().summary(year, language)
    }

    /// Builds a new snapshot from the knowledge folder in the background and
    /// swaps it in, unless it fails to load or answers the project's own
    /// question set worse than the current one.
    pub async fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let _guard = self.reloading.try_lock().map_err(|_| ReloadError::Busy)?;
        let started = std::time::Instant::now();
        let old = self.snapshot();
        let new =
            Snapshot::open_or_build(&self.settings.knowledge_dir, &self.settings.data_dir).await?;
        let score_before = crate::selfcheck::score(&old);
        let score_after = crate::selfcheck::score(&new);
        if score_after + 1e-9 < score_before {
            return Err(ReloadError::Worse {
                before: score_before * 100.0,
                after: score_after * 100.0,
            });
        }
        let mut report = crate::snapshot::diff(&old, &new);
        report.score_before = score_before;
        report.score_after = score_after;
        report.took = started.elapsed();
        self.current.store(Arc::new(new));
        Ok(report)
    }
}
