//! webhook: "let Telegram (or a load balancer) post the updates to us".
//! Webhook mode for several replicas: binds the listen address, serves
//! teloxide's webhook route (the path of `webhook_url`, the secret token
//! checked against `X-Telegram-Bot-Api-Secret-Token`) with axum, plus
//! `GET /healthz` for the load balancer, and calls setWebhook at start
//! unless `set_webhook = false`.
//!
//! Invariant: a replica never calls deleteWebhook, not even when it stops:
//! the other replicas behind the same URL keep receiving updates. The
//! secret is the configured one or none, never a random one per replica
//! (the last replica's setWebhook would lock the others out).

use super::StartError;
use crate::frontends::config::Settings;
use axum::routing::get;
use std::convert::Infallible;
use teloxide::prelude::*;
use teloxide::update_listeners::{webhooks, UpdateListener};

/// Binds the listener, registers the webhook and serves until the
/// dispatcher stops the returned listener.
pub async fn listener(
    bot: &Bot,
    settings: &Settings,
    url: &url::Url,
) -> Result<impl UpdateListener<Err = Infallible>, StartError> {
    let tcp = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| StartError::Listen {
            address: settings.listen,
            source,
        })?;
    if settings.set_webhook {
        let mut request = bot.set_webhook(url.clone());
        request.secret_token = settings
            .webhook_secret
            .as_ref()
            .map(|s| s.expose().to_string());
        request.await.map_err(StartError::SetWebhook)?;
    }
    let mut options = webhooks::Options::new(settings.listen, url.clone());
    options.secret_token = settings
        .webhook_secret
        .as_ref()
        .map(|s| s.expose().to_string());
    let (listener, stopped, router) = webhooks::axum_no_setup(options);
    let app = router.route("/healthz", get(|| async { "ok" }));
    tokio::spawn(async move {
        if let Err(e) = axum::serve(tcp, app).with_graceful_shutdown(stopped).await {
            tracing::error!(error = %e, "the webhook listener failed");
        }
    });
    Ok(listener)
}
