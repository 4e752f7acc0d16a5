//! Checking a configured model against a server's list: available / not listed / list unavailable.
//!
//! The check never picks a model: the configured id is returned as given, whatever the outcome. (Roo, Kilo
//! and Zoo Code replaced a model missing from an empty or partial list by a hard-coded default that did not
//! exist, Zoo Code #638 and #1367; here a missing model is reported, with close matches as suggestions only.)
//!
//! It lives beside the cache because its input is the cache's answer, `Result<ModelList, CacheError>`: the
//! "list unavailable, and why" outcome is the cache's error.

use std::cmp::Reverse;

use super::ModelList;
use crate::error::CacheError;
use crate::pattern::Pattern;
use crate::provider::ProviderKind;

/// How many close matches [`Availability::NotListed`] suggests at most.
pub const MAX_CLOSE_MATCHES: usize = 5;

/// Whether a server offers a configured model.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Availability {
    /// The list contains the id exactly.
    Available,
    /// The list contains an id the server resolves the configured one to: for Ollama, `NAME` is
    /// `NAME:latest`.
    AvailableAs {
        /// The listed id.
        listed_id: String,
    },
    /// The list contains a wildcard route (a LiteLLM `model_name` such as `openai/*`) whose
    /// [`Pattern`] matches the whole configured id (`*` matches any run of characters, `/` included).
    AvailableViaPattern {
        /// The listed pattern.
        pattern: String,
    },
    /// The list does not contain the id. An empty list (the server offers nothing) gives this outcome too.
    NotListed {
        /// Up to [`MAX_CLOSE_MATCHES`] listed ids that look like the configured one, closest first:
        /// same id in another case, same name under another provider prefix, one containing the other,
        /// then small edit distances. Suggestions only: nothing is substituted.
        close_matches: Vec<String>,
    },
    /// There is no list to check against.
    ListUnavailable {
        /// Why.
        why: CacheError,
    },
}

/// The outcome of [`validate`]: the configured id, kept as given, and its [`Availability`].
#[derive(Debug, Clone)]
pub struct Validation {
    configured: String,
    availability: Availability,
    list_stale: bool,
    listed: usize,
}

impl Validation {
    /// The configured model id, exactly as given. Never replaced by a default.
    pub fn configured_model(&self) -> &str {
        &self.configured
    }
    /// The outcome.
    pub fn availability(&self) -> &Availability {
        &self.availability
    }
    /// The server offers the model (exactly, by alias, or through a wildcard route).
    pub fn is_available(&self) -> bool {
        matches!(
            self.availability,
            Availability::Available
                | Availability::AvailableAs { .. }
                | Availability::AvailableViaPattern { .. }
        )
    }
    /// The list was there and does not contain the model.
    pub fn is_not_listed(&self) -> bool {
        matches!(self.availability, Availability::NotListed { .. })
    }
    /// There was no list to check against.
    pub fn is_list_unavailable(&self) -> bool {
        matches!(self.availability, Availability::ListUnavailable { .. })
    }
    /// Suggestions when the model is not listed (empty otherwise).
    pub fn close_matches(&self) -> &[String] {
        match &self.availability {
            Availability::NotListed { close_matches } => close_matches,
            _ => &[],
        }
    }
    /// The check used a stale list (served while a refresh is due or after a failed refresh).
    pub fn list_is_stale(&self) -> bool {
        self.list_stale
    }
    /// How many models the list had (0 when unavailable).
    pub fn listed_count(&self) -> usize {
        self.listed
    }
}

/// Checks `configured_model` against the cache's answer for its server.
///
/// ```
/// use modelroute::cache::{validate, Availability};
/// # use modelroute::{BaseUrl, ModelCache, ModelDescriptor, Provider, ProviderKind, KeyFingerprint, DiscoveryError};
/// # use std::sync::Arc;
/// # #[derive(Debug)] struct Fixed(BaseUrl);
/// # #[async_trait::async_trait] impl Provider for Fixed {
/// #   fn kind(&self) -> ProviderKind { ProviderKind::LiteLlm }
/// #   fn base_url(&self) -> &BaseUrl { &self.0 }
/// #   fn credential_fingerprint(&self) -> Option<&KeyFingerprint> { None }
/// #   async fn list_models(&self, _: &reqwest::Client) -> Result<Vec<ModelDescriptor>, DiscoveryError> {
/// #     Ok(vec![ModelDescriptor::new("gpt-4o"), ModelDescriptor::new("openai/*")]) } }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// # let provider = Arc::new(Fixed(BaseUrl::parse("http://127.0.0.1:4000").unwrap()));
/// # let client = reqwest::Client::new();
/// let cache = ModelCache::new(Default::default());
/// let list = cache.get(&provider, &client).await;
///
/// assert!(validate("gpt-4o", &list).is_available());
/// assert!(matches!(validate("openai/gpt-4.1", &list).availability(), Availability::AvailableViaPattern { .. }));
/// let v = validate("GPT-4o", &list);
/// assert_eq!(v.configured_model(), "GPT-4o"); // kept, never swapped for a default
/// assert_eq!(v.close_matches(), ["gpt-4o"]);
/// # });
/// ```
pub fn validate(configured_model: &str, list: &Result<ModelList, CacheError>) -> Validation {
    match list {
        Ok(list) => check(configured_model, list),
        Err(why) => Validation {
            configured: configured_model.to_string(),
            availability: Availability::ListUnavailable { why: why.clone() },
            list_stale: false,
            listed: 0,
        },
    }
}

