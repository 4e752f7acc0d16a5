//! The routing state behind the router's lock: groups by exact name and by wildcard pattern, per scope
//! (global and each team), the [`PatternRouter`] that matches wildcards, and every deployment by id with
//! its health state.
//!
//! Group member order is config order and is the router's own (the `PatternRouter` is used only to find
//! which pattern matches and the concrete model name). The only order the `PatternRouter` owns is the
//! tie-break between equally specific patterns: the order in which patterns first got a deployment. The
//! state mirrors it in `Group::rank` so that `reconcile` can tell which patterns must be re-inserted to
//! give the same precedence as a router built fresh from the list.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

use serde_json::Value;

use super::cooldown::DeploymentCooldown;
use super::health::Stats;
use super::pre_call;
use super::pricing;
use super::usage::Limits;
use crate::catalog::ModelCatalog;
use crate::deployment::{Deployment, DeploymentId};
use crate::error::ChangeError;
use crate::pattern::PatternRouter;

/// A deployment in the routing state, with its health and strategy state.
#[derive(Debug)]
pub(crate) struct Member {
    pub deployment: Arc<Deployment>,
    pub stats: Arc<Stats>,
    /// `litellm_params.tags`, for tag filtering.
    pub tags: Box<[Box<str>]>,
    /// Routed through a wildcard pattern (never cooled down).
    pub wildcard: bool,
    /// `rpm`, `tpm` and `max_parallel_requests`.
    pub limits: Limits,
    /// Input + output price per token (`cost-based-routing`).
    pub cost: f64,
    /// Its own `cooldown_time`, `allowed_fails`, `allowed_fails_policy`.
    pub cooldown: DeploymentCooldown,
    /// Its context window in input tokens, if known (pre-call checks): `model_info`, else the catalog.
    pub context_window: Option<u64>,
    /// `model_info.enable_tag_filtering`, if set.
    pub tag_filtering: Option<bool>,
    /// `model_info.allow_fail_open: true`.
    pub allow_fail_open: bool,
}

/// What the router gives every deployment it holds: the catalog that prices it (and knows its context
/// window) and the default `max_parallel_requests`.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemberDefaults {
    pub catalog: Option<Arc<ModelCatalog>>,
    pub default_max_parallel: Option<u64>,
}

impl Member {
    fn new(deployment: Arc<Deployment>, stats: Arc<Stats>, defaults: &MemberDefaults) -> Self {
        let tags = match deployment.litellm_params().get("tags") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(Into::into)
                .collect(),
            _ => Box::default(),
        };
        let wildcard = deployment.routing_name().contains('*');
        let info = deployment.model_info();
        Member {
            limits: Limits::of(&deployment, defaults.default_max_parallel),
            cost: pricing::cost_per_token(&deployment, defaults.catalog.as_deref()),
            cooldown: DeploymentCooldown::of(&deployment),
            context_window: pre_call::context_window(&deployment, defaults.catalog.as_deref()),
            tag_filtering: info.get("enable_tag_filtering").and_then(Value::as_bool),
            allow_fail_open: info.get("allow_fail_open") == Some(&Value::Bool(true)),
            deployment,
            stats,
            tags,
            wildcard,
        }
    }

    pub fn id(&self) -> &DeploymentId {
        self.deployment.id()
    }
}

/// The deployments requested by one name (exact) or one pattern, in config order.
#[derive(Debug)]
pub(crate) struct Group {
    pub name: Arc<str>,
    pub members: Vec<Arc<Member>>,
    pub round_robin: AtomicUsize,
    /// Pattern groups: position in the `PatternRouter`'s tie-break order (`None` while detached for
    /// re-insertion during a reconcile).
    pub rank: Option<u64>,
}

impl Group {
    fn new(name: &str) -> Self {
        Group {
            name: name.into(),
            members: Vec::new(),
            round_robin: AtomicUsize::new(0),
            rank: None,
        }
    }
}

