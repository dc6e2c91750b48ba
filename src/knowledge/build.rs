//! build: "here are the knowledge files (and the previous generation),
//! write a new generation": each document's passages, sentences and facts,
//! the curated facts, the conflicts, the search index and the tables. A
//! build extracts only the documents whose content hash the previous
//! generation does not have, on all cores, each document's passages going
//! into the index as soon as it is extracted; when the previous generation
//! has some of them, its index is copied (hard links) and its tables file
//! copied, and only the changed documents are deleted and added.
//!
//! Invariant: the previous generation is only read; nothing of the build
//! is visible until `generations` publishes it.

use crate::domain::extract::{Extractor, SentenceInput};
use crate::domain::ingest::split_passages;
use crate::domain::model::{
    Conflict, Document, Fact, Passage, Period, PeriodKind, Scope, Sentence,
};
use crate::domain::numbers::{figures_agree, parse_plain};
use crate::domain::vocabulary::Vocabulary;
pub use crate::knowledge::files::document_hash;
use crate::knowledge::files::{self, CuratedFact, KnowledgeFiles};
use crate::knowledge::generations::{Generation, NewGeneration};
use crate::knowledge::index::{DocumentPassages, IndexBuilder, IndexError, SearchIndex, Segmenter};
use crate::knowledge::persist::{SnapshotTables, Stored};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// How a build came by its documents' rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BuildStats {
    /// Documents read, split and extracted by this build.
    pub extracted: usize,
    /// Documents whose rows were taken unchanged from the previous build.
    pub reused: usize,
}

/// The previous complete generation: its tables (read back) and files.
pub struct Previous {
    pub tables: SnapshotTables,
    pub stored: Stored,
    pub generation: Generation,
}

/// Why a build failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// What a build made: the tables and the index, opened.
pub struct Built {
    pub tables: SnapshotTables,
    pub index: SearchIndex,
    pub stored: Stored,
    pub stats: BuildStats,
    /// The documents this build extracted.
    pub changed: Vec<usize>,
}

/// Which documents a build extracts, and what it takes from the previous
/// generation.
struct Plan {
    hashes: Vec<String>,
    /// Per document: its facts from the previous generation, when reused.
    reused: Vec<Option<Vec<Fact>>>,
    /// Hashes of the previous generation no longer present.
    gone: Vec<String>,
}

fn plan(files: &KnowledgeFiles, previous: Option<&mut Previous>) -> Plan {
    let hashes: Vec<String> = files
        .documents
        .iter()
        .map(|d| document_hash(files, d))
        .collect();
    let mut reused: Vec<Option<Vec<Fact>>> = vec![None; hashes.len()];
    let mut gone = Vec::new();
    if let Some(p) = previous {
        let old: HashMap<&str, usize> = p
            .stored
            .document_hashes
            .iter()
            .enumerate()
            .map(|(i, h)| (h.as_str(), i))
            .collect();
        let mut by_doc: Vec<Vec<Fact>> = vec![Vec::new(); p.stored.document_hashes.len()];
        for f in std::mem::take(&mut p.tables.facts)
            .into_iter()
            .filter(|f| !f.curated)
        {
            if let Some(of_doc) = by_doc.get_mut(f.doc) {
                of_doc.push(Fact { doc: 0, ..f });
            }
        }
        for (i, h) in hashes.iter().enumerate() {
            if let Some(&o) = old.get(h.as_str()) {
                reused[i] = Some(std::mem::take(&mut by_doc[o]));
            }
        }
        let present: std::collections::HashSet<&str> = hashes.iter().map(String::as_str).collect();
        gone = p
            .stored
            .document_hashes
            .iter()
            .filter(|h| !present.contains(h.as_str()))
            .cloned()
            .collect();
    }
    Plan {
        hashes,
        reused,
        gone,
    }
}

/// Builds the tables and index of a new generation in `new` (from the
/// previous generation's when it has some of the documents); the caller
/// writes the tables (`facts_file`).
pub fn build(
    files: &KnowledgeFiles,
    mut previous: Option<Previous>,
    new: &NewGeneration,
) -> Result<Built, BuildError> {
    Ok(index_and_assemble(files, previous.as_mut(), Some(new))?.0)
}

/// Builds the tables and an index in memory (no data folder).
pub fn build_in_memory(files: &KnowledgeFiles) -> Result<Built, BuildError> {
    Ok(index_and_assemble(files, None, None)?.0)
}

