//! customs-ip-bot: exact, cited answers about China's customs protection of
//! intellectual property. See ARCHITECTURE.md for the code map.
//!
//! One folder per layer, each depending only on the ones before it:
//! `domain` (the pure core), `state` (the shared SQL state), `knowledge`
//! (the knowledge build and its storage), `frontends` (the command line,
//! Telegram, broadcasts, charts).

pub mod domain;
pub mod frontends;
pub mod knowledge;
pub mod state;
