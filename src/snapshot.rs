//! snapshot: "here is the knowledge folder, give me everything needed to
//! answer": documents, passages, sentences, facts, conflicts and the search
//! index, built once and then only read. An unchanged folder (same content
//! hash) is opened from the data folder instead of rebuilt.

use crate::engine::ReloadReport;
use crate::extract::{Extractor, SentenceInput};
use crate::index::{IndexError, SearchIndex, Segmenter};
use crate::ingest::split_passages;
use crate::knowledge::{self, CuratedFact, KnowledgeError, KnowledgeFiles};
use crate::model::{
    Answer, Conflict, Document, Fact, Language, Passage, Period, PeriodKind, Scope, Sentence,
};
use crate::normalize::normalize;
use crate::numbers::{figures_agree, parse_plain};
use crate::persist::{PersistError, SnapshotTables, TableStore};
use crate::vocabulary::Vocabulary;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Why the knowledge could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The knowledge folder or its vocabulary could not be read.
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    /// The search index could not be built or opened.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The database could not be opened or written.
    #[error(transparent)]
    Persist(#[from] PersistError),
    /// The data folder could not be created.
    #[error("cannot create the data folder {path}: {source}")]
    DataFolder {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// One immutable generation of the knowledge.
#[derive(Debug)]
pub struct Snapshot {
    pub version: String,
    pub vocabulary: Vocabulary,
    pub documents: Vec<Document>,
    pub passages: Vec<Passage>,
    pub sentences: Vec<Sentence>,
    pub facts: Vec<Fact>,
    pub conflicts: Vec<Conflict>,
    /// Knowledge files that could not be read, with path and reason.
    pub problems: Vec<String>,
    index: SearchIndex,
}

impl Snapshot {
    /// Loads the knowledge folder; reuses the data folder's tables and index
    /// when their version matches the folder's content hash.
    pub async fn open_or_build(
        knowledge_dir: &Path,
        data_dir: &Path,
    ) -> Result<Snapshot, SnapshotError> {
        let files = knowledge::load(knowledge_dir)?;
        std::fs::create_dir_all(data_dir).map_err(|source| SnapshotError::DataFolder {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let store = TableStore::open(&data_dir.join("state.db")).await?;
        let index_dir = data_dir.join("index").join(&files.version);
        let segmenter = segmenter_for(&files.vocabulary);
        if let Some(tables) = store.load(&files.version).await? {
            if let Ok(index) = SearchIndex::open(&index_dir, segmenter.clone()) {
                return Ok(Snapshot::from_tables(files.vocabulary, tables, index));
            }
        }
        let tables = build_tables(&files);
        // A fresh directory per version; older versions are removed.
        let _ = std::fs::remove_dir_all(&index_dir);
        let index = SearchIndex::build(Some(&index_dir), &tables.passages, segmenter)?;
        store.save(&tables).await?;
        if let Ok(entries) = std::fs::read_dir(data_dir.join("index")) {
            for e in entries.flatten() {
                if e.file_name().to_str() != Some(files.version.as_str()) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        Ok(Snapshot::from_tables(files.vocabulary, tables, index))
    }

    /// Builds a snapshot in memory, touching no data folder (benchmarks,
    /// tests of the pure path).
    pub fn build_in_memory(files: &KnowledgeFiles) -> Result<Snapshot, SnapshotError> {
        let tables = build_tables(files);
        let index = SearchIndex::build(None, &tables.passages, segmenter_for(&files.vocabulary))?;
        Ok(Snapshot::from_tables(
            files.vocabulary.clone(),
            tables,
            index,
        ))
    }

    fn from_tables(vocabulary: Vocabulary, t: SnapshotTables, index: SearchIndex) -> Snapshot {
        Snapshot {
            version: t.version,
            vocabulary,
            documents: t.documents,
            passages: t.passages,
            sentences: t.sentences,
            facts: t.facts,
            conflicts: t.conflicts,
            problems: t.problems,
            index,
        }
    }

    /// Answers one question.
    pub fn answer(&self, question: &str) -> Answer {
        let query = crate::understand::understand(question, &self.vocabulary);
        crate::answer::answer(self, &query)
    }

    /// The yearly summary that broadcasts send.
    pub fn summary(&self, year: u16, language: Language) -> Answer {
        crate::answer::summary(self, year, language)
    }

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

    /// Segments a normalized text as the index does.
    pub fn segment<'t>(&self, text: &'t str) -> Vec<&'t str> {
        self.index.segmenter().words(text)
    }

    /// Passages for these words, best first.
    pub fn search(&self, words: &[&str], limit: usize) -> Vec<(usize, f32)> {
        self.index.search(words, limit)
    }
}

fn segmenter_for(vocabulary: &Vocabulary) -> Segmenter {
    let mut words: Vec<&str> = Vec::new();
    for m in &vocabulary.metrics {
        words.extend(m.ask.iter().chain(&m.cues).map(String::as_str));
    }
    for d in &vocabulary.dimensions {
        for v in &d.values {
            words.extend(v.words.iter().map(String::as_str));
        }
    }
    Segmenter::new(words)
}

/// Ingests every document: passages, sentences, facts, conflicts.
pub fn build_tables(files: &KnowledgeFiles) -> SnapshotTables {
    let extractor = Extractor::new(&files.vocabulary);
    let mut documents = Vec::new();
    let mut passages = Vec::new();
    let mut sentences: Vec<Sentence> = Vec::new();
    let mut facts = Vec::new();
    let mut problems = files.problems.clone();
    for (doc, file) in files.documents.iter().enumerate() {
        let language = file.meta.language;
        let first_sentence_of_doc = sentences.len();
        for raw in split_passages(&file.body, language) {
            let passage = passages.len();
            let first_sentence = sentences.len();
            for s in &raw.sentences {
                sentences.push(Sentence {
                    doc,
                    passage,
                    original: s.clone(),
                    normalized: normalize(s),
                });
            }
            let original = raw.text(language);
            passages.push(Passage {
                doc,
                normalized: normalize(&original),
                original,
                first_sentence,
                sentence_count: raw.sentences.len(),
            });
        }
        let inputs: Vec<SentenceInput<'_>> = sentences[first_sentence_of_doc..]
            .iter()
            .enumerate()
            .map(|(i, s)| SentenceInput {
                index: first_sentence_of_doc + i,
                passage: s.passage,
                normalized: &s.normalized,
                original: &s.original,
            })
            .collect();
        let published_year = file
            .meta
            .published
            .as_deref()
            .and_then(|p| p.get(..4))
            .and_then(|y| y.parse().ok());
        facts.extend(extractor.extract(doc, &inputs, language, published_year));
        documents.push(Document {
            file: file.file.clone(),
            meta: file.meta.clone(),
        });
    }
    for c in &files.curated {
        match curated_fact(c, &documents, files) {
            Ok(f) => facts.push(f),
            Err(reason) => problems.push(format!(
                "facts.toml: {} ({}): {reason}",
                c.document, c.metric
            )),
        }
    }
    let conflicts = find_conflicts(&facts, &files.vocabulary);
    SnapshotTables {
        version: files.version.clone(),
        documents,
        passages,
        sentences,
        facts,
        conflicts,
        problems,
    }
}

fn curated_fact(
    c: &CuratedFact,
    documents: &[Document],
    files: &KnowledgeFiles,
) -> Result<Fact, String> {
    let doc = documents
        .iter()
        .position(|d| d.file == c.document)
        .ok_or("no such document")?;
    if files.vocabulary.metric(&c.metric).is_none() {
        return Err(format!("unknown metric {}", c.metric));
    }
    let body = normalize(&files.documents[doc].body);
    let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if !compact(&body).contains(&compact(&normalize(&c.quote))) {
        return Err("the quote does not occur in the document".into());
    }
    let value = parse_plain(&c.value).ok_or("value is not an exact decimal")?;
    let kind = match (c.quarter, c.year_end) {
        (Some(q @ 1..=4), _) => PeriodKind::Quarter(q),
        (Some(q), _) => return Err(format!("quarter {q} is not 1 to 4")),
        (None, true) => PeriodKind::YearEnd,
        (None, false) => PeriodKind::Year,
    };
    Ok(Fact {
        period: Period { year: c.year, kind },
        scope: Scope::Nationwide,
        metric: c.metric.clone(),
        dims: c.dims.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        value,
        text: c.text.clone(),
        qualifier: None,
        share: c.share.as_deref().and_then(parse_plain),
        yoy: c.yoy.as_deref().and_then(parse_plain),
        doc,
        sentence: None,
        quote: c.quote.clone(),
        excerpt: c.quote.clone(),
        curated: true,
    })
}

/// The key two facts must share to be the same figure.
pub fn fact_key(f: &Fact) -> String {
    let dims: Vec<String> = f.dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let scope = match &f.scope {
        Scope::Nationwide => "nationwide".to_string(),
        Scope::Customs(n) => format!("customs:{n}"),
        Scope::Campaign(n) => format!("campaign:{n}"),
        Scope::Subset(n) => format!("subset:{n}"),
    };
    format!(
        "{} {} {} [{}]",
        f.period.key(),
        scope,
        f.metric,
        dims.join(",")
    )
}

/// Keys (nationwide) for which two final figures do not agree, even
/// allowing for rounding and for the bound a qualifier states (逾7100万
/// and 7180万 agree). A preliminary count (its key differs by its release)
/// and the quarters, first quarters and full year (their keys differ by
/// period) never conflict with a final full-year figure.
pub fn find_conflicts(facts: &[Fact], vocabulary: &Vocabulary) -> Vec<Conflict> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in facts
        .iter()
        .enumerate()
        .filter(|(_, f)| f.scope == Scope::Nationwide && !f.is_preliminary())
    {
        groups.entry(fact_key(f)).or_default().push(i);
    }
    let agree = |a: &Fact, b: &Fact| {
        figures_agree(
            a.value,
            vocabulary.bound_of(a.qualifier.as_deref()),
            b.value,
            vocabulary.bound_of(b.qualifier.as_deref()),
        )
    };
    groups
        .into_iter()
        .filter(|(_, ids)| {
            ids.iter()
                .any(|&a| ids.iter().any(|&b| !agree(&facts[a], &facts[b])))
        })
        .map(|(key, facts)| Conflict { key, facts })
        .collect()
}

/// What changed between two snapshots.
pub fn diff(old: &Snapshot, new: &Snapshot) -> ReloadReport {
    let old_docs: BTreeSet<&str> = old.documents.iter().map(|d| d.file.as_str()).collect();
    let new_docs: BTreeSet<&str> = new.documents.iter().map(|d| d.file.as_str()).collect();
    let keyed = |s: &Snapshot| -> BTreeMap<String, BTreeSet<String>> {
        let mut m: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in &s.facts {
            m.entry(fact_key(f))
                .or_default()
                .insert(f.value.normalize().to_string());
        }
        m
    };
    let (a, b) = (keyed(old), keyed(new));
    ReloadReport {
        documents_added: new_docs
            .difference(&old_docs)
            .map(|s| s.to_string())
            .collect(),
        documents_removed: old_docs
            .difference(&new_docs)
            .map(|s| s.to_string())
            .collect(),
        facts_added: b.keys().filter(|k| !a.contains_key(*k)).count(),
        facts_changed: b
            .iter()
            .filter(|(k, v)| a.get(*k).is_some_and(|old| old != *v))
            .count(),
        facts_removed: a.keys().filter(|k| !b.contains_key(*k)).count(),
        conflicts: new.conflicts.len(),
        problems: new.problems.clone(),
        version: new.version.clone(),
        ..Default::default()
    }
}
