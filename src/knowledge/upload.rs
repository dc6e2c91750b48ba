//! upload: "an admin sent this file (or wants that document out): what
//! would it change, and where does it go?" A preview builds the knowledge
//! as it would be, in memory, beside the one answering: the document's
//! metadata, its rows (the headline rows first), the conflicts it adds and
//! how the gating answers change. Saving gives the file a safe name of its
//! own inside `documents/`; taking one out moves it to `removed/`, which
//! the loader does not read, so nothing is lost.
//!
//! Invariant: nothing is written to the knowledge folder by a preview; a
//! saved name is always a plain file name inside `documents/` (no path of
//! the sender's survives), and an existing document is never overwritten.

use crate::domain::model::{DocumentMeta, Fact, Scope};
use crate::knowledge::files::{self, KnowledgeError};
use crate::knowledge::gating::{self, GateReport};
use crate::knowledge::snapshot::{Snapshot, SnapshotError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Longest saved name, in characters (extension included).
const MAX_NAME_CHARS: usize = 80;

/// Why a document could not be previewed, saved or taken out.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file is not a document the bot can read.
    #[error("{name} cannot be read: {reason}")]
    Unreadable { name: String, reason: String },
    /// The knowledge folder could not be read.
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    /// The knowledge with the change could not be built.
    #[error(transparent)]
    Build(#[from] SnapshotError),
    /// No document of that name is in `documents/`.
    #[error("there is no document {name} in {dir}")]
    NoSuchDocument { name: String, dir: PathBuf },
    /// A file could not be written or moved.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What adding (or removing) one document would change.
#[derive(Debug)]
pub struct Preview {
    /// The name it would be saved under, or the document taken out.
    pub file: String,
    pub meta: DocumentMeta,
    /// The document's rows, the headline rows (nationwide, no dimension,
    /// no qualifier) first.
    pub facts: Vec<Fact>,
    /// How many of `facts` are headline rows.
    pub headline: usize,
    /// Conflicts the change adds: the rows of each, the document's first.
    pub conflicts: Vec<Vec<Fact>>,
    /// How the gating answers would change.
    pub gate: GateReport,
    /// Notes on reading the file (an unclosed front matter, say).
    pub notes: Vec<String>,
}

/// A plain file name made from what a sender called the file: its last
/// path component, letters, digits, `-`, `_` and `.` only, no leading dot.
pub fn safe_name(original: &str) -> String {
    let last = original.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches(['.', '_']).to_string();
    let (stem, ext) = split_extension(&cleaned);
    let stem = if stem.trim_matches(['.', '_']).is_empty() {
        "document".to_string()
    } else {
        stem.to_string()
    };
    let room = MAX_NAME_CHARS.saturating_sub(ext.chars().count());
    let stem: String = stem.chars().take(room).collect();
    format!("{stem}{ext}")
}

/// `("report", ".txt")`; the extension only when it is short and plain.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i)
            if i > 0
                && name.len() - i <= 6
                && name[i + 1..].chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            name.split_at(i)
        }
        _ => (name, ""),
    }
}

/// `wanted`, or `stem-2.ext`, `stem-3.ext`… the first not taken in `dir`.
fn candidates(wanted: &str) -> impl Iterator<Item = String> + '_ {
    let (stem, ext) = split_extension(wanted);
    std::iter::once(wanted.to_string()).chain((2..).map(move |n| format!("{stem}-{n}{ext}")))
}

