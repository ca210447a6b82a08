//! The closed model's user: on_start, then weighted tasks separated by think time until
//! asked to stop, then on_stop.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::exchange::{execute, Call, Timing};
use crate::net::Keep;
use crate::plan::Template;
use crate::session::Session;
use crate::shared::{ActiveGuard, Shared, UserCtl};
use crate::worker::ThreadCtx;

/// Runs one declarative user until it is stopped or the iteration limit is reached.
pub async fn run_user(
    shared: Arc<Shared>,
    thread: Arc<ThreadCtx>,
    class_index: u32,
    user_id: u64,
    ctl: Arc<UserCtl>,
) {
    let _active = ActiveGuard::new(&shared);
    let class = &shared.plan.classes[class_index as usize];
    let mut session = Session::new(thread.next_session_seq());
    let mut rng = fastrand::Rng::with_seed(user_id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5EED);
    let base = Call {
        timing: Timing::default(),
        keep: Keep::default(),
        record: true,
        defer_redirects: false,
        timeout: shared.plan.request_timeout,
    };
    let pacing = class.wait.pacing();
    let paced = Call {
        timing: Timing {
            correct_interval_us: match (shared.plan.correct_pacing, pacing) {
                (true, Some(p)) => p.as_micros() as u64,
                _ => 0,
            },
            ..Timing::default()
        },
        ..base
    };
    for tpl in &class.on_start {
        if ctl.stopped() || shared.stopping() {
            break;
        }
        run_one(&shared, &thread, &mut session, tpl, base).await;
    }
    while !ctl.stopped() && !shared.stopping() {
        if !shared.take_iteration() {
            break;
        }
        let Some(tpl) = class.pick_task(&mut rng) else {
            break;
        };
        let started = Instant::now();
        run_one(&shared, &thread, &mut session, tpl, paced).await;
        thread.recorder.lock().expect("poisoned").iterations += 1;
        let wait = class.wait.after(started.elapsed(), &mut rng);
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = ctl.stopped_signal() => {}
        }
    }
    // on_stop runs on a user stop and on a graceful engine stop (bounded by its timeout).
    for tpl in &class.on_stop {
        run_one(&shared, &thread, &mut session, tpl, base).await;
    }
    shared.remove_user(user_id);
}

async fn run_one(
    shared: &Shared,
    thread: &ThreadCtx,
    session: &mut Session,
    tpl: &Template,
    call: Call,
) {
    let outcome = execute(&shared.net, thread, session, tpl, call, None).await;
    if outcome.result.is_err() && outcome.elapsed < Duration::from_millis(1) {
        // A failure that cost nothing (e.g. connection refused) must not starve the
        // thread's other tasks.
        tokio::task::yield_now().await;
    }
}

/// Spawns a user of `class_index` on the least loaded thread and registers it.
pub fn spawn_user(shared: &Arc<Shared>, class_index: u32) {
    let python = shared.plan.classes[class_index as usize].python;
    let thread = shared
        .threads
        .iter()
        .min_by_key(|t| t.users.load(Ordering::Relaxed))
        .expect("at least one thread")
        .clone();
    let id = shared.new_id();
    let ctl = Arc::new(UserCtl::default());
    thread.users.fetch_add(1, Ordering::Relaxed);
    shared
        .users
        .lock()
        .expect("poisoned")
        .push(crate::shared::UserEntry {
            id,
            class: class_index,
            python,
            ctl: ctl.clone(),
            thread: thread.index,
        });
    if python {
        shared.events.push(crate::events::Event::StartUser {
            user_id: id,
            class_index,
        });
    } else {
        let handle = thread.handle().clone();
        handle.spawn(run_user(shared.clone(), thread, class_index, id, ctl));
    }
}

/// Asks one user to stop (Python users get a stop event and leave on `user_finished`).
pub fn stop_user(shared: &Shared, id: u64, python: bool, ctl: &UserCtl) {
    ctl.stop();
    if python {
        shared
            .events
            .push(crate::events::Event::StopUser { user_id: id });
    }
}
