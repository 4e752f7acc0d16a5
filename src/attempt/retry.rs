//! How often a group is tried again, and how long to wait in between, as LiteLLM 1.109.1 decides it
//! (`Router.async_function_with_retries`, `should_retry_this_error`, `_time_to_sleep_before_retry`,
//! `litellm.utils.calculate_retry_after`, `litellm_core_utils/get_retry_from_policy.py`).
//!
//! - **How many retries**: `num_retries` (LiteLLM's default when unset: 2, the OpenAI SDK's
//!   `DEFAULT_MAX_RETRIES`), unless a [`RetryPolicy`] has a count for the class of the group's *first*
//!   failure: the group's entry of `model_group_retry_policy`, else `retry_policy`. A policy count is
//!   obeyed as is; without one, each failure must also pass LiteLLM's `should_retry_this_error`
//!   (`should_retry`).
//! - **How long to wait**: nothing when the group has more than one deployment and one of them
//!   is still healthy (another deployment takes the retry); else the server's `Retry-After` when it is
//!   between 0 and 60 s (exclusive, inclusive), else an exponential backoff of 0.5 s × 2^(retry − 1), at
//!   least `retry_after`, at most 8 s; plus a jitter of up to 0.75 s, drawn from the router's
//!   [`RandomSource`].

use std::time::Duration;

use serde_json::Value;

use crate::error::RetryPolicyError;
use crate::router::{FailureKind, RandomSource};

/// LiteLLM's `INITIAL_RETRY_DELAY`: the first backoff, in seconds.
pub const INITIAL_RETRY_DELAY: Duration = Duration::from_millis(500);
/// LiteLLM's `MAX_RETRY_DELAY`: the longest backoff (and the cap on `retry_after`).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(8);
/// LiteLLM's `JITTER`: at most this much is added to every computed delay.
pub const JITTER: Duration = Duration::from_millis(750);
/// The longest `Retry-After` LiteLLM obeys; a longer one is ignored (the backoff applies).
pub const MAX_SERVER_RETRY_AFTER: Duration = Duration::from_secs(60);
/// `num_retries` when the config does not set it: LiteLLM's Router takes the OpenAI SDK's
/// `DEFAULT_MAX_RETRIES`.
pub const DEFAULT_NUM_RETRIES: u32 = 2;

/// `retry_policy` / `model_group_retry_policy`: how many retries each class of failure gets (LiteLLM's
/// `RetryPolicy`). A class without an entry takes `DefaultRetries`; without that either, the policy says
/// nothing and `num_retries` applies, with LiteLLM's checks of whether the failure is worth retrying.
///
/// A failure counts for the most specific entry LiteLLM's class hierarchy gives it: any 404 for
/// `NotFoundErrorRetries`; a content policy violation for `ContentPolicyViolationErrorRetries`, else
/// `BadRequestErrorRetries` (it is a bad request), a context window error for `BadRequestErrorRetries`. A
/// bad gateway (502), a connection error or any other status only ever take `DefaultRetries`.
///
/// ```
/// use modelroute::attempt::RetryPolicy;
/// use modelroute::router::FailureKind;
/// let policy = RetryPolicy::from_json(&serde_json::json!({
///     "RateLimitErrorRetries": 4,
///     "BadRequestErrorRetries": 0,
///     "DefaultRetries": 1
/// }))?;
/// assert_eq!(policy.retries(FailureKind::RateLimit), Some(4));
/// assert_eq!(policy.retries(FailureKind::ContextWindowExceeded), Some(0));
/// assert_eq!(policy.retries(FailureKind::BadGateway), Some(1));
/// # Ok::<(), modelroute::error::RetryPolicyError>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// `BadRequestErrorRetries` (also context window errors, and content policy violations without an
    /// entry of their own).
    pub bad_request: Option<u32>,
    /// `AuthenticationErrorRetries`.
    pub authentication: Option<u32>,
    /// `TimeoutErrorRetries`.
    pub timeout: Option<u32>,
    /// `RateLimitErrorRetries`.
    pub rate_limit: Option<u32>,
    /// `ContentPolicyViolationErrorRetries`.
    pub content_policy_violation: Option<u32>,
    /// `InternalServerErrorRetries`.
    pub internal_server: Option<u32>,
    /// `ServiceUnavailableErrorRetries`.
    pub service_unavailable: Option<u32>,
    /// `NotFoundErrorRetries` (any 404).
    pub not_found: Option<u32>,
    /// `DefaultRetries`: every class without an entry.
    pub default: Option<u32>,
}

