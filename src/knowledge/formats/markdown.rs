//! markdown: Markdown as plain text (pulldown-cmark): one paragraph,
//! heading, quote or list item a line, markup and link targets dropped;
//! front matter at the top is kept as written, for the loader to read.

use super::table::Table;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// The text of a Markdown document, one block a line; a data table's
/// cells one sentence each (`table`), a table that is not one a line a row.
pub fn to_text(source: &str) -> String {
    let (front, body) = split_front(source);
    let mut out = String::from(front);
    let mut paragraph: Vec<String> = vec![String::new()];
    let mut table: Option<Table> = None;
    let mut in_item = false;
    let flush = |out: &mut String, paragraph: &mut Vec<String>, in_item: bool| {
        let mut line = super::join_lines(paragraph);
        if in_item {
            line = label_value_en(&line).unwrap_or(line);
        }
        if !line.is_empty() {
            out.push_str(&line);
            out.push_str("\n\n");
        }
        *paragraph = vec![String::new()];
    };
    for event in Parser::new_ext(body, Options::ENABLE_TABLES) {
        if let Some(t) = table.as_mut() {
            if table_event(t, &event) {
                continue;
            }
        }
        match event {
            Event::Start(Tag::Table(_)) => table = Some(Table::default()),
            Event::End(TagEnd::Table) => {
                if let Some(t) = table.take() {
                    for line in t.sentences().unwrap_or_else(|| rows_as_lines(&t)) {
                        out.push_str(&line);
                        out.push_str("\n\n");
                    }
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(last) = paragraph.last_mut() {
                    last.push_str(&t);
                }
            }
            Event::SoftBreak => paragraph.push(String::new()),
            Event::HardBreak | Event::Rule => flush(&mut out, &mut paragraph, in_item),
            Event::Start(Tag::Item) => {
                flush(&mut out, &mut paragraph, in_item);
                in_item = true;
            }
            Event::End(TagEnd::Item) => {
                flush(&mut out, &mut paragraph, in_item);
                in_item = false;
            }
            Event::Start(Tag::Paragraph | Tag::Heading { .. })
            | Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock) => {
                flush(&mut out, &mut paragraph, in_item)
            }
            _ => {}
        }
    }
    flush(&mut out, &mut paragraph, in_item);
    out
}

/// An English "Label: figure" list item written as English states a
/// figure, the figure before its label ("Batches detained: 33,000 (first
/// three quarters)" → "33,000 batches detained (first three quarters).");
/// None for any other item.
fn label_value_en(line: &str) -> Option<String> {
    static LABEL_VALUE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^([A-Za-z][A-Za-z ,'’&/-]{1,60}?)\s*:\s*(\d[\d,.]*(?:\s*(?:million|billion|thousand))?)\s*(\(.*\))?\s*[.;]?$",
        )
        .expect("fixed pattern")
    });
    let c = LABEL_VALUE.captures(line.trim())?;
    let label = c[1].trim();
    let mut chars = label.chars();
    let first = chars.next()?.to_lowercase();
    let label: String = first.chain(chars).collect();
    let after = c
        .get(3)
        .map_or(String::new(), |m| format!(" {}", m.as_str()));
    Some(format!("{} {label}{after}.", &c[2]))
}

/// Reads one event into the table being gathered; false for the events
/// that are not the table's cells (its end).
fn table_event(table: &mut Table, event: &Event) -> bool {
    match event {
        Event::Start(Tag::TableHead | Tag::TableRow) => table.rows.push(Vec::new()),
        Event::Start(Tag::TableCell) => {
            if let Some(row) = table.rows.last_mut() {
                row.push(String::new());
            }
        }
        Event::Text(t) | Event::Code(t) => {
            if let Some(cell) = table.rows.last_mut().and_then(|r| r.last_mut()) {
                cell.push_str(t);
            }
        }
        Event::End(TagEnd::Table) => return false,
        _ => {}
    }
    true
}

/// A table that is no data table: one line a row, its cells apart.
fn rows_as_lines(table: &Table) -> Vec<String> {
    table
        .rows
        .iter()
        .map(|r| r.join(" "))
        .filter(|l| !l.trim().is_empty())
        .collect()
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
    fn an_english_label_value_item_states_its_figure_before_the_label() {
        let text = to_text(
            "## Key figures (2019)\n\n- **Shipments detained:** 12,000 (first half)\n- **Pieces seized:** 3.5 million\n- Note: see the annex\n",
        );
        assert_eq!(
            text,
            "Key figures (2019)\n\n12,000 shipments detained (first half).\n\n3.5 million pieces seized.\n\nNote: see the annex\n\n"
        );
    }

    #[test]
    fn a_table_of_figures_becomes_one_sentence_a_cell() {
        let text = to_text(
            "# 2019年情况\n\n| 年份 | 扣留批次（批） | 扣留数量（万件） |\n|---|--:|--:|\n| 2018 | 100 | 2.5 |\n| **合计** | **300** | **7.5** |\n\n后记。\n",
        );
        assert_eq!(
            text,
            "2019年情况\n\n2018年，扣留批次100批。\n\n2018年，扣留数量2.5万件。\n\n合计，扣留批次300批。\n\n合计，扣留数量7.5万件。\n\n后记。\n\n"
        );
    }

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
