//! Proactive rate limiting: never more than N requests in any window of a given length, across
//! every thread sharing the client.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::Clock;

/// A request budget a source publishes, e.g. "100 requests per 10 seconds".
///
/// The client keeps the start times of recent requests and delays a request until fewer than
/// `requests` started within the last `per`: a sliding window, so no window of length `per`
/// (not only aligned ones) ever holds more than `requests`. Retries count against the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestBudget {
    /// Requests allowed per window (0 is treated as 1).
    pub requests: u32,
    /// Window length.
    pub per: Duration,
}

impl RequestBudget {
    /// `requests` per `per`.
    pub fn new(requests: u32, per: Duration) -> Self {
        Self { requests, per }
    }
}

/// The shared state enforcing a [`RequestBudget`].
#[derive(Debug)]
pub(crate) struct Limiter {
    capacity: usize,
    window: Duration,
    /// Start times of the requests within the last window, oldest first.
    starts: Mutex<VecDeque<Instant>>,
}

impl Limiter {
    pub(crate) fn new(budget: RequestBudget) -> Self {
        let capacity = usize::try_from(budget.requests.max(1)).unwrap_or(usize::MAX);
        Self {
            capacity,
            window: budget.per,
            starts: Mutex::new(VecDeque::with_capacity(capacity)),
        }
    }

    /// Blocks until a request may start, records its start, and returns that start and how
    /// long it waited.
    pub(crate) fn acquire(&self, clock: &dyn Clock) -> (Instant, Duration) {
        let began = clock.now();
        loop {
            let wait = {
                // A poisoned lock only means another thread panicked mid-update of plain
                // timestamps; the data is still usable.
                let mut starts = self
                    .starts
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let now = clock.now();
                while starts
                    .front()
                    .is_some_and(|&t| now.duration_since(t) >= self.window)
                {
                    starts.pop_front();
                }
                if starts.len() < self.capacity {
                    starts.push_back(now);
                    return (now, now.saturating_duration_since(began));
                }
                // Full: the oldest start leaves the window first.
                starts.front().map_or(Duration::ZERO, |&oldest| {
                    self.window.saturating_sub(now.duration_since(oldest))
                })
            };
            // Sleep without the lock so other threads can check (and also wait) meanwhile.
            clock.sleep(wait.max(Duration::from_millis(1)));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::VirtualClock;

    #[test]
    fn no_window_holds_more_than_the_budget() {
        const WINDOW: Duration = Duration::from_millis(100);
        let limiter = Arc::new(Limiter::new(RequestBudget::new(3, WINDOW)));
        let clock = VirtualClock::new();
        let starts = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let (limiter, clock, starts) =
                    (Arc::clone(&limiter), clock.clone(), Arc::clone(&starts));
                std::thread::spawn(move || {
                    for _ in 0..3 {
                        let (start, _) = limiter.acquire(&clock);
                        starts.lock().unwrap().push(start);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut starts = starts.lock().unwrap().clone();
        starts.sort();
        assert_eq!(starts.len(), 9);
        // The starts the limiter granted, on its own clock: any 4 consecutive span a window.
        for w in starts.windows(4) {
            let span = w[3] - w[0];
            assert!(span >= WINDOW, "{span:?}");
        }
        assert!(starts[8] - starts[0] >= 2 * WINDOW);
    }

    #[test]
    fn zero_is_treated_as_one() {
        let limiter = Limiter::new(RequestBudget::new(0, Duration::from_millis(30)));
        let clock = VirtualClock::new();
        assert_eq!(limiter.acquire(&clock).1, Duration::ZERO);
        assert_eq!(limiter.acquire(&clock).1, Duration::from_millis(30));
        assert_eq!(clock.sleeps(), [Duration::from_millis(30)]);
    }
}
