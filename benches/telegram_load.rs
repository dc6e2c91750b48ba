//! Load: 1,000 questions from 100 private chats through the real dispatcher,
//! handler tree, engine and teloxide's HTTP client, against the fake Bot API
//! of the integration tests on 127.0.0.1. Criterion measures the time for a
//! batch of 1,000 updates (throughput in updates per second); the time from
//! each update being queued at the fake server to its reply's sendMessage
//! request arriving there is collected over all batches and printed as
//! p50 / p99 / max at the end.
//!
//! Run: `cargo bench --bench telegram_load`.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{private_text, TestBot};

const CHATS: i64 = 100;
const PER_CHAT: i64 = 10;
const QUESTIONS: &[&str] = &[
    "2024年扣留多少批?",
    "2020年扣留侵权嫌疑货物多少件?",
    "How many batches were detained in 2020?",
    "2016年知识产权保护措施多少次?",
    "2024年和2020年扣留批次相比如何?",
    "龙腾行动是什么?",
    "2031年扣留多少批?",
    "寄递渠道扣留多少批?",
    "2020年扣留的商标侵权货物多少批?",
    "蓝网行动",
];

/// Sends one batch and returns its wall time and per-update latencies.
async fn batch(bot: &TestBot, first_chat: i64) -> (Duration, Vec<Duration>) {
    let fake = &bot.fake;
    let start_index = fake.request_count();
    let mut pushed: HashMap<i64, Vec<Instant>> = HashMap::new();
    let started = Instant::now();
    for round in 0..PER_CHAT {
        for c in 0..CHATS {
            let chat = first_chat + c;
            let q = QUESTIONS[((round + c) as usize) % QUESTIONS.len()];
            pushed.entry(chat).or_default().push(Instant::now());
            fake.push_update(private_text(chat, q));
        }
    }
    let expected = (CHATS * PER_CHAT) as usize;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let sent = fake
            .requests_from(start_index)
            .iter()
            .filter(|r| r.method == "sendmessage")
            .count();
        if sent >= expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {sent} of {expected} replies"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let elapsed = started.elapsed();
    // Each chat is answered in order: its k-th reply answers its k-th update.
    let mut seen: HashMap<i64, usize> = HashMap::new();
    let mut latencies = Vec::with_capacity(expected);
    for r in fake.requests_from(start_index) {
        if r.method != "sendmessage" {
            continue;
        }
        let chat = r.chat_id().unwrap();
        let k = seen.entry(chat).or_default();
        if let Some(at) = pushed.get(&chat).and_then(|v| v.get(*k)) {
            latencies.push(r.at.duration_since(*at));
        }
        *k += 1;
    }
    (elapsed, latencies)
}

fn telegram_load(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let bot = runtime.block_on(TestBot::start());
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut batches = 0i64;
    let mut group = c.benchmark_group("telegram");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements((CHATS * PER_CHAT) as u64));
    group.bench_function("1000 questions from 100 chats", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // New chat ids per batch, so every batch starts from fresh workers.
                let first_chat = 1_000_000 + batches * CHATS;
                batches += 1;
                let (elapsed, lat) = runtime.block_on(batch(&bot, first_chat));
                latencies.lock().unwrap().extend(lat);
                total += elapsed;
            }
            total
        })
    });
    group.finish();
    let mut all = latencies.lock().unwrap().clone();
    all.sort();
    if !all.is_empty() {
        let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
        println!(
            "update to reply request over {} updates: p50 {:?}, p99 {:?}, max {:?}",
            all.len(),
            at(0.50),
            at(0.99),
            all[all.len() - 1]
        );
    }
    runtime.block_on(bot.stop());
}

criterion_group!(benches, telegram_load);
criterion_main!(benches);
