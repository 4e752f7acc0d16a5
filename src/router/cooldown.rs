//! Cooldowns, decided as LiteLLM 1.109.1 decides them (`router_utils/cooldown_handlers.py`,
//! `Router.deployment_callback_on_failure`), from the outcomes the caller reports.
//!
//! # When a failure cools a deployment down
//! Every reported outcome is counted in the deployment's *current minute* (a success count and a failure
//! count, each living 60 s from its first event, like LiteLLM's `{id}:successes` / `{id}:fails`). A failure
//! then goes through, in order:
//! 1. **Not at all** when the cooldown time that applies is 0 (the deployment's own `cooldown_time`, else the
//!    router's; LiteLLM reads the router's 0 as 5 s, see the README's deliberate differences), when
//!    `disable_cooldowns` is set, when the class cannot cool a deployment down
//!    ([`FailureKind::counts_for_cooldown`]: a 400-class error or a connection error) unless the
//!    deployment's own `allowed_fails_policy` names that class, and for wildcard deployments (LiteLLM's
//!    `provider_default_deployment_ids`: a 404 for one model must not take down every model behind `openai/*`).
//! 2. A **single-deployment group** (one deployment of its name, no team sibling) is *lone* when its
//!    request group has no general fallback either (`fallbacks` for the group, a `"*"` entry, or
//!    `default_fallbacks`). A 402 on a single deployment never cools it unless a policy names its class.
//! 3. **The deployment's own policy** (`model_info.allowed_fails_policy` / `model_info.allowed_fails`), when
//!    it has one: its entry for the class, else its `allowed_fails`, else the router's policy entry, else the
//!    router's `allowed_fails` is the number of failures tolerated; one more cools it down. Each is counted
//!    separately (per class for a policy entry), in a counter that lives for the cooldown time from its first
//!    failure. A lone deployment is exempt when its policy has no entry for the class, unless it has no
//!    `allowed_fails` of its own and the router's policy has an entry for the class.
//! 4. **The default rule**, when the router has neither `allowed_fails` nor `allowed_fails_policy`: a 429
//!    cools a deployment that has siblings at once; so does a failure share of the minute of 100% over at
//!    least 1,000 requests ([`SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD`], single deployments too), or
//!    above 50% ([`DEFAULT_FAILURE_THRESHOLD_PERCENT`]) over at least 5 requests
//!    ([`DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS`]) for a deployment with siblings; and a failure LiteLLM
//!    would not retry (401, 402, 404: anything but 408, 409, 429, 5xx) cools it at once, single or not. Every
//!    failure counts in the share, the request's own faults and connection errors too.
//! 5. **The router's policy** otherwise: the router's `allowed_fails_policy` entry for the class, else its
//!    `allowed_fails` (LiteLLM's default 3) failures are tolerated within the router's cooldown time from the
//!    first one; a lone deployment is exempt unless the router's policy names the class.
//!
//! A cooldown lasts the deployment's `cooldown_time` (`model_info`, then `litellm_params`), else the
//! router's. A failure that decides a cooldown while one is running does not extend it (LiteLLM keeps the
//! first entry's expiry).
//!
//! The state of one deployment (its counters and the end of its cooldown) is kept apart from the rest of its
//! health state: it is what a fleet of replicas will share.
//!
//! With the feature `tracing`, a decided cooldown is a `cooldown started` event (target
//! `modelroute::health`, warn: the deployment, the failure's class, the cooldown's length and the rule that
//! decided it), and the first route that picks the deployment after its cooldown is over reports
//! `cooldown ended` (info).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::Value;

use super::failure::FailureKind;
use crate::deployment::{Deployment, DeploymentId};

/// LiteLLM's `DEFAULT_FAILURE_THRESHOLD_PERCENT`: a failure share of the minute above this cools a
/// deployment down (default rule).
pub const DEFAULT_FAILURE_THRESHOLD_PERCENT: f64 = 0.5;
/// LiteLLM's `DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS`: the failure share counts from this many requests
/// in the minute.
pub const DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS: u64 = 5;
/// LiteLLM's `SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD`: a single deployment is cooled down when every
/// request of the minute failed and there were at least this many.
pub const SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD: u64 = 1000;
/// LiteLLM's `litellm.allowed_fails`: what the router tolerates when `allowed_fails_policy` is set without
/// `allowed_fails`.
pub const DEFAULT_ALLOWED_FAILS: u32 = 3;
/// LiteLLM's `DEFAULT_COOLDOWN_TIME_SECONDS`: how long the router's `allowed_fails` counter lives when the
/// router's own `cooldown_time` is 0 (which disables cooldowns here, but not a deployment's own).
const DEFAULT_COOLDOWN_TIME: Duration = Duration::from_secs(5);
/// The length of LiteLLM's "current minute" counters.
const MINUTE: Duration = Duration::from_secs(60);

