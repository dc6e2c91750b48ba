//! A fake Telegram Bot API server on 127.0.0.1: records every request
//! (method, body, time), feeds queued updates to getUpdates (long polling
//! with the timeout the bot asks for), answers sendMessage and the rest like
//! Telegram, can answer the next calls of a method with an injected error
//! (a 429 with retry_after, …), and can go offline (stop listening) and
//! come back on the same port.
//!
//! Broadcasts: sendPhoto arrives as multipart/form-data (teloxide always
//! sends it so): the parts are parsed into the recorded body (numbers as
//! numbers, JSON fields as JSON, an uploaded file as `{"upload": bytes}`)
//! and answered with a Message carrying a photo file id. getChatMember
//! answers "creator" for the chat admins set with [`FakeBotApi::set_admin`]
//! and "member" otherwise; answerCallbackQuery and editMessageReplyMarkup
//! are accepted. [`FakeBotApi::script_chat`] makes one chat answer sends
//! with a 403 (kicked), a 400 with migrate_to_chat_id, or a 429 once.
//!
//! Every text the bot sends in HTML parse mode (sendMessage,
//! editMessageText, a sendPhoto caption, an inline result's message) is
//! checked as Telegram checks it: only Telegram's tags, balanced, no
//! blockquote in a blockquote, entities well formed, 1–4,096 characters of
//! visible text (1,024 for a caption); every callback button's data at most
//! 64 bytes. A message that fails is refused with Telegram's 400 ("can't
//! parse entities", "message is too long") and kept in
//! [`FakeBotApi::violations`]. editMessageText, deleteMessage,
//! answerCallbackQuery and answerInlineQuery are accepted.
//!
//! Errors are signalled as Telegram does (4xx, `ok: false`): teloxide
//! sleeps 10 s after any 5xx.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, Notify};

pub const TOKEN: &str = "123456:TEST-TOKEN";
pub const BOT_ID: i64 = 123456;
pub const BOT_USERNAME: &str = "customs_ip_test_bot";

/// One request the bot made.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method name, lower-case (`sendmessage`).
    pub method: String,
    pub body: Value,
    pub at: Instant,
    /// Answered `ok: true` (false for a scripted or injected error).
    pub ok: bool,
}

impl Recorded {
    /// A sendMessage to this chat.
    pub fn is_message_to(&self, chat_id: i64) -> bool {
        self.method == "sendmessage" && self.chat_id() == Some(chat_id)
    }

    pub fn chat_id(&self) -> Option<i64> {
        self.body.get("chat_id").and_then(Value::as_i64)
    }

    pub fn text(&self) -> &str {
        self.body.get("text").and_then(Value::as_str).unwrap_or("")
    }
}

/// How one chat answers sendPhoto and sendMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatScript {
    /// 403 "Forbidden: bot was kicked from the group chat", every time.
    Kicked,
    /// 400 with `parameters.migrate_to_chat_id`, every time (the new id
    /// answers normally).
    MigrateTo(i64),
    /// 429 with `parameters.retry_after` once, then normal answers.
    RetryAfterOnce(u64),
}

struct Injected {
    method: String,
    status: StatusCode,
    body: Value,
}

struct Inner {
    requests: Mutex<Vec<Recorded>>,
    updates: Mutex<Vec<Value>>,
    next_update_id: AtomicI64,
    next_message_id: AtomicI64,
    injected: Mutex<VecDeque<Injected>>,
    changed: Notify,
    offline: Notify,
    scripts: Mutex<HashMap<i64, ChatScript>>,
    chat_admins: Mutex<HashSet<(i64, i64)>>,
    uploads: AtomicI64,
    /// Slows every send down (to catch a bot mid-job).
    send_delay_ms: AtomicI64,
    /// Requests refused for breaking Telegram's rules on text and buttons.
    violations: Mutex<Vec<String>>,
    /// (chat, message id) of every message sendMessage created, in order.
    sent_ids: Mutex<Vec<(i64, i64)>>,
    /// Files users sent, by file id: getFile names them, `/file/…` serves them.
    files: Mutex<HashMap<String, Vec<u8>>>,
}

