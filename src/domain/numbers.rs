//! numbers: "here is a figure as written, give me its exact value".
//! 4.16万 → 41600, 1.74万余 → 17400 (qualifier 余), 56.18 million →
//! 56180000, 55,500 → 55500, 二〇二四 → 2024, 93.57% → 93.57.
//!
//! Invariant: exact decimals only; no floating point anywhere a figure
//! passes through.

use regex::Regex;
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::LazyLock;

/// Parses a decimal written with ASCII digits, optional thousands
/// separators (`,` or `，`) and an optional fraction.
pub fn parse_plain(text: &str) -> Option<Decimal> {
    let cleaned: String = text
        .chars()
        .filter(|&c| c != ',' && c != '，' && c != ' ')
        .collect();
    if cleaned.is_empty() || cleaned.len() > 28 {
        return None;
    }
    Decimal::from_str(&cleaned).ok().map(|d| d.normalize())
}

/// The factor of a Chinese or English magnitude word.
pub fn multiplier(word: &str) -> Option<Decimal> {
    let factor: i64 = match word {
        "" => 1,
        "十" => 10,
        "百" => 100,
        "千" | "thousand" => 1_000,
        "万" | "萬" => 10_000,
        "十万" => 100_000,
        "百万" | "million" => 1_000_000,
        "千万" => 10_000_000,
        "亿" | "億" => 100_000_000,
        "billion" => 1_000_000_000,
        _ => return None,
    };
    Some(Decimal::from(factor))
}

/// `number × magnitude`, e.g. ("8160.51", "万") → 81605100.
pub fn scaled(number: &str, magnitude: &str) -> Option<Decimal> {
    let base = parse_plain(number)?;
    let factor = multiplier(magnitude)?;
    base.checked_mul(factor).map(|d| d.normalize())
}

fn chinese_digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' | 'O' | 'o' | '○' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

/// A year written digit by digit in Chinese numerals (二〇二四 → 2024).
pub fn chinese_year(text: &str) -> Option<u16> {
    let digits: Option<Vec<u32>> = text.chars().map(chinese_digit).collect();
    let digits = digits?;
    if digits.len() != 4 {
        return None;
    }
    let year = digits.iter().fold(0u32, |acc, d| acc * 10 + d);
    u16::try_from(year).ok()
}

/// A small Chinese number (一 … 九十九), as used for quarters and counts.
pub fn chinese_small(text: &str) -> Option<u32> {
    let chars: Vec<char> = text.chars().collect();
    match chars.as_slice() {
        [] => None,
        [d] if *d == '十' => Some(10),
        [d] => chinese_digit(*d),
        ['十', d] => Some(10 + chinese_digit(*d)?),
        [t, '十'] => Some(chinese_digit(*t)? * 10),
        [t, '十', d] => Some(chinese_digit(*t)? * 10 + chinese_digit(*d)?),
        _ => None,
    }
}

/// Formats a value the Chinese way when it is large: 41600 → 4.16万,
/// 81605100 → 8160.51万, 345 → 345.
/// A value that would need more than two decimals of 万 (12214, not
/// 1.2214万) is written out, as reports write it.
pub fn format_chinese(value: Decimal) -> String {
    let wan = Decimal::from(10_000);
    let yi = Decimal::from(100_000_000);
    let in_yi = (value / yi).normalize();
    let in_wan = (value / wan).normalize();
    if value.abs() >= yi && in_yi.scale() <= 4 {
        format!("{in_yi}亿")
    } else if value.abs() >= wan && in_wan.scale() <= 2 {
        format!("{in_wan}万")
    } else {
        value.normalize().to_string()
    }
}

