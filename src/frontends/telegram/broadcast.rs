//! telegram::broadcast: "send this job's summary and chart through
//! Telegram". The preview with 确认发送 / 取消 buttons, the sender that
//! turns teloxide's result into a [`SendOutcome`] for the delivery loop
//! (`crate::frontends::broadcast::deliver`), the worker task that runs one loop per
//! runnable job, and the automatic mode after a reload.
//!
//! The chart is uploaded once per job (`InputFile::memory`); the file id
//! Telegram returns is kept (`set_file_id`) and reused for every other
//! recipient. The summary goes as the photo's HTML caption when it fits in
//! 1,024 characters, else the photo is followed by the text.
//!
//! Invariant: deliveries use the loop's own 429 / 403 / migration handling,
//! never `send::send_html`'s retries; wording comes from `crate::domain::replies`.

use super::format::{answer_messages, plain_messages};
use super::handlers::Context;
use crate::domain::model::{Answer, AnswerKind, Language};
use crate::domain::replies;
use crate::frontends::broadcast::{self, BroadcastSettings, SendOutcome, TokioClock};
use crate::state::broadcasts::{BroadcastStore, Job};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::{
    FileId, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ParseMode,
};
use teloxide::{ApiError, RequestError};
use tokio::sync::{watch, Notify};

/// Telegram's limit on a photo caption, in characters.
pub const CAPTION_LIMIT: usize = 1024;

/// How often the worker looks for runnable jobs when nothing wakes it.
pub const WORKER_POLL: Duration = Duration::from_secs(3);

/// The callback data of the preview's buttons: `bc:confirm:<job>`, `bc:cancel:<job>`.
pub fn confirm_data(job: i64) -> String {
    format!("bc:confirm:{job}")
}

pub fn cancel_data(job: i64) -> String {
    format!("bc:cancel:{job}")
}

/// A pressed preview button.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ButtonPress {
    Confirm(i64),
    Cancel(i64),
}

/// Reads a button's callback data; None for anything else.
pub fn parse_button(data: &str) -> Option<ButtonPress> {
    let rest = data.strip_prefix("bc:")?;
    let (action, job) = rest.split_once(':')?;
    let job: i64 = job.parse().ok()?;
    match action {
        "confirm" => Some(ButtonPress::Confirm(job)),
        "cancel" => Some(ButtonPress::Cancel(job)),
        _ => None,
    }
}

/// The broadcast side of the bot, shared by the handlers and the worker.
pub struct Broadcasts {
    pub bot: Bot,
    pub store: BroadcastStore,
    pub settings: BroadcastSettings,
    /// Wakes the worker (a job was confirmed).
    pub wake: Notify,
    /// Jobs this process is delivering.
    running: Mutex<HashSet<i64>>,
}

impl Broadcasts {
    pub fn new(bot: Bot, store: BroadcastStore, settings: BroadcastSettings) -> Broadcasts {
        Broadcasts {
            bot,
            store,
            settings,
            wake: Notify::new(),
            running: Mutex::default(),
        }
    }
}

/// A job's content as Telegram messages: the HTML caption of the photo
/// (None when the summary is too long for one) and the texts after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub caption: Option<String>,
    pub texts: Vec<String>,
}

impl Content {
    /// Messages one delivery sends (each counts against the rate limits).
    pub fn messages(&self) -> u32 {
        1 + self.texts.len() as u32
    }
}

/// The summary as HTML: in the caption when its visible text fits.
pub fn content_of(message: &str, language: Language) -> Content {
    let answer = Answer {
        question: String::new(),
        answer: message.to_string(),
        found: true,
        kind: AnswerKind::Summary,
        facts: vec![],
        sources: vec![],
        language,
    };
    let html = answer_messages(&answer);
    let fits = html.len() == 1 && html[0].encode_utf16().count() <= CAPTION_LIMIT;
    if fits {
        Content {
            caption: html.into_iter().next(),
            texts: vec![],
        }
    } else {
        Content {
            caption: None,
            texts: html,
        }
    }
}

