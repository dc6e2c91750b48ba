//! extract: "here is a document's sentences, give me its fact table".
//! One row per figure: period, scope, metric, dimensions, exact value, the
//! text as written with its qualifier, share and year-on-year change where
//! the sentence gives them, and the source sentence. Lists written with
//! 分别 (or English "respectively") are aligned item by item.
//!
//! Each figure is read within its clause as a frame: who (the document's
//! scope, or the scope words before it), which procedure and goods (the
//! metric's cues, the dimensions), which period, which release
//! (preliminary or final), and any modifier the vocabulary does not know,
//! kept as a literal qualifier so that the row is never taken for the
//! total. A sentence is read once into a [`Reading`]; the passes
//! (periods, scope, dimensions, qualifiers, percentages, excerpt) each
//! read it for one group of figures, and [`Extractor::emit_rows`] writes
//! the rows.
//!
//! Invariant: pure; reads only its arguments. Which words mean what comes
//! from the vocabulary, never from code.

use crate::domain::model::{Fact, Language, Period, PeriodKind, Scope, QUALIFIER_DIM, RELEASE_DIM};
use crate::domain::numbers::{chinese_year, parse_plain, scaled};
use crate::domain::span::{span_mentions, SpanMention};
use crate::domain::vocabulary::{find_words, DimensionHit, Metric, Vocabulary};
use regex::Regex;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The version of what extraction gives for a text: part of the knowledge
/// version, so that tables stored by an older extractor are rebuilt. Bump
/// it whenever the rows extracted from some text change, or the way a
/// generation stores passages.
pub const EXTRACTION_VERSION: &str = "31";

/// Lines longer than this (characters) are no heading.
const HEADING_CHARS: usize = 48;

/// The value of the release dimension for a preliminary count.
pub const PRELIMINARY: &str = "preliminary";

/// A sentence handed to extraction.
#[derive(Debug, Clone, Copy)]
pub struct SentenceInput<'a> {
    /// Index in the snapshot's sentence list.
    pub index: usize,
    /// The passage it belongs to.
    pub passage: usize,
    pub normalized: &'a str,
    pub original: &'a str,
}

/// Regular expressions built once per vocabulary.
pub struct Extractor<'v> {
    vocabulary: &'v Vocabulary,
    figure_zh: Regex,
    figure_en: Regex,
    year_zh: Regex,
    year_en: Regex,
    percent: Regex,
}

#[derive(Debug, Clone)]
struct Figure {
    start: usize,
    end: usize,
    metric: String,
    value: Decimal,
    text: String,
    qualifier: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PercentKind {
    Share,
    Rise,
    Fall,
}

/// A year the sentence speaks of: where, which, whether it means the
/// year's end, and whether it only sets the year of the period in force
/// (去年同期).
#[derive(Debug, Clone, Copy)]
struct YearMention {
    pos: usize,
    year: u16,
    kind: Option<PeriodKind>,
    same_period: bool,
    /// Part of a day's date ("on April 26, 2022").
    dated: bool,
}

/// A period word (前三季度) or a month (None: a month's figure).
type PeriodMark = (usize, usize, Option<PeriodKind>);
/// A percentage: start, end, value.
type Percent = (usize, usize, Decimal);
/// The year and period in force.
type Carried = (Option<u16>, Option<PeriodKind>);

/// Figures separated only by list separators, with the text around them.
#[derive(Debug, Clone)]
struct Group {
    members: Vec<usize>,
    start: usize,
    end: usize,
    /// Where the next group starts (the sentence's end for the last).
    next_start: usize,
    /// Where the previous group ends (0 for the first).
    previous_end: usize,
}

/// One sentence, read once: everything the passes share.
struct Reading<'a> {
    s: &'a str,
    original: &'a str,
    index: usize,
    english: bool,
    years: Vec<YearMention>,
    /// Several years spoken of at once (十三五期间, 2021—2025年累计).
    spans: Vec<SpanMention>,
    marks: Vec<PeriodMark>,
    figures: Vec<Figure>,
    percents: Vec<Percent>,
    dim_hits: Vec<DimensionHit>,
    scope_hits: Vec<(usize, Scope)>,
    groups: Vec<Group>,
    preliminary: bool,
}

/// The dimensions before a group: those in force, and the lists of items
/// (runs) that may pair with its figures.
#[derive(Debug, Default)]
struct GroupDims {
    dims: BTreeMap<String, String>,
    runs: BTreeMap<String, Vec<String>>,
    /// Where each kind's run starts and ends in the sentence.
    spans: BTreeMap<String, (usize, usize)>,
}

/// What holds for the whole document.
struct DocumentFrame {
    doc: usize,
    /// The scope its title (or lead) gives: a local customs house's news is
    /// local throughout.
    scope: Scope,
    /// Its title or lead says the figures are a preliminary count.
    preliminary: bool,
}

/// "4.16万批", "6.09 万批", "近3940.13万余件": qualifier, number, magnitude,
/// qualifier, unit, with spaces allowed between them.
fn figure_pattern_zh(before: &str, after: &str, units: &str) -> String {
    format!(
        r"(?P<pre>{before})?\s*(?P<num>\d+(?:,\d{{3}})*(?:\.\d+)?)\s*(?P<mid>{after})?\s*(?P<mag>万|亿|千)?\s*(?P<post>{after})?\s*(?P<unit>{units})"
    )
}

/// A month written right after a year (2025年3月底, 2025年3月31日).
static MONTH_AFTER_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(\d{1,2})\s*月(底|末|\d{1,2}\s*日)?").expect("fixed pattern")
});
/// The month written right after a year (whether it is December, whether
/// it is a month's end or a date); none when a range of months follows
/// (2023年3月至11月, read as a period word).
fn month_after_year(after: &str) -> Option<(bool, bool)> {
    let range_follows = crate::domain::numbers::month_ranges(after)
        .first()
        .is_some_and(|r| after[..r.start].trim().is_empty());
    MONTH_AFTER_YEAR
        .captures(after)
        .filter(|_| !range_follows)
        .map(|c| (&c[1] == "12", c.get(2).is_some()))
}

/// "April 26, 2022": a day's date.
static DATE_EN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,2},?\s*$")
        .expect("fixed pattern")
});

/// "as of the end of March 2025", "by March 31, 2025": a month's stock.
static MONTH_BEFORE_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:as of|by|until|through|end of)\s+(?:the end of\s+)?(january|february|march|april|may|june|july|august|september|october|november|december)\s*(?:\d{1,2},?\s*)?$")
        .expect("fixed pattern")
});

