//! answers: "here is a question (or a button's question), give me the
//! reply a chat shows": the engine's answer laid out by `format`, the
//! understood question (kept for follow-ups), and the buttons under it:
//! 来源 / Sources and 详细 / Details for figures, the same metric in the
//! neighbouring years the corpus has, the years it has after "no data";
//! and what those buttons open (the sources with links and full
//! sentences, the evidence in its context).
//!
//! Invariant: no IO; runs on a snapshot handed in (callers run it on a
//! blocking thread). Every button carries data `callback` reads back.

use super::callback::{self, Facts, Press};
use super::format::{answer_lines, pack, Block, Line, Style};
use super::wording;
use crate::domain::model::{Answer, AnswerKind, Fact, Language, Period, PeriodKind, Scope};
use crate::domain::replies;
use crate::domain::understand::{understand, Intent, Query};
use crate::knowledge::snapshot::Snapshot;
use std::collections::BTreeMap;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Neighbouring years offered on each side of a figure's year.
const NEIGHBOURS: usize = 2;
/// Year buttons offered after "no data", the most recent ones.
const MAX_YEAR_BUTTONS: usize = 8;
/// Facts shown by one Sources or Details press.
const MAX_FACTS_SHOWN: usize = 6;
/// Characters of context shown around a sentence in Details.
const CONTEXT_CHARS: usize = 600;

/// What a chat shows in reply.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// HTML messages, in order.
    pub messages: Vec<String>,
    /// The buttons under the last message.
    pub buttons: Option<InlineKeyboardMarkup>,
    /// The question understood (a follow-up already filled in).
    pub query: Option<Query>,
    /// The engine's answer, when the reply is one.
    pub answer: Option<Answer>,
}

impl Reply {
    /// A notice: plain text, no buttons.
    pub fn notice(text: &str) -> Reply {
        Reply {
            messages: super::format::plain_messages(text),
            ..Reply::default()
        }
    }

    /// Messages already written as HTML, no buttons.
    pub fn html(messages: Vec<String>) -> Reply {
        Reply {
            messages,
            ..Reply::default()
        }
    }

    pub fn with_buttons(mut self, buttons: Option<InlineKeyboardMarkup>) -> Reply {
        self.buttons = buttons;
        self
    }
}

/// Understands a question, as a follow-up of `previous` when it leaves
/// things out, and answers it.
pub fn question(snapshot: &Snapshot, text: &str, previous: Option<&Query>) -> Reply {
    let own = understand(text, &snapshot.vocabulary);
    let query = previous
        .and_then(|p| crate::domain::follow_up::resolve(p, &own, &snapshot.vocabulary))
        .unwrap_or(own);
    let answer = crate::domain::answer::answer(&snapshot.knowledge(), &query);
    reply_to_query(snapshot, query, answer)
}

/// The reply to an understood question and its answer, with buttons.
fn reply_to_query(snapshot: &Snapshot, query: Query, answer: Answer) -> Reply {
    let facts = fact_rows(snapshot, &query, &answer);
    let buttons = answer_buttons(snapshot, &query, &answer, &facts);
    Reply {
        messages: pack(&answer_lines(&answer)),
        buttons,
        query: Some(query),
        answer: Some(answer),
    }
}

/// A year's summary, with its sources and the neighbouring years.
pub fn summary(snapshot: &Snapshot, year: u16, language: Language) -> Reply {
    let answer = snapshot.summary(year, language);
    let query = Query::summary(year, language);
    reply_to_query(snapshot, query, answer)
}

/// The question a fact row answers (its metric, dimensions and period),
/// for a year button.
pub fn fact_question(snapshot: &Snapshot, fact: usize, language: Language) -> Option<Reply> {
    let f = snapshot.facts.get(fact)?;
    let query = Query {
        question: replies::period_label(&f.period, language),
        normalized: f.period.year.to_string(),
        years: vec![f.period.year],
        period: f.period.kind,
        metric: Some(f.metric.clone()),
        dims: f.dims.clone(),
        scope: f.scope.clone(),
        qualifiers: f.qualifier.iter().cloned().collect(),
        intent: Intent::Fact,
        ..Query::summary(f.period.year, language)
    };
    let answer = crate::domain::answer::answer(&snapshot.knowledge(), &query);
    Some(reply_to_query(snapshot, query, answer))
}

/// /summary without a year: the years the corpus has, as buttons.
pub fn pick_a_year(snapshot: &Snapshot, language: Language) -> Reply {
    let years = snapshot.headline_years();
    let text = wording::summary_pick_year(language, !years.is_empty());
    Reply::notice(&text).with_buttons(summary_buttons(&years, None, language))
}

