//! corpus: "what does one generation of the knowledge hold?" Its documents,
//! facts and conflicts as plain data, the questions answering asks of them
//! (which years, which periods), and the passage search answering needs,
//! as a trait the search index implements: passages and their sentences
//! are not held here but found, text included, when an answer needs them.
//!
//! Invariant: pure; passages are reached only through [`PassageSearch`],
//! so answering never sees how (or where) passages are kept.

use crate::domain::model::{
    Conflict, Document, Fact, PeriodKind, Scope, QUALIFIER_DIM, RELEASE_DIM,
};
use crate::domain::vocabulary::Vocabulary;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeSet;

/// The tables of one knowledge generation.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The knowledge version (content hash of the folder).
    pub version: String,
    pub vocabulary: Vocabulary,
    /// The documents' metadata, by document number (a run of them read
    /// when first needed when opened from a generation).
    pub documents: Chunks<Document>,
    /// How many passages the search holds.
    pub passage_count: usize,
    /// The facts, by year (each year's read when first needed when the
    /// table was opened from a generation).
    pub facts: FactTable,
    /// Each document's title normalized, made on first use
    /// (`normalized_title`).
    pub normalized_titles: Vec<std::sync::OnceLock<String>>,
    /// Figures of one frame that disagree (one chunk, read when first
    /// needed when opened from a generation).
    pub conflicts: Chunks<Conflict>,
    /// Knowledge files that could not be read, with path and reason.
    pub problems: Vec<String>,
}

/// Gives one chunk of a stored table's rows (a year's facts, a run of
/// documents) when answering first needs them; a generation's file
/// implements it.
pub trait ChunkSource<T>: Send + Sync {
    /// The rows of chunk `chunk`, in order; empty when they cannot be read
    /// (the source says why).
    fn load(&self, chunk: usize) -> Vec<T>;
}

/// Rows numbered from 0, kept in chunks, each read from its source when
/// first needed (or all given at once, as a build gives them).
pub struct Chunks<T> {
    /// Each chunk's first row number and row count.
    bounds: Vec<(usize, usize)>,
    rows: Vec<std::sync::OnceLock<Vec<T>>>,
    len: usize,
    source: Option<std::sync::Arc<dyn ChunkSource<T>>>,
}

impl<T: Clone> Clone for Chunks<T> {
    fn clone(&self) -> Self {
        Chunks {
            bounds: self.bounds.clone(),
            rows: self.rows.clone(),
            len: self.len,
            source: self.source.clone(),
        }
    }
}

impl<T> Default for Chunks<T> {
    fn default() -> Self {
        Chunks {
            bounds: Vec::new(),
            rows: Vec::new(),
            len: 0,
            source: None,
        }
    }
}

impl<T> std::fmt::Debug for Chunks<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chunks")
            .field("len", &self.len)
            .field("chunks", &self.bounds.len())
            .finish()
    }
}

impl<T> Chunks<T> {
    /// Rows given now, chunk by chunk.
    pub fn loaded(chunks: Vec<Vec<T>>) -> Chunks<T> {
        let mut table = Chunks::default();
        for rows in chunks {
            table.bounds.push((table.len, rows.len()));
            table.len += rows.len();
            table.rows.push(std::sync::OnceLock::from(rows));
        }
        table
    }

    /// Chunks of these row counts, read from `source` when first needed.
    pub fn stored(counts: &[usize], source: std::sync::Arc<dyn ChunkSource<T>>) -> Chunks<T> {
        let mut table = Chunks {
            source: Some(source),
            ..Chunks::default()
        };
        for &count in counts {
            table.bounds.push((table.len, count));
            table.len += count;
            table.rows.push(Default::default());
        }
        table
    }

    /// How many chunks there are.
    pub fn chunk_count(&self) -> usize {
        self.bounds.len()
    }

