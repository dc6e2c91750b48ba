//! format: "here is an answer (or a notice), give me Telegram messages":
//! HTML parse mode with every piece of user and corpus text escaped; the
//! figure first (bold), the evidence in a `<blockquote>`, computations and
//! breakdowns in an expandable blockquote, the sources as an italic footer;
//! a long reply split at line breaks into messages below Telegram's 4,096
//! characters.
//!
//! Invariant: pure. Lines are turned into HTML one at a time, each with its
//! tags closed; a quote cut between two messages is closed in the first and
//! opened again in the second; messages are cut only between lines (a line
//! too long for one message is cut between characters of its plain text),
//! so no message ever ends inside a tag or an entity.

use crate::domain::model::{Answer, AnswerKind};
use crate::domain::replies::{is_source_line, line_role, LineRole};

/// Telegram's limit on one message's text.
pub const TELEGRAM_LIMIT: usize = 4096;

/// Every message is kept strictly below this many UTF-16 units of HTML
/// (the text Telegram counts is never longer than its HTML).
pub const MESSAGE_LIMIT: usize = TELEGRAM_LIMIT - 1;

/// How a line's text is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Style {
    Plain,
    Bold,
    Italic,
    /// A link to this address (http or https only; otherwise plain).
    Link(String),
}

/// The block a line sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    None,
    /// `<blockquote>`: the evidence.
    Quote,
    /// `<blockquote expandable>`: computations, breakdowns, context.
    Expandable,
}

/// One line of a message: plain text, its style and its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: String,
    pub style: Style,
    pub block: Block,
}

impl Line {
    pub fn new(text: impl Into<String>, style: Style, block: Block) -> Line {
        Line {
            text: text.into(),
            style,
            block,
        }
    }

    pub fn plain(text: impl Into<String>) -> Line {
        Line::new(text, Style::Plain, Block::None)
    }
}

/// Escapes text for Telegram's HTML parse mode.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// An engine answer as one or more HTML messages.
pub fn answer_messages(answer: &Answer) -> Vec<String> {
    pack(&answer_lines(answer))
}

/// An engine answer as lines: the first line (the figure, or the heading)
/// bold; evidence quoted; computations and the breakdowns of a summary
/// expandable; the trailing source lines italic.
pub fn answer_lines(answer: &Answer) -> Vec<Line> {
    let lines: Vec<&str> = answer.answer.lines().collect();
    let footer_start = lines
        .iter()
        .rposition(|l| !is_source_line(l) && !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut out: Vec<Line> = Vec::new();
    let mut in_breakdown = false;
    for (i, line) in lines.iter().enumerate() {
        let role = line_role(line);
        in_breakdown |= role == LineRole::Breakdown && answer.kind == AnswerKind::Summary;
        let (style, block) = if i >= footer_start && i > 0 {
            (footer_style(answer, line), Block::None)
        } else if i == 0 && answer.kind != AnswerKind::Passage && answer.found {
            (Style::Bold, Block::None)
        } else if i == 0 {
            (Style::Plain, Block::None)
        } else {
            match role {
                LineRole::Evidence => (Style::Plain, Block::Quote),
                LineRole::Computation => (Style::Plain, Block::Expandable),
                _ if in_breakdown => (Style::Plain, Block::Expandable),
                _ if answer.kind == AnswerKind::Passage && answer.found => {
                    (Style::Plain, Block::Quote)
                }
                _ => (Style::Plain, Block::None),
            }
        };
        let after_body = out.last().is_some_and(|l| l.block == Block::None);
        if i == footer_start && i > 0 && after_body {
            out.push(Line::plain(""));
        }
        out.push(Line::new(*line, style, block));
    }
    out
}

/// A source line links to its document when the document has an address.
fn footer_style(answer: &Answer, line: &str) -> Style {
    let linked = answer.sources.iter().find(|s| {
        let cited = crate::domain::replies::cited_title(&s.title);
        !s.title.is_empty() && (line.contains(&s.title) || line.contains(&cited))
    });
    match linked.and_then(|s| s.url.clone()) {
        Some(url) if is_web_address(&url) => Style::Link(url),
        _ => Style::Italic,
    }
}

/// Plain text as HTML messages with each `(title, url)`'s title a link.
pub fn linked_messages(text: &str, links: &[(&str, &str)]) -> Vec<String> {
    let mut messages = plain_messages(text);
    link_titles(&mut messages, links);
    messages
}

/// Turns the last place each title stands (a source line) into a link to
/// its http(s) address, where the message stays within the limit.
fn link_titles(messages: &mut [String], links: &[(&str, &str)]) {
    for (title, url) in links {
        let title = escape(title);
        if title.is_empty() || !is_web_address(url) {
            continue;
        }
        let Some(message) = messages.iter_mut().rev().find(|m| m.contains(&title)) else {
            continue;
        };
        let Some(at) = message.rfind(&title) else {
            continue;
        };
        let link = format!("<a href=\"{}\">{title}</a>", escape(url));
        let linked = format!("{}{link}{}", &message[..at], &message[at + title.len()..]);
        if utf16_len(&linked) <= MESSAGE_LIMIT {
            *message = linked;
        }
    }
}

/// Plain text (a notice) as one or more HTML messages.
pub fn plain_messages(text: &str) -> Vec<String> {
    let lines: Vec<Line> = text.lines().map(Line::plain).collect();
    pack(&lines)
}

/// Splits plain text at line breaks into pieces of at most `limit` UTF-16
/// units each once escaped (a longer line is cut between characters).
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let lines: Vec<Line> = text.lines().map(Line::plain).collect();
    pack_with_limit(&lines, limit)
}

