//! Which deployments of a group may take a request now, in LiteLLM's order: not blocked and not cooling
//! down; large enough for the request (pre-call checks, [`pre_call`](super::pre_call)); allowed by its tags
//! ([`tags`](super::tags)); and only the lowest `order` among those. Allocates nothing.

use std::sync::Arc;
use std::time::Duration;

use super::pre_call;
use super::state::Member;
use super::tags::TagRule;

/// Sort key of `order`: a deployment without `order` comes after every deployment with one.
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
}

/// What one request asks of a group's deployments.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub now_ns: u64,
    /// The request's input tokens, when pre-call checks are on and the caller stated them.
    pub input_tokens: Option<u64>,
    /// The request's tags.
    pub tags: &'a [&'a str],
    /// `enable_tag_filtering` of the router (a group's deployments may override it).
    pub tag_filtering: bool,
    /// `tag_filtering_match_any`.
    pub match_any: bool,
}

impl Request<'_> {
    fn healthy(&self, m: &Member) -> bool {
        !m.deployment.model_info().blocked() && !m.stats.is_cooling(self.now_ns)
    }

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
}

/// Why nothing is eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Every deployment that is not blocked or cooling down is too small for the request.
    ContextWindow,
    /// Blocked, cooling down, or left out by tags.
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
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Unavailable {
    pub blocked: usize,
    pub cooling_down: usize,
    pub context_window: usize,
    pub tag_mismatch: usize,
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
        let available = |m: &Member| healthy(m) && request.fits(m);
        let tags = if request.tag_filtering(members) {
            TagRule::compute(members, available, request.tags, request.match_any)
                .ok_or(Refusal::Unavailable)?
        } else {
            TagRule::ALL
        };
        let order = members
            .iter()
            .filter(|m| available(m) && tags.accepts(m))
            .map(|m| order_key(m))
            .min()
            .ok_or(Refusal::Unavailable)?;
        let mut rule = Eligibility {
            request,
            tags,
            order,
            count: 0,
        };
        rule.count = members.iter().filter(|m| rule.accepts(m)).count();
        Ok(rule)
    }

    /// Whether `m` may take the request.
    #[inline]
    pub fn accepts(&self, m: &Member) -> bool {
        self.request.healthy(m)
            && self.request.fits(m)
            && self.tags.accepts(m)
            && order_key(m) == self.order
    }
}

/// Why `m` is or is not eligible (for explanations and errors); `rule` is `None` when nothing is.
pub(crate) fn availability(
    m: &Member,
    rule: Option<&Eligibility<'_>>,
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
    match rule {
        Some(rule) if rule.accepts(m) => CandidateStatus::Available,
        Some(rule) if rule.tags.accepts(m) => CandidateStatus::LowerPriority,
        _ => CandidateStatus::TagMismatch,
    }
}

/// The reasons why no member of `members` is eligible.
pub(crate) fn unavailable(members: &[Arc<Member>], request: &Request<'_>) -> Unavailable {
    let mut out = Unavailable::default();
    for m in members {
        if request.healthy(m) {
            out.largest_window = match (out.largest_window, m.context_window) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        match availability(m, None, request) {
            CandidateStatus::Blocked => out.blocked += 1,
            CandidateStatus::CoolingDown(left) => {
                out.cooling_down += 1;
                out.retry_after = Some(out.retry_after.map_or(left, |r| r.min(left)));
            }
            CandidateStatus::ContextWindowTooSmall(_) => out.context_window += 1,
            _ => out.tag_mismatch += 1,
        }
    }
    out
}
