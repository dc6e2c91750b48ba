//! The values that flow between the parts: documents, passages, sentences,
//! facts, and the answer the engine gives. Plain data, no behaviour beyond
//! formatting helpers.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Questions longer than this (in characters) are refused with a notice.
pub const MAX_QUESTION_CHARS: usize = 2000;

/// The script or language a text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// Simplified Chinese.
    #[default]
    #[serde(alias = "zh", alias = "zh-cn", alias = "zh-hans")]
    Simplified,
    /// Traditional Chinese (including Taiwan wording).
    #[serde(alias = "zh-tw", alias = "zh-hant")]
    Traditional,
    /// English.
    #[serde(alias = "en")]
    English,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Simplified => "zh-Hans",
            Language::Traditional => "zh-Hant",
            Language::English => "en",
        }
    }

    /// What joins sentences written in this language: a space in English,
    /// nothing in Chinese.
    pub fn sentence_joiner(self) -> &'static str {
        if self == Language::English {
            " "
        } else {
            ""
        }
    }
}

/// What is known about a document's origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct DocumentMeta {
    pub title: String,
    #[serde(default)]
    pub publisher: Option<String>,
    /// ISO date `YYYY-MM-DD` when known.
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub url: Option<String>,
}

/// One document of the knowledge folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// The file name inside `knowledge/documents/`.
    pub file: String,
    pub meta: DocumentMeta,
}

/// A paragraph (or a slice of a long one), the unit of retrieval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passage {
    pub doc: usize,
    /// Text as written, for display.
    pub original: String,
    /// Normalized text (NFKC, Simplified, lower-case Latin), for search.
    pub normalized: String,
    /// Index of its first sentence in the snapshot's sentence list.
    pub first_sentence: usize,
    pub sentence_count: usize,
}

/// A sentence, the unit a fact cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentence {
    pub doc: usize,
    pub passage: usize,
    pub original: String,
    pub normalized: String,
}

/// Which part of a year a figure covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "n")]
pub enum PeriodKind {
    /// The whole year.
    Year,
    /// One quarter, 1..=4.
    Quarter(u8),
    /// The first n quarters (前三季度 = 3).
    FirstQuarters(u8),
    /// The first half year.
    FirstHalf,
    /// A stock at the year's end (截至年底).
    YearEnd,
    /// One month, 1..=12: asked about, never a row (the corpus's monthly
    /// figures are not extracted).
    Month(u8),
    /// Months `from..=to` of the year (1至11月, a campaign's 3月至11月)
    /// that no other kind names: see [`PeriodKind::months`].
    Months(u8, u8),
    /// Years from the period's year through `.0`, up to month `.1` of that
    /// last year (12: whole years): a cumulative figure ("十三五"期间,
    /// 2021—2025年累计, 截至2025年6月底"十四五"以来), never one year's.
    Span(u16, u8),
}