/// Formats a value the English way: 56181900 → 56,181,900.
pub fn format_english(value: Decimal) -> String {
    let text = value.normalize().to_string();
    let (sign, rest) = text
        .strip_prefix('-')
        .map_or(("", text.as_str()), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// Whether `rounded` is `precise` rounded to the precision `rounded` is
/// written with (56.18 million agrees with 5618.19万). Figures that agree
/// this way are one figure, not a conflict.
/// What a qualifier written with a figure says of the true value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// No qualifier (or 共, 达): the figure as written, maybe rounded.
    Exact,
    /// 逾, 超过, 余, more than: at least the figure.
    AtLeast,
    /// 近, nearly: at most the figure, and close to it.
    AtMost,
    /// 约, about: close to the figure either way.
    About,
}

/// Whether two figures stated for one frame are consistent: equal, one a
/// rounding of the other (7.9万 and 79,200), or within the bound one's
/// qualifier states (逾7100万 and 7180万).
pub fn figures_agree(a: Decimal, a_bound: Bound, b: Decimal, b_bound: Bound) -> bool {
    if agrees_within_precision(a, b) || agrees_within_precision(b, a) {
        return true;
    }
    // `precise` against `written` and its bound: within a quarter of it
    // above (at least), a tenth below (nearly), a twentieth (about).
    let within = |precise: Decimal, written: Decimal, bound: Bound| {
        let part = |d: i64| written.abs() / Decimal::from(d);
        match bound {
            Bound::Exact => false,
            Bound::AtLeast => precise >= written && precise - written <= part(4),
            Bound::AtMost => precise <= written && written - precise <= part(10),
            Bound::About => (precise - written).abs() <= part(20),
        }
    };
    within(a, b, b_bound) || within(b, a, a_bound)
}

pub fn agrees_within_precision(precise: Decimal, rounded: Decimal) -> bool {
    if precise == rounded {
        return true;
    }
    // The unit of the last significant digit of `rounded`.
    let r = rounded.normalize();
    let mantissa_digits = r.mantissa().abs().to_string().trim_end_matches('0').len() as u32;
    let total_digits = r.trunc().abs().to_string().len() as u32;
    if r.scale() > 0 || mantissa_digits == 0 {
        return false;
    }
    let trailing_zeros = total_digits.saturating_sub(mantissa_digits);
    let unit = Decimal::from(10u64.pow(trailing_zeros.min(18)));
    let half = unit / Decimal::from(2);
    (precise - rounded).abs() <= half && trailing_zeros >= 2
}

/// A month written with digits (6月, 6月份, 3月底), not a date (4月26日)
/// nor the end of a range (1-6月, a period word of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthMention {
    /// Byte range of the month and its 月 (份, 底, 末).
    pub start: usize,
    pub end: usize,
    pub month: u8,
    /// Written right after a year (2025年6月).
    pub after_year: bool,
    /// The month's end (3月底, 3月末): a stock, not the month's flow.
    pub month_end: bool,
}

static MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^\d\-~至到])(\d{1,2})\s*月(?:份)?(\s*\d|底|末)?").expect("fixed pattern")
});

/// Every [`MonthMention`] in `text`, in order.
pub fn month_mentions(text: &str) -> Vec<MonthMention> {
    // (Every mention has a 月; most texts have none.)
    if !text.contains('月') {
        return Vec::new();
    }
    MONTH
        .captures_iter(text)
        .filter_map(|c| {
            let digits = c.get(2)?;
            let month: u8 = digits.as_str().parse().ok()?;
            let after = c.get(3).map(|m| m.as_str());
            if !(1..=12).contains(&month)
                || after.is_some_and(|a| a.trim().starts_with(|ch: char| ch.is_ascii_digit()))
            {
                return None;
            }
            Some(MonthMention {
                start: digits.start(),
                end: c.get(0)?.end(),
                month,
                after_year: c.get(1).is_some_and(|m| m.as_str() == "年"),
                month_end: after.is_some(),
            })
        })
        .collect()
}

/// A range of months within one year ("1至11月", "3月至11月", "1—6月份",
/// "前10月", "前11个月", "from January to October", "the first ten
/// months"): byte range and the first and last month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    pub start: usize,
    pub end: usize,
    pub from: u8,
    pub to: u8,
}

static MONTH_RANGE_ZH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^\d.])(?:(\d{1,2})\s*月?\s*(?:-|—|–|~|～|至|到)\s*(\d{1,2})\s*月(?:份)?|前\s*(\d{1,2}|[一二三四五六七八九十]{1,3})\s*个?\s*月)",
    )
    .expect("fixed pattern")
});

const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

