//! ingest: "here is a file's text, give me its metadata, passages and
//! sentences". Cleans page furniture (share prompts, navigation, reading
//! lists, copyright and ICP lines, mojibake) so it is neither searched nor
//! quoted, then splits paragraphs into passages and sentences.
//!
//! Invariant: pure; the knowledge loader does the reading.

use crate::domain::model::{DocumentMeta, Language};
use crate::domain::normalize::{detect_language, normalize};
use regex::Regex;
use std::sync::LazyLock;

/// A passage before it is numbered into a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPassage {
    pub sentences: Vec<String>,
}

impl RawPassage {
    pub fn text(&self, language: Language) -> String {
        self.sentences.join(language.sentence_joiner())
    }
}

/// Passages longer than this (in characters) are cut at sentence ends.
const PASSAGE_CHARS: usize = 360;

/// Lines from which on the rest of a page is a reading list or footer.
const TAIL_MARKERS: &[&str] = &[
    "相关阅读",
    "推荐阅读",
    "延伸阅读",
    "相关新闻",
    "推荐新闻",
    "新闻推荐",
    "热点新闻",
    "相关词条",
    "热门词条",
    "联络我们",
    "阅读剩余全文",
    "relatedposts",
    "relatedarticles",
    "relatedreading",
    "relatednews",
    "youmayalsolike",
];

/// Lines longer than this are text, whatever words they contain.
const FURNITURE_CHARS: usize = 80;

/// Lines (short ones) that are page furniture wherever they stand.
const FURNITURE: &[&str] = &[
    "分享",
    "朋友圈",
    "微信好友",
    "正在阅读",
    "首页>",
    "home>",
    "责编",
    "编辑:",
    "未经授权不得转载",
    "未经许可不得复制",
    "icp备",
    "icp证",
    "备案编号",
    "主办单位",
    "copyright",
    "©",
    "版权所有",
    "all rights reserved",
    "扫一扫",
    "打印本页",
    "关闭窗口",
    "字号:",
    // A neighbouring article's headline (its figures are not this page's).
    "上一篇",
    "下一篇",
    "上一条",
    "下一条",
    "previouspost",
    "nextpost",
];

static HTML_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"</?[a-zA-Z][a-zA-Z0-9]*\s*/?>|(^|\s)/[a-z]+>").unwrap());
static MOJIBAKE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\?{2,}|\u{FFFD}+").unwrap());
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"((?:19|20)\d{2})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})").unwrap()
});
static PUBLISHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:文章来源|来源|來源|source)\s*[:：]\s*([^\s\d:：,，。|]{2,24})").unwrap()
});
static SENTENCE_END_ZH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[。！？!?；;]+[”\x22』」)）]*").unwrap());
static SENTENCE_END_EN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"[.!?]+["')]*\s+"#).unwrap());

/// Splits front matter (`---` … `---` with `key: value` lines) from the body.
pub fn split_front_matter(text: &str) -> (Option<DocumentMeta>, &str) {
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let Some(end) = rest.find("\n---") else {
        return (None, text);
    };
    let header = &rest[..end];
    let body = rest[end + 4..].trim_start_matches(['-', '\r', '\n']);
    let mut meta = DocumentMeta::default();
    for line in header.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match key.trim() {
            "title" => meta.title = value,
            "publisher" => meta.publisher = Some(value),
            "published" => meta.published = Some(value),
            "url" => meta.url = Some(value),
            "language" => {
                meta.language = match value.as_str() {
                    "en" | "english" => Language::English,
                    "zh-Hant" | "zh-TW" | "traditional" => Language::Traditional,
                    _ => Language::Simplified,
                }
            }
            _ => {}
        }
    }
    (Some(meta), body)
}

