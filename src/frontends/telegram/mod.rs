//! telegram: "run the bot". Builds the `Bot` from the settings (token,
//! Bot API address), checks the token with getMe, registers the command
//! menu in Chinese and English, and runs the dispatcher over long polling
//! (or, with `webhook_url`, webhook mode: `webhook`) until SIGTERM or
//! ctrl-c, reloading the knowledge on SIGHUP and following the reloads of
//! other replicas (`crate::frontends::follow`).
//!
//! Invariant: the only module that imports teloxide. Wiring only: answers
//! come from the engine, wording from `wording` and `crate::domain::replies`.

pub mod answers;
pub mod broadcast;
pub mod buttons;
pub mod callback;
pub mod conversation;
pub mod flood;
pub mod format;
pub mod handlers;
pub mod inline;
pub mod send;
pub mod upkeep;
pub mod webhook;
pub mod wording;

use crate::frontends::config::Settings;
use crate::knowledge::engine::{Engine, EngineSettings};
use crate::state::audit::{AuditEntry, Store};
use anyhow::Context as _;
use handlers::{Context, Stats};
use std::sync::Arc;
use std::time::Duration;
use teloxide::dispatching::ShutdownToken;
use teloxide::error_handlers::LoggingErrorHandler;
use teloxide::prelude::*;
use teloxide::types::{BotCommand, BotCommandScope, Recipient};
use teloxide::update_listeners::Polling;
use teloxide::{ApiError, RequestError};

/// Why the bot could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No layer of the configuration gives a token.
    #[error("no Telegram bot token: set TELOXIDE_TOKEN or `token` in the config file")]
    NoToken,
    /// Telegram answered getMe with 401/404: the token is wrong or revoked.
    #[error(
        "Telegram rejected the bot token (check TELOXIDE_TOKEN or `token` in the config file)"
    )]
    TokenRejected,
    /// The Bot API server could not be reached.
    #[error("cannot reach the Bot API at {url}: {source}")]
    Unreachable { url: String, source: RequestError },
    /// getMe failed otherwise.
    #[error("the Bot API refused getMe: {0}")]
    GetMe(RequestError),
    /// Webhook mode: the listen address cannot be bound.
    #[error("cannot listen on {address} for the webhook: {source}")]
    Listen {
        address: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// Webhook mode: Telegram refused setWebhook (the URL must be HTTPS).
    #[error("the Bot API refused setWebhook: {0}")]
    SetWebhook(RequestError),
}

/// A running bot: stop it to finish in-flight replies and shut down.
pub struct Running {
    pub context: Arc<Context>,
    pub bot_username: String,
    shutdown: ShutdownToken,
    /// Follows the reloads of other replicas (none with `reload_poll` 0).
    follower: Option<tokio::task::JoinHandle<()>>,
    dispatcher: tokio::task::JoinHandle<()>,
    saver: tokio::task::JoinHandle<()>,
    /// The broadcast worker and its stop signal.
    broadcast_worker: (
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    ),
}

/// How long stopping waits for the replies and sends in flight before it
/// gives up on them (a shutdown never hangs on one stuck request).
pub const STOP_GRACE: Duration = Duration::from_secs(20);

/// What did not finish within [`STOP_GRACE`] when the bot stopped.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stopped {
    /// The parts that were still working and were aborted.
    pub abandoned: Vec<&'static str>,
}

