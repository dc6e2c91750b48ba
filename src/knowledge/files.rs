//! knowledge: "here is the knowledge folder, give me its files". Reads
//! `vocabulary.toml`, `sources.toml` (document metadata), `facts.toml`
//! (curated facts) and every document under `documents/`, and fingerprints
//! them all so that an unchanged folder is not rebuilt.
//!
//! Invariant: the only module that reads the knowledge folder. A file that
//! cannot be read or parsed is reported with its path and reason and the
//! rest still loads; only a missing or broken vocabulary stops the load.

use super::formats;
use crate::domain::ingest::{infer_meta, split_front_matter, unclosed_front_matter};
use crate::domain::model::{DocumentMeta, Language};
use crate::domain::vocabulary::Vocabulary;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Kept beside the extractor; part of the content hash, so that a data
/// folder built by an older binary is rebuilt.
pub use crate::domain::extract::EXTRACTION_VERSION;

/// Why the knowledge folder could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// The folder does not exist or cannot be listed.
    #[error("cannot read the knowledge folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `vocabulary.toml` is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    VocabularyUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `vocabulary.toml` is not valid.
    #[error("{path} is not a valid vocabulary: {reason}")]
    VocabularyInvalid { path: PathBuf, reason: String },
}

/// A document as read from disk, before ingest.
#[derive(Debug, Clone)]
pub struct DocumentFile {
    pub file: String,
    pub meta: DocumentMeta,
    /// The text (empty when `unread`).
    pub body: String,
    /// Not read, because the read cache shows it unchanged since a build
    /// read it: its metadata, notes and hash come from the cache, its rows
    /// from that build.
    pub unread: bool,
    /// Its document hash (`document_hash`), made once when the folder is
    /// read; empty for a file read on its own (`read_one`).
    pub hash: String,
    /// sha256 of the file's bytes (part of the knowledge version).
    pub bytes_hash: String,
    /// The file's identity on disk when it was read.
    pub stat: Option<FileStat>,
    /// What reading it noted (`path: note`), also in the folder's problems.
    pub notes: Vec<String>,
}

/// A file's identity on disk, as cheap to get as a directory listing
/// (size, modification and change times, inode): while it stays the same
/// the file is taken as unchanged, as git's index does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    pub len: u64,
    pub modified_ns: i128,
    pub changed_ns: i128,
    pub inode: u64,
}

impl FileStat {
    fn of(meta: &std::fs::Metadata) -> FileStat {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileStat {
                len: meta.len(),
                modified_ns: i128::from(meta.mtime()) * 1_000_000_000
                    + i128::from(meta.mtime_nsec()),
                changed_ns: i128::from(meta.ctime()) * 1_000_000_000
                    + i128::from(meta.ctime_nsec()),
                inode: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let ns = |t: std::io::Result<std::time::SystemTime>| {
                t.ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos() as i128)
            };
            FileStat {
                len: meta.len(),
                modified_ns: ns(meta.modified()),
                changed_ns: 0,
                inode: 0,
            }
        }
    }
}

/// What reading each document file gave, kept in the data folder so that
/// a process finding the knowledge folder unchanged (every file's
/// `FileStat` the same) reads none of its documents. Valid only for the
/// extraction version, vocabulary and `sources.toml` it was made with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadCache {
    pub key: String,
    pub documents: Vec<CachedRead>,
}

/// One document file as the read cache remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedRead {
    pub file: String,
    pub stat: FileStat,
    pub bytes_hash: String,
    pub document_hash: String,
    pub meta: DocumentMeta,
    pub notes: Vec<String>,
}

/// A file modified this recently is not trusted to the cache: a change in
/// the same clock tick could leave its stat unchanged.
const SETTLED_NS: i128 = 2_000_000_000;

