//! [`RouterSettings`]: the parts of LiteLLM's `router_settings` / `litellm_settings` that matter to routing.

use std::collections::HashMap;
use std::time::Duration;

use super::cooldown::AllowedFailsPolicy;
use super::strategy::RoutingStrategy;
use crate::attempt::RetryPolicy;
use crate::error::RouteError;

/// Where an alias of `model_group_alias` points.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AliasTarget {
    /// The model group (or any requestable name) the alias stands for.
    pub model: String,
    /// `hidden: true`: the alias routes but should not be listed to users.
    pub hidden: bool,
}

impl AliasTarget {
    /// An alias target, listed.
    pub fn new(model: impl Into<String>) -> Self {
        AliasTarget {
            model: model.into(),
            hidden: false,
        }
    }
}

/// Which failures a fallback list is for (LiteLLM's three lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FallbackKind {
    /// `fallbacks` (then a `"*"` entry, then `default_fallbacks`): any failure.
    #[default]
    General,
    /// `context_window_fallbacks`: the prompt was too long for the model.
    ContextWindow,
    /// `content_policy_fallbacks`: the provider refused the content.
    ContentPolicy,
}

/// The routing settings of a LiteLLM config. Defaults are LiteLLM's.
///
/// ```
/// use modelroute::router::{RouterSettings, RoutingStrategy};
/// use std::time::Duration;
/// let settings = RouterSettings::default()
///     .with_strategy(RoutingStrategy::LeastBusy)
///     .with_alias("gpt4", "gpt-4o")
///     .with_fallbacks("gpt-4o", ["claude-sonnet"])
///     .with_cooldown(1, Duration::from_secs(30));
/// assert_eq!(settings.allowed_fails, Some(1));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RouterSettings {
    /// `routing_strategy` (default `simple-shuffle`).
    pub routing_strategy: RoutingStrategy,
    /// `routing_strategy_args.lowest_latency_buffer`: for `latency-based-routing`, pick at random among the
    /// deployments whose average latency is within this fraction of the best (default 0).
    pub lowest_latency_buffer: f64,
    /// `routing_strategy_args.ttl`: how long latency samples live after a deployment's last one (default
    /// 1 hour), and how long a usage count lives without a change within its minute under
    /// `usage-based-routing` / `-v2` (default 60 s, i.e. the whole minute). `None`: LiteLLM's defaults.
    pub routing_strategy_ttl: Option<Duration>,
    /// `routing_strategy_args.ttft_percentile` (0 < p ≤ 1): for streamed requests under
    /// `latency-based-routing`, compare this percentile of the time-to-first-token samples instead of their
    /// average.
    pub ttft_percentile: Option<f64>,
    /// `default_max_parallel_requests`: routes in flight allowed per deployment that sets neither
    /// `max_parallel_requests`, `rpm` nor `tpm` (see [`usage`](super::usage)).
    pub default_max_parallel_requests: Option<u64>,
    /// `model_group_alias`: requested name → the name to route instead (one step, not followed further).
    pub model_group_alias: HashMap<String, AliasTarget>,
    /// `fallbacks`: model group → the groups to try next, in order.
    pub fallbacks: Vec<(String, Vec<String>)>,
    /// `context_window_fallbacks`.
    pub context_window_fallbacks: Vec<(String, Vec<String>)>,
    /// `content_policy_fallbacks`.
    pub content_policy_fallbacks: Vec<(String, Vec<String>)>,
    /// `default_fallbacks`: groups tried for a request that resolves to nothing, and the general fallbacks of
    /// a group without its own.
    pub default_fallbacks: Vec<String>,
    /// `allowed_fails`: failures tolerated within `cooldown_time` of the first one; one more starts a
    /// cooldown. `None` (the default): LiteLLM's default rule, by the share of failures in the current
    /// minute (see [`cooldown`](super::cooldown) for every rule).
    pub allowed_fails: Option<u32>,
    /// `allowed_fails_policy`: failures tolerated per class (a class without an entry falls back to
    /// `allowed_fails`, else 3).
    pub allowed_fails_policy: Option<AllowedFailsPolicy>,
    /// `cooldown_time`: how long a deployment cools down (default 5 s); a deployment's own `cooldown_time`
    /// wins. Zero disables cooldowns (LiteLLM would use 5 s).
    pub cooldown_time: Duration,
    /// `disable_cooldowns`.
    pub disable_cooldowns: bool,
    /// `num_retries`: how many times the [attempt plan](crate::attempt) retries a group before its
    /// fallbacks; unset, LiteLLM's default, 2 ([`DEFAULT_NUM_RETRIES`](crate::attempt::retry::DEFAULT_NUM_RETRIES)).
    pub num_retries: Option<u32>,
    /// `retry_after`: the shortest backoff between two retries of a group that has no healthy deployment
    /// left (default 0; LiteLLM caps every backoff at 8 s, this one too).
    pub retry_after: Duration,
    /// `retry_policy`: retries per class of failure, instead of `num_retries`.
    pub retry_policy: Option<RetryPolicy>,
    /// `model_group_retry_policy`: a group's own retry policy (it replaces `retry_policy` for that group).
    pub model_group_retry_policy: HashMap<String, RetryPolicy>,
    /// `max_fallbacks`: how deep the attempt plan's walk of fallback chains goes (default 5; see the
    /// [attempt plan](crate::attempt)), and the longest [`FallbackPlan`](super::FallbackPlan).
    pub max_fallbacks: usize,
    /// `enable_tag_filtering`: filter deployments by `litellm_params.tags` against the request's tags (a
    /// group's `model_info.enable_tag_filtering` overrides it; see [`tags`](super::tags)).
    pub enable_tag_filtering: bool,
    /// The longest requested model name, in bytes, that [`Router::route`](crate::Router::route) and
    /// [`Router::explain`](crate::Router::explain) look up (default 1,024: model names are tens of bytes).
    /// A longer one is a [`RouteError::ModelNameTooLong`] before any lookup, so that a client cannot make
    /// routing cost more than this many bytes' worth of work. Not a LiteLLM setting.
    pub max_model_name_len: usize,
    /// `tag_filtering_match_any`: a deployment matches a request sharing one of its tags (`true`, the
    /// default) or only one carrying all of them (`false`).
    pub tag_filtering_match_any: bool,
    /// `enable_pre_call_checks`: leave out the deployments whose context window is smaller than the input
    /// tokens the request states ([`RequestContext::with_input_tokens`](super::RequestContext::with_input_tokens)).
    pub enable_pre_call_checks: bool,
    /// For `lar1`: the `model_info.type` (tier) a request goes to. LiteLLM picks it from the request's LAR-1
    /// metadata; a request here has none, so it is LiteLLM's pick for that case: confidence 0.5 against
    /// `routing_strategy_args.confidence_threshold_low` / `_medium` / `_high` (0.3 / 0.5 / 0.7): below low
    /// `cloud-smart`, below medium `cloud-fast`, below high `local` (the default), else `deep`.
    pub lar1_type: String,
}

