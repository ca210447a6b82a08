//! A sub-millisecond sleep for the arrival schedule. tokio's timers tick in whole
//! milliseconds, so an arrival woken by `sleep_until` starts up to ~1 ms late, and the
//! open model (which measures from the intended start) would add that to every latency.
//! On Linux a `timerfd` registered with the runtime's reactor wakes within the kernel's
//! timer slack (~50 µs); elsewhere tokio's sleep is used.

use std::time::Instant;

/// One thread's arrival timer.
pub struct ArrivalTimer {
    #[cfg(target_os = "linux")]
    fd: Option<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>>,
}

impl ArrivalTimer {
    /// A timer for the current runtime (falls back to tokio's sleep if timerfd fails).
    pub fn new() -> Self {
        Self {
            #[cfg(target_os = "linux")]
            fd: linux::timerfd().ok(),
        }
    }

    /// Sleeps until `when` (returns at once if it has passed).
    pub async fn sleep_until(&self, when: Instant) {
        let now = Instant::now();
        if when <= now {
            return;
        }
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.fd {
            if linux::sleep(fd, when - now).await.is_ok() {
                return;
            }
        }
        tokio::time::sleep_until(when.into()).await;
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    use tokio::io::unix::AsyncFd;
    use tokio::io::Interest;

    pub fn timerfd() -> io::Result<AsyncFd<OwnedFd>> {
        // SAFETY: plain syscall; the returned descriptor is owned below.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: the AsyncFd owns the descriptor, which stays open until it is dropped.
        Ok(unsafe { AsyncFd::register_with_interest(owned, Interest::READABLE) }?)
    }

    pub async fn sleep(fd: &AsyncFd<OwnedFd>, after: Duration) -> io::Result<()> {
        let raw = fd.get_ref().as_raw_fd();
        // A zero it_value would disarm the timer: never ask for less than 1 ns.
        let nanos = after.subsec_nanos().max(u32::from(after.as_secs() == 0));
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: after.as_secs() as libc::time_t,
                tv_nsec: nanos as libc::c_long,
            },
        };
        // SAFETY: `raw` is our timerfd; `spec` outlives the call.
        if unsafe { libc::timerfd_settime(raw, 0, &spec, std::ptr::null_mut()) } < 0 {
            return Err(io::Error::last_os_error());
        }
        loop {
            let mut ready = fd.readable().await?;
            let read = ready.try_io(|inner| {
                let mut expirations = [0u8; 8];
                // SAFETY: reads 8 bytes into a local buffer of 8 bytes.
                let n = unsafe {
                    libc::read(
                        inner.get_ref().as_raw_fd(),
                        expirations.as_mut_ptr().cast(),
                        8,
                    )
                };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(())
                }
            });
            match read {
                Ok(result) => return result,
                Err(_would_block) => continue, // readiness was stale; wait again
            }
        }
    }
}
