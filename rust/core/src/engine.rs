//! The engine's public face: build from a plan, start, scale, snapshot, stop, and the
//! hooks the Python task runtime uses.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prost::Message;

use crate::error::{Error, Result};
use crate::events::{Event, EventQueue};
use crate::net::tls::TlsConfigs;
use crate::plan::{CompiledPlan, EndpointTable, Model, TargetTable};
use crate::proto;
use crate::recorder::{ErrorKind, Sample};
use crate::session::Net;
use crate::shared::Shared;
use crate::streams::StreamSubmission;
use crate::submit::Submission;
use crate::worker::ThreadCtx;
use crate::{control, open, snapshot, streams, submit};

/// A load-generation engine for one `EnginePlan`.
///
/// ```no_run
/// # fn main() -> loadforge_core::Result<()> {
/// # let plan_bytes: Vec<u8> = vec![];
/// let engine = loadforge_core::Engine::new(&plan_bytes)?;
/// engine.start()?;
/// std::thread::sleep(std::time::Duration::from_secs(1));
/// let interval = engine.snapshot();
/// let last = engine.stop(std::time::Duration::from_secs(5));
/// # Ok(()) }
/// ```
pub struct Engine {
    shared: Arc<Shared>,
    started: AtomicBool,
    control: Mutex<Option<JoinHandle<()>>>,
    last_snapshot_ms: Mutex<u64>,
    next_thread: AtomicUsize,
}

impl Engine {
    /// Decodes and compiles a serialized `EnginePlan`.
    pub fn new(plan: &[u8]) -> Result<Self> {
        let plan = proto::EnginePlan::decode(plan)
            .map_err(|e| Error::Plan(format!("invalid EnginePlan message: {e}")))?;
        Self::from_plan(&plan)
    }

    /// Compiles a decoded plan.
    pub fn from_plan(plan: &proto::EnginePlan) -> Result<Self> {
        let targets = TargetTable::default();
        let endpoints = EndpointTable::default();
        let compiled = CompiledPlan::compile(plan, &targets, &endpoints)?;
        let tls = Some(TlsConfigs::new(
            compiled.tls_insecure,
            &compiled.tls_ca_pem,
        )?);
        let net = Net {
            tls,
            connect_timeout: compiled.connect_timeout,
            connection_per_request: compiled.connection_per_request,
            h2_connections: compiled.h2_connections,
        };
        let threads = (0..compiled.threads.max(1))
            .map(|i| Arc::new(ThreadCtx::new(i)))
            .collect();
        let (users, rate, cap) = match compiled.model {
            Model::Closed { users, .. } => (users, 0.0, 0),
            Model::Open {
                rate,
                max_in_flight,
            } => (0, rate, max_in_flight),
        };
        let events =
            Arc::new(EventQueue::new().map_err(|e| Error::Engine(format!("eventfd: {e}")))?);
        let shared = Shared {
            plan: compiled,
            targets,
            endpoints,
            net,
            threads,
            events,
            streams: Default::default(),
            templates: Default::default(),
            t0: OnceLock::new(),
            stopping: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            users: Mutex::new(Vec::new()),
            target_users: AtomicU32::new(users),
            retired_users: AtomicU32::new(0),
            rate_bits: AtomicU64::new(f64::to_bits(rate)),
            scaled: AtomicBool::new(false),
            in_flight: AtomicU32::new(0),
            max_in_flight: AtomicU32::new(cap),
            active: AtomicUsize::new(0),
            iterations_started: AtomicU64::new(0),
            python_iterations: AtomicU64::new(0),
            next_id: AtomicU64::new(0),
            finished: Mutex::new(false),
            finished_cv: Condvar::new(),
            load_ended_ms: AtomicU64::new(0),
            control_wake: (Mutex::new(false), Condvar::new()),
            shutdown_lock: Mutex::new(()),
        };
        Ok(Self {
            shared: Arc::new(shared),
            started: AtomicBool::new(false),
            control: Mutex::new(None),
            last_snapshot_ms: Mutex::new(snapshot::now_ms()),
            next_thread: AtomicUsize::new(0),
        })
    }

