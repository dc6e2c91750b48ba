//! A fresh set (tests/data/fresh), written after reading real published
//! articles in styles the other sets lack, end to end.
//!
//! Properties checked here:
//! - the set is what it claims: at least 20 documents, each saying it is
//!   made up (in its front matter or first lines, in any of its encodings),
//!   and at least 90 questions over fact, compare, trend, summary, passage
//!   and no-data items;
//! - dropped beside the seed reports (and nothing else), its documents
//!   answer their question set strictly at 96% or better, and no wrong
//!   figure is stated (counted as ../shared/eval/check.py counts them):
//!   a campaign's figure, a year compared with, a figure for a part (ex
//!   officio, a goods category, a region, the Olympic marks) or a page's
//!   navigation headline never becomes the nationwide total;
//! - its passage answers quote no sentence twice and end at sentence ends.

mod support;

use customs_ip_bot::knowledge::formats::read_document;
use customs_ip_bot::knowledge::snapshot::Snapshot;
use std::sync::OnceLock;
use support::fixture_set::FixtureSet;

fn fresh() -> FixtureSet {
    FixtureSet::named("fresh")
}

fn fresh_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| fresh().snapshot())
}

#[test]
fn the_fresh_set_is_labelled_made_up_and_large_enough() {
    let set = fresh();
    let paths = set.documents();
    assert!(paths.len() >= 20, "{} documents", paths.len());
    for path in &paths {
        let bytes = std::fs::read(path).unwrap();
        let text = read_document(path, &bytes).unwrap().text;
        let head: String = text.lines().take(12).collect::<Vec<_>>().join("\n");
        let raw_head: String = String::from_utf8_lossy(&bytes).chars().take(600).collect();
        let says_made_up = |t: &str| {
            let t = t.to_lowercase();
            ["made-up", "虚构", "虛構"].iter().any(|w| t.contains(w))
        };
        assert!(
            says_made_up(&head) || says_made_up(&raw_head),
            "{} does not say it is made up",
            path.display()
        );
    }
    let items = set.items();
    assert!(items.len() >= 90, "{} questions", items.len());
    for cat in ["fact", "compare", "trend", "summary", "passage", "none"] {
        assert!(
            items.iter().any(|i| i.cat == cat),
            "no question of category {cat}"
        );
    }
}

/// Graded like the shared checker with --strict --max-wrong 0 --min 0.96.
#[test]
fn fresh_reports_answer_their_questions_strictly_with_no_wrong_figure() {
    fresh().assert_floor_and_no_wrong_figure(fresh_snapshot(), 0.96);
}

#[test]
fn fresh_passage_answers_quote_each_sentence_once_and_end_at_sentence_ends() {
    let faults = fresh().passage_faults(fresh_snapshot());
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}
