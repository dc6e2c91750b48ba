//! understand: "here is a question, what does it ask?" Years, period,
//! metric, dimensions, intent, language, and the words left over that name
//! the question's own subject.
//!
//! Invariant: pure; "not understood" is a value (no metric, no years), not
//! an error.

use crate::domain::model::{Language, PeriodKind, Scope};
use crate::domain::normalize::detect_language;
use crate::domain::numbers::chinese_year;
use crate::domain::vocabulary::{contains_any, Vocabulary};
use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// One figure.
    Fact,
    /// Two or more years side by side.
    Comparison,
    /// Every year the table has.
    Trend,
    /// A year's overview.
    Summary,
    /// Anything else: answered from passages.
    Open,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub question: String,
    pub normalized: String,
    pub language: Language,
    pub years: Vec<u16>,
    /// The period asked for; `Year` unless a quarter, half or year end is named.
    pub period: PeriodKind,
    pub metric: Option<String>,
    pub dims: Vec<(String, String)>,
    /// Whose figure: a customs house the question names (福州海关), else
    /// the nation's.
    pub scope: Scope,
    /// Subject words naming a part the vocabulary does not know, with the
    /// word after them that says so (行邮渠道, 东部沿海地区): only a row with
    /// that qualifier answers.
    pub qualifiers: Vec<String>,
    pub intent: Intent,
    pub wants_change: bool,
    pub wants_share: bool,
    /// Words naming the question's own subject (not vocabulary, numbers or
    /// filler), e.g. 电动平衡车.
    pub subject: Vec<String>,
}

impl Query {
    /// The question a year's summary answers (`/summary 2024`).
    pub fn summary(year: u16, language: Language) -> Query {
        Query {
            question: String::new(),
            normalized: year.to_string(),
            language,
            years: vec![year],
            period: PeriodKind::Year,
            metric: None,
            dims: vec![],
            scope: Scope::Nationwide,
            qualifiers: vec![],
            intent: Intent::Summary,
            wants_change: false,
            wants_share: false,
            subject: vec![],
        }
    }
}

static YEAR_DIGITS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\d.])((?:19|20)\d{2})(?:[^\d]|$)").unwrap());
static YEAR_SHORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\d.])(\d{2})年").unwrap());
static YEAR_HAN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"([〇零一二三四五六七八九]{4})年").unwrap());

/// Reads a question.
pub fn understand(question: &str, vocabulary: &Vocabulary) -> Query {
    let language = detect_language(question);
    let normalized = vocabulary.normalize(question);
    let q = normalized.as_str();
    let (mut years, han_year_spans) = read_years(q);
    let period_hits = vocabulary.period_hits(q);
    let month_ranges = crate::domain::numbers::month_ranges(q);
    let mut period = read_period(q, &period_hits, &month_ranges, vocabulary);
    // "“十四五”期间（2021—2025年）累计…": one cumulative period, from its
    // first year.
    if let Some((from, to, month)) = crate::domain::span::asked_span(q, vocabulary) {
        years = vec![from];
        period = PeriodKind::Span(to, month);
    }
    let dim_hits = vocabulary.dimension_hits(q);
    let (metric, metric_hits) = read_metric(q, vocabulary, &dim_hits);
    let dims = read_dims(&dim_hits);
    let mut customs = crate::domain::extract::customs_house_names(q, vocabulary);
    if language == Language::English {
        customs.extend(crate::domain::extract::customs_house_names_en(
            q, vocabulary,
        ));
    }
    let scope = customs
        .first()
        .map_or(Scope::Nationwide, |c| Scope::Customs(c.2.clone()));
    let i = &vocabulary.intents;
    let mut known: Vec<(usize, usize)> = metric_hits;
    known.extend(period_hits.iter().map(|h| (h.0, h.1)));
    known.extend(han_year_spans.iter().map(|h| (h.0, h.1)));
    known.extend(dim_hits.iter().map(|h| (h.start, h.end)));
    known.extend(customs.iter().map(|c| (c.0, c.1)));
    known.extend(month_ranges.iter().map(|r| (r.start, r.end)));
    let subject = subject_words(q, vocabulary, &known);
    let qualifiers = qualifier_words(q, vocabulary, &subject);
    let intent = intent_of(q, vocabulary, metric.is_some(), years.len(), &subject);
    let wants_change = contains_any(q, &i.yoy);
    let wants_share = contains_any(q, &i.share);
    Query {
        question: question.to_string(),
        normalized,
        language,
        years,
        period,
        metric,
        dims,
        scope,
        qualifiers,
        intent,
        wants_change,
        wants_share,
        subject,
    }
}

