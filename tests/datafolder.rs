//! The data folder under concurrent use, kills, write failures and
//! read-only volumes, through the real binary run as child processes.
//!
//! Properties checked here:
//! - two `reindex` runs started together on one folder both succeed (the
//!   second waits for the first), 20 tries of 20;
//! - an `ask` started during a `reindex` answers, 20 tries of 20;
//! - a build killed (SIGKILL) at random points leaves a folder that
//!   answers, and the next build removes what the killed one left;
//! - a build whose writes fail (a file-size limit, below the size of the
//!   files a generation holds) fails with a message naming a path, and
//!   the previous generation keeps answering, unchanged;
//! - `reindex --no-wait` while another process builds fails naming that
//!   process; `reindex` without it waits, saying so, then succeeds;
//! - a read-only complete folder answers and nothing in it changes (files,
//!   sizes, modification times, contents), with the knowledge folder gone;
//! - an empty read-only folder fails with one message naming the path;
//! - a reindex after one document changed extracts only that document and
//!   gives the same fact table as a full build; a vocabulary change
//!   extracts every document again;
//! - an unchanged knowledge folder is opened without reading any of its
//!   documents (the read cache), a changed one reads only what changed, and
//!   either way the knowledge version is the one a full read gives; a fact
//!   read back from a generation is cited to its sentence (from the index);
//! - a damaged read cache costs only a full read, and is rewritten;
//! - a folder whose files all have the stats last recorded with its
//!   knowledge version (its signature) is opened without the read cache,
//!   and a document changed in place, even to the same size, is read again
//!   whether it changed a moment or long before the next process.

mod support;

use customs_ip_bot::knowledge::generations::{DataFolder, Wait};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};
use support::copy_knowledge;

const BIN: &str = env!("CARGO_BIN_EXE_customs-ip-bot");
const QUESTION: &str = "2024年扣留多少批?";
const FIGURE: &str = "4.16万批";

fn command(knowledge: &Path, data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--knowledge")
        .arg(knowledge)
        .arg("--data")
        .arg(data)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn spawn(knowledge: &Path, data: &Path, args: &[&str]) -> Child {
    command(knowledge, data, args).spawn().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `ask` and checks it answers the 2024 figure.
fn assert_answers(knowledge: &Path, data: &Path, extra: &[&str]) {
    let mut args = extra.to_vec();
    args.extend(["ask", QUESTION]);
    let output = command(knowledge, data, &args).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(FIGURE), "{}", text(&output));
}

fn reindex(knowledge: &Path, data: &Path) {
    let output = command(knowledge, data, &["reindex"]).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
}

fn current(data: &Path) -> String {
    std::fs::read_to_string(data.join("CURRENT")).unwrap()
}

fn generations(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("generations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A small xorshift generator, seeded from the clock (the seed is printed).
struct Random(u64);

impl Random {
    fn new() -> Random {
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("random seed {seed}");
        Random(seed)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[test]
fn two_reindexes_started_together_on_one_folder_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    for attempt in 0..20 {
        let a = spawn(&knowledge, &data, &["reindex"]);
        let b = spawn(&knowledge, &data, &["reindex"]);
        for child in [a, b] {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.success(), "try {attempt}: {}", text(&output));
        }
        assert!(generations(&data).contains(&current(&data).trim().to_string()));
    }
    assert_answers(&knowledge, &data, &[]);
    assert_eq!(generations(&data).len(), 1, "{:?}", generations(&data));
    assert!(
        !data.join("state.db").exists(),
        "the knowledge build wrote the state database"
    );
}

#[test]
fn an_ask_during_a_reindex_answers() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    let mut random = Random::new();
    for attempt in 0..20 {
        // The first try starts on an empty folder: the ask waits and builds.
        let build = spawn(&knowledge, &data, &["reindex"]);
        std::thread::sleep(Duration::from_millis(random.below(150)));
        let output = command(&knowledge, &data, &["ask", QUESTION])
            .output()
            .unwrap();
        assert!(output.status.success(), "try {attempt}: {}", text(&output));
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(FIGURE),
            "try {attempt}: {}",
            text(&output)
        );
        let built = build.wait_with_output().unwrap();
        assert!(built.status.success(), "try {attempt}: {}", text(&built));
    }
}

#[test]
fn a_build_killed_at_random_points_leaves_a_folder_that_answers() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    let started = Instant::now();
    reindex(&knowledge, &data);
    let took = started.elapsed().as_millis() as u64;
    let mut random = Random::new();
    for _ in 0..12 {
        let mut child = spawn(&knowledge, &data, &["reindex"]);
        std::thread::sleep(Duration::from_millis(random.below(took + 20)));
        let _ = child.kill();
        let _ = child.wait();
        assert_answers(&knowledge, &data, &[]);
    }
    reindex(&knowledge, &data);
    assert_eq!(
        generations(&data),
        vec![current(&data).trim().to_string()],
        "what the killed builds left is removed"
    );
    // A kill on an empty folder: the next ask builds.
    let empty = dir.path().join("empty");
    let mut child = spawn(&knowledge, &empty, &["reindex"]);
    std::thread::sleep(Duration::from_millis(took / 2));
    let _ = child.kill();
    let _ = child.wait();
    assert_answers(&knowledge, &empty, &[]);
}

