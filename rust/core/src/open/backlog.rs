//! Arrivals waiting for the in-flight cap. An arrival that finds the cap reached does not
//! vanish: it waits here (first in, first out) and starts late, as soon as an iteration
//! ends, its latency still counted from its intended start while its service time counts
//! from the actual send. So a stalled server shows in the percentiles and not in the
//! uncorrected service time, and the connections stay bounded by the cap. Only when the
//! backlog is full, or the run ends with arrivals still waiting, are they dropped.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Instant;

/// Most arrivals one thread keeps waiting (24 bytes each): beyond it they are dropped, so
/// memory stays bounded however long the target stalls.
pub const BACKLOG_LIMIT: usize = 100_000;

/// One runtime thread's waiting arrivals: (intended start, user class).
#[derive(Default)]
pub struct Backlog {
    waiting: Mutex<VecDeque<(Instant, usize)>>,
}

impl Backlog {
    /// Queues an arrival; false (drop it) when the backlog is full.
    pub fn push(&self, intended: Instant, class: usize) -> bool {
        let mut waiting = self.waiting.lock().expect("poisoned");
        if waiting.len() >= BACKLOG_LIMIT {
            return false;
        }
        waiting.push_back((intended, class));
        true
    }

    /// The longest-waiting arrival.
    pub fn pop(&self) -> Option<(Instant, usize)> {
        self.waiting.lock().expect("poisoned").pop_front()
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.lock().expect("poisoned").is_empty()
    }

    /// Empties the backlog; returns how many arrivals were waiting.
    pub fn clear(&self) -> u64 {
        let mut waiting = self.waiting.lock().expect("poisoned");
        let n = waiting.len() as u64;
        waiting.clear();
        n
    }
}
