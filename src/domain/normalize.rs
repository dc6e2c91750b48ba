//! normalize: "here is a text as written, give me the form we search and
//! match on". NFKC (full-width digits and punctuation to half-width),
//! Traditional and Taiwan wording to Simplified at phrase level, Latin
//! letters lower-cased. Index time and query time use this same function.
//!
//! Invariant: pure; no IO. The original text is kept by the caller for
//! display.

use crate::domain::model::Language;
use unicode_normalization::UnicodeNormalization;

/// The searchable form of `text`.
pub fn normalize(text: &str) -> String {
    normalize_keeping(text, &[])
}

/// The searchable form of `text`, where the phrase-level conversion of
/// Traditional wording never breaks a word of `words` (Simplified): in a
/// run of ideographs where converting phrase by phrase would cut through
/// such words (貨物件數: the phrase 物件 → 对象), the run is converted with
/// those words kept whole, when that keeps more of them.
pub fn normalize_keeping(text: &str, words: &[String]) -> String {
    let folded: String = nfkc_folded(text);
    // Taiwan phrase folding only for text that has Traditional characters:
    // applied to Simplified text it would rewrite mainland words (批次).
    let simplified = if folded.chars().any(is_han) {
        let chars = hanconv::t2s(&folded);
        if chars != folded {
            taiwan_to_simplified(&folded, words)
        } else {
            chars
        }
    } else {
        folded
    };
    simplified.to_lowercase()
}

/// `text` in NFKC with `fold_char` applied. Full-width ASCII forms (，：
/// （ ０-９) are mapped first, as NFKC maps them; text that is then
/// already in NFKC (as most Chinese and English text is) skips the
/// normalizer, which is most of a question's reading time.
fn nfkc_folded(text: &str) -> String {
    let narrow: String = text.chars().map(narrow_char).collect();
    if unicode_normalization::is_nfkc_quick(narrow.chars())
        == unicode_normalization::IsNormalized::Yes
    {
        narrow.chars().map(fold_char).collect()
    } else {
        narrow.nfkc().map(fold_char).collect()
    }
}

/// A full-width ASCII form (U+FF01 to U+FF5E) or the ideographic space as
/// the ASCII character NFKC gives for it.
fn narrow_char(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        c => c,
    }
}

/// Taiwan wording to Simplified at phrase level, run of ideographs by run.
fn taiwan_to_simplified(text: &str, words: &[String]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if is_han(c) {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            out.push_str(&convert_run(&std::mem::take(&mut run), words));
        }
        out.push(c);
    }
    out.push_str(&convert_run(&run, words));
    out
}

/// One run of ideographs: phrase by phrase, unless keeping the words found
/// in its character-by-character form whole keeps more of them.
fn convert_run(run: &str, words: &[String]) -> String {
    let phrased = hanconv::tw2sp(run);
    if words.is_empty() {
        return phrased;
    }
    let by_char = hanconv::t2s(run);
    // No phrase folded (the common case): nothing to keep.
    if phrased == by_char {
        return phrased;
    }
    let chars: Vec<char> = run.chars().collect();
    if by_char.chars().count() != chars.len() {
        return phrased;
    }
    let hits = find_kept(&by_char, words);
    if hits.is_empty() {
        return phrased;
    }
    // Byte offsets of `by_char` to character indices (same in `run`).
    let index_of = |byte: usize| by_char[..byte].chars().count();
    let mut kept = String::with_capacity(run.len());
    let mut pos = 0;
    for &(a, b) in &hits {
        let (a, b) = (index_of(a), index_of(b));
        let before: String = chars[pos..a].iter().collect();
        kept.push_str(&hanconv::tw2sp(&before));
        kept.push_str(&by_char.chars().skip(a).take(b - a).collect::<String>());
        pos = b;
    }
    let rest: String = chars[pos..].iter().collect();
    kept.push_str(&hanconv::tw2sp(&rest));
    let coverage = |text: &str| -> usize {
        find_kept(text, words)
            .iter()
            .map(|&(a, b)| text[a..b].chars().count())
            .sum()
    };
    if kept != phrased && coverage(&kept) > coverage(&phrased) {
        kept
    } else {
        phrased
    }
}