/// What a failed send means for the delivery loop.
pub fn outcome_of(error: &RequestError) -> SendOutcome {
    match error {
        RequestError::RetryAfter(s) => SendOutcome::RetryAfter(s.duration()),
        RequestError::MigrateToChatId(id) => SendOutcome::MigrateTo(id.0),
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
            SendOutcome::Transient(error.to_string())
        }
        RequestError::Api(api) => {
            let description = api.to_string();
            let forbidden = matches!(
                api,
                ApiError::BotBlocked
                    | ApiError::BotKicked
                    | ApiError::BotKickedFromSupergroup
                    | ApiError::BotKickedFromChannel
                    | ApiError::UserDeactivated
                    | ApiError::CantInitiateConversation
                    | ApiError::CantTalkWithBots
                    | ApiError::ChatNotFound
                    | ApiError::GroupDeactivated
            );
            let lower = description.to_ascii_lowercase();
            if forbidden
                || lower.contains("forbidden")
                || lower.contains("bot was blocked")
                || lower.contains("bot was kicked")
                || lower.contains("chat not found")
            {
                SendOutcome::Forbidden(description)
            } else if is_server_error(&lower) {
                SendOutcome::Transient(description)
            } else {
                SendOutcome::Failed(description)
            }
        }
    }
}

fn is_server_error(lower: &str) -> bool {
    [
        "internal server error",
        "bad gateway",
        "service unavailable",
        "gateway timeout",
    ]
    .iter()
    .any(|p| lower.contains(p))
}

/// Sends one job's photo and texts to chats, uploading the chart once.
#[derive(Clone)]
pub struct Sender {
    bot: Bot,
    store: BroadcastStore,
    job: i64,
    content: Arc<Content>,
    chart: Option<Arc<Vec<u8>>>,
    /// Telegram's file id of the chart once uploaded; the lock makes the
    /// first upload the only one.
    file_id: Arc<tokio::sync::Mutex<Option<String>>>,
}

impl Sender {
    pub fn new(bot: Bot, store: BroadcastStore, job: &Job, language: Language) -> Sender {
        Sender {
            bot,
            store,
            job: job.id,
            content: Arc::new(content_of(&job.message, language)),
            chart: job.chart.clone().map(Arc::new),
            file_id: Arc::new(tokio::sync::Mutex::new(job.file_id.clone())),
        }
    }

    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Sends the photo (or, without a chart, the text) and the texts after
    /// it to `chat`, and says what became of it.
    pub async fn send(&self, chat: i64) -> SendOutcome {
        let chat = ChatId(chat);
        let first = match &self.chart {
            Some(chart) => self.send_photo(chat, chart).await,
            None => {
                let Some(text) = self.content.texts.first().or(self.content.caption.as_ref())
                else {
                    return SendOutcome::Failed("empty broadcast".into());
                };
                self.bot
                    .send_message(chat, text)
                    .parse_mode(ParseMode::Html)
                    .await
            }
        };
        let mut last = match first {
            Ok(message) => message.id,
            Err(e) => return outcome_of(&e),
        };
        let skip = usize::from(self.chart.is_none());
        for text in self.content.texts.iter().skip(skip) {
            // The photo arrived: the delivery counts as sent. A follow-up
            // text waits out a 429 a few times; other errors are logged.
            for _ in 0..3 {
                match self
                    .bot
                    .send_message(chat, text)
                    .parse_mode(ParseMode::Html)
                    .await
                {
                    Ok(message) => {
                        last = message.id;
                        break;
                    }
                    Err(RequestError::RetryAfter(s)) => tokio::time::sleep(s.duration()).await,
                    Err(e) => {
                        tracing::warn!(error = %e, chat = chat.0, "broadcast text after the photo failed");
                        break;
                    }
                }
            }
        }
        SendOutcome::Sent {
            message_id: i64::from(last.0),
        }
    }

