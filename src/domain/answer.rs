//! answer: "here is an understood question and the knowledge, what is the
//! reply?" A figure from the fact table (cited to its sentence), a
//! comparison or trend computed from fact rows with the arithmetic shown, a
//! year's summary, the best passage, or "no data" with what the bot has.
//!
//! Invariant: never answers a year or period with another one's figure;
//! every figure in a reply is a fact row or computed from fact rows. No IO:
//! passages are found through the corpus's `PassageSearch`.

use crate::domain::corpus::{Corpus, Knowledge};
use crate::domain::model::{
    Answer, AnswerKind, Fact, FactRef, Language, Period, PeriodKind, Scope, SourceRef,
    QUALIFIER_DIM,
};
use crate::domain::numbers::figures_agree;
use crate::domain::replies;
use crate::domain::understand::{Intent, Query};
use std::collections::BTreeSet;

/// Share of a question's weighted words a passage must hold to be an answer.
const PASSAGE_COVERAGE: f32 = 0.5;
/// Passages weighed for an open question, best by the search's score
/// first: reading each found passage is most of a passage answer's time,
/// and every set's passage answers are the same with 8 as with 24.
const PASSAGE_HITS: usize = 8;
/// The sentences of an answer quoted after a FAQ's question.
const ANSWER_SENTENCES: usize = 4;

/// Answers an understood question from the snapshot.
pub fn answer(snapshot: &Knowledge<'_>, query: &Query) -> Answer {
    if query.normalized.trim().is_empty() {
        return reply_none(query, replies::empty_question(query.language));
    }
    // "2019年全年及2020年第一季度…": periods added together are no row's;
    // the sentence that says so, if any.
    if asks_joined_periods(&snapshot.vocabulary, query) {
        let quoted = passage(snapshot, query).filter(|a| {
            let first = a.answer.lines().next().unwrap_or("");
            query.years.iter().all(|y| first.contains(&y.to_string()))
        });
        return quoted.unwrap_or_else(|| no_data(snapshot, query));
    }
    match query.intent {
        Intent::Summary => {
            let year = query
                .years
                .first()
                .copied()
                .or_else(|| snapshot.headline_years().last().copied());
            match year {
                Some(y) => summary_for(snapshot, query, y),
                None => no_data(snapshot, query),
            }
        }
        Intent::Comparison => comparison(snapshot, query),
        Intent::Trend => trend(snapshot, query),
        Intent::Fact => fact(snapshot, query),
        Intent::Open => open(snapshot, query),
    }
}

/// A question naming no metric: figures of the category it names
/// (2024年商标侵权), the passage that answers it, or the year's summary
/// when it names only a year the table has.
fn open(snapshot: &Knowledge<'_>, query: &Query) -> Answer {
    if let (None, [year]) = (&query.metric, query.years.as_slice()) {
        let has_year = snapshot.facts_of_year(*year).any(|f| {
            f.period
                == Period {
                    year: *year,
                    kind: query.period,
                }
        });
        if has_year && !query.dims.is_empty() {
            if let Some(a) = figures_of_category(snapshot, query) {
                return a;
            }
        }
        let only_a_year = query.dims.is_empty() && query.subject.is_empty();
        if has_year && query.period == PeriodKind::Year && only_a_year {
            return summary_for(snapshot, query, *year);
        }
        if let Some(a) = passage(snapshot, query) {
            return a;
        }
        if has_year && query.period == PeriodKind::Year && query.dims.is_empty() {
            return summary_for(snapshot, query, *year);
        }
        return no_data(snapshot, query);
    }
    passage(snapshot, query).unwrap_or_else(|| no_data(snapshot, query))
}

fn summary_for(snapshot: &Knowledge<'_>, query: &Query, year: u16) -> Answer {
    let mut a = summary(snapshot, year, query.language);
    a.question = query.question.clone();
    a
}

/// Every metric's figure for the question's year and category, one fact
/// answer after another (batches, then pieces…), in vocabulary order.
fn figures_of_category(snapshot: &Knowledge<'_>, query: &Query) -> Option<Answer> {
    let period = Period {
        year: query.years[0],
        kind: query.period,
    };
    let answers: Vec<Answer> = snapshot
        .vocabulary
        .metrics
        .iter()
        .filter(|m| pick(snapshot, query, period, &m.id).is_some())
        .map(|m| {
            let mut q = query.clone();
            q.metric = Some(m.id.clone());
            q.intent = Intent::Fact;
            q.subject.clear();
            fact(snapshot, &q)
        })
        .filter(|a| a.kind == AnswerKind::Fact)
        .collect();
    // The figures lead, on one line; then each one's evidence and source,
    // each line once.
    let mut merged = answers.first()?.clone();
    let heads: Vec<&str> = answers
        .iter()
        .filter_map(|a| a.answer.lines().next())
        .collect();
    let mut lines: Vec<&str> = vec![];
    for a in &answers {
        for line in a.answer.lines().skip(1) {
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
    }
    merged.answer = std::iter::once(heads.join(query.language.sentence_joiner()))
        .chain(lines.iter().map(|l| l.to_string()))
        .collect::<Vec<_>>()
        .join("\n");
    merged.facts = answers.iter().flat_map(|a| a.facts.clone()).collect();
    merged.sources = vec![];
    for s in answers.iter().flat_map(|a| a.sources.iter()) {
        if !merged.sources.contains(s) {
            merged.sources.push(s.clone());
        }
    }
    Some(merged)
}

/// The nationwide full-year figure a year's summary cites for a metric
/// (no dimensions), chosen among the rows as every answer chooses; the chart
/// of a broadcast draws the same figures.
pub fn headline_figure<'a>(snapshot: &'a Corpus, year: u16, metric: &str) -> Option<&'a Fact> {
    let frame = Frame::nationwide();
    choose(
        snapshot,
        &rows(snapshot, &frame, Period::year(year), metric, &[]),
    )
    .map(|c| c.best)
}

