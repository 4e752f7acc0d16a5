//! The attempt plan: which deployment to try for a request, and after each failure, whether to try the
//! group again (and after how long), fall back to another group, or stop. No I/O and no sleeping: the
//! caller makes the calls and waits; the plan decides, as LiteLLM 1.109.1's `Router.acompletion` does
//! (`async_function_with_fallbacks`, `async_function_with_retries`, `run_async_fallback`), and reports
//! every outcome to the router itself, so cooldowns and latencies are fed without the caller remembering.
//!
//! # The loop
//! [`Router::attempts`] starts a plan; [`Attempts::next_step`] says what to do:
//! [`Next::Try`] a [`Route`] now, [`Next::Wait`] that long and ask again, or [`Next::Stop`] with an
//! [`AttemptError`] listing every attempt. Hand each route back: [`Attempts::failed`] with what went wrong
//! (a [`FailureKind`], and the server's `Retry-After` if it sent one), or [`Attempts::succeeded`] with the
//! success [`Outcome`] (latency or time to first token, usage), which ends the plan.
//!
//! ```
//! use modelroute::attempt::Next;
//! use modelroute::router::{FailureKind, Outcome, RequestContext, RouterSettings};
//! use modelroute::{Deployment, Router};
//! use std::time::Duration;
//!
//! let router = Router::builder()
//!     .settings(RouterSettings::default().with_fallbacks("gpt-4o", ["claude"]))
//!     .deployment(Deployment::new("gpt-4o", "openai/gpt-4o")?.with_id("openai")?)
//!     .deployment(Deployment::new("gpt-4o", "azure/gpt-4o")?.with_id("azure")?)
//!     .deployment(Deployment::new("claude", "litellm_proxy/claude")?.with_id("proxy")?)
//!     .build()?;
//!
//! let mut plan = router.attempts("gpt-4o", &RequestContext::new());
//! let attempts = loop {
//!     match plan.next_step() {
//!         Next::Try(route) if route.group() == "claude" => {
//!             break plan.succeeded(route, Outcome::success(Duration::from_millis(350)));
//!         }
//!         // Pretend both gpt-4o deployments are rate limited.
//!         Next::Try(route) => drop(plan.failed(route, FailureKind::RateLimit)),
//!         Next::Wait(delay) => { /* sleep `delay` on your runtime */ }
//!         Next::Stop(error) => return Err(error.into()),
//!     }
//! };
//! // A 429 cools a deployment with a sibling down at once, so the retry goes to the other one; when
//! // neither is left, the plan falls back to `claude`.
//! let tried: Vec<&str> = attempts.iter().filter_map(|a| a.deployment()).map(|id| id.as_str()).collect();
//! assert_eq!(tried.len(), 3);
//! assert_eq!(tried[2], "proxy");
//! assert!(router.health(&"openai".into()).unwrap().is_cooling_down());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the plan decides
//! 1. **The route**: the router's pick for the current group (cooled-down and blocked deployments left out,
//!    the strategy as configured), among the deployments that have not failed this request yet while one
//!    is eligible. A group whose name resolves to nothing, or whose deployments are all unavailable, is an
//!    attempt without a deployment, decided on like a failure (LiteLLM's "no deployments available").
//! 2. **Retries** of the group ([`retry`]): `num_retries` (default 2; the failed deployment's own
//!    `litellm_params.num_retries` first), or the count a `retry_policy` /
//!    `model_group_retry_policy` gives the class of the group's first failure; without a policy count, a
//!    failure is retried only if LiteLLM would (not a 4xx other than 401/403 and 408/409/429, not when
//!    every deployment of the group is cooling down). The delay: none when another deployment of the group
//!    is healthy; else the server's `Retry-After` (up to 60 s) or an exponential backoff from 0.5 s to
//!    8 s (at least `retry_after`), plus up to 0.75 s of jitter from the router's random source. No wait
//!    follows a group's last attempt (LiteLLM sleeps once more there; see the README's differences).
//! 3. **Fallbacks**, once the group's retries are spent: `context_window_fallbacks` for a context-window
//!    error and `content_policy_fallbacks` for a content-policy refusal when those lists are set (a set
//!    list without an entry for the group ends the request there), else `fallbacks` with
//!    `default_fallbacks` as its last `"*"` entry. The chain is looked up by the failed group's name, then
//!    by the requested model's, as LiteLLM does: a chain of the name's own first (exact, then without its
//!    `provider/` prefix), the `"*"` one only when no name has its own. The alias target and the group a
//!    name resolved to count as its names too (LiteLLM looks up the name asked only, so an alias loses
//!    its target's fallbacks). Each fallback group is tried with retries of its own, then its own fallbacks (or the rest
//!    of the requested model's chain), depth first; a group is never tried twice in one request.
//!    `max_fallbacks` bounds the depth of that walk, not the length of one chain (LiteLLM counts one hop
//!    per group tried but checks the count only when a group starts its fallbacks).
//! 4. **Stop** when nothing is left: the [`AttemptError`] lists every attempt; its cause is the requested
//!    model's last one (LiteLLM raises that error, whatever the fallbacks answered).
//!
//! Every failure handed back is reported ([`Router::report`]) before deciding, so a deployment it cools
//! down is out of the next pick and counts as unhealthy for the retry rules. A route dropped without being
//! handed back is not reported; asking [`Attempts::next_step`] again counts it as failed for an unknown reason.

