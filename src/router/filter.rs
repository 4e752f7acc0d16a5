//! Which deployments of a group may take a request now, in LiteLLM's order: not blocked and not cooling
//! down; large enough for the request (pre-call checks, [`pre_call`](super::pre_call)); allowed by its tags
//! ([`tags`](super::tags)); within their usage limits (`rpm`, `tpm`, `max_parallel_requests`: see
//! [`usage`](super::usage)); and only the lowest `order` among those. Allocates nothing.
//!
//! Limits are checked after tags (as LiteLLM's strategies check them after its tag filter) but before
//! `order`: when every deployment of the lowest order is at a limit, the next order takes the request, which
//! LiteLLM reaches by failing the request and retrying on the next order level.

use std::sync::Arc;
use std::time::Duration;

use super::pre_call;
use super::state::Member;
use super::tags::TagRule;
use super::usage::{LimitCheck, LimitReached, UsageLimit};

/// Sort key of `order`: a deployment without `order` comes after every deployment with one.
#[inline(always)]
fn order_key(m: &Member) -> (bool, i64) {
    match m.deployment.litellm_params().order() {
        Some(o) => (false, o),
        None => (true, 0),
    }
}

/// Why a deployment is not eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CandidateStatus {
    /// It may take the request.
    Available,
    /// `model_info.blocked: true`.
    Blocked,
    /// Cooling down after failures, for this long still.
    CoolingDown(Duration),
    /// Its context window (`max_input_tokens`, the value given) is smaller than the request's input tokens
    /// (pre-call checks).
    ContextWindowTooSmall(u64),
    /// Left out by tag filtering.
    TagMismatch,
    /// Another available deployment has a lower `order`.
    LowerPriority,
    /// At a usage limit (`rpm`, `tpm` or `max_parallel_requests`).
    AtLimit(UsageLimit),
}

/// What one request asks of a group's deployments, and the time and usage limits it is checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    /// Monotonic nanoseconds since the router's epoch (cooldowns).
    pub now_ns: u64,
    /// The request's input tokens, when pre-call checks are on and the caller stated them.
    pub input_tokens: Option<u64>,
    /// The request's tags.
    pub tags: &'a [&'a str],
    /// `enable_tag_filtering` of the router (a group's deployments may override it).
    pub tag_filtering: bool,
    /// `tag_filtering_match_any`.
    pub match_any: bool,
    /// `rpm` / `tpm`, for the strategies that hold them as limits.
    pub limits: Option<LimitCheck>,
}

impl Request<'_> {
    #[inline(always)]
    fn healthy(&self, m: &Member) -> bool {
        !m.deployment.model_info().blocked() && !m.stats.is_cooling(self.now_ns)
    }

    #[inline(always)]
    fn fits(&self, m: &Member) -> bool {
        pre_call::fits(self.input_tokens, m.context_window)
    }

    /// Whether tag filtering is on for this group: the first deployment saying so in
    /// `model_info.enable_tag_filtering`, else the router.
    fn tag_filtering(&self, members: &[Arc<Member>]) -> bool {
        members
            .iter()
            .find_map(|m| m.tag_filtering)
            .unwrap_or(self.tag_filtering)
    }

    /// The limit `m` has reached, if any: `max_parallel_requests` under every strategy, `rpm` / `tpm` under
    /// those that hold them as limits.
    pub fn limit_reached(&self, m: &Member) -> Option<UsageLimit> {
        if let Some(limit) = m.limits.max_parallel {
            let in_flight = m.stats.in_flight() as u64;
            if in_flight >= limit {
                return Some(UsageLimit::MaxParallelRequests { limit, in_flight });
            }
        }
        self.limits?
            .reached(&m.limits, &m.stats.usage, &m.stats.shared)
    }

    /// The limits a route to `m` has just reached by taking its slot and being counted: `max_parallel_requests`
    /// now full, and `rpm` under `usage-based-routing-v2` (feature `tracing`).
    #[cfg(feature = "tracing")]
    pub fn limits_taken(&self, m: &Member) -> [Option<UsageLimit>; 2] {
        let parallel = m.limits.max_parallel.and_then(|limit| {
            let in_flight = m.stats.in_flight() as u64;
            (in_flight >= limit).then_some(UsageLimit::MaxParallelRequests { limit, in_flight })
        });
        let rpm = self
            .limits
            .and_then(|check| check.rpm_taken(&m.limits, &m.stats.usage));
        [parallel, rpm]
    }

    #[inline]
    fn within_limits(&self, m: &Member) -> bool {
        self.limit_reached(m).is_none()
    }
}