/// Whose figures a question asks for, and the words it names them with:
/// a row with a literal qualifier (行邮渠道) answers only a question naming
/// it; a customs house's rows only a question naming that house.
#[derive(Debug, Clone)]
struct Frame<'q> {
    scope: Scope,
    /// The question's normalized text ("" for a summary: no qualifier).
    text: &'q str,
    suffixes: &'q [String],
    /// Parts the question names that the vocabulary does not know.
    asked: &'q [String],
    /// The question asks for the preliminary count itself.
    preliminary: bool,
    /// The vocabulary's Chinese words, kept whole by normalization.
    words: &'q [String],
}

impl<'q> Frame<'q> {
    fn nationwide() -> Frame<'static> {
        Frame {
            scope: Scope::Nationwide,
            text: "",
            suffixes: &[],
            asked: &[],
            preliminary: false,
            words: &[],
        }
    }

    fn of(snapshot: &'q Corpus, query: &'q Query) -> Frame<'q> {
        Frame {
            scope: query.scope.clone(),
            text: &query.normalized,
            suffixes: &snapshot.vocabulary.frame.qualifier_suffixes,
            asked: &query.qualifiers,
            preliminary: crate::domain::vocabulary::contains_any(
                &query.normalized,
                &snapshot.vocabulary.release.ask,
            ),
            words: &snapshot.vocabulary.chinese_words,
        }
    }

    /// Whether the question names every part of a row's qualifier: as
    /// written, or without its suffix word (行邮 for 行邮渠道).
    fn names(&self, qualifier: &str) -> bool {
        qualifier.split('、').all(|part| {
            let core = self
                .suffixes
                .iter()
                .find_map(|w| part.strip_suffix(w.as_str()))
                .unwrap_or(part);
            self.text.contains(part) || (core.chars().count() >= 2 && self.text.contains(core))
        })
    }

    fn matches(&self, f: &Fact, dims: &[(String, String)]) -> bool {
        if f.scope != self.scope || f.dims.len() < dims.len() {
            return false;
        }
        let mut counted = f.counted_dims().filter(|(k, _)| k != QUALIFIER_DIM);
        let same_dims = counted.by_ref().eq(dims.iter());
        // A part the question names must be the row's qualifier, or be
        // said in the clause quoted for the row (checked last: it
        // normalizes the clause).
        let asked = || {
            self.asked.iter().all(|a| {
                f.dim(QUALIFIER_DIM).is_some_and(|q| q.contains(a.as_str()))
                    || crate::domain::normalize::normalize_keeping(&f.excerpt, self.words)
                        .contains(a.as_str())
            })
        };
        same_dims
            && (!self.preliminary || f.is_preliminary())
            && f.dim(QUALIFIER_DIM).is_none_or(|q| self.names(q))
            && asked()
    }
}

/// The rows for one period, metric and dimensions in a question's frame
/// (final and preliminary).
fn rows<'a>(
    snapshot: &'a Corpus,
    frame: &Frame<'_>,
    period: Period,
    metric: &str,
    dims: &[(String, String)],
) -> Vec<&'a Fact> {
    let found: Vec<&Fact> = snapshot
        .facts_of(period.year, metric, dims)
        .filter(|f| f.period == period && frame.matches(f, dims))
        .collect();
    // A question naming a row's qualifier (东部沿海地区) asks for that
    // part, not for the total beside it.
    if found.iter().any(|f| f.dim(QUALIFIER_DIM).is_some()) {
        return found
            .into_iter()
            .filter(|f| f.dim(QUALIFIER_DIM).is_some())
            .collect();
    }
    found
}

/// The row to cite and how the others stand to it.
struct Chosen<'a> {
    best: &'a Fact,
    /// Other rows that agree with it (rounded, or within a qualifier's bound).
    agree: Vec<&'a Fact>,
    /// Final figures that contradict it.
    conflict: Vec<&'a Fact>,
    /// Preliminary counts that differ from the final figure cited.
    preliminary: Vec<&'a Fact>,
}

/// The row to cite among rows for one key: a final figure before a
/// preliminary count, then curated, then the most precise value, then the
/// clause that says most.
fn choose<'a>(snapshot: &Corpus, rows: &[&'a Fact]) -> Option<Chosen<'a>> {
    let best = best_row(rows)?;
    let v = &snapshot.vocabulary;
    let agrees = |f: &Fact| {
        figures_agree(
            best.value,
            v.bound_of(best.qualifier.as_deref()),
            f.value,
            v.bound_of(f.qualifier.as_deref()),
        )
    };
    let mut chosen = Chosen {
        best,
        agree: vec![],
        conflict: vec![],
        preliminary: vec![],
    };
    // A row with another qualifier is another part: never a different
    // figure for this one.
    let same_part = |f: &Fact| f.dim(QUALIFIER_DIM) == best.dim(QUALIFIER_DIM);
    for f in rows
        .iter()
        .copied()
        .filter(|f| !std::ptr::eq(*f, best) && same_part(f))
    {
        if agrees(f) {
            chosen.agree.push(f);
        } else if f.is_preliminary() && !best.is_preliminary() {
            chosen.preliminary.push(f);
        } else {
            chosen.conflict.push(f);
        }
    }
    Some(chosen)
}

/// The row to cite (see `choose`); of equals, the last.
fn best_row<'a>(rows: &[&'a Fact]) -> Option<&'a Fact> {
    let rank = |f: &Fact| (!f.is_preliminary(), f.curated, significant_digits(f.value));
    let (&first, rest) = rows.split_first()?;
    let (mut best, mut best_rank, mut best_chars) = (first, rank(first), None);
    for &f in rest {
        let r = rank(f);
        match r.cmp(&best_rank) {
            std::cmp::Ordering::Greater => (best, best_rank, best_chars) = (f, r, None),
            std::cmp::Ordering::Equal => {
                let chars = f.excerpt.chars().count();
                if chars >= *best_chars.get_or_insert_with(|| best.excerpt.chars().count()) {
                    (best, best_chars) = (f, Some(chars));
                }
            }
            std::cmp::Ordering::Less => {}
        }
    }
    Some(best)
}

