//! index: "which passages are about these words, and what do they say?"
//! A tantivy index over the passages' normalized text, segmented by jieba
//! with the vocabulary's words added, one index directory per generation of
//! the data folder, written by its build (new, or a hard-linked copy of the
//! previous generation's with the changed documents deleted and added) and
//! then opened read-only. Each passage is stored with its sentences and its
//! document's key, so answering reads passage text from here, on demand.
//!
//! Invariant: queries are built in code from segmented terms, never parsed
//! from user text; a complete generation's index is never written.

use crate::domain::corpus::{Chunks, FoundPassage, PassageSearch};
use crate::domain::model::{Passage, Sentence};
use jieba_rs::Jieba;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tantivy::collector::TopDocs;
use tantivy::directory::error::{DeleteError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, STORED, STRING,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

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

/// Jieba with the vocabulary's words, shared by index and query time;
/// its dictionary is loaded when a text is first cut (a process that only
/// reads the fact table never loads it).
#[derive(Clone)]
pub struct Segmenter {
    inner: Arc<LazySegmenter>,
}

struct LazySegmenter {
    words: Vec<String>,
    jieba: std::sync::OnceLock<Jieba>,
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
        let words = words
            .into_iter()
            .filter(|w| w.chars().count() >= 2 && !w.contains(' '))
            .map(str::to_string)
            .collect();
        Segmenter {
            inner: Arc::new(LazySegmenter {
                words,
                jieba: std::sync::OnceLock::new(),
            }),
        }
    }

    fn jieba(&self) -> &Jieba {
        self.inner.jieba.get_or_init(|| {
            let mut jieba = Jieba::new();
            for w in &self.inner.words {
                jieba.add_word(w, Some(50_000), None);
            }
            jieba
        })
    }

    /// Search-mode words of a normalized text, without punctuation and
    /// white space.
    pub fn words<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.jieba()
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
            .jieba()
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

/// The passage index of one generation.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    segmenter: Segmenter,
    /// Document key (content hash) to its number in the corpus, made from
    /// `keys` on the first search.
    documents: std::sync::OnceLock<HashMap<String, usize>>,
    /// Each document's key, by number (a run of them read when first
    /// needed when opened from a generation).
    keys: Chunks<String>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SearchIndex")
    }
}

/// The fields of a passage. Each passage is two index documents, both
/// under its document's key (indexed whole, stored: what a changed
/// document is deleted by): one a search finds, by its words (indexed, not
/// stored), holding its sentences normalized (`body`); and one holding its
/// text as written (`written`), found by its sentences' numbers. A search
/// so decodes only the normalized text of the passages it finds, and the
/// text as written only of the passage an answer quotes.
#[derive(Debug, Clone, Copy)]
struct Fields {
    text: Field,
    doc: Field,
    body: Field,
    written: Field,
    /// `KEY#N` for each sentence N (numbered within its document) the
    /// passage holds (indexed whole, not stored, on the document as
    /// written): how a cited sentence is found.
    sentence: Field,
}

fn sentence_term(key: &str, sentence: usize) -> String {
    format!("{key}#{sentence}")
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = builder.add_text_field(
        "text",
        TextOptions::default().set_indexing_options(indexing),
    );
    let doc = builder.add_text_field("doc", STRING | STORED);
    let body = builder.add_text_field("body", STORED);
    let sentence = builder.add_text_field("sentence", STRING);
    let written = builder.add_text_field("written", STORED);
    (
        builder.build(),
        Fields {
            text,
            doc,
            body,
            written,
            sentence,
        },
    )
}

/// A passage as written, stored apart from what a search reads. Its text
/// as written is stored only when it is not its sentences joined (as it
/// nearly always is). Stored as text: a header, then records (see
/// `WrittenPassage::encode`).
#[derive(Debug, PartialEq)]
struct WrittenPassage {
    /// Its number within its document.
    i: usize,
    /// As written, when not its sentences joined by `j`.
    o: Option<String>,
    /// Its sentences are joined by a space (English), not directly.
    j: bool,
    /// Its sentences as written.
    s: Vec<String>,
    /// The number (within its document) of its first sentence.
    f: usize,
}

