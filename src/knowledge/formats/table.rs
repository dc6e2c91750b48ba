//! table: a data table (an HTML `<table>`, a Markdown table) as sentences.
//! Each figure cell becomes one sentence in the table's language built from
//! its headers: the caption (period, scope), the row's label (a year, a
//! channel…), the column's label and the unit its header gives in brackets
//! ("扣留数量（万件）" → 2214.6万件, "Batches (batches)" → 60,700 batches).
//! A row label is kept as written (合计, "Total 2021–2025"), so that a total
//! over several years stays a total and extraction decides what it means.
//!
//! Invariant: a cell becomes a sentence only with both its headers; a table
//! that is not a grid of short cells with figures (a page laid out in a
//! table) gives no sentences, and its reader keeps its text as before.

/// A table as read: an optional caption, the header row, the body rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub caption: Option<String>,
    pub rows: Vec<Vec<String>>,
}

/// Cells longer than this (characters) are text, not a data table's.
const MAX_CELL_CHARS: usize = 40;

impl Table {
    /// The sentences of a data table, or None when it is not one (fewer
    /// than two columns or two rows, long cells, no figure below its
    /// header).
    pub fn sentences(&self) -> Option<Vec<String>> {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| tidy_cell(c)).collect::<Vec<_>>())
            .filter(|r: &Vec<String>| r.iter().any(|c| !c.is_empty()))
            .collect();
        let (header, body) = rows.split_first()?;
        let long = rows
            .iter()
            .flatten()
            .any(|c| c.chars().count() > MAX_CELL_CHARS);
        if header.len() < 2 || body.is_empty() || long || header.iter().any(|h| is_figure(h)) {
            return None;
        }
        let cjk = is_mostly_cjk(header.iter().chain(self.caption.iter()));
        let caption = self.caption.as_deref().map(strip_table_number);
        let mut out = Vec::new();
        for row in body {
            let Some(label) = row.first().filter(|l| !l.is_empty() && !is_figure(l)) else {
                continue;
            };
            for (cell, head) in row.iter().zip(header).skip(1) {
                if !is_figure(cell) || head.is_empty() {
                    continue;
                }
                let (name, unit) = split_unit(head);
                out.push(if cjk {
                    sentence_zh(caption, label, name, cell, unit)
                } else {
                    sentence_en(caption, label, name, cell, unit)
                });
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

/// "2025年…情况：跨境电商，扣留批次27100批。"; a year label reads "2021年".
fn sentence_zh(caption: Option<&str>, label: &str, name: &str, cell: &str, unit: &str) -> String {
    let context = caption.map(|c| format!("{c}：")).unwrap_or_default();
    let label = if is_year(label) {
        format!("{label}年")
    } else {
        label.to_string()
    };
    let unit = if ends_with_unit(cell) { "" } else { unit };
    format!("{context}{label}，{name}{cell}{unit}。")
}

/// "In 2021: 60,700 batches detained." or "Total 2021–2025: 289,100
/// batches detained." (the figure before its label, as English writes
/// it); a caption leads: "Caption – Express: 6,000 batches detained."
fn sentence_en(caption: Option<&str>, label: &str, name: &str, cell: &str, unit: &str) -> String {
    let context = caption.map(|c| format!("{c} – ")).unwrap_or_default();
    let name = lower_first(name);
    let unit = if unit.is_empty() || ends_with_unit(cell) || name.contains(&unit.to_lowercase()) {
        String::new()
    } else {
        format!(" {unit}")
    };
    let label = if is_year(label) {
        format!("In {label}")
    } else {
        label.to_string()
    };
    format!("{context}{label}: {cell}{unit} {name}.")
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Markup a cell may carry (`**328,700**`), white space collapsed.
fn tidy_cell(cell: &str) -> String {
    cell.trim_matches(|c: char| c.is_whitespace() || c == '*' || c == '_')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A cell that is a figure: digits with separators, a decimal point, a
/// percent sign or a unit after them (2214.6, 59.2%, 4.58万批).
fn is_figure(cell: &str) -> bool {
    let digits = cell.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || is_year(cell) {
        return false;
    }
    let rest: String = cell
        .chars()
        .filter(|c| !matches!(c, ',' | '.' | '，'))
        .skip_while(|c| c.is_ascii_digit())
        .collect();
    rest.chars().count() <= 3 && !rest.chars().any(|c| c.is_ascii_digit())
}

/// Whether a figure cell carries its own unit (59.2%, 4.58万批).
fn ends_with_unit(cell: &str) -> bool {
    cell.chars().last().is_some_and(|c| !c.is_ascii_digit())
}

/// A year on its own: 2021, 2021年.
fn is_year(s: &str) -> bool {
    let digits = s.trim_end_matches('年');
    digits.len() == 4
        && digits.chars().all(|c| c.is_ascii_digit())
        && (digits.starts_with("19") || digits.starts_with("20"))
}

/// "扣留数量（万件）" → ("扣留数量", "万件"); "Batches (batches)" → ("Batches", "batches").
fn split_unit(head: &str) -> (&str, &str) {
    for (open, close) in [('（', '）'), ('(', ')')] {
        if let Some(i) = head.rfind(open) {
            if head.ends_with(close) {
                let unit = &head[i + open.len_utf8()..head.len() - close.len_utf8()];
                if unit.chars().count() <= 10 {
                    return (head[..i].trim(), unit.trim());
                }
            }
        }
    }
    (head, "")
}

/// "表1　2025年…" → "2025年…": the table's number is no part of its subject.
fn strip_table_number(caption: &str) -> &str {
    let rest = caption
        .strip_prefix('表')
        .or_else(|| caption.strip_prefix("Table"))
        .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit() || c == ' '))
        .filter(|r| r.len() < caption.len() - 1);
    match rest {
        Some(r) => r.trim_start_matches([' ', '\u{3000}', ':', '：', '.']),
        None => caption,
    }
}

fn is_mostly_cjk<'a>(texts: impl Iterator<Item = &'a String>) -> bool {
    let (cjk, latin) = texts.flat_map(|t| t.chars()).fold((0, 0), |(c, l), ch| {
        if super::is_cjk(ch) {
            (c + 1, l)
        } else if ch.is_alphabetic() {
            (c, l + 1)
        } else {
            (c, l)
        }
    });
    cjk >= latin && cjk > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(caption: Option<&str>, rows: &[&[&str]]) -> Table {
        Table {
            caption: caption.map(str::to_string),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect(),
        }
    }

    #[test]
    fn each_figure_cell_reads_with_its_row_and_column_headers_and_unit() {
        let t = table(
            Some("表2　2019年某海关分渠道查扣情况"),
            &[
                &["渠道", "批次（批）", "数量（万件）", "占比"],
                &["邮递", "120", "3.5", "40%"],
                &["合计", "300", "9.1", "100%"],
            ],
        );
        assert_eq!(
            t.sentences().unwrap(),
            [
                "2019年某海关分渠道查扣情况：邮递，批次120批。",
                "2019年某海关分渠道查扣情况：邮递，数量3.5万件。",
                "2019年某海关分渠道查扣情况：邮递，占比40%。",
                "2019年某海关分渠道查扣情况：合计，批次300批。",
                "2019年某海关分渠道查扣情况：合计，数量9.1万件。",
                "2019年某海关分渠道查扣情况：合计，占比100%。",
            ]
        );
    }

    #[test]
    fn year_rows_in_english_name_the_year_and_a_total_row_stays_a_total() {
        let t = table(
            None,
            &[
                &["Year", "Batches detained", "Pieces (million)"],
                &["2017", "**12,300**", "4.5"],
                &["**Total 2017–2018**", "25,000", "9.9"],
            ],
        );
        assert_eq!(
            t.sentences().unwrap(),
            [
                "In 2017: 12,300 batches detained.",
                "In 2017: 4.5 million pieces.",
                "Total 2017–2018: 25,000 batches detained.",
                "Total 2017–2018: 9.9 million pieces.",
            ]
        );
    }

    #[test]
    fn a_layout_table_or_one_without_figures_gives_no_sentences() {
        let layout = table(
            None,
            &[
                &["首页", "新闻"],
                &[
                    "这是一段很长的正文文字，它写在一个用来排版的表格里面，不是数据表格的单元格。",
                    "x",
                ],
            ],
        );
        assert_eq!(layout.sentences(), None);
        let words = table(None, &[&["问题", "答案"], &["备案", "十年"]]);
        assert_eq!(words.sentences(), None);
    }
}
