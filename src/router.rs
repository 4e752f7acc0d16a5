//! [`Router`]: resolve a requested model name to one deployment, the way LiteLLM users expect, minus
//! LiteLLM's bugs.
//!
//! # Following a request
//! [`Router::route`] reads top-down:
//! 1. **Resolve** the name to one group of deployments, in LiteLLM's order:
//!    1. a deployment id (`model_info.id`), for a name that is no `model_name`: that deployment, taken as
//!       asked ([`MatchKind::DeploymentId`]: no cooldown, tag or `order` filter; a blocked one is refused;
//!       a team's deployment only for that team, a wildcard deployment never);
//!    2. an alias of `model_group_alias` (one step; what follows uses the target);
//!    3. for a request with a team, that team's public names; then an exact `model_name`;
//!    4. the team's wildcards, then the global ones (the whole name must match; the most specific pattern
//!       wins), each with the name, then with LiteLLM's provider retry: `gpt-4o-mini` as
//!       `openai/gpt-4o-mini` when `openai/*` is deployed ([`ModelProviders`]);
//!    5. the `litellm_params.model` of deployments without a team ([`MatchKind::LitellmModel`]);
//!    6. each of `default_fallbacks` in turn (steps 3-4, without the provider retry).
//!
//!    Nothing found is a [`RouteError::NoDeployment`] that lists every step tried: never a guess.
//! 2. **Filter** the group: drop blocked deployments and those cooling down, apply tag filtering (when
//!    `enable_tag_filtering` is on), and keep the lowest `order` (a deployment without `order` comes last).
//!    Nothing left is a [`RouteError::NoneAvailable`] saying why and when the first cooldown ends.
//! 3. **Pick** one with the [`RoutingStrategy`].
//! 4. Return a [`Route`]: the deployment (kept alive by the route even if removed meanwhile), the concrete
//!    model name (a wildcard's captures substituted) and why it was chosen. The route counts as in flight
//!    until dropped (what `least-busy` balances on).
//!
//! The caller reports how the request went ([`Router::report`]): failures that LiteLLM counts cool a
//! deployment down, latencies feed `latency-based-routing`. When a group fails, [`Router::fallbacks`] gives
//! the groups to try next, in order.
//!
//! ```
//! use modelroute::{Deployment, Router};
//! use modelroute::router::{FailureKind, Outcome, RequestContext, RouterSettings};
//! use std::time::Duration;
//!
//! let router = Router::builder()
//!     .settings(RouterSettings::default().with_alias("smart", "gpt-4o"))
//!     .deployment(Deployment::new("gpt-4o", "azure/gpt-4o-eu")?.with_param("rpm", 900)?)
//!     .deployment(Deployment::new("gpt-4o", "openai/gpt-4o")?.with_param("rpm", 100)?)
//!     .deployment(Deployment::new("openai/*", "openai/*")?)
//!     .seed(42) // deterministic picks
//!     .build()?;
//!
//! let route = router.route("smart", &RequestContext::new())?;
//! assert_eq!(route.group(), "gpt-4o");
//! assert!(route.model().contains("gpt-4o"));
//! router.report(&route, Outcome::success(Duration::from_millis(420)));
//!
//! let route = router.route("openai/gpt-4.1-mini", &RequestContext::new())?;
//! assert_eq!(route.model(), "openai/gpt-4.1-mini");
//! router.report(&route, Outcome::failure(FailureKind::Status(429)));
//!
//! let err = router.route("mistral-large", &RequestContext::new()).unwrap_err();
//! assert!(err.is_not_found());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Changing a running router
//! [`Router::apply`] (a [`ChangeSet`]) and [`Router::reconcile`] (the full desired list) validate
//! everything first (an invalid change leaves the router untouched), then change the state under a write
//! lock held only for the changes themselves: a concurrent `route` sees the old state or the new one, never
//! a mix. `reconcile` compares the list with the state while requests keep being routed. Readers take a
//! sharded read lock (one lock per thread slot, each on its own cache line), so routes on many threads do
//! not contend; a write takes every shard. After `reconcile(list)` the router routes exactly like one built fresh from `list` (same
//! deployments, same order within every group, same precedence between equally specific patterns). The
//! health and strategy state of a removed deployment goes with it (LiteLLM #33168, #34564); an upsert keeps
//! it unless what is called changed (any `litellm_params` key other than `rpm`, `tpm`, `weight`, `order`,
//! `tags`).

