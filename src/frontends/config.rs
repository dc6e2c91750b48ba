//! config: "here are the defaults, the config file, the environment and the
//! flags, give me one set of settings". Layers, lowest first: built-in
//! defaults < config file (TOML, `--config` / `CUSTOMS_IP_BOT_CONFIG`) <
//! environment (`TELOXIDE_TOKEN`, `TELOXIDE_API_URL`, `DATABASE_URL`,
//! `CUSTOMS_IP_BOT_*`) <
//! command-line flags. Every key is documented in
//! `deploy/config.example.toml`.
//!
//! Invariant: the token, the webhook secret and the database password
//! never print (`BotToken`, `Secret`, `DatabaseUrl` hide them).
//! Environment reads go through a lookup function handed in, so the
//! layering is tested without touching the process environment. The
//! layers are merged by figment into one serde struct, [`Keys`].

use crate::frontends::broadcast::BroadcastSettings;
use figment::value::{Dict, Value};
use figment::{Figment, Metadata, Provider};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file named by `--config` / `CUSTOMS_IP_BOT_CONFIG` cannot be read.
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has an unknown key.
    #[error("the config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    /// The layers do not merge into valid settings (a key of the wrong
    /// type in one of them); the message names the layer and the key.
    #[error("the settings are not valid: {0}")]
    Layered(String),
    /// An environment variable or flag has a value that does not parse.
    #[error("{name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: String,
        value: String,
        reason: String,
    },
}

/// A secret (the bot token, the webhook's secret token): Debug and Display
/// never show it; `expose` gives it to the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

/// The bot token.
pub type BotToken = Secret;

impl Secret {
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// `DATABASE_URL`: Debug and Display show it with the password hidden;
/// dereferences to the URL itself for the one place that connects.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    /// The URL with its password (if any) replaced by `***`.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.0) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            Ok(url) => url.to_string(),
            // Not a URL: it may still hold a secret, so print none of it.
            Err(_) => "<not a URL, hidden>".to_string(),
        }
    }
}

impl std::ops::Deref for DatabaseUrl {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({:?})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Where webhook mode listens when `webhook_url` is set without `listen`.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// The default Bot API address.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org/";

/// Everything the program needs to run, after layering.
#[derive(Debug, Clone)]
pub struct Settings {
    pub knowledge_dir: PathBuf,
    pub data_dir: PathBuf,
    /// `None` when no layer gives one: `serve` refuses to start.
    pub token: Option<BotToken>,
    pub api_url: url::Url,
    /// Telegram user ids allowed to use /reload and /stats.
    pub admins: Vec<u64>,
    /// Long-polling timeout of getUpdates.
    pub poll_timeout: Duration,
    /// Webhook mode when set: the public HTTPS address Telegram posts
    /// updates to (behind a load balancer, the same for every replica).
    /// None: long polling.
    pub webhook_url: Option<url::Url>,
    /// Webhook mode: the local address the webhook listener binds.
    pub listen: std::net::SocketAddr,
    /// Webhook mode: the secret Telegram sends in
    /// `X-Telegram-Bot-Api-Secret-Token`; updates without it get 401.
    pub webhook_secret: Option<Secret>,
    /// Webhook mode: whether this replica calls setWebhook at start (every
    /// replica calling it with the same URL and secret is harmless).
    pub set_webhook: bool,
    /// How often each replica looks for a reload made by another one
    /// (`reload_events`); zero turns following off.
    pub reload_poll: Duration,
    /// Questions and commands one user may send per minute before the bot
    /// sends a polite notice and ignores them until the minute has passed.
    pub flood_per_minute: u32,
    /// How long the last understood question of a chat (of a user in a
    /// group) is kept for follow-ups ("那2020年呢?"); zero turns them off.
    pub follow_up: Duration,
    /// Largest document an admin may send to be added (Telegram's bots
    /// download at most 20 MB); a larger one is refused before download.
    pub max_document_bytes: u64,
    /// Attempts to send one message through network errors and Telegram 5xx.
    pub send_attempts: u32,
    /// First wait between attempts; doubles each time up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// `postgres://…` for the shared state on PostgreSQL; otherwise the
    /// SQLite file `state.db` in the data folder.
    pub database_url: Option<DatabaseUrl>,
    /// `[broadcast]`: the automatic mode, the summary's language and the
    /// delivery limits (environment: `CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC`).
    pub broadcast: BroadcastSettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            knowledge_dir: PathBuf::from("knowledge"),
            data_dir: PathBuf::from("data"),
            token: None,
            api_url: url::Url::parse(DEFAULT_API_URL).expect("valid default URL"),
            admins: Vec::new(),
            poll_timeout: Duration::from_secs(10),
            webhook_url: None,
            listen: DEFAULT_LISTEN.parse().expect("valid default address"),
            webhook_secret: None,
            set_webhook: true,
            reload_poll: Duration::from_secs(5),
            flood_per_minute: 20,
            follow_up: Duration::from_secs(600),
            max_document_bytes: 20 * 1024 * 1024,
            send_attempts: 5,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
            database_url: None,
            broadcast: BroadcastSettings::default(),
        }
    }
}