impl<'v> Extractor<'v> {
    /// The vocabulary it reads with (and normalizes text by).
    pub fn vocabulary(&self) -> &'v Vocabulary {
        self.vocabulary
    }

    pub fn new(vocabulary: &'v Vocabulary) -> Self {
        let alternation = |words: Vec<&String>| {
            let mut words: Vec<&String> = words.into_iter().filter(|w| !w.is_empty()).collect();
            words.sort_by_key(|w| std::cmp::Reverse(w.len()));
            words.dedup();
            words
                .iter()
                .map(|w| regex::escape(w))
                .collect::<Vec<_>>()
                .join("|")
        };
        let units_zh = alternation(vocabulary.metrics.iter().flat_map(|m| &m.units).collect());
        let units_en = alternation(
            vocabulary
                .metrics
                .iter()
                .flat_map(|m| &m.units_en)
                .collect(),
        );
        let before = alternation(vocabulary.qualifiers.before.iter().collect());
        let after = alternation(vocabulary.qualifiers.after.iter().collect());
        let or_never = |s: String| if s.is_empty() { "(?!)".to_string() } else { s };
        let figure_zh = figure_pattern_zh(
            &or_never(before.clone()),
            &or_never(after),
            &or_never(units_zh),
        );
        let figure_en = format!(
            r"(?P<pre>(?:{})\s+)?(?P<num>\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)\s*(?P<mag>million|billion|thousand)?\s+(?P<mid>(?:[a-z][a-z'-]*\s+){{0,6}}?)(?P<unit>{})\b",
            or_never(before),
            or_never(units_en)
        );
        Extractor {
            vocabulary,
            figure_zh: Regex::new(&figure_zh).expect("figure pattern from escaped words"),
            figure_en: Regex::new(&figure_en).expect("figure pattern from escaped words"),
            year_zh: Regex::new(
                r"((?:19|20)\d{2}|[〇零一二三四五六七八九]{4})\s*年(?:度)?(底|末)?",
            )
            .expect("fixed pattern"),
            year_en: Regex::new(r"\b((?:19|20)\d{2})\b").expect("fixed pattern"),
            percent: Regex::new(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)")
                .expect("fixed pattern"),
        }
    }

    /// The facts of one document, in sentence order.
    pub fn extract(
        &self,
        doc: usize,
        sentences: &[SentenceInput<'_>],
        language: Language,
        published_year: Option<u16>,
    ) -> Vec<Fact> {
        let mut facts = Vec::new();
        let english = language == Language::English;
        // A note in brackets before the headline ("（本文为…）") is not
        // the title.
        let from_title = sentences
            .iter()
            .position(|s| !is_bracketed(s.normalized))
            .map_or(sentences, |i| &sentences[i..]);
        let frame = self.document_frame(doc, from_title, english);
        let document_period = self.document_period(from_title, english, published_year);
        let mut period = document_period;
        let mut section = document_period;
        let mut passage = None;
        let mut campaign = None;
        for (i, sentence) in sentences.iter().enumerate() {
            let reading = self.read(sentence, english, published_year);
            // Each passage starts from its section's period (a heading's,
            // else the document's), so that a year mentioned in passing
            // does not carry into the next one.
            if passage != Some(sentence.passage) {
                passage = Some(sentence.passage);
                let alone = sentences
                    .get(i + 1)
                    .is_none_or(|n| n.passage != sentence.passage);
                let title = from_title.first().map(|t| t.index);
                if alone && title != Some(sentence.index) && is_heading(&reading) {
                    section = self.heading_period(&reading, document_period);
                }
                period = section;
                campaign = None;
            }
            let before = facts.len();
            self.extract_sentence(&frame, &reading, &mut period, &mut facts);
            self.name_campaign_rows(&reading, &mut campaign, &mut facts[before..]);
        }
        drop_restated_title_rows(from_title.first().map(|t| t.index), facts)
    }

    /// The period a heading sets for the passages under it: the one it
    /// names; none when it names several years ("2021—2025年"); the
    /// document's when it names no year (a day's date is none).
    fn heading_period(&self, r: &Reading<'_>, document: Carried) -> Carried {
        let mut years: Vec<u16> = r
            .years
            .iter()
            .filter(|y| !y.dated)
            .map(|y| y.year)
            .collect();
        years.dedup();
        if joins_two_years(r, r.s.len()) {
            return (None, None);
        }
        match years.len() {
            0 => document,
            1 => self.period_at(r, document, r.s.len()),
            _ => (None, None),
        }
    }

    /// The document's own year (the first year it names; years written out
    /// win over relative ones, so "this year" in a lead anecdote does not
    /// make a yearly report about the next year) and period (a title naming
    /// one, "上半年全国海关扣留…", makes it the document's).
    fn document_period(
        &self,
        sentences: &[SentenceInput<'_>],
        english: bool,
        published_year: Option<u16>,
    ) -> Carried {
        // (A year spoken of beats a day's date: a dateline or "on April
        // 26, 2022, the GACC released its 2021 report".)
        let first_year = |published: Option<u16>, dated: bool| {
            sentences.iter().find_map(|s| {
                self.year_mentions(s.normalized, english, published)
                    .iter()
                    .find(|m| m.kind.is_some() && (dated || !m.dated))
                    .map(|m| m.year)
            })
        };
        let title_period = sentences
            .first()
            .and_then(|t| self.period_hits(t.normalized).first().map(|h| h.2))
            .filter(|k| *k != PeriodKind::YearEnd);
        // "上半年海关扣留…" naming no year at all: the part of the year it
        // was published in.
        let part_of_year = title_period.is_some_and(|k| k != PeriodKind::Year);
        let document_year = first_year(None, false)
            .or_else(|| first_year(None, true))
            .or_else(|| first_year(published_year, true))
            .or(published_year.filter(|_| part_of_year));
        (
            document_year,
            Some(title_period.unwrap_or(PeriodKind::Year)),
        )
    }

    /// Scope and release that hold for the whole document: a title naming a
    /// customs house and no nationwide word (or, in Chinese, a lead whose
    /// first words are a customs house) makes every figure that house's
    /// unless its sentence names another scope; a title or lead saying
    /// 初步统计 makes them preliminary.
    fn document_frame(
        &self,
        doc: usize,
        sentences: &[SentenceInput<'_>],
        english: bool,
    ) -> DocumentFrame {
        let local = |s: &str| -> Option<Scope> {
            let hits = self.scope_hits(s, english);
            if hits.iter().any(|h| h.1 == Scope::Nationwide) {
                return None;
            }
            hits.into_iter().find_map(|h| match h.1 {
                Scope::Customs(name) if !self.vocabulary.scope.customs.contains(&name) => {
                    Some(Scope::Customs(name))
                }
                _ => None,
            })
        };
        let title = sentences.first().map_or("", |s| s.normalized);
        let lead = sentences
            .iter()
            .skip(1)
            .find(|s| {
                s.normalized
                    .chars()
                    .filter(|c| crate::domain::normalize::is_han(*c))
                    .count()
                    >= 10
            })
            .map_or("", |s| s.normalized);
        let lead_start: String = lead.chars().take(16).collect();
        // A campaign's note ("Chinese customs seized … in 'Longteng Action
        // 2019'"): its figures are the campaign's.
        let campaign = || {
            // (A title naming several campaigns is no one campaign's.)
            match self.vocabulary.scope.campaigns_in(title)[..] {
                [one] => Some(Scope::Campaign(one.to_string())),
                _ => None,
            }
        };
        let scope = local(title)
            .or_else(|| (!english).then(|| local(&lead_start)).flatten())
            .or_else(campaign)
            .unwrap_or(Scope::Nationwide);
        let release = &self.vocabulary.release.preliminary;
        let preliminary = crate::domain::vocabulary::contains_any(title, release)
            || crate::domain::vocabulary::contains_any(lead, release);
        DocumentFrame {
            doc,
            scope,
            preliminary,
        }
    }

    /// Reads a sentence once: years, period words, figures, percentages,
    /// dimension and scope words, and the groups its figures form.
    fn read<'a>(
        &self,
        sentence: &SentenceInput<'a>,
        english: bool,
        published_year: Option<u16>,
    ) -> Reading<'a> {
        let s = sentence.normalized;
        let figures = if english {
            self.figures_en(s)
        } else {
            self.figures_zh(s)
        };
        let hits = self.period_hits(s);
        let in_range = |pos: usize| hits.iter().any(|h| pos >= h.0 && pos < h.1);
        let mut marks: Vec<PeriodMark> = hits
            .iter()
            .map(|&(a, b, k)| (a, b, Some(k)))
            .chain(
                // (After a year the year's mention says it: no period.)
                crate::domain::numbers::month_mentions(s)
                    .into_iter()
                    .filter(|m| !m.after_year && !in_range(m.start))
                    .map(|m| (m.start, m.end, None)),
            )
            // "今年以来…": the year so far, like a month, is no row's period.
            .chain(
                find_words(
                    s,
                    self.vocabulary.periods.to_date.iter().map(String::as_str),
                )
                .into_iter()
                .map(|(a, b, _)| (a, b, None)),
            )
            .collect();
        marks.sort_by_key(|h| h.0);
        let percents = self
            .percent
            .captures_iter(s)
            .filter_map(|c| {
                let m = c.get(0)?;
                Some((m.start(), m.end(), parse_plain(&c[1])?))
            })
            .collect();
        let groups = self.groups_of(s, &figures);
        // (A year inside a range or a running total's end is the span's.)
        let spans = span_mentions(s, self.vocabulary, published_year);
        let mut years = self.year_mentions(s, english, published_year);
        years.retain(|y| !spans.iter().any(|m| m.covers(y.pos)));
        Reading {
            s,
            original: sentence.original,
            index: sentence.index,
            english,
            years,
            spans,
            marks,
            figures,
            percents,
            dim_hits: self.figure_dimension_hits(s),
            scope_hits: self.scope_hits(s, english),
            groups,
            preliminary: crate::domain::vocabulary::contains_any(
                s,
                &self.vocabulary.release.preliminary,
            ),
        }
    }

    /// Dimension words, but those naming what a campaign is about
    /// ("寄递渠道“蓝网行动”", "出口转运货物知识产权保护“净网行动”"): they
    /// describe the campaign, not a figure.
    fn figure_dimension_hits(&self, s: &str) -> Vec<DimensionHit> {
        let names = &self.vocabulary.scope.campaign_names;
        let campaigns = find_words(
            s,
            names
                .iter()
                .flat_map(|c| c.words.iter().map(String::as_str)),
        );
        let mut hits = self.vocabulary.dimension_hits(s);
        hits.retain(|h| {
            !campaigns.iter().any(|&(a, _, _)| {
                a >= h.end && {
                    let between = &s[h.end..a];
                    between.chars().count() <= 8
                        && !between
                            .char_indices()
                            .any(|(i, c)| is_clause_mark(between, i, c, true))
                }
            })
        });
        hits
    }

    /// Figures separated only by list separators form a group.
    fn groups_of(&self, s: &str, figures: &[Figure]) -> Vec<Group> {
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (i, f) in figures.iter().enumerate() {
            let joined = i > 0 && self.is_list_gap(&s[figures[i - 1].end..f.start]);
            match members.last_mut() {
                Some(g) if joined => g.push(i),
                _ => members.push(vec![i]),
            }
        }
        let bounds: Vec<(usize, usize)> = members
            .iter()
            .map(|g| (figures[g[0]].start, figures[g[g.len() - 1]].end))
            .collect();
        members
            .into_iter()
            .enumerate()
            .map(|(gi, members)| Group {
                members,
                start: bounds[gi].0,
                end: bounds[gi].1,
                next_start: bounds.get(gi + 1).map_or(s.len(), |b| b.0),
                previous_end: gi.checked_sub(1).map_or(0, |p| bounds[p].1),
            })
            .collect()
    }

    fn is_separators(&self, between: &str) -> bool {
        let seps = &self.vocabulary.lists.separators;
        between
            .chars()
            .all(|c| seps.iter().any(|w| w.chars().eq(std::iter::once(c))))
    }

    fn is_list_gap(&self, between: &str) -> bool {
        let gap = between.trim();
        self.is_separators(between) || self.vocabulary.lists.gaps.iter().any(|w| w == gap)
    }

    /// Whether the text says its lists pair item by item (分别, respectively).
    fn says_respectively(&self, text: &str) -> bool {
        crate::domain::vocabulary::contains_any(text, &self.vocabulary.lists.respectively)
    }

    fn extract_sentence(
        &self,
        frame: &DocumentFrame,
        r: &Reading<'_>,
        carried: &mut Carried,
        facts: &mut Vec<Fact>,
    ) {
        let at_end = self.period_at(r, *carried, r.s.len());
        // Percentages before the sentence's first figure ("其中，商标权货物
        // 批次占扣留总批次的97.1%，商标权货物数量为9230万件") belong to
        // figures of the sentences before.
        let first_figure = r.figures.first().map_or(r.s.len(), |f| f.start);
        let leading: Vec<Percent> = r
            .percents
            .iter()
            .copied()
            .filter(|p| p.1 <= first_figure)
            .collect();
        self.attach_percentages(r, &leading, facts);
        let mut subset: Option<String> = None;
        for gi in 0..r.groups.len() {
            self.emit_rows(frame, r, *carried, gi, &mut subset, facts);
        }
        // A sentence ending in several years at once leaves no year in
        // force for the next ones.
        let last_year = r.years.last().map_or(0, |y| y.pos + 1);
        *carried = if r.spans.last().is_some_and(|m| m.start + 1 > last_year) {
            (None, None)
        } else {
            at_end
        };
    }

    /// "“蓝网行动2025”…。行动期间，…": a campaign row named only by a
    /// word for "the campaign" is the campaign the passage named last.
    fn name_campaign_rows(&self, r: &Reading<'_>, named: &mut Option<String>, rows: &mut [Fact]) {
        let is_named = |w: &str| self.vocabulary.scope.is_campaign_name(w);
        for f in rows.iter_mut() {
            match (&f.scope, named.as_ref()) {
                (Scope::Campaign(w), Some(n)) if !is_named(w) => {
                    f.scope = Scope::Campaign(n.clone())
                }
                _ => {}
            }
        }
        let last = r.scope_hits.iter().rev().find_map(|h| match &h.1 {
            Scope::Campaign(w) if is_named(w) => Some(w.clone()),
            _ => None,
        });
        if last.is_some() {
            *named = last;
        }
    }

    /// The span in force at `pos`: the latest one before it with no year
    /// named after it (in English, else the first in the figure's clause
    /// after it); its years, or None when they cannot be told.
    fn span_at(&self, r: &Reading<'_>, pos: usize) -> Option<Option<(u16, u16, u8)>> {
        let before = r.spans.iter().rev().find(|m| m.start < pos);
        let span = match before {
            Some(m) => m,
            None if r.english => {
                let clause = clause_end(r.s, pos);
                r.spans
                    .iter()
                    .find(|m| m.start >= pos && m.start < clause)?
            }
            None => return None,
        };
        let year_after = r.years.iter().any(|y| y.pos > span.start && y.pos < pos);
        (!year_after).then_some(span.years)
    }

    /// The year and period in force at `pos`: the latest year mention
    /// before it (and a period word that goes with it), else what the
    /// sentences before set ("2023年前三季度，…。扣留…批" keeps the three
    /// quarters). English names the period after its figure too ("detained
    /// 22,000 batches in the first three quarters of 2024"): with no year
    /// before the figure, the first one after it counts.
    fn period_at(&self, r: &Reading<'_>, carried: Carried, pos: usize) -> Carried {
        let clause = clause_end(r.s, pos);
        let after = r.years.iter().find(|y| y.pos >= pos);
        let pos = match after {
            // "… 56.18 million pieces in 2020": the year of its own clause;
            // with no year before the figure, the first one after it.
            Some(y) if r.english && (y.pos < clause || !r.years.iter().any(|y| y.pos < pos)) => {
                y.pos + 1
            }
            _ => pos,
        };
        let s = r.s;
        let (mut fig_year, mut kind) = carried;
        for y in r.years.iter().filter(|y| y.pos < pos) {
            fig_year = Some(y.year);
            if !y.same_period {
                kind = y.kind;
            }
        }
        // Only mentions that set a period bound a period word.
        let period_years: Vec<usize> = r
            .years
            .iter()
            .filter(|y| !y.same_period)
            .map(|y| y.pos)
            .collect();
        // None set by a month (not a month-end stock): a period word after
        // it may set a period again.
        let mut by_month = false;
        for &(hp, end, k) in r.marks.iter().filter(|m| m.0 < pos) {
            // 2023年前三季度: the period follows its year; "the first three
            // quarters of 2023": it names the year right after it.
            // (今年以来: a period word holding its year.)
            let follows_its_year = period_years.iter().all(|&yp| yp <= hp || yp >= pos);
            let names_next_year = period_years.iter().any(|&yp| {
                yp >= end
                    && yp < pos
                    && matches!(s[end..yp].trim(), "of" | "of the year" | "in" | "")
            });
            if !(follows_its_year || names_next_year) {
                continue;
            }
            match k {
                Some(k) if kind.is_some() || by_month => {
                    kind = Some(k);
                    by_month = false;
                }
                Some(_) => {}
                None => {
                    kind = None;
                    by_month = true;
                }
            }
        }
        // "detained 22,000 batches … by September", "… in Q1": English names
        // the period after the figure, in its clause.
        if r.english && kind.is_some() {
            let after = r.marks.iter().find(|m| m.0 >= pos && m.0 < clause);
            if let Some(&(_, _, Some(k))) = after {
                kind = Some(k);
            }
        }
        (fig_year, kind)
    }

    /// Shares and changes among the percentages in `from..to`, read after
    /// the figures that end at `from`; and where the last one used ends.
    fn percents_after(
        &self,
        r: &Reading<'_>,
        from: usize,
        to: usize,
        own_clause: bool,
    ) -> (Vec<(PercentKind, Decimal)>, Option<usize>) {
        let p = &self.vocabulary.percentages;
        let has = |text: &str, words: &[String]| words.iter().any(|w| text.contains(w.as_str()));
        let s = r.s;
        let mut kinds: Vec<(PercentKind, Decimal)> = Vec::new();
        let mut cursor = from;
        let mut last_used = None;
        // Percentages read so far with no word of their own, waiting for a
        // list neighbour that has one ("97.96 percent and 91.03 percent of
        // the totals": the share word comes after the last).
        let mut pending: Vec<(Decimal, usize)> = Vec::new();
        for &(ps, pe, value) in r.percents.iter().filter(|p| p.0 >= from && p.0 < to) {
            if own_clause && self.names_another_part(r, from, ps) {
                continue;
            }
            let between = &s[cursor.min(ps)..ps];
            let from_group = &s[from..ps];
            let after = s[pe..].trim_start();
            let kind = if has(between, &p.share)
                || p.share_after.iter().any(|w| after.starts_with(w.as_str()))
            {
                Some(PercentKind::Share)
            } else if has(between, &p.down) {
                Some(PercentKind::Fall)
            } else if has(between, &p.up) {
                Some(PercentKind::Rise)
            } else if self.is_list_gap(between) {
                kinds.last().map(|k| k.0)
            } else if has(from_group, &p.share) && !between.contains(['，', ',']) {
                Some(PercentKind::Share)
            } else {
                None
            };
            match kind {
                Some(k) => {
                    if pending
                        .last()
                        .is_some_and(|&(_, e)| self.is_list_gap(&s[e..ps]))
                    {
                        kinds.extend(pending.iter().map(|&(v, _)| (k, v)));
                    }
                    pending.clear();
                    kinds.push((k, value));
                    last_used = Some(pe);
                }
                None if pending
                    .last()
                    .is_none_or(|&(_, e)| self.is_list_gap(&s[e..ps])) =>
                {
                    pending.push((value, pe));
                }
                None => pending = vec![(value, pe)],
            }
            cursor = pe;
        }
        (kinds, last_used)
    }

    /// Whether the percentage at `ps`, in a clause after the one ending at
    /// `from`, names a part of its own ("2410批、486.3万件，其中跨境电商
    /// 渠道查扣批次同比增长42%"): the change is that part's, not the
    /// figures' before it.
    fn names_another_part(&self, r: &Reading<'_>, from: usize, ps: usize) -> bool {
        let clause_start = ps - clause_before(r.s, ps).len();
        clause_start > from
            && r.dim_hits
                .iter()
                .any(|h| !h.value.is_empty() && h.start >= clause_start && h.start < ps)
    }

    /// Scope of a group: campaign words stick; otherwise the latest scope
    /// word before it, else the document's scope; a count of customs houses
    /// before it (其中15个直属海关) makes it a subset.
    fn scope_of(
        &self,
        frame: &DocumentFrame,
        r: &Reading<'_>,
        g: &Group,
        subset: &Option<String>,
    ) -> Scope {
        if let Some(sub) = subset {
            return Scope::Subset(sub.clone());
        }
        let mut scope: Option<Scope> = None;
        let activity = &self.vocabulary.scope.campaign_activity;
        for (pos, sc) in &r.scope_hits {
            if *pos >= g.start || matches!(scope, Some(Scope::Campaign(_))) {
                continue;
            }
            // "拱北海关…开展…专项行动，共查扣…": the house's own figures.
            let house = match &scope {
                Some(s) => matches!(s, Scope::Customs(_)),
                None => matches!(frame.scope, Scope::Customs(_)),
            };
            let named = |w: &str| self.vocabulary.scope.is_campaign_name(w);
            if house && matches!(sc, Scope::Campaign(w) if activity.contains(w) || named(w)) {
                continue;
            }
            // In a campaign's note, "全国海关" are the campaign's actors.
            if *sc == Scope::Nationwide && matches!(frame.scope, Scope::Campaign(_)) {
                continue;
            }
            scope = Some(sc.clone());
        }
        match scope {
            // 该关: the customs house the document is about, when it is one.
            Some(Scope::Customs(word)) if self.vocabulary.scope.customs.contains(&word) => {
                match &frame.scope {
                    Scope::Customs(name) => Scope::Customs(name.clone()),
                    _ => Scope::Customs(word),
                }
            }
            Some(scope) => scope,
            None => frame.scope.clone(),
        }
    }

    /// Dimensions: before the group (Chinese); up to the end of the
    /// figure's clause (English, where they follow the figure). Lists of
    /// items keep the place of an item the vocabulary lacks.
    fn dimensions_of(&self, r: &Reading<'_>, g: &Group) -> GroupDims {
        let s = r.s;
        let limit = if r.english {
            self.english_frame_end(r, g)
        } else {
            g.start
        };
        let mut out = GroupDims::default();
        let mut last_end: BTreeMap<String, usize> = BTreeMap::new();
        for hit in r.dim_hits.iter().filter(|h| h.start < limit) {
            // English names the category once, often after the figure:
            // the first word of a kind counts.
            if r.english && out.dims.contains_key(&hit.kind) {
                // "…suspended…, and actually detained 20,870 batches": a
                // word naming the whole, in the figure's own clause up to
                // its unit, clears ("21,330 … were accepted … and 17,436
                // were approved": the later word is the next figure's).
                let clause_start = g.start - clause_before(s, g.start).len();
                if hit.value.is_empty() && hit.start >= clause_start && hit.start < g.end {
                    out.dims.remove(&hit.kind);
                    out.runs.remove(&hit.kind);
                }
                continue;
            }
            let gap = last_end.get(&hit.kind).map(|&e| &s[e..hit.start]);
            let continues = gap.is_some_and(|g| self.is_list_gap(g));
            // "海运、空运、陆路和邮递": an item the vocabulary lacks, between
            // list separators, holds its place in the list.
            let skips_one = !continues && gap.is_some_and(is_unknown_list_item);
            let run = out.runs.entry(hit.kind.clone()).or_default();
            // "邮递快件", "邮递和快件": two words of one item.
            if continues && run.last() == Some(&hit.value) {
                last_end.insert(hit.kind.clone(), hit.end);
                continue;
            }
            if skips_one {
                run.push(UNKNOWN_ITEM.to_string());
            } else if !continues {
                run.clear();
                out.spans.insert(hit.kind.clone(), (hit.start, hit.end));
            }
            run.push(hit.value.clone());
            if let Some(span) = out.spans.get_mut(&hit.kind) {
                span.1 = hit.end;
            }
            last_end.insert(hit.kind.clone(), hit.end);
            out.dims.insert(hit.kind.clone(), hit.value.clone());
        }
        // "商标权、专利权、著作权和奥林匹克标志专有权的货物分别为…": an
        // unknown last item of the list holds the last place.
        for (kind, run) in out.runs.iter_mut() {
            let after = last_end
                .get(kind)
                .and_then(|&e| s.get(e..g.start))
                .unwrap_or("");
            if !r.english
                && run.len() >= 2
                && run.len() + 1 == g.members.len()
                && after.starts_with(['、', '和', '及', '与'])
            {
                run.push(UNKNOWN_ITEM.to_string());
            }
        }
        out
    }

    /// A list of items that does not pair with the group's figures (an item
    /// the vocabulary lacks: "海运、陆路和邮递渠道…分别为2150批、310批和
    /// 3.67万批") cannot say which figure is whose.
    /// So is a list whose items the vocabulary merges into fewer values
    /// than there are figures of one metric ("14,300 and 2,310 batches …
    /// in the postal and express channels": both are mail_express), and one
    /// item after several figures of one metric.
    fn misaligned(&self, r: &Reading<'_>, g: &Group, dims: &GroupDims) -> bool {
        let members = g.members.len();
        let metric = |i: &usize| r.figures[*i].metric.as_str();
        let same_metric = g.members.iter().all(|i| metric(i) == metric(&g.members[0]));
        let end = if r.english {
            self.english_frame_end(r, g)
        } else {
            g.start
        };
        members > 1
            && dims.runs.iter().any(|(kind, run)| {
                let hits: Vec<&DimensionHit> = r
                    .dim_hits
                    .iter()
                    .filter(|h| {
                        &h.kind == kind
                            && !h.value.is_empty()
                            && h.start >= g.previous_end
                            && h.start < end
                            && !(h.start >= g.start && h.start < g.end)
                    })
                    .collect();
                let distinct = |mut v: Vec<&str>| {
                    v.sort_unstable();
                    v.dedup();
                    v.len()
                };
                let named = distinct(hits.iter().map(|h| h.value.as_str()).collect());
                let words = distinct(hits.iter().map(|h| &r.s[h.start..h.end]).collect());
                // (Nor can one item name several figures of one metric:
                // "Of the 23,700 detained shipments, over 22,900 … were
                // exports".)
                let merged =
                    same_metric && named < members && (words >= members || run.len() < members);
                (run.len() != members && (run.len() > 1 || named > 1)) || merged
            })
    }

    /// Modifiers before the group that the vocabulary does not know ("在行邮
    /// 渠道", "东部沿海地区", "以轻微违法不予行政处罚方式，"): in the group's own
    /// clause, or in an earlier clause of the sentence when a preposition
    /// opens them. Like a dimension, the latest modifier ending in a suffix
    /// word holds until another (known or not) replaces it.
    fn literal_qualifiers(&self, r: &Reading<'_>, g: &Group) -> Vec<String> {
        if r.english {
            return self.literal_qualifiers_en(r, g);
        }
        let s = r.s;
        let f = &self.vocabulary.frame;
        let clause_start = g.start - clause_before(s, g.start).len();
        let mut latest: BTreeMap<usize, Option<String>> = BTreeMap::new();
        let suffixes = find_words(
            &s[..g.start],
            f.qualifier_suffixes.iter().map(String::as_str),
        );
        for (a, b, which) in suffixes {
            if r.figures.iter().any(|x| a >= x.start && a < x.end) {
                continue;
            }
            let floor = r
                .figures
                .iter()
                .filter(|x| x.end <= a)
                .map(|x| x.end)
                .max()
                .unwrap_or(0);
            let (start, opened) = self.modifier_start(s, floor, a);
            let x = &s[start..a];
            // "处理货运渠道": a dimension word right before the suffix (or
            // the whole, 货运渠道) is what the suffix names.
            let named_by_dimension = r
                .dim_hits
                .iter()
                .any(|h| h.end == a || (h.start <= a && h.end >= b));
            let known = start == a
                || named_by_dimension
                || f.not_qualifiers.iter().any(|w| w == x)
                || self.is_known_words(r, start, a);
            let counts = opened || a >= clause_start;
            latest.insert(which, (!known && counts).then(|| s[start..b].to_string()));
        }
        // "平均每天扣留…170余批": a rate, not a count.
        let clause = &s[clause_start..g.start];
        let mut out: Vec<String> = find_words(clause, f.rates.iter().map(String::as_str))
            .into_iter()
            .map(|(a, b, _)| clause[a..b].to_string())
            .collect();
        for literal in latest.into_values().flatten() {
            if !out.contains(&literal) {
                out.push(literal);
            }
        }
        out
    }

    /// English modifiers the vocabulary lacks ("in the eastern coastal
    /// region", "per day"): the words before a suffix word (region, ports)
    /// back to a stop word, anywhere from the previous group to the end of
    /// the figure's clause.
    fn literal_qualifiers_en(&self, r: &Reading<'_>, g: &Group) -> Vec<String> {
        let s = r.s;
        let f = &self.vocabulary.frame;
        let span = &s[g.previous_end..clause_end(s, g.end)];
        let mut out: Vec<String> = find_words(span, f.rates.iter().map(String::as_str))
            .into_iter()
            .map(|(a, b, _)| span[a..b].to_string())
            .collect();
        out.extend(self.unknown_label_en(r, g));
        // "22,400 of the detained shipments, …": a part of a total, named
        // nowhere in the sentence by a word the vocabulary knows.
        if let Some(part) = partitive_en(r) {
            let named = r.dim_hits.iter().any(|h| !h.value.is_empty());
            if !named {
                out.push(part.to_string());
            }
        }
        let words: Vec<&str> = span
            .split(|c: char| c.is_whitespace() || ",;".contains(c))
            .collect();
        for (i, w) in words.iter().enumerate() {
            if !f.suffixes_en.iter().any(|x| x == w) {
                continue;
            }
            let mut start = i;
            while start > 0 && !f.stops_en.iter().any(|x| x == words[start - 1]) && i - start < 4 {
                start -= 1;
            }
            let modifier = words[start..i].join(" ");
            let known = modifier.is_empty()
                || !self.vocabulary.dimension_hits(&modifier).is_empty()
                || f.not_qualifiers.contains(&modifier);
            if !known {
                out.push(words[start..=i].join(" "));
            }
        }
        out
    }

    /// Where an English figure's frame ends: its clause, or the sentence
    /// when the sentence speaks of a part ("22,400 of the detained
    /// shipments, involving …, were detained on the customs' own
    /// initiative").
    fn english_frame_end(&self, r: &Reading<'_>, g: &Group) -> usize {
        if partitive_en(r).is_some() {
            r.s.len()
        } else {
            clause_end(r.s, g.end)
        }
    }

    /// "Goods infringing self-owned Chinese brands: customs seized 341
    /// batches": a label before a colon, ahead of the group, naming goods
    /// with a word the vocabulary does not know, names a part: kept as
    /// written.
    fn unknown_label_en(&self, r: &Reading<'_>, g: &Group) -> Option<String> {
        let s = r.s;
        let colon = s[..g.start].rfind(':')?;
        // "China Customs H1 2025: …": a label naming who is a headline's
        // lead, not a part.
        if r.scope_hits.iter().any(|h| h.0 < colon) {
            return None;
        }
        let label = s[..colon].trim();
        let words: Vec<&str> = label
            .split(|c: char| c.is_whitespace() || ",;\"'()".contains(c))
            .filter(|w| !w.is_empty())
            .collect();
        if words.is_empty() || words.len() > 8 {
            return None;
        }
        let v = self.vocabulary;
        let known_dims: Vec<&str> = v
            .dimension_hits(label)
            .iter()
            .flat_map(|h| label[h.start..h.end].split_whitespace())
            .collect();
        let known = |w: &str| {
            let listed = |list: &[String]| list.iter().any(|x| x == w);
            listed(&v.frame.stops_en)
                || listed(&v.frame.not_qualifiers)
                || listed(&v.english.goods_after_of)
                || listed(&v.question.filler)
                || v.metrics
                    .iter()
                    .any(|m| listed(&m.cues) || listed(&m.units_en))
                || known_dims.contains(&w)
                || w.chars().all(|c| c.is_ascii_digit())
        };
        // (A heading, "Enforcement Actions:", names no goods.)
        let names_goods = words
            .iter()
            .any(|w| v.english.goods_after_of.iter().any(|g| g == w));
        (names_goods && words.iter().any(|w| !known(w))).then(|| label.to_string())
    }

    /// Whether the text before `pos` ends with a year that is a point of
    /// comparison ("较2022年的", "than in 2022,").
    fn follows_reference_year(&self, s: &str, pos: usize) -> bool {
        let head = s[..pos].trim_end();
        let head = head.strip_suffix("的").unwrap_or(head).trim_end();
        let head = head.strip_suffix("同期").unwrap_or(head).trim_end();
        let Some(year_start) = REFERENCE_TAIL.find(head).map(|m| m.start()) else {
            return false;
        };
        self.is_reference(&head[..year_start])
    }

    /// Going back from `end` over Han characters to a break word (or
    /// `floor`): where the modifier's words start, and whether a
    /// preposition opens them.
    fn modifier_start(&self, s: &str, floor: usize, end: usize) -> (usize, bool) {
        let f = &self.vocabulary.frame;
        let mut pos = end;
        let mut taken = 0;
        while pos > floor && taken < 14 {
            let head = &s[floor..pos];
            if let Some(w) = f.breaks.iter().find(|w| head.ends_with(w.as_str())) {
                return (pos, f.prepositions.contains(w));
            }
            let Some(c) = head.chars().next_back() else {
                break;
            };
            if !crate::domain::normalize::is_han(c) || c == '年' || c == '月' {
                break;
            }
            pos -= c.len_utf8();
            taken += 1;
        }
        (pos, false)
    }

    /// Whether the bytes `a..b` are all covered by words the vocabulary
    /// knows (dimension words, scope words, metric cues).
    fn is_known_words(&self, r: &Reading<'_>, a: usize, b: usize) -> bool {
        let s = r.s;
        let mut covered = vec![false; b - a];
        let mut cover = |x: usize, y: usize| {
            for i in x.max(a)..y.min(b) {
                covered[i - a] = true;
            }
        };
        for h in &r.dim_hits {
            cover(h.start, h.end);
        }
        let cues = self.vocabulary.metrics.iter().flat_map(|m| m.cues.iter());
        for (x, y, _) in find_words(&s[a..b], cues.map(String::as_str)) {
            cover(a + x, a + y);
        }
        covered.iter().all(|c| *c)
    }

    /// The excerpt quoting a group: its clause (with the percentages used),
    /// led by the sentence's opening clauses when short.
    fn excerpt_for(&self, r: &Reading<'_>, gi: usize, last_used_percent: Option<usize>) -> String {
        let s = r.s;
        let g = &r.groups[gi];
        let mut end = clause_end(s, g.end);
        if let Some(pe) = last_used_percent {
            end = end.max(clause_end(s, pe));
        }
        let start = g.start - clause_before(s, g.start).len();
        // The clauses before the sentence's first figure set the scene
        // (year, subject); they lead the excerpt when short.
        let first_start = r.groups[0].start;
        let lead_end = first_start - clause_before(s, first_start).len();
        let lead = (gi > 0 && lead_end > 0 && s[..lead_end].chars().count() <= 60)
            .then(|| excerpt_of(r.original, s, 0, lead_end))
            .map(|l| l.trim_end_matches('…').to_string());
        let excerpt = excerpt_of(r.original, s, if gi == 0 { 0 } else { start }, end);
        // (When the excerpt could not be cut, it is the whole sentence and
        // already holds its lead.)
        match lead.filter(|l| !l.is_empty() && excerpt.starts_with('…')) {
            Some(lead) => format!("{lead}{excerpt}"),
            None => excerpt,
        }
    }

    /// "7.08万次，扣留6.45万批、7732.56万件，同比分别增长5.1%、3.2%和5.6%":
    /// one list after the last group for every figure of the sentence.
    /// An amount of money after the last figure ("案值约4410.6万元") takes
    /// its place in the list too, after the figures: the list's first items
    /// are theirs.
    fn sentence_wide(&self, r: &Reading<'_>) -> Option<Vec<(PercentKind, Decimal)>> {
        let last = r.groups.last()?;
        if r.groups.len() < 2 || !self.says_respectively(r.s) {
            return None;
        }
        let mut kinds = self.percents_after(r, last.end, r.s.len(), true).0;
        let list_start = r.percents.iter().find(|p| p.0 >= last.end)?.0;
        let amounts = MONEY.find_iter(&r.s[last.end..list_start]).count();
        if kinds.len() == r.figures.len() + amounts {
            kinds.truncate(r.figures.len());
        }
        (kinds.len() == r.figures.len()).then_some(kinds)
    }

    /// The period of a group's figures; none when it cannot be told: the
    /// figure of a year compared with, restated ("较2022年的6.09万批"), a
    /// stock at a month's end inside the year, periods added together
    /// ("2019全年及2020年第一季度").
    fn group_period(&self, r: &Reading<'_>, carried: Carried, g: &Group) -> Option<Period> {
        if self.follows_reference_year(r.s, g.start) {
            return None;
        }
        // ("2016—2020年" is a span, not two years' periods added together.)
        if let Some(span) = self.span_at(r, g.start) {
            let (from, to, month) = span?;
            return Some(Period {
                year: from,
                kind: PeriodKind::Span(to, month),
            });
        }
        if joins_two_years(r, g.start) {
            return None;
        }
        let (Some(year), Some(kind)) = self.period_at(r, carried, g.start) else {
            return None;
        };
        Some(Period { year, kind })
    }

    /// The rows of one group of figures.
    fn emit_rows(
        &self,
        frame: &DocumentFrame,
        r: &Reading<'_>,
        carried: Carried,
        gi: usize,
        subset: &mut Option<String>,
        facts: &mut Vec<Fact>,
    ) {
        let g = &r.groups[gi];
        let Some(Period { year, kind }) = self.group_period(r, carried, g) else {
            return;
        };
        let scope = self.scope_of(frame, r, g, subset);
        let dims = self.dimensions_of(r, g);
        if self.misaligned(r, g, &dims) {
            return;
        }
        let mut qualifiers = self.literal_qualifiers(r, g);
        // A customs house's figure in a campaign's note is the house's part
        // of the campaign.
        if let (Scope::Campaign(name), Scope::Customs(_)) = (&frame.scope, &scope) {
            qualifiers.push(name.clone());
        }
        let (kinds, last_used_percent) = self.percents_after(r, g.end, g.next_start, true);
        let percentages = GroupPercentages::new(self, r, g, kinds);
        let excerpt = self.excerpt_for(r, gi, last_used_percent);
        let preliminary = frame.preliminary || r.preliminary;
        for (i, &fi) in g.members.iter().enumerate() {
            let f = &r.figures[fi];
            let mut row_dims = dims.dims.clone();
            for (kind, run) in &dims.runs {
                if run.len() == g.members.len() && g.members.len() > 1 {
                    row_dims.insert(kind.clone(), run[i].clone());
                }
            }
            // The figure of an item the vocabulary lacks: no row.
            if row_dims.values().any(|v| v == UNKNOWN_ITEM) {
                continue;
            }
            let mut qualifiers = qualifiers.clone();
            // "在陆路、海运及空运口岸共…检获约180万件": one figure for several
            // items is none of them; the items as written stay a qualifier.
            for (kind, run) in &dims.runs {
                if run.len() >= 2 && g.members.len() == 1 {
                    row_dims.remove(kind);
                    if let Some(&(a, b)) = dims.spans.get(kind) {
                        qualifiers.push(r.s[a..b].to_string());
                    }
                }
            }
            if !qualifiers.is_empty() {
                row_dims.insert(QUALIFIER_DIM.to_string(), qualifiers.join("、"));
            }
            if preliminary {
                row_dims.insert(RELEASE_DIM.to_string(), PRELIMINARY.to_string());
            }
            let (share, yoy) = percentages.of(i, fi, &f.metric);
            facts.push(Fact {
                period: Period { year, kind },
                scope: scope.clone(),
                metric: f.metric.clone(),
                dims: row_dims
                    .into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .collect(),
                value: f.value,
                text: f.text.clone(),
                qualifier: f.qualifier.clone(),
                share,
                yoy,
                doc: frame.doc,
                sentence: Some(r.index),
                quote: r.original.to_string(),
                excerpt: excerpt.clone(),
                curated: false,
            });
            if self
                .vocabulary
                .metric(&f.metric)
                .is_some_and(|m| m.sets_scope)
            {
                *subset = Some(f.text.clone());
            }
        }
    }
}