/// How many significant digits a value is written with (4.16万: 3).
fn significant_digits(value: rust_decimal::Decimal) -> u32 {
    let mut mantissa = value.mantissa().unsigned_abs();
    while mantissa != 0 && mantissa.is_multiple_of(10) {
        mantissa /= 10;
    }
    mantissa.checked_ilog10().map_or(0, |d| d + 1)
}

fn fact_ref(snapshot: &Knowledge<'_>, f: &Fact) -> FactRef {
    FactRef {
        period: f.period.key(),
        metric: f.metric.clone(),
        value: f.value.normalize().to_string(),
        text: f.text.clone(),
        source: snapshot.quote(f).into_owned(),
    }
}

fn source_ref(snapshot: &Knowledge<'_>, doc: usize) -> SourceRef {
    let meta = &snapshot.documents[doc].meta;
    SourceRef {
        title: meta.title.clone(),
        publisher: meta.publisher.clone(),
        published: meta.published.clone(),
        url: meta.url.clone(),
    }
}

fn sources_of(snapshot: &Knowledge<'_>, docs: impl IntoIterator<Item = usize>) -> Vec<SourceRef> {
    let mut seen = BTreeSet::new();
    docs.into_iter()
        .filter(|d| seen.insert(*d))
        .map(|d| source_ref(snapshot, d))
        .collect()
}

fn finish(
    query: &Query,
    text: String,
    kind: AnswerKind,
    facts: Vec<FactRef>,
    sources: Vec<SourceRef>,
) -> Answer {
    Answer {
        question: query.question.clone(),
        answer: replies::in_script(text, query.language),
        found: kind != AnswerKind::None,
        kind,
        facts,
        sources,
        language: query.language,
    }
}

fn reply_none(query: &Query, text: String) -> Answer {
    finish(query, text, AnswerKind::None, vec![], vec![])
}

fn quote_of(snapshot: &Knowledge<'_>, f: &Fact, language: Language) -> String {
    replies::quote_for(
        f.excerpt.trim(),
        snapshot.documents[f.doc].meta.language,
        language,
    )
}

fn fact(snapshot: &Knowledge<'_>, query: &Query) -> Answer {
    let metric = query
        .metric
        .as_deref()
        .expect("a fact question has a metric");
    if let Some(a) = campaign_fact(snapshot, query, metric) {
        return a;
    }
    let period = Period {
        year: query.years[0],
        kind: query.period,
    };
    let frame = Frame::of(snapshot, query);
    let found = rows(snapshot, &frame, period, metric, &query.dims);
    let Some(chosen) = choose(snapshot, &found) else {
        if let Some(part) = qualified_part(snapshot, query, period, metric) {
            return fact_answer(snapshot, query, &part);
        }
        // A question about a subject of its own may still have a passage
        // (not for a month's figure, which no passage states as a row, nor
        // for a year held only in parts: those are said to be parts).
        if !query.subject.is_empty()
            && !matches!(query.period, PeriodKind::Month(_) | PeriodKind::Span(..))
            && year_parts(snapshot, query, period, metric).is_empty()
        {
            if let Some(a) = passage(snapshot, query)
                .filter(|a| !quotes_another_period(snapshot, query.period, &a.answer))
            {
                return a;
            }
        }
        if let Some(a) = running_total(snapshot, query) {
            return a;
        }
        return no_figure(snapshot, query, period, metric);
    };
    // A question about something the fact's sentence does not mention is
    // better answered by a restatement that does, or by the passage that
    // does; never by the total as if it were that thing.
    let subject = subject_terms(snapshot, query);
    let mentions = |f: &Fact| mentions_subject(&snapshot.quote(f), &subject, snapshot);
    let (chosen, best_mentions) = if query.subject.is_empty() {
        (chosen, true)
    } else {
        match led_by(chosen, mentions) {
            Ok(chosen) => (chosen, true),
            Err(_) => (choose(snapshot, &found).expect("rows were found"), false),
        }
    };
    if !best_mentions {
        if let Some(a) = passage(snapshot, query) {
            return a;
        }
    }
    if query.wants_share && !query.wants_change {
        return match led_by(chosen, |f| f.share.is_some()) {
            Ok(chosen) => fact_answer(snapshot, query, &chosen),
            Err(best) => reply_none(
                query,
                replies::no_share(best, &snapshot.vocabulary, query.language),
            ),
        };
    }
    // "同比增长多少": the change, never the figure in its place.
    if query.wants_change && !query.wants_share {
        return match led_by(chosen, |f| f.yoy.is_some()) {
            Ok(chosen) => fact_answer(snapshot, query, &chosen),
            Err(best) => reply_none(
                query,
                replies::no_change(best, &snapshot.vocabulary, query.language),
            ),
        };
    }
    fact_answer(snapshot, query, &chosen)
}

/// "截至2022年12月，…当年查获多少批": the year so far up to a month, which
/// no row holds; the passage whose answering sentence is a running total
/// (今年以来) of that year, if any.
fn running_total(snapshot: &Knowledge<'_>, query: &Query) -> Option<Answer> {
    let p = &snapshot.vocabulary.periods;
    let as_of = crate::domain::vocabulary::contains_any(&query.normalized, &p.as_of);
    if !as_of || !matches!(query.period, PeriodKind::Month(_)) {
        return None;
    }
    // (The sentence names no year and no month: its page's date does.)
    let year = query.years.first()?.to_string();
    let mut so_far = query.clone();
    so_far.years.clear();
    so_far.period = PeriodKind::Year;
    passage(snapshot, &so_far).filter(|a| {
        let first = snapshot
            .vocabulary
            .normalize(a.answer.lines().next().unwrap_or(""));
        let dated = a.sources.first().and_then(|s| s.published.as_deref());
        crate::domain::vocabulary::contains_any(&first, &p.to_date)
            && dated.is_some_and(|d| d.starts_with(&year))
    })
}