/// The rows of the fact table an answer states, in the answer's order.
pub fn fact_rows(snapshot: &Snapshot, query: &Query, answer: &Answer) -> Vec<usize> {
    let mut rows: Vec<usize> = Vec::new();
    for r in &answer.facts {
        let matching = |f: &Fact| {
            f.period.key() == r.period
                && f.metric == r.metric
                && f.text == r.text
                && f.value.normalize().to_string() == r.value
                && snapshot.quote(f) == r.source
        };
        let candidates: Vec<usize> = snapshot
            .facts
            .numbered()
            .filter(|(_, f)| matching(f))
            .map(|(i, _)| i)
            .collect();
        let best = candidates
            .iter()
            .copied()
            .find(|&i| snapshot.facts[i].dims == query.dims)
            .or_else(|| candidates.first().copied());
        if let Some(i) = best.filter(|i| !rows.contains(i)) {
            rows.push(i);
        }
    }
    rows
}

fn answer_buttons(
    snapshot: &Snapshot,
    query: &Query,
    answer: &Answer,
    facts: &[usize],
) -> Option<InlineKeyboardMarkup> {
    let language = answer.language;
    let version = callback::short_version(&snapshot.version);
    let mut rows: Vec<Vec<InlineKeyboardButton>> = Vec::new();
    if !facts.is_empty() {
        let shown = Facts {
            version: version.clone(),
            facts: facts.to_vec(),
        };
        let mut row = vec![button(
            wording::button_sources(language),
            &Press::Sources(language, shown.clone()),
        )];
        if answer.kind != AnswerKind::Summary {
            row.push(button(
                wording::button_details(language),
                &Press::Details(language, shown),
            ));
        }
        rows.push(row);
    }
    let years = match answer.kind {
        AnswerKind::Fact => facts
            .first()
            .and_then(|&f| neighbour_buttons(snapshot, f, language)),
        AnswerKind::Summary => {
            let year = query.years.first().copied();
            summary_buttons(
                &neighbours(&snapshot.headline_years(), year),
                year,
                language,
            )
        }
        AnswerKind::None => no_data_buttons(snapshot, query, language),
        _ => None,
    };
    rows.extend(years.map(|k| k.inline_keyboard).unwrap_or_default());
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

fn button(label: String, press: &Press) -> InlineKeyboardButton {
    InlineKeyboardButton::callback(label, callback::encode(press))
}

/// Up to [`NEIGHBOURS`] years on each side of `year` (all of them when
/// `year` is None), ascending.
fn neighbours(years: &[u16], year: Option<u16>) -> Vec<u16> {
    let Some(year) = year else {
        let start = years.len().saturating_sub(MAX_YEAR_BUTTONS);
        return years[start..].to_vec();
    };
    let before: Vec<u16> = years.iter().copied().filter(|y| *y < year).collect();
    let after = years.iter().copied().filter(|y| *y > year).take(NEIGHBOURS);
    before[before.len().saturating_sub(NEIGHBOURS)..]
        .iter()
        .copied()
        .chain(after)
        .collect()
}

/// One fact row per year with the same metric, dimensions and kind of
/// period as `like`, nationwide.
fn rows_by_year(
    snapshot: &Snapshot,
    metric: &str,
    dims: &[(String, String)],
    kind: PeriodKind,
) -> BTreeMap<u16, usize> {
    let mut by_year = BTreeMap::new();
    for (i, f) in snapshot.facts.numbered() {
        if f.metric == metric
            && f.dims == dims
            && f.period.kind == kind
            && f.scope == Scope::Nationwide
        {
            by_year.entry(f.period.year).or_insert(i);
        }
    }
    by_year
}

fn year_row(
    snapshot: &Snapshot,
    by_year: &BTreeMap<u16, usize>,
    years: &[u16],
    language: Language,
) -> Option<InlineKeyboardMarkup> {
    let version = callback::short_version(&snapshot.version);
    let buttons: Vec<InlineKeyboardButton> = years
        .iter()
        .filter_map(|y| {
            let fact = *by_year.get(y)?;
            let f = &snapshot.facts[fact];
            let press = Press::Fact(
                language,
                Facts {
                    version: version.clone(),
                    facts: vec![fact],
                },
            );
            Some(button(replies::period_label(&f.period, language), &press))
        })
        .collect();
    (!buttons.is_empty()).then(|| rows_of_four(buttons))
}

fn rows_of_four(buttons: Vec<InlineKeyboardButton>) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(buttons.chunks(4).map(<[_]>::to_vec).collect::<Vec<_>>())
}

fn neighbour_buttons(
    snapshot: &Snapshot,
    fact: usize,
    language: Language,
) -> Option<InlineKeyboardMarkup> {
    let f = &snapshot.facts[fact];
    if f.scope != Scope::Nationwide {
        return None;
    }
    let by_year = rows_by_year(snapshot, &f.metric, &f.dims, f.period.kind);
    let years: Vec<u16> = by_year.keys().copied().collect();
    year_row(
        snapshot,
        &by_year,
        &neighbours(&years, Some(f.period.year)),
        language,
    )
}

