//! pending: "an admin sent a document (or asked to remove one) and has not
//! pressed its button yet: what was it?" Kept in the shared state database
//! (`0008_pending_documents.sql`) so that the press may reach any replica
//! behind the webhook. A row is taken (read and deleted at once) by the
//! press that acts on it, so a second press finds nothing.
//!
//! Invariant: stores and returns rows exactly; knows nothing of Telegram
//! or of the knowledge folder.

use crate::on_pool;
use crate::state::audit::{Store, StoreError};
use crate::state::db::Backend;
use sqlx::Row;

/// How long a pending row can still be acted on.
pub const PENDING_FOR_MS: i64 = 60 * 60 * 1000;

/// What a pending row is waiting to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingAction {
    /// Save the bytes as a new document.
    Add,
    /// Take the document `file` out.
    Remove,
}

impl PendingAction {
    fn as_str(self) -> &'static str {
        match self {
            PendingAction::Add => "add",
            PendingAction::Remove => "remove",
        }
    }

    fn parse(text: &str) -> Option<PendingAction> {
        match text {
            "add" => Some(PendingAction::Add),
            "remove" => Some(PendingAction::Remove),
            _ => None,
        }
    }
}

/// A document waiting for its Add or Remove button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub id: i64,
    pub user_id: i64,
    pub chat_id: i64,
    pub action: PendingAction,
    /// The name it is saved under (Add) or the document taken out (Remove).
    pub file: String,
    /// The file as sent (Add); empty for Remove.
    pub bytes: Vec<u8>,
}

impl Store {
    /// Keeps a pending document; returns its id. Rows past their time are
    /// deleted on the way.
    pub async fn put_pending(
        &self,
        user_id: i64,
        chat_id: i64,
        action: PendingAction,
        file: &str,
        bytes: &[u8],
    ) -> Result<i64, StoreError> {
        on_pool!(self.db(), pool => {
            let expire = format!(
                "DELETE FROM pending_documents WHERE at_ms < {} - {PENDING_FOR_MS}",
                pool.now_ms()
            );
            sqlx::query(&expire).execute(pool).await?;
            let sql = format!(
                "INSERT INTO pending_documents (at_ms, user_id, chat_id, action, file, bytes) \
                 VALUES ({}, $1, $2, $3, $4, $5) RETURNING id",
                pool.now_ms()
            );
            let row = sqlx::query(&sql)
                .bind(user_id)
                .bind(chat_id)
                .bind(action.as_str())
                .bind(file)
                .bind(bytes)
                .fetch_one(pool)
                .await?;
            Ok(row.try_get("id")?)
        })
    }

    /// Takes pending row `id` when `user_id` put it there and it is still
    /// in time: deleted and returned, so that it is acted on once.
    pub async fn take_pending(&self, id: i64, user_id: i64) -> Result<Option<Pending>, StoreError> {
        on_pool!(self.db(), pool => {
            let sql = format!(
                "DELETE FROM pending_documents WHERE id = $1 AND user_id = $2 \
                 AND at_ms >= {} - {PENDING_FOR_MS} \
                 RETURNING id, user_id, chat_id, action, file, bytes",
                pool.now_ms()
            );
            let Some(r) = sqlx::query(&sql)
                .bind(id)
                .bind(user_id)
                .fetch_optional(pool)
                .await?
            else {
                return Ok(None);
            };
            let action: String = r.try_get("action")?;
            let bytes: Option<Vec<u8>> = r.try_get("bytes")?;
            let Some(action) = PendingAction::parse(&action) else {
                return Ok(None);
            };
            Ok(Some(Pending {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                chat_id: r.try_get("chat_id")?,
                action,
                file: r.try_get("file")?,
                bytes: bytes.unwrap_or_default(),
            }))
        })
    }
}
