//! facts_file: "write what answering reads of this generation into one
//! file, or open it": the documents' metadata, the conflicts and the
//! vocabulary in a small header read at start, and the fact table one year
//! to a chunk, each read when a question first needs its year. A cold
//! process reads the header only, so its start does not grow with the
//! facts the corpus holds.
//!
//! Layout: `MAGIC`, the header's length (u64, little-endian), the header
//! (JSON), then the chunks (JSON arrays of facts) at the offsets the header
//! gives, counted from the end of the header.
//!
//! Invariant: written once by the build, before the generation is
//! published, then only read; a chunk that does not read back gives no
//! rows (and a warning naming the file), never another year's rows.

use crate::domain::corpus::{ChunkSource, Chunks, Corpus, FactTable, YearEntry};
use crate::domain::model::{Conflict, Document, Fact};
use crate::knowledge::persist::{PersistError, SnapshotTables, Stored};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The file's name in a generation's folder.
pub const FACTS_FILE: &str = "facts.bin";
const MAGIC: &[u8; 8] = b"CIBFACT3";
/// Documents a chunk: an answer citing one reads its chunk.
const DOCUMENTS_A_CHUNK: usize = 256;

/// What a cold process reads of a generation.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub version: String,
    /// `vocabulary.toml` as the generation was built with it.
    pub vocabulary: String,
    pub problems: Vec<String>,
    pub years: Vec<YearEntry>,
    /// Each year's chunk of facts.
    fact_chunks: Vec<Chunk>,
    /// Each run of documents' chunk.
    document_chunks: Vec<Chunk>,
    /// The same runs' content hashes.
    hash_chunks: Vec<Chunk>,
    /// The conflicts, by fact number of the table, in one chunk.
    conflict_chunk: Chunk,
}

/// Where a chunk is (its offset after the header and its length), and how
/// many rows it holds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Chunk {
    offset: u64,
    length: u64,
    rows: usize,
}

/// Each chunk's row count.
fn counts(chunks: &[Chunk]) -> Vec<usize> {
    chunks.iter().map(|c| c.rows).collect()
}

/// The open file, giving each chunk's rows when asked.
pub struct FactFile {
    path: PathBuf,
    file: Mutex<File>,
    /// Where the chunks start.
    base: u64,
    fact_chunks: Vec<Chunk>,
    document_chunks: Vec<Chunk>,
    hash_chunks: Vec<Chunk>,
    conflict_chunk: Chunk,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> PersistError + '_ {
    move |source| PersistError::File {
        path: path.to_path_buf(),
        source,
    }
}

fn bad(path: &Path, e: impl std::fmt::Display) -> PersistError {
    PersistError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// A fact as stored: without its sentence when the index has it (the
/// sentence is not kept twice). Reads back as a `Fact`.
struct StoredFact<'a>(&'a Fact);

impl Serialize for StoredFact<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let f = self.0;
        let quote = if f.sentence.is_some() { "" } else { &f.quote };
        let mut st = s.serialize_struct("Fact", 14)?;
        st.serialize_field("period", &f.period)?;
        st.serialize_field("scope", &f.scope)?;
        st.serialize_field("metric", &f.metric)?;
        st.serialize_field("dims", &f.dims)?;
        st.serialize_field("value", &f.value)?;
        st.serialize_field("text", &f.text)?;
        st.serialize_field("qualifier", &f.qualifier)?;
        st.serialize_field("share", &f.share)?;
        st.serialize_field("yoy", &f.yoy)?;
        st.serialize_field("doc", &f.doc)?;
        st.serialize_field("sentence", &f.sentence)?;
        st.serialize_field("quote", quote)?;
        st.serialize_field("excerpt", &f.excerpt)?;
        st.serialize_field("curated", &f.curated)?;
        st.end()
    }
}

/// Appends `rows` to `body` as one chunk.
fn push_chunk<T: Serialize>(
    path: &Path,
    body: &mut Vec<u8>,
    rows: &[T],
) -> Result<Chunk, PersistError> {
    let offset = body.len() as u64;
    serde_json::to_writer(&mut *body, rows).map_err(|e| bad(path, e))?;
    Ok(Chunk {
        offset,
        length: body.len() as u64 - offset,
        rows: rows.len(),
    })
}

