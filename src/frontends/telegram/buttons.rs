//! buttons: "a button was pressed, answer it". Answer buttons (来源 /
//! Sources, 详细 / Details, a year, an example question, a year's summary)
//! send their reply under the message that carried them; the broadcast
//! preview's 确认发送 / 取消 are for the bot's admins. Every press is
//! answered exactly once (answerCallbackQuery): silently when a message
//! follows, with a short pop-up for a refusal, a stale or a forged button,
//! never with a message as well.
//!
//! Invariant: button data is read only through `callback::decode` and
//! `broadcast::parse_button`; fact numbers are checked against the
//! snapshot they were made for before use.

use super::answers::{self, Reply};
use super::broadcast::{self as tg_broadcast, ButtonPress};
use super::callback::{self, Facts, Press};
use super::handlers::{language_of, question_reply, record_audit, send_all, Context, HandlerError};
use super::wording;
use crate::domain::model::Language;
use crate::domain::replies;
use crate::knowledge::snapshot::Snapshot;
use crate::state::audit::AuditEntry;
use crate::state::broadcasts::{Cancellation, Confirmation};
use std::sync::Arc;
use std::time::Instant;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId};

/// The example questions under the introduction, about the latest year
/// with a summary.
pub fn examples(snapshot: &Snapshot, language: Language) -> Option<InlineKeyboardMarkup> {
    let year = *snapshot.headline_years().last()?;
    let rows: Vec<Vec<InlineKeyboardButton>> = (0..wording::EXAMPLES.len())
        .filter_map(|n| {
            let text = wording::example(n, year, language)?;
            let press = Press::Example(language, n as u8, year);
            Some(vec![InlineKeyboardButton::callback(
                text,
                callback::encode(&press),
            )])
        })
        .collect();
    (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows))
}

pub async fn handle_button(
    bot: Bot,
    q: CallbackQuery,
    ctx: Arc<Context>,
) -> Result<(), HandlerError> {
    let data = q.data.clone().unwrap_or_default();
    if let Some(press) = tg_broadcast::parse_button(&data) {
        return broadcast_button(bot, q, press, ctx).await;
    }
    let fallback = language_of("", q.from.language_code.as_deref());
    let Some(press) = callback::decode(&data) else {
        return pop_up(&bot, &q, &wording::unknown_button(fallback)).await;
    };
    if let Press::Document(language, id, action) = press {
        return super::upkeep::document_button(&bot, &q, &ctx, language, id, action).await;
    }
    let Some(message) = q.regular_message().map(|m| (m.chat.id, m.id)) else {
        return pop_up(&bot, &q, &wording::unknown_button(fallback)).await;
    };
    let reply = match press_reply(&ctx, press).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(notice)) => return pop_up(&bot, &q, &notice).await,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "answer button");
            return pop_up(&bot, &q, &wording::apology(fallback)).await;
        }
    };
    if let Err(e) = bot.answer_callback_query(q.id.clone()).await {
        tracing::warn!(error = %e, "answerCallbackQuery failed");
    }
    let (chat, pressed_under) = message;
    match send_all(&bot, &ctx, chat, Some(pressed_under), &reply).await {
        Ok(sent) => {
            let speaker = (chat.0, q.from.id.0);
            let now = Instant::now();
            if let Some(query) = &reply.query {
                ctx.conversations
                    .remember(speaker, None, Some(query), &sent, now);
            }
        }
        Err(e) => tracing::warn!(error = %e, "sending a button's reply"),
    }
    Ok(())
}

/// One short pop-up answers the press; nothing else is sent.
async fn pop_up(bot: &Bot, q: &CallbackQuery, text: &str) -> Result<(), HandlerError> {
    if let Err(e) = bot.answer_callback_query(q.id.clone()).text(text).await {
        tracing::warn!(error = %e, "answerCallbackQuery failed");
    }
    Ok(())
}

/// The reply a press opens, or the notice (stale, forged) that refuses it.
async fn press_reply(ctx: &Arc<Context>, press: Press) -> anyhow::Result<Result<Reply, String>> {
    let snapshot = ctx.engine.snapshot();
    if let Press::Example(language, n, year) = press {
        let Some(question) = wording::example(usize::from(n), year, language) else {
            return Ok(Err(wording::unknown_button(language)));
        };
        return Ok(Ok(question_reply(ctx, &question, None).await?));
    }
    if let Err(notice) = check_facts(&snapshot, &press) {
        return Ok(Err(notice));
    }
    let reply = tokio::task::spawn_blocking(move || match press {
        Press::Sources(l, f) => answers::sources(&snapshot, &f.facts, l),
        Press::Details(l, f) => answers::details(&snapshot, &f.facts, l),
        Press::Fact(l, f) => answers::fact_question(&snapshot, f.facts[0], l).unwrap_or_default(),
        Press::Summary(l, year) => answers::summary(&snapshot, year, l),
        Press::Example(..) | Press::Document(..) => Reply::default(),
    })
    .await?;
    if let Some(a) = &reply.answer {
        ctx.stats.record(a.kind, a.found);
    }
    Ok(Ok(reply))
}