impl ReadCache {
    /// The cache at `path`; None when it is missing or unreadable (it is
    /// only a cache: every document is then read).
    pub fn load(path: &Path) -> Option<ReadCache> {
        let text = std::fs::read(path).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Writes the cache to `path` atomically (a temporary file renamed
    /// over it); a failure only costs the next process a full read.
    pub fn save(&self, path: &Path) {
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let written = serde_json::to_vec(self)
            .map_err(std::io::Error::other)
            .and_then(|bytes| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!(path = %path.display(), error = %e, "read cache not written");
        }
    }
}

/// The knowledge folder's files as they stand, without reading a document:
/// a hash of the extraction version, the texts of `vocabulary.toml`,
/// `sources.toml` and `facts.toml`, and every document file's name and stat.
/// While it stays the same, so does the knowledge version, so a process
/// that finds the signature it recorded with a version (`Signature::save`)
/// knows the version without reading the read cache or any document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature(String);

impl Signature {
    /// The folder's signature now; None when it cannot be listed or a file
    /// changed too recently for its stat to be trusted.
    pub fn of(dir: &Path) -> Option<Signature> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let mut hasher = Sha256::new();
        hasher.update(EXTRACTION_VERSION.as_bytes());
        for name in ["vocabulary.toml", "sources.toml", "facts.toml"] {
            let text = std::fs::read(dir.join(name)).unwrap_or_default();
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(&text);
        }
        let mut files = listed_with_stats(&dir.join("documents"))?;
        if files
            .iter()
            .any(|(_, stat)| now - stat.modified_ns.max(stat.changed_ns) <= SETTLED_NS)
        {
            return None;
        }
        files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (name, stat) in &files {
            hasher.update(name.as_bytes());
            hasher.update([0]);
            hasher.update(stat.len.to_le_bytes());
            hasher.update(stat.modified_ns.to_le_bytes());
            hasher.update(stat.changed_ns.to_le_bytes());
            hasher.update(stat.inode.to_le_bytes());
        }
        Some(Signature(hex(&hasher.finalize()[..16])))
    }

    /// The signature recorded at `path`, with its knowledge version.
    pub fn recorded(path: &Path) -> Option<(Signature, String)> {
        let text = std::fs::read_to_string(path).ok()?;
        let (signature, version) = text.trim().split_once(' ')?;
        Some((Signature(signature.to_string()), version.to_string()))
    }

    /// Records at `path` that files of this signature have `version`
    /// (atomically; a failure only costs the next process the slow way).
    pub fn save(&self, path: &Path, version: &str) {
        if Signature::recorded(path).is_some_and(|(s, v)| s == *self && v == version) {
            return;
        }
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let written = std::fs::write(&tmp, format!("{} {version}\n", self.0))
            .and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            tracing::debug!(path = %path.display(), error = %e, "signature not written");
        }
    }
}

/// `f` of each item, in order, the items split between all cores.
fn on_all_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Every document file in `dir` with its stat (None when the folder or a
/// file cannot be read). At 10,000 documents listing and stat'ing are most
/// of a cold start, so the entries are stat'ed on all cores while the
/// folder is still being listed, a batch at a time.
fn listed_with_stats(dir: &Path) -> Option<Vec<(String, FileStat)>> {
    const BATCH: usize = 256;
    let entries = std::fs::read_dir(dir).ok()?;
    let (send, receive) = std::sync::mpsc::channel::<Vec<std::fs::DirEntry>>();
    let receive = std::sync::Mutex::new(receive);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut files = Vec::new();
                    loop {
                        let batch = receive.lock().ok().and_then(|r| r.recv().ok());
                        let Some(batch) = batch else { break };
                        for entry in &batch {
                            files.push(listed(entry));
                        }
                    }
                    files
                })
            })
            .collect();
        let mut listing_failed = false;
        let mut batch = Vec::with_capacity(BATCH);
        for entry in entries {
            match entry {
                Ok(entry) => batch.push(entry),
                Err(_) => listing_failed = true,
            }
            if batch.len() == BATCH {
                let _ = send.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        }
        let _ = send.send(batch);
        drop(send);
        let mut files = Vec::new();
        for worker in workers {
            for file in worker.join().ok()? {
                files.extend(file?);
            }
        }
        (!listing_failed).then_some(files)
    })
}

/// A listed document file's name and stat: Some(None) for what is not a
/// document (a folder, a hidden file), None when it cannot be stat'ed.
fn listed(entry: &std::fs::DirEntry) -> Option<Option<(String, FileStat)>> {
    let name = entry.file_name().to_string_lossy().into_owned();
    let kind = entry.file_type().ok()?;
    let meta = if kind.is_symlink() {
        std::fs::metadata(entry.path()).ok()?
    } else {
        entry.metadata().ok()?
    };
    if name.starts_with('.') || meta.is_dir() {
        return Some(None);
    }
    Some(Some((name, FileStat::of(&meta))))
}

