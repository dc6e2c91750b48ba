//! handlers: "here is an update, answer it". The dptree handler tree used
//! by production and by the tests alike: decide whether a message is
//! addressed to the bot (any text in a private chat; `/ask`, `/ask@bot`, a
//! mention or a reply to the bot in a group), apply the flood limit, then
//! answer a question or run a command.
//!
//! Invariant: no environment reads and no global state; everything comes
//! in as a dependency (`Arc<Context>`, the `Bot`, the bot's `Me`). A failing
//! handler logs, sends a short apology and returns Ok, so the dispatcher
//! keeps serving.

use super::answers::{self, Reply};
use super::broadcast::{self as tg_broadcast, Broadcasts};
use super::conversation::{Conversations, Speaker};
use super::flood::{FloodDecision, FloodLimit};
use super::format::linked_messages;
use super::send::{edit_html, send_reply, RetryPolicy};
use super::wording::{self, StatsView};
use crate::domain::model::{AnswerKind, Document, Language};
use crate::domain::normalize::detect_language;
use crate::domain::replies;
use crate::domain::small_talk::{small_talk, SmallTalk};
use crate::domain::understand::Query;
use crate::frontends::follow::reload_in_background;
use crate::knowledge::engine::{Engine, ReloadError, ReloadReport};
use crate::state::audit::{AuditEntry, Store};
use crate::state::broadcasts::{MembershipEvent, Subscription, SubscriptionChange};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use teloxide::dispatching::UpdateHandler;
use teloxide::prelude::*;
use teloxide::types::{ChatMemberStatus, ChatMemberUpdated, Me, MessageId, MessageKind};
use teloxide::utils::command::BotCommands;

/// Questions longer than this (in characters) are refused with a notice.
pub use crate::domain::model::MAX_QUESTION_CHARS;

pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The bot's commands. Descriptions for the menu live in `wording`.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum Command {
    /// `/start`, or a deep link: `/start summary_2024`, `/start ask_<question>`.
    Start(String),
    Help,
    Ask(String),
    Summary(String),
    Years,
    Sources,
    Reload(String),
    Stats,
    Subscribe,
    Unsubscribe,
    Broadcast(String),
    Documents,
    Remove(String),
}

/// What an addressed message asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Command(Command),
    Question(String),
    /// In a private chat, a message the bot does not read: a sticker, a
    /// voice message, a photo without a caption.
    Unreadable,
    /// In a private chat, a file: an admin's is previewed for the knowledge.
    Document,
}

/// Everything the handlers need, injected as one dependency.
pub struct Context {
    pub engine: Arc<Engine>,
    pub store: Store,
    pub admins: HashSet<u64>,
    pub flood: FloodLimit,
    pub retry: RetryPolicy,
    pub stats: Stats,
    /// Subscriptions, jobs and the delivery worker's wake-up.
    pub broadcasts: Arc<Broadcasts>,
    /// Follow-ups, the replies of edited questions, notices given.
    pub conversations: Conversations,
    /// The largest document an admin may send to be added.
    pub max_document_bytes: u64,
}

/// Questions served since start, by answer kind.
#[derive(Debug)]
pub struct Stats {
    started: Instant,
    inner: Mutex<StatsInner>,
}

#[derive(Debug, Default)]
struct StatsInner {
    questions: u64,
    found: u64,
    by_kind: BTreeMap<String, u64>,
    /// Counts not yet added to the store.
    unsaved: BTreeMap<String, u64>,
}

impl Default for Stats {
    fn default() -> Stats {
        Stats {
            started: Instant::now(),
            inner: Mutex::default(),
        }
    }
}

impl Stats {
    pub fn record(&self, kind: AnswerKind, found: bool) {
        let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        s.questions += 1;
        s.found += u64::from(found);
        *s.by_kind.entry(kind.as_str().to_string()).or_default() += 1;
        *s.unsaved.entry(kind.as_str().to_string()).or_default() += 1;
    }

