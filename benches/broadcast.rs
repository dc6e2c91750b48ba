//! The delivery loop's own overhead per message: 10,000 recipients, the
//! rate limit lifted, a sender that answers "sent" at once; the store is
//! included (SQLite in a temp folder: claim, then one row update per
//! message). Prints milliseconds per message; the target is ≤ 0.5 ms.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use customs_ip_bot::frontends::broadcast::rate::{minimum_duration, RateLimits};
use customs_ip_bot::frontends::broadcast::{deliver, DeliverySettings, SendOutcome, TokioClock};
use customs_ip_bot::state::broadcasts::{BroadcastStore, InterruptedPolicy, NewJob};
use std::time::{Duration, Instant};

#[path = "support/subscribers.rs"]
mod subscribers;

const RECIPIENTS: i64 = 10_000;

fn job() -> NewJob {
    NewJob {
        year: 2024,
        message: "2024年知识产权海关保护概况：…".into(),
        chart: None,
        created_by: None,
        automatic: false,
        knowledge_version: None,
        confirmed: true,
    }
}

/// One job to 10,000 recipients; returns the time the loop took.
async fn one_run(store: &BroadcastStore, settings: &DeliverySettings) -> Duration {
    let id = store.create_job(&job()).await.unwrap();
    let started = Instant::now();
    let report = deliver(
        store,
        id,
        settings,
        &TokioClock,
        |chat| std::future::ready(SendOutcome::Sent { message_id: chat }),
        std::future::pending::<()>(),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(report.finished && report.sent == RECIPIENTS as u64);
    took
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = runtime.block_on(subscribers::store_with_subscribers(dir.path(), RECIPIENTS));
    let settings = DeliverySettings {
        limits: RateLimits::unlimited(),
        ..DeliverySettings::default()
    };

    for policy in [InterruptedPolicy::Resend, InterruptedPolicy::GiveUp] {
        let s = DeliverySettings {
            on_interrupted: policy,
            ..settings.clone()
        };
        let took = runtime.block_on(one_run(&store, &s));
        eprintln!(
            "delivery loop overhead ({policy:?}): {:.4} ms per message ({} recipients in {:.2} s, store included)",
            took.as_secs_f64() * 1000.0 / RECIPIENTS as f64,
            RECIPIENTS,
            took.as_secs_f64()
        );
    }
    let at_limits = minimum_duration(RECIPIENTS as u64, RateLimits::default());
    eprintln!(
        "{} groups at Telegram's limit of 30 messages a second: at least {} min {} s",
        RECIPIENTS,
        at_limits.as_secs() / 60,
        at_limits.as_secs() % 60
    );

    let mut group = c.benchmark_group("broadcast");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(RECIPIENTS as u64));
    group.bench_function("deliver_10000_recipients", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| runtime.block_on(one_run(&store, &settings)))
                .sum()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