/// Whether the question asks for two years' periods added together
/// ("2019年全年及2020年第一季度").
fn asks_joined_periods(v: &crate::domain::vocabulary::Vocabulary, query: &Query) -> bool {
    static JOINED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:19|20)\d{2}\s*年?\s*(?:全年|上半年|下半年|前三季度|第?[一二三四1-4]季度)\s*(?:以及|及)\s*(?:19|20)\d{2}\s*年")
            .expect("fixed pattern")
    });
    // "2021—2025年累计…", "the total … from 2021 to 2025": a sum over
    // a run of years.
    static RANGE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:19|20)\d{2}\s*年?\s*(?:-|–|—|~|至|到|to|through)\s*(?:19|20)\d{2}")
            .expect("fixed pattern")
    });
    let sums = |words: &[String]| crate::domain::vocabulary::contains_any(&query.normalized, words);
    query.years.len() >= 2
        && (JOINED.is_match(&query.normalized)
            || (RANGE.is_match(&query.normalized) && sums(&v.question.cumulative)))
}

/// Whether a passage answer's first line (the sentence answering) names a
/// period other than the one asked (2021年第一季度 for a full year): its
/// figure is not the one asked for.
fn quotes_another_period(snapshot: &Knowledge<'_>, asked: PeriodKind, answer: &str) -> bool {
    let first = snapshot
        .vocabulary
        .normalize(answer.lines().next().unwrap_or(""));
    snapshot
        .vocabulary
        .period_hits(&first)
        .iter()
        .any(|&(_, _, k)| k != asked && k != PeriodKind::YearEnd)
}

/// A customs house's figure that its document gives only for a part
/// named as written ("在陆路、海运及空运口岸"), for a question about that
/// house naming no part: cited with the part in its first line, never as
/// the house's total. (Not for the nation: a part of the nationwide total
/// is never offered for it.)
fn qualified_part<'a>(
    snapshot: &'a Corpus,
    query: &Query,
    period: Period,
    metric: &str,
) -> Option<Chosen<'a>> {
    if !matches!(query.scope, Scope::Customs(_)) || !query.qualifiers.is_empty() {
        return None;
    }
    let parts: Vec<&Fact> = snapshot
        .facts_of(period.year, metric, &query.dims)
        .filter(|f| {
            f.period == period
                && f.scope == query.scope
                && f.dim(QUALIFIER_DIM).is_some()
                && f.counted_dims()
                    .filter(|(k, _)| k != QUALIFIER_DIM)
                    .eq(query.dims.iter())
        })
        .collect();
    // One part only: several would each be a piece of an unknown whole.
    let qualifiers: BTreeSet<_> = parts.iter().filter_map(|f| f.dim(QUALIFIER_DIM)).collect();
    (qualifiers.len() == 1)
        .then(|| choose(snapshot, &parts))
        .flatten()
}

