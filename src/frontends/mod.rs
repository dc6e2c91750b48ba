//! The frontends: the command line, the Telegram bot, broadcast delivery,
//! charts, the layered configuration, and following other replicas' reloads.

pub mod broadcast;
pub mod chart;
pub mod cli;
pub mod config;
pub mod follow;
pub mod telegram;
