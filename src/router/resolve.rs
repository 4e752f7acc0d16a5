//! Resolution: from a requested name to the one group of deployments that serves it, in LiteLLM's order
//! (`_common_checks_available_deployment` and `_try_early_resolve_deployments_for_model_not_in_names` in
//! LiteLLM 1.109.1), minus its bugs:
//!
//! 1. **Deployment id**: a name that is no `model_name` but a deployment's `model_info.id` routes to that
//!    deployment, before aliases. Like LiteLLM, the deployment is taken as asked: cooldowns, tags and
//!    `order` do not apply, a blocked one is refused. Unlike LiteLLM, a team's deployment is found by id
//!    only by that team's requests, and a wildcard deployment (whose model is a template) not at all.
//! 2. **Alias** (`model_group_alias`): one step; the rest runs on the target.
//! 3. **Team public names** (for a request with a team), then **exact `model_name`s**.
//! 4. **Wildcards**: the team's, then the global ones; each tried with the name, then (LiteLLM's
//!    provider retry) as `<provider>/<name>`, the provider coming from [`ModelProviders`]: with
//!    `openai/*` deployed, `gpt-4o-mini` routes to `openai/gpt-4o-mini`.
//! 5. **`litellm_params.model`**: a name equal to the model of deployments without a team (any
//!    `model_name`) routes to them, in id order.
//! 6. **`default_fallbacks`**: each in turn, by steps 3-4 without the provider retry.
//!
//! Nothing found is a [`RouteError::NoDeployment`] listing every step tried.

use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use super::model_provider::ModelProviders;
use super::state::{Group, Member, State};
use super::{RequestContext, Router};
use crate::error::RouteError;
use crate::pattern::{Pattern, PatternMatch};

/// How the requested name matched a group.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchKind {
    /// An exact `model_name`.
    Exact,
    /// A global wildcard pattern.
    Wildcard {
        /// The pattern.
        pattern: Pattern,
    },
    /// A team's public model name (`model_info.team_public_model_name`).
    TeamName {
        /// The team.
        team: Arc<str>,
    },
    /// A team's wildcard public name.
    TeamWildcard {
        /// The team.
        team: Arc<str>,
        /// The pattern.
        pattern: Pattern,
    },
    /// A deployment's `model_info.id`: that deployment, taken as asked (no cooldown, tag or `order`
    /// filtering). The group is the deployment's `model_name` (or team public name).
    DeploymentId,
    /// The `litellm_params.model` of deployments without a team; the group is that model.
    LitellmModel,
}

/// One step of resolution that found nothing (see [`RouteError::NoDeployment`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tried {
    /// The deployment ids.
    DeploymentId {
        /// The name looked up.
        name: String,
    },
    /// `model_group_alias` mapped the request to `target`.
    Alias {
        /// The requested name.
        alias: String,
        /// What it stands for.
        target: String,
    },
    /// The team's public names.
    TeamName {
        /// The team.
        team: String,
        /// The name looked up.
        name: String,
    },
    /// The team's wildcard public names (with the name, then as `<provider>/<name>`).
    TeamWildcard {
        /// The team.
        team: String,
        /// The name looked up.
        name: String,
    },
    /// The exact `model_name`s.
    Exact {
        /// The name looked up.
        name: String,
    },
    /// The global wildcards (with the name, then as `<provider>/<name>`).
    Wildcard {
        /// The name looked up.
        name: String,
    },
    /// The `litellm_params.model` of the deployments without a team.
    LitellmModel {
        /// The name looked up.
        name: String,
    },
    /// A default fallback group (looked up by team, exact name, then wildcards).
    DefaultFallback {
        /// The group.
        name: String,
    },
}

impl fmt::Display for Tried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tried::DeploymentId { name } => write!(f, "deployment id `{name}`"),
            Tried::Alias { alias, target } => write!(f, "alias `{alias}` -> `{target}`"),
            Tried::TeamName { team, name } => write!(f, "team `{team}` model `{name}`"),
            Tried::TeamWildcard { team, name } => write!(f, "team `{team}` wildcards for `{name}`"),
            Tried::Exact { name } => write!(f, "model_name `{name}`"),
            Tried::Wildcard { name } => write!(f, "wildcards for `{name}`"),
            Tried::LitellmModel { name } => write!(f, "litellm_params.model `{name}`"),
            Tried::DefaultFallback { name } => write!(f, "default fallback `{name}`"),
        }
    }
}