/// The shares and changes of one group, aligned with its figures.
struct GroupPercentages {
    size: usize,
    shares: Vec<Decimal>,
    changes: Vec<Decimal>,
    wide: Option<Vec<(PercentKind, Decimal)>>,
    /// The percentages after the group are a 分别 list.
    respectively: bool,
    /// "6.87万批、9024.15万件，查扣批次较前一年增长6.5%": one percentage for
    /// a group, naming the figure it is about.
    named: Option<(String, PercentKind, Decimal)>,
}

impl GroupPercentages {
    fn new(
        x: &Extractor<'_>,
        r: &Reading<'_>,
        g: &Group,
        kinds: Vec<(PercentKind, Decimal)>,
    ) -> Self {
        let named = (g.members.len() > 1 && kinds.len() == 1)
            .then(|| {
                let first = r.percents.iter().find(|p| p.0 >= g.end)?;
                let metric = x.metric_named(&r.s[g.end..first.0])?;
                Some((metric.to_string(), kinds[0].0, kinds[0].1))
            })
            .flatten();
        let signed = |k: &(PercentKind, Decimal)| if k.0 == PercentKind::Fall { -k.1 } else { k.1 };
        let respectively = x.says_respectively(&r.s[g.end..g.next_start]);
        // "1020批次、2315.6万件，案值7120万元，同比分别增长12.4%、9.8%和6.5%":
        // the amounts of money after the group take the list's last places.
        let list_start = r
            .percents
            .iter()
            .find(|p| p.0 >= g.end)
            .map_or(g.end, |p| p.0);
        let amounts = MONEY.find_iter(&r.s[g.end..list_start.max(g.end)]).count();
        let mut kinds = kinds;
        if respectively && amounts > 0 && kinds.len() == g.members.len() + amounts {
            kinds.truncate(g.members.len());
        }
        GroupPercentages {
            size: g.members.len(),
            shares: kinds
                .iter()
                .filter(|k| k.0 == PercentKind::Share)
                .map(|k| k.1)
                .collect(),
            changes: kinds
                .iter()
                .filter(|k| k.0 != PercentKind::Share)
                .map(signed)
                .collect(),
            wide: x.sentence_wide(r),
            respectively,
            named,
        }
    }

