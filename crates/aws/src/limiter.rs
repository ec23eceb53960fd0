//! One rate limiter shared by every CloudFormation call of a command, so
//! stacks deployed in parallel do not throttle each other (the SDK's
//! adaptive retry still handles throttling that gets through). A token
//! bucket: short bursts go at once, sustained traffic at the set rate.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    /// Tokens left and when they were counted.
    bucket: Mutex<(f64, Option<Instant>)>,
}

impl RateLimiter {
    pub fn new(per_second: u32, burst: u32) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            bucket: Mutex::new((f64::from(burst.max(1)), None)),
        }
    }

    /// Waits until a call may go. Waiters are served in order (the lock is
    /// fair), so a long deploy cannot starve a stack.
    pub async fn acquire(&self) {
        let mut bucket = self.bucket.lock().await;
        let now = Instant::now();
        let (tokens, counted) = *bucket;
        let refilled = match counted {
            Some(at) => {
                (tokens + now.duration_since(at).as_secs_f64() * self.per_second).min(self.burst)
            }
            None => tokens,
        };
        if refilled >= 1.0 {
            *bucket = (refilled - 1.0, Some(now));
            return;
        }
        let wait = Duration::from_secs_f64((1.0 - refilled) / self.per_second);
        tokio::time::sleep(wait).await;
        *bucket = (0.0, Some(now + wait));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_calls_follow_the_rate() {
        let limiter = RateLimiter::new(5, 3);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        for _ in 0..5 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(1000));
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_bucket_refills_up_to_the_burst() {
        let limiter = RateLimiter::new(10, 2);
        for _ in 0..2 {
            limiter.acquire().await;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        limiter.acquire().await;
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(100));
    }
}