    /// Adds the counts not yet saved to the store.
    pub async fn save(&self, store: &Store) {
        let unsaved =
            std::mem::take(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()).unsaved);
        if unsaved.is_empty() {
            return;
        }
        if let Err(e) = store.add_question_counts(&unsaved).await {
            tracing::error!(error = %e, "saving question counts");
            let mut s = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            for (k, n) in unsaved {
                *s.unsaved.entry(k).or_default() += n;
            }
        }
    }

    pub fn questions(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .questions
    }
}

/// The handler tree.
pub fn schema() -> UpdateHandler<HandlerError> {
    dptree::entry()
        .branch(
            Update::filter_message()
                .filter_map(|msg: Message, me: Me| addressed(&msg, &me))
                .endpoint(handle),
        )
        .branch(
            Update::filter_edited_message()
                .filter_map(|msg: Message, me: Me| addressed(&msg, &me))
                .endpoint(handle_edit),
        )
        .branch(Update::filter_callback_query().endpoint(super::buttons::handle_button))
        .branch(Update::filter_inline_query().endpoint(super::inline::handle_inline))
        .branch(Update::filter_my_chat_member().endpoint(handle_membership))
}

/// The request a message makes of the bot, or None when it is not
/// addressed to the bot. A photo's caption is read like a text.
pub fn addressed(msg: &Message, me: &Me) -> Option<Request> {
    let in_group = !msg.chat.is_private();
    if msg.document().is_some() && !in_group {
        // A file, with or without a caption: for the knowledge (admins).
        // In a group its caption is read by the rules of addressing.
        return Some(Request::Document);
    }
    let Some(text) = msg.text().or(msg.caption()) else {
        // Media without words: told what the bot reads, in a private chat.
        let media = matches!(msg.kind, MessageKind::Common(_));
        return (media && !in_group).then_some(Request::Unreadable);
    };
    if let Ok(command) = Command::parse(text, me.username()) {
        return Some(Request::Command(command));
    }
    if text.starts_with('/') {
        // Another bot's command, or ours with arguments it does not take.
        return (!in_group).then_some(Request::Command(Command::Help));
    }
    if !in_group {
        return Some(Request::Question(text.to_string()));
    }
    if let Some(question) = without_mention(text, me.username()) {
        return Some(Request::Question(question));
    }
    let replies_to_bot = msg
        .reply_to_message()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|u| u.id == me.id);
    replies_to_bot.then(|| Request::Question(text.to_string()))
}

/// The text without `@botname` when it mentions the bot.
fn without_mention(text: &str, username: &str) -> Option<String> {
    let mention = format!("@{}", username.to_lowercase());
    let lower = text.to_lowercase();
    let mut found = None;
    let mut from = 0;
    while let Some(i) = lower[from..].find(&mention) {
        let start = from + i;
        let end = start + mention.len();
        let next = lower[end..].chars().next();
        if !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            found = Some((start, end));
            break;
        }
        from = end;
    }
    let (start, end) = found?;
    // Lower-casing ASCII keeps byte offsets; other letters may not.
    if lower.len() != text.len() {
        return Some(
            text.replace(&format!("@{username}"), " ")
                .trim()
                .to_string(),
        );
    }
    let question = format!("{} {}", &text[..start], &text[end..]);
    Some(question.trim().to_string())
}

/// The language to word notices in: the text's own, or the user's
/// Telegram language when the text says nothing.
pub fn language_of(text: &str, language_code: Option<&str>) -> Language {
    let has_words = text
        .chars()
        .any(|c| crate::domain::normalize::is_han(c) || c.is_ascii_alphabetic());
    if has_words {
        return detect_language(text);
    }
    match language_code.map(str::to_ascii_lowercase) {
        None => Language::Simplified,
        Some(c) if c.starts_with("zh-hant") || c == "zh-tw" || c == "zh-hk" => {
            Language::Traditional
        }
        Some(c) if c.starts_with("zh") => Language::Simplified,
        Some(_) => Language::English,
    }
}

/// Who is speaking: the chat, and the user in it.
fn speaker_of(msg: &Message) -> Speaker {
    (msg.chat.id.0, msg.from.as_ref().map_or(0, |u| u.id.0))
}