/// Lines as one or more HTML messages below Telegram's limit.
pub fn pack(lines: &[Line]) -> Vec<String> {
    pack_with_limit(lines, MESSAGE_LIMIT)
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn is_web_address(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn render(text: &str, style: &Style) -> String {
    if text.is_empty() {
        return String::new();
    }
    match style {
        Style::Plain => escape(text),
        Style::Bold => format!("<b>{}</b>", escape(text)),
        Style::Italic => format!("<i>{}</i>", escape(text)),
        Style::Link(url) if is_web_address(url) => {
            format!("<a href=\"{}\">{}</a>", escape(url), escape(text))
        }
        Style::Link(_) => escape(text),
    }
}

fn open_tag(block: Block) -> &'static str {
    match block {
        Block::None => "",
        Block::Quote => "<blockquote>",
        Block::Expandable => "<blockquote expandable>",
    }
}

fn close_tag(block: Block) -> &'static str {
    match block {
        Block::None => "",
        Block::Quote | Block::Expandable => "</blockquote>",
    }
}

/// Cuts one line's plain text so that each piece, rendered, fits `limit`.
fn render_pieces(text: &str, style: &Style, limit: usize) -> Vec<String> {
    let whole = render(text, style);
    if utf16_len(&whole) <= limit {
        return vec![whole];
    }
    let tags = utf16_len(&render("x", style)) - 1;
    let budget = limit.saturating_sub(tags).max(8);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for c in text.chars() {
        let cost = utf16_len(&escape(c.encode_utf8(&mut [0; 4])));
        if used + cost > budget && !current.is_empty() {
            pieces.push(render(&current, style));
            current.clear();
            used = 0;
        }
        current.push(c);
        used += cost;
    }
    if !current.is_empty() {
        pieces.push(render(&current, style));
    }
    pieces
}

/// One message being filled: its HTML so far, and the block left open.
#[derive(Default)]
struct Filling {
    html: String,
    open: Option<Block>,
}

impl Filling {
    /// The length the message would have with `piece` added in `block`
    /// and its last block closed.
    fn len_with(&self, piece: &str, block: Block) -> usize {
        let mut len = utf16_len(&self.html) + utf16_len(piece) + close_tag(block).len();
        if self.open == Some(block) {
            len += 1;
        } else {
            len += self.open.map_or(0, |b| close_tag(b).len());
            len += usize::from(!self.html.is_empty()) + open_tag(block).len();
        }
        len
    }

    fn push(&mut self, piece: &str, block: Block) {
        if self.open == Some(block) {
            self.html.push('\n');
        } else {
            if let Some(open) = self.open.take() {
                self.html.push_str(close_tag(open));
            }
            if !self.html.is_empty() {
                self.html.push('\n');
            }
            self.html.push_str(open_tag(block));
            self.open = Some(block);
        }
        self.html.push_str(piece);
    }