pub struct FakeBotApi {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    server: Mutex<Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
}

impl FakeBotApi {
    pub async fn start() -> FakeBotApi {
        let inner = Arc::new(Inner {
            requests: Mutex::default(),
            updates: Mutex::default(),
            next_update_id: AtomicI64::new(1),
            next_message_id: AtomicI64::new(1_000_000),
            injected: Mutex::default(),
            changed: Notify::new(),
            offline: Notify::new(),
            scripts: Mutex::default(),
            chat_admins: Mutex::default(),
            uploads: AtomicI64::new(0),
            send_delay_ms: AtomicI64::new(0),
            violations: Mutex::default(),
            sent_ids: Mutex::default(),
            files: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = FakeBotApi {
            addr,
            inner,
            server: Mutex::new(None),
        };
        fake.serve_on(listener);
        fake
    }

    /// The address to give the bot (`TELOXIDE_API_URL`).
    pub fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).unwrap()
    }

    fn serve_on(&self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/{bot}/{method}", post(handle))
            .route("/file/{bot}/{*path}", get(download))
            .with_state(self.inner.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        *self.server.lock().unwrap() = Some((stop, task));
    }

    /// Stops listening: the bot's requests fail to connect.
    pub async fn go_offline(&self) {
        let server = self.server.lock().unwrap().take();
        if let Some((stop, task)) = server {
            let _ = stop.send(());
            self.inner.offline.notify_waiters();
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }

    /// Listens again on the same address.
    pub async fn come_back_online(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        self.serve_on(listener);
    }

    /// Queues an update (its update_id is assigned here).
    pub fn push_update(&self, mut update: Value) {
        let id = self.inner.next_update_id.fetch_add(1, Ordering::SeqCst);
        update["update_id"] = json!(id);
        self.inner.updates.lock().unwrap().push(update);
        self.inner.changed.notify_waiters();
    }

    /// Answers the next call of `method` with this error instead.
    pub fn inject_error(&self, method: &str, status: u16, body: Value) {
        self.inner.injected.lock().unwrap().push_back(Injected {
            method: method.to_ascii_lowercase(),
            status: StatusCode::from_u16(status).unwrap(),
            body,
        });
    }

    /// Answers the next call of `method` with a 429 asking to wait.
    pub fn inject_retry_after(&self, method: &str, seconds: u64) {
        self.inject_error(
            method,
            429,
            json!({"ok": false, "error_code": 429,
                   "description": format!("Too Many Requests: retry after {seconds}"),
                   "parameters": {"retry_after": seconds}}),
        );
    }

    /// Scripts how `chat` answers sends.
    pub fn script_chat(&self, chat: i64, script: ChatScript) {
        self.inner.scripts.lock().unwrap().insert(chat, script);
    }

    /// getChatMember says `user` is the creator of `chat`.
    pub fn set_admin(&self, chat: i64, user: i64) {
        self.inner.chat_admins.lock().unwrap().insert((chat, user));
    }

    /// A file a user sent (a document message names `file_id`): getFile
    /// answers for it and the bot can download it.
    pub fn host_file(&self, file_id: &str, bytes: Vec<u8>) {
        self.inner
            .files
            .lock()
            .unwrap()
            .insert(file_id.to_string(), bytes);
    }

    /// Photos uploaded as files (not by file id).
    pub fn uploads(&self) -> i64 {
        self.inner.uploads.load(Ordering::SeqCst)
    }

    /// Every sendPhoto and sendMessage waits this long before answering.
    pub fn set_send_delay(&self, delay: Duration) {
        self.inner
            .send_delay_ms
            .store(delay.as_millis() as i64, Ordering::SeqCst);
    }

    /// The sendPhoto requests answered successfully, by chat id.
    pub fn photos_received(&self) -> HashMap<i64, u32> {
        let mut counts = HashMap::new();
        for r in self.requests() {
            if r.method == "sendphoto" && r.ok {
                *counts.entry(r.chat_id().unwrap_or(0)).or_default() += 1;
            }
        }
        counts
    }

    /// What the bot sent that Telegram would have refused (bad HTML, too
    /// long, oversized button data), one line each.
    pub fn violations(&self) -> Vec<String> {
        self.inner.violations.lock().unwrap().clone()
    }

    /// The ids of the messages sendMessage created in `chat`, in order.
    pub fn message_ids_sent_to(&self, chat: i64) -> Vec<i64> {
        let ids = self.inner.sent_ids.lock().unwrap();
        ids.iter()
            .filter(|(c, _)| *c == chat)
            .map(|(_, id)| *id)
            .collect()
    }

    /// The requests of one method (lower-case), in order.
    pub fn calls(&self, method: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// How many requests have been recorded (getUpdates is not recorded).
    pub fn request_count(&self) -> usize {
        self.inner.requests.lock().unwrap().len()
    }

    /// The requests recorded from index `start` on.
    pub fn requests_from(&self, start: usize) -> Vec<Recorded> {
        let requests = self.inner.requests.lock().unwrap();
        requests.get(start..).unwrap_or_default().to_vec()
    }

    /// The sendMessage requests to one chat, in order.
    pub fn sent_to(&self, chat_id: i64) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.is_message_to(chat_id))
            .collect()
    }

    /// Waits until at least `n` messages went to `chat_id`; returns them all.
    pub async fn wait_for_sent(
        &self,
        chat_id: i64,
        n: usize,
        what: &str,
        timeout: Duration,
    ) -> Vec<Recorded> {
        self.wait_for(timeout, what, |rs| {
            let sent: Vec<Recorded> = rs
                .iter()
                .filter(|r| r.is_message_to(chat_id))
                .cloned()
                .collect();
            (sent.len() >= n).then_some(sent)
        })
        .await
    }

    /// Waits until `check` holds over the requests, or panics after `timeout`.
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        what: &str,
        check: impl Fn(&[Recorded]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            let changed = self.inner.changed.notified();
            if let Some(found) = check(&self.requests()) {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let summary: Vec<String> = self
                    .requests()
                    .iter()
                    .filter(|r| r.method != "getupdates")
                    .map(|r| format!("{} {}", r.method, r.body))
                    .collect();
                panic!(
                    "timed out waiting for {what}; requests:\n{}",
                    summary.join("\n")
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(100)), changed).await;
        }
    }

