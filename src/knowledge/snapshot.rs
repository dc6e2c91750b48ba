//! snapshot: "here is the knowledge folder, give me everything needed to
//! answer": the documents' metadata, the facts, the conflicts, the
//! vocabulary and the search index's reader (passages and sentences are
//! read from the index when an answer needs them), built by `build` and
//! then only read. Each build is a generation of the data folder
//! (`generations`); an unchanged folder (same content hash) is opened from
//! the current generation instead of rebuilt.

use crate::domain::answer;
use crate::domain::corpus::{Chunks, Corpus, FactTable, Knowledge};
use crate::domain::model::{Answer, Conflict, Language};
use crate::domain::understand::understand;
use crate::domain::vocabulary::Vocabulary;
use crate::knowledge::build::{self, segmenter_for, BuildError, Previous};
pub use crate::knowledge::build::{document_hash, fact_key, find_conflicts, BuildStats};
use crate::knowledge::facts_file;
use crate::knowledge::files::{
    self, DocumentFile, KnowledgeError, KnowledgeFiles, ReadCache, Signature,
};
use crate::knowledge::generations::{BuilderLock, DataFolder, DataFolderError, Generation, Wait};
use crate::knowledge::index::{IndexError, SearchIndex};
use crate::knowledge::persist::{PersistError, SnapshotTables};
use std::borrow::Cow;
use std::collections::HashSet;
use std::path::Path;

/// Why the knowledge could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The knowledge folder or its vocabulary could not be read.
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    /// The search index could not be built or opened.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The knowledge tables could not be written or read.
    #[error(transparent)]
    Persist(Box<PersistError>),
    /// The data folder could not be used (locked, read-only, damaged).
    #[error(transparent)]
    DataFolder(Box<DataFolderError>),
    /// A stored generation's vocabulary does not parse.
    #[error("{path}: the stored vocabulary is not valid: {reason}")]
    StoredVocabulary {
        path: std::path::PathBuf,
        reason: String,
    },
}

impl From<PersistError> for SnapshotError {
    fn from(e: PersistError) -> SnapshotError {
        SnapshotError::Persist(Box::new(e))
    }
}

impl From<BuildError> for SnapshotError {
    fn from(e: BuildError) -> SnapshotError {
        match e {
            BuildError::Index(e) => SnapshotError::Index(e),
        }
    }
}

impl From<DataFolderError> for SnapshotError {
    fn from(e: DataFolderError) -> SnapshotError {
        SnapshotError::DataFolder(Box::new(e))
    }
}

/// How a data folder is used.
#[derive(Debug, Clone, Copy)]
pub struct Access {
    /// Never write: answer from the complete generation (a replica on a
    /// read-only volume). Also chosen when the folder cannot be written.
    pub read_only: bool,
    /// Build a new generation even when the current one is up to date
    /// (`reindex`).
    pub rebuild: bool,
    /// Wait for another builder, or fail at once.
    pub wait: Wait,
    /// Told who holds the builder lock before waiting for it.
    pub on_wait: fn(&str),
}

impl Default for Access {
    fn default() -> Access {
        Access {
            read_only: false,
            rebuild: false,
            wait: Wait::Yes,
            on_wait: |message| tracing::warn!("{message}"),
        }
    }
}

/// One immutable generation of the knowledge: its tables and their index.
#[derive(Debug)]
pub struct Snapshot {
    corpus: Corpus,
    index: SearchIndex,
    /// The data folder generation it reads (its lease is held meanwhile).
    generation: Option<Generation>,
    /// How it was built, when this process built it.
    built: Option<BuildStats>,
}

impl std::ops::Deref for Snapshot {
    type Target = Corpus;
    fn deref(&self) -> &Corpus {
        &self.corpus
    }
}

impl Snapshot {
    /// Loads the knowledge folder; reuses the data folder's current
    /// generation when it was built for the folder's content hash.
    pub async fn open_or_build(
        knowledge_dir: &Path,
        data_dir: &Path,
    ) -> Result<Snapshot, SnapshotError> {
        Snapshot::open_with(knowledge_dir, data_dir, Access::default()).await
    }

