//! corpus: "what does one generation of the knowledge hold?" Its documents,
//! facts and conflicts as plain data, the questions answering asks of them
//! (which years, which periods), and the passage search answering needs,
//! as a trait the search index implements: passages and their sentences
//! are not held here but found, text included, when an answer needs them.
//!
//! Invariant: pure; passages are reached only through [`PassageSearch`],
//! so answering never sees how (or where) passages are kept.

use crate::domain::model::{Conflict, Document, Fact, PeriodKind, Scope};
use crate::domain::vocabulary::Vocabulary;
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
    /// Segments a normalized text as the search does.
    pub fn segment<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.passages_search.segment(text)
    }

    /// Passages for these words, best first, with their text.
    pub fn search(&self, words: &[&str], limit: usize) -> Vec<FoundPassage> {
        self.passages_search.search(words, limit)
    }
}

impl Corpus {
    /// The years the fact table has figures for, ascending.
    pub fn years(&self) -> Vec<u16> {
        let years: BTreeSet<u16> = self.facts.iter().map(|f| f.period.year).collect();
        years.into_iter().collect()
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
        let years: BTreeSet<u16> = self
            .facts
            .iter()
            .filter(|f| {
                f.period.kind == PeriodKind::Year
                    && f.scope == Scope::Nationwide
                    && f.dims.is_empty()
                    && headline.contains(&f.metric.as_str())
            })
            .map(|f| f.period.year)
            .collect();
        years.into_iter().collect()
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
