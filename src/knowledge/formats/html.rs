//! html: the main text of a web page as portals serve it (parsed with
//! scraper/html5ever). Scripts, styles, forms and elements whose tag or
//! class names them furniture (navigation, share bars, related-news lists,
//! sidebars, footers) are dropped; of the rest, the element whose
//! paragraphs hold the most sentence text, weighed against its share of
//! link text, is the article (the densest text block, whatever its class).
//! The page's title (its `<h1>` when the `<title>` holds it, without the
//! site name), its `<meta>` publication date and its canonical address are
//! the metadata hints; the short lines between the heading and the article
//! (source, date) are kept for the loader to read.

use super::table::Table;
use super::{iso_date, Decoded, Format, FormatError};
use scraper::{ElementRef, Html, Node};
use std::sync::LazyLock;

/// Tags whose content is never text to read.
const SKIPPED_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "footer", "aside", "form", "iframe",
    "button", "select", "textarea", "svg", "canvas", "object", "embed", "head", "input",
];

/// Parts of class or id names that portals give to page furniture.
const FURNITURE_NAMES: &[&str] = &[
    "nav",
    "menu",
    "footer",
    "share",
    "crumb",
    "relat",
    "recommend",
    "comment",
    "sidebar",
    "copyright",
    "toolbar",
    "banner",
    "advert",
    "hotnews",
    "rank",
    "login",
    "qrcode",
];

/// Inline tags: their text belongs to the block around them.
const INLINE_TAGS: &[&str] = &[
    "a", "span", "strong", "b", "em", "i", "u", "font", "sub", "sup", "small", "big", "label",
    "abbr", "time", "code", "mark", "cite", "q", "s", "ins", "del", "img", "wbr",
];

/// A block holding less text than this (characters) scores nothing.
const MIN_SCORED_CHARS: usize = 10;

/// Whether the text is an HTML page (markup from its first characters; the
/// name only confirms a page that opens with a tag).
pub fn looks_like_html(text: &str, extension: &str) -> bool {
    let head: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with('<')
        && (["<!doctype html", "<html", "<head", "<body"]
            .iter()
            .any(|m| head.contains(m))
            || matches!(extension, "html" | "htm" | "xhtml" | "shtml"))
}

/// The charset a page declares in its first two kilobytes (`<meta
/// charset>` or `http-equiv` Content-Type).
pub fn declared_charset(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    static CHARSET: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r#"(?i)<meta[^>]*charset\s*=\s*["']?\s*([a-z0-9_:.-]+)"#).unwrap()
    });
    let head = &bytes[..bytes.len().min(2048)];
    let label = CHARSET.captures(head)?.get(1)?.as_bytes();
    encoding_rs::Encoding::for_label(label)
}

/// The page's main text and metadata.
pub fn read(page: &str) -> Result<Decoded, FormatError> {
    let html = Html::parse_document(page);
    let mut walk = Walk::default();
    walk.element(html.root_element(), None);
    let title = page_title(&html, &walk);
    let main = walk.main_blocks();
    if main.is_empty() {
        return Err(FormatError::NoText("HTML page"));
    }
    let mut lines: Vec<String> = Vec::new();
    lines.extend(title.clone());
    lines.extend(walk.lines_between_heading_and(main[0], title.as_deref()));
    for &b in &main {
        let text = &walk.blocks[b].text;
        if Some(text.as_str()) != title.as_deref() {
            lines.extend(text.lines().map(str::to_string));
        }
    }
    let mut decoded = Decoded::new(Format::Html, lines.join("\n"));
    decoded.title = title;
    decoded.published = meta_date(&html);
    decoded.url = canonical_url(&html);
    Ok(decoded)
}

/// A run of inline text as laid out: a paragraph, a heading, a list item.
#[derive(Debug)]
struct Block {
    element: usize,
    text: String,
    chars: usize,
    link_chars: usize,
    heading: bool,
    /// A data table's sentences: part of the article when it is, never
    /// what makes an element the article.
    table: bool,
}

#[derive(Debug)]
struct ElementInfo {
    parent: Option<usize>,
    depth: usize,
}

#[derive(Debug, Default)]
struct Walk {
    elements: Vec<ElementInfo>,
    blocks: Vec<Block>,
}

/// Inline text being gathered for a block.
#[derive(Default)]
struct Inline {
    text: String,
    link_chars: usize,
}