    /// Share and change of the group's `i`-th figure (figure `fi` of the
    /// sentence, of `metric`).
    fn of(&self, i: usize, fi: usize, metric: &str) -> (Option<Decimal>, Option<Decimal>) {
        let aligned = |list: &[Decimal]| -> Option<Decimal> {
            // A 分别 list cut short ("…分别占全年扣留总数的99.12%") still
            // pairs in order as far as it goes.
            if list.len() == self.size || (self.respectively && list.len() < self.size) {
                list.get(i).copied()
            } else if self.size == 1 && list.len() == 1 {
                Some(list[0])
            } else {
                None
            }
        };
        let wide = |want_share: bool| -> Option<Decimal> {
            let (k, v) = *self.wide.as_ref()?.get(fi)?;
            match (want_share, k) {
                (true, PercentKind::Share) => Some(v),
                (true, _) | (false, PercentKind::Share) => None,
                (false, PercentKind::Fall) => Some(-v),
                (false, _) => Some(v),
            }
        };
        let named = |share: bool| -> Option<Decimal> {
            let (m, k, v) = self.named.as_ref()?;
            (m == metric && (*k == PercentKind::Share) == share)
                .then_some(if *k == PercentKind::Fall { -*v } else { *v })
        };
        (
            aligned(&self.shares)
                .or_else(|| wide(true))
                .or_else(|| named(true)),
            aligned(&self.changes)
                .or_else(|| wide(false))
                .or_else(|| named(false)),
        )
    }
}

