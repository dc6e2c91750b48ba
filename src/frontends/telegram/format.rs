//! format: "here is an answer (or a notice), give me Telegram messages":
//! HTML parse mode with every piece of user and corpus text escaped, the
//! figure first (bold), the sources as an italic footer, and a long reply
//! split at line breaks into messages below Telegram's 4,096 characters.
//!
//! Invariant: pure. Lines are turned into HTML one at a time, each with its
//! tags closed, and messages are cut only between lines (a line too long for
//! one message is cut between characters of its plain text), so no message
//! ever ends inside a tag or an entity.

use crate::domain::model::{Answer, AnswerKind};
use crate::domain::replies::is_source_line;

/// Telegram's limit on one message's text.
pub const TELEGRAM_LIMIT: usize = 4096;

/// Every message is kept strictly below this many UTF-16 units of HTML
/// (the text Telegram counts is never longer than its HTML).
pub const MESSAGE_LIMIT: usize = TELEGRAM_LIMIT - 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Bold,
    Italic,
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

/// An engine answer as one or more HTML messages: the first line (the
/// figure, or the heading) bold, the trailing source lines italic after a
/// blank line.
pub fn answer_messages(answer: &Answer) -> Vec<String> {
    let lines: Vec<&str> = answer.answer.lines().collect();
    let footer_start = lines
        .iter()
        .rposition(|l| !is_source_line(l) && !l.trim().is_empty())
        .map_or(0, |i| i + 1);
    let mut styled: Vec<(String, Style)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let style = if i >= footer_start {
            Style::Italic
        } else if i == 0 && answer.kind != AnswerKind::Passage && answer.found {
            Style::Bold
        } else {
            Style::Plain
        };
        if i == footer_start && i > 0 {
            styled.push((String::new(), Style::Plain));
        }
        styled.push((line.to_string(), style));
    }
    let mut messages = pack(&styled);
    let links: Vec<(&str, &str)> = answer
        .sources
        .iter()
        .filter_map(|s| Some((s.title.as_str(), s.url.as_deref()?)))
        .collect();
    link_titles(&mut messages, &links);
    messages
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
        if title.is_empty() || !(url.starts_with("https://") || url.starts_with("http://")) {
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
    let styled: Vec<(String, Style)> = text
        .lines()
        .map(|l| (l.to_string(), Style::Plain))
        .collect();
    pack(&styled)
}

/// Splits plain text at line breaks into pieces of at most `limit` UTF-16
/// units each once escaped (a longer line is cut between characters).
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let styled: Vec<(String, Style)> = text
        .lines()
        .map(|l| (l.to_string(), Style::Plain))
        .collect();
    pack_with_limit(&styled, limit)
}

fn pack(lines: &[(String, Style)]) -> Vec<String> {
    pack_with_limit(lines, MESSAGE_LIMIT)
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn render(text: &str, style: Style) -> String {
    if text.is_empty() {
        return String::new();
    }
    match style {
        Style::Plain => escape(text),
        Style::Bold => format!("<b>{}</b>", escape(text)),
        Style::Italic => format!("<i>{}</i>", escape(text)),
    }
}

/// Cuts one line's plain text so that each piece, rendered, fits `limit`.
fn render_pieces(text: &str, style: Style, limit: usize) -> Vec<String> {
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

fn pack_with_limit(lines: &[(String, Style)], limit: usize) -> Vec<String> {
    let mut messages = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for (text, style) in lines {
        for piece in render_pieces(text, *style, limit) {
            let len = utf16_len(&piece);
            let sep = usize::from(!current.is_empty());
            if current_len + sep + len > limit && !current.is_empty() {
                messages.push(std::mem::take(&mut current));
                current_len = 0;
            }
            if !current.is_empty() {
                current.push('\n');
                current_len += 1;
            }
            current.push_str(&piece);
            current_len += len;
        }
    }
    let messages: Vec<String> = messages
        .into_iter()
        .chain(std::iter::once(current))
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

/// Whether `html` is safe for Telegram's HTML parse mode as this module
/// writes it: only `<b>`, `<i>` and `<a href="…">`, each closed in the same message, no raw
/// `<` or `>` outside tags, every `&` starting an entity.
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
        } else if ["b", "i"].contains(&tag) {
            open.push(tag);
        } else if tag.starts_with("a href=\"")
            && tag.ends_with('"')
            && !tag[8..tag.len() - 1].contains('"')
        {
            open.push("a");
        } else {
            return false;
        }
        rest = &tail[end + 1..];
    }
    open.is_empty()
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
    fn figure_first_in_bold_sources_as_italic_footer() {
        check(
            "2024年扣留：4.16万批。\n原文：“…4.16万批…”\n来源：《报告》，法治日报，2025-04-25",
            &["<b>2024年扣留：4.16万批。</b>\n原文：“…4.16万批…”\n\n<i>来源：《报告》，法治日报，2025-04-25</i>"],
        );
    }

    #[test]
    fn a_source_with_an_address_links_its_title_in_the_footer_only() {
        let mut a = answer("《报告》说：扣留4.16万批。\n来源：《报告》，法治日报，2025-04-25");
        a.sources = vec![crate::domain::model::SourceRef {
            title: "报告".into(),
            publisher: None,
            published: None,
            url: Some("https://example.org/a?x=1&y=\"2\"".into()),
        }];
        let messages = answer_messages(&a);
        assert_eq!(
            messages,
            ["<b>《报告》说：扣留4.16万批。</b>\n\n<i>来源：《<a href=\"https://example.org/a?x=1&amp;y=&quot;2&quot;\">报告</a>》，法治日报，2025-04-25</i>"]
        );
        assert!(is_safe_html(&messages[0]), "{}", messages[0]);
        a.sources[0].url = Some("javascript:alert(1)".into());
        assert!(!answer_messages(&a)[0].contains("<a "));
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