/// The years asked about, in order of mention, once each; and the spans of
/// years written in Chinese numerals (letters, not digits, so that they
/// are not taken for the subject).
fn read_years(q: &str) -> (Vec<u16>, Vec<(usize, usize, usize)>) {
    let mut years: Vec<(usize, u16)> = Vec::new();
    for c in YEAR_DIGITS.captures_iter(q) {
        let m = c.get(1).expect("group 1");
        if let Ok(y) = m.as_str().parse() {
            years.push((m.start(), y));
        }
    }
    // (Short and Chinese-numeral years are written with 年.)
    let nian = q.contains('年');
    for c in YEAR_SHORT.captures_iter(if nian { q } else { "" }) {
        let m = c.get(1).expect("group 1");
        if let Ok(y) = m.as_str().parse::<u16>() {
            years.push((m.start(), 2000 + y));
        }
    }
    let mut han_year_spans: Vec<(usize, usize, usize)> = Vec::new();
    for c in YEAR_HAN.captures_iter(if nian { q } else { "" }) {
        let m = c.get(1).expect("group 1");
        if let Some(y) = chinese_year(m.as_str()) {
            years.push((m.start(), y));
            let whole = c.get(0).expect("match");
            han_year_spans.push((whole.start(), whole.end(), 0));
        }
    }
    years.sort();
    let mut year_list: Vec<u16> = Vec::new();
    for (_, y) in &years {
        if !year_list.contains(y) {
            year_list.push(*y);
        }
    }
    (year_list, han_year_spans)
}

/// The period asked for: the longest period word; a named month (2025年6
/// 月) is a period no row holds; else the year.
fn read_period(
    q: &str,
    period_hits: &[(usize, usize, PeriodKind)],
    month_ranges: &[crate::domain::numbers::MonthRange],
    vocabulary: &Vocabulary,
) -> PeriodKind {
    // "2025年1至11月", "from January to October": a range of months.
    if let Some(r) = month_ranges.first() {
        return PeriodKind::months(r.from, r.to);
    }
    if let Some(&(_, _, kind)) = period_hits.iter().max_by_key(|h| h.1 - h.0) {
        return kind;
    }
    // "截至7月底", "截至2025年12月20日": the year so far up to a month, a
    // period no row holds (never the full year).
    static AS_OF_MONTH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(\d{1,2})\s*月\s*(?:底|末|(\d{1,2})\s*日)").expect("fixed pattern")
    });
    let as_of = crate::domain::vocabulary::find_words(
        q,
        vocabulary.periods.as_of.iter().map(String::as_str),
    );
    if let Some(&(_, end, _)) = as_of.first() {
        // (Up to 12月31日 is the whole year.)
        let month = AS_OF_MONTH
            .captures(&q[end..])
            .filter(|c| !(&c[1] == "12" && c.get(2).is_some_and(|d| d.as_str() == "31")))
            .and_then(|c| c[1].parse::<u8>().ok())
            .filter(|m| (1..=12).contains(m));
        if let Some(m) = month {
            return PeriodKind::Month(m);
        }
    }
    crate::domain::numbers::month_mentions(q)
        .into_iter()
        .find(|m| !m.month_end)
        .map_or(PeriodKind::Year, |m| PeriodKind::Month(m.month))
}

/// The metric: the longest ask word; words naming a metric beat words that
/// only name its unit; an ask word inside a longer dimension word (企业 in
/// 国内企业) names no metric. Also the hits, to cover them in the subject.
fn read_metric(
    q: &str,
    vocabulary: &Vocabulary,
    dim_hits: &[crate::domain::vocabulary::DimensionHit],
) -> (Option<String>, Vec<(usize, usize)>) {
    let inside_dimension = |h: &(usize, usize, &(String, bool))| {
        dim_hits
            .iter()
            .any(|d| d.start <= h.0 && d.end >= h.1 && d.end - d.start > h.1 - h.0)
    };
    let asked: Vec<(usize, usize, &(String, bool))> = vocabulary
        .ask_hits(q)
        .into_iter()
        .filter(|h| !inside_dimension(h))
        .collect();
    let metric = asked
        .iter()
        .max_by_key(|h| (h.2 .1, h.1 - h.0, h.0))
        .map(|h| h.2 .0.clone());
    let metric_hits = asked.iter().map(|h| (h.0, h.1)).collect();
    (metric, metric_hits)
}