/// Every key of every layer, as serde reads it: the config file's keys,
/// the environment and the flags mapped onto the same names. The built-in
/// defaults are `Keys::default()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    pub knowledge: PathBuf,
    pub data: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub api_url: String,
    pub admins: Vec<u64>,
    pub poll_timeout_secs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
    pub set_webhook: bool,
    pub reload_poll_seconds: u64,
    pub flood_per_minute: u32,
    pub follow_up_minutes: u64,
    pub max_document_mb: u64,
    pub send_attempts: u32,
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `[broadcast]` and `[broadcast.delivery]`: defaults field by field.
    #[serde(default, skip_serializing)]
    pub broadcast: BroadcastSettings,
}

impl Default for Keys {
    fn default() -> Keys {
        let d = Settings::default();
        Keys {
            knowledge: d.knowledge_dir,
            data: d.data_dir,
            token: None,
            api_url: d.api_url.to_string(),
            admins: d.admins,
            poll_timeout_secs: d.poll_timeout.as_secs(),
            webhook_url: None,
            listen: None,
            webhook_secret: None,
            set_webhook: d.set_webhook,
            reload_poll_seconds: d.reload_poll.as_secs(),
            flood_per_minute: d.flood_per_minute,
            follow_up_minutes: d.follow_up.as_secs() / 60,
            max_document_mb: d.max_document_bytes / (1024 * 1024),
            send_attempts: d.send_attempts,
            retry_base_ms: d.retry_base.as_millis() as u64,
            retry_max_ms: d.retry_max.as_millis() as u64,
            database_url: None,
            broadcast: d.broadcast,
        }
    }
}

/// The environment variables read, the key each sets, and how its text reads.
const ENVIRONMENT: &[(&str, &str, EnvKind)] = &[
    ("CUSTOMS_IP_BOT_KNOWLEDGE", "knowledge", EnvKind::Text),
    ("CUSTOMS_IP_BOT_DATA", "data", EnvKind::Text),
    ("TELOXIDE_TOKEN", "token", EnvKind::Text),
    ("TELOXIDE_API_URL", "api_url", EnvKind::Text),
    ("CUSTOMS_IP_BOT_ADMINS", "admins", EnvKind::Ids),
    (
        "CUSTOMS_IP_BOT_POLL_TIMEOUT_SECS",
        "poll_timeout_secs",
        EnvKind::Number,
    ),
    (
        "CUSTOMS_IP_BOT_FLOOD_PER_MINUTE",
        "flood_per_minute",
        EnvKind::Number,
    ),
    (
        "CUSTOMS_IP_BOT_SEND_ATTEMPTS",
        "send_attempts",
        EnvKind::Number,
    ),
    (
        "CUSTOMS_IP_BOT_RETRY_BASE_MS",
        "retry_base_ms",
        EnvKind::Number,
    ),
    (
        "CUSTOMS_IP_BOT_RETRY_MAX_MS",
        "retry_max_ms",
        EnvKind::Number,
    ),
    ("DATABASE_URL", "database_url", EnvKind::Text),
    ("CUSTOMS_IP_BOT_WEBHOOK_URL", "webhook_url", EnvKind::Text),
    ("CUSTOMS_IP_BOT_LISTEN", "listen", EnvKind::Text),
    (
        "CUSTOMS_IP_BOT_WEBHOOK_SECRET",
        "webhook_secret",
        EnvKind::Text,
    ),
    ("CUSTOMS_IP_BOT_SET_WEBHOOK", "set_webhook", EnvKind::Flag),
    (
        "CUSTOMS_IP_BOT_RELOAD_POLL_SECONDS",
        "reload_poll_seconds",
        EnvKind::Number,
    ),
    (
        "CUSTOMS_IP_BOT_FOLLOW_UP_MINUTES",
        "follow_up_minutes",
        EnvKind::Number,
    ),
    (
        "CUSTOMS_IP_BOT_MAX_DOCUMENT_MB",
        "max_document_mb",
        EnvKind::Number,
    ),
    (
        "CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC",
        "broadcast.automatic",
        EnvKind::Word,
    ),
];

