//! A set of made-up fixture documents with its question set
//! (tests/data/realworld, heldout, fresh, fresh2): its files, the seed
//! knowledge with its documents dropped in, and grading as
//! ../shared/eval/check.py grades (strict, wrong figures counted apart).

use super::copy_knowledge;
use customs_ip_bot::domain::model::{Answer, AnswerKind};
use customs_ip_bot::knowledge::formats::read_document;
use customs_ip_bot::knowledge::gating::{self, Item};
use customs_ip_bot::knowledge::snapshot::Snapshot;
use std::path::{Path, PathBuf};

/// `tests/data/NAME`: documents/ and questions.jsonl.
pub struct FixtureSet {
    dir: PathBuf,
}

/// How a set fared: the share answered, and the failures as lines.
pub struct Grade {
    pub score: f64,
    pub misses: Vec<String>,
    pub wrong: Vec<String>,
}

impl FixtureSet {
    pub fn named(name: &str) -> Self {
        FixtureSet {
            dir: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(name),
        }
    }

    pub fn documents(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.dir.join("documents"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        paths
    }

    pub fn items(&self) -> Vec<Item> {
        let text = std::fs::read_to_string(self.dir.join("questions.jsonl")).unwrap();
        gating::items(&text)
    }

    /// The seed knowledge with the set's documents dropped into its
    /// documents/.
    pub fn snapshot(&self) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        let knowledge = copy_knowledge(dir.path());
        for path in self.documents() {
            std::fs::copy(
                &path,
                knowledge.join("documents").join(path.file_name().unwrap()),
            )
            .unwrap();
        }
        let files = customs_ip_bot::knowledge::files::load(&knowledge).unwrap();
        Snapshot::build_in_memory(&files).unwrap()
    }

    /// Fails unless every document says it is made up (in its first
    /// lines as read, in any of its encodings, or in its raw head), there
    /// are at least `documents` of them and `questions` items over every
    /// category (a "no data" item filed as `nodata` or `none`).
    pub fn assert_labelled_and_large_enough(&self, documents: usize, questions: usize) {
        let paths = self.documents();
        assert!(paths.len() >= documents, "{} documents", paths.len());
        let says_made_up = |t: &str| {
            let t = t.to_lowercase();
            ["made-up", "虚构", "虛構"].iter().any(|w| t.contains(w))
        };
        for path in &paths {
            let bytes = std::fs::read(path).unwrap();
            let text = read_document(path, &bytes).unwrap().text;
            let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
            let raw_head: String = String::from_utf8_lossy(&bytes).chars().take(600).collect();
            assert!(
                says_made_up(&head) || says_made_up(&raw_head),
                "{} does not say it is made up",
                path.display()
            );
        }
        let items = self.items();
        assert!(items.len() >= questions, "{} questions", items.len());
        for cats in [
            &["fact"][..],
            &["compare"],
            &["trend"],
            &["summary"],
            &["passage"],
            &["nodata", "none"],
        ] {
            assert!(
                items.iter().any(|i| cats.contains(&i.cat.as_str())),
                "no question of category {cats:?}"
            );
        }
    }

    /// Every item asked of `snapshot`, graded strictly.
    pub fn grade(&self, snapshot: &Snapshot) -> Grade {
        let items = self.items();
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
        Grade {
            score: 1.0 - failed as f64 / items.len() as f64,
            misses,
            wrong,
        }
    }

    /// Fails below `floor` or with any wrong figure stated, listing both.
    pub fn assert_floor_and_no_wrong_figure(&self, snapshot: &Snapshot, floor: f64) {
        let g = self.grade(snapshot);
        assert!(
            g.score >= floor && g.wrong.is_empty(),
            "score {:.3} (floor {floor}), {} wrong figures stated\nwrong figures:\n{}\nmisses:\n{}",
            g.score,
            g.wrong.len(),
            g.wrong.join("\n"),
            g.misses.join("\n")
        );
    }

    /// Passage answers of the set that quote a sentence twice or are cut
    /// elsewhere than at a sentence end.
    pub fn passage_faults(&self, snapshot: &Snapshot) -> Vec<String> {
        self.items()
            .iter()
            .filter_map(|item| {
                let answer = snapshot.answer(&item.q);
                if answer.kind != AnswerKind::Passage {
                    return None;
                }
                passage_fault(&answer).map(|why| format!("{} {:?}: {why}", item.id, item.q))
            })
            .collect()
    }
}

/// A failed item that the bot answered with a figure anyway: a figure
/// question answered by a fact row that is not the one asked, or a no-data
/// question answered with a figure. A "no data" where a figure was wanted is
/// a miss, not a wrong figure (the rule of check.py).
pub fn states_a_wrong_figure(item: &Item, answer: &Answer) -> bool {
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
