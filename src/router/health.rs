//! Deployment health: the outcomes the caller reports, in-flight counts, and the cooldown state
//! ([`cooldown`](super::cooldown) decides cooldowns).
//!
//! The router never sees a response: the caller reports each outcome with
//! [`Router::report`](crate::Router::report), successes included (LiteLLM's default cooldown rule reads
//! the share of failures in the current minute). The latency samples and the usage counters a deployment
//! also carries live in their own modules ([`latency`](super::latency), [`usage`](super::usage)).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::cooldown::{CooldownRule, CooldownState, DeploymentCooldown, GroupContext};
use super::failure::FailureKind;
use super::latency::LatencyWindow;
use super::usage::{Usage, UsageCounters};

/// What happened to a request sent to a routed deployment.
///
/// ```
/// use modelroute::router::{FailureKind, Outcome, Usage};
/// use std::time::Duration;
///
/// let plain = Outcome::success(Duration::from_millis(800));
/// // With the response's token counts (for `tpm` and per-token latency) and, for a stream, the time to
/// // its first token:
/// let streamed = Outcome::success(Duration::from_millis(2400))
///     .with_usage(Usage::new(1000, 120))
///     .with_time_to_first_token(Duration::from_millis(300));
/// assert_eq!(streamed.usage().map(|u| u.total_tokens), Some(1120));
/// assert_eq!(plain.usage(), None);
/// let failed = Outcome::failure(FailureKind::Timeout);
/// assert!(failed.is_failure());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The deployment answered. Build it with [`Outcome::success`].
    #[non_exhaustive]
    Success {
        /// How long the request took, to its last token (what LiteLLM's `end_time - start_time` measures).
        latency: Duration,
        /// The response's token counts, if known: `total_tokens` counts towards `tpm`, and
        /// `latency-based-routing` divides the latency by `completion_tokens`.
        usage: Option<Usage>,
        /// For a stream, the time to its first token (what `latency-based-routing` compares for streamed
        /// requests).
        time_to_first_token: Option<Duration>,
    },
    /// The request failed.
    Failure(FailureKind),
}

impl Outcome {
    /// A success that took `latency` (for a stream: to its last token; report the time to the first one
    /// with [`Outcome::with_time_to_first_token`]).
    pub fn success(latency: Duration) -> Self {
        Outcome::Success {
            latency,
            usage: None,
            time_to_first_token: None,
        }
    }
    /// A failure of this kind.
    pub fn failure(kind: FailureKind) -> Self {
        Outcome::Failure(kind)
    }
    /// With the response's token counts (a success only: a failure is returned unchanged, as LiteLLM counts
    /// no tokens for failures).
    pub fn with_usage(self, usage: Usage) -> Self {
        match self {
            Outcome::Success {
                latency,
                time_to_first_token,
                ..
            } => Outcome::Success {
                latency,
                usage: Some(usage),
                time_to_first_token,
            },
            failure => failure,
        }
    }
    /// With the time to first token of a streamed success (a failure is returned unchanged).
    pub fn with_time_to_first_token(self, ttft: Duration) -> Self {
        match self {
            Outcome::Success { latency, usage, .. } => Outcome::Success {
                latency,
                usage,
                time_to_first_token: Some(ttft),
            },
            failure => failure,
        }
    }
    /// The token counts of a success, if reported.
    pub fn usage(&self) -> Option<Usage> {
        match self {
            Outcome::Success { usage, .. } => *usage,
            Outcome::Failure(_) => None,
        }
    }
    /// Whether the request failed.
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failure(_))
    }
}

/// Mutable health and strategy state of one deployment. Shared by the routing state, the routes in
/// flight (their guard) and the reports.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    in_flight: AtomicUsize,
    /// Latency samples (`latency-based-routing`).
    pub latency: LatencyWindow,
    /// Requests, successes and tokens of the current minute (`rpm` / `tpm` limits, `usage-based-routing`).
    pub usage: UsageCounters,
    cooldown: CooldownState,
    /// What a fleet's sync task brings from the other replicas ([`super::shared`]).
    pub shared: super::shared::SharedStats,
    successes: AtomicU64,
    failures_total: AtomicU64,
}