/// The flags, the key each sets.
const FLAGS: &[(&str, &str)] = &[
    ("--knowledge", "knowledge"),
    ("--data", "data"),
    ("--api-url", "api_url"),
    ("--admins", "admins"),
    ("--poll-timeout-secs", "poll_timeout_secs"),
    ("--flood-per-minute", "flood_per_minute"),
    ("--webhook-url", "webhook_url"),
    ("--listen", "listen"),
];

#[derive(Debug, Clone, Copy)]
enum EnvKind {
    Text,
    /// A lower-cased word (an enum's variant).
    Word,
    Number,
    Flag,
    /// Comma-separated Telegram ids.
    Ids,
}

/// The `serve` subcommand's flags (the highest layer).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Bot API server address (a local Bot API server, or a test double).
    #[arg(long)]
    pub api_url: Option<String>,
    /// Admin Telegram user ids, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub admins: Option<Vec<u64>>,
    /// Long-polling timeout of getUpdates, in seconds.
    #[arg(long)]
    pub poll_timeout_secs: Option<u64>,
    /// Messages one user may send per minute.
    #[arg(long)]
    pub flood_per_minute: Option<u32>,
    /// Webhook mode: the public HTTPS address Telegram posts updates to.
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// Webhook mode: the local address to listen on (default 0.0.0.0:8080).
    #[arg(long)]
    pub listen: Option<String>,
}

/// The global flags that also exist outside `serve`.
#[derive(Debug, Clone, Default)]
pub struct GlobalFlags {
    pub config: Option<PathBuf>,
    pub knowledge: Option<PathBuf>,
    pub data: Option<PathBuf>,
}

/// Reads the config file, if any, and layers everything.
/// `env` looks up one environment variable.
pub fn load(
    flags: &GlobalFlags,
    serve: &ServeArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let path = flags
        .config
        .clone()
        .or_else(|| env("CUSTOMS_IP_BOT_CONFIG").map(PathBuf::from));
    let file = match &path {
        Some(path) => Some((path.clone(), read_file(path)?)),
        None => None,
    };
    layer(
        file.as_ref().map(|(p, t)| (p.as_path(), t)),
        flags,
        serve,
        env,
    )
}

/// Reads a config file as a TOML table (keys are checked when layered).
pub fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    text.parse::<toml::Table>().map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

/// defaults < file < environment < flags, merged by figment into [`Keys`],
/// then checked and typed into [`Settings`].
pub fn layer(
    file: Option<(&Path, &toml::Table)>,
    flags: &GlobalFlags,
    serve: &ServeArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let mut figment = Figment::from(Layer::of("the built-in defaults", &Keys::default())?);
    if let Some((path, table)) = file {
        figment = figment.merge(Layer::of(path.display().to_string(), table)?);
    }
    let figment = figment
        .merge(Layer::environment(env)?)
        .merge(Layer::flags(flags, serve)?);
    let keys: Keys = figment.extract().map_err(|e| match file {
        Some((path, _))
            if e.metadata
                .as_ref()
                .is_some_and(|m| m.name == path.display().to_string()) =>
        {
            ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            }
        }
        _ => ConfigError::Layered(e.to_string()),
    })?;
    settings_of(keys, &|key| source_name(&figment, key))
}

