//! [`Router`]: resolve a requested model name to one deployment, the way LiteLLM users expect, minus
//! LiteLLM's bugs.
//!
//! # Following a request
//! [`Router::route`] reads top-down:
//! 1. **Resolve** the name to one group of deployments, in LiteLLM's order:
//!    1. a deployment id (`model_info.id`), for a name that is no `model_name`: that deployment, taken as
//!       asked ([`MatchKind::DeploymentId`]: no cooldown, context-window, tag or `order` filter; a blocked
//!       one is refused, and so is one without a free `max_parallel_requests` slot or, under
//!       `usage-based-routing-v2`, at its `rpm`; a team's deployment only for that team, a wildcard
//!       deployment never);
//!    2. an alias of `model_group_alias` (one step; what follows uses the target);
//!    3. for a request with a team, that team's public names; then an exact `model_name`;
//!    4. the team's wildcards, then the global ones (the whole name must match; the most specific pattern
//!       wins), each with the name, then with LiteLLM's provider retry: `gpt-4o-mini` as
//!       `openai/gpt-4o-mini` when `openai/*` is deployed ([`ModelProviders`]);
//!    5. the `litellm_params.model` of deployments without a team ([`MatchKind::LitellmModel`]);
//!    6. each of `default_fallbacks` in turn (steps 3-4, without the provider retry).
//!
//!    Nothing found is a [`RouteError::NoDeployment`] that lists every step tried: never a guess.
//! 2. **Filter** the group, in LiteLLM's order: drop blocked deployments and those cooling down; with
//!    `enable_pre_call_checks`, drop those whose context window is smaller than the input tokens the request
//!    states (none left of those: [`RouteError::ContextWindowExceeded`], the cue for
//!    `context_window_fallbacks`); apply [`tags`] (when `enable_tag_filtering` is on); drop those at a usage
//!    limit (`rpm` / `tpm` under the strategies that hold them as limits, `max_parallel_requests` always:
//!    see [`usage`]); keep the lowest `order` (a deployment without `order` comes last). Nothing left is a
//!    [`RouteError::NoneAvailable`] saying why and when the first deployment is available again.
//! 3. **Pick** one with the [`RoutingStrategy`].
//! 4. Take the pick's in-flight slot and count the request (both atomic: when another thread took the last
//!    slot or the last request of the minute meanwhile, pick again).
//! 5. Return a [`Route`]: the deployment (kept alive by the route even if removed meanwhile), the concrete
//!    model name (a wildcard's captures substituted) and why it was chosen. The route counts as in flight
//!    until dropped (what `least-busy` balances on, and `max_parallel_requests` bounds).
//!
//! The caller reports how the request went ([`Router::report`]), successes too: failures cool a deployment
//! down as LiteLLM decides it ([`cooldown`]); latencies ([`latency`]) and token counts ([`usage`]) feed the
//! strategies. A failure's class comes from the status and error body ([`FailureKind::classify`]). When a
//! group fails, [`Router::fallbacks`] gives the groups to try next, in order.
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
//! router.report(&route, Outcome::failure(FailureKind::classify(429, r#"{"error": {"message": "slow down"}}"#)));
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
//! `tags`, `max_parallel_requests`, `input_cost_per_token`, `output_cost_per_token`, `cooldown_time`).

pub mod cooldown;
mod failure;
mod fallback;
mod filter;
pub(crate) mod health;
pub mod latency;
mod model_provider;
mod pre_call;
pub mod pricing;
mod resolve;
mod settings;
mod sharded;
pub(crate) mod shared;
pub(crate) mod state;
mod strategy;
pub mod tags;
pub mod usage;

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use self::cooldown::{AllowedFailsPolicy, PolicyError};
pub use self::failure::{FailureKind, MAX_CLASSIFIED_BODY};
pub use self::fallback::{FallbackPlan, FallbackSource};
pub use self::filter::CandidateStatus;
pub use self::health::{DeploymentHealth, Outcome};
pub use self::model_provider::ModelProviders;
pub use self::resolve::{MatchKind, Tried};
pub use self::settings::{AliasTarget, FallbackKind, RouterSettings};
pub use self::strategy::{RandomSource, RoutingStrategy, SplitMix64, UnknownStrategy};
pub use self::usage::{LimitReached, Usage, UsageLimit};

