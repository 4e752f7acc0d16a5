//! The PatternRouter rules, one case per rule, including the cases LiteLLM users hit.

use modelroute::{Deployment, DeploymentId, Pattern, PatternError, PatternRouter};

fn dep(pattern: &str, target: &str, id: &str) -> Deployment {
    Deployment::new(pattern, target)
        .unwrap()
        .with_id(id)
        .unwrap()
}

fn router(entries: &[(&str, &str, &str)]) -> PatternRouter {
    let mut r = PatternRouter::new();
    for (p, t, id) in entries {
        r.insert(dep(p, t, id)).unwrap();
    }
    r
}

/// (pattern, concrete model of the first deployment) of the best match.
fn route(r: &PatternRouter, name: &str) -> Option<(String, String)> {
    r.lookup(name)
        .map(|m| (m.pattern().to_string(), m.first().model().to_string()))
}

#[test]
fn provider_wildcard_passes_the_name_through() {
    let r = router(&[("openai/*", "openai/*", "oa")]);
    assert_eq!(
        route(&r, "openai/gpt-4o"),
        Some(("openai/*".into(), "openai/gpt-4o".into()))
    );
    let m = r.lookup("openai/gpt-4o").unwrap();
    assert_eq!(m.captures().collect::<Vec<_>>(), vec!["gpt-4o"]);
    assert_eq!(m.first().id().as_str(), "oa");
}

#[test]
fn rewrite_to_another_provider() {
    let r = router(&[("llmengine/*", "openai/*", "le")]);
    assert_eq!(
        route(&r, "llmengine/gpt-4o-mini").unwrap().1,
        "openai/gpt-4o-mini"
    );
}

#[test]
fn captures_are_greedy_left_to_right() {
    let r = router(&[("*/*", "x/*/y/*", "two")]);
    let m = r.lookup("a/b/c").unwrap();
    assert_eq!(m.captures().collect::<Vec<_>>(), vec!["a/b", "c"]);
    assert_eq!(m.first().model(), "x/a/b/y/c");
    let p = Pattern::parse("*-*-*").unwrap();
    assert_eq!(p.captures("a-b-c-d-e"), Some(vec!["a-b-c", "d", "e"]));
    assert_eq!(p.captures("--"), Some(vec!["", "", ""]));
    assert_eq!(p.captures("a-b"), None);
}

#[test]
fn whole_name_must_match_unlike_litellm_prefix_match() {
    // LiteLLM #42090: its prefix match sends gpt-4o-mini-2024-07-18 to openai/gpt-4o-mini.
    let r = router(&[("gpt-*-mini", "openai/gpt-*-mini", "mini")]);
    assert_eq!(route(&r, "gpt-4o-mini-2024-07-18"), None);
    assert_eq!(route(&r, "gpt-4o-mini").unwrap().1, "openai/gpt-4o-mini");
    // A pattern without `*` matches only itself, not names it prefixes.
    let r = router(&[("exact", "openai/exact", "e")]);
    assert!(r.lookup("exact").is_some());
    assert!(r.lookup("exactly").is_none());
}

#[test]
fn star_matches_empty_and_slashes() {
    let r = router(&[("openai/*", "openai/*", "oa"), ("*", "fallback/*", "all")]);
    assert_eq!(route(&r, "openai/").unwrap().1, "openai/");
    assert_eq!(route(&r, "openai/a/b/c").unwrap().1, "openai/a/b/c");
    assert_eq!(route(&r, "").unwrap(), ("*".into(), "fallback/".into()));
    assert_eq!(
        route(&r, "anything/else").unwrap().1,
        "fallback/anything/else"
    );
}

#[test]
fn regex_metacharacters_are_literal() {
    let meta = r"a.+?()|\[]{}^$";
    let r = router(&[(&format!("{meta}*"), "t/*", "meta")]);
    assert_eq!(route(&r, &format!("{meta}x")).unwrap().1, "t/x");
    assert_eq!(route(&r, r"aXXX()|\[]{}^$x"), None);
    let r = router(&[("gpt-4.*", "openai/gpt-4.*", "dot")]);
    assert!(r.lookup("gpt-4.1").is_some());
    assert!(r.lookup("gpt-401").is_none());
}

#[test]
fn matching_is_case_sensitive() {
    let r = router(&[("OpenAI/*", "openai/*", "oa")]);
    assert!(r.lookup("OpenAI/gpt").is_some());
    assert!(r.lookup("openai/gpt").is_none());
    assert!(r.lookup("OPENAI/gpt").is_none());
}