mod chain;
pub mod retry;

use std::fmt;
use std::time::Duration;

pub use self::retry::RetryPolicy;

use self::retry::{Cause, RetryContext};
use crate::deployment::DeploymentId;
use crate::error::{AttemptError, RouteError};
use crate::router::{
    CandidateStatus, FailureKind, FallbackKind, Outcome, RequestContext, Route, Router,
    RouterSettings,
};

/// What went wrong with one attempt: the failure's class and, when the server sent one, its `Retry-After`.
///
/// ```
/// use modelroute::attempt::Failure;
/// use modelroute::router::FailureKind;
/// use std::time::Duration;
/// let failure = Failure::new(FailureKind::classify(429, "")).with_retry_after(Some(Duration::from_secs(2)));
/// assert_eq!(failure.kind, FailureKind::RateLimit);
/// assert_eq!(Failure::from(FailureKind::Timeout).retry_after, None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The class ([`FailureKind::classify`] from the status and error body, or [`FailureKind::Timeout`],
    /// [`FailureKind::Connection`], … for a call that got no answer).
    pub kind: FailureKind,
    /// The server's `Retry-After`, if it sent one.
    pub retry_after: Option<Duration>,
}

impl Failure {
    /// A failure of this class, without `Retry-After`.
    pub fn new(kind: FailureKind) -> Self {
        Failure {
            kind,
            retry_after: None,
        }
    }

    /// With the server's `Retry-After` (`None`: it sent none).
    pub fn with_retry_after(mut self, retry_after: Option<Duration>) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The failure a deployment's answer means: `status` and error `body` classified as LiteLLM classifies
    /// them for the route's provider ([`FailureKind::classify_for`]: Azure and LiteLLM proxies have rules
    /// of their own).
    ///
    /// ```
    /// use modelroute::attempt::Failure;
    /// use modelroute::router::{FailureKind, RequestContext};
    /// use modelroute::{Deployment, Router};
    /// let router = Router::new([Deployment::new("g", "litellm_proxy/claude")?])?;
    /// let route = router.route("g", &RequestContext::new())?;
    /// let body = r#"{"error": {"message": "litellm.ContextWindowExceededError: too long"}}"#;
    /// assert_eq!(Failure::from_status(&route, 400, body).kind, FailureKind::ContextWindowExceeded);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_status(route: &Route, status: u16, body: &str) -> Self {
        let provider = route.model().split_once('/').map_or("", |(p, _)| p);
        Failure::new(FailureKind::classify_for(provider, status, body))
    }
}

