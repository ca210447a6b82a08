//! The open model: each runtime thread starts its share of iterations on a schedule
//! (rate / threads, phase-shifted), whatever the server does. Latency counts from the
//! intended start; arrivals that find the in-flight cap reached wait in a bounded
//! backlog and start late (see `backlog`); those it cannot hold are counted as dropped.

mod backlog;
mod timer;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::events::Event;
use crate::exchange::{execute, Call, Timing};
use crate::net::Keep;
use crate::plan::Model;
use crate::shared::{ActiveGuard, Shared};
use crate::stages;
use crate::worker::ThreadCtx;

use backlog::Backlog;
use timer::ArrivalTimer;

/// Longest sleep between re-reading the rate (so `scale` and ramps take effect).
const MAX_STEP: Duration = Duration::from_millis(50);
const MIN_STEP: Duration = Duration::from_micros(1);

/// The arrival rate at `elapsed` (iterations per second for the whole engine).
pub fn rate_at(shared: &Shared, elapsed: Duration) -> f64 {
    if !shared.plan.stages.is_empty() && !shared.scaled.load(Ordering::Relaxed) {
        stages::target_at(&shared.plan.stages, elapsed).unwrap_or(0.0)
    } else {
        shared.rate()
    }
}

/// Runs thread `thread.index`'s arrivals until the engine stops.
pub async fn run_arrivals(shared: Arc<Shared>, thread: Arc<ThreadCtx>) {
    if !matches!(shared.plan.model, Model::Open { .. }) {
        return;
    }
    let n = shared.threads.len() as f64;
    let t0 = *shared.t0.get().expect("started");
    let mut rng = fastrand::Rng::with_seed(0xA11CE ^ thread.index as u64);
    // Progress towards this thread's next arrival, in arrivals; thread k of n first fires
    // after k/n of a global interval, so the threads interleave evenly.
    let mut progress = 1.0 - thread.index as f64 / n;
    let mut at = Duration::ZERO;
    let backlog = Arc::new(Backlog::default());
    let timer = ArrivalTimer::new();
    loop {
        if shared.stopping() || shared.plan.run_time.is_some_and(|rt| at >= rt) {
            // Arrivals are intended strictly within the run time; those still waiting
            // for a slot when it ends never start.
            drop_waiting(&thread, &backlog);
            return;
        }
        // Slots freed by Python iterations (or a raised cap) go to waiting arrivals. The
        // arrivals get this task's context: each is polled once right here, so its
        // request is on the wire before any other ready task runs (see `launch`).
        let limit_reached = std::future::poll_fn(|cx| {
            start_waiting(&shared, &thread, &backlog, cx);
            while progress >= 1.0 - 1e-6 {
                progress -= 1.0;
                if !shared.take_iteration() {
                    return Poll::Ready(true);
                }
                arrive(&shared, &thread, &backlog, &mut rng, t0 + at, cx);
            }
            Poll::Ready(false)
        })
        .await;
        if limit_reached {
            drop_waiting(&thread, &backlog);
            return;
        }
        let rate = rate_at(&shared, at) / n;
        let step = if rate <= 0.0 {
            MAX_STEP
        } else {
            // Use the rate half-way through the step so ramps are followed closely.
            let first = Duration::from_secs_f64(((1.0 - progress) / rate).min(0.05));
            let mid = rate_at(&shared, at + first / 2) / n;
            if mid > 0.0 {
                Duration::from_secs_f64(((1.0 - progress) / mid).min(0.05))
            } else {
                first
            }
        };
        // Never a zero step: float rounding must not stall the schedule.
        let step = step.max(MIN_STEP);
        let r = rate_at(&shared, at + step / 2) / n;
        progress += r * step.as_secs_f64();
        at += step;
        let when = t0 + at;
        if when > Instant::now() {
            timer.sleep_until(when).await;
        } else {
            // Behind schedule: catch up, but let this thread's requests run too.
            tokio::task::yield_now().await;
        }
    }
}

/// One arrival: it starts now if a slot is free and nobody is waiting, else it waits.
fn arrive(
    shared: &Arc<Shared>,
    thread: &Arc<ThreadCtx>,
    backlog: &Arc<Backlog>,
    rng: &mut fastrand::Rng,
    intended: Instant,
    cx: &mut Context<'_>,
) {
    let Some(class) = pick_class(shared, rng) else {
        return;
    };
    if backlog.is_empty() && take_slot(shared) {
        launch(shared, thread, backlog, rng, intended, class, cx);
    } else if backlog.push(intended, class) {
        start_waiting(shared, thread, backlog, cx);
    } else {
        thread.recorder.lock().expect("poisoned").dropped_iterations += 1;
    }
}

