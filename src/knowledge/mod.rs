//! The knowledge build and its storage: reading the knowledge folder,
//! building a snapshot (facts, passages, the search index), keeping it in
//! the data folder, and swapping it on reload when it does not regress.

pub mod build;
pub mod engine;
pub mod facts_file;
pub mod files;
pub mod formats;
pub mod gating;
pub mod generations;
pub mod index;
pub mod persist;
pub mod snapshot;
pub mod upload;