impl RetryPolicy {
    /// The keys LiteLLM's `RetryPolicy` has.
    pub const KEYS: [&'static str; 9] = [
        "BadRequestErrorRetries",
        "AuthenticationErrorRetries",
        "TimeoutErrorRetries",
        "RateLimitErrorRetries",
        "ContentPolicyViolationErrorRetries",
        "InternalServerErrorRetries",
        "ServiceUnavailableErrorRetries",
        "NotFoundErrorRetries",
        "DefaultRetries",
    ];

    /// No entry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads LiteLLM's mapping (`{"RateLimitErrorRetries": 3, …}`; `null` is no entry). Strict: an unknown
    /// key or a value that is not a non-negative integer is an error (a typo must not silently leave a class
    /// at `num_retries`).
    pub fn from_json(value: &Value) -> Result<Self, RetryPolicyError> {
        let map = value.as_object().ok_or(RetryPolicyError::NotAMapping)?;
        let mut policy = RetryPolicy::default();
        for (key, v) in map {
            let slot = policy
                .slot_mut(key)
                .ok_or_else(|| RetryPolicyError::UnknownKey(key.clone()))?;
            *slot = match v {
                Value::Null => None,
                v => Some(
                    v.as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| RetryPolicyError::NotACount(key.clone()))?,
                ),
            };
        }
        Ok(policy)
    }

    fn slot_mut(&mut self, key: &str) -> Option<&mut Option<u32>> {
        Some(match key {
            "BadRequestErrorRetries" => &mut self.bad_request,
            "AuthenticationErrorRetries" => &mut self.authentication,
            "TimeoutErrorRetries" => &mut self.timeout,
            "RateLimitErrorRetries" => &mut self.rate_limit,
            "ContentPolicyViolationErrorRetries" => &mut self.content_policy_violation,
            "InternalServerErrorRetries" => &mut self.internal_server,
            "ServiceUnavailableErrorRetries" => &mut self.service_unavailable,
            "NotFoundErrorRetries" => &mut self.not_found,
            "DefaultRetries" => &mut self.default,
            _ => return None,
        })
    }

    /// With `n` retries for `kind`'s own entry (a [`FailureKind::Status`] is set as the class it normalizes
    /// to; a class without an entry of its own, such as a bad gateway, sets nothing: use
    /// [`RetryPolicy::with_default`]).
    ///
    /// ```
    /// use modelroute::attempt::RetryPolicy;
    /// use modelroute::router::FailureKind;
    /// let policy = RetryPolicy::new().with(FailureKind::Status(429), 5);
    /// assert_eq!(policy.retries(FailureKind::RateLimit), Some(5));
    /// assert_eq!(policy.retries(FailureKind::Timeout), None);
    /// ```
    pub fn with(mut self, kind: FailureKind, n: u32) -> Self {
        let slot = match kind.normalized() {
            FailureKind::BadRequest | FailureKind::ContextWindowExceeded => &mut self.bad_request,
            FailureKind::Authentication => &mut self.authentication,
            FailureKind::Timeout => &mut self.timeout,
            FailureKind::RateLimit => &mut self.rate_limit,
            FailureKind::ContentPolicyViolation => &mut self.content_policy_violation,
            FailureKind::InternalServer => &mut self.internal_server,
            FailureKind::ServiceUnavailable => &mut self.service_unavailable,
            FailureKind::NotFound => &mut self.not_found,
            _ => return self,
        };
        *slot = Some(n);
        self
    }

    /// With `DefaultRetries`: `n` retries for every class without an entry.
    pub fn with_default(mut self, n: u32) -> Self {
        self.default = Some(n);
        self
    }

    /// How many retries this policy gives a failure of `kind`, if it says anything about it
    /// (`get_num_retries_from_retry_policy`): a 404's `NotFoundErrorRetries`, then the entries of the
    /// class and its parents, most specific first, then `DefaultRetries`.
    pub fn retries(&self, kind: FailureKind) -> Option<u32> {
        self.retries_for(Cause::Failure(kind.normalized()))
    }

    pub(crate) fn retries_for(&self, cause: Cause) -> Option<u32> {
        let own = match cause {
            Cause::Failure(kind) => {
                let by_status = if kind.status() == 404 {
                    self.not_found
                } else {
                    None
                };
                by_status.or(match kind {
                    FailureKind::Authentication => self.authentication,
                    FailureKind::Timeout => self.timeout,
                    FailureKind::RateLimit => self.rate_limit,
                    FailureKind::ContentPolicyViolation => {
                        self.content_policy_violation.or(self.bad_request)
                    }
                    FailureKind::BadRequest | FailureKind::ContextWindowExceeded => {
                        self.bad_request
                    }
                    FailureKind::ServiceUnavailable => self.service_unavailable,
                    FailureKind::InternalServer => self.internal_server,
                    _ => None,
                })
            }
            // LiteLLM raises a `BadRequestError` for a name no deployment serves.
            Cause::NotFound => self.bad_request,
            // LiteLLM's `RouterRateLimitError` is a `ValueError`: no class of the policy.
            Cause::NoneAvailable => None,
        };
        own.or(self.default)
    }
}

