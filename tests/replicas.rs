//! Several replicas: webhook mode and a /reload that reaches every replica.
//!
//! Properties checked:
//! - webhook mode registers the webhook (setWebhook with the URL and the
//!   secret), answers `GET /healthz`, refuses an update without the secret
//!   header (401) and answers one with it; a replica that stops never calls
//!   deleteWebhook (the others behind the same URL keep receiving);
//! - a reload recorded by one replica is followed by another replica on
//!   the same database (SQLite and PostgreSQL), exactly once, and a replica
//!   already on that version does not reload;
//! - two real bot processes (`customs-ip-bot serve` in webhook mode) on one
//!   PostgreSQL and one fake Bot API server, the test playing the load
//!   balancer: after a document is added and /reload is sent to replica A,
//!   a question sent to replica B is answered from the new document, and
//!   so is one sent to A; both stop on SIGTERM with exit code 0, and
//!   neither deletes the webhook.
//!
//! - two real bot processes on one PostgreSQL and one fake Bot API server:
//!   a broadcast to 1,000 subscribers, previewed through replica A and
//!   confirmed through replica B, is delivered exactly once in total, and
//!   both replicas' delivery loops sent part of it.
//!
//! The same at the store level, on SQLite and PostgreSQL, with a replica
//! killed mid-job: tests/broadcast.rs.

mod support;

#[allow(dead_code)]
#[path = "support/databases.rs"]
mod databases;

use customs_ip_bot::frontends::config::Secret;
use customs_ip_bot::frontends::follow::{Followed, Follower};
use customs_ip_bot::frontends::telegram;
use customs_ip_bot::knowledge::engine::{Engine, EngineSettings};
use customs_ip_bot::state::audit::Store;
use customs_ip_bot::state::broadcasts::{BroadcastStore, JobStatus};
use databases::TestDatabases;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::fake_bot_api::FakeBotApi;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);
const SECRET: &str = "replica-test_secret-42";
const NEW_DOCUMENT: &str = "海关总署发布2031年知识产权海关保护情况\n\n本报讯 2031年全国海关共扣留侵权嫌疑货物7777批，涉及侵权嫌疑货物1234.5万件。\n";

static NEXT_UPDATE_ID: AtomicI64 = AtomicI64::new(1);

/// An address on 127.0.0.1 nothing listens on (bound, then released).
fn free_address() -> SocketAddr {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap()
}