/// The global scope or one team's.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    pub team: Option<Arc<str>>,
    pub exact: HashMap<Box<str>, Group>,
    pub patterns: HashMap<Box<str>, Group>,
}

impl Scope {
    fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.patterns.is_empty()
    }
}

/// Where a deployment is requested: its scope (team or global) and its name or pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct GroupKey<'a> {
    pub team: Option<&'a str>,
    pub name: &'a str,
}

impl<'a> GroupKey<'a> {
    pub fn of(d: &'a Deployment) -> Self {
        GroupKey {
            team: d.team().map(|(team, _)| team),
            name: d.routing_name(),
        }
    }
    pub fn wildcard(&self) -> bool {
        self.name.contains('*')
    }
    fn owned(&self) -> OwnedKey {
        OwnedKey {
            team: self.team.map(Into::into),
            name: self.name.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct OwnedKey {
    team: Option<Box<str>>,
    name: Box<str>,
}

impl OwnedKey {
    fn key(&self) -> GroupKey<'_> {
        GroupKey {
            team: self.team.as_deref(),
            name: &self.name,
        }
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Upserted {
    Added,
    Updated,
    Unchanged,
}

/// The keys of `litellm_params` that tune routing without changing what is called: changing only these
/// keeps a deployment's health and strategy state.
const ROUTING_KNOBS: [&str; 9] = [
    "rpm",
    "tpm",
    "weight",
    "order",
    "tags",
    "max_parallel_requests",
    "input_cost_per_token",
    "output_cost_per_token",
    "cooldown_time",
];

/// Whether `new` calls something else than `old` (so its latency, failures and cooldown say nothing about
/// `new`): any `litellm_params` key other than the routing knobs differs (model, api_base, api_key, …).
/// `model_name`, team and `model_info` (e.g. `blocked`) do not reset the state.
pub(crate) fn calls_differ(old: &Deployment, new: &Deployment) -> bool {
    let a = old.litellm_params().effective();
    let b = new.litellm_params().effective();
    let relevant = |k: &String| !ROUTING_KNOBS.contains(&k.as_str());
    a.keys().filter(|k| relevant(k)).count() != b.keys().filter(|k| relevant(k)).count()
        || a.iter()
            .filter(|(k, _)| relevant(k))
            .any(|(k, v)| b.get(k) != Some(v))
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub global: Scope,
    pub teams: HashMap<Box<str>, Scope>,
    pub patterns: PatternRouter,
    pub by_id: HashMap<DeploymentId, Arc<Member>>,
    /// Given to every member when it is created.
    pub defaults: MemberDefaults,
    /// Deployments by `litellm_params.model` (LiteLLM's `_get_deployment_by_litellm_model`): those without a
    /// `model_info.team_id` whose model is no template (no `*`), each group in id order (canonical, so that a
    /// reconciled router equals a fresh one).
    pub by_model: HashMap<Box<str>, Group>,
    /// How many ids have each length: a requested name of a length no id has is no id (skips a hash lookup
    /// on the route path).
    id_lengths: IdLengths,
    next_rank: u64,
}

/// Counts of id lengths, `0..LONG` exactly and `LONG..` together.
#[derive(Debug, Default)]
struct IdLengths(Vec<u32>);

const LONG: usize = 128;

impl IdLengths {
    fn add(&mut self, id: &DeploymentId) {
        if self.0.is_empty() {
            self.0 = vec![0; LONG + 1];
        }
        self.0[id.as_str().len().min(LONG)] += 1;
    }
    fn remove(&mut self, id: &DeploymentId) {
        if let Some(n) = self.0.get_mut(id.as_str().len().min(LONG)) {
            *n = n.saturating_sub(1);
        }
    }
    fn may_hold(&self, len: usize) -> bool {
        self.0.get(len.min(LONG)).is_some_and(|&n| n > 0)
    }
}

/// The `litellm_params.model` under which `d` is found by [`State::by_model`], if any.
fn model_key(d: &Deployment) -> Option<&str> {
    let model = d.litellm_params().model();
    (d.model_info().team_id().is_none() && !model.contains('*')).then_some(model)
}

fn scope_mut<'s>(
    global: &'s mut Scope,
    teams: &'s mut HashMap<Box<str>, Scope>,
    team: Option<&str>,
) -> &'s mut Scope {
    match team {
        None => global,
        Some(team) => teams.entry(team.into()).or_insert_with(|| Scope {
            team: Some(team.into()),
            ..Scope::default()
        }),
    }
}

impl State {
    pub fn scope(&self, team: Option<&str>) -> Option<&Scope> {
        match team {
            None => Some(&self.global),
            Some(team) => self.teams.get(team),
        }
    }

    pub fn group(&self, key: GroupKey<'_>) -> Option<&Group> {
        let scope = self.scope(key.team)?;
        if key.wildcard() {
            scope.patterns.get(key.name)
        } else {
            scope.exact.get(key.name)
        }
    }

    fn group_mut(&mut self, key: GroupKey<'_>) -> Option<&mut Group> {
        let scope = match key.team {
            None => &mut self.global,
            Some(team) => self.teams.get_mut(team)?,
        };
        if key.wildcard() {
            scope.patterns.get_mut(key.name)
        } else {
            scope.exact.get_mut(key.name)
        }
    }

    /// Adds or replaces a deployment (already validated for the `PatternRouter`). Replacing one in the same
    /// group keeps its place; a move to another group appends it there.
    pub fn upsert(&mut self, deployment: Arc<Deployment>) -> Upserted {
        let old = self.by_id.get(deployment.id()).cloned();
        if let Some(old) = &old
            && *old.deployment == *deployment
        {
            return Upserted::Unchanged;
        }
        let stats = match &old {
            Some(old) if !calls_differ(&old.deployment, &deployment) => old.stats.clone(),
            _ => Arc::default(),
        };
        let member = Arc::new(Member::new(deployment, stats, &self.defaults));
        let key = GroupKey::of(&member.deployment);
        let result = match &old {
            Some(old) if GroupKey::of(&old.deployment) == key => {
                self.unindex_model(old);
                self.index_model(&member);
                if let Some(group) = self.group_mut(key)
                    && let Some(slot) = group.members.iter_mut().find(|m| m.id() == member.id())
                {
                    *slot = member.clone();
                }
                if member.wildcard {
                    self.pattern_insert(key, &member);
                }
                Upserted::Updated
            }
            Some(old) => {
                self.detach(old);
                self.attach(&member);
                Upserted::Updated
            }
            None => {
                self.attach(&member);
                Upserted::Added
            }
        };
        if old.is_none() {
            self.id_lengths.add(member.id());
        }
        self.by_id.insert(member.id().clone(), member);
        result
    }

    /// Removes a deployment; its group goes too if left empty.
    pub fn remove(&mut self, id: &DeploymentId) -> bool {
        match self.by_id.remove(id) {
            Some(old) => {
                self.id_lengths.remove(id);
                self.detach(&old);
                true
            }
            None => false,
        }
    }

    /// The deployment whose id is `name`.
    #[inline]
    pub fn member_by_id(&self, name: &str) -> Option<&Arc<Member>> {
        if !self.id_lengths.may_hold(name.len()) {
            return None;
        }
        self.by_id.get(name)
    }

    /// Takes every deployment of a pattern group out of the `PatternRouter` (not out of the group), so that
    /// re-inserting them gives the pattern a new place in the tie-break order.
    pub fn detach_pattern(&mut self, key: GroupKey<'_>) {
        let Some(group) = self.group_mut(key) else {
            return;
        };
        group.rank = None;
        let ids: Vec<DeploymentId> = group.members.iter().map(|m| m.id().clone()).collect();
        for id in ids {
            self.patterns.remove(&id);
        }
    }

    /// Puts a detached deployment back into the `PatternRouter`.
    pub fn reinsert(&mut self, id: &DeploymentId) {
        if let Some(member) = self.by_id.get(id).cloned()
            && member.wildcard
        {
            self.pattern_insert(GroupKey::of(&member.deployment), &member);
        }
    }

    /// Sets the order of a group's deployments.
    pub fn reorder(&mut self, key: GroupKey<'_>, ids: &[DeploymentId]) {
        let members: Option<Vec<Arc<Member>>> =
            ids.iter().map(|id| self.by_id.get(id).cloned()).collect();
        if let (Some(members), Some(group)) = (members, self.group_mut(key))
            && members.len() == group.members.len()
        {
            group.members = members;
        }
    }

    fn pattern_insert(&mut self, key: GroupKey<'_>, member: &Arc<Member>) {
        // Validated before any write: cannot fail.
        let inserted = self.patterns.upsert(member.deployment.clone());
        debug_assert!(
            inserted.is_ok(),
            "validated deployment refused: {inserted:?}"
        );
        let next = &mut self.next_rank;
        let scope = match key.team {
            None => &mut self.global,
            Some(team) => match self.teams.get_mut(team) {
                Some(scope) => scope,
                None => return,
            },
        };
        if let Some(group) = scope.patterns.get_mut(key.name)
            && group.rank.is_none()
        {
            group.rank = Some(*next);
            *next += 1;
        }
    }

    fn index_model(&mut self, member: &Arc<Member>) {
        if let Some(model) = model_key(&member.deployment) {
            let members = &mut self
                .by_model
                .entry(model.into())
                .or_insert_with(|| Group::new(model))
                .members;
            let at = members.partition_point(|m| m.id() < member.id());
            members.insert(at, member.clone());
        }
    }

    fn unindex_model(&mut self, old: &Arc<Member>) {
        if let Some(model) = model_key(&old.deployment)
            && let Some(group) = self.by_model.get_mut(model)
        {
            group.members.retain(|m| m.id() != old.id());
            if group.members.is_empty() {
                self.by_model.remove(model);
            }
        }
    }

    fn attach(&mut self, member: &Arc<Member>) {
        self.index_model(member);
        let key = GroupKey::of(&member.deployment);
        let scope = scope_mut(&mut self.global, &mut self.teams, key.team);
        let groups = if member.wildcard {
            &mut scope.patterns
        } else {
            &mut scope.exact
        };
        groups
            .entry(key.name.into())
            .or_insert_with(|| Group::new(key.name))
            .members
            .push(member.clone());
        if member.wildcard {
            self.pattern_insert(key, member);
        }
    }

    fn detach(&mut self, old: &Arc<Member>) {
        self.unindex_model(old);
        let key = GroupKey::of(&old.deployment);
        if old.wildcard {
            self.patterns.remove(old.id());
        }
        let scope = match key.team {
            None => &mut self.global,
            Some(team) => match self.teams.get_mut(team) {
                Some(scope) => scope,
                None => return,
            },
        };
        let groups = if old.wildcard {
            &mut scope.patterns
        } else {
            &mut scope.exact
        };
        if let Some(group) = groups.get_mut(key.name) {
            group.members.retain(|m| m.id() != old.id());
            if group.members.is_empty() {
                groups.remove(key.name);
            }
        }
        if let Some(team) = key.team
            && self.teams.get(team).is_some_and(Scope::is_empty)
        {
            self.teams.remove(team);
        }
    }

    /// Every group, scopes in team order (global first), exact names sorted, then patterns in precedence
    /// order.
    pub fn table(&self) -> Vec<(Option<&str>, &Group, bool)> {
        let mut teams: Vec<&Box<str>> = self.teams.keys().collect();
        teams.sort();
        let scopes = std::iter::once((None, &self.global))
            .chain(teams.into_iter().map(|t| (Some(&**t), &self.teams[t])));
        let mut out = Vec::new();
        for (team, scope) in scopes {
            let mut exact: Vec<&Group> = scope.exact.values().collect();
            exact.sort_by(|a, b| a.name.cmp(&b.name));
            out.extend(exact.into_iter().map(|g| (team, g, false)));
            let mut patterns: Vec<&Group> = scope.patterns.values().collect();
            patterns.sort_by_key(|g| (specificity(&g.name), g.rank));
            out.extend(patterns.into_iter().map(|g| (team, g, true)));
        }
        out
    }
}

/// The `PatternRouter`'s precedence key, minus the tie-break: more literal characters, then fewer `*`.
fn specificity(pattern: &str) -> (std::cmp::Reverse<usize>, usize) {
    let stars = pattern.bytes().filter(|&b| b == b'*').count();
    let literal = pattern.chars().count() - stars;
    (std::cmp::Reverse(literal), stars)
}

/// Patterns that compete by insertion order: same scope, same specificity.
type Class<'a> = (Option<&'a str>, (std::cmp::Reverse<usize>, usize));

/// One step of a reconcile, in list order.
#[derive(Debug)]
pub(crate) enum Op {
    Upsert(Arc<Deployment>),
    Reinsert(DeploymentId),
}

/// How to bring the state to a list: computed under a read lock, applied under the write lock.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    detach: Vec<OwnedKey>,
    removes: Vec<DeploymentId>,
    ops: Vec<Op>,
    reorders: Vec<(OwnedKey, Vec<DeploymentId>)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.detach.is_empty()
            && self.removes.is_empty()
            && self.ops.is_empty()
            && self.reorders.is_empty()
    }

    /// Applies the plan. Returns (added, updated, removed).
    pub fn apply(self, state: &mut State) -> (usize, usize, usize) {
        for key in &self.detach {
            state.detach_pattern(key.key());
        }
        let mut removed = 0;
        for id in &self.removes {
            removed += usize::from(state.remove(id));
        }
        let (mut added, mut updated) = (0, 0);
        for op in self.ops {
            match op {
                Op::Upsert(d) => match state.upsert(d) {
                    Upserted::Added => added += 1,
                    Upserted::Updated => updated += 1,
                    Upserted::Unchanged => {}
                },
                Op::Reinsert(id) => state.reinsert(&id),
            }
        }
        for (key, ids) in &self.reorders {
            state.reorder(key.key(), ids);
        }
        (added, updated, removed)
    }
}