    async fn send_photo(
        &self,
        chat: ChatId,
        chart: &Arc<Vec<u8>>,
    ) -> Result<Message, RequestError> {
        let mut known = self.file_id.lock().await;
        if let Some(id) = known.clone() {
            drop(known);
            return self
                .photo_request(chat, InputFile::file_id(FileId(id)))
                .await;
        }
        // First upload: the others wait for its file id.
        let result = self
            .photo_request(
                chat,
                InputFile::memory(chart.as_ref().clone()).file_name("chart.png"),
            )
            .await;
        if let Ok(message) = &result {
            if let Some(largest) = message.photo().and_then(|sizes| sizes.last()) {
                let id = largest.file.id.0.clone();
                if let Err(e) = self.store.set_file_id(self.job, &id).await {
                    tracing::warn!(error = %e, "keeping the chart's file id");
                }
                *known = Some(id);
            }
        }
        result
    }

    async fn photo_request(&self, chat: ChatId, photo: InputFile) -> Result<Message, RequestError> {
        let mut request = self.bot.send_photo(chat, photo);
        if let Some(caption) = &self.content.caption {
            request = request.caption(caption).parse_mode(ParseMode::Html);
        }
        request.await
    }
}

/// Sends the preview of a job to `chat`: the photo with the summary (or
/// the photo, then the text), then the recipients line with the buttons.
pub async fn send_preview(
    broadcasts: &Broadcasts,
    chat: ChatId,
    job: i64,
    language: Language,
) -> anyhow::Result<()> {
    let job = broadcasts.store.job(job).await?;
    let recipients = broadcasts.store.active_subscriptions().await?.len() as u64;
    let sender = Sender::new(
        broadcasts.bot.clone(),
        broadcasts.store.clone(),
        &job,
        broadcasts.settings.language,
    );
    if let SendOutcome::Forbidden(e) | SendOutcome::Failed(e) | SendOutcome::Transient(e) =
        sender.send(chat.0).await
    {
        anyhow::bail!("sending the preview: {e}");
    }
    let head = replies::broadcast_preview_head(job.year, recipients, language);
    let keyboard = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback(replies::broadcast_confirm_button(), confirm_data(job.id)),
        InlineKeyboardButton::callback(replies::broadcast_cancel_button(), cancel_data(job.id)),
    ]]);
    for html in plain_messages(&head) {
        broadcasts
            .bot
            .send_message(chat, html)
            .parse_mode(ParseMode::Html)
            .reply_markup(keyboard.clone())
            .await?;
    }
    Ok(())
}

/// Removes the buttons of a preview once one was pressed.
pub async fn remove_buttons(bot: &Bot, chat: ChatId, message: MessageId) {
    if let Err(e) = bot.edit_message_reply_markup(chat, message).await {
        tracing::warn!(error = %e, "removing the preview's buttons");
    }
}

/// After a successful reload: the automatic mode queues the new years'
/// jobs; under `confirm` every admin gets the preview in a private chat,
/// under `send` the worker is woken.
pub async fn after_reload(ctx: &Context, years_before: &[u16]) {
    let broadcasts = &ctx.broadcasts;
    let snapshot = ctx.engine.snapshot();
    let jobs = match broadcast::queue_automatic(
        &broadcasts.store,
        &broadcasts.settings,
        years_before,
        &snapshot,
    )
    .await
    {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::error!(error = %e, "queueing the automatic broadcast");
            return;
        }
    };
    if jobs.is_empty() {
        return;
    }
    tracing::info!(?jobs, "automatic broadcast queued");
    match broadcasts.settings.automatic {
        broadcast::AutomaticBroadcast::Confirm => {
            for job in &jobs {
                for admin in &ctx.admins {
                    let chat = ChatId(*admin as i64);
                    let language = broadcasts.settings.language;
                    if let Err(e) = send_preview(broadcasts, chat, *job, language).await {
                        tracing::warn!(error = %format!("{e:#}"), admin, "sending the preview");
                    }
                }
            }
        }
        _ => broadcasts.wake.notify_one(),
    }
}