    /// Waits for a sendMessage to `chat_id` whose text contains `needle`.
    pub async fn wait_for_text(&self, chat_id: i64, needle: &str, timeout: Duration) -> Recorded {
        self.wait_for(
            timeout,
            &format!("a message to {chat_id} containing {needle:?}"),
            |rs| {
                rs.iter()
                    .find(|r| r.is_message_to(chat_id) && r.text().contains(needle))
                    .cloned()
            },
        )
        .await
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    let method = method.to_ascii_lowercase();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: Value = if content_type.starts_with("multipart/form-data") {
        parse_multipart(&content_type, &body)
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|_| {
            let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Value::Object(pairs)
        })
    };
    let is_send = matches!(method.as_str(), "sendphoto" | "sendmessage");
    let delay = inner.send_delay_ms.load(Ordering::SeqCst);
    if is_send && delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay as u64)).await;
    }
    let response = match telegram_rules(&method, &body) {
        Err(problem) => {
            inner
                .violations
                .lock()
                .unwrap()
                .push(format!("{method}: {problem}: {body}"));
            error(400, &format!("Bad Request: {problem}"))
        }
        Ok(()) => answer(&inner, &bot, &method, &body).await,
    };
    if method != "getupdates" {
        inner.requests.lock().unwrap().push(Recorded {
            method: method.clone(),
            body: body.clone(),
            at: arrived,
            ok: response.status().is_success(),
        });
        inner.changed.notify_waiters();
    }
    response
}

