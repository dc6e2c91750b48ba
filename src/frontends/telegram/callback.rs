//! callback: "what does this button's data ask for?" The data behind the
//! answer buttons is small (Telegram allows 64 bytes), versioned (`v1:`)
//! and read back strictly: anything that does not parse exactly is forged,
//! and a button made by another knowledge version is stale (fact numbers
//! are positions in one snapshot's fact table).
//!
//! `v1:s:<lang>:<version>:<fact>.<fact>…` Sources, `v1:d:…` Details,
//! `v1:f:<lang>:<version>:<fact>` the question that fact answers (its
//! metric, dimensions and period) in its own year, `v1:y:<lang>:<year>` a
//! year's summary, `v1:e:<lang>:<example>:<year>` an example question,
//! `v1:k:<lang>:<pending id>:<a|A|c>` a document preview's Add, Add anyway
//! or Cancel (and `r|R` Remove, Remove anyway).
//! The broadcast buttons (`bc:…`) are read by `broadcast::parse_button`.
//!
//! Invariant: pure; `decode(encode(p)) == p` for every press that fits.

use crate::domain::model::Language;

/// Telegram's limit on callback data, in bytes.
pub const MAX_DATA_BYTES: usize = 64;

const PREFIX: &str = "v1";

/// How many characters of the snapshot version a button carries.
pub const VERSION_CHARS: usize = 8;

/// What a button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Press {
    /// 来源 / Sources: the documents of these facts, linked, with the
    /// sentences in full.
    Sources(Language, Facts),
    /// 详细 / Details: the evidence of these facts in full.
    Details(Language, Facts),
    /// A year button: the question this fact answers, in its year.
    Fact(Language, Facts),
    /// A year's summary.
    Summary(Language, u16),
    /// Example question `n` (of `wording::EXAMPLES`) about a year.
    Example(Language, u8, u16),
    /// A document preview's button: pending row `id` (admins only).
    Document(Language, i64, DocumentAction),
}

/// What a document preview's button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentAction {
    /// Save the document sent; `true`: even though it regresses.
    Add(bool),
    /// Take the document out; `true`: even though it regresses.
    Remove(bool),
    Cancel,
}

impl DocumentAction {
    fn code(self) -> char {
        match self {
            DocumentAction::Add(false) => 'a',
            DocumentAction::Add(true) => 'A',
            DocumentAction::Remove(false) => 'r',
            DocumentAction::Remove(true) => 'R',
            DocumentAction::Cancel => 'c',
        }
    }

    fn of(code: &str) -> Option<DocumentAction> {
        match code {
            "a" => Some(DocumentAction::Add(false)),
            "A" => Some(DocumentAction::Add(true)),
            "r" => Some(DocumentAction::Remove(false)),
            "R" => Some(DocumentAction::Remove(true)),
            "c" => Some(DocumentAction::Cancel),
            _ => None,
        }
    }
}

/// Fact numbers of one knowledge version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub version: String,
    pub facts: Vec<usize>,
}

/// The short form of a snapshot version that buttons carry.
pub fn short_version(version: &str) -> String {
    version
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(VERSION_CHARS)
        .collect()
}

fn language_code(language: Language) -> char {
    match language {
        Language::Simplified => 'z',
        Language::Traditional => 't',
        Language::English => 'e',
    }
}

fn language_of(code: &str) -> Option<Language> {
    match code {
        "z" => Some(Language::Simplified),
        "t" => Some(Language::Traditional),
        "e" => Some(Language::English),
        _ => None,
    }
}

/// The button data; facts that would not fit in 64 bytes are left off
/// (at least one is always kept).
pub fn encode(press: &Press) -> String {
    let with_facts = |kind: &str, l: Language, f: &Facts| {
        let mut data = format!("{PREFIX}:{kind}:{}:{}:", language_code(l), f.version);
        for (i, fact) in f.facts.iter().enumerate() {
            let piece = if i == 0 {
                fact.to_string()
            } else {
                format!(".{fact}")
            };
            if i > 0 && data.len() + piece.len() > MAX_DATA_BYTES {
                break;
            }
            data.push_str(&piece);
        }
        data
    };
    match press {
        Press::Sources(l, f) => with_facts("s", *l, f),
        Press::Details(l, f) => with_facts("d", *l, f),
        Press::Fact(l, f) => with_facts("f", *l, f),
        Press::Summary(l, year) => format!("{PREFIX}:y:{}:{year}", language_code(*l)),
        Press::Example(l, n, year) => format!("{PREFIX}:e:{}:{n}:{year}", language_code(*l)),
        Press::Document(l, id, action) => {
            format!("{PREFIX}:k:{}:{id}:{}", language_code(*l), action.code())
        }
    }
}