/// One value per dimension kind, the last named; words naming the whole
/// (进出口) name none.
fn read_dims(dim_hits: &[crate::domain::vocabulary::DimensionHit]) -> Vec<(String, String)> {
    let mut dims: Vec<(String, String)> = Vec::new();
    for hit in dim_hits.iter().filter(|h| !h.value.is_empty()) {
        if let Some(existing) = dims.iter_mut().find(|(k, _)| *k == hit.kind) {
            existing.1 = hit.value.clone();
        } else {
            dims.push((hit.kind.clone(), hit.value.clone()));
        }
    }
    dims.sort();
    dims
}

/// What is left of the question once the `known` spans, intent words and
/// filler are taken out: the question's own subject (电动平衡车, 行邮).
fn subject_words(q: &str, vocabulary: &Vocabulary, known: &[(usize, usize)]) -> Vec<String> {
    let mut covered = vec![false; q.len()];
    let mut cover = |s: usize, e: usize| covered[s..e].iter_mut().for_each(|c| *c = true);
    for &(s, e) in known {
        cover(s, e);
    }
    for (s, e) in vocabulary.not_subject_spans(q) {
        cover(s, e);
    }
    let mut subject = Vec::new();
    let mut current = String::new();
    for (pos, ch) in q.char_indices() {
        if !covered[pos] && ch.is_alphabetic() {
            current.push(ch);
        } else if !current.is_empty() {
            subject.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        subject.push(current);
    }
    subject.retain(|w| w.chars().count() >= 2);
    subject
}

/// Subject words followed by a qualifier suffix (行邮 + 渠道).
fn qualifier_words(q: &str, vocabulary: &Vocabulary, subject: &[String]) -> Vec<String> {
    let suffixes = &vocabulary.frame.qualifier_suffixes;
    let mut out = Vec::new();
    for word in subject {
        for (pos, _) in q.match_indices(word.as_str()) {
            let after = &q[pos + word.len()..];
            if let Some(suffix) = suffixes.iter().find(|w| after.starts_with(w.as_str())) {
                let literal = format!("{word}{suffix}");
                if !out.contains(&literal) {
                    out.push(literal);
                }
            }
        }
    }
    out
}

fn intent_of(
    q: &str,
    vocabulary: &Vocabulary,
    has_metric: bool,
    years: usize,
    subject: &[String],
) -> Intent {
    let i = &vocabulary.intents;
    if contains_any(q, &i.summary) && !has_metric {
        Intent::Summary
    } else if has_metric
        && (contains_any(q, &i.trend)
            || (years == 1 && contains_any(q, &i.since) && contains_any(q, &i.comparison)))
    {
        Intent::Trend
    } else if years >= 2 {
        Intent::Comparison
    } else if has_metric && years == 0 && subject.is_empty() {
        Intent::Trend
    } else if has_metric && years > 0 {
        Intent::Fact
    } else if contains_any(q, &i.summary) && years > 0 {
        Intent::Summary
    } else {
        Intent::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::parse(include_str!("../../knowledge/vocabulary.toml")).unwrap()
    }

    fn check(
        question: &str,
        years: &[u16],
        period: PeriodKind,
        metric: Option<&str>,
        intent: Intent,
    ) {
        let q = understand(question, &vocabulary());
        assert_eq!(
            (q.years.as_slice(), q.period, q.metric.as_deref(), q.intent),
            (years, period, metric, intent),
            "{question}: {q:?}"
        );
    }

    #[test]
    fn years_in_every_writing() {
        check(
            "2024年扣留多少批?",
            &[2024],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "２０２４年扣留多少批？",
            &[2024],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "二〇二四年扣留多少批",
            &[2024],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "24年扣留多少批",
            &[2024],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "How many batches were detained in 2024?",
            &[2024],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Fact,
        );
    }

    #[test]
    fn a_year_in_chinese_numerals_is_not_a_subject() {
        let q = understand("二〇二四年实施了多少次保护措施", &vocabulary());
        assert_eq!(q.years, vec![2024]);
        assert!(q.subject.is_empty(), "{:?}", q.subject);
        assert_eq!(q.intent, Intent::Fact);
    }

    #[test]
    fn a_named_metric_beats_a_unit_word() {
        check(
            "2022年新增备案多少件",
            &[2022],
            PeriodKind::Year,
            Some("filings"),
            Intent::Fact,
        );
        check(
            "2022年扣留多少件",
            &[2022],
            PeriodKind::Year,
            Some("detained_pieces"),
            Intent::Fact,
        );
    }

    #[test]
    fn periods_are_read() {
        check(
            "2025年6月扣留了多少批",
            &[2025],
            PeriodKind::Month(6),
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "2025年1-6月扣留了多少批",
            &[2025],
            PeriodKind::FirstHalf,
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "2021年一季度查扣了多少批次",
            &[2021],
            PeriodKind::Quarter(1),
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "2021年Q1扣留多少批",
            &[2021],
            PeriodKind::Quarter(1),
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "2021年前三季度扣留多少批",
            &[2021],
            PeriodKind::FirstQuarters(3),
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "截至2016年底备案的知识产权有多少项",
            &[2016],
            PeriodKind::YearEnd,
            Some("recorded_rights"),
            Intent::Fact,
        );
    }

    #[test]
    fn metrics_in_traditional_and_english() {
        check(
            "2024年扣留多少批貨物?",
            &[2024],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Fact,
        );
        check(
            "2020年審核通過了多少件備案申請",
            &[2020],
            PeriodKind::Year,
            Some("filings"),
            Intent::Fact,
        );
        check(
            "How many items did customs detain in 2020?",
            &[2020],
            PeriodKind::Year,
            Some("detained_pieces"),
            Intent::Fact,
        );
    }

    #[test]
    fn intents_are_told_apart() {
        check(
            "2024年和2020年相比扣留批次有什么变化?",
            &[2024, 2020],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Comparison,
        );
        check(
            "历年扣留侵权嫌疑货物的批次是多少",
            &[],
            PeriodKind::Year,
            Some("detained_batches"),
            Intent::Trend,
        );
        check(
            "2024年知识产权海关保护概况",
            &[2024],
            PeriodKind::Year,
            None,
            Intent::Summary,
        );
        check("什么是蓝网行动?", &[], PeriodKind::Year, None, Intent::Open);
    }

    #[test]
    fn dimensions_and_subject_words() {
        let q = understand(
            "2024年涉嫌侵犯商标权的货物在进口环节扣留了多少批",
            &vocabulary(),
        );
        assert_eq!(
            q.dims,
            [
                ("ip_type".to_string(), "trademark".to_string()),
                ("stage".to_string(), "import".to_string())
            ]
        );
        assert!(q.subject.is_empty(), "{:?}", q.subject);
        let q = understand("电动平衡车专项行动查获了多少批次?", &vocabulary());
        assert!(
            q.subject.iter().any(|w| w.contains("电动平衡车")),
            "{:?}",
            q.subject
        );
    }

    #[test]
    fn a_named_customs_house_is_the_scope_not_a_subject() {
        let q = understand("2021年福州海关扣留多少批?", &vocabulary());
        assert_eq!(q.scope, Scope::Customs("福州海关".into()));
        assert!(q.subject.is_empty(), "{:?}", q.subject);
        let q = understand("2021年全国海关扣留多少批?", &vocabulary());
        assert_eq!(q.scope, Scope::Nationwide);
    }

    #[test]
    fn an_unknown_channel_is_a_subject_word() {
        let q = understand("2018年行邮渠道查扣多少批次", &vocabulary());
        assert!(
            q.subject.iter().any(|w| w.contains("行邮")),
            "{:?}",
            q.subject
        );
        assert_eq!(q.qualifiers, ["行邮渠道"]);
    }

    #[test]
    fn any_text_is_understood_without_panic() {
        for text in [
            "",
            " ",
            "AND ( \" * : ~ ^",
            "'; DROP TABLE facts; --",
            "😀😀",
            "\u{0}\u{7}",
            &"长".repeat(100_000),
        ] {
            let _ = understand(text, &vocabulary());
        }
    }
}