mod fallback;
mod filter;
mod health;
mod model_provider;
mod resolve;
mod settings;
mod sharded;
pub(crate) mod state;
mod strategy;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

pub use self::fallback::{FallbackPlan, FallbackSource};
pub use self::filter::CandidateStatus;
pub use self::health::{DeploymentHealth, FailureKind, Outcome};
pub use self::model_provider::ModelProviders;
pub use self::resolve::{MatchKind, Tried};
pub use self::settings::{AliasTarget, FallbackKind, RouterSettings};
pub use self::strategy::{RandomSource, RoutingStrategy, SplitMix64, UnknownStrategy};

use self::filter::Eligibility;
use self::health::{CooldownRule, InFlight, Stats};
use self::resolve::Found;
use self::sharded::Sharded;
use self::state::{GroupKey, Member, State};
use self::strategy::StrategyInput;
use crate::clock::{Clock, SystemClock};
use crate::config::RouterConfig;
use crate::deployment::{Deployment, DeploymentId};
use crate::error::{ChangeError, RouteError};
use crate::pattern::PatternRouter;
use crate::trace;

/// Who is asking: the team (for team public names and team wildcards) and the request's tags (for tag
/// filtering). Borrowed, so building one allocates nothing.
///
/// ```
/// use modelroute::router::RequestContext;
/// let ctx = RequestContext::new().with_team("team-a").with_tags(&["eu"]);
/// assert_eq!(ctx.team(), Some("team-a"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContext<'a> {
    team: Option<&'a str>,
    tags: &'a [&'a str],
}

impl<'a> RequestContext<'a> {
    /// No team, no tags.
    pub const fn new() -> Self {
        RequestContext {
            team: None,
            tags: &[],
        }
    }
    /// For a request of this team.
    pub fn with_team(mut self, team: &'a str) -> Self {
        self.team = Some(team);
        self
    }
    /// With these tags.
    pub fn with_tags(mut self, tags: &'a [&'a str]) -> Self {
        self.tags = tags;
        self
    }
    /// The team.
    pub fn team(&self) -> Option<&'a str> {
        self.team
    }
    /// The tags.
    pub fn tags(&self) -> &'a [&'a str] {
        self.tags
    }
}

/// Why a route was chosen: how the name resolved and how the deployment was picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteReason {
    matched: MatchKind,
    group: Arc<str>,
    alias: Option<Arc<str>>,
    retried_as: Option<Arc<str>>,
    default_fallback: bool,
    strategy: RoutingStrategy,
    eligible: usize,
    total: usize,
}

impl RouteReason {
    /// How the name matched.
    pub fn matched(&self) -> &MatchKind {
        &self.matched
    }
    /// The group: the model name, public name or pattern that matched (for a deployment id, the deployment's
    /// model name; for a `litellm_params.model`, that model).
    pub fn group(&self) -> &str {
        &self.group
    }
    /// The alias the request used, if any.
    pub fn alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }
    /// The name a wildcard matched when it matched only after LiteLLM's provider retry: `openai/gpt-4o-mini`
    /// for a request of `gpt-4o-mini` (see [`ModelProviders`]).
    ///
    /// ```
    /// use modelroute::{Deployment, Router, router::RequestContext};
    /// let router = Router::new([Deployment::new("openai/*", "openai/*")?])?;
    /// let route = router.route("gpt-4o-mini", &RequestContext::new())?;
    /// assert_eq!(route.model(), "openai/gpt-4o-mini");
    /// assert_eq!(route.reason().retried_as(), Some("openai/gpt-4o-mini"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retried_as(&self) -> Option<&str> {
        self.retried_as.as_deref()
    }
    /// Whether the request resolved to nothing and was routed to a `default_fallbacks` group.
    pub fn is_default_fallback(&self) -> bool {
        self.default_fallback
    }
    /// The strategy that picked.
    pub fn strategy(&self) -> RoutingStrategy {
        self.strategy
    }
    /// How many deployments were eligible.
    pub fn eligible(&self) -> usize {
        self.eligible
    }
    /// How many deployments the group has.
    pub fn group_size(&self) -> usize {
        self.total
    }
}

