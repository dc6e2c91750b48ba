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
//! layering is tested without touching the process environment.

use crate::broadcast::{AutomaticBroadcast, BroadcastSettings};
use serde::Deserialize;
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
            send_attempts: 5,
            retry_base: Duration::from_millis(500),
            retry_max: Duration::from_secs(30),
            database_url: None,
            broadcast: BroadcastSettings::default(),
        }
    }
}

/// The config file: every key optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub knowledge: Option<PathBuf>,
    pub data: Option<PathBuf>,
    pub token: Option<String>,
    pub api_url: Option<String>,
    pub admins: Option<Vec<u64>>,
    pub poll_timeout_secs: Option<u64>,
    pub webhook_url: Option<String>,
    pub listen: Option<String>,
    pub webhook_secret: Option<String>,
    pub set_webhook: Option<bool>,
    pub reload_poll_seconds: Option<u64>,
    pub flood_per_minute: Option<u32>,
    pub follow_up_minutes: Option<u64>,
    pub send_attempts: Option<u32>,
    pub retry_base_ms: Option<u64>,
    pub retry_max_ms: Option<u64>,
    pub database_url: Option<String>,
    /// `[broadcast]` and `[broadcast.delivery]`.
    pub broadcast: Option<BroadcastSettings>,
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
    let file = match path {
        Some(path) => read_file(&path)?,
        None => FileConfig::default(),
    };
    layer(&file, flags, serve, env)
}

/// Parses a config file.
pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