/// The index (new, or updated from the previous generation's, which is
/// returned when it was used) and the tables.
fn index_and_assemble<'p>(
    files: &KnowledgeFiles,
    mut previous: Option<&'p mut Previous>,
    new: Option<&NewGeneration>,
) -> Result<(Built, Option<&'p Previous>), BuildError> {
    let plan = plan(files, previous.as_deref_mut());
    let segmenter = segmenter_for(&files.vocabulary);
    let reusing = plan.reused.iter().any(Option::is_some);
    let from = previous.filter(|_| reusing).map(|p| &*p);
    let builder = match (new, from) {
        (Some(new), Some(p)) => {
            SearchIndex::update(&p.generation.index_dir(), &new.index_dir(), segmenter)?
        }
        (new, _) => SearchIndex::create(new.map(|n| n.index_dir()).as_deref(), segmenter)?,
    };
    for h in &plan.gone {
        builder.delete(h);
    }
    let Plan { hashes, reused, .. } = plan;
    let changed: Vec<usize> = (0..reused.len()).filter(|&i| reused[i].is_none()).collect();
    let stats = BuildStats {
        reused: reused.len() - changed.len(),
        extracted: changed.len(),
    };
    let facts = extract_into(files, &hashes, reused, &builder)?;
    let keys: Vec<&str> = hashes.iter().map(String::as_str).collect();
    let index = builder.finish(&keys)?;
    let built = Built {
        tables: assemble(files, facts),
        index,
        stored: Stored {
            vocabulary: files.vocabulary_text.clone(),
            document_hashes: hashes,
        },
        stats,
        changed,
    };
    Ok((built, from))
}

/// Extracts every document that has no reused facts, on all cores, adding
/// each one's passages to the index as soon as it is extracted; returns
/// every document's facts (numbered within it).
fn extract_into(
    files: &KnowledgeFiles,
    hashes: &[String],
    reused: Vec<Option<Vec<Fact>>>,
    builder: &IndexBuilder,
) -> Result<Vec<Vec<Fact>>, IndexError> {
    let todo: Vec<usize> = (0..reused.len()).filter(|&i| reused[i].is_none()).collect();
    let slots: Vec<Mutex<Option<Vec<Fact>>>> = reused.into_iter().map(Mutex::new).collect();
    let extractor = Extractor::new(&files.vocabulary);
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<IndexError>> = Mutex::new(None);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads.min(todo.len()) {
            scope.spawn(|| {
                while let Some(&i) = todo.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let rows = extract_document(&extractor, &files.documents[i]);
                    let added = builder.add(&DocumentPassages {
                        key: &hashes[i],
                        passages: &rows.passages,
                        sentences: &rows.sentences,
                    });
                    if let Err(e) = added {
                        failed.lock().expect("not poisoned").get_or_insert(e);
                        next.store(todo.len(), Ordering::Relaxed);
                        break;
                    }
                    *slots[i].lock().expect("not poisoned") = Some(rows.facts);
                }
            });
        }
    });
    if let Some(e) = failed.into_inner().expect("not poisoned") {
        return Err(e);
    }
    Ok(slots
        .into_iter()
        .map(|s| s.into_inner().expect("not poisoned").unwrap_or_default())
        .collect())
}

/// Jieba with the vocabulary's words, at index and query time alike.
pub fn segmenter_for(vocabulary: &Vocabulary) -> Segmenter {
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

/// One document's rows, numbered within the document (document 0, its
/// first passage 0, its first sentence 0).
#[derive(Debug, Clone, Default)]
struct DocumentRows {
    passages: Vec<Passage>,
    sentences: Vec<Sentence>,
    facts: Vec<Fact>,
}

/// One document split into passages and sentences, and its facts.
fn extract_document(extractor: &Extractor, file: &files::DocumentFile) -> DocumentRows {
    debug_assert!(!file.unread, "{} was not read", file.file);
    let language = file.meta.language;
    let mut rows = DocumentRows::default();
    for raw in split_passages(&file.body, language) {
        let passage = rows.passages.len();
        let first_sentence = rows.sentences.len();
        for s in &raw.sentences {
            rows.sentences.push(Sentence {
                doc: 0,
                passage,
                original: s.clone(),
                normalized: extractor.vocabulary().normalize(s),
            });
        }
        // A passage is its sentences joined, and so is its normalized text
        // (each sentence is normalized once).
        let normalized: Vec<&str> = rows.sentences[first_sentence..]
            .iter()
            .map(|s| s.normalized.as_str())
            .collect();
        rows.passages.push(Passage {
            doc: 0,
            normalized: normalized.join(language.sentence_joiner()),
            original: raw.text(language),
            first_sentence,
            sentence_count: raw.sentences.len(),
        });
    }
    let inputs: Vec<SentenceInput<'_>> = rows
        .sentences
        .iter()
        .enumerate()
        .map(|(index, s)| SentenceInput {
            index,
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
    rows.facts = extractor.extract(0, &inputs, language, published_year);
    rows
}

/// Numbers each document's facts into one table; adds the curated facts
/// and the conflicts.
fn assemble(files: &KnowledgeFiles, per_document: Vec<Vec<Fact>>) -> SnapshotTables {
    let mut documents = Vec::new();
    let mut facts = Vec::new();
    let mut problems = files.problems.clone();
    for (doc, (file, of_doc)) in files.documents.iter().zip(per_document).enumerate() {
        facts.extend(of_doc.into_iter().map(|f| Fact { doc, ..f }));
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