/// Which deployments of `members` the request's tags allow among those not blocked, not cooling down and
/// large enough (every one when tag filtering is off); `None` when the tags allow none of them.
pub(crate) fn tag_rule<'a>(members: &[Arc<Member>], request: &Request<'a>) -> Option<TagRule<'a>> {
    if request.tag_filtering(members) {
        let available = |m: &Member| request.healthy(m) && request.fits(m);
        TagRule::compute(members, available, request.tags, request.match_any)
    } else {
        Some(TagRule::ALL)
    }
}

/// Why nothing is eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Every deployment that is not blocked or cooling down is too small for the request.
    ContextWindow,
    /// Blocked, cooling down, left out by tags, or at a usage limit.
    Unavailable,
}

/// The eligibility rule for one request on one group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Eligibility<'a> {
    request: Request<'a>,
    tags: TagRule<'a>,
    order: (bool, i64),
    pub count: usize,
}

/// Counts of the reasons why nothing is eligible.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unavailable {
    pub blocked: usize,
    pub cooling_down: usize,
    pub context_window: usize,
    pub tag_mismatch: usize,
    pub limited: Vec<LimitReached>,
    /// The end of the first cooldown or the first usage window reset that keeps a deployment out.
    pub retry_after: Option<Duration>,
    /// The largest known context window among the deployments that are not blocked or cooling down.
    pub largest_window: Option<u64>,
}

impl<'a> Eligibility<'a> {
    /// The rule for `request` on `members`, or why no deployment is eligible.
    pub fn compute(members: &[Arc<Member>], request: Request<'a>) -> Result<Self, Refusal> {
        let healthy = |m: &Member| request.healthy(m);
        if request.input_tokens.is_some()
            && members.iter().any(|m| healthy(m))
            && !members.iter().any(|m| healthy(m) && request.fits(m))
        {
            return Err(Refusal::ContextWindow);
        }
        let tags = tag_rule(members, &request).ok_or(Refusal::Unavailable)?;
        // The lowest order among the eligible, and how many have it, in one pass.
        let mut lowest: Option<((bool, i64), usize)> = None;
        for m in members {
            if !(healthy(m) && request.fits(m) && tags.accepts(m) && request.within_limits(m)) {
                continue;
            }
            let key = order_key(m);
            lowest = match lowest {
                Some((order, count)) if key == order => Some((order, count + 1)),
                Some((order, count)) if key > order => Some((order, count)),
                _ => Some((key, 1)),
            };
        }
        let (order, count) = lowest.ok_or(Refusal::Unavailable)?;
        Ok(Eligibility {
            request,
            tags,
            order,
            count,
        })
    }

    /// The tag rule it applies.
    pub fn tags(&self) -> &TagRule<'a> {
        &self.tags
    }

    /// Whether `m` may take the request.
    #[inline]
    pub fn accepts(&self, m: &Member) -> bool {
        order_key(m) == self.order
            && self.request.healthy(m)
            && self.request.fits(m)
            && self.tags.accepts(m)
            && self.request.within_limits(m)
    }
}