impl Walk {
    fn element(&mut self, el: ElementRef, parent: Option<usize>) {
        if is_furniture(&el) {
            return;
        }
        let depth = parent.map_or(0, |p| self.elements[p].depth + 1);
        let index = self.elements.len();
        self.elements.push(ElementInfo { parent, depth });
        let heading = matches!(el.value().name(), "h1" | "h2" | "h3");
        if el.value().name() == "table" {
            if let Some(lines) = data_table(el).sentences() {
                let text = lines.join("\n");
                let chars = visible_chars(&text);
                self.blocks.push(Block {
                    element: index,
                    text,
                    chars,
                    link_chars: 0,
                    heading: false,
                    table: true,
                });
                return;
            }
        }
        let mut inline = Inline::default();
        self.children(el, index, false, &mut inline, heading);
        self.flush(index, &mut inline, heading);
    }

    fn children(
        &mut self,
        el: ElementRef,
        index: usize,
        in_link: bool,
        inline: &mut Inline,
        heading: bool,
    ) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => {
                    if in_link {
                        inline.link_chars += visible_chars(t);
                    }
                    inline.text.push_str(t);
                }
                Node::Element(e) => {
                    let Some(child) = ElementRef::wrap(child) else {
                        continue;
                    };
                    let name = e.name();
                    if name == "br" {
                        inline.text.push('\n');
                    } else if INLINE_TAGS.contains(&name) {
                        if !is_furniture(&child) {
                            self.children(child, index, in_link || name == "a", inline, heading);
                        }
                    } else {
                        self.flush(index, inline, heading);
                        self.element(child, Some(index));
                    }
                }
                _ => {}
            }
        }
    }

    fn flush(&mut self, element: usize, inline: &mut Inline, heading: bool) {
        let text = tidy(&inline.text);
        let chars = visible_chars(&text);
        if chars > 0 {
            self.blocks.push(Block {
                element,
                text,
                chars,
                link_chars: inline.link_chars.min(chars),
                heading,
                table: false,
            });
        }
        *inline = Inline::default();
    }

    fn ancestors(&self, element: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(element), |&e| self.elements[e].parent)
    }

    /// The blocks of the article: the densest element's, without link lists.
    fn main_blocks(&self) -> Vec<usize> {
        let n = self.elements.len();
        let (mut score, mut chars, mut links) = (vec![0.0f64; n], vec![0usize; n], vec![0usize; n]);
        for block in &self.blocks {
            for e in self.ancestors(block.element) {
                chars[e] += block.chars;
                links[e] += block.link_chars;
            }
            if block.heading
                || block.table
                || block.chars < MIN_SCORED_CHARS
                || link_density(block) >= 0.5
            {
                continue;
            }
            let weight = paragraph_score(&block.text);
            for (level, e) in self.ancestors(block.element).take(3).enumerate() {
                score[e] += if level < 2 { weight } else { weight / 2.0 };
            }
        }
        let best = (0..n).filter(|&e| score[e] > 0.0).max_by(|&a, &b| {
            let weigh = |e: usize| score[e] * (1.0 - links[e] as f64 / chars[e].max(1) as f64);
            weigh(a)
                .total_cmp(&weigh(b))
                .then(self.elements[a].depth.cmp(&self.elements[b].depth))
        });
        let Some(best) = best else {
            return Vec::new();
        };
        (0..self.blocks.len())
            .filter(|&b| {
                let block = &self.blocks[b];
                self.ancestors(block.element).any(|e| e == best) && link_density(block) < 0.5
            })
            .collect()
    }

    /// Short lines after the page's heading and before the article's first
    /// block: the source and date lines of a portal article.
    fn lines_between_heading_and(&self, first_main: usize, title: Option<&str>) -> Vec<String> {
        let heading = (0..first_main).rev().find(|&b| {
            let block = &self.blocks[b];
            block.heading && title.is_none_or(|t| t.contains(block.text.as_str()))
        });
        let Some(heading) = heading else {
            return Vec::new();
        };
        (heading + 1..first_main)
            .map(|b| &self.blocks[b])
            .filter(|b| b.chars <= 100 && link_density(b) < 0.5)
            .map(|b| b.text.replace('\n', " "))
            .collect()
    }
}