impl fmt::Display for RouteReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(alias) = &self.alias {
            write!(f, "alias `{alias}` -> ")?;
        }
        if self.default_fallback {
            f.write_str("default fallback ")?;
        }
        match &self.matched {
            MatchKind::Exact => write!(f, "model `{}`", self.group)?,
            MatchKind::Wildcard { pattern } => write!(f, "wildcard `{pattern}`")?,
            MatchKind::TeamName { team } => write!(f, "team `{team}` model `{}`", self.group)?,
            MatchKind::TeamWildcard { team, pattern } => {
                write!(f, "team `{team}` wildcard `{pattern}`")?
            }
            MatchKind::DeploymentId => write!(f, "deployment id (model `{}`)", self.group)?,
            MatchKind::LitellmModel => write!(f, "litellm_params.model `{}`", self.group)?,
        }
        if let Some(retried) = &self.retried_as {
            write!(f, " as `{retried}`")?;
        }
        write!(
            f,
            "; {} among {} of {} deployment(s)",
            self.strategy, self.eligible, self.total
        )
    }
}

/// The deployment chosen for a request, its concrete model name, and why.
///
/// Holds the deployment (alive even if a reconcile removes it meanwhile) and counts as a request in flight
/// for that deployment until dropped: keep it for the duration of the request.
#[derive(Debug)]
pub struct Route {
    deployment: Arc<Deployment>,
    model: Option<Box<str>>,
    reason: RouteReason,
    wildcard: bool,
    guard: InFlight,
}

impl Route {
    /// The deployment to call.
    pub fn deployment(&self) -> &Arc<Deployment> {
        &self.deployment
    }
    /// Its id.
    pub fn id(&self) -> &DeploymentId {
        self.deployment.id()
    }
    /// The concrete model to call: `litellm_params.model`, with a wildcard's captures in place of its `*`.
    pub fn model(&self) -> &str {
        self.model
            .as_deref()
            .unwrap_or_else(|| self.deployment.litellm_params().model())
    }
    /// The group that served the request (model name, public name or pattern).
    pub fn group(&self) -> &str {
        &self.reason.group
    }
    /// Why this deployment.
    pub fn reason(&self) -> &RouteReason {
        &self.reason
    }
}

/// One deployment of a resolved group, with its concrete model name and whether it may take a request
/// now ([`Router::explain`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The deployment.
    pub deployment: Arc<Deployment>,
    /// The concrete model name.
    pub model: String,
    /// Whether it is eligible now, or why not.
    pub availability: CandidateStatus,
}

/// What a name resolves to, without picking ([`Router::explain`]): every deployment of the group, in
/// config order.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    /// How the name matched (the strategy fields say what would pick).
    pub reason: RouteReason,
    /// The group's deployments in config order.
    pub candidates: Vec<Candidate>,
}

/// Changes for [`Router::apply`]: removes first, then upserts in order.
///
/// ```
/// use modelroute::{Deployment, router::ChangeSet};
/// let changes = ChangeSet::new()
///     .upsert(Deployment::new("gpt-4o", "openai/gpt-4o")?.with_id("a")?)
///     .remove("b");
/// assert_eq!(changes.upserts.len(), 1);
/// # Ok::<(), modelroute::DeploymentError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ChangeSet {
    /// Deployments to add or replace (by id).
    pub upserts: Vec<Arc<Deployment>>,
    /// Ids to remove.
    pub removes: Vec<DeploymentId>,
}

impl ChangeSet {
    /// No change.
    pub fn new() -> Self {
        Self::default()
    }
    /// Also add or replace `deployment`.
    pub fn upsert(mut self, deployment: impl Into<Arc<Deployment>>) -> Self {
        self.upserts.push(deployment.into());
        self
    }
    /// Also remove `id`.
    pub fn remove(mut self, id: impl Into<DeploymentId>) -> Self {
        self.removes.push(id.into());
        self
    }
}

/// What [`Router::apply`] or [`Router::reconcile`] changed.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct ApplyReport {
    /// Deployments added.
    pub added: usize,
    /// Deployments replaced by a different one with the same id.
    pub updated: usize,
    /// Upserted deployments identical to the current ones.
    pub unchanged: usize,
    /// Deployments removed.
    pub removed: usize,
    /// Removals of ids the router did not have.
    pub not_found: usize,
    /// How long the write lock was held (requests wait at most this long; measured with the real clock).
    pub write_lock_held: std::time::Duration,
}

