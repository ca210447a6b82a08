//! `loadforge._core`: the thin PyO3 layer over `loadforge-core`.

mod engine;
mod errors;
mod gil;
mod histogram;

use pyo3::prelude::*;

#[pymodule]
mod _core {
    #[pymodule_export]
    use crate::engine::PyEngine;
    #[pymodule_export]
    use crate::errors::{EngineError, LoadforgeError, PlanError};
    #[pymodule_export]
    use crate::histogram::PyHistogram;
}
