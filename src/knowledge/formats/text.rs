//! text: the character encoding of a text file, from its bytes: a BOM
//! (UTF-8, UTF-16LE, UTF-16BE), else UTF-8 when the bytes are valid UTF-8,
//! else the charset an HTML page declares when its bytes decode in it, else
//! chardetng's guess (GBK/GB18030, Big5, …). The decoded text must be text:
//! no malformed sequence, and almost no control characters.

use super::FormatError;
use encoding_rs::{Encoding, UTF_8};

/// Text with more than this share of control or private-use characters is
/// taken for binary data that happened to decode.
const MAX_ODD_SHARE: f64 = 0.01;

/// Decodes `bytes` into text, with the name of the encoding used and a
/// note when a few invalid UTF-8 bytes were replaced.
pub fn decode(
    bytes: &[u8],
    declared: Option<&'static Encoding>,
) -> Result<(String, &'static str, Option<String>), FormatError> {
    let (text, encoding) = decode_strictly(bytes, declared)?;
    let note = text
        .contains('\u{FFFD}')
        .then(|| "invalid UTF-8 bytes replaced".to_string());
    Ok((text, encoding, note))
}

/// UTF-8 with a few invalid bytes (a cut character), replaced: at most one
/// bad sequence per hundred characters and per ten well-formed non-ASCII
/// ones. Mostly-UTF-8 text must not be taken for a legacy encoding and
/// turned into mojibake.
fn mostly_utf8(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let bad = text.chars().filter(|&c| c == '\u{FFFD}').count();
    let good = text
        .chars()
        .filter(|&c| !c.is_ascii() && c != '\u{FFFD}')
        .count();
    let total = text.chars().count();
    (bad * 100 <= total && bad * 10 <= good).then(|| text.into_owned())
}

fn decode_strictly(
    bytes: &[u8],
    declared: Option<&'static Encoding>,
) -> Result<(String, &'static str), FormatError> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let text = strict(encoding, &bytes[bom_len..]).ok_or_else(|| {
            FormatError::NotText(format!(
                "malformed {} after its byte-order mark",
                encoding.name()
            ))
        })?;
        return checked(text, encoding);
    }
    if bytes.contains(&0) {
        return Err(FormatError::Binary);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return checked(text.to_string(), UTF_8);
    }
    if let Some(text) = mostly_utf8(bytes) {
        return checked(text, UTF_8);
    }
    if let Some(encoding) = declared.filter(|e| *e != UTF_8) {
        if let Some(text) = strict(encoding, bytes) {
            return checked(text, encoding);
        }
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Deny);
    let text = strict(encoding, bytes).ok_or_else(|| {
        FormatError::NotText(format!(
            "neither UTF-8 nor {} (the likeliest legacy encoding): malformed byte sequences",
            encoding.name()
        ))
    })?;
    checked(text, encoding)
}

/// The text when every byte sequence is well formed in `encoding`.
fn strict(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
}

/// Rejects decoded text that is mostly not text.
fn checked(
    text: String,
    encoding: &'static Encoding,
) -> Result<(String, &'static str), FormatError> {
    let total = text.chars().count().max(1);
    let odd = text.chars().filter(|&c| is_odd(c)).count();
    let share = odd as f64 / total as f64;
    if share > MAX_ODD_SHARE {
        return Err(FormatError::NotText(format!(
            "{:.0}% of its characters decoded as {} are control or private-use characters",
            share * 100.0,
            encoding.name()
        )));
    }
    Ok((text, encoding.name()))
}

/// Control characters other than line and page breaks and tabs, and
/// private-use characters.
fn is_odd(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
        || matches!(c as u32, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str =
        "2021年，全国海关共实施知识产权保护措施3.21万次，实际扣留侵权嫌疑货物2.34万批。";
    const REPORT_TW: &str =
        "2021年，全國海關共實施智慧財產權保護措施3.21萬次，實際扣留侵權嫌疑貨物2.34萬批。";

    fn check(bytes: &[u8], want_text: &str, want_encoding: &str) {
        let (text, encoding, note) = decode(bytes, None).unwrap();
        assert_eq!(
            (text.as_str(), encoding, note),
            (want_text, want_encoding, None)
        );
    }

    #[test]
    fn boms_pick_utf8_and_utf16_either_order() {
        let mut utf8 = b"\xEF\xBB\xBF".to_vec();
        utf8.extend_from_slice(REPORT.as_bytes());
        check(&utf8, REPORT, "UTF-8");
        let mut le = vec![0xFF, 0xFE];
        le.extend(REPORT.encode_utf16().flat_map(u16::to_le_bytes));
        check(&le, REPORT, "UTF-16LE");
        let mut be = vec![0xFE, 0xFF];
        be.extend(REPORT.encode_utf16().flat_map(u16::to_be_bytes));
        check(&be, REPORT, "UTF-16BE");
    }

    #[test]
    fn legacy_chinese_encodings_are_detected_without_a_label() {
        let (gbk, _, _) = encoding_rs::GB18030.encode(REPORT);
        check(&gbk, REPORT, "GBK");
        let (big5, _, _) = encoding_rs::BIG5.encode(REPORT_TW);
        check(&big5, REPORT_TW, "Big5");
    }

    #[test]
    fn random_bytes_and_nul_bytes_are_not_text() {
        let mut state = 7u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((state >> 16) % 255 + 1) as u8
            })
            .collect();
        assert!(matches!(decode(&noise, None), Err(FormatError::NotText(_))));
        assert_eq!(decode(b"PK\x00\x01abc", None), Err(FormatError::Binary));
    }

    #[test]
    fn a_cut_utf8_character_is_replaced_not_read_as_a_legacy_encoding() {
        let mut bytes = REPORT.repeat(10).into_bytes();
        bytes.insert(REPORT.len() * 5, 0xE4);
        let (text, encoding, note) = decode(&bytes, None).unwrap();
        assert_eq!(encoding, "UTF-8");
        assert!(text.contains("实际扣留侵权嫌疑货物2.34万批"), "{text}");
        assert_eq!(note.as_deref(), Some("invalid UTF-8 bytes replaced"));
    }
}