/// One group of the [`RoutingTable`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TableGroup {
    /// The team, for a team's group.
    pub team: Option<String>,
    /// The model name, public name or pattern.
    pub name: String,
    /// Whether `name` is a wildcard pattern.
    pub wildcard: bool,
    /// The deployments, in routing order.
    pub deployments: Vec<Arc<Deployment>>,
}

/// Everything the router routes by, in a canonical order: per scope (global first, then teams by id), the
/// exact names sorted, then the patterns in precedence order (most specific first, ties in insertion
/// order), each with its deployments in routing order. Two routers with equal tables route every request
/// alike.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingTable {
    /// The groups.
    pub groups: Vec<TableGroup>,
}

/// Resolves requested model names to deployments. See the [module docs](self).
///
/// `Send + Sync`: share it (e.g. in an `Arc`) between request handlers and the task that applies config
/// changes.
pub struct Router {
    state: Sharded<State>,
    settings: RouterSettings,
    /// alias -> (alias, target), shared with routes.
    aliases: std::collections::HashMap<Box<str>, (Arc<str>, Arc<str>)>,
    default_fallbacks: Vec<Arc<str>>,
    /// The provider of a bare name, for the provider retry of wildcard resolution.
    model_providers: ModelProviders,
    rule: CooldownRule,
    clock: Arc<dyn Clock>,
    epoch: Instant,
    rng: Arc<dyn RandomSource>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("deployments", &self.len())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Found<'_> {
    /// The concrete model of `member`: for a wildcard match, `litellm_params.model` filled with the captures
    /// ([`PatternMatch::fill`](crate::pattern::PatternMatch::fill)). `None` when it is `litellm_params.model` itself.
    fn concrete_model(&self, member: &Member) -> Option<String> {
        let pm = self.pattern_match.as_ref()?;
        match pm.fill(member.deployment.litellm_params().model()) {
            Cow::Borrowed(_) => None,
            Cow::Owned(model) => Some(model),
        }
    }

    #[inline]
    fn reason(&self, strategy: RoutingStrategy, eligible: usize) -> RouteReason {
        RouteReason {
            matched: self.matched.clone(),
            group: self.name(),
            alias: self.alias.clone(),
            retried_as: self.retried_as(),
            default_fallback: self.default_fallback,
            strategy,
            eligible,
            total: self.members().len(),
        }
    }
}

impl Router {
    /// A router over `deployments` with default settings.
    ///
    /// ```
    /// use modelroute::{Deployment, Router};
    /// let router = Router::new([Deployment::new("gpt-4o", "openai/gpt-4o")?])?;
    /// assert_eq!(router.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new<I, D>(deployments: I) -> Result<Self, ChangeError>
    where
        I: IntoIterator<Item = D>,
        D: Into<Arc<Deployment>>,
    {
        Router::builder().deployments(deployments).build()
    }

    /// A router built from a loaded config (its deployments were validated when loading).
    pub fn from_config(config: RouterConfig) -> Self {
        let (deployments, settings) = config.into_parts();
        let mut builder = Router::builder().settings(settings);
        builder.deployments = deployments.into_iter().map(Arc::new).collect();
        builder.build_validated()
    }

    /// A builder: settings, clock, randomness, deployments.
    pub fn builder() -> RouterBuilder {
        RouterBuilder::default()
    }

    /// The settings.
    pub fn settings(&self) -> &RouterSettings {
        &self.settings
    }

    /// The providers of bare model names used by the provider retry of wildcard resolution.
    pub fn model_providers(&self) -> &ModelProviders {
        &self.model_providers
    }

    /// Number of deployments.
    pub fn len(&self) -> usize {
        self.state.read().by_id.len()
    }

    /// Whether the router has no deployment.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The deployment with `id`.
    pub fn get(&self, id: &DeploymentId) -> Option<Arc<Deployment>> {
        self.state
            .read()
            .by_id
            .get(id)
            .map(|m| m.deployment.clone())
    }

    /// Every deployment, sorted by id.
    pub fn deployments(&self) -> Vec<Arc<Deployment>> {
        let mut all: Vec<Arc<Deployment>> = self
            .state
            .read()
            .by_id
            .values()
            .map(|m| m.deployment.clone())
            .collect();
        all.sort_by(|a, b| a.id().cmp(b.id()));
        all
    }

