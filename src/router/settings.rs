//! [`RouterSettings`]: the parts of LiteLLM's `router_settings` / `litellm_settings` that matter to routing.

use std::collections::HashMap;
use std::time::Duration;

use super::strategy::RoutingStrategy;

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
/// assert_eq!(settings.allowed_fails, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RouterSettings {
    /// `routing_strategy` (default `simple-shuffle`).
    pub routing_strategy: RoutingStrategy,
    /// `routing_strategy_args.lowest_latency_buffer`: for `latency-based-routing`, pick at random among the
    /// deployments whose average latency is within this fraction of the best (default 0).
    pub lowest_latency_buffer: f64,
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
    /// `allowed_fails`: counted failures tolerated within `failure_window`; one more starts a cooldown
    /// (default 3, LiteLLM's `litellm.allowed_fails`).
    pub allowed_fails: u32,
    /// `cooldown_time` (default 5 s).
    pub cooldown_time: Duration,
    /// How far back failures are counted (default 60 s: LiteLLM documents `allowed_fails` per minute).
    pub failure_window: Duration,
    /// `disable_cooldowns`.
    pub disable_cooldowns: bool,
    /// `num_retries`: how many times the caller should retry one group before its fallbacks (not used by
    /// the router itself; carried in [`FallbackPlan`](super::FallbackPlan)).
    pub num_retries: Option<u32>,
    /// `max_fallbacks`: the longest fallback plan (default 5).
    pub max_fallbacks: usize,
    /// `enable_tag_filtering`: filter deployments by `litellm_params.tags` against the request's tags.
    pub enable_tag_filtering: bool,
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
            model_group_alias: HashMap::new(),
            fallbacks: Vec::new(),
            context_window_fallbacks: Vec::new(),
            content_policy_fallbacks: Vec::new(),
            default_fallbacks: Vec::new(),
            allowed_fails: 3,
            cooldown_time: Duration::from_secs(5),
            failure_window: Duration::from_secs(60),
            disable_cooldowns: false,
            num_retries: None,
            max_fallbacks: 5,
            enable_tag_filtering: false,
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

    /// With `default_fallbacks`.
    pub fn with_default_fallbacks<I, S>(mut self, to: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.default_fallbacks = to.into_iter().map(Into::into).collect();
        self
    }

    /// With this cooldown rule: more than `allowed_fails` counted failures within the failure window cool a
    /// deployment down for `cooldown_time`.
    pub fn with_cooldown(mut self, allowed_fails: u32, cooldown_time: Duration) -> Self {
        self.allowed_fails = allowed_fails;
        self.cooldown_time = cooldown_time;
        self
    }

    /// With tag filtering on or off.
    pub fn with_tag_filtering(mut self, enabled: bool) -> Self {
        self.enable_tag_filtering = enabled;
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