async fn answer(inner: &Arc<Inner>, bot: &str, method: &str, body: &Value) -> Response {
    if bot != format!("bot{TOKEN}") {
        return error(401, "Unauthorized");
    }
    let injected = {
        let mut queue = inner.injected.lock().unwrap();
        let position = queue.iter().position(|i| i.method == method);
        position.and_then(|p| queue.remove(p))
    };
    if let Some(i) = injected {
        return (i.status, Json(i.body)).into_response();
    }
    let chat_id = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
    if matches!(method, "sendphoto" | "sendmessage") {
        let script = {
            let mut scripts = inner.scripts.lock().unwrap();
            let script = scripts.get(&chat_id).copied();
            if let Some(ChatScript::RetryAfterOnce(_)) = script {
                scripts.remove(&chat_id);
            }
            script
        };
        match script {
            Some(ChatScript::Kicked) => {
                return error(403, "Forbidden: bot was kicked from the group chat")
            }
            Some(ChatScript::MigrateTo(new)) => {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"ok": false, "error_code": 400,
                        "description": "Bad Request: group chat was upgraded to a supergroup chat",
                        "parameters": {"migrate_to_chat_id": new}})),
                )
                    .into_response()
            }
            Some(ChatScript::RetryAfterOnce(seconds)) => {
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"ok": false, "error_code": 429,
                        "description": format!("Too Many Requests: retry after {seconds}"),
                        "parameters": {"retry_after": seconds}})),
                )
                    .into_response()
            }
            None => {}
        }
    }
    let bot_user =
        json!({"id": BOT_ID, "is_bot": true, "first_name": "Customs IP", "username": BOT_USERNAME});
    let message = |extra: Value| {
        let id = inner.next_message_id.fetch_add(1, Ordering::SeqCst);
        let mut m = json!({
            "message_id": id, "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "chat"},
            "from": bot_user.clone(),
        });
        if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
            m.extend(extra.clone());
        }
        m
    };
    match method {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Customs IP", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "has_main_web_app": false
        })),
        "getupdates" => get_updates(inner, body).await,
        "sendmessage" => {
            let m = message(json!({"text": body.get("text").cloned().unwrap_or(json!(""))}));
            let id = m["message_id"].as_i64().unwrap_or(0);
            inner.sent_ids.lock().unwrap().push((chat_id, id));
            ok(m)
        }
        "sendphoto" => {
            let file_id = match body.get("photo") {
                Some(Value::String(id)) => id.clone(),
                _ => {
                    let n = inner.uploads.fetch_add(1, Ordering::SeqCst);
                    format!("chart-file-{n}")
                }
            };
            let mut extra = json!({"photo": [{"file_id": file_id, "file_unique_id": "u-chart",
                                               "width": 1280, "height": 720, "file_size": 1000}]});
            if let Some(caption) = body.get("caption") {
                extra["caption"] = caption.clone();
            }
            ok(message(extra))
        }
        "getfile" => {
            let id = body
                .get("file_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            match inner.files.lock().unwrap().get(id) {
                Some(bytes) => ok(json!({"file_id": id, "file_unique_id": format!("u-{id}"),
                    "file_size": bytes.len(), "file_path": format!("documents/{id}")})),
                None => error(400, "Bad Request: invalid file_id"),
            }
        }
        "editmessagereplymarkup" => ok(message(json!({"text": "preview"}))),
        "editmessagetext" => ok(message(json!({
            "message_id": body.get("message_id").cloned().unwrap_or(json!(0)),
            "text": body.get("text").cloned().unwrap_or(json!("")),
            "edit_date": 1_700_000_100,
        }))),
        "getchatmember" => {
            let user = body.get("user_id").and_then(Value::as_i64).unwrap_or(0);
            let admin = inner.chat_admins.lock().unwrap().contains(&(chat_id, user));
            let user_json =
                json!({"id": user, "is_bot": false, "first_name": format!("User{user}")});
            if admin {
                ok(json!({"status": "creator", "user": user_json, "is_anonymous": false}))
            } else {
                ok(json!({"status": "member", "user": user_json}))
            }
        }
        _ => ok(json!(true)),
    }
}