    fn finish(mut self) -> String {
        if let Some(open) = self.open.take() {
            self.html.push_str(close_tag(open));
        }
        self.html
    }
}

fn pack_with_limit(lines: &[Line], limit: usize) -> Vec<String> {
    let mut messages = Vec::new();
    let mut current = Filling::default();
    // Tags around a piece cut to fit: a blockquote's two tags at most.
    let room = limit.saturating_sub(40).max(16);
    for line in lines {
        let block = if line.text.is_empty() {
            Block::None
        } else {
            line.block
        };
        for piece in render_pieces(&line.text, &line.style, room) {
            if current.len_with(&piece, block) > limit && !current.html.is_empty() {
                messages.push(std::mem::take(&mut current).finish());
            }
            current.push(&piece, block);
        }
    }
    messages.push(current.finish());
    let messages: Vec<String> = messages
        .into_iter()
        .map(|m| m.trim_matches('\n').to_string())
        .filter(|m| !m.trim().is_empty())
        .collect();
    if messages.is_empty() {
        // Telegram refuses an empty message.
        vec!["…".to_string()]
    } else {
        messages
    }
}

/// Tags Telegram's HTML parse mode accepts, as this module checks them.
const TELEGRAM_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "code",
    "pre",
    "blockquote",
    "tg-spoiler",
];

/// Whether `html` is valid for Telegram's HTML parse mode: only Telegram's
/// tags (`<a href="http…">`, `<blockquote expandable>` included), each
/// closed in the same message in order, blockquotes not nested, no raw `<`
/// or `>` outside tags, every `&` starting an entity.
pub fn is_safe_html(html: &str) -> bool {
    let mut rest = html;
    let mut open: Vec<&str> = Vec::new();
    while let Some(i) = rest.find(['<', '&', '>']) {
        let tail = &rest[i..];
        if tail.starts_with('>') {
            return false;
        }
        if let Some(after) = tail.strip_prefix('&') {
            if !["&amp;", "&lt;", "&gt;", "&quot;"]
                .iter()
                .any(|e| tail.starts_with(e))
            {
                return false;
            }
            rest = after;
            continue;
        }
        let Some(end) = tail.find('>') else {
            return false;
        };
        let tag = &tail[1..end];
        if let Some(name) = tag.strip_prefix('/') {
            if open.pop() != Some(name) {
                return false;
            }
        } else {
            let Some(name) = opening_tag_name(tag) else {
                return false;
            };
            if name == "blockquote" && open.contains(&"blockquote") {
                return false;
            }
            open.push(name);
        }
        rest = &tail[end + 1..];
    }
    open.is_empty()
}

/// The name of a valid opening tag (`b`, `a href="…"`, `blockquote
/// expandable`), or None.
fn opening_tag_name(tag: &str) -> Option<&str> {
    if TELEGRAM_TAGS.contains(&tag) {
        return Some(tag);
    }
    if tag == "blockquote expandable" {
        return Some("blockquote");
    }
    let href = tag.strip_prefix("a href=\"")?.strip_suffix('"')?;
    let valid = is_web_address(href) && !href.contains(['"', '<', '>']);
    valid.then_some("a")
}

