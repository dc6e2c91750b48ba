//! Engine benchmarks (`cargo bench --bench engine`):
//! - answering in-process on a warm snapshot: every question of the
//!   project's question set, p50 and p99 per answer (target p99 ≤ 0.2 ms);
//! - a full ingest of the seed corpus: read, clean, split, extract, index
//!   (target ≤ 1 s);
//! - one `ask` from a cold process with the data folder already built: wall
//!   time (target ≤ 300 ms) and the peak resident memory of those processes
//!   (target ≤ 100 MB).

use criterion::Criterion;
use customs_ip_bot::snapshot::Snapshot;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

fn questions() -> Vec<String> {
    customs_ip_bot::selfcheck::items(customs_ip_bot::selfcheck::QUESTIONS)
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
    for _ in 0..200 {
        for q in questions {
            let started = Instant::now();
            black_box(snapshot.answer(q));
            times.push(started.elapsed());
        }
    }
    times.sort();
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
            let files = customs_ip_bot::knowledge::load(&knowledge_dir()).unwrap();
            black_box(Snapshot::build_in_memory(&files).unwrap())
        })
    });
    group.finish();
}

fn cold_process() {
    let data = tempfile::tempdir().unwrap();
    let run = || {
        let status = Command::new(env!("CARGO_BIN_EXE_customs-ip-bot"))
            .arg("--knowledge")
            .arg(knowledge_dir())
            .arg("--data")
            .arg(data.path())
            .args(["ask", "2024年扣留多少批?"])
            .stdout(std::process::Stdio::null())
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
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    println!(
        "cold `ask` with the data folder built, {} runs: p50 {:.0} ms, max {:.0} ms; peak RSS of any run {:.1} MB",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3,
        usage.ru_maxrss as f64 / 1024.0
    );
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let files = customs_ip_bot::knowledge::load(&knowledge_dir()).unwrap();
    let snapshot = Snapshot::build_in_memory(&files).unwrap();
    let questions = questions();
    answering(&mut c, &snapshot, &questions);
    ingest(&mut c);
    cold_process();
    c.final_summary();
}
