//! The one backoff policy: pauses that double from a first one up to a
//! cap, optionally with full jitter (a random pause below the backoff, so
//! concurrent writers do not retry in lockstep). Polling AWS, retrying
//! Kinesis records and retrying Redshift statements all pause this way;
//! the sleeping is the caller's.

use std::time::Duration;

/// Doubling pauses from `first`, never above `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            next: first.min(max),
            max,
        }
    }

    /// The pause before the next attempt (then the one after doubles).
    pub fn pause(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }

    /// The pause the next call to [`Backoff::pause`] returns.
    pub fn peek(&self) -> Duration {
        self.next
    }
}

/// Full jitter: xorshift seeded from the clock.
pub struct Jitter(u64);

impl Jitter {
    pub fn seeded() -> Jitter {
        Jitter(crate::time::now_unix_nanos() | 1)
    }

    /// A pause in `[0, limit)` (zero for a zero limit).
    pub fn below(&mut self, limit: Duration) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let millis = limit.as_millis() as u64;
        if millis == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(self.0 % millis)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap() {
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_millis(500));
        let pauses: Vec<u64> = (0..5).map(|_| b.pause().as_millis() as u64).collect();
        assert_eq!(pauses, [100, 200, 400, 500, 500]);
        assert_eq!(
            Backoff::new(Duration::ZERO, Duration::ZERO).pause(),
            Duration::ZERO
        );
    }

    #[test]
    fn jitter_stays_below_its_limit() {
        let mut j = Jitter::seeded();
        for _ in 0..1000 {
            assert!(j.below(Duration::from_millis(50)) < Duration::from_millis(50));
        }
        assert_eq!(j.below(Duration::ZERO), Duration::ZERO);
    }
}