/// Separates the records of a stored passage: its header, its text as
/// written (when stored), then one per sentence.
const RECORD: char = '\u{1e}';
/// Separates the fields of the header.
const FIELD: char = '\u{1f}';

/// A text with the separators (control characters that cleaned text never
/// holds) made spaces, so that it always reads back as one record.
fn field(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains([RECORD, FIELD]) {
        std::borrow::Cow::Owned(text.replace([RECORD, FIELD], " "))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A stored passage's header (number, first sentence, flags) and the rest
/// of its records.
fn header(body: &str) -> Option<(usize, usize, &str, std::str::Split<'_, char>)> {
    let mut records = body.split(RECORD);
    let mut head = records.next()?.split(FIELD);
    let i = head.next()?.parse().ok()?;
    let f = head.next()?.parse().ok()?;
    let flags = head.next()?;
    Some((i, f, flags, records))
}

/// A stored text: the header `i FIELD f FIELD flags`, then a record for
/// each of `records`.
fn encode<'a>(i: usize, f: usize, flags: &str, records: impl Iterator<Item = &'a str>) -> String {
    let mut body = format!("{i}{FIELD}{f}{FIELD}{flags}");
    for r in records {
        body.push(RECORD);
        body.push_str(&field(r));
    }
    body
}

/// `parts` joined by a space (`spaced`) or directly.
fn joined<'a>(parts: impl Iterator<Item = &'a str>, spaced: bool) -> String {
    let mut text = String::new();
    for (i, part) in parts.enumerate() {
        if spaced && i > 0 {
            text.push(' ');
        }
        text.push_str(part);
    }
    text
}

impl WrittenPassage {
    fn new(i: usize, p: &Passage, sentences: &[Sentence]) -> WrittenPassage {
        let s: Vec<String> = sentences.iter().map(|s| s.original.clone()).collect();
        let direct = joined(s.iter().map(String::as_str), false);
        let j = p.original != direct && p.original == joined(s.iter().map(String::as_str), true);
        let o = (!j && p.original != direct).then(|| p.original.clone());
        WrittenPassage {
            i,
            o,
            j,
            s,
            f: p.first_sentence,
        }
    }

    /// The stored text: the header with flags j (joined by a space) and o
    /// (text as written stored), then a record for o when stored, then one
    /// for each sentence.
    fn encode(&self) -> String {
        let flags = match (self.j, self.o.is_some()) {
            (true, _) => "j",
            (false, true) => "o",
            (false, false) => "",
        };
        let records = self.o.iter().chain(&self.s).map(String::as_str);
        encode(self.i, self.f, flags, records)
    }

    fn decode(body: &str) -> Option<WrittenPassage> {
        let (i, f, flags, mut records) = header(body)?;
        let o = match flags.contains('o') {
            true => Some(records.next()?.to_string()),
            false => None,
        };
        Some(WrittenPassage {
            i,
            o,
            j: flags.contains('j'),
            s: records.map(str::to_string).collect(),
            f,
        })
    }

    fn original(self) -> String {
        let j = self.j;
        self.o
            .unwrap_or_else(|| joined(self.s.iter().map(String::as_str), j))
    }
}

/// What a search reads of a passage: its sentences normalized, under a
/// header whose flag j says they are joined by a space (English).
fn searched_body(i: usize, p: &Passage, sentences: &[Sentence]) -> String {
    let spaced = sentences.len() > 1
        && p.normalized == joined(sentences.iter().map(|s| s.normalized.as_str()), true);
    let records = sentences.iter().map(|s| s.normalized.as_str());
    encode(i, p.first_sentence, if spaced { "j" } else { "" }, records)
}

