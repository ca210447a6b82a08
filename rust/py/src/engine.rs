//! `loadforge._core.Engine`: runs an `EnginePlan`, hands out `Snapshot` bytes, and serves
//! the Python task runtime (events, submit, record).

use std::time::Duration;

use prost::Message;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use loadforge_core::{Event, StreamSubmission, Submission};

use crate::errors::CoreError;
use crate::gil::without_gil;

/// Runs one `EnginePlan` (plan.proto, serialized) on Rust runtime threads.
///
/// >>> engine = Engine(plan.SerializeToString()); engine.start()
/// >>> snap = Snapshot.FromString(engine.snapshot())
#[pyclass(module = "loadforge._core", name = "Engine")]
pub struct PyEngine {
    inner: loadforge_core::Engine,
}

/// One `submit_batch` item: token, method, url, headers, body, name, protocol,
/// timeout_s, intended_start_delay_us, flags (`SUBMIT_DEFER_REDIRECTS`).
type BatchItem = (
    u64,
    String,
    String,
    Vec<(String, String)>,
    Vec<u8>,
    String,
    i32,
    f64,
    u64,
    u32,
);

/// `submit_batch` flag: a redirect answer is not recorded (the caller follows it and
/// records the chain itself).
pub const SUBMIT_DEFER_REDIRECTS: u32 = 1;

fn seconds(s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s.max(0.0))
        .map_err(|_| pyo3::exceptions::PyValueError::new_err(format!("invalid seconds: {s}")))
}

#[pymethods]
impl PyEngine {
    #[new]
    fn new(py: Python<'_>, plan: &[u8]) -> Result<Self, CoreError> {
        let plan = plan.to_vec();
        let inner = without_gil(py, move || loadforge_core::Engine::new(&plan))?;
        Ok(Self { inner })
    }

    /// Starts the runtimes; returns at once.
    fn start(&self, py: Python<'_>) -> Result<(), CoreError> {
        Ok(without_gil(py, || self.inner.start())?)
    }

    /// Changes target users (closed model) or arrival rate (open model).
    #[pyo3(signature = (users = None, rate = None))]
    fn scale(&self, users: Option<u32>, rate: Option<f64>) -> Result<(), CoreError> {
        Ok(self.inner.scale(users, rate)?)
    }