/// For a share (or change) question: the chosen rows led by one that
/// gives it (a restatement that agrees may be the one that does), or the
/// best row when none does.
fn led_by(chosen: Chosen<'_>, gives: impl Fn(&Fact) -> bool) -> Result<Chosen<'_>, &Fact> {
    if gives(chosen.best) {
        return Ok(chosen);
    }
    let Some(i) = chosen.agree.iter().position(|f| gives(f)) else {
        return Err(chosen.best);
    };
    let mut chosen = chosen;
    let sharing = chosen.agree.remove(i);
    chosen.agree.push(chosen.best);
    chosen.best = sharing;
    Ok(chosen)
}

/// The reply citing a chosen row, with the sources that agree, the final
/// figures that contradict it and the preliminary counts it replaces.
fn fact_answer(snapshot: &Knowledge<'_>, query: &Query, chosen: &Chosen<'_>) -> Answer {
    let lang = query.language;
    let v = &snapshot.vocabulary;
    let best = chosen.best;
    let title = |f: &Fact| snapshot.documents[f.doc].meta.title.clone();
    let first = match best.share {
        Some(share) if query.wants_share && !query.wants_change => {
            replies::share_line(v, best, share, lang)
        }
        _ => replies::fact_line(v, best, lang),
    };
    let mut lines = vec![
        first,
        replies::evidence_line(&quote_of(snapshot, best, lang), lang),
        replies::source_line(&snapshot.documents[best.doc].meta, lang),
    ];
    let also: Vec<String> = chosen
        .agree
        .iter()
        .filter(|f| f.doc != best.doc)
        .map(|f| title(f))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !also.is_empty() {
        lines.push(replies::also_line(&also, lang));
    }
    for c in &chosen.conflict {
        lines.push(replies::conflict_line(v, c, &title(c), lang));
    }
    for p in &chosen.preliminary {
        lines.push(replies::preliminary_line(v, p, &title(p), lang));
    }
    let mut used = vec![best];
    used.extend(chosen.conflict.iter().copied());
    let facts = used.iter().map(|f| fact_ref(snapshot, f)).collect();
    let sources = sources_of(
        snapshot,
        std::iter::once(best.doc)
            .chain(chosen.agree.iter().map(|f| f.doc))
            .chain(chosen.conflict.iter().map(|f| f.doc)),
    );
    finish(query, lines.join("\n"), AnswerKind::Fact, facts, sources)
}

/// What the question names that the rows found do not: a customs house,
/// or its own subject words.
fn asked_part(query: &Query) -> Option<String> {
    match &query.scope {
        Scope::Customs(name) => Some(name.clone()),
        _ if !query.qualifiers.is_empty() => Some(query.qualifiers.join("、")),
        _ => None,
    }
}

/// No row for the question's frame: "no figure for X" with the nearest the
/// corpus has, labelled (the nationwide total, the parts of the year), or
/// plain "no data".
fn no_figure(snapshot: &Knowledge<'_>, query: &Query, period: Period, metric: &str) -> Answer {
    let lang = query.language;
    let v = &snapshot.vocabulary;
    let label = replies::metric_label(v, metric, lang);
    // A year held only in parts (for the house or part asked about too):
    // "no full-year figure", with the parts.
    let parts = year_parts(snapshot, query, period, metric);
    if !parts.is_empty() {
        let text = replies::no_full_year(period.year, &label, &parts, lang);
        return reply_none(query, text);
    }
    if let Some(part) = asked_part(query) {
        let total = choose(
            snapshot,
            &rows(snapshot, &Frame::nationwide(), period, metric, &query.dims),
        );
        // The total is named, not stated: a figure beside "no figure for
        // X" would be read as X's.
        let nearest = total.map(|c| {
            let line = replies::period_label(&c.best.period, lang);
            (replies::Nearest::NationwideTotal, line)
        });
        let text = replies::no_figure_for(&part, &period, &label, nearest, lang);
        return reply_none(query, text);
    }
    no_data(snapshot, query)
}

/// The campaign a question names: the two Han characters before a
/// campaign word (龙腾行动 → 龙腾), or the English word before it
/// ("the Longteng Action" → longteng).
fn campaign_named(query: &Query, v: &crate::domain::vocabulary::Vocabulary) -> Option<String> {
    let q = query.normalized.as_str();
    let words = v.question.campaign.iter().map(String::as_str);
    crate::domain::vocabulary::find_words(q, words)
        .into_iter()
        .find_map(|(start, _, _)| {
            let head = &q[..start];
            let han: Vec<char> = head
                .chars()
                .rev()
                .take_while(|c| crate::domain::normalize::is_han(*c))
                .take(2)
                .collect();
            if han.len() == 2 {
                return Some(han.into_iter().rev().collect());
            }
            let word = head.trim_end().rsplit(' ').next().unwrap_or("");
            (word.len() >= 3
                && word.chars().all(|c| c.is_ascii_alphabetic())
                && !v.question.filler.iter().any(|f| f == word))
            .then(|| word.to_string())
        })
}

/// "龙腾行动2023期间扣留多少批": a nationwide question naming a campaign
/// and its year gets the campaign's own figure (for the campaign's months),
/// from a campaign row of that year whose document names the campaign; none
/// when such rows give different periods.
fn campaign_fact(snapshot: &Knowledge<'_>, query: &Query, metric: &str) -> Option<Answer> {
    if query.scope != Scope::Nationwide || query.period != PeriodKind::Year {
        return None;
    }
    let name = campaign_named(query, &snapshot.vocabulary)?;
    let year = *query.years.first()?;
    let names = &snapshot.vocabulary.scope.campaign_names;
    let names_it = |f: &Fact| {
        // A row of a campaign named by its name is that campaign's only.
        if let Scope::Campaign(w) = &f.scope {
            if let Some(c) = names.iter().find(|c| &c.name == w) {
                return w.contains(&name) || c.words.iter().any(|x| x.contains(&name));
            }
        }
        let title = &snapshot.documents[f.doc].meta.title;
        snapshot.vocabulary.normalize(title).contains(&name)
            || snapshot
                .vocabulary
                .normalize(&snapshot.quote(f))
                .contains(&name)
    };
    let found: Vec<&Fact> = snapshot
        .facts_of(year, metric, &query.dims)
        .filter(|f| {
            matches!(f.scope, Scope::Campaign(_))
                && f.counted_dims().eq(query.dims.iter())
                && names_it(f)
        })
        .collect();
    let chosen = choose(snapshot, &found)?;
    if found.iter().any(|f| f.period != chosen.best.period) {
        return None;
    }
    Some(fact_answer(snapshot, query, &chosen))
}

/// For a full-year question, the lines of the parts of that year the
/// question's frame has (half, quarters, first quarters, month ranges).
fn year_parts(
    snapshot: &Knowledge<'_>,
    query: &Query,
    period: Period,
    metric: &str,
) -> Vec<String> {
    if period.kind != PeriodKind::Year {
        return vec![];
    }
    let frame = Frame::of(snapshot, query);
    // Only the kinds of period the year's rows have are looked up.
    let held: Vec<PeriodKind> = snapshot
        .facts_of(period.year, metric, &query.dims)
        .filter(|f| f.period.year == period.year && f.period.kind != PeriodKind::Year)
        .map(|f| f.period.kind)
        .collect();
    if held.is_empty() {
        return vec![];
    }
    [PeriodKind::FirstHalf]
        .into_iter()
        .chain((1..=4).map(PeriodKind::Quarter))
        .chain((2..=3).map(PeriodKind::FirstQuarters))
        .chain(
            (1..=11u8)
                .flat_map(|a| (a + 1..=12).map(move |b| PeriodKind::months(a, b)))
                .filter(|kind| matches!(kind, PeriodKind::Months(..))),
        )
        .filter(|kind| held.contains(kind))
        .filter_map(|kind| {
            let p = Period {
                year: period.year,
                kind,
            };
            choose(snapshot, &rows(snapshot, &frame, p, metric, &query.dims))
        })
        .map(|c| replies::fact_line(&snapshot.vocabulary, c.best, query.language))
        .collect()
}

/// The row a single question about this period and metric would cite, in
/// the question's frame: what comparisons and trends are made of.
fn pick<'a>(snapshot: &'a Corpus, query: &Query, period: Period, metric: &str) -> Option<&'a Fact> {
    let frame = Frame::of(snapshot, query);
    best_row(&rows(snapshot, &frame, period, metric, &query.dims))
}

