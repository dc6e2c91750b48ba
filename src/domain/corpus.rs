//! corpus: "what does one generation of the knowledge hold?" Its documents,
//! passages, sentences, facts and conflicts as plain data, the questions
//! answering asks of them (which years, which periods), and the passage
//! search answering needs, as a trait the search index implements.
//!
//! Invariant: pure; the search is reached only through [`PassageSearch`],
//! so answering never sees how (or where) passages are indexed.

use crate::domain::model::{Conflict, Document, Fact, Passage, PeriodKind, Scope, Sentence};
use crate::domain::vocabulary::Vocabulary;
use std::collections::{BTreeMap, BTreeSet};

/// The tables of one knowledge generation.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// The knowledge version (content hash of the folder).
    pub version: String,
    pub vocabulary: Vocabulary,
    pub documents: Vec<Document>,
    pub passages: Vec<Passage>,
    pub sentences: Vec<Sentence>,
    pub facts: Vec<Fact>,
    pub conflicts: Vec<Conflict>,
    /// Knowledge files that could not be read, with path and reason.
    pub problems: Vec<String>,
}

/// Finds passages for words, and cuts text into the words it finds by.
pub trait PassageSearch: Send + Sync {
    /// A normalized text cut into words as the search cuts passages.
    fn segment<'t>(&self, text: &'t str) -> Vec<&'t str>;
    /// Passage numbers for these (normalized) words, best first, with scores.
    fn search(&self, words: &[&str], limit: usize) -> Vec<(usize, f32)>;
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

    /// Passages for these words, best first.
    pub fn search(&self, words: &[&str], limit: usize) -> Vec<(usize, f32)> {
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