/// Every file under `dir` with its size.
fn file_sizes(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(file_sizes(&path));
        } else {
            out.push((path.clone(), std::fs::metadata(&path).unwrap().len()));
        }
    }
    out
}

#[test]
fn a_build_whose_writes_fail_leaves_the_previous_generation_answering() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    reindex(&knowledge, &data);
    let before = current(&data);
    // Sized by the files a build writes anew: an unchanged document's
    // index files are linked from the previous generation, not written.
    let largest = file_sizes(&data)
        .iter()
        .filter(|(path, _)| !path.components().any(|c| c.as_os_str() == "index"))
        .map(|(_, s)| *s)
        .max()
        .unwrap();
    // The kernel refuses writes past the limit (EFBIG: SIGXFSZ is ignored,
    // and stays ignored across exec), as a full disk would refuse them.
    for blocks in [
        1,
        largest / 512 / 8,
        largest / 512 / 2,
        largest * 9 / 10 / 512,
    ] {
        let script = format!("ulimit -f {blocks} && trap '' XFSZ && exec \"$@\"");
        let output = Command::new("sh")
            .args(["-c", &script, "sh", BIN, "--knowledge"])
            .arg(&knowledge)
            .arg("--data")
            .arg(&data)
            .arg("reindex")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "limit {blocks}: {}",
            text(&output)
        );
        assert!(!stderr.contains("panicked"), "limit {blocks}: {stderr}");
        assert!(
            stderr.contains(&*data.to_string_lossy()),
            "limit {blocks}: the error names no path: {stderr}"
        );
        assert_eq!(current(&data), before, "limit {blocks}");
        assert_answers(&knowledge, &data, &[]);
    }
    reindex(&knowledge, &data);
    assert_eq!(generations(&data).len(), 1, "{:?}", generations(&data));
}

#[test]
fn a_second_reindex_waits_for_the_builder_or_with_no_wait_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    reindex(&knowledge, &data);
    let folder = DataFolder::open(&data, false).unwrap();
    let held = folder.lock_builder(Wait::No, &|_| {}).unwrap();
    let me = format!("process {}", std::process::id());

    let output = command(&knowledge, &data, &["reindex", "--no-wait"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{}", text(&output));
    assert!(stderr.contains(&me), "{stderr}");
    assert!(stderr.contains("build.lock"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // Meanwhile an ask answers from the current generation.
    assert_answers(&knowledge, &data, &[]);
    let waiting = spawn(&knowledge, &data, &["reindex"]);
    std::thread::sleep(Duration::from_millis(500));
    let before = current(&data);
    drop(held);
    let output = waiting.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}", text(&output));
    assert!(stderr.contains(&format!("waiting for {me}")), "{stderr}");
    assert_ne!(current(&data), before, "the waiting reindex built");
}

/// Path → (size, modified, contents) of every file and folder under `dir`.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let meta = std::fs::metadata(dir).unwrap();
    out.insert(dir.to_path_buf(), (0, meta.modified().unwrap(), Vec::new()));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(fingerprint(&path));
        } else {
            let meta = std::fs::metadata(&path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            out.insert(path, (meta.len(), meta.modified().unwrap(), bytes));
        }
    }
    out
}

