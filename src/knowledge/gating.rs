//! gating: "does this new knowledge answer worse than the one it would
//! replace?" The gating question set (`gating.jsonl` beside this file, data
//! of the product compiled in) is graded the way the shared checker grades:
//! every `must` group needs one alternative in the answer, no `must_not` may
//! appear, `found` must match, factual answers need a source. Each item
//! names the years it depends on.
//!
//! A reload is compared item by item: a regression is an item answered
//! right by the old knowledge and wrong or lost by the new one. An item
//! that expected "no data" and is now answered, for a year the new
//! knowledge has figures for and without a figure its `must_not` forbids,
//! is growth: a new answer, never a reason to refuse.
//!
//! Invariant: grading reads answers only; it never changes a snapshot.

use crate::domain::model::Answer;
use crate::knowledge::snapshot::Snapshot;
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

/// The gating question set, JSON lines.
pub const QUESTIONS: &str = include_str!("gating.jsonl");

#[derive(Debug, Clone, Deserialize)]
pub struct Item {
    pub id: String,
    pub cat: String,
    pub q: String,
    /// The years the item's answer depends on (none for an open question).
    #[serde(default)]
    pub years: Vec<u16>,
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

/// One gating item's answer from one snapshot, graded.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub id: String,
    pub question: String,
    /// None when the answer passes, else why it fails.
    pub failure: Option<String>,
    pub found: bool,
    /// The whole answer.
    pub answer: String,
}

impl Verdict {
    /// The answer's first line, as reports show it.
    pub fn first_line(&self) -> &str {
        self.answer.lines().next().unwrap_or_default()
    }
}

/// The gating set answered by one snapshot, with the years it has figures for.
#[derive(Debug, Clone, Default)]
pub struct Gating {
    pub verdicts: Vec<Verdict>,
    pub years: Vec<u16>,
}

impl Gating {
    /// Share (0..=1) of the items answered right.
    pub fn score(&self) -> f64 {
        if self.verdicts.is_empty() {
            return 1.0;
        }
        let passed = self.verdicts.iter().filter(|v| v.failure.is_none()).count();
        passed as f64 / self.verdicts.len() as f64
    }
}

/// An item whose answer differs between the old and the new knowledge.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: String,
    pub question: String,
    pub old: String,
    pub new: String,
    /// Why the new answer fails, for a regression.
    pub failure: Option<String>,
}

/// How the gating answers changed from the old knowledge to the new.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateReport {
    /// Right before, wrong or lost now: these refuse a reload (unless forced).
    pub regressions: Vec<Change>,
    /// Answered now and not before (growth: a new document states them).
    pub new_answers: Vec<Change>,
    /// Right before and now, in other words.
    pub changed: Vec<Change>,
}

/// Answers these items from a snapshot.
pub fn run_items(items: &[Item], snapshot: &Snapshot) -> Gating {
    let verdicts = items
        .iter()
        .map(|item| {
            let answer = snapshot.answer(&item.q);
            Verdict {
                id: item.id.clone(),
                question: item.q.clone(),
                failure: grade(item, &answer, true),
                found: answer.found,
                answer: answer.answer,
            }
        })
        .collect();
    Gating {
        verdicts,
        years: snapshot.years(),
    }
}

/// Compares the old knowledge's gating answers with the new one's.
pub fn compare(items: &[Item], old: &Gating, new: &Gating) -> GateReport {
    let mut report = GateReport::default();
    for item in items {
        let (Some(o), Some(n)) = (
            old.verdicts.iter().find(|v| v.id == item.id),
            new.verdicts.iter().find(|v| v.id == item.id),
        ) else {
            continue;
        };
        let change = Change {
            id: item.id.clone(),
            question: item.q.clone(),
            old: o.first_line().to_string(),
            new: n.first_line().to_string(),
            failure: n.failure.clone(),
        };
        match (o.failure.is_none(), n.failure.is_none()) {
            (true, false) if is_growth(item, n, new) => report.new_answers.push(change),
            (true, false) => report.regressions.push(change),
            (false, true) => report.new_answers.push(change),
            _ if o.answer != n.answer => report.changed.push(change),
            _ => {}
        }
    }
    report
}

/// A "no data" item the new knowledge answers for a year it has figures
/// for, with none of the figures the item forbids.
fn is_growth(item: &Item, new: &Verdict, knowledge: &Gating) -> bool {
    let answer = fold(&new.answer);
    !item.found
        && new.found
        && item.years.iter().all(|y| knowledge.years.contains(y))
        && !item.must_not.iter().any(|b| answer.contains(&fold(b)))
}
