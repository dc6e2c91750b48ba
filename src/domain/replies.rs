//! replies: every sentence the engine says to a user, in Simplified
//! Chinese and English (Traditional is the Simplified reply converted with
//! Taiwan phrasing). Figures arrive already chosen; this module only words
//! them.
//!
//! Invariant: pure; no figure is computed here.

use crate::domain::model::{DocumentMeta, Fact, Language, Period, PeriodKind, Scope};
use crate::domain::numbers::{format_chinese, format_english};
use crate::domain::vocabulary::{Dimension, Vocabulary};
use rust_decimal::Decimal;

fn zh(language: Language) -> bool {
    language != Language::English
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// 2024年 / 2021年第1季度 / 截至2016年底; 2024 / Q1 2021 / end of 2016.
pub fn period_label(period: &Period, language: Language) -> String {
    let y = period.year;
    if zh(language) {
        match period.kind {
            PeriodKind::Year => format!("{y}年"),
            PeriodKind::Quarter(q) => format!("{y}年第{q}季度"),
            PeriodKind::FirstQuarters(n) => format!("{y}年前{n}季度"),
            PeriodKind::FirstHalf => format!("{y}年上半年"),
            PeriodKind::YearEnd => format!("截至{y}年底"),
            PeriodKind::Month(m) => format!("{y}年{m}月"),
            PeriodKind::Months(a, b) => format!("{y}年{a}-{b}月"),
            PeriodKind::Span(to, 12) => format!("{y}—{to}年累计"),
            PeriodKind::Span(to, m) => format!("{y}年至{to}年{m}月累计"),
        }
    } else {
        match period.kind {
            PeriodKind::Year => format!("{y}"),
            PeriodKind::Quarter(q) => format!("Q{q} {y}"),
            PeriodKind::FirstQuarters(n) => format!("Q1–Q{n} {y}"),
            PeriodKind::FirstHalf => format!("H1 {y}"),
            PeriodKind::YearEnd => format!("end of {y}"),
            PeriodKind::Month(m) => format!("{y}-{m:02}"),
            PeriodKind::Months(a, b) => format!(
                "{}–{} {y}",
                MONTHS_EN[a as usize - 1],
                MONTHS_EN[b as usize - 1]
            ),
            PeriodKind::Span(to, 12) => format!("{y}–{to} (cumulative)"),
            PeriodKind::Span(to, m) => format!(
                "{y} to {} {to} (cumulative)",
                MONTHS_EN[(m as usize).clamp(1, 12) - 1]
            ),
        }
    }
}

pub fn metric_label(vocabulary: &Vocabulary, metric: &str, language: Language) -> String {
    match vocabulary.metric(metric) {
        Some(m) if zh(language) => m.zh.clone(),
        Some(m) => m.en.clone(),
        None => metric.to_string(),
    }
}

pub fn dims_label(
    vocabulary: &Vocabulary,
    dims: &[(String, String)],
    language: Language,
) -> String {
    let names: Vec<String> = dims
        .iter()
        .map(|(k, v)| match vocabulary.dimension_value(k, v) {
            None if k == crate::domain::model::RELEASE_DIM && zh(language) => {
                "初步统计".to_string()
            }
            None if k == crate::domain::model::RELEASE_DIM => "preliminary count".to_string(),
            Some(d) if zh(language) => d.zh.clone(),
            Some(d) => d.en.clone(),
            None => v.clone(),
        })
        .collect();
    if names.is_empty() {
        String::new()
    } else if zh(language) {
        format!("（{}）", names.join("、"))
    } else {
        format!(" ({})", names.join(", "))
    }
}

fn scope_label(vocabulary: &Vocabulary, scope: &Scope, language: Language) -> String {
    match (scope, zh(language)) {
        (Scope::Nationwide, true) => "全国海关".into(),
        (Scope::Nationwide, false) => "nationwide".into(),
        // Shenzhen Customs for an English reader of a house known by name.
        (Scope::Customs(n), false) => match vocabulary.scope.english_name(n) {
            Some(en) => title_case(en),
            None => n.clone(),
        },
        (Scope::Customs(n) | Scope::Campaign(n) | Scope::Subset(n), _) => n.clone(),
    }
}

/// "shenzhen customs" → "Shenzhen Customs".
fn title_case(name: &str) -> String {
    name.split(' ')
        .map(|w| capitalized(w.to_string()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The figure as a user reads it: 4.16万批 / 41,600 (4.16万批).
/// A fact's figure as the reader reads it: the source's own text for a
/// Chinese reader of a Chinese source (4.16万批); a figure of an English
/// source in Chinese units (59,700 measures → 5.97万次); for an English
/// reader the number with its unit, and a Chinese source's text beside it
/// (41,600 batches (4.16万批)).
pub fn figure(vocabulary: &Vocabulary, fact: &Fact, language: Language) -> String {
    let has_han = fact.text.chars().any(crate::domain::normalize::is_han);
    let metric = vocabulary.metric(&fact.metric);
    if zh(language) {
        if has_han {
            return fact.text.clone();
        }
        let unit = metric
            .and_then(|m| m.units.iter().min_by_key(|u| u.chars().count()))
            .map_or("", String::as_str);
        // The vocabulary's English qualifiers, in Chinese.
        let qualifier = match fact.qualifier.as_deref().unwrap_or("") {
            "over" | "more than" => "超过",
            "nearly" | "almost" => "近",
            "about" | "around" => "约",
            _ => "",
        };
        format!("{qualifier}{}{unit}", format_chinese(fact.value))
    } else if has_han {
        // 4205.82万余件: "over 42,058,200 (4205.82万余件)".
        format!(
            "{}{} ({})",
            english_qualifier(fact.qualifier.as_deref()),
            format_english(fact.value),
            fact.text
        )
    } else {
        // "over 19,000 batches": the source's qualifier stays.
        let qualifier = fact
            .qualifier
            .as_deref()
            .filter(|q| q.is_ascii())
            .map_or(String::new(), |q| format!("{q} "));
        let unit = metric
            .and_then(|m| m.units_en.first())
            .map_or(String::new(), |u| format!(" {u}"));
        format!("{qualifier}{}{unit}", format_english(fact.value))
    }
}

/// A Chinese source's qualifier for an English reader, with its space:
/// 余, 多, 以上, 超过, 逾 → "over "; 近 → "nearly "; 约 → "about ".
fn english_qualifier(qualifier: Option<&str>) -> &'static str {
    match qualifier.unwrap_or("") {
        "余" | "多" | "以上" | "超过" | "逾" => "over ",
        "近" => "nearly ",
        "约" => "about ",
        q if q.is_ascii() && !q.is_empty() => match q {
            "over" | "more than" => "over ",
            "nearly" | "almost" => "nearly ",
            "about" | "around" => "about ",
            _ => "",
        },
        _ => "",
    }
}

/// A figure with its share of the total, without brackets in brackets:
/// 4.13万批（99.5%）; 41,300 (4.13万批, 99.5%).
pub fn figure_with_share(vocabulary: &Vocabulary, fact: &Fact, language: Language) -> String {
    let figure = figure(vocabulary, fact, language);
    let Some(share) = fact.share else {
        return figure;
    };
    let share = share.normalize();
    if zh(language) {
        format!("{figure}（{share}%）")
    } else if let Some(open) = figure.strip_suffix(')') {
        format!("{open}, {share}%)")
    } else {
        format!("{figure} ({share}%)")
    }
}

/// An English line starts with a capital ("End of 2016", "Batches …").
pub fn capitalized(line: String) -> String {
    let mut chars = line.chars();
    match chars.next() {
        Some(c) if c.is_lowercase() => c.to_uppercase().chain(chars).collect(),
        _ => line,
    }
}

/// A summary's line comparing a headline figure with the year before:
/// 知识产权保护措施较2020年：6.53万次 → 5.32万次，减少1.21万（-18.53%）.
pub fn summary_change_line(
    vocabulary: &Vocabulary,
    before: &Fact,
    after: &Fact,
    change: &str,
    language: Language,
) -> String {
    let metric = metric_label(vocabulary, &after.metric, language);
    let versus = versus(before.period.year, language);
    let (from, to) = (
        figure(vocabulary, before, language),
        figure(vocabulary, after, language),
    );
    if zh(language) {
        format!("{metric}{versus}：{from} → {to}，{change}")
    } else {
        capitalized(format!("{metric} {versus}: {from} → {to}, {change}"))
    }
}

fn percent_change(change: Decimal, language: Language) -> String {
    let abs = change.abs().normalize();
    match (zh(language), change.is_sign_negative()) {
        (true, false) => format!("同比增长{abs}%"),
        (true, true) => format!("同比下降{abs}%"),
        (false, false) => format!("up {abs}% year on year"),
        (false, true) => format!("down {abs}% year on year"),
    }
}

/// The first line of a fact answer: the figure, with share and change.
pub fn fact_line(vocabulary: &Vocabulary, fact: &Fact, language: Language) -> String {
    let period = period_label(&fact.period, language);
    let metric = metric_label(vocabulary, &fact.metric, language);
    let dims = dims_label(vocabulary, &fact.dims, language);
    let scope = scope_label(vocabulary, &fact.scope, language);
    let mut line = if zh(language) {
        format!(
            "{period}{scope}{metric}{dims}：{}",
            figure(vocabulary, fact, language)
        )
    } else {
        capitalized(format!(
            "{period}, {metric}{dims}, {scope}: {}",
            figure(vocabulary, fact, language)
        ))
    };
    if let Some(share) = fact.share {
        line.push_str(&if zh(language) {
            format!("，占{}%", share.normalize())
        } else {
            format!(", {}% of the total", share.normalize())
        });
    }
    if let Some(change) = fact.yoy {
        line.push_str(if zh(language) { "，" } else { ", " });
        line.push_str(&percent_change(change, language));
    }
    line.push_str(if zh(language) { "。" } else { "." });
    line
}

/// The first line of a share question's answer: the share first, then
/// the figure it is a share of.
pub fn share_line(
    vocabulary: &Vocabulary,
    fact: &Fact,
    share: Decimal,
    language: Language,
) -> String {
    let period = period_label(&fact.period, language);
    let metric = metric_label(vocabulary, &fact.metric, language);
    let dims = dims_label(vocabulary, &fact.dims, language);
    let scope = scope_label(vocabulary, &fact.scope, language);
    let figure = figure(vocabulary, fact, language);
    let share = share.normalize();
    if zh(language) {
        format!("{period}{scope}{metric}{dims}占总数的{share}%（{figure}）。")
    } else {
        capitalized(format!(
            "{period}, {metric}{dims}, {scope}: {share}% of the total ({figure})."
        ))
    }
}

/// A share question whose figure the documents give without its share:
/// the figure is named, not stated, so that it is not read as the share.
/// A fact's period, metric, dimensions and scope, as a reply names them.
fn labels(fact: &Fact, vocabulary: &Vocabulary, language: Language) -> [String; 4] {
    [
        period_label(&fact.period, language),
        metric_label(vocabulary, &fact.metric, language),
        dims_label(vocabulary, &fact.dims, language),
        scope_label(vocabulary, &fact.scope, language),
    ]
}

pub fn no_share(fact: &Fact, vocabulary: &Vocabulary, language: Language) -> String {
    let [period, metric, dims, scope] = labels(fact, vocabulary, language);
    if zh(language) {
        format!(
            "没有{period}{scope}{metric}{dims}占总数的比例数据。\n文件中有这一项的数量，但没有给出它的占比。"
        )
    } else {
        capitalized(format!(
            "No share of the total for {metric}{dims}, {scope}, {period}.\nThe documents give the figure itself, but not its share."
        ))
    }
}

pub fn no_change(fact: &Fact, vocabulary: &Vocabulary, language: Language) -> String {
    let [period, metric, dims, scope] = labels(fact, vocabulary, language);
    if zh(language) {
        format!(
            "没有{period}{scope}{metric}{dims}的同比变化数据。\n文件中有这一项的数量，但没有给出它的同比变化。"
        )
    } else {
        capitalized(format!(
            "No year-on-year change for {metric}{dims}, {scope}, {period}.\nThe documents give the figure itself, but not its change."
        ))
    }
}

pub fn evidence_line(quote: &str, language: Language) -> String {
    if zh(language) {
        format!("原文：“{quote}”")
    } else {
        format!("Evidence: \"{quote}\"")
    }
}

pub fn source_line(meta: &DocumentMeta, language: Language) -> String {
    let title = cited_title(&meta.title);
    let mut parts = vec![if zh(language) || meta.language != Language::English {
        format!("《{}》", verbatim(&title))
    } else {
        verbatim(&title)
    }];
    parts.extend(meta.publisher.as_deref().map(verbatim));
    parts.extend(meta.published.clone());
    if zh(language) {
        format!("来源：{}", parts.join("，"))
    } else {
        format!("Source: {}", parts.join(", "))
    }
}

/// A title as a source line cites it: a figure the title states (a
/// headline such as "…全年扣留侵权嫌疑货物4.72万批") is left out, so that
/// every figure in a reply is one the reply states and cites. The title is
/// cut before its first clause with a figure, or, when that would leave too
/// little, each figure is replaced by "…".
pub fn cited_title(title: &str) -> String {
    let figures = figures_in(title);
    let Some(&(first, _)) = figures.first() else {
        return title.to_string();
    };
    let is_break = |c: char| c.is_whitespace() || "：:，,|｜—".contains(c);
    let clause_start = title[..first].rfind(is_break).unwrap_or(0);
    let kept = title[..clause_start].trim_end_matches(is_break);
    let english =
        title.chars().filter(char::is_ascii_alphabetic).count() * 2 > title.chars().count();
    if !english && kept.chars().count() >= 6 {
        return format!("{kept}…");
    }
    let mut out = String::new();
    let mut pos = 0;
    for (start, end) in figures {
        out.push_str(&title[pos..start]);
        out.push('…');
        pos = end;
    }
    out.push_str(&title[pos..]);
    out
}

/// Byte ranges of the figures a text states: a number with 万, 亿, a
/// percent sign or an English scale word, a number with thousands
/// separators, or a bare number of three digits or more that is not a year.
fn figures_in(text: &str) -> Vec<(usize, usize)> {
    static NUMBER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d(?:[\d.]|,\d{3})*").expect("valid number pattern")
    });
    static SCALE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^\s*(?:万|亿|%|％|(?i:percent|million|billion)\b)")
            .expect("valid scale pattern")
    });
    NUMBER
        .find_iter(text)
        .filter_map(|m| {
            let after = &text[m.end()..];
            let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
            let year = m.as_str().len() == 4
                && (m.as_str().starts_with("19") || m.as_str().starts_with("20"));
            let scaled = SCALE.find(after);
            let figure = scaled.is_some()
                || m.as_str().contains(',')
                || (digits >= 3 && !year && !after.starts_with('年'));
            figure.then(|| (m.start(), m.end() + scaled.map_or(0, |s| s.end())))
        })
        .collect()
}

