//! Deployment health: the outcomes the caller reports, latency, in-flight counts, and the cooldown state
//! ([`cooldown`](super::cooldown) decides cooldowns).
//!
//! The router never sees a response: the caller reports each outcome with
//! [`Router::report`](crate::Router::report), successes included (LiteLLM's default cooldown rule reads
//! the share of failures in the current minute).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use super::cooldown::{CooldownRule, CooldownState, DeploymentCooldown, GroupContext};
use super::failure::FailureKind;

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

/// Mutable health and strategy state of one deployment. Shared by the routing state, the routes in
/// flight (their guard) and the reports.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    in_flight: AtomicUsize,
    /// Average of the latency window in nanoseconds, for lock-free reads by `latency-based-routing`
    /// (0 = no sample: such a deployment is tried first, as in LiteLLM).
    avg_latency_ns: AtomicU64,
    latencies: Mutex<VecDeque<Duration>>,
    cooldown: CooldownState,
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
        self.cooldown.is_cooling(now_ns)
    }

    /// Time left in the cooldown, if cooling down.
    pub fn cooldown_left(&self, now_ns: u64) -> Option<Duration> {
        self.cooldown.left(now_ns)
    }

    /// Records an outcome at `now_ns`. Returns true if it decided a cooldown.
    pub fn record(
        &self,
        outcome: Outcome,
        now_ns: u64,
        rule: &CooldownRule,
        own: &DeploymentCooldown,
        group: GroupContext,
    ) -> bool {
        match outcome {
            Outcome::Success { latency } => {
                self.successes.fetch_add(1, Ordering::Relaxed);
                self.push_latency(latency);
                self.cooldown.on_success(now_ns);
                false
            }
            Outcome::Failure(kind) => {
                self.failures_total.fetch_add(1, Ordering::Relaxed);
                if kind.normalized() == FailureKind::Timeout {
                    self.push_latency(TIMEOUT_PENALTY);
                }
                self.cooldown.on_failure(kind, now_ns, rule, own, group)
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

    pub fn snapshot(&self, now_ns: u64) -> DeploymentHealth {
        let minute = self.cooldown.minute(now_ns);
        let avg = self.avg_latency_ns();
        DeploymentHealth {
            in_flight: self.in_flight(),
            average_latency: (avg > 0).then(|| Duration::from_nanos(avg)),
            latency_samples: self.latencies.lock().len(),
            cooldown_left: self.cooldown_left(now_ns),
            recent_successes: minute.successes,
            recent_failures: minute.failures,
            successes: self.successes.load(Ordering::Relaxed),
            failures: self.failures_total.load(Ordering::Relaxed),
        }
    }
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
    /// Successes reported in the current minute (LiteLLM's `{id}:successes`: 60 s from the first one).
    pub recent_successes: u64,
    /// Failures reported in the current minute, of any kind (LiteLLM's `{id}:fails`).
    pub recent_failures: u64,
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

    fn record(s: &Stats, outcome: Outcome) -> bool {
        let rule = CooldownRule {
            allowed_fails: Some(3),
            policy: None,
            cooldown_time: Duration::from_secs(5),
            disabled: false,
        };
        s.record(
            outcome,
            0,
            &rule,
            &DeploymentCooldown::default(),
            GroupContext::default(),
        )
    }

    #[test]
    fn latency_is_a_moving_average_of_the_last_ten() {
        let s = Stats::default();
        for ms in 1..=20u64 {
            record(&s, Outcome::success(Duration::from_millis(ms)));
        }
        // last ten: 11..=20 -> 15.5 ms
        assert_eq!(s.avg_latency_ns(), 15_500_000);
    }

    #[test]
    fn a_timeout_of_any_spelling_is_a_latency_penalty() {
        let s = Stats::default();
        record(&s, Outcome::failure(FailureKind::Status(408)));
        assert_eq!(s.avg_latency_ns(), 1_000_000_000_000);
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
