//! Runtime threads: one `current_thread` tokio runtime per thread, each with its own
//! recorder, idle sessions and HTTP/2 connections.

use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::events::EventQueue;
use crate::recorder::Recorder;
use crate::session::{H2Pool, Session};

/// What belongs to one runtime thread.
pub struct ThreadCtx {
    pub index: usize,
    /// Written by this thread's tasks; swapped out by `snapshot`.
    pub recorder: Mutex<Recorder>,
    /// The recorder handed in at the next swap (kept so histograms are not reallocated).
    pub spare: Mutex<Recorder>,
    sessions: Mutex<Vec<Session>>,
    pub h2: H2Pool,
    handle: OnceLock<Handle>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    join: Mutex<Option<JoinHandle<()>>>,
    /// Users placed on this thread (for spreading new ones).
    pub users: std::sync::atomic::AtomicU32,
    session_seq: std::sync::atomic::AtomicUsize,
}

impl ThreadCtx {
    pub fn new(index: usize) -> Self {
        Self {
            index,
            recorder: Mutex::new(Recorder::default()),
            spare: Mutex::new(Recorder::default()),
            sessions: Mutex::new(Vec::new()),
            h2: H2Pool::default(),
            handle: OnceLock::new(),
            shutdown: Mutex::new(None),
            join: Mutex::new(None),
            users: Default::default(),
            session_seq: Default::default(),
        }
    }

    /// Starts the runtime thread.
    /// Events its tasks push wake Python when the thread goes idle (see `events`).
    pub fn start(&self, events: Arc<EventQueue>) -> Result<()> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let join = std::thread::Builder::new()
            .name(format!("loadforge-rt-{}", self.index))
            .spawn(move || {
                tighten_timer_slack();
                crate::events::defer_signals_on_this_thread(true);
                let on_park = events.clone();
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .on_thread_park(move || on_park.signal_pending())
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(rt.handle().clone()));
                rt.block_on(async {
                    let _ = stop_rx.await;
                });
                // Dropping the runtime drops the tasks still running; their guards count
                // the requests they cut off, and now signal what they push at once.
                crate::events::defer_signals_on_this_thread(false);
                drop(rt);
                events.signal_pending();
            })
            .map_err(|e| Error::Engine(format!("cannot start runtime thread: {e}")))?;
        let handle = handle_rx
            .recv()
            .map_err(|_| Error::Engine("runtime thread died at start".into()))?
            .map_err(|e| Error::Engine(format!("cannot build runtime: {e}")))?;
        let _ = self.handle.set(handle);
        *self.shutdown.lock().expect("poisoned") = Some(stop_tx);
        *self.join.lock().expect("poisoned") = Some(join);
        Ok(())
    }

    /// The runtime's handle (after `start`).
    pub fn handle(&self) -> &Handle {
        self.handle.get().expect("runtime thread started")
    }

    /// Ends the runtime, dropping whatever still runs, and joins the thread.
    pub fn shutdown(&self) {
        if let Some(tx) = self.shutdown.lock().expect("poisoned").take() {
            let _ = tx.send(());
        }
        if let Some(join) = self.join.lock().expect("poisoned").take() {
            let _ = join.join();
        }
    }

    /// An idle session (connections kept from earlier iterations) or a new one.
    pub fn take_session(&self) -> Session {
        self.sessions
            .lock()
            .expect("poisoned")
            .pop()
            .unwrap_or_else(|| Session::new(self.next_session_seq()))
    }

    /// Returns a session for reuse.
    pub fn put_session(&self, session: Session) {
        self.sessions.lock().expect("poisoned").push(session);
    }

    /// A sequence number for a new session.
    pub fn next_session_seq(&self) -> usize {
        self.session_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

/// The kernel lets a normal thread's timers fire up to 50 µs late (timer slack); the
/// open model's arrival timer wants them on time.
fn tighten_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK only changes this thread's timer slack (in ns).
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1_000 as libc::c_ulong);
    }
}