/// A curated fact from `facts.toml`: a figure that no sentence states
/// plainly, with a quote that must occur in its document.
#[derive(Debug, Clone, Deserialize)]
pub struct CuratedFact {
    pub document: String,
    pub quote: String,
    pub year: u16,
    #[serde(default)]
    pub quarter: Option<u8>,
    #[serde(default)]
    pub year_end: bool,
    pub metric: String,
    #[serde(default)]
    pub dims: std::collections::BTreeMap<String, String>,
    pub value: String,
    pub text: String,
    #[serde(default)]
    pub share: Option<String>,
    #[serde(default)]
    pub yoy: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct SourcesFile {
    #[serde(default)]
    documents: Vec<SourceEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct SourceEntry {
    file: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    publisher: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    language: Option<Language>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct FactsFile {
    #[serde(default)]
    facts: Vec<CuratedFact>,
}

/// Everything the knowledge folder holds.
#[derive(Debug, Clone)]
pub struct KnowledgeFiles {
    pub vocabulary: Vocabulary,
    /// `vocabulary.toml` as read (kept in each generation of the data folder).
    pub vocabulary_text: String,
    pub documents: Vec<DocumentFile>,
    pub curated: Vec<CuratedFact>,
    /// Files skipped or partly read: `path: reason`.
    pub problems: Vec<String>,
    /// Content hash of everything above.
    pub version: String,
    /// The folder read.
    pub dir: PathBuf,
    /// What a read cache must have been made with to be used.
    cache_key: String,
    sources: Vec<SourceEntry>,
}

/// Reads the knowledge folder, every document included.
pub fn load(dir: &Path) -> Result<KnowledgeFiles, KnowledgeError> {
    load_with(dir, None)
}

/// Reads the knowledge folder; a document whose file the read cache shows
/// unchanged is not read (`DocumentFile::unread`).
pub fn load_with(dir: &Path, cache: Option<&ReadCache>) -> Result<KnowledgeFiles, KnowledgeError> {
    let vocabulary_path = dir.join("vocabulary.toml");
    let vocabulary_text = std::fs::read_to_string(&vocabulary_path).map_err(|source| {
        KnowledgeError::VocabularyUnreadable {
            path: vocabulary_path.clone(),
            source,
        }
    })?;
    let vocabulary =
        Vocabulary::parse(&vocabulary_text).map_err(|e| KnowledgeError::VocabularyInvalid {
            path: vocabulary_path.clone(),
            reason: e.to_string(),
        })?;
    let mut problems = Vec::new();
    let sources_path = dir.join("sources.toml");
    let sources_text = optional_text(&sources_path, &mut problems);
    let sources: SourcesFile = toml::from_str(&sources_text).unwrap_or_else(|e| {
        problems.push(format!(
            "{}: not valid TOML, metadata inferred instead: {}",
            sources_path.display(),
            one_line(&e.to_string())
        ));
        SourcesFile::default()
    });
    let facts_path = dir.join("facts.toml");
    let facts_text = optional_text(&facts_path, &mut problems);
    let curated = match toml::from_str::<FactsFile>(&facts_text) {
        Ok(f) => f.facts,
        Err(e) => {
            problems.push(format!(
                "{}: not valid TOML, no curated facts loaded: {}",
                facts_path.display(),
                one_line(&e.to_string())
            ));
            Vec::new()
        }
    };
    let cache_key = short_hash([EXTRACTION_VERSION, &vocabulary_text, &sources_text]);
    let known: HashMap<&str, &CachedRead> = cache
        .filter(|c| c.key == cache_key)
        .map(|c| c.documents.iter().map(|d| (d.file.as_str(), d)).collect())
        .unwrap_or_default();
    let (mut documents, read_problems) =
        documents_in(&dir.join("documents"), &sources.documents, &known)?;
    for d in documents.iter_mut().filter(|d| d.hash.is_empty()) {
        d.hash = hash_of(&vocabulary_text, d);
    }
    problems.extend(read_problems);
    for entry in &sources.documents {
        if !documents.iter().any(|d| d.file == entry.file) {
            problems.push(format!(
                "{}: names {}, which is not in documents/",
                sources_path.display(),
                entry.file
            ));
        }
    }
    let mut files = KnowledgeFiles {
        vocabulary,
        vocabulary_text,
        documents,
        curated,
        problems,
        version: String::new(),
        dir: dir.to_path_buf(),
        cache_key,
        sources: sources.documents,
    };
    files.version = files.content_version(&facts_text);
    Ok(files)
}

/// A file's text, or "" when it is missing (or unreadable: noted).
fn optional_text(path: &Path, problems: &mut Vec<String>) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            problems.push(format!("{}: {e}", path.display()));
            String::new()
        }
    }
}