/// The text a reader sees of `html` (tags dropped, entities decoded), in
/// UTF-16 units: what Telegram counts against its limits.
pub fn visible_len(html: &str) -> usize {
    let mut len = 0;
    let mut in_tag = false;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        let step = c.len_utf8();
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            '&' if !in_tag => {
                len += 1;
                let end = rest.find(';').map_or(step, |e| e + 1);
                rest = &rest[end..];
                continue;
            }
            c if !in_tag => len += c.len_utf16(),
            _ => {}
        }
        rest = &rest[step..];
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Language;

    fn answer(text: &str) -> Answer {
        Answer {
            question: String::new(),
            answer: text.to_string(),
            found: true,
            kind: AnswerKind::Fact,
            facts: vec![],
            sources: vec![],
            language: Language::Simplified,
        }
    }

    fn check(text: &str, expected: &[&str]) {
        assert_eq!(answer_messages(&answer(text)), expected);
    }

    #[test]
    fn figure_first_in_bold_evidence_quoted_sources_as_italic_footer() {
        check(
            "2024年扣留：4.16万批。\n原文：“…4.16万批…”\n来源：《报告》，法治日报，2025-04-25",
            &["<b>2024年扣留：4.16万批。</b>\n<blockquote>原文：“…4.16万批…”</blockquote>\n<i>来源：《报告》，法治日报，2025-04-25</i>"],
        );
    }

    #[test]
    fn computations_are_folded_in_an_expandable_quote() {
        check(
            "2024年与2020年相比：减少。\n2020年：6.19万批\n计算：41600 − 61900 = -20300\n来源：《报告》",
            &["<b>2024年与2020年相比：减少。</b>\n2020年：6.19万批\n<blockquote expandable>计算：41600 − 61900 = -20300</blockquote>\n<i>来源：《报告》</i>"],
        );
    }

    #[test]
    fn a_quote_cut_between_messages_is_closed_and_opened_again() {
        let lines: Vec<Line> = (0..400)
            .map(|i| Line::new(format!("{i} 扣留侵权嫌疑货物"), Style::Plain, Block::Quote))
            .collect();
        let messages = pack(&lines);
        assert!(messages.len() >= 2);
        for m in &messages {
            assert!(
                m.starts_with("<blockquote>") && m.ends_with("</blockquote>"),
                "{m}"
            );
            assert!(is_safe_html(m) && utf16_len(m) <= MESSAGE_LIMIT);
        }
    }

    #[test]
    fn only_telegrams_tags_pass_the_check() {
        assert!(is_safe_html(
            "<blockquote expandable>a</blockquote><a href=\"https://x.org/a?b=1&amp;c\">t</a>"
        ));
        assert!(!is_safe_html(
            "<blockquote><blockquote>a</blockquote></blockquote>"
        ));
        assert!(!is_safe_html("<a href=\"javascript:alert(1)\">t</a>"));
        assert!(!is_safe_html("<div>a</div>"));
        assert!(!is_safe_html("<b>a</i>"));
        let link = Line::new("标题", Style::Link("javascript:x".into()), Block::None);
        assert_eq!(pack(&[link]), ["标题"]);
    }

    #[test]
    fn user_and_corpus_text_is_escaped() {
        check(
            "a <b> & \"q\"\nSource: x<y",
            &["<b>a &lt;b&gt; &amp; &quot;q&quot;</b>\n\n<i>Source: x&lt;y</i>"],
        );
    }

    #[test]
    fn a_long_reply_is_split_at_line_breaks_below_the_limit_never_inside_a_tag() {
        let line = "扣留侵权嫌疑货物<&>".repeat(20);
        let text: Vec<String> = (0..60).map(|i| format!("{i} {line}")).collect();
        let mut text = text.join("\n");
        text.push_str("\n来源：《报告》");
        let messages = answer_messages(&answer(&text));
        assert!(messages.len() >= 2, "{}", messages.len());
        for m in &messages {
            assert!(utf16_len(m) < TELEGRAM_LIMIT);
            assert!(is_safe_html(m), "{m}");
        }
        // Each line of the text is whole in exactly one message.
        let joined = messages.join("\n");
        for i in 0..60 {
            assert!(joined.contains(&format!("\n{i} ")) || joined.starts_with(&format!("<b>{i} ")));
        }
    }

    #[test]
    fn a_single_line_longer_than_a_message_is_cut_between_characters() {
        let text = format!("{}\n尾", "长&".repeat(5000));
        let messages = split_message(&text, MESSAGE_LIMIT);
        assert!(messages.len() >= 4);
        for m in &messages {
            assert!(
                utf16_len(m) <= MESSAGE_LIMIT && is_safe_html(m),
                "{}",
                utf16_len(m)
            );
        }
        let bold = answer_messages(&answer(&text));
        for m in &bold {
            assert!(utf16_len(m) <= MESSAGE_LIMIT && is_safe_html(m));
        }
    }

    #[test]
    fn characters_outside_the_basic_plane_count_twice() {
        let text = "😀".repeat(3000);
        for m in split_message(&text, MESSAGE_LIMIT) {
            assert!(utf16_len(&m) <= MESSAGE_LIMIT);
        }
    }
}
