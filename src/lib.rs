//! customs-ip-bot: exact, cited answers about China's customs protection of
//! intellectual property. See ARCHITECTURE.md for the code map.

pub mod answer;
pub mod broadcast;
pub mod chart;
pub mod cli;
pub mod config;
pub mod db;
pub mod engine;
pub mod extract;
pub mod follow_up;
pub mod index;
pub mod ingest;
pub mod knowledge;
pub mod knowledge_sync;
pub mod model;
pub mod normalize;
pub mod numbers;
pub mod persist;
pub mod replies;
pub mod selfcheck;
pub mod small_talk;
pub mod snapshot;
pub mod store;
pub mod telegram;
pub mod understand;
pub mod vocabulary;