    fn now_ns(&self) -> u64 {
        health::nanos(self.clock.now().saturating_duration_since(self.epoch))
    }

    fn tag_filter<'a>(&self, ctx: &RequestContext<'a>) -> Option<&'a [&'a str]> {
        self.settings.enable_tag_filtering.then_some(ctx.tags)
    }

    /// Picks the deployment for a request of `model`. See the [module docs](self) for the order of
    /// resolution, filtering and picking.
    pub fn route(&self, model: &str, ctx: &RequestContext<'_>) -> Result<Route, RouteError> {
        let state = self.state.read();
        // 1. Resolve the name to one group: deployment id, alias, team names, exact name, wildcards (with the
        //    provider retry), litellm_params.model, default fallbacks.
        let scratch = OnceCell::new();
        let Some(found) = self.resolve(&state, model, ctx, &scratch) else {
            let err = self.not_found(model, ctx);
            trace::debug!(target: "modelroute::route", model, error = %err, "no deployment");
            return Err(err);
        };
        let now = self.now_ns();
        let members = found.members();
        if found.is_pinned() {
            // A deployment asked for by id is taken as asked (LiteLLM): only `blocked` refuses it.
            let member = &members[0];
            if member.deployment.model_info().blocked() {
                return Err(self.unavailable(model, &found, now, None));
            }
            return Ok(self.route_to(model, &found, member, 1, now));
        }
        // 2. Keep what may take the request: not blocked, not cooling down, tags, lowest order.
        let tags = self.tag_filter(ctx);
        let Some(rule) = Eligibility::compute(members, now, tags) else {
            return Err(self.unavailable(model, &found, now, tags));
        };
        #[cfg(feature = "tracing")]
        if rule.count < members.len() && trace::debug_enabled!(target: "modelroute::route") {
            filter::trace_skipped(model, &found.name(), members, &rule, now, tags);
        }
        // 3. Pick one with the strategy.
        let input = StrategyInput {
            strategy: self.settings.routing_strategy,
            rng: &*self.rng,
            round_robin: found.round_robin(),
            latency_buffer: self.settings.lowest_latency_buffer,
            lar1_type: &self.settings.lar1_type,
        };
        let member = &members[strategy::pick(&input, members, rule.count, |m| rule.accepts(m))];
        Ok(self.route_to(model, &found, member, rule.count, now))
    }

    /// 4. The route to `member`: its concrete model name; it counts as in flight until dropped.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    #[inline(always)]
    fn route_to(
        &self,
        model: &str,
        found: &Found<'_>,
        member: &Member,
        eligible: usize,
        now: u64,
    ) -> Route {
        let route = Route {
            deployment: member.deployment.clone(),
            model: found.concrete_model(member).map(Into::into),
            reason: found.reason(self.settings.routing_strategy, eligible),
            wildcard: member.wildcard,
            guard: InFlight::start(member.stats.clone()),
        };
        // With no subscriber interested, one load of tracing's global level.
        #[cfg(feature = "tracing")]
        if ::tracing::level_enabled!(::tracing::Level::INFO) {
            trace_routed(model, &route, &member.stats, now);
        }
        route
    }

    /// What `model` resolves to and which deployments could take it now, without picking one.
    pub fn explain(&self, model: &str, ctx: &RequestContext<'_>) -> Result<Resolution, RouteError> {
        let state = self.state.read();
        let scratch = OnceCell::new();
        let Some(found) = self.resolve(&state, model, ctx, &scratch) else {
            return Err(self.not_found(model, ctx));
        };
        let now = self.now_ns();
        let tags = self.tag_filter(ctx);
        let members = found.members();
        let pinned = found.is_pinned();
        let rule = if pinned {
            None
        } else {
            Eligibility::compute(members, now, tags)
        };
        let availability = |m: &Member| match pinned {
            true if m.deployment.model_info().blocked() => CandidateStatus::Blocked,
            true => CandidateStatus::Available,
            false => filter::availability(m, rule.as_ref(), now, tags),
        };
        let candidates: Vec<Candidate> = members
            .iter()
            .map(|m| Candidate {
                deployment: m.deployment.clone(),
                model: found
                    .concrete_model(m)
                    .unwrap_or_else(|| m.deployment.litellm_params().model().to_string()),
                availability: availability(m),
            })
            .collect();
        let eligible = match (pinned, rule) {
            (true, _) => candidates
                .iter()
                .filter(|c| c.availability == CandidateStatus::Available)
                .count(),
            (false, rule) => rule.map_or(0, |r| r.count),
        };
        Ok(Resolution {
            reason: found.reason(self.settings.routing_strategy, eligible),
            candidates,
        })
    }

    fn unavailable(
        &self,
        model: &str,
        found: &Found<'_>,
        now: u64,
        tags: Option<&[&str]>,
    ) -> RouteError {
        let why = filter::unavailable(found.members(), now, tags);
        let group = found.name();
        trace::info!(
            target: "modelroute::route",
            model,
            group = &*group,
            blocked = why.blocked,
            cooling_down = why.cooling_down,
            tag_mismatch = why.tag_mismatch,
            retry_after_secs = why.retry_after.map(|d| d.as_secs_f64()),
            "no deployment available"
        );
        RouteError::NoneAvailable {
            model: model.to_string(),
            group: group.to_string(),
            total: found.members().len(),
            blocked: why.blocked,
            cooling_down: why.cooling_down,
            tag_mismatch: why.tag_mismatch,
            retry_after: why.retry_after,
        }
    }

    /// Records how a routed request went. Failures that count (see [`FailureKind::counts_for_cooldown`])
    /// may start a cooldown; successes feed the latency average. Returns true if this report started a
    /// cooldown.
    pub fn report(&self, route: &Route, outcome: Outcome) -> bool {
        let started =
            route
                .guard
                .stats()
                .record(outcome, self.now_ns(), &self.rule, route.wildcard);
        if started {
            self.trace_cooldown(route.id());
        }
        started
    }

    /// The `cooldown started` event (feature `tracing`).
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    fn trace_cooldown(&self, id: &DeploymentId) {
        trace::warn!(
            target: "modelroute::health",
            deployment = %id,
            cooldown_secs = self.rule.cooldown.as_secs_f64(),
            allowed_fails = self.rule.allowed_fails,
            "cooldown started"
        );
    }

    /// Records an outcome for the deployment `id` (when the route is not at hand). Returns `None` if the
    /// router has no such deployment, else whether a cooldown started.
    pub fn report_id(&self, id: &DeploymentId, outcome: Outcome) -> Option<bool> {
        let member = self.state.read().by_id.get(id).cloned()?;
        let started = member
            .stats
            .record(outcome, self.now_ns(), &self.rule, member.wildcard);
        if started {
            self.trace_cooldown(id);
        }
        Some(started)
    }

    /// The health and strategy state of deployment `id`.
    pub fn health(&self, id: &DeploymentId) -> Option<DeploymentHealth> {
        let stats: Arc<Stats> = self.state.read().by_id.get(id)?.stats.clone();
        Some(stats.snapshot(self.now_ns(), &self.rule))
    }

    /// The general fallback plan for `model` (see [`Router::fallbacks_for`]).
    pub fn fallbacks(&self, model: &str) -> FallbackPlan {
        self.fallbacks_for(model, FallbackKind::General)
    }

    /// The groups to try after `model` failed, in order. The list is found by the requested name, then its
    /// alias target, then the group it resolves to (so a wildcard pattern such as `openai/*` can have
    /// fallbacks); else a `"*"` entry; else (general fallbacks only) `default_fallbacks`.
    pub fn fallbacks_for(&self, model: &str, kind: FallbackKind) -> FallbackPlan {
        let list = self.settings.fallback_list(kind);
        let find = |key: &str| list.iter().find(|(k, _)| k == key).map(|(_, to)| to);
        let target = self.aliases.get(model).map(|(_, t)| t.to_string());
        let group = {
            let state = self.state.read();
            let scratch = OnceCell::new();
            self.resolve(&state, model, &RequestContext::new(), &scratch)
                .map(|f| f.name().to_string())
        };
        let keys = std::iter::once(model.to_string())
            .chain(target.clone())
            .chain(group.clone());
        let mut source = FallbackSource::None;
        let mut chosen: &[String] = &[];
        for key in keys {
            if let Some(to) = find(&key) {
                source = FallbackSource::Group;
                chosen = to;
                break;
            }
        }
        if source == FallbackSource::None {
            if let Some(to) = find("*") {
                source = FallbackSource::Wildcard;
                chosen = to;
            } else if kind == FallbackKind::General && !self.settings.default_fallbacks.is_empty() {
                source = FallbackSource::Default;
                chosen = &self.settings.default_fallbacks;
            }
        }
        let mut groups: Vec<String> = Vec::new();
        for g in chosen {
            let is_self = g == model || Some(g) == target.as_ref() || Some(g) == group.as_ref();
            if !is_self && !groups.contains(g) && groups.len() < self.settings.max_fallbacks {
                groups.push(g.clone());
            }
        }
        FallbackPlan {
            kind,
            source,
            groups,
            num_retries: self.settings.num_retries,
        }
    }

    /// Applies changes atomically: removes, then upserts in order. Everything is validated first; on error
    /// the router is untouched. The write lock is held only for the changes (cost ~ their number).
    pub fn apply(&self, changes: ChangeSet) -> Result<ApplyReport, ChangeError> {
        validate(&changes.upserts)?;
        let removing: std::collections::HashSet<&DeploymentId> = changes.removes.iter().collect();
        if let Some(d) = changes.upserts.iter().find(|d| removing.contains(d.id())) {
            return Err(ChangeError::Conflict { id: d.id().clone() });
        }
        let mut report = ApplyReport::default();
        let writer = self.state.writer();
        let locked = Instant::now();
        let mut state = self.state.write(&writer);
        for id in &changes.removes {
            if state.remove(id) {
                report.removed += 1;
            } else {
                report.not_found += 1;
            }
        }
        for d in changes.upserts {
            match state.upsert(d) {
                state::Upserted::Added => report.added += 1,
                state::Upserted::Updated => report.updated += 1,
                state::Upserted::Unchanged => report.unchanged += 1,
            }
        }
        drop(state);
        report.write_lock_held = locked.elapsed();
        Ok(report)
    }

    /// Brings the router to exactly `deployments` (the full desired list, e.g. polled from a database):
    /// afterwards it routes like a router built fresh from that list. The difference is computed while
    /// requests keep being routed; only the changes are applied under the write lock. Health and strategy
    /// state of removed deployments goes; that of unchanged ones stays.
    pub fn reconcile<I, D>(&self, deployments: I) -> Result<ApplyReport, ChangeError>
    where
        I: IntoIterator<Item = D>,
        D: Into<Arc<Deployment>>,
    {
        let desired: Vec<Arc<Deployment>> = deployments.into_iter().map(Into::into).collect();
        // Other writers wait; readers go on while the difference is computed.
        let writer = self.state.writer();
        let plan = state::plan(&self.state.read(), &desired)?;
        let mut report = ApplyReport {
            unchanged: desired.len(),
            ..ApplyReport::default()
        };
        if plan.is_empty() {
            return Ok(report);
        }
        let locked = Instant::now();
        let mut state = self.state.write(&writer);
        let (added, updated, removed) = plan.apply(&mut state);
        drop(state);
        report.write_lock_held = locked.elapsed();
        report.added = added;
        report.updated = updated;
        report.removed = removed;
        report.unchanged = desired.len() - added - updated;
        Ok(report)
    }

    /// The routing table: every group with its deployments in routing order, patterns in precedence order.
    pub fn routing_table(&self) -> RoutingTable {
        let state = self.state.read();
        RoutingTable {
            groups: state
                .table()
                .into_iter()
                .map(|(team, group, wildcard)| TableGroup {
                    team: team.map(Into::into),
                    name: group.name.to_string(),
                    wildcard,
                    deployments: group.members.iter().map(|m| m.deployment.clone()).collect(),
                })
                .collect(),
        }
    }
}