    /// Starts the runtime threads and the schedule; returns at once.
    pub fn start(&self) -> Result<()> {
        if self.started.swap(true, Ordering::AcqRel) {
            return Err(Error::Engine("engine already started".into()));
        }
        for t in &self.shared.threads {
            t.start(self.shared.events.clone())?;
        }
        let _ = self.shared.t0.set(Instant::now());
        *self.last_snapshot_ms.lock().expect("poisoned") = snapshot::now_ms();
        if let Model::Open { .. } = self.shared.plan.model {
            for t in &self.shared.threads {
                t.handle()
                    .spawn(open::run_arrivals(self.shared.clone(), t.clone()));
            }
        }
        let shared = self.shared.clone();
        let control = std::thread::Builder::new()
            .name("loadforge-control".into())
            .spawn(move || {
                if control::run(&shared) == control::Exit::Finished {
                    shutdown(&shared, shared.plan.stop_timeout);
                }
            })
            .map_err(|e| Error::Engine(format!("cannot start control thread: {e}")))?;
        *self.control.lock().expect("poisoned") = Some(control);
        Ok(())
    }

    /// Changes the target users (closed model) or arrival rate (open model); overrides
    /// the stages from then on. In the open model `users` sets the in-flight cap.
    pub fn scale(&self, users: Option<u32>, rate: Option<f64>) -> Result<()> {
        if let Some(r) = rate {
            if !(r >= 0.0 && r.is_finite()) {
                return Err(Error::Plan(format!("invalid rate {r}")));
            }
            self.shared.rate_bits.store(r.to_bits(), Ordering::Relaxed);
        }
        if let Some(u) = users {
            match self.shared.plan.model {
                Model::Closed { .. } => self.shared.target_users.store(u, Ordering::Relaxed),
                Model::Open { .. } => self.shared.max_in_flight.store(u, Ordering::Relaxed),
            }
        }
        if users.is_some() || rate.is_some() {
            self.shared.scaled.store(true, Ordering::Relaxed);
        }
        self.shared.wake_control();
        Ok(())
    }

    /// Statistics since the previous snapshot; never stops the hot loop.
    pub fn snapshot(&self) -> proto::Snapshot {
        let mut last = self.last_snapshot_ms.lock().expect("poisoned");
        let snap = snapshot::take(&self.shared, *last);
        *last = snap.end_ms;
        snap
    }

    /// Stops gracefully (in-flight requests get `timeout` to finish, the rest count as
    /// `timeout` errors) and returns the final interval's snapshot.
    pub fn stop(&self, timeout: Duration) -> proto::Snapshot {
        if self.started.load(Ordering::Acquire) {
            shutdown(&self.shared, timeout);
            if let Some(control) = self.control.lock().expect("poisoned").take() {
                let _ = control.join();
            }
        }
        self.snapshot()
    }

    /// Waits until the engine has finished (by itself or by `stop`).
    pub fn wait(&self, timeout: Duration) -> bool {
        let finished = self.shared.finished.lock().expect("poisoned");
        let (finished, _) = self
            .shared
            .finished_cv
            .wait_timeout_while(finished, timeout, |f| !*f)
            .expect("poisoned");
        *finished
    }

    /// Started and not finished.
    pub fn running(&self) -> bool {
        self.started.load(Ordering::Acquire) && !*self.shared.finished.lock().expect("poisoned")
    }

    /// Users running (closed model) or iterations in flight (open model).
    pub fn users(&self) -> u32 {
        match self.shared.plan.model {
            Model::Closed { .. } => self.shared.users.lock().expect("poisoned").len() as u32,
            Model::Open { .. } => self.shared.in_flight.load(Ordering::Acquire),
        }
    }

    /// The fd that is readable while events wait.
    pub fn event_fd(&self) -> i32 {
        self.shared.events.fd()
    }

    /// Drains the waiting events.
    pub fn take_events(&self) -> Vec<Event> {
        self.shared.events.take()
    }

    /// Runs a request for a Python task; its completion arrives as an event.
    pub fn submit(&self, sub: Submission) -> Result<()> {
        if !self.started.load(Ordering::Acquire) {
            return Err(Error::Engine("engine not started".into()));
        }
        let i = self.next_thread.fetch_add(1, Ordering::Relaxed) % self.shared.threads.len();
        submit::submit(&self.shared, i, sub)
    }

    /// Runs many requests for Python tasks with one wake-up per runtime thread; returns
    /// the index and error of each that could not be compiled (the others start).
    pub fn submit_batch(&self, subs: Vec<Submission>) -> Result<Vec<(usize, Error)>> {
        if !self.started.load(Ordering::Acquire) {
            return Err(Error::Engine("engine not started".into()));
        }
        let first =
            self.next_thread.fetch_add(subs.len(), Ordering::Relaxed) % self.shared.threads.len();
        Ok(submit::submit_batch(&self.shared, first, subs))
    }