/// After "no data": the years that have the metric asked about (as it
/// was asked, else without its dimensions), or the years with a summary.
fn no_data_buttons(
    snapshot: &Snapshot,
    query: &Query,
    language: Language,
) -> Option<InlineKeyboardMarkup> {
    let period = match query.period {
        PeriodKind::Month(_) => PeriodKind::Year,
        kind => kind,
    };
    if let Some(metric) = &query.metric {
        for dims in [query.dims.clone(), vec![]] {
            let by_year = rows_by_year(snapshot, metric, &dims, period);
            let years: Vec<u16> = by_year.keys().copied().collect();
            if let Some(k) = year_row(snapshot, &by_year, &neighbours(&years, None), language) {
                return Some(k);
            }
        }
    }
    summary_buttons(
        &neighbours(&snapshot.headline_years(), None),
        None,
        language,
    )
}

fn summary_buttons(
    years: &[u16],
    except: Option<u16>,
    language: Language,
) -> Option<InlineKeyboardMarkup> {
    let buttons: Vec<InlineKeyboardButton> = years
        .iter()
        .filter(|y| Some(**y) != except)
        .map(|y| {
            let label = replies::period_label(&Period::year(*y), language);
            button(label, &Press::Summary(language, *y))
        })
        .collect();
    (!buttons.is_empty()).then(|| rows_of_four(buttons))
}

/// Sources: each document of the facts, its title linked when the
/// document has an address, then the full sentences it gives.
pub fn sources(snapshot: &Snapshot, facts: &[usize], language: Language) -> Reply {
    let mut lines = vec![Line::new(
        wording::sources_head(language),
        Style::Bold,
        Block::None,
    )];
    let mut docs: Vec<usize> = Vec::new();
    for &f in facts.iter().take(MAX_FACTS_SHOWN) {
        let doc = snapshot.facts[f].doc;
        if !docs.contains(&doc) {
            docs.push(doc);
        }
    }
    for doc in docs {
        let meta = &snapshot.documents[doc].meta;
        let title = replies::in_script(replies::source_line(meta, language), language);
        let style = meta.url.clone().map_or(Style::Plain, Style::Link);
        lines.push(Line::new(title, style, Block::None));
        if let Some(url) = &meta.url {
            lines.push(Line::plain(url.clone()));
        }
        let mut quotes: Vec<String> = Vec::new();
        for &f in facts.iter().take(MAX_FACTS_SHOWN) {
            let fact = &snapshot.facts[f];
            let quote = snapshot.quote(fact);
            if fact.doc == doc && !quotes.iter().any(|q| *q == quote) {
                quotes.push(quote.into_owned());
            }
        }
        for quote in &quotes {
            let text = replies::quote_text(quote, meta.language, language);
            lines.push(Line::new(text, Style::Plain, Block::Quote));
        }
    }
    Reply {
        messages: pack(&lines),
        ..Reply::default()
    }
}

/// Details: each figure with its period, scope, dimensions, share and
/// change, the clauses that state it, and the paragraph around them.
pub fn details(snapshot: &Snapshot, facts: &[usize], language: Language) -> Reply {
    let mut lines = vec![Line::new(
        wording::details_head(language),
        Style::Bold,
        Block::None,
    )];
    for &f in facts.iter().take(MAX_FACTS_SHOWN) {
        let fact = &snapshot.facts[f];
        let doc_language = snapshot.documents[fact.doc].meta.language;
        let line = replies::fact_line(&snapshot.vocabulary, fact, language);
        lines.push(Line::new(
            replies::in_script(line, language),
            Style::Plain,
            Block::None,
        ));
        let excerpt = replies::quote_text(&fact.excerpt, doc_language, language);
        lines.push(Line::new(excerpt, Style::Plain, Block::Quote));
        if let Some(context) = context_of(snapshot, fact) {
            let context = replies::quote_text(&context, doc_language, language);
            lines.push(Line::new(context, Style::Plain, Block::Expandable));
        }
    }
    Reply {
        messages: pack(&lines),
        ..Reply::default()
    }
}

/// The paragraph a fact's sentence stands in, cut around the sentence.
fn context_of(snapshot: &Snapshot, fact: &Fact) -> Option<String> {
    fact.sentence?;
    let quote = snapshot.quote(fact);
    let sentence = quote.trim();
    let passage = snapshot
        .passages_of(fact.doc)
        .into_iter()
        .find(|p| !sentence.is_empty() && p.contains(sentence))?;
    let text: Vec<char> = passage.chars().collect();
    if text.len() <= sentence.chars().count() {
        return None;
    }
    let at = passage
        .find(sentence)
        .map_or(0, |b| passage[..b].chars().count());
    let start = at.saturating_sub(CONTEXT_CHARS / 2);
    let end = (at + sentence.chars().count() + CONTEXT_CHARS / 2).min(text.len());
    let mut cut: String = text[start..end].iter().collect();
    if start > 0 {
        cut.insert(0, '…');
    }
    if end < text.len() {
        cut.push('…');
    }
    Some(cut)
}
