//! Bounded polling: every wait on AWS has a deadline and a message for when
//! it runs out, and backs off between polls.

use std::time::{Duration, Instant};

use pricewatch_core::backoff::Backoff;

/// How often and how long to poll.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    pub(crate) first_interval: Duration,
    pub(crate) max_interval: Duration,
    /// How long one stack operation may take.
    pub timeout: Duration,
}

impl Polling {
    pub(crate) fn standard(timeout: Duration) -> Polling {
        Polling {
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
            timeout,
        }
    }

    /// For fakes: no sleeping, a short deadline.
    #[cfg(test)]
    pub(crate) fn immediate() -> Polling {
        Polling {
            first_interval: Duration::ZERO,
            max_interval: Duration::ZERO,
            timeout: Duration::from_secs(5),
        }
    }

    pub(crate) fn start(&self) -> Poller {
        Poller {
            deadline: Instant::now() + self.timeout,
            backoff: Backoff::new(self.first_interval, self.max_interval),
            started: Instant::now(),
        }
    }
}

pub(crate) struct Poller {
    deadline: Instant,
    backoff: Backoff,
    started: Instant,
}

impl Poller {
    /// Sleeps before the next poll; false once the deadline has passed.
    pub(crate) async fn next(&mut self) -> bool {
        if Instant::now() >= self.deadline {
            return false;
        }
        let pause = self.backoff.pause();
        if !pause.is_zero() {
            tokio::time::sleep(pause.min(self.deadline - Instant::now())).await;
        } else {
            tokio::task::yield_now().await;
        }
        true
    }

    pub(crate) fn waited(&self) -> Duration {
        self.started.elapsed()
    }
}
