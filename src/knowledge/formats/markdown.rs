//! markdown: Markdown as plain text (pulldown-cmark): one paragraph,
//! heading, quote or list item a line, markup and link targets dropped;
//! front matter at the top is kept as written, for the loader to read.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

/// The text of a Markdown document, one block a line.
pub fn to_text(source: &str) -> String {
    let (front, body) = split_front(source);
    let mut out = String::from(front);
    let mut paragraph: Vec<String> = vec![String::new()];
    let flush = |out: &mut String, paragraph: &mut Vec<String>| {
        let line = super::join_lines(paragraph);
        if !line.is_empty() {
            out.push_str(&line);
            out.push_str("\n\n");
        }
        *paragraph = vec![String::new()];
    };
    for event in Parser::new(body) {
        match event {
            Event::Text(t) | Event::Code(t) => {
                if let Some(last) = paragraph.last_mut() {
                    last.push_str(&t);
                }
            }
            Event::SoftBreak => paragraph.push(String::new()),
            Event::HardBreak | Event::Rule => flush(&mut out, &mut paragraph),
            Event::Start(Tag::Paragraph | Tag::Heading { .. } | Tag::Item | Tag::TableRow)
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::TableRow
                | TagEnd::CodeBlock,
            ) => flush(&mut out, &mut paragraph),
            Event::End(TagEnd::TableCell) => {
                if let Some(last) = paragraph.last_mut() {
                    last.push(' ');
                }
            }
            _ => {}
        }
    }
    flush(&mut out, &mut paragraph);
    out
}

/// `---` … `---` at the very top, and the rest; front matter never closed
/// keeps its opening `---` (the loader warns of it).
fn split_front(source: &str) -> (&str, &str) {
    let Some(rest) = source
        .strip_prefix("---\n")
        .or_else(|| source.strip_prefix("---\r\n"))
    else {
        return ("", source);
    };
    match rest.find("\n---") {
        Some(end) => {
            let after = end + "\n---".len();
            let line_end = rest[after..]
                .find('\n')
                .map_or(rest.len(), |i| after + i + 1);
            let cut = source.len() - rest.len() + line_end;
            (&source[..cut], &source[cut..])
        }
        None => (&source[..source.len() - rest.len()], rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_link_targets_go_and_blocks_become_lines() {
        let text = to_text(
            "---\ntitle: 测试\n---\n# 2022年情况\n\n**2022年**，全国海关扣留侵权嫌疑货物\n**2.22万批**。\n\n- 出口环节为主；\n- 详见[说明](https://example.org/x)。\n",
        );
        assert_eq!(
            text,
            "---\ntitle: 测试\n---\n2022年情况\n\n2022年，全国海关扣留侵权嫌疑货物2.22万批。\n\n出口环节为主；\n\n详见说明。\n\n"
        );
    }

    #[test]
    fn unclosed_front_matter_is_left_to_the_loader() {
        let text = to_text("---\ntitle: 测试\n\n正文。\n");
        assert!(text.contains("title: 测试"), "{text}");
        assert!(text.contains("正文。"), "{text}");
    }
}
