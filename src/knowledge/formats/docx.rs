//! docx: the text of a Word document (a ZIP archive read with `zip`, its
//! `word/document.xml` with quick-xml): one `<w:p>` paragraph a line, the
//! runs' `<w:t>` text joined, tabs and breaks kept; the title from
//! `docProps/core.xml`.

use super::{Decoded, Format, FormatError};
use quick_xml::events::Event;
use quick_xml::Reader;
use std::io::Read;

/// A part larger than this is not read (a ZIP bomb, not a report).
const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;

/// Whether the bytes are a ZIP archive (DOCX is one).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads a DOCX's paragraphs and title.
pub fn read(bytes: &[u8]) -> Result<Decoded, FormatError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| FormatError::Docx(format!("not a readable ZIP archive: {e}")))?;
    let document = part(&mut archive, "word/document.xml")?.ok_or_else(|| {
        FormatError::Docx("a ZIP archive without word/document.xml (not a Word document)".into())
    })?;
    let text = paragraphs(&document)?;
    if text.trim().is_empty() {
        return Err(FormatError::NoText("DOCX"));
    }
    let mut decoded = Decoded::new(Format::Docx, text);
    if let Ok(Some(core)) = part(&mut archive, "docProps/core.xml") {
        decoded.title = element_text(&core, "title").filter(|t| !t.trim().is_empty());
    }
    Ok(decoded)
}

fn part<R: std::io::Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
) -> Result<Option<String>, FormatError> {
    let file = match archive.by_name(name) {
        Ok(file) => file,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(FormatError::Docx(format!("{name}: {e}"))),
    };
    let mut text = String::new();
    file.take(MAX_PART_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| FormatError::Docx(format!("{name}: {e}")))?;
    Ok(Some(text))
}

/// The text of `word/document.xml`, a paragraph a line.
fn paragraphs(xml: &str) -> Result<String, FormatError> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| FormatError::Docx(format!("word/document.xml: {e}")))?;
        match event {
            Event::Start(e) if e.local_name().as_ref() == "t" => in_text = true,
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "p" => out.push('\n'),
                _ => {}
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if in_text => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if in_text => push_reference(&mut out, &r),
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// `&amp;`, `&#x4E2D;` and the like as the character they stand for.
fn push_reference(out: &mut String, reference: &quick_xml::events::BytesRef) {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        out.push(c);
    } else if let Some(text) = quick_xml::escape::resolve_xml_entity(reference) {
        out.push_str(text);
    }
}

/// The text of the first element named `local` (any namespace).
fn element_text(xml: &str, local: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut inside = false;
    let mut out = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == local => inside = true,
            Event::End(e) if inside && e.local_name().as_ref() == local => return Some(out),
            Event::Text(t) if inside => out.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if inside => push_reference(&mut out, &r),
            Event::Eof => return None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_join_and_paragraphs_become_lines() {
        let xml = r#"<w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>2018年，全国海关</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>实际扣留</w:t></w:r><w:r><w:t xml:space="preserve">侵权嫌疑货物1.88万批 &amp; 更多</w:t></w:r></w:p>
            <w:p><w:r><w:instrText>PAGE</w:instrText><w:t>第二段</w:t><w:tab/><w:t>末</w:t></w:r></w:p>
        </w:body></w:document>"#;
        assert_eq!(
            paragraphs(xml).unwrap(),
            "2018年，全国海关实际扣留侵权嫌疑货物1.88万批 & 更多\n第二段\t末\n"
        );
    }

    #[test]
    fn a_zip_that_is_not_a_word_document_says_so() {
        let err = read(b"PK\x03\x04 not really a zip").unwrap_err();
        assert!(matches!(err, FormatError::Docx(_)), "{err}");
    }
}
