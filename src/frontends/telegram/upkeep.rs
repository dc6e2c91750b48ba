//! upkeep: "an admin keeps the knowledge current from Telegram". A
//! document sent in a private chat is downloaded (refused before download
//! when over the size limit), read as the knowledge folder reads files, and
//! previewed: title, publisher, date, language, its rows (headline rows
//! first), the conflicts it adds and the gating answers it changes, with
//! 加入 / Add and 取消 / Cancel. `/documents` lists the documents;
//! `/remove NAME` previews a removal with a confirm button. A press saves
//! (or takes out) the file and reloads as /reload does; a reload that is
//! refused undoes the change in the folder. Every step is audited.
//!
//! Invariant: admins only; nothing enters or leaves the knowledge folder
//! before the admin presses the button, and only through
//! `knowledge::upload`; the pending document waits in the shared database,
//! so the press may reach any replica.

use super::answers::Reply;
use super::callback::{self, DocumentAction, Press};
use super::handlers::{record_audit, run_reload, send_all, Context, HandlerError};
use super::wording::{self, PreviewText};
use crate::domain::model::{Fact, Language};
use crate::domain::replies;
use crate::domain::vocabulary::Vocabulary;
use crate::knowledge::upload::{self, Preview, UploadError};
use crate::state::audit::AuditEntry;
use crate::state::pending::PendingAction;
use futures_util::StreamExt;
use std::sync::Arc;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Rows shown in a preview; the rest are counted.
const PREVIEW_ROWS: usize = 12;

fn audit_of(user: u64, chat: ChatId, command: &str, args: &str) -> AuditEntry {
    AuditEntry {
        user_id: user as i64,
        chat_id: chat.0,
        command: command.into(),
        args: args.into(),
        outcome: String::new(),
    }
}

/// A document message in a private chat: refused for a non-admin or when
/// too large (before download); otherwise downloaded, read and previewed.
pub async fn document_sent(
    bot: &Bot,
    msg: &Message,
    ctx: &Arc<Context>,
    language: Language,
) -> anyhow::Result<Reply> {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    let Some(document) = msg.document() else {
        return Ok(Reply::notice(&wording::what_i_read(language)));
    };
    let sent = document
        .file_name
        .clone()
        .unwrap_or_else(|| "document".into());
    let mut audit = audit_of(user, msg.chat.id, "document", &sent);
    let (text, outcome, buttons) = if !ctx.admins.contains(&user) {
        let text = wording::document_not_admin(language);
        (text, "refused: not an admin".to_string(), None)
    } else {
        match download(bot, &document.file, ctx.max_document_bytes).await? {
            Err(size) => (
                wording::document_too_large(language, &sent, size, ctx.max_document_bytes),
                format!("refused: {size} bytes, over the limit"),
                None,
            ),
            Ok(bytes) => preview_sent(ctx, msg.chat.id, user, &sent, bytes, language).await?,
        }
    };
    audit.outcome = outcome;
    record_audit(ctx, &audit).await;
    Ok(Reply::notice(&text).with_buttons(buttons))
}

/// The file's bytes, or its size when it is over `limit` (checked on the
/// message, on getFile and while downloading).
async fn download(
    bot: &Bot,
    meta: &teloxide::types::FileMeta,
    limit: u64,
) -> anyhow::Result<Result<Vec<u8>, u64>> {
    if u64::from(meta.size) > limit {
        return Ok(Err(u64::from(meta.size)));
    }
    let file = bot.get_file(meta.id.clone()).await?;
    if u64::from(file.meta.size) > limit {
        return Ok(Err(u64::from(file.meta.size)));
    }
    let mut bytes = Vec::new();
    let mut stream = bot.download_file_stream(&file.path);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Ok(Err((bytes.len() + chunk.len()) as u64));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Ok(bytes))
}

type Outcome = (String, String, Option<InlineKeyboardMarkup>);

async fn preview_sent(
    ctx: &Arc<Context>,
    chat: ChatId,
    user: u64,
    sent: &str,
    bytes: Vec<u8>,
    language: Language,
) -> anyhow::Result<Outcome> {
    let snapshot = ctx.engine.snapshot();
    let dir = ctx.engine.settings().knowledge_dir.clone();
    let name = sent.to_string();
    // The bytes go to the blocking task and come back for the pending row
    // (a document may be tens of MB: no copy).
    let (preview, bytes, snapshot) = tokio::task::spawn_blocking(move || {
        let preview = upload::preview_addition(&snapshot, &dir, &name, &bytes);
        (preview, bytes, snapshot)
    })
    .await?;
    let preview = match preview {
        Ok(p) => p,
        Err(UploadError::Unreadable { reason, .. }) => {
            let text = wording::document_unreadable(language, &reason);
            return Ok((text, format!("refused: {reason}"), None));
        }
        Err(e) => return Err(e.into()),
    };
    let regresses = !preview.gate.regressions.is_empty();
    let id = ctx
        .store
        .put_pending(
            user as i64,
            chat.0,
            PendingAction::Add,
            &preview.file,
            &bytes,
        )
        .await?;
    let vocabulary = &snapshot.vocabulary;
    let text = wording::document_preview(
        language,
        sent,
        &preview_text(vocabulary, &preview, language),
    );
    let outcome = format!(
        "ok: previewed as {} ({} facts, {} conflicts, {} regressions, {} new answers)",
        preview.file,
        preview.facts.len(),
        preview.conflicts.len(),
        preview.gate.regressions.len(),
        preview.gate.new_answers.len()
    );
    let buttons = preview_buttons(language, id, false, regresses);
    Ok((text, outcome, Some(buttons)))
}