pub fn also_line(titles: &[String], language: Language) -> String {
    if zh(language) {
        format!(
            "另见：{}",
            titles
                .iter()
                .map(|t| format!("《{}》", verbatim(&cited_title(t))))
                .collect::<Vec<_>>()
                .join("、")
        )
    } else {
        let titles: Vec<String> = titles.iter().map(|t| verbatim(&cited_title(t))).collect();
        format!("Also stated in: {}", titles.join("; "))
    }
}

pub fn conflict_line(
    vocabulary: &Vocabulary,
    other: &Fact,
    title: &str,
    language: Language,
) -> String {
    let title = verbatim(&cited_title(title));
    if zh(language) {
        format!(
            "注意：《{title}》给出的数值不同：{}。",
            figure(vocabulary, other, language)
        )
    } else {
        format!(
            "Note: \"{title}\" gives a different figure: {}.",
            figure(vocabulary, other, language)
        )
    }
}

/// 2020年→2024年：6.19万批 → 4.16万批，减少2.03万批（-32.79%）.
pub fn change_phrase(old: Decimal, new: Decimal, language: Language) -> String {
    let diff = new - old;
    let pct = if old.is_zero() {
        None
    } else {
        Some((diff / old * Decimal::from(100)).round_dp(2).normalize())
    };
    let pct_text = pct
        .map(|p| {
            format!(
                "{}{}%",
                if p.is_sign_positive() && !p.is_zero() {
                    "+"
                } else {
                    ""
                },
                p
            )
        })
        .unwrap_or_default();
    if zh(language) {
        let verb = if diff.is_sign_negative() {
            "减少"
        } else if diff.is_zero() {
            "持平"
        } else {
            "增加"
        };
        if diff.is_zero() {
            verb.to_string()
        } else {
            format!("{verb}{}（{pct_text}）", format_chinese(diff.abs()))
        }
    } else {
        let verb = if diff.is_sign_negative() {
            "down"
        } else if diff.is_zero() {
            "unchanged"
        } else {
            "up"
        };
        if diff.is_zero() {
            verb.to_string()
        } else {
            format!("{verb} {} ({pct_text})", format_english(diff.abs()))
        }
    }
}

