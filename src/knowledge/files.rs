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
use serde::Deserialize;
use sha2::{Digest, Sha256};
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
    pub body: String,
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

#[derive(Debug, Deserialize)]
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
}

/// Reads the knowledge folder.
pub fn load(dir: &Path) -> Result<KnowledgeFiles, KnowledgeError> {
    let mut hasher = Sha256::new();
    hasher.update(EXTRACTION_VERSION.as_bytes());
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
    hasher.update(vocabulary_text.as_bytes());
    let mut problems = Vec::new();

    let sources_path = dir.join("sources.toml");
    let sources: SourcesFile = match std::fs::read_to_string(&sources_path) {
        Ok(text) => {
            hasher.update(text.as_bytes());
            toml::from_str(&text).unwrap_or_else(|e| {
                problems.push(format!(
                    "{}: not valid TOML, metadata inferred instead: {}",
                    sources_path.display(),
                    one_line(&e.to_string())
                ));
                SourcesFile::default()
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SourcesFile::default(),
        Err(e) => {
            problems.push(format!("{}: {e}", sources_path.display()));
            SourcesFile::default()
        }
    };

    let facts_path = dir.join("facts.toml");
    let curated = match std::fs::read_to_string(&facts_path) {
        Ok(text) => {
            hasher.update(text.as_bytes());
            match toml::from_str::<FactsFile>(&text) {
                Ok(f) => f.facts,
                Err(e) => {
                    problems.push(format!(
                        "{}: not valid TOML, no curated facts loaded: {}",
                        facts_path.display(),
                        one_line(&e.to_string())
                    ));
                    Vec::new()
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            problems.push(format!("{}: {e}", facts_path.display()));
            Vec::new()
        }
    };

    let documents = documents_in(
        &dir.join("documents"),
        &sources.documents,
        &mut problems,
        &mut hasher,
    )?;
    for entry in &sources.documents {
        if !documents.iter().any(|d| d.file == entry.file) {
            problems.push(format!(
                "{}: names {}, which is not in documents/",
                sources_path.display(),
                entry.file
            ));
        }
    }
    let version = hasher
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(KnowledgeFiles {
        vocabulary,
        vocabulary_text,
        documents,
        curated,
        problems,
        version,
    })
}

/// Every document of `documents/` that can be read, in name order, each
/// hashed into the knowledge version.
fn documents_in(
    documents_dir: &Path,
    sources: &[SourceEntry],
    problems: &mut Vec<String>,
    hasher: &mut Sha256,
) -> Result<Vec<DocumentFile>, KnowledgeError> {
    let entries = std::fs::read_dir(documents_dir).map_err(|source| KnowledgeError::Folder {
        path: documents_dir.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut documents = Vec::new();
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
        if file.starts_with('.') || path.is_dir() {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                problems.push(format!("{}: cannot be read: {e}", path.display()));
                continue;
            }
        };
        if let Some(document) = document_file(&path, file, &bytes, sources, problems) {
            hasher.update(document.file.as_bytes());
            hasher.update([0]);
            hasher.update(&bytes);
            documents.push(document);
        }
    }
    Ok(documents)
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
    })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