    /// The rows of chunk `k` (read now when they were not yet).
    pub fn chunk(&self, k: usize) -> &[T] {
        let Some(cell) = self.rows.get(k) else {
            return &[];
        };
        cell.get_or_init(|| {
            let rows = match &self.source {
                Some(source) => source.load(k),
                None => Vec::new(),
            };
            // Rows that do not match their chunk would be misnumbered.
            if rows.len() == self.bounds[k].1 {
                rows
            } else {
                Vec::new()
            }
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row number `i`.
    pub fn get(&self, i: usize) -> Option<&T> {
        let k = self
            .bounds
            .partition_point(|&(start, count)| start + count <= i);
        let &(start, _) = self.bounds.get(k)?;
        self.chunk(k).get(i.checked_sub(start)?)
    }

    /// Every row in number order (reads every chunk).
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        (0..self.bounds.len()).flat_map(|k| self.chunk(k).iter())
    }

    /// Every row with its number (reads every chunk).
    pub fn numbered(&self) -> impl Iterator<Item = (usize, &T)> + '_ {
        (0..self.bounds.len()).flat_map(move |k| {
            let start = self.bounds[k].0;
            self.chunk(k)
                .iter()
                .enumerate()
                .map(move |(j, row)| (start + j, row))
        })
    }
}

impl<T> std::ops::Index<usize> for Chunks<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        self.get(i).expect("a row number of this table")
    }
}

/// What the table knows of one year without reading its rows: how many
/// it has and what the year lists and summaries ask of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearEntry {
    pub year: u16,
    pub count: usize,
    /// The kinds of period it has nationwide figures for, ordered.
    pub nationwide_kinds: Vec<PeriodKind>,
    /// The metrics with a nationwide full-year figure of no dimension.
    pub plain_metrics: Vec<String>,
}

/// The fact table: facts numbered by year, then metric and dimensions
/// (`row_key`), then the order the build gave them, one chunk a year, so
/// that a question about one year, metric and dimensions reads one run of
/// one year.
#[derive(Debug, Clone, Default)]
pub struct FactTable {
    entries: Vec<YearEntry>,
    rows: Chunks<Fact>,
}

impl std::ops::Deref for FactTable {
    type Target = Chunks<Fact>;
    fn deref(&self) -> &Chunks<Fact> {
        &self.rows
    }
}

/// A passage the search found for some words, with its normalized text
/// (its text as written is read only for the passage an answer quotes).
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPassage {
    /// Index into the corpus's documents.
    pub doc: usize,
    /// The search's score (BM25).
    pub score: f32,
    /// The passage's normalized text: its sentences joined.
    pub normalized: String,
    /// Where each of its sentences lies in `normalized`.
    pub sentences: Vec<std::ops::Range<usize>>,
    /// The number (within its document) of its first sentence.
    pub first_sentence: usize,
}

impl FoundPassage {
    /// Its sentence `i` (from 0), normalized.
    pub fn sentence(&self, i: usize) -> &str {
        self.sentences
            .get(i)
            .and_then(|r| self.normalized.get(r.clone()))
            .unwrap_or("")
    }
}

/// Finds passages for words, and cuts text into the words it finds by.
pub trait PassageSearch: Send + Sync {
    /// A normalized text cut into words as the search cuts passages.
    fn segment<'t>(&self, text: &'t str) -> Vec<&'t str>;
    /// Passages for these (normalized) words, best first, with their text.
    fn search(&self, words: &[&str], limit: usize) -> Vec<FoundPassage>;
    /// Sentences `sentences` (numbered within document `doc`) as written,
    /// as far as the passage holding the first of them goes.
    fn sentences(&self, doc: usize, sentences: std::ops::Range<usize>) -> Vec<String>;
}

/// What answering reads: the corpus and a search over its passages.
#[derive(Clone, Copy)]
pub struct Knowledge<'a> {
    pub corpus: &'a Corpus,
    pub passages_search: &'a dyn PassageSearch,
}

impl std::ops::Deref for Knowledge<'_> {
    type Target = Corpus;
    fn deref(&self) -> &Corpus {
        self.corpus
    }
}