/// Front matter opened by `---` and never closed: the text after the
/// opening line (to be read as body) and the text after its leading
/// `key: value` lines (where metadata may be inferred without taking a key
/// for the title).
pub fn unclosed_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    if rest.contains("\n---") || rest.starts_with("---") {
        return None;
    }
    let mut after_header = rest;
    while let Some((line, next)) = after_header.split_once('\n') {
        let key = line.split_once(':').map(|(k, _)| k.trim());
        if !key.is_some_and(|k| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }) {
            break;
        }
        after_header = next;
    }
    Some((rest, after_header))
}

static EN_DATE: LazyLock<Regex> = LazyLock::new(|| {
    let month = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?";
    Regex::new(&format!(
        r"(?i)\b(?:{month}\s+(\d{{1,2}}),?\s+((?:19|20)\d{{2}})|(\d{{1,2}})\s+{month}\s+((?:19|20)\d{{2}}))\b"
    ))
    .unwrap()
});
/// A dateline of its own: "2024/04/26 15:32 中央社" names its publisher.
static DATELINE_PUBLISHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:19|20)\d{2}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?\s+(?:\d{1,2}:\d{2}(?::\d{2})?\s+)?([^\s\d:：,，。|]{2,16})$").unwrap()
});

/// The first date in `head`, written with digits (2024-04-26, 2024年4月26日)
/// or in English (April 24, 2020; 24 April 2020), as YYYY-MM-DD.
fn first_date(head: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let valid = |y: u16, m: u8, d: u8| {
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y:04}-{m:02}-{d:02}"))
    };
    let digits = DATE.captures_iter(head).find_map(|c| {
        let date = valid(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)?;
        Some((c.get(0)?.start(), date))
    });
    let english = EN_DATE.captures_iter(head).find_map(|c| {
        let (month, day, year) = match c.get(1) {
            Some(m) => (m.as_str(), c.get(2)?, c.get(3)?),
            None => (c.get(5)?.as_str(), c.get(4)?, c.get(6)?),
        };
        let month = month.to_ascii_lowercase();
        let m = MONTHS.iter().position(|x| *x == month)? as u8 + 1;
        let date = valid(year.as_str().parse().ok()?, m, day.as_str().parse().ok()?)?;
        Some((c.get(0)?.start(), date))
    });
    [digits, english]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _)| *at)
        .map(|(_, date)| date)
}

/// Metadata read off a document's text: first line as title, the source
/// line as publisher, a date near the top, the detected language.
pub fn infer_meta(text: &str) -> DocumentMeta {
    let lines = clean_lines(text);
    let first = lines.first().cloned().unwrap_or_default();
    let mut title = first.clone();
    for marker in ["来源", "來源", "文章来源"] {
        if let Some(i) = title.find(marker) {
            title.truncate(i);
        }
    }
    if title.chars().count() > 80 {
        let cut: String = title.chars().take(80).collect();
        title = match cut.find(['。', '，', ',']) {
            Some(i) if i > 0 => cut[..i].to_string(),
            _ => cut,
        };
    }
    let head: String = text.chars().take(800).collect();
    let published = first_date(&head);
    let publisher = PUBLISHER
        .captures(&head)
        .map(|c| c[1].trim().to_string())
        .or_else(|| {
            lines.iter().skip(1).take(4).find_map(|l| {
                DATELINE_PUBLISHER
                    .captures(l.trim())
                    .map(|c| c[1].to_string())
            })
        });
    DocumentMeta {
        title: title.trim().to_string(),
        publisher,
        published,
        language: detect_language(text),
        url: None,
    }
}