/// The words of a question's subject, as the search cuts them.
fn subject_terms<'q>(snapshot: &Knowledge<'_>, query: &'q Query) -> Vec<&'q str> {
    query
        .subject
        .iter()
        .flat_map(|s| snapshot.segment(s))
        .collect()
}

/// Whether a quote names at least half of the subject's `words`.
fn mentions_subject(quote: &str, words: &[&str], snapshot: &Knowledge<'_>) -> bool {
    if words.is_empty() {
        return true;
    }
    let normalized = snapshot.vocabulary.normalize(quote);
    let hit = words.iter().filter(|w| normalized.contains(*w)).count();
    hit * 2 >= words.len()
}

fn comparison(snapshot: &Knowledge<'_>, query: &Query) -> Answer {
    let lang = query.language;
    let v = &snapshot.vocabulary;
    let metrics: Vec<String> = match &query.metric {
        Some(m) => vec![m.clone()],
        None => v
            .metrics
            .iter()
            .filter(|m| m.headline)
            .map(|m| m.id.clone())
            .collect(),
    };
    let mut years = query.years.clone();
    years.sort_unstable();
    let mut lines = Vec::new();
    let mut used: Vec<&Fact> = Vec::new();
    for metric in &metrics {
        let mut picked = Vec::new();
        for &y in &years {
            let period = Period {
                year: y,
                kind: query.period,
            };
            match pick(snapshot, query, period, metric) {
                Some(f) => picked.push(f),
                None => break,
            }
        }
        if picked.len() != years.len() {
            if query.metric.is_some() {
                return no_data(snapshot, query);
            }
            continue;
        }
        let (first, last) = (picked[0], picked[picked.len() - 1]);
        let change = replies::change_phrase(first.value, last.value, lang);
        lines.push(replies::comparison_head(
            v,
            metric,
            &query.dims,
            &first.period,
            &last.period,
            &change,
            lang,
        ));
        for (i, f) in picked.iter().enumerate() {
            let step = (i > 0).then(|| {
                format!(
                    "{} {}",
                    replies::versus(picked[i - 1].period.year, lang),
                    replies::change_phrase(picked[i - 1].value, f.value, lang)
                )
            });
            lines.push(replies::value_row(&snapshot.vocabulary, f, step, lang));
        }
        lines.push(replies::arithmetic_line(first.value, last.value, lang));
        used.extend(picked);
    }
    if used.is_empty() {
        return no_data(snapshot, query);
    }
    let docs: Vec<usize> = used.iter().map(|f| f.doc).collect();
    let mut seen = BTreeSet::new();
    for d in docs.iter().filter(|d| seen.insert(**d)) {
        lines.push(replies::source_line(&snapshot.documents[*d].meta, lang));
    }
    let facts = used.iter().map(|f| fact_ref(snapshot, f)).collect();
    finish(
        query,
        lines.join("\n"),
        AnswerKind::Comparison,
        facts,
        sources_of(snapshot, docs),
    )
}

fn trend(snapshot: &Knowledge<'_>, query: &Query) -> Answer {
    let lang = query.language;
    let v = &snapshot.vocabulary;
    // "邮递渠道侵权案件呈现什么新趋势": with no figures over the years, the
    // passage that describes the trend.
    let described = || passage(snapshot, query).unwrap_or_else(|| no_data(snapshot, query));
    let Some(metric) = query.metric.as_deref() else {
        return described();
    };
    // "2021年以来的变化": the years from the one named on.
    let since = query.years.iter().min().copied().unwrap_or(0);
    let picked: Vec<&Fact> = snapshot
        .years()
        .into_iter()
        .filter(|&year| year >= since)
        .filter_map(|year| {
            let period = Period {
                year,
                kind: query.period,
            };
            pick(snapshot, query, period, metric)
        })
        .collect();
    if picked.is_empty() {
        return described();
    }
    let mut lines = vec![replies::trend_head(v, metric, &query.dims, lang)];
    for (i, f) in picked.iter().enumerate() {
        let step = (i > 0).then(|| {
            format!(
                "{} {}",
                replies::versus(picked[i - 1].period.year, lang),
                replies::change_phrase(picked[i - 1].value, f.value, lang)
            )
        });
        lines.push(replies::value_row(&snapshot.vocabulary, f, step, lang));
    }
    if let [first, .., last] = picked.as_slice() {
        lines.push(replies::span_line(
            first.period.year,
            last.period.year,
            replies::change_phrase(first.value, last.value, lang),
            lang,
        ));
        lines.push(replies::arithmetic_line(first.value, last.value, lang));
    }
    let mut seen = BTreeSet::new();
    for f in picked.iter().filter(|f| seen.insert(f.doc)) {
        lines.push(replies::source_line(&snapshot.documents[f.doc].meta, lang));
    }
    let facts = picked.iter().map(|f| fact_ref(snapshot, f)).collect();
    finish(
        query,
        lines.join("\n"),
        AnswerKind::Trend,
        facts,
        sources_of(snapshot, picked.iter().map(|f| f.doc)),
    )
}

