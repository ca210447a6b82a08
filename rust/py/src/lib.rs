//! `loadforge._core`: the thin PyO3 layer over `loadforge-core`.

mod engine;
mod errors;
mod gil;
mod histogram;

use pyo3::prelude::*;

/// The engine allocates per request (task, events, bodies) on threads that hand memory to
/// each other; mimalloc's thread-local free lists do that for a fraction of glibc
/// malloc's cost. Only Rust's allocations use it; Python keeps its own allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[pymodule]
mod _core {
    #[pymodule_export]
    use crate::engine::PyEngine;
    #[pymodule_export]
    use crate::errors::{EngineError, LoadforgeError, PlanError};
    #[pymodule_export]
    use crate::histogram::PyHistogram;
}