/// The first 12 bytes of the sha256 of `parts` (each ended by a 0), in hex.
fn short_hash<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    hex(&hasher.finalize()[..12])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KnowledgeFiles {
    /// The knowledge version: the extraction version, the vocabulary,
    /// `sources.toml`, `facts.toml` and every document's name and bytes.
    fn content_version(&self, facts_text: &str) -> String {
        let documents = self
            .documents
            .iter()
            .flat_map(|d| [d.file.as_str(), d.bytes_hash.as_str()]);
        short_hash(
            [self.cache_key.as_str(), facts_text]
                .into_iter()
                .chain(documents),
        )
    }

    /// Reads the documents the read cache let go unread for which `needed`
    /// holds (a build extracting them, a curated fact quoting them). One
    /// that can no longer be read is dropped, with the reason noted.
    pub fn read_unread(&mut self, needed: impl Fn(&DocumentFile) -> bool) {
        let documents_dir = self.dir.join("documents");
        let mut documents = std::mem::take(&mut self.documents);
        documents.retain_mut(|d| {
            if !d.unread || !needed(d) {
                return true;
            }
            let path = documents_dir.join(&d.file);
            match read_document_file(&path, d.file.clone(), &self.sources, &HashMap::new()) {
                Ok(mut read) => {
                    read.hash = hash_of(&self.vocabulary_text, &read);
                    *d = read;
                    true
                }
                Err(problems) => {
                    self.problems.extend(problems);
                    false
                }
            }
        });
        self.documents = documents;
    }

    /// The read cache for these files (documents read too recently to be
    /// trusted are left out).
    pub fn read_cache(&self) -> ReadCache {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i128);
        let documents = self
            .documents
            .iter()
            .filter_map(|d| {
                let stat = d.stat?;
                (now - stat.modified_ns > SETTLED_NS).then(|| CachedRead {
                    file: d.file.clone(),
                    stat,
                    bytes_hash: d.bytes_hash.clone(),
                    document_hash: document_hash(self, d),
                    meta: d.meta.clone(),
                    notes: d.notes.clone(),
                })
            })
            .collect();
        ReadCache {
            key: self.cache_key.clone(),
            documents,
        }
    }

    /// How many documents were read from disk (not taken from the cache).
    pub fn read_count(&self) -> usize {
        self.documents.iter().filter(|d| !d.unread).count()
    }
}

/// The content hash of one document as extraction sees it: its name,
/// metadata and body, with the extraction version and the vocabulary (a
/// change of either changes every document's hash).
pub fn document_hash(files: &KnowledgeFiles, file: &DocumentFile) -> String {
    if file.hash.is_empty() {
        hash_of(&files.vocabulary_text, file)
    } else {
        file.hash.clone()
    }
}