impl From<FailureKind> for Failure {
    fn from(kind: FailureKind) -> Self {
        Failure::new(kind)
    }
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttemptResult {
    /// The deployment answered.
    Succeeded,
    /// The deployment failed.
    Failed(Failure),
    /// No deployment to call: the name resolves to nothing, or every deployment of its group is blocked,
    /// cooling down, filtered out or too small for the request.
    NoDeployment(RouteError),
    /// The route was dropped without being handed back (counted as failed for an unknown reason, not
    /// reported to the router).
    Abandoned,
}

/// One attempt of a plan: the model group asked, the deployment tried (if one was), and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    group: String,
    deployment: Option<DeploymentId>,
    result: AttemptResult,
    cooled_down: bool,
}

impl Attempt {
    /// The name asked: the requested model, or the fallback group.
    pub fn group(&self) -> &str {
        &self.group
    }
    /// The deployment tried, if one was routed.
    pub fn deployment(&self) -> Option<&DeploymentId> {
        self.deployment.as_ref()
    }
    /// How it went.
    pub fn result(&self) -> &AttemptResult {
        &self.result
    }
    /// Whether the deployment answered.
    pub fn is_success(&self) -> bool {
        self.result == AttemptResult::Succeeded
    }
    /// The failure's class, if the deployment failed.
    pub fn failure(&self) -> Option<FailureKind> {
        match &self.result {
            AttemptResult::Failed(f) => Some(f.kind),
            _ => None,
        }
    }
    /// Whether reporting this attempt started a cooldown of its deployment.
    pub fn cooled_down(&self) -> bool {
        self.cooled_down
    }
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.group)?;
        if let Some(id) = &self.deployment {
            write!(f, " deployment `{id}`")?;
        }
        match &self.result {
            AttemptResult::Succeeded => f.write_str(": succeeded"),
            AttemptResult::Failed(failure) => {
                let kind = failure.kind;
                write!(f, ": {} ({})", kind.litellm_class(), kind.status())?;
                if self.cooled_down {
                    f.write_str(", cooled down")?;
                }
                Ok(())
            }
            AttemptResult::NoDeployment(e) => write!(f, ": {e}"),
            AttemptResult::Abandoned => f.write_str(": abandoned"),
        }
    }
}

/// A route whose answer reached the caller ([`Attempts::answered`]): no retry or fallback is left; report
/// how the answer ended with [`Answered::succeeded`] or [`Answered::failed`]. Dropped without either,
/// nothing is reported (the route stops counting as in flight).
#[derive(Debug)]
#[must_use = "report how the answer ended with `succeeded` or `failed`"]
pub struct Answered<'r> {
    router: &'r Router,
    route: Route,
    group: String,
    attempts: Vec<Attempt>,
}

impl Answered<'_> {
    /// The route that answered.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// The attempts before this one, in order.
    pub fn tried(&self) -> &[Attempt] {
        &self.attempts
    }

    /// The answer ended well: reports `outcome` ([`Outcome::success`]: latency, usage, and for a stream
    /// its time to first token). Returns every attempt, this one last.
    pub fn succeeded(self, outcome: Outcome) -> Vec<Attempt> {
        let result = match outcome {
            Outcome::Failure(kind) => AttemptResult::Failed(Failure::new(kind)),
            _ => AttemptResult::Succeeded,
        };
        self.finish(outcome, result)
    }

    /// The answer failed after it reached the caller (a stream cut after its first event): reports the
    /// failure, which may cool the deployment down; nothing is retried. Returns every attempt, this one
    /// last.
    pub fn failed(self, failure: impl Into<Failure>) -> Vec<Attempt> {
        let failure = failure.into();
        self.finish(
            Outcome::failure(failure.kind),
            AttemptResult::Failed(failure),
        )
    }

    fn finish(self, outcome: Outcome, result: AttemptResult) -> Vec<Attempt> {
        let Answered {
            router,
            route,
            group,
            mut attempts,
        } = self;
        let cooled_down = router.report(&route, outcome);
        attempts.push(Attempt {
            group,
            deployment: Some(route.id().clone()),
            result,
            cooled_down,
        });
        attempts
    }
}

