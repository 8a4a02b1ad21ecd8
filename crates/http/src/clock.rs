//! The time the client reads and the waits it makes, behind a trait, so that tests run retries,
//! rate-limit pauses and the request budget on a clock they control instead of on wall time
//! (whose margins fail on a loaded machine).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

/// Where the client gets the time and how it waits: backoff and `Retry-After` waits, rate-limit
/// pauses, the request budget, and the time budget of a request's retries all go through it.
///
/// [`SystemClock`] (the default) is the real one; [`VirtualClock`] is for tests.
pub trait Clock: Send + Sync {
    /// Monotonic time, for elapsed times (the retry time budget, pauses, the request budget).
    fn now(&self) -> Instant;
    /// Calendar time, to read `Retry-After` dates and rate-limit resets given as epoch seconds.
    fn wall(&self) -> SystemTime;
    /// Blocks the calling thread for `wait`.
    fn sleep(&self, wait: Duration);
}

/// The real clocks and `std::thread::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }

    fn sleep(&self, wait: Duration) {
        std::thread::sleep(wait);
    }
}

/// A clock for tests: time stands still until someone sleeps on it; a sleep returns at once,
/// moves the clock forward by its length and is recorded. Tests then assert on the waits the
/// client made ([`sleeps`](Self::sleeps)) instead of on wall time.
///
/// Clones share the time and the record: keep one, give another to
/// [`HttpConfig::clock`](crate::HttpConfig::clock). Threads sharing it each add their own
/// sleeps, so concurrent waits make it run ahead of real time, never behind: an invariant like
/// "no window holds more than N requests" still holds on it.
#[derive(Clone)]
pub struct VirtualClock {
    state: Arc<Mutex<VirtualState>>,
}

struct VirtualState {
    start: Instant,
    start_wall: SystemTime,
    elapsed: Duration,
    sleeps: Vec<Duration>,
}

impl VirtualClock {
    /// A clock whose calendar time starts at the real current time.
    pub fn new() -> Self {
        Self::starting_at(SystemTime::now())
    }

    /// A clock whose calendar time starts at `wall`, so dates and epoch seconds in test replies
    /// can be exact.
    pub fn starting_at(wall: SystemTime) -> Self {
        Self {
            state: Arc::new(Mutex::new(VirtualState {
                start: Instant::now(),
                start_wall: wall,
                elapsed: Duration::ZERO,
                sleeps: Vec::new(),
            })),
        }
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state().sleeps.clone()
    }

    /// How far the clock has moved since it was made.
    pub fn elapsed(&self) -> Duration {
        self.state().elapsed
    }

    /// Moves the clock forward without recording a sleep (time passing elsewhere).
    pub fn advance(&self, by: Duration) {
        let mut state = self.state();
        state.elapsed = state.elapsed.saturating_add(by);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, VirtualState> {
        // Plain numbers: a panic elsewhere mid-update leaves nothing inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        let state = self.state();
        state.start + state.elapsed
    }

    fn wall(&self) -> SystemTime {
        let state = self.state();
        state.start_wall + state.elapsed
    }

    fn sleep(&self, wait: Duration) {
        let mut state = self.state();
        state.elapsed = state.elapsed.saturating_add(wait);
        state.sleeps.push(wait);
    }
}

impl fmt::Debug for VirtualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("VirtualClock")
            .field("elapsed", &state.elapsed)
            .field("sleeps", &state.sleeps)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_time_moves_only_by_sleeps_and_advances() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let clock = VirtualClock::starting_at(start);
        let shared = clock.clone();
        let t0 = clock.now();
        assert_eq!(clock.wall(), start);
        shared.sleep(Duration::from_millis(250));
        clock.advance(Duration::from_secs(1));
        shared.sleep(Duration::from_secs(2));
        assert_eq!(clock.now() - t0, Duration::from_millis(3250));
        assert_eq!(clock.wall(), start + Duration::from_millis(3250));
        assert_eq!(clock.elapsed(), Duration::from_millis(3250));
        assert_eq!(
            clock.sleeps(),
            [Duration::from_millis(250), Duration::from_secs(2)]
        );
    }
}