impl Knowledge<'_> {
    /// The sentence a fact cites, as written: kept on the fact, or read
    /// from the search ("" when neither has it).
    pub fn quote<'f>(&self, f: &'f Fact) -> std::borrow::Cow<'f, str> {
        if !f.quote.is_empty() {
            return std::borrow::Cow::Borrowed(&f.quote);
        }
        f.sentence
            .and_then(|s| self.passages_search.sentences(f.doc, s..s + 1).pop())
            .map_or(std::borrow::Cow::Borrowed(""), std::borrow::Cow::Owned)
    }

    /// Sentences `sentences` of document `doc` as written, as far as the
    /// passage holding the first of them goes.
    pub fn sentences(&self, doc: usize, sentences: std::ops::Range<usize>) -> Vec<String> {
        self.passages_search.sentences(doc, sentences)
    }

    /// Segments a normalized text as the search does.
    pub fn segment<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.passages_search.segment(text)
    }

    /// Passages for these words, best first, with their text.
    pub fn search(&self, words: &[&str], limit: usize) -> Vec<FoundPassage> {
        self.passages_search.search(words, limit)
    }
}

/// A fact's dimensions as a question names them: without the release and
/// the qualifier.
fn key_dims(f: &Fact) -> impl Iterator<Item = &(String, String)> + Clone {
    f.dims
        .iter()
        .filter(|(k, _)| k != RELEASE_DIM && k != QUALIFIER_DIM)
}

fn pair((k, v): &(String, String)) -> (&str, &str) {
    (k, v)
}

/// A fact's (metric, dimensions) against another's.
fn compare_key<'d>(
    f: &'d Fact,
    metric: &str,
    dims: impl Iterator<Item = &'d (String, String)>,
) -> Ordering {
    f.metric
        .as_str()
        .cmp(metric)
        .then_with(|| key_dims(f).map(pair).cmp(dims.map(pair)))
}

impl FactTable {
    /// The table of `facts` (numbered in the order given), and for each of
    /// them its number in the table (to renumber what refers to them).
    pub fn from_facts(facts: Vec<Fact>) -> (FactTable, Vec<usize>) {
        let mut order: Vec<usize> = (0..facts.len()).collect();
        order.sort_by(|&a, &b| {
            let (fa, fb) = (&facts[a], &facts[b]);
            fa.period
                .year
                .cmp(&fb.period.year)
                .then_with(|| compare_key(fa, &fb.metric, key_dims(fb)))
                .then(a.cmp(&b))
        });
        let mut renumbered = vec![0; facts.len()];
        for (new, &old) in order.iter().enumerate() {
            renumbered[old] = new;
        }
        let mut slots: Vec<Option<Fact>> = facts.into_iter().map(Some).collect();
        let mut rest = order.iter().filter_map(|&i| slots[i].take()).peekable();
        let (mut entries, mut chunks) = (Vec::new(), Vec::new());
        while let Some(first) = rest.next() {
            let year = first.period.year;
            let mut rows = vec![first];
            while let Some(f) = rest.next_if(|f| f.period.year == year) {
                rows.push(f);
            }
            entries.push(year_entry(year, &rows));
            chunks.push(rows);
        }
        let rows = Chunks::loaded(chunks);
        (FactTable { entries, rows }, renumbered)
    }

    /// A table of these years whose rows `source` gives, a year a chunk,
    /// when first needed.
    pub fn stored(
        entries: Vec<YearEntry>,
        source: std::sync::Arc<dyn ChunkSource<Fact>>,
    ) -> FactTable {
        let counts: Vec<usize> = entries.iter().map(|e| e.count).collect();
        FactTable {
            rows: Chunks::stored(&counts, source),
            entries,
        }
    }

    /// What the table knows of each year without reading it.
    pub fn entries(&self) -> &[YearEntry] {
        &self.entries
    }

    /// The rows of one year, by metric and dimensions.
    pub fn of_year(&self, year: u16) -> &[Fact] {
        match self.entries.binary_search_by_key(&year, |e| e.year) {
            Ok(k) => self.rows.chunk(k),
            Err(_) => &[],
        }
    }
}