/// `allowed_fails_policy`: how many failures of each class a deployment may have before it cools down
/// (LiteLLM's `AllowedFailsPolicy`). A class without an entry falls back to `allowed_fails`.
///
/// A class counts for the first entry that names it or a parent class: a context window error is a bad
/// request ([`FailureKind::ContextWindowExceeded`] counts for `BadRequestErrorAllowedFails`), and so is a
/// content policy violation unless `ContentPolicyViolationErrorAllowedFails` is set.
///
/// ```
/// use modelroute::router::{AllowedFailsPolicy, FailureKind};
/// let policy = AllowedFailsPolicy::from_json(&serde_json::json!({
///     "RateLimitErrorAllowedFails": 10,
///     "BadRequestErrorAllowedFails": 2
/// })).unwrap();
/// assert_eq!(policy.allowed_fails(FailureKind::RateLimit), Some(10));
/// assert_eq!(policy.allowed_fails(FailureKind::ContextWindowExceeded), Some(2));
/// assert_eq!(policy.allowed_fails(FailureKind::Timeout), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AllowedFailsPolicy {
    /// `BadRequestErrorAllowedFails` (also context window errors and content policy violations).
    pub bad_request: Option<u32>,
    /// `AuthenticationErrorAllowedFails`.
    pub authentication: Option<u32>,
    /// `TimeoutErrorAllowedFails`.
    pub timeout: Option<u32>,
    /// `RateLimitErrorAllowedFails`.
    pub rate_limit: Option<u32>,
    /// `ContentPolicyViolationErrorAllowedFails`.
    pub content_policy_violation: Option<u32>,
    /// `InternalServerErrorAllowedFails`.
    pub internal_server: Option<u32>,
    /// `ServiceUnavailableErrorAllowedFails`.
    pub service_unavailable: Option<u32>,
    /// `BadGatewayErrorAllowedFails`.
    pub bad_gateway: Option<u32>,
    /// `NotFoundErrorAllowedFails`.
    pub not_found: Option<u32>,
}

/// Why an `allowed_fails_policy` value was refused ([`AllowedFailsPolicy::from_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// Not a mapping.
    NotAMapping,
    /// A key that names no class.
    UnknownKey(String),
    /// A value that is not a non-negative integer (`null` is allowed: no entry).
    NotACount(String),
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PolicyError::NotAMapping => f.write_str("allowed_fails_policy must be a mapping"),
            PolicyError::UnknownKey(key) => write!(
                f,
                "`{key}` is not an allowed_fails_policy key (expected one of {})",
                AllowedFailsPolicy::KEYS.join(", ")
            ),
            PolicyError::NotACount(key) => write!(f, "`{key}` must be a non-negative integer"),
        }
    }
}

impl std::error::Error for PolicyError {}

impl AllowedFailsPolicy {
    /// The keys LiteLLM's `AllowedFailsPolicy` has.
    pub const KEYS: [&'static str; 9] = [
        "BadRequestErrorAllowedFails",
        "AuthenticationErrorAllowedFails",
        "TimeoutErrorAllowedFails",
        "RateLimitErrorAllowedFails",
        "ContentPolicyViolationErrorAllowedFails",
        "InternalServerErrorAllowedFails",
        "ServiceUnavailableErrorAllowedFails",
        "BadGatewayErrorAllowedFails",
        "NotFoundErrorAllowedFails",
    ];

