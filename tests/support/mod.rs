//! Helpers shared by the integration tests: a temporary copy of the
//! project's knowledge folder, and a snapshot of the seeds built once.

use customs_ip_bot::snapshot::Snapshot;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository's knowledge folder.
pub fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// Copies the project's knowledge folder into `into/knowledge` and returns
/// that path; tests may add or break files there freely.
pub fn copy_knowledge(into: &Path) -> PathBuf {
    let target = into.join("knowledge");
    copy_tree(&knowledge_dir(), &target);
    target
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// The seed knowledge, built in memory once per test binary.
pub fn seed_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let files = customs_ip_bot::knowledge::load(&knowledge_dir()).unwrap();
        Snapshot::build_in_memory(&files).unwrap()
    })
}