/// A year's entry for its rows.
fn year_entry(year: u16, rows: &[Fact]) -> YearEntry {
    let nationwide = rows.iter().filter(|f| f.scope == Scope::Nationwide);
    let kinds: BTreeSet<PeriodKind> = nationwide.clone().map(|f| f.period.kind).collect();
    let plain: BTreeSet<&str> = nationwide
        .filter(|f| f.period.kind == PeriodKind::Year && f.dims.is_empty())
        .map(|f| f.metric.as_str())
        .collect();
    YearEntry {
        year,
        count: rows.len(),
        nationwide_kinds: kinds.into_iter().collect(),
        plain_metrics: plain.into_iter().map(str::to_string).collect(),
    }
}

impl Corpus {
    /// A corpus of these tables (each document's normalized title made on
    /// first use).
    pub fn new(
        version: String,
        vocabulary: Vocabulary,
        documents: Chunks<Document>,
        passage_count: usize,
        facts: FactTable,
        conflicts: Chunks<Conflict>,
        problems: Vec<String>,
    ) -> Corpus {
        Corpus {
            version,
            vocabulary,
            normalized_titles: (0..documents.len()).map(|_| Default::default()).collect(),
            documents,
            passage_count,
            facts,
            conflicts,
            problems,
        }
    }