/// A year's summary: headline figures, main dimensions, change against the
/// previous year in the table, sources. Only headline rows (nationwide,
/// final or else preliminary, no qualifier) and breakdowns of the same
/// metrics by one dimension: a figure counting something else (goods
/// handled without penalty) has a qualifier and stays out.
pub fn summary(snapshot: &Knowledge<'_>, year: u16, language: Language) -> Answer {
    let v = &snapshot.vocabulary;
    let query = Query::summary(year, language);
    let headline: Vec<&Fact> = v
        .metrics
        .iter()
        .filter(|m| m.headline)
        .filter_map(|m| headline_figure(snapshot, year, &m.id))
        .collect();
    if headline.is_empty() {
        return no_data(snapshot, &query);
    }
    let mut used: Vec<&Fact> = headline.clone();
    let sep = if language == Language::English {
        "; "
    } else {
        "；"
    };
    let head_items: Vec<String> = headline
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                replies::metric_label(v, &f.metric, language),
                replies::figure(v, f, language)
            )
        })
        .collect();
    let mut lines = vec![format!(
        "{}{}",
        replies::summary_head(year, language),
        head_items.join(sep)
    )];
    lines.extend(summary_dimensions(snapshot, year, language, &mut used));
    lines.extend(summary_changes(snapshot, &headline, language, &mut used));
    let mut seen = BTreeSet::new();
    for f in used.iter().filter(|f| seen.insert(f.doc)) {
        lines.push(replies::source_line(
            &snapshot.documents[f.doc].meta,
            language,
        ));
    }
    let facts = used.iter().map(|f| fact_ref(snapshot, f)).collect();
    let sources = sources_of(snapshot, used.iter().map(|f| f.doc));
    finish(
        &query,
        lines.join("\n"),
        AnswerKind::Summary,
        facts,
        sources,
    )
}

/// One line per dimension: each value's headline-metric figures (with
/// their shares).
fn summary_dimensions<'a>(
    snapshot: &'a Corpus,
    year: u16,
    language: Language,
    used: &mut Vec<&'a Fact>,
) -> Vec<String> {
    let v = &snapshot.vocabulary;
    let english = language == Language::English;
    let frame = Frame::nationwide();
    let held = snapshot.single_breakdowns(year);
    let mut lines = Vec::new();
    for d in &v.dimensions {
        let mut items = Vec::new();
        for value in d.values.iter().filter(|x| !x.id.is_empty()) {
            if !held.contains(&(d.kind.as_str(), value.id.as_str())) {
                continue;
            }
            let dims = vec![(d.kind.clone(), value.id.clone())];
            let figures: Vec<&Fact> = v
                .metrics
                .iter()
                .filter(|m| m.headline)
                .filter_map(|m| {
                    let found = rows(snapshot, &frame, Period::year(year), &m.id, &dims);
                    choose(snapshot, &found).map(|c| c.best)
                })
                .collect();
            if figures.is_empty() {
                continue;
            }
            let name = if english { &value.en } else { &value.zh };
            let shown: Vec<String> = figures
                .iter()
                .map(|f| replies::figure_with_share(v, f, language))
                .collect();
            items.push(format!(
                "{name} {}",
                shown.join(if english { ", " } else { "、" })
            ));
            used.extend(figures);
        }
        if !items.is_empty() {
            let sep = if english { "; " } else { "；" };
            lines.push(format!(
                "{}{}",
                replies::summary_dimension_head(d, language),
                items.join(sep)
            ));
        }
    }
    lines
}

/// Each headline figure against the previous year the table has, with the
/// arithmetic.
fn summary_changes<'a>(
    snapshot: &'a Corpus,
    headline: &[&'a Fact],
    language: Language,
    used: &mut Vec<&'a Fact>,
) -> Vec<String> {
    let v = &snapshot.vocabulary;
    let mut lines = Vec::new();
    for f in headline {
        let previous = snapshot
            .facts
            .entries()
            .iter()
            .rev()
            .filter(|e| e.year < f.period.year)
            .find(|e| e.plain_metrics.contains(&f.metric))
            .map(|e| e.year);
        let Some(p) = previous.and_then(|py| headline_figure(snapshot, py, &f.metric)) else {
            continue;
        };
        let change = replies::change_phrase(p.value, f.value, language);
        lines.push(replies::summary_change_line(v, p, f, &change, language));
        lines.push(replies::arithmetic_line(p.value, f.value, language));
        used.push(p);
    }
    lines
}

