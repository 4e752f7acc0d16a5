//! Deployment health: the outcomes the caller reports, cooldowns, latency, in-flight counts.
//!
//! The router never sees a response: the caller reports each outcome with
//! [`Router::report`](crate::Router::report). Failures that LiteLLM counts (HTTP 429, 401, 404, 408, every
//! 5xx, timeouts) put a deployment in cooldown once more than `allowed_fails` of them happen within
//! `failure_window`; a deployment in cooldown is skipped for `cooldown_time`. Other 4xx statuses are the
//! request's fault, not the deployment's, and connection errors are not counted either (LiteLLM ignores
//! `APIConnectionError` for cooldowns). Wildcard deployments are never cooled down (LiteLLM's
//! `provider_default_deployment_ids`): a 404 for one concrete model must not take down every model behind
//! `openai/*`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

/// LiteLLM keeps the last 10 latencies of a deployment (`max_latency_list_size`).
pub(crate) const LATENCY_WINDOW: usize = 10;
/// LiteLLM records a timeout as a latency of 1,000 s for latency-based routing.
pub(crate) const TIMEOUT_PENALTY: Duration = Duration::from_secs(1000);

/// What happened to a request sent to a routed deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The deployment answered. `latency` feeds `latency-based-routing` (for streams, report the time to
    /// the first token, as LiteLLM does).
    Success {
        /// How long the request took.
        latency: Duration,
    },
    /// The request failed.
    Failure(FailureKind),
}

impl Outcome {
    /// A success that took `latency`.
    pub fn success(latency: Duration) -> Self {
        Outcome::Success { latency }
    }
    /// A failure of this kind.
    pub fn failure(kind: FailureKind) -> Self {
        Outcome::Failure(kind)
    }
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The deployment answered with this HTTP status.
    Status(u16),
    /// No answer in time (counted like HTTP 408).
    Timeout,
    /// The connection failed (refused, reset, DNS). Not counted for cooldowns, like LiteLLM's
    /// `APIConnectionError`.
    Connection,
    /// Any other failure without a status (counted like HTTP 500, as LiteLLM does).
    Other,
}

impl FailureKind {
    /// Whether this failure counts towards a cooldown, following LiteLLM's `_is_cooldown_required`:
    /// 429, 401, 404, 408 and every status outside 400..=499 count; other 4xx do not (the request was bad,
    /// not the deployment); connection errors do not.
    ///
    /// ```
    /// use modelroute::router::FailureKind;
    /// assert!(FailureKind::Status(429).counts_for_cooldown());
    /// assert!(FailureKind::Status(503).counts_for_cooldown());
    /// assert!(!FailureKind::Status(400).counts_for_cooldown());
    /// assert!(FailureKind::Timeout.counts_for_cooldown());
    /// assert!(!FailureKind::Connection.counts_for_cooldown());
    /// ```
    pub fn counts_for_cooldown(&self) -> bool {
        match *self {
            FailureKind::Status(429 | 401 | 404 | 408) => true,
            FailureKind::Status(400..=499) => false,
            FailureKind::Status(_) => true,
            FailureKind::Timeout | FailureKind::Other => true,
            FailureKind::Connection => false,
        }
    }
}

/// The cooldown rule: more than `allowed_fails` counted failures within `window` cool a deployment down
/// for `cooldown`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CooldownRule {
    pub allowed_fails: u32,
    pub window: Duration,
    pub cooldown: Duration,
    pub disabled: bool,
}

/// Mutable health and strategy state of one deployment. Shared by the routing state, the routes in
/// flight (their guard) and the reports.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    in_flight: AtomicUsize,
    /// Average of the latency window in nanoseconds, for lock-free reads by `latency-based-routing`
    /// (0 = no sample: such a deployment is tried first, as in LiteLLM).
    avg_latency_ns: AtomicU64,
    latencies: Mutex<VecDeque<Duration>>,
    /// Times (nanoseconds since the router's epoch) of the counted failures still in the window.
    failures: Mutex<VecDeque<u64>>,
    /// End of the cooldown in nanoseconds since the router's epoch; 0 = none.
    cooldown_until: AtomicU64,
    successes: AtomicU64,
    failures_total: AtomicU64,
}

