//! A held-out set (tests/data/heldout), written after studying real
//! published articles and kept apart from the engine's own sets, end to end.
//!
//! Properties checked here:
//! - the set is what it claims: at least 12 documents, each labelled a
//!   made-up fixture, and at least 60 questions over fact, compare, trend,
//!   summary, passage and no-data items;
//! - dropped beside the seed reports (and nothing else), its documents
//!   answer their question set strictly at 90% or better, and no wrong
//!   figure is stated (counted as ../shared/eval/check.py counts them);
//! - its passage answers quote no sentence twice and end at sentence ends.

mod support;

use customs_ip_bot::knowledge::snapshot::Snapshot;
use std::sync::OnceLock;
use support::fixture_set::FixtureSet;

fn heldout() -> FixtureSet {
    FixtureSet::named("heldout")
}

fn heldout_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| heldout().snapshot())
}

#[test]
fn the_heldout_set_is_labelled_made_up_and_large_enough() {
    heldout().assert_labelled_and_large_enough(12, 60);
}

/// Graded like the shared checker with --strict --max-wrong 0 --min 0.90.
#[test]
fn heldout_reports_answer_their_questions_strictly_with_no_wrong_figure() {
    heldout().assert_floor_and_no_wrong_figure(heldout_snapshot(), 0.90);
}

#[test]
fn heldout_passage_answers_quote_each_sentence_once_and_end_at_sentence_ends() {
    let faults = heldout().passage_faults(heldout_snapshot());
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}
