//! index: "which passages are about these words?" A tantivy index over the
//! passages' normalized text, segmented by jieba with the vocabulary's
//! words added, one index directory per generation of the data folder,
//! written once by the build and then opened read-only.
//!
//! Invariant: the index stores passage numbers only; the text lives in the
//! snapshot. Queries are built in code from segmented terms, never parsed
//! from user text.

use crate::domain::corpus::PassageSearch;
use crate::domain::model::Passage;
use jieba_rs::Jieba;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use tantivy::collector::TopDocs;
use tantivy::directory::error::{DeleteError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, STORED,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

const TOKENIZER: &str = "jieba_words";

/// Why the search index could not be built or opened.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed (corrupt directory, disk full, …).
    #[error("search index at {path}: {source}")]
    Tantivy {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    /// The index directory could not be created or removed.
    #[error("search index at {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

static BASE_JIEBA: LazyLock<Jieba> = LazyLock::new(Jieba::new);

/// Jieba with the vocabulary's words, shared by index and query time.
#[derive(Clone)]
pub struct Segmenter {
    jieba: Arc<Jieba>,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segmenter")
    }
}

impl Segmenter {
    /// Jieba's dictionary plus `words` (normalized), each frequent enough to
    /// be kept whole.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Segmenter {
        let mut jieba = BASE_JIEBA.clone();
        for w in words {
            if w.chars().count() >= 2 && !w.contains(' ') {
                jieba.add_word(w, Some(50_000), None);
            }
        }
        Segmenter {
            jieba: Arc::new(jieba),
        }
    }

    /// Search-mode words of a normalized text, without punctuation and
    /// white space.
    pub fn words<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.jieba
            .cut_for_search(text, true)
            .into_iter()
            .map(|t| t.word)
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect()
    }
}

impl Tokenizer for Segmenter {
    type TokenStream<'a> = WordStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream {
        let tokens: Vec<Token> = self
            .jieba
            .cut_for_search(text, true)
            .into_iter()
            .filter(|t| t.word.chars().any(char::is_alphanumeric))
            .map(|t| Token {
                offset_from: t.byte_start,
                offset_to: t.byte_start + t.word.len(),
                position: t.start,
                text: t.word.to_string(),
                position_length: 1,
            })
            .collect();
        WordStream { tokens, next: 0 }
    }
}

pub struct WordStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for WordStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// The passage index of one knowledge version.
pub struct SearchIndex {
    reader: IndexReader,
    text: Field,
    passage: Field,
    segmenter: Segmenter,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SearchIndex")
    }
}

fn schema() -> (Schema, Field, Field) {
    let mut builder = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = builder.add_text_field(
        "text",
        TextOptions::default().set_indexing_options(indexing),
    );
    let passage = builder.add_u64_field("passage", STORED | FAST);
    (builder.build(), text, passage)
}

impl SearchIndex {
    /// Builds the index in `dir` (created), or in memory when `dir` is None.
    pub fn build(
        dir: Option<&Path>,
        passages: &[Passage],
        segmenter: Segmenter,
    ) -> Result<SearchIndex, IndexError> {
        let (schema, text, passage) = schema();
        let path = dir.map(Path::to_path_buf).unwrap_or_default();
        let err = |source| IndexError::Tantivy {
            path: path.clone(),
            source,
        };
        let index = match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|source| IndexError::Io {
                    path: d.to_path_buf(),
                    source,
                })?;
                Index::create_in_dir(d, schema).map_err(err)?
            }
            None => Index::create_in_ram(schema),
        };
        index.tokenizers().register(TOKENIZER, segmenter.clone());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).map_err(err)?;
        for (i, p) in passages.iter().enumerate() {
            writer
                .add_document(doc!(text => p.normalized.as_str(), passage => i as u64))
                .map_err(err)?;
        }
        writer.commit().map_err(err)?;
        drop(writer);
        Self::from_index(index, &path, segmenter)
    }

    /// Opens an index that `build` wrote, without writing anything into
    /// its directory (no lock files: a complete generation never changes,
    /// and may sit on a read-only volume).
    pub fn open(dir: &Path, segmenter: Segmenter) -> Result<SearchIndex, IndexError> {
        let err = |source| IndexError::Tantivy {
            path: dir.to_path_buf(),
            source,
        };
        let mmap = MmapDirectory::open(dir).map_err(|e| err(e.into()))?;
        let index = Index::open(ReadOnlyDirectory(mmap)).map_err(err)?;
        index.tokenizers().register(TOKENIZER, segmenter.clone());
        Self::from_index(index, dir, segmenter)
    }

    fn from_index(
        index: Index,
        path: &Path,
        segmenter: Segmenter,
    ) -> Result<SearchIndex, IndexError> {
        let (_, text, passage) = schema();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|source| IndexError::Tantivy {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(SearchIndex {
            reader,
            text,
            passage,
            segmenter,
        })
    }

    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// The best passages for these (normalized) words, best first, with
    /// their BM25 scores. Unknown words simply match nothing.
    pub fn search(&self, words: &[&str], limit: usize) -> Vec<(usize, f32)> {
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .map(|w| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(self.text, w),
                    IndexRecordOption::WithFreqs,
                ));
                (Occur::Should, q)
            })
            .collect();
        if clauses.is_empty() {
            return Vec::new();
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let Ok(top) = searcher.search(&query, &TopDocs::with_limit(limit).order_by_score()) else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(address).ok()?;
                let id = doc.get_first(self.passage)?.as_u64()?;
                Some((id as usize, score))
            })
            .collect()
    }
}

/// A complete index opened for reading only: every write is refused and
/// locks are not taken (nothing ever writes a complete generation).
#[derive(Debug, Clone)]
struct ReadOnlyDirectory(MmapDirectory);

fn read_only_error() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "a complete generation is read-only",
    )
}

impl Directory for ReadOnlyDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.0.get_file_handle(path)
    }
    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        Err(DeleteError::IoError {
            io_error: Arc::new(read_only_error()),
            filepath: path.to_path_buf(),
        })
    }
    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.0.exists(path)
    }
    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        Err(OpenWriteError::IoError {
            io_error: Arc::new(read_only_error()),
            filepath: path.to_path_buf(),
        })
    }
    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.0.atomic_read(path)
    }
    fn atomic_write(&self, _path: &Path, _data: &[u8]) -> std::io::Result<()> {
        Err(read_only_error())
    }
    fn sync_directory(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn acquire_lock(
        &self,
        _lock: &Lock,
    ) -> Result<DirectoryLock, tantivy::directory::error::LockError> {
        Ok(DirectoryLock::from(Box::new(())))
    }
    fn watch(&self, _callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(WatchHandle::empty())
    }
}

impl PassageSearch for SearchIndex {
    fn segment<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.segmenter.words(text)
    }

    fn search(&self, words: &[&str], limit: usize) -> Vec<(usize, f32)> {
        SearchIndex::search(self, words, limit)
    }
}
