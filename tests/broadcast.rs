//! Broadcasts, without Telegram: the chart, the SQL state and the delivery
//! loop against a fake sender, on a real SQLite database in a temp folder.
//!
//! Properties checked:
//! - the chart of the repository's knowledge is a 1280×720 PNG, the
//!   highlighted year's colour is drawn, its labels' characters are all in
//!   the embedded font and the title area has ink (the CJK title was drawn);
//! - /subscribe, /unsubscribe and the bot's removal change who is active;
//! - a job's recipients are the active subscriptions at confirmation;
//!   confirming twice or cancelling a finished job is a value, not an error;
//! - 1,000 recipients with 403s, migrations (one onto a chat that is a
//!   recipient already) and one 429 each for some: every active recipient
//!   gets exactly one message, 403s end subscriptions, migrations move them;
//! - the send times never exceed the limits (global per second, per chat per
//!   minute) and nothing is dispatched during a 429's pause beyond the
//!   sends already in flight;
//! - a graceful stop mid-job and a second run: still exactly once;
//! - a hard kill mid-job (the loop dropped) and a second run: nobody is
//!   skipped; only the sends in flight at the kill can arrive twice under
//!   `resend`, and under `give_up` nobody gets it twice and only those are
//!   reported failed;
//! - cancelling a running job stops it; subscribing meanwhile does not
//!   fail (no SQLITE_BUSY) and does not add recipients to a confirmed job;
//! - the automatic mode queues only a year new in a reload, once;
//! - with the real clock, a small rate limit is honoured in wall time.

use customs_ip_bot::domain::model::Language;
use customs_ip_bot::domain::replies;
use customs_ip_bot::frontends::broadcast::rate::RateLimits;
use customs_ip_bot::frontends::broadcast::{
    deliver, prepare_job, queue_automatic, AutomaticBroadcast, BroadcastSettings, Clock,
    DeliverySettings, SendOutcome, TokioClock,
};
use customs_ip_bot::frontends::chart;
use customs_ip_bot::knowledge::snapshot::Snapshot;
use customs_ip_bot::state::broadcasts::{
    BroadcastStore, Cancellation, Confirmation, InterruptedPolicy, JobStatus, MembershipEvent,
    NewJob, Subscription, SubscriptionChange, INTERRUPTED,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[path = "support/databases.rs"]
mod databases;
use databases::TestDatabases;

// ---- Shared helpers.

fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let files =
            customs_ip_bot::knowledge::files::load(&dir).expect("the repository's knowledge loads");
        Snapshot::build_in_memory(&files).expect("the snapshot builds")
    })
}

fn group(chat_id: i64) -> Subscription {
    Subscription {
        chat_id,
        kind: if chat_id > 0 { "private" } else { "supergroup" }.into(),
        title: Some(format!("chat {chat_id}")),
        subscribed_by: Some(42),
    }
}

fn new_job(year: u16, confirmed: bool) -> NewJob {
    NewJob {
        year,
        message: format!("{year}年知识产权海关保护概况：…"),
        chart: Some(vec![0x89, b'P', b'N', b'G']),
        created_by: Some(7),
        automatic: false,
        knowledge_version: None,
        confirmed,
    }
}

/// Virtual time: `sleep` returns at once and moves the clock on.
#[derive(Debug)]
struct FakeClock {
    now: Mutex<Instant>,
}

impl FakeClock {
    fn new() -> Arc<FakeClock> {
        Arc::new(FakeClock {
            now: Mutex::new(Instant::now()),
        })
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        *self.now.lock().unwrap()
    }

    async fn sleep(&self, duration: Duration) {
        *self.now.lock().unwrap() += duration;
    }
}

/// A fake Bot API as the loop sees it: decides each send's outcome when it
/// is dispatched (the request reached Telegram), and remembers what arrived.
struct FakeTelegram {
    clock: Arc<FakeClock>,
    forbidden: HashSet<i64>,
    migrate: HashMap<i64, i64>,
    state: Mutex<FakeState>,
}

#[derive(Default)]
struct FakeState {
    retry_once: HashSet<i64>,
    pause_until: Option<Instant>,
    received: BTreeMap<i64, u32>,
    requests: Vec<(i64, Instant)>,
    answered_429: u32,
    delivered: u64,
}

impl FakeTelegram {
    /// Resolves once `n` messages have arrived.
    async fn arrived(self: Arc<Self>, n: u64) {
        while self.state.lock().unwrap().delivered < n {
            tokio::task::yield_now().await;
        }
    }