/// The worker: at start, every [`WORKER_POLL`] and when woken, runs the
/// delivery loop for each runnable job not already running in this
/// process. When `stop` turns true, every loop stops sending, records the
/// sends in flight, and the worker returns.
pub fn spawn_worker(
    broadcasts: Arc<Broadcasts>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut loops = tokio::task::JoinSet::new();
        let mut stop_signal = stop.clone();
        loop {
            match broadcasts.store.jobs_to_run().await {
                Ok(jobs) => {
                    for job in jobs {
                        let fresh = broadcasts
                            .running
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(job);
                        if fresh {
                            let broadcasts = broadcasts.clone();
                            let stop = stop.clone();
                            loops.spawn(async move {
                                run_job(&broadcasts, job, stop).await;
                                broadcasts
                                    .running
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .remove(&job);
                            });
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "reading the broadcast jobs"),
            }
            if *stop_signal.borrow() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(WORKER_POLL) => {}
                _ = broadcasts.wake.notified() => {}
                _ = stop_signal.changed() => {}
                Some(_) = loops.join_next(), if !loops.is_empty() => {}
            }
            if *stop_signal.borrow() {
                break;
            }
        }
        while loops.join_next().await.is_some() {}
    })
}

async fn run_job(broadcasts: &Broadcasts, job: i64, mut stop: watch::Receiver<bool>) {
    let stored = match broadcasts.store.job(job).await {
        Ok(stored) => stored,
        Err(e) => {
            tracing::error!(error = %e, job, "reading the broadcast job");
            return;
        }
    };
    let sender = Sender::new(
        broadcasts.bot.clone(),
        broadcasts.store.clone(),
        &stored,
        broadcasts.settings.language,
    );
    let mut settings = broadcasts.settings.delivery.clone();
    settings.messages_per_delivery = settings
        .messages_per_delivery
        .max(sender.content().messages());
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    let send = |chat: i64| {
        let sender = sender.clone();
        async move { sender.send(chat).await }
    };
    match broadcast::deliver(
        &broadcasts.store,
        job,
        &settings,
        &TokioClock,
        send,
        stopped,
    )
    .await
    {
        Ok(report) => tracing::info!(?report, "broadcast delivery loop ended"),
        Err(e) => tracing::error!(error = %e, job, "broadcast delivery failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_data_round_trips() {
        assert_eq!(
            parse_button(&confirm_data(7)),
            Some(ButtonPress::Confirm(7))
        );
        assert_eq!(
            parse_button(&cancel_data(12)),
            Some(ButtonPress::Cancel(12))
        );
        assert_eq!(parse_button("bc:confirm:x"), None);
        assert_eq!(parse_button("other"), None);
    }

    #[test]
    fn telegram_errors_map_to_what_the_loop_does() {
        let api = |e: ApiError| RequestError::Api(e);
        assert!(matches!(
            outcome_of(&api(ApiError::BotBlocked)),
            SendOutcome::Forbidden(_)
        ));
        assert!(matches!(
            outcome_of(&api(ApiError::Unknown(
                "Forbidden: bot was kicked from the group chat".into()
            ))),
            SendOutcome::Forbidden(_)
        ));
        assert!(matches!(
            outcome_of(&api(ApiError::ChatNotFound)),
            SendOutcome::Forbidden(_)
        ));
        assert_eq!(
            outcome_of(&RequestError::MigrateToChatId(ChatId(-100_005))),
            SendOutcome::MigrateTo(-100_005)
        );
        assert_eq!(
            outcome_of(&RequestError::RetryAfter(
                teloxide::types::Seconds::from_seconds(3)
            )),
            SendOutcome::RetryAfter(Duration::from_secs(3))
        );
        assert!(matches!(
            outcome_of(&api(ApiError::Unknown(
                "Bad Request: message is too long".into()
            ))),
            SendOutcome::Failed(_)
        ));
        assert!(matches!(
            outcome_of(&api(ApiError::Unknown("Bad Gateway".into()))),
            SendOutcome::Transient(_)
        ));
    }

    #[test]
    fn a_short_summary_is_the_caption_a_long_one_follows_the_photo() {
        let short = content_of("2024年概况\n扣留4.16万批。", Language::Simplified);
        assert!(short.caption.is_some() && short.texts.is_empty());
        assert_eq!(short.messages(), 1);
        let long = content_of(&"很长的一行。\n".repeat(300), Language::Simplified);
        assert!(long.caption.is_none() && !long.texts.is_empty());
        assert!(long.messages() >= 2);
    }
}
