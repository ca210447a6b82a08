//! State shared by the engine's threads: the compiled plan, connection settings, the
//! user table, limits and the stop flag.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Instant;

use crate::events::EventQueue;
use crate::plan::{CompiledPlan, EndpointTable, TargetTable};
use crate::session::Net;
use crate::streams::StreamTable;
use crate::template_cache::TemplateCache;
use crate::worker::ThreadCtx;

/// Stop signal of one user.
#[derive(Default)]
pub struct UserCtl {
    stop: AtomicBool,
    wake: tokio::sync::Notify,
}

impl UserCtl {
    /// Asks the user to stop after its current task (and wakes it from a wait).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Resolves when `stop` is called.
    pub async fn stopped_signal(&self) {
        if !self.stopped() {
            self.wake.notified().await;
        }
    }
}

/// A running user.
pub struct UserEntry {
    pub id: u64,
    pub class: u32,
    pub python: bool,
    pub ctl: Arc<UserCtl>,
    pub thread: usize,
}

/// Everything the engine's threads share.
pub struct Shared {
    pub plan: CompiledPlan,
    pub targets: TargetTable,
    pub endpoints: EndpointTable,
    pub net: Net,
    pub threads: Vec<Arc<ThreadCtx>>,
    pub events: Arc<EventQueue>,
    /// Streaming gRPC calls of Python tasks that are still open.
    pub streams: StreamTable,
    /// Compiled templates of Python-task requests, reused across calls.
    pub templates: TemplateCache,
    pub t0: OnceLock<Instant>,
    pub stopping: AtomicBool,
    /// Set once the stop's grace period is over, just before the runtimes shut down:
    /// from then on Python submissions are refused. (While only `stopping`, Python users
    /// still finish their current task, requests included.)
    pub closing: AtomicBool,
    /// Users of the closed model, oldest first; removed when they exit.
    pub users: Mutex<Vec<UserEntry>>,
    /// Target users (closed) set by the plan or `scale`.
    pub target_users: AtomicU32,
    /// Python users that stopped themselves for good (`StopUser`): the closed model's
    /// target is lowered by them instead of starting replacements.
    pub retired_users: AtomicU32,
    /// Arrival rate (open) as f64 bits, set by the plan or `scale`.
    pub rate_bits: AtomicU64,
    /// `scale` overrides the stages.
    pub scaled: AtomicBool,
    /// Open model: iterations in flight (Rust and Python).
    pub in_flight: AtomicU32,
    /// Open model: cap on `in_flight` (0 = none), from the plan or `scale(users=...)`.
    pub max_in_flight: AtomicU32,
    /// Tasks that may still record (users, iterations, submitted requests).
    pub active: AtomicUsize,
    pub iterations_started: AtomicU64,
    /// Iterations finished by Python (open model), folded into the next snapshot.
    pub python_iterations: AtomicU64,
    pub next_id: AtomicU64,
    pub finished: Mutex<bool>,
    pub finished_cv: Condvar,
    /// Unix ms when the last in-flight request was done (0 while running): the end of
    /// the load, so a snapshot taken later does not stretch the run's duration.
    pub load_ended_ms: AtomicU64,
    pub control_wake: (Mutex<bool>, Condvar),
    /// Serialises shutdowns (control thread finishing vs. `stop`).
    pub shutdown_lock: Mutex<()>,
}

impl Shared {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// The runtimes are shutting down; no new work is accepted.
    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Python users that have not yet reported `user_finished`.
    pub fn python_users_left(&self) -> bool {
        self.users
            .lock()
            .expect("poisoned")
            .iter()
            .any(|u| u.python)
    }

    /// Claims one iteration against the plan's limit; false once the limit is reached.
    pub fn take_iteration(&self) -> bool {
        let limit = self.plan.iterations;
        limit == 0 || self.iterations_started.fetch_add(1, Ordering::Relaxed) < limit
    }

    /// Whether the iteration limit is used up.
    pub fn iterations_exhausted(&self) -> bool {
        let limit = self.plan.iterations;
        limit != 0 && self.iterations_started.load(Ordering::Relaxed) >= limit
    }

    pub fn rate(&self) -> f64 {
        f64::from_bits(self.rate_bits.load(Ordering::Relaxed))
    }

    /// Seconds since start.
    pub fn elapsed(&self) -> std::time::Duration {
        self.t0.get().map(|t| t.elapsed()).unwrap_or_default()
    }

    /// Wakes the control loop (after `scale` or a user exit).
    pub fn wake_control(&self) {
        let (lock, cv) = &self.control_wake;
        *lock.lock().expect("poisoned") = true;
        cv.notify_all();
    }

    pub fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Removes a user that exited (or a Python user that finished).
    pub fn remove_user(&self, id: u64) -> bool {
        let mut users = self.users.lock().expect("poisoned");
        if let Some(pos) = users.iter().position(|u| u.id == id) {
            let u = users.remove(pos);
            self.threads[u.thread].users.fetch_sub(1, Ordering::Relaxed);
            drop(users);
            self.wake_control();
            true
        } else {
            false
        }
    }
}

/// Counts a task as active while alive.
pub struct ActiveGuard(Arc<Shared>);

impl ActiveGuard {
    pub fn new(shared: &Arc<Shared>) -> Self {
        shared.active.fetch_add(1, Ordering::AcqRel);
        Self(shared.clone())
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How many users each class gets out of `total`: fixed counts first (in class order),
/// the rest split by weight with largest remainders.
pub fn class_counts(classes: &[(u32, u32)], total: u32) -> Vec<u32> {
    let mut counts = vec![0u32; classes.len()];
    let mut left = total;
    for (i, (_, fixed)) in classes.iter().enumerate() {
        let take = (*fixed).min(left);
        counts[i] = take;
        left -= take;
    }
    let weighted: Vec<usize> = (0..classes.len()).filter(|i| classes[*i].1 == 0).collect();
    if left == 0 || weighted.is_empty() {
        return counts;
    }
    let weight = |i: usize| u64::from(classes[i].0);
    let mut sum: u64 = weighted.iter().map(|i| weight(*i)).sum();
    let all_zero = sum == 0;
    if all_zero {
        sum = weighted.len() as u64;
    }
    let w = |i: usize| if all_zero { 1 } else { weight(i) };
    let mut given = 0u32;
    let mut remainders = Vec::with_capacity(weighted.len());
    for &i in &weighted {
        let exact = u64::from(left) * w(i);
        let n = (exact / sum) as u32;
        counts[i] += n;
        given += n;
        remainders.push((exact % sum, i));
    }
    // Largest remainder first; ties go to the earlier class.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in remainders.into_iter().take((left - given) as usize) {
        counts[i] += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::class_counts;

    #[test]
    fn fixed_then_weights() {
        // (weight, fixed_count)
        let classes = [(1, 2), (3, 0), (1, 0)];
        assert_eq!(class_counts(&classes, 1), vec![1, 0, 0]);
        assert_eq!(class_counts(&classes, 10), vec![2, 6, 2]);
        assert_eq!(class_counts(&classes, 3), vec![2, 1, 0]);
    }
}