impl Stats {
    #[inline]
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Routes in flight here and, with a fleet, on the other replicas (what `least-busy` balances on).
    #[inline]
    pub fn fleet_in_flight(&self) -> usize {
        self.in_flight() + self.shared.remote_in_flight() as usize
    }

    pub fn is_cooling(&self, now_ns: u64) -> bool {
        self.cooldown.is_cooling(now_ns)
    }

    /// Reports `cooldown ended` for `id` if its cooldown ended by `now_ns` and nobody reported it yet
    /// (feature `tracing`).
    #[cfg(feature = "tracing")]
    #[inline]
    pub fn report_cooldown_end(&self, now_ns: u64, id: &crate::DeploymentId) {
        self.cooldown.report_end(now_ns, id);
    }

    /// Time left in the cooldown, if cooling down.
    pub fn cooldown_left(&self, now_ns: u64) -> Option<Duration> {
        self.cooldown.left(now_ns)
    }

    /// A cooldown another replica started, with `left` to run: cooling until then at least.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub fn cool_down_for(&self, now_ns: u64, left: Duration) {
        self.cooldown
            .extend_to(now_ns.saturating_add(super::cooldown::nanos(left)).max(1));
    }

    /// Records an outcome of deployment `id` at `now_ns`. Returns true if it decided a cooldown.
    pub fn record(
        &self,
        id: &crate::DeploymentId,
        outcome: Outcome,
        now_ns: u64,
        rule: &CooldownRule,
        own: &DeploymentCooldown,
        group: GroupContext,
    ) -> bool {
        match outcome {
            Outcome::Success { .. } => {
                self.successes.fetch_add(1, Ordering::Relaxed);
                self.cooldown.on_success(now_ns);
                false
            }
            Outcome::Failure(kind) => {
                self.failures_total.fetch_add(1, Ordering::Relaxed);
                self.cooldown.on_failure(id, kind, now_ns, rule, own, group)
            }
        }
    }

    pub fn snapshot(&self, now_ns: u64) -> DeploymentHealth {
        let minute = self.cooldown.minute(now_ns);
        DeploymentHealth {
            in_flight: self.in_flight(),
            fleet_in_flight: self.fleet_in_flight(),
            average_latency: None,
            latency_samples: 0,
            time_to_first_token: None,
            requests_this_minute: 0,
            successes_this_minute: 0,
            tokens_this_minute: 0,
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
    /// Starts a route if fewer than `limit` are in flight (atomically: never more than `limit`).
    pub fn try_start(stats: Arc<Stats>, limit: Option<u64>) -> Option<Self> {
        let Some(limit) = limit else {
            return Some(Self::start(stats));
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        stats
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |n| {
                (n < limit).then(|| n + 1)
            })
            .ok()?;
        Some(InFlight(stats))
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
    /// Routes in flight across the fleet (this replica's and, with a [`Fleet`](crate::fleet::Fleet), the other
    /// replicas' as of the last sync; equal to `in_flight` without a fleet). `least-busy` balances on it.
    pub fleet_in_flight: usize,
    /// Average of the last latency samples (up to 10), if any: seconds per completion token for successes
    /// reported with token counts, the latency itself for the others, 1,000 s for a timeout (see
    /// `latency-based-routing`).
    pub average_latency: Option<Duration>,
    /// Number of samples in that average.
    pub latency_samples: usize,
    /// Average time to first token of the last streamed successes (up to 10), if any.
    pub time_to_first_token: Option<Duration>,
    /// Routes made this minute (counted under the strategies that hold `rpm`/`tpm` as limits).
    pub requests_this_minute: u64,
    /// Successes reported this minute (idem).
    pub successes_this_minute: u64,
    /// Tokens reported this minute (idem).
    pub tokens_this_minute: u64,
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

    #[test]
    fn a_limited_guard_never_exceeds_its_limit() {
        let s = Arc::new(Stats::default());
        let a = InFlight::try_start(s.clone(), Some(2)).unwrap();
        let _b = InFlight::try_start(s.clone(), Some(2)).unwrap();
        assert!(InFlight::try_start(s.clone(), Some(2)).is_none());
        assert_eq!(s.in_flight(), 2);
        drop(a);
        assert!(InFlight::try_start(s.clone(), Some(2)).is_some());
    }
}