/// A `<table>` as caption and rows of cell texts (a nested table's cells
/// are its own); whether it is a data table is the table's to say.
fn data_table(el: ElementRef) -> Table {
    static ROW: LazyLock<scraper::Selector> =
        LazyLock::new(|| scraper::Selector::parse("tr").expect("fixed selector"));
    static CELL: LazyLock<scraper::Selector> =
        LazyLock::new(|| scraper::Selector::parse("th, td").expect("fixed selector"));
    static CAPTION: LazyLock<scraper::Selector> =
        LazyLock::new(|| scraper::Selector::parse("caption").expect("fixed selector"));
    let text = |e: ElementRef| tidy(&e.text().collect::<String>()).replace('\n', " ");
    let nested = el
        .descendants()
        .skip(1)
        .filter_map(ElementRef::wrap)
        .any(|e| e.value().name() == "table");
    if nested {
        return Table::default();
    }
    Table {
        caption: el.select(&CAPTION).next().map(text),
        rows: el
            .select(&ROW)
            .map(|row| row.select(&CELL).map(text).collect())
            .collect(),
    }
}

fn link_density(block: &Block) -> f64 {
    block.link_chars as f64 / block.chars.max(1) as f64
}

/// How much a block reads like article text: its clauses and its length.
fn paragraph_score(text: &str) -> f64 {
    let clauses = text
        .chars()
        .filter(|c| matches!(c, '，' | '。' | '、' | '；' | '！' | '？' | ',' | '.' | ';'))
        .count();
    1.0 + clauses as f64 + (visible_chars(text) as f64 / 100.0).min(3.0)
}