impl<'v> Extractor<'v> {
    /// The one metric that `text` names by its question words (批次,
    /// batches, 件数…); None when none or several.
    fn metric_named(&self, text: &str) -> Option<&'v str> {
        let v = self.vocabulary;
        let mut named = v
            .metrics
            .iter()
            .filter(|m| crate::domain::vocabulary::contains_any(text, &m.ask))
            .map(|m| m.id.as_str());
        let first = named.next()?;
        named.next().is_none().then_some(first)
    }

    /// A sentence with percentages and no figure ("其中，商标权货物批次占
    /// 扣留总批次的98.76%", "The number of batches was up 8.3% year on
    /// year") gives a share or a change to the latest figure of the metric
    /// (and the dimensions) it names, in the two sentences before, when
    /// that figure has none; the figure's excerpt then quotes it too.
    fn attach_percentages(&self, r: &Reading<'_>, percents: &[Percent], facts: &mut [Fact]) {
        let s = r.s;
        let Some(&(first, _, _)) = percents.first() else {
            return;
        };
        // Dimensions named before the first percentage hold for all
        // ("其中，商标权货物批次占…98.76%，数量占…91.89%").
        let dims_in = |text: &str| -> Vec<(String, String)> {
            let mut dims: Vec<(String, String)> = self
                .vocabulary
                .dimension_hits(text)
                .into_iter()
                .filter(|h| !h.value.is_empty())
                .map(|h| (h.kind, h.value))
                .collect();
            dims.sort();
            dims.dedup_by(|a, b| a.0 == b.0);
            dims
        };
        let dims = dims_in(&s[..first]);
        let mut from = 0;
        let mut quoted = false;
        for &(ps, pe, _) in percents {
            let clause = &s[from..ps];
            let (kinds, _) = self.percents_after(r, from, pe, false);
            from = pe;
            let (Some(metric), [(kind, value)]) = (self.metric_named(clause), &kinds[..]) else {
                continue;
            };
            let Some(fact) = facts.iter_mut().rev().find(|f| {
                f.metric == metric
                    && f.sentence.is_some_and(|i| i < r.index && i + 2 >= r.index)
                    && dims.iter().all(|(k, val)| f.dim(k) == Some(val.as_str()))
                    && (!dims.is_empty() || f.dims.is_empty())
            }) else {
                continue;
            };
            let slot = if *kind == PercentKind::Share {
                &mut fact.share
            } else {
                &mut fact.yoy
            };
            if slot.is_some() {
                continue;
            }
            *slot = Some(if *kind == PercentKind::Fall {
                -*value
            } else {
                *value
            });
            if !quoted || !fact.excerpt.contains(r.original.trim()) {
                let joiner = if r.english { " " } else { "" };
                fact.excerpt = format!("{}{joiner}{}", fact.excerpt, r.original.trim());
            }
            quoted = true;
        }
    }

    /// Years the sentence speaks of (not points of comparison), with their
    /// positions and whether they mean the year's end.
    fn year_mentions(
        &self,
        s: &str,
        english: bool,
        published_year: Option<u16>,
    ) -> Vec<YearMention> {
        let mut out: Vec<(usize, u16, Option<PeriodKind>, bool)> = Vec::new();
        let re = if english {
            &self.year_en
        } else {
            &self.year_zh
        };
        for c in re.captures_iter(s) {
            let m = c.get(0).expect("group 0");
            let Some(year) = c[1].parse::<u16>().ok().or_else(|| chinese_year(&c[1])) else {
                continue;
            };
            if self.is_no_year_spoken_of(s, m.start(), m.end(), english) {
                continue;
            }
            let head = &s[..m.start()];
            // "On April 26, 2022, …", "Friday, May 6, 2022": a day's date
            // (unless a stock's: "as of March 31, 2025").
            let dated = english && DATE_EN.is_match(head) && !MONTH_BEFORE_YEAR.is_match(head);
            let year_end = c.get(2).is_some()
                || (english
                    && ["end of ", "end of the year "]
                        .iter()
                        .any(|w| head.ends_with(w)));
            let month = if english {
                MONTH_BEFORE_YEAR
                    .captures(head)
                    .map(|c| (c[1] == *"december", true))
            } else {
                month_after_year(&s[m.end()..])
            };
            let kind = match month {
                Some((true, true)) => Some(PeriodKind::YearEnd),
                Some(_) => None,
                None if year_end => Some(PeriodKind::YearEnd),
                None => Some(PeriodKind::Year),
            };
            out.push((m.start(), year, kind, dated));
        }
        if let Some(published) = published_year {
            for relative in &self.vocabulary.relative_years {
                for word in &relative.words {
                    for (pos, _) in s.match_indices(word.as_str()) {
                        if !self.is_reference(&s[..pos]) {
                            let year = (published as i32 + relative.delta) as u16;
                            out.push((pos, year, Some(PeriodKind::Year), false));
                        }
                    }
                }
            }
        }
        out.sort_by_key(|m| m.0);
        // 去年同期, 2024年同期: the period in force, a year earlier.
        out.into_iter()
            .map(|(pos, year, kind, dated)| YearMention {
                pos,
                year,
                kind,
                dated,
                same_period: s[pos..]
                    .chars()
                    .take(8)
                    .collect::<String>()
                    .contains("同期"),
            })
            .collect()
    }

    /// A year written at `start..end` that is no year the sentence speaks
    /// of: a number's digits, a date stamp (2021/3/2, or 2022年04月26日 on
    /// its own: when the text was written; after 截至 a stock's date), a
    /// point of comparison or a running total's start.
    fn is_no_year_spoken_of(&self, s: &str, start: usize, end: usize, english: bool) -> bool {
        let rest = &s[end..];
        let mut after = rest.chars();
        let stamp = matches!(after.next(), Some('/' | '-' | '.'))
            && after.next().is_some_and(|ch| ch.is_ascii_digit());
        let digits_follow = english
            && rest
                .trim_start()
                .starts_with(|ch: char| ch.is_ascii_digit() || ch == '%');
        let written_on = !english
            && MONTH_AFTER_YEAR
                .captures(rest)
                .and_then(|c| c.get(2))
                .is_some_and(|d| d.as_str().ends_with('日'))
            && !["截至", "截止", "至", "到"]
                .iter()
                .any(|w| s[..start].trim_end().ends_with(w));
        digits_follow
            || stamp
            || written_on
            || self.is_reference(&s[..start])
            || self.is_starting_point(s, end)
    }

    /// Whether the year ending at `end` starts a running total (自2017年
    /// 开展…以来).
    fn is_starting_point(&self, s: &str, end: usize) -> bool {
        let rest = &s[end..clause_end(s, end)];
        crate::domain::vocabulary::contains_any(rest, &self.vocabulary.qualifiers.since_after)
    }

    fn is_reference(&self, before: &str) -> bool {
        let tail: String = before
            .chars()
            .rev()
            .take(24)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let tail = tail.trim_end();
        self.vocabulary
            .qualifiers
            .reference_year
            .iter()
            .any(|w| tail.ends_with(w.as_str()))
    }

    /// Period words and month ranges (1至11月) in `s`; a year-end word that
    /// ends a range (自2022年2月1日至年底) is no stock.
    fn period_hits(&self, s: &str) -> Vec<(usize, usize, PeriodKind)> {
        let mut hits: Vec<(usize, usize, PeriodKind)> = self
            .vocabulary
            .period_hits(s)
            .into_iter()
            .filter(|&(start, _, k)| {
                !(k == PeriodKind::YearEnd && s[..start].trim_end().ends_with(['至', '到']))
            })
            .collect();
        for r in crate::domain::numbers::month_ranges(s) {
            hits.retain(|h| h.1 <= r.start || h.0 >= r.end);
            hits.push((r.start, r.end, PeriodKind::months(r.from, r.to)));
        }
        hits.sort_by_key(|h| h.0);
        hits
    }

    fn scope_hits(&self, s: &str, english: bool) -> Vec<(usize, Scope)> {
        let sc = &self.vocabulary.scope;
        let mut out: Vec<(usize, Scope)> = Vec::new();
        let mut words: Vec<(&str, Scope)> = Vec::new();
        words.extend(
            sc.nationwide
                .iter()
                .map(|w| (w.as_str(), Scope::Nationwide)),
        );
        words.extend(
            sc.campaign
                .iter()
                .map(|w| (w.as_str(), Scope::Campaign(w.clone()))),
        );
        words.extend(
            sc.customs
                .iter()
                .map(|w| (w.as_str(), Scope::Customs(w.clone()))),
        );
        // A campaign named by its name, when the sentence names only one
        // ("部署开展“龙腾行动”、“蓝网行动”…" lists what was done).
        if sc.campaigns_in(s).len() == 1 {
            words.extend(sc.campaign_names.iter().flat_map(|c| {
                c.words
                    .iter()
                    .map(|w| (w.as_str(), Scope::Campaign(c.name.clone())))
            }));
        }
        let word_hits = find_words(s, words.iter().map(|w| w.0));
        // "按照海关总署统一部署", "在全国率先": a nationwide word that names
        // no subject.
        let not_scope = find_words(s, sc.not_scope.iter().map(String::as_str));
        let in_phrase = |a: usize| not_scope.iter().any(|&(x, y, _)| a >= x && a < y);
        out.extend(
            word_hits
                .iter()
                .filter(|&&(start, _, i)| !(words[i].1 == Scope::Nationwide && in_phrase(start)))
                .map(|&(start, _, i)| (start, words[i].1.clone())),
        );
        let covered = |pos: usize| word_hits.iter().any(|&(a, b, _)| pos >= a && pos < b);
        if english {
            for (start, _, name) in customs_house_names_en(s, self.vocabulary) {
                if !covered(start) {
                    out.push((start, Scope::Customs(name)));
                }
            }
        } else {
            for (start, end, name) in customs_house_names(s, self.vocabulary) {
                if !covered(start) && !covered(end - "海关".len()) {
                    out.push((start, Scope::Customs(name)));
                }
            }
        }
        out.sort_by_key(|h| h.0);
        out
    }

    fn figures_zh(&self, s: &str) -> Vec<Figure> {
        let mut out: Vec<Figure> = Vec::new();
        for c in self.figure_zh.captures_iter(s) {
            let m = c.get(0).expect("group 0");
            let previous_end = out.last().map_or(0, |f: &Figure| f.end);
            // A digit run glued to a preceding digit, letter or dot is part
            // of something else (a code, a decimal).
            if s[..m.start()]
                .chars()
                .next_back()
                .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '.')
            {
                continue;
            }
            let Some(value) = scaled(&c["num"], c.name("mag").map_or("", |g| g.as_str())) else {
                continue;
            };
            let unit = &c["unit"];
            let mut clause = clause_before(s, m.start());
            // "扣留数量：1.01亿件": a label before a colon names the figure.
            let label_end = m.start() - clause.len();
            if clause.chars().count() <= 2 && s[..label_end].ends_with(['：', ':']) {
                let colon = s[..label_end].chars().next_back().map_or(0, char::len_utf8);
                clause = clause_before(s, label_end - colon);
            }
            let since = &s[previous_end.min(m.start())..m.start()];
            let Some(metric) = self.pick_metric(unit, clause, &s[..m.start()], since, false) else {
                continue;
            };
            let pre = c
                .name("pre")
                .map(|g| g.as_str().to_string())
                .filter(|p| is_qualifier(p));
            // "1580余万件", "1.93万余批": 余 on either side of 万.
            let post = c
                .name("post")
                .or(c.name("mid"))
                .map(|g| g.as_str().to_string());
            let qualifier = match (&pre, &post) {
                (Some(a), Some(b)) => Some(format!("{a}…{b}")),
                (a, b) => a.clone().or(b.clone()),
            };
            let text_start = if pre.is_some() {
                m.start()
            } else {
                c.name("num").expect("num").start()
            };
            out.push(Figure {
                start: m.start(),
                end: m.end(),
                metric,
                value,
                text: s[text_start..m.end()].to_string(),
                qualifier,
            });
        }
        out
    }

    fn figures_en(&self, s: &str) -> Vec<Figure> {
        let mut out = Vec::new();
        for c in self.figure_en.captures_iter(s) {
            let m = c.get(0).expect("group 0");
            if s[..m.start()]
                .chars()
                .next_back()
                .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '.')
            {
                continue;
            }
            let num = &c["num"];
            // Years are not counts.
            if c.name("mag").is_none()
                && num.len() == 4
                && (num.starts_with("19") || num.starts_with("20"))
            {
                continue;
            }
            let mid = c.name("mid").map_or("", |g| g.as_str());
            if mid
                .split_whitespace()
                .any(|w| w.chars().all(|ch| ch.is_ascii_digit()))
            {
                continue;
            }
            // "96.68 percent of all batches": a share, not a count.
            if self
                .percent
                .find(&s[c.name("num").map_or(0, |n| n.start())..])
                .is_some_and(|p| p.start() == 0 && p.end() <= m.end() - c["unit"].len())
            {
                continue;
            }
            let unit = &c["unit"];
            let after = s[m.end()..].trim_start();
            if let Some(rest) = after.strip_prefix("of ") {
                let goods = &self.vocabulary.english.goods_after_of;
                if ["pieces", "items"].contains(&unit)
                    && !goods.iter().any(|g| rest.starts_with(g.as_str()))
                {
                    continue;
                }
            }
            let Some(value) = scaled(num, c.name("mag").map_or("", |g| g.as_str())) else {
                continue;
            };
            let mut clause = clause_before(s, m.start()).to_string();
            clause.push(' ');
            clause.push_str(mid);
            clause.push_str(unit);
            // "…, with 15,900 batches detained": the verb may follow.
            clause.push(' ');
            clause.push_str(&s[m.end()..clause_end(s, m.end())]);
            let Some(metric) = self.pick_metric(unit, &clause, &s[..m.start()], "", true) else {
                continue;
            };
            let pre = c.name("pre").map(|g| g.as_str().trim().to_string());
            let num_start = c.name("num").expect("num").start();
            let text_start = if pre.is_some() { m.start() } else { num_start };
            let text_end = c
                .name("mag")
                .map_or(c.name("num").expect("num").end(), |g| g.end());
            let unit_text = if mid.is_empty() {
                unit.to_string()
            } else {
                format!("{mid}{unit}")
            };
            // "14,300 and 2,310 batches": the bare number before "and" is a
            // figure of the same unit.
            let mag = c.name("mag").map_or("", |g| g.as_str());
            out.extend(figure_before_and(
                s,
                m.start(),
                mag,
                &metric,
                unit_text.trim(),
            ));
            out.push(Figure {
                start: m.start(),
                end: m.end(),
                metric,
                value,
                text: format!("{} {}", &s[text_start..text_end], unit_text.trim()),
                qualifier: pre,
            });
        }
        out
    }

    /// Among the metrics written with `unit`, the one whose cue stands
    /// nearest before the figure in its clause; a default metric needs no
    /// cue. When the clause names none ("…, totaling 76.3 million items")
    /// and only one metric is written with the unit, a cue of it earlier in
    /// the sentence is enough.
    fn pick_metric(
        &self,
        unit: &str,
        clause: &str,
        sentence_before: &str,
        since_previous: &str,
        english: bool,
    ) -> Option<String> {
        let mut best: Option<((usize, usize), &str)> = None;
        let mut fallback: Option<&str> = None;
        let mut candidates: Vec<&Metric> = Vec::new();
        for m in &self.vocabulary.metrics {
            let units = if english { &m.units_en } else { &m.units };
            if !units.iter().any(|u| u == unit) {
                continue;
            }
            candidates.push(m);
            // The cue ending nearest the figure; of two ending there, the
            // longer (备案数量 before 数量).
            let cue_pos = find_words(clause, m.cues.iter().map(String::as_str))
                .last()
                .map(|h| (h.1, h.1 - h.0));
            match cue_pos {
                Some(p) if best.is_none_or(|(bp, _)| p > bp) => best = Some((p, &m.id)),
                _ => {}
            }
            if m.default && fallback.is_none() {
                fallback = Some(&m.id);
            }
        }
        if let (None, None, [only]) = (best, fallback, candidates.as_slice()) {
            if !find_words(sentence_before, only.cues.iter().map(String::as_str)).is_empty() {
                return Some(only.id.clone());
            }
        }
        if let (None, None) = (best, fallback) {
            // "涉嫌侵犯商标权的货物最多，共3950.2万件": a cue in the clauses
            // since the figure before.
            return self.cue_since(&candidates, since_previous);
        }
        best.map(|b| b.1).or(fallback).map(str::to_string)
    }

    /// Among `candidates`, the one whose cue stands last in `text`.
    fn cue_since(&self, candidates: &[&Metric], text: &str) -> Option<String> {
        candidates
            .iter()
            .filter_map(|m| {
                let hit = find_words(text, m.cues.iter().map(String::as_str))
                    .last()?
                    .1;
                Some((hit, m.id.clone()))
            })
            .max_by_key(|h| h.0)
            .map(|h| h.1)
    }
}

