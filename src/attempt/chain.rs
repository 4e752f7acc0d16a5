//! Which fallback chain applies to a failed group: LiteLLM 1.109.1's `get_fallback_model_group_for_lookup_groups`
//! (`router_utils/fallback_event_handlers.py`) over one of the fallback lists.
//!
//! A list is a sequence of `(key, groups)` entries. For one lookup name, an entry whose key *is* the name
//! wins (the first such entry); else an entry whose key is the name without its `provider/` prefix (the
//! last such entry); else the last `"*"` entry. Over several lookup names (the failed group's own names
//! first, then the request's), the first name with a chain of its own (an exact or prefix match) wins; a
//! `"*"` chain applies only when every name missed.

/// A chain found for a lookup: its groups, and whether it is the generic `"*"` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chain<'a> {
    pub groups: &'a [String],
    pub generic: bool,
}

/// LiteLLM's `get_fallback_model_group` for one name.
fn for_name<'a>(entries: &'a [(String, Vec<String>)], name: &str) -> Option<Chain<'a>> {
    let mut stripped: Option<&'a [String]> = None;
    let mut generic: Option<&'a [String]> = None;
    for (key, groups) in entries {
        if key == name {
            return Some(Chain {
                groups,
                generic: false,
            });
        } else if strips_to(name, key) {
            stripped = Some(groups);
        } else if key == "*" {
            generic = Some(groups);
        }
    }
    match (stripped, generic) {
        (Some(groups), _) => Some(Chain {
            groups,
            generic: false,
        }),
        (None, Some(groups)) => Some(Chain {
            groups,
            generic: true,
        }),
        (None, None) => None,
    }
}

/// Whether `name` is `<provider>/<key>` (LiteLLM's `_check_stripped_model_group`, which also requires
/// `<provider>` to be one of its providers: here any prefix without a `/` counts).
fn strips_to(name: &str, key: &str) -> bool {
    match name.split_once('/') {
        Some((prefix, rest)) => !prefix.is_empty() && rest == key,
        None => false,
    }
}

/// The chain for the first of `names` with one of its own, else the first generic one.
pub(crate) fn lookup<'a, 'n>(
    entries: &'a [(String, Vec<String>)],
    names: impl IntoIterator<Item = &'n str>,
) -> Option<Chain<'a>> {
    let mut first_generic = None;
    for name in names {
        match for_name(entries, name) {
            Some(chain) if !chain.generic => return Some(chain),
            Some(chain) => {
                first_generic.get_or_insert(chain);
            }
            None => {}
        }
    }
    first_generic
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    fn groups<'a>(chain: Option<Chain<'a>>) -> Option<Vec<&'a str>> {
        chain.map(|c| c.groups.iter().map(String::as_str).collect())
    }

    #[test]
    fn an_exact_key_wins_over_a_prefix_match_and_the_generic_entry() {
        let entries = list(&[
            ("*", &["star"]),
            ("gpt-4o", &["stripped"]),
            ("openai/gpt-4o", &["exact"]),
            ("openai/gpt-4o", &["second"]),
        ]);
        assert_eq!(
            groups(lookup(&entries, ["openai/gpt-4o"])),
            Some(vec!["exact"])
        );
        assert_eq!(
            groups(lookup(&entries, ["azure/gpt-4o"])),
            Some(vec!["stripped"])
        );
        assert_eq!(groups(lookup(&entries, ["claude"])), Some(vec!["star"]));
    }

    #[test]
    fn the_last_generic_entry_counts_so_default_fallbacks_appended_last_win() {
        let entries = list(&[("*", &["first"]), ("a", &["x"]), ("*", &["last"])]);
        let chain = lookup(&entries, ["b"]).unwrap();
        assert!(chain.generic);
        assert_eq!(chain.groups, ["last"]);
    }

    #[test]
    fn a_later_name_with_its_own_chain_beats_the_generic_one() {
        let entries = list(&[("*", &["star"]), ("original", &["mine"])]);
        assert_eq!(
            groups(lookup(&entries, ["hop", "original"])),
            Some(vec!["mine"])
        );
        assert_eq!(groups(lookup(&entries, ["hop"])), Some(vec!["star"]));
        assert_eq!(lookup(&list(&[("a", &["b"])]), ["c", "d"]), None);
    }
}