/// A preview worded for the admin.
fn preview_text(vocabulary: &Vocabulary, p: &Preview, language: Language) -> PreviewText {
    let line = |f: &Fact| {
        let mut line = replies::fact_line(vocabulary, f, language);
        if let Some(q) = &f.qualifier {
            line.push_str(&format!(" [{q}]"));
        }
        if f.is_preliminary() {
            line.push_str(if language == Language::English {
                " (preliminary)"
            } else {
                "（初步统计）"
            });
        }
        line
    };
    PreviewText {
        file: p.file.clone(),
        meta: p.meta.clone(),
        facts: p.facts.iter().take(PREVIEW_ROWS).map(line).collect(),
        facts_total: p.facts.len(),
        headline: p.headline,
        conflicts: p
            .conflicts
            .iter()
            .map(|rows| rows.iter().map(line).collect::<Vec<_>>().join(" ≠ "))
            .collect(),
        gate: p.gate.clone(),
        notes: p.notes.clone(),
    }
}

fn preview_buttons(
    language: Language,
    id: i64,
    removal: bool,
    regresses: bool,
) -> InlineKeyboardMarkup {
    let (go, cancel) = wording::document_buttons(language, removal, regresses);
    let action = if removal {
        DocumentAction::Remove(regresses)
    } else {
        DocumentAction::Add(regresses)
    };
    let button = |text: String, action| {
        InlineKeyboardButton::callback(
            text,
            callback::encode(&Press::Document(language, id, action)),
        )
    };
    InlineKeyboardMarkup::new(vec![vec![
        button(go, action),
        button(cancel, DocumentAction::Cancel),
    ]])
}

/// /documents: each document with its date and how many rows it gives.
pub async fn documents_command(msg: &Message, ctx: &Arc<Context>, language: Language) -> Reply {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    let mut audit = audit_of(user, msg.chat.id, "documents", "");
    let text = if !ctx.admins.contains(&user) {
        audit.outcome = "refused: not an admin".into();
        wording::not_an_admin(language)
    } else {
        let snapshot = ctx.engine.snapshot();
        let mut counts = vec![0usize; snapshot.documents.len()];
        for f in snapshot.facts.iter() {
            if let Some(n) = counts.get_mut(f.doc) {
                *n += 1;
            }
        }
        let rows: Vec<(String, String, Option<String>, usize)> = snapshot
            .documents
            .iter()
            .zip(counts)
            .map(|(d, n)| {
                (
                    d.file.clone(),
                    d.meta.title.clone(),
                    d.meta.published.clone(),
                    n,
                )
            })
            .collect();
        audit.outcome = format!("ok: {} documents", rows.len());
        wording::documents_list(language, &rows)
    };
    record_audit(ctx, &audit).await;
    Reply::notice(&text)
}

/// /remove NAME: the removal previewed, with a confirm button.
pub async fn remove_command(
    msg: &Message,
    arg: &str,
    ctx: &Arc<Context>,
    language: Language,
) -> anyhow::Result<Reply> {
    let user = msg.from.as_ref().map_or(0, |u| u.id.0);
    let name = arg.trim().to_string();
    let mut audit = audit_of(user, msg.chat.id, "remove", &name);
    let (text, buttons) = if !ctx.admins.contains(&user) {
        audit.outcome = "refused: not an admin".into();
        (wording::not_an_admin(language), None)
    } else if name.is_empty() {
        audit.outcome = "refused: no name".into();
        (wording::remove_usage(language), None)
    } else {
        let snapshot = ctx.engine.snapshot();
        let current = Arc::clone(&snapshot);
        let dir = ctx.engine.settings().knowledge_dir.clone();
        let file = name.clone();
        let preview =
            tokio::task::spawn_blocking(move || upload::preview_removal(&current, &dir, &file))
                .await?;
        match preview {
            Err(UploadError::NoSuchDocument { .. }) => {
                audit.outcome = "refused: no such document".into();
                (wording::no_such_document(language, &name), None)
            }
            Err(e) => return Err(e.into()),
            Ok(p) => {
                let id = ctx
                    .store
                    .put_pending(
                        user as i64,
                        msg.chat.id.0,
                        PendingAction::Remove,
                        &p.file,
                        &[],
                    )
                    .await?;
                let regresses = !p.gate.regressions.is_empty();
                audit.outcome = format!(
                    "ok: previewed ({} facts, {} regressions)",
                    p.facts.len(),
                    p.gate.regressions.len()
                );
                let vocabulary = &snapshot.vocabulary;
                let text =
                    wording::removal_preview(language, &preview_text(vocabulary, &p, language));
                (text, Some(preview_buttons(language, id, true, regresses)))
            }
        }
    };
    record_audit(ctx, &audit).await;
    Ok(Reply::notice(&text).with_buttons(buttons))
}