/// What made an attempt fail, in the terms LiteLLM's retry rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cause {
    /// A deployment answered with a failure (normalized), or the pre-call checks found the request too long
    /// for every deployment (LiteLLM's `ContextWindowExceededError`).
    Failure(FailureKind),
    /// The name resolves to nothing (LiteLLM's `BadRequestError`, status 400).
    NotFound,
    /// Every deployment of the group is blocked, cooling down or filtered out (LiteLLM's
    /// `RouterRateLimitError`, status 429, not a rate-limit class).
    NoneAvailable,
}

impl Cause {
    fn status(self) -> u16 {
        match self {
            Cause::Failure(kind) => kind.status(),
            Cause::NotFound => 400,
            Cause::NoneAvailable => 429,
        }
    }

    fn kind(self) -> Option<FailureKind> {
        match self {
            Cause::Failure(kind) => Some(kind),
            Cause::NotFound | Cause::NoneAvailable => None,
        }
    }
}

/// What `should_retry_this_error` reads besides the failure: the group's deployments and which fallback
/// lists are configured.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryContext {
    /// Deployments of the group that are not cooling down and not blocked, after the failure was reported.
    pub healthy: usize,
    /// Deployments of the group.
    pub all: usize,
    /// `context_window_fallbacks` is not empty.
    pub context_window_fallbacks: bool,
    /// `content_policy_fallbacks` is not empty.
    pub content_policy_fallbacks: bool,
}

/// LiteLLM's `should_retry_this_error` (used when no retry policy has a count for the failure): a context
/// window error or a content policy violation is not retried when its own fallback list is configured; a
/// status LiteLLM would not retry (anything but 408, 409, 429 and 5xx) is not, except 401 and 403; an
/// authentication error is retried only in a group of several deployments; and nothing is retried when no
/// deployment of the group is healthy.
pub(crate) fn should_retry(cause: Cause, ctx: &RetryContext) -> bool {
    let kind = cause.kind();
    if kind == Some(FailureKind::ContextWindowExceeded) && ctx.context_window_fallbacks {
        return false;
    }
    if kind == Some(FailureKind::ContentPolicyViolation) && ctx.content_policy_fallbacks {
        return false;
    }
    let status = cause.status();
    let retryable = matches!(status, 408 | 409 | 429 | 500..);
    if !retryable && status != 401 && status != 403 {
        return false;
    }
    if kind == Some(FailureKind::Authentication) && ctx.all <= 1 {
        return false;
    }
    ctx.healthy > 0
}

