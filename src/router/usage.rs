//! Per-deployment usage in the current minute, and the limits it is held to: `rpm`, `tpm` and
//! `max_parallel_requests`.
//!
//! # What is counted, and when (as LiteLLM counts it)
//! A deployment's usage is three counters of the current wall-clock minute (LiteLLM keys its counters by
//! `HH-MM`, so a minute starts at :00 seconds and every counter starts again from 0):
//! - **requests**: routes to the deployment, counted when the route is made (LiteLLM's
//!   `usage-based-routing-v2` increments its rpm counter in a pre-call check, before the call);
//! - **successes**: successes reported ([`Router::report`](crate::Router::report));
//! - **tokens**: the `total_tokens` of the [`Usage`] reported with each success.
//!
//! What `rpm` is held against depends on the strategy, as in LiteLLM: requests under
//! `usage-based-routing-v2`; successes under `usage-based-routing`, `latency-based-routing` and
//! `cost-based-routing` (their handlers count on success). `tpm` is held against tokens. The other strategies
//! do not limit by `rpm`/`tpm` (they weigh by them).
//!
//! # Limits
//! A deployment whose count has reached `rpm`, or whose tokens plus the request's input tokens
//! ([`RequestContext::with_input_tokens`](crate::router::RequestContext::with_input_tokens), at least 1)
//! would exceed `tpm`, is not eligible; with none eligible, the route is refused with
//! [`RouteError::NoneAvailable`](crate::RouteError::NoneAvailable), which lists each deployment's
//! [`LimitReached`] and when its window resets. `rpm`/`tpm` are read from `litellm_params`, else `model_info`.
//!
//! `max_parallel_requests` bounds the routes in flight (not yet dropped) under every strategy. Like LiteLLM's
//! `calculate_max_parallel_requests`: `litellm_params.max_parallel_requests`, else `rpm`, else `tpm / 1000 * 6`
//! (Azure's rule, at least 1), else the router's `default_max_parallel_requests`. The route's in-flight
//! guard takes the slot (atomically: two threads never both take the last one) and gives it back when dropped.
//!
//! # The state
//! Each counter is one atomic word holding the minute, the second of its last change and the count, so
//! reading it on the route path takes no lock, and a counter of a past minute reads as 0 without being reset.
//! The minute is the wall clock's: read once when the router is built, then advanced by the monotonic clock
//! the router reads anyway (one clock read per route or report; a later step of the system clock is not
//! followed).
//! `routing_strategy_args.ttl` (LiteLLM: 60 s for usage-based routing) forgets a count that has not changed
//! for that long within the minute.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::settings::RouterSettings;
use super::shared::SharedStats;
use super::strategy::RoutingStrategy;
use crate::deployment::{Deployment, DeploymentId};

/// Tokens of one request, reported with its outcome
/// ([`Outcome::with_usage`](crate::router::Outcome::with_usage)): what an OpenAI-compatible response's
/// `usage` object says.
///
/// ```
/// use modelroute::router::Usage;
/// let usage = Usage::new(1200, 300);
/// assert_eq!(usage.total_tokens, 1500);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[non_exhaustive]
pub struct Usage {
    /// `prompt_tokens`: input tokens.
    pub prompt_tokens: u64,
    /// `completion_tokens`: output tokens (what `latency-based-routing` divides the latency by).
    pub completion_tokens: u64,
    /// `total_tokens`: what counts towards `tpm`.
    pub total_tokens: u64,
}

impl Usage {
    /// `prompt` input and `completion` output tokens; the total is their sum.
    pub fn new(prompt: u64, completion: u64) -> Self {
        Usage {
            prompt_tokens: prompt,
            completion_tokens: completion,
            total_tokens: prompt.saturating_add(completion),
        }
    }

    /// With a total other than the sum (as some providers report).
    pub fn with_total(mut self, total: u64) -> Self {
        self.total_tokens = total;
        self
    }

