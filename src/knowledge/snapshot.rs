//! snapshot: "here is the knowledge folder, give me everything needed to
//! answer": documents, passages, sentences, facts, conflicts and the search
//! index, built once and then only read. An unchanged folder (same content
//! hash) is opened from the data folder instead of rebuilt.

use crate::domain::answer;
use crate::domain::corpus::{Corpus, Knowledge};
use crate::domain::extract::{Extractor, SentenceInput};
use crate::domain::ingest::split_passages;
use crate::domain::model::{
    Answer, Conflict, Document, Fact, Language, Passage, Period, PeriodKind, Scope, Sentence,
};
use crate::domain::numbers::{figures_agree, parse_plain};
use crate::domain::understand::understand;
use crate::domain::vocabulary::Vocabulary;
use crate::knowledge::files::{self, CuratedFact, KnowledgeError, KnowledgeFiles};
use crate::knowledge::index::{IndexError, SearchIndex, Segmenter};
use crate::knowledge::persist::{PersistError, SnapshotTables, TableStore};
use std::collections::BTreeMap;
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

/// One immutable generation of the knowledge: its tables and their index.
#[derive(Debug)]
pub struct Snapshot {
    corpus: Corpus,
    index: SearchIndex,
}

impl std::ops::Deref for Snapshot {
    type Target = Corpus;
    fn deref(&self) -> &Corpus {
        &self.corpus
    }
}

impl Snapshot {
    /// Loads the knowledge folder; reuses the data folder's tables and index
    /// when their version matches the folder's content hash.
    pub async fn open_or_build(
        knowledge_dir: &Path,
        data_dir: &Path,
    ) -> Result<Snapshot, SnapshotError> {
        let files = files::load(knowledge_dir)?;
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
        let corpus = Corpus {
            version: t.version,
            vocabulary,
            documents: t.documents,
            passages: t.passages,
            sentences: t.sentences,
            facts: t.facts,
            conflicts: t.conflicts,
            problems: t.problems,
        };
        Snapshot { corpus, index }
    }

    /// What answering reads: the tables and the index as its passage search.
    pub fn knowledge(&self) -> Knowledge<'_> {
        Knowledge {
            corpus: &self.corpus,
            passages_search: &self.index,
        }
    }

    /// Answers one question.
    pub fn answer(&self, question: &str) -> Answer {
        let query = understand(question, &self.vocabulary);
        answer::answer(&self.knowledge(), &query)
    }

    /// The yearly summary that broadcasts send.
    pub fn summary(&self, year: u16, language: Language) -> Answer {
        answer::summary(&self.knowledge(), year, language)
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
                    normalized: files.vocabulary.normalize(s),
                });
            }
            let original = raw.text(language);
            passages.push(Passage {
                doc,
                normalized: files.vocabulary.normalize(&original),
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
    let body = files.vocabulary.normalize(&files.documents[doc].body);
    let compact = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    if !compact(&body).contains(&compact(&files.vocabulary.normalize(&c.quote))) {
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