/// [`validate`] against a list at hand.
pub(crate) fn check(configured: &str, list: &ModelList) -> Validation {
    let availability = availability(configured, list);
    Validation {
        configured: configured.to_string(),
        availability,
        list_stale: list.is_stale(),
        listed: list.len(),
    }
}

fn availability(configured: &str, list: &ModelList) -> Availability {
    if list.ids().any(|id| id == configured) {
        return Availability::Available;
    }
    if list.key().kind() == ProviderKind::Ollama && !configured.contains(':') {
        let tagged = format!("{configured}:latest");
        if list.ids().any(|id| id == tagged) {
            return Availability::AvailableAs { listed_id: tagged };
        }
    }
    // Wildcard routes use the router's pattern semantics; the most literal pattern wins, then fewer `*`.
    if let Some(pattern) = list
        .ids()
        .filter(|id| id.contains('*'))
        .filter_map(|id| Pattern::parse(id).ok())
        .filter(|p| p.matches(configured))
        .min_by_key(|p| (Reverse(p.literal_chars()), p.wildcards()))
    {
        return Availability::AvailableViaPattern {
            pattern: pattern.as_str().to_string(),
        };
    }
    Availability::NotListed {
        close_matches: close_matches(configured, list.ids()),
    }
}

fn close_matches<'a>(configured: &str, ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted = configured.to_lowercase();
    let wanted_base = base_name(&wanted);
    let max_distance = (wanted.chars().count() / 4).max(2);
    let mut scored: Vec<(usize, &str)> = ids
        .filter(|id| !id.contains('*') && !id.is_empty())
        .filter_map(|id| {
            let lower = id.to_lowercase();
            let score = if lower == wanted {
                0
            } else if base_name(&lower) == wanted_base {
                1
            } else if !wanted.is_empty() && (lower.contains(&wanted) || wanted.contains(&lower)) {
                2
            } else {
                3 + bounded_edit_distance(&wanted, &lower, max_distance)?
            };
            Some((score, id))
        })
        .collect();
    scored.sort_unstable();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(MAX_CLOSE_MATCHES)
        .map(|(_, id)| id.to_string())
        .collect()
}

/// The part after the last `/` (`openai/gpt-4o` -> `gpt-4o`).
fn base_name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Levenshtein distance over chars, or `None` when it exceeds `max`.
fn bounded_edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(bounded_edit_distance("kitten", "sitting", 5), Some(3));
        assert_eq!(bounded_edit_distance("kitten", "sitting", 2), None);
        assert_eq!(bounded_edit_distance("", "abc", 3), Some(3));
        assert_eq!(bounded_edit_distance("gpt-4o", "gpt-4o", 0), Some(0));
        assert_eq!(bounded_edit_distance("llama3", "llama3.1", 2), Some(2));
    }

    #[test]
    fn close_matches_are_ranked_and_bounded() {
        let ids = [
            "openai/gpt-4o",
            "GPT-4O",
            "gpt-4o-mini",
            "gpt-4",
            "claude-3-5-sonnet",
            "gpt-40",
            "text-embedding-3-small",
            "openai/*",
        ];
        let got = close_matches("gpt-4o", ids.into_iter());
        assert_eq!(
            got,
            ["GPT-4O", "openai/gpt-4o", "gpt-4", "gpt-4o-mini", "gpt-40"]
        );
        assert!(close_matches("zzzzzzzz", ids.into_iter()).is_empty());
        assert!(close_matches("", ids.into_iter()).len() <= MAX_CLOSE_MATCHES);
    }
}
