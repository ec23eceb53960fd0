//! One rate limiter shared by every CloudFormation call of a command, so
//! stacks deployed in parallel do not throttle each other (the SDK's
//! adaptive retry still handles throttling that gets through).

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub fn per_second(calls: u32) -> RateLimiter {
        RateLimiter {
            interval: Duration::from_secs(1) / calls.max(1),
            next_slot: Mutex::new(None),
        }
    }

    /// Waits for this call's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self.next_slot.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_evenly() {
        let limiter = RateLimiter::per_second(5);
        let start = Instant::now();
        for _ in 0..6 {
            limiter.acquire().await;
        }
        // The first call goes at once; five more take 5 × 200 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
    }
}