use self::cooldown::{CooldownRule, GroupContext};
use self::filter::{Eligibility, Refusal};
use self::health::{InFlight, Stats};
use self::latency::LatencyRead;
use self::resolve::Found;
use self::sharded::Sharded;
use self::state::{GroupKey, Member, MemberDefaults, State};
use self::strategy::StrategyInput;
use self::usage::{LimitCheck, LimitRule, WallNow};
use crate::attempt::Attempts;
use crate::catalog::ModelCatalog;
use crate::clock::{Clock, SystemClock};
use crate::config::RouterConfig;
use crate::deployment::{Deployment, DeploymentId};
use crate::error::{ChangeError, RouteError};
use crate::pattern::PatternRouter;
use crate::trace;

/// Who is asking and what: the team (for team public names and team wildcards), the request's tags (for
/// tag filtering), its input tokens (for pre-call checks and `tpm` limits) and whether it is streamed (for
/// `latency-based-routing`). Borrowed, so building one allocates nothing.
///
/// ```
/// use modelroute::router::RequestContext;
/// let ctx = RequestContext::new()
///     .with_team("team-a")
///     .with_tags(&["eu"])
///     .with_input_tokens(1_200)
///     .with_stream(true);
/// assert_eq!(ctx.team(), Some("team-a"));
/// assert_eq!(ctx.input_tokens(), Some(1_200));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContext<'a> {
    team: Option<&'a str>,
    tags: &'a [&'a str],
    input_tokens: Option<u64>,
    stream: bool,
}

impl<'a> RequestContext<'a> {
    /// No team, no tags, input tokens unknown, not streamed.
    pub const fn new() -> Self {
        RequestContext {
            team: None,
            tags: &[],
            input_tokens: None,
            stream: false,
        }
    }
    /// The request's input (prompt) tokens, as the caller counted them with the model's tokenizer (LiteLLM
    /// counts the messages itself with `token_counter`). With `enable_pre_call_checks`, deployments whose
    /// context window (`model_info.max_input_tokens`, else the [catalog](RouterBuilder::catalog)'s) is
    /// smaller are left out; a deployment whose tokens of the minute plus these would exceed its `tpm` is not
    /// eligible (unknown counts as 1 there).
    pub fn with_input_tokens(mut self, tokens: u64) -> Self {
        self.input_tokens = Some(tokens);
        self
    }
    /// The request is streamed: `latency-based-routing` compares time to first token (LiteLLM's
    /// `stream=True`).
    pub fn with_stream(mut self, stream: bool) -> Self {
        self.stream = stream;
        self
    }
    /// The input tokens, if stated.
    pub fn input_tokens(&self) -> Option<u64> {
        self.input_tokens
    }
    /// Whether the request is streamed.
    pub fn is_stream(&self) -> bool {
        self.stream
    }
    /// For a request of this team.
    pub fn with_team(mut self, team: &'a str) -> Self {
        self.team = Some(team);
        self
    }
    /// With these tags (see [`tags`]: `!tag` excludes, `&tag` requires).
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
/// for that deployment until dropped: keep it for the duration of the request. `Debug` masks credentials
/// (in the deployment, and in the concrete model name: see [`redact`](crate::redact)).
pub struct Route {
    /// The deployment with what the router knows of it (its cooldown settings for reports).
    member: Arc<Member>,
    model: Option<Box<str>>,
    reason: RouteReason,
    guard: InFlight,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("deployment", &self.member.deployment)
            .field("model", &self.model.as_deref().map(crate::redact::text))
            .field("reason", &self.reason)
            .field("wildcard", &self.member.wildcard)
            .field("guard", &self.guard)
            .finish()
    }
}