fn visible_chars(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// HTML whitespace collapsed (line breaks from `<br>` kept), lines trimmed.
fn tidy(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            line.split(|c: char| c.is_ascii_whitespace() || c == '\u{a0}')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|l| !l.trim_matches('\u{3000}').is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_furniture(el: &ElementRef) -> bool {
    let e = el.value();
    if SKIPPED_TAGS.contains(&e.name()) || e.attr("hidden").is_some() {
        return true;
    }
    let names = format!(
        "{} {}",
        e.attr("class").unwrap_or(""),
        e.attr("id").unwrap_or("")
    )
    .to_ascii_lowercase();
    FURNITURE_NAMES.iter().any(|f| names.contains(f))
}

/// The page's title: a heading that the `<title>` holds (the title without
/// the site name), else `og:title`, else the `<title>` cut before a
/// trailing site name.
fn page_title(html: &Html, walk: &Walk) -> Option<String> {
    let title = select_text(html, "title").map(|t| tidy(&t).replace('\n', " "));
    let heading = walk
        .blocks
        .iter()
        .filter(|b| b.heading && b.chars >= 5)
        .find(|b| {
            title
                .as_deref()
                .is_some_and(|t| t.contains(b.text.as_str()))
        });
    if let Some(h) = heading {
        return Some(h.text.replace('\n', " "));
    }
    if let Some(og) = meta_content(html, |name| name == "og:title") {
        return Some(og);
    }
    let title = title?;
    let cut = ["_", " - ", " | ", "|", "－", " — "]
        .iter()
        .filter_map(|sep| title.rfind(sep))
        .max()
        .filter(|&i| title[..i].chars().count() >= 6)
        .map_or(title.as_str(), |i| &title[..i]);
    Some(cut.trim().to_string()).filter(|t| !t.is_empty())
}

fn select_text(html: &Html, selector: &str) -> Option<String> {
    let selector = scraper::Selector::parse(selector).ok()?;
    let text: String = html.select(&selector).next()?.text().collect();
    Some(text).filter(|t| !t.trim().is_empty())
}

/// The `content` of the first `<meta>` whose name, property or itemprop
/// (lower-cased) satisfies `wanted`.
fn meta_content(html: &Html, wanted: impl Fn(&str) -> bool) -> Option<String> {
    let selector = scraper::Selector::parse("meta").ok()?;
    html.select(&selector).find_map(|m| {
        let e = m.value();
        let key = ["name", "property", "itemprop", "http-equiv"]
            .iter()
            .find_map(|a| e.attr(a))?
            .to_ascii_lowercase();
        let content = e.attr("content")?.trim();
        (wanted(&key) && !content.is_empty()).then(|| content.to_string())
    })
}

/// The publication date a `<meta>` states (publishdate, pubdate,
/// article:published_time, datePublished, dc.date, …).
fn meta_date(html: &Html) -> Option<String> {
    let dated = |key: &str| {
        [
            "publish",
            "pubdate",
            "pub_date",
            "create_at",
            "release_date",
            "dc.date",
            "dcterms.issued",
        ]
        .iter()
        .any(|k| key.contains(k))
            || key == "date"
    };
    iso_date(&meta_content(html, dated)?)
}

/// `<link rel="canonical">`, else `og:url`, when an http(s) address.
fn canonical_url(html: &Html) -> Option<String> {
    let selector = scraper::Selector::parse("link[rel=canonical]").ok()?;
    let link = html
        .select(&selector)
        .find_map(|l| l.value().attr("href").map(str::to_string));
    link.or_else(|| meta_content(html, |k| k == "og:url"))
        .map(|u| u.trim().to_string())
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r##"<!DOCTYPE html><html><head><meta charset="utf-8">
<title>2021年海关扣留侵权货物情况_某新闻网</title>
<meta property="article:published_time" content="2022-04-25T09:00:00+08:00">
<meta property="og:url" content="https://news.example.org/a/1.htm">
<script>var t = "2021年扣留9.99万批";</script></head><body>
<div class="topbar"><a href="/">首页</a> <a href="/n">新闻</a> <a href="/l">法治</a> <a href="/v">视频</a></div>
<div class="main"><h1>2021年海关扣留侵权货物情况</h1>
<p class="info">来源：某报 2022-04-25</p>
<div class="con"><p>2021年，全国海关共扣留侵权嫌疑货物7.21万批、8000万件，同比均有增长。</p>
<p>其中出口环节占九成以上，跨境电商渠道扣留批次最多，寄递渠道次之。</p>
<div class="share-box">分享到：<a href="#">微信</a><a href="#">微博</a></div></div>
<ul><li><a href="/x">某海关2021年查扣8.88万批侵权货物</a></li><li><a href="/y">另一条新闻的标题在这里</a></li></ul>
</div><div class="foot">Copyright 某新闻网 京ICP备000号</div></body></html>"##;

    #[test]
    fn a_portal_page_gives_its_article_heading_source_line_and_metadata() {
        let decoded = read(PAGE).unwrap();
        assert_eq!(
            decoded.text,
            "2021年海关扣留侵权货物情况\n来源：某报 2022-04-25\n2021年，全国海关共扣留侵权嫌疑货物7.21万批、8000万件，同比均有增长。\n其中出口环节占九成以上，跨境电商渠道扣留批次最多，寄递渠道次之。"
        );
        assert_eq!(decoded.title.as_deref(), Some("2021年海关扣留侵权货物情况"));
        assert_eq!(decoded.published.as_deref(), Some("2022-04-25"));
        assert_eq!(
            decoded.url.as_deref(),
            Some("https://news.example.org/a/1.htm")
        );
    }

    #[test]
    fn text_between_line_breaks_of_one_element_is_an_article_too() {
        let page = "<html><body><div id=\"a\"><a href=\"/\">首页</a></div><div>　　2019年，海关扣留侵权嫌疑货物5.1万批，较上年增长。<br><br>　　出口环节仍是重点，商标权仍占多数。</div></body></html>";
        let decoded = read(page).unwrap();
        assert_eq!(
            decoded.text,
            "　　2019年，海关扣留侵权嫌疑货物5.1万批，较上年增长。\n　　出口环节仍是重点，商标权仍占多数。"
        );
    }

    #[test]
    fn a_data_table_in_the_article_gives_a_sentence_a_cell_and_a_layout_table_its_text() {
        let page = "<html><body><table><tr><td><div class=\"content\"><p>2019年，某海关查扣侵权嫌疑货物300批，同比有所增长，出口环节占多数。</p>\
<table><caption>表1　2019年某海关分渠道查扣情况</caption><tr><th>渠道</th><th>批次（批）</th></tr>\
<tr><td>邮递</td><td>120</td></tr><tr><td>合计</td><td>300</td></tr></table>\
<p>该关将继续加强知识产权保护，严厉打击侵权违法行为。</p></div></td></tr></table></body></html>";
        let decoded = read(page).unwrap();
        assert_eq!(
            decoded.text,
            "2019年，某海关查扣侵权嫌疑货物300批，同比有所增长，出口环节占多数。\n2019年某海关分渠道查扣情况：邮递，批次120批。\n2019年某海关分渠道查扣情况：合计，批次300批。\n该关将继续加强知识产权保护，严厉打击侵权违法行为。"
        );
    }

    #[test]
    fn markup_is_told_from_its_first_characters() {
        assert!(looks_like_html("\n <!DOCTYPE html><p>x", "txt"));
        assert!(looks_like_html("<div>x</div>", "html"));
        assert!(!looks_like_html("<div>x</div>", "txt"));
        assert!(!looks_like_html("2024年 <b> 不是网页", "html"));
    }
}