    /// No entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads LiteLLM's mapping (`{"RateLimitErrorAllowedFails": 10, …}`). Strict: an unknown key or a value
    /// that is not a non-negative integer is an error (a typo must not silently leave a class uncovered).
    pub fn from_json(value: &Value) -> Result<Self, PolicyError> {
        let map = value.as_object().ok_or(PolicyError::NotAMapping)?;
        let mut policy = AllowedFailsPolicy::default();
        for (key, v) in map {
            let slot = policy
                .slot_mut(key)
                .ok_or_else(|| PolicyError::UnknownKey(key.clone()))?;
            *slot = match v {
                Value::Null => None,
                v => Some(
                    v.as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| PolicyError::NotACount(key.clone()))?,
                ),
            };
        }
        Ok(policy)
    }

    /// Reads a deployment's `model_info.allowed_fails_policy` as LiteLLM reads it: a mapping, else nothing;
    /// unknown keys and values that are not counts are ignored.
    fn lenient(value: &Value) -> Option<Self> {
        let map = value.as_object()?;
        let mut policy = AllowedFailsPolicy::default();
        for (key, v) in map {
            if let Some(slot) = policy.slot_mut(key) {
                *slot = v.as_u64().and_then(|n| u32::try_from(n).ok());
            }
        }
        Some(policy)
    }

    fn slot_mut(&mut self, key: &str) -> Option<&mut Option<u32>> {
        Some(match key {
            "BadRequestErrorAllowedFails" => &mut self.bad_request,
            "AuthenticationErrorAllowedFails" => &mut self.authentication,
            "TimeoutErrorAllowedFails" => &mut self.timeout,
            "RateLimitErrorAllowedFails" => &mut self.rate_limit,
            "ContentPolicyViolationErrorAllowedFails" => &mut self.content_policy_violation,
            "InternalServerErrorAllowedFails" => &mut self.internal_server,
            "ServiceUnavailableErrorAllowedFails" => &mut self.service_unavailable,
            "BadGatewayErrorAllowedFails" => &mut self.bad_gateway,
            "NotFoundErrorAllowedFails" => &mut self.not_found,
            _ => return None,
        })
    }

    /// With `n` allowed failures of `kind`'s class (a [`FailureKind::Status`] is set as the class it
    /// normalizes to; classes without an entry of their own, such as a generic status, are ignored).
    ///
    /// ```
    /// use modelroute::router::{AllowedFailsPolicy, FailureKind};
    /// let policy = AllowedFailsPolicy::new().with(FailureKind::RateLimit, 5);
    /// assert_eq!(policy.allowed_fails(FailureKind::Status(429)), Some(5));
    /// ```
    pub fn with(mut self, kind: FailureKind, n: u32) -> Self {
        let slot = match kind.normalized() {
            FailureKind::BadRequest => &mut self.bad_request,
            FailureKind::ContextWindowExceeded => &mut self.bad_request,
            FailureKind::Authentication => &mut self.authentication,
            FailureKind::Timeout => &mut self.timeout,
            FailureKind::RateLimit => &mut self.rate_limit,
            FailureKind::ContentPolicyViolation => &mut self.content_policy_violation,
            FailureKind::InternalServer => &mut self.internal_server,
            FailureKind::ServiceUnavailable => &mut self.service_unavailable,
            FailureKind::BadGateway => &mut self.bad_gateway,
            FailureKind::NotFound => &mut self.not_found,
            _ => return self,
        };
        *slot = Some(n);
        self
    }

    /// How many failures of `kind` this policy tolerates, if it has an entry for its class (LiteLLM's
    /// `isinstance` checks: a content policy violation or a context window error is also a bad request).
    pub fn allowed_fails(&self, kind: FailureKind) -> Option<u32> {
        match kind.normalized() {
            FailureKind::ContentPolicyViolation => {
                self.content_policy_violation.or(self.bad_request)
            }
            FailureKind::BadRequest | FailureKind::ContextWindowExceeded => self.bad_request,
            FailureKind::Authentication => self.authentication,
            FailureKind::Timeout => self.timeout,
            FailureKind::RateLimit => self.rate_limit,
            FailureKind::InternalServer => self.internal_server,
            FailureKind::ServiceUnavailable => self.service_unavailable,
            FailureKind::BadGateway => self.bad_gateway,
            FailureKind::NotFound => self.not_found,
            FailureKind::Status(_) | FailureKind::Connection | FailureKind::Other => None,
        }
    }
}

/// The router-wide cooldown settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CooldownRule {
    /// `allowed_fails`; `None`: LiteLLM's default rule.
    pub allowed_fails: Option<u32>,
    pub policy: Option<AllowedFailsPolicy>,
    /// `cooldown_time`; zero disables cooldowns.
    pub cooldown_time: Duration,
    pub disabled: bool,
}