impl PeriodKind {
    /// The period of months `from..=to`: the quarter, first quarters, half
    /// or year they make, else `Months`.
    pub fn months(from: u8, to: u8) -> PeriodKind {
        match (from, to) {
            (1, 12) => PeriodKind::Year,
            (1, 6) => PeriodKind::FirstHalf,
            (1, 9) => PeriodKind::FirstQuarters(3),
            (f, t) if f == t => PeriodKind::Month(f),
            (f, t) if t == f + 2 && f % 3 == 1 => PeriodKind::Quarter(f / 3 + 1),
            (f, t) => PeriodKind::Months(f, t),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Period {
    pub year: u16,
    pub kind: PeriodKind,
}

impl Period {
    pub fn year(year: u16) -> Self {
        Period {
            year,
            kind: PeriodKind::Year,
        }
    }

    /// Stable key as used in JSON output: `2024`, `2021-Q1`, `2021-Q1-Q3`,
    /// `2021-H1`, `2016-end`, `2016-2020` (cumulative), `2021-2025-06`.
    pub fn key(&self) -> String {
        match self.kind {
            PeriodKind::Year => format!("{}", self.year),
            PeriodKind::Quarter(q) => format!("{}-Q{}", self.year, q),
            PeriodKind::FirstQuarters(q) => format!("{}-Q1-Q{}", self.year, q),
            PeriodKind::FirstHalf => format!("{}-H1", self.year),
            PeriodKind::YearEnd => format!("{}-end", self.year),
            PeriodKind::Month(m) => format!("{}-{:02}", self.year, m),
            PeriodKind::Months(a, b) => format!("{}-{:02}-{:02}", self.year, a, b),
            PeriodKind::Span(to, 12) => format!("{}-{}", self.year, to),
            PeriodKind::Span(to, m) => format!("{}-{}-{:02}", self.year, to, m),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Whose figure it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case", tag = "kind", content = "name")]
pub enum Scope {
    /// All customs (全国海关, 海关总署, 中国海关).
    #[default]
    Nationwide,
    /// A named customs house or several (杭州海关).
    Customs(String),
    /// A campaign (蓝网行动) or "during the operation".
    Campaign(String),
    /// Part of a total that the sentence does not name (其中15个直属海关).
    Subset(String),
}

/// The dimension kind of the modifiers of a figure that the vocabulary does
/// not know, as written (行邮渠道, 东部沿海地区): a row with it answers only
/// questions naming those words, and is never a total.
pub const QUALIFIER_DIM: &str = "qualifier";
/// The dimension kind saying which release a figure comes from; its only
/// value is `preliminary` (a final figure has none).
pub const RELEASE_DIM: &str = "release";

/// One figure, as a row of the fact table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub period: Period,
    pub scope: Scope,
    /// Metric id from the vocabulary (`detained_batches`).
    pub metric: String,
    /// Dimension kind -> value id, sorted by kind (`ip_type` -> `trademark`).
    pub dims: Vec<(String, String)>,
    pub value: Decimal,
    /// The figure as written (`4.16万批`, `1.74万余批`, `56.18 million`).
    pub text: String,
    /// 余, 近, 约, 超过, more than, nearly …
    pub qualifier: Option<String>,
    /// Share of the total, in percent, where the sentence gives it.
    pub share: Option<Decimal>,
    /// Year-on-year change in percent (negative for a fall).
    pub yoy: Option<Decimal>,
    /// Index into the snapshot's documents.
    pub doc: usize,
    /// Index into the snapshot's sentences; `None` for a curated fact whose
    /// quote spans sentences.
    pub sentence: Option<usize>,
    /// The source sentence (or curated quote), as written. Empty for an
    /// extracted fact read back from a generation (the sentence is then
    /// read from the search when needed: `Knowledge::quote`).
    pub quote: String,
    /// The clauses of the sentence that state this figure (with its share
    /// and change), as written; the evidence shown under the figure.
    pub excerpt: String,
    pub curated: bool,
}

impl Fact {
    pub fn dim(&self, kind: &str) -> Option<&str> {
        self.dims
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.as_str())
    }

    /// From a preliminary count (初步统计), not a final report.
    pub fn is_preliminary(&self) -> bool {
        self.dim(RELEASE_DIM).is_some()
    }

    /// The dimensions that say what is counted: all but the release.
    pub fn counted_dims(&self) -> impl Iterator<Item = &(String, String)> {
        self.dims.iter().filter(|(k, _)| k != RELEASE_DIM)
    }
}

/// Two sources that give different values for the same key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub key: String,
    pub facts: Vec<usize>,
}

/// What kind of reply the engine gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerKind {
    Fact,
    Comparison,
    Trend,
    Summary,
    Passage,
    None,
}

impl AnswerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AnswerKind::Fact => "fact",
            AnswerKind::Comparison => "comparison",
            AnswerKind::Trend => "trend",
            AnswerKind::Summary => "summary",
            AnswerKind::Passage => "passage",
            AnswerKind::None => "none",
        }
    }
}

/// A fact as shown in an answer's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactRef {
    pub period: String,
    pub metric: String,
    pub value: String,
    pub text: String,
    pub source: String,
}

/// A source as shown in an answer's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    pub title: String,
    pub publisher: Option<String>,
    pub published: Option<String>,
    pub url: Option<String>,
}

/// The engine's reply to one question: the `ask --json` contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    /// What a user sees, plain text: the figure first, the evidence, the source.
    pub answer: String,
    pub found: bool,
    pub kind: AnswerKind,
    pub facts: Vec<FactRef>,
    pub sources: Vec<SourceRef>,
    pub language: Language,
}
