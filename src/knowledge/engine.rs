//! engine: "here is a question, give me the answer from the current
//! knowledge". Holds the current snapshot behind an `ArcSwap`, answers from
//! it, and rebuilds it on reload while the old one keeps answering.
//!
//! Invariant: the engine never talks to Telegram; reply formatting for a
//! channel belongs to that channel.

use crate::domain::model::{Answer, Language};
use crate::knowledge::gating::{self, GateReport};
use crate::knowledge::snapshot::{fact_key, Access, Snapshot, SnapshotError};
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, BTreeSet};
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
    /// Share of the gating question set answered right, before and after.
    pub score_before: f64,
    pub score_after: f64,
    /// How the gating answers changed: regressions, new answers, rewordings.
    pub gate: GateReport,
    /// Swapped in although it regresses (`/reload force`).
    pub forced: bool,
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
    /// The new knowledge answers gating questions wrong that the current
    /// one answers right; the report names them.
    #[error("the new knowledge answers {} gating question(s) worse: {}", .0.gate.regressions.len(), regression_ids(.0))]
    Regressed(Box<ReloadReport>),
    /// Another reload is running.
    #[error("a reload is already running")]
    Busy,
    /// The thread that builds could not get its own runtime.
    #[error("the reload could not start its build thread: {0}")]
    Thread(#[source] std::io::Error),
}

pub struct Engine {
    settings: EngineSettings,
    access: Access,
    current: ArcSwap<Snapshot>,
    reloading: tokio::sync::Mutex<()>,
}

impl Engine {
    /// Opens the knowledge (reusing the data folder's build when the
    /// knowledge did not change).
    pub async fn open(settings: EngineSettings) -> Result<Engine, SnapshotError> {
        Engine::open_with(settings, Access::default()).await
    }

    /// Opens the data folder as `access` says (read-only, rebuild, wait);
    /// reloads use the same access, without forcing a rebuild.
    pub async fn open_with(
        settings: EngineSettings,
        access: Access,
    ) -> Result<Engine, SnapshotError> {
        let snapshot =
            Snapshot::open_with(&settings.knowledge_dir, &settings.data_dir, access).await?;
        Ok(Engine {
            settings,
            access: Access {
                rebuild: false,
                ..access
            },
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
    /// swaps it in, unless it fails to load or (without `force`) answers a
    /// gating question wrong that the current one answers right. New
    /// answers (growth) never refuse a reload.
    pub async fn reload(&self, force: bool) -> Result<ReloadReport, ReloadError> {
        let _guard = self.reloading.try_lock().map_err(|_| ReloadError::Busy)?;
        let started = std::time::Instant::now();
        let old = self.snapshot();
        let new = Snapshot::open_with(
            &self.settings.knowledge_dir,
            &self.settings.data_dir,
            self.access,
        )
        .await?;
        let items = gating::items(gating::QUESTIONS);
        let (before, after) = (
            gating::run_items(&items, &old),
            gating::run_items(&items, &new),
        );
        let mut report = diff(&old, &new);
        report.score_before = before.score();
        report.score_after = after.score();
        report.gate = gating::compare(&items, &before, &after);
        report.forced = force && !report.gate.regressions.is_empty();
        report.took = started.elapsed();
        if !report.gate.regressions.is_empty() && !force {
            return Err(ReloadError::Regressed(Box::new(report)));
        }
        self.current.store(Arc::new(new));
        Ok(report)
    }
}

fn regression_ids(report: &ReloadReport) -> String {
    let ids: Vec<&str> = report
        .gate
        .regressions
        .iter()
        .map(|c| c.id.as_str())
        .collect();
    ids.join(", ")
}

/// What changed between two snapshots.
pub fn diff(old: &Snapshot, new: &Snapshot) -> ReloadReport {
    let old_docs: BTreeSet<&str> = old.documents.iter().map(|d| d.file.as_str()).collect();
    let new_docs: BTreeSet<&str> = new.documents.iter().map(|d| d.file.as_str()).collect();
    let keyed = |s: &Snapshot| -> BTreeMap<String, BTreeSet<String>> {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in s.facts.iter() {
            m.entry(fact_key(f))
                .or_default()
                .insert(f.value.normalize().to_string());
        }
        m
    };
    let (a, b) = (keyed(old), keyed(new));
    ReloadReport {
        documents_added: new_docs
            .difference(&old_docs)
            .map(|s| s.to_string())
            .collect(),
        documents_removed: old_docs
            .difference(&new_docs)
            .map(|s| s.to_string())
            .collect(),
        facts_added: b.keys().filter(|k| !a.contains_key(*k)).count(),
        facts_changed: b
            .iter()
            .filter(|(k, v)| a.get(*k).is_some_and(|old| old != *v))
            .count(),
        facts_removed: a.keys().filter(|k| !b.contains_key(*k)).count(),
        conflicts: new.conflicts.len(),
        problems: new.problems.clone(),
        version: new.version.clone(),
        ..Default::default()
    }
}