impl CooldownRule {
    fn policy_for(&self, kind: FailureKind) -> Option<u32> {
        self.policy.and_then(|p| p.allowed_fails(kind))
    }
}

/// A deployment's own cooldown settings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct DeploymentCooldown {
    /// `cooldown_time` of `model_info`, else of `litellm_params` (a non-negative number of seconds).
    pub cooldown_time: Option<Duration>,
    /// `model_info.allowed_fails`.
    pub allowed_fails: Option<u32>,
    /// `model_info.allowed_fails_policy`.
    pub policy: Option<AllowedFailsPolicy>,
}

impl DeploymentCooldown {
    /// Reads them where LiteLLM reads them: `cooldown_time` from `model_info`, then `litellm_params`;
    /// `allowed_fails` and `allowed_fails_policy` from `model_info` only (LiteLLM sends `litellm_params` to
    /// the provider).
    pub fn of(deployment: &Deployment) -> Self {
        let info = deployment.model_info();
        let seconds = |v: Option<&Value>| {
            v.and_then(Value::as_f64)
                .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e12)
        };
        let cooldown_time = seconds(info.get("cooldown_time"))
            .or_else(|| seconds(deployment.litellm_params().get("cooldown_time")))
            .map(Duration::from_secs_f64);
        DeploymentCooldown {
            cooldown_time,
            allowed_fails: info
                .get("allowed_fails")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok()),
            policy: info
                .get("allowed_fails_policy")
                .and_then(AllowedFailsPolicy::lenient),
        }
    }
}

/// Where the failing deployment stands in its group, for the single-deployment exemptions.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct GroupContext {
    /// Routed through a wildcard pattern: never cooled down.
    pub wildcard: bool,
    /// The only deployment of its group.
    pub single: bool,
    /// The request's group has general fallbacks.
    pub has_fallbacks: bool,
}

/// A count that lives `ttl` from its first event: LiteLLM's in-memory cache entry, whose TTL an increment
/// does not refresh. It is gone at its expiry (LiteLLM's cache evicts entries whose expiry is `<=` now on
/// every write, and a request writes several).
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    count: u64,
    expires_ns: u64,
}

impl Window {
    fn get(&self, now_ns: u64) -> u64 {
        if now_ns < self.expires_ns {
            self.count
        } else {
            0
        }
    }

    fn incr(&mut self, now_ns: u64, ttl: Duration) -> u64 {
        if now_ns < self.expires_ns {
            self.count += 1;
        } else {
            self.count = 1;
            self.expires_ns = now_ns.saturating_add(nanos(ttl));
        }
        self.count
    }
}

/// Which `allowed_fails` counter a failure increments (LiteLLM's `deployment:{id}:allowed_fails[:suffix]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CounterKey {
    /// The router's `allowed_fails` / policy, or a deployment policy that does not name the class.
    Router,
    /// The deployment's `allowed_fails`.
    Deployment,
    /// The deployment's policy entry for this exception class.
    Class(&'static str),
}

#[derive(Debug, Default)]
struct Counters {
    successes: Window,
    failures: Window,
    /// At most 2 + the number of classes.
    allowed_fails: Vec<(CounterKey, Window)>,
}

impl Counters {
    fn count_fail(&mut self, key: CounterKey, now_ns: u64, ttl: Duration) -> u64 {
        let at = match self.allowed_fails.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                self.allowed_fails.push((key, Window::default()));
                self.allowed_fails.len() - 1
            }
        };
        self.allowed_fails[at].1.incr(now_ns, ttl)
    }
}

/// The cooldown state of one deployment: its minute counters, its `allowed_fails` counters and the end of
/// its cooldown. Times are nanoseconds since the router's epoch.
#[derive(Debug, Default)]
pub(crate) struct CooldownState {
    counters: Mutex<Counters>,
    /// End of the cooldown; 0 = none. Read without a lock on every route.
    until_ns: AtomicU64,
}

/// What the minute counters say ([`CooldownState::minute`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Minute {
    pub successes: u64,
    pub failures: u64,
}

impl CooldownState {
    #[inline]
    pub fn is_cooling(&self, now_ns: u64) -> bool {
        self.until_ns.load(Ordering::Relaxed) > now_ns
    }

    /// Time left in the cooldown, if cooling down.
    pub fn left(&self, now_ns: u64) -> Option<Duration> {
        let until = self.until_ns.load(Ordering::Relaxed);
        (until > now_ns).then(|| Duration::from_nanos(until - now_ns))
    }