/// What adding the file sent as `original` (these bytes) would change.
pub fn preview_addition(
    current: &Snapshot,
    knowledge_dir: &Path,
    original: &str,
    bytes: &[u8],
) -> Result<Preview, UploadError> {
    let documents = knowledge_dir.join("documents");
    let name = candidates(&safe_name(original))
        .find(|n| !documents.join(n).exists())
        .unwrap_or_default();
    let (document, notes) =
        files::read_one(&documents.join(&name), &name, bytes).map_err(|reason| {
            UploadError::Unreadable {
                name: original.to_string(),
                reason,
            }
        })?;
    let meta = document.meta.clone();
    let mut folder = files::load(knowledge_dir)?;
    folder.documents.push(document);
    folder.documents.sort_by(|a, b| a.file.cmp(&b.file));
    let candidate = Snapshot::build_in_memory(&folder)?;
    let doc = candidate.documents.iter().position(|d| d.file == name);
    let (facts, headline) = rows_of(&candidate, doc);
    let conflicts = candidate
        .conflicts
        .iter()
        .filter(|c| c.facts.iter().any(|&i| Some(candidate.facts[i].doc) == doc))
        .map(|c| {
            let mut rows: Vec<Fact> = c
                .facts
                .iter()
                .map(|&i| candidate.facts[i].clone())
                .collect();
            rows.sort_by_key(|f| Some(f.doc) != doc);
            rows
        })
        .collect();
    Ok(Preview {
        file: name,
        meta,
        facts,
        headline,
        conflicts,
        gate: gate(current, &candidate),
        notes,
    })
}

/// What taking document `file` out would change.
pub fn preview_removal(
    current: &Snapshot,
    knowledge_dir: &Path,
    file: &str,
) -> Result<Preview, UploadError> {
    let documents = knowledge_dir.join("documents");
    if !is_document_name(file) || !documents.join(file).is_file() {
        return Err(UploadError::NoSuchDocument {
            name: file.to_string(),
            dir: documents,
        });
    }
    let mut folder = files::load(knowledge_dir)?;
    folder.documents.retain(|d| d.file != file);
    let candidate = Snapshot::build_in_memory(&folder)?;
    let doc = current.documents.iter().position(|d| d.file == file);
    let meta = doc.map_or_else(
        || DocumentMeta {
            title: file.to_string(),
            ..DocumentMeta::default()
        },
        |i| current.documents[i].meta.clone(),
    );
    let (facts, headline) = rows_of(current, doc);
    Ok(Preview {
        file: file.to_string(),
        meta,
        facts,
        headline,
        conflicts: Vec::new(),
        gate: gate(current, &candidate),
        notes: Vec::new(),
    })
}

/// A plain name of a file directly inside `documents/`.
pub fn is_document_name(file: &str) -> bool {
    !file.is_empty()
        && !file.starts_with('.')
        && !file.contains(['/', '\\'])
        && !file.chars().any(char::is_control)
}

fn rows_of(snapshot: &Snapshot, doc: Option<usize>) -> (Vec<Fact>, usize) {
    let mut facts: Vec<Fact> = snapshot
        .facts
        .iter()
        .filter(|f| Some(f.doc) == doc)
        .cloned()
        .collect();
    let is_headline =
        |f: &Fact| f.scope == Scope::Nationwide && f.dims.is_empty() && f.qualifier.is_none();
    facts.sort_by_key(|f| !is_headline(f));
    let headline = facts.iter().filter(|f| is_headline(f)).count();
    (facts, headline)
}

fn gate(current: &Snapshot, candidate: &Snapshot) -> GateReport {
    let items = gating::items(gating::QUESTIONS);
    let before = gating::run_items(&items, current);
    let after = gating::run_items(&items, candidate);
    gating::compare(&items, &before, &after)
}