/// What to do next ([`Attempts::next_step`]). Deliberately exhaustive: a caller's loop matches every case.
#[derive(Debug)]
pub enum Next {
    /// Call this route now, then hand it back with [`Attempts::failed`] or [`Attempts::succeeded`].
    Try(Route),
    /// Wait this long (on your runtime), then ask again.
    Wait(Duration),
    /// Nothing left to try.
    Stop(AttemptError),
}

/// What the plan decided after a failure ([`Attempts::failed`]); [`Attempts::next_step`] acts on it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Try the same group again, after `after` (zero: at once).
    Retry {
        /// The delay.
        after: Duration,
    },
    /// Try `group` next, from the `kind` fallback list.
    Fallback {
        /// The fallback group.
        group: String,
        /// Which list it came from.
        kind: FallbackKind,
    },
    /// Nothing left: the request failed.
    Stop,
}

/// One level of LiteLLM's recursion: a group tried with its retries, then (once they are spent) walking
/// its fallback chain.
#[derive(Debug)]
struct Level {
    /// The name asked.
    name: String,
    /// The group it resolved to, once known.
    resolved: Option<String>,
    /// LiteLLM's `fallback_depth` for this group.
    depth: usize,
    failures: u32,
    /// Fixed at the group's first failure.
    budget: Option<Budget>,
    falling: Option<Falling>,
}

impl Level {
    fn new(name: String, depth: usize) -> Self {
        Level {
            name,
            resolved: None,
            depth,
            failures: 0,
            budget: None,
            falling: None,
        }
    }
}

/// A group's retries, fixed at its first failure.
#[derive(Debug, Clone, Copy)]
struct Budget {
    retries: u32,
    /// The count came from a retry policy: obeyed without LiteLLM's other checks.
    by_policy: bool,
    /// Deployments in the group then.
    all: usize,
}

/// A fallback chain being walked (LiteLLM's `run_async_fallback` loop).
#[derive(Debug)]
struct Falling {
    kind: FallbackKind,
    chain: Vec<String>,
    next: usize,
    /// The depth given to the next group (one more per group tried).
    depth: usize,
}

/// The attempt plan of one request ([`Router::attempts`]; see the [module docs](self)).
#[derive(Debug)]
pub struct Attempts<'r, 'c> {
    router: &'r Router,
    ctx: RequestContext<'c>,
    model: String,
    /// The stack of groups being tried: the requested model at the bottom.
    levels: Vec<Level>,
    /// Groups already tried or being tried as fallbacks, and the groups whose chain was entered
    /// (LiteLLM's `attempted_targets`).
    visited: Vec<String>,
    /// Deployments that failed this request: avoided while another one is eligible.
    failed: Vec<DeploymentId>,
    attempts: Vec<Attempt>,
    wait: Option<Duration>,
    /// The route last yielded and not handed back yet.
    outstanding: Option<DeploymentId>,
    done: bool,
}

impl<'r, 'c> Attempts<'r, 'c> {
    pub(crate) fn new(router: &'r Router, model: &str, ctx: RequestContext<'c>) -> Self {
        Attempts {
            router,
            ctx,
            model: model.to_string(),
            levels: vec![Level::new(model.to_string(), 0)],
            visited: Vec::new(),
            failed: Vec::new(),
            attempts: Vec::new(),
            wait: None,
            outstanding: None,
            done: false,
        }
    }

    /// The model requested.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The attempts so far, in order.
    pub fn tried(&self) -> &[Attempt] {
        &self.attempts
    }

    /// Whether nothing is left to try.
    pub fn is_finished(&self) -> bool {
        self.done
    }

