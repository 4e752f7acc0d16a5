//! Time, injectable: the router's cooldowns and the model cache's TTLs read a [`Clock`], so tests
//! advance a [`ManualClock`] instead of sleeping.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::Mutex;

/// A source of time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic time, for durations (cooldowns, TTLs in memory).
    fn now(&self) -> Instant;
    /// Wall-clock time, for what is written to disk and read back after a restart.
    fn system_now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn system_now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to.
///
/// ```
/// use modelroute::clock::{Clock, ManualClock};
/// use std::time::Duration;
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(5));
/// assert_eq!(clock.now() - t0, Duration::from_secs(5));
/// ```
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    base_system: SystemTime,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock starting at the current real time.
    pub fn new() -> Self {
        ManualClock {
            base: Instant::now(),
            base_system: SystemTime::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// A clock whose wall-clock time starts at `start` (for tests of per-minute windows, which start at a
    /// wall-clock minute).
    ///
    /// ```
    /// use modelroute::clock::{Clock, ManualClock};
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let clock = ManualClock::starting_at(UNIX_EPOCH + Duration::from_secs(1_700_000_040));
    /// clock.advance(Duration::from_secs(20));
    /// assert_eq!(clock.system_now(), UNIX_EPOCH + Duration::from_secs(1_700_000_060));
    /// ```
    pub fn starting_at(start: SystemTime) -> Self {
        ManualClock {
            base_system: start,
            ..ManualClock::new()
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock() += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + *self.offset.lock()
    }
    fn system_now(&self) -> SystemTime {
        self.base_system + *self.offset.lock()
    }
}
