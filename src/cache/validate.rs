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
        /// then small edit distances (at most 8). Suggestions only: nothing is substituted. Names over 1 KiB are
        /// not compared, and one check computes a bounded number of edit-distance steps (a few
        /// milliseconds), however many and however long the listed ids are.
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
    close_matches_counted(configured, ids, &mut 0)
}

/// [`close_matches`], adding the edit-distance cells it computed to `cells`.
///
/// The work is bounded whatever the list holds: names longer than [`MAX_CLOSE_MATCH_BYTES`] are not compared
/// (neither a configured one nor a listed one), the edit distance is computed in a band of width
/// `2 * max + 1` with `max` at most [`MAX_EDIT_DISTANCE`], and one call computes at most
/// [`EDIT_DISTANCE_BUDGET`] cells; past it, the remaining ids are compared by case, base name and
/// containment only. So a call costs one pass over the ids (lower-casing and substring checks of names of at
/// most 1 KiB) plus a constant.
fn close_matches_counted<'a>(
    configured: &str,
    ids: impl Iterator<Item = &'a str>,
    cells: &mut usize,
) -> Vec<String> {
    if configured.len() > MAX_CLOSE_MATCH_BYTES {
        return Vec::new();
    }
    let wanted = configured.to_lowercase();
    let wanted_chars: Vec<char> = wanted.chars().collect();
    let wanted_base = base_name(&wanted);
    let max_distance = (wanted_chars.len() / 4).clamp(2, MAX_EDIT_DISTANCE);
    let mut budget = EDIT_DISTANCE_BUDGET;
    let mut lower = String::new(); // one buffer for every id
    let mut scored: Vec<(usize, &str)> = ids
        .filter(|id| !id.is_empty() && id.len() <= MAX_CLOSE_MATCH_BYTES && !id.contains('*'))
        .filter_map(|id| {
            lower_case_into(id, &mut lower);
            let score = if lower == wanted {
                0
            } else if base_name(&lower) == wanted_base {
                1
            } else if !wanted.is_empty()
                && ((lower.len() >= wanted.len() && lower.contains(&wanted))
                    || (lower.len() <= wanted.len() && wanted.contains(lower.as_str())))
            {
                2
            } else {
                let before = budget;
                let distance =
                    bounded_edit_distance(&wanted_chars, &lower, max_distance, &mut budget);
                *cells += before - budget;
                3 + distance?
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

/// Names (configured or listed) longer than this, in bytes, are never suggested nor compared: no model
/// name is that long, and comparing them would cost time on every check.
const MAX_CLOSE_MATCH_BYTES: usize = 1024;
/// The largest edit distance a suggestion may have (a quarter of the configured name's length, at least 2).
const MAX_EDIT_DISTANCE: usize = 8;
/// Edit-distance cells one call may compute (a few milliseconds at most).
const EDIT_DISTANCE_BUDGET: usize = 1 << 18;

/// `id` lower-cased into `out` (replacing its content).
fn lower_case_into(id: &str, out: &mut String) {
    out.clear();
    if id.is_ascii() {
        out.push_str(id);
        out.make_ascii_lowercase();
    } else {
        out.extend(id.chars().flat_map(char::to_lowercase));
    }
}

/// The part after the last `/` (`openai/gpt-4o` -> `gpt-4o`).
fn base_name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Levenshtein distance over chars, or `None` when it exceeds `max` or when computing it would take more
/// than the cells left in `budget` (which it spends). Only the band `|i - j| <= max` of the table is
/// computed: a path outside it costs more than `max` anyway.
fn bounded_edit_distance(a: &[char], b: &str, max: usize, budget: &mut usize) -> Option<usize> {
    if *budget == 0 || a.len().abs_diff(b.chars().count()) > max {
        return None;
    }
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let over = max + 1; // any value above `max`: "too far"
    let mut prev: Vec<usize> = (0..=m).map(|j| j.min(over)).collect();
    let mut cur = vec![over; m + 1];
    for i in 1..=n {
        let lo = i.saturating_sub(max).max(1);
        let hi = (i + max).min(m);
        let row = (hi + 1).saturating_sub(lo);
        let Some(left) = budget.checked_sub(row) else {
            *budget = 0; // spent: the next ids are not compared at all
            return None;
        };
        *budget = left;
        cur[0] = i.min(over);
        cur[lo - 1] = if lo == 1 { cur[0] } else { over };
        if hi < m {
            cur[hi + 1] = over;
        }
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let substitution = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            let cell = substitution.min(prev[j] + 1).min(cur[j - 1] + 1).min(over);
            cur[j] = cell;
            row_min = row_min.min(cell);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[m];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str, max: usize) -> Option<usize> {
        let a: Vec<char> = a.chars().collect();
        let mut unlimited = usize::MAX;
        bounded_edit_distance(&a, b, max, &mut unlimited)
    }

    /// Plain Levenshtein distance, the whole table: the reference the banded one is checked against.
    fn reference_distance(a: &str, b: &str) -> usize {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j] + usize::from(ca != cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1);
            }
            prev = cur;
        }
        prev[b.len()]
    }

    #[test]
    fn the_banded_edit_distance_agrees_with_the_full_table() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "kitten",
            "sitting",
            "gpt-4o",
            "gpt-40",
            "gpt-4o-mini",
            "llama3",
            "llama3.1",
            "claude-3-5-sonnet",
            "claude-3.5-sonnet",
            "ééa",
            "aéé",
        ];
        for a in words {
            for b in words {
                let full = reference_distance(a, b);
                for max in 0..6 {
                    assert_eq!(
                        distance(a, b, max),
                        (full <= max).then_some(full),
                        "{a:?} {b:?} max {max}"
                    );
                }
            }
        }
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("kitten", "sitting", 5), Some(3));
        assert_eq!(distance("kitten", "sitting", 2), None);
        assert_eq!(distance("", "abc", 3), Some(3));
        assert_eq!(distance("gpt-4o", "gpt-4o", 0), Some(0));
        assert_eq!(distance("llama3", "llama3.1", 2), Some(2));
    }

    #[test]
    fn the_edit_distance_work_of_one_call_is_bounded_whatever_the_ids() {
        // Long ids that agree with the configured one until their last characters: the worst case for an
        // edit distance that stops early only when every cell of a row is over the bound.
        let configured = format!("{}-a", "m".repeat(998));
        let ids: Vec<String> = (0..200)
            .map(|i| format!("{}-{i:03}", "m".repeat(996)))
            .collect();
        let mut cells = 0;
        let got = close_matches_counted(&configured, ids.iter().map(String::as_str), &mut cells);
        assert!(
            cells <= EDIT_DISTANCE_BUDGET,
            "{cells} edit-distance cells for one call"
        );
        assert!(got.len() <= MAX_CLOSE_MATCHES);
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
