//! send: "deliver this message, whatever the network does". Network
//! errors, I/O errors, unreadable responses and Telegram 5xx are retried
//! with exponential backoff; a 429 waits the `retry_after` Telegram asks
//! for; a group that became a supergroup is written to at its new id; a
//! reply whose message was deleted is sent without the reply.
//!
//! Invariant: every Bot API call that sends a reply goes through here.

use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::{LinkPreviewOptions, MessageId, ParseMode, ReplyParameters};

/// Sources are linked; their pages are not previewed under every answer.
const NO_LINK_PREVIEW: LinkPreviewOptions = LinkPreviewOptions {
    is_disabled: true,
    url: None,
    prefer_small_media: false,
    prefer_large_media: false,
    show_above_text: false,
};
use teloxide::{ApiError, RequestError};

/// How hard to try.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts through network errors and 5xx (429 waits are extra, up to
    /// the same number).
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `n + 1` after `n` failures (n ≥ 1).
    pub fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// What a failed attempt calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Wait this long (Telegram's retry_after), then send again.
    After(Duration),
    /// A transient fault: back off, then send again.
    Backoff,
    /// Send again to the chat's new id.
    Migrated(ChatId),
    /// Send again without replying to a message.
    WithoutReply,
    /// Give up.
    No,
}

/// Classifies a failed request.
pub fn classify(error: &RequestError) -> Retry {
    match error {
        RequestError::RetryAfter(s) => Retry::After(s.duration()),
        RequestError::MigrateToChatId(id) => Retry::Migrated(*id),
        RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
            Retry::Backoff
        }
        RequestError::Api(ApiError::MessageToReplyNotFound) => Retry::WithoutReply,
        RequestError::Api(ApiError::Unknown(description)) if is_server_error(description) => {
            Retry::Backoff
        }
        RequestError::Api(_) => Retry::No,
    }
}

/// Descriptions Telegram gives with its 5xx responses.
fn is_server_error(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    [
        "internal server error",
        "bad gateway",
        "service unavailable",
        "gateway timeout",
        "restart",
    ]
    .iter()
    .any(|p| d.contains(p))
}

/// Sends one HTML message, retrying as the module says.
pub async fn send_html(
    bot: &Bot,
    chat: ChatId,
    html: &str,
    reply_to: Option<MessageId>,
    policy: &RetryPolicy,
) -> Result<Message, RequestError> {
    let mut chat = chat;
    let mut reply_to = reply_to;
    let mut failures = 0u32;
    let mut waits = 0u32;
    loop {
        let mut request = bot
            .send_message(chat, html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(NO_LINK_PREVIEW);
        if let Some(id) = reply_to {
            request =
                request.reply_parameters(ReplyParameters::new(id).allow_sending_without_reply());
        }
        let error = match request.await {
            Ok(message) => return Ok(message),
            Err(e) => e,
        };
        match classify(&error) {
            Retry::After(wait) if waits < policy.attempts.max(1) => {
                waits += 1;
                tracing::warn!(?wait, "Telegram asked to wait (429)");
                tokio::time::sleep(wait).await;
            }
            Retry::Backoff if failures + 1 < policy.attempts.max(1) => {
                failures += 1;
                let wait = policy.backoff(failures);
                tracing::warn!(error = %error, ?wait, "sending failed, retrying");
                tokio::time::sleep(wait).await;
            }
            Retry::Migrated(new_chat) if new_chat != chat => chat = new_chat,
            Retry::WithoutReply if reply_to.is_some() => reply_to = None,
            _ => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max: Duration::from_millis(500),
        };
        let waits: Vec<u128> = (1..=5).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 400, 500, 500]);
    }

    #[test]
    fn server_errors_are_retried_user_errors_are_not() {
        let unknown = |d: &str| RequestError::Api(ApiError::Unknown(d.to_string()));
        assert_eq!(classify(&unknown("Bad Gateway")), Retry::Backoff);
        assert_eq!(classify(&unknown("Internal Server Error")), Retry::Backoff);
        assert_eq!(
            classify(&RequestError::Api(ApiError::BotBlocked)),
            Retry::No
        );
        assert_eq!(
            classify(&RequestError::RetryAfter(
                teloxide::types::Seconds::from_seconds(3)
            )),
            Retry::After(Duration::from_secs(3))
        );
    }
}