static MONTH_RANGE_EN: LazyLock<Regex> = LazyLock::new(|| {
    let names = MONTH_NAMES.join("|");
    Regex::new(&format!(
        r"\b(?:({names})\s*(?:-|–|—|to|through|until)\s*({names})\b|first\s+(\d{{1,2}}|two|three|four|five|six|seven|eight|nine|ten|eleven)\s+months\b)"
    ))
    .expect("fixed pattern")
});

/// "between January and June".
static MONTH_BETWEEN_EN: LazyLock<Regex> = LazyLock::new(|| {
    let names = MONTH_NAMES.join("|");
    Regex::new(&format!(r"\bbetween\s+({names})\s+and\s+({names})\b")).expect("fixed pattern")
});

fn small_number(word: &str) -> Option<u8> {
    const EN: [&str; 12] = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve",
    ];
    if let Ok(n) = word.parse::<u8>() {
        return Some(n);
    }
    if let Some(i) = EN.iter().position(|w| *w == word) {
        return Some(i as u8 + 1);
    }
    let digit = |c: char| "一二三四五六七八九".find(c).map(|i| (i / 3) as u8 + 1);
    match word.chars().collect::<Vec<_>>()[..] {
        ['十'] => Some(10),
        ['十', b] => Some(10 + digit(b)?),
        [a] => digit(a),
        [a, '十'] => Some(digit(a)? * 10),
        [a, '十', b] => Some(digit(a)? * 10 + digit(b)?),
        _ => None,
    }
}