/// A found passage from what `searched_body` wrote: its sentences joined,
/// and where each lies in the text.
fn found_text(body: &str) -> Option<(usize, String, Vec<std::ops::Range<usize>>)> {
    let (_, f, flags, records) = header(body)?;
    let joiner = if flags.contains('j') { " " } else { "" };
    let mut text = String::with_capacity(body.len());
    let mut sentences = Vec::new();
    for (k, r) in records.enumerate() {
        if k > 0 {
            text.push_str(joiner);
        }
        let start = text.len();
        text.push_str(r);
        sentences.push(start..text.len());
    }
    Some((f, text, sentences))
}

/// A document's passages, each with its sentences, to be indexed under the
/// document's key.
pub struct DocumentPassages<'a> {
    pub key: &'a str,
    pub passages: &'a [Passage],
    pub sentences: &'a [Sentence],
}

/// Writes one generation's index: a new one, or a copy of the previous
/// generation's with some documents deleted and others added.
pub struct IndexBuilder {
    index: Index,
    writer: IndexWriter,
    fields: Fields,
    path: PathBuf,
    segmenter: Segmenter,
}

impl IndexBuilder {
    fn err(&self) -> impl Fn(tantivy::TantivyError) -> IndexError + '_ {
        |source| IndexError::Tantivy {
            path: self.path.clone(),
            source,
        }
    }

    /// Adds a document's passages (the writer's threads segment them):
    /// two index documents for each (see `Fields`).
    pub fn add(&self, document: &DocumentPassages<'_>) -> Result<(), IndexError> {
        for (i, p) in document.passages.iter().enumerate() {
            let sentences =
                &document.sentences[p.first_sentence..p.first_sentence + p.sentence_count];
            let searched = doc!(
                self.fields.text => p.normalized.as_str(),
                self.fields.doc => document.key,
                self.fields.body => searched_body(i, p, sentences),
            );
            self.writer.add_document(searched).map_err(self.err())?;
            let mut passage = doc!(
                self.fields.doc => document.key,
                self.fields.written => WrittenPassage::new(i, p, sentences).encode(),
            );
            for n in p.first_sentence..p.first_sentence + p.sentence_count {
                passage.add_text(self.fields.sentence, sentence_term(document.key, n));
            }
            self.writer.add_document(passage).map_err(self.err())?;
        }
        Ok(())
    }

    /// A small index's segments (one per writer thread, and one more per
    /// update) merged into one: a search looks its words up and scores
    /// them once per segment, so one segment answers fastest. A large
    /// index is left to tantivy's merge policy, as merging it all would
    /// make every small update as slow as a full build.
    fn merge_if_small(&mut self) -> Result<(), IndexError> {
        let metas = self.index.searchable_segment_metas().map_err(self.err())?;
        let documents: u32 = metas.iter().map(|m| m.num_docs()).sum();
        if metas.len() < 2 || documents as usize / 2 > MERGE_BELOW_PASSAGES {
            return Ok(());
        }
        let ids: Vec<_> = metas.iter().map(|m| m.id()).collect();
        // A segment's files are kept while anything holds its meta: these
        // go first, so that the merge removes the merged segments' files
        // (else they would stay, linked into every later generation).
        drop(metas);
        self.writer.merge(&ids).wait().map_err(self.err())?;
        Ok(())
    }

    /// Deletes every passage of the document with this key.
    pub fn delete(&self, key: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.doc, key));
    }

    /// Commits (all files synced) and opens the result for searching, with
    /// the corpus's documents by key.
    pub fn finish(mut self, documents: &[&str]) -> Result<SearchIndex, IndexError> {
        self.writer.commit().map_err(self.err())?;
        self.merge_if_small()?;
        let IndexBuilder {
            index,
            writer,
            path,
            segmenter,
            ..
        } = self;
        writer
            .wait_merging_threads()
            .map_err(|source| IndexError::Tantivy {
                path: path.clone(),
                source,
            })?;
        let keys = Chunks::loaded(vec![documents.iter().map(|k| k.to_string()).collect()]);
        SearchIndex::from_index(index, &path, segmenter, keys)
    }
}

/// An index of at most this many passages (a few hundred documents) is
/// kept in one segment.
const MERGE_BELOW_PASSAGES: usize = 20_000;