    /// The facts of one year, metric and dimensions (leaving out the
    /// release and the qualifier), in table order: the rows a question
    /// about them weighs, found without scanning the year.
    pub fn facts_of<'s>(
        &'s self,
        year: u16,
        metric: &str,
        dims: &[(String, String)],
    ) -> impl Iterator<Item = &'s Fact> + 's {
        let rows = self.facts.of_year(year);
        let start = rows.partition_point(|f| compare_key(f, metric, dims.iter()) == Ordering::Less);
        let end =
            rows.partition_point(|f| compare_key(f, metric, dims.iter()) != Ordering::Greater);
        rows[start..end.max(start)].iter()
    }

    /// Document `doc`'s title, normalized as its sentences are.
    pub fn normalized_title(&self, doc: usize) -> &str {
        match (self.normalized_titles.get(doc), self.documents.get(doc)) {
            (Some(cell), Some(d)) => cell.get_or_init(|| self.vocabulary.normalize(&d.meta.title)),
            _ => "",
        }
    }

    /// The facts of one year (by metric).
    pub fn facts_of_year(&self, year: u16) -> impl Iterator<Item = &Fact> + '_ {
        self.facts.of_year(year).iter()
    }

    /// The (kind, value) pairs that some row of `year` is broken down by
    /// alone (its only dimension, release and qualifier aside).
    pub fn single_breakdowns(&self, year: u16) -> std::collections::HashSet<(&str, &str)> {
        self.facts
            .of_year(year)
            .iter()
            .filter_map(|f| {
                let mut dims = key_dims(f);
                let first = dims.next()?;
                dims.next().is_none().then(|| pair(first))
            })
            .collect()
    }

    /// The years the fact table has figures for, ascending.
    pub fn years(&self) -> Vec<u16> {
        self.facts.entries().iter().map(|e| e.year).collect()
    }

    /// Years with nationwide full-year headline figures: those a summary exists for.
    pub fn headline_years(&self) -> Vec<u16> {
        let headline: Vec<&str> = self
            .vocabulary
            .metrics
            .iter()
            .filter(|m| m.headline)
            .map(|m| m.id.as_str())
            .collect();
        self.facts
            .entries()
            .iter()
            .filter(|e| {
                e.plain_metrics
                    .iter()
                    .any(|m| headline.contains(&m.as_str()))
            })
            .map(|e| e.year)
            .collect()
    }

    /// Each year with the kinds of period it has nationwide figures for.
    pub fn years_with_periods(&self) -> Vec<(u16, Vec<PeriodKind>)> {
        self.facts
            .entries()
            .iter()
            .filter(|e| !e.nationwide_kinds.is_empty())
            .map(|e| (e.year, e.nationwide_kinds.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Period;
    use std::sync::atomic::{AtomicUsize, Ordering as Atomic};
    use std::sync::Arc;

    fn row(year: u16, metric: &str, dims: &[(&str, &str)], doc: usize) -> Fact {
        Fact {
            period: Period::year(year),
            scope: Scope::Nationwide,
            metric: metric.into(),
            dims: dims
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: 1.into(),
            text: "1批".into(),
            qualifier: None,
            share: None,
            yoy: None,
            doc,
            sentence: None,
            quote: String::new(),
            excerpt: String::new(),
            curated: false,
        }
    }

    fn facts() -> Vec<Fact> {
        vec![
            row(2024, "detained_pieces", &[], 0),
            row(2020, "detained_batches", &[], 1),
            row(2024, "detained_batches", &[("ip_type", "trademark")], 2),
            row(2024, "detained_batches", &[], 3),
            row(2020, "detained_batches", &[], 4),
        ]
    }

    #[test]
    fn facts_are_numbered_by_year_then_key_then_the_order_given_and_renumbered_alike() {
        let given = facts();
        let (table, renumbered) = FactTable::from_facts(given.clone());
        let docs: Vec<usize> = table.iter().map(|f| f.doc).collect();
        assert_eq!(docs, [1, 4, 3, 2, 0]);
        for (old, f) in given.iter().enumerate() {
            assert_eq!(&table[renumbered[old]], f);
        }
        let numbered: Vec<(usize, usize)> = table.numbered().map(|(i, f)| (i, f.doc)).collect();
        assert_eq!(numbered, [(0, 1), (1, 4), (2, 3), (3, 2), (4, 0)]);
        assert!(table.get(5).is_none());
        let years: Vec<u16> = table.entries().iter().map(|e| e.year).collect();
        assert_eq!(years, [2020, 2024]);
        assert_eq!(
            table.entries()[1].plain_metrics,
            ["detained_batches", "detained_pieces"]
        );
    }

    /// Gives the rows of `facts()`'s table, counting the reads.
    struct Counted {
        chunks: Vec<Vec<Fact>>,
        reads: AtomicUsize,
    }

    impl ChunkSource<Fact> for Counted {
        fn load(&self, chunk: usize) -> Vec<Fact> {
            self.reads.fetch_add(1, Atomic::SeqCst);
            self.chunks.get(chunk).cloned().unwrap_or_default()
        }
    }

    fn stored(chunks: Vec<Vec<Fact>>) -> (FactTable, Arc<Counted>) {
        let (built, _) = FactTable::from_facts(facts());
        let source = Arc::new(Counted {
            chunks,
            reads: AtomicUsize::new(0),
        });
        (
            FactTable::stored(built.entries().to_vec(), source.clone()),
            source,
        )
    }

    #[test]
    fn a_stored_year_is_read_once_when_first_needed_and_no_other_year_is() {
        let (built, _) = FactTable::from_facts(facts());
        let chunks: Vec<Vec<Fact>> = (0..built.chunk_count())
            .map(|k| built.chunk(k).to_vec())
            .collect();
        let (table, source) = stored(chunks);
        assert_eq!(table.len(), 5);
        assert_eq!(source.reads.load(Atomic::SeqCst), 0, "nothing read at open");
        assert_eq!(table.of_year(2024).len(), 3);
        assert_eq!(table.of_year(2024).len(), 3);
        assert_eq!(source.reads.load(Atomic::SeqCst), 1, "one year, read once");
        assert!(table.of_year(2016).is_empty());
        assert_eq!(table[1].doc, 4);
        assert_eq!(source.reads.load(Atomic::SeqCst), 2);
    }

    #[test]
    fn a_stored_year_that_reads_back_with_other_counts_gives_no_rows_rather_than_misnumbered_ones()
    {
        let (table, _) = stored(vec![vec![row(2020, "detained_batches", &[], 1)], vec![]]);
        assert!(table.of_year(2020).is_empty());
        assert!(table.get(0).is_none());
        assert!(table.of_year(2024).is_empty());
        assert_eq!(table.iter().count(), 0);
    }
}
