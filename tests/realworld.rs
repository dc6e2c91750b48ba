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
//!   only, never mid-word (what check.py's substring grading cannot see);
//! - an off-topic question (a passport, the weather) gets no passage;
//! - a question naming a campaign and its year gets the campaign's own
//!   figure for its months (龙腾 3月至11月), and the year's question never
//!   gets the campaign's figure.

mod support;

use customs_ip_bot::domain::model::AnswerKind;
use customs_ip_bot::knowledge::snapshot::Snapshot;
use std::sync::OnceLock;
use support::fixture_set::FixtureSet;

fn realworld() -> FixtureSet {
    FixtureSet::named("realworld")
}

/// The seed knowledge with the fixture documents dropped into its
/// documents/, built once per test binary.
fn realworld_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| realworld().snapshot())
}

#[test]
fn the_realworld_fixture_is_labelled_made_up_and_large_enough() {
    realworld().assert_labelled_and_large_enough(20, 80);
}

/// Graded like the shared checker with --strict --max-wrong 0 --min 0.95.
#[test]
fn realworld_reports_answer_their_questions_strictly_with_no_wrong_figure() {
    realworld().assert_floor_and_no_wrong_figure(realworld_snapshot(), 0.95);
}

#[test]
fn realworld_passage_answers_quote_each_sentence_once_and_end_at_sentence_ends() {
    let faults = realworld().passage_faults(realworld_snapshot());
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// Questions off the topic of the corpus get no passage (found=false),
/// however many generic words (办理, apply, 怎么样) they share with it.
#[test]
fn off_topic_questions_get_no_passage_beside_the_realworld_documents() {
    let snapshot = realworld_snapshot();
    for question in [
        "如何办理护照?",
        "如何辦理護照？",
        "How do I apply for a passport?",
        "今天天气怎么样?",
        "What's the weather like today?",
    ] {
        let answer = snapshot.answer(question);
        assert!(
            !answer.found && answer.kind == AnswerKind::None,
            "{question:?} got {} found={}: {}",
            answer.kind.as_str(),
            answer.found,
            answer.answer
        );
    }
}

#[test]
fn a_campaign_question_gets_its_months_figure_and_the_years_question_never_does() {
    let snapshot = realworld_snapshot();
    let campaign = snapshot.answer("龙腾行动2023期间扣留侵权嫌疑货物多少批");
    let first = campaign.answer.lines().next().unwrap_or("");
    assert!(
        campaign.kind == AnswerKind::Fact && first.contains("1.85万") && first.contains("3-11月"),
        "{}",
        campaign.answer
    );
    let year = snapshot.answer("2023年扣留多少批");
    assert!(
        year.answer.contains("6.21万") && !year.answer.contains("1.85万"),
        "{}",
        year.answer
    );
}