/// Where the value of a key came from, as a user wrote it: the file's key,
/// the environment variable, the flag.
fn source_name(figment: &Figment, key: &str) -> String {
    match figment.find_metadata(key) {
        Some(m) => m.interpolate(&figment::Profile::Default, &[key]),
        None => key.to_string(),
    }
}

/// Checks and types the merged keys.
fn settings_of(keys: Keys, name: &dyn Fn(&str) -> String) -> Result<Settings, ConfigError> {
    let text = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let webhook_url = match text(keys.webhook_url) {
        Some(v) => Some(parse_url(&name("webhook_url"), &v)?),
        None => None,
    };
    let listen = match text(keys.listen) {
        Some(v) if webhook_url.is_none() => {
            return Err(ConfigError::Invalid {
                name: name("listen"),
                value: v,
                reason: "a listen address is for webhook mode: set webhook_url too".into(),
            })
        }
        Some(v) => parse_number(&name("listen"), &v)?,
        None => DEFAULT_LISTEN.parse().expect("valid default address"),
    };
    let webhook_secret = match text(keys.webhook_secret) {
        Some(v) => Some(parse_secret(&name("webhook_secret"), &v)?),
        None => None,
    };
    Ok(Settings {
        knowledge_dir: keys.knowledge,
        data_dir: keys.data,
        token: text(keys.token).map(BotToken::new),
        api_url: parse_url(&name("api_url"), &keys.api_url)?,
        admins: keys.admins,
        poll_timeout: Duration::from_secs(keys.poll_timeout_secs),
        webhook_url,
        listen,
        webhook_secret,
        set_webhook: keys.set_webhook,
        reload_poll: Duration::from_secs(keys.reload_poll_seconds),
        flood_per_minute: keys.flood_per_minute,
        follow_up: Duration::from_secs(keys.follow_up_minutes.saturating_mul(60)),
        max_document_bytes: keys.max_document_mb.saturating_mul(1024 * 1024),
        send_attempts: keys.send_attempts,
        retry_base: Duration::from_millis(keys.retry_base_ms),
        retry_max: Duration::from_millis(keys.retry_max_ms),
        database_url: text(keys.database_url).map(DatabaseUrl::new),
        broadcast: keys.broadcast,
    })
}

/// One layer for figment: a name users recognise in errors, its keys, and
/// how a key is written in it (`TELOXIDE_TOKEN`, `--admins`).
struct Layer {
    metadata: Metadata,
    dict: Dict,
}

impl Layer {
    fn of(name: impl Into<String>, value: &impl Serialize) -> Result<Layer, ConfigError> {
        let dict = match Value::serialize(value) {
            Ok(Value::Dict(_, dict)) => dict,
            Ok(_) => Dict::new(),
            Err(e) => return Err(ConfigError::Layered(e.to_string())),
        };
        Ok(Layer {
            metadata: Metadata::named(name.into()).interpolater(|_, keys| keys.join(".")),
            dict,
        })
    }

    /// The environment variables of [`ENVIRONMENT`] that are set and not blank.
    fn environment(env: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        let mut dict = Dict::new();
        for (var, key, kind) in ENVIRONMENT {
            let Some(raw) = env(var).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            insert(&mut dict, key, env_value(var, &raw, *kind)?);
        }
        let interpolate = |_: &figment::Profile, keys: &[&str]| {
            let key = keys.join(".");
            ENVIRONMENT
                .iter()
                .find(|(_, k, _)| *k == key)
                .map_or(key, |(var, _, _)| var.to_string())
        };
        Ok(Layer {
            metadata: Metadata::named("the environment").interpolater(interpolate),
            dict,
        })
    }