    fn send(&self, chat: i64) -> SendOutcome {
        let now = self.clock.now();
        let mut s = self.state.lock().unwrap();
        s.requests.push((chat, now));
        if let Some(until) = s.pause_until.filter(|&u| u > now) {
            s.answered_429 += 1;
            return SendOutcome::RetryAfter((until - now).max(Duration::from_secs(1)));
        }
        if self.forbidden.contains(&chat) {
            return SendOutcome::Forbidden("Forbidden: bot was blocked by the user".into());
        }
        if let Some(&new) = self.migrate.get(&chat) {
            return SendOutcome::MigrateTo(new);
        }
        if s.retry_once.remove(&chat) {
            s.pause_until = Some(now + Duration::from_secs(2));
            s.answered_429 += 1;
            return SendOutcome::RetryAfter(Duration::from_secs(2));
        }
        *s.received.entry(chat).or_default() += 1;
        s.delivered += 1;
        SendOutcome::Sent {
            message_id: s.delivered as i64,
        }
    }

    fn received(&self) -> BTreeMap<i64, u32> {
        self.state.lock().unwrap().received.clone()
    }
}

/// The sender closure the Telegram layer would supply: the outcome is
/// decided at dispatch, the reply comes after a yield (so sends overlap).
fn sender(fake: &Arc<FakeTelegram>) -> impl FnMut(i64) -> futures_reply::Reply {
    let fake = fake.clone();
    move |chat| futures_reply::Reply::new(fake.send(chat))
}

mod futures_reply {
    use customs_ip_bot::frontends::broadcast::SendOutcome;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// Ready on the second poll.
    pub struct Reply {
        outcome: Option<SendOutcome>,
        yielded: bool,
    }

    impl Reply {
        pub fn new(outcome: SendOutcome) -> Reply {
            Reply {
                outcome: Some(outcome),
                yielded: false,
            }
        }
    }