/// An amount of money ("案值7120万元"): an item of a 分别 list of changes
/// that is no figure of the table.
static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d+(?:\.\d+)?\s*(?:万|亿)?\s*(?:美元|元)").expect("fixed pattern")
});

/// A year at the end of a text: "2022年", "2022".
static REFERENCE_TAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:19|20)\d{2}\s*年?$").expect("fixed pattern"));

static CUSTOMS_ZH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\p{Han}{1,4})海关").expect("fixed pattern"));

/// Customs houses named "X海关" (福州海关), other than the words naming all
/// customs (海关总署, 全国海关): byte start, end and the name, the same for a
/// sentence and a question.
pub fn customs_house_names(s: &str, vocabulary: &Vocabulary) -> Vec<(usize, usize, String)> {
    let sc = &vocabulary.scope;
    let mut out = Vec::new();
    for c in CUSTOMS_ZH.captures_iter(s) {
        let m = c.get(0).expect("group 0");
        if s[m.end()..].starts_with("总署") {
            continue;
        }
        let prefix: Vec<char> = c[1].chars().collect();
        let tail: String = prefix[prefix.len().saturating_sub(2)..].iter().collect();
        // "杭州、青岛、黄埔等海关": several houses together, none alone.
        let listed = s[..m.end()]
            .strip_suffix("等海关")
            .and_then(|head| listed_houses_start(s, head.len()));
        if let Some(start) = listed {
            out.push((start, m.end(), s[start..m.end()].to_string()));
            continue;
        }
        if prefix.len() < 2
            || sc.not_a_name.iter().any(|w| tail.ends_with(w.as_str()))
            || sc
                .nationwide
                .iter()
                .any(|w| s[..m.end()].ends_with(w.as_str()))
        {
            continue;
        }
        // A house the vocabulary knows keeps its whole name (乌鲁木齐海关);
        // another, the two characters before 海关.
        match sc.house_ending_zh(&s[..m.end()]) {
            Some(h) => out.push((m.end() - h.zh.len(), m.end(), h.zh.clone())),
            None => {
                let start = m.end() - tail.len() - "海关".len();
                out.push((start, m.end(), format!("{tail}海关")));
            }
        }
    }
    join_adjacent_houses(s, out)
}

/// A title's figure that the body states again ("Qingdao Customs Seizes
/// 230,000 Pieces…" and "from September to November … seizing 230,000
/// pieces") takes the body's frame: the title's row, which knows less, goes.
fn drop_restated_title_rows(title: Option<usize>, facts: Vec<Fact>) -> Vec<Fact> {
    let restated = |t: &Fact| {
        facts.iter().any(|f| {
            f.sentence != title && f.metric == t.metric && f.value == t.value && f.scope == t.scope
        })
    };
    let keep: Vec<bool> = facts
        .iter()
        .map(|f| title.is_none() || f.sentence != title || !restated(f))
        .collect();
    facts
        .into_iter()
        .zip(keep)
        .filter_map(|(f, k)| k.then_some(f))
        .collect()
}

/// Where a list of place names ending at `end` (before 等海关) starts:
/// names of two to four Han characters joined by 、/和/及/与, at least two
/// of them; the first name keeps its last two characters (如杭州 → 杭州)
/// unless the vocabulary knows a longer house by it.
fn listed_houses_start(s: &str, end: usize) -> Option<usize> {
    let head = s.get(..end)?;
    let mut names: Vec<(usize, usize)> = vec![];
    let mut name_end = end;
    let mut pos = end;
    for (i, ch) in head.char_indices().rev() {
        if "、和及与".contains(ch) {
            if name_end - (i + ch.len_utf8()) < "两字".len() {
                return None;
            }
            names.push((i + ch.len_utf8(), name_end));
            name_end = i;
        } else if !crate::domain::normalize::is_han(ch) {
            break;
        }
        pos = i;
        if end - pos > 120 {
            break;
        }
    }
    if names.is_empty() {
        return None;
    }
    // The first name: its last two characters.
    let first: Vec<(usize, char)> = s[pos..name_end].char_indices().collect();
    if first.len() < 2 {
        return None;
    }
    Some(pos + first[first.len() - 2].0)
}

/// "青岛海关、济南海关": two houses joined by one separator are named
/// together, as one group.
fn join_adjacent_houses(
    s: &str,
    houses: Vec<(usize, usize, String)>,
) -> Vec<(usize, usize, String)> {
    let mut out: Vec<(usize, usize, String)> = Vec::new();
    for (start, end, name) in houses {
        if let Some(last) = out.last_mut() {
            if last.1 <= start && ["、", "和", "与", "及"].contains(&&s[last.1..start]) {
                last.1 = end;
                last.2 = format!("{}、{name}", last.2);
                continue;
            }
        }
        out.push((start, end, name));
    }
    out
}

/// "14,300 and " right before a figure of `unit_text` ending at `start`:
/// that bare number as a figure of the same metric and magnitude (not a
/// year: "… in 2018 and 56.18 million pieces in 2020").
fn figure_before_and(
    s: &str,
    start: usize,
    mag: &str,
    metric: &str,
    unit_text: &str,
) -> Option<Figure> {
    let n = BARE_BEFORE_AND.captures(&s[..start])?.get(1)?;
    let year = n.as_str().len() == 4 && ["19", "20"].iter().any(|y| n.as_str().starts_with(y));
    let glued = s[..n.start()]
        .chars()
        .next_back()
        .is_some_and(|ch| ch.is_ascii_alphanumeric() || ch == '.');
    if year || glued {
        return None;
    }
    Some(Figure {
        start: n.start(),
        end: n.end(),
        metric: metric.to_string(),
        value: scaled(n.as_str(), mag)?,
        text: format!("{} {unit_text}", n.as_str()),
        qualifier: None,
    })
}

/// "14,300 and " right before a figure.
static BARE_BEFORE_AND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s+and\s+$").expect("fixed pattern")
});

static CUSTOMS_EN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([a-z]+) customs\b").expect("fixed pattern"));

/// Customs houses named "X Customs" (Shenzhen Customs) in normalized
/// English: start of the name and the name, the Chinese one for a house
/// the vocabulary knows (深圳海关), else "x customs".
pub fn customs_house_names_en(s: &str, vocabulary: &Vocabulary) -> Vec<(usize, usize, String)> {
    let not_names = &vocabulary.english.not_customs_names;
    CUSTOMS_EN
        .captures_iter(s)
        .filter_map(|c| {
            let m = c.get(1)?;
            let whole = c.get(0)?;
            if let Some(h) = vocabulary.scope.house_ending_en(&s[..whole.end()]) {
                return Some((whole.end() - h.en.len(), whole.end(), h.zh.clone()));
            }
            let possessive = s[..m.start()].ends_with(['\'', '’']);
            (m.as_str().len() > 2 && !possessive && !not_names.iter().any(|w| w == m.as_str()))
                .then(|| (m.start(), whole.end(), format!("{} customs", m.as_str())))
        })
        .collect()
}

fn is_qualifier(word: &str) -> bool {
    !matches!(word, "达" | "共")
}

/// The place of a list item the vocabulary does not know.
const UNKNOWN_ITEM: &str = "\u{0}unknown";

/// "、陆路和": one unknown item between list separators.
fn is_unknown_list_item(between: &str) -> bool {
    let separators = ['、', '和', '及', '与', ','];
    let Some(inner) = between
        .strip_prefix(separators)
        .and_then(|b| b.strip_suffix(separators))
    else {
        return false;
    };
    let n = inner.chars().count();
    (1..=8).contains(&n)
        && inner.chars().all(crate::domain::normalize::is_han)
        && !inner.contains(separators)
}

/// The original text of the normalized byte range, marked with … where
/// the sentence goes on; the whole sentence when the two do not line up
/// character by character.
fn excerpt_of(original: &str, normalized: &str, start: usize, end: usize) -> String {
    let original: Vec<char> = original.trim().chars().collect();
    if original.len() != normalized.chars().count() {
        return original.iter().collect();
    }
    let from = normalized[..start].chars().count();
    let to = normalized[..end.min(normalized.len())].chars().count();
    let body: String = original[from..to].iter().collect();
    let body = body.trim_matches(|c: char| c.is_whitespace() || "，,；;：:".contains(c));
    let head = if from > 0 { "…" } else { "" };
    let rest: String = original[to..].iter().collect();
    let tail = if rest
        .trim_matches(|c: char| c.is_whitespace() || "。.!?！？".contains(c))
        .is_empty()
    {
        ""
    } else {
        "…"
    };
    format!("{head}{body}{tail}")
}

/// Whether the latest years before `pos` are two different ones joined
/// into one period ("2019全年及2020年第一季度", "2019年至2021年").
fn joins_two_years(r: &Reading<'_>, pos: usize) -> bool {
    static JOINED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"((?:19|20)\d{2})\s*(?:年度?)?\s*(?:全年|上半年|下半年|前三季度|第?[一二三四1-4]季度)?\s*(?:以及|及|和|与|至|到|-|–|—|~)\s*((?:19|20)\d{2})\s*年")
            .expect("fixed pattern")
    });
    // "Total 2021–2025: 289,100 batches", "from 2021 to 2025".
    static JOINED_EN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"((?:19|20)\d{2})\s*(?:-|–|—|~|to|through)\s*((?:19|20)\d{2})\b")
            .expect("fixed pattern")
    });
    let joined = if r.english { &*JOINED_EN } else { &*JOINED };
    joined.captures_iter(&r.s[..pos]).any(|c| {
        let end = c.get(0).map_or(0, |m| m.end());
        c[1] != c[2] && !r.years.iter().any(|y| y.pos >= end && y.pos < pos)
    })
}

/// A heading: a short line of its own with no figure and no sentence end
/// ("Headline numbers (January–September 2025)", "二、2024年情况").
fn is_heading(r: &Reading<'_>) -> bool {
    let s = r.s.trim_end();
    s.chars().count() <= HEADING_CHARS
        && r.figures.is_empty()
        && !s.ends_with(['。', '.', '!', '?', '；', ';', ':', '：', '，', ','])
}

/// A line wholly in brackets ("(Made-up test document.)", "（编者按…）").
fn is_bracketed(s: &str) -> bool {
    let s = s.trim();
    s.starts_with(['(', '（', '[', '【']) && s.ends_with([')', '）', ']', '】'])
}

/// "22,400 of the detained shipments", "23,200 of these": the sentence's
/// first figure is a part of a total; the words after its number.
fn partitive_en<'a>(r: &Reading<'a>) -> Option<&'a str> {
    static PART: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[\d.,]+\s*(?:million|billion|thousand)?\s+(of\s+(?:the|these|those|which|them)\b.*)$")
            .expect("fixed pattern")
    });
    if !r.english {
        return None;
    }
    let first = r.figures.first()?;
    PART.captures(&r.s[first.start..first.end])
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
}

/// The clause before `pos`: from the last clause break to `pos`.
fn clause_before(s: &str, pos: usize) -> &str {
    let head = &s[..pos];
    let start = head
        .char_indices()
        .rev()
        .find(|&(i, c)| is_clause_mark(s, i, c, true))
        .map_or(0, |(i, c)| i + c.len_utf8());
    &head[start..]
}

/// The end of the clause that `pos` is in.
fn clause_end(s: &str, pos: usize) -> usize {
    s[pos..]
        .char_indices()
        .find(|&(i, c)| is_clause_mark(s, pos + i, c, false))
        .map_or(s.len(), |(i, _)| pos + i)
}