    /// Opens the data folder as `access` says. Read-only: the current
    /// generation answers (the knowledge folder is not read). Otherwise an
    /// up-to-date generation is opened; a missing one is built under the
    /// builder lock (waiting for another builder, which may build it); a
    /// stale one is rebuilt unless another process is building, in which
    /// case it answers meanwhile.
    pub async fn open_with(
        knowledge_dir: &Path,
        data_dir: &Path,
        access: Access,
    ) -> Result<Snapshot, SnapshotError> {
        let folder = DataFolder::open(data_dir, access.read_only)?;
        if folder.is_read_only() {
            let Some(generation) = folder.current()? else {
                return Err(DataFolderError::EmptyReadOnly {
                    path: data_dir.to_path_buf(),
                }
                .into());
            };
            return Snapshot::from_generation(generation, None).await;
        }
        // Taken before any file is read (a change made meanwhile shows as
        // another signature next time), on other threads while the
        // generation recorded for the last signature opens.
        let dir = knowledge_dir.to_path_buf();
        let signing = std::thread::spawn(move || Signature::of(&dir));
        let recorded = match access.rebuild {
            false => Snapshot::open_recorded(&folder).await,
            true => None,
        };
        let signature = signing.join().ok().flatten();
        if let (Some(signature), Some((snapshot, of))) = (&signature, recorded) {
            if *signature == of {
                if let Ok(Some(lock)) = folder.try_lock_builder() {
                    lock.remove_unused();
                }
                return Ok(snapshot);
            }
        }
        let cache_path = folder.read_cache_path();
        let cache = ReadCache::load(&cache_path);
        let files = files::load_with(knowledge_dir, cache.as_ref())?;
        let opened = Snapshot::open_files(&folder, &files, access).await;
        if files.read_count() > 0 || cache.is_none() {
            let fresh = files.read_cache();
            if cache.as_ref() != Some(&fresh) {
                fresh.save(&cache_path);
            }
        }
        if let Some(signature) = signature {
            signature.save(&folder.signature_path(), &files.version);
        }
        opened
    }

    /// The current generation, when it was built for the knowledge
    /// version last recorded with a signature of the folder, and that
    /// signature: when the folder still has it, the process reads no
    /// document and no read cache.
    async fn open_recorded(folder: &DataFolder) -> Option<(Snapshot, Signature)> {
        let (signature, version) = Signature::recorded(&folder.signature_path())?;
        let current = folder.current().ok().flatten()?;
        if current.version() != version {
            return None;
        }
        let snapshot = Snapshot::from_generation(current, None).await.ok()?;
        Some((snapshot, signature))
    }