/// The best passage for an open question, if one holds enough of it.
fn passage(snapshot: &Knowledge<'_>, query: &Query) -> Option<Answer> {
    let filler = &snapshot.vocabulary.question.filler;
    let generic = &snapshot.vocabulary.question.generic;
    // Filler and generic words (办理, apply) name no topic; nor does a
    // lone Latin letter.
    let words: Vec<&str> = snapshot
        .segment(&query.normalized)
        .into_iter()
        .filter(|w| !filler.iter().chain(generic).any(|f| f == w))
        .filter(|w| !(w.is_ascii() && w.len() < 2))
        .collect();
    let mut terms: Vec<(&str, f32)> = Vec::new();
    for w in words {
        if terms.iter().any(|t| t.0 == w) {
            continue;
        }
        let chars = w.chars().count();
        let weight = if w.chars().all(|c| c.is_ascii_digit()) {
            1.0
        } else if w.is_ascii() {
            2.0
        } else {
            (chars as f32).min(4.0) * if chars == 1 { 0.5 } else { 1.0 }
        };
        terms.push((w, weight));
    }
    let total: f32 = terms.iter().map(|t| t.1).sum();
    if total <= 0.0 {
        return None;
    }
    let keys: Vec<&str> = terms.iter().map(|t| t.0).collect();
    let coverage = |text: &str| {
        terms
            .iter()
            .filter(|t| text.contains(t.0))
            .map(|t| t.1)
            .sum::<f32>()
            / total
    };
    // Character pairs of the question's own words: a name written as in
    // the question (剑网2020) beats the same characters apart (网剑).
    let pairs = char_pairs(&query.normalized, &snapshot.vocabulary);
    let pair_coverage = |text: &str| {
        if pairs.is_empty() {
            0.0
        } else {
            pairs.iter().filter(|p| text.contains(p.as_str())).count() as f32 / pairs.len() as f32
        }
    };
    let found = snapshot.search(&keys, PASSAGE_HITS);
    let mut best: Option<(f32, usize, usize)> = None;
    for (pi, p) in found.iter().enumerate() {
        let pc = coverage(&p.normalized);
        if pc < PASSAGE_COVERAGE || !speaks_of_years(snapshot, p, &query.years) {
            continue;
        }
        let title = snapshot.normalized_title(p.doc);
        for si in 0..p.sentences.len() {
            let sentence = p.sentence(si);
            if sentence.trim() == title.trim() {
                continue; // a title line names the document; it answers nothing
            }
            let sc = coverage(sentence);
            let s =
                0.45 * sc + 0.25 * pc + 0.3 * pair_coverage(sentence) + p.score.min(50.0) / 500.0;
            if best.is_none_or(|b| s > b.0) {
                best = Some((s, pi, si));
            }
        }
    }
    let (_, pi, si) = best?;
    let p = &found[pi];
    let doc = &snapshot.documents[p.doc].meta;
    let lang = query.language;
    // The answering sentence leads whole (a passage is cut at sentence
    // ends only), and its neighbours follow once each.
    let lo = si.saturating_sub(1);
    let hi = context_end(p, si);
    if lacks_asked_figure(snapshot, query, p, lo..hi) {
        return None;
    }
    let written = snapshot.sentences(p.doc, p.first_sentence + lo..p.first_sentence + hi);
    let original = written.get(si - lo)?;
    let plain = replies::quote_text(original, doc.language, lang);
    let mut lines = vec![replies::verbatim(&plain)];
    let context: Vec<String> = written
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != si - lo)
        .map(|(_, s)| replies::quote_for(s, doc.language, lang))
        .collect();
    let context = context.join(doc.language.sentence_joiner());
    if !context.trim().is_empty() {
        lines.push(context);
    }
    lines.push(replies::source_line(doc, lang));
    Some(finish(
        query,
        lines.join("\n"),
        AnswerKind::Passage,
        vec![],
        vec![source_ref(snapshot, p.doc)],
    ))
}

/// Whether the question asks a quantity (多少, how many) and the quoted
/// sentences hold no figure.
fn lacks_asked_figure(
    snapshot: &Knowledge<'_>,
    query: &Query,
    p: &crate::domain::corpus::FoundPassage,
    quoted: std::ops::Range<usize>,
) -> bool {
    let asks_quantity = snapshot
        .vocabulary
        .question
        .quantity
        .iter()
        .any(|w| query.normalized.contains(w.as_str()));
    asks_quantity
        && !quoted
            .clone()
            .any(|i| p.sentence(i).chars().any(|c| c.is_ascii_digit()))
}

/// Where the context after the answering sentence ends: the next
/// sentence; a question's (问：…？ in a FAQ) whole answer after it, up to
/// `ANSWER_SENTENCES`.
fn context_end(p: &crate::domain::corpus::FoundPassage, si: usize) -> usize {
    let asks = p.sentence(si).trim_end().ends_with(['?', '？']);
    let after = if asks { ANSWER_SENTENCES } else { 1 };
    (si + 1 + after).min(p.sentences.len())
}

/// Adjacent character pairs of a question with its filler words taken out.
/// A question naming a year is answered only from a passage (or a
/// document titled) with that year: never from another year's text.
fn speaks_of_years(
    snapshot: &Knowledge<'_>,
    p: &crate::domain::corpus::FoundPassage,
    years: &[u16],
) -> bool {
    years.is_empty()
        || years.iter().any(|y| {
            let y = y.to_string();
            p.normalized.contains(&y) || snapshot.documents[p.doc].meta.title.contains(&y)
        })
}

fn char_pairs(question: &str, vocabulary: &crate::domain::vocabulary::Vocabulary) -> Vec<String> {
    let mut kept = String::new();
    let mut pos = 0;
    for (s, e) in vocabulary.filler_spans(question) {
        kept.push_str(&question[pos..s]);
        kept.push(' ');
        pos = e;
    }
    kept.push_str(&question[pos..]);
    let chars: Vec<char> = kept.chars().collect();
    let mut pairs: Vec<String> = chars
        .windows(2)
        .filter(|w| w.iter().all(|c| c.is_alphanumeric()))
        .map(|w| w.iter().collect())
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs
}

/// "No data", with the years and figures the bot does have.
fn no_data(snapshot: &Knowledge<'_>, query: &Query) -> Answer {
    let lang = query.language;
    let v = &snapshot.vocabulary;
    let have: Vec<String> = snapshot
        .years_with_periods()
        .into_iter()
        .map(|(y, kinds)| replies::year_with_periods(y, &kinds, lang))
        .collect();
    let topics: Vec<String> = v
        .metrics
        .iter()
        .filter(|m| m.headline)
        .map(|m| replies::metric_label(v, &m.id, lang))
        .collect();
    // The dimensions asked about are named too: "no 2023 batches by mail"
    // is true where "no 2023 batches" would not be.
    let metric = query.metric.as_deref().map(|m| {
        format!(
            "{}{}",
            replies::metric_label(v, m, lang),
            replies::dims_label(v, &query.dims, lang)
        )
    });
    let asked: Vec<Period> = query
        .years
        .iter()
        .map(|&year| Period {
            year,
            kind: query.period,
        })
        .collect();
    let without: Vec<Period> = asked
        .iter()
        .copied()
        .filter(|p| !snapshot.facts_of_year(p.year).any(|f| f.period == *p))
        .collect();
    // A year the table has, asked about something it holds nothing on, is
    // not "no data for that year".
    let missing = match (without.is_empty(), &query.metric) {
        (true, None) => vec![],
        (true, Some(_)) => asked,
        (false, _) => without,
    };
    let text = replies::no_data(&missing, metric.as_deref(), &have, &topics, lang);
    reply_none(query, text)
}