/// The language of the words a request carries.
fn request_language(request: &Request, msg: &Message) -> Language {
    let code = msg.from.as_ref().and_then(|u| u.language_code.as_deref());
    let text = match request {
        Request::Question(q) | Request::Command(Command::Ask(q)) => q.as_str(),
        Request::Command(Command::Summary(arg)) => arg.as_str(),
        _ => "",
    };
    language_of(text, code)
}

async fn handle(
    bot: Bot,
    msg: Message,
    request: Request,
    ctx: Arc<Context>,
) -> Result<(), HandlerError> {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    let language = request_language(&request, &msg);
    // Every answer replies to its question, in private chats too.
    let reply_to = Some(msg.id);
    match ctx.flood.check(user, Instant::now()) {
        FloodDecision::Answer => {}
        FloodDecision::Notify => {
            let notice = wording::flood_notice(language, ctx.flood.per_minute());
            let _ = send_all(&bot, &ctx, msg.chat.id, reply_to, &Reply::notice(&notice)).await;
            return Ok(());
        }
        FloodDecision::Ignore => return Ok(()),
    }
    if let Err(e) = respond(&bot, &msg, request, &ctx, language, reply_to).await {
        tracing::error!(error = %format!("{e:#}"), chat = msg.chat.id.0, "handler failed");
        let apology = wording::apology(language);
        let _ = send_all(&bot, &ctx, msg.chat.id, reply_to, &Reply::notice(&apology)).await;
    }
    Ok(())
}

/// An edited message: a question the bot answered gets its reply edited;
/// one it did not answer (an @mention added in a group) is answered now;
/// commands are not run again.
async fn handle_edit(
    bot: Bot,
    msg: Message,
    request: Request,
    ctx: Arc<Context>,
) -> Result<(), HandlerError> {
    let question = match &request {
        Request::Question(q) | Request::Command(Command::Ask(q)) => q.clone(),
        _ => return Ok(()),
    };
    let Some(earlier) = ctx.conversations.replies_to((msg.chat.id.0, msg.id.0)) else {
        return handle(bot, msg, request, ctx).await;
    };
    let language = request_language(&request, &msg);
    if let Err(e) = answer_question(&bot, &msg, &question, &ctx, Some(earlier)).await {
        tracing::error!(error = %format!("{e:#}"), chat = msg.chat.id.0, "edit failed");
        let apology = wording::apology(language);
        let _ = send_all(
            &bot,
            &ctx,
            msg.chat.id,
            Some(msg.id),
            &Reply::notice(&apology),
        )
        .await;
    }
    Ok(())
}