/// `GET /file/bot<token>/documents/<file id>`: a hosted file's bytes,
/// recorded as the method `download`.
async fn download(
    State(inner): State<Arc<Inner>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    let id = path
        .strip_prefix("documents/")
        .unwrap_or_default()
        .to_string();
    let bytes = inner.files.lock().unwrap().get(&id).cloned();
    let ok = bot == format!("bot{TOKEN}") && bytes.is_some();
    inner.requests.lock().unwrap().push(Recorded {
        method: "download".into(),
        body: json!({"file_id": id}),
        at: Instant::now(),
        ok,
    });
    inner.changed.notify_waiters();
    match bytes {
        Some(bytes) if ok => bytes.into_response(),
        _ => error(404, "Not Found"),
    }
}

/// Telegram's rules on what a request may carry: HTML texts valid and
/// within the limits, callback data at most 64 bytes.
fn telegram_rules(method: &str, body: &Value) -> Result<(), String> {
    let html = body.get("parse_mode").and_then(Value::as_str) == Some("HTML");
    match method {
        "sendmessage" | "editmessagetext" => {
            let text = body.get("text").and_then(Value::as_str).unwrap_or("");
            check_text(text, html, 4096)?;
        }
        "sendphoto" => {
            if let Some(caption) = body.get("caption").and_then(Value::as_str) {
                check_text(caption, html, 1024)?;
            }
        }
        "answerinlinequery" => {
            let results = body.get("results").and_then(Value::as_array);
            for r in results.into_iter().flatten() {
                let content = &r["input_message_content"];
                let html = content["parse_mode"].as_str() == Some("HTML");
                check_text(content["message_text"].as_str().unwrap_or(""), html, 4096)?;
                check_buttons(&r["reply_markup"])?;
            }
        }
        _ => {}
    }
    check_buttons(&body["reply_markup"])
}

fn check_buttons(markup: &Value) -> Result<(), String> {
    let rows = markup.get("inline_keyboard").and_then(Value::as_array);
    for button in rows
        .into_iter()
        .flatten()
        .flat_map(|r| r.as_array().into_iter().flatten())
    {
        let text = button["text"].as_str().unwrap_or("");
        if text.trim().is_empty() {
            return Err("BUTTON_TEXT_EMPTY".into());
        }
        if let Some(data) = button.get("callback_data").and_then(Value::as_str) {
            if data.is_empty() || data.len() > 64 {
                return Err("BUTTON_DATA_INVALID".into());
            }
        }
    }
    Ok(())
}

/// A text as Telegram reads it: in HTML parse mode, tags and entities
/// checked; then the visible text non-empty and at most `limit` UTF-16 units.
fn check_text(text: &str, html: bool, limit: usize) -> Result<(), String> {
    let visible = if html {
        visible_html(text)?
    } else {
        text.to_string()
    };
    let len = visible.encode_utf16().count();
    if visible.trim().is_empty() {
        return Err("message text is empty".into());
    }
    if len > limit {
        return Err(format!("message is too long ({len} > {limit})"));
    }
    Ok(())
}

