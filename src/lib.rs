//! customs-ip-bot: exact, cited answers about China's customs protection of
//! intellectual property. See ARCHITECTURE.md for the code map.

pub mod engine;
pub mod model;
pub mod selfcheck;
pub mod snapshot;
pub mod extract;
pub mod ingest;
pub mod normalize;
pub mod numbers;
pub mod vocabulary;
pub mod knowledge;
pub mod index;
pub mod understand;
pub mod replies;
pub mod answer;
pub mod persist;
pub mod cli;
