//! span: "does this text speak of several years at once?" A named plan
//! period (十三五), a range of years with a word adding them up
//! (2021—2025年累计, "total 2021–2025"), a running total since a year or a
//! plan's start up to a month's end (截至今年6月底"十四五"以来), or words
//! naming several years without saying which (五年来). Sentences
//! (extract) and questions (understand) are read the same way.
//!
//! Invariant: pure; which words mean what comes from the vocabulary.

use crate::domain::vocabulary::{contains_any, find_words, Vocabulary};
use regex::Regex;
use std::sync::LazyLock;

/// First year, last year, last month of the last year (12: all of it).
pub type Years = (u16, u16, u8);

/// Several years spoken of, from `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanMention {
    pub start: usize,
    /// None when the text does not say which years (五年来, a range no
    /// word adds up, a running total with no end, a plan not yet over).
    pub years: Option<Years>,
    /// The text that belongs to the mention (the range, the 截至 end): no
    /// year written there is a figure's own year.
    pub covers: Vec<(usize, usize)>,
}

impl SpanMention {
    pub fn covers(&self, pos: usize) -> bool {
        self.covers.iter().any(|&(a, b)| pos >= a && pos < b)
    }
}

/// "2016—2020年", "2021年至2025年6月", "from 2021 to 2025", "between
/// 2016 and 2020", "2021–2025".
static RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?P<between>\bbetween\s+)?(?P<from>(?:19|20)\d{2})\s*年?\s*(?P<sep>-|–|—|―|~|至|到|\bto\b|\bthrough\b|\band\b)\s*(?P<to>(?:19|20)\d{2})(?:\s*年(?:\s*(?P<month>\d{1,2})\s*月(?:底|末|份)?)?)?",
    )
    .expect("fixed pattern")
});

/// What follows 截至: "今年6月底", "2025年6月", "6月30日".
static AS_OF_END: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:(?P<year>(?:19|20)\d{2})\s*年|(?P<rel>\p{Han}{1,2}?))?\s*(?P<month>\d{1,2})\s*月(?:份)?(?P<end>底|末)?(?:\s*(?P<day>\d{1,2})\s*日)?")
        .expect("fixed pattern")
});

/// "2021年以来", "since 2021": a year a running total starts from.
static YEAR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:19|20)\d{2}").expect("fixed pattern"));

/// Every span the text speaks of, in order. `published`: the year the
/// text was published (a sentence's; None for a question), which says
/// whether a plan is over and what 今年 is.
pub fn span_mentions(s: &str, v: &Vocabulary, published: Option<u16>) -> Vec<SpanMention> {
    // Every span is a plan's name, a year (a range's or a running total's
    // start) or a word for several years: a text with none has none.
    let p = &v.periods;
    if !YEAR.is_match(s) && !contains_any(s, &p.several_years) && !names_a_plan(s, v) {
        return Vec::new();
    }
    let end = as_of_end(s, v, published);
    let mut out = plan_mentions(s, v, published, &end);
    out.extend(range_mentions(s, v));
    out.extend(since_mentions(s, v, published, &end));
    out.sort_by_key(|m| m.start);
    // "五年来", "over the past five years": the years named before in the
    // sentence, else none that can be told.
    let several = find_words(s, v.periods.several_years.iter().map(String::as_str));
    for (a, b, _) in several {
        if out.iter().any(|m| m.covers(a)) {
            continue;
        }
        let years = out.iter().rev().find(|m| m.start < a).and_then(|m| m.years);
        out.push(SpanMention {
            start: a,
            years,
            covers: vec![(a, b)],
        });
    }
    out.sort_by_key(|m| m.start);
    out
}

/// Whether `s` names a plan the vocabulary knows (十三五).
fn names_a_plan(s: &str, v: &Vocabulary) -> bool {
    v.periods.plans.iter().any(|p| contains_any(s, &p.words))
}

/// The cumulative period a question asks for: a plan (十四五期间), a
/// range with a word adding it up ("total … from 2021 to 2025"), a
/// running total up to a month (截至2025年6月底，"十四五"以来).
pub fn asked_span(q: &str, v: &Vocabulary) -> Option<Years> {
    // Only a plan's name, a word adding years up or a running total's end
    // gives a span its years: a question with none of them (most) asks for
    // no span, and is not read for one.
    let p = &v.periods;
    let may_ask = contains_any(q, &p.cumulative) || contains_any(q, &p.as_of) || names_a_plan(q, v);
    if !may_ask {
        return None;
    }
    span_mentions(q, v, None).into_iter().find_map(|m| m.years)
}