/// The arithmetic behind a change, shown in full.
/// The change from the first year of a trend to the last.
pub fn span_line(from: u16, to: u16, change: String, language: Language) -> String {
    if zh(language) {
        format!("{from}年→{to}年：{change}")
    } else {
        format!("{from} → {to}: {change}")
    }
}

pub fn arithmetic_line(old: Decimal, new: Decimal, language: Language) -> String {
    let diff = new - old;
    let label = if zh(language) {
        "计算："
    } else {
        "Computation: "
    };
    if old.is_zero() {
        return format!(
            "{label}{} − {} = {}",
            new.normalize(),
            old.normalize(),
            diff.normalize()
        );
    }
    let pct = (diff / old * Decimal::from(100)).round_dp(2).normalize();
    format!(
        "{label}{} − {} = {}; {} ÷ {} × 100% = {}%",
        new.normalize(),
        old.normalize(),
        diff.normalize(),
        diff.normalize(),
        old.normalize(),
        pct
    )
}

pub fn comparison_head(
    vocabulary: &Vocabulary,
    metric: &str,
    dims: &[(String, String)],
    from: &Period,
    to: &Period,
    change: &str,
    language: Language,
) -> String {
    let m = metric_label(vocabulary, metric, language);
    let d = dims_label(vocabulary, dims, language);
    if zh(language) {
        format!(
            "{}与{}相比，{m}{d}{change}：",
            period_label(to, language),
            period_label(from, language)
        )
    } else {
        capitalized(format!(
            "{} compared with {}, {m}{d}: {change}.",
            period_label(to, language),
            period_label(from, language)
        ))
    }
}

