//! The control loop (its own thread): follows the closed model's target users at the
//! spawn rate or along the stages, and ends the run when its run time, stages or
//! iteration limit are used up.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::plan::Model;
use crate::shared::{class_counts, Shared};
use crate::stages;
use crate::users::{spawn_user, stop_user};

const TICK: Duration = Duration::from_millis(10);

/// Why the control loop returned.
#[derive(Debug, PartialEq, Eq)]
pub enum Exit {
    /// Run time, stages or iterations are used up: the engine should finish.
    Finished,
    /// Someone called stop.
    Stopped,
}

/// Runs until the plan's limits are reached or the engine stops.
pub fn run(shared: &Arc<Shared>) -> Exit {
    // Start with one user's worth of budget: as in Locust, the first user of a ramp starts
    // at once rather than 1/spawn_rate seconds in.
    let mut budget = 1.0f64;
    let mut last = Instant::now();
    let stage_end = (!shared.plan.stages.is_empty()).then(|| stages::total(&shared.plan.stages));
    loop {
        if shared.stopping() {
            return Exit::Stopped;
        }
        let elapsed = shared.elapsed();
        if shared.plan.run_time.is_some_and(|rt| elapsed >= rt) {
            return Exit::Finished;
        }
        let staged = stage_end.is_some() && !shared.scaled.load(Ordering::Relaxed);
        if staged && stage_end.is_some_and(|end| elapsed >= end) {
            return Exit::Finished;
        }
        if shared.iterations_exhausted() && drained(shared) {
            return Exit::Finished;
        }
        if let Model::Closed { spawn_rate, .. } = shared.plan.model {
            let target = if staged {
                stages::target_at(&shared.plan.stages, elapsed)
                    .unwrap_or(0.0)
                    .round() as u32
            } else {
                shared.target_users.load(Ordering::Relaxed)
            };
            // Users that stopped themselves (Locust's StopUser) are not replaced.
            let target = target.saturating_sub(shared.retired_users.load(Ordering::Relaxed));
            let now = Instant::now();
            let dt = now.duration_since(last).as_secs_f64();
            last = now;
            let live = live_counts(shared);
            let current: u32 = live.iter().sum();
            let gap = target.abs_diff(current);
            let step = if staged || spawn_rate <= 0.0 {
                gap
            } else if gap == 0 {
                budget = 1.0;
                0
            } else {
                budget = (budget + spawn_rate * dt).min(f64::from(gap));
                let n = budget.floor() as u32;
                budget -= f64::from(n);
                n
            };
            if step > 0 && !shared.iterations_exhausted() {
                adjust(shared, live, target, current, step);
            }
        }
        let (lock, cv) = &shared.control_wake;
        let mut woken = lock.lock().expect("poisoned");
        if !*woken {
            woken = cv.wait_timeout(woken, TICK).expect("poisoned").0;
        }
        *woken = false;
    }
}

/// No user or iteration is still running.
fn drained(shared: &Shared) -> bool {
    match shared.plan.model {
        Model::Closed { .. } => shared.users.lock().expect("poisoned").is_empty(),
        Model::Open { .. } => shared.in_flight.load(Ordering::Acquire) == 0,
    }
}

/// Users per class not yet asked to stop.
fn live_counts(shared: &Shared) -> Vec<u32> {
    let mut counts = vec![0u32; shared.plan.classes.len()];
    for u in shared.users.lock().expect("poisoned").iter() {
        if !u.ctl.stopped() {
            counts[u.class as usize] += 1;
        }
    }
    counts
}

/// Spawns or stops `step` users towards `target`, keeping the class mix.
fn adjust(shared: &Arc<Shared>, mut live: Vec<u32>, target: u32, current: u32, step: u32) {
    let spec: Vec<(u32, u32)> = shared
        .plan
        .classes
        .iter()
        .map(|c| (c.weight, c.fixed_count))
        .collect();
    let desired = class_counts(&spec, target);
    for _ in 0..step {
        if target > current {
            // The class furthest below its share gets the next user.
            let Some(c) = (0..live.len())
                .filter(|&c| desired[c] > live[c])
                .max_by_key(|&c| desired[c] - live[c])
            else {
                return;
            };
            live[c] += 1;
            spawn_user(shared, c as u32);
        } else {
            let Some(c) = (0..live.len())
                .filter(|&c| live[c] > desired[c])
                .max_by_key(|&c| live[c] - desired[c])
            else {
                return;
            };
            live[c] -= 1;
            // Newest user of that class first.
            let users = shared.users.lock().expect("poisoned");
            if let Some(u) = users
                .iter()
                .rev()
                .find(|u| u.class as usize == c && !u.ctl.stopped())
            {
                let (id, python, ctl) = (u.id, u.python, u.ctl.clone());
                drop(users);
                stop_user(shared, id, python, &ctl);
            }
        }
    }
}
