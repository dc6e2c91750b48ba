//! snapshot: "here is the knowledge folder, give me everything needed to
//! answer": documents, passages, sentences, facts, conflicts and the search
//! index, built once and then only read. Each build is a generation of the
//! data folder (`generations`); an unchanged folder (same content hash) is
//! opened from the current generation instead of rebuilt.

use crate::domain::answer;
use crate::domain::corpus::{Corpus, Knowledge};
use crate::domain::extract::{Extractor, SentenceInput};
use crate::domain::ingest::split_passages;
use crate::domain::model::{
    Answer, Conflict, Document, Fact, Language, Passage, Period, PeriodKind, Scope, Sentence,
};
use crate::domain::normalize::normalize;
use crate::domain::numbers::{figures_agree, parse_plain};
use crate::domain::understand::understand;
use crate::domain::vocabulary::Vocabulary;
use crate::knowledge::files::{self, CuratedFact, KnowledgeError, KnowledgeFiles};
use crate::knowledge::generations::{BuilderLock, DataFolder, DataFolderError, Generation, Wait};
use crate::knowledge::index::{IndexError, SearchIndex, Segmenter};
use crate::knowledge::persist::{PersistError, SnapshotTables, Stored, TableStore};
use std::collections::BTreeMap;
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
        let files = files::load(knowledge_dir)?;
        if !access.rebuild {
            if let Some(current) = folder.current()? {
                if current.version() == files.version {
                    match Snapshot::from_generation(current, Some(&files)).await {
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
                    return Snapshot::build_locked(&lock, &files, access).await;
                } else {
                    // Another process is building: answer from what is there.
                    return Snapshot::from_generation(current, None).await;
                }
            }
        }
        let lock = folder.lock_builder(access.wait, &|holder| {
            (access.on_wait)(&format!(
                "waiting for {holder} to finish building the data folder {}",
                data_dir.display()
            ))
        })?;
        Snapshot::build_locked(&lock, &files, access).await
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
        let new = lock.new_generation(&files.version)?;
        let dir = new.dir.clone();
        let written = async {
            let (tables, stats) = build_tables_reusing(
                files,
                previous.as_ref().map(|(tables, stored)| Previous {
                    tables,
                    hashes: &stored.document_hashes,
                }),
            );
            drop(previous);
            let index = SearchIndex::build(
                Some(&new.index_dir()),
                &tables.passages,
                segmenter_for(&files.vocabulary),
            )?;
            let store = TableStore::create(&new.database()).await?;
            let stored = Stored {
                vocabulary: files.vocabulary_text.clone(),
                document_hashes: files
                    .documents
                    .iter()
                    .map(|d| document_hash(files, d))
                    .collect(),
            };
            let saved = store.save(&tables, &stored).await;
            store.close().await;
            saved?;
            let generation = lock.publish(new)?;
            Ok::<_, SnapshotError>((tables, index, generation, stats))
        }
        .await;
        match written {
            Ok((tables, index, generation, stats)) => {
                let mut snapshot = Snapshot::from_tables(files.vocabulary.clone(), tables, index);
                snapshot.generation = Some(generation);
                snapshot.built = Some(stats);
                Ok(snapshot)
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// Opens a complete generation; `files` (when they are what it was
    /// built from) spare parsing its stored vocabulary.
    async fn from_generation(
        generation: Generation,
        files: Option<&KnowledgeFiles>,
    ) -> Result<Snapshot, SnapshotError> {
        let path = generation.database();
        let store = TableStore::open_read_only(&path).await?;
        let loaded = store.load().await;
        store.close().await;
        let Some((tables, stored)) = loaded? else {
            return Err(DataFolderError::Damaged { path }.into());
        };
        let vocabulary = match files.filter(|f| f.version == tables.version) {
            Some(f) => f.vocabulary.clone(),
            None => Vocabulary::parse(&stored.vocabulary).map_err(|e| {
                SnapshotError::StoredVocabulary {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?,
        };
        let index = SearchIndex::open(&generation.index_dir(), segmenter_for(&vocabulary))?;
        let mut snapshot = Snapshot::from_tables(vocabulary, tables, index);
        snapshot.generation = Some(generation);
        Ok(snapshot)
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
        let tables = build_tables(files);
        let index = SearchIndex::build(None, &tables.passages, segmenter_for(&files.vocabulary))?;
        Ok(Snapshot::from_tables(
            files.vocabulary.clone(),
            tables,
            index,
        ))
    }

    fn from_tables(vocabulary: Vocabulary, t: SnapshotTables, index: SearchIndex) -> Snapshot {
        let corpus = Corpus {
            version: t.version,
            vocabulary,
            documents: t.documents,
            passages: t.passages,
            sentences: t.sentences,
            facts: t.facts,
            conflicts: t.conflicts,
            problems: t.problems,
        };
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

/// The current generation's tables, to reuse its unchanged documents; None
/// when there is none or it does not read back.
async fn previous_build(lock: &BuilderLock) -> Option<(SnapshotTables, Stored)> {
    let current = lock.folder().current().ok().flatten()?;
    let store = TableStore::open_read_only(&current.database()).await.ok()?;
    let loaded = store.load().await;
    store.close().await;
    loaded.ok().flatten()
}

fn segmenter_for(vocabulary: &Vocabulary) -> Segmenter {
    let mut words: Vec<&str> = Vec::new();
    for m in &vocabulary.metrics {
        words.extend(m.ask.iter().chain(&m.cues).map(String::as_str));
    }
    for d in &vocabulary.dimensions {
        for v in &d.values {
            words.extend(v.words.iter().map(String::as_str));
        }
    }
    Segmenter::new(words)
}

/// One document's rows, numbered within the document (document 0, its
/// first passage 0, its first sentence 0).
#[derive(Debug, Clone, Default)]
struct DocumentRows {
    passages: Vec<Passage>,
    sentences: Vec<Sentence>,
    facts: Vec<Fact>,
}

/// How a build came by its documents' rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Documents read, split and extracted by this build.
    pub extracted: usize,
    /// Documents whose rows were taken unchanged from the previous build.
    pub reused: usize,
}

/// A previous build: its tables and each document's content hash.
pub struct Previous<'a> {
    pub tables: &'a SnapshotTables,
    pub hashes: &'a [String],
}

/// The content hash of one document as extraction sees it: its name,
/// metadata and body, with the extraction version and the vocabulary (a
/// change of either changes every document's hash).
pub fn document_hash(files: &KnowledgeFiles, file: &files::DocumentFile) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [
        files::EXTRACTION_VERSION,
        &files.vocabulary_text,
        &file.file,
        &file.meta.title,
        file.meta.publisher.as_deref().unwrap_or(""),
        file.meta.published.as_deref().unwrap_or(""),
        file.meta.url.as_deref().unwrap_or(""),
        &format!("{:?}", file.meta.language),
        &file.body,
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ingests every document: passages, sentences, facts, conflicts.
pub fn build_tables(files: &KnowledgeFiles) -> SnapshotTables {
    build_tables_reusing(files, None).0
}

/// Ingests the documents, taking the rows of those whose hash the
/// previous build has from it, and extracting the others in parallel.
pub fn build_tables_reusing(
    files: &KnowledgeFiles,
    previous: Option<Previous<'_>>,
) -> (SnapshotTables, BuildStats) {
    let hashes: Vec<String> = files
        .documents
        .iter()
        .map(|d| document_hash(files, d))
        .collect();
    let old: BTreeMap<&str, usize> = previous
        .as_ref()
        .map(|p| {
            p.hashes
                .iter()
                .enumerate()
                .filter(|(_, h)| !h.is_empty())
                .map(|(i, h)| (h.as_str(), i))
                .collect()
        })
        .unwrap_or_default();
    let mut rows: Vec<Option<DocumentRows>> = vec![None; files.documents.len()];
    let mut stats = BuildStats::default();
    if let Some(p) = &previous {
        for (i, h) in hashes.iter().enumerate() {
            if let Some(&o) = old.get(h.as_str()) {
                rows[i] = Some(rows_of(p.tables, o));
                stats.reused += 1;
            }
        }
    }
    stats.extracted = files.documents.len() - stats.reused;
    extract_missing(files, &mut rows);
    let rows: Vec<DocumentRows> = rows.into_iter().map(Option::unwrap_or_default).collect();
    (assemble(files, rows), stats)
}

/// Extracts every document without rows, on all cores.
fn extract_missing(files: &KnowledgeFiles, rows: &mut [Option<DocumentRows>]) {
    let extractor = Extractor::new(&files.vocabulary);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = rows.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (c, part) in rows.chunks_mut(chunk).enumerate() {
            let extractor = &extractor;
            scope.spawn(move || {
                for (i, slot) in part.iter_mut().enumerate() {
                    if slot.is_none() {
                        *slot = Some(extract_document(extractor, &files.documents[c * chunk + i]));
                    }
                }
            });
        }
    });
}

/// One document split into passages and sentences, and its facts.
fn extract_document(extractor: &Extractor, file: &files::DocumentFile) -> DocumentRows {
    let language = file.meta.language;
    let mut rows = DocumentRows::default();
    for raw in split_passages(&file.body, language) {
        let passage = rows.passages.len();
        let first_sentence = rows.sentences.len();
        for s in &raw.sentences {
            rows.sentences.push(Sentence {
                doc: 0,
                passage,
                original: s.clone(),
                normalized: normalize(s),
            });
        }
        let original = raw.text(language);
        rows.passages.push(Passage {
            doc: 0,
            normalized: normalize(&original),
            original,
            first_sentence,
            sentence_count: raw.sentences.len(),
        });
    }
    let inputs: Vec<SentenceInput<'_>> = rows
        .sentences
        .iter()
        .enumerate()
        .map(|(index, s)| SentenceInput {
            index,
            passage: s.passage,
            normalized: &s.normalized,
            original: &s.original,
        })
        .collect();
    let published_year = file
        .meta
        .published
        .as_deref()
        .and_then(|p| p.get(..4))
        .and_then(|y| y.parse().ok());
    rows.facts = extractor.extract(0, &inputs, language, published_year);
    rows
}

/// Document `doc`'s rows of a previous build, numbered within it.
fn rows_of(t: &SnapshotTables, doc: usize) -> DocumentRows {
    let passages: Vec<&Passage> = t.passages.iter().filter(|p| p.doc == doc).collect();
    let sentence_base = t.sentences.iter().position(|s| s.doc == doc).unwrap_or(0);
    let passage_base = t.passages.iter().position(|p| p.doc == doc).unwrap_or(0);
    DocumentRows {
        passages: passages
            .into_iter()
            .map(|p| Passage {
                doc: 0,
                first_sentence: p.first_sentence - sentence_base,
                ..p.clone()
            })
            .collect(),
        sentences: t
            .sentences
            .iter()
            .filter(|s| s.doc == doc)
            .map(|s| Sentence {
                doc: 0,
                passage: s.passage - passage_base,
                ..s.clone()
            })
            .collect(),
        facts: t
            .facts
            .iter()
            .filter(|f| f.doc == doc && !f.curated)
            .map(|f| Fact {
                doc: 0,
                sentence: f.sentence.map(|s| s - sentence_base),
                ..f.clone()
            })
            .collect(),
    }
}

/// Numbers the documents' rows into one corpus; adds curated facts and
/// conflicts.
fn assemble(files: &KnowledgeFiles, rows: Vec<DocumentRows>) -> SnapshotTables {
    let mut documents = Vec::new();
    let mut passages: Vec<Passage> = Vec::new();
    let mut sentences: Vec<Sentence> = Vec::new();
    let mut facts = Vec::new();
    let mut problems = files.problems.clone();
    for (doc, (file, r)) in files.documents.iter().zip(rows).enumerate() {
        let (p0, s0) = (passages.len(), sentences.len());
        passages.extend(r.passages.into_iter().map(|p| Passage {
            doc,
            first_sentence: p.first_sentence + s0,
            ..p
        }));
        sentences.extend(r.sentences.into_iter().map(|s| Sentence {
            doc,
            passage: s.passage + p0,
            ..s
        }));
        facts.extend(r.facts.into_iter().map(|f| Fact {
            doc,
            sentence: f.sentence.map(|s| s + s0),
            ..f
        }));
        documents.push(Document {
            file: file.file.clone(),
            meta: file.meta.clone(),
        });
    }
    for c in &files.curated {
        match curated_fact(c, &documents, files) {
            Ok(f) => facts.push(f),
            Err(reason) => problems.push(format!(
                "facts.toml: {} ({}): {reason}",
                c.document, c.metric
            )),
        }
    }
    let conflicts = find_conflicts(&facts, &files.vocabulary);
    SnapshotTables {
        version: files.version.clone(),
        documents,
        passages,
        sentences,
        facts,
        conflicts,
        problems,
    }
}

fn curated_fact(
    c: &CuratedFact,
    documents: &[Document],
    files: &KnowledgeFiles,
) -> Result<Fact, String> {
    let doc = documents
        .iter()
        .position(|d| d.file == c.document)
        .ok_or("no such document")?;
    if files.vocabulary.metric(&c.metric).is_none() {
        return Err(format!("unknown metric {}", c.metric));
    }
    let body = normalize(&files.documents[doc].body);
    let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if !compact(&body).contains(&compact(&normalize(&c.quote))) {
        return Err("the quote does not occur in the document".into());
    }
    let value = parse_plain(&c.value).ok_or("value is not an exact decimal")?;
    let kind = match (c.quarter, c.year_end) {
        (Some(q @ 1..=4), _) => PeriodKind::Quarter(q),
        (Some(q), _) => return Err(format!("quarter {q} is not 1 to 4")),
        (None, true) => PeriodKind::YearEnd,
        (None, false) => PeriodKind::Year,
    };
    Ok(Fact {
        period: Period { year: c.year, kind },
        scope: Scope::Nationwide,
        metric: c.metric.clone(),
        dims: c.dims.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        value,
        text: c.text.clone(),
        qualifier: None,
        share: c.share.as_deref().and_then(parse_plain),
        yoy: c.yoy.as_deref().and_then(parse_plain),
        doc,
        sentence: None,
        quote: c.quote.clone(),
        excerpt: c.quote.clone(),
        curated: true,
    })
}

/// The key two facts must share to be the same figure.
pub fn fact_key(f: &Fact) -> String {
    let dims: Vec<String> = f.dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let scope = match &f.scope {
        Scope::Nationwide => "nationwide".to_string(),
        Scope::Customs(n) => format!("customs:{n}"),
        Scope::Campaign(n) => format!("campaign:{n}"),
        Scope::Subset(n) => format!("subset:{n}"),
    };
    format!(
        "{} {} {} [{}]",
        f.period.key(),
        scope,
        f.metric,
        dims.join(",")
    )
}

/// Keys (nationwide) for which two final figures do not agree, even
/// allowing for rounding and for the bound a qualifier states (逾7100万
/// and 7180万 agree). A preliminary count (its key differs by its release)
/// and the quarters, first quarters and full year (their keys differ by
/// period) never conflict with a final full-year figure.
pub fn find_conflicts(facts: &[Fact], vocabulary: &Vocabulary) -> Vec<Conflict> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in facts
        .iter()
        .enumerate()
        .filter(|(_, f)| f.scope == Scope::Nationwide && !f.is_preliminary())
    {
        groups.entry(fact_key(f)).or_default().push(i);
    }
    let agree = |a: &Fact, b: &Fact| {
        figures_agree(
            a.value,
            vocabulary.bound_of(a.qualifier.as_deref()),
            b.value,
            vocabulary.bound_of(b.qualifier.as_deref()),
        )
    };
    groups
        .into_iter()
        .filter(|(_, ids)| {
            ids.iter()
                .any(|&a| ids.iter().any(|&b| !agree(&facts[a], &facts[b])))
        })
        .map(|(key, facts)| Conflict { key, facts })
        .collect()
}