    /// Snapshot (snapshot.proto) bytes for the interval since the previous call.
    fn snapshot<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let bytes = without_gil(py, || self.inner.snapshot().encode_to_vec());
        PyBytes::new(py, &bytes)
    }

    /// Graceful stop; returns the final interval's Snapshot bytes.
    #[pyo3(signature = (timeout_s = 5.0))]
    fn stop<'py>(&self, py: Python<'py>, timeout_s: f64) -> PyResult<Bound<'py, PyBytes>> {
        let timeout = seconds(timeout_s)?;
        let bytes = without_gil(py, || self.inner.stop(timeout).encode_to_vec());
        Ok(PyBytes::new(py, &bytes))
    }

    /// True once the engine finished (run time / iterations reached, or stopped).
    fn wait(&self, py: Python<'_>, timeout_s: f64) -> PyResult<bool> {
        let timeout = seconds(timeout_s)?;
        Ok(without_gil(py, || self.inner.wait(timeout)))
    }

    #[getter]
    fn running(&self) -> bool {
        self.inner.running()
    }

    #[getter]
    fn users(&self) -> u32 {
        self.inner.users()
    }

    /// An fd that is readable while events wait (register it with the event loop).
    fn event_fd(&self) -> i32 {
        self.inner.event_fd()
    }

    /// Drains waiting events as tuples (see docs/architecture.md).
    fn take_events<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let events = self.inner.take_events();
        let list = PyList::empty(py);
        for event in events {
            let tuple: Bound<'py, PyTuple> = match event {
                Event::Completed {
                    token,
                    status,
                    headers,
                    body,
                    elapsed_us,
                    error_kind,
                    error_message,
                } => (
                    0u8,
                    token,
                    status,
                    PyBytes::new(py, &headers),
                    PyBytes::new(py, &body),
                    elapsed_us,
                    error_kind,
                    error_message,
                )
                    .into_pyobject(py)?,
                Event::Messages { token, messages } => {
                    let list = PyList::empty(py);
                    for m in &messages {
                        list.append(PyBytes::new(py, m))?;
                    }
                    (4u8, token, list).into_pyobject(py)?
                }
                Event::StreamEnded {
                    token,
                    status,
                    headers,
                    elapsed_us,
                    first_message_us,
                    messages,
                    error_kind,
                    error_message,
                } => (
                    5u8,
                    token,
                    status,
                    headers,
                    elapsed_us,
                    first_message_us,
                    messages,
                    error_kind,
                    error_message,
                )
                    .into_pyobject(py)?,
                Event::StartUser {
                    user_id,
                    class_index,
                } => (1u8, user_id, class_index).into_pyobject(py)?,
                Event::StopUser { user_id } => (2u8, user_id).into_pyobject(py)?,
                Event::Iteration {
                    iteration_id,
                    class_index,
                    start_delay_us,
                } => (3u8, iteration_id, class_index, start_delay_us).into_pyobject(py)?,
            };
            list.append(tuple)?;
        }
        Ok(list)
    }

    /// Runs a request for a Python task; completion arrives as a `(0, token, ...)` event.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (token, method, url, headers, body, name, *, protocol = 0, record = true,
                        defer_redirects = false, timeout_s = 0.0, intended_start_delay_us = 0))]
    fn submit(
        &self,
        token: u64,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        name: String,
        protocol: i32,
        record: bool,
        defer_redirects: bool,
        timeout_s: f64,
        intended_start_delay_us: u64,
    ) -> PyResult<()> {
        let timeout = (timeout_s > 0.0).then(|| seconds(timeout_s)).transpose()?;
        self.inner
            .submit(Submission {
                token,
                method,
                url,
                headers,
                body,
                name,
                protocol,
                record,
                defer_redirects,
                timeout,
                intended_start_delay: Duration::from_micros(intended_start_delay_us),
            })
            .map_err(|e| PyErr::from(CoreError(e)))
    }

    /// Runs many requests at once, each `(token, method, url, headers, body, name,
    /// protocol, timeout_s, intended_start_delay_us, flags)`, with one wake-up per runtime
    /// thread. Returns `(index, message)` for each that could not be compiled; the others
    /// complete as `(0, token, ...)` events.
    fn submit_batch(&self, items: Vec<BatchItem>) -> PyResult<Vec<(usize, String)>> {
        let mut subs = Vec::with_capacity(items.len());
        for (token, method, url, headers, body, name, protocol, timeout_s, delay_us, flags) in items
        {
            let timeout = (timeout_s > 0.0).then(|| seconds(timeout_s)).transpose()?;
            subs.push(Submission {
                token,
                method,
                url,
                headers,
                body,
                name,
                protocol,
                record: true,
                defer_redirects: flags & SUBMIT_DEFER_REDIRECTS != 0,
                timeout,
                intended_start_delay: Duration::from_micros(delay_us),
            });
        }
        let errors = self
            .inner
            .submit_batch(subs)
            .map_err(|e| PyErr::from(CoreError(e)))?;
        Ok(errors
            .into_iter()
            .map(|(i, e)| (i, e.to_string()))
            .collect())
    }

    /// Opens a streaming gRPC call for a Python task: `messages` are sent at once (`end`
    /// closes the sending side after them). Replies arrive as `(4, token, [bytes, ...])`
    /// events in batches, then one `(5, token, ...)` when the call ends.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (token, url, headers, name, messages, end, *, timeout_s = 0.0,
                        intended_start_delay_us = 0))]
    fn open_stream(
        &self,
        token: u64,
        url: String,
        headers: Vec<(String, String)>,
        name: String,
        messages: Vec<Vec<u8>>,
        end: bool,
        timeout_s: f64,
        intended_start_delay_us: u64,
    ) -> PyResult<()> {
        let timeout = (timeout_s > 0.0).then(|| seconds(timeout_s)).transpose()?;
        self.inner
            .open_stream(StreamSubmission {
                token,
                url,
                headers,
                name,
                messages,
                end,
                timeout,
                intended_start_delay: Duration::from_micros(intended_start_delay_us),
            })
            .map_err(|e| PyErr::from(CoreError(e)))
    }

    /// Sends messages on open call `token`; `end` closes its sending side. False when the
    /// call has already ended.
    #[pyo3(signature = (token, messages, end = false))]
    fn stream_send(&self, token: u64, messages: Vec<Vec<u8>>, end: bool) -> bool {
        self.inner.stream_send(token, messages, end)
    }

    /// Cancels open call `token` (recorded as `grpc_CANCELLED`); False when it has ended.
    fn stream_cancel(&self, token: u64) -> bool {
        self.inner.stream_cancel(token)
    }

    /// Records a result measured in Python (e.g. `catch_response`).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (method, name, elapsed_us, *, ok = true, status = 0, bytes_received = 0,
                        error_kind = "", error_message = ""))]
    fn record(
        &self,
        method: &str,
        name: &str,
        elapsed_us: u64,
        ok: bool,
        status: u16,
        bytes_received: u64,
        error_kind: &str,
        error_message: &str,
    ) {
        self.inner.record(
            method,
            name,
            elapsed_us,
            ok,
            status,
            bytes_received,
            error_kind,
            error_message,
        );
    }

    /// Claims one iteration for a closed-model Python user; False once the plan's
    /// iteration limit is used up.
    fn take_iteration(&self) -> bool {
        self.inner.take_iteration()
    }

    /// A Python user has stopped; `retired=True`: it stopped itself (`StopUser`) and the
    /// closed model does not replace it, as Locust does not.
    #[pyo3(signature = (user_id, retired = false))]
    fn user_finished(&self, user_id: u64, retired: bool) {
        self.inner.user_finished(user_id, retired);
    }

    /// An open-model Python iteration has finished.
    fn iteration_finished(&self, iteration_id: u64) {
        self.inner.iteration_finished(iteration_id);
    }

    fn __repr__(&self) -> String {
        format!(
            "Engine(running={}, users={})",
            self.inner.running(),
            self.inner.users()
        )
    }
}
