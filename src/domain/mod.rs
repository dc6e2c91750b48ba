//! The pure core: functions of their inputs, with no files, network, clock
//! or environment. Nothing here imports a module outside `domain`.

pub mod answer;
pub mod broadcast;
pub mod corpus;
pub mod extract;
pub mod follow_up;
pub mod ingest;
pub mod model;
pub mod normalize;
pub mod numbers;
pub mod replies;
pub mod small_talk;
pub mod span;
pub mod understand;
pub mod vocabulary;
