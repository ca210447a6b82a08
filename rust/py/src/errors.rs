//! The Python exception hierarchy and the mapping from engine errors onto it.

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::PyErr;

create_exception!(
    _core,
    LoadforgeError,
    PyException,
    "Base class of every loadforge engine error."
);
create_exception!(
    _core,
    PlanError,
    LoadforgeError,
    "The plan or a request template is invalid; the message names the request."
);
create_exception!(
    _core,
    EngineError,
    LoadforgeError,
    "The engine itself failed at run time."
);

/// Wrapper so `?` turns a core error into the matching Python exception.
pub struct CoreError(pub loadforge_core::Error);

impl From<loadforge_core::Error> for CoreError {
    fn from(e: loadforge_core::Error) -> Self {
        Self(e)
    }
}

impl From<CoreError> for PyErr {
    fn from(e: CoreError) -> Self {
        use loadforge_core::Error;
        match e.0 {
            Error::Plan(m) => PlanError::new_err(m),
            Error::Engine(m) => EngineError::new_err(m),
            Error::Histogram(m) => PyValueError::new_err(m),
        }
    }
}