    /// Reads an OpenAI-style `usage` object (`prompt_tokens`, `completion_tokens`, `total_tokens`; a missing
    /// total is the sum). `None` if it is not an object with at least one of them.
    ///
    /// ```
    /// use modelroute::router::Usage;
    /// let body: serde_json::Value = serde_json::json!({"usage": {"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21}});
    /// assert_eq!(Usage::from_json(&body["usage"]), Some(Usage::new(9, 12)));
    /// ```
    pub fn from_json(usage: &Value) -> Option<Self> {
        let obj = usage.as_object()?;
        let get = |k: &str| obj.get(k).and_then(Value::as_u64);
        let (prompt, completion, total) = (
            get("prompt_tokens"),
            get("completion_tokens"),
            get("total_tokens"),
        );
        if prompt.is_none() && completion.is_none() && total.is_none() {
            return None;
        }
        let usage = Usage::new(prompt.unwrap_or(0), completion.unwrap_or(0));
        Some(match total {
            Some(total) => usage.with_total(total),
            None => usage,
        })
    }
}

/// A limit that keeps a deployment out ([`CandidateStatus::AtLimit`](crate::router::CandidateStatus),
/// [`RouteError::NoneAvailable`](crate::RouteError::NoneAvailable)).
///
/// ```
/// use modelroute::router::{RequestContext, RouterSettings, RoutingStrategy, UsageLimit};
/// use modelroute::{Deployment, Router};
/// use std::time::Duration;
///
/// let router = Router::builder()
///     .settings(RouterSettings::default().with_strategy(RoutingStrategy::UsageBasedV2))
///     .deployment(Deployment::new("g", "openai/gpt-4o")?.with_id("a")?.with_param("rpm", 1)?)
///     .build()?;
/// drop(router.route("g", &RequestContext::new())?); // the minute's one request
/// let err = router.route("g", &RequestContext::new()).unwrap_err();
/// assert!(err.is_rate_limited());
/// let reached = &err.limits_reached()[0];
/// assert_eq!(reached.deployment.as_str(), "a");
/// assert_eq!(reached.limit, UsageLimit::Rpm { limit: 1, used: 1 });
/// assert!(reached.resets_in.is_some_and(|d| d <= Duration::from_secs(60)));
/// assert_eq!(err.retry_after(), reached.resets_in);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageLimit {
    /// `rpm`: the requests (or successes, see the [module docs](self)) counted this minute reached it.
    Rpm {
        /// Requests allowed per minute (`rpm` rounded up: a fractional `rpm` allows the next whole request).
        limit: u64,
        /// Counted this minute.
        used: u64,
    },
    /// `tpm`: the tokens counted this minute plus the request's input tokens would exceed it.
    Tpm {
        /// Tokens allowed per minute (`tpm` rounded down).
        limit: u64,
        /// Counted this minute.
        used: u64,
        /// The request's input tokens (at least 1).
        requested: u64,
    },
    /// `max_parallel_requests`: that many routes are in flight.
    MaxParallelRequests {
        /// Routes allowed in flight.
        limit: u64,
        /// Routes in flight.
        in_flight: u64,
    },
}

impl fmt::Display for UsageLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageLimit::Rpm { limit, used } => write!(f, "rpm {used}/{limit}"),
            UsageLimit::Tpm {
                limit,
                used,
                requested,
            } => write!(f, "tpm {used}+{requested}/{limit}"),
            UsageLimit::MaxParallelRequests { limit, in_flight } => {
                write!(f, "max_parallel_requests {in_flight}/{limit}")
            }
        }
    }
}

/// One deployment kept out by a limit ([`RouteError::NoneAvailable`](crate::RouteError::NoneAvailable),
/// [`RouteError::limits_reached`](crate::RouteError::limits_reached); example at [`UsageLimit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimitReached {
    /// The deployment.
    pub deployment: DeploymentId,
    /// The limit.
    pub limit: UsageLimit,
    /// When its count starts again (the next minute, or earlier under a short `ttl`); `None` for
    /// `max_parallel_requests` (a slot frees when a route is dropped).
    pub resets_in: Option<Duration>,
}

