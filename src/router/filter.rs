//! Which deployments of a group may take a request now: not blocked, not cooling down, tags (when tag
//! filtering is on), and only the lowest `order`. Allocates nothing.

use std::sync::Arc;
use std::time::Duration;

use super::state::Member;

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
    /// Left out by tag filtering.
    TagMismatch,
    /// Another available deployment has a lower `order`.
    LowerPriority,
}

/// The eligibility rule for one request on one group.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Eligibility<'a> {
    now_ns: u64,
    tags: Option<&'a [&'a str]>,
    mode: TagMode,
    order: (bool, i64),
    pub count: usize,
}

/// Counts of the reasons why nothing is eligible.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Unavailable {
    pub blocked: usize,
    pub cooling_down: usize,
    pub tag_mismatch: usize,
    pub retry_after: Option<Duration>,
}

#[inline(always)]
fn healthy(m: &Member, now_ns: u64) -> bool {
    !m.deployment.model_info().blocked() && !m.stats.is_cooling(now_ns)
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
    now_ns: u64,
    tags: Option<&[&str]>,
) {
    for m in members.iter().filter(|m| !rule.accepts(m)) {
        let why = match availability(m, Some(rule), now_ns, tags) {
            CandidateStatus::Blocked => "blocked",
            CandidateStatus::CoolingDown(_) => "cooling down",
            CandidateStatus::TagMismatch => "tag mismatch",
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

#[inline(always)]
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
    /// The rule for `members` at `now_ns`; `tags` is `Some` when tag filtering is on. `None` when no
    /// deployment is eligible.
    pub fn compute(
        members: &[Arc<Member>],
        now_ns: u64,
        tags: Option<&'a [&'a str]>,
    ) -> Option<Self> {
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
        let order = members
            .iter()
            .filter(|m| healthy(m, now_ns) && tag_ok(m, mode, tags))
            .map(|m| order_key(m))
            .min()?;
        let mut rule = Eligibility {
            now_ns,
            tags,
            mode,
            order,
            count: 0,
        };
        rule.count = members.iter().filter(|m| rule.accepts(m)).count();
        Some(rule)
    }

    /// Whether `m` may take the request.
    #[inline]
    pub fn accepts(&self, m: &Member) -> bool {
        healthy(m, self.now_ns) && tag_ok(m, self.mode, self.tags) && order_key(m) == self.order
    }
}

/// Why each member is or is not eligible (for explanations and errors).
pub(crate) fn availability(
    m: &Member,
    rule: Option<&Eligibility<'_>>,
    now_ns: u64,
    tags: Option<&[&str]>,
) -> CandidateStatus {
    if m.deployment.model_info().blocked() {
        return CandidateStatus::Blocked;
    }
    if let Some(left) = m.stats.cooldown_left(now_ns) {
        return CandidateStatus::CoolingDown(left);
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
    now_ns: u64,
    tags: Option<&[&str]>,
) -> Unavailable {
    let mut out = Unavailable::default();
    for m in members {
        match availability(m, None, now_ns, tags) {
            CandidateStatus::Blocked => out.blocked += 1,
            CandidateStatus::CoolingDown(left) => {
                out.cooling_down += 1;
                out.retry_after = Some(out.retry_after.map_or(left, |r| r.min(left)));
            }
            _ => out.tag_mismatch += 1,
        }
    }
    out
}
