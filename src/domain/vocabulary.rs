//! vocabulary: "which metric, dimension, period or intent does this word
//! name?" Parsed from `knowledge/vocabulary.toml`; all words are kept
//! normalized so that Traditional and English questions reach them.
//!
//! Invariant: pure; the caller reads the file.

use crate::domain::normalize::{is_han, normalize};
use serde::Deserialize;

/// Why a vocabulary text is not a vocabulary.
#[derive(Debug, thiserror::Error)]
pub enum VocabularyError {
    /// Not TOML, or not the vocabulary's shape.
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    /// Two `[[metrics]]` entries with one id: which figure a word names
    /// would depend on their order.
    #[error(
        "metric id \"{id}\" is defined twice: at line {first_line} and again at line {second_line}"
    )]
    DuplicateMetric {
        id: String,
        first_line: usize,
        second_line: usize,
    },
}

/// Every metric id once, or the first one given twice with both lines.
fn check_metric_ids(text: &str) -> Result<(), VocabularyError> {
    #[derive(Deserialize)]
    struct Ids {
        #[serde(default)]
        metrics: Vec<Id>,
    }
    #[derive(Deserialize)]
    struct Id {
        id: toml::Spanned<String>,
    }
    let ids: Ids = toml::from_str(text)?;
    let line = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    for (i, later) in ids.metrics.iter().enumerate() {
        if let Some(first) = ids.metrics[..i]
            .iter()
            .find(|m| m.id.get_ref() == later.id.get_ref())
        {
            return Err(VocabularyError::DuplicateMetric {
                id: later.id.get_ref().clone(),
                first_line: line(first.id.span().start),
                second_line: line(later.id.span().start),
            });
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize)]
pub struct Metric {
    pub id: String,
    pub zh: String,
    pub en: String,
    #[serde(default)]
    pub units: Vec<String>,
    #[serde(default)]
    pub units_en: Vec<String>,
    #[serde(default)]
    pub cues: Vec<String>,
    #[serde(default)]
    pub default: bool,
    #[serde(default)]
    pub sets_scope: bool,
    #[serde(default)]
    pub ask: Vec<String>,
    /// Question words that ask for the metric only when no other metric is
    /// named (多少件 asks for pieces unless 备案 is in the question).
    #[serde(default)]
    pub ask_weak: Vec<String>,
    #[serde(default)]
    pub headline: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DimensionValue {
    /// Empty: the word names the whole and clears the dimension.
    pub id: String,
    pub zh: String,
    pub en: String,
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dimension {
    pub kind: String,
    pub zh: String,
    /// English name; the kind id with spaces when missing.
    #[serde(default)]
    pub en: Option<String>,
    pub values: Vec<DimensionValue>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct ScopeWords {
    #[serde(default)]
    pub nationwide: Vec<String>,
    #[serde(default)]
    pub campaign: Vec<String>,
    /// Campaign words that name what a customs house did (开展…专项行动),
    /// not a period of its own: after the house's name (or in its news)
    /// the figures stay the house's.
    #[serde(default)]
    pub campaign_activity: Vec<String>,
    /// Names of campaigns (龙腾行动, "Longteng Action"): a document whose
    /// title names one reports the campaign's figures, even where a
    /// sentence says "全国海关" or "Chinese customs".
    #[serde(default)]
    pub campaign_names: Vec<CampaignName>,
    /// Phrases holding a word of `nationwide` that name no subject
    /// (按照海关总署统一部署, 在全国率先, 排名全国前列).
    #[serde(default)]
    pub not_scope: Vec<String>,
    #[serde(default)]
    pub customs: Vec<String>,
    #[serde(default)]
    pub not_a_name: Vec<String>,
    /// Customs houses known by name in both languages: a row or a question
    /// naming either carries the Chinese name, and English replies show
    /// the English one.
    #[serde(default)]
    pub houses: Vec<CustomsHouse>,
}

/// One campaign's names: the name rows carry and the words naming it.
#[derive(Debug, Clone, Deserialize)]
pub struct CampaignName {
    /// 龙腾行动 (normalized): the name rows carry, whichever word names it.
    pub name: String,
    pub words: Vec<String>,
}

/// One customs house's names.
#[derive(Debug, Clone, Deserialize)]
pub struct CustomsHouse {
    /// 深圳海关 (normalized): the name rows and questions carry.
    pub zh: String,
    /// shenzhen customs (normalized).
    pub en: String,
}

impl ScopeWords {
    /// The campaigns (by the name rows carry) that words of `text` name,
    /// each once, sorted.
    pub fn campaigns_in(&self, text: &str) -> Vec<&str> {
        let words: Vec<(&str, &str)> = self
            .campaign_names
            .iter()
            .flat_map(|c| c.words.iter().map(|w| (w.as_str(), c.name.as_str())))
            .collect();
        let mut named: Vec<&str> = find_words(text, words.iter().map(|w| w.0))
            .into_iter()
            .map(|(_, _, i)| words[i].1)
            .collect();
        named.sort_unstable();
        named.dedup();
        named
    }

    /// Whether `word` is a campaign's name as rows carry it (龙腾行动).
    pub fn is_campaign_name(&self, word: &str) -> bool {
        self.campaign_names.iter().any(|c| c.name == word)
    }

    /// The house whose English name ends `text` ("… hong kong customs").
    pub fn house_ending_en(&self, text: &str) -> Option<&CustomsHouse> {
        self.houses
            .iter()
            .filter(|h| {
                text.ends_with(h.en.as_str())
                    && !text[..text.len() - h.en.len()]
                        .ends_with(|c: char| c.is_ascii_alphanumeric())
            })
            .max_by_key(|h| h.en.len())
    }

    /// The house whose Chinese name ends `text` ("…乌鲁木齐海关").
    pub fn house_ending_zh(&self, text: &str) -> Option<&CustomsHouse> {
        self.houses
            .iter()
            .filter(|h| text.ends_with(h.zh.as_str()))
            .max_by_key(|h| h.zh.len())
    }

    /// The English name of a house named in Chinese, when known.
    pub fn english_name(&self, zh: &str) -> Option<&str> {
        self.houses
            .iter()
            .find(|h| h.zh == zh)
            .map(|h| h.en.as_str())
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct QuestionWords {
    #[serde(default)]
    pub filler: Vec<String>,
    /// Words that ask how to do something without naming a topic (办理,
    /// apply): a passage sharing only these does not answer.
    #[serde(default)]
    pub generic: Vec<String>,
    /// Words that make a short question a follow-up of the one before
    /// (那, 呢, what about), not a subject of its own.
    #[serde(default)]
    pub follow_up: Vec<String>,
    /// Words that follow a campaign's name in a question (龙腾行动,
    /// "the Longteng Action"): the figure asked is the campaign's own.
    #[serde(default)]
    pub campaign: Vec<String>,
    /// Words asking for a quantity (多少, how many): a passage answering
    /// such a question must hold a figure.
    #[serde(default)]
    pub quantity: Vec<String>,
    /// Words asking for a sum (累计, total): with a run of years
    /// (2021—2025年) the question asks for the years added together.
    #[serde(default)]
    pub cumulative: Vec<String>,
    /// A message made only of these greets the bot (你好, hello).
    #[serde(default)]
    pub greetings: Vec<String>,
    /// A message made only of these thanks the bot (谢谢, thanks).
    #[serde(default)]
    pub thanks: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Numbered {
    pub n: u8,
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct PeriodWords {
    #[serde(default)]
    pub year: Vec<String>,
    #[serde(default)]
    pub year_end: Vec<String>,
    #[serde(default)]
    pub first_half: Vec<String>,
    #[serde(default)]
    pub first_quarters: Vec<Numbered>,
    #[serde(default)]
    pub quarters: Vec<Numbered>,
    /// "今年以来", "截至目前": the year so far, a period no row holds.
    #[serde(default)]
    pub to_date: Vec<String>,
    /// "截至2022年12月": a question asking for the year so far up to a
    /// month, which only a running total's sentence ("今年以来") answers.
    #[serde(default)]
    pub as_of: Vec<String>,
    /// Named periods spanning years (十三五 = 2016..=2020): a figure of
    /// one is a cumulative row of its own period.
    #[serde(default)]
    pub plans: Vec<Plan>,
    /// Words right after a plan's name that make it name one of its years
    /// ("十三五"开局之年的2016年), not the whole period.
    #[serde(default)]
    pub plan_year: Vec<String>,
    /// Words saying a figure adds several years up (累计, total): with a
    /// range of years (2021—2025年) the figure is the range's.
    #[serde(default)]
    pub cumulative: Vec<String>,
    /// Words saying a figure spans several years without naming which
    /// (五年来, over the past five years).
    #[serde(default)]
    pub several_years: Vec<String>,
}

/// A named period of whole years (a five-year plan).
#[derive(Debug, Clone, Deserialize)]
pub struct Plan {
    pub from: u16,
    pub to: u16,
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct QualifierWords {
    #[serde(default)]
    pub before: Vec<String>,
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub reference_year: Vec<String>,
    /// Words after a year that make it a starting point (自2017年…以来):
    /// the running total since then is not that year's figure.
    #[serde(default)]
    pub since_after: Vec<String>,
    /// Words before a year that make it a starting point ("since 2021").
    #[serde(default)]
    pub since_before: Vec<String>,
    /// Qualifiers saying the true value is at least the figure (逾, 余).
    #[serde(default)]
    pub at_least: Vec<String>,
    /// … at most the figure, and close to it (近, nearly).
    #[serde(default)]
    pub at_most: Vec<String>,
    /// … close to it either way (约, about).
    #[serde(default)]
    pub about: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
pub struct IntentWords {
    #[serde(default)]
    pub comparison: Vec<String>,
    #[serde(default)]
    pub trend: Vec<String>,
    #[serde(default)]
    pub summary: Vec<String>,
    #[serde(default)]
    pub yoy: Vec<String>,
    #[serde(default)]
    pub share: Vec<String>,
    /// "2021年以来…的变化", "changes since 2021": with a change word and
    /// one year, the trend from that year on.
    #[serde(default)]
    pub since: Vec<String>,
}

/// How the percentages after a figure are read.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PercentageWords {
    #[serde(default)]
    pub up: Vec<String>,
    #[serde(default)]
    pub down: Vec<String>,
    #[serde(default)]
    pub share: Vec<String>,
    /// Words right after a percentage that make it a share.
    #[serde(default)]
    pub share_after: Vec<String>,
}

/// What may stand between two items of a list.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ListWords {
    #[serde(default)]
    pub separators: Vec<String>,
    /// Whole gaps (trimmed) that also join two items ("and", ", and").
    #[serde(default)]
    pub gaps: Vec<String>,
    /// Words saying that a list pairs item by item with the one before
    /// (分别, respectively).
    #[serde(default)]
    pub respectively: Vec<String>,
}

/// Years named relative to the publication date (去年 = -1).
#[derive(Debug, Clone, Deserialize)]
pub struct RelativeYear {
    pub words: Vec<String>,
    pub delta: i32,
}

/// Which release a figure comes from.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct ReleaseWords {
    #[serde(default)]
    pub preliminary: Vec<String>,
    /// Question words asking for the preliminary count itself.
    #[serde(default)]
    pub ask: Vec<String>,
}

/// Modifiers of a figure that the other lists do not know.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct FrameWords {
    /// "X渠道", "X地区": an unknown X is a literal qualifier.
    #[serde(default)]
    pub qualifier_suffixes: Vec<String>,
    /// Words that open a modifier standing in a clause of its own.
    #[serde(default)]
    pub prepositions: Vec<String>,
    /// Words that end the modifier's words, going back from its suffix.
    #[serde(default)]
    pub breaks: Vec<String>,
    /// X that names nothing of its own (各渠道).
    #[serde(default)]
    pub not_qualifiers: Vec<String>,
    /// Words making a figure a rate (每天, per day): always a qualifier.
    #[serde(default)]
    pub rates: Vec<String>,
    /// English suffix words (region, ports) and the words that end the
    /// modifier before them going back (in, the, of).
    #[serde(default)]
    pub suffixes_en: Vec<String>,
    #[serde(default)]
    pub stops_en: Vec<String>,
}

/// English-only word lists.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct EnglishWords {
    /// Words before "customs" that name no customs house.
    #[serde(default)]
    pub not_customs_names: Vec<String>,
    /// What "pieces of …" must be followed by to count as goods.
    #[serde(default)]
    pub goods_after_of: Vec<String>,
}

/// The whole vocabulary.
#[derive(Debug, Clone, Deserialize)]
pub struct Vocabulary {
    /// Every Chinese word of the lists below (normalized, two characters
    /// or more): what Traditional→Simplified conversion must keep whole.
    #[serde(skip)]
    pub chinese_words: Vec<String>,
    pub metrics: Vec<Metric>,
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    #[serde(default)]
    pub scope: ScopeWords,
    #[serde(default)]
    pub question: QuestionWords,
    #[serde(default)]
    pub periods: PeriodWords,
    #[serde(default)]
    pub qualifiers: QualifierWords,
    #[serde(default)]
    pub intents: IntentWords,
    #[serde(default)]
    pub percentages: PercentageWords,
    #[serde(default)]
    pub lists: ListWords,
    #[serde(default)]
    pub relative_years: Vec<RelativeYear>,
    #[serde(default)]
    pub release: ReleaseWords,
    #[serde(default)]
    pub frame: FrameWords,
    #[serde(default)]
    pub english: EnglishWords,
    /// The lists every question is read with, prepared for finding.
    #[serde(skip)]
    prepared: Prepared,
}

/// Word lists prepared once, when the vocabulary is read.
#[derive(Debug, Clone, Default)]
struct Prepared {
    periods: WordTable<crate::domain::model::PeriodKind>,
    /// Dimension words with their kind and value.
    dimensions: WordTable<(String, String)>,
    /// Question words with the metric they ask for, and whether they name
    /// it (`ask`) or only its unit (`ask_weak`).
    asks: WordTable<(String, bool)>,
    /// Words that ask how (compare, trend, summary, change, share) and
    /// filler: a question's words that name no subject.
    not_subject: WordTable<()>,
    /// Filler words alone.
    filler: WordTable<()>,
}

impl Prepared {
    fn of(v: &Vocabulary) -> Prepared {
        use crate::domain::model::PeriodKind;
        let p = &v.periods;
        let mut periods: Vec<(String, PeriodKind)> = Vec::new();
        periods.extend(p.year_end.iter().map(|w| (w.clone(), PeriodKind::YearEnd)));
        periods.extend(
            p.first_half
                .iter()
                .map(|w| (w.clone(), PeriodKind::FirstHalf)),
        );
        for q in &p.quarters {
            periods.extend(
                q.words
                    .iter()
                    .map(|w| (w.clone(), PeriodKind::Quarter(q.n))),
            );
        }
        for q in &p.first_quarters {
            let kind = PeriodKind::FirstQuarters(q.n);
            periods.extend(q.words.iter().map(|w| (w.clone(), kind)));
        }
        let mut dimensions = Vec::new();
        for d in &v.dimensions {
            for value in &d.values {
                let named = (d.kind.clone(), value.id.clone());
                dimensions.extend(value.words.iter().map(|w| (w.clone(), named.clone())));
            }
        }
        let mut asks = Vec::new();
        for m in &v.metrics {
            asks.extend(m.ask.iter().map(|w| (w.clone(), (m.id.clone(), true))));
            asks.extend(
                m.ask_weak
                    .iter()
                    .map(|w| (w.clone(), (m.id.clone(), false))),
            );
        }
        let i = &v.intents;
        let not_subject = [
            &i.comparison,
            &i.trend,
            &i.summary,
            &i.yoy,
            &i.share,
            &v.question.filler,
        ]
        .into_iter()
        .flatten()
        .map(|w| (w.clone(), ()));
        Prepared {
            not_subject: WordTable::new(not_subject),
            filler: WordTable::new(v.question.filler.iter().map(|w| (w.clone(), ()))),
            periods: WordTable::new(periods),
            dimensions: WordTable::new(dimensions),
            asks: WordTable::new(asks),
        }
    }
}

/// A word found in a text: where, and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionHit {
    pub start: usize,
    pub end: usize,
    pub kind: String,
    /// Empty when the word clears the dimension.
    pub value: String,
}

impl Vocabulary {
    /// Parses the TOML text and normalizes every word in it.
    pub fn parse(text: &str) -> Result<Vocabulary, VocabularyError> {
        let mut vocabulary: Vocabulary = toml::from_str(text)?;
        check_metric_ids(text)?;
        vocabulary.normalize_words();
        vocabulary.prepared = Prepared::of(&vocabulary);
        Ok(vocabulary)
    }

    fn normalize_words(&mut self) {
        let mut kept: Vec<String> = Vec::new();
        let mut all = |words: &mut [String]| {
            for w in words.iter_mut() {
                *w = normalize(w);
                if w.chars().filter(|c| is_han(*c)).count() >= 2 {
                    kept.push(w.clone());
                }
            }
        };
        for m in &mut self.metrics {
            all(&mut m.units);
            all(&mut m.units_en);
            all(&mut m.cues);
            all(&mut m.ask);
        }
        for d in &mut self.dimensions {
            for v in &mut d.values {
                all(&mut v.words);
            }
        }
        all(&mut self.scope.nationwide);
        all(&mut self.scope.campaign);
        all(&mut self.scope.campaign_activity);
        for c in &mut self.scope.campaign_names {
            c.name = normalize(&c.name);
            all(&mut c.words);
        }
        all(&mut self.scope.not_scope);
        all(&mut self.scope.customs);
        for h in &mut self.scope.houses {
            h.zh = normalize(&h.zh);
            h.en = normalize(&h.en);
        }
        all(&mut self
            .scope
            .houses
            .iter()
            .map(|h| h.zh.clone())
            .collect::<Vec<_>>());
        all(&mut self.question.filler);
        all(&mut self.question.generic);
        all(&mut self.question.follow_up);
        all(&mut self.question.campaign);
        all(&mut self.question.quantity);
        all(&mut self.question.cumulative);
        all(&mut self.question.greetings);
        all(&mut self.question.thanks);
        all(&mut self.periods.year);
        all(&mut self.periods.year_end);
        all(&mut self.periods.first_half);
        all(&mut self.periods.to_date);
        all(&mut self.periods.as_of);
        all(&mut self.periods.plan_year);
        all(&mut self.periods.cumulative);
        all(&mut self.periods.several_years);
        for plan in &mut self.periods.plans {
            all(&mut plan.words);
        }
        for n in self
            .periods
            .first_quarters
            .iter_mut()
            .chain(self.periods.quarters.iter_mut())
        {
            all(&mut n.words);
        }
        all(&mut self.qualifiers.before);
        all(&mut self.qualifiers.after);
        all(&mut self.qualifiers.reference_year);
        all(&mut self.qualifiers.since_after);
        all(&mut self.qualifiers.since_before);
        all(&mut self.qualifiers.at_least);
        all(&mut self.qualifiers.at_most);
        all(&mut self.qualifiers.about);
        for list in [
            &mut self.intents.comparison,
            &mut self.intents.trend,
            &mut self.intents.summary,
            &mut self.intents.yoy,
            &mut self.intents.share,
            &mut self.intents.since,
            &mut self.percentages.up,
            &mut self.percentages.down,
            &mut self.percentages.share,
            &mut self.percentages.share_after,
            &mut self.release.preliminary,
            &mut self.release.ask,
            &mut self.frame.qualifier_suffixes,
            &mut self.frame.prepositions,
            &mut self.frame.breaks,
            &mut self.frame.not_qualifiers,
            &mut self.frame.rates,
            &mut self.frame.suffixes_en,
            &mut self.frame.stops_en,
            &mut self.english.not_customs_names,
            &mut self.english.goods_after_of,
        ] {
            all(list);
        }
        for r in &mut self.relative_years {
            all(&mut r.words);
        }
        kept.sort();
        kept.dedup();
        self.chinese_words = kept;
    }

    /// The searchable form of a text (as [`normalize`]), where converting
    /// Traditional wording at phrase level never breaks a word of the
    /// vocabulary (貨物件數 stays 货物件数, not 货对象数). Index time and
    /// query time use this.
    pub fn normalize(&self, text: &str) -> String {
        crate::domain::normalize::normalize_keeping(text, &self.chinese_words)
    }

    /// The period words in `text` (leftmost-longest), each with the
    /// period kind it names.
    pub fn period_hits(&self, text: &str) -> Vec<(usize, usize, crate::domain::model::PeriodKind)> {
        self.prepared
            .periods
            .find(text)
            .into_iter()
            .map(|(s, e, k)| (s, e, *k))
            .collect()
    }

    /// Where `text` has words that ask how (compare, trend, summary,
    /// change, share) or are filler: words that name no subject.
    pub fn not_subject_spans(&self, text: &str) -> Vec<(usize, usize)> {
        let hits = self.prepared.not_subject.find(text);
        hits.into_iter().map(|(s, e, _)| (s, e)).collect()
    }

    /// Where `text` has filler words (leftmost-longest).
    pub fn filler_spans(&self, text: &str) -> Vec<(usize, usize)> {
        let hits = self.prepared.filler.find(text);
        hits.into_iter().map(|(s, e, _)| (s, e)).collect()
    }

    /// The metric question words in `text` (leftmost-longest): each with
    /// its metric, and whether it names the metric rather than its unit.
    pub fn ask_hits(&self, text: &str) -> Vec<(usize, usize, &(String, bool))> {
        self.prepared.asks.find(text)
    }

    /// What a figure's qualifier (as kept on its row: 逾, 近…余) says of
    /// its true value; two words that disagree make it "about".
    pub fn bound_of(&self, qualifier: Option<&str>) -> crate::domain::numbers::Bound {
        use crate::domain::numbers::Bound;
        let Some(q) = qualifier else {
            return Bound::Exact;
        };
        let q = q.trim();
        let q_ = &self.qualifiers;
        let has = |list: &[String]| list.iter().any(|w| q.contains(w.as_str()));
        match (has(&q_.at_least), has(&q_.at_most), has(&q_.about)) {
            (true, false, false) => Bound::AtLeast,
            (false, true, false) => Bound::AtMost,
            (false, false, false) => Bound::Exact,
            _ => Bound::About,
        }
    }

    pub fn metric(&self, id: &str) -> Option<&Metric> {
        self.metrics.iter().find(|m| m.id == id)
    }

    pub fn dimension_value(&self, kind: &str, id: &str) -> Option<&DimensionValue> {
        self.dimensions
            .iter()
            .find(|d| d.kind == kind)?
            .values
            .iter()
            .find(|v| v.id == id)
    }

    /// Every dimension word in `text`, leftmost-longest, not overlapping.
    pub fn dimension_hits(&self, text: &str) -> Vec<DimensionHit> {
        self.prepared
            .dimensions
            .find(text)
            .into_iter()
            .map(|(start, end, (kind, value))| DimensionHit {
                start,
                end,
                kind: kind.clone(),
                value: value.clone(),
            })
            .collect()
    }
}

/// Leftmost-longest, non-overlapping occurrences of any of `words` in
/// `text`: (byte start, byte end, index of the word). Latin words match
/// only at word boundaries.
pub fn find_words<'a>(
    text: &str,
    words: impl IntoIterator<Item = &'a str>,
) -> Vec<(usize, usize, usize)> {
    // Only the words whose first character occurs in the text can match.
    // (No hash map: a text is short and the lists are long.)
    let mut firsts: Vec<char> = text.chars().collect();
    firsts.sort_unstable();
    firsts.dedup();
    let mut by_first: Vec<(char, usize, &str)> = words
        .into_iter()
        .enumerate()
        .filter_map(|(i, w)| {
            let c = w.chars().next()?;
            firsts.binary_search(&c).is_ok().then_some((c, i, w))
        })
        .collect();
    by_first.sort_unstable();
    scan(text, &by_first, |c| {
        let from = by_first.partition_point(|(x, _, _)| *x < c);
        from..from + by_first[from..].partition_point(|(x, _, _)| *x <= c)
    })
}

/// `find_words` over words sorted by their first character (in list
/// order within it), so that at each place of `text` only those that can
/// start there are tried.
/// `starting(c)` is where the words starting with `c` lie in `by_first`.
fn scan<S: AsRef<str>>(
    text: &str,
    by_first: &[(char, usize, S)],
    starting: impl Fn(char) -> std::ops::Range<usize>,
) -> Vec<(usize, usize, usize)> {
    let mut hits = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let mut best: Option<(usize, usize)> = None;
        let c = rest.chars().next().unwrap_or_default();
        for (_, i, w) in &by_first[starting(c)] {
            let w = w.as_ref();
            if !rest.starts_with(w) {
                continue;
            }
            let len = if is_latin_word(w) {
                // A Latin word at word boundaries, or its plural: "patent"
                // finds "patents", "tax" finds "taxes".
                let Some(len) = ["", "s", "es"].iter().find_map(|suffix| {
                    let len = w.len() + suffix.len();
                    (rest[w.len()..].starts_with(suffix)
                        && at_word_boundaries(text, pos, pos + len))
                    .then_some(len)
                }) else {
                    continue;
                };
                len
            } else {
                w.len()
            };
            if best.is_none_or(|(best_len, _)| len > best_len) {
                best = Some((len, *i));
            }
        }
        match best {
            Some((len, i)) => {
                hits.push((pos, pos + len, i));
                pos += len;
            }
            None => pos += c.len_utf8().max(1),
        }
    }
    hits
}

/// A list of words, each with what it names, prepared once for finding
/// in many texts (`find_words` prepares its list on every call).
#[derive(Debug, Clone)]
pub struct WordTable<T> {
    /// The words by first character, in list order within it.
    by_first: Vec<(char, usize, String)>,
    values: Vec<T>,
    /// Where the words starting with a character lie in `by_first`: one
    /// lookup for each character of a text, and none for the (many)
    /// characters that start no word.
    starts: rustc_hash::FxHashMap<char, (u32, u32)>,
}

impl<T> Default for WordTable<T> {
    fn default() -> Self {
        WordTable {
            by_first: Vec::new(),
            values: Vec::new(),
            starts: rustc_hash::FxHashMap::default(),
        }
    }
}

impl<T> WordTable<T> {
    pub fn new(entries: impl IntoIterator<Item = (String, T)>) -> WordTable<T> {
        let mut by_first = Vec::new();
        let mut values = Vec::new();
        for (word, value) in entries {
            if let Some(c) = word.chars().next() {
                by_first.push((c, values.len(), word));
                values.push(value);
            }
        }
        by_first.sort_unstable_by_key(|e| (e.0, e.1));
        let mut starts = rustc_hash::FxHashMap::default();
        for (i, e) in by_first.iter().enumerate() {
            starts.entry(e.0).or_insert((i as u32, i as u32)).1 = i as u32 + 1;
        }
        WordTable {
            by_first,
            values,
            starts,
        }
    }

    /// What `find_words` finds in `text`, each hit with its word's value.
    pub fn find(&self, text: &str) -> Vec<(usize, usize, &T)> {
        scan(text, &self.by_first, |c| {
            self.starts
                .get(&c)
                .map_or(0..0, |&(from, to)| from as usize..to as usize)
        })
        .into_iter()
        .map(|(s, e, i)| (s, e, &self.values[i]))
        .collect()
    }
}

/// The longest of `words` found anywhere in `text`, with its index.
pub fn longest_word_in<'a>(
    text: &str,
    words: impl IntoIterator<Item = &'a str>,
) -> Option<(usize, usize)> {
    find_words(text, words)
        .into_iter()
        .max_by_key(|(s, e, _)| (e - s, usize::MAX - s))
        .map(|(s, _, i)| (s, i))
}

/// Whether any of `words` occurs in `text` (Latin words at word
/// boundaries, or as their plurals): whether `find_words` finds anything,
/// without preparing the list.
pub fn contains_any(text: &str, words: &[String]) -> bool {
    words.iter().any(|w| {
        if w.is_empty() {
            return false;
        }
        // Setting up a search for a word costs more than looking for its
        // first character, which most texts lack.
        if !w.chars().next().is_some_and(|c| text.contains(c)) {
            return false;
        }
        if !is_latin_word(w) {
            return text.contains(w.as_str());
        }
        text.match_indices(w.as_str()).any(|(pos, _)| {
            ["", "s", "es"].iter().any(|suffix| {
                let end = pos + w.len() + suffix.len();
                text[pos + w.len()..].starts_with(suffix) && at_word_boundaries(text, pos, end)
            })
        })
    })
}

fn is_latin_word(w: &str) -> bool {
    w.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

fn at_word_boundaries(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(|c| c.is_ascii_alphanumeric())
        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_words_find_their_plurals_at_word_boundaries_only() {
        let words = ["patent", "tax", "copyright"];
        let hits = find_words("patents, taxes and copyright; patently not", words);
        let found: Vec<usize> = hits.iter().map(|h| h.2).collect();
        assert_eq!(found, [0, 1, 2]);
        assert_eq!((hits[0].0, hits[0].1), (0, "patents".len()));
    }

    #[test]
    fn contains_any_says_whether_find_words_finds_anything() {
        let words: Vec<String> = ["patent", "tax", "海关", "关区", "a"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        for text in [
            "patents",
            "patently",
            "taxes and",
            "syntax",
            "该关区",
            "海关区",
            "a b",
            "ab",
            "",
            "无关",
        ] {
            let found = !find_words(text, words.iter().map(String::as_str)).is_empty();
            assert_eq!(contains_any(text, &words), found, "{text:?}");
        }
    }

    pub(crate) fn shipped() -> Vocabulary {
        Vocabulary::parse(include_str!("../../knowledge/vocabulary.toml"))
            .expect("the shipped vocabulary parses")
    }

    #[test]
    fn shipped_vocabulary_has_the_headline_metrics() {
        let v = shipped();
        let headline: Vec<&str> = v
            .metrics
            .iter()
            .filter(|m| m.headline)
            .map(|m| m.id.as_str())
            .collect();
        assert_eq!(
            headline,
            ["protection_measures", "detained_batches", "detained_pieces"]
        );
    }

    #[test]
    fn longest_word_wins_and_neutral_words_clear() {
        let v = shipped();
        let hits = v.dimension_hits("查扣进出口知识产权侵权嫌疑货物");
        assert!(hits.iter().all(|h| h.value.is_empty()), "{hits:?}");
        let hits = v.dimension_hits("在出口环节扣留");
        assert_eq!(hits.len(), 1);
        assert_eq!(
            (hits[0].kind.as_str(), hits[0].value.as_str()),
            ("stage", "export")
        );
    }

    #[test]
    fn latin_words_match_whole_words_only() {
        let v = shipped();
        assert!(v.dimension_hits("importer").is_empty());
        assert_eq!(v.dimension_hits("mail channels")[0].value, "mail");
        let joined = v.dimension_hits("mail and express channels");
        assert_eq!(joined[0].value, "mail_express", "{joined:?}");
    }

    #[test]
    fn a_metric_id_given_twice_is_an_error_naming_both_lines() {
        let text = "[[metrics]]\nid = 'batches'\nzh = '批'\nen = 'b'\n\n[[metrics]]\nid = 'pieces'\nzh = '件'\nen = 'p'\n\n[[metrics]]\nid = 'batches'\nzh = '批次'\nen = 'b2'\n";
        let err = Vocabulary::parse(text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "metric id \"batches\" is defined twice: at line 2 and again at line 12"
        );
    }

    #[test]
    fn traditional_words_in_the_file_are_normalized() {
        let v = Vocabulary::parse("[[metrics]]\nid='x'\nzh='x'\nen='x'\nask=['專利權']\n").unwrap();
        assert_eq!(v.metrics[0].ask, ["专利权"]);
    }
}
