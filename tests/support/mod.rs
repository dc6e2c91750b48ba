//! Helpers shared by the integration tests: a temporary copy of the
//! project's knowledge folder, a snapshot of the seeds built once, and for
//! the Telegram tests the real engine, store and dispatcher started through
//! `telegram::start` against the fake Bot API, with builders for Telegram
//! updates.

#![allow(dead_code)]

use customs_ip_bot::knowledge::snapshot::Snapshot;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The repository's knowledge folder.
pub fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// Copies the project's knowledge folder into `into/knowledge` and returns
/// that path; tests may add or break files there freely.
pub fn copy_knowledge(into: &Path) -> PathBuf {
    let target = into.join("knowledge");
    copy_tree(&knowledge_dir(), &target);
    target
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            copy_tree(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// The seed knowledge, built in memory once per test binary.
pub fn seed_snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| {
        let files = customs_ip_bot::knowledge::files::load(&knowledge_dir()).unwrap();
        Snapshot::build_in_memory(&files).unwrap()
    })
}

pub mod fake_bot_api;
pub mod fixture_set;
pub mod watchdog;

use customs_ip_bot::frontends::config::{BotToken, Settings};
use customs_ip_bot::frontends::telegram::{self, Running};
use customs_ip_bot::knowledge::engine::{Engine, EngineSettings};
use customs_ip_bot::state::audit::Store;
use fake_bot_api::FakeBotApi;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const ADMIN: i64 = 9001;
pub const USER: i64 = 4242;
pub const GROUP: i64 = -100_777;

/// Test knobs; `Default` is what most tests want.
#[derive(Debug, Clone)]
pub struct Options {
    pub flood_per_minute: u32,
    pub send_attempts: u32,
    /// Documents written into the knowledge folder before the bot starts.
    pub extra_documents: Vec<(String, String)>,
    /// `[broadcast]` of the bot's settings.
    pub broadcast: customs_ip_bot::frontends::broadcast::BroadcastSettings,
    /// The largest document an admin may send.
    pub max_document_bytes: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            flood_per_minute: 0,
            send_attempts: 8,
            extra_documents: Vec::new(),
            broadcast: Default::default(),
            max_document_bytes: 20 * 1024 * 1024,
        }
    }
}

pub struct TestBot {
    pub fake: Arc<FakeBotApi>,
    pub running: Option<Running>,
    pub knowledge: PathBuf,
    pub data: PathBuf,
    pub engine: Arc<Engine>,
    pub store: Store,
    _dir: tempfile::TempDir,
    /// Fails the run if this test hangs (dropped last, after the bot).
    _watched: watchdog::Watched,
}

static NEXT_MESSAGE_ID: AtomicI64 = AtomicI64::new(1);

pub fn settings(api_url: url::Url, knowledge: &Path, data: &Path, options: &Options) -> Settings {
    Settings {
        knowledge_dir: knowledge.to_path_buf(),
        data_dir: data.to_path_buf(),
        token: Some(BotToken::new(fake_bot_api::TOKEN)),
        api_url,
        admins: vec![ADMIN as u64],
        poll_timeout: Duration::from_secs(1),
        webhook_url: None,
        listen: customs_ip_bot::frontends::config::DEFAULT_LISTEN
            .parse()
            .unwrap(),
        webhook_secret: None,
        set_webhook: true,
        reload_poll: Duration::from_secs(5),
        flood_per_minute: options.flood_per_minute,
        follow_up: Duration::from_secs(600),
        max_document_bytes: options.max_document_bytes,
        send_attempts: options.send_attempts,
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(400),
        database_url: None,
        broadcast: options.broadcast.clone(),
    }
}

impl TestBot {
    pub async fn start() -> TestBot {
        TestBot::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> TestBot {
        let watched = watchdog::Watched::start();
        let dir = tempfile::tempdir().unwrap();
        let knowledge = copy_knowledge(dir.path());
        let data = dir.path().join("data");
        for (name, text) in &options.extra_documents {
            std::fs::write(knowledge.join("documents").join(name), text).unwrap();
        }
        let fake = Arc::new(FakeBotApi::start().await);
        let (engine, store) = open_engine_and_store(&knowledge, &data).await;
        let settings = settings(fake.url(), &knowledge, &data, &options);
        let running = telegram::start(&settings, engine.clone(), store.clone())
            .await
            .unwrap();
        TestBot {
            fake,
            running: Some(running),
            knowledge,
            data,
            engine,
            store,
            _dir: dir,
            _watched: watched,
        }
    }

    /// Stops the bot; fails the test if it sent anything Telegram would
    /// have refused (see `FakeBotApi::violations`).
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            let stopped = running.stop().await;
            assert!(
                stopped.abandoned.is_empty(),
                "stopping the bot gave up on {:?}",
                stopped.abandoned
            );
        }
        let violations = self.fake.violations();
        assert!(
            violations.is_empty(),
            "refused by Telegram's rules:\n{}",
            violations.join("\n")
        );
    }
}

fn next_message_id() -> i64 {
    NEXT_MESSAGE_ID.fetch_add(1, Ordering::SeqCst)
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": format!("User{id}"), "language_code": "zh-hans"})
}

/// A text message in the private chat with user `from`.
pub fn private_text(from: i64, text: &str) -> Value {
    json!({"message": {
        "message_id": next_message_id(), "date": 1_700_000_000,
        "chat": {"id": from, "type": "private", "first_name": format!("User{from}")},
        "from": user(from), "text": text
    }})
}