fn hash_of(vocabulary_text: &str, file: &DocumentFile) -> String {
    let mut h = Sha256::new();
    for part in [
        EXTRACTION_VERSION,
        vocabulary_text,
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
    hex(&h.finalize()[..16])
}

/// Every document of `documents/` that can be read, in name order (one
/// the cache knows unchanged is not read), and the problems of reading
/// them, in the same order.
fn documents_in(
    documents_dir: &Path,
    sources: &[SourceEntry],
    known: &HashMap<&str, &CachedRead>,
) -> Result<(Vec<DocumentFile>, Vec<String>), KnowledgeError> {
    let entries = std::fs::read_dir(documents_dir).map_err(|source| KnowledgeError::Folder {
        path: documents_dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut documents = Vec::new();
    let mut problems = Vec::new();
    let mut todo = Vec::new();
    for path in paths {
        let Some(file) = path
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
        else {
            problems.push(format!(
                "{}: the file name is not UTF-8, skipped",
                path.display()
            ));
            continue;
        };
        if !file.starts_with('.') && !path.is_dir() {
            todo.push((path, file));
        }
    }
    // Read and decoded on all cores, kept in name order.
    let read = on_all_cores(&todo, |(path, file)| {
        read_document_file(path, file.clone(), sources, known)
    });
    for result in read {
        match result {
            Ok(document) => {
                problems.extend(document.notes.iter().cloned());
                documents.push(document);
            }
            Err(notes) => problems.extend(notes),
        }
    }
    Ok((documents, problems))
}

/// One document file: taken from the cache when its stat is the one the
/// cache recorded, else read; Err(the problems) when it cannot be read.
fn read_document_file(
    path: &Path,
    file: String,
    sources: &[SourceEntry],
    known: &HashMap<&str, &CachedRead>,
) -> Result<DocumentFile, Vec<String>> {
    // The stat is taken before the bytes are read, so that a change made
    // while reading shows as a changed stat next time.
    let stat = std::fs::metadata(path).ok().map(|m| FileStat::of(&m));
    if let (Some(stat), Some(cached)) = (stat, known.get(file.as_str())) {
        if cached.stat == stat {
            return Ok(DocumentFile {
                file,
                meta: cached.meta.clone(),
                body: String::new(),
                unread: true,
                hash: cached.document_hash.clone(),
                bytes_hash: cached.bytes_hash.clone(),
                stat: Some(stat),
                notes: cached.notes.clone(),
            });
        }
    }
    let bytes = std::fs::read(path)
        .map_err(|e| vec![format!("{}: cannot be read: {e}", path.display())])?;
    let mut notes = Vec::new();
    let mut document =
        document_file(path, file, &bytes, sources, &mut notes).ok_or(notes.clone())?;
    document.stat = stat;
    document.notes = notes;
    Ok(document)
}

/// A document not yet in the folder (sent to the bot), read as the folder
/// would read it under `file`: the document and the notes on reading it, or
/// the reason it cannot be read.
pub fn read_one(
    path: &Path,
    file: &str,
    bytes: &[u8],
) -> Result<(DocumentFile, Vec<String>), String> {
    let mut notes = Vec::new();
    match document_file(path, file.to_string(), bytes, &[], &mut notes) {
        Some(document) => Ok((document, notes)),
        None => Err(notes.join("; ")),
    }
}

/// One document file: its text decoded from its format, its metadata from
/// its front matter, its format and its text, with `sources.toml` over
/// all; None (and the reason in `problems`) when it cannot be read.
fn document_file(
    path: &Path,
    file: String,
    bytes: &[u8],
    sources: &[SourceEntry],
    problems: &mut Vec<String>,
) -> Option<DocumentFile> {
    let decoded = match formats::read_document(path, bytes) {
        Ok(decoded) => decoded,
        Err(e) => {
            problems.push(format!("{}: {e}, skipped", path.display()));
            return None;
        }
    };
    for note in &decoded.notes {
        problems.push(format!("{}: {note}", path.display()));
    }
    let text = decoded.text.trim_start_matches('\u{feff}');
    let (front, body, meta_text) = match unclosed_front_matter(text) {
        Some((body, after_header)) if decoded.format.has_front_matter() => {
            problems.push(format!(
                "{}: front matter opened by --- is never closed; read as body text",
                path.display()
            ));
            (None, body, after_header)
        }
        _ if decoded.format.has_front_matter() => {
            let (front, body) = split_front_matter(text);
            (front, body, body)
        }
        _ => (None, text, text),
    };
    let inferred = infer_meta(meta_text);
    let from_front_matter = front.is_some();
    let mut meta = front.unwrap_or_else(|| inferred.clone());
    if meta.title.is_empty() {
        meta.title = inferred.title.clone();
    }
    decoded.apply_hints(&mut meta, from_front_matter);
    if let Some(entry) = sources.iter().find(|s| s.file == file) {
        meta.title = entry.title.clone().unwrap_or(meta.title);
        meta.publisher = entry.publisher.clone().or(meta.publisher);
        meta.published = entry.published.clone().or(meta.published);
        meta.language = entry.language.unwrap_or(meta.language);
        meta.url = entry.url.clone().or(meta.url);
    }
    if meta.title.is_empty() {
        meta.title = file.clone();
    }
    Some(DocumentFile {
        file,
        meta,
        body: body.to_string(),
        unread: false,
        hash: String::new(),
        bytes_hash: hex(&Sha256::digest(bytes)),
        stat: None,
        notes: Vec::new(),
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