/// One HTTP/1.1 request; the status code, or None when nothing listens.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    secret: Option<&str>,
) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    let secret_header = secret
        .map(|s| format!("X-Telegram-Bot-Api-Secret-Token: {s}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         {secret_header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1)?.parse().ok()
}

/// Posts an update to a replica's webhook, as Telegram (through the load
/// balancer) would.
async fn post_update(addr: SocketAddr, mut update: Value, secret: Option<&str>) -> Option<u16> {
    update["update_id"] = json!(NEXT_UPDATE_ID.fetch_add(1, Ordering::SeqCst));
    http(addr, "POST", "/telegram/hook", &update.to_string(), secret).await
}

fn webhook_url(addr: SocketAddr) -> url::Url {
    url::Url::parse(&format!("http://{addr}/telegram/hook")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_mode_checks_the_secret_answers_and_never_deletes_the_webhook() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let data = dir.path().join("data");
    let fake = FakeBotApi::start().await;
    let (engine, store) = open_engine_and_store(&knowledge, &data).await;
    let addr = free_address();
    let mut settings = settings(fake.url(), &knowledge, &data, &Options::default());
    settings.webhook_url = Some(webhook_url(addr));
    settings.listen = addr;
    settings.webhook_secret = Some(Secret::new(SECRET));
    let running = telegram::start(&settings, engine, store).await.unwrap();

    assert_eq!(http(addr, "GET", "/healthz", "", None).await, Some(200));
    let set = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "setwebhook")
        .expect("setWebhook at start");
    assert_eq!(set.body["url"], webhook_url(addr).as_str());
    assert_eq!(set.body["secret_token"], SECRET);
    assert!(!fake.requests().iter().any(|r| r.method == "deletewebhook"));

    let forged = private_text(USER, "2024年扣留多少批?");
    assert_eq!(post_update(addr, forged.clone(), None).await, Some(401));
    assert_eq!(post_update(addr, forged, Some("wrong")).await, Some(401));
    let asked = private_text(USER, "2024年扣留多少批?");
    assert_eq!(post_update(addr, asked, Some(SECRET)).await, Some(200));
    fake.wait_for_text(USER, "4.16万批", WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.sent_to(USER).len(),
        1,
        "only the update with the secret is answered"
    );

    let stopped = running.stop().await;
    assert!(stopped.abandoned.is_empty(), "{stopped:?}");
    assert!(!fake.requests().iter().any(|r| r.method == "deletewebhook"));
    // The listener is closed after the stop.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(http(addr, "GET", "/healthz", "", None).await, None);
}

on_both_backends!(
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    a_reload_recorded_by_one_replica_is_followed_once_by_another
);
async fn a_reload_recorded_by_one_replica_is_followed_once_by_another(dbs: &TestDatabases) {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let open_engine = |data: &str| {
        Engine::open(EngineSettings {
            knowledge_dir: knowledge.clone(),
            data_dir: dir.path().join(data),
        })
    };
    let engine_a = Arc::new(open_engine("a").await.unwrap());
    let engine_b = Arc::new(open_engine("b").await.unwrap());
    let database = dbs.fresh().await;
    let store_a = Store::new(database.open().await);
    let store_b = Store::new(database.open().await);
    let mut follower_b = Follower::start(engine_b.clone(), store_b.clone()).await;
    assert!(matches!(
        follower_b.check().await.unwrap(),
        Followed::Nothing
    ));

    std::fs::write(
        knowledge.join("documents").join("2031-customs-news.txt"),
        NEW_DOCUMENT,
    )
    .unwrap();
    let result =
        customs_ip_bot::frontends::follow::reload_in_background(engine_a.clone(), false).await;
    let new_version = result.as_ref().unwrap().version.clone();
    customs_ip_bot::frontends::follow::publish(&store_a, &result, ADMIN, "/reload").await;
    assert!(!engine_b.ask("2031年扣留多少批?").answer.contains("7777"));

    match follower_b.check().await.unwrap() {
        Followed::Reloaded(row, result) => {
            let report = (*result).as_ref().expect("the follower reloads");
            assert_eq!(row.version, new_version);
            assert_eq!(report.version, new_version);
            assert_eq!(row.user_id, ADMIN);
        }
        other => panic!("expected a reload, got {other:?}"),
    }
    assert!(engine_b.ask("2031年扣留多少批?").answer.contains("7777批"));
    assert!(matches!(
        follower_b.check().await.unwrap(),
        Followed::Nothing
    ));

    // A replica started after the reload, or already on that version,
    // does not reload again.
    let mut follower_a = Follower::start(engine_a.clone(), store_a.clone()).await;
    assert!(matches!(
        follower_a.check().await.unwrap(),
        Followed::Nothing
    ));
    store_b
        .record_knowledge_version(&new_version, 0, "SIGHUP")
        .await
        .unwrap();
    assert!(matches!(
        follower_a.check().await.unwrap(),
        Followed::AlreadyCurrent(_)
    ));
    store_a.db().close().await;
    store_b.db().close().await;
}

/// A bot process; killed when dropped.
struct Replica {
    name: &'static str,
    addr: SocketAddr,
    child: tokio::process::Child,
    log: std::path::PathBuf,
}

impl Replica {
    fn spawn(
        name: &'static str,
        root: &Path,
        knowledge: &Path,
        api_url: &url::Url,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> Replica {
        let addr = free_address();
        let data = root.join(format!("data-{name}"));
        let log = root.join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_customs-ip-bot"))
            .arg("--knowledge")
            .arg(knowledge)
            .arg("--data")
            .arg(&data)
            .args(["serve", "--listen", &addr.to_string()])
            .args(["--webhook-url", webhook_url(addr).as_str()])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("TELOXIDE_TOKEN", support::fake_bot_api::TOKEN)
            .env("TELOXIDE_API_URL", api_url.as_str())
            .env("DATABASE_URL", database_url)
            .env("CUSTOMS_IP_BOT_ADMINS", ADMIN.to_string())
            .env("CUSTOMS_IP_BOT_WEBHOOK_SECRET", SECRET)
            .env("CUSTOMS_IP_BOT_RELOAD_POLL_SECONDS", "1")
            .env("CUSTOMS_IP_BOT_FLOOD_PER_MINUTE", "0")
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        Replica {
            name,
            addr,
            child,
            log,
        }
    }

    /// Waits until `GET /healthz` answers (the bot is serving); panics with
    /// its log if it exits or takes over two minutes.
    async fn wait_until_up(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while http(self.addr, "GET", "/healthz", "", None).await != Some(200) {
            assert!(
                self.running() && Instant::now() < deadline,
                "replica {} did not start:\n{}",
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Stops the process with SIGTERM and asserts a clean exit.
    async fn terminate(&mut self) {
        let pid = self.child.id().unwrap().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("replica {} did not stop", self.name))
            .unwrap();
        assert!(
            status.success(),
            "replica {}: {status}\n{}",
            self.name,
            self.log()
        );
    }

    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Asks `question` through `replica` from new private chats until a reply
/// contains `needle`, or panics after `timeout`.
async fn ask_until(
    fake: &FakeBotApi,
    replica: &Replica,
    question: &str,
    needle: &str,
    timeout: Duration,
) {
    static NEXT_CHAT: AtomicI64 = AtomicI64::new(50_000);
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    while Instant::now() < deadline {
        let chat = NEXT_CHAT.fetch_add(1, Ordering::SeqCst);
        let status = post_update(replica.addr, private_text(chat, question), Some(SECRET)).await;
        assert_eq!(
            status,
            Some(200),
            "replica {} refused an update",
            replica.name
        );
        let reply = fake
            .wait_for(
                WAIT,
                &format!("an answer from replica {}", replica.name),
                |rs| rs.iter().find(|r| r.is_message_to(chat)).cloned(),
            )
            .await;
        if reply.text().contains(needle) {
            return;
        }
        last = reply.text().to_string();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!(
        "replica {} never answered {question:?} with {needle:?}; last answer: {last}\n{}",
        replica.name,
        replica.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replica_processes_a_reload_sent_to_one_gives_new_answers_on_both() {
    const TEST: &str = "two_replica_processes_a_reload_sent_to_one_gives_new_answers_on_both";
    let Some(database) = ProcessDatabase::create(TEST).await else {
        return;
    };
    let database_url = database.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let fake = FakeBotApi::start().await;
    let mut a = Replica::spawn(
        "a",
        dir.path(),
        &knowledge,
        &fake.url(),
        database_url.as_str(),
        &[],
    );
    let mut b = Replica::spawn(
        "b",
        dir.path(),
        &knowledge,
        &fake.url(),
        database_url.as_str(),
        &[],
    );
    a.wait_until_up().await;
    b.wait_until_up().await;
    let webhooks: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "setwebhook")
        .collect();
    assert_eq!(webhooks.len(), 2);
    assert!(webhooks.iter().all(|r| r.body["secret_token"] == SECRET));

    // Before: neither replica has 2031.
    ask_until(&fake, &b, "2031年扣留多少批?", "2031", WAIT).await;
    assert!(fake.requests().iter().all(|r| !r.text().contains("7777")));

    // The admin adds a document and reloads replica A only.
    std::fs::write(
        knowledge.join("documents").join("2031-customs-news.txt"),
        NEW_DOCUMENT,
    )
    .unwrap();
    let status = post_update(a.addr, private_text(ADMIN, "/reload"), Some(SECRET)).await;
    assert_eq!(status, Some(200));
    fake.wait_for_text(ADMIN, "2031-customs-news.txt", Duration::from_secs(60))
        .await;

    // Replica B answers from the new document without being told.
    ask_until(
        &fake,
        &b,
        "2031年扣留多少批?",
        "7777批",
        Duration::from_secs(60),
    )
    .await;
    ask_until(&fake, &a, "2031年扣留多少批?", "7777批", WAIT).await;

    // Both reloads are in the shared audit log.
    let store = Store::connect(Some(database_url.as_str()), dir.path())
        .await
        .unwrap();
    let audit = store.recent_audit(20).await.unwrap();
    assert!(
        audit.iter().any(|r| r.entry.args.starts_with("/reload")
            && r.entry.user_id == ADMIN
            && r.entry.outcome.starts_with("ok:")),
        "{audit:#?}"
    );
    assert!(
        audit
            .iter()
            .any(|r| r.entry.args.starts_with("following /reload")
                && r.entry.outcome.starts_with("ok:")),
        "{audit:#?}"
    );
    assert!(a.running() && b.running(), "{}\n{}", a.log(), b.log());

    // SIGTERM: each replica stops gracefully, and neither deletes the
    // webhook the other still serves.
    a.terminate().await;
    b.terminate().await;
    assert!(!fake.requests().iter().any(|r| r.method == "deletewebhook"));
    drop((a, b));
    store.db().close().await;
    database.drop().await;
}

/// A PostgreSQL database of its own for bot processes (they connect by
/// URL, so a schema of `TestDatabases` would not do); None when the
/// PostgreSQL tests are skipped.
struct ProcessDatabase {
    admin_url: String,
    name: String,
    url: url::Url,
}

impl ProcessDatabase {
    async fn create(test: &str) -> Option<ProcessDatabase> {
        // Skips (or fails under CI=true) like the other PostgreSQL tests.
        TestDatabases::postgres(test)?;
        let admin_url = std::env::var(databases::POSTGRES_URL_VAR).unwrap();
        static NEXT: AtomicI64 = AtomicI64::new(0);
        let name = format!(
            "customs_ip_bot_replicas_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        let database = ProcessDatabase {
            admin_url,
            name,
            url,
        };
        database.drop_database().await;
        database
            .admin(&format!("CREATE DATABASE {}", database.name))
            .await;
        Some(database)
    }

    async fn drop(self) {
        self.drop_database().await;
    }

    async fn drop_database(&self) {
        self.admin(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .await;
    }

    /// Runs `sql` on the server's admin database.
    async fn admin(&self, sql: &str) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sql).execute(&mut admin).await.unwrap();
        admin.close().await.unwrap();
    }
}

/// What a replica's delivery loops reported sending, from its log.
fn sent_by(replica: &Replica, job: i64) -> u64 {
    replica
        .log()
        .lines()
        .filter(|l| {
            l.contains("broadcast delivery loop ended") && l.contains(&format!("job: {job},"))
        })
        .filter_map(|l| {
            let rest = &l[l.find(" sent: ")? + 7..];
            rest[..rest.find(|c: char| !c.is_ascii_digit())?]
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replica_processes_deliver_a_thousand_subscriber_broadcast_exactly_once_in_total() {
    const TEST: &str =
        "two_replica_processes_deliver_a_thousand_subscriber_broadcast_exactly_once_in_total";
    let Some(database) = ProcessDatabase::create(TEST).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let knowledge = copy_knowledge(dir.path());
    let fake = FakeBotApi::start().await;

    // 1,000 subscriptions in the shared database.
    let store = Store::connect(Some(database.url.as_str()), dir.path())
        .await
        .unwrap();
    let broadcasts = BroadcastStore::from_db(store.db().clone());
    let chats: Vec<i64> = (0..1000).map(|i| -2_000_000 - i).collect();
    for &chat in &chats {
        broadcasts.subscribe(&subscription(chat)).await.unwrap();
    }

    // Each replica at 100 messages a second: one alone would need ten
    // seconds, so the second one's worker (every 3 s) joins the job.
    let config = dir.path().join("replica.toml");
    std::fs::write(&config, "[broadcast.delivery]\nglobal_per_second = 100\n").unwrap();
    let env = [("CUSTOMS_IP_BOT_CONFIG", config.to_str().unwrap())];
    let url = database.url.as_str();
    let mut a = Replica::spawn("a", dir.path(), &knowledge, &fake.url(), url, &env);
    let mut b = Replica::spawn("b", dir.path(), &knowledge, &fake.url(), url, &env);
    a.wait_until_up().await;
    b.wait_until_up().await;

    // The admin asks replica A for a preview, and the load balancer sends
    // the Confirm press to replica B.
    let start = fake.request_count();
    let status = post_update(a.addr, private_text(ADMIN, "/broadcast 2024"), Some(SECRET)).await;
    assert_eq!(status, Some(200));
    let job = fake
        .wait_for(WAIT, "the preview with its buttons", |rs| {
            preview_job(rs, ADMIN, start)
        })
        .await;
    let press = button_press(ADMIN, &format!("bc:confirm:{job}"));
    assert_eq!(post_update(b.addr, press, Some(SECRET)).await, Some(200));

    let deadline = Instant::now() + Duration::from_secs(120);
    while broadcasts.job_state(job).await.unwrap() != JobStatus::Done {
        assert!(
            Instant::now() < deadline && a.running() && b.running(),
            "the job did not finish: {:?}\n{}\n{}",
            broadcasts.job_status(job).await,
            a.log(),
            b.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Exactly once in total, whichever replica sent it.
    let photos = fake.photos_received();
    for chat in &chats {
        assert_eq!(photos.get(chat), Some(&1), "chat {chat}");
    }
    let to_subscribers: u32 = chats.iter().filter_map(|c| photos.get(c)).sum();
    assert_eq!(to_subscribers, 1000);
    let report = broadcasts.job_status(job).await.unwrap();
    assert_eq!(report.counts.sent, 1000, "{report:?}");

    // Both replicas delivered part of it (each loop logs what it sent).
    a.terminate().await;
    b.terminate().await;
    let (by_a, by_b) = (sent_by(&a, job), sent_by(&b, job));
    assert_eq!(by_a + by_b, 1000, "a sent {by_a}, b sent {by_b}");
    assert!(by_a > 0 && by_b > 0, "a sent {by_a}, b sent {by_b}");
    eprintln!("replica a sent {by_a}, replica b sent {by_b}");

    drop((a, b));
    store.db().close().await;
    database.drop().await;
}