async fn respond(
    bot: &Bot,
    msg: &Message,
    request: Request,
    ctx: &Arc<Context>,
    language: Language,
    reply_to: Option<MessageId>,
) -> anyhow::Result<()> {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    let is_admin = ctx.admins.contains(&user);
    let in_group = !msg.chat.is_private();
    let snapshot = ctx.engine.snapshot();
    let reply = match request {
        Request::Question(q) | Request::Command(Command::Ask(q)) => {
            return answer_question(bot, msg, &q, ctx, None).await;
        }
        Request::Unreadable => {
            if !ctx
                .conversations
                .should_notify(msg.chat.id.0, Instant::now())
            {
                return Ok(());
            }
            Reply::notice(&wording::what_i_read(language))
        }
        Request::Document => super::upkeep::document_sent(bot, msg, ctx, language).await?,
        Request::Command(Command::Documents) => {
            super::upkeep::documents_command(msg, ctx, language).await
        }
        Request::Command(Command::Remove(arg)) => {
            super::upkeep::remove_command(msg, &arg, ctx, language).await?
        }
        Request::Command(Command::Start(payload)) => match deep_link(&payload) {
            Some(DeepLink::Ask(q)) => return answer_question(bot, msg, &q, ctx, None).await,
            Some(DeepLink::Summary(year)) => summary_reply(ctx, year, language).await?,
            None => Reply::notice(&wording::help(language, is_admin, in_group))
                .with_buttons(super::buttons::examples(&snapshot, language)),
        },
        Request::Command(Command::Help) => {
            Reply::notice(&wording::help(language, is_admin, in_group))
        }
        Request::Command(Command::Summary(arg)) => match parse_year(&arg) {
            Some(year) => summary_reply(ctx, year, language).await?,
            None if arg.trim().is_empty() => answers::pick_a_year(&snapshot, language),
            None => Reply::notice(&wording::summary_usage(language, &arg)),
        },
        Request::Command(Command::Years) => {
            let labels: Vec<String> = snapshot
                .years_with_periods()
                .iter()
                .map(|(y, kinds)| replies::year_with_periods(*y, kinds, language))
                .collect();
            Reply::notice(&wording::years(language, &labels))
        }
        Request::Command(Command::Sources) => {
            let documents: Vec<&Document> = snapshot.documents.iter().collect();
            let links: Vec<(&str, &str)> = documents
                .iter()
                .filter_map(|d| Some((d.meta.title.as_str(), d.meta.url.as_deref()?)))
                .collect();
            Reply::html(linked_messages(
                &wording::sources(language, &documents),
                &links,
            ))
        }
        Request::Command(Command::Reload(arg)) => {
            let audit = admin_audit(msg, user, "reload");
            let text = if !is_admin {
                refuse_admin_command(ctx, audit, language).await
            } else {
                match arg.trim() {
                    "" => {
                        reload_command(bot, ctx, msg.chat.id, reply_to, language, false, audit)
                            .await?
                    }
                    a if a.eq_ignore_ascii_case("force") => {
                        reload_command(bot, ctx, msg.chat.id, reply_to, language, true, audit)
                            .await?
                    }
                    other => wording::reload_usage(language, other),
                }
            };
            Reply::notice(&text)
        }
        Request::Command(Command::Stats) => {
            let mut audit = admin_audit(msg, user, "stats");
            let text = if !is_admin {
                refuse_admin_command(ctx, audit, language).await
            } else {
                let view = stats_view(ctx).await;
                audit.outcome = format!("ok: {} questions", view.questions);
                record_audit(ctx, &audit).await;
                wording::stats(language, &view)
            };
            Reply::notice(&text)
        }
        Request::Command(command @ (Command::Subscribe | Command::Unsubscribe)) => {
            let subscribe = command == Command::Subscribe;
            Reply::notice(&subscription_command(bot, msg, subscribe, ctx, language).await?)
        }
        Request::Command(Command::Broadcast(arg)) => {
            match broadcast_command(msg, &arg, ctx, language).await? {
                Some(reply) => reply,
                None => return Ok(()),
            }
        }
    };
    send_all(bot, ctx, msg.chat.id, reply_to, &reply).await?;
    Ok(())
}

/// What a `/start` payload opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeepLink {
    /// `summary_2024`
    Summary(u16),
    /// `ask_<question>`: the question as unpadded base64url of its UTF-8
    /// (what `deep_link_payload` writes), or words joined by `_`.
    Ask(String),
}

pub fn deep_link(payload: &str) -> Option<DeepLink> {
    use base64::Engine as _;
    let payload = payload.trim();
    if let Some(year) = payload.strip_prefix("summary_") {
        return parse_year(year).map(DeepLink::Summary);
    }
    let question = payload.strip_prefix("ask_")?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(question)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|q| !q.trim().is_empty() && !q.chars().any(char::is_control));
    let question = decoded.unwrap_or_else(|| question.replace('_', " "));
    (!question.trim().is_empty()).then_some(DeepLink::Ask(question))
}

/// The `/start` payload that asks `question`, when it fits Telegram's 64
/// characters.
pub fn deep_link_payload(question: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = format!(
        "ask_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(question.trim())
    );
    (payload.len() <= 64).then_some(payload)
}

async fn summary_reply(ctx: &Arc<Context>, year: u16, language: Language) -> anyhow::Result<Reply> {
    let snapshot = ctx.engine.snapshot();
    let reply =
        tokio::task::spawn_blocking(move || answers::summary(&snapshot, year, language)).await?;
    if let Some(a) = &reply.answer {
        ctx.stats.record(a.kind, a.found);
    }
    Ok(reply)
}

