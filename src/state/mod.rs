//! The shared state: the SQL database (SQLite or PostgreSQL) that replicas
//! share, the audit store and the broadcast store.

pub mod audit;
pub mod broadcasts;
pub mod db;
pub mod pending;