/// Writes `corpus` (its documents, conflicts and fact table) to `path`
/// and syncs it.
pub fn write(
    path: &Path,
    corpus: &Corpus,
    document_hashes: &[String],
    vocabulary: &str,
) -> Result<(), PersistError> {
    let mut body = Vec::new();
    let mut fact_chunks = Vec::new();
    for k in 0..corpus.facts.chunk_count() {
        let rows: Vec<StoredFact> = corpus.facts.chunk(k).iter().map(StoredFact).collect();
        fact_chunks.push(push_chunk(path, &mut body, &rows)?);
    }
    let documents: Vec<&Document> = corpus.documents.iter().collect();
    let (mut document_chunks, mut hash_chunks) = (Vec::new(), Vec::new());
    for (run, hashes) in documents
        .chunks(DOCUMENTS_A_CHUNK)
        .zip(document_hashes.chunks(DOCUMENTS_A_CHUNK))
    {
        document_chunks.push(push_chunk(path, &mut body, run)?);
        hash_chunks.push(push_chunk(path, &mut body, hashes)?);
    }
    let conflicts: Vec<&Conflict> = corpus.conflicts.iter().collect();
    let header = Header {
        version: corpus.version.clone(),
        vocabulary: vocabulary.to_string(),
        problems: corpus.problems.clone(),
        years: corpus.facts.entries().to_vec(),
        fact_chunks,
        document_chunks,
        hash_chunks,
        conflict_chunk: push_chunk(path, &mut body, &conflicts)?,
    };
    let header = serde_json::to_vec(&header).map_err(|e| bad(path, e))?;
    let mut file = File::create(path).map_err(io(path))?;
    file.write_all(MAGIC)
        .and_then(|()| file.write_all(&(header.len() as u64).to_le_bytes()))
        .and_then(|()| file.write_all(&header))
        .and_then(|()| file.write_all(&body))
        .and_then(|()| file.sync_all())
        .map_err(io(path))
}

/// Opens the file at `path`: its header, and the file to read the chunks
/// from.
pub fn open(path: &Path) -> Result<(Header, FactFile), PersistError> {
    let mut file = File::open(path).map_err(io(path))?;
    let mut start = [0u8; 16];
    file.read_exact(&mut start).map_err(io(path))?;
    if &start[..8] != MAGIC {
        return Err(bad(path, "not a facts file of this version"));
    }
    let length = u64::from_le_bytes(start[8..].try_into().expect("8 bytes"));
    let size = file.metadata().map_err(io(path))?.len();
    if length > size.saturating_sub(16) {
        return Err(bad(path, "the header is longer than the file"));
    }
    let mut header = vec![0; length as usize];
    file.read_exact(&mut header).map_err(io(path))?;
    let header: Header = serde_json::from_slice(&header).map_err(|e| bad(path, e))?;
    if header.fact_chunks.len() != header.years.len()
        || header
            .fact_chunks
            .iter()
            .zip(&header.years)
            .any(|(c, y)| c.rows != y.count)
        || counts(&header.document_chunks) != counts(&header.hash_chunks)
    {
        return Err(bad(path, "the header's counts do not agree"));
    }
    let facts = FactFile {
        path: path.to_path_buf(),
        file: Mutex::new(file),
        base: 16 + length,
        fact_chunks: header.fact_chunks.clone(),
        document_chunks: header.document_chunks.clone(),
        hash_chunks: header.hash_chunks.clone(),
        conflict_chunk: header.conflict_chunk,
    };
    Ok((header, facts))
}

impl FactFile {
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        chunk: Option<&Chunk>,
    ) -> Result<Vec<T>, PersistError> {
        let path = &self.path;
        let chunk = chunk.ok_or_else(|| bad(path, "no such chunk"))?;
        let mut bytes = vec![0; chunk.length as usize];
        {
            let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
            file.seek(SeekFrom::Start(self.base + chunk.offset))
                .and_then(|_| file.read_exact(&mut bytes))
                .map_err(io(path))?;
        }
        serde_json::from_slice(&bytes).map_err(|e| bad(path, e))
    }

    fn read_chunks<T: serde::de::DeserializeOwned>(
        &self,
        chunks: &[Chunk],
    ) -> Result<Vec<T>, PersistError> {
        let mut rows = Vec::new();
        for chunk in chunks {
            rows.extend(self.read(Some(chunk))?);
        }
        Ok(rows)
    }
}

fn or_none<T>(read: Result<Vec<T>, PersistError>) -> Vec<T> {
    read.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "stored rows do not read back; answering without them");
        Vec::new()
    })
}

impl ChunkSource<Fact> for FactFile {
    fn load(&self, chunk: usize) -> Vec<Fact> {
        or_none(self.read(self.fact_chunks.get(chunk)))
    }
}