/// Indexing memory for the writer's threads together.
const WRITER_MEMORY: usize = 120_000_000;

fn writer_for(index: &Index, path: &Path) -> Result<IndexWriter, IndexError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    index
        .writer_with_num_threads(threads, WRITER_MEMORY.max(threads * 20_000_000))
        .map_err(|source| IndexError::Tantivy {
            path: path.to_path_buf(),
            source,
        })
}

/// Tantivy's lock files, never carried from one generation to the next.
fn is_lock_file(name: &str) -> bool {
    name.ends_with(".lock")
}

impl SearchIndex {
    /// A new index in `dir` (created), or in memory when `dir` is None.
    pub fn create(dir: Option<&Path>, segmenter: Segmenter) -> Result<IndexBuilder, IndexError> {
        let (schema, fields) = schema();
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
        let writer = writer_for(&index, &path)?;
        Ok(IndexBuilder {
            index,
            writer,
            fields,
            path,
            segmenter,
        })
    }

    /// A copy of the complete index in `previous`, in `dir` (created), to
    /// be changed: its files are hard links (tantivy never changes a file
    /// once written: it writes new ones and renames its meta files into
    /// place), copies where links cannot be made; `previous` is never
    /// written.
    pub fn update(
        previous: &Path,
        dir: &Path,
        segmenter: Segmenter,
    ) -> Result<IndexBuilder, IndexError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| IndexError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for entry in std::fs::read_dir(previous).map_err(io(previous))? {
            let entry = entry.map_err(io(previous))?;
            let name = entry.file_name();
            if is_lock_file(&name.to_string_lossy()) {
                continue;
            }
            let (from, to) = (entry.path(), dir.join(&name));
            if std::fs::hard_link(&from, &to).is_err() {
                std::fs::copy(&from, &to).map_err(io(&to))?;
            }
        }
        let err = |source| IndexError::Tantivy {
            path: dir.to_path_buf(),
            source,
        };
        let index = Index::open_in_dir(dir).map_err(err)?;
        index.tokenizers().register(TOKENIZER, segmenter.clone());
        let writer = writer_for(&index, dir)?;
        let (_, fields) = schema();
        Ok(IndexBuilder {
            index,
            writer,
            fields,
            path: dir.to_path_buf(),
            segmenter,
        })
    }

    /// Opens an index that a builder wrote, without writing anything into
    /// its directory (no lock files: a complete generation never changes,
    /// and may sit on a read-only volume); `documents` are the corpus's
    /// document keys in order.
    pub fn open(
        dir: &Path,
        segmenter: Segmenter,
        documents: Chunks<String>,
    ) -> Result<SearchIndex, IndexError> {
        let err = |source| IndexError::Tantivy {
            path: dir.to_path_buf(),
            source,
        };
        let mmap = MmapDirectory::open(dir).map_err(|e| err(e.into()))?;
        let index = Index::open(ReadOnlyDirectory(mmap)).map_err(err)?;
        index.tokenizers().register(TOKENIZER, segmenter.clone());
        Self::from_index(index, dir, segmenter, documents)
    }

    fn from_index(
        index: Index,
        path: &Path,
        segmenter: Segmenter,
        keys: Chunks<String>,
    ) -> Result<SearchIndex, IndexError> {
        let (_, fields) = schema();
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
            fields,
            segmenter,
            documents: std::sync::OnceLock::new(),
            keys,
        })
    }

    /// Document numbers by key.
    fn numbers(&self) -> &HashMap<String, usize> {
        self.documents
            .get_or_init(|| self.keys.numbered().map(|(i, k)| (k.clone(), i)).collect())
    }

    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// How many passages the index holds.
    pub fn passage_count(&self) -> usize {
        // Two index documents for each passage.
        self.reader.searcher().num_docs() as usize / 2
    }

    /// The best passages for these (normalized) words, best first, with
    /// their BM25 scores and their text. Unknown words simply match nothing.
    pub fn search(&self, words: &[&str], limit: usize) -> Vec<FoundPassage> {
        let clauses: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .map(|w| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(self.fields.text, w),
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
        let top = TopDocs::with_limit(limit).order_by_score();
        let statistics = PassageStatistics(&searcher);
        let Ok(top) = searcher.search_with_statistics_provider(&query, &top, &statistics) else {
            return Vec::new();
        };
        top.into_iter()
            .filter_map(|(score, address)| {
                let (doc, (first_sentence, normalized, sentences)) =
                    self.stored(&searcher.doc(address).ok()?, self.fields.body, found_text)?;
                Some(FoundPassage {
                    doc,
                    score,
                    normalized,
                    sentences,
                    first_sentence,
                })
            })
            .collect()
    }

    /// What a stored passage holds in `field` (decoded by `decode`), with
    /// its document's number; None when it holds nothing there (the other
    /// document of the passage).
    fn stored<T>(
        &self,
        doc: &TantivyDocument,
        field: Field,
        decode: impl Fn(&str) -> Option<T>,
    ) -> Option<(usize, T)> {
        let key = doc.get_first(self.fields.doc)?.as_str()?;
        let number = *self.numbers().get(key)?;
        let body = doc.get_first(field)?.as_str()?;
        Some((number, decode(body)?))
    }

    /// The passages of document `doc`, as written, in order.
    pub fn passages_of(&self, doc: usize) -> Vec<String> {
        self.stored_passages(doc)
            .into_iter()
            .map(WrittenPassage::original)
            .collect()
    }

    /// Document `doc`'s passages as written, in order.
    fn stored_passages(&self, doc: usize) -> Vec<WrittenPassage> {
        let Some(key) = self.keys.get(doc) else {
            return Vec::new();
        };
        let query = TermQuery::new(
            Term::from_field_text(self.fields.doc, key),
            IndexRecordOption::Basic,
        );
        let searcher = self.reader.searcher();
        let Ok(found) = searcher.search(&query, &tantivy::collector::DocSetCollector) else {
            return Vec::new();
        };
        let mut passages: Vec<WrittenPassage> = found
            .into_iter()
            .filter_map(|address| {
                let doc = searcher.doc(address).ok()?;
                self.stored(&doc, self.fields.written, WrittenPassage::decode)
            })
            .map(|(_, p)| p)
            .collect();
        passages.sort_by_key(|p| p.i);
        passages
    }

    /// Sentences `sentences` (numbered within document `doc`) as written,
    /// as far as the passage holding the first of them goes.
    fn written(&self, doc: usize, sentences: std::ops::Range<usize>) -> Option<Vec<String>> {
        let key = self.keys.get(doc)?;
        let query = TermQuery::new(
            Term::from_field_text(self.fields.sentence, &sentence_term(key, sentences.start)),
            IndexRecordOption::Basic,
        );
        let searcher = self.reader.searcher();
        let found = searcher
            .search(&query, &tantivy::collector::DocSetCollector)
            .ok()?;
        let address = found.into_iter().next()?;
        let doc = searcher.doc(address).ok()?;
        let (_, passage) = self.stored(&doc, self.fields.written, WrittenPassage::decode)?;
        let from = sentences.start.checked_sub(passage.f)?;
        Some(
            passage
                .s
                .into_iter()
                .skip(from)
                .take(sentences.len())
                .collect(),
        )
    }
}

