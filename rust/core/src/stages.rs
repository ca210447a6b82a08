//! Stage ramps: the target (users or iterations/s) moves linearly from the previous
//! stage's target (0 at the start) to each stage's target over its duration.

use std::time::Duration;

use crate::plan::Stage;

/// The target at `elapsed`, or None once every stage is over.
pub fn target_at(stages: &[Stage], elapsed: Duration) -> Option<f64> {
    let mut from = 0.0;
    let mut t = elapsed.as_secs_f64();
    for s in stages {
        let d = s.duration.as_secs_f64();
        if t < d {
            return Some(if d > 0.0 {
                from + (s.target - from) * (t / d)
            } else {
                s.target
            });
        }
        t -= d;
        from = s.target;
    }
    None
}

/// Total duration of the stages.
pub fn total(stages: &[Stage]) -> Duration {
    stages.iter().map(|s| s.duration).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_linearly_then_ends() {
        let stages = [
            Stage {
                duration: Duration::from_secs(10),
                target: 100.0,
            },
            Stage {
                duration: Duration::from_secs(10),
                target: 100.0,
            },
        ];
        assert_eq!(target_at(&stages, Duration::from_secs(5)), Some(50.0));
        assert_eq!(target_at(&stages, Duration::from_secs(15)), Some(100.0));
        assert_eq!(target_at(&stages, Duration::from_secs(20)), None);
    }
}