/// Saves `bytes` as `wanted` (or, if another document took that name
/// meanwhile, the next free `-2`, `-3`… name) inside `documents/`; returns
/// the name. Written to a hidden file first and linked into place only
/// when complete, so the loader never reads half a document.
pub fn save(knowledge_dir: &Path, wanted: &str, bytes: &[u8]) -> Result<String, UploadError> {
    let documents = knowledge_dir.join("documents");
    let wanted = safe_name(wanted);
    let partial = documents.join(format!(".upload-{}.part", std::process::id()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UploadError::Io { path, source }
    };
    let mut out = std::fs::File::create(&partial).map_err(io(&partial))?;
    out.write_all(bytes).map_err(io(&partial))?;
    out.sync_all().map_err(io(&partial))?;
    drop(out);
    let result = candidates(&wanted).take(1000).find_map(|name| {
        match std::fs::hard_link(&partial, documents.join(&name)) {
            Ok(()) => Some(Ok(name)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
            Err(e) => Some(Err(UploadError::Io {
                path: documents.join(&name),
                source: e,
            })),
        }
    });
    let _ = std::fs::remove_file(&partial);
    result.unwrap_or_else(|| {
        Err(UploadError::Io {
            path: documents.join(&wanted),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        })
    })
}

/// Moves document `file` out of `documents/` into `removed/` (a name clash
/// there gets a suffix); returns where it went.
pub fn take_out(knowledge_dir: &Path, file: &str) -> Result<PathBuf, UploadError> {
    let from = knowledge_dir.join("documents").join(file);
    if !is_document_name(file) || !from.is_file() {
        return Err(UploadError::NoSuchDocument {
            name: file.to_string(),
            dir: knowledge_dir.join("documents"),
        });
    }
    let removed = knowledge_dir.join("removed");
    std::fs::create_dir_all(&removed).map_err(|source| UploadError::Io {
        path: removed.clone(),
        source,
    })?;
    let to = candidates(file)
        .map(|n| removed.join(n))
        .find(|p| !p.exists())
        .unwrap_or_else(|| removed.join(file));
    std::fs::rename(&from, &to).map_err(|source| UploadError::Io { path: from, source })?;
    Ok(to)
}

/// Undoes `take_out` (a reload that failed): `from` back as document `file`.
pub fn put_back(knowledge_dir: &Path, file: &str, from: &Path) -> Result<(), UploadError> {
    let to = knowledge_dir.join("documents").join(file);
    std::fs::rename(from, &to).map_err(|source| UploadError::Io { path: to, source })
}

/// Undoes `save` (a reload that refused the document): it leaves
/// `documents/`; the admin still has the file they sent.
pub fn discard(knowledge_dir: &Path, file: &str) -> Result<(), UploadError> {
    let path = knowledge_dir.join("documents").join(file);
    if !is_document_name(file) {
        return Ok(());
    }
    std::fs::remove_file(&path).map_err(|source| UploadError::Io { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sent_name_loses_every_path_and_hidden_part() {
        for (sent, saved) in [
            ("../../etc/x.txt", "x.txt"),
            ("..\\..\\windows\\evil.md", "evil.md"),
            ("/abs/path/report.html", "report.html"),
            (".hidden", "hidden"),
            ("..", "document"),
            ("", "document"),
            ("2024年 海关 报告.pdf", "2024年_海关_报告.pdf"),
            ("a\u{0}b\nc.txt", "a_b_c.txt"),
        ] {
            assert_eq!(safe_name(sent), saved, "{sent:?}");
            assert!(is_document_name(&safe_name(sent)), "{sent:?}");
        }
        let long = format!("{}.docx", "长".repeat(200));
        let name = safe_name(&long);
        assert!(name.ends_with(".docx") && name.chars().count() == MAX_NAME_CHARS);
    }

    #[test]
    fn a_clash_gets_the_next_free_suffix_and_nothing_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("documents")).unwrap();
        std::fs::write(dir.path().join("documents/report.txt"), "old").unwrap();
        assert_eq!(
            save(dir.path(), "report.txt", b"new").unwrap(),
            "report-2.txt"
        );
        assert_eq!(
            save(dir.path(), "../report.txt", b"newer").unwrap(),
            "report-3.txt"
        );
        let read = |n: &str| std::fs::read_to_string(dir.path().join("documents").join(n)).unwrap();
        assert_eq!(
            (read("report.txt"), read("report-2.txt")),
            ("old".into(), "new".into())
        );
        let left: Vec<_> = std::fs::read_dir(dir.path().join("documents"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(left.is_empty(), "no partial file is left: {left:?}");
    }

    #[test]
    fn a_document_taken_out_is_kept_in_removed_and_can_be_put_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("documents")).unwrap();
        std::fs::write(dir.path().join("documents/a.txt"), "text").unwrap();
        assert!(take_out(dir.path(), "../a.txt").is_err());
        let moved = take_out(dir.path(), "a.txt").unwrap();
        assert_eq!(moved, dir.path().join("removed/a.txt"));
        assert!(!dir.path().join("documents/a.txt").exists());
        put_back(dir.path(), "a.txt", &moved).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("documents/a.txt")).unwrap(),
            "text"
        );
    }
}