/// Reads button data back; None for anything this version did not write.
pub fn decode(data: &str) -> Option<Press> {
    if data.len() > MAX_DATA_BYTES {
        return None;
    }
    let parts: Vec<&str> = data.split(':').collect();
    let (&[prefix, kind, language], rest) = parts.split_first_chunk::<3>()?;
    if prefix != PREFIX {
        return None;
    }
    let language = language_of(language)?;
    match (kind, rest) {
        ("s" | "d" | "f", [version, facts]) => {
            let facts = Facts {
                version: version_token(version)?,
                facts: fact_list(facts)?,
            };
            if kind == "f" && facts.facts.len() != 1 {
                return None;
            }
            Some(match kind {
                "s" => Press::Sources(language, facts),
                "d" => Press::Details(language, facts),
                _ => Press::Fact(language, facts),
            })
        }
        ("y", [year]) => Some(Press::Summary(language, year_number(year)?)),
        ("e", [n, year]) => Some(Press::Example(
            language,
            plain_number(n)?,
            year_number(year)?,
        )),
        ("k", [id, action]) => Some(Press::Document(
            language,
            plain_number(id)?,
            DocumentAction::of(action)?,
        )),
        _ => None,
    }
}

fn version_token(text: &str) -> Option<String> {
    let ok = !text.is_empty()
        && text.len() <= VERSION_CHARS
        && text.chars().all(|c| c.is_ascii_alphanumeric());
    ok.then(|| text.to_string())
}

/// Digits only, no sign, no leading zero, no overflow.
fn plain_number<T: std::str::FromStr>(text: &str) -> Option<T> {
    let canonical = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

fn year_number(text: &str) -> Option<u16> {
    plain_number::<u16>(text).filter(|y| (1900..=2200).contains(y))
}

fn fact_list(text: &str) -> Option<Vec<usize>> {
    let facts: Option<Vec<usize>> = text.split('.').map(plain_number).collect();
    facts.filter(|f| !f.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(list: &[usize]) -> Facts {
        Facts {
            version: "ab12cd34".into(),
            facts: list.to_vec(),
        }
    }

    fn check(press: Press, data: &str) {
        assert_eq!(encode(&press), data);
        assert_eq!(decode(data), Some(press));
    }

    #[test]
    fn every_press_round_trips_through_small_data() {
        check(
            Press::Sources(Language::Simplified, facts(&[12, 7])),
            "v1:s:z:ab12cd34:12.7",
        );
        check(
            Press::Details(Language::English, facts(&[0])),
            "v1:d:e:ab12cd34:0",
        );
        check(
            Press::Fact(Language::Traditional, facts(&[345])),
            "v1:f:t:ab12cd34:345",
        );
        check(Press::Summary(Language::English, 2024), "v1:y:e:2024");
        check(
            Press::Example(Language::Simplified, 2, 2024),
            "v1:e:z:2:2024",
        );
        check(
            Press::Document(Language::English, 17, DocumentAction::Add(true)),
            "v1:k:e:17:A",
        );
        check(
            Press::Document(Language::Simplified, 3, DocumentAction::Cancel),
            "v1:k:z:3:c",
        );
    }

    #[test]
    fn many_facts_are_cut_to_fit_64_bytes() {
        let many: Vec<usize> = (10_000..10_050).collect();
        let data = encode(&Press::Sources(Language::Simplified, facts(&many)));
        assert!(data.len() <= MAX_DATA_BYTES, "{}", data.len());
        let Some(Press::Sources(_, f)) = decode(&data) else {
            panic!("{data}")
        };
        assert_eq!(f.facts[..], many[..f.facts.len()]);
    }

    #[test]
    fn anything_else_is_refused() {
        for forged in [
            "",
            "v1",
            "v2:y:z:2024",
            "v1:y:x:2024",
            "v1:y:z:24",
            "v1:y:z:02024",
            "v1:y:z:2024:1",
            "v1:s:z:ab12cd34:",
            "v1:s:z:ab12cd34:1..2",
            "v1:s:z:ab-12:1",
            "v1:s:z:ab12cd34:-1",
            "v1:f:z:ab12cd34:1.2",
            "v1:e:z:999:2024",
            "v1:s:z:ab12cd34:99999999999999999999999",
            "bc:confirm:1",
            "v1:k:z:17:x",
            "v1:k:z:-17:a",
            "v1:k:z:017:a",
            "v1:k:z:17",
        ] {
            assert_eq!(decode(forged), None, "{forged}");
        }
    }
}