/// The month a running total ends at ("截至今年6月底"): its year, month
/// and where it is written; none when it ends inside a month (12月20日).
fn as_of_end(s: &str, v: &Vocabulary, published: Option<u16>) -> Option<(u16, u8, (usize, usize))> {
    for (a, b, _) in find_words(s, v.periods.as_of.iter().map(String::as_str)) {
        let Some(c) = AS_OF_END.captures(&s[b..]) else {
            continue;
        };
        let month: u8 = c["month"].parse().ok()?;
        let last_day = match month {
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let day: Option<u8> = c.name("day").and_then(|d| d.as_str().parse().ok());
        if !(1..=12).contains(&month) || day.is_some_and(|d| d < last_day) {
            return None;
        }
        let year = match (c.name("year"), c.name("rel")) {
            (Some(y), _) => y.as_str().parse().ok()?,
            (None, Some(rel)) => {
                let delta = v
                    .relative_years
                    .iter()
                    .find(|r| r.words.iter().any(|w| w == rel.as_str()))?
                    .delta;
                (published? as i32 + delta) as u16
            }
            (None, None) => published?,
        };
        return Some((year, month, (a, b + c[0].len())));
    }
    None
}

/// Plan names (十三五): the plan's years, or up to a running total's end.
fn plan_mentions(
    s: &str,
    v: &Vocabulary,
    published: Option<u16>,
    end: &Option<(u16, u8, (usize, usize))>,
) -> Vec<SpanMention> {
    let plans = &v.periods.plans;
    let words: Vec<(&str, usize)> = plans
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.words.iter().map(move |w| (w.as_str(), i)))
        .collect();
    let mut out = Vec::new();
    for (a, b, wi) in find_words(s, words.iter().map(|w| w.0)) {
        let plan = &plans[words[wi].1];
        let after = s[b..].trim_start_matches(|c: char| !c.is_alphanumeric());
        if v.periods
            .plan_year
            .iter()
            .any(|w| after.starts_with(w.as_str()))
        {
            continue;
        }
        let since = v
            .qualifiers
            .since_after
            .iter()
            .any(|w| after.starts_with(w.as_str()));
        let mut covers = vec![(a, b)];
        let years = match end {
            Some((y, m, at)) if *y >= plan.from && *y <= plan.to => {
                covers.push(*at);
                Some((plan.from, *y, *m))
            }
            _ if since || published.is_some_and(|p| p <= plan.to) => None,
            _ => Some((plan.from, plan.to, 12)),
        };
        out.push(SpanMention {
            start: a,
            years,
            covers,
        });
    }
    out
}

/// Ranges of years: the range's when a word adds it up (or a plan is
/// named with it), else none that can be told.
fn range_mentions(s: &str, v: &Vocabulary) -> Vec<SpanMention> {
    let adds_up = contains_any(s, &v.periods.cumulative) || names_a_plan(s, v);
    RANGE
        .captures_iter(s)
        .filter_map(|c| {
            let m = c.get(0)?;
            if &c["sep"] == "and" && c.name("between").is_none() {
                return None;
            }
            let from: u16 = c["from"].parse().ok()?;
            let to: u16 = c["to"].parse().ok()?;
            if to <= from || to - from > 20 {
                return None;
            }
            let month = c
                .name("month")
                .and_then(|m| m.as_str().parse().ok())
                .filter(|m| (1..=12).contains(m))
                .unwrap_or(12);
            Some(SpanMention {
                start: m.start(),
                years: adds_up.then_some((from, to, month)),
                covers: vec![(m.start(), m.end())],
            })
        })
        .collect()
}

/// A year a running total starts from (2021年以来, since 2021): up to the
/// running total's end, else none that can be told.
fn since_mentions(
    s: &str,
    v: &Vocabulary,
    published: Option<u16>,
    end: &Option<(u16, u8, (usize, usize))>,
) -> Vec<SpanMention> {
    let q = &v.qualifiers;
    YEAR.find_iter(s)
        .filter_map(|m| {
            let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
            if glued(s[..m.start()].chars().next_back()) || glued(s[m.end()..].chars().next()) {
                return None;
            }
            let rest = s[m.end()..].trim_start_matches(['年', ' ']);
            let head = s[..m.start()].trim_end();
            let since = q.since_after.iter().any(|w| rest.starts_with(w.as_str()))
                || q.since_before.iter().any(|w| head.ends_with(w.as_str()));
            if !since {
                return None;
            }
            let from: u16 = m.as_str().parse().ok()?;
            // (Since this year or the last, in a text of this year: that
            // year's running total, read as before.)
            if published.is_some_and(|p| from + 1 >= p) {
                return None;
            }
            let mut covers = vec![(m.start(), m.end())];
            let years = end.filter(|e| e.0 >= from).map(|(y, month, at)| {
                covers.push(at);
                (from, y, month)
            });
            Some(SpanMention {
                start: m.start(),
                years,
                covers,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::parse(include_str!("../../knowledge/vocabulary.toml")).unwrap()
    }

    fn years(s: &str, published: Option<u16>) -> Vec<Option<Years>> {
        let v = vocabulary();
        span_mentions(&v.normalize(s), &v, published)
            .into_iter()
            .map(|m| m.years)
            .collect()
    }

    #[test]
    fn a_plan_names_its_years_unless_it_names_one_of_them() {
        assert_eq!(
            years("“十三五”期间，全国海关累计", Some(2021)),
            vec![Some((2016, 2020, 12))]
        );
        assert!(years("“十三五”开局之年的2016年", Some(2021)).is_empty());
        // Not over when written: no years that can be told.
        assert_eq!(years("“十四五”期间，新增", Some(2025)), vec![None]);
    }

    #[test]
    fn a_running_total_ends_at_its_month() {
        assert_eq!(
            years("“十四五”以来，…截至今年6月底，全国海关累计查扣", Some(2025)),
            vec![Some((2021, 2025, 6))]
        );
        assert_eq!(years("“十四五”以来，立案侦办", Some(2025)), vec![None]);
        assert_eq!(
            years("截至12月20日，2021年以来累计", Some(2025)),
            vec![None]
        );
    }

    #[test]
    fn a_range_is_a_span_only_when_added_up() {
        assert_eq!(
            years("2021—2025年五年间，全国海关累计扣留", Some(2026)),
            vec![Some((2021, 2025, 12)), Some((2021, 2025, 12))]
        );
        assert_eq!(
            years("total 2021–2025: 289,100", Some(2026)),
            vec![Some((2021, 2025, 12))]
        );
        assert_eq!(
            years("2016—2020年，扣留批次从1.74万批增长到6.19万批", Some(2021)),
            vec![None]
        );
        assert_eq!(
            asked_span(
                "what was the total number of pieces detained from 2021 to 2025?",
                &vocabulary()
            ),
            Some((2021, 2025, 12))
        );
    }
}
