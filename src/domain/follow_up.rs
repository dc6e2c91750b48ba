//! follow_up: "here is the question asked before and a short one that
//! leaves things out ("那2020年呢?", "出口环节呢?", "and in 2023?",
//! "件数呢?"), what does the short one ask?" The parts the new question
//! names (years, metric, dimensions, period) replace the previous
//! question's; the parts it leaves out are kept.
//!
//! Invariant: pure. A question that asks something of its own (a metric
//! and a year, words of its own subject, a summary) is not a follow-up:
//! `resolve` gives None and it is answered as it stands.

use crate::domain::model::Scope;
use crate::domain::understand::{Intent, Query};
use crate::domain::vocabulary::{contains_any, Vocabulary};

/// The question `next` asks when it follows `previous`, or None when it is
/// a question of its own (or `previous` gives nothing to fill it with).
pub fn resolve(previous: &Query, next: &Query, vocabulary: &Vocabulary) -> Option<Query> {
    if !is_partial(next, vocabulary) || previous.metric.is_none() && next.metric.is_none() {
        // Without a metric on either side only a year could be filled in,
        // and a bare year is a question of its own (the year's summary).
        return None;
    }
    let mut merged = previous.clone();
    merged.question = next.question.clone();
    merged.normalized = next.normalized.clone();
    merged.language = next.language;
    if !next.years.is_empty() {
        merged.years = next.years.clone();
    }
    if next.metric.is_some() {
        merged.metric = next.metric.clone();
    }
    for (kind, value) in &next.dims {
        match merged.dims.iter_mut().find(|(k, _)| k == kind) {
            Some(existing) => existing.1 = value.clone(),
            None => merged.dims.push((kind.clone(), value.clone())),
        }
    }
    merged.dims.sort();
    if next.scope != Scope::Nationwide {
        merged.scope = next.scope.clone();
    }
    if !next.qualifiers.is_empty() {
        merged.qualifiers = next.qualifiers.clone();
    }
    if names_a_period(next, vocabulary) {
        merged.period = next.period;
    }
    merged.wants_change |= next.wants_change;
    merged.wants_share |= next.wants_share;
    merged.intent = intent_of(&merged, previous, next, vocabulary);
    Some(merged)
}

/// Whether `next` leaves out a year or a metric and names nothing of its
/// own beyond what a follow-up fills in.
fn is_partial(next: &Query, vocabulary: &Vocabulary) -> bool {
    let own_subject = next
        .subject
        .iter()
        .any(|w| !vocabulary.question.follow_up.iter().any(|f| f == w));
    let complete = next.metric.is_some() && !next.years.is_empty();
    let names_something = next.metric.is_some()
        || !next.years.is_empty()
        || !next.dims.is_empty()
        || next.scope != Scope::Nationwide
        || !next.qualifiers.is_empty()
        || names_a_period(next, vocabulary);
    let asks_summary = contains_any(&next.normalized, &vocabulary.intents.summary);
    names_something && !complete && !own_subject && !asks_summary
}

fn names_a_period(query: &Query, vocabulary: &Vocabulary) -> bool {
    !vocabulary.period_hits(&query.normalized).is_empty()
}

fn intent_of(merged: &Query, previous: &Query, next: &Query, vocabulary: &Vocabulary) -> Intent {
    let i = &vocabulary.intents;
    let asks_trend = contains_any(&next.normalized, &i.trend);
    match (&merged.metric, merged.years.len()) {
        (Some(_), _) if asks_trend => Intent::Trend,
        (Some(_), 0) => Intent::Trend,
        (Some(_), 1) => Intent::Fact,
        (Some(_), _) => Intent::Comparison,
        (None, _) => previous.intent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::PeriodKind;
    use crate::domain::understand::understand;

    fn vocabulary() -> Vocabulary {
        Vocabulary::parse(include_str!("../../knowledge/vocabulary.toml")).unwrap()
    }

    /// (years, metric, dims, intent) a follow-up should ask.
    type Expected<'a> = (&'a [u16], &'a str, &'a [(&'a str, &'a str)], Intent);

    /// (years, metric, dims, intent) of `next` after `previous`, or None.
    fn check(previous: &str, next: &str, expected: Option<Expected>) {
        let v = vocabulary();
        let got = resolve(&understand(previous, &v), &understand(next, &v), &v);
        let got = got.as_ref().map(|q| {
            (
                q.years.clone(),
                q.metric.clone().unwrap_or_default(),
                q.dims.clone(),
                q.intent,
            )
        });
        let expected = expected.map(|(y, m, d, i)| {
            let dims: Vec<(String, String)> = d
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            (y.to_vec(), m.to_string(), dims, i)
        });
        assert_eq!(got, expected, "{previous} → {next}");
    }

    #[test]
    fn a_year_alone_keeps_the_metric_asked_before() {
        check(
            "2024年扣留多少件?",
            "那2020年呢?",
            Some((&[2020], "detained_pieces", &[], Intent::Fact)),
        );
        check(
            "How many batches were detained in 2024?",
            "and in 2020?",
            Some((&[2020], "detained_batches", &[], Intent::Fact)),
        );
    }

    #[test]
    fn a_metric_alone_keeps_the_year_asked_before() {
        check(
            "2024年扣留多少批?",
            "件数呢?",
            Some((&[2024], "detained_pieces", &[], Intent::Fact)),
        );
    }

    #[test]
    fn a_dimension_alone_is_added_to_the_question_before() {
        let v = vocabulary();
        let next = understand("出口环节呢?", &v);
        assert!(!next.dims.is_empty(), "{next:?}");
        let merged = resolve(&understand("2024年扣留多少批?", &v), &next, &v).unwrap();
        assert_eq!(merged.years, [2024]);
        assert_eq!(merged.metric.as_deref(), Some("detained_batches"));
        assert_eq!(merged.dims, next.dims);
        assert_eq!(merged.period, PeriodKind::Year);
    }

    #[test]
    fn a_customs_house_alone_narrows_the_question_before_to_it() {
        let v = vocabulary();
        let previous = understand("2021年扣留多少批?", &v);
        let next = understand("福州海关呢?", &v);
        let got = resolve(&previous, &next, &v).expect("a follow-up");
        assert_eq!(got.scope, Scope::Customs("福州海关".into()));
        assert_eq!((got.years, got.metric), (vec![2021], previous.metric));
    }

    #[test]
    fn a_question_of_its_own_is_not_a_follow_up() {
        check("2024年扣留多少件?", "2020年扣留多少批?", None);
        check("2024年扣留多少件?", "2020年概况", None);
        check("2024年扣留多少件?", "什么是龙腾行动?", None);
        // Nothing to fill in from: a bare year stays the year's question.
        check("2024年概况", "那2020年呢?", None);
    }
}