/// Answers a question (a follow-up of the speaker's last one, or of the
/// answer it replies to), sends the reply (or, for an edited question,
/// edits the earlier one) and remembers it.
pub async fn answer_question(
    bot: &Bot,
    msg: &Message,
    question: &str,
    ctx: &Arc<Context>,
    earlier: Option<Vec<i32>>,
) -> anyhow::Result<()> {
    let speaker = speaker_of(msg);
    let now = Instant::now();
    let replied = msg.reply_to_message().map(|r| (msg.chat.id.0, r.id.0));
    // An edited question stands on its own: its earlier version is the
    // speaker's last question.
    let previous = match earlier {
        Some(_) => None,
        None => ctx.conversations.previous(speaker, replied, now),
    };
    let reply = question_reply(ctx, question, previous).await?;
    let sent = match earlier {
        Some(ids) => edit_all(bot, ctx, msg.chat.id, &ids, Some(msg.id), &reply).await?,
        None => send_all(bot, ctx, msg.chat.id, Some(msg.id), &reply).await?,
    };
    ctx.conversations
        .remember(speaker, Some(msg.id.0), reply.query.as_ref(), &sent, now);
    Ok(())
}

/// The reply to a question's text: a notice for an empty or overlong one,
/// an introduction for a greeting or thanks, else the engine's answer.
pub async fn question_reply(
    ctx: &Arc<Context>,
    question: &str,
    previous: Option<Query>,
) -> anyhow::Result<Reply> {
    let question = question.trim().to_string();
    let language = language_of(&question, None);
    let snapshot = ctx.engine.snapshot();
    if question.is_empty() {
        return Ok(Reply::notice(&replies::empty_question(language)));
    }
    if question.chars().count() > MAX_QUESTION_CHARS {
        return Ok(Reply::notice(&replies::too_long(MAX_QUESTION_CHARS)));
    }
    if let Some(talk) = small_talk(&question, &snapshot.vocabulary) {
        let intro = wording::intro(language, talk == SmallTalk::Thanks);
        return Ok(
            Reply::notice(&intro).with_buttons(super::buttons::examples(&snapshot, language))
        );
    }
    let reply = tokio::task::spawn_blocking(move || {
        answers::question(&snapshot, &question, previous.as_ref())
    })
    .await?;
    if let Some(a) = &reply.answer {
        ctx.stats.record(a.kind, a.found);
    }
    Ok(reply)
}

fn chat_kind(chat: &teloxide::types::Chat) -> &'static str {
    if chat.is_private() {
        "private"
    } else if chat.is_supergroup() {
        "supergroup"
    } else if chat.is_group() {
        "group"
    } else {
        "channel"
    }
}

/// /subscribe, /unsubscribe: in a group, the group's own admins (Telegram's
/// getChatMember says creator or administrator) and the bot's admins; in a
/// private chat, the user themself. Audited.
async fn subscription_command(
    bot: &Bot,
    msg: &Message,
    subscribe: bool,
    ctx: &Arc<Context>,
    language: Language,
) -> anyhow::Result<String> {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    let mut audit = AuditEntry {
        user_id: user as i64,
        chat_id: msg.chat.id.0,
        command: if subscribe {
            "subscribe"
        } else {
            "unsubscribe"
        }
        .into(),
        args: String::new(),
        outcome: String::new(),
    };
    let allowed = if msg.chat.is_private() || ctx.admins.contains(&user) {
        true
    } else {
        match bot.get_chat_member(msg.chat.id, UserId(user)).await {
            Ok(member) => member.is_privileged(),
            Err(e) => {
                tracing::warn!(error = %e, "getChatMember failed");
                false
            }
        }
    };
    if !allowed {
        audit.outcome = "refused: not an admin of the group".into();
        record_audit(ctx, &audit).await;
        return Ok(replies::admins_only(language).to_string());
    }
    let store = &ctx.broadcasts.store;
    let change = if subscribe {
        store
            .subscribe(&Subscription {
                chat_id: msg.chat.id.0,
                kind: chat_kind(&msg.chat).into(),
                title: msg.chat.title().map(str::to_string),
                subscribed_by: Some(user as i64),
            })
            .await?
    } else {
        store.unsubscribe(msg.chat.id.0).await?
    };
    let changed = change == SubscriptionChange::Changed;
    audit.outcome = format!("ok: {}", if changed { "changed" } else { "unchanged" });
    record_audit(ctx, &audit).await;
    Ok(if subscribe {
        replies::subscribed(changed, language)
    } else {
        replies::unsubscribed(changed, language)
    }
    .to_string())
}

