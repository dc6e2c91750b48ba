//! The broadcast through teloxide: 10,000 recipients, the rate limit
//! lifted, the real sender (`telegram::broadcast::Sender`: sendPhoto by
//! file id after one upload, HTML caption, teloxide's HTTP client) and the
//! delivery loop with its SQLite store, against the fake Bot API of the
//! integration tests on 127.0.0.1. The fake server runs on a runtime of
//! its own (threads named `fake-api`), so the bot's own overhead is read
//! apart from it: the CPU time of every other thread of the process (the
//! loop, teloxide's client, SQLite's worker), from /proc, per message
//! (target ≤ 0.5 ms); the wall time per message is printed too.
//!
//! Run: `cargo bench --bench broadcast_telegram`.

#[path = "../tests/support/fake_bot_api.rs"]
#[allow(dead_code)]
mod fake_bot_api;
#[path = "support/subscribers.rs"]
mod subscribers;

use customs_ip_bot::domain::model::Language;
use customs_ip_bot::frontends::broadcast::rate::RateLimits;
use customs_ip_bot::frontends::broadcast::{deliver, prepare_job, DeliverySettings, TokioClock};
use customs_ip_bot::frontends::telegram::broadcast::Sender;
use std::time::{Duration, Instant};
use teloxide::Bot;

const RECIPIENTS: i64 = 10_000;

fn main() {
    let fake_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fake-api")
        .enable_all()
        .build()
        .unwrap();
    let fake = fake_runtime.block_on(fake_bot_api::FakeBotApi::start());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("bot")
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(fake));
}

/// CPU time so far of this process's threads, split into the fake
/// server's (`fake-api`) and everything else.
fn cpu_times() -> (Duration, Duration) {
    let tick = 100.0; // USER_HZ on Linux
    let (mut fake, mut rest) = (0u64, 0u64);
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue; // the thread ended
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let name = &stat[stat.find('(').unwrap_or(0) + 1..close];
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // utime and stime: fields 14 and 15 of stat, 12 and 13 after the name.
        let ticks: u64 =
            fields[11].parse::<u64>().unwrap_or(0) + fields[12].parse::<u64>().unwrap_or(0);
        if name.starts_with("fake-api") {
            fake += ticks;
        } else {
            rest += ticks;
        }
    }
    let secs = |t: u64| Duration::from_secs_f64(t as f64 / tick);
    (secs(fake), secs(rest))
}
async fn run(fake: fake_bot_api::FakeBotApi) {
    let knowledge = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let files = customs_ip_bot::knowledge::files::load(&knowledge).unwrap();
    let snapshot = customs_ip_bot::knowledge::snapshot::Snapshot::build_in_memory(&files).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = subscribers::store_with_subscribers(dir.path(), RECIPIENTS).await;
    let job = prepare_job(&snapshot, 2024, Language::Simplified, None, false, true)
        .unwrap()
        .unwrap();
    let id = store.create_job(&job).await.unwrap();
    let bot = Bot::new(fake_bot_api::TOKEN).set_api_url(fake.url());
    let sender = Sender::new(
        bot,
        store.clone(),
        &store.job(id).await.unwrap(),
        Language::Simplified,
    );
    let settings = DeliverySettings {
        limits: RateLimits::unlimited(),
        max_in_flight: 32,
        ..DeliverySettings::default()
    };
    let started = Instant::now();
    let (fake_before, bot_before) = cpu_times();
    let report = deliver(
        &store,
        id,
        &settings,
        &TokioClock,
        |chat| {
            let sender = sender.clone();
            async move { sender.send(chat).await }
        },
        std::future::pending::<()>(),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    let (fake_after, bot_after) = cpu_times();
    assert_eq!(report.sent, RECIPIENTS as u64);
    let per_message = |d: Duration| d.as_secs_f64() * 1000.0 / RECIPIENTS as f64;
    println!(
        "broadcast through teloxide: {} messages in {:.2} s ({:.3} ms per message, wall), {} upload(s)",
        report.sent,
        took.as_secs_f64(),
        per_message(took),
        fake.uploads()
    );
    println!(
        "CPU per message: the bot {:.3} ms (target <= 0.5), the fake server {:.3} ms",
        per_message(bot_after - bot_before),
        per_message(fake_after - fake_before)
    );
}