impl Stats {
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    pub fn avg_latency_ns(&self) -> u64 {
        self.avg_latency_ns.load(Ordering::Relaxed)
    }

    pub fn is_cooling(&self, now_ns: u64) -> bool {
        self.cooldown_until.load(Ordering::Relaxed) > now_ns
    }

    /// Whether a cooldown had ended by `now_ns` and nobody saw it end yet: clears it, so that only one caller
    /// reports the end (feature `tracing`: called for the deployment a route picked).
    #[cfg(feature = "tracing")]
    #[inline]
    pub fn cooldown_ended(&self, now_ns: u64) -> bool {
        let until = self.cooldown_until.load(Ordering::Relaxed);
        until != 0 && until <= now_ns && self.clear_cooldown(until)
    }

    #[cfg(feature = "tracing")]
    #[cold]
    #[inline(never)]
    fn clear_cooldown(&self, until: u64) -> bool {
        self.cooldown_until
            .compare_exchange(until, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Time left in the cooldown, if cooling down.
    pub fn cooldown_left(&self, now_ns: u64) -> Option<Duration> {
        let until = self.cooldown_until.load(Ordering::Relaxed);
        (until > now_ns).then(|| Duration::from_nanos(until - now_ns))
    }

    /// Records an outcome at `now_ns`. Returns true if it started a cooldown.
    pub fn record(&self, outcome: Outcome, now_ns: u64, rule: &CooldownRule, exempt: bool) -> bool {
        match outcome {
            Outcome::Success { latency } => {
                self.successes.fetch_add(1, Ordering::Relaxed);
                self.push_latency(latency);
                false
            }
            Outcome::Failure(kind) => {
                self.failures_total.fetch_add(1, Ordering::Relaxed);
                if kind == FailureKind::Timeout {
                    self.push_latency(TIMEOUT_PENALTY);
                }
                if rule.disabled || exempt || !kind.counts_for_cooldown() {
                    return false;
                }
                let window = nanos(rule.window);
                let mut failures = self.failures.lock();
                while failures
                    .front()
                    .is_some_and(|&t| now_ns.saturating_sub(t) >= window)
                {
                    failures.pop_front();
                }
                failures.push_back(now_ns);
                if failures.len() as u64 > u64::from(rule.allowed_fails) {
                    failures.clear();
                    let until = now_ns.saturating_add(nanos(rule.cooldown)).max(1);
                    self.cooldown_until.store(until, Ordering::Relaxed);
                    return true;
                }
                false
            }
        }
    }

    fn push_latency(&self, latency: Duration) {
        let mut window = self.latencies.lock();
        if window.len() == LATENCY_WINDOW {
            window.pop_front();
        }
        window.push_back(latency);
        let sum: u128 = window.iter().map(Duration::as_nanos).sum();
        let avg = (sum / window.len() as u128).min(u128::from(u64::MAX)) as u64;
        // A sample of 0 ns would read as "no data": keep at least 1.
        self.avg_latency_ns.store(avg.max(1), Ordering::Relaxed);
    }

    pub fn snapshot(&self, now_ns: u64, rule: &CooldownRule) -> DeploymentHealth {
        let window = nanos(rule.window);
        let recent_failures = self
            .failures
            .lock()
            .iter()
            .filter(|&&t| now_ns.saturating_sub(t) < window)
            .count();
        let avg = self.avg_latency_ns();
        DeploymentHealth {
            in_flight: self.in_flight(),
            average_latency: (avg > 0).then(|| Duration::from_nanos(avg)),
            latency_samples: self.latencies.lock().len(),
            cooldown_left: self.cooldown_left(now_ns),
            recent_failures,
            successes: self.successes.load(Ordering::Relaxed),
            failures: self.failures_total.load(Ordering::Relaxed),
        }
    }
}

pub(crate) fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

/// Counts a request in flight until dropped.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Stats>);

impl InFlight {
    pub fn start(stats: Arc<Stats>) -> Self {
        stats.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(stats)
    }
    pub fn stats(&self) -> &Arc<Stats> {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A snapshot of one deployment's health and strategy state ([`Router::health`](crate::Router::health)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeploymentHealth {
    /// Routes to this deployment not yet dropped.
    pub in_flight: usize,
    /// Moving average of the last reported latencies (up to 10), if any.
    pub average_latency: Option<Duration>,
    /// Number of latencies in that average.
    pub latency_samples: usize,
    /// Time left in the current cooldown, if cooling down.
    pub cooldown_left: Option<Duration>,
    /// Counted failures within the failure window (reset when a cooldown starts).
    pub recent_failures: usize,
    /// Successes reported since this state was created.
    pub successes: u64,
    /// Failures reported since this state was created (counted for cooldowns or not).
    pub failures: u64,
}

impl DeploymentHealth {
    /// Whether the deployment is cooling down.
    pub fn is_cooling_down(&self) -> bool {
        self.cooldown_left.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(allowed: u32) -> CooldownRule {
        CooldownRule {
            allowed_fails: allowed,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(5),
            disabled: false,
        }
    }

    #[test]
    fn cooldown_after_more_than_allowed_fails_in_window() {
        let s = Stats::default();
        let r = rule(2);
        let sec = 1_000_000_000u64;
        assert!(!s.record(Outcome::failure(FailureKind::Status(500)), sec, &r, false));
        assert!(!s.record(
            Outcome::failure(FailureKind::Status(429)),
            2 * sec,
            &r,
            false
        ));
        assert!(!s.is_cooling(2 * sec));
        assert!(s.record(Outcome::failure(FailureKind::Timeout), 3 * sec, &r, false));
        assert!(s.is_cooling(3 * sec));
        assert!(s.is_cooling(8 * sec - 1));
        assert!(!s.is_cooling(8 * sec));
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let s = Stats::default();
        let r = rule(1);
        let sec = 1_000_000_000u64;
        assert!(!s.record(Outcome::failure(FailureKind::Status(500)), sec, &r, false));
        // 60 s later the first failure is out of the window.
        assert!(!s.record(
            Outcome::failure(FailureKind::Status(500)),
            61 * sec,
            &r,
            false
        ));
        assert!(s.record(
            Outcome::failure(FailureKind::Status(500)),
            62 * sec,
            &r,
            false
        ));
    }

    #[test]
    fn uncounted_failures_and_exempt_deployments_never_cool() {
        let s = Stats::default();
        let r = rule(0);
        for kind in [
            FailureKind::Status(400),
            FailureKind::Status(422),
            FailureKind::Connection,
        ] {
            assert!(!s.record(Outcome::failure(kind), 1, &r, false));
        }
        assert!(!s.record(Outcome::failure(FailureKind::Status(500)), 1, &r, true));
        assert!(!s.is_cooling(2));
        assert!(s.record(Outcome::failure(FailureKind::Status(401)), 1, &r, false));
    }

    #[test]
    fn latency_is_a_moving_average_of_the_last_ten() {
        let s = Stats::default();
        for ms in 1..=20u64 {
            s.record(
                Outcome::success(Duration::from_millis(ms)),
                0,
                &rule(3),
                false,
            );
        }
        // last ten: 11..=20 -> 15.5 ms
        assert_eq!(s.avg_latency_ns(), 15_500_000);
    }

    #[test]
    fn in_flight_guard_counts_until_dropped() {
        let s = Arc::new(Stats::default());
        let a = InFlight::start(s.clone());
        let b = InFlight::start(s.clone());
        assert_eq!(s.in_flight(), 2);
        drop(a);
        assert_eq!(s.in_flight(), 1);
        drop(b);
        assert_eq!(s.in_flight(), 0);
    }
}