/// /broadcast YEAR (a preview with buttons) and /broadcast status, for the
/// bot's admins. Audited. None when the reply was sent already.
async fn broadcast_command(
    msg: &Message,
    arg: &str,
    ctx: &Arc<Context>,
    language: Language,
) -> anyhow::Result<Option<Reply>> {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    let mut audit = AuditEntry {
        user_id: user as i64,
        chat_id: msg.chat.id.0,
        command: "broadcast".into(),
        args: arg.chars().take(200).collect(),
        outcome: String::new(),
    };
    if !ctx.admins.contains(&user) {
        return Ok(Some(Reply::notice(
            &refuse_admin_command(ctx, audit, language).await,
        )));
    }
    let store = &ctx.broadcasts.store;
    let arg = arg.trim();
    if arg.is_empty() || arg.eq_ignore_ascii_case("status") || arg == "状态" {
        let jobs = store.recent_jobs(5).await?;
        audit.outcome = format!("ok: status of {} jobs", jobs.len());
        record_audit(ctx, &audit).await;
        let text = if jobs.is_empty() {
            replies::broadcast_none(language).to_string()
        } else {
            jobs.iter()
                .map(|j| replies::broadcast_status(j, language))
                .collect::<Vec<_>>()
                .join("\n")
        };
        return Ok(Some(Reply::notice(&text)));
    }
    let Some(year) = parse_year(arg) else {
        audit.outcome = "refused: no year".into();
        record_audit(ctx, &audit).await;
        return Ok(Some(Reply::notice(&wording::summary_usage(language, arg))));
    };
    let snapshot = ctx.engine.snapshot();
    let summary_language = ctx.broadcasts.settings.language;
    let prepared = {
        let snapshot = snapshot.clone();
        tokio::task::spawn_blocking(move || {
            crate::frontends::broadcast::prepare_job(
                &snapshot,
                year,
                summary_language,
                Some(user as i64),
                false,
                false,
            )
        })
        .await??
    };
    let Some(job) = prepared else {
        audit.outcome = format!("refused: no summary for {year}");
        record_audit(ctx, &audit).await;
        return Ok(Some(answers::summary(&snapshot, year, language)));
    };
    let id = store.create_job(&job).await?;
    // The preview and its buttons go to the admin's private chat (whose id
    // is the user's), never to a group where others could press them.
    let admin_chat = ChatId(user as i64);
    if let Err(e) = tg_broadcast::send_preview(&ctx.broadcasts, admin_chat, id, language).await {
        tracing::warn!(error = %e, job = id, "broadcast preview not delivered");
        store.cancel_job(id, Some(user as i64)).await?;
        audit.outcome = format!("failed: preview not delivered, job {id} cancelled: {e}");
        record_audit(ctx, &audit).await;
        return Ok(Some(Reply::notice(&wording::preview_not_delivered(
            language,
        ))));
    }
    audit.outcome = format!("ok: job {id} waiting for confirmation");
    record_audit(ctx, &audit).await;
    if msg.chat.id == admin_chat {
        Ok(None)
    } else {
        Ok(Some(Reply::notice(&wording::preview_sent_privately(
            language,
        ))))
    }
}

