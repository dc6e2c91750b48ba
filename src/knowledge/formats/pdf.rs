//! pdf: the text of a PDF (lopdf parses, pdf-extract decodes each glyph
//! through its font's ToUnicode map, embedded CJK fonts included). Glyphs
//! are laid back into lines by their positions, and lines into paragraphs:
//! a paragraph ends at a wider gap, a change of font size, an indented next
//! line, or a short line that ends a sentence. A paragraph's lines are
//! joined without a space when it is CJK.

use super::{is_cjk, join_lines, Decoded, Format, FormatError};
use pdf_extract::{Document, MediaBox, OutputDev, OutputError, Transform};

/// Whether the bytes are a PDF (`%PDF-` within the first kilobyte).
pub fn is_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

/// Reads a PDF's text and its document-information title.
pub fn read(bytes: &[u8]) -> Result<Decoded, FormatError> {
    let tail = &bytes[bytes.len().saturating_sub(2048)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(FormatError::Pdf(
            "truncated: the end-of-file marker %%EOF is missing".into(),
        ));
    }
    let document = Document::load_mem(bytes).map_err(|e| FormatError::Pdf(e.to_string()))?;
    if document.is_encrypted() {
        return Err(FormatError::Pdf("encrypted".into()));
    }
    let mut glyphs = Glyphs::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pdf_extract::output_doc(&document, &mut glyphs)
    }));
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(FormatError::Pdf(e.to_string())),
        Err(_) => {
            return Err(FormatError::Pdf(
                "a page's content or font could not be decoded".into(),
            ))
        }
    }
    let paragraphs = paragraphs(&lines(&glyphs.0));
    if paragraphs.is_empty() {
        return Err(FormatError::NoText(
            "PDF (scanned pages without a text layer?)",
        ));
    }
    let mut decoded = Decoded::new(Format::Pdf, paragraphs.join("\n"));
    decoded.title = info_title(&document);
    Ok(decoded)
}

/// One glyph as drawn: page, baseline position, size, where it ends.
#[derive(Debug, Clone, PartialEq)]
struct Glyph {
    page: u32,
    x: f64,
    y: f64,
    size: f64,
    end: f64,
    text: String,
}

#[derive(Default)]
struct Glyphs(Vec<Glyph>, u32);

impl OutputDev for Glyphs {
    fn begin_page(
        &mut self,
        page: u32,
        _: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.1 = page;
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        // The font size through the text matrix: the side of the square
        // of the same area as the transformed (size, size) vector.
        let vx = font_size * trm.m11 + font_size * trm.m21;
        let vy = font_size * trm.m12 + font_size * trm.m22;
        let size = (vx * vy).abs().sqrt().max(0.1);
        self.0.push(Glyph {
            page: self.1,
            x: trm.m31,
            y: trm.m32,
            size,
            end: trm.m31 + width * size,
            text: text.to_string(),
        });
        Ok(())
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

/// A line of text as laid out.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    page: u32,
    y: f64,
    start: f64,
    end: f64,
    size: f64,
    text: String,
}

/// Glyphs in drawing order into lines: a new line where the baseline moves
/// by half a glyph or the pen goes back left; a space where Latin glyphs
/// stand apart.
fn lines(glyphs: &[Glyph]) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for g in glyphs {
        let same_line = lines.last().is_some_and(|l| {
            l.page == g.page
                && (l.y - g.y).abs() <= 0.5 * l.size.max(g.size)
                && g.x >= l.end - l.size
        });
        if !same_line {
            lines.push(Line {
                page: g.page,
                y: g.y,
                start: g.x,
                end: g.end,
                size: g.size,
                text: g.text.clone(),
            });
            continue;
        }
        let Some(line) = lines.last_mut() else {
            continue;
        };
        let apart = g.x - line.end > 0.2 * g.size.min(line.size);
        let cjk_pair = line.text.chars().last().is_some_and(is_cjk)
            && g.text.chars().next().is_some_and(is_cjk);
        if apart && !cjk_pair && !line.text.ends_with(' ') && !g.text.starts_with(' ') {
            line.text.push(' ');
        }
        line.text.push_str(&g.text);
        line.end = line.end.max(g.end);
        line.size = line.size.max(g.size);
    }
    lines.retain(|l| !l.text.trim().is_empty());
    lines
}