/// The visible text of Telegram HTML, or why Telegram refuses it.
fn visible_html(html: &str) -> Result<String, String> {
    const TAGS: &[&str] = &[
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "code",
        "pre",
        "tg-spoiler",
        "blockquote",
    ];
    let refuse = |why: &str| Err(format!("can't parse entities: {why}"));
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let Some(end) = rest.find('>') else {
                    return refuse("unclosed start tag");
                };
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    if open.pop().as_deref() != Some(name) {
                        return refuse(&format!("unmatched end tag {name}"));
                    }
                } else {
                    let name = tag.split(' ').next().unwrap_or("");
                    let attributes = tag[name.len()..].trim();
                    let allowed = match name {
                        "a" => attributes.starts_with("href=\"") && attributes.ends_with('"'),
                        "blockquote" => attributes.is_empty() || attributes == "expandable",
                        "span" => attributes == "class=\"tg-spoiler\"",
                        _ => TAGS.contains(&name) && attributes.is_empty(),
                    };
                    if !allowed {
                        return refuse(&format!("unsupported start tag {tag}"));
                    }
                    if name == "blockquote" && open.iter().any(|t| t == "blockquote") {
                        return refuse("nested blockquote");
                    }
                    open.push(name.to_string());
                }
                rest = &rest[end + 1..];
            }
            '&' => {
                let Some(end) = rest.find(';').filter(|e| *e <= 10) else {
                    return refuse("unescaped &");
                };
                let entity = &rest[..=end];
                let decoded = match entity {
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&amp;" => '&',
                    "&quot;" => '"',
                    _ => return refuse(&format!("unknown entity {entity}")),
                };
                out.push(decoded);
                rest = &rest[end + 1..];
            }
            '>' => return refuse("unescaped >"),
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if let Some(tag) = open.pop() {
        return refuse(&format!("unclosed tag {tag}"));
    }
    Ok(out)
}

/// The fields of a multipart/form-data body: text parts as numbers, JSON or
/// strings; a file part as `{"upload": its size}`.
fn parse_multipart(content_type: &str, body: &[u8]) -> Value {
    let Some(boundary) = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
    else {
        return json!({});
    };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let delimiter = delimiter.as_bytes();
    let mut fields = serde_json::Map::new();
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut rest = body;
    while let Some(i) = find(rest, delimiter) {
        parts.push(&rest[..i]);
        rest = &rest[i + delimiter.len()..];
    }
    for part in parts.into_iter().skip(1) {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).to_string();
        let mut content = &part[split + 4..];
        content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let Some(name) = head
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()
            .map(|n| n.trim_matches('"').to_string())
        else {
            continue;
        };
        let value = if head.contains("filename=") {
            json!({"upload": content.len()})
        } else {
            let text = String::from_utf8_lossy(content).to_string();
            if let Ok(n) = text.parse::<i64>() {
                json!(n)
            } else if text.starts_with('{') || text.starts_with('[') {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            } else {
                Value::String(text)
            }
        };
        fields.insert(name, value);
    }
    // A file is named by `attach://<part>` in its field.
    let attached: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| {
            let part = v.as_str()?.strip_prefix("attach://")?;
            Some((k.clone(), part.to_string()))
        })
        .collect();
    for (field, part) in attached {
        if let Some(file) = fields.remove(&part) {
            fields.insert(field, file);
        }
    }
    Value::Object(fields)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn get_updates(inner: &Arc<Inner>, body: &Value) -> Response {
    let offset = body.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let timeout = body.get("timeout").and_then(Value::as_u64).unwrap_or(0);
    let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(100) as usize;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        let changed = inner.changed.notified();
        let offline = inner.offline.notified();
        let ready: Vec<Value> = {
            let mut updates = inner.updates.lock().unwrap();
            updates.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            updates.iter().take(limit).cloned().collect()
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if !ready.is_empty() || left.is_zero() {
            return ok(Value::Array(ready));
        }
        tokio::select! {
            _ = changed => {}
            _ = offline => return ok(json!([])),
            _ = tokio::time::sleep(left) => {}
        }
    }
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn error(status: u16, description: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"ok": false, "error_code": status, "description": description})),
    )
        .into_response()
}