    /// What to do now: try a route, wait, or stop. Never blocks. A group with no deployment to call counts
    /// as an attempt and is decided on here, so one call may move on to a fallback group.
    pub fn next_step(&mut self) -> Next {
        if let Some(id) = self.outstanding.take() {
            self.abandon(id);
        }
        loop {
            if self.done {
                return Next::Stop(self.error());
            }
            if let Some(wait) = self.wait.take()
                && !wait.is_zero()
            {
                return Next::Wait(wait);
            }
            let Some(level) = self.levels.last_mut() else {
                self.done = true;
                continue;
            };
            match self
                .router
                .route_avoiding(&level.name, &self.ctx, &self.failed)
            {
                Ok(route) => {
                    if level.resolved.is_none() {
                        level.resolved = Some(route.group().to_string());
                    }
                    self.outstanding = Some(route.id().clone());
                    return Next::Try(route);
                }
                Err(error) => {
                    let cause = match &error {
                        // A name over the router's length limit is looked up nowhere (LiteLLM has no
                        // such limit; its unknown names are a 400 too).
                        RouteError::NoDeployment { .. } | RouteError::ModelNameTooLong { .. } => {
                            Cause::NotFound
                        }
                        RouteError::ContextWindowExceeded { group, .. } => {
                            level.resolved.get_or_insert_with(|| group.clone());
                            Cause::Failure(FailureKind::ContextWindowExceeded)
                        }
                        RouteError::NoneAvailable { group, .. } => {
                            level.resolved.get_or_insert_with(|| group.clone());
                            Cause::NoneAvailable
                        }
                    };
                    let group = level.name.clone();
                    self.attempts.push(Attempt {
                        group,
                        deployment: None,
                        result: AttemptResult::NoDeployment(error),
                        cooled_down: false,
                    });
                    self.decide(cause, None, None);
                }
            }
        }
    }

    /// Hands back a route that failed: reports the failure to the router (which may cool the deployment
    /// down), records it, and decides what comes next (which [`Attempts::next_step`] then does).
    ///
    /// A route other than the one the plan yielded last is reported and changes nothing in the plan: the
    /// decision returned is then [`Decision::Stop`] if the plan is over, else a retry after the wait still
    /// pending.
    pub fn failed(&mut self, route: Route, failure: impl Into<Failure>) -> Decision {
        let failure = failure.into();
        let cooled_down = self.router.report(&route, Outcome::failure(failure.kind));
        let id = route.id().clone();
        let own_retries = deployment_retries(&route);
        drop(route);
        if self.outstanding.as_ref() != Some(&id) {
            return match self.done {
                true => Decision::Stop,
                false => Decision::Retry {
                    after: self.wait.unwrap_or_default(),
                },
            };
        }
        self.outstanding = None;
        if !self.failed.contains(&id) {
            self.failed.push(id.clone());
        }
        self.attempts.push(Attempt {
            group: self.current_name(),
            deployment: Some(id),
            result: AttemptResult::Failed(failure),
            cooled_down,
        });
        self.decide(
            Cause::Failure(failure.kind.normalized()),
            failure.retry_after,
            own_retries,
        )
    }

    /// Hands back the route that answered: reports `outcome` (the success: [`Outcome::success`] with the
    /// latency, and for a stream its time to first token, and usage) and ends the plan. Returns every
    /// attempt, this one last. Same as [`Attempts::answered`] then [`Answered::succeeded`].
    pub fn succeeded(self, route: Route, outcome: Outcome) -> Vec<Attempt> {
        self.answered(route).succeeded(outcome)
    }