impl Running {
    /// Stops polling, waits (up to [`STOP_GRACE`] for each part) for the
    /// replies being worked on, saves the counts; says what it gave up on.
    pub async fn stop(self) -> Stopped {
        // Broadcasts: nothing new is sent; the sends in flight are recorded.
        let _ = self.broadcast_worker.0.send(true);
        let asked = async {
            loop {
                if self.dispatcher.is_finished() {
                    break;
                }
                // The future `shutdown` returns can miss the dispatcher's
                // "done" signal (it registers only when first polled), so
                // wait on the dispatcher's task instead.
                match self.shutdown.shutdown() {
                    Ok(_) => break,
                    // Not dispatching yet: try again in a moment.
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        };
        let mut stopped = Stopped::default();
        if tokio::time::timeout(STOP_GRACE, asked).await.is_err() {
            stopped.abandoned.push("the dispatcher never started");
        }
        for (name, task) in [
            ("the replies in flight", self.dispatcher),
            ("the broadcast worker", self.broadcast_worker.1),
        ] {
            let abort = task.abort_handle();
            if tokio::time::timeout(STOP_GRACE, task).await.is_err() {
                tracing::warn!("{name} did not finish within {STOP_GRACE:?}; abandoned");
                abort.abort();
                stopped.abandoned.push(name);
            }
        }
        self.saver.abort();
        if let Some(follower) = &self.follower {
            follower.abort();
        }
        self.context.stats.save(&self.context.store).await;
        stopped
    }

    /// Whether the dispatcher has ended by itself (it should not).
    pub fn is_finished(&self) -> bool {
        self.dispatcher.is_finished()
    }
}

/// Opens the engine and the store and serves until SIGTERM or ctrl-c.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    if settings.token.is_none() {
        return Err(StartError::NoToken.into());
    }
    let engine = Engine::open(EngineSettings {
        knowledge_dir: settings.knowledge_dir.clone(),
        data_dir: settings.data_dir.clone(),
    })
    .await
    .with_context(|| {
        format!(
            "loading the knowledge from {}",
            settings.knowledge_dir.display()
        )
    })?;
    for problem in &engine.snapshot().problems {
        tracing::warn!("knowledge: {problem}");
    }
    // A long-running bot loads the word segmenter now rather than on the
    // first passage question.
    let snapshot = engine.snapshot();
    tokio::task::spawn_blocking(move || snapshot.warm_up());
    let store = Store::connect(settings.database_url.as_deref(), &settings.data_dir)
        .await
        .context("opening the state database")?;
    let running = start(&settings, Arc::new(engine), store).await?;
    tracing::info!(bot = %running.bot_username, "serving");
    wait_for_stop_reloading_on_hangup(&running).await?;
    tracing::info!("stopping after the replies in flight");
    running.stop().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_stop_reloading_on_hangup(running: &Running) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut check = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                let context = running.context.clone();
                tokio::spawn(async move { reload_on_signal(context).await });
            }
            _ = terminate.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
            _ = check.tick() => {
                if running.is_finished() {
                    anyhow::bail!("the dispatcher stopped");
                }
            }
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_stop_reloading_on_hangup(_running: &Running) -> anyhow::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .context("listening for ctrl-c")
}

/// SIGHUP: the same reload as /reload, logged and audited.
pub async fn reload_on_signal(context: Arc<Context>) {
    let years_before = context.engine.snapshot().headline_years();
    let result =
        crate::frontends::follow::reload_in_background(context.engine.clone(), false).await;
    if result.is_ok() {
        broadcast::after_reload(&context, &years_before).await;
    }
    let outcome = handlers::reload_outcome(&result);
    match &result {
        Ok(_) => tracing::info!("SIGHUP reload: {outcome}"),
        Err(_) => tracing::warn!("SIGHUP reload: {outcome}"),
    }
    crate::frontends::follow::publish(&context.store, &result, 0, "SIGHUP").await;
    let entry = AuditEntry {
        user_id: 0,
        chat_id: 0,
        command: "reload".into(),
        args: "SIGHUP".into(),
        outcome,
    };
    handlers::record_audit(&context, &entry).await;
}