    pub fn minute(&self, now_ns: u64) -> Minute {
        let c = self.counters.lock();
        Minute {
            successes: c.successes.get(now_ns),
            failures: c.failures.get(now_ns),
        }
    }

    pub fn on_success(&self, now_ns: u64) {
        self.counters.lock().successes.incr(now_ns, MINUTE);
    }

    /// Counts a failure of deployment `id` and decides whether it cools the deployment down (see the
    /// [module docs](self)). Returns true if it does.
    pub fn on_failure(
        &self,
        id: &DeploymentId,
        kind: FailureKind,
        now_ns: u64,
        rule: &CooldownRule,
        own: &DeploymentCooldown,
        group: GroupContext,
    ) -> bool {
        let kind = kind.normalized();
        let mut counters = self.counters.lock();
        counters.failures.incr(now_ns, MINUTE);
        let cooldown_time = own.cooldown_time.unwrap_or(rule.cooldown_time);
        let own_entry = own.policy.and_then(|p| p.allowed_fails(kind));
        // 1. Whether the cooldown logic runs at all.
        if cooldown_time.is_zero()
            || rule.disabled
            || (!kind.counts_for_cooldown() && own_entry.is_none())
            || group.wildcard
        {
            return false;
        }
        // 2. Single and lone deployments.
        let lone = group.single && !group.has_fallbacks;
        let router_entry = rule.policy_for(kind);
        if group.single && kind.status() == 402 && own_entry.is_none() && router_entry.is_none() {
            return false;
        }
        // The router's counter lives for its cooldown time (LiteLLM's `cooldown_time or 5`).
        let router_ttl = if rule.cooldown_time.is_zero() {
            DEFAULT_COOLDOWN_TIME
        } else {
            rule.cooldown_time
        };
        // Which rule decided a cooldown (`None`: none).
        let decided: Option<&'static str> = if own.policy.is_some() || own.allowed_fails.is_some() {
            // 3. The deployment's own policy.
            if own_entry.is_none()
                && lone
                && (own.allowed_fails.is_some() || router_entry.is_none())
            {
                return false;
            }
            let allowed = own_entry
                .or(own.allowed_fails)
                .or(router_entry)
                .unwrap_or_else(|| rule.allowed_fails.unwrap_or(DEFAULT_ALLOWED_FAILS));
            let key = if own_entry.is_some() {
                CounterKey::Class(kind.litellm_class())
            } else if own.allowed_fails.is_some() {
                CounterKey::Deployment
            } else {
                CounterKey::Router
            };
            let ttl = own.cooldown_time.unwrap_or(router_ttl);
            (counters.count_fail(key, now_ns, ttl) > u64::from(allowed)).then_some(match key {
                CounterKey::Class(_) => "deployment allowed_fails_policy",
                CounterKey::Deployment => "deployment allowed_fails",
                CounterKey::Router => "router allowed_fails",
            })
        } else if rule.policy.is_none() && rule.allowed_fails.is_none() {
            // 4. LiteLLM's default rule.
            let successes = counters.successes.get(now_ns);
            let failures = counters.failures.get(now_ns);
            let total = successes + failures;
            let share = if total > 0 {
                failures as f64 / total as f64
            } else {
                0.0
            };
            if kind.status() == 429 && !group.single {
                Some("default rule: rate limited")
            } else if share == 1.0 && total >= SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD {
                Some("default rule: every request of the minute failed")
            } else if share > DEFAULT_FAILURE_THRESHOLD_PERCENT
                && total >= DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS
                && !group.single
            {
                Some("default rule: failure share of the minute")
            } else if !kind.retryable_status() {
                Some("default rule: not retryable")
            } else {
                None
            }
        } else {
            // 5. The router's allowed_fails / policy.
            if lone && router_entry.is_none() {
                return false;
            }
            let allowed =
                router_entry.unwrap_or_else(|| rule.allowed_fails.unwrap_or(DEFAULT_ALLOWED_FAILS));
            (counters.count_fail(CounterKey::Router, now_ns, router_ttl) > u64::from(allowed))
                .then_some(if router_entry.is_some() {
                    "router allowed_fails_policy"
                } else {
                    "router allowed_fails"
                })
        };
        drop(counters);
        let Some(decided) = decided else {
            return false;
        };
        self.start(now_ns, cooldown_time);
        trace_started(id, kind, cooldown_time, decided);
        true
    }

    /// Whether a cooldown had ended by `now_ns` and nobody reported its end yet: clears it and reports
    /// `cooldown ended` for `id`, so that only one caller does (feature `tracing`: called for the deployment
    /// a route picked, not on the filter's hot checks).
    #[cfg(feature = "tracing")]
    #[inline]
    pub fn report_end(&self, now_ns: u64, id: &DeploymentId) {
        let until = self.until_ns.load(Ordering::Relaxed);
        if until != 0 && until <= now_ns && self.clear(until) {
            crate::trace::info!(target: "modelroute::health", deployment = %id, "cooldown ended");
        }
    }

    #[cfg(feature = "tracing")]
    #[cold]
    #[inline(never)]
    fn clear(&self, until: u64) -> bool {
        self.until_ns
            .compare_exchange(until, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// Cools down until `until_ns` at least (a cooldown another replica started): a later end already set
    /// is kept.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub fn extend_to(&self, until_ns: u64) {
        self.until_ns.fetch_max(until_ns, Ordering::Relaxed);
    }

    /// Starts a cooldown of `length`; one running already keeps its end (or ends sooner with a shorter
    /// `length`), as LiteLLM's cooldown entry keeps its first expiry.
    fn start(&self, now_ns: u64, length: Duration) {
        let end = now_ns.saturating_add(nanos(length)).max(1);
        let until = self.until_ns.load(Ordering::Relaxed);
        let new = if until > now_ns { until.min(end) } else { end };
        self.until_ns.store(new, Ordering::Relaxed);
    }
}