    /// Hands back the route whose answer reached the caller before its outcome is known (a stream past its
    /// first event): the plan ends, nothing more is retried, and the [`Answered`] handle reports how the
    /// answer ended. The route stays in flight until then.
    ///
    /// ```
    /// use modelroute::attempt::Next;
    /// use modelroute::router::{FailureKind, Outcome, RequestContext};
    /// use modelroute::{Deployment, Router};
    /// use std::time::Duration;
    /// let router = Router::new([Deployment::new("g", "openai/gpt-4o")?.with_id("a")?])?;
    /// let mut plan = router.attempts("g", &RequestContext::new());
    /// let Next::Try(route) = plan.next_step() else { unreachable!() };
    /// // The first event reached the caller: from here on, a failure ends the stream.
    /// let answered = plan.answered(route);
    /// assert_eq!(answered.route().id().as_str(), "a");
    /// // … the stream is cut after a few events:
    /// let attempts = answered.failed(FailureKind::Connection);
    /// assert_eq!(attempts[0].failure(), Some(FailureKind::Connection));
    /// assert_eq!(router.health(&"a".into()).unwrap().failures, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn answered(mut self, route: Route) -> Answered<'r> {
        let group = self.current_name();
        self.outstanding = None;
        self.done = true;
        Answered {
            router: self.router,
            route,
            group,
            attempts: std::mem::take(&mut self.attempts),
        }
    }

    fn current_name(&self) -> String {
        self.levels
            .last()
            .map_or_else(|| self.model.clone(), |l| l.name.clone())
    }

    /// A route dropped without an outcome: a failure of unknown cause, not reported.
    fn abandon(&mut self, id: DeploymentId) {
        if !self.failed.contains(&id) {
            self.failed.push(id.clone());
        }
        self.attempts.push(Attempt {
            group: self.current_name(),
            deployment: Some(id),
            result: AttemptResult::Abandoned,
            cooled_down: false,
        });
        self.decide(Cause::Failure(FailureKind::Other), None, None);
    }

    /// After a failure of the current group: retry it, or walk the fallbacks.
    ///
    /// `own_retries` is the failed deployment's own `num_retries`: at a group's first failure it replaces
    /// the router's (a retry policy's count still wins), as LiteLLM reads it off the exception.
    fn decide(
        &mut self,
        cause: Cause,
        server_retry_after: Option<Duration>,
        own_retries: Option<u32>,
    ) -> Decision {
        let router = self.router;
        let settings = router.settings();
        let Some(level) = self.levels.last() else {
            self.done = true;
            return Decision::Stop;
        };
        let (healthy, all) = self.health(&level.name);
        let names = self.own_names(level);
        let policy = retry_policy(settings, &names);
        let Some(level) = self.levels.last_mut() else {
            self.done = true;
            return Decision::Stop;
        };
        level.failures += 1;
        let budget =
            *level
                .budget
                .get_or_insert_with(|| match policy.and_then(|p| p.retries_for(cause)) {
                    Some(retries) => Budget {
                        retries,
                        by_policy: true,
                        all,
                    },
                    None => Budget {
                        retries: own_retries
                            .or(settings.num_retries)
                            .unwrap_or(retry::DEFAULT_NUM_RETRIES),
                        by_policy: false,
                        all,
                    },
                });
        let ctx = RetryContext {
            healthy,
            all: budget.all,
            context_window_fallbacks: !settings.context_window_fallbacks.is_empty(),
            content_policy_fallbacks: !settings.content_policy_fallbacks.is_empty(),
        };
        if level.failures <= budget.retries
            && (budget.by_policy || retry::should_retry(cause, &ctx))
        {
            let after = retry::delay(
                level.failures,
                server_retry_after,
                &ctx,
                settings.retry_after,
                router.random(),
            );
            self.wait = Some(after);
            return Decision::Retry { after };
        }
        self.fall_back(cause)
    }

    /// The current group's retries are spent: find its fallback chain and start walking it
    /// (LiteLLM's `async_function_with_fallbacks_common_utils`).
    fn fall_back(&mut self, cause: Cause) -> Decision {
        let router = self.router;
        let settings = router.settings();
        let Some(level) = self.levels.last() else {
            self.done = true;
            return Decision::Stop;
        };
        let mut names = self.own_names(level);
        if let Some(first) = self.levels.first()
            && self.levels.len() > 1
        {
            for name in self.own_names(first) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        let names = || names.iter().map(String::as_str);
        let kind = match cause {
            Cause::Failure(kind) => kind.fallback_kind(),
            Cause::NotFound | Cause::NoneAvailable => FallbackKind::General,
        };
        let special = match kind {
            FallbackKind::ContextWindow => &settings.context_window_fallbacks,
            FallbackKind::ContentPolicy => &settings.content_policy_fallbacks,
            _ => &settings.fallbacks,
        };
        let found = if kind != FallbackKind::General && !special.is_empty() {
            // A configured list without a chain for the group ends the request here.
            chain::lookup(special, names()).map(|c| (kind, c.groups))
        } else {
            match chain::lookup(&settings.fallbacks, names()) {
                Some(c) if !c.generic => Some((FallbackKind::General, c.groups)),
                // `default_fallbacks` is LiteLLM's last "*" entry of `fallbacks`.
                _ if !settings.default_fallbacks.is_empty() => {
                    Some((FallbackKind::General, &settings.default_fallbacks[..]))
                }
                other => other.map(|c| (FallbackKind::General, c.groups)),
            }
        };
        let Some((kind, groups)) = found else {
            return self.fail_level();
        };
        if level.depth >= settings.max_fallbacks {
            return self.fail_level();
        }
        let chain = groups.to_vec();
        if !self.visited.contains(&level.name) {
            self.visited.push(level.name.clone());
        }
        let Some(level) = self.levels.last_mut() else {
            return self.fail_level();
        };
        level.falling = Some(Falling {
            kind,
            chain,
            next: 0,
            depth: level.depth,
        });
        self.advance()
    }

    /// The current group failed for good: back to the chain it came from.
    fn fail_level(&mut self) -> Decision {
        self.levels.pop();
        self.advance()
    }

    /// Moves on along the current group's fallback chain: the next group not tried yet, else the group
    /// fails and its parent moves on.
    fn advance(&mut self) -> Decision {
        loop {
            let Some(level) = self.levels.last_mut() else {
                self.done = true;
                self.wait = None;
                return Decision::Stop;
            };
            let Some(falling) = level.falling.as_mut() else {
                // Only a group walking its chain has children; nothing else can be current here.
                self.levels.pop();
                continue;
            };
            while let Some(group) = falling.chain.get(falling.next) {
                falling.next += 1;
                if *group == level.name || self.visited.contains(group) {
                    continue;
                }
                let group = group.clone();
                self.visited.push(group.clone());
                falling.depth += 1;
                let (depth, kind) = (falling.depth, falling.kind);
                self.levels.push(Level::new(group.clone(), depth));
                self.wait = None;
                return Decision::Fallback { group, kind };
            }
            self.levels.pop();
        }
    }

    /// The names a level's chain and retry policy are looked up by: the name asked, its alias target and
    /// the group it resolved to.
    fn own_names(&self, level: &Level) -> Vec<String> {
        let mut names = vec![level.name.clone()];
        let target = self
            .router
            .settings()
            .model_group_alias
            .get(&level.name)
            .map(|t| t.model.clone());
        for name in target.into_iter().chain(level.resolved.clone()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The group's deployments that are neither blocked nor cooling down, and all of them.
    fn health(&self, name: &str) -> (usize, usize) {
        match self.router.explain(name, &self.ctx) {
            Ok(resolution) => {
                let healthy = resolution
                    .candidates
                    .iter()
                    .filter(|c| {
                        !matches!(
                            c.availability,
                            CandidateStatus::Blocked | CandidateStatus::CoolingDown(_)
                        )
                    })
                    .count();
                (healthy, resolution.candidates.len())
            }
            Err(_) => (0, 0),
        }
    }

    /// The error of a plan that ran out: every attempt, its cause the requested model's last one.
    fn error(&self) -> AttemptError {
        let cause = self.attempts.iter().rev().find(|a| a.group == self.model);
        let model = self.model.clone();
        let attempts = self.attempts.clone();
        match cause.map(|a| &a.result) {
            Some(AttemptResult::NoDeployment(_)) => AttemptError::NoDeployment { model, attempts },
            _ => AttemptError::Failed { model, attempts },
        }
    }
}

/// A deployment's own `litellm_params.num_retries`, if it is a non-negative integer (LiteLLM's Router ignores
/// a string there: checked in tests/parity_attempts.rs).
fn deployment_retries(route: &Route) -> Option<u32> {
    let n = route
        .deployment()
        .litellm_params()
        .get("num_retries")?
        .as_u64()?;
    u32::try_from(n).ok()
}

/// The retry policy for a group: its `model_group_retry_policy` entry (by the first of its names that has
/// one), else `retry_policy`.
fn retry_policy<'s>(settings: &'s RouterSettings, names: &[String]) -> Option<&'s RetryPolicy> {
    names
        .iter()
        .find_map(|n| settings.model_group_retry_policy.get(n))
        .or(settings.retry_policy.as_ref())
}