#[test]
fn unicode_names_and_captures() {
    let r = router(&[("模型/*-é", "prov/*", "uni"), ("😀*😀", "e/*", "emoji")]);
    assert_eq!(route(&r, "模型/日本語-é").unwrap().1, "prov/日本語");
    assert!(r.lookup("模型/日本語-e").is_none());
    assert_eq!(route(&r, "😀ü😀").unwrap().1, "e/ü");
    assert_eq!(route(&r, "😀😀").unwrap().1, "e/");
    assert!(r.lookup("😀").is_none()); // prefix and suffix may not overlap
}

#[test]
fn most_literal_characters_win_then_fewer_stars_then_first_inserted() {
    let r = router(&[
        ("*", "a/*", "any"),
        ("openai/*", "b/*", "provider"),
        ("openai/gpt-*", "c/*", "family"),
        ("openai/*-mini", "d/*", "mini"),
    ]);
    // "openai/gpt-*" (11 literal) beats "openai/*-mini" (12)? No: 12 > 11.
    assert_eq!(route(&r, "openai/gpt-4o-mini").unwrap().0, "openai/*-mini");
    assert_eq!(route(&r, "openai/gpt-4o").unwrap().0, "openai/gpt-*");
    assert_eq!(route(&r, "openai/o1").unwrap().0, "openai/*");
    assert_eq!(route(&r, "mistral/large").unwrap().0, "*");
    let all: Vec<String> = r
        .lookup_all("openai/gpt-4o-mini")
        .iter()
        .map(|m| m.pattern().to_string())
        .collect();
    assert_eq!(all, ["openai/*-mini", "openai/gpt-*", "openai/*", "*"]);

    // Same literal count: fewer stars wins.
    let r = router(&[("ab**", "t", "two"), ("a*b", "t", "one")]);
    assert_eq!(route(&r, "abb").unwrap().0, "a*b");
    // Full tie: first inserted wins, whichever order.
    let r = router(&[("x*", "t", "first"), ("*x", "t", "second")]);
    assert_eq!(route(&r, "xx").unwrap().0, "x*");
    let r = router(&[("*x", "t", "first"), ("x*", "t", "second")]);
    assert_eq!(route(&r, "xx").unwrap().0, "*x");
}

#[test]
fn target_rules() {
    // No `*` in the target: used as is.
    let r = router(&[("claude-*", "anthropic/claude-3-5-sonnet", "fixed")]);
    assert_eq!(
        route(&r, "claude-x").unwrap().1,
        "anthropic/claude-3-5-sonnet"
    );
    // A `*` inside a capture is not substituted again.
    let r = router(&[("p/*/*", "q/*/*", "two")]);
    assert_eq!(route(&r, "p/a*/b").unwrap().1, "q/a*/b");
    // Mismatched count: refused with an error naming the deployment.
    let mut r = PatternRouter::new();
    let err = r.insert(dep("a/*/*", "b/*", "bad-one")).unwrap_err();
    assert!(matches!(
        err,
        PatternError::WildcardCountMismatch {
            pattern_wildcards: 2,
            target_wildcards: 1,
            ..
        }
    ));
    assert!(err.to_string().contains("bad-one"), "{err}");
    assert!(r.is_empty());
}

#[test]
fn invalid_input_is_refused() {
    assert_eq!(Pattern::parse("").unwrap_err(), PatternError::EmptyPattern);
    let mut r = PatternRouter::new();
    r.insert(dep("a/*", "a/*", "id1")).unwrap();
    assert!(matches!(
        r.insert(dep("b/*", "b/*", "id1")),
        Err(PatternError::DuplicateId { .. })
    ));
    assert!(Deployment::new("a/*", "a/*").unwrap().with_id("").is_err());
    assert_eq!(r.len(), 1);
}

#[test]
fn a_pattern_maps_to_all_its_deployments_in_insertion_order() {
    let r = router(&[
        ("openai/*", "openai/*", "east"),
        ("openai/*", "azure/*", "west"),
        ("openai/*", "fixed-model", "third"),
    ]);
    let m = r.lookup("openai/gpt-4o").unwrap();
    let got: Vec<(String, String)> = m
        .iter()
        .map(|d| (d.id().to_string(), d.model().to_string()))
        .collect();
    assert_eq!(
        got,
        [
            ("east".into(), "openai/gpt-4o".into()),
            ("west".into(), "azure/gpt-4o".into()),
            ("third".into(), "fixed-model".into())
        ]
    );
}