/// Lines into paragraphs, one string each.
fn paragraphs(lines: &[Line]) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        current.push(&line.text);
        let ends = lines
            .get(i + 1)
            .is_none_or(|next| paragraph_ends(lines, line, next));
        if ends {
            out.push(join_lines(&current));
            current.clear();
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Whether `line` is the last of its paragraph, `next` following it.
fn paragraph_ends(lines: &[Line], line: &Line, next: &Line) -> bool {
    if next.page != line.page {
        return !continues_across_pages(line);
    }
    let size = line.size.max(next.size);
    let on_page = lines.iter().filter(|l| l.page == line.page);
    let (left, right) = on_page.fold((f64::MAX, f64::MIN), |(lo, hi), l| {
        (lo.min(l.start), hi.max(l.end))
    });
    let gap = line.y - next.y;
    let wide_gap = gap > 1.8 * size || gap < -0.5 * size;
    let new_size = (line.size - next.size).abs() > 0.15 * size;
    let indented = next.start > left + 1.2 * size && next.start > line.start + 0.5 * size;
    let short_sentence_end = line.end < right - 3.0 * size && ends_sentence(&line.text);
    wide_gap || new_size || indented || short_sentence_end
}

/// A page's last line that does not end a sentence goes on on the next page.
fn continues_across_pages(line: &Line) -> bool {
    !ends_sentence(&line.text)
}

fn ends_sentence(text: &str) -> bool {
    text.trim_end().ends_with([
        '。', '！', '？', '：', '；', '.', '!', '?', ':', '”', '"', '）', ')',
    ])
}

/// The `/Title` of the document information dictionary, when it has one.
fn info_title(document: &Document) -> Option<String> {
    let info = document.trailer.get(b"Info").ok()?;
    let info = match info {
        pdf_extract::Object::Reference(id) => document.get_dictionary(*id).ok()?,
        pdf_extract::Object::Dictionary(d) => d,
        _ => return None,
    };
    let bytes = info.get(b"Title").ok()?.as_str().ok()?;
    let title = match bytes {
        [0xFE, 0xFF, rest @ ..] => {
            let units: Vec<u16> = rest
                .chunks_exact(2)
                .map(|p| u16::from_be_bytes([p[0], p[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => bytes.iter().map(|&b| b as char).collect(),
    };
    let title = title.trim().to_string();
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(y: f64, start: f64, end: f64, text: &str) -> Line {
        Line {
            page: 1,
            y,
            start,
            end,
            size: 10.0,
            text: text.into(),
        }
    }

    #[test]
    fn a_paragraph_ends_at_a_short_sentence_end_or_an_indent_not_at_a_full_line() {
        let lines = [
            line(
                800.0,
                70.0,
                300.0,
                "全年共实施知识产权保护措施2.08万次，实际扣留侵权嫌疑货物1.9",
            ),
            line(
                785.0,
                50.0,
                300.0,
                "9万批、3099.2万件，较上年有所增长，其中出口环节占",
            ),
            line(770.0, 50.0, 180.0, "九成以上。"),
            line(
                755.0,
                70.0,
                300.0,
                "海关还与权利人加强合作，帮助企业办理备案并开展维权",
            ),
            line(740.0, 50.0, 120.0, "培训。"),
        ];
        assert_eq!(
            paragraphs(&lines),
            [
                "全年共实施知识产权保护措施2.08万次，实际扣留侵权嫌疑货物1.99万批、3099.2万件，较上年有所增长，其中出口环节占九成以上。",
                "海关还与权利人加强合作，帮助企业办理备案并开展维权培训。"
            ]
        );
    }

    #[test]
    fn latin_glyphs_standing_apart_get_a_space_cjk_glyphs_never() {
        let glyph = |x: f64, text: &str| Glyph {
            page: 1,
            x,
            y: 100.0,
            size: 10.0,
            end: x + 5.0,
            text: text.into(),
        };
        let out = lines(&[
            glyph(0.0, "a"),
            glyph(8.0, "b"),
            glyph(20.0, "海"),
            glyph(28.0, "关"),
        ]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].text, "a b 海关");
    }

    #[test]
    fn a_truncated_pdf_names_the_missing_end() {
        let err = read(b"%PDF-1.6\n1 0 obj\n<< /Type /Catalog").unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }
}