pub fn trend_head(
    vocabulary: &Vocabulary,
    metric: &str,
    dims: &[(String, String)],
    language: Language,
) -> String {
    let m = metric_label(vocabulary, metric, language);
    let d = dims_label(vocabulary, dims, language);
    if zh(language) {
        format!("{m}{d}，历年数据（全国海关）：")
    } else {
        capitalized(format!("{m}{d}, by year (nationwide):"))
    }
}

pub fn value_row(
    vocabulary: &Vocabulary,
    fact: &Fact,
    change: Option<String>,
    language: Language,
) -> String {
    let period = period_label(&fact.period, language);
    let mut row = format!(
        "{period}{}{}",
        if zh(language) { "：" } else { ": " },
        figure(vocabulary, fact, language)
    );
    // The change after a comma: its own brackets stay the only ones.
    if let Some(c) = change {
        row.push_str(if zh(language) { "，" } else { ", " });
        row.push_str(&c);
    }
    if zh(language) {
        row
    } else {
        capitalized(row)
    }
}

pub fn versus(from_year: u16, language: Language) -> String {
    if zh(language) {
        format!("较{from_year}年")
    } else {
        format!("vs {from_year}")
    }
}

pub fn summary_head(year: u16, language: Language) -> String {
    if zh(language) {
        format!("{year}年知识产权海关保护概况：")
    } else {
        format!("Customs IP protection in {year}: ")
    }
}

