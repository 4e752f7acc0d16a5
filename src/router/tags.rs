//! Tag filtering, as LiteLLM 1.109.1 does it (`router_strategy/tag_based_routing.py`,
//! `get_deployments_for_tag`): which of a group's available deployments a request's tags allow.
//!
//! On when `enable_tag_filtering` is set, or when the first deployment of the group that says anything
//! about it says so (`model_info.enable_tag_filtering`, which overrides the router either way). A
//! deployment's tags are `litellm_params.tags`; a request's are [`RequestContext::with_tags`], where
//! `!tag` excludes deployments carrying `tag` and `&tag` requires it. Among the available deployments:
//! - **No tags**: those tagged `default` if there are any, else all.
//! - **Tags**: those matching them: sharing one (`tag_filtering_match_any: true`, the default) or carrying
//!   all of them (`false`); if none matches, those tagged `default`, unless one of the requested tags is
//!   carried by some deployment of the group (then the request names something that is there but not
//!   available now: no substitute).
//! - **Only `!`/`&` constraints**: the deployments satisfying them, among those tagged `default` when no
//!   tag is required.
//!
//! When nothing is left, the route fails, unless a deployment of the group has
//! `model_info.allow_fail_open: true`: then the request goes where an untagged one would (LiteLLM's fail
//! open), except when a required tag no deployment knows hides a narrower answer.
//!
//! Not supported: `tag_regex` (matched against the caller's `User-Agent`), `tag_routing_prefix` and the
//! proxy's key/team-inherited tags.
//!
//! [`RequestContext::with_tags`]: super::RequestContext::with_tags

use std::sync::Arc;

use super::state::Member;

const DEFAULT_TAG: &str = "default";

/// Which available deployments the request's tags allow. Allocates nothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TagRule<'a> {
    tags: &'a [&'a str],
    match_any: bool,
    /// Only deployments tagged `default`.
    only_default: bool,
    /// The `!tag` / `&tag` constraints apply.
    constrained: bool,
    /// The plain tags must match.
    matching: bool,
}

fn positive<'a>(tags: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    tags.iter()
        .copied()
        .filter(|t| !t.starts_with('!') && !t.starts_with('&'))
}

/// `&tag` → `tag` (a lone `&` is nothing).
fn required<'a>(tags: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    tags.iter()
        .filter_map(|t| t.strip_prefix('&'))
        .filter(|t| !t.is_empty())
}

/// `!tag` → `tag` (a lone `!` is nothing).
fn excluded<'a>(tags: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    tags.iter()
        .filter_map(|t| t.strip_prefix('!'))
        .filter(|t| !t.is_empty())
}

fn carries(m: &Member, tag: &str) -> bool {
    m.tags.iter().any(|t| &**t == tag)
}

impl<'a> TagRule<'a> {
    /// Every deployment (tag filtering off).
    pub const ALL: TagRule<'static> = TagRule {
        tags: &[],
        match_any: true,
        only_default: false,
        constrained: false,
        matching: false,
    };

    /// The rule for a request with `tags` on `members`, where `available` says which members passed the
    /// earlier filters (not blocked, not cooling down, large enough). `None` when the tags allow none of
    /// them.
    pub fn compute(
        members: &[Arc<Member>],
        available: impl Fn(&Member) -> bool,
        tags: &'a [&'a str],
        match_any: bool,
    ) -> Option<Self> {
        let base = TagRule {
            tags,
            match_any,
            ..TagRule::ALL
        };
        let pool = || members.iter().filter(|m| available(m));
        if pool().next().is_none() {
            return Some(base);
        }
        let any = |rule: TagRule<'_>| pool().any(|m| rule.accepts(m));
        let has_default = pool().any(|m| carries(m, DEFAULT_TAG));
        let has_positive = positive(tags).next().is_some();
        let has_required = required(tags).next().is_some();
        let constraints = has_required || excluded(tags).next().is_some();
        let fail_open = || {
            let allowed = members.iter().any(|m| m.allow_fail_open)
                && !Self::unknown_required_tag_hides_an_answer(members, &available, tags);
            allowed.then_some(TagRule {
                only_default: has_default,
                ..base
            })
        };
        if constraints && !has_positive {
            let rule = TagRule {
                constrained: true,
                only_default: !has_required && has_default,
                ..base
            };
            return if any(rule) { Some(rule) } else { fail_open() };
        }
        if has_positive {
            let matching = TagRule {
                constrained: true,
                matching: true,
                ..base
            };
            let defaults = TagRule {
                constrained: true,
                only_default: true,
                ..base
            };
            if any(matching) {
                return Some(matching);
            }
            let known = members
                .iter()
                .any(|m| positive(tags).any(|t| carries(m, t)));
            if !any(defaults) || known {
                return fail_open();
            }
            return Some(defaults);
        }
        Some(TagRule {
            only_default: has_default,
            ..base
        })
    }

    /// LiteLLM's `_unknown_required_tag_hides_an_answer`: some, not all, of the required tags are carried
    /// by an available deployment, and the known ones alone would select one.
    fn unknown_required_tag_hides_an_answer(
        members: &[Arc<Member>],
        available: &impl Fn(&Member) -> bool,
        tags: &[&str],
    ) -> bool {
        let known = |t: &str| members.iter().any(|m| available(m) && carries(m, t));
        let any_known = required(tags).any(known);
        let all_known = required(tags).all(known);
        if !any_known || all_known {
            return false;
        }
        members.iter().any(|m| {
            available(m)
                && !excluded(tags).any(|t| carries(m, t))
                && required(tags).filter(|t| known(t)).all(|t| carries(m, t))
        })
    }

    /// Whether the tags allow `m` (the earlier filters are not checked here).
    #[inline]
    pub fn accepts(&self, m: &Member) -> bool {
        if self.only_default && !carries(m, DEFAULT_TAG) {
            return false;
        }
        if self.constrained
            && (excluded(self.tags).any(|t| carries(m, t))
                || !required(self.tags).all(|t| carries(m, t)))
        {
            return false;
        }
        if self.matching {
            if m.tags.is_empty() {
                return false;
            }
            let matched = if self.match_any {
                positive(self.tags).any(|t| carries(m, t))
            } else {
                positive(self.tags).all(|t| carries(m, t))
            };
            if !matched {
                return false;
            }
        }
        true
    }
}