/// The group a name resolved to: a group of the state, or one deployment asked for by id.
#[derive(Clone, Copy)]
enum Source<'a> {
    Group(&'a Group),
    Pinned(&'a Arc<Member>),
}

/// A found group, before filtering and picking.
pub(super) struct Found<'a> {
    source: Source<'a>,
    pub matched: MatchKind,
    pub pattern_match: Option<PatternMatch<'a>>,
    pub alias: Option<Arc<str>>,
    pub default_fallback: bool,
    /// The wildcard matched only after LiteLLM's provider retry.
    retried: bool,
}

/// The round-robin counter of a pinned deployment (one candidate: never read).
static NO_TURN: AtomicUsize = AtomicUsize::new(0);

impl<'a> Found<'a> {
    #[inline]
    fn group(
        group: &'a Group,
        matched: MatchKind,
        pattern_match: Option<PatternMatch<'a>>,
    ) -> Self {
        Found {
            source: Source::Group(group),
            matched,
            pattern_match,
            alias: None,
            default_fallback: false,
            retried: false,
        }
    }

    /// The candidates, in group order.
    #[inline]
    pub fn members(&self) -> &'a [Arc<Member>] {
        match self.source {
            Source::Group(group) => &group.members,
            Source::Pinned(member) => std::slice::from_ref(member),
        }
    }

    /// The group's name: model name, public name, pattern or litellm model.
    #[inline]
    pub fn name(&self) -> Arc<str> {
        match self.source {
            Source::Group(group) => group.name.clone(),
            Source::Pinned(member) => member.deployment.routing_name().into(),
        }
    }

    /// The group's round-robin counter.
    #[inline]
    pub fn round_robin(&self) -> &'a AtomicUsize {
        match self.source {
            Source::Group(group) => &group.round_robin,
            Source::Pinned(_) => &NO_TURN,
        }
    }

    /// Whether one deployment was asked for by id (taken as asked: only `blocked` applies).
    #[inline]
    pub fn is_pinned(&self) -> bool {
        matches!(self.source, Source::Pinned(_))
    }

    /// The name the wildcard matched when it was LiteLLM's provider retry (`openai/gpt-4o-mini` for
    /// `gpt-4o-mini`).
    #[inline]
    pub fn retried_as(&self) -> Option<Arc<str>> {
        let pm = self.pattern_match.as_ref().filter(|_| self.retried)?;
        Some(pm.name().into())
    }
}

impl Router {
    /// Resolves `model` (see the [module docs](self)). `scratch` holds the provider-retried name the
    /// match may borrow.
    pub(super) fn resolve<'a>(
        &'a self,
        state: &'a State,
        model: &'a str,
        ctx: &RequestContext<'_>,
        scratch: &'a OnceCell<String>,
    ) -> Option<Found<'a>> {
        let exact = state.global.exact.get(model);
        // The common case first: a model_name, no team, no alias of that name.
        if let Some(group) = exact
            && ctx.team.is_none()
            && (self.aliases.is_empty() || !self.aliases.contains_key(model))
        {
            return Some(Found::group(group, MatchKind::Exact, None));
        }
        // 1. A deployment id, for a name that is no model_name (LiteLLM checks ids before aliases).
        if exact.is_none()
            && let Some(found) = pinned(state, model, ctx.team)
        {
            return Some(found);
        }
        // 2. The alias, one step.
        let aliased = if self.aliases.is_empty() {
            None
        } else {
            self.aliases.get(model)
        };
        let (name, alias, exact) = match aliased {
            Some((alias, target)) => (
                &**target,
                Some(alias.clone()),
                state.global.exact.get(&**target),
            ),
            None => (model, None, exact),
        };
        // 3-4. Team names, exact names, team wildcards, wildcards (with the provider retry).
        let retry = Retry {
            providers: &self.model_providers,
            scratch,
        };
        if let Some(mut found) = lookup(state, name, ctx.team, exact, Some(retry)) {
            found.alias = alias;
            return Some(found);
        }
        // 5. The litellm_params.model of deployments without a team.
        if let Some(group) = state.by_model.get(name) {
            let mut found = Found::group(group, MatchKind::LitellmModel, None);
            found.alias = alias;
            return Some(found);
        }
        // 6. The default fallbacks.
        self.default_fallbacks.iter().find_map(|group| {
            let exact = state.global.exact.get(&**group);
            let mut found = lookup(state, group, ctx.team, exact, None)?;
            found.default_fallback = true;
            Some(found)
        })
    }

    /// The error for a name that resolved to nothing: every step tried, in order.
    pub(super) fn not_found(&self, model: &str, ctx: &RequestContext<'_>) -> RouteError {
        let mut tried = vec![Tried::DeploymentId {
            name: model.to_string(),
        }];
        let name = match self.aliases.get(model) {
            Some((_, target)) => {
                tried.push(Tried::Alias {
                    alias: model.to_string(),
                    target: target.to_string(),
                });
                &**target
            }
            None => model,
        };
        let retried = self
            .model_providers
            .provider_of(name)
            .map(|provider| format!("{provider}/{name}"));
        let names = std::iter::once(name.to_string()).chain(retried);
        if let Some(team) = ctx.team {
            tried.push(Tried::TeamName {
                team: team.to_string(),
                name: name.to_string(),
            });
        }
        tried.push(Tried::Exact {
            name: name.to_string(),
        });
        if let Some(team) = ctx.team {
            tried.extend(names.clone().map(|name| Tried::TeamWildcard {
                team: team.to_string(),
                name,
            }));
        }
        tried.extend(names.map(|name| Tried::Wildcard { name }));
        tried.push(Tried::LitellmModel {
            name: name.to_string(),
        });
        tried.extend(
            self.default_fallbacks
                .iter()
                .map(|g| Tried::DefaultFallback {
                    name: g.to_string(),
                }),
        );
        RouteError::NoDeployment {
            model: model.to_string(),
            tried,
        }
    }
}

