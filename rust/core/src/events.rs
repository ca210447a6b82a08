//! The queue of events for the Python side, with an eventfd that is readable while
//! events wait. The fd is written only when the queue goes from empty to non-empty, so a
//! burst of completions costs one wake-up.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Mutex;

use bytes::Bytes;

/// Something the Python runtime must act on.
#[derive(Debug)]
pub enum Event {
    /// A submitted request completed (or failed).
    Completed {
        token: u64,
        status: u16,
        headers: Vec<(String, String)>,
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
        /// Response headers and trailers.
        headers: Vec<(String, String)>,
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
    queue: Mutex<VecDeque<Event>>,
    fd: OwnedFd,
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
            queue: Mutex::new(VecDeque::new()),
            fd,
        })
    }

    /// The fd to register with the event loop (readable while events wait).
    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Queues an event.
    pub fn push(&self, event: Event) {
        let mut q = self.queue.lock().expect("event queue poisoned");
        let was_empty = q.is_empty();
        q.push_back(event);
        if was_empty {
            // Under the lock, so a concurrent `take` cannot clear this signal and then
            // miss the event.
            let one: u64 = 1;
            // SAFETY: writes 8 bytes from a valid u64 to our own eventfd.
            unsafe {
                libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8);
            }
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
        q.drain(..).collect()
    }
}