/// A text message in a supergroup; `reply_to` is a message the bot sent.
pub fn group_text(group: i64, from: i64, text: &str, reply_to_bot: bool) -> Value {
    let mut update = json!({"message": {
        "message_id": next_message_id(), "date": 1_700_000_000,
        "chat": {"id": group, "type": "supergroup", "title": "IP lawyers"},
        "from": user(from), "text": text
    }});
    if reply_to_bot {
        update["message"]["reply_to_message"] = json!({
            "message_id": next_message_id(), "date": 1_700_000_000,
            "chat": {"id": group, "type": "supergroup", "title": "IP lawyers"},
            "from": {"id": fake_bot_api::BOT_ID, "is_bot": true, "first_name": "Customs IP",
                     "username": fake_bot_api::BOT_USERNAME},
            "text": "2024年全国海关扣留侵权嫌疑货物批次：4.16万批。"
        });
    }
    update
}

/// A file sent in the private chat with user `from`, as Telegram names it
/// (the bytes are hosted on the fake server with `FakeBotApi::host_file`).
pub fn private_document(from: i64, file_id: &str, file_name: &str, size: u64) -> Value {
    json!({"message": {
        "message_id": next_message_id(), "date": 1_700_000_000,
        "chat": {"id": from, "type": "private", "first_name": format!("User{from}")},
        "from": user(from),
        "document": {"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                     "file_name": file_name, "mime_type": "text/plain", "file_size": size}
    }})
}

pub fn message_id(update: &Value) -> i64 {
    update["message"]["message_id"].as_i64().unwrap()
}

/// The text a user sees, entities decoded and tags dropped.
pub fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn bot_user() -> Value {
    json!({"id": fake_bot_api::BOT_ID, "is_bot": true, "first_name": "Customs IP",
           "username": fake_bot_api::BOT_USERNAME})
}

/// The engine over `knowledge` and the SQLite state store, both in `data`.
pub async fn open_engine_and_store(knowledge: &Path, data: &Path) -> (Arc<Engine>, Store) {
    let engine = Engine::open(EngineSettings {
        knowledge_dir: knowledge.to_path_buf(),
        data_dir: data.to_path_buf(),
    })
    .await
    .unwrap();
    let store = Store::connect(None, data).await.unwrap();
    (Arc::new(engine), store)
}

/// A press of an inline button with `data` under a message the bot sent
/// to the private chat of `from`.
pub fn button_press(from: i64, data: &str) -> Value {
    json!({"callback_query": {
        "id": format!("cb{}", next_message_id()), "from": user(from), "chat_instance": "ci",
        "data": data,
        "message": {"message_id": next_message_id(), "date": 1_700_000_000,
                    "chat": {"id": from, "type": "private", "first_name": format!("User{from}")},
                    "from": bot_user(), "text": "preview"}
    }})
}

/// A my_chat_member update: `by` changed the bot's status in the
/// supergroup `group` from `old` to `new` (member, administrator, left, kicked).
pub fn bot_membership(group: i64, by: i64, old: &str, new: &str) -> Value {
    let member = |status: &str| {
        let mut m = json!({"status": status, "user": bot_user()});
        if status == "kicked" {
            m["until_date"] = json!(0);
        }
        m
    };
    json!({"my_chat_member": {
        "chat": {"id": group, "type": "supergroup", "title": "IP lawyers"},
        "from": user(by), "date": 1_700_000_000,
        "old_chat_member": member(old), "new_chat_member": member(new)
    }})
}

/// The broadcast store over the test bot's state database.
pub fn broadcast_store(bot: &TestBot) -> customs_ip_bot::state::broadcasts::BroadcastStore {
    customs_ip_bot::state::broadcasts::BroadcastStore::from_db(bot.store.db().clone())
}

/// A supergroup subscription made by the admin.
pub fn subscription(chat_id: i64) -> customs_ip_bot::state::broadcasts::Subscription {
    customs_ip_bot::state::broadcasts::Subscription {
        chat_id,
        kind: "supergroup".into(),
        title: Some(format!("group {chat_id}")),
        subscribed_by: Some(ADMIN),
    }
}

/// The job id in the Confirm button of a preview sent to `chat`, among the
/// requests from index `from` on.
pub fn preview_job(requests: &[fake_bot_api::Recorded], chat: i64, from: usize) -> Option<i64> {
    requests[from..].iter().find_map(|r| {
        if r.method != "sendmessage" || r.chat_id() != Some(chat) {
            return None;
        }
        let data = r.body["reply_markup"]["inline_keyboard"][0][0]["callback_data"].as_str()?;
        data.strip_prefix("bc:confirm:")?.parse().ok()
    })
}

/// (text, callback data) of every button under a sent message.
pub fn buttons_of(r: &fake_bot_api::Recorded) -> Vec<(String, String)> {
    let rows = r.body["reply_markup"]["inline_keyboard"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    rows.iter()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            (
                b["text"].as_str().unwrap_or("").to_string(),
                b["callback_data"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// The callback data of the button labelled `label`; panics naming the
/// buttons there are when none is.
pub fn data_of(r: &fake_bot_api::Recorded, label: &str) -> String {
    buttons_of(r)
        .into_iter()
        .find(|(t, _)| t == label)
        .unwrap_or_else(|| panic!("no button {label:?} in {:?}", buttons_of(r)))
        .1
}