/// LiteLLM #29064: after an update, the old wildcard entry stayed and got half the traffic.
#[test]
fn upsert_moves_a_deployment_and_leaves_nothing_behind() {
    let mut r = router(&[("team-a/*", "openai/*", "d1"), ("other/*", "x/*", "d2")]);
    r.upsert(dep("team-b/*", "azure/*", "d1")).unwrap();
    assert!(r.lookup("team-a/gpt-4o").is_none(), "stale pattern kept");
    assert_eq!(route(&r, "team-b/gpt-4o").unwrap().1, "azure/gpt-4o");
    assert_eq!(r.len(), 2);
    assert_eq!(r.pattern_count(), 2);

    // Same pattern, new target: replaced in place, one entry.
    r.upsert(dep("team-b/*", "vertex/*", "d1")).unwrap();
    let m = r.lookup("team-b/gpt-4o").unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m.first().model(), "vertex/gpt-4o");

    // Identical upsert: nothing changes (returns no replaced deployment).
    assert!(
        r.upsert(dep("team-b/*", "vertex/*", "d1"))
            .unwrap()
            .is_none()
    );
    assert_eq!(r.len(), 2);

    // Remove: pattern gone.
    assert!(r.remove(&DeploymentId::from("d1")).is_some());
    assert!(r.lookup("team-b/gpt-4o").is_none());
    assert_eq!(r.pattern_count(), 1);
    assert!(r.remove(&DeploymentId::from("d1")).is_none());
}

#[test]
fn upsert_in_place_keeps_position_among_the_group() {
    let mut r = router(&[
        ("g/*", "a/*", "1"),
        ("g/*", "b/*", "2"),
        ("g/*", "c/*", "3"),
    ]);
    r.upsert(dep("g/*", "B/*", "2")).unwrap();
    let ids: Vec<String> = r
        .lookup("g/x")
        .unwrap()
        .iter()
        .map(|d| d.model().to_string())
        .collect();
    assert_eq!(ids, ["a/x", "B/x", "c/x"]);
}

#[test]
fn team_deployments_are_seen_only_by_their_team() {
    let mut r = PatternRouter::new();
    r.insert(dep("openai/*", "openai/*", "global")).unwrap();
    let team = Deployment::new("internal-wildcard-name", "azure/*")
        .unwrap()
        .with_team("team-1", "my-*")
        .unwrap()
        .with_id("t1")
        .unwrap();
    r.insert(team).unwrap();
    assert!(
        r.lookup("my-gpt").is_none(),
        "team deployment leaked to global"
    );
    assert_eq!(
        r.lookup_team("team-1", "my-gpt").unwrap().first().model(),
        "azure/gpt"
    );
    assert!(r.lookup_team("team-2", "my-gpt").is_none());
    assert!(r.lookup_team("team-1", "openai/gpt").is_none());

    // Moving the deployment to another team leaves nothing in the first.
    let moved = Deployment::new("internal-wildcard-name", "azure/*")
        .unwrap()
        .with_team("team-2", "my-*")
        .unwrap()
        .with_id("t1")
        .unwrap();
    r.upsert(moved).unwrap();
    assert!(r.lookup_team("team-1", "my-gpt").is_none());
    assert!(r.lookup_team("team-2", "my-gpt").is_some());
    assert_eq!(r.len(), 2);
    assert_eq!(r.pattern_count(), 2);

    // From team to global.
    r.upsert(dep("my-*", "openai/*", "t1")).unwrap();
    assert!(r.lookup_team("team-2", "my-gpt").is_none());
    assert_eq!(r.lookup("my-gpt").unwrap().first().model(), "openai/gpt");
}

