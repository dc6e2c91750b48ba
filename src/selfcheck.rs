//! selfcheck: "how well does this snapshot answer the project's own
//! questions?" The question set `tests/data/questions.jsonl` is compiled
//! in and graded the way the shared checker grades: every `must` group
//! needs one alternative in the answer, no `must_not` may appear, `found`
//! must match, factual answers need a source. A reload that scores lower
//! than the snapshot it would replace is refused.

use crate::model::Answer;
use crate::snapshot::Snapshot;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

/// The project's own question set, JSON lines.
pub const QUESTIONS: &str = include_str!("../tests/data/questions.jsonl");

#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    pub id: String,
    pub cat: String,
    pub q: String,
    #[serde(default)]
    pub must: Vec<Vec<String>>,
    #[serde(default)]
    pub must_not: Vec<String>,
    #[serde(default = "yes")]
    pub found: bool,
}

fn yes() -> bool {
    true
}

/// Parses a question set; malformed lines are skipped.
pub fn items(text: &str) -> Vec<Item> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The form answers are matched in: NFKC, no white space or thousands
/// separators, lower case, 萬/億 read as 万/亿.
pub fn fold(text: &str) -> String {
    text.nfkc()
        .map(|c| match c {
            '萬' => '万',
            '億' => '亿',
            c => c,
        })
        .filter(|c| !c.is_whitespace() && *c != ',' && *c != '，')
        .collect::<String>()
        .to_lowercase()
}

/// Why an answer fails an item, or None when it passes. With `strict`, a
/// fact answer must lead with its figure.
pub fn grade(item: &Item, answer: &Answer, strict: bool) -> Option<String> {
    let text = fold(&answer.answer);
    if answer.found != item.found {
        return Some(format!("found={}, want {}", answer.found, item.found));
    }
    if let Some(bad) = item.must_not.iter().find(|b| text.contains(&fold(b))) {
        return Some(format!("contains forbidden {bad}"));
    }
    if let Some(group) = item
        .must
        .iter()
        .find(|g| !g.iter().any(|alt| text.contains(&fold(alt))))
    {
        return Some(format!("lacks any of {group:?}"));
    }
    if item.found
        && ["fact", "compare", "trend", "summary"].contains(&item.cat.as_str())
        && answer.sources.is_empty()
    {
        return Some("no sources".into());
    }
    if strict && item.found && item.cat == "fact" {
        let first = answer.answer.trim().lines().next().unwrap_or_default();
        if first.chars().count() > 200 {
            return Some("first line longer than 200 characters".into());
        }
        let head = fold(first);
        if let Some(group) = item
            .must
            .iter()
            .find(|g| !g.iter().any(|alt| head.contains(&fold(alt))))
        {
            return Some(format!("first line lacks any of {group:?}"));
        }
    }
    None
}

/// Share (0..=1) of the project's own question set answered right (strict).
pub fn score(snapshot: &Snapshot) -> f64 {
    let items = items(QUESTIONS);
    if items.is_empty() {
        return 1.0;
    }
    let passed = items
        .iter()
        .filter(|i| grade(i, &snapshot.answer(&i.q), true).is_none())
        .count();
    passed as f64 / items.len() as f64
}