/// After a route: the `routed` event, and `cooldown ended` when the deployment picked had a cooldown that is
/// now over. Out of line, called only when some event at info level or finer is wanted (feature `tracing`).
#[cfg(feature = "tracing")]
#[cold]
#[inline(never)]
fn trace_routed(model: &str, route: &Route, stats: &Stats, now_ns: u64) {
    trace::debug!(
        target: "modelroute::route",
        model,
        deployment = %route.id(),
        call = route.model(),
        reason = %route.reason(),
        "routed"
    );
    if stats.cooldown_ended(now_ns) {
        trace::info!(target: "modelroute::health", deployment = %route.id(), "cooldown ended");
    }
}

/// Ids unique, no strategy-router marker, wildcard deployments accepted by the pattern index.
fn validate(deployments: &[Arc<Deployment>]) -> Result<(), ChangeError> {
    let mut seen = std::collections::HashSet::with_capacity(deployments.len());
    for d in deployments {
        if !seen.insert(d.id()) {
            return Err(ChangeError::DuplicateId { id: d.id().clone() });
        }
        if d.is_strategy_marker() {
            return Err(ChangeError::StrategyMarker { id: d.id().clone() });
        }
        if GroupKey::of(d).wildcard() {
            PatternRouter::check(d).map_err(|source| ChangeError::Pattern {
                id: d.id().clone(),
                source,
            })?;
        }
    }
    Ok(())
}