#[test]
fn many_patterns_sharing_prefixes_and_suffixes() {
    let mut r = PatternRouter::new();
    for i in 0..2000 {
        r.insert(dep(
            &format!("p{i}/*"),
            &format!("t{i}/*"),
            &format!("id{i}"),
        ))
        .unwrap();
        r.insert(dep(&format!("*-v{i}"), "v/*", &format!("s{i}")))
            .unwrap();
    }
    assert_eq!(route(&r, "p1234/x").unwrap().1, "t1234/x");
    assert_eq!(
        route(&r, "model-v77").unwrap(),
        ("*-v77".into(), "v/model".into())
    );
    // "p12-v7": both "p12/*"? no (needs '/'), "*-v7" yes.
    assert_eq!(route(&r, "p12-v7").unwrap().0, "*-v7");
    // Remove them all: nothing remains.
    for i in 0..2000 {
        r.remove(&DeploymentId::from(format!("id{i}")));
        r.remove(&DeploymentId::from(format!("s{i}")));
    }
    assert!(r.is_empty());
    assert_eq!(r.pattern_count(), 0);
    assert!(r.lookup("p1/x").is_none());
}

#[test]
fn concurrent_lookups_during_writes() {
    use parking_lot::RwLock;
    use std::sync::Arc;
    let shared = Arc::new(RwLock::new(router(&[("stable/*", "s/*", "stable")])));
    let writer = {
        let shared = shared.clone();
        std::thread::spawn(move || {
            for i in 0..2000 {
                let id = format!("w{}", i % 50);
                shared
                    .write()
                    .upsert(dep(&format!("w{i}/*"), "w/*", &id))
                    .unwrap();
            }
        })
    };
    for _ in 0..20_000 {
        let r = shared.read();
        assert_eq!(r.lookup("stable/x").unwrap().first().model(), "s/x");
        assert!(r.len() <= 51);
    }
    writer.join().unwrap();
    assert_eq!(shared.read().len(), 51);
    assert_eq!(shared.read().pattern_count(), 51);
}

#[test]
fn patterns_sharing_prefix_and_suffix_answer_like_each_pattern_alone_as_their_group_grows_and_shrinks()
 {
    // Inner literals that repeat, overlap, share bytes and are empty (`**`), 0 to 4 per pattern: more
    // patterns than the router compares one by one, then fewer again.
    let inner = [
        "a", "ab", "b-a", "a*b", "-", "é", "b*b*a", "ab*ab", "ba*a*b*a", "", "*",
    ];
    let mut patterns: Vec<String> = inner
        .iter()
        .flat_map(|i| [format!("p/*{i}*-s"), format!("p/*{i}*x*-s")])
        .collect();
    patterns.push("p/*-s".into());
    let mut names = vec![String::new()];
    for _ in 0..4 {
        let longer: Vec<String> = names
            .iter()
            .flat_map(|n| ["a", "b", "-", "x", "é"].map(|c| format!("{n}{c}")))
            .collect();
        names.extend(longer);
    }
    names.sort();
    names.dedup();
    let names: Vec<String> = names.iter().map(|m| format!("p/{m}-s")).collect();

    let check = |r: &PatternRouter, live: &[usize]| {
        for name in &names {
            let mut expected: Vec<usize> = live
                .iter()
                .copied()
                .filter(|&i| Pattern::parse(&patterns[i]).unwrap().matches(name))
                .collect();
            expected.sort_by_key(|&i| {
                let p = Pattern::parse(&patterns[i]).unwrap();
                (std::cmp::Reverse(p.literal_chars()), p.wildcards(), i)
            });
            let expected: Vec<&str> = expected.iter().map(|&i| patterns[i].as_str()).collect();
            let all: Vec<String> = r
                .lookup_all(name)
                .iter()
                .map(|m| m.pattern().to_string())
                .collect();
            assert_eq!(all, expected, "{name} with {} patterns", live.len());
            let best = r.lookup(name);
            assert_eq!(
                best.as_ref().map(|m| m.pattern().as_str()),
                expected.first().copied()
            );
            if let Some(m) = best {
                assert_eq!(
                    Some(m.captures().collect::<Vec<_>>()),
                    m.pattern().captures(name),
                    "{name}"
                );
            }
        }
    };

    let mut r = PatternRouter::new();
    let mut live = Vec::new();
    for (i, p) in patterns.iter().enumerate() {
        let target = format!("t/{}", "*/".repeat(p.matches('*').count()));
        r.insert(dep(p, &target, &format!("id{i}"))).unwrap();
        live.push(i);
        check(&r, &live);
    }
    // Remove from the middle outwards, so that precedence among those left is not insertion order only.
    while !live.is_empty() {
        let i = live.remove(live.len() / 2);
        assert!(r.remove(&DeploymentId::from(format!("id{i}"))).is_some());
        check(&r, &live);
    }
    assert_eq!(r.pattern_count(), 0);
}
