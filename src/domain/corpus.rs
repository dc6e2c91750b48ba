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
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// The tables of one knowledge generation.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The knowledge version (content hash of the folder).
    pub version: String,
    pub vocabulary: Vocabulary,
    pub documents: Vec<Document>,
    /// How many passages the search holds.
    pub passage_count: usize,
    pub facts: Vec<Fact>,
    /// The facts' numbers by year (`Corpus::index_years`): what a question
    /// about one year scans, so that answering does not grow with the
    /// years the corpus holds.
    pub by_year: BTreeMap<u16, Vec<usize>>,
    /// Each document's title normalized, made on first use
    /// (`normalized_title`).
    pub normalized_titles: Vec<std::sync::OnceLock<String>>,
    pub conflicts: Vec<Conflict>,
    /// Knowledge files that could not be read, with path and reason.
    pub problems: Vec<String>,
}

/// One sentence of a found passage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundSentence {
    /// As written, for display.
    pub original: String,
    /// Normalized, for matching.
    pub normalized: String,
}

/// A passage the search found for some words, with its text.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPassage {
    /// Index into the corpus's documents.
    pub doc: usize,
    /// The search's score (BM25).
    pub score: f32,
    /// The passage's normalized text.
    pub normalized: String,
    /// Its sentences in order.
    pub sentences: Vec<FoundSentence>,
}

/// Finds passages for words, and cuts text into the words it finds by.
pub trait PassageSearch: Send + Sync {
    /// A normalized text cut into words as the search cuts passages.
    fn segment<'t>(&self, text: &'t str) -> Vec<&'t str>;
    /// Passages for these (normalized) words, best first, with their text.
    fn search(&self, words: &[&str], limit: usize) -> Vec<FoundPassage>;
    /// Sentence `sentence` (numbered within its document) of document
    /// `doc`, as written.
    fn sentence(&self, doc: usize, sentence: usize) -> Option<String>;
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
            .and_then(|s| self.passages_search.sentence(f.doc, s))
            .map_or(std::borrow::Cow::Borrowed(""), std::borrow::Cow::Owned)
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

impl Corpus {
    /// The facts' numbers by year, each year's sorted by `row_key` then
    /// table order, for `by_year`.
    pub fn index_years(facts: &[Fact]) -> BTreeMap<u16, Vec<usize>> {
        let mut by_year: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
        for (i, f) in facts.iter().enumerate() {
            by_year.entry(f.period.year).or_default().push(i);
        }
        for numbers in by_year.values_mut() {
            numbers.sort_unstable_by(|&a, &b| {
                compare_key(&facts[a], &facts[b].metric, key_dims(&facts[b])).then(a.cmp(&b))
            });
        }
        by_year
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
        let numbers = self.by_year.get(&year).map_or(&[][..], Vec::as_slice);
        let order = |i: &usize| {
            self.facts
                .get(*i)
                .map_or(Ordering::Less, |f| compare_key(f, metric, dims.iter()))
        };
        let start = numbers.partition_point(|i| order(i) == Ordering::Less);
        let end = numbers.partition_point(|i| order(i) != Ordering::Greater);
        numbers[start..end.max(start)]
            .iter()
            .filter_map(|&i| self.facts.get(i))
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
        self.by_year
            .get(&year)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.facts.get(i))
    }

    /// The years the fact table has figures for, ascending.
    pub fn years(&self) -> Vec<u16> {
        self.by_year.keys().copied().collect()
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
        self.by_year
            .keys()
            .copied()
            .filter(|&year| {
                headline.iter().any(|metric| {
                    self.facts_of(year, metric, &[]).any(|f| {
                        f.period.kind == PeriodKind::Year
                            && f.scope == Scope::Nationwide
                            && f.dims.is_empty()
                    })
                })
            })
            .collect()
    }

    /// Each year with the kinds of period it has nationwide figures for.
    pub fn years_with_periods(&self) -> Vec<(u16, Vec<PeriodKind>)> {
        let mut map: BTreeMap<u16, BTreeSet<PeriodKind>> = BTreeMap::new();
        for f in self.facts.iter().filter(|f| f.scope == Scope::Nationwide) {
            map.entry(f.period.year).or_default().insert(f.period.kind);
        }
        map.into_iter()
            .map(|(y, k)| (y, k.into_iter().collect()))
            .collect()
    }
}