    /// Opens a streaming gRPC call for a Python task; its messages and its end arrive as
    /// events.
    pub fn open_stream(&self, sub: StreamSubmission) -> Result<()> {
        if !self.started.load(Ordering::Acquire) {
            return Err(Error::Engine("engine not started".into()));
        }
        let i = self.next_thread.fetch_add(1, Ordering::Relaxed) % self.shared.threads.len();
        streams::open_stream(&self.shared, i, sub)
    }

    /// Sends messages on open call `token` (`end` closes its sending side); false when
    /// the call has already ended.
    pub fn stream_send(&self, token: u64, messages: Vec<Vec<u8>>, end: bool) -> bool {
        let messages = messages.into_iter().map(bytes::Bytes::from).collect();
        self.shared
            .streams
            .send(token, streams::Input::Messages(messages, end))
    }

    /// Cancels open call `token` (counted as `grpc_CANCELLED`); false when it has ended.
    pub fn stream_cancel(&self, token: u64) -> bool {
        self.shared.streams.send(token, streams::Input::Cancel)
    }

    /// Records a result measured by the caller (e.g. Python's `catch_response`).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
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
        let endpoint = self.shared.endpoints.intern(method, name);
        let kind = if ok {
            None
        } else if error_kind.is_empty() {
            Some(if status >= 400 {
                ErrorKind::HttpStatus
            } else {
                ErrorKind::Other
            })
        } else {
            Some(ErrorKind::parse(error_kind))
        };
        let sample = Sample {
            endpoint,
            latency_us: elapsed_us,
            service_us: None,
            correct_interval_us: 0,
            status: (status != 0).then_some(status),
            bytes_received,
            bytes_sent: 0,
            messages: 0,
            error: kind
                .as_ref()
                .map(|k| (k, &error_message as &dyn std::fmt::Display)),
            body: &[],
        };
        self.shared.threads[0]
            .recorder
            .lock()
            .expect("poisoned")
            .record(&sample);
    }

    /// Claims one iteration for a closed-model Python user against the plan's iteration
    /// limit; false once the limit is used up (the user should then stop).
    pub fn take_iteration(&self) -> bool {
        self.shared.take_iteration()
    }

    /// A Python user has stopped.
    /// `retired`: it stopped itself (`StopUser`) and is not to be replaced.
    pub fn user_finished(&self, user_id: u64, retired: bool) {
        // Counted before the removal wakes the control loop, so it never sees a gap to fill.
        if retired {
            self.shared.retired_users.fetch_add(1, Ordering::AcqRel);
        }
        if !self.shared.remove_user(user_id) && retired {
            self.shared.retired_users.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// An open-model Python iteration has finished.
    pub fn iteration_finished(&self, _iteration_id: u64) {
        let _ = self
            .shared
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        self.shared.python_iterations.fetch_add(1, Ordering::AcqRel);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if self.started.load(Ordering::Acquire) {
            shutdown(&self.shared, Duration::ZERO);
            if let Some(control) = self.control.lock().expect("poisoned").take() {
                let _ = control.join();
            }
        }
    }
}

/// Graceful stop: no new work, users asked to stop, in-flight work gets `timeout` to
/// finish; then the runtimes are dropped (cut-off requests count as `timeout`).
fn shutdown(shared: &Shared, timeout: Duration) {
    let _once = shared.shutdown_lock.lock().expect("poisoned");
    if *shared.finished.lock().expect("poisoned") {
        return;
    }
    shared.stopping.store(true, Ordering::Release);
    shared.wake_control();
    let users: Vec<_> = shared
        .users
        .lock()
        .expect("poisoned")
        .iter()
        .map(|u| (u.id, u.python, u.ctl.clone()))
        .collect();
    for (id, python, ctl) in users {
        crate::users::stop_user(shared, id, python, &ctl);
    }
    // In-flight requests finish, and Python users finish their current task (their
    // requests still go out), within the stop timeout.
    let deadline = Instant::now() + timeout;
    while (shared.active.load(Ordering::Acquire) > 0 || shared.python_users_left())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    shared
        .load_ended_ms
        .store(snapshot::now_ms(), Ordering::Release);
    shared.closing.store(true, Ordering::Release);
    for t in &shared.threads {
        t.shutdown();
    }
    // Users cut off with their runtime never removed themselves.
    shared.users.lock().expect("poisoned").clear();
    for t in &shared.threads {
        t.users.store(0, Ordering::Relaxed);
    }
    *shared.finished.lock().expect("poisoned") = true;
    shared.finished_cv.notify_all();
}