/// Checks the token, registers the commands and starts the dispatcher.
pub async fn start(
    settings: &Settings,
    engine: Arc<Engine>,
    store: Store,
) -> Result<Running, StartError> {
    let token = settings.token.as_ref().ok_or(StartError::NoToken)?;
    let bot = Bot::new(token.expose()).set_api_url(settings.api_url.clone());
    let me = bot.get_me().await.map_err(|e| match e {
        RequestError::Api(ApiError::InvalidToken) => StartError::TokenRejected,
        e @ (RequestError::Network(_) | RequestError::Io(_)) => StartError::Unreachable {
            url: settings.api_url.to_string(),
            source: e,
        },
        e => StartError::GetMe(e),
    })?;
    register_commands(&bot, &settings.admins).await;
    let retry = send::RetryPolicy {
        attempts: settings.send_attempts,
        base: settings.retry_base,
        max: settings.retry_max,
    };
    let broadcasts = Arc::new(broadcast::Broadcasts::new(
        bot.clone(),
        crate::state::broadcasts::BroadcastStore::from_db(store.db().clone()),
        settings.broadcast.clone(),
    ));
    let context = Arc::new(Context {
        engine,
        store,
        admins: settings.admins.iter().copied().collect(),
        flood: flood::FloodLimit::new(settings.flood_per_minute),
        retry,
        stats: Stats::default(),
        broadcasts: broadcasts.clone(),
        conversations: conversation::Conversations::new(settings.follow_up),
        max_document_bytes: settings.max_document_bytes,
    });
    let mut dispatcher = Dispatcher::builder(bot.clone(), handlers::schema())
        .dependencies(dptree::deps![context.clone()])
        .default_handler(|_| async {})
        .error_handler(LoggingErrorHandler::with_custom_text("a handler failed"))
        .build();
    let shutdown = dispatcher.shutdown_token();
    let dispatcher = match &settings.webhook_url {
        None => {
            let listener = Polling::builder(bot.clone())
                .timeout(settings.poll_timeout)
                .backoff_strategy(move |errors| retry.backoff(errors + 1))
                .delete_webhook()
                .await
                .build();
            tokio::spawn(async move { dispatch(&mut dispatcher, listener).await })
        }
        Some(url) => {
            let listener = webhook::listener(&bot, settings, url).await?;
            tokio::spawn(async move { dispatch(&mut dispatcher, listener).await })
        }
    };
    let follower = (!settings.reload_poll.is_zero()).then(|| {
        let (engine, store) = (context.engine.clone(), context.store.clone());
        let every = settings.reload_poll;
        tokio::spawn(async move {
            crate::frontends::follow::Follower::start(engine, store)
                .await
                .run(every)
                .await
        })
    });
    let saver = {
        let context = context.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            every.tick().await;
            loop {
                every.tick().await;
                context.stats.save(&context.store).await;
            }
        })
    };
    let broadcast_worker = {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        (stop, broadcast::spawn_worker(broadcasts, stopped))
    };
    Ok(Running {
        context,
        bot_username: me.username().to_string(),
        shutdown,
        follower,
        dispatcher,
        saver,
        broadcast_worker,
    })
}

/// Runs the dispatcher over one update listener until it is shut down.
async fn dispatch<L>(
    dispatcher: &mut Dispatcher<Bot, handlers::HandlerError, teloxide::dispatching::DefaultKey>,
    listener: L,
) where
    L: teloxide::update_listeners::UpdateListener + Send,
    L::Err: std::fmt::Debug,
{
    let listener_errors = LoggingErrorHandler::with_custom_text("getting updates");
    if let Err(e) = dispatcher
        .try_dispatch_with_listener(listener, listener_errors)
        .await
    {
        tracing::error!(error = %e, "the dispatcher could not start");
    }
}

/// setMyCommands in English (the default) and Chinese; admins also see the
/// admin commands in their private chats. Failures are logged: the bot
/// answers without a menu.
async fn register_commands(bot: &Bot, admins: &[u64]) {
    let list = |admin: bool, chinese: bool| -> Vec<BotCommand> {
        wording::PUBLIC_COMMANDS
            .iter()
            .chain(if admin { wording::ADMIN_COMMANDS } else { &[] })
            .map(|(c, zh, en)| BotCommand::new(*c, if chinese { *zh } else { *en }))
            .collect()
    };
    let mut requests = vec![
        bot.set_my_commands(list(false, false)),
        bot.set_my_commands(list(false, true)).language_code("zh"),
    ];
    for admin in admins {
        let scope = BotCommandScope::Chat {
            chat_id: Recipient::Id(ChatId(*admin as i64)),
        };
        requests.push(bot.set_my_commands(list(true, false)).scope(scope.clone()));
        requests.push(
            bot.set_my_commands(list(true, true))
                .scope(scope)
                .language_code("zh"),
        );
    }
    for request in requests {
        if let Err(e) = request.await {
            tracing::warn!(error = %e, "setMyCommands failed");
        }
    }
}
