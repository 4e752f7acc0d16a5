//! Which deployments of a group may take a request now: not blocked, not cooling down, tags (when tag
//! filtering is on), within their usage limits (`rpm`, `tpm`, `max_parallel_requests`: see
//! [`usage`](super::usage)), and only the lowest `order` among those. Allocates nothing.
//!
//! Limits are checked after tags (as LiteLLM's strategies check them after its tag filter) but before
//! `order`: when every deployment of the lowest order is at a limit, the next order takes the request, which
//! LiteLLM reaches by failing the request and retrying on the next order level.

use std::sync::Arc;
use std::time::Duration;

use super::state::Member;
use super::usage::{LimitCheck, LimitReached, UsageLimit};

/// Tag filtering, as LiteLLM's `enable_tag_filtering` does it: a request with tags goes to the
/// deployments sharing one of them, else to those tagged `default`; a request without tags goes to the
/// deployments tagged `default` if there are any, else to all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagMode {
    All,
    Matching,
    DefaultTagged,
}

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
    /// Left out by tag filtering.
    TagMismatch,
    /// Another available deployment has a lower `order`.
    LowerPriority,
    /// At a usage limit (`rpm`, `tpm` or `max_parallel_requests`).
    AtLimit(UsageLimit),
}

/// The time and the usage limits a route is checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Gate {
    /// Monotonic nanoseconds since the router's epoch (cooldowns).
    pub now_ns: u64,
    /// `rpm` / `tpm`, for the strategies that hold them as limits.
    pub limits: Option<LimitCheck>,
}

impl Gate {
    /// The limit `m` has reached, if any.
    pub fn limit_reached(&self, m: &Member) -> Option<UsageLimit> {
        if let Some(limit) = m.limits.max_parallel {
            let in_flight = m.stats.in_flight() as u64;
            if in_flight >= limit {
                return Some(UsageLimit::MaxParallelRequests { limit, in_flight });
            }
        }
        self.limits?.reached(&m.limits, &m.stats.usage)
    }

    #[inline]
    fn within_limits(&self, m: &Member) -> bool {
        self.limit_reached(m).is_none()
    }
}

/// The eligibility rule for one request on one group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Eligibility<'a> {
    gate: Gate,
    tags: Option<&'a [&'a str]>,
    mode: TagMode,
    order: (bool, i64),
    pub count: usize,
}

/// Counts of the reasons why nothing is eligible.
#[derive(Debug, Clone, Default)]
pub(crate) struct Unavailable {
    pub blocked: usize,
    pub cooling_down: usize,
    pub tag_mismatch: usize,
    pub limited: Vec<LimitReached>,
    pub retry_after: Option<Duration>,
}

fn healthy(m: &Member, now_ns: u64) -> bool {
    !m.deployment.model_info().blocked() && !m.stats.is_cooling(now_ns)
}

fn tag_ok(m: &Member, mode: TagMode, tags: Option<&[&str]>) -> bool {
    match mode {
        TagMode::All => true,
        TagMode::Matching => {
            let wanted = tags.unwrap_or_default();
            m.tags.iter().any(|t| wanted.contains(&&**t))
        }
        TagMode::DefaultTagged => m.tags.iter().any(|t| &**t == "default"),
    }
}

impl<'a> Eligibility<'a> {
    /// The rule for `members` at the gate's time; `tags` is `Some` when tag filtering is on. `None` when no
    /// deployment is eligible.
    pub fn compute(
        members: &[Arc<Member>],
        gate: Gate,
        tags: Option<&'a [&'a str]>,
    ) -> Option<Self> {
        let now_ns = gate.now_ns;
        let mode = match tags {
            None => TagMode::All,
            Some(wanted) => {
                let any = |pred: &dyn Fn(&Member) -> bool| {
                    members.iter().any(|m| healthy(m, now_ns) && pred(m))
                };
                let is_default = |m: &Member| m.tags.iter().any(|t| &**t == "default");
                if !wanted.is_empty() {
                    if any(&|m| tag_ok(m, TagMode::Matching, tags)) {
                        TagMode::Matching
                    } else if any(&is_default) {
                        TagMode::DefaultTagged
                    } else {
                        return None;
                    }
                } else if any(&is_default) {
                    TagMode::DefaultTagged
                } else {
                    TagMode::All
                }
            }
        };
        // The lowest order among the eligible, and how many have it, in one pass.
        let mut lowest: Option<((bool, i64), usize)> = None;
        for m in members {
            if !(healthy(m, now_ns) && tag_ok(m, mode, tags) && gate.within_limits(m)) {
                continue;
            }
            let key = order_key(m);
            lowest = match lowest {
                Some((order, count)) if key == order => Some((order, count + 1)),
                Some((order, count)) if key > order => Some((order, count)),
                _ => Some((key, 1)),
            };
        }
        let (order, count) = lowest?;
        Some(Eligibility {
            gate,
            tags,
            mode,
            order,
            count,
        })
    }

    /// Whether `m` may take the request.
    #[inline]
    pub fn accepts(&self, m: &Member) -> bool {
        order_key(m) == self.order
            && healthy(m, self.gate.now_ns)
            && tag_ok(m, self.mode, self.tags)
            && self.gate.within_limits(m)
    }
}

/// Why each member is or is not eligible (for explanations and errors).
pub(crate) fn availability(
    m: &Member,
    rule: Option<&Eligibility<'_>>,
    gate: &Gate,
    tags: Option<&[&str]>,
) -> CandidateStatus {
    if m.deployment.model_info().blocked() {
        return CandidateStatus::Blocked;
    }
    if let Some(left) = m.stats.cooldown_left(gate.now_ns) {
        return CandidateStatus::CoolingDown(left);
    }
    if let Some(limit) = gate.limit_reached(m) {
        return CandidateStatus::AtLimit(limit);
    }
    match rule {
        Some(rule) if rule.accepts(m) => CandidateStatus::Available,
        Some(rule) if tag_ok(m, rule.mode, tags) => CandidateStatus::LowerPriority,
        _ => CandidateStatus::TagMismatch,
    }
}

/// The reasons why no member of `members` is eligible.
pub(crate) fn unavailable(
    members: &[Arc<Member>],
    gate: &Gate,
    tags: Option<&[&str]>,
) -> Unavailable {
    let mut out = Unavailable::default();
    let mut soonest = |left: Duration| {
        out.retry_after = Some(out.retry_after.map_or(left, |r: Duration| r.min(left)));
    };
    let mut limited = Vec::new();
    let (mut blocked, mut cooling_down, mut tag_mismatch) = (0, 0, 0);
    for m in members {
        match availability(m, None, gate, tags) {
            CandidateStatus::Blocked => blocked += 1,
            CandidateStatus::CoolingDown(left) => {
                cooling_down += 1;
                soonest(left);
            }
            CandidateStatus::AtLimit(limit) => {
                let resets_in = gate
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
            _ => tag_mismatch += 1,
        }
    }
    out.blocked = blocked;
    out.cooling_down = cooling_down;
    out.tag_mismatch = tag_mismatch;
    out.limited = limited;
    out
}