/// The `cooldown started` event (feature `tracing`).
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn trace_started(id: &DeploymentId, kind: FailureKind, length: Duration, decided: &'static str) {
    crate::trace::warn!(
        target: "modelroute::health",
        deployment = %id,
        failure = kind.litellm_class(),
        cooldown_secs = length.as_secs_f64(),
        rule = decided,
        "cooldown started"
    );
}

pub(crate) fn nanos(d: Duration) -> u64 {
    d.as_nanos().min(u128::from(u64::MAX)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    fn rule(allowed_fails: Option<u32>) -> CooldownRule {
        CooldownRule {
            allowed_fails,
            policy: None,
            cooldown_time: Duration::from_secs(5),
            disabled: false,
        }
    }

    const MULTI: GroupContext = GroupContext {
        wildcard: false,
        single: false,
        has_fallbacks: false,
    };

    #[test]
    fn windows_live_from_their_first_event_and_are_not_refreshed() {
        let mut w = Window::default();
        assert_eq!(w.incr(0, MINUTE), 1);
        assert_eq!(w.incr(59 * SEC, MINUTE), 2);
        assert_eq!(w.get(60 * SEC - 1), 2);
        assert_eq!(w.get(60 * SEC), 0);
        assert_eq!(w.incr(60 * SEC, MINUTE), 1);
        assert_eq!(w.get(120 * SEC - 1), 1);
    }

    #[test]
    fn a_retriggered_cooldown_keeps_its_first_end() {
        let s = CooldownState::default();
        s.start(SEC, Duration::from_secs(10));
        s.start(5 * SEC, Duration::from_secs(10));
        assert_eq!(s.left(5 * SEC), Some(Duration::from_secs(6)));
        s.start(5 * SEC, Duration::from_secs(1));
        assert_eq!(s.left(5 * SEC), Some(Duration::from_secs(1)));
        assert!(!s.is_cooling(6 * SEC));
        s.start(7 * SEC, Duration::from_secs(10));
        assert_eq!(s.left(7 * SEC), Some(Duration::from_secs(10)));
    }

    #[test]
    fn allowed_fails_counters_are_not_reset_by_a_cooldown() {
        let s = CooldownState::default();
        let r = rule(Some(1));
        let own = DeploymentCooldown::default();
        let id = DeploymentId::from("d");
        let fail = |t| s.on_failure(&id, FailureKind::InternalServer, t, &r, &own, MULTI);
        assert!(!fail(0));
        assert!(fail(SEC));
        // Still within the 5 s counter: a third failure decides a cooldown again.
        assert!(fail(2 * SEC));
        // The counter expired 5 s after its first failure.
        assert!(!fail(6 * SEC));
    }
}
