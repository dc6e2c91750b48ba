//! formats: "here are a document file's bytes, give me its text". Tells
//! the format from the bytes (a PDF or ZIP signature, a BOM, HTML markup),
//! the name only telling Markdown from plain text, and decodes it: plain
//! text and Markdown in UTF-8 (with or without BOM), UTF-16 with BOM,
//! GB18030/GBK or Big5 (`text`); portal HTML pages, main text only
//! (`html`); DOCX (`docx`); PDF with embedded fonts (`pdf`). The text comes
//! out one paragraph a line, with the metadata the format itself carries
//! (an HTML page's `<title>`, `<meta>` date and canonical address, a DOCX
//! or PDF title) as hints.
//!
//! Invariant: reads nothing but the bytes handed in; a file it cannot read
//! is a `FormatError` saying why, never a panic and never mojibake passed
//! on as text.

mod docx;
mod html;
mod markdown;
mod pdf;
mod table;
mod text;

use crate::domain::model::DocumentMeta;
use std::path::Path;

/// Why a document file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The file holds nothing but whitespace.
    #[error("empty")]
    Empty,
    /// NUL bytes outside a format read here (an image, an archive, UTF-16
    /// without a byte-order mark).
    #[error("binary content (NUL bytes), not a format read here (UTF-16 needs a byte-order mark)")]
    Binary,
    /// Bytes that decode in no supported encoding, or decode to control
    /// characters rather than text (random bytes).
    #[error("not text: {0}")]
    NotText(String),
    /// A PDF that cannot be parsed (truncated, damaged, encrypted).
    #[error("not a readable PDF: {0}")]
    Pdf(String),
    /// A ZIP archive that is not a readable DOCX.
    #[error("not a readable DOCX: {0}")]
    Docx(String),
    /// A document that parsed but holds no text (a scanned PDF, a page
    /// without a main text).
    #[error("no text found in this {0}")]
    NoText(&'static str),
}

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
    Docx,
    Pdf,
}

impl Format {
    /// Whether the text may open with `---` front matter.
    pub fn has_front_matter(self) -> bool {
        matches!(self, Format::Text | Format::Markdown)
    }
}

/// A document file's text, one paragraph a line, and what its format said
/// about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub format: Format,
    /// The character encoding the text was decoded from (`UTF-8`, `GBK`…),
    /// for formats that are text.
    pub encoding: Option<&'static str>,
    pub text: String,
    pub title: Option<String>,
    /// `YYYY-MM-DD`.
    pub published: Option<String>,
    pub url: Option<String>,
    /// What was read but not quite (invalid bytes replaced).
    pub notes: Vec<String>,
}

impl Decoded {
    fn new(format: Format, text: String) -> Decoded {
        Decoded {
            format,
            encoding: None,
            text,
            title: None,
            published: None,
            url: None,
            notes: Vec::new(),
        }
    }

    /// Fills `meta` with what the format said, where front matter (when
    /// `from_front_matter`) did not already say it: the format's metadata
    /// is firmer than what is inferred from the text, front matter firmer
    /// still.
    pub fn apply_hints(&self, meta: &mut DocumentMeta, from_front_matter: bool) {
        let take = |current: &mut Option<String>, hint: &Option<String>| {
            if hint.is_some() && (!from_front_matter || current.is_none()) {
                current.clone_from(hint);
            }
        };
        take(&mut meta.published, &self.published);
        take(&mut meta.url, &self.url);
        if let Some(title) = &self.title {
            if !from_front_matter || meta.title.is_empty() {
                meta.title.clone_from(title);
            }
        }
    }
}

/// Reads a document file: the format from its bytes (the name only tells
/// Markdown from plain text), then its text and metadata hints.
pub fn read_document(path: &Path, bytes: &[u8]) -> Result<Decoded, FormatError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FormatError::Empty);
    }
    if pdf::is_pdf(bytes) {
        return pdf::read(bytes);
    }
    if docx::is_zip(bytes) {
        return docx::read(bytes);
    }
    let (text, encoding, note) = text::decode(bytes, html::declared_charset(bytes))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let mut decoded = if html::looks_like_html(&text, &extension) {
        html::read(&text)?
    } else if matches!(extension.as_str(), "md" | "markdown" | "mdown") {
        Decoded::new(Format::Markdown, markdown::to_text(&text))
    } else {
        Decoded::new(Format::Text, text)
    };
    if decoded.text.trim().is_empty() {
        return Err(FormatError::Empty);
    }
    decoded.encoding = Some(encoding);
    decoded.notes.extend(note);
    Ok(decoded)
}

/// Whether `c` is written without spaces between words: CJK ideographs,
/// kana, hangul, and CJK and full-width punctuation.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3000..=0x303F | 0x3040..=0x30FF | 0x3100..=0x312F
        | 0x3190..=0x31FF | 0x3200..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Joins the lines of one paragraph: without a space when the paragraph is
/// mostly CJK (a line may end inside a word or a figure there), with one
/// otherwise.
fn join_lines<S: AsRef<str>>(lines: &[S]) -> String {
    let (cjk, latin) =
        lines
            .iter()
            .flat_map(|l| l.as_ref().chars())
            .fold((0usize, 0usize), |(c, l), ch| {
                if is_cjk(ch) {
                    (c + 1, l)
                } else if ch.is_alphabetic() {
                    (c, l + 1)
                } else {
                    (c, l)
                }
            });
    let separator = if cjk >= latin { "" } else { " " };
    lines
        .iter()
        .map(|l| l.as_ref().trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(separator)
}

/// `YYYY-MM-DD` from the first date written with digits in `text`
/// (2018-04-26, 2018/4/26, 2018年4月26日, 20180426T…).
fn iso_date(text: &str) -> Option<String> {
    static DATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"((?:19|20)\d{2})(?:\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})|(\d{2})(\d{2})(?:\D|$))",
        )
        .unwrap()
    });
    DATE.captures_iter(text).find_map(|c| {
        let year: u16 = c[1].parse().ok()?;
        let month: u8 = c.get(2).or(c.get(4))?.as_str().parse().ok()?;
        let day: u8 = c.get(3).or(c.get(5))?.as_str().parse().ok()?;
        ((1..=12).contains(&month) && (1..=31).contains(&day))
            .then(|| format!("{year:04}-{month:02}-{day:02}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_a_cjk_paragraph_join_without_spaces_latin_with_one() {
        assert_eq!(
            join_lines(&["实际扣留侵权嫌疑货物1.9", "9万批、3099.2万件。"]),
            "实际扣留侵权嫌疑货物1.99万批、3099.2万件。"
        );
        assert_eq!(
            join_lines(&["Customs detained 55,500", "batches of goods."]),
            "Customs detained 55,500 batches of goods."
        );
    }

    #[test]
    fn dates_in_meta_formats_read_as_iso() {
        assert_eq!(
            iso_date("2018-04-26 09:30:00").as_deref(),
            Some("2018-04-26")
        );
        assert_eq!(iso_date("2018年4月6日").as_deref(), Some("2018-04-06"));
        assert_eq!(
            iso_date("20180426T093000+0800").as_deref(),
            Some("2018-04-26")
        );
        assert_eq!(iso_date("2018-13-40"), None);
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(
            read_document(Path::new("x.txt"), b" \n\t\r\n"),
            Err(FormatError::Empty)
        );
        assert_eq!(
            read_document(Path::new("x.txt"), b""),
            Err(FormatError::Empty)
        );
    }
}