    impl Future for Reply {
        type Output = SendOutcome;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SendOutcome> {
            if !self.yielded {
                self.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(self.outcome.take().expect("polled after completion"))
        }
    }
}

/// 1,000 subscribers: groups (negative ids) and some private chats; some
/// block the bot, some migrate (one onto a chat that is a recipient
/// already), some get one 429.
struct Population {
    chats: Vec<i64>,
    fake: Arc<FakeTelegram>,
    clock: Arc<FakeClock>,
}

fn population(n: i64) -> Population {
    let chats: Vec<i64> = (1..=n).map(|i| if i % 5 == 0 { i } else { -i }).collect();
    let forbidden: HashSet<i64> = chats
        .iter()
        .copied()
        .filter(|c| c.abs() % 23 == 0)
        .collect();
    let mut migrate: HashMap<i64, i64> = chats
        .iter()
        .copied()
        .filter(|c| *c < 0 && c.abs() % 31 == 0 && !forbidden.contains(c))
        .map(|c| (c, -1_000_000_000_000 + c))
        .collect();
    migrate.insert(-501, -499); // onto a chat that is a recipient already
    let retry_once: HashSet<i64> = chats
        .iter()
        .copied()
        .filter(|c| c.abs() % 97 == 0)
        .collect();
    let clock = FakeClock::new();
    let fake = Arc::new(FakeTelegram {
        clock: clock.clone(),
        forbidden,
        migrate,
        state: Mutex::new(FakeState {
            retry_once,
            ..Default::default()
        }),
    });
    Population { chats, fake, clock }
}

impl Population {
    /// Where each active subscriber must receive the message: its own id,
    /// or its new id after a migration; none for a chat that blocked the bot.
    fn expected(&self) -> BTreeSet<i64> {
        self.chats
            .iter()
            .filter(|c| !self.fake.forbidden.contains(c))
            .map(|c| self.fake.migrate.get(c).copied().unwrap_or(*c))
            .collect()
    }
}

async fn subscribe_all(store: &BroadcastStore, chats: &[i64]) {
    for &c in chats {
        assert_eq!(
            store.subscribe(&group(c)).await.unwrap(),
            SubscriptionChange::Changed
        );
    }
}

fn settings(policy: InterruptedPolicy) -> DeliverySettings {
    DeliverySettings {
        on_interrupted: policy,
        ..DeliverySettings::default()
    }
}

fn assert_within_limits(requests: &[(i64, Instant)], limits: RateLimits) {
    let mut times: Vec<Instant> = requests.iter().map(|r| r.1).collect();
    times.sort();
    let n = limits.global_per_second as usize;
    for i in 0..times.len().saturating_sub(n) {
        assert!(
            times[i + n] - times[i] >= Duration::from_secs(1),
            "more than {n} requests within a second at request {i}"
        );
    }
    let mut per_chat: HashMap<i64, Vec<Instant>> = HashMap::new();
    for (c, t) in requests {
        per_chat.entry(*c).or_default().push(*t);
    }
    let m = limits.per_chat_per_minute as usize;
    for (c, mut times) in per_chat {
        times.sort();
        for i in 0..times.len().saturating_sub(m) {
            assert!(
                times[i + m] - times[i] >= Duration::from_secs(60),
                "more than {m} requests a minute to chat {c}"
            );
        }
    }
}

/// A killed process: the delivery loop is dropped wherever it is once `n`
/// messages have arrived, and its sends in flight are lost.
async fn deliver_until_killed(
    store: &BroadcastStore,
    job: i64,
    settings: &DeliverySettings,
    p: &Population,
    n: u64,
) {
    tokio::select! {
        biased;
        _ = p.fake.clone().arrived(n) => {}
        r = deliver(store, job, settings, &*p.clock, sender(&p.fake), never_stop()) => {
            panic!("finished before the kill: {r:?}")
        }
    }
}

fn never_stop() -> std::future::Pending<()> {
    std::future::pending()
}

// ---- The chart.

#[test]
fn chart_of_the_knowledge_is_a_png_with_the_year_highlighted_and_cjk_labels_drawn() {
    let snap = snapshot();
    let year = *snap
        .headline_years()
        .last()
        .expect("the knowledge has headline years");
    let data = chart::chart_data(snap, year);
    assert!(data.years.len() >= 2, "{:?}", data.years);
    assert_eq!(data.series.len(), 3, "one panel per headline metric");
    for s in &data.series {
        assert!(
            s.values.iter().any(Option::is_some),
            "{} has figures",
            s.metric
        );
    }
    // Every label's characters are in the embedded font.
    let mut labels = vec![
        replies::chart_title(data.years[0], *data.years.last().unwrap()),
        replies::chart_note().to_string(),
    ];
    labels.extend(replies::chart_legend(year));
    labels.extend(data.series.iter().map(|s| s.title.clone()));
    labels.extend(data.years.iter().map(|&y| replies::chart_year(y)));
    for s in &data.series {
        labels.extend(s.values.iter().flatten().map(|&v| replies::chart_value(v)));
    }
    for l in &labels {
        assert_eq!(chart::missing_glyphs(l), Vec::<char>::new(), "{l}");
    }

    let png = chart::render(&data).unwrap();
    std::fs::write(
        std::env::temp_dir().join(format!("customs-ip-bot-chart-{year}.png")),
        &png,
    )
    .unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (chart::WIDTH, chart::HEIGHT));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixel = |x: u32, y: u32| {
        let i = ((y * info.width + x) * 3) as usize;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    let count = |colour: [u8; 3]| {
        (0..info.height)
            .flat_map(|y| (0..info.width).map(move |x| (x, y)))
            .filter(|&(x, y)| pixel(x, y) == colour)
            .count()
    };
    // Three highlighted bars (and the legend swatch), and the other years' bars.
    assert!(count(chart::HIGHLIGHT) > 3 * 1000, "highlighted bars drawn");
    assert!(count(chart::OTHER_YEARS) > 1000, "other years' bars drawn");
    // The title (CJK) left ink in its band: dark pixels in the top 75 rows.
    let title_ink = (0..75)
        .flat_map(|y| (0..info.width).map(move |x| (x, y)))
        .filter(|&(x, y)| pixel(x, y).iter().all(|&c| c < 0x80))
        .count();
    assert!(title_ink > 2000, "title drawn: {title_ink} dark pixels");
    assert!(
        png.len() < 400_000,
        "a photo Telegram takes quickly: {} bytes",
        png.len()
    );
}

#[tokio::test]
async fn a_job_prepared_from_the_knowledge_carries_the_engines_summary_and_chart() {
    let snap = snapshot();
    let year = *snap.headline_years().last().unwrap();
    let job = prepare_job(snap, year, Language::Simplified, Some(1), false, false)
        .unwrap()
        .expect("a summary exists for a headline year");
    assert_eq!(job.message, snap.summary(year, Language::Simplified).answer);
    assert!(job.chart.as_ref().unwrap().starts_with(b"\x89PNG"));
    assert!(
        prepare_job(snap, 1999, Language::Simplified, None, false, false)
            .unwrap()
            .is_none()
    );
}

// ---- Subscriptions and jobs.

on_both_backends!(
    #[tokio::test]
    subscriptions_follow_commands_and_the_bots_removal
);
async fn subscriptions_follow_commands_and_the_bots_removal(dbs: &TestDatabases) {
    let store = dbs.store().await;
    assert_eq!(
        store.subscribe(&group(-1)).await.unwrap(),
        SubscriptionChange::Changed
    );
    assert_eq!(
        store.subscribe(&group(-1)).await.unwrap(),
        SubscriptionChange::Unchanged
    );
    store.subscribe(&group(-2)).await.unwrap();
    store.subscribe(&group(3)).await.unwrap();
    assert_eq!(
        store.unsubscribe(-2).await.unwrap(),
        SubscriptionChange::Changed
    );
    assert_eq!(
        store.unsubscribe(-2).await.unwrap(),
        SubscriptionChange::Unchanged
    );
    let kicked = MembershipEvent {
        chat_id: -1,
        kind: "supergroup".into(),
        title: None,
        status: "kicked".into(),
        changed_by: Some(9),
    };
    store.record_membership(&kicked).await.unwrap();
    assert_eq!(
        store.membership(-1).await.unwrap().as_deref(),
        Some("kicked")
    );
    let active: Vec<i64> = store
        .active_subscriptions()
        .await
        .unwrap()
        .iter()
        .map(|s| s.chat_id)
        .collect();
    assert_eq!(active, vec![3]);
    // Added back and subscribed again.
    store
        .record_membership(&MembershipEvent {
            status: "member".into(),
            ..kicked
        })
        .await
        .unwrap();
    assert!(!store.is_subscribed(-1).await.unwrap());
    store.subscribe(&group(-1)).await.unwrap();
    assert!(store.is_subscribed(-1).await.unwrap());
}

on_both_backends!(
    #[tokio::test]
    recipients_are_the_active_subscriptions_at_confirmation
);
async fn recipients_are_the_active_subscriptions_at_confirmation(dbs: &TestDatabases) {
    let store = dbs.store().await;
    subscribe_all(&store, &[-1, -2, -3]).await;
    let job = store.create_job(&new_job(2024, false)).await.unwrap();
    assert_eq!(
        store.job(job).await.unwrap().status,
        JobStatus::PendingConfirmation
    );
    store.unsubscribe(-2).await.unwrap();
    store.subscribe(&group(-4)).await.unwrap();
    assert_eq!(
        store.confirm_job(job, Some(7)).await.unwrap(),
        Confirmation::Confirmed { recipients: 3 }
    );
    store.subscribe(&group(-5)).await.unwrap();
    let rows: Vec<i64> = store
        .deliveries(job)
        .await
        .unwrap()
        .iter()
        .map(|d| d.chat_id)
        .collect();
    assert_eq!(rows, vec![-4, -3, -1]);
    assert_eq!(
        store.confirm_job(job, Some(7)).await.unwrap(),
        Confirmation::NotWaiting(JobStatus::Confirmed)
    );
    let report = store.job_status(job).await.unwrap();
    assert_eq!((report.counts.pending, report.counts.sent), (3, 0));
    assert!(replies::broadcast_status(&report, Language::Simplified)
        .contains("已发送 0 / 失败 0 / 待发送 3"));
    assert_eq!(store.years_broadcast().await.unwrap(), vec![2024]);
    assert_eq!(
        store.cancel_job(job, Some(7)).await.unwrap(),
        Cancellation::Cancelled
    );
    assert_eq!(
        store.cancel_job(job, Some(7)).await.unwrap(),
        Cancellation::AlreadyOver(JobStatus::Cancelled)
    );
    assert_eq!(store.job_status(job).await.unwrap().counts.skipped, 3);
    assert_eq!(store.years_broadcast().await.unwrap(), Vec::<u16>::new());
    assert!(matches!(
        store.job_status(999).await,
        Err(customs_ip_bot::state::broadcasts::BroadcastStoreError::NoSuchJob(999))
    ));
}

on_both_backends!(
    #[tokio::test]
    a_job_waiting_for_confirmation_is_not_delivered
);
async fn a_job_waiting_for_confirmation_is_not_delivered(dbs: &TestDatabases) {
    let store = dbs.store().await;
    subscribe_all(&store, &[-1]).await;
    let job = store.create_job(&new_job(2024, false)).await.unwrap();
    let fake = population(0).fake;
    let report = deliver(
        &store,
        job,
        &DeliverySettings::default(),
        &*FakeClock::new(),
        sender(&fake),
        never_stop(),
    )
    .await
    .unwrap();
    assert!(report.not_runnable);
    assert!(fake.received().is_empty());
}

// ---- Delivery.

on_both_backends!(
    #[tokio::test]
    thousand_recipients_each_active_one_receives_exactly_once_within_limits
);
async fn thousand_recipients_each_active_one_receives_exactly_once_within_limits(
    dbs: &TestDatabases,
) {
    let store = dbs.store().await;
    let p = population(1000);
    subscribe_all(&store, &p.chats).await;
    let job = store.create_job(&new_job(2024, true)).await.unwrap();
    let s = settings(InterruptedPolicy::Resend);
    let started = p.clock.now();
    let report = deliver(&store, job, &s, &*p.clock, sender(&p.fake), never_stop())
        .await
        .unwrap();
    assert!(report.finished, "{report:?}");

    let received = p.fake.received();
    let expected = p.expected();
    assert_eq!(received.keys().copied().collect::<BTreeSet<_>>(), expected);
    assert!(received.values().all(|&n| n == 1), "somebody got it twice");

    // 403s ended their subscriptions, migrations moved theirs.
    let active: BTreeSet<i64> = store
        .active_subscriptions()
        .await
        .unwrap()
        .iter()
        .map(|s| s.chat_id)
        .collect();
    assert_eq!(active, expected);
    assert_eq!(report.deactivated as usize, p.fake.forbidden.len());
    assert_eq!(report.skipped, 1, "-501 migrated onto -499");

    let status = store.job_status(job).await.unwrap();
    assert_eq!(status.status, JobStatus::Done);
    assert_eq!(status.counts.sent as usize, expected.len());
    assert_eq!(status.counts.failed as usize, p.fake.forbidden.len());
    assert_eq!(status.counts.pending, 0);
    assert_eq!(status.counts.total(), 1000);
    for row in store.deliveries(job).await.unwrap() {
        if row.status == "sent" {
            assert!(row.message_id.is_some());
        }
    }

    let state = p.fake.state.lock().unwrap();
    assert_within_limits(&state.requests, s.limits);
    let retry_chats = p.chats.iter().filter(|c| c.abs() % 97 == 0).count() as u32;
    assert!(
        state.answered_429 <= retry_chats * s.max_in_flight as u32,
        "requests during a 429 pause beyond those in flight: {}",
        state.answered_429
    );
    // 1,000 requests and more at 30 a second take over 33 s of (virtual) time.
    assert!(p.clock.now() - started >= Duration::from_secs(33));
}

on_both_backends!(
    #[tokio::test]
    graceful_stop_mid_job_then_resume_still_exactly_once
);
async fn graceful_stop_mid_job_then_resume_still_exactly_once(dbs: &TestDatabases) {
    for policy in [InterruptedPolicy::Resend, InterruptedPolicy::GiveUp] {
        let store = dbs.store().await;
        let p = population(300);
        subscribe_all(&store, &p.chats).await;
        let job = store.create_job(&new_job(2024, true)).await.unwrap();
        let s = settings(policy);
        // Stop once 100 messages have arrived.
        let stop = p.fake.clone().arrived(100);
        let first = deliver(&store, job, &s, &*p.clock, sender(&p.fake), stop)
            .await
            .unwrap();
        assert!(first.stopped && !first.finished, "{first:?}");
        let mid = store.job_status(job).await.unwrap();
        assert!(mid.counts.sent >= 100 && mid.counts.pending > 0, "{mid:?}");
        let second = deliver(&store, job, &s, &*p.clock, sender(&p.fake), never_stop())
            .await
            .unwrap();
        assert!(second.finished, "{second:?}");
        assert_eq!(
            second.recovered, 0,
            "a graceful stop leaves nothing sending"
        );
        let received = p.fake.received();
        assert_eq!(
            received.keys().copied().collect::<BTreeSet<_>>(),
            p.expected()
        );
        assert!(
            received.values().all(|&n| n == 1),
            "{policy:?}: somebody got it twice"
        );
    }
}

on_both_backends!(
    #[tokio::test]
    hard_kill_mid_job_then_resume_nobody_skipped_duplicates_only_in_the_crash_window
);
async fn hard_kill_mid_job_then_resume_nobody_skipped_duplicates_only_in_the_crash_window(
    dbs: &TestDatabases,
) {
    for policy in [InterruptedPolicy::Resend, InterruptedPolicy::GiveUp] {
        let store = dbs.store().await;
        let p = population(300);
        subscribe_all(&store, &p.chats).await;
        let job = store.create_job(&new_job(2024, true)).await.unwrap();
        let s = settings(policy);
        deliver_until_killed(&store, job, &s, &p, 150).await;
        // The crash window: chats that received it while their row is still
        // pending (or `sending` under give_up): the sends in flight.
        let received_before = p.fake.received();
        let rows = store.deliveries(job).await.unwrap();
        let window: BTreeSet<i64> = rows
            .iter()
            .filter(|r| r.status == "pending" || r.status == "sending")
            .map(|r| r.migrated_to.unwrap_or(r.chat_id))
            .filter(|t| received_before.contains_key(t))
            .collect();
        assert!(
            !window.is_empty() && window.len() <= s.max_in_flight,
            "{window:?}"
        );

        let second = deliver(&store, job, &s, &*p.clock, sender(&p.fake), never_stop())
            .await
            .unwrap();
        assert!(second.finished, "{second:?}");
        let received = p.fake.received();
        let rows = store.deliveries(job).await.unwrap();
        match policy {
            InterruptedPolicy::Resend => {
                // Nobody skipped; only the window may have it twice.
                assert_eq!(
                    received.keys().copied().collect::<BTreeSet<_>>(),
                    p.expected()
                );
                // The sends in flight at the kill arrived and are sent again.
                for (chat, n) in &received {
                    let expected = if window.contains(chat) { 2 } else { 1 };
                    assert_eq!(*n, expected, "{chat}");
                }
            }
            InterruptedPolicy::GiveUp => {
                assert!(received.values().all(|&n| n == 1), "nobody twice");
                let given_up: Vec<_> = rows
                    .iter()
                    .filter(|r| r.last_error.as_deref() == Some(INTERRUPTED))
                    .collect();
                assert!(given_up.len() <= s.max_in_flight, "{}", given_up.len());
                assert_eq!(second.recovered as usize, given_up.len());
                // Everyone else expected got it.
                let given_up_targets: BTreeSet<i64> = given_up
                    .iter()
                    .map(|r| r.migrated_to.unwrap_or(r.chat_id))
                    .collect();
                // Every send in flight had arrived here (the fake decides at
                // dispatch), so those are given up; so may be one more row,
                // marked `sending` when the kill came before its dispatch.
                assert!(window.is_subset(&given_up_targets), "{window:?}");
                assert!(
                    given_up_targets.len() <= window.len() + 1,
                    "{given_up_targets:?} given up, {window:?} in flight"
                );
                for chat in p.expected() {
                    assert!(
                        received.contains_key(&chat) || given_up_targets.contains(&chat),
                        "{chat} skipped"
                    );
                }
            }
        }
    }
}

on_both_backends!(
    #[tokio::test]
    cancelling_a_running_job_stops_it
);
async fn cancelling_a_running_job_stops_it(dbs: &TestDatabases) {
    let store = dbs.store().await;
    let p = population(200);
    subscribe_all(&store, &p.chats).await;
    let job = store.create_job(&new_job(2024, true)).await.unwrap();
    let s = DeliverySettings {
        read_batch: 4,
        ..DeliverySettings::default()
    };
    // An admin presses 取消 (another task) once 20 messages have arrived;
    // what had been dispatched when the cancel committed is noted.
    let (fake, admin_store) = (p.fake.clone(), store.clone());
    let admin = tokio::spawn(async move {
        fake.clone().arrived(20).await;
        let outcome = admin_store.cancel_job(job, Some(7)).await.unwrap();
        (outcome, fake.state.lock().unwrap().delivered)
    });
    let send = sender(&p.fake);
    let report = deliver(&store, job, &s, &*p.clock, send, never_stop())
        .await
        .unwrap();
    let (outcome, at_cancel) = admin.await.unwrap();
    assert_eq!(outcome, Cancellation::Cancelled);
    assert!(!report.finished);
    let status = store.job_status(job).await.unwrap();
    assert_eq!(status.status, JobStatus::Cancelled);
    assert_eq!(status.counts.pending, 0);
    let delivered = p.fake.state.lock().unwrap().delivered;
    // After the cancel only the rows already read (one batch) may go out.
    assert!(
        delivered - at_cancel <= u64::from(s.read_batch),
        "{} sent after the cancel committed (at {at_cancel})",
        delivered - at_cancel
    );
    // What went out is recorded as sent, even after the cancel; what was
    // not tried is skipped.
    let c = status.counts;
    assert_eq!(c.sent, delivered, "{status:?}");
    assert_eq!(c.sent + c.failed + c.skipped, 200, "{status:?}");
}

on_both_backends!(
    #[tokio::test]
    automatic_mode_queues_only_a_year_new_in_the_reload_once
);
async fn automatic_mode_queues_only_a_year_new_in_the_reload_once(dbs: &TestDatabases) {
    let store = dbs.store().await;
    subscribe_all(&store, &[-1]).await;
    let snap = snapshot();
    let years = snap.headline_years();
    let newest = *years.last().unwrap();
    let before: Vec<u16> = years[..years.len() - 1].to_vec();
    let mut settings = BroadcastSettings::default();
    assert!(queue_automatic(&store, &settings, &before, snap)
        .await
        .unwrap()
        .is_empty());
    settings.automatic = AutomaticBroadcast::Confirm;
    let jobs = queue_automatic(&store, &settings, &before, snap)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    let job = store.job(jobs[0]).await.unwrap();
    assert_eq!(
        (job.year, job.status, job.automatic),
        (newest, JobStatus::PendingConfirmation, true)
    );
    // The same reload seen again queues nothing.
    assert!(queue_automatic(&store, &settings, &before, snap)
        .await
        .unwrap()
        .is_empty());
    // Without confirmation: a confirmed job with its recipients.
    let store2 = dbs.store().await;
    subscribe_all(&store2, &[-1, -2]).await;
    settings.automatic = AutomaticBroadcast::Send;
    let jobs = queue_automatic(&store2, &settings, &before, snap)
        .await
        .unwrap();
    let status = store2.job_status(jobs[0]).await.unwrap();
    assert_eq!(
        (status.status, status.counts.pending),
        (JobStatus::Confirmed, 2)
    );
}

on_both_backends!(
    #[tokio::test]
    real_clock_small_limit_is_honoured_in_wall_time
);
async fn real_clock_small_limit_is_honoured_in_wall_time(dbs: &TestDatabases) {
    let store = dbs.store().await;
    let chats: Vec<i64> = (1..=45).map(|i| -i).collect();
    subscribe_all(&store, &chats).await;
    let job = store.create_job(&new_job(2024, true)).await.unwrap();
    let s = DeliverySettings {
        limits: RateLimits {
            global_per_second: 20,
            per_chat_per_minute: 20,
        },
        ..DeliverySettings::default()
    };
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = times.clone();
    let started = Instant::now();
    let report = deliver(
        &store,
        job,
        &s,
        &TokioClock,
        move |chat| {
            t.lock().unwrap().push((chat, Instant::now()));
            std::future::ready(SendOutcome::Sent { message_id: chat })
        },
        never_stop(),
    )
    .await
    .unwrap();
    assert!(report.finished && report.sent == 45);
    // 45 messages at 20 a second: the 41st waits until second 2.
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert_within_limits(&times.lock().unwrap(), s.limits);
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    subscribing_while_a_job_is_delivered_neither_fails_nor_joins_the_job
);
async fn subscribing_while_a_job_is_delivered_neither_fails_nor_joins_the_job(dbs: &TestDatabases) {
    let store = dbs.store().await;
    let p = population(300);
    subscribe_all(&store, &p.chats).await;
    let job = store.create_job(&new_job(2024, true)).await.unwrap();
    let other = store.clone();
    let subscribing = tokio::spawn(async move {
        for c in 0..200 {
            other.subscribe(&group(-10_000 - c)).await.unwrap();
            other.unsubscribe(-10_000 - c).await.unwrap();
            other.subscribe(&group(-10_000 - c)).await.unwrap();
        }
    });
    let report = deliver(
        &store,
        job,
        &DeliverySettings::default(),
        &*p.clock,
        sender(&p.fake),
        never_stop(),
    )
    .await
    .unwrap();
    subscribing.await.unwrap();
    assert!(report.finished);
    let received = p.fake.received();
    assert_eq!(
        received.keys().copied().collect::<BTreeSet<_>>(),
        p.expected()
    );
    assert_eq!(
        store.active_subscriptions().await.unwrap().len(),
        p.expected().len() + 200
    );
}

// ---- Several replicas on one database.

/// The sender of one replica: counts what it dispatched.
fn counting_sender(
    fake: &Arc<FakeTelegram>,
    count: &Arc<std::sync::atomic::AtomicU64>,
) -> impl FnMut(i64) -> futures_reply::Reply {
    let (fake, count) = (fake.clone(), count.clone());
    move |chat| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        futures_reply::Reply::new(fake.send(chat))
    }
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    two_replicas_deliver_a_thousand_recipient_job_exactly_once_in_total
);
async fn two_replicas_deliver_a_thousand_recipient_job_exactly_once_in_total(dbs: &TestDatabases) {
    let database = dbs.fresh().await;
    // Two pools, two replica ids: two processes.
    let (a, b) = (database.store().await, database.store().await);
    assert_ne!(a.replica_id(), b.replica_id());
    let p = population(1000);
    subscribe_all(&a, &p.chats).await;
    let job = a.create_job(&new_job(2024, true)).await.unwrap();
    let s = DeliverySettings {
        read_batch: 16,
        ..DeliverySettings::default()
    };
    let counts = [
        Arc::new(std::sync::atomic::AtomicU64::new(0)),
        Arc::new(std::sync::atomic::AtomicU64::new(0)),
    ];
    let start = Arc::new(tokio::sync::Barrier::new(2));
    let replicas: Vec<_> = [a, b]
        .into_iter()
        .zip(&counts)
        .map(|(store, count)| {
            let (s, clock, send, start) = (
                s.clone(),
                p.clock.clone(),
                counting_sender(&p.fake, count),
                start.clone(),
            );
            tokio::spawn(async move {
                start.wait().await;
                deliver(&store, job, &s, &*clock, send, never_stop())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut reports = Vec::new();
    for r in replicas {
        reports.push(r.await.unwrap());
    }
    let dispatched: Vec<u64> = counts
        .iter()
        .map(|c| c.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    eprintln!("dispatched by each replica: {dispatched:?}");
    assert!(
        dispatched.iter().all(|&n| n > 0),
        "both replicas delivered: {dispatched:?}"
    );
    assert!(reports.iter().any(|r| r.finished), "{reports:?}");

    let received = p.fake.received();
    let expected = p.expected();
    assert_eq!(received.keys().copied().collect::<BTreeSet<_>>(), expected);
    assert!(received.values().all(|&n| n == 1), "somebody got it twice");
    let sent: u64 = reports.iter().map(|r| r.sent).sum();
    assert_eq!(sent as usize, expected.len());
    let skipped: u64 = reports.iter().map(|r| r.skipped).sum();
    assert_eq!(skipped, 1, "-501 migrated onto -499");
    let deactivated: u64 = reports.iter().map(|r| r.deactivated).sum();
    assert_eq!(deactivated as usize, p.fake.forbidden.len());
    let status = database.store().await.job_status(job).await.unwrap();
    assert_eq!(status.status, JobStatus::Done);
    assert_eq!(
        (status.counts.sent as usize, status.counts.pending),
        (expected.len(), 0)
    );
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_killed_replicas_rows_wait_for_its_lease_then_another_replica_delivers_them
);
async fn a_killed_replicas_rows_wait_for_its_lease_then_another_replica_delivers_them(
    dbs: &TestDatabases,
) {
    let database = dbs.fresh().await;
    let (a, b) = (database.store().await, database.store().await);
    let p = population(300);
    subscribe_all(&a, &p.chats).await;
    let job = a.create_job(&new_job(2024, true)).await.unwrap();
    let s = DeliverySettings {
        claim_lease_seconds: 1,
        ..DeliverySettings::default()
    };
    // Replica a is killed once 100 messages have arrived.
    deliver_until_killed(&a, job, &s, &p, 100).await;
    drop(a);
    // Replica b at once: a's claimed rows are not its own yet.
    let first = deliver(&b, job, &s, &*p.clock, sender(&p.fake), never_stop())
        .await
        .unwrap();
    assert!(!first.finished, "{first:?}");
    let left = b.job_status(job).await.unwrap().counts.pending;
    assert!(
        left > 0 && left <= (s.read_batch as usize + s.max_in_flight) as u64,
        "{left} rows left claimed by the killed replica"
    );
    assert!(
        p.fake.received().values().all(|&n| n == 1),
        "b sent nothing a had claimed"
    );
    // After the lease, b takes them.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let second = deliver(&b, job, &s, &*p.clock, sender(&p.fake), never_stop())
        .await
        .unwrap();
    assert!(second.finished, "{second:?}");
    let received = p.fake.received();
    assert_eq!(
        received.keys().copied().collect::<BTreeSet<_>>(),
        p.expected()
    );
    // Only the sends in flight at the kill may arrive twice (resend).
    let twice = received.values().filter(|&&n| n == 2).count();
    assert!(
        twice <= s.max_in_flight && received.values().all(|&n| n <= 2),
        "{twice} twice"
    );
}