pub fn summary_dimension_head(dimension: &Dimension, language: Language) -> String {
    if zh(language) {
        format!("按{}：", dimension.zh)
    } else {
        match &dimension.en {
            Some(en) => format!("By {en}: "),
            None => format!("By {}: ", dimension.kind.replace('_', " ")),
        }
    }
}

/// A preliminary count of the same figure, shown below the final one.
pub fn preliminary_line(
    vocabulary: &Vocabulary,
    other: &Fact,
    title: &str,
    language: Language,
) -> String {
    let title = verbatim(&cited_title(title));
    if zh(language) {
        format!(
            "《{title}》的初步统计为{}；以上为最终数字。",
            figure(vocabulary, other, language)
        )
    } else {
        format!(
            "\"{title}\" gave a preliminary count of {}; the figure above is the final one.",
            figure(vocabulary, other, language)
        )
    }
}

/// What a reply offers instead of the figure asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nearest {
    /// The nationwide total, for a question naming a part of it.
    NationwideTotal,
}

/// "No figure for X", then the nearest figure the corpus has, labelled as
/// what it is.
pub fn no_figure_for(
    what: &str,
    period: &Period,
    metric: &str,
    nearest: Option<(Nearest, String)>,
    language: Language,
) -> String {
    let when = period_label(period, language);
    let what = verbatim(what);
    let mut text = if zh(language) {
        format!("没有{when}{what}的{metric}数据。")
    } else {
        format!("No figure for {what} ({metric}, {when}).")
    };
    if let Some((kind, line)) = nearest {
        text.push('\n');
        text.push_str(&match (kind, zh(language)) {
            (Nearest::NationwideTotal, true) => {
                format!("文件中有{line}全国海关的总数，但那不是{what}的数字。")
            }
            (Nearest::NationwideTotal, false) => format!(
                "The documents give the nationwide total for {line}, which is not {what}'s figure."
            ),
        });
    }
    text
}

/// "No full-year figure" for a year the corpus has only in parts.
pub fn no_full_year(year: u16, metric: &str, lines: &[String], language: Language) -> String {
    let head = if zh(language) {
        format!("没有{year}年全年的{metric}数据；现有年内部分时期的数字：")
    } else {
        format!(
            "No full-year {year} figure for {metric}; the parts of the year the documents give:"
        )
    };
    std::iter::once(head)
        .chain(lines.iter().cloned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The reply when no figure or passage answers: what the bot does have.
pub fn no_data(
    asked: &[Period],
    metric: Option<&str>,
    have_years: &[String],
    topics: &[String],
    language: Language,
) -> String {
    let years = have_years.join(if zh(language) { "、" } else { ", " });
    let topics = topics.join(if zh(language) { "、" } else { ", " });
    let missing: Vec<String> = asked.iter().map(|p| period_label(p, language)).collect();
    if zh(language) {
        let what = match (missing.is_empty(), metric) {
            (false, Some(m)) => format!("没有{}{m}的数据。", missing.join("、")),
            (false, None) => format!("没有{}的相关数据。", missing.join("、")),
            (true, _) => "没有找到能回答这个问题的数据或段落。".to_string(),
        };
        format!("{what}\n现有数据的年份：{years}。\n可以问的指标：{topics}。")
    } else {
        let what = match (missing.is_empty(), metric) {
            (false, Some(m)) => format!("No data on {m} for {}.", missing.join(", ")),
            (false, None) => format!("No data for {}.", missing.join(", ")),
            (true, _) => "Nothing in the documents answers this question.".to_string(),
        };
        format!("{what}\nYears with figures: {years}.\nFigures I can give: {topics}.")
    }
}

/// A year's label in the list of years the bot has: 2021（仅第1季度）.
pub fn year_with_periods(year: u16, periods: &[PeriodKind], language: Language) -> String {
    if periods.contains(&PeriodKind::Year) || periods.is_empty() {
        return year.to_string();
    }
    let labels: Vec<String> = periods
        .iter()
        .map(|k| {
            period_label(&Period { year, kind: *k }, language)
                .replace(&format!("{year}年"), "")
                .replace(&format!(" {year}"), "")
        })
        .collect();
    if zh(language) {
        format!("{year}（仅{}）", labels.join("、"))
    } else {
        format!("{year} ({} only)", labels.join(", "))
    }
}

pub fn empty_question(language: Language) -> String {
    if zh(language) {
        "请输入问题，例如：“2024年扣留多少批？”".to_string()
    } else {
        "Please ask a question, for example: \"How many batches were detained in 2024?\""
            .to_string()
    }
}

const VERBATIM_START: char = '\u{E000}';
const VERBATIM_END: char = '\u{E001}';

/// Marks the source's own words (a quotation, a title) inside a reply, so
/// that [`in_script`] changes only their script, never their wording.
pub fn verbatim(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|&c| c != VERBATIM_START && c != VERBATIM_END)
        .collect();
    format!("{VERBATIM_START}{clean}{VERBATIM_END}")
}

/// Puts a Simplified reply into the question's script: the bot's own
/// wording with Taiwan phrasing (知识产权 → 智慧財產權), the source's words
/// (marked by [`verbatim`]) character by character only (知識產權 stays).
/// The marks are removed in every script.
pub fn in_script(text: String, language: Language) -> String {
    let traditional = language == Language::Traditional;
    if !traditional && !text.contains([VERBATIM_START, VERBATIM_END]) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let (own, after) = match rest.find(VERBATIM_START) {
            Some(i) => (&rest[..i], &rest[i + VERBATIM_START.len_utf8()..]),
            None => (rest, ""),
        };
        out.push_str(&if traditional {
            crate::domain::normalize::to_traditional(own)
        } else {
            own.to_string()
        });
        if own.len() == rest.len() {
            break;
        }
        let (quoted, next) = match after.find(VERBATIM_END) {
            Some(j) => (&after[..j], &after[j + VERBATIM_END.len_utf8()..]),
            None => (after, ""),
        };
        out.push_str(&if traditional {
            hanconv::s2tw(quoted)
        } else {
            quoted.to_string()
        });
        rest = next;
    }
    // A mark cut off from its partner is dropped, never shown.
    out.retain(|c| c != VERBATIM_START && c != VERBATIM_END);
    out
}

