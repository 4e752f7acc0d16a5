//! [`FallbackPlan`]: the model groups to try, in order, when a group fails.

use super::settings::FallbackKind;

/// Where a fallback plan came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FallbackSource {
    /// The group's own entry in the fallback list (keyed by the requested name, its alias target, or the
    /// model group / wildcard pattern it resolved to).
    Group,
    /// A `"*"` entry of the fallback list.
    Wildcard,
    /// `default_fallbacks`.
    Default,
    /// Nothing configured: the plan is empty.
    None,
}

/// The model groups to try after `requested` failed, in order, for the caller to walk:
/// route each with [`Router::route`](crate::Router::route) until one succeeds. The requested group itself
/// and duplicates are left out; the plan is at most `max_fallbacks` long.
///
/// ```
/// use modelroute::{Deployment, Router, router::{RouterSettings, RequestContext}};
/// let router = Router::builder()
///     .settings(RouterSettings::default().with_fallbacks("gpt-4o", ["claude", "llama"]))
///     .deployment(Deployment::new("gpt-4o", "openai/gpt-4o")?)
///     .deployment(Deployment::new("claude", "anthropic/claude-sonnet-4")?)
///     .build()?;
/// let plan = router.fallbacks("gpt-4o");
/// assert_eq!(plan.groups().collect::<Vec<_>>(), ["claude", "llama"]);
/// for group in &plan {
///     if let Ok(route) = router.route(group, &RequestContext::new()) {
///         assert_eq!(route.model(), "anthropic/claude-sonnet-4");
///         break;
///     }
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FallbackPlan {
    pub(crate) kind: FallbackKind,
    pub(crate) source: FallbackSource,
    pub(crate) groups: Vec<String>,
    pub(crate) num_retries: Option<u32>,
}

impl FallbackPlan {
    /// The groups to try, in order.
    pub fn groups(&self) -> impl Iterator<Item = &str> + '_ {
        self.groups.iter().map(String::as_str)
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there is nothing to fall back to.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Which list the plan is for.
    pub fn kind(&self) -> FallbackKind {
        self.kind
    }

    /// Where the plan came from.
    pub fn source(&self) -> FallbackSource {
        self.source
    }

    /// `num_retries`: how many times to retry each group before moving on, if configured.
    pub fn num_retries(&self) -> Option<u32> {
        self.num_retries
    }
}

impl<'a> IntoIterator for &'a FallbackPlan {
    type Item = &'a str;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, String>, fn(&'a String) -> &'a str>;

    fn into_iter(self) -> Self::IntoIter {
        self.groups.iter().map(String::as_str)
    }
}
