//! Think time between a user's tasks.

use std::time::Duration;

use crate::proto;

/// A compiled `WaitTime`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitTime {
    Constant(Duration),
    Between(Duration, Duration),
    /// The task plus the wait take this long (Locust's constant_pacing / throughput).
    Pacing(Duration),
}

impl WaitTime {
    /// Compiles the message; no wait time means no wait.
    pub fn compile(msg: Option<&proto::WaitTime>) -> Result<Self, String> {
        use proto::wait_time::Kind;
        let d = |s: f64| {
            Duration::try_from_secs_f64(s.max(0.0)).map_err(|_| format!("invalid wait time {s}"))
        };
        Ok(match msg.and_then(|m| m.kind.as_ref()) {
            None => Self::Constant(Duration::ZERO),
            Some(Kind::ConstantS(s)) => Self::Constant(d(*s)?),
            Some(Kind::Between(b)) => {
                let (lo, hi) = (d(b.min_s)?, d(b.max_s)?);
                Self::Between(lo.min(hi), lo.max(hi))
            }
            Some(Kind::PacingS(s)) => Self::Pacing(d(*s)?),
            Some(Kind::Throughput(x)) if *x > 0.0 => Self::Pacing(d(1.0 / x)?),
            Some(Kind::Throughput(x)) => return Err(format!("invalid throughput {x}")),
        })
    }

    /// How long to wait after a task that took `task_time`.
    pub fn after(&self, task_time: Duration, rng: &mut fastrand::Rng) -> Duration {
        match *self {
            Self::Constant(d) => d,
            Self::Between(lo, hi) => {
                let span = (hi - lo).as_nanos() as u64;
                if span == 0 {
                    lo
                } else {
                    lo + Duration::from_nanos(rng.u64(0..=span))
                }
            }
            Self::Pacing(p) => p.saturating_sub(task_time),
        }
    }

    /// The expected interval between task starts when pacing (for coordinated-omission
    /// correction).
    pub fn pacing(&self) -> Option<Duration> {
        match *self {
            Self::Pacing(p) if !p.is_zero() => Some(p),
            _ => None,
        }
    }
}