/// Step 1: the deployment whose id is `model`, if the request may ask for it by id.
fn pinned<'a>(state: &'a State, model: &str, team: Option<&str>) -> Option<Found<'a>> {
    let member = state.member_by_id(model)?;
    let visible = match member.deployment.team() {
        None => true,
        Some((owner, _)) => team == Some(owner),
    };
    // LiteLLM's `model not in model_names` covers wildcard names too.
    let is_name = state.global.patterns.contains_key(model);
    (visible && !member.wildcard && !is_name).then_some(Found {
        source: Source::Pinned(member),
        matched: MatchKind::DeploymentId,
        pattern_match: None,
        alias: None,
        default_fallback: false,
        retried: false,
    })
}

/// LiteLLM's provider retry of a wildcard lookup: the providers, and where the retried name lives.
#[derive(Clone, Copy)]
struct Retry<'a> {
    providers: &'a ModelProviders,
    scratch: &'a OnceCell<String>,
}

impl<'a> Retry<'a> {
    /// `<provider>/<name>`, when `name` has a provider.
    fn name(&self, name: &str) -> Option<&'a str> {
        let provider = self.providers.provider_of(name)?;
        Some(self.scratch.get_or_init(|| format!("{provider}/{name}")))
    }
}

/// Steps 3-4: the team's public names, the exact names (`exact` is the global exact group of `name`, looked
/// up by the caller), the team's wildcards, the global wildcards; each wildcard step with the name, then as
/// `<provider>/<name>` when `retry` is given.
fn lookup<'a>(
    state: &'a State,
    name: &'a str,
    team: Option<&str>,
    exact: Option<&'a Group>,
    retry: Option<Retry<'a>>,
) -> Option<Found<'a>> {
    let scope = team.and_then(|team| Some((team, state.teams.get(team)?)));
    let team_arc = |team: &str| -> Arc<str> {
        scope
            .and_then(|(_, s)| s.team.clone())
            .unwrap_or_else(|| team.into())
    };
    if let Some((team, scope)) = scope
        && let Some(group) = scope.exact.get(name)
    {
        let matched = MatchKind::TeamName {
            team: team_arc(team),
        };
        return Some(Found::group(group, matched, None));
    }
    if let Some(group) = exact {
        return Some(Found::group(group, MatchKind::Exact, None));
    }
    // The retried name is computed at most once, and only when a wildcard step misses.
    let retried = std::cell::Cell::new(None);
    let retried_name = || {
        if retried.get().is_none() {
            retried.set(Some(retry.and_then(|r| r.name(name))));
        }
        retried.get().flatten()
    };
    // The name as requested, then as retried.
    let names = || {
        std::iter::once(Some((name, false)))
            .chain(std::iter::once_with(|| retried_name().map(|r| (r, true))))
            .flatten()
    };
    if let Some((team, scope)) = scope {
        for (candidate, retried) in names() {
            if let Some(pm) = state.patterns.lookup_team(team, candidate)
                && let Some(group) = scope.patterns.get(pm.pattern().as_str())
            {
                let matched = MatchKind::TeamWildcard {
                    team: team_arc(team),
                    pattern: pm.pattern().clone(),
                };
                let mut found = Found::group(group, matched, Some(pm));
                found.retried = retried;
                return Some(found);
            }
        }
    }
    for (candidate, retried) in names() {
        if let Some(pm) = state.patterns.lookup(candidate)
            && let Some(group) = state.global.patterns.get(pm.pattern().as_str())
        {
            let matched = MatchKind::Wildcard {
                pattern: pm.pattern().clone(),
            };
            let mut found = Found::group(group, matched, Some(pm));
            found.retried = retried;
            return Some(found);
        }
    }
    None
}