/// Why `m` is or is not eligible (for explanations and errors). `rule` is `None` when nothing is eligible;
/// `tags` is the tag rule ([`tag_rule`]; `None` when the tags allow nothing).
pub(crate) fn availability(
    m: &Member,
    rule: Option<&Eligibility<'_>>,
    tags: Option<&TagRule<'_>>,
    request: &Request<'_>,
) -> CandidateStatus {
    if m.deployment.model_info().blocked() {
        return CandidateStatus::Blocked;
    }
    if let Some(left) = m.stats.cooldown_left(request.now_ns) {
        return CandidateStatus::CoolingDown(left);
    }
    if !request.fits(m)
        && let Some(window) = m.context_window
    {
        return CandidateStatus::ContextWindowTooSmall(window);
    }
    if !tags.is_some_and(|tags| tags.accepts(m)) {
        return CandidateStatus::TagMismatch;
    }
    if let Some(limit) = request.limit_reached(m) {
        return CandidateStatus::AtLimit(limit);
    }
    match rule {
        Some(rule) if !rule.accepts(m) => CandidateStatus::LowerPriority,
        // Without a rule, only a route taken meanwhile can have freed it.
        _ => CandidateStatus::Available,
    }
}

/// The reasons why no member of `members` is eligible.
pub(crate) fn unavailable(members: &[Arc<Member>], request: &Request<'_>) -> Unavailable {
    let mut out = Unavailable::default();
    let mut soonest = |left: Duration| {
        out.retry_after = Some(out.retry_after.map_or(left, |r: Duration| r.min(left)));
    };
    let tags = tag_rule(members, request);
    let mut limited = Vec::new();
    let mut largest_window: Option<u64> = None;
    let (mut blocked, mut cooling_down, mut context_window, mut tag_mismatch) = (0, 0, 0, 0);
    for m in members {
        if request.healthy(m) {
            largest_window = match (largest_window, m.context_window) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        match availability(m, None, tags.as_ref(), request) {
            CandidateStatus::Blocked => blocked += 1,
            CandidateStatus::CoolingDown(left) => {
                cooling_down += 1;
                soonest(left);
            }
            CandidateStatus::ContextWindowTooSmall(_) => context_window += 1,
            CandidateStatus::TagMismatch => tag_mismatch += 1,
            CandidateStatus::AtLimit(limit) => {
                let resets_in = request
                    .limits
                    .and_then(|check| check.resets_in(&limit, &m.stats.usage));
                if let Some(resets_in) = resets_in {
                    soonest(resets_in);
                }
                limited.push(LimitReached {
                    deployment: m.id().clone(),
                    limit,
                    resets_in,
                });
            }
            CandidateStatus::Available | CandidateStatus::LowerPriority => {}
        }
    }
    out.blocked = blocked;
    out.cooling_down = cooling_down;
    out.context_window = context_window;
    out.tag_mismatch = tag_mismatch;
    out.limited = limited;
    out.largest_window = largest_window;
    out
}

/// The `deployment skipped` events for the members `rule` leaves out (feature `tracing`; out of line, called
/// only when the event is enabled).
#[cfg(feature = "tracing")]
#[cold]
#[inline(never)]
pub(crate) fn trace_skipped(
    model: &str,
    group: &str,
    members: &[Arc<Member>],
    rule: &Eligibility<'_>,
) {
    for m in members.iter().filter(|m| !rule.accepts(m)) {
        let why = match availability(m, Some(rule), Some(&rule.tags), &rule.request) {
            CandidateStatus::Blocked => "blocked",
            CandidateStatus::CoolingDown(_) => "cooling down",
            CandidateStatus::ContextWindowTooSmall(_) => "context window too small",
            CandidateStatus::TagMismatch => "tag mismatch",
            CandidateStatus::AtLimit(_) => "at a usage limit",
            CandidateStatus::LowerPriority => "lower priority",
            CandidateStatus::Available => continue,
        };
        crate::trace::debug!(
            target: "modelroute::route",
            model,
            group,
            deployment = %m.id(),
            why,
            "deployment skipped"
        );
    }
}