    fn flags(flags: &GlobalFlags, serve: &ServeArgs) -> Result<Layer, ConfigError> {
        let given = serde_json::json!({
            "knowledge": flags.knowledge,
            "data": flags.data,
            "api_url": serve.api_url,
            "admins": serve.admins,
            "poll_timeout_secs": serve.poll_timeout_secs,
            "flood_per_minute": serve.flood_per_minute,
            "webhook_url": serve.webhook_url,
            "listen": serve.listen,
        });
        let given: serde_json::Map<String, serde_json::Value> = given
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut layer = Layer::of("the command line", &given)?;
        layer.metadata = layer.metadata.interpolater(|_, keys| {
            let key = keys.join(".");
            FLAGS
                .iter()
                .find(|(_, k)| *k == key)
                .map_or(key, |(flag, _)| flag.to_string())
        });
        Ok(layer)
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        self.metadata.clone()
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, Dict>, figment::Error> {
        Ok(figment::Profile::Default.collect(self.dict.clone()))
    }
}

/// Sets `a.b` in a nested dict.
fn insert(dict: &mut Dict, key: &str, value: Value) {
    match key.split_once('.') {
        Some((head, rest)) => {
            let entry = dict
                .entry(head.to_string())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
        None => {
            dict.insert(key.to_string(), value);
        }
    }
}

/// An environment variable's text as the value its key takes.
fn env_value(var: &str, raw: &str, kind: EnvKind) -> Result<Value, ConfigError> {
    Ok(match kind {
        EnvKind::Text => Value::from(raw.trim().to_string()),
        EnvKind::Word => Value::from(raw.trim().to_ascii_lowercase()),
        EnvKind::Number => Value::from(parse_number::<u64>(var, raw)?),
        EnvKind::Flag => Value::from(parse_number::<bool>(var, raw)?),
        EnvKind::Ids => Value::from(parse_admins(var, raw)?),
    })
}

fn parse_url(name: &str, value: &str) -> Result<url::Url, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: name.to_string(),
        value: value.to_string(),
        reason,
    };
    let url = url::Url::parse(value.trim()).map_err(|e| invalid(e.to_string()))?;
    if url.cannot_be_a_base() || !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("not an http(s) address".into()));
    }
    Ok(url)
}

fn parse_admins(name: &str, value: &str) -> Result<Vec<u64>, ConfigError> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| parse_number(name, v))
        .collect()
}

fn parse_number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, ConfigError>
where
    T::Err: fmt::Display,
{
    value
        .trim()
        .parse()
        .map_err(|e: T::Err| ConfigError::Invalid {
            name: name.to_string(),
            value: value.to_string(),
            reason: e.to_string(),
        })
}

