//! inline: "`@bot 2024年扣留多少批` was typed in some chat, offer the
//! answer". One article result: its title the answer's first line (the
//! figure), its description the source, its message the answer with its
//! evidence and source, so that a user can share a figure in their own
//! chats; Telegram caches the results briefly. A button above the results
//! opens the bot on the same question (a deep link, `/start ask_…`).
//!
//! Invariant: no follow-ups and no state: an inline query stands alone.

use super::format::visible_len;
use super::handlers::{deep_link_payload, language_of, question_reply, Context, HandlerError};
use super::wording;
use crate::domain::replies::is_source_line;
use std::sync::Arc;
use teloxide::prelude::*;
use teloxide::types::{
    InlineQuery, InlineQueryResult, InlineQueryResultArticle, InlineQueryResultsButton,
    InlineQueryResultsButtonKind, InputMessageContent, InputMessageContentText, ParseMode,
};

/// How long Telegram may serve the same results again, in seconds.
pub const INLINE_CACHE_SECONDS: u32 = 60;

/// Telegram's limits on a result's title and description, in characters.
const TITLE_CHARS: usize = 120;
const DESCRIPTION_CHARS: usize = 200;

pub async fn handle_inline(
    bot: Bot,
    q: InlineQuery,
    ctx: Arc<Context>,
) -> Result<(), HandlerError> {
    let question = q.query.trim().to_string();
    let language = language_of(&question, q.from.language_code.as_deref());
    let mut results = Vec::new();
    if !question.is_empty() {
        match question_reply(&ctx, &question, None).await {
            Ok(reply) => {
                let answer = reply.answer.as_ref();
                let text = answer.map_or_else(|| reply.messages.join("\n"), |a| a.answer.clone());
                if let Some(html) = reply.messages.first().filter(|h| visible_len(h) < 4096) {
                    results.push(article(&question, &text, html));
                }
            }
            Err(e) => tracing::error!(error = %format!("{e:#}"), "inline query"),
        }
    }
    let mut request = bot
        .answer_inline_query(
            q.id.clone(),
            results.into_iter().map(InlineQueryResult::Article),
        )
        .cache_time(INLINE_CACHE_SECONDS)
        .is_personal(false);
    let start = deep_link_payload(&question).filter(|_| !question.is_empty());
    request = request.button(InlineQueryResultsButton {
        text: if start.is_some() {
            wording::open_in_bot(language)
        } else {
            wording::inline_hint(language)
        },
        kind: InlineQueryResultsButtonKind::StartParameter(
            start.unwrap_or_else(|| "help".to_string()),
        ),
    });
    if let Err(e) = request.await {
        tracing::warn!(error = %e, "answerInlineQuery failed");
    }
    Ok(())
}

/// The result for one answer: title the first line, description the
/// source line, message the answer's first message.
fn article(question: &str, text: &str, html: &str) -> InlineQueryResultArticle {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let title: String = lines
        .next()
        .unwrap_or(question)
        .chars()
        .take(TITLE_CHARS)
        .collect();
    let description: String = text
        .lines()
        .find(|l| is_source_line(l))
        .unwrap_or("")
        .chars()
        .take(DESCRIPTION_CHARS)
        .collect();
    let content = InputMessageContentText::new(html)
        .parse_mode(ParseMode::Html)
        .link_preview_options(super::send::no_preview());
    let id = result_id(question);
    let mut result = InlineQueryResultArticle::new(id, title, InputMessageContent::Text(content));
    if !description.is_empty() {
        result = result.description(description);
    }
    result
}

/// A stable id of at most 64 bytes for the question's result.
fn result_id(question: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(question.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}