impl fmt::Display for LimitReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` {}", self.deployment, self.limit)?;
        if let Some(d) = self.resets_in {
            write!(f, " (resets in {:.3} s)", d.as_secs_f64())?;
        }
        Ok(())
    }
}

/// Which count `rpm` is held against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RpmCounts {
    /// Routes made this minute (`usage-based-routing-v2`).
    Requests,
    /// Successes reported this minute (`usage-based-routing`, `latency-based-routing`,
    /// `cost-based-routing`).
    Successes,
}

/// How a strategy limits by `rpm` / `tpm` (`None` for the strategies that do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LimitRule {
    pub rpm_counts: RpmCounts,
    /// `rpm: 0` / `tpm: 0` mean "no limit" (LiteLLM's latency and cost handlers read them with `or`).
    pub zero_is_unset: bool,
    /// Seconds a count lives without a change (`routing_strategy_args.ttl`), at most a minute matters.
    pub ttl_secs: u64,
}

impl LimitRule {
    /// How the configured strategy holds `rpm` / `tpm` as limits; `None` for the strategies that do not.
    pub fn for_settings(settings: &RouterSettings) -> Option<Self> {
        let (rpm_counts, zero_is_unset) = match settings.routing_strategy {
            RoutingStrategy::UsageBasedV2 => (RpmCounts::Requests, false),
            RoutingStrategy::UsageBased => (RpmCounts::Successes, false),
            RoutingStrategy::LowestLatency | RoutingStrategy::LowestCost => {
                (RpmCounts::Successes, true)
            }
            _ => return None,
        };
        // LiteLLM's usage counters expire `ttl` (default 60 s) after their last change; the latency and
        // cost handlers' minute counters do not expire within their minute.
        let ttl_secs = match settings.routing_strategy {
            RoutingStrategy::UsageBased | RoutingStrategy::UsageBasedV2 => settings
                .routing_strategy_ttl
                .map_or(60, |ttl| ttl.as_secs().max(1)),
            _ => 60,
        };
        Some(LimitRule {
            rpm_counts,
            zero_is_unset,
            ttl_secs,
        })
    }
}

/// The wall-clock minute and the second within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WallNow {
    pub minute: u64,
    pub second: u64,
    /// Time since the minute started.
    pub into_minute: Duration,
}

impl WallNow {
    pub fn at(time: SystemTime) -> Self {
        let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        WallNow {
            minute: secs / 60,
            second: secs % 60,
            into_minute: Duration::new(secs % 60, since.subsec_nanos()),
        }
    }
}

const COUNT_BITS: u32 = 32;
const SECOND_BITS: u32 = 6;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const SECOND_MASK: u64 = (1 << SECOND_BITS) - 1;

/// One count of the current minute, in one atomic word: minute (26 bits, wraps after 127 years), second of
/// the last change (6 bits) and count (32 bits, saturating).
#[derive(Debug, Default)]
pub(crate) struct MinuteCounter(AtomicU64);

impl MinuteCounter {
    fn pack(now: WallNow, count: u64) -> u64 {
        (now.minute << (COUNT_BITS + SECOND_BITS))
            | (now.second << COUNT_BITS)
            | count.min(COUNT_MASK)
    }

    /// The count stored in `word`, if it is of this minute and not older than `ttl_secs`.
    fn current(word: u64, now: WallNow, ttl_secs: u64) -> u64 {
        let minute = word >> (COUNT_BITS + SECOND_BITS);
        let second = (word >> COUNT_BITS) & SECOND_MASK;
        let same_minute =
            minute == (now.minute << (COUNT_BITS + SECOND_BITS)) >> (COUNT_BITS + SECOND_BITS);
        if word == 0 || !same_minute || now.second.saturating_sub(second) >= ttl_secs {
            0
        } else {
            word & COUNT_MASK
        }
    }

    /// The count now.
    pub fn get(&self, now: WallNow, ttl_secs: u64) -> u64 {
        Self::current(self.0.load(Ordering::Relaxed), now, ttl_secs)
    }

    /// When the count read now starts again from 0: the next minute, or `ttl` after its last change.
    pub fn resets_in(&self, now: WallNow, ttl_secs: u64) -> Duration {
        let word = self.0.load(Ordering::Relaxed);
        let to_next_minute = Duration::from_secs(60).saturating_sub(now.into_minute);
        if ttl_secs >= 60 || Self::current(word, now, ttl_secs) == 0 {
            return to_next_minute;
        }
        let second = (word >> COUNT_BITS) & SECOND_MASK;
        let expires = Duration::from_secs(second + ttl_secs);
        to_next_minute.min(expires.saturating_sub(now.into_minute))
    }

    /// Adds `n`; returns the new count.
    pub fn add(&self, now: WallNow, ttl_secs: u64, n: u64) -> u64 {
        let mut new = 0;
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                new = Self::current(word, now, ttl_secs).saturating_add(n);
                Some(Self::pack(now, new))
            });
        new.min(COUNT_MASK)
    }

    /// Adds 1 if the count is below `limit`; returns the count found when it is not.
    pub fn add_one_below(&self, now: WallNow, ttl_secs: u64, limit: u64) -> Result<(), u64> {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |word| {
                let count = Self::current(word, now, ttl_secs);
                (count < limit).then(|| Self::pack(now, count + 1))
            })
            .map(drop)
            .map_err(|word| Self::current(word, now, ttl_secs))
    }
}

/// A deployment's counters of the current minute.
#[derive(Debug, Default)]
pub(crate) struct UsageCounters {
    pub requests: MinuteCounter,
    pub successes: MinuteCounter,
    pub tokens: MinuteCounter,
}

impl UsageCounters {
    /// The count `rpm` is held against.
    pub fn rpm_counter(&self, counts: RpmCounts) -> &MinuteCounter {
        match counts {
            RpmCounts::Requests => &self.requests,
            RpmCounts::Successes => &self.successes,
        }
    }

    /// Records a success and its tokens.
    pub fn record_success(&self, now: WallNow, ttl_secs: u64, tokens: u64) {
        self.successes.add(now, ttl_secs, 1);
        if tokens > 0 {
            self.tokens.add(now, ttl_secs, tokens);
        }
    }
}

/// A deployment's limits, read once when it enters the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Limits {
    /// `rpm` (from `litellm_params`, else `model_info`) as requests allowed per minute, and whether it is 0.
    rpm: Option<(u64, bool)>,
    /// `tpm` (idem) as tokens allowed per minute, and whether it is 0.
    tpm: Option<(u64, bool)>,
    /// Routes allowed in flight (LiteLLM's `calculate_max_parallel_requests`).
    pub max_parallel: Option<u64>,
}

/// A number, or a numeric string (an `os.environ/` value).
fn number(value: Option<&Value>) -> Option<f64> {
    match value? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite() && *v >= 0.0)
}

impl Limits {
    /// The limits of `d`; `default_max_parallel` is the router's `default_max_parallel_requests`.
    pub fn of(d: &Deployment, default_max_parallel: Option<u64>) -> Self {
        let params = d.litellm_params();
        let info = d.model_info();
        let rpm = params.rpm_f64().or_else(|| number(info.get("rpm")));
        let tpm = params.tpm_f64().or_else(|| number(info.get("tpm")));
        // calculate_max_parallel_requests: max_parallel_requests > rpm > tpm/1000*6 (at least 1) > default;
        // only litellm_params count, and 0 means none (`if calculated_max_parallel_requests:`).
        let max_parallel = match (
            number(params.get("max_parallel_requests")),
            params.rpm_f64(),
            params.tpm_f64(),
        ) {
            (Some(m), _, _) => Some(m),
            (None, Some(rpm), _) => Some(rpm),
            (None, None, Some(tpm)) => Some(((tpm / 1000.0 * 6.0).trunc()).max(1.0)),
            (None, None, None) => default_max_parallel.map(|d| d as f64),
        }
        .filter(|m| *m > 0.0)
        // `in_flight >= max` refuses: a fractional max allows the next whole route.
        .map(|m| m.ceil().min(u64::MAX as f64) as u64);
        Limits {
            // `count >= rpm` refuses: a fractional rpm allows the next whole request.
            rpm: rpm.map(|r| (r.ceil().min(u64::MAX as f64) as u64, r == 0.0)),
            // `tokens + input > tpm` refuses: whole tokens up to the floor fit.
            tpm: tpm.map(|t| (t.floor().min(u64::MAX as f64) as u64, t == 0.0)),
            max_parallel,
        }
    }

    #[inline]
    pub(crate) fn rpm_allowed(&self, rule: &LimitRule) -> Option<u64> {
        match self.rpm {
            Some((_, true)) if rule.zero_is_unset => None,
            other => other.map(|(allowed, _)| allowed),
        }
    }

    #[inline]
    fn tpm_allowed(&self, rule: &LimitRule) -> Option<u64> {
        match self.tpm {
            Some((_, true)) if rule.zero_is_unset => None,
            other => other.map(|(allowed, _)| allowed),
        }
    }
}

/// What the limits are checked against for one route: the rule, the time and the request's tokens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitCheck {
    pub rule: LimitRule,
    pub now: WallNow,
    /// The request's input tokens, at least 1.
    pub input_tokens: u64,
    /// With a fleet whose leases apply now: the current minute of the fleet's clock (Redis's). `rpm` is then
    /// held against the requests leased from the fleet's pool ([`SharedStats::allowance`]), and `tpm` against
    /// the fleet's tokens as well as the local count.
    pub fleet_minute: Option<u64>,
}

impl LimitCheck {
    /// The `rpm` / `tpm` limit `counters` have reached, if any.
    pub fn reached(
        &self,
        limits: &Limits,
        counters: &UsageCounters,
        shared: &SharedStats,
    ) -> Option<UsageLimit> {
        let ttl = self.rule.ttl_secs;
        if let Some(limit) = limits.rpm_allowed(&self.rule) {
            let used = counters
                .rpm_counter(self.rule.rpm_counts)
                .get(self.now, ttl);
            if used >= limit {
                return Some(UsageLimit::Rpm { limit, used });
            }
            if let Some(minute) = self.fleet_minute
                && !shared.allowance.has(minute)
            {
                // The fleet's pool, not this replica's count, is what is used up (or not leased yet).
                shared.allowance.note_refused();
                return Some(UsageLimit::Rpm { limit, used: limit });
            }
        }
        if let Some(limit) = limits.tpm_allowed(&self.rule) {
            let local = counters.tokens.get(self.now, ttl);
            let used = match self.fleet_minute {
                Some(minute) => local.max(shared.fleet_tokens(minute)),
                None => local,
            };
            if used.saturating_add(self.input_tokens) > limit {
                return Some(UsageLimit::Tpm {
                    limit,
                    used,
                    requested: self.input_tokens,
                });
            }
        }
        None
    }

    /// The `rpm` limit a route has just reached by being counted (`usage-based-routing-v2`, which counts
    /// routes; `None` under the strategies that count successes).
    #[cfg(feature = "tracing")]
    pub fn rpm_taken(&self, limits: &Limits, counters: &UsageCounters) -> Option<UsageLimit> {
        let limit = limits.rpm_allowed(&self.rule)?;
        if self.rule.rpm_counts != RpmCounts::Requests {
            return None;
        }
        let used = counters.requests.get(self.now, self.rule.ttl_secs);
        (used >= limit).then_some(UsageLimit::Rpm { limit, used })
    }

    /// When the count behind `limit` resets.
    pub fn resets_in(&self, limit: &UsageLimit, counters: &UsageCounters) -> Option<Duration> {
        let ttl = self.rule.ttl_secs;
        match limit {
            UsageLimit::Rpm { .. } => Some(
                counters
                    .rpm_counter(self.rule.rpm_counts)
                    .resets_in(self.now, ttl),
            ),
            UsageLimit::Tpm { .. } => Some(counters.tokens.resets_in(self.now, ttl)),
            UsageLimit::MaxParallelRequests { .. } => None,
        }
    }

    /// Counts a route: under `usage-based-routing-v2` only if the deployment is still below its `rpm`
    /// (another thread may have taken the last request meanwhile).
    pub fn admit(&self, limits: &Limits, counters: &UsageCounters, shared: &SharedStats) -> bool {
        let ttl = self.rule.ttl_secs;
        if let (Some(minute), Some(_)) = (self.fleet_minute, limits.rpm_allowed(&self.rule))
            && !shared.allowance.take(minute)
        {
            return false;
        }
        match (self.rule.rpm_counts, limits.rpm_allowed(&self.rule)) {
            (RpmCounts::Requests, Some(limit)) => counters
                .requests
                .add_one_below(self.now, ttl, limit)
                .is_ok(),
            _ => {
                counters.requests.add(self.now, ttl, 1);
                true
            }
        }
    }
}

/// Records a success of deployment `id` and its tokens in `counters`, counted as `rule` counts them. With the
/// feature `tracing`, a limit this success makes the deployment reach (`rpm` counting successes, `tpm`) is
/// reported: `usage limit reached`.
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
pub(crate) fn record_success(
    id: &DeploymentId,
    limits: &Limits,
    counters: &UsageCounters,
    rule: LimitRule,
    now: WallNow,
    tokens: u64,
) {
    #[cfg(feature = "tracing")]
    let check = LimitCheck {
        rule,
        now,
        input_tokens: 1,
        // The local counts only: what this success changed.
        fleet_minute: None,
    };
    // Not read without a fleet minute.
    #[cfg(feature = "tracing")]
    let local = SharedStats::default();
    #[cfg(feature = "tracing")]
    let before = crate::trace::info_enabled!(target: "modelroute::usage")
        .then(|| check.reached(limits, counters, &local));
    counters.record_success(now, rule.ttl_secs, tokens);
    #[cfg(feature = "tracing")]
    if let Some(None) = before
        && let Some(limit) = check.reached(limits, counters, &local)
    {
        trace_limit_reached(id, &limit);
    }
}

/// The `usage limit reached` event: deployment `id` has just reached `limit` (feature `tracing`).
#[cfg(feature = "tracing")]
#[cold]
#[inline(never)]
pub(crate) fn trace_limit_reached(id: &DeploymentId, limit: &UsageLimit) {
    let (name, used, max) = match *limit {
        UsageLimit::Rpm { limit, used } => ("rpm", used, limit),
        UsageLimit::Tpm { limit, used, .. } => ("tpm", used, limit),
        UsageLimit::MaxParallelRequests { limit, in_flight } => {
            ("max_parallel_requests", in_flight, limit)
        }
    };
    crate::trace::info!(
        target: "modelroute::usage",
        deployment = %id,
        limit = name,
        used,
        max,
        "usage limit reached"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> WallNow {
        WallNow::at(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn a_count_lives_for_its_minute_only() {
        let c = MinuteCounter::default();
        let t0 = 1_700_000_040; // a minute boundary
        assert_eq!(c.add(at(t0), 60, 3), 3);
        assert_eq!(c.add(at(t0 + 59), 60, 2), 5);
        assert_eq!(c.get(at(t0 + 59), 60), 5);
        assert_eq!(c.get(at(t0 + 60), 60), 0);
        assert_eq!(c.add(at(t0 + 61), 60, 1), 1);
        // An hour later the same second of the minute is another minute.
        assert_eq!(c.get(at(t0 + 61 + 3600), 60), 0);
    }

    #[test]
    fn a_short_ttl_forgets_a_count_within_the_minute() {
        let c = MinuteCounter::default();
        let t0 = 1_700_000_040;
        c.add(at(t0 + 10), 5, 4);
        assert_eq!(c.get(at(t0 + 14), 5), 4);
        assert_eq!(c.resets_in(at(t0 + 14), 5), Duration::from_secs(1));
        assert_eq!(c.get(at(t0 + 15), 5), 0);
        assert_eq!(c.resets_in(at(t0 + 30), 60), Duration::from_secs(30));
    }

    #[test]
    fn add_one_below_never_passes_the_limit() {
        let c = MinuteCounter::default();
        let now = at(1_700_000_040);
        assert_eq!(c.add_one_below(now, 60, 2), Ok(()));
        assert_eq!(c.add_one_below(now, 60, 2), Ok(()));
        assert_eq!(c.add_one_below(now, 60, 2), Err(2));
        assert_eq!(c.get(now, 60), 2);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    let c2 = MinuteCounter::default();
                    (0..1000)
                        .filter(|_| c2.add_one_below(now, 60, 500).is_ok())
                        .count()
                })
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap(), 500);
        }
    }

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        let c = MinuteCounter::default();
        let now = at(1_700_000_040);
        c.add(now, 60, u64::MAX);
        assert_eq!(c.get(now, 60), COUNT_MASK);
        assert_eq!(c.add(now, 60, 5), COUNT_MASK);
    }

    #[test]
    fn max_parallel_follows_litellms_derivation() {
        let d = |params: &[(&str, Value)]| {
            let mut d = Deployment::new("g", "openai/x").unwrap();
            for (k, v) in params {
                d = d.with_param(k, v.clone()).unwrap();
            }
            Limits::of(&d, Some(9)).max_parallel
        };
        use serde_json::json;
        assert_eq!(
            d(&[("max_parallel_requests", json!(4)), ("rpm", json!(100))]),
            Some(4)
        );
        assert_eq!(d(&[("rpm", json!(100)), ("tpm", json!(1000))]), Some(100));
        assert_eq!(d(&[("tpm", json!(100_000))]), Some(600));
        assert_eq!(d(&[("tpm", json!(10))]), Some(1));
        assert_eq!(d(&[]), Some(9));
        assert_eq!(
            d(&[("rpm", json!(0))]),
            None,
            "0 means none, as LiteLLM's `if`"
        );
        assert_eq!(d(&[("rpm", json!(2.5))]), Some(3));
    }
}