/// Builds a [`Router`].
#[derive(Debug, Default)]
pub struct RouterBuilder {
    settings: RouterSettings,
    clock: Option<Arc<dyn Clock>>,
    rng: Option<Arc<dyn RandomSource>>,
    model_providers: ModelProviders,
    deployments: Vec<Arc<Deployment>>,
}

impl RouterBuilder {
    /// With these settings.
    pub fn settings(mut self, settings: RouterSettings) -> Self {
        self.settings = settings;
        self
    }
    /// With this clock (cooldowns, failure window). Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }
    /// With this source of randomness. Default: a [`SplitMix64`] per thread, seeded from entropy.
    pub fn rng(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.rng = Some(rng);
        self
    }
    /// With a [`SplitMix64`] seeded with `seed`: the same seed and the same calls give the same picks.
    pub fn seed(self, seed: u64) -> Self {
        self.rng(Arc::new(SplitMix64::new(seed)))
    }
    /// With these providers of bare model names (default: [`ModelProviders::litellm`]), which decide how
    /// wildcard resolution retries a bare name: `gpt-4o-mini` as `openai/gpt-4o-mini`.
    ///
    /// ```
    /// use modelroute::{Deployment, Router, router::{ModelProviders, RequestContext}};
    /// let router = Router::builder()
    ///     .model_providers(ModelProviders::litellm().with("my-llama", "ollama_chat"))
    ///     .deployment(Deployment::new("ollama_chat/*", "ollama_chat/*")?)
    ///     .build()?;
    /// assert_eq!(router.route("my-llama", &RequestContext::new())?.model(), "ollama_chat/my-llama");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn model_providers(mut self, providers: ModelProviders) -> Self {
        self.model_providers = providers;
        self
    }
    /// Adds a deployment.
    pub fn deployment(mut self, deployment: impl Into<Arc<Deployment>>) -> Self {
        self.deployments.push(deployment.into());
        self
    }
    /// Adds deployments.
    pub fn deployments<I, D>(mut self, deployments: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: Into<Arc<Deployment>>,
    {
        self.deployments
            .extend(deployments.into_iter().map(Into::into));
        self
    }
    /// Uses a loaded config: its settings and deployments.
    pub fn config(mut self, config: RouterConfig) -> Self {
        let (deployments, settings) = config.into_parts();
        self.settings = settings;
        self.deployments
            .extend(deployments.into_iter().map(Arc::new));
        self
    }

    /// Builds the router. Fails on duplicate ids, a strategy-router marker (`auto_router/...`) or a wildcard
    /// deployment the pattern index refuses.
    pub fn build(self) -> Result<Router, ChangeError> {
        validate(&self.deployments)?;
        Ok(self.build_validated())
    }

    fn build_validated(self) -> Router {
        let mut state = State::default();
        for d in self.deployments {
            state.upsert(d);
        }
        let settings = self.settings;
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let aliases = settings
            .model_group_alias
            .iter()
            .map(|(alias, target)| {
                let alias: Arc<str> = alias.as_str().into();
                (
                    Box::from(&*alias),
                    (alias, Arc::from(target.model.as_str())),
                )
            })
            .collect();
        Router {
            state: Sharded::new(state),
            aliases,
            default_fallbacks: settings
                .default_fallbacks
                .iter()
                .map(|g| Arc::from(g.as_str()))
                .collect(),
            rule: CooldownRule {
                allowed_fails: settings.allowed_fails,
                window: settings.failure_window,
                cooldown: settings.cooldown_time,
                disabled: settings.disable_cooldowns,
            },
            model_providers: self.model_providers,
            epoch: clock.now(),
            clock,
            rng: self
                .rng
                .unwrap_or_else(|| Arc::new(strategy::PerThreadRandom)),
            settings,
        }
    }
}
