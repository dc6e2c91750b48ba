//! Reports as they are really published (tests/data/realworld), end to end.
//!
//! Properties checked here:
//! - the fixture is what it claims: at least 20 documents, each labelled a
//!   made-up fixture, and at least 80 questions over fact, compare, trend,
//!   summary, passage and no-data items;
//! - dropped beside the seed reports, those documents answer their question
//!   set strictly (a fact answer leads with its figure) at 95% or better;
//! - no wrong figure is stated: a figure question answered with another
//!   figure, or a no-data question answered with a figure, fails the test
//!   whatever the score (counted as ../shared/eval/check.py counts them);
//! - a passage answer quotes no sentence twice and is cut at sentence ends
//!   only, never mid-word (what check.py's substring grading cannot see).

mod support;

use customs_ip_bot::domain::model::{Answer, AnswerKind};
use customs_ip_bot::knowledge::gating::{self, Item};
use customs_ip_bot::knowledge::snapshot::Snapshot;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use support::copy_knowledge;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/realworld")
}

fn fixture_documents() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixture_dir().join("documents"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
}

fn fixture_items() -> Vec<Item> {
    let text = std::fs::read_to_string(fixture_dir().join("questions.jsonl")).unwrap();
    gating::items(&text)
}

/// The seed knowledge with the fixture documents dropped into its
/// documents/, built once per test binary.
fn realworld_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(build_realworld_snapshot)
}

fn build_realworld_snapshot() -> Snapshot {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    for path in fixture_documents() {
        std::fs::copy(
            &path,
            knowledge.join("documents").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let files = customs_ip_bot::knowledge::files::load(&knowledge).unwrap();
    Snapshot::build_in_memory(&files).unwrap()
}

/// A failed item that the bot answered with a figure anyway: a figure
/// question answered by a fact row that is not the one asked, or a no-data
/// question answered with a figure. A "no data" where a figure was wanted is
/// a miss, not a wrong figure (the rule of check.py).
fn states_a_wrong_figure(item: &Item, answer: &Answer) -> bool {
    if !answer.found {
        return false;
    }
    let factual = ["fact", "compare", "trend", "summary"].contains(&item.cat.as_str());
    let figure_kind = matches!(
        answer.kind,
        AnswerKind::Fact | AnswerKind::Comparison | AnswerKind::Trend | AnswerKind::Summary
    );
    if item.found {
        factual && answer.kind != AnswerKind::Passage
    } else {
        figure_kind
    }
}

#[test]
fn the_realworld_fixture_is_labelled_made_up_and_large_enough() {
    let documents = fixture_documents();
    assert!(documents.len() >= 20, "{} documents", documents.len());
    for path in &documents {
        let text = std::fs::read_to_string(path).unwrap();
        let head: String = text.lines().take(3).collect::<Vec<_>>().join("\n");
        assert!(
            head.contains("made-up fixture"),
            "{} does not say it is a made-up fixture",
            path.display()
        );
    }
    let items = fixture_items();
    assert!(items.len() >= 80, "{} questions", items.len());
    for cat in ["fact", "compare", "trend", "summary", "passage", "nodata"] {
        assert!(
            items.iter().any(|i| i.cat == cat),
            "no question of category {cat}"
        );
    }
}

/// Graded like the shared checker with --strict --max-wrong 0 --min 0.95.
#[test]
fn realworld_reports_answer_their_questions_strictly_with_no_wrong_figure() {
    let snapshot = realworld_snapshot();
    let items = fixture_items();
    let mut misses = vec![];
    let mut wrong = vec![];
    for item in &items {
        let answer = snapshot.answer(&item.q);
        let Some(why) = gating::grade(item, &answer, true) else {
            continue;
        };
        let line = format!(
            "{} [{}] {:?}: {why}\n    got ({}, found={}): {}",
            item.id,
            item.cat,
            item.q,
            answer.kind.as_str(),
            answer.found,
            answer
                .answer
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
        if states_a_wrong_figure(item, &answer) {
            wrong.push(line);
        } else {
            misses.push(line);
        }
    }
    let failed = misses.len() + wrong.len();
    let score = 1.0 - failed as f64 / items.len() as f64;
    assert!(
        score >= 0.95 && wrong.is_empty(),
        "score {score:.3} ({failed} of {} failed; floor 0.95), {} wrong figures stated\n\
         wrong figures:\n{}\nmisses:\n{}",
        items.len(),
        wrong.len(),
        wrong.join("\n"),
        misses.join("\n")
    );
}

/// The sentences of a text, cut after 。！？；!?; and after a full stop that
/// ends a word, trimmed, without the short ones (headings, list marks).
fn sentences(text: &str) -> Vec<String> {
    let mut out = vec![];
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        current.push(c);
        let full_stop = c == '.' && chars.peek().is_none_or(|n| n.is_whitespace());
        if "。！？；!?;".contains(c) || full_stop {
            out.push(std::mem::take(&mut current));
        }
    }
    out.push(current);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| s.chars().count() >= 8)
        .collect()
}

/// Why a passage answer is badly cut or repeats itself, or None.
fn passage_fault(answer: &Answer) -> Option<String> {
    let quoted: Vec<&str> = answer
        .answer
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !customs_ip_bot::domain::replies::is_source_line(l))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for sentence in quoted.iter().flat_map(|l| sentences(l)) {
        if !seen.insert(sentence.clone()) {
            return Some(format!("quotes twice: {sentence:?}"));
        }
    }
    for line in &quoted {
        let end = line
            .trim_end_matches(['”', '"', '’', '\'', '」', '』', ')', '）'])
            .chars()
            .last();
        if !end.is_some_and(|c| "。！？；.!?;".contains(c)) {
            return Some(format!("not cut at a sentence end: {line:?}"));
        }
    }
    None
}

#[test]
fn realworld_passage_answers_quote_each_sentence_once_and_end_at_sentence_ends() {
    let snapshot = realworld_snapshot();
    let faults: Vec<String> = fixture_items()
        .iter()
        .filter_map(|item| {
            let answer = snapshot.answer(&item.q);
            if answer.kind != AnswerKind::Passage {
                return None;
            }
            passage_fault(&answer).map(|why| format!("{} {:?}: {why}", item.id, item.q))
        })
        .collect();
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}