/// Telegram accepts 1 to 256 characters of `A-Z a-z 0-9 _ -`.
fn parse_secret(name: &str, value: &str) -> Result<Secret, ConfigError> {
    let value = value.trim();
    let valid = (1..=256).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !valid {
        return Err(ConfigError::Invalid {
            name: name.to_string(),
            // The value is a secret: not repeated in the error.
            value: "<hidden>".to_string(),
            reason: "1 to 256 characters of A-Z, a-z, 0-9, _ and -".into(),
        });
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn check(
        file: &str,
        env: &[(&str, &str)],
        flags: GlobalFlags,
        serve: ServeArgs,
        expected: impl Fn(&Settings),
    ) {
        let file: toml::Table = file.parse().unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let path = Path::new("test.toml");
        let settings = layer(Some((path, &file)), &flags, &serve, &|k| {
            env.get(k).cloned()
        })
        .unwrap();
        expected(&settings);
    }

    #[test]
    fn defaults_apply_when_no_layer_sets_a_key() {
        check("", &[], GlobalFlags::default(), ServeArgs::default(), |s| {
            assert_eq!(s.knowledge_dir, PathBuf::from("knowledge"));
            assert_eq!(s.data_dir, PathBuf::from("data"));
            assert!(s.token.is_none());
            assert_eq!(s.api_url.as_str(), DEFAULT_API_URL);
            assert_eq!(s.flood_per_minute, 20);
        });
    }

    #[test]
    fn file_overrides_defaults_env_overrides_file_flags_override_env() {
        let file = r#"
            knowledge = "k-file"
            data = "d-file"
            token = "file-token"
            admins = [1, 2]
            flood_per_minute = 5
            api_url = "http://file.example/"
        "#;
        check(
            file,
            &[],
            GlobalFlags::default(),
            ServeArgs::default(),
            |s| {
                assert_eq!(s.knowledge_dir, PathBuf::from("k-file"));
                assert_eq!(s.admins, vec![1, 2]);
                assert_eq!(s.token.as_ref().unwrap().expose(), "file-token");
                assert_eq!(s.api_url.as_str(), "http://file.example/");
            },
        );
        let env = [
            ("TELOXIDE_TOKEN", "env-token"),
            ("CUSTOMS_IP_BOT_ADMINS", "7, 8"),
            ("TELOXIDE_API_URL", "http://127.0.0.1:9/"),
            ("CUSTOMS_IP_BOT_DATA", "d-env"),
        ];
        check(
            file,
            &env,
            GlobalFlags::default(),
            ServeArgs::default(),
            |s| {
                assert_eq!(s.token.as_ref().unwrap().expose(), "env-token");
                assert_eq!(s.admins, vec![7, 8]);
                assert_eq!(s.data_dir, PathBuf::from("d-env"));
                assert_eq!(s.api_url.as_str(), "http://127.0.0.1:9/");
                assert_eq!(s.flood_per_minute, 5);
            },
        );
        let flags = GlobalFlags {
            data: Some("d-flag".into()),
            ..Default::default()
        };
        let serve = ServeArgs {
            admins: Some(vec![9]),
            flood_per_minute: Some(3),
            ..Default::default()
        };
        check(file, &env, flags, serve, |s| {
            assert_eq!(s.data_dir, PathBuf::from("d-flag"));
            assert_eq!(s.admins, vec![9]);
            assert_eq!(s.flood_per_minute, 3);
        });
    }

    #[test]
    fn token_never_prints() {
        let token = BotToken::new("123:SECRET");
        assert!(!format!("{token:?} {token}").contains("SECRET"));
        check(
            "token = \"123:SECRET\"",
            &[],
            GlobalFlags::default(),
            ServeArgs::default(),
            |s| assert!(!format!("{s:?}").contains("SECRET")),
        );
    }

    #[test]
    fn the_database_password_and_webhook_secret_never_print() {
        let file = "database_url = \"postgres://bot:Pa55word@db:5432/bot\"\n\
                    webhook_url = \"https://bot.example/hook\"\n\
                    webhook_secret = \"s3cret-Token_x\"";
        check(
            file,
            &[],
            GlobalFlags::default(),
            ServeArgs::default(),
            |s| {
                let printed = format!("{s:?}");
                assert!(!printed.contains("Pa55word"), "{printed}");
                assert!(!printed.contains("s3cret"), "{printed}");
                assert!(
                    printed.contains("postgres://bot:***@db:5432/bot"),
                    "{printed}"
                );
                let url = s.database_url.as_ref().unwrap();
                assert_eq!(&**url, "postgres://bot:Pa55word@db:5432/bot");
                assert!(!url.to_string().contains("Pa55word"));
            },
        );
        assert!(!format!("{:?}", DatabaseUrl::new("not a url Pa55word")).contains("Pa55word"));
    }

    #[test]
    fn webhook_mode_is_set_by_the_url_and_listens_where_asked() {
        check("", &[], GlobalFlags::default(), ServeArgs::default(), |s| {
            assert!(s.webhook_url.is_none());
            assert_eq!(s.reload_poll, Duration::from_secs(5));
            assert!(s.set_webhook);
        });
        let env = [
            ("CUSTOMS_IP_BOT_WEBHOOK_URL", "https://bot.example/telegram"),
            ("CUSTOMS_IP_BOT_LISTEN", "127.0.0.1:9000"),
            ("CUSTOMS_IP_BOT_SET_WEBHOOK", "false"),
            ("CUSTOMS_IP_BOT_RELOAD_POLL_SECONDS", "2"),
        ];
        check(
            "",
            &env,
            GlobalFlags::default(),
            ServeArgs::default(),
            |s| {
                assert_eq!(
                    s.webhook_url.as_ref().unwrap().as_str(),
                    "https://bot.example/telegram"
                );
                assert_eq!(s.listen.to_string(), "127.0.0.1:9000");
                assert!(!s.set_webhook);
                assert_eq!(s.reload_poll, Duration::from_secs(2));
            },
        );
        let serve = ServeArgs {
            listen: Some("127.0.0.1:9100".into()),
            ..Default::default()
        };
        check("", &env, GlobalFlags::default(), serve, |s| {
            assert_eq!(s.listen.to_string(), "127.0.0.1:9100");
        });
        let listen_alone = layer(
            None,
            &GlobalFlags::default(),
            &ServeArgs {
                listen: Some("127.0.0.1:9100".into()),
                ..Default::default()
            },
            &|_| None,
        );
        assert!(listen_alone.is_err());
        let bad_secret = layer(None, &GlobalFlags::default(), &ServeArgs::default(), &|k| {
            (k == "CUSTOMS_IP_BOT_WEBHOOK_SECRET").then(|| "has space".to_string())
        })
        .unwrap_err();
        assert!(
            !bad_secret.to_string().contains("has space"),
            "{bad_secret}"
        );
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_variable() {
        let err = layer(None, &GlobalFlags::default(), &ServeArgs::default(), &|k| {
            (k == "CUSTOMS_IP_BOT_ADMINS").then(|| "12,abc".to_string())
        })
        .unwrap_err();
        assert!(err.to_string().contains("CUSTOMS_IP_BOT_ADMINS"));
        let unknown: toml::Table = "unknown_key = 1".parse().unwrap();
        let path = Path::new("bot.toml");
        let err = layer(
            Some((path, &unknown)),
            &GlobalFlags::default(),
            &ServeArgs::default(),
            &|_| None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("bot.toml"), "{err}");
        assert!(err.to_string().contains("unknown_key"), "{err}");
    }
}

#[cfg(test)]
mod example_file {
    use super::*;
    use crate::frontends::broadcast::AutomaticBroadcast;

    /// The example config (deploy/) parses and gives the defaults.
    #[test]
    fn the_example_config_documents_valid_keys_with_their_defaults() {
        let file: toml::Table = include_str!("../../deploy/config.example.toml")
            .parse()
            .unwrap();
        let s = layer(
            Some((Path::new("config.example.toml"), &file)),
            &GlobalFlags::default(),
            &ServeArgs::default(),
            &|_| None,
        )
        .unwrap();
        let d = Settings::default();
        assert_eq!(s.api_url, d.api_url);
        assert_eq!(s.knowledge_dir, d.knowledge_dir);
        assert_eq!(s.poll_timeout, d.poll_timeout);
        assert_eq!(s.flood_per_minute, d.flood_per_minute);
        assert_eq!(s.send_attempts, d.send_attempts);
        assert_eq!((s.retry_base, s.retry_max), (d.retry_base, d.retry_max));
        assert_eq!(
            (s.set_webhook, s.reload_poll),
            (d.set_webhook, d.reload_poll)
        );
        assert!(s.webhook_url.is_none());
        assert_eq!(
            s.broadcast, d.broadcast,
            "the example shows the broadcast defaults"
        );
    }

    #[test]
    fn broadcast_keys_come_from_the_file_then_the_environment() {
        let file: toml::Table =
            "[broadcast]\nautomatic = \"send\"\n[broadcast.delivery]\nglobal_per_second = 5\n"
                .parse()
                .unwrap();
        let file = Some((Path::new("bot.toml"), &file));
        let none = |_: &str| None;
        let s = layer(file, &GlobalFlags::default(), &ServeArgs::default(), &none).unwrap();
        assert_eq!(s.broadcast.automatic, AutomaticBroadcast::Send);
        assert_eq!(s.broadcast.delivery.limits.global_per_second, 5);
        let env =
            |k: &str| (k == "CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC").then(|| "confirm".to_string());
        let s = layer(file, &GlobalFlags::default(), &ServeArgs::default(), &env).unwrap();
        assert_eq!(s.broadcast.automatic, AutomaticBroadcast::Confirm);
        let bad =
            |k: &str| (k == "CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC").then(|| "maybe".to_string());
        assert!(layer(file, &GlobalFlags::default(), &ServeArgs::default(), &bad).is_err());
    }
}