/// A quote in the reader's script, marked [`verbatim`]: Traditional quotes
/// shown to a Simplified reader are converted character by character here;
/// Simplified quotes shown to a Traditional reader by [`in_script`].
pub fn quote_for(quote: &str, quote_language: Language, reader: Language) -> String {
    verbatim(&quote_text(quote, quote_language, reader))
}

/// [`quote_for`] without the marks, for a caller that cuts the quote
/// before marking it.
pub fn quote_text(quote: &str, quote_language: Language, reader: Language) -> String {
    match (quote_language, reader) {
        // Character by character: a quotation keeps the source's wording
        // (新增 stays 新增), only the script changes.
        (Language::Traditional, Language::Simplified) => hanconv::t2s(quote),
        _ => quote.to_string(),
    }
}

/// The reply to a question longer than the bot reads.
pub fn too_long(max_chars: usize) -> String {
    format!("问题太长（超过{max_chars}个字符），请缩短后再问。 / The question is longer than {max_chars} characters; please shorten it.")
}

/// The reply to a line that is not UTF-8 text.
pub fn not_utf8() -> &'static str {
    "这一行不是有效的UTF-8文本，无法读取。 / This line is not valid UTF-8 text and cannot be read."
}

/// Whether a line of an answer names its sources (`来源：…`, `Source: …`,
/// `另见：…`), so that a channel can set them apart as a footer.
pub fn is_source_line(line: &str) -> bool {
    [
        "来源：",
        "來源：",
        "另见：",
        "另見：",
        "Source:",
        "Sources:",
        "Also stated in:",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// What a line of an answer is, so that a channel can lay it out: the
/// evidence quoted, a computation or a breakdown folded away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRole {
    /// `原文：“…”`, `Evidence: "…"`.
    Evidence,
    /// `计算：…`, `Computation: …`.
    Computation,
    /// The head of a summary's breakdown by a dimension (`按知识产权类型：`).
    Breakdown,
    /// `来源：…`, `Source: …`, `另见：…`.
    Source,
    Other,
}

pub fn line_role(line: &str) -> LineRole {
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| line.starts_with(p));
    if is_source_line(line) {
        LineRole::Source
    } else if starts(&["原文：", "Evidence:"]) {
        LineRole::Evidence
    } else if starts(&["计算：", "計算：", "计算:", "計算:", "Computation:"]) {
        LineRole::Computation
    } else if (line.starts_with('按') && line.contains('：')) || line.starts_with("By ") {
        LineRole::Breakdown
    } else {
        LineRole::Other
    }
}

// ---- Broadcasts: the chart's labels, the confirmation buttons, the status.

/// The chart's title: 知识产权海关保护主要数据（2016—2024年）.
pub fn chart_title(first_year: u16, last_year: u16) -> String {
    if first_year == last_year {
        format!("知识产权海关保护主要数据（{first_year}年）")
    } else {
        format!("知识产权海关保护主要数据（{first_year}—{last_year}年）")
    }
}

/// The line under the chart's title.
pub fn chart_note() -> &'static str {
    "全国海关全年数据；每个数字的原文出处见随附摘要"
}

