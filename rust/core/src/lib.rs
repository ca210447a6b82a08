//! loadforge-core: the load-generation engine behind `loadforge._core`.
//!
//! The engine takes an [`proto::EnginePlan`], runs its users on thread-per-core tokio
//! runtimes, records every request into per-thread HDR histograms and hands out
//! [`proto::Snapshot`]s per interval. Pure Rust: the PyO3 binding lives in `rust/py`.

pub mod check;
mod control;
pub mod engine;
pub mod error;
pub mod events;
mod exchange;
mod grpc_code;
pub mod histogram;
pub mod net;
mod open;
pub mod plan;
pub mod proto;
pub mod recorder;
pub mod session;
mod shared;
mod snapshot;
mod stages;
pub mod streams;
pub mod submit;
mod template_cache;
mod users;
pub mod wait;
mod worker;

pub use engine::Engine;
pub use error::{Error, Result};
pub use events::Event;
pub use histogram::Histogram;
pub use streams::StreamSubmission;
pub use submit::Submission;
