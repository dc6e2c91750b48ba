//! Engine benchmarks (`cargo bench --bench engine`):
//! - answering in-process on a warm snapshot: every question of the
//!   project's question set, p50 and p99 per answer (target p99 ≤ 0.2 ms);
//! - a full ingest of the seed corpus: read, clean, split, extract, index
//!   (target ≤ 1 s);
//! - one `ask` from a cold process with the data folder already built: wall
//!   time (target ≤ 300 ms) and the peak resident memory of those processes
//!   (target ≤ 100 MB).

#[path = "support/memory.rs"]
mod memory;
use criterion::Criterion;
use customs_ip_bot::knowledge::snapshot::Snapshot;
use memory::peak_memory_mb;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

fn questions() -> Vec<String> {
    customs_ip_bot::knowledge::gating::items(customs_ip_bot::knowledge::gating::QUESTIONS)
        .into_iter()
        .map(|i| i.q)
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn answering(c: &mut Criterion, snapshot: &Snapshot, questions: &[String]) {
    c.bench_function("answer: the whole question set, per question", |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            for _ in 0..iters {
                for q in questions {
                    black_box(snapshot.answer(q));
                }
            }
            started.elapsed() / questions.len() as u32
        })
    });
    // Percentiles over single answers.
    let mut times = Vec::new();
    let mut per_question = vec![Vec::new(); questions.len()];
    for _ in 0..200 {
        for (i, q) in questions.iter().enumerate() {
            let started = Instant::now();
            black_box(snapshot.answer(q));
            let took = started.elapsed();
            times.push(took);
            per_question[i].push(took);
        }
    }
    times.sort();
    let mut slowest: Vec<(Duration, &String)> = per_question
        .iter_mut()
        .zip(questions)
        .map(|(t, q)| {
            t.sort();
            (percentile(t, 0.5), q)
        })
        .collect();
    slowest.sort();
    for (t, q) in slowest.iter().rev().take(3) {
        println!("slow question: {:.3} ms median: {q}", t.as_secs_f64() * 1e3);
    }
    println!(
        "answer latency over {} answers: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        times.len(),
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
}

fn ingest(c: &mut Criterion) {
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.bench_function("seed corpus: load, extract, index in memory", |b| {
        b.iter(|| {
            let files = customs_ip_bot::knowledge::files::load(&knowledge_dir()).unwrap();
            black_box(Snapshot::build_in_memory(&files).unwrap())
        })
    });
    group.finish();
}

fn ask_command(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_customs-ip-bot"));
    command
        .arg("--knowledge")
        .arg(knowledge_dir())
        .arg("--data")
        .arg(data)
        .arg("ask");
    command
}

/// A process answering from standard input: its peak memory after it
/// answered `questions` (read before it exits, so that the figure is the
/// process's own, not its parent's at fork time).
fn peak_memory_after(data: &Path, questions: &[String]) -> f64 {
    let mut child = ask_command(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for q in questions {
        writeln!(stdin, "{q}").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
    }
    let peak = peak_memory_mb(child.id());
    drop(stdin);
    child.wait().unwrap();
    peak
}

fn cold_process(questions: &[String]) {
    let data = tempfile::tempdir().unwrap();
    let run = || {
        let status = ask_command(data.path())
            .arg("2024年扣留多少批?")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    run(); // builds the data folder
    let mut times = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        run();
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "cold `ask` with the data folder built, {} runs: p50 {:.0} ms, max {:.0} ms",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
    );
    println!(
        "peak memory: one question {:.1} MB; the whole question set in one process {:.1} MB",
        peak_memory_after(data.path(), &questions[..1]),
        peak_memory_after(data.path(), questions)
    );
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let files = customs_ip_bot::knowledge::files::load(&knowledge_dir()).unwrap();
    let snapshot = Snapshot::build_in_memory(&files).unwrap();
    let questions = questions();
    answering(&mut c, &snapshot, &questions);
    ingest(&mut c);
    cold_process(&questions);
    c.final_summary();
}
