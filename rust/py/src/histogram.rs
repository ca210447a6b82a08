//! `loadforge._core.Histogram`: the engine's HDR histogram, for exact merges in Python.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::CoreError;

/// An HDR latency histogram in microseconds (bounds 1 µs .. 1 h, 3 significant digits).
///
/// >>> h = Histogram(); h.record(1500); Histogram.decode(h.encode()).count
/// 1
#[pyclass(module = "loadforge._core", name = "Histogram")]
#[derive(Clone, Default)]
pub struct PyHistogram {
    pub inner: loadforge_core::Histogram,
}

#[pymethods]
impl PyHistogram {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Decodes HdrHistogram V2 bytes.
    #[staticmethod]
    fn decode(data: &[u8]) -> Result<Self, CoreError> {
        Ok(Self {
            inner: loadforge_core::Histogram::decode(data)?,
        })
    }

    /// HdrHistogram V2 bytes (uncompressed).
    fn encode<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.encode())
    }

    /// Adds every value of `other` (exact merge).
    fn add(&mut self, other: PyRef<'_, PyHistogram>) -> Result<(), CoreError> {
        Ok(self.inner.add(&other.inner)?)
    }

    /// Records `count` occurrences of `value_us`.
    #[pyo3(signature = (value_us, count = 1))]
    fn record(&mut self, value_us: u64, count: u64) {
        self.inner.record_n(value_us, count);
    }

    /// The value at `percentile` (0..100).
    fn value_at_percentile(&self, percentile: f64) -> u64 {
        self.inner.value_at_percentile(percentile)
    }

    /// Empties the histogram.
    fn reset(&mut self) {
        self.inner.reset();
    }

    #[getter]
    fn count(&self) -> u64 {
        self.inner.count()
    }

    #[getter]
    fn min(&self) -> u64 {
        self.inner.min()
    }

    #[getter]
    fn max(&self) -> u64 {
        self.inner.max()
    }

    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean()
    }

    #[getter]
    fn stdev(&self) -> f64 {
        self.inner.stdev()
    }

    fn __len__(&self) -> usize {
        self.inner.count() as usize
    }

    fn __repr__(&self) -> String {
        format!(
            "Histogram(count={}, min={}, max={}, mean={:.1})",
            self.inner.count(),
            self.inner.min(),
            self.inner.max(),
            self.inner.mean()
        )
    }
}