/// BM25's statistics over passages: the index holds two documents for
/// each (see `Fields`), only one of them with words, so that without this
/// every word would look rarer and every passage shorter than it is.
struct PassageStatistics<'s>(&'s tantivy::Searcher);

impl tantivy::query::Bm25StatisticsProvider for PassageStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.0.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.0.total_num_docs()? / 2)
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.0.doc_freq(term)
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

    fn sentences(&self, doc: usize, sentences: std::ops::Range<usize>) -> Vec<String> {
        self.written(doc, sentences).unwrap_or_default()
    }

    fn search(&self, words: &[&str], limit: usize) -> Vec<FoundPassage> {
        SearchIndex::search(self, words, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences_of(sentences: &[(&str, &str)]) -> Vec<Sentence> {
        sentences
            .iter()
            .map(|(o, n)| Sentence {
                doc: 0,
                passage: 0,
                original: o.to_string(),
                normalized: n.to_string(),
            })
            .collect()
    }

    fn passage_of(original: &str, normalized: &str, count: usize) -> Passage {
        Passage {
            doc: 0,
            original: original.into(),
            normalized: normalized.into(),
            first_sentence: 0,
            sentence_count: count,
        }
    }

    /// The passage as written and as a search reads it, each stored and
    /// read back.
    fn stored(
        original: &str,
        normalized: &str,
        sentences: &[(&str, &str)],
    ) -> (WrittenPassage, String, Vec<String>) {
        let p = passage_of(original, normalized, sentences.len());
        let sentences = sentences_of(sentences);
        let written = WrittenPassage::decode(&WrittenPassage::new(0, &p, &sentences).encode());
        let (_, text, ranges) = found_text(&searched_body(0, &p, &sentences)).unwrap();
        let searched = ranges.iter().map(|r| text[r.clone()].to_string()).collect();
        (written.unwrap(), text, searched)
    }

    #[test]
    fn a_stored_passage_gives_back_its_text_whether_or_not_it_is_its_sentences_joined() {
        let cases = [
            (
                "海关扣留。共4万批。",
                "海关扣留。共4万批。",
                vec![("海关扣留。", "海关扣留。"), ("共4万批。", "共4万批。")],
            ),
            (
                "Customs acted. It detained 40,000.",
                "customs acted. it detained 40,000.",
                vec![
                    ("Customs acted.", "customs acted."),
                    ("It detained 40,000.", "it detained 40,000."),
                ],
            ),
            (
                "知識產權 保護",
                "知识产权 保护",
                vec![("知識產權", "知识产权"), ("保護", "保护")],
            ),
            ("甲\n乙", "甲 乙", vec![("甲", "甲"), ("乙", "乙")]),
        ];
        for (original, normalized, sentences) in cases {
            let (written, text, searched) = stored(original, normalized, &sentences);
            let as_written: Vec<&str> = sentences.iter().map(|s| s.0).collect();
            let as_normalized: Vec<&str> = sentences.iter().map(|s| s.1).collect();
            assert_eq!(written.s, as_written);
            assert_eq!(searched, as_normalized);
            assert_eq!(text, normalized, "{original}");
            assert_eq!(written.original(), original);
        }
        let (joined, _, _) = stored(
            "甲。乙。",
            "甲。乙。",
            &[("甲。", "甲。"), ("乙。", "乙。")],
        );
        assert!(joined.o.is_none(), "stored once");
    }

    #[test]
    fn a_stored_passage_reads_back_whatever_its_text_holds_and_a_cut_one_reads_as_none() {
        let odd = "甲\u{1e}乙\u{1f}。";
        let (written, _, searched) = stored(odd, odd, &[(odd, odd), ("", "")]);
        assert_eq!(
            written.s[0], "甲 乙 。",
            "separators in the text read back as spaces"
        );
        assert_eq!(searched[0], "甲 乙 。");
        assert_eq!((written.s.len(), searched.len()), (2, 2));
        let p = passage_of(odd, odd, 2);
        let sentences = sentences_of(&[(odd, odd), ("", "")]);
        for body in [
            WrittenPassage::new(0, &p, &sentences).encode(),
            searched_body(0, &p, &sentences),
        ] {
            for cut in (0..body.len()).filter(|&i| body.is_char_boundary(i)) {
                // Never a panic; what reads back is a passage or nothing.
                let _ = WrittenPassage::decode(&body[..cut]);
                let _ = found_text(&body[..cut]);
            }
        }
        assert!(WrittenPassage::decode("").is_none());
        assert!(WrittenPassage::decode("x\u{1f}0\u{1f}").is_none());
        assert!(found_text("").is_none());
    }

    /// Writes one passage per text under `key` into `builder`.
    fn add_texts(builder: &IndexBuilder, key: &str, texts: &[&str]) {
        let sentences: Vec<Sentence> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Sentence {
                doc: 0,
                passage: i,
                original: t.to_string(),
                normalized: t.to_string(),
            })
            .collect();
        let passages: Vec<Passage> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Passage {
                doc: 0,
                original: t.to_string(),
                normalized: t.to_string(),
                first_sentence: i,
                sentence_count: 1,
            })
            .collect();
        let document = DocumentPassages {
            key,
            passages: &passages,
            sentences: &sentences,
        };
        builder.add(&document).unwrap();
    }

    #[test]
    fn a_passage_scores_as_it_would_were_it_the_only_document_of_its_passage() {
        let segmenter = Segmenter::new(["海关", "扣留", "侵权"]);
        let texts = ["海关扣留侵权货物", "海关", "扣留", "海关扣留扣留"];
        let builder = SearchIndex::create(None, segmenter.clone()).unwrap();
        add_texts(&builder, "a", &texts);
        let index = builder.finish(&["a"]).unwrap();
        let mut scores: Vec<f32> = index
            .search(&["扣留"], 10)
            .iter()
            .map(|p| p.score)
            .collect();
        // The same passages, one plain tantivy document each.
        let (schema, fields) = schema();
        let plain = Index::create_in_ram(schema);
        plain.tokenizers().register(TOKENIZER, segmenter);
        let mut writer: IndexWriter = plain.writer_with_num_threads(1, 15_000_000).unwrap();
        for t in texts {
            writer.add_document(doc!(fields.text => t)).unwrap();
        }
        writer.commit().unwrap();
        let query = TermQuery::new(
            Term::from_field_text(fields.text, "扣留"),
            IndexRecordOption::WithFreqs,
        );
        let top = TopDocs::with_limit(10).order_by_score();
        let found = plain
            .reader()
            .unwrap()
            .searcher()
            .search(&query, &top)
            .unwrap();
        let mut expected: Vec<f32> = found.iter().map(|(s, _)| *s).collect();
        scores.sort_by(f32::total_cmp);
        expected.sort_by(f32::total_cmp);
        assert_eq!(scores.len(), 3);
        for (got, want) in scores.iter().zip(&expected) {
            assert!((got - want).abs() < 1e-4, "{scores:?} against {expected:?}");
        }
    }

    #[test]
    fn a_small_index_is_searched_as_one_segment_after_a_build_and_after_an_update() {
        let segmenter = Segmenter::new(["海关", "扣留"]);
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("1"), dir.path().join("2"));
        let builder = SearchIndex::create(Some(&first), segmenter.clone()).unwrap();
        for (key, text) in [
            ("a", "海关扣留甲"),
            ("b", "海关扣留乙"),
            ("c", "海关扣留丙"),
        ] {
            add_texts(&builder, key, &[text, "海关"]);
        }
        let built = builder.finish(&["a", "b", "c"]).unwrap();
        assert_eq!(built.reader.searcher().segment_readers().len(), 1);
        drop(built);
        let builder = SearchIndex::update(&first, &second, segmenter).unwrap();
        builder.delete("b");
        add_texts(&builder, "d", &["海关扣留丁"]);
        let updated = builder.finish(&["a", "c", "d"]).unwrap();
        assert_eq!(updated.reader.searcher().segment_readers().len(), 1);
        let segments: std::collections::BTreeSet<String> = std::fs::read_dir(&second)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                let (stem, _) = name.split_once('.')?;
                (stem.len() == 32).then(|| stem.to_string())
            })
            .collect();
        assert_eq!(segments.len(), 1, "the merged segments' files are gone");
        let found: Vec<usize> = updated
            .search(&["扣留"], 10)
            .iter()
            .map(|p| p.doc)
            .collect();
        assert_eq!(found.len(), 3, "a, c and d, not the deleted b: {found:?}");
        assert_eq!(updated.passage_count(), 5);
    }
}