/// A panel's title: the metric's name and its unit, 扣留侵权嫌疑货物批次（批次）.
pub fn chart_panel_title(metric_zh: &str, unit: Option<&str>) -> String {
    match unit {
        Some(u) => format!("{metric_zh}（{u}）"),
        None => metric_zh.to_string(),
    }
}

/// A year under its bar: 2024年.
pub fn chart_year(year: u16) -> String {
    period_label(&Period::year(year), Language::Simplified)
}

/// A value above its bar, in 万 to two decimals: 4.16万, 8160.51万.
pub fn chart_value(value: Decimal) -> String {
    let wan = Decimal::from(10_000);
    if value.abs() >= wan {
        format!("{}万", (value / wan).round_dp(2).normalize())
    } else {
        value.round_dp(2).normalize().to_string()
    }
}

/// Where a year has no figure for a panel's metric.
pub fn chart_no_value() -> &'static str {
    "无数据"
}

/// The legend: the highlighted year and the others.
pub fn chart_legend(highlighted_year: u16) -> [String; 2] {
    [
        format!("{highlighted_year}年（本期）"),
        "其他年份".to_string(),
    ]
}

/// The preview's inline buttons.
pub fn broadcast_confirm_button() -> &'static str {
    "确认发送 / Confirm"
}

pub fn broadcast_cancel_button() -> &'static str {
    "取消 / Cancel"
}

/// Above the preview of a broadcast: to how many chats it will go.
pub fn broadcast_preview_head(year: u16, recipients: u64, language: Language) -> String {
    if zh(language) {
        format!("预览：{year}年摘要将发送给{recipients}个订阅会话。确认后开始发送。")
    } else {
        format!(
            "Preview: the {year} summary will go to {recipients} subscribed chats once confirmed."
        )
    }
}

/// A job's status in words.
pub fn broadcast_job_status(
    status: crate::domain::broadcast::JobStatus,
    language: Language,
) -> &'static str {
    use crate::domain::broadcast::JobStatus::*;
    match (status, zh(language)) {
        (PendingConfirmation, true) => "待确认",
        (Confirmed, true) => "已确认，等待发送",
        (Running, true) => "发送中",
        (Done, true) => "已完成",
        (Cancelled, true) => "已取消",
        (PendingConfirmation, false) => "waiting for confirmation",
        (Confirmed, false) => "confirmed, queued",
        (Running, false) => "sending",
        (Done, false) => "done",
        (Cancelled, false) => "cancelled",
    }
}

/// /broadcast status: 2024年摘要（#3，发送中）：已发送 950 / 失败 12 / 待发送 38.
pub fn broadcast_status(
    report: &crate::domain::broadcast::JobReport,
    language: Language,
) -> String {
    let c = &report.counts;
    let status = broadcast_job_status(report.status, language);
    if zh(language) {
        let mut line = format!(
            "{}年摘要（#{}，{status}）：已发送 {} / 失败 {} / 待发送 {}",
            report.year, report.id, c.sent, c.failed, c.pending
        );
        if c.skipped > 0 {
            line.push_str(&format!(" / 跳过 {}", c.skipped));
        }
        line
    } else {
        let mut line = format!(
            "{} summary (#{}, {status}): sent {} / failed {} / pending {}",
            report.year, report.id, c.sent, c.failed, c.pending
        );
        if c.skipped > 0 {
            line.push_str(&format!(" / skipped {}", c.skipped));
        }
        line
    }
}

/// /broadcast status when no broadcast exists yet.
pub fn broadcast_none(language: Language) -> &'static str {
    if zh(language) {
        "还没有广播。"
    } else {
        "No broadcasts yet."
    }
}

/// The answer to 确认发送 / 取消 and to /subscribe, /unsubscribe.
pub fn broadcast_confirmed(year: u16, recipients: u64, language: Language) -> String {
    if zh(language) {
        format!("已确认：{year}年摘要开始发送给{recipients}个订阅会话。")
    } else {
        format!("Confirmed: the {year} summary is going out to {recipients} subscribed chats.")
    }
}

pub fn broadcast_cancelled(year: u16, language: Language) -> String {
    if zh(language) {
        format!("已取消{year}年摘要的发送。")
    } else {
        format!("The {year} summary broadcast is cancelled.")
    }
}

/// A button pressed on a job that is no longer waiting for it.
pub fn broadcast_not_waiting(
    status: crate::domain::broadcast::JobStatus,
    language: Language,
) -> String {
    let s = broadcast_job_status(status, language);
    if zh(language) {
        format!("这个广播已不能操作（{s}）。")
    } else {
        format!("This broadcast can no longer be changed ({s}).")
    }
}

pub fn subscribed(changed: bool, language: Language) -> &'static str {
    match (changed, zh(language)) {
        (true, true) => "已订阅：有新年度数据时，本会话会收到摘要和图表。",
        (false, true) => "本会话已经订阅。",
        (true, false) => "Subscribed: this chat will receive the yearly summary and chart.",
        (false, false) => "This chat is already subscribed.",
    }
}

