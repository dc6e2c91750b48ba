//! The broadcast through teloxide: 10,000 recipients, the rate limit
//! lifted, the real sender (`telegram::broadcast::Sender`: sendPhoto by
//! file id after one upload, HTML caption, teloxide's HTTP client) and the
//! delivery loop with its SQLite store, against the fake Bot API of the
//! integration tests on 127.0.0.1. Prints milliseconds per message: the
//! bot's overhead plus the local fake server's, an upper bound of the
//! bot's own (target ≤ 0.5 ms).
//!
//! Run: `cargo bench --bench broadcast_telegram`.

#[path = "../tests/support/fake_bot_api.rs"]
#[allow(dead_code)]
mod fake_bot_api;
#[path = "support/subscribers.rs"]
mod subscribers;

use customs_ip_bot::broadcast::rate::RateLimits;
use customs_ip_bot::broadcast::{deliver, prepare_job, DeliverySettings, TokioClock};
use customs_ip_bot::model::Language;
use customs_ip_bot::telegram::broadcast::Sender;
use std::time::Instant;
use teloxide::Bot;

const RECIPIENTS: i64 = 10_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let knowledge = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let files = customs_ip_bot::knowledge::load(&knowledge).unwrap();
    let snapshot = customs_ip_bot::snapshot::Snapshot::build_in_memory(&files).unwrap();
    let fake = fake_bot_api::FakeBotApi::start().await;
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
    assert_eq!(report.sent, RECIPIENTS as u64);
    println!(
        "broadcast through teloxide: {} messages in {:.2} s, {:.3} ms per message (fake server included), {} upload(s)",
        report.sent,
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / RECIPIENTS as f64,
        fake.uploads()
    );
}