/// Byte spans of `words` in `text`: at each place the longest word that
/// starts there, left to right, never overlapping.
fn find_kept(text: &str, words: &[String]) -> Vec<(usize, usize)> {
    // Sorted words (the vocabulary keeps them so): those starting with a
    // character are one run, found by binary search.
    let sorted = words.is_sorted();
    let mut hits = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let head = &rest[..rest.chars().next().map_or(1, char::len_utf8)];
        let candidates = if sorted {
            let lo = words.partition_point(|w| w.as_str() < head);
            let run = words[lo..].partition_point(|w| w.starts_with(head));
            &words[lo..lo + run]
        } else {
            words
        };
        let longest = candidates
            .iter()
            .filter(|w| !w.is_empty() && rest.starts_with(w.as_str()))
            .map(String::len)
            .max();
        match longest {
            Some(len) => {
                hits.push((pos, pos + len));
                pos += len;
            }
            None => pos += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    hits
}

fn fold_char(c: char) -> char {
    match c {
        // Quotes and dashes that NFKC keeps.
        '“' | '”' | '「' | '」' | '『' | '』' => '"',
        '‘' | '’' => '\'',
        '—' | '–' => '-',
        '\u{3000}' | '\u{a0}' => ' ',
        c if c.is_control() && c != '\n' && c != '\t' => ' ',
        c => c,
    }
}

/// Whether `c` is a CJK ideograph.
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// The language and script of a text: English when it has more Latin
/// letters than ideographs, Traditional when folding to Simplified changes
/// a noticeable share of its ideographs.
pub fn detect_language(text: &str) -> Language {
    let sample: String = text.chars().take(4000).collect();
    let han = sample.chars().filter(|&c| is_han(c)).count();
    let latin = sample.chars().filter(|c| c.is_ascii_alphabetic()).count();
    if han == 0 && latin == 0 {
        return Language::Simplified;
    }
    if latin > han * 2 {
        return Language::English;
    }
    let han_only: String = sample.chars().filter(|&c| is_han(c)).collect();
    let simplified = hanconv::t2s(&han_only);
    let changed = han_only
        .chars()
        .zip(simplified.chars())
        .filter(|(a, b)| a != b)
        .count();
    // Traditional text changes roughly a fifth of its characters; Simplified
    // text changes almost none.
    if changed * 20 >= han {
        Language::Traditional
    } else {
        Language::Simplified
    }
}

/// Converts Simplified text to Traditional with Taiwan phrasing, for replies
/// to a question asked in Traditional.
pub fn to_traditional(text: &str) -> String {
    hanconv::s2twp(text)
}

#[cfg(test)]
mod tests {
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn the_fast_path_folds_every_text_as_nfkc_does() {
        let texts = [
            include_str!("../../knowledge/documents/2016-china-customs-ip-protection-report.txt"),
            include_str!("../../knowledge/documents/2020-anti-infringement-work-plan-tw.txt"),
            include_str!("../../knowledge/documents/2020-customs-ip-protection-english.txt"),
            "全年扣留４．７２万批，ＡＢＣ　ｘｙｚ！（１）e\u{301}Ａ\u{301}①㈠ﬁ½㎏",
            "",
        ];
        for text in texts {
            let slow: String = text.nfkc().map(super::fold_char).collect();
            assert_eq!(super::nfkc_folded(text), slow);
        }
    }

    #[test]
    fn every_vocabulary_word_written_in_traditional_normalizes_back() {
        let v = crate::domain::vocabulary::Vocabulary::parse(include_str!(
            "../../knowledge/vocabulary.toml"
        ))
        .unwrap();
        let mut words: Vec<&str> = Vec::new();
        for m in &v.metrics {
            words.extend(
                m.units
                    .iter()
                    .chain(&m.ask)
                    .chain(&m.cues)
                    .map(String::as_str),
            );
        }
        for d in &v.dimensions {
            for val in &d.values {
                words.extend(val.words.iter().map(String::as_str));
            }
        }
        let broken: Vec<String> = words
            .iter()
            .filter(|w| w.chars().any(is_han))
            .filter_map(|w| {
                let back = v.normalize(&format!("海關{}", hanconv::s2t(w)));
                (!back.contains(*w)).then(|| format!("{w} → {back}"))
            })
            .collect();
        assert!(broken.is_empty(), "{broken:?}");
    }

    use super::*;

    fn check(input: &str, expected: &str) {
        assert_eq!(normalize(input), expected, "normalize({input:?})");
    }

    #[test]
    fn full_width_digits_and_punctuation_become_half_width() {
        check("２０２４年扣留多少批？", "2024年扣留多少批?");
        check("占９８．５６％", "占98.56%");
    }

    #[test]
    fn taiwan_wording_folds_to_mainland_simplified() {
        check("智慧財產權", "知识产权");
        check("網際網路", "互联网");
        check("軟體最佳化", "软件优化");
        check("扣留多少批貨物", "扣留多少批货物");
    }

    #[test]
    fn phrase_conversion_never_breaks_a_vocabulary_word() {
        let v = crate::domain::vocabulary::Vocabulary::parse(include_str!(
            "../../knowledge/vocabulary.toml"
        ))
        .unwrap();
        // 物件 is a Taiwan phrase (对象), but here it straddles 货物 and 件数.
        assert_eq!(v.normalize("扣留侵權嫌疑貨物件數"), "扣留侵权嫌疑货物件数");
        assert_eq!(
            v.normalize("查扣侵權貨物12885批次"),
            "查扣侵权货物12885批次"
        );
        // A Taiwan phrase that folds to a vocabulary word still folds.
        assert_eq!(v.normalize("智慧財產權海關保護"), "知识产权海关保护");
        assert_eq!(v.normalize("網際網路軟體"), "互联网软件");
    }

    #[test]
    fn simplified_text_keeps_mainland_words() {
        check("查扣侵权货物12885批次", "查扣侵权货物12885批次");
    }

    #[test]
    fn latin_is_lower_cased_and_quotes_folded() {
        check("How Many BATCHES", "how many batches");
        check("“蓝网行动”", "\"蓝网行动\"");
    }

    #[test]
    fn language_detection_tells_scripts_apart() {
        assert_eq!(detect_language("2024年扣留多少批?"), Language::Simplified);
        assert_eq!(
            detect_language("2024年扣留多少批貨物?劍網行動打擊什麼"),
            Language::Traditional
        );
        assert_eq!(
            detect_language("How many batches were detained in 2024?"),
            Language::English
        );
    }
}