impl Route {
    /// The deployment to call.
    pub fn deployment(&self) -> &Arc<Deployment> {
        &self.member.deployment
    }
    /// Its id.
    pub fn id(&self) -> &DeploymentId {
        self.member.deployment.id()
    }
    /// The concrete model to call: `litellm_params.model`, with a wildcard's captures in place of its `*`.
    pub fn model(&self) -> &str {
        self.model
            .as_deref()
            .unwrap_or_else(|| self.member.deployment.litellm_params().model())
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
/// now ([`Router::explain`]). `Debug` masks credentials, as [`Route`]'s does.
#[derive(Clone, PartialEq)]
pub struct Candidate {
    /// The deployment.
    pub deployment: Arc<Deployment>,
    /// The concrete model name.
    pub model: String,
    /// Whether it is eligible now, or why not.
    pub availability: CandidateStatus,
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("deployment", &self.deployment)
            .field("model", &crate::redact::text(&self.model))
            .field("availability", &self.availability)
            .finish()
    }
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
    /// How the strategy holds `rpm` / `tpm` as limits (`None`: it does not).
    limit_rule: Option<LimitRule>,
    /// `ttl` of latency samples, in nanoseconds.
    latency_ttl_ns: u64,
    catalog: Option<Arc<ModelCatalog>>,
    clock: Arc<dyn Clock>,
    epoch: Instant,
    /// The wall-clock time at `epoch` (usage minutes).
    wall_epoch: std::time::SystemTime,
    rng: Arc<dyn RandomSource>,
    /// The fleet this replica belongs to ([`RouterBuilder::fleet`]), if any.
    #[cfg(feature = "redis")]
    fleet: Option<Arc<crate::fleet::Link>>,
}

/// How many times a route is re-picked when another thread took the picked deployment's last slot
/// (`max_parallel_requests`) or last request of the minute (`rpm` under `usage-based-routing-v2`) meanwhile.
const ROUTE_ATTEMPTS: usize = 8;

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
        cooldown::nanos(self.clock.now().saturating_duration_since(self.epoch))
    }

    /// The wall-clock minute at `now_ns` (see [`usage`]: one clock read per call).
    fn wall(&self, now_ns: u64) -> WallNow {
        WallNow::at(self.wall_epoch + Duration::from_nanos(now_ns))
    }

    /// The model catalog the router prices deployments with (and takes context windows from), if it was
    /// given one ([`RouterBuilder::catalog`]).
    ///
    /// ```
    /// use modelroute::catalog::{CatalogEntry, ModelCatalog};
    /// use modelroute::Router;
    /// let mut catalog = ModelCatalog::new();
    /// catalog.insert("my-model", CatalogEntry::new().with_max_input_tokens(32_000));
    /// let router = Router::builder().catalog(catalog).build()?;
    /// let window = router.catalog().and_then(|c| c.lookup("my-model")).and_then(|m| m.entry().max_input_tokens);
    /// assert_eq!(window, Some(32_000));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn catalog(&self) -> Option<&Arc<ModelCatalog>> {
        self.catalog.as_ref()
    }

    /// What `ctx` asks of a group's deployments now: the time, the pre-call and tag filters, and the usage
    /// limits it is checked against.
    fn request<'a>(&self, ctx: &RequestContext<'a>) -> filter::Request<'a> {
        let now_ns = self.now_ns();
        filter::Request {
            now_ns,
            input_tokens: ctx
                .input_tokens
                .filter(|_| self.settings.enable_pre_call_checks),
            tags: ctx.tags,
            tag_filtering: self.settings.enable_tag_filtering,
            match_any: self.settings.tag_filtering_match_any,
            limits: self.limit_rule.map(|rule| LimitCheck {
                rule,
                now: self.wall(now_ns),
                input_tokens: ctx.input_tokens.unwrap_or(0).max(1),
                fleet_minute: self.fleet_minute(),
            }),
        }
    }

    /// Picks the deployment for a request of `model`. See the [module docs](self) for the order of
    /// resolution, filtering and picking. A name longer than [`RouterSettings::max_model_name_len`] (1 KiB
    /// by default) is a [`RouteError::ModelNameTooLong`], before any lookup.
    pub fn route(&self, model: &str, ctx: &RequestContext<'_>) -> Result<Route, RouteError> {
        self.route_avoiding(model, ctx, &[])
    }

    /// [`Router::route`], except that the strategy picks among the eligible deployments not in `avoid`
    /// while there is one (the attempt plan's deployments that already failed the request).
    pub(crate) fn route_avoiding(
        &self,
        model: &str,
        ctx: &RequestContext<'_>,
        avoid: &[DeploymentId],
    ) -> Result<Route, RouteError> {
        self.settings.check_model_name(model)?;
        let state = self.state.read();
        // 1. Resolve the name to one group: deployment id, alias, team names, exact name, wildcards (with the
        //    provider retry), litellm_params.model, default fallbacks.
        let scratch = OnceCell::new();
        let Some(found) = self.resolve(&state, model, ctx, &scratch) else {
            let err = self.not_found(model, ctx);
            trace::debug!(target: "modelroute::route", model, error = %err, "no deployment");
            return Err(err);
        };
        let members = found.members();
        let mut request = self.request(ctx);
        if found.is_pinned() {
            // A deployment asked for by id is taken as asked (LiteLLM): no cooldown, context window, tag or
            // `order` filter; only `blocked` refuses it, and its own limits, since LiteLLM takes its
            // `max_parallel_requests` slot and runs the strategy's pre-call check (`rpm` under
            // `usage-based-routing-v2`) for it as for any other pick.
            let member = &members[0];
            if member.deployment.model_info().blocked() {
                return Err(self.unavailable(model, &found, &request, Refusal::Unavailable));
            }
            return match self.admit(member, &request) {
                Some(guard) => Ok(self.route_to(model, &found, member, 1, guard, &request)),
                None => Err(self.unavailable(model, &found, &request, Refusal::Unavailable)),
            };
        }
        // 2. Keep what may take the request: not blocked, not cooling down, large enough, tags, within
        //    limits, lowest order.
        for _ in 0..ROUTE_ATTEMPTS {
            let rule = match Eligibility::compute(members, request) {
                Ok(rule) => rule,
                Err(refusal) => return Err(self.unavailable(model, &found, &request, refusal)),
            };
            #[cfg(feature = "tracing")]
            if rule.count < members.len() && trace::debug_enabled!(target: "modelroute::route") {
                filter::trace_skipped(model, &found.name(), members, &rule);
            }
            // 3. Pick one with the strategy, among those that have not failed the request yet if any.
            let input = StrategyInput {
                strategy: self.settings.routing_strategy,
                rng: &*self.rng,
                round_robin: found.round_robin(),
                latency_buffer: self.settings.lowest_latency_buffer,
                latency: LatencyRead {
                    now_ns: request.now_ns,
                    ttl_ns: self.latency_ttl_ns,
                    stream: ctx.stream,
                },
                usage: request.limits.map(|l| (l.now, l.rule.ttl_secs)),
                lar1_type: &self.settings.lar1_type,
            };
            let fresh = |m: &Member| rule.accepts(m) && !avoid.contains(m.id());
            let fresh_count = match avoid {
                [] => rule.count,
                _ => members.iter().filter(|m| fresh(m)).count(),
            };
            let index = if fresh_count > 0 {
                strategy::pick(&input, members, fresh_count, fresh)
            } else {
                strategy::pick(&input, members, rule.count, |m| rule.accepts(m))
            };
            let member = &members[index];
            // 4. Take its slot and count the request; another thread may have taken the last one meanwhile.
            let Some(guard) = self.admit(member, &request) else {
                request = self.request(ctx);
                continue;
            };
            return Ok(self.route_to(model, &found, member, rule.count, guard, &request));
        }
        Err(self.unavailable(model, &found, &request, Refusal::Unavailable))
    }

    /// The in-flight guard of a route to `member` (within `max_parallel_requests`), with the request counted
    /// (within `rpm` under `usage-based-routing-v2`). `None` if a limit was reached meanwhile.
    fn admit(&self, member: &Member, request: &filter::Request<'_>) -> Option<InFlight> {
        let guard = InFlight::try_start(member.stats.clone(), member.limits.max_parallel)?;
        match &request.limits {
            Some(check)
                if !check.admit(&member.limits, &member.stats.usage, &member.stats.shared) =>
            {
                None
            }
            _ => Some(guard),
        }
    }

    /// The attempt plan for a request of `model`: it yields the routes to try, takes back how each went
    /// (reporting it), and decides retries, their delays and fallbacks as LiteLLM does. No I/O, no sleeping:
    /// see [`attempt`](crate::attempt).
    pub fn attempts<'r, 'c>(&'r self, model: &str, ctx: &RequestContext<'c>) -> Attempts<'r, 'c> {
        Attempts::new(self, model, *ctx)
    }

    /// The router's source of randomness (the attempt plan's jitter).
    pub(crate) fn random(&self) -> &dyn RandomSource {
        &*self.rng
    }

    /// Step 5: the route to `member`, holding `guard`, with its concrete model name; it counts as in flight
    /// until dropped.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    #[inline(always)]
    fn route_to(
        &self,
        model: &str,
        found: &Found<'_>,
        member: &Arc<Member>,
        eligible: usize,
        guard: InFlight,
        request: &filter::Request<'_>,
    ) -> Route {
        let route = Route {
            member: member.clone(),
            model: found.concrete_model(member).map(Into::into),
            reason: found.reason(self.settings.routing_strategy, eligible),
            guard,
        };
        // With no subscriber interested, one load of tracing's global level.
        #[cfg(feature = "tracing")]
        if ::tracing::level_enabled!(::tracing::Level::INFO) {
            trace_routed(model, &route, request);
        }
        route
    }

    /// What `model` resolves to and which deployments could take it now, without picking one. A name
    /// longer than [`RouterSettings::max_model_name_len`] is a [`RouteError::ModelNameTooLong`].
    pub fn explain(&self, model: &str, ctx: &RequestContext<'_>) -> Result<Resolution, RouteError> {
        self.settings.check_model_name(model)?;
        let state = self.state.read();
        let scratch = OnceCell::new();
        let Some(found) = self.resolve(&state, model, ctx, &scratch) else {
            return Err(self.not_found(model, ctx));
        };
        let request = self.request(ctx);
        let members = found.members();
        let pinned = found.is_pinned();
        let rule = if pinned {
            None
        } else {
            Eligibility::compute(members, request).ok()
        };
        let tags = match &rule {
            Some(rule) => Some(*rule.tags()),
            None => filter::tag_rule(members, &request),
        };
        let availability = |m: &Member| match pinned {
            true if m.deployment.model_info().blocked() => CandidateStatus::Blocked,
            true => match request.limit_reached(m) {
                Some(limit) => CandidateStatus::AtLimit(limit),
                None => CandidateStatus::Available,
            },
            false => filter::availability(m, rule.as_ref(), tags.as_ref(), &request),
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
        request: &filter::Request<'_>,
        refusal: Refusal,
    ) -> RouteError {
        let why = filter::unavailable(found.members(), request);
        let group = found.name();
        trace::info!(
            target: "modelroute::route",
            model,
            group = &*group,
            blocked = why.blocked,
            cooling_down = why.cooling_down,
            context_window = why.context_window,
            tag_mismatch = why.tag_mismatch,
            limited = why.limited.len(),
            retry_after_secs = why.retry_after.map(|d| d.as_secs_f64()),
            "no deployment available"
        );
        match (refusal, request.input_tokens) {
            (Refusal::ContextWindow, Some(input_tokens)) => RouteError::ContextWindowExceeded {
                model: model.to_string(),
                group: group.to_string(),
                input_tokens,
                largest_window: why.largest_window,
                too_small: why.context_window,
            },
            _ => RouteError::NoneAvailable {
                model: model.to_string(),
                group: group.to_string(),
                total: found.members().len(),
                blocked: why.blocked,
                cooling_down: why.cooling_down,
                context_window: why.context_window,
                tag_mismatch: why.tag_mismatch,
                limited: why.limited.into_boxed_slice(),
                retry_after: why.retry_after,
            },
        }
    }

    /// Records how a routed request went: report successes too, LiteLLM's default cooldown rule reads the
    /// share of failures in the current minute. A failure may cool the deployment down, as LiteLLM decides
    /// it (see [`cooldown`]); successes and timeouts (any failure that normalizes to
    /// [`FailureKind::Timeout`]) feed the latency samples; a success counts towards the minute's successes
    /// and, with its [`Usage`], tokens (`rpm` / `tpm`). Returns true if this report decided a cooldown.
    pub fn report(&self, route: &Route, outcome: Outcome) -> bool {
        // Where the deployment stands in its group matters for failures only.
        let group = match outcome {
            // Asked for by id: the deployment's own group, as for a report by id.
            Outcome::Failure(_) if route.reason.matched == MatchKind::DeploymentId => {
                self.own_group_context(&self.state.read(), &route.member)
            }
            Outcome::Failure(_) => GroupContext {
                wildcard: route.member.wildcard,
                single: route.reason.total == 1,
                has_fallbacks: self.has_general_fallbacks(
                    route.reason.alias.as_deref().unwrap_or(&route.reason.group),
                ),
            },
            _ => GroupContext::default(),
        };
        self.record(&route.member, outcome, group)
    }

    /// Where `member` stands in its own group (its `model_name`, or its team's public name).
    fn own_group_context(&self, state: &State, member: &Member) -> GroupContext {
        let key = GroupKey::of(&member.deployment);
        GroupContext {
            wildcard: member.wildcard,
            single: state.group(key).is_none_or(|g| g.members.len() == 1),
            has_fallbacks: self.has_general_fallbacks(key.name),
        }
    }

    /// Records an outcome for the deployment `id` (when the route is not at hand; the request is taken to
    /// have named the deployment's own group). Returns `None` if the router has no such deployment, else
    /// whether a cooldown was decided.
    pub fn report_id(&self, id: &DeploymentId, outcome: Outcome) -> Option<bool> {
        let (member, group) = {
            let state = self.state.read();
            let member = state.by_id.get(id).cloned()?;
            let group = self.own_group_context(&state, &member);
            (member, group)
        };
        Some(self.record(&member, outcome, group))
    }

    /// Feeds `outcome` to the latency samples, the usage counters and the cooldown state of `member`.
    fn record(&self, member: &Member, outcome: Outcome, group: GroupContext) -> bool {
        let stats = &member.stats;
        let now = self.now_ns();
        let ttft_percentile = self.settings.ttft_percentile;
        match outcome {
            Outcome::Success {
                latency,
                usage,
                time_to_first_token,
            } => {
                stats.latency.record_success(
                    latency,
                    usage.map(|u| u.completion_tokens),
                    time_to_first_token,
                    now,
                    self.latency_ttl_ns,
                    ttft_percentile,
                );
                if let Some(rule) = self.limit_rule {
                    let tokens = usage.map_or(0, |u| u.total_tokens);
                    usage::record_success(
                        member.id(),
                        &member.limits,
                        &stats.usage,
                        rule,
                        self.wall(now),
                        tokens,
                    );
                }
                self.share_success(member, latency, usage, time_to_first_token);
            }
            Outcome::Failure(kind) => {
                if stats
                    .latency
                    .record_failure(kind, now, self.latency_ttl_ns, ttft_percentile)
                {
                    self.share_timeout(member);
                }
            }
        }
        let cooled = stats.record(
            member.id(),
            outcome,
            now,
            &self.rule,
            &member.cooldown,
            group,
        );
        if cooled && let Some(left) = stats.cooldown_left(now) {
            self.share_cooldown(member, left);
        }
        cooled
    }

    /// Whether a request for `group` has somewhere else to go (LiteLLM's `_has_fallback_group`): its own
    /// entry in `fallbacks` (the first one, non-empty), else the last `"*"` entry or `default_fallbacks`.
    fn has_general_fallbacks(&self, group: &str) -> bool {
        let fallbacks = &self.settings.fallbacks;
        if let Some((_, to)) = fallbacks.iter().find(|(k, _)| k == group) {
            return !to.is_empty();
        }
        if !self.settings.default_fallbacks.is_empty() {
            return true;
        }
        fallbacks
            .iter()
            .rev()
            .find(|(k, _)| k == "*")
            .is_some_and(|(_, to)| !to.is_empty())
    }

    /// The health and strategy state of deployment `id`.
    pub fn health(&self, id: &DeploymentId) -> Option<DeploymentHealth> {
        let stats: Arc<Stats> = self.state.read().by_id.get(id)?.stats.clone();
        let now = self.now_ns();
        let mut health = stats.snapshot(now);
        let (average, samples, ttft) = stats.latency.snapshot(now, self.latency_ttl_ns);
        let duration = |secs: f64| Duration::try_from_secs_f64(secs).ok();
        health.average_latency = average.and_then(duration);
        health.latency_samples = samples;
        health.time_to_first_token = ttft.and_then(duration);
        if let Some(rule) = &self.limit_rule {
            let wall = self.wall(now);
            let ttl = rule.ttl_secs;
            health.requests_this_minute = stats.usage.requests.get(wall, ttl);
            health.successes_this_minute = stats.usage.successes.get(wall, ttl);
            health.tokens_this_minute = stats.usage.tokens.get(wall, ttl);
        }
        Some(health)
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
        let group = self.settings.check_model_name(model).ok().and_then(|()| {
            let state = self.state.read();
            let scratch = OnceCell::new();
            self.resolve(&state, model, &RequestContext::new(), &scratch)
                .map(|f| f.name().to_string())
        });
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

/// After a route: the `routed` event; `usage limit reached` when the route took the deployment's last
/// `max_parallel_requests` slot or last request of the minute; `cooldown ended` when the deployment picked
/// had a cooldown that is now over. Out of line, called only when some event at info level or finer is
/// wanted (feature `tracing`).
#[cfg(feature = "tracing")]
#[cold]
#[inline(never)]
fn trace_routed(model: &str, route: &Route, request: &filter::Request<'_>) {
    trace::debug!(
        target: "modelroute::route",
        model,
        deployment = %route.id(),
        call = route.model(),
        reason = %route.reason(),
        "routed"
    );
    let member = &route.member;
    for limit in request.limits_taken(member).iter().flatten() {
        usage::trace_limit_reached(route.id(), limit);
    }
    member.stats.report_cooldown_end(request.now_ns, route.id());
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
    catalog: Option<Arc<ModelCatalog>>,
    clock: Option<Arc<dyn Clock>>,
    rng: Option<Arc<dyn RandomSource>>,
    model_providers: ModelProviders,
    deployments: Vec<Arc<Deployment>>,
    #[cfg(feature = "redis")]
    fleet: Option<Arc<crate::fleet::Link>>,
}

impl RouterBuilder {
    /// As a replica of `fleet` (feature `redis`): cooldowns, usage limits, routes in flight, latency samples and
    /// the model list are shared with the fleet's other replicas once [`Fleet::sync`](crate::fleet::Fleet::sync)
    /// runs. See [`fleet`](crate::fleet).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn fleet(mut self, fleet: &crate::fleet::Fleet) -> Self {
        self.fleet = Some(fleet.link().clone());
        self
    }

    /// With these settings.
    pub fn settings(mut self, settings: RouterSettings) -> Self {
        self.settings = settings;
        self
    }
    /// With this model catalog: prices for `cost-based-routing` (after a deployment's own
    /// `input_cost_per_token` / `output_cost_per_token`), context windows for the pre-call checks (after a
    /// deployment's own `model_info.max_input_tokens`), and what other parts need to know about models.
    ///
    /// ```
    /// use modelroute::catalog::ModelCatalog;
    /// use modelroute::router::{RequestContext, RouterSettings, RoutingStrategy};
    /// use modelroute::{Deployment, Router};
    ///
    /// let catalog = ModelCatalog::from_json(r#"{
    ///   "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05, "litellm_provider": "openai"},
    ///   "gpt-4o-mini": {"input_cost_per_token": 1.5e-07, "output_cost_per_token": 6e-07, "litellm_provider": "openai"}
    /// }"#)?;
    /// let router = Router::builder()
    ///     .settings(RouterSettings::default().with_strategy(RoutingStrategy::LowestCost))
    ///     .catalog(catalog)
    ///     .deployment(Deployment::new("chat", "openai/gpt-4o")?)
    ///     .deployment(Deployment::new("chat", "openai/gpt-4o-mini")?)
    ///     .build()?;
    /// assert_eq!(router.route("chat", &RequestContext::new())?.model(), "openai/gpt-4o-mini");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn catalog(mut self, catalog: impl Into<Arc<ModelCatalog>>) -> Self {
        self.catalog = Some(catalog.into());
        self
    }
    /// With this clock (cooldowns, failure window, usage minutes). Default: [`SystemClock`].
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
        let settings = self.settings;
        let mut state = State::default();
        state.defaults = MemberDefaults {
            catalog: self.catalog.clone(),
            default_max_parallel: settings.default_max_parallel_requests,
        };
        for d in self.deployments {
            state.upsert(d);
        }
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
                policy: settings.allowed_fails_policy,
                cooldown_time: settings.cooldown_time,
                disabled: settings.disable_cooldowns,
            },
            limit_rule: LimitRule::for_settings(&settings),
            latency_ttl_ns: cooldown::nanos(
                settings
                    .routing_strategy_ttl
                    .unwrap_or(latency::DEFAULT_LATENCY_TTL),
            ),
            catalog: self.catalog,
            wall_epoch: clock.system_now(),
            model_providers: self.model_providers,
            epoch: clock.now(),
            clock,
            rng: self
                .rng
                .unwrap_or_else(|| Arc::new(strategy::PerThreadRandom)),
            settings,
            #[cfg(feature = "redis")]
            fleet: self.fleet,
        }
    }
}
