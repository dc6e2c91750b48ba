//! Data folder benchmark (`cargo bench --bench datafolder`; the corpus
//! sizes from `DATAFOLDER_BENCH_N`, default `5,2000`): for a generated
//! corpus of N documents (made here from the seed documents, each labelled
//! as made up, with other years and figures), through the real binary:
//! - full build (`reindex` on an empty data folder): time and MB/s;
//! - rebuild after one document changed (`reindex`, incremental);
//! - cold `ask` (a new process, the folder built): time and peak memory;
//! - warm answers in-process: p50 and p99 over the gating question set.

#[path = "support/memory.rs"]
mod memory;
use customs_ip_bot::knowledge::snapshot::Snapshot;
use memory::peak_memory_mb;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_customs-ip-bot");
const QUESTION: &str = "2024年扣留多少批?";

fn seed_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// A knowledge folder of `n` documents: the seeds first, then copies with
/// the years moved back and the figures changed. Returns its bytes.
fn generate(into: &Path, n: usize) -> u64 {
    let docs = into.join("documents");
    std::fs::create_dir_all(&docs).unwrap();
    for f in ["vocabulary.toml", "sources.toml", "facts.toml"] {
        let from = seed_dir().join(f);
        if from.exists() {
            std::fs::copy(&from, into.join(f)).unwrap();
        }
    }
    let mut seeds: Vec<PathBuf> = std::fs::read_dir(seed_dir().join("documents"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    seeds.sort();
    let mut bytes = 0;
    for i in 0..n {
        let seed = &seeds[i % seeds.len()];
        let name = seed.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(seed).unwrap();
        let (name, text) = if i < seeds.len() {
            (name, text)
        } else {
            let shift = 30 + (i / seeds.len()) as u32 % 60;
            let mut t = format!("（虚构的生成文档 {i}，made-up benchmark document）\n\n");
            t.push_str(&shift_years(&text, shift));
            t = t.replace("4.16万批", &format!("{}.{:02}万批", 1 + i % 9, i % 100));
            (format!("gen-{i:05}-{name}"), t)
        };
        bytes += text.len() as u64;
        std::fs::write(docs.join(name), text).unwrap();
    }
    bytes
}

/// Every 20xx year in `text` moved back by `shift` years.
fn shift_years(text: &str, shift: u32) -> String {
    let re = regex::Regex::new(r"20(\d\d)").unwrap();
    re.replace_all(text, |c: &regex::Captures| {
        let y: u32 = 2000 + c[1].parse::<u32>().unwrap();
        format!("{}", y - shift)
    })
    .into_owned()
}

fn run(knowledge: &Path, data: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let output = Command::new(BIN)
        .arg("--knowledge")
        .arg(knowledge)
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

/// Peak resident memory (VmHWM) of a process that answered one question.
fn cold_peak_mb(knowledge: &Path, data: &Path) -> f64 {
    let mut child = Command::new(BIN)
        .arg("--knowledge")
        .arg(knowledge)
        .arg("--data")
        .arg(data)
        .arg("ask")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    writeln!(stdin, "{QUESTION}").unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let peak = peak_memory_mb(child.id());
    drop(stdin);
    child.wait().unwrap();
    peak
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn bench(n: usize) {
    // DATAFOLDER_BENCH_DIR keeps the generated folders there (to look at
    // them, or to time commands by hand); by default they are temporary.
    let dir = tempfile::tempdir().unwrap();
    let root = std::env::var_os("DATAFOLDER_BENCH_DIR")
        .map(|d| PathBuf::from(d).join(format!("n{n}")))
        .unwrap_or_else(|| dir.path().to_path_buf());
    let _ = std::fs::remove_dir_all(&root);
    let knowledge = root.join("knowledge");
    let data = root.join("data");
    let bytes = generate(&knowledge, n);
    let full = run(&knowledge, &data, &["reindex"]);
    let mb = bytes as f64 / 1e6;
    let changed = std::fs::read_dir(knowledge.join("documents"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut text = std::fs::read_to_string(&changed).unwrap();
    text.push_str("\n\n2031年全国海关共扣留侵权嫌疑货物2.22万批。\n");
    std::fs::write(&changed, text).unwrap();
    let one = run(&knowledge, &data, &["reindex"]);
    // Files written a moment ago are not trusted to their stats: a real
    // folder's are settled, so the cold asks wait until these are, and the
    // first one records the folder's signature.
    std::thread::sleep(Duration::from_millis(2100));
    run(&knowledge, &data, &["ask", QUESTION]);
    let mut cold: Vec<Duration> = (0..5)
        .map(|_| run(&knowledge, &data, &["ask", QUESTION]))
        .collect();
    cold.sort();
    let peak = cold_peak_mb(&knowledge, &data);
    let snapshot = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(Snapshot::open_or_build(&knowledge, &data))
        .unwrap();
    let questions: Vec<String> =
        customs_ip_bot::knowledge::gating::items(customs_ip_bot::knowledge::gating::QUESTIONS)
            .into_iter()
            .map(|i| i.q)
            .collect();
    snapshot.warm_up();
    let mut warm = Vec::new();
    let mut slowest: Vec<(Duration, &str)> = Vec::new();
    for _ in 0..3 {
        for q in &questions {
            let started = Instant::now();
            std::hint::black_box(snapshot.answer(q));
            warm.push(started.elapsed());
            slowest.push((started.elapsed(), q));
        }
    }
    warm.sort();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    let at = |p: f64| ms(warm[((warm.len() - 1) as f64 * p).round() as usize]);
    println!(
        "N={n} ({mb:.1} MB): full build {:.1} s ({:.2} MB/s); one changed document {:.2} s; \
         cold ask p50 {:.0} ms, peak {peak:.0} MB; warm answer p50 {:.3} ms, p99 {:.3} ms",
        full.as_secs_f64(),
        mb / full.as_secs_f64(),
        one.as_secs_f64(),
        ms(cold[cold.len() / 2]),
        at(0.5),
        at(0.99),
    );
    for (took, q) in slowest.iter().take(3) {
        println!("  slowest: {:.3} ms {q}", ms(*took));
    }
}

fn main() {
    let sizes = std::env::var("DATAFOLDER_BENCH_N").unwrap_or_else(|_| "5,2000".into());
    for n in sizes.split(',').filter_map(|s| s.trim().parse().ok()) {
        bench(n);
    }
}
