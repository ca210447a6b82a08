//! loadforge-core: the load-generation engine behind `loadforge._core`.
//!
//! The engine takes an [`proto::EnginePlan`], runs its users on thread-per-core tokio
//! runtimes, records every request into per-thread HDR histograms and hands out
//! [`proto::Snapshot`]s per interval. Pure Rust: the PyO3 binding lives in `rust/py`.

pub mod error;
pub mod histogram;
pub mod proto;

pub use error::{Error, Result};
pub use histogram::Histogram;