/// my_chat_member: the bot was added to, promoted in or removed from a
/// chat; recorded, and a removal ends the chat's subscription.
async fn handle_membership(
    update: ChatMemberUpdated,
    ctx: Arc<Context>,
) -> Result<(), HandlerError> {
    let status = match update.new_chat_member.status() {
        ChatMemberStatus::Owner => "creator",
        ChatMemberStatus::Administrator => "administrator",
        ChatMemberStatus::Member => "member",
        ChatMemberStatus::Restricted => "restricted",
        ChatMemberStatus::Left => "left",
        ChatMemberStatus::Banned => "kicked",
    };
    let event = MembershipEvent {
        chat_id: update.chat.id.0,
        kind: chat_kind(&update.chat).into(),
        title: update.chat.title().map(str::to_string),
        status: status.into(),
        changed_by: Some(update.from.id.0 as i64),
    };
    if let Err(e) = ctx.broadcasts.store.record_membership(&event).await {
        tracing::error!(error = %e, ?event, "recording the bot's membership");
    }
    Ok(())
}

/// The audit entry of an admin command, its outcome still to fill in.
fn admin_audit(msg: &Message, user: u64, command: &str) -> AuditEntry {
    AuditEntry {
        user_id: user as i64,
        chat_id: msg.chat.id.0,
        command: command.to_string(),
        args: msg.text().unwrap_or_default().chars().take(200).collect(),
        outcome: String::new(),
    }
}

/// A non-admin's admin command: audited and refused.
async fn refuse_admin_command(ctx: &Context, mut audit: AuditEntry, language: Language) -> String {
    audit.outcome = "refused: not an admin".into();
    record_audit(ctx, &audit).await;
    wording::not_an_admin(language)
}

/// /reload and /reload force: rebuilds, gates (unless forced), swaps,
/// publishes the new version to the other replicas, audits, reports.
async fn reload_command(
    bot: &Bot,
    ctx: &Arc<Context>,
    chat: ChatId,
    reply_to: Option<MessageId>,
    language: Language,
    force: bool,
    mut audit: AuditEntry,
) -> anyhow::Result<String> {
    let started = Reply::notice(&wording::reload_started(language));
    send_all(bot, ctx, chat, reply_to, &started).await?;
    let source = if force { "/reload force" } else { "/reload" };
    let result = run_reload(ctx, force, audit.user_id, source).await;
    audit.outcome = reload_outcome(&result);
    record_audit(ctx, &audit).await;
    Ok(match result {
        Ok(report) => wording::reload_done(language, &report),
        Err(e) => wording::reload_refused(language, &e),
    })
}

/// Reloads (gated unless `force`), publishes the new version to the other
/// replicas and, once swapped in, lets broadcasts see new years.
pub async fn run_reload(
    ctx: &Arc<Context>,
    force: bool,
    user_id: i64,
    source: &str,
) -> Result<ReloadReport, ReloadError> {
    let years_before = ctx.engine.snapshot().headline_years();
    let result = reload_in_background(ctx.engine.clone(), force).await;
    crate::frontends::follow::publish(&ctx.store, &result, user_id, source).await;
    if result.is_ok() {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            tg_broadcast::after_reload(&ctx, &years_before).await;
        });
    }
    result
}

pub fn parse_year(arg: &str) -> Option<u16> {
    let digits: String = arg
        .trim()
        .trim_end_matches('年')
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect();
    digits
        .parse::<u16>()
        .ok()
        .filter(|y| (1900..=2200).contains(y))
}

/// The audit outcome of a reload.
pub fn reload_outcome(result: &Result<ReloadReport, ReloadError>) -> String {
    match result {
        Ok(r) => format!(
            "ok{}: version {}, documents +{} -{}, facts +{} ~{} -{}, {} conflicts, {} new answers, {:.1}s",
            if r.forced {
                format!(" (forced over {} regressions: {})", r.gate.regressions.len(),
                    r.gate.regressions.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", "))
            } else {
                String::new()
            },
            r.version,
            r.documents_added.len(),
            r.documents_removed.len(),
            r.facts_added,
            r.facts_changed,
            r.facts_removed,
            r.conflicts,
            r.gate.new_answers.len(),
            r.took.as_secs_f64()
        ),
        Err(e) => format!("failed: {e}"),
    }
}