fn set_read_only(dir: &Path, read_only: bool) {
    let mode = if read_only { "a-w" } else { "u+w" };
    let status = Command::new("chmod")
        .args(["-R", mode])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_read_only_complete_folder_answers_and_nothing_in_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    reindex(&knowledge, &data);
    set_read_only(&data, true);
    let probe = dir.path().join("probe");
    std::fs::create_dir(&probe).unwrap();
    set_read_only(&probe, true);
    let writable = std::fs::File::create(probe.join("file")).is_ok();
    let before = fingerprint(&data);
    // The knowledge folder is not needed to answer from a complete build.
    let gone = dir.path().join("no-knowledge");
    assert_answers(&gone, &data, &["--read-only"]);
    // Without the flag, a folder that refuses writes is used read-only
    // (root writes through chmod: there only the flag holds).
    if !writable {
        assert_answers(&knowledge, &data, &[]);
    }
    let after = fingerprint(&data);
    set_read_only(&data, false);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (path, was) in &before {
        assert!(after[path] == *was, "{} changed", path.display());
    }
}

#[test]
fn an_empty_read_only_folder_fails_with_one_message_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("replica-data");
    for folder_exists in [false, true] {
        if folder_exists {
            std::fs::create_dir(&data).unwrap();
        }
        let output = command(&knowledge, &data, &["--read-only", "ask", QUESTION])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{}", text(&output));
        assert_eq!(stderr.matches("replica-data").count(), 1, "{stderr}");
        assert!(stderr.contains("read-only"), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            !data.exists() || std::fs::read_dir(&data).unwrap().next().is_none(),
            "a read-only open wrote into the folder"
        );
    }
}

/// The knowledge folder's document files, in name order.
fn document_paths(knowledge: &Path) -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(knowledge.join("documents"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    names
}

/// What a command that succeeds prints.
fn says(knowledge: &Path, data: &Path, args: &[&str]) -> String {
    let output = command(knowledge, data, args).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn reindex_says(knowledge: &Path, data: &Path) -> String {
    says(knowledge, data, &["reindex"])
}

fn facts(knowledge: &Path, data: &Path) -> String {
    says(knowledge, data, &["facts", "--json"])
}

#[test]
fn a_reindex_after_one_changed_document_extracts_only_it_and_equals_a_full_build() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    let documents = std::fs::read_dir(knowledge.join("documents"))
        .unwrap()
        .count();
    let said = reindex_says(&knowledge, &data);
    assert!(
        said.contains(&format!(
            "{documents} documents extracted, 0 unchanged reused"
        )),
        "{said}"
    );

    let names = document_paths(&knowledge);
    let changed = &names[names.len() / 2];
    let mut body = std::fs::read_to_string(changed).unwrap();
    body.push_str("\n\n2031年全国海关共扣留侵权嫌疑货物2.22万批。\n");
    std::fs::write(changed, body).unwrap();
    let said = reindex_says(&knowledge, &data);
    let reused = documents - 1;
    assert!(
        said.contains(&format!("1 documents extracted, {reused} unchanged reused")),
        "{said}"
    );
    let fresh = dir.path().join("fresh");
    let incremental = facts(&knowledge, &data);
    assert!(incremental.contains("\"value\":\"22200\""), "{incremental}");
    assert_eq!(
        incremental,
        facts(&knowledge, &fresh),
        "incremental differs from full"
    );

    let vocabulary = knowledge.join("vocabulary.toml");
    let mut text = std::fs::read_to_string(&vocabulary).unwrap();
    text.push_str("\n# a comment changes the vocabulary's hash\n");
    std::fs::write(&vocabulary, text).unwrap();
    let said = reindex_says(&knowledge, &data);
    assert!(
        said.contains(&format!(
            "{documents} documents extracted, 0 unchanged reused"
        )),
        "{said}"
    );
}

/// Every document's modification time moved an hour back (as files long
/// in place are: the read cache trusts only settled files).
fn settle(knowledge: &Path) {
    for entry in std::fs::read_dir(knowledge.join("documents")).unwrap() {
        settle_one(&entry.unwrap().path());
    }
}

fn settle_one(path: &Path) {
    let past = SystemTime::now() - Duration::from_secs(3600);
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(past).unwrap();
}

#[tokio::test]
async fn an_unchanged_knowledge_folder_is_opened_without_reading_its_documents() {
    use customs_ip_bot::knowledge::files::{self, ReadCache};
    use customs_ip_bot::knowledge::snapshot::Snapshot;
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    settle(&knowledge);
    Snapshot::open_or_build(&knowledge, &data).await.unwrap();
    let cache_path = DataFolder::open(&data, false).unwrap().read_cache_path();
    let cache = ReadCache::load(&cache_path).expect("a build leaves a read cache");
    let cached = files::load_with(&knowledge, Some(&cache)).unwrap();
    let read = files::load(&knowledge).unwrap();
    assert_eq!(cached.read_count(), 0, "unchanged documents were read");
    assert_eq!(cached.version, read.version);
    assert_eq!(cached.problems, read.problems);

    let names = document_paths(&knowledge);
    let mut body = std::fs::read_to_string(&names[0]).unwrap();
    body.push_str("\n\n2031年全国海关共扣留侵权嫌疑货物2.22万批。\n");
    std::fs::write(&names[0], body).unwrap();
    settle_one(&names[0]);
    let cached = files::load_with(&knowledge, Some(&cache)).unwrap();
    assert_eq!(cached.read_count(), 1, "only the changed document is read");
    assert_eq!(cached.version, files::load(&knowledge).unwrap().version);
    assert_ne!(cached.version, read.version);
    Snapshot::open_or_build(&knowledge, &data).await.unwrap();
    let reopened = Snapshot::open_or_build(&knowledge, &data).await.unwrap();
    assert!(reopened.built().is_none(), "the second open builds nothing");
    let answer = reopened.answer("2031年扣留多少批?");
    assert!(answer.answer.contains("2.22万批"), "{}", answer.answer);
    assert!(
        answer.facts[0].source.contains("2.22万批"),
        "cited to its sentence: {:?}",
        answer.facts[0]
    );
}

#[test]
fn an_unreadable_read_cache_is_only_a_slower_start() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    settle(&knowledge);
    reindex(&knowledge, &data);
    let cache = DataFolder::open(&data, false).unwrap().read_cache_path();
    std::fs::write(&cache, b"{ not json").unwrap();
    assert_answers(&knowledge, &data, &[]);
    assert!(
        customs_ip_bot::knowledge::files::ReadCache::load(&cache).is_some(),
        "the next process rewrites it"
    );
}

