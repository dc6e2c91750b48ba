//! A fake Telegram Bot API server on 127.0.0.1: records every request
//! (method, body, time), feeds queued updates to getUpdates (long polling
//! with the timeout the bot asks for), answers sendMessage and the rest like
//! Telegram, can answer the next calls of a method with an injected error
//! (a 429 with retry_after, …), and can go offline (stop listening) and
//! come back on the same port.
//!
//! Errors are signalled as Telegram does (4xx, `ok: false`): teloxide
//! sleeps 10 s after any 5xx.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
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
}

impl Recorded {
    pub fn chat_id(&self) -> Option<i64> {
        self.body.get("chat_id").and_then(Value::as_i64)
    }

    pub fn text(&self) -> &str {
        self.body.get("text").and_then(Value::as_str).unwrap_or("")
    }
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
            .filter(|r| r.method == "sendmessage" && r.chat_id() == Some(chat_id))
            .collect()
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
                    .find(|r| {
                        r.method == "sendmessage"
                            && r.chat_id() == Some(chat_id)
                            && r.text().contains(needle)
                    })
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
    let method = method.to_ascii_lowercase();
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let multipart = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .map(|boundary| multipart_fields(&body, boundary));
    let body: Value = multipart.unwrap_or_else(|| {
        serde_json::from_slice(&body).unwrap_or_else(|_| {
            let pairs: serde_json::Map<String, Value> = url::form_urlencoded::parse(&body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Value::Object(pairs)
        })
    });
    if method != "getupdates" {
        inner.requests.lock().unwrap().push(Recorded {
            method: method.clone(),
            body: body.clone(),
            at: Instant::now(),
        });
        inner.changed.notify_waiters();
    }
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
    match method.as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Customs IP", "username": BOT_USERNAME,
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "has_main_web_app": false
        })),
        "getupdates" => get_updates(&inner, &body).await,
        "sendmessage" => {
            let id = inner.next_message_id.fetch_add(1, Ordering::SeqCst);
            let chat_id = body.get("chat_id").and_then(Value::as_i64).unwrap_or(0);
            ok(json!({
                "message_id": id, "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private", "first_name": "chat"},
                "from": {"id": BOT_ID, "is_bot": true, "first_name": "Customs IP", "username": BOT_USERNAME},
                "text": body.get("text").cloned().unwrap_or(json!(""))
            }))
        }
        _ => ok(json!(true)),
    }
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

/// The text fields of a multipart/form-data body, as strings: teloxide
/// sends setWebhook so (the webhook tests read its url and secret_token).
fn multipart_fields(body: &[u8], boundary: &str) -> Value {
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        fields.insert(name.to_string(), Value::String(value.to_string()));
    }
    Value::Object(fields)
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