pub async fn record_audit(ctx: &Context, entry: &AuditEntry) {
    if let Err(e) = ctx.store.record_audit(entry).await {
        tracing::error!(error = %e, ?entry, "writing the audit log");
    }
}

async fn stats_view(ctx: &Context) -> StatsView {
    ctx.stats.save(&ctx.store).await;
    let lifetime = ctx.store.question_counts().await.unwrap_or_default();
    let snapshot = ctx.engine.snapshot();
    let s = ctx.stats.inner.lock().unwrap_or_else(|e| e.into_inner());
    StatsView {
        questions: s.questions,
        found: s.found,
        by_kind: s.by_kind.iter().map(|(k, n)| (k.clone(), *n)).collect(),
        lifetime_questions: lifetime.values().sum(),
        version: snapshot.version.clone(),
        documents: snapshot.documents.len(),
        facts: snapshot.facts.len(),
        uptime: ctx.stats.started.elapsed(),
    }
}

/// Sends a reply's messages (the first replying to `reply_to`, the
/// buttons under the last); the ids of the messages sent.
pub async fn send_all(
    bot: &Bot,
    ctx: &Context,
    chat: ChatId,
    reply_to: Option<MessageId>,
    reply: &Reply,
) -> Result<Vec<i32>, teloxide::RequestError> {
    let mut sent = Vec::new();
    let last = reply.messages.len().saturating_sub(1);
    for (i, html) in reply.messages.iter().enumerate() {
        let answering = if i == 0 { reply_to } else { None };
        let buttons = if i == last {
            reply.buttons.as_ref()
        } else {
            None
        };
        let message = send_reply(bot, chat, html, answering, buttons, &ctx.retry).await?;
        sent.push(message.id.0);
    }
    Ok(sent)
}

/// Puts a new reply in place of an earlier one: its messages edited in
/// order, extra new ones sent, extra old ones deleted.
async fn edit_all(
    bot: &Bot,
    ctx: &Context,
    chat: ChatId,
    earlier: &[i32],
    reply_to: Option<MessageId>,
    reply: &Reply,
) -> Result<Vec<i32>, teloxide::RequestError> {
    let mut ids = Vec::new();
    let last = reply.messages.len().saturating_sub(1);
    for (i, html) in reply.messages.iter().enumerate() {
        let buttons = if i == last {
            reply.buttons.as_ref()
        } else {
            None
        };
        let edited = match earlier.get(i) {
            Some(&id) => edit_html(bot, chat, MessageId(id), html, buttons, &ctx.retry)
                .await
                .map(|_| id)
                .map_err(|e| tracing::warn!(error = %e, "editing a reply failed; sending anew"))
                .ok(),
            None => None,
        };
        let id = match edited {
            Some(id) => id,
            None => {
                let answering = if ids.is_empty() { reply_to } else { None };
                send_reply(bot, chat, html, answering, buttons, &ctx.retry)
                    .await?
                    .id
                    .0
            }
        };
        ids.push(id);
    }
    for &id in earlier.iter().skip(reply.messages.len()) {
        let _ = bot.delete_message(chat, MessageId(id)).await;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_of_a_notice_follows_the_text_then_the_user() {
        assert_eq!(
            language_of("How many batches?", Some("zh")),
            Language::English
        );
        assert_eq!(language_of("", Some("en")), Language::English);
        assert_eq!(language_of("", Some("zh-hant")), Language::Traditional);
        assert_eq!(language_of("", None), Language::Simplified);
    }

    #[test]
    fn a_mention_is_removed_from_the_question() {
        assert_eq!(
            without_mention("@Customs_Bot 2024年扣留多少批?", "customs_bot").as_deref(),
            Some("2024年扣留多少批?")
        );
        assert_eq!(without_mention("@customs_bot2 hi", "customs_bot"), None);
        assert_eq!(without_mention("hello all", "customs_bot"), None);
    }

    #[test]
    fn years_are_read_leniently() {
        assert_eq!(parse_year(" 2024 "), Some(2024));
        assert_eq!(parse_year("２０２４年"), Some(2024));
        assert_eq!(parse_year("abc"), None);
        assert_eq!(parse_year("99"), None);
    }
}