/// Whether the character at `i` ends a clause; a comma inside a number
/// (58,000) does not.
fn is_clause_mark(s: &str, i: usize, c: char, colon: bool) -> bool {
    match c {
        '，' | '；' | ';' | '。' => true,
        '：' | ':' => colon,
        ',' => {
            let before = s[..i].chars().next_back();
            let after = s[i + 1..].chars().next();
            !(before.is_some_and(|b| b.is_ascii_digit())
                && after.is_some_and(|a| a.is_ascii_digit()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn vocabulary() -> Vocabulary {
        Vocabulary::parse(include_str!("../../knowledge/vocabulary.toml")).unwrap()
    }

    /// As the snapshot normalizes sentences: keeping the vocabulary's words.
    fn normalize(text: &str) -> String {
        static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(vocabulary);
        VOCABULARY.normalize(text)
    }

    /// One paragraph, split into its sentences at 。.
    fn extract_paragraph(text: &str) -> Vec<Fact> {
        let v = vocabulary();
        let originals: Vec<String> = text.split_inclusive('。').map(str::to_string).collect();
        let normalized: Vec<String> = originals.iter().map(|o| normalize(o)).collect();
        let input: Vec<SentenceInput<'_>> = originals
            .iter()
            .zip(&normalized)
            .enumerate()
            .map(|(index, (original, normalized))| SentenceInput {
                index,
                passage: 0,
                normalized,
                original,
            })
            .collect();
        Extractor::new(&v).extract(0, &input, Language::Simplified, Some(2025))
    }

    fn extract(text: &str, language: Language) -> Vec<Fact> {
        let v = vocabulary();
        let normalized = normalize(text);
        let input = [SentenceInput {
            index: 0,
            passage: 0,
            normalized: &normalized,
            original: text,
        }];
        Extractor::new(&v).extract(0, &input, language, Some(2025))
    }

    fn row<'a>(facts: &'a [Fact], metric: &str, dims: &[(&str, &str)]) -> &'a Fact {
        facts
            .iter()
            .find(|f| {
                f.metric == metric
                    && f.dims.len() == dims.len()
                    && dims.iter().all(|(k, v)| f.dim(k) == Some(*v))
            })
            .unwrap_or_else(|| panic!("no {metric} {dims:?} in {facts:#?}"))
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn headline_sentence_gives_three_metrics() {
        let facts = extract("2020年全国海关共采取知识产权保护措施6.53万次,查扣进出口知识产权侵权嫌疑货物6.19万批,涉及货物5618.19万件。", Language::Simplified);
        assert_eq!(row(&facts, "protection_measures", &[]).value, dec("65300"));
        assert_eq!(row(&facts, "detained_batches", &[]).value, dec("61900"));
        let pieces = row(&facts, "detained_pieces", &[]);
        assert_eq!(
            (pieces.value, pieces.text.as_str()),
            (dec("56181900"), "5618.19万件")
        );
        assert!(facts
            .iter()
            .all(|f| f.period == Period::year(2020) && f.scope == Scope::Nationwide));
    }

    #[test]
    fn qualifiers_are_kept_with_the_text() {
        let facts = extract(
            "2016年海关在海运渠道查扣侵权嫌疑商品近3940.13万余件，占全年扣留商品数量的93.68%。",
            Language::Simplified,
        );
        let f = row(&facts, "detained_pieces", &[("channel", "sea")]);
        assert_eq!(f.value, dec("39401300"));
        assert_eq!(f.text, "近3940.13万余件");
        assert_eq!(f.qualifier.as_deref(), Some("近…余"));
        assert_eq!(f.share, Some(dec("93.68")));
    }

    #[test]
    fn fenbie_lists_align_items_values_and_changes() {
        let facts = extract("2024年专利权、著作权保护成效逐步显现,共扣留涉嫌侵犯专利权、著作权货物24.9万件和499.59万件,分别同比增长71.33%和393.61%。", Language::Simplified);
        let patent = row(&facts, "detained_pieces", &[("ip_type", "patent")]);
        let copyright = row(&facts, "detained_pieces", &[("ip_type", "copyright")]);
        assert_eq!(
            (patent.value, patent.yoy),
            (dec("249000"), Some(dec("71.33")))
        );
        assert_eq!(
            (copyright.value, copyright.yoy),
            (dec("4995900"), Some(dec("393.61")))
        );
    }

    #[test]
    fn stages_switch_within_one_sentence_and_falls_are_negative() {
        let facts = extract("2024年,全国海关共在出口环节扣留侵权嫌疑货物4.12万批、8033.37万件,分别占全部扣留批次和数量的99.17%、98.41%,进口环节扣留侵权嫌疑货物345批、130.15万件,同比分别下降34.16%和26.52%,出口环节仍是主战场。", Language::Simplified);
        let export = row(&facts, "detained_batches", &[("stage", "export")]);
        assert_eq!(
            (export.value, export.share),
            (dec("41200"), Some(dec("99.17")))
        );
        let import = row(&facts, "detained_batches", &[("stage", "import")]);
        assert_eq!(
            (import.value, import.yoy),
            (dec("345"), Some(dec("-34.16")))
        );
        assert_eq!(
            row(&facts, "detained_pieces", &[("stage", "import")]).yoy,
            Some(dec("-26.52"))
        );
    }

    #[test]
    fn a_period_carries_into_the_next_sentence_of_its_paragraph() {
        let facts = extract_paragraph(
            "2023年前三季度，全国海关共实施知识产权保护措施5.18万次。扣留进出口侵权嫌疑货物4.92万批、6538.7万件，同比分别增长6.0%和12.4%。",
        );
        let q1_q3 = Period {
            year: 2023,
            kind: PeriodKind::FirstQuarters(3),
        };
        for metric in ["protection_measures", "detained_batches", "detained_pieces"] {
            assert_eq!(row(&facts, metric, &[]).period, q1_q3, "{metric}");
        }
        assert_eq!(row(&facts, "detained_pieces", &[]).yoy, Some(dec("12.4")));
        // A year named again sets the full year back.
        let facts = extract_paragraph(
            "2023年前三季度，扣留侵权嫌疑货物4.92万批。2023年全年，扣留侵权嫌疑货物6.87万批。",
        );
        let years: Vec<_> = facts.iter().map(|f| (f.period, f.value)).collect();
        assert_eq!(
            years,
            [
                (q1_q3, dec("49200")),
                (
                    Period {
                        year: 2023,
                        kind: PeriodKind::Year
                    },
                    dec("68700")
                )
            ]
        );
    }

    #[test]
    fn one_fenbie_change_list_covers_every_figure_of_the_sentence() {
        let facts = extract(
            "2022年，全国海关共实施知识产权保护措施7.08万次，扣留侵权嫌疑货物6.45万批、7732.56万件，同比分别增长5.1%、3.2%和5.6%。",
            Language::Simplified,
        );
        let yoy = |m: &str| row(&facts, m, &[]).yoy;
        assert_eq!(yoy("protection_measures"), Some(dec("5.1")));
        assert_eq!(yoy("detained_batches"), Some(dec("3.2")));
        assert_eq!(yoy("detained_pieces"), Some(dec("5.6")));
    }

    #[test]
    fn taiwan_and_english_ways_of_writing_changes_and_shares_are_read() {
        let facts = extract(
            "2023年，查扣涉嫌侵犯專利權的貨物42.8萬件，年增21.3%。",
            Language::Traditional,
        );
        assert_eq!(
            row(&facts, "detained_pieces", &[("ip_type", "patent")]).yoy,
            Some(dec("21.3"))
        );
        let facts = extract(
            "In 2019, trademark goods accounted for 52,900 batches, or 97.96 percent of the total.",
            Language::English,
        );
        assert_eq!(
            row(&facts, "detained_batches", &[("ip_type", "trademark")]).share,
            Some(dec("97.96"))
        );
    }

    #[test]
    fn a_percentage_naming_its_figure_attaches_to_it() {
        let facts = extract(
            "2023年全国海关扣留侵权嫌疑货物6.87万批、9024.15万件，查扣批次较前一年增长6.5%。",
            Language::Simplified,
        );
        assert_eq!(row(&facts, "detained_batches", &[]).yoy, Some(dec("6.5")));
        assert_eq!(row(&facts, "detained_pieces", &[]).yoy, None);
        // In a sentence of its own, to the figure of the sentence before.
        let facts = extract_paragraph(
            "2022年，涉嫌侵犯商标权的货物6.37万批。其中，商标权货物批次占扣留总批次的98.76%。",
        );
        let f = row(&facts, "detained_batches", &[("ip_type", "trademark")]);
        assert_eq!(f.share, Some(dec("98.76")));
        assert!(f.excerpt.contains("98.76%"), "{}", f.excerpt);
        // Two clauses, each naming its own figure.
        let facts = extract_paragraph(
            "2022年，涉嫌侵犯商标权的货物分别为6.37万批，涉及货物7105.42万件。其中，商标权货物批次占扣留总批次的98.76%，件数占扣留货物总量的91.89%。",
        );
        let share = |m: &str| row(&facts, m, &[("ip_type", "trademark")]).share;
        assert_eq!(share("detained_batches"), Some(dec("98.76")));
        assert_eq!(share("detained_pieces"), Some(dec("91.89")));
        // Also when the sentence goes on with a figure of its own.
        let facts = extract_paragraph(
            "2018年，涉嫌侵犯商标权的货物3.98万批。其中，商标权货物批次占扣留总批次的97.1%，商标权货物数量为9230万件。",
        );
        let f = row(&facts, "detained_batches", &[("ip_type", "trademark")]);
        assert_eq!(f.share, Some(dec("97.1")));
        let pieces = row(&facts, "detained_pieces", &[("ip_type", "trademark")]);
        assert_eq!((pieces.value, pieces.share), (dec("92300000"), None));
    }

    #[test]
    fn a_written_date_does_not_set_the_year_of_later_paragraphs() {
        let v = vocabulary();
        let texts = [
            "海关公布去年数据",
            "2022年04月26日 10:18 来源：商报网",
            "2021年全国海关共采取知识产权保护措施7.99万次。",
            "出口环节扣查侵权货物7.76万批。",
        ];
        let normalized: Vec<String> = texts.iter().map(|t| normalize(t)).collect();
        let input: Vec<SentenceInput<'_>> = texts
            .iter()
            .zip(&normalized)
            .enumerate()
            .map(|(i, (original, normalized))| SentenceInput {
                index: i,
                passage: i,
                normalized,
                original,
            })
            .collect();
        let facts = Extractor::new(&v).extract(0, &input, Language::Simplified, Some(2022));
        let years: Vec<u16> = facts.iter().map(|f| f.period.year).collect();
        assert_eq!(years, [2021, 2021]);
    }

    #[test]
    fn month_ranges_same_periods_and_single_months_are_told_apart() {
        let facts = extract_paragraph(
            "2025年1—6月，全国海关扣留侵权嫌疑货物2.37万批，去年同期为2.11万批。其中，6月份当月扣留4620批。",
        );
        let periods: Vec<(Period, Decimal)> = facts.iter().map(|f| (f.period, f.value)).collect();
        let h1 = |year| Period {
            year,
            kind: PeriodKind::FirstHalf,
        };
        // The month's own figure gives no row: better none than a wrong one.
        assert_eq!(
            periods,
            [(h1(2025), dec("23700")), (h1(2024), dec("21100"))]
        );
        // A date is not a month's figure.
        let facts = extract(
            "海关总署4月26日发布：2024年全国海关扣留侵权嫌疑货物4.16万批。",
            Language::Simplified,
        );
        assert_eq!(facts[0].period.kind, PeriodKind::Year);
    }

    #[test]
    fn a_list_that_does_not_pair_gives_no_rows_rather_than_wrong_ones() {
        let facts = extract(
            "2018年，海运、陆路、公路和邮递渠道扣留的侵权嫌疑货物分别为2150批、310批和3.67万批。",
            Language::Simplified,
        );
        assert!(facts.is_empty(), "{facts:#?}");
        let facts = extract(
            "2018年，海运和邮递渠道扣留的侵权嫌疑货物分别为2150批和3.67万批。",
            Language::Simplified,
        );
        assert_eq!(
            row(&facts, "detained_batches", &[("channel", "sea")]).value,
            dec("2150")
        );
    }

    fn channel_of(facts: &[Fact], id: &str) -> Decimal {
        row(facts, "detained_batches", &[("channel", id)]).value
    }

    #[test]
    fn unknown_list_items_keep_their_place_and_give_no_row() {
        let facts = extract(
            "2018年，海运、空运、铁路和邮递渠道扣留的侵权嫌疑货物批次分别为2150批、1840批、310批和3.67万批。",
            Language::Simplified,
        );
        let channel = |id: &str| row(&facts, "detained_batches", &[("channel", id)]).value;
        assert_eq!(channel("sea"), dec("2150"));
        assert_eq!(channel("air"), dec("1840"));
        assert_eq!(channel("mail"), dec("36700"));
        assert_eq!(facts.len(), 3, "{facts:#?}");
        // Two words of one item count once.
        let facts = extract(
            "2018年，海运和邮递快件渠道扣留的侵权嫌疑货物批次分别为2150批和3.67万批。",
            Language::Simplified,
        );
        assert_eq!(channel_of(&facts, "mail_express"), dec("36700"));
        let facts = extract(
            "2018年扣留的涉嫌侵犯商标权、专利权、著作权和奥林匹克标志专有权的货物分别为3.98万批、610批、420批和70批。",
            Language::Simplified,
        );
        let ip = |id: &str| row(&facts, "detained_batches", &[("ip_type", id)]).value;
        assert_eq!(
            (
                ip("trademark"),
                ip("patent"),
                ip("copyright"),
                ip("olympic")
            ),
            (dec("39800"), dec("610"), dec("420"), dec("70"))
        );
        assert_eq!(facts.len(), 4, "{facts:#?}");
        // An item the vocabulary lacks still holds its place.
        let facts = extract(
            "2018年扣留的涉嫌侵犯商标权、专利权、著作权和地理标志的货物分别为3.98万批、610批、420批和70批。",
            Language::Simplified,
        );
        assert_eq!(facts.len(), 3, "{facts:#?}");
    }

    #[test]
    fn a_label_before_a_colon_names_its_figure() {
        let facts = extract(
            "2018年扣留数量：近1.01亿件（同比增长153.2%）",
            Language::Simplified,
        );
        let f = row(&facts, "detained_pieces", &[]);
        assert_eq!((f.value, f.yoy), (dec("101000000"), Some(dec("153.2"))));
        let facts = extract("2018年审核通过备案申请：1.27万件", Language::Simplified);
        assert_eq!(row(&facts, "filings", &[]).value, dec("12700"));
    }

    #[test]
    fn an_english_figure_before_its_verb_is_read() {
        let facts = extract(
            "Postal and express channels remained the main battleground in 2017, with 15,900 batches detained.",
            Language::English,
        );
        assert_eq!(
            row(&facts, "detained_batches", &[("channel", "mail_express")]).value,
            dec("15900")
        );
    }

    #[test]
    fn a_quarter_is_not_a_year() {
        let facts = extract("该负责人表示,2021年一季度全国海关累计查扣进出口侵权货物12885批次,扣留侵权嫌疑货物数量1332.9万件。", Language::Simplified);
        let f = row(&facts, "detained_batches", &[]);
        assert_eq!(
            (f.period, f.value),
            (
                Period {
                    year: 2021,
                    kind: PeriodKind::Quarter(1)
                },
                dec("12885")
            )
        );
    }

    #[test]
    fn comparison_years_do_not_become_the_figure_year() {
        let facts = extract("2020年全年93%的直属海关查获过知识产权侵权货物,其中15个直属海关扣留超过1000批,较2019年增加了3个。", Language::Simplified);
        let houses = row(&facts, "customs_houses", &[]);
        assert_eq!((houses.period.year, houses.value), (2020, dec("15")));
        let threshold = row(&facts, "detained_batches", &[]);
        assert!(matches!(threshold.scope, Scope::Subset(_)), "{threshold:?}");
    }

    #[test]
    fn named_customs_and_campaigns_are_not_nationwide() {
        let facts = extract(
            "昆明、哈尔滨、南宁海关加强边民互市模式监管,扣留侵权货物364批,涉及侵权货物73.49万件;",
            Language::Simplified,
        );
        assert!(
            facts.iter().all(|f| matches!(f.scope, Scope::Customs(_))),
            "{facts:?}"
        );
        let facts = extract(
            "行动期间全国海关共计查获涉嫌侵权电动平衡车28批次，涉及商品数量12766台。",
            Language::Simplified,
        );
        assert!(
            facts.iter().all(|f| matches!(f.scope, Scope::Campaign(_))),
            "{facts:?}"
        );
    }

    #[test]
    fn year_end_stocks_have_their_own_period() {
        let facts = extract(
            "截至2016年底，在海关总署备案的中国企业的知识产权达27873项，占全部生效备案的52.51%。",
            Language::Simplified,
        );
        let f = row(&facts, "recorded_rights", &[]);
        assert_eq!(
            (f.period.kind, f.value),
            (PeriodKind::YearEnd, dec("27873"))
        );
    }

    #[test]
    fn filings_and_enterprises_are_told_apart_by_their_cues() {
        let facts = extract("2020年,海关总署共审核通过知识产权海关保护备案申请1.5163万件,新增知识产权海关保护备案企业4263家,其中国内企业2710家。", Language::Simplified);
        assert_eq!(row(&facts, "filings", &[]).value, dec("15163"));
        assert_eq!(row(&facts, "filing_enterprises", &[]).value, dec("4263"));
        assert_eq!(
            row(&facts, "filing_enterprises", &[("origin", "domestic")]).value,
            dec("2710")
        );
    }

    #[test]
    fn english_millions_and_changes_are_read() {
        let facts = extract("In 2020, the national customs detained a total of 56.18 million suspected infringing goods, a year-on-year increase of 20%.", Language::English);
        let f = row(&facts, "detained_pieces", &[]);
        assert_eq!(
            (f.value, f.yoy, f.period.year),
            (dec("56180000"), Some(dec("20")), 2020)
        );
    }

    #[test]
    fn english_pieces_of_non_goods_are_not_goods() {
        let facts = extract("In 2020, a total of 1,360 pieces of administrative punishment information were disclosed.", Language::English);
        assert!(facts.is_empty(), "{facts:?}");
    }

    #[test]
    fn relative_years_resolve_against_the_publication_date() {
        let facts = extract(
            "去年全国海关实施知识产权保护措施5.32万次",
            Language::Simplified,
        );
        assert_eq!(row(&facts, "protection_measures", &[]).period.year, 2024);
    }

    #[test]
    fn a_relative_year_in_the_lead_does_not_set_the_document_year() {
        let v = vocabulary();
        let texts = [
            "2021/3/2 21:08:30",
            "At the beginning of this year, Beijing Customs added a platform.",
            "The General Administration of Customs launched the \"Blue Network Action\" on March 15, 2020 to protect intellectual property rights in shipping channels.",
            "During the operation, customs across the country detained 55,500 batches of infringing goods in inbound and outbound mail and express mail channels, an increase of 17.16% year-on-year.",
        ];
        let normalized: Vec<String> = texts.iter().map(|t| normalize(t)).collect();
        let input: Vec<SentenceInput> = texts
            .iter()
            .zip(&normalized)
            .enumerate()
            .map(|(i, (t, n))| SentenceInput {
                index: i,
                passage: i,
                normalized: n,
                original: t,
            })
            .collect();
        let facts = Extractor::new(&v).extract(0, &input, Language::English, Some(2021));
        let batches = row(&facts, "detained_batches", &[("channel", "mail_express")]);
        assert_eq!(batches.period.year, 2020, "{facts:#?}");
    }

    #[test]
    fn a_month_end_stock_is_not_a_year_figure() {
        let facts = extract(
            "截至2025年3月底，海关总署已核准知识产权海关保护备案5.8万件。2025年一季度，全国海关扣留侵权嫌疑货物1.1万批。",
            Language::Simplified,
        );
        assert!(facts.iter().all(|f| f.metric != "filings"), "{facts:#?}");
        assert_eq!(
            row(&facts, "detained_batches", &[]).period.kind,
            PeriodKind::Quarter(1)
        );
        let facts = extract(
            "As of the end of March 2025, 58,000 filings were recorded by customs.",
            Language::English,
        );
        assert!(facts.is_empty(), "{facts:#?}");
    }

    #[test]
    fn an_english_period_before_its_year_is_read() {
        let facts = extract(
            "In the first three quarters of 2023, customs detained 38,000 batches of suspected infringing goods.",
            Language::English,
        );
        assert_eq!(
            row(&facts, "detained_batches", &[]).period,
            Period {
                year: 2023,
                kind: PeriodKind::FirstQuarters(3)
            }
        );
    }

    #[test]
    fn a_trailing_clause_figure_takes_its_metric_from_the_sentence() {
        let facts = extract(
            "In 2023, China's customs took 58,000 IP protection measures and detained 50,000 batches of suspected infringing goods, totaling 76.3 million items, down 8.2% year-on-year.",
            Language::English,
        );
        assert_eq!(row(&facts, "protection_measures", &[]).value, dec("58000"));
        assert_eq!(
            row(&facts, "detained_batches", &[]).scope,
            Scope::Nationwide
        );
        let pieces = row(&facts, "detained_pieces", &[]);
        assert_eq!(
            (pieces.value, pieces.yoy),
            (dec("76300000"), Some(dec("-8.2")))
        );
    }

    #[test]
    fn evidence_is_cut_at_clauses_not_inside_numbers_and_never_doubled() {
        let facts = extract(
            "In 2023, China's customs took 58,000 IP protection measures and detained 50,000 batches of suspected infringing goods, totaling 76.3 million items.",
            Language::English,
        );
        let batches = row(&facts, "detained_batches", &[]);
        assert!(
            batches.excerpt.contains("58,000 IP protection measures"),
            "{}",
            batches.excerpt
        );
        let text = "2022年，全國海關共採取智慧財產權保護措施6.9萬次，實際扣留進出口侵權嫌疑貨物6.5萬批、7793.68萬件。";
        let facts = extract(text, Language::Traditional);
        let pieces = row(&facts, "detained_pieces", &[]);
        assert_eq!(
            pieces.excerpt.matches("7793.68").count(),
            1,
            "{}",
            pieces.excerpt
        );
    }

    /// One case of `tests/data/extraction/*.toml`.
    #[derive(serde::Deserialize)]
    struct Case {
        name: String,
        #[serde(default)]
        title: Option<String>,
        text: String,
        #[serde(default)]
        language: Option<Language>,
        #[serde(default)]
        published: Option<u16>,
        #[serde(default)]
        exact: bool,
        rows: Vec<ExpectedRow>,
    }

    #[derive(serde::Deserialize, Debug)]
    struct ExpectedRow {
        metric: String,
        value: String,
        period: String,
        #[serde(default)]
        scope: Option<String>,
        #[serde(default)]
        yoy: Option<String>,
        #[serde(default)]
        dims: Vec<String>,
        #[serde(default)]
        share: Option<String>,
    }

    /// The facts of a case's document: title first, paragraphs at blank
    /// lines, sentences at 。 (and ". " in English).
    fn extract_case(case: &Case) -> Vec<Fact> {
        let v = vocabulary();
        let language = case.language.unwrap_or_default();
        let mut originals: Vec<(usize, String)> = Vec::new();
        if let Some(t) = &case.title {
            originals.push((0, t.clone()));
        }
        for (p, para) in case.text.split("\n\n").enumerate() {
            let cut = if language == Language::English {
                ". "
            } else {
                "。"
            };
            for sentence in para.split_inclusive(cut) {
                originals.push((p + 1, sentence.trim().to_string()));
            }
        }
        let normalized: Vec<String> = originals.iter().map(|o| normalize(&o.1)).collect();
        let input: Vec<SentenceInput<'_>> = originals
            .iter()
            .zip(&normalized)
            .enumerate()
            .map(|(index, ((passage, original), normalized))| SentenceInput {
                index,
                passage: *passage,
                normalized,
                original,
            })
            .collect();
        Extractor::new(&v).extract(0, &input, language, case.published.or(Some(2025)))
    }

    fn scope_key(scope: &Scope) -> String {
        match scope {
            Scope::Nationwide => "nationwide".into(),
            Scope::Customs(n) => format!("customs:{n}"),
            Scope::Campaign(n) => format!("campaign:{n}"),
            Scope::Subset(n) => format!("subset:{n}"),
        }
    }

    fn matches(f: &Fact, want: &ExpectedRow) -> bool {
        let dims: Vec<String> = f.dims.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut want_dims = want.dims.clone();
        want_dims.sort();
        f.metric == want.metric
            && f.value == dec(&want.value)
            && f.period.key() == want.period
            && scope_key(&f.scope) == want.scope.as_deref().unwrap_or("nationwide")
            && dims == want_dims
            && want
                .share
                .as_deref()
                .is_none_or(|s| f.share == Some(dec(s)))
            && want.yoy.as_deref().is_none_or(|y| match y {
                "none" => f.yoy.is_none(),
                y => f.yoy == Some(dec(y)),
            })
    }

    #[test]
    fn frames_of_the_fixture_sentences_give_their_rows() {
        let file = include_str!("../../tests/data/extraction/frames.toml");
        #[derive(serde::Deserialize)]
        struct File {
            case: Vec<Case>,
        }
        let cases: File = toml::from_str(file).expect("the extraction fixture parses");
        let mut failures = Vec::new();
        for case in &cases.case {
            let facts = extract_case(case);
            for want in &case.rows {
                if !facts.iter().any(|f| matches(f, want)) {
                    let got: Vec<String> = facts
                        .iter()
                        .map(|f| format!("{} {:?} {} {:?}", f.period, f.scope, f.value, f.dims))
                        .collect();
                    failures.push(format!("{}: no row {want:?} in {got:?}", case.name));
                }
            }
            if case.exact && facts.len() != case.rows.len() {
                let got: Vec<String> = facts
                    .iter()
                    .map(|f| format!("{} {} {} {:?}", f.period, f.metric, f.value, f.dims))
                    .collect();
                failures.push(format!("{}: {} rows: {got:?}", case.name, facts.len()));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_figure_without_a_year_is_not_a_fact() {
        assert!(extract("全国海关扣留侵权货物100批。", Language::Simplified).is_empty());
    }
}