impl Default for RouterSettings {
    fn default() -> Self {
        RouterSettings {
            routing_strategy: RoutingStrategy::SimpleShuffle,
            lowest_latency_buffer: 0.0,
            routing_strategy_ttl: None,
            ttft_percentile: None,
            default_max_parallel_requests: None,
            model_group_alias: HashMap::new(),
            fallbacks: Vec::new(),
            context_window_fallbacks: Vec::new(),
            content_policy_fallbacks: Vec::new(),
            default_fallbacks: Vec::new(),
            allowed_fails: None,
            allowed_fails_policy: None,
            cooldown_time: Duration::from_secs(5),
            disable_cooldowns: false,
            num_retries: None,
            retry_after: Duration::ZERO,
            retry_policy: None,
            model_group_retry_policy: HashMap::new(),
            max_fallbacks: 5,
            enable_tag_filtering: false,
            max_model_name_len: 1024,
            tag_filtering_match_any: true,
            enable_pre_call_checks: false,
            lar1_type: "local".to_string(),
        }
    }
}

impl RouterSettings {
    /// With this routing strategy.
    pub fn with_strategy(mut self, strategy: RoutingStrategy) -> Self {
        self.routing_strategy = strategy;
        self
    }

    /// With `routing_strategy_args.lowest_latency_buffer`.
    ///
    /// ```
    /// use modelroute::router::{RouterSettings, RoutingStrategy};
    /// let s = RouterSettings::default()
    ///     .with_strategy(RoutingStrategy::LowestLatency)
    ///     .with_latency_buffer(0.1);
    /// assert_eq!(s.lowest_latency_buffer, 0.1);
    /// ```
    pub fn with_latency_buffer(mut self, buffer: f64) -> Self {
        self.lowest_latency_buffer = buffer;
        self
    }