/// Starts waiting arrivals while slots are free.
fn start_waiting(
    shared: &Arc<Shared>,
    thread: &Arc<ThreadCtx>,
    backlog: &Arc<Backlog>,
    cx: &mut Context<'_>,
) {
    while !backlog.is_empty() && take_slot(shared) {
        match backlog.pop() {
            Some((intended, class)) => {
                let mut rng = fastrand::Rng::new();
                launch(shared, thread, backlog, &mut rng, intended, class, cx);
            }
            None => release_slot(shared),
        }
    }
}

fn drop_waiting(thread: &ThreadCtx, backlog: &Backlog) {
    let n = backlog.clear();
    if n > 0 {
        thread.recorder.lock().expect("poisoned").dropped_iterations += n;
    }
}

/// Claims an in-flight slot under the cap (0 = no cap).
fn take_slot(shared: &Shared) -> bool {
    let cap = shared.max_in_flight.load(Ordering::Relaxed);
    let in_flight = shared.in_flight.fetch_add(1, Ordering::AcqRel);
    if cap != 0 && in_flight >= cap {
        release_slot(shared);
        return false;
    }
    true
}

fn release_slot(shared: &Shared) {
    shared.in_flight.fetch_sub(1, Ordering::AcqRel);
}

/// Runs an arrival that holds a slot. A declarative iteration's task then takes the
/// next waiting arrival itself (keeping the slot and its connection); a Python one goes
/// to the event loop, which frees the slot when it ends (`Engine::iteration_finished`).
///
/// The iteration is polled once at once, with the arrival loop's context, before it is
/// spawned: its request is written now rather than after every task already queued on
/// this thread (responses being read), which at p99 had started it ~0.1 ms late. The
/// spawned task's first poll then registers its own waker for the response.
#[allow(clippy::too_many_arguments)]
fn launch(
    shared: &Arc<Shared>,
    thread: &Arc<ThreadCtx>,
    backlog: &Arc<Backlog>,
    rng: &mut fastrand::Rng,
    intended: Instant,
    class: usize,
    cx: &mut Context<'_>,
) {
    if shared.plan.classes[class].python {
        push_python(shared, intended, class);
        return;
    }
    let Some(tpl) = shared.plan.classes[class].pick_task(rng).cloned() else {
        release_slot(shared);
        return;
    };
    let active = ActiveGuard::new(shared);
    let shared = shared.clone();
    let th = thread.clone();
    let backlog = backlog.clone();
    let mut iteration = Box::pin(async move {
        let _active = active;
        let mut session = th.take_session();
        let mut rng = fastrand::Rng::new();
        let (mut intended, mut tpl) = (intended, tpl);
        loop {
            let call = Call {
                timing: Timing {
                    start_delay: Instant::now().saturating_duration_since(intended),
                    service: true,
                    correct_interval_us: 0,
                },
                keep: Keep::default(),
                record: true,
                defer_redirects: false,
                timeout: shared.plan.request_timeout,
            };
            let outcome = execute(&shared.net, &th, &mut session, &tpl, call, None).await;
            drop(outcome);
            th.recorder.lock().expect("poisoned").iterations += 1;
            let next = if shared.stopping() {
                None
            } else {
                backlog.pop()
            };
            let Some((next_intended, class)) = next else {
                break;
            };
            if shared.plan.classes[class].python {
                push_python(&shared, next_intended, class);
                th.put_session(session);
                return; // the slot passes to the Python iteration
            }
            match shared.plan.classes[class].pick_task(&mut rng) {
                Some(t) => (intended, tpl) = (next_intended, t.clone()),
                None => break,
            }
        }
        th.put_session(session);
        release_slot(&shared);
    });
    if iteration.as_mut().poll(cx).is_pending() {
        tokio::spawn(iteration);
    }
}

fn push_python(shared: &Shared, intended: Instant, class: usize) {
    shared.events.push(Event::Iteration {
        iteration_id: shared.new_id(),
        class_index: class as u32,
        start_delay_us: Instant::now()
            .saturating_duration_since(intended)
            .as_micros() as u64,
    });
}

fn pick_class(shared: &Shared, rng: &mut fastrand::Rng) -> Option<usize> {
    let classes = &shared.plan.classes;
    // As in the closed model: weight 0 means "never", unless every weight is 0.
    let all_zero = classes.iter().all(|c| c.weight == 0);
    let weight = |c: &crate::plan::UserClass| u64::from(if all_zero { 1 } else { c.weight });
    let total: u64 = classes.iter().map(weight).sum();
    if total == 0 {
        return None;
    }
    let mut x = rng.u64(0..total);
    for (i, c) in classes.iter().enumerate() {
        let w = weight(c);
        if x < w {
            return Some(i);
        }
        x -= w;
    }
    None
}