/// Waits until files written now count as settled (their change time too
/// old for a change in the same clock tick to hide).
fn wait_to_settle() {
    std::thread::sleep(Duration::from_millis(2100));
}

fn asks(knowledge: &Path, data: &Path, question: &str) -> String {
    says(knowledge, data, &["ask", question])
}

#[test]
fn a_folder_as_last_recorded_opens_without_the_read_cache_and_a_change_in_place_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    reindex(&knowledge, &data);
    wait_to_settle();
    assert_answers(&knowledge, &data, &[]);
    let folder = DataFolder::open(&data, false).unwrap();
    assert!(
        folder.signature_path().exists(),
        "a settled folder's signature is recorded"
    );
    std::fs::remove_file(folder.read_cache_path()).unwrap();
    assert_answers(&knowledge, &data, &[]);
    assert!(
        !folder.read_cache_path().exists(),
        "the folder as recorded was opened without reading (or writing) the read cache"
    );

    let names = document_paths(&knowledge);
    let mut body = std::fs::read_to_string(&names[0]).unwrap();
    body.push_str("\n\n2031年全国海关共扣留侵权嫌疑货物2.22万批。\n");
    std::fs::write(&names[0], &body).unwrap();
    let said = asks(&knowledge, &data, "2031年扣留多少批?");
    assert!(
        said.contains("2.22万批"),
        "a change of a moment ago: {said}"
    );
    wait_to_settle();
    assert!(asks(&knowledge, &data, "2031年扣留多少批?").contains("2.22万批"));
    // The same size, changed in place, long before the next process.
    std::fs::write(&names[0], body.replace("2.22万批", "2.33万批")).unwrap();
    wait_to_settle();
    let said = asks(&knowledge, &data, "2031年扣留多少批?");
    assert!(said.contains("2.33万批"), "a settled change: {said}");
}