/// Every [`MonthRange`] in normalized `text` (Chinese or English), in order.
pub fn month_ranges(text: &str) -> Vec<MonthRange> {
    let month_of = |name: &str| {
        MONTH_NAMES
            .iter()
            .position(|m| *m == name)
            .map(|i| i as u8 + 1)
    };
    let mut out = Vec::new();
    // Chinese ranges all have a 月, English ones Latin letters: a text
    // without them is not searched for them.
    let chinese = text.contains('月');
    let english = text.bytes().any(|b| b.is_ascii_alphabetic());
    for c in MONTH_RANGE_ZH.captures_iter(if chinese { text } else { "" }) {
        let (from, to, first) = match (c.get(1), c.get(2), c.get(3)) {
            (Some(a), Some(b), _) => (a.as_str().parse().ok(), b.as_str().parse().ok(), a),
            (_, _, Some(n)) => (Some(1), small_number(n.as_str()), n),
            _ => continue,
        };
        // "前10月": the range starts at 前.
        let start = match c.get(3) {
            Some(_) => text[..first.start()].rfind('前').unwrap_or(first.start()),
            None => first.start(),
        };
        out.push((start, c.get(0).expect("group 0").end(), from, to));
    }
    for c in MONTH_RANGE_EN.captures_iter(if english { text } else { "" }) {
        let m = c.get(0).expect("group 0");
        let (from, to) = match (c.get(1), c.get(2), c.get(3)) {
            (Some(a), Some(b), _) => (month_of(a.as_str()), month_of(b.as_str())),
            (_, _, Some(n)) => (Some(1), small_number(n.as_str())),
            _ => continue,
        };
        out.push((m.start(), m.end(), from, to));
    }
    for c in MONTH_BETWEEN_EN.captures_iter(if english { text } else { "" }) {
        let m = c.get(0).expect("group 0");
        out.push((m.start(), m.end(), month_of(&c[1]), month_of(&c[2])));
    }
    let mut out: Vec<MonthRange> = out
        .into_iter()
        .filter_map(|(start, end, from, to)| {
            let (from, to) = (from?, to?);
            (1 <= from && from < to && to <= 12).then_some(MonthRange {
                start,
                end,
                from,
                to,
            })
        })
        .collect();
    out.sort_by_key(|r| r.start);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn check(number: &str, magnitude: &str, expected: &str) {
        assert_eq!(
            scaled(number, magnitude),
            Some(dec(expected)),
            "{number}{magnitude}"
        );
    }

    #[test]
    fn month_ranges_are_read_in_chinese_and_english() {
        let ranges =
            |t: &str| -> Vec<(u8, u8)> { month_ranges(t).iter().map(|r| (r.from, r.to)).collect() };
        assert_eq!(ranges("今年1至11月，全国海关"), vec![(1, 11)]);
        assert_eq!(ranges("2023年3月至11月组织开展"), vec![(3, 11)]);
        assert_eq!(ranges("今年1月-10月，深圳海关"), vec![(1, 10)]);
        assert_eq!(ranges("1—6月份，国内共877家"), vec![(1, 6)]);
        assert_eq!(ranges("前10月深圳海关"), vec![(1, 10)]);
        assert_eq!(ranges("前十一个月"), vec![(1, 11)]);
        assert_eq!(ranges("from september to november in 2017"), vec![(9, 11)]);
        assert_eq!(ranges("in the first ten months of 2025"), vec![(1, 10)]);
        assert_eq!(
            ranges("approved 10 between january and june."),
            vec![(1, 6)]
        );
        // A range of days is no range of months; nor is one month.
        assert!(ranges("4月19日至5月17日期间").is_empty());
        assert!(ranges("2025年6月扣留").is_empty());
    }

    #[test]
    fn wan_and_yi_scale_exactly() {
        check("4.16", "万", "41600");
        check("8160.51", "万", "81605100");
        check("1.5163", "万", "15163");
        check("5618.19", "万", "56181900");
        check("1.2", "亿", "120000000");
        check("12885", "", "12885");
    }

    #[test]
    fn english_millions_and_thousands_separators() {
        check("56.18", "million", "56180000");
        check("55,500", "", "55500");
        check("4,263", "", "4263");
        check("1.6", "million", "1600000");
    }

    #[test]
    fn percentages_are_plain_decimals() {
        assert_eq!(parse_plain("93.57"), Some(dec("93.57")));
        assert_eq!(parse_plain("96.20"), Some(dec("96.2")));
    }

    #[test]
    fn values_print_without_float_noise() {
        assert_eq!(scaled("4.16", "万").unwrap().to_string(), "41600");
        assert_eq!(format_chinese(dec("41600")), "4.16万");
        assert_eq!(format_chinese(dec("81605100")), "8160.51万");
        assert_eq!(format_chinese(dec("345")), "345");
        assert_eq!(format_chinese(dec("12214")), "12214");
        assert_eq!(format_english(dec("56181900")), "56,181,900");
        assert_eq!(format_english(dec("-1234.5")), "-1,234.5");
    }

    #[test]
    fn chinese_numerals_for_years_and_small_counts() {
        assert_eq!(chinese_year("二〇二四"), Some(2024));
        assert_eq!(chinese_year("二零一六"), Some(2016));
        assert_eq!(chinese_small("三"), Some(3));
        assert_eq!(chinese_small("十五"), Some(15));
        assert_eq!(chinese_small("三十五"), Some(35));
    }

    #[test]
    fn rounded_figures_agree_with_precise_ones() {
        assert!(agrees_within_precision(dec("56181900"), dec("56180000")));
        assert!(!agrees_within_precision(dec("56181900"), dec("1600000")));
        assert!(!agrees_within_precision(dec("41600"), dec("41300")));
    }

    #[test]
    fn restatements_agree_within_their_rounding_or_bound() {
        use Bound::*;
        assert!(figures_agree(dec("79000"), Exact, dec("79200"), Exact));
        assert!(figures_agree(
            dec("71000000"),
            AtLeast,
            dec("71800000"),
            Exact
        ));
        assert!(figures_agree(
            dec("71800000"),
            Exact,
            dec("71000000"),
            AtLeast
        ));
        assert!(!figures_agree(
            dec("71000000"),
            AtMost,
            dec("71800000"),
            Exact
        ));
        assert!(figures_agree(dec("44500"), About, dec("44800"), Exact));
        assert!(!figures_agree(dec("44500"), Exact, dec("47200"), Exact));
    }

    #[test]
    fn garbage_is_none_not_a_panic() {
        assert_eq!(parse_plain(""), None);
        assert_eq!(parse_plain("1.2.3"), None);
        assert_eq!(parse_plain(&"9".repeat(200)), None);
        assert_eq!(scaled("1", "furlongs"), None);
    }
}