/// The document's lines without page furniture, trimmed, mojibake removed.
pub fn clean_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = HTML_TAG.replace_all(raw, " ");
        let line = MOJIBAKE.replace_all(&line, " ");
        let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '•');
        if line.is_empty() {
            continue;
        }
        let folded = normalize(line);
        let compact: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
        if TAIL_MARKERS.iter().any(|m| compact.starts_with(m)) {
            break;
        }
        // Furniture is short; a paragraph that merely mentions 分享 stays.
        if compact.chars().count() <= FURNITURE_CHARS
            && FURNITURE.iter().any(|m| compact.contains(m))
        {
            continue;
        }
        // Navigation crumbs, emoji counters, lone numbers and headings of a
        // word or two carry nothing to quote.
        if line.chars().count() <= 6 {
            continue;
        }
        if compact.starts_with('[') && compact.ends_with(']') {
            continue;
        }
        out.push(line.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

/// Splits a paragraph into sentences at sentence ends, keeping the end
/// punctuation with its sentence.
pub fn split_sentences(paragraph: &str, language: Language) -> Vec<String> {
    let re = if language == Language::English {
        &*SENTENCE_END_EN
    } else {
        &*SENTENCE_END_ZH
    };
    let mut sentences = Vec::new();
    let mut start = 0;
    for m in re.find_iter(paragraph) {
        let s = paragraph[start..m.end()].trim();
        if !s.is_empty() {
            sentences.push(s.to_string());
        }
        start = m.end();
    }
    let tail = paragraph[start..].trim();
    if !tail.is_empty() {
        sentences.push(tail.to_string());
    }
    sentences
}

/// How a FAQ's question and answer lines start (after NFKC).
const QUESTION_MARKERS: &[&str] = &["问:", "问题:", "q:", "question:"];
const ANSWER_MARKERS: &[&str] = &["答:", "答复:", "a:", "answer:"];

fn starts_with_marker(line: &str, markers: &[&str]) -> bool {
    let folded: String = normalize(line)
        .chars()
        .filter(|c| !c.is_whitespace())
        .take(12)
        .collect();
    markers.iter().any(|m| folded.starts_with(m))
}

/// The cleaned text as passages: each line a paragraph; a long paragraph cut
/// at sentence ends into passages of about `PASSAGE_CHARS` characters.
pub fn split_passages(text: &str, language: Language) -> Vec<RawPassage> {
    let mut passages: Vec<RawPassage> = Vec::new();
    let mut question_open = false;
    for line in clean_lines(text) {
        // A FAQ's answer (答：…) belongs with its question (问：…).
        let answers = question_open && starts_with_marker(&line, ANSWER_MARKERS);
        question_open = starts_with_marker(&line, QUESTION_MARKERS);
        if let (true, Some(last)) = (answers, passages.last_mut()) {
            last.sentences.extend(split_sentences(&line, language));
            continue;
        }
        let mut current: Vec<String> = Vec::new();
        let mut chars = 0;
        for sentence in split_sentences(&line, language) {
            let n = sentence.chars().count();
            if chars > 0 && chars + n > PASSAGE_CHARS {
                passages.push(RawPassage {
                    sentences: std::mem::take(&mut current),
                });
                chars = 0;
            }
            chars += n;
            current.push(sentence);
        }
        if !current.is_empty() {
            passages.push(RawPassage { sentences: current });
        }
    }
    passages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_datelines_and_chinese_date_lines_give_date_and_publisher() {
        let en = infer_meta(
            "China Customs detains 54,000 batches in 2019\n\nBeijing, April 24, 2020 - The General Administration of Customs released its report.\n",
        );
        assert_eq!(en.published.as_deref(), Some("2020-04-24"));
        let day_first = infer_meta(
            "Report on IP protection at the border\n\nPublished 3 Sept. 2021 by the agency.\n",
        );
        assert_eq!(day_first.published.as_deref(), Some("2021-09-03"));
        let tw = infer_meta(
            "中國海關去年查扣侵權貨物6.87萬批\n\n2024/04/26 15:32 中央社\n\n（中央社台北26日電）中國大陸海關總署26日公布報告。\n",
        );
        assert_eq!(tw.published.as_deref(), Some("2024-04-26"));
        assert_eq!(tw.publisher.as_deref(), Some("中央社"));
        // A month name without a day is no date.
        assert_eq!(
            infer_meta("Customs report\n\nIn May 2020 customs acted.\n").published,
            None
        );
    }

    #[test]
    fn reading_lists_and_share_prompts_are_dropped() {
        let page = "点击右上角微信好友\n\n朋友圈\n\n正文第一段说明了很多事情。\n\n[ 责编:孙满桃 ]\n相关阅读\n\n推荐阅读\n莱州中华武校第十次登上央视春晚舞台\n";
        assert_eq!(clean_lines(page), ["正文第一段说明了很多事情。"]);
    }

    #[test]
    fn a_paragraph_mentioning_a_furniture_word_is_kept() {
        let paragraph = "著力规范网络游戏、网络音乐、知识分享等平台的作品传播秩序，强化对大型网站著作权重点监管，开展电子商务领域专利执法维权，建立完善长效治理机制，加快网络信息内容执法体系建设。";
        assert_eq!(clean_lines(paragraph), [paragraph]);
    }

    #[test]
    fn copyright_icp_and_mojibake_are_dropped() {
        let page = "The distribution area of ??enterprises has spread.\ncopyright © Jiangsu Longer\nICP备案编号:京ICP备08103642号-2\n";
        assert_eq!(
            clean_lines(page),
            ["The distribution area of enterprises has spread."]
        );
    }

    #[test]
    fn sentences_split_at_chinese_and_english_ends() {
        assert_eq!(
            split_sentences("一是甲。二是乙；三是丙", Language::Simplified),
            ["一是甲。", "二是乙；", "三是丙"]
        );
        assert_eq!(
            split_sentences("It rose 17.16% in 2020. Then it fell.", Language::English),
            ["It rose 17.16% in 2020.", "Then it fell."]
        );
    }

    #[test]
    fn a_faq_answer_line_joins_its_question_in_one_passage() {
        let passages = split_passages(
            "问：备案的有效期是多长？\n答：有效期为10年。期满可以续展。\n问：什么是总担保？\nQ: What is a recordal?\nA: A filing with customs.\n",
            Language::Simplified,
        );
        let texts: Vec<String> = passages
            .iter()
            .map(|p| p.text(Language::Simplified))
            .collect();
        assert_eq!(
            texts,
            [
                "问：备案的有效期是多长？答：有效期为10年。期满可以续展。",
                "问：什么是总担保？",
                "Q: What is a recordal?A: A filing with customs.",
            ]
        );
    }

    #[test]
    fn long_paragraphs_become_several_passages() {
        let long = "这是一句很长的话，用来测试段落切分是否按照句子边界进行。".repeat(30);
        let passages = split_passages(&long, Language::Simplified);
        assert!(passages.len() > 1);
        assert!(passages
            .iter()
            .all(|p| p.text(Language::Simplified).chars().count() <= PASSAGE_CHARS + 40));
    }

    #[test]
    fn metadata_is_inferred_from_an_unlabelled_text() {
        let meta = infer_meta("海关总署发布2020年知识产权海关保护情况\n\n文章来源: 中国知识产权资讯网\n发布时间: 2021/4/29 17:35:00\n\n正文。");
        assert_eq!(meta.title, "海关总署发布2020年知识产权海关保护情况");
        assert_eq!(meta.publisher.as_deref(), Some("中国知识产权资讯网"));
        assert_eq!(meta.published.as_deref(), Some("2021-04-29"));
        assert_eq!(meta.language, Language::Simplified);
    }

    #[test]
    fn front_matter_gives_metadata() {
        let (meta, body) = split_front_matter(
            "---\ntitle: T\npublisher: P\npublished: 2025-04-25\nlanguage: en\n---\nBody.",
        );
        let meta = meta.unwrap();
        assert_eq!(
            (meta.title.as_str(), meta.language),
            ("T", Language::English)
        );
        assert_eq!(body, "Body.");
    }
}
