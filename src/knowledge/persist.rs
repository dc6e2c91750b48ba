//! persist: "what a generation's tables are, and why they could not be
//! written or read": the tables a build makes and a snapshot holds
//! (`SnapshotTables`), what a generation keeps besides them (`Stored`),
//! and the error of the generation's table file (`facts_file`, which writes
//! and reads them). Passages and sentences are not in the tables (the
//! generation's search index stores them).
//!
//! Invariant: plain data; no IO here.

use crate::domain::model::{Conflict, Document, Fact};
use std::path::PathBuf;

/// Why the knowledge tables could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// A stored row does not decode (written by another version?).
    #[error("knowledge tables {path}: a stored row does not decode: {reason}")]
    Decode { path: PathBuf, reason: String },
    /// The file could not be written or read.
    #[error("knowledge tables {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One generation of the knowledge tables: what a snapshot holds in memory.
#[derive(Debug, Clone)]
pub struct SnapshotTables {
    pub version: String,
    pub documents: Vec<Document>,
    /// Each document's extracted facts in document order, then the
    /// curated (read back from a generation: in table order).
    pub facts: Vec<Fact>,
    pub conflicts: Vec<Conflict>,
    pub problems: Vec<String>,
}

/// What a generation stores besides its tables.
#[derive(Debug, Clone, Default)]
pub struct Stored {
    /// `vocabulary.toml` as the generation was built with it.
    pub vocabulary: String,
    /// Content hash of each document file, by document number.
    pub document_hashes: Vec<String>,
}