pub fn unsubscribed(changed: bool, language: Language) -> &'static str {
    match (changed, zh(language)) {
        (true, true) => "已退订：本会话不再收到摘要。",
        (false, true) => "本会话没有订阅。",
        (true, false) => "Unsubscribed: this chat will no longer receive summaries.",
        (false, false) => "This chat is not subscribed.",
    }
}

/// /subscribe or /broadcast from someone who may not.
pub fn admins_only(language: Language) -> &'static str {
    if zh(language) {
        "只有本群管理员或机器人管理员可以这样做。"
    } else {
        "Only this group's admins or the bot's admins can do that."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cited_title_states_no_figure_of_its_own() {
        let cases = [
            (
                "《2018年中国海关知识产权保护状况》发布 全年扣留侵权嫌疑货物4.72万批",
                "《2018年中国海关知识产权保护状况》发布…",
            ),
            (
                "海关总署：扣留侵权嫌疑货物4.72万批",
                "海关总署：扣留侵权嫌疑货物…批",
            ),
            (
                "2024年中国海关知识产权保护状况",
                "2024年中国海关知识产权保护状况",
            ),
            (
                "China Customs detained 41,600 batches in 2024",
                "China Customs detained … batches in 2024",
            ),
            ("Customs seized 3506 batches", "Customs seized … batches"),
            ("打击侵权“龙腾行动2023”", "打击侵权“龙腾行动2023”"),
        ];
        for (title, cited) in cases {
            assert_eq!(cited_title(title), cited, "{title}");
        }
    }

    #[test]
    fn traditional_replies_rephrase_the_bots_words_but_only_convert_the_sources() {
        let text = format!(
            "知识产权：{}\n来源：《{}》",
            verbatim("加强知识产权保护"),
            verbatim("海关总署发布知识产权保护情况")
        );
        assert_eq!(
            in_script(text.clone(), Language::Traditional),
            "智慧財產權：加強知識產權保護\n來源：《海關總署發佈知識產權保護情況》"
        );
        assert_eq!(
            in_script(text, Language::Simplified),
            "知识产权：加强知识产权保护\n来源：《海关总署发布知识产权保护情况》"
        );
    }

    fn pieces_2016(qualifier: Option<&str>, share: Option<&str>) -> Fact {
        Fact {
            period: Period::year(2016),
            scope: Scope::Nationwide,
            metric: "detained_pieces".into(),
            dims: vec![],
            value: "42058200".parse().unwrap(),
            text: "4205.82万余件".into(),
            qualifier: qualifier.map(str::to_string),
            share: share.map(|s| s.parse().unwrap()),
            yoy: None,
            doc: 0,
            sentence: None,
            quote: String::new(),
            excerpt: String::new(),
            curated: false,
        }
    }

    #[test]
    fn english_keeps_the_qualifier_starts_with_a_capital_and_never_nests_brackets() {
        let v = Vocabulary::parse(include_str!("../../knowledge/vocabulary.toml")).unwrap();
        let fact = pieces_2016(Some("余"), None);
        assert_eq!(
            figure(&v, &fact, Language::English),
            "over 42,058,200 (4205.82万余件)"
        );
        let mut year_end = fact.clone();
        year_end.period.kind = PeriodKind::YearEnd;
        assert!(fact_line(&v, &year_end, Language::English).starts_with("End of 2016, "));
        let shared = pieces_2016(Some("余"), Some("93.57"));
        assert_eq!(
            figure_with_share(&v, &shared, Language::English),
            "over 42,058,200 (4205.82万余件, 93.57%)"
        );
        assert_eq!(
            figure_with_share(&v, &shared, Language::Simplified),
            "4205.82万余件（93.57%）"
        );
        let row = value_row(
            &v,
            &fact,
            Some("vs 2015 up 1 (+1%)".into()),
            Language::English,
        );
        assert_eq!(row.matches('(').count(), 2, "{row}");
        assert!(!row.contains("((") && !row.contains(") ("), "{row}");
    }

    #[test]
    fn chinese_computations_take_a_full_width_colon() {
        let line = arithmetic_line(Decimal::from(100), Decimal::from(150), Language::Simplified);
        assert!(line.starts_with("计算：150 − 100 = 50"), "{line}");
    }

    #[test]
    fn a_mark_cut_off_from_its_partner_never_reaches_the_reader() {
        let cut: String = verbatim("知识产权保护").chars().take(4).collect();
        for language in [
            Language::Simplified,
            Language::Traditional,
            Language::English,
        ] {
            let out = in_script(format!("{cut}…\n{}", verbatim("x")), language);
            assert!(
                !out.contains([VERBATIM_START, VERBATIM_END]),
                "{language:?}: {out:?}"
            );
        }
        // The marks inside a title are not taken for the reply's own.
        assert_eq!(verbatim("a\u{E001}b"), "\u{E000}ab\u{E001}");
    }
}