/// A desired group, seen while walking the list: checks that its staying deployments come in their current
/// order and before every newcomer (then the ops leave it in list order).
struct Walk<'s> {
    group: Option<&'s Group>,
    cursor: usize,
    newcomer_seen: bool,
    keeps: bool,
    broken: bool,
}

/// Computes what turns `state` into the state a fresh router would build from `desired`: the same
/// deployments, the same order within every group, and the same pattern precedence. Checks the list (ids
/// unique; new or changed wildcard deployments accepted by the pattern index). One pass over the list
/// with a few hash lookups per entry; nothing is cloned but the changes.
pub(crate) fn plan(state: &State, desired: &[Arc<Deployment>]) -> Result<Plan, ChangeError> {
    let n = desired.len();
    let mut index: HashMap<&DeploymentId, usize> = HashMap::with_capacity(n);
    let mut keys: Vec<GroupKey<'_>> = Vec::with_capacity(n);
    // Unchanged: the same deployment is there. Staying: a deployment with this id is in the same group.
    let mut unchanged: Vec<bool> = Vec::with_capacity(n);
    let mut staying: Vec<bool> = Vec::with_capacity(n);
    let mut known = 0;
    for (i, d) in desired.iter().enumerate() {
        if index.insert(d.id(), i).is_some() {
            return Err(ChangeError::DuplicateId { id: d.id().clone() });
        }
        let key = GroupKey::of(d);
        let current = state.by_id.get(d.id());
        let same = current.is_some_and(|m| Arc::ptr_eq(&m.deployment, d) || *m.deployment == **d);
        if !same && d.is_strategy_marker() {
            return Err(ChangeError::StrategyMarker { id: d.id().clone() });
        }
        if !same && key.wildcard() {
            PatternRouter::check(d).map_err(|source| ChangeError::Pattern {
                id: d.id().clone(),
                source,
            })?;
        }
        known += usize::from(current.is_some());
        staying.push(current.is_some_and(|m| GroupKey::of(&m.deployment) == key));
        unchanged.push(same);
        keys.push(key);
    }
    let mut plan = Plan::default();
    if known != state.by_id.len() {
        plan.removes = state
            .by_id
            .keys()
            .filter(|id| !index.contains_key(id))
            .cloned()
            .collect();
    }
    // Whether a current member stays in its group.
    let stays = |m: &Member| index.get(m.id()).is_some_and(|&j| staying[j]);

    // Walk the list once, group by group.
    let mut walks: HashMap<GroupKey<'_>, Walk<'_>> = HashMap::new();
    let mut first_seen: Vec<GroupKey<'_>> = Vec::new();
    for (i, d) in desired.iter().enumerate() {
        let key = keys[i];
        let walk = walks.entry(key).or_insert_with(|| {
            first_seen.push(key);
            Walk {
                group: state.group(key),
                cursor: 0,
                newcomer_seen: false,
                keeps: false,
                broken: false,
            }
        });
        if !staying[i] {
            walk.newcomer_seen = true;
            continue;
        }
        walk.keeps = true;
        if walk.broken {
            continue;
        }
        if walk.newcomer_seen {
            walk.broken = true;
            continue;
        }
        let members = walk.group.map_or(&[][..], |g| &g.members[..]);
        loop {
            match members.get(walk.cursor) {
                Some(m) if m.id() == d.id() => {
                    walk.cursor += 1;
                    break;
                }
                // A member leaving the group does not count.
                Some(m) if !stays(m) => walk.cursor += 1,
                _ => {
                    walk.broken = true;
                    break;
                }
            }
        }
    }

    // Pattern precedence: per scope and specificity class, keep the longest prefix (in first-appearance
    // order) of existing patterns that keep a deployment and whose current ranks increase; detach the
    // other existing patterns of the class, to be re-inserted in list order.
    let mut last_rank: HashMap<Class<'_>, u64> = HashMap::new();
    let mut closed: std::collections::HashSet<Class<'_>> = std::collections::HashSet::new();
    let mut detached: std::collections::HashSet<GroupKey<'_>> = std::collections::HashSet::new();
    for key in first_seen.iter().filter(|k| k.wildcard()) {
        let class = (key.team, specificity(key.name));
        let walk = &walks[key];
        let Some(group) = walk.group else {
            // A new pattern: inserted in list order, so every existing pattern of its class that comes
            // after it in the list must be re-inserted after it.
            closed.insert(class);
            continue;
        };
        let in_order = match (group.rank, last_rank.get(&class)) {
            (Some(r), Some(&last)) => r > last,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !closed.contains(&class) && walk.keeps && in_order {
            last_rank.insert(class, group.rank.unwrap_or(0));
        } else {
            closed.insert(class);
            detached.insert(*key);
            plan.detach.push(key.owned());
        }
    }

    // Upserts (new or changed) and re-insertions, in list order.
    for (i, d) in desired.iter().enumerate() {
        if !unchanged[i] {
            plan.ops.push(Op::Upsert(d.clone()));
        } else if !detached.is_empty() && detached.contains(&keys[i]) {
            plan.ops.push(Op::Reinsert(d.id().clone()));
        }
    }

    // Groups whose staying members are out of order: set the list order after the ops.
    let broken: HashMap<GroupKey<'_>, usize> = first_seen
        .iter()
        .filter(|k| walks[*k].broken)
        .enumerate()
        .map(|(slot, k)| (*k, slot))
        .collect();
    if !broken.is_empty() {
        let mut orders: Vec<(OwnedKey, Vec<DeploymentId>)> = first_seen
            .iter()
            .filter(|k| walks[*k].broken)
            .map(|k| (k.owned(), Vec::new()))
            .collect();
        for (i, d) in desired.iter().enumerate() {
            if let Some(&slot) = broken.get(&keys[i]) {
                orders[slot].1.push(d.id().clone());
            }
        }
        plan.reorders = orders;
    }
    Ok(plan)
}