impl ChunkSource<Document> for FactFile {
    fn load(&self, chunk: usize) -> Vec<Document> {
        or_none(self.read(self.document_chunks.get(chunk)))
    }
}

/// Every table of the file at `path` read at once (a build takes the rows
/// of its unchanged documents from them), with what it stores besides.
pub fn read_all(path: &Path) -> Result<(SnapshotTables, Stored), PersistError> {
    let (header, file) = open(path)?;
    let facts: Vec<Fact> = file.read_chunks(&file.fact_chunks)?;
    let documents: Vec<Document> = file.read_chunks(&file.document_chunks)?;
    let document_hashes: Vec<String> = file.read_chunks(&file.hash_chunks)?;
    let tables = SnapshotTables {
        version: header.version,
        documents,
        facts,
        conflicts: file.read(Some(&file.conflict_chunk))?,
        problems: header.problems,
    };
    let stored = Stored {
        vocabulary: header.vocabulary,
        document_hashes,
    };
    Ok((tables, stored))
}

impl ChunkSource<String> for FactFile {
    fn load(&self, chunk: usize) -> Vec<String> {
        or_none(self.read(self.hash_chunks.get(chunk)))
    }
}

impl ChunkSource<Conflict> for FactFile {
    fn load(&self, _: usize) -> Vec<Conflict> {
        or_none(self.read(Some(&self.conflict_chunk)))
    }
}

/// The tables of an open file, each chunk read when first needed.
pub struct Opened {
    pub facts: FactTable,
    pub documents: Chunks<Document>,
    /// Each document's content hash, by document number.
    pub document_hashes: Chunks<String>,
    pub conflicts: Chunks<Conflict>,
}

impl Header {
    /// The tables of this header, each chunk read from `file` when first
    /// needed.
    pub fn tables(&self, file: FactFile) -> Opened {
        let file = Arc::new(file);
        Opened {
            documents: Chunks::stored(&counts(&self.document_chunks), file.clone()),
            document_hashes: Chunks::stored(&counts(&self.hash_chunks), file.clone()),
            conflicts: Chunks::stored(&[self.conflict_chunk.rows], file.clone()),
            facts: FactTable::stored(self.years.clone(), file),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::files;
    use crate::knowledge::snapshot::Snapshot;

    fn seeds() -> Snapshot {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        Snapshot::build_in_memory(&files::load(&dir).unwrap()).unwrap()
    }

    #[test]
    fn a_written_generation_reads_back_the_same_facts_documents_and_conflicts() {
        let snapshot = seeds();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FACTS_FILE);
        let hashes: Vec<String> = (0..snapshot.documents.len())
            .map(|i| format!("h{i}"))
            .collect();
        write(&path, &snapshot, &hashes, "vocabulary text").unwrap();
        let (header, file) = open(&path).unwrap();
        assert_eq!(header.version, snapshot.version);
        assert_eq!(header.vocabulary, "vocabulary text");
        let Opened {
            facts,
            documents,
            document_hashes,
            conflicts,
        } = header.tables(file);
        assert_eq!(
            document_hashes.iter().collect::<Vec<_>>(),
            hashes.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            conflicts.iter().collect::<Vec<_>>(),
            snapshot.conflicts.iter().collect::<Vec<_>>()
        );
        assert_eq!(
            documents.iter().collect::<Vec<_>>(),
            snapshot.documents.iter().collect::<Vec<_>>()
        );
        assert_eq!(facts.len(), snapshot.facts.len());
        for (read, built) in facts.iter().zip(snapshot.facts.iter()) {
            let quote = if built.sentence.is_some() {
                ""
            } else {
                built.quote.as_str()
            };
            assert_eq!(
                read,
                &Fact {
                    quote: quote.to_string(),
                    ..built.clone()
                }
            );
        }
    }

    #[test]
    fn a_damaged_file_is_an_error_naming_it_and_a_damaged_chunk_gives_no_rows() {
        let snapshot = seeds();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FACTS_FILE);
        write(
            &path,
            &snapshot,
            &vec![String::new(); snapshot.documents.len()],
            "",
        )
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let (header, file) = open(&path).expect("the header is whole");
        let Opened {
            facts, conflicts, ..
        } = header.tables(file);
        assert_eq!(conflicts.iter().count(), 0, "the cut chunk reads as none");
        assert!(facts.iter().count() > 0, "the other chunks still read");
        for cut in [0, 12, 40] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            let e = open(&path)
                .err()
                .expect("a cut header is an error")
                .to_string();
            assert!(e.contains(&path.display().to_string()), "{e}");
        }
    }
}