/// defaults < file < environment < flags.
pub fn layer(
    file: &FileConfig,
    flags: &GlobalFlags,
    serve: &ServeArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings, ConfigError> {
    let mut s = Settings::default();
    let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());

    // The config file.
    if let Some(v) = &file.knowledge {
        s.knowledge_dir = v.clone();
    }
    if let Some(v) = &file.data {
        s.data_dir = v.clone();
    }
    if let Some(v) = &file.token {
        s.token = Some(BotToken::new(v.trim()));
    }
    if let Some(v) = &file.api_url {
        s.api_url = parse_url("api_url", v)?;
    }
    if let Some(v) = &file.admins {
        s.admins = v.clone();
    }
    if let Some(v) = file.poll_timeout_secs {
        s.poll_timeout = Duration::from_secs(v);
    }
    if let Some(v) = file.flood_per_minute {
        s.flood_per_minute = v;
    }
    if let Some(v) = file.send_attempts {
        s.send_attempts = v;
    }
    if let Some(v) = file.retry_base_ms {
        s.retry_base = Duration::from_millis(v);
    }
    if let Some(v) = file.retry_max_ms {
        s.retry_max = Duration::from_millis(v);
    }
    if let Some(v) = &file.database_url {
        s.database_url = Some(DatabaseUrl::new(v));
    }
    let mut listen = file.listen.clone().map(|v| ("listen", v));
    if let Some(v) = &file.webhook_url {
        s.webhook_url = Some(parse_url("webhook_url", v)?);
    }
    if let Some(v) = &file.webhook_secret {
        s.webhook_secret = Some(parse_secret("webhook_secret", v)?);
    }
    if let Some(v) = file.set_webhook {
        s.set_webhook = v;
    }
    if let Some(v) = file.reload_poll_seconds {
        s.reload_poll = Duration::from_secs(v);
    }
    if let Some(v) = file.follow_up_minutes {
        s.follow_up = Duration::from_secs(v.saturating_mul(60));
    }

    // The environment.
    if let Some(v) = env("CUSTOMS_IP_BOT_KNOWLEDGE") {
        s.knowledge_dir = PathBuf::from(v);
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_DATA") {
        s.data_dir = PathBuf::from(v);
    }
    if let Some(v) = env("TELOXIDE_TOKEN") {
        s.token = Some(BotToken::new(v.trim()));
    }
    if let Some(v) = env("TELOXIDE_API_URL") {
        s.api_url = parse_url("TELOXIDE_API_URL", &v)?;
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_ADMINS") {
        s.admins = parse_admins("CUSTOMS_IP_BOT_ADMINS", &v)?;
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_POLL_TIMEOUT_SECS") {
        s.poll_timeout = Duration::from_secs(parse_number("CUSTOMS_IP_BOT_POLL_TIMEOUT_SECS", &v)?);
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_FLOOD_PER_MINUTE") {
        s.flood_per_minute = parse_number("CUSTOMS_IP_BOT_FLOOD_PER_MINUTE", &v)?;
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_SEND_ATTEMPTS") {
        s.send_attempts = parse_number("CUSTOMS_IP_BOT_SEND_ATTEMPTS", &v)?;
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_RETRY_BASE_MS") {
        s.retry_base = Duration::from_millis(parse_number("CUSTOMS_IP_BOT_RETRY_BASE_MS", &v)?);
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_RETRY_MAX_MS") {
        s.retry_max = Duration::from_millis(parse_number("CUSTOMS_IP_BOT_RETRY_MAX_MS", &v)?);
    }

    if let Some(v) = env("DATABASE_URL") {
        s.database_url = Some(DatabaseUrl::new(v));
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_WEBHOOK_URL") {
        s.webhook_url = Some(parse_url("CUSTOMS_IP_BOT_WEBHOOK_URL", &v)?);
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_LISTEN") {
        listen = Some(("CUSTOMS_IP_BOT_LISTEN", v));
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_WEBHOOK_SECRET") {
        s.webhook_secret = Some(parse_secret("CUSTOMS_IP_BOT_WEBHOOK_SECRET", &v)?);
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_SET_WEBHOOK") {
        s.set_webhook = parse_number("CUSTOMS_IP_BOT_SET_WEBHOOK", &v)?;
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_RELOAD_POLL_SECONDS") {
        s.reload_poll =
            Duration::from_secs(parse_number("CUSTOMS_IP_BOT_RELOAD_POLL_SECONDS", &v)?);
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_FOLLOW_UP_MINUTES") {
        let minutes: u64 = parse_number("CUSTOMS_IP_BOT_FOLLOW_UP_MINUTES", &v)?;
        s.follow_up = Duration::from_secs(minutes.saturating_mul(60));
    }

    // Broadcasts: the file's section, then the one environment override.
    if let Some(v) = &file.broadcast {
        s.broadcast = v.clone();
    }
    if let Some(v) = env("CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC") {
        s.broadcast.automatic = parse_automatic("CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC", &v)?;
    }

    // The flags.
    if let Some(v) = &flags.knowledge {
        s.knowledge_dir = v.clone();
    }
    if let Some(v) = &flags.data {
        s.data_dir = v.clone();
    }
    if let Some(v) = &serve.api_url {
        s.api_url = parse_url("--api-url", v)?;
    }
    if let Some(v) = &serve.admins {
        s.admins = v.clone();
    }
    if let Some(v) = serve.poll_timeout_secs {
        s.poll_timeout = Duration::from_secs(v);
    }
    if let Some(v) = serve.flood_per_minute {
        s.flood_per_minute = v;
    }
    if let Some(v) = &serve.webhook_url {
        s.webhook_url = Some(parse_url("--webhook-url", v)?);
    }
    if let Some(v) = &serve.listen {
        listen = Some(("--listen", v.clone()));
    }
    if let Some((name, v)) = listen {
        if s.webhook_url.is_none() {
            return Err(ConfigError::Invalid {
                name: name.to_string(),
                value: v,
                reason: "a listen address is for webhook mode: set webhook_url too".into(),
            });
        }
        s.listen = parse_number(name, &v)?;
    }
    if s.token.as_ref().is_some_and(|t| t.expose().is_empty()) {
        s.token = None;
    }
    Ok(s)
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

fn parse_automatic(name: &str, value: &str) -> Result<AutomaticBroadcast, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "off" => Ok(AutomaticBroadcast::Off),
        "confirm" => Ok(AutomaticBroadcast::Confirm),
        "send" => Ok(AutomaticBroadcast::Send),
        _ => Err(ConfigError::Invalid {
            name: name.to_string(),
            value: value.to_string(),
            reason: "expected off, confirm or send".into(),
        }),
    }
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
        let file: FileConfig = toml::from_str(file).unwrap();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let settings = layer(&file, &flags, &serve, &|k| env.get(k).cloned()).unwrap();
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
            &FileConfig::default(),
            &GlobalFlags::default(),
            &ServeArgs {
                listen: Some("127.0.0.1:9100".into()),
                ..Default::default()
            },
            &|_| None,
        );
        assert!(listen_alone.is_err());
        let bad_secret = layer(
            &FileConfig::default(),
            &GlobalFlags::default(),
            &ServeArgs::default(),
            &|k| (k == "CUSTOMS_IP_BOT_WEBHOOK_SECRET").then(|| "has space".to_string()),
        )
        .unwrap_err();
        assert!(
            !bad_secret.to_string().contains("has space"),
            "{bad_secret}"
        );
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_variable() {
        let err = layer(
            &FileConfig::default(),
            &GlobalFlags::default(),
            &ServeArgs::default(),
            &|k| (k == "CUSTOMS_IP_BOT_ADMINS").then(|| "12,abc".to_string()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("CUSTOMS_IP_BOT_ADMINS"));
        assert!(toml::from_str::<FileConfig>("unknown_key = 1").is_err());
    }
}

#[cfg(test)]
mod example_file {
    use super::*;

    /// The example config (deploy/) parses and gives the defaults.
    #[test]
    fn the_example_config_documents_valid_keys_with_their_defaults() {
        let file: FileConfig =
            toml::from_str(include_str!("../deploy/config.example.toml")).unwrap();
        let s = layer(
            &file,
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
        let file: FileConfig = toml::from_str(
            "[broadcast]\nautomatic = \"send\"\n[broadcast.delivery]\nglobal_per_second = 5\n",
        )
        .unwrap();
        let none = |_: &str| None;
        let s = layer(&file, &GlobalFlags::default(), &ServeArgs::default(), &none).unwrap();
        assert_eq!(s.broadcast.automatic, AutomaticBroadcast::Send);
        assert_eq!(s.broadcast.delivery.limits.global_per_second, 5);
        let env =
            |k: &str| (k == "CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC").then(|| "confirm".to_string());
        let s = layer(&file, &GlobalFlags::default(), &ServeArgs::default(), &env).unwrap();
        assert_eq!(s.broadcast.automatic, AutomaticBroadcast::Confirm);
        let bad =
            |k: &str| (k == "CUSTOMS_IP_BOT_BROADCAST_AUTOMATIC").then(|| "maybe".to_string());
        assert!(layer(&file, &GlobalFlags::default(), &ServeArgs::default(), &bad).is_err());
    }
}