    /// With `routing_strategy_args.ttl`.
    ///
    /// ```
    /// use modelroute::router::RouterSettings;
    /// use std::time::Duration;
    /// let s = RouterSettings::default().with_strategy_ttl(Duration::from_secs(600));
    /// assert_eq!(s.routing_strategy_ttl, Some(Duration::from_secs(600)));
    /// ```
    pub fn with_strategy_ttl(mut self, ttl: Duration) -> Self {
        self.routing_strategy_ttl = Some(ttl);
        self
    }

    /// With `default_max_parallel_requests`.
    ///
    /// ```
    /// use modelroute::router::{RequestContext, RouterSettings};
    /// use modelroute::{Deployment, Router};
    /// let router = Router::builder()
    ///     .settings(RouterSettings::default().with_default_max_parallel_requests(1))
    ///     .deployment(Deployment::new("g", "openai/gpt-4o")?)
    ///     .build()?;
    /// let held = router.route("g", &RequestContext::new())?;
    /// assert!(router.route("g", &RequestContext::new()).unwrap_err().is_rate_limited());
    /// drop(held);
    /// assert!(router.route("g", &RequestContext::new()).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_default_max_parallel_requests(mut self, limit: u64) -> Self {
        self.default_max_parallel_requests = Some(limit);
        self
    }

    /// With an alias: requests for `alias` route as `target`.
    pub fn with_alias(mut self, alias: impl Into<String>, target: impl Into<String>) -> Self {
        self.model_group_alias
            .insert(alias.into(), AliasTarget::new(target));
        self
    }

    /// With general fallbacks for `group`.
    pub fn with_fallbacks<I, S>(mut self, group: impl Into<String>, to: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fallbacks
            .push((group.into(), to.into_iter().map(Into::into).collect()));
        self
    }

    /// With `context_window_fallbacks` for `group` (tried after a context-window error).
    pub fn with_context_window_fallbacks<I, S>(mut self, group: impl Into<String>, to: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.context_window_fallbacks
            .push((group.into(), to.into_iter().map(Into::into).collect()));
        self
    }

    /// With `content_policy_fallbacks` for `group` (tried after a content-policy refusal).
    pub fn with_content_policy_fallbacks<I, S>(mut self, group: impl Into<String>, to: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.content_policy_fallbacks
            .push((group.into(), to.into_iter().map(Into::into).collect()));
        self
    }

    /// With `num_retries`.
    pub fn with_num_retries(mut self, retries: u32) -> Self {
        self.num_retries = Some(retries);
        self
    }

    /// With `retry_after`: the shortest backoff between retries.
    pub fn with_retry_after(mut self, at_least: Duration) -> Self {
        self.retry_after = at_least;
        self
    }

    /// With `retry_policy`.
    ///
    /// ```
    /// use modelroute::attempt::RetryPolicy;
    /// use modelroute::router::{FailureKind, RouterSettings};
    /// let settings = RouterSettings::default()
    ///     .with_retry_policy(RetryPolicy::new().with(FailureKind::RateLimit, 5))
    ///     .with_model_group_retry_policy("gpt-4o", RetryPolicy::new().with_default(0));
    /// assert_eq!(settings.retry_policy.unwrap().retries(FailureKind::RateLimit), Some(5));
    /// ```
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry_policy = Some(policy);
        self
    }

    /// With a retry policy of `group`'s own (`model_group_retry_policy`).
    pub fn with_model_group_retry_policy(
        mut self,
        group: impl Into<String>,
        policy: RetryPolicy,
    ) -> Self {
        self.model_group_retry_policy.insert(group.into(), policy);
        self
    }

    /// With `max_fallbacks`.
    pub fn with_max_fallbacks(mut self, max: usize) -> Self {
        self.max_fallbacks = max;
        self
    }

    /// With `default_fallbacks`.
    pub fn with_default_fallbacks<I, S>(mut self, to: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.default_fallbacks = to.into_iter().map(Into::into).collect();
        self
    }

    /// With this cooldown rule: more than `allowed_fails` failures within `cooldown_time` of the first
    /// one cool a deployment down for `cooldown_time`.
    pub fn with_cooldown(mut self, allowed_fails: u32, cooldown_time: Duration) -> Self {
        self.allowed_fails = Some(allowed_fails);
        self.cooldown_time = cooldown_time;
        self
    }

    /// With this `allowed_fails_policy`.
    ///
    /// ```
    /// use modelroute::router::{AllowedFailsPolicy, FailureKind, RouterSettings};
    /// let settings = RouterSettings::default()
    ///     .with_allowed_fails_policy(AllowedFailsPolicy::new().with(FailureKind::RateLimit, 10));
    /// assert!(settings.allowed_fails_policy.is_some());
    /// ```
    pub fn with_allowed_fails_policy(mut self, policy: AllowedFailsPolicy) -> Self {
        self.allowed_fails_policy = Some(policy);
        self
    }

    /// With tag filtering on or off.
    pub fn with_tag_filtering(mut self, enabled: bool) -> Self {
        self.enable_tag_filtering = enabled;
        self
    }

    /// With this limit on the length of requested names, in bytes (see
    /// [`RouterSettings::max_model_name_len`]).
    ///
    /// ```
    /// use modelroute::router::RouterSettings;
    /// assert_eq!(RouterSettings::default().max_model_name_len, 1024);
    /// let settings = RouterSettings::default().with_max_model_name_len(4096);
    /// assert_eq!(settings.max_model_name_len, 4096);
    /// ```
    pub fn with_max_model_name_len(mut self, bytes: usize) -> Self {
        self.max_model_name_len = bytes;
        self
    }

    /// Refuses a requested name longer than [`RouterSettings::max_model_name_len`].
    pub(crate) fn check_model_name(&self, model: &str) -> Result<(), RouteError> {
        if model.len() <= self.max_model_name_len {
            return Ok(());
        }
        Err(RouteError::ModelNameTooLong {
            model: model[..model.floor_char_boundary(64)].to_string(),
            len: model.len(),
            max: self.max_model_name_len,
        })
    }

    /// With `tag_filtering_match_any` (`false`: a deployment must carry every tag of the request).
    ///
    /// ```
    /// use modelroute::{Deployment, Router};
    /// use modelroute::router::{RequestContext, RouterSettings};
    /// let router = Router::builder()
    ///     .settings(RouterSettings::default().with_tag_filtering(true).with_tag_match_any(false))
    ///     .deployment(Deployment::new("g", "openai/a")?.with_param("tags", vec!["eu", "fast"])?)
    ///     .deployment(Deployment::new("g", "openai/b")?.with_param("tags", vec!["eu"])?)
    ///     .build()?;
    /// let route = router.route("g", &RequestContext::new().with_tags(&["eu", "fast"]))?;
    /// assert_eq!(route.model(), "openai/a");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_tag_match_any(mut self, match_any: bool) -> Self {
        self.tag_filtering_match_any = match_any;
        self
    }

    /// With pre-call checks (context windows) on or off.
    ///
    /// ```
    /// use modelroute::{Deployment, Router};
    /// use modelroute::router::{RequestContext, RouterSettings};
    /// let router = Router::builder()
    ///     .settings(RouterSettings::default().with_pre_call_checks(true))
    ///     .deployment(Deployment::new("g", "openai/small")?.with_info("max_input_tokens", 8192)?)
    ///     .deployment(Deployment::new("g", "openai/large")?.with_info("max_input_tokens", 128_000)?)
    ///     .build()?;
    /// let route = router.route("g", &RequestContext::new().with_input_tokens(20_000))?;
    /// assert_eq!(route.model(), "openai/large");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_pre_call_checks(mut self, enabled: bool) -> Self {
        self.enable_pre_call_checks = enabled;
        self
    }

    pub(crate) fn fallback_list(&self, kind: FallbackKind) -> &[(String, Vec<String>)] {
        match kind {
            FallbackKind::General => &self.fallbacks,
            FallbackKind::ContextWindow => &self.context_window_fallbacks,
            FallbackKind::ContentPolicy => &self.content_policy_fallbacks,
        }
    }
}