/// Fact numbers made for this snapshot and within its table.
fn check_facts(snapshot: &Snapshot, press: &Press) -> Result<(), String> {
    let (language, facts): (Language, &Facts) = match press {
        Press::Sources(l, f) | Press::Details(l, f) | Press::Fact(l, f) => (*l, f),
        Press::Summary(..) | Press::Example(..) | Press::Document(..) => return Ok(()),
    };
    if facts.version != callback::short_version(&snapshot.version) {
        return Err(wording::stale_button(language));
    }
    if facts.facts.iter().any(|&f| f >= snapshot.facts.len()) {
        return Err(wording::unknown_button(language));
    }
    Ok(())
}

/// 确认发送 / 取消 pressed under a preview: bot admins only (anyone else
/// gets one pop-up, nothing more); the job is confirmed (the worker starts
/// delivering) or cancelled, the press is answered and the buttons are
/// removed. Audited.
async fn broadcast_button(
    bot: Bot,
    q: CallbackQuery,
    press: ButtonPress,
    ctx: Arc<Context>,
) -> Result<(), HandlerError> {
    let language = language_of("", q.from.language_code.as_deref());
    let user = q.from.id.0;
    let chat = q.regular_message().map(|m| (m.chat.id, m.id));
    let mut audit = AuditEntry {
        user_id: user as i64,
        chat_id: chat.map_or(0, |(c, _)| c.0),
        command: "broadcast".into(),
        args: q.data.clone().unwrap_or_default(),
        outcome: String::new(),
    };
    if !ctx.admins.contains(&user) {
        audit.outcome = "refused: not an admin".into();
        record_audit(&ctx, &audit).await;
        return pop_up(&bot, &q, &wording::not_an_admin(language)).await;
    }
    let text = match button_outcome(&ctx, press, user).await {
        Ok((text, outcome)) => {
            audit.outcome = outcome;
            if let Some((chat, message)) = chat {
                tg_broadcast::remove_buttons(&bot, chat, message).await;
            }
            text
        }
        Err(e) => {
            tracing::error!(error = %e, "broadcast button");
            audit.outcome = format!("failed: {e}");
            record_audit(&ctx, &audit).await;
            return pop_up(&bot, &q, &wording::apology(language)).await;
        }
    };
    record_audit(&ctx, &audit).await;
    pop_up(&bot, &q, &text).await?;
    if let Some((chat, message)) = chat {
        let reply = Reply::notice(&text);
        let _ = send_all(&bot, &ctx, chat, Some::<MessageId>(message), &reply).await;
    }
    Ok(())
}

async fn button_outcome(
    ctx: &Context,
    press: ButtonPress,
    user: u64,
) -> Result<(String, String), crate::state::broadcasts::BroadcastStoreError> {
    let store = &ctx.broadcasts.store;
    let language = ctx.broadcasts.settings.language;
    Ok(match press {
        ButtonPress::Confirm(id) => {
            let year = store.job(id).await?.year;
            match store.confirm_job(id, Some(user as i64)).await? {
                Confirmation::Confirmed { recipients } => {
                    ctx.broadcasts.wake.notify_one();
                    (
                        replies::broadcast_confirmed(year, recipients, language),
                        format!("ok: job {id} confirmed, {recipients} recipients"),
                    )
                }
                Confirmation::NotWaiting(status) => (
                    replies::broadcast_not_waiting(status, language),
                    format!("refused: job {id} is {}", status.as_str()),
                ),
            }
        }
        ButtonPress::Cancel(id) => {
            let year = store.job(id).await?.year;
            match store.cancel_job(id, Some(user as i64)).await? {
                Cancellation::Cancelled => (
                    replies::broadcast_cancelled(year, language),
                    format!("ok: job {id} cancelled"),
                ),
                Cancellation::AlreadyOver(status) => (
                    replies::broadcast_not_waiting(status, language),
                    format!("refused: job {id} is {}", status.as_str()),
                ),
            }
        }
    })
}
