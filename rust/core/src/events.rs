//! The queue of events for the Python side, with an eventfd that is readable while
//! events wait.
//!
//! The fd is written at most once per batch. Events pushed by a runtime thread do not
//! wake Python one by one: the signal waits until that thread has nothing left to poll
//! (tokio's `on_thread_park`), so every response that arrived in one pass over the
//! sockets reaches Python in one batch. On one core this is the difference between a
//! context switch per request and one per burst. Two bounds keep a busy runtime thread,
//! which may not park for a while, from holding events back: the queue signals at once
//! when `SIGNAL_AT` events wait, and a timer signals `FALLBACK` after the first unsignalled
//! event. Pushes from any other thread signal at once.

use std::cell::Cell;
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

/// Something the Python runtime must act on.
#[derive(Debug)]
pub enum Event {
    /// A submitted request completed (or failed).
    Completed {
        token: u64,
        status: u16,
        /// `name: value\r\n` lines (`net::HeaderBlock`).
        headers: Vec<u8>,
        body: Bytes,
        elapsed_us: u64,
        error_kind: String,
        error_message: String,
    },
    /// Messages that arrived on a streaming call, in order (payloads, unframed).
    Messages { token: u64, messages: Vec<Bytes> },
    /// A streaming call ended (or failed); every `Messages` event of it came before.
    StreamEnded {
        token: u64,
        status: u16,
        /// Response headers and trailers, `name: value\r\n` lines.
        headers: Vec<u8>,
        elapsed_us: u64,
        /// Time to the first message (0: none arrived).
        first_message_us: u64,
        messages: u64,
        error_kind: String,
        error_message: String,
    },
    /// Start a Python user of class `class_index`.
    StartUser { user_id: u64, class_index: u32 },
    /// Stop that Python user after its current task.
    StopUser { user_id: u64 },
    /// Open model: run one task of the class now.
    Iteration {
        iteration_id: u64,
        class_index: u32,
        start_delay_us: u64,
    },
}

/// Events plus the fd that signals them.
pub struct EventQueue {
    queue: Mutex<Pending>,
    fd: OwnedFd,
    /// A fallback timer is waiting to signal deferred events.
    fallback_armed: AtomicBool,
}

struct Pending {
    events: VecDeque<Event>,
    /// The fd has been written since the last `take`.
    signalled: bool,
}

/// This many deferred events signal at once.
const SIGNAL_AT: usize = 1024;
/// Deferred events are signalled at the latest this long after the first of them.
const FALLBACK: Duration = Duration::from_millis(1);

thread_local! {
    /// Set on runtime threads, whose pushes wait for the thread to go idle.
    static DEFER: Cell<bool> = const { Cell::new(false) };
}

/// Whether pushes from this thread defer their signal to `signal_pending` (runtime
/// threads, which call it when they park) or signal at once (every other thread).
pub fn defer_signals_on_this_thread(defer: bool) {
    DEFER.with(|d| d.set(defer));
}

impl EventQueue {
    /// A queue with a fresh non-blocking eventfd.
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd has no memory-safety preconditions; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self {
            queue: Mutex::new(Pending {
                events: VecDeque::new(),
                signalled: false,
            }),
            fd,
            fallback_armed: AtomicBool::new(false),
        })
    }

    /// The fd to register with the event loop (readable while events wait).
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Queues an event; see the module notes for when Python is woken.
    pub fn push(self: &Arc<Self>, event: Event) {
        let mut q = self.queue.lock().expect("event queue poisoned");
        q.events.push_back(event);
        if q.signalled {
            return;
        }
        if !DEFER.with(Cell::get) || q.events.len() >= SIGNAL_AT {
            self.signal(&mut q);
            return;
        }
        drop(q);
        self.arm_fallback();
    }

    /// Wakes Python for events that wait unsignalled (a runtime thread about to park).
    pub fn signal_pending(&self) {
        let mut q = self.queue.lock().expect("event queue poisoned");
        if !q.signalled && !q.events.is_empty() {
            self.signal(&mut q);
        }
    }

    /// Drains every queued event and clears the fd's readiness.
    pub fn take(&self) -> Vec<Event> {
        let mut q = self.queue.lock().expect("event queue poisoned");
        let mut counter: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64 from our own non-blocking eventfd;
        // EAGAIN (nothing signalled) is fine.
        unsafe {
            libc::read(self.fd.as_raw_fd(), (&mut counter as *mut u64).cast(), 8);
        }
        q.signalled = false;
        q.events.drain(..).collect()
    }

    /// Under the queue's lock, so a concurrent `take` cannot clear this signal and then
    /// miss the event.
    fn signal(&self, q: &mut Pending) {
        q.signalled = true;
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to our own eventfd.
        unsafe {
            libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8);
        }
    }

    /// Makes sure deferred events are signalled within `FALLBACK` even if no runtime
    /// thread parks (all busy).
    fn arm_fallback(self: &Arc<Self>) {
        if self.fallback_armed.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            self.fallback_armed.store(false, Ordering::Release);
            self.signal_pending();
            return;
        };
        let fire = Fallback(self.clone());
        handle.spawn(async move {
            tokio::time::sleep(FALLBACK).await;
            drop(fire);
        });
    }
}

/// Signals when dropped: when the fallback timer fires, or when its runtime shuts down
/// first.
struct Fallback(Arc<EventQueue>);

impl Drop for Fallback {
    fn drop(&mut self) {
        self.0.fallback_armed.store(false, Ordering::Release);
        self.0.signal_pending();
    }
}
