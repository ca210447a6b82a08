//! The one place that releases the GIL around blocking engine work.

use pyo3::marker::Ungil;
use pyo3::prelude::*;

/// Runs `work` with the GIL released, so Python threads (and the worker's event loop)
/// keep running while Rust blocks.
pub fn without_gil<T, F>(py: Python<'_>, work: F) -> T
where
    F: Ungil + FnOnce() -> T,
    T: Ungil,
{
    py.detach(work)
}