    /// Opens the generation built for `files`, or builds it.
    async fn open_files(
        folder: &DataFolder,
        files: &KnowledgeFiles,
        access: Access,
    ) -> Result<Snapshot, SnapshotError> {
        if !access.rebuild {
            if let Some(current) = folder.current()? {
                if current.version() == files.version {
                    match Snapshot::from_generation(current, Some(files)).await {
                        Ok(snapshot) => {
                            if let Ok(Some(lock)) = folder.try_lock_builder() {
                                lock.remove_unused();
                            }
                            return Ok(snapshot);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "the current generation does not open; rebuilding")
                        }
                    }
                } else if let Some(lock) = folder.try_lock_builder()? {
                    return Snapshot::build_locked(&lock, files, access).await;
                } else {
                    // Another process is building: answer from what is there.
                    return Snapshot::from_generation(current, None).await;
                }
            }
        }
        let lock = folder.lock_builder(access.wait, &|holder| {
            (access.on_wait)(&format!(
                "waiting for {holder} to finish building the data folder {}",
                folder.root().display()
            ))
        })?;
        Snapshot::build_locked(&lock, files, access).await
    }

    /// Under the builder lock: opens the current generation when another
    /// builder just made it for these files, else builds a new one.
    async fn build_locked(
        lock: &BuilderLock,
        files: &KnowledgeFiles,
        access: Access,
    ) -> Result<Snapshot, SnapshotError> {
        if !access.rebuild {
            if let Some(current) = lock.folder().current()? {
                if current.version() == files.version {
                    if let Ok(snapshot) = Snapshot::from_generation(current, Some(files)).await {
                        return Ok(snapshot);
                    }
                }
            }
        }
        let snapshot = Snapshot::build_generation(lock, files).await?;
        lock.remove_unused();
        Ok(snapshot)
    }

    /// Builds a new generation and makes it current; on failure removes
    /// what it wrote, and the current generation stays as it was.
    async fn build_generation(
        lock: &BuilderLock,
        files: &KnowledgeFiles,
    ) -> Result<Snapshot, SnapshotError> {
        let previous = previous_build(lock).await;
        let files = &*with_bodies(files, previous.as_ref());
        let new = lock.new_generation(&files.version)?;
        let dir = new.dir.clone();
        let written = async {
            let built = build::build(files, previous, &new)?;
            let mut snapshot =
                Snapshot::from_tables(files.vocabulary.clone(), built.tables, built.index);
            facts_file::write(
                &new.facts_file(),
                &snapshot.corpus,
                &built.stored.document_hashes,
                &files.vocabulary_text,
            )?;
            snapshot.generation = Some(lock.publish(new)?);
            snapshot.built = Some(built.stats);
            Ok::<_, SnapshotError>(snapshot)
        }
        .await;
        if written.is_err() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        written
    }

    /// Opens a complete generation: the header of its facts file (each
    /// year's facts are read when first needed) and its index; `files`
    /// (when they are what it was built from) spare parsing its stored
    /// vocabulary.
    async fn from_generation(
        generation: Generation,
        files: Option<&KnowledgeFiles>,
    ) -> Result<Snapshot, SnapshotError> {
        let path = generation.facts_file();
        let (header, facts) = facts_file::open(&path)?;
        let vocabulary = match files.filter(|f| f.version == header.version) {
            Some(f) => f.vocabulary.clone(),
            None => Vocabulary::parse(&header.vocabulary).map_err(|e| {
                SnapshotError::StoredVocabulary {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?,
        };
        let opened = header.tables(facts);
        let index = SearchIndex::open(
            &generation.index_dir(),
            segmenter_for(&vocabulary),
            opened.document_hashes,
        )?;
        let corpus = Corpus::new(
            header.version,
            vocabulary,
            opened.documents,
            index.passage_count(),
            opened.facts,
            opened.conflicts,
            header.problems,
        );
        Ok(Snapshot {
            corpus,
            index,
            generation: Some(generation),
            built: None,
        })
    }

    /// How many documents this process extracted and reused to build it
    /// (None: opened from the data folder, or built in memory).
    pub fn built(&self) -> Option<BuildStats> {
        self.built
    }

    /// The data folder generation this snapshot reads, if any.
    pub fn generation(&self) -> Option<&Generation> {
        self.generation.as_ref()
    }

    /// Builds a snapshot in memory, touching no data folder (benchmarks,
    /// tests of the pure path).
    pub fn build_in_memory(files: &KnowledgeFiles) -> Result<Snapshot, SnapshotError> {
        let built = build::build_in_memory(files)?;
        let mut snapshot =
            Snapshot::from_tables(files.vocabulary.clone(), built.tables, built.index);
        snapshot.built = Some(built.stats);
        Ok(snapshot)
    }

    /// The sentence a fact cites, as written (read from the index when the
    /// fact was read back from a generation).
    pub fn quote<'f>(&self, f: &'f crate::domain::model::Fact) -> Cow<'f, str> {
        self.knowledge().quote(f)
    }

    /// Loads what answering loads on first use (every year's facts, the
    /// word segmenter's dictionary, the Traditional-to-Simplified tables), for a process
    /// that will answer many questions.
    pub fn warm_up(&self) {
        for k in 0..self.facts.chunk_count() {
            self.facts.chunk(k);
        }
        self.index.segmenter().words("");
        self.vocabulary.normalize("臺灣海關");
    }

    /// The passages of document `doc`, as written, in order (read from
    /// the index).
    pub fn passages_of(&self, doc: usize) -> Vec<String> {
        self.index.passages_of(doc)
    }

    /// A snapshot of tables in build order: the facts numbered by year
    /// (`FactTable`), the conflicts renumbered with them.
    fn from_tables(vocabulary: Vocabulary, t: SnapshotTables, index: SearchIndex) -> Snapshot {
        let (facts, renumbered) = FactTable::from_facts(t.facts);
        let conflicts = t
            .conflicts
            .into_iter()
            .map(|c| Conflict {
                facts: c
                    .facts
                    .iter()
                    .filter_map(|&i| renumbered.get(i).copied())
                    .collect(),
                ..c
            })
            .collect();
        let corpus = Corpus::new(
            t.version,
            vocabulary,
            Chunks::loaded(vec![t.documents]),
            index.passage_count(),
            facts,
            Chunks::loaded(vec![conflicts]),
            t.problems,
        );
        Snapshot {
            corpus,
            index,
            generation: None,
            built: None,
        }
    }

    /// What answering reads: the tables and the index as its passage search.
    pub fn knowledge(&self) -> Knowledge<'_> {
        Knowledge {
            corpus: &self.corpus,
            passages_search: &self.index,
        }
    }

    /// Answers one question.
    pub fn answer(&self, question: &str) -> Answer {
        let query = understand(question, &self.vocabulary);
        answer::answer(&self.knowledge(), &query)
    }

    /// The yearly summary that broadcasts send.
    pub fn summary(&self, year: u16, language: Language) -> Answer {
        answer::summary(&self.knowledge(), year, language)
    }
}

/// `files` with every document read that the build needs but the read
/// cache let go unread: one the previous generation lacks, or one a
/// curated fact quotes.
fn with_bodies<'f>(
    files: &'f KnowledgeFiles,
    previous: Option<&Previous>,
) -> Cow<'f, KnowledgeFiles> {
    let have: HashSet<&str> = previous
        .map(|p| {
            p.stored
                .document_hashes
                .iter()
                .map(String::as_str)
                .collect()
        })
        .unwrap_or_default();
    let quoted: HashSet<&str> = files.curated.iter().map(|c| c.document.as_str()).collect();
    let needed = |d: &DocumentFile| {
        (d.unread && !have.contains(d.hash.as_str())) || quoted.contains(d.file.as_str())
    };
    if !files.documents.iter().any(|d| d.unread && needed(d)) {
        return Cow::Borrowed(files);
    }
    let mut read = files.clone();
    read.read_unread(needed);
    Cow::Owned(read)
}

/// The current generation with its tables, to reuse its unchanged
/// documents; None when there is none or it does not read back.
async fn previous_build(lock: &BuilderLock) -> Option<Previous> {
    let generation = lock.folder().current().ok().flatten()?;
    let (tables, stored) = facts_file::read_all(&generation.facts_file()).ok()?;
    Some(Previous {
        tables,
        stored,
        generation,
    })
}