/// How long to wait before retry number `retry` (1 for the first) after a failure with the server's
/// `Retry-After` `server`: LiteLLM's `_time_to_sleep_before_retry` (see the [module docs](self)).
pub(crate) fn delay(
    retry: u32,
    server: Option<Duration>,
    ctx: &RetryContext,
    retry_after: Duration,
    rng: &dyn RandomSource,
) -> Duration {
    if ctx.all != 1 && ctx.healthy > 0 {
        return Duration::ZERO;
    }
    let jitter = jitter(rng);
    if let Some(server) = server
        && !server.is_zero()
        && server <= MAX_SERVER_RETRY_AFTER
    {
        return server + jitter;
    }
    backoff(retry, retry_after) + jitter
}

/// `INITIAL_RETRY_DELAY × 2^(retry − 1)`, at least `retry_after`, at most `MAX_RETRY_DELAY`.
fn backoff(retry: u32, retry_after: Duration) -> Duration {
    let exponent = retry.saturating_sub(1).min(16) as i32;
    let seconds = INITIAL_RETRY_DELAY.as_secs_f64() * 2f64.powi(exponent);
    Duration::from_secs_f64(seconds)
        .max(retry_after)
        .min(MAX_RETRY_DELAY)
}

/// `JITTER × random.random()`: a uniform fraction in `[0, 1)` of 53 bits (Python's), times the jitter, in
/// whole nanoseconds rounded down (so always under `JITTER`).
fn jitter(rng: &dyn RandomSource) -> Duration {
    let fraction = u128::from(rng.next_u64() >> 11);
    let nanos = (JITTER.as_nanos() * fraction) >> 53;
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed(u64);
    impl RandomSource for Fixed {
        fn next_u64(&self) -> u64 {
            self.0
        }
    }

    fn ctx(healthy: usize, all: usize) -> RetryContext {
        RetryContext {
            healthy,
            all,
            context_window_fallbacks: false,
            content_policy_fallbacks: false,
        }
    }

    #[test]
    fn backoff_doubles_from_half_a_second_up_to_eight() {
        let got: Vec<f64> = (1..=7)
            .map(|r| backoff(r, Duration::ZERO).as_secs_f64())
            .collect();
        assert_eq!(got, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]);
        // retry_after is a floor, itself capped at 8 s.
        assert_eq!(backoff(1, Duration::from_secs(3)), Duration::from_secs(3));
        assert_eq!(backoff(1, Duration::from_secs(30)), MAX_RETRY_DELAY);
        assert_eq!(backoff(u32::MAX, Duration::ZERO), MAX_RETRY_DELAY);
    }

    #[test]
    fn jitter_adds_up_to_three_quarters_of_a_second() {
        let none = delay(1, None, &ctx(0, 2), Duration::ZERO, &Fixed(0));
        assert_eq!(none, Duration::from_millis(500));
        let most = delay(1, None, &ctx(0, 2), Duration::ZERO, &Fixed(u64::MAX));
        assert!(most > Duration::from_millis(1249) && most < Duration::from_millis(1250));
    }

    #[test]
    fn a_healthy_sibling_takes_the_retry_at_once_but_a_single_deployment_waits() {
        let zero = Fixed(0);
        assert_eq!(
            delay(1, None, &ctx(1, 2), Duration::ZERO, &zero),
            Duration::ZERO
        );
        assert_eq!(
            delay(2, None, &ctx(1, 1), Duration::ZERO, &zero),
            Duration::from_secs(1)
        );
        let server = Some(Duration::from_secs(7));
        assert_eq!(
            delay(1, server, &ctx(1, 1), Duration::ZERO, &zero),
            Duration::from_secs(7)
        );
        // Past 60 s, or zero, the server's value is ignored.
        let long = Some(Duration::from_secs(61));
        assert_eq!(
            delay(1, long, &ctx(0, 1), Duration::ZERO, &zero),
            INITIAL_RETRY_DELAY
        );
        assert_eq!(
            delay(1, Some(Duration::ZERO), &ctx(0, 1), Duration::ZERO, &zero),
            INITIAL_RETRY_DELAY
        );
    }

    #[test]
    fn retry_checks_follow_should_retry_this_error() {
        let f = Cause::Failure;
        assert!(should_retry(f(FailureKind::InternalServer), &ctx(1, 2)));
        assert!(!should_retry(f(FailureKind::InternalServer), &ctx(0, 2)));
        assert!(!should_retry(f(FailureKind::BadRequest), &ctx(2, 2)));
        assert!(!should_retry(f(FailureKind::NotFound), &ctx(2, 2)));
        assert!(should_retry(f(FailureKind::Authentication), &ctx(1, 2)));
        assert!(!should_retry(f(FailureKind::Authentication), &ctx(1, 1)));
        assert!(should_retry(f(FailureKind::Status(403)), &ctx(1, 1)));
        assert!(should_retry(f(FailureKind::Status(409)), &ctx(1, 1)));
        assert!(!should_retry(f(FailureKind::Status(418)), &ctx(1, 1)));
        assert!(should_retry(f(FailureKind::Connection), &ctx(1, 1)));
        assert!(!should_retry(Cause::NoneAvailable, &ctx(0, 2)));
        assert!(!should_retry(Cause::NotFound, &ctx(0, 0)));
        let mut cw = ctx(2, 2);
        assert!(!should_retry(f(FailureKind::ContextWindowExceeded), &cw));
        cw.context_window_fallbacks = true;
        assert!(!should_retry(f(FailureKind::RateLimit), &ctx(0, 2)));
        assert!(should_retry(f(FailureKind::RateLimit), &cw));
    }

    #[test]
    fn policy_entries_follow_litellms_class_hierarchy() {
        let p = RetryPolicy::new()
            .with(FailureKind::BadRequest, 1)
            .with(FailureKind::NotFound, 4);
        assert_eq!(p.retries(FailureKind::ContentPolicyViolation), Some(1));
        assert_eq!(p.retries(FailureKind::ContextWindowExceeded), Some(1));
        assert_eq!(p.retries(FailureKind::Status(404)), Some(4));
        assert_eq!(p.retries(FailureKind::RateLimit), None);
        assert_eq!(p.retries_for(Cause::NotFound), Some(1));
        assert_eq!(p.retries_for(Cause::NoneAvailable), None);
        let p = p
            .with(FailureKind::ContentPolicyViolation, 0)
            .with_default(2);
        assert_eq!(p.retries(FailureKind::ContentPolicyViolation), Some(0));
        assert_eq!(p.retries(FailureKind::BadGateway), Some(2));
        assert_eq!(p.retries_for(Cause::NoneAvailable), Some(2));
        assert_eq!(p.retries(FailureKind::Connection), Some(2));
    }

    #[test]
    fn policies_read_litellms_keys_strictly() {
        let p = RetryPolicy::from_json(&serde_json::json!({
            "TimeoutErrorRetries": 2, "InternalServerErrorRetries": null
        }))
        .unwrap();
        assert_eq!(p.timeout, Some(2));
        assert_eq!(p.internal_server, None);
        for key in RetryPolicy::KEYS {
            let one = RetryPolicy::from_json(&serde_json::json!({ key: 1 })).unwrap();
            assert_ne!(one, RetryPolicy::default(), "{key}");
        }
        assert!(matches!(
            RetryPolicy::from_json(&serde_json::json!({"RateLimitRetries": 1})),
            Err(RetryPolicyError::UnknownKey(k)) if k == "RateLimitRetries"
        ));
        assert!(matches!(
            RetryPolicy::from_json(&serde_json::json!({"DefaultRetries": -1})),
            Err(RetryPolicyError::NotACount(_))
        ));
        assert_eq!(
            RetryPolicy::from_json(&serde_json::json!([])),
            Err(RetryPolicyError::NotAMapping)
        );
    }
}
