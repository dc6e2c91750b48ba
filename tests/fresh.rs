//! The fresh sets (tests/data/fresh and tests/data/fresh2), each written
//! after reading real published articles in styles the other sets lack,
//! end to end. fresh2 was written by an engineer who did not fix what it
//! found: press-conference transcripts, cumulative five-year totals,
//! tables, infographic text, a new year.
//!
//! Properties checked here:
//! - each set is what it claims: at least 20 documents, each saying it is
//!   made up (in its front matter or first lines, in any of its encodings),
//!   and at least 90 questions over fact, compare, trend, summary, passage
//!   and no-data items;
//! - dropped beside the seed reports (and nothing else), its documents
//!   answer their question set strictly at or above the set's floor, and
//!   no wrong figure is stated (counted as ../shared/eval/check.py counts
//!   them): a campaign's figure, a year compared with, a cumulative total
//!   over several years, a figure for a part or a page's navigation
//!   headline never becomes the nationwide total;
//! - its passage answers quote no sentence twice and end at sentence ends.

mod support;

use customs_ip_bot::knowledge::snapshot::Snapshot;
use std::sync::OnceLock;
use support::fixture_set::FixtureSet;

/// fresh2's floor: its score after the fixes it prompted, with a margin.
const FRESH2_FLOOR: f64 = 0.95;

fn fresh() -> FixtureSet {
    FixtureSet::named("fresh")
}

fn fresh2() -> FixtureSet {
    FixtureSet::named("fresh2")
}

fn fresh_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| fresh().snapshot())
}

fn fresh2_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| fresh2().snapshot())
}

#[test]
fn the_fresh_sets_are_labelled_made_up_and_large_enough() {
    fresh().assert_labelled_and_large_enough(20, 90);
    fresh2().assert_labelled_and_large_enough(20, 90);
}

/// Graded like the shared checker with --strict --max-wrong 0 --min 0.96.
#[test]
fn fresh_reports_answer_their_questions_strictly_with_no_wrong_figure() {
    fresh().assert_floor_and_no_wrong_figure(fresh_snapshot(), 0.96);
}

/// Graded like the shared checker with --strict --max-wrong 0 --min FRESH2_FLOOR.
#[test]
fn fresh2_reports_answer_their_questions_strictly_with_no_wrong_figure() {
    fresh2().assert_floor_and_no_wrong_figure(fresh2_snapshot(), FRESH2_FLOOR);
}

#[test]
fn fresh_passage_answers_quote_each_sentence_once_and_end_at_sentence_ends() {
    for (set, snapshot) in [(fresh(), fresh_snapshot()), (fresh2(), fresh2_snapshot())] {
        let faults = set.passage_faults(snapshot);
        assert!(faults.is_empty(), "{}", faults.join("\n"));
    }
}