/// A preview's button: admins only (one pop-up refuses anyone else); the
/// pending row is taken once (a second press is stale); Add and Remove
/// change the folder and reload, Cancel drops the row. The buttons go.
pub async fn document_button(
    bot: &Bot,
    q: &CallbackQuery,
    ctx: &Arc<Context>,
    language: Language,
    id: i64,
    action: DocumentAction,
) -> Result<(), HandlerError> {
    let user = q.from.id.0;
    let message = q.regular_message().map(|m| (m.chat.id, m.id));
    let chat = message.map_or(ChatId(0), |(c, _)| c);
    let mut audit = audit_of(
        user,
        chat,
        "document",
        q.data.as_deref().unwrap_or_default(),
    );
    if !ctx.admins.contains(&user) {
        audit.outcome = "refused: not an admin".into();
        record_audit(ctx, &audit).await;
        return pop_up(bot, q, &wording::not_an_admin(language)).await;
    }
    let pending = match ctx.store.take_pending(id, user as i64).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "reading a pending document");
            return pop_up(bot, q, &wording::apology(language)).await;
        }
    };
    let matches = |p: &crate::state::pending::Pending| match action {
        DocumentAction::Add(_) => p.action == PendingAction::Add,
        DocumentAction::Remove(_) => p.action == PendingAction::Remove,
        DocumentAction::Cancel => true,
    };
    let Some(pending) = pending.filter(matches) else {
        audit.outcome = "refused: stale".into();
        record_audit(ctx, &audit).await;
        return pop_up(bot, q, &wording::document_stale(language)).await;
    };
    if let Some((chat, message)) = message {
        super::broadcast::remove_buttons(bot, chat, message).await;
    }
    audit.args = format!("{} {}", audit.args, pending.file);
    let (text, outcome) = act(ctx, &pending, action, user, language).await;
    audit.outcome = outcome;
    record_audit(ctx, &audit).await;
    pop_up(bot, q, "").await?;
    let reply = Reply::notice(&text);
    let _ = send_all(bot, ctx, chat, message.map(|(_, m)| m), &reply).await;
    Ok(())
}

/// Runs a pressed Add, Remove or Cancel: (the reply, the audit outcome).
async fn act(
    ctx: &Arc<Context>,
    pending: &crate::state::pending::Pending,
    action: DocumentAction,
    user: u64,
    language: Language,
) -> (String, String) {
    let dir = ctx.engine.settings().knowledge_dir.clone();
    let (force, removal) = match action {
        DocumentAction::Cancel => {
            return (
                wording::document_cancelled(language),
                "ok: cancelled".into(),
            );
        }
        DocumentAction::Add(force) => (force, false),
        DocumentAction::Remove(force) => (force, true),
    };
    // The change in the folder, and how to undo it.
    let changed = if removal {
        upload::take_out(&dir, &pending.file).map(|moved| (pending.file.clone(), Some(moved)))
    } else {
        upload::save(&dir, &pending.file, &pending.bytes).map(|name| (name, None))
    };
    let (file, moved) = match changed {
        Ok(c) => c,
        Err(e) => {
            return (
                wording::document_failed(language, &e.to_string()),
                format!("failed: {e}"),
            )
        }
    };
    let source = match (removal, force) {
        (false, false) => "document add",
        (false, true) => "document add anyway",
        (true, false) => "document remove",
        (true, true) => "document remove anyway",
    };
    let result = run_reload(ctx, force, user as i64, source).await;
    let outcome = super::handlers::reload_outcome(&result);
    match (result, removal) {
        (Ok(report), false) => (
            wording::document_added(language, &file, &report),
            format!("{outcome} (added {file})"),
        ),
        (Ok(report), true) => (
            wording::document_removed(language, &file, &report),
            format!("{outcome} (removed {file})"),
        ),
        (Err(e), _) => {
            let undone = match &moved {
                Some(from) => upload::put_back(&dir, &file, from),
                None => upload::discard(&dir, &file),
            };
            if let Err(u) = undone {
                tracing::error!(error = %u, "undoing a refused document change");
            }
            (
                wording::document_change_undone(language, removal, &e),
                format!("{outcome}; undone"),
            )
        }
    }
}

async fn pop_up(bot: &Bot, q: &CallbackQuery, text: &str) -> Result<(), HandlerError> {
    let mut answer = bot.answer_callback_query(q.id.clone());
    if !text.is_empty() {
        answer = answer.text(text);
    }
    if let Err(e) = answer.await {
        tracing::warn!(error = %e, "answerCallbackQuery failed");
    }
    Ok(())
}
