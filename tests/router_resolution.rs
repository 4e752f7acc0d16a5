//! Resolution order, concrete model names, filtering (blocked, order, tags) and errors.

use std::sync::Arc;

use modelroute::router::{
    CandidateStatus, MatchKind, RequestContext, RouterSettings, RoutingStrategy, Tried,
};
use modelroute::{Deployment, RouteError, Router};

fn d(name: &str, model: &str, id: &str) -> Deployment {
    Deployment::new(name, model).unwrap().with_id(id).unwrap()
}

const NONE: RequestContext<'static> = RequestContext::new();

fn router(settings: RouterSettings, deployments: Vec<Deployment>) -> Router {
    Router::builder()
        .settings(settings)
        .deployments(deployments)
        .seed(1)
        .build()
        .unwrap()
}

#[test]
fn exact_name_beats_wildcards_and_wildcards_match_whole_names() {
    let r = router(
        RouterSettings::default(),
        vec![
            d("openai/*", "openai/*", "wild"),
            d("openai/gpt-4o", "azure/gpt-4o-eu", "exact"),
            d("gpt-*-mini", "openai/gpt-*-mini", "mini"),
        ],
    );
    let route = r.route("openai/gpt-4o", &NONE).unwrap();
    assert_eq!(route.id().as_str(), "exact");
    assert_eq!(route.model(), "azure/gpt-4o-eu");
    assert_eq!(route.reason().matched(), &MatchKind::Exact);

    let route = r.route("openai/o3", &NONE).unwrap();
    assert_eq!(route.id().as_str(), "wild");
    assert_eq!(route.model(), "openai/o3");
    assert!(
        matches!(route.reason().matched(), MatchKind::Wildcard { pattern } if pattern.as_str() == "openai/*")
    );
    assert_eq!(route.group(), "openai/*");

    assert_eq!(
        r.route("gpt-4o-mini", &NONE).unwrap().model(),
        "openai/gpt-4o-mini"
    );
    // LiteLLM's prefix match would route this one to `gpt-*-mini`, dropping the suffix (#42090): here the
    // whole name must match, so it goes to `openai/*` through the provider retry, suffix kept.
    let route = r.route("gpt-4o-mini-2024-07-18", &NONE).unwrap();
    assert_eq!(route.id().as_str(), "wild");
    assert_eq!(route.model(), "openai/gpt-4o-mini-2024-07-18");
    let without_openai = router(
        RouterSettings::default(),
        vec![d("gpt-*-mini", "openai/gpt-*-mini", "mini")],
    );
    let err = without_openai
        .route("gpt-4o-mini-2024-07-18", &NONE)
        .unwrap_err();
    assert!(err.is_not_found());
}

#[test]
fn most_specific_wildcard_wins() {
    let r = router(
        RouterSettings::default(),
        vec![
            d("*", "ollama/*", "any"),
            d("openai/*", "openai/*", "oa"),
            d("openai/gpt-4*", "azure/gpt-4*", "gpt4"),
        ],
    );
    assert_eq!(
        r.route("openai/gpt-4o", &NONE).unwrap().model(),
        "azure/gpt-4o"
    );
    assert_eq!(r.route("openai/o1", &NONE).unwrap().model(), "openai/o1");
    assert_eq!(r.route("llama3", &NONE).unwrap().model(), "ollama/llama3");
}

#[test]
fn alias_resolves_one_step_to_the_target() {
    let settings = RouterSettings::default()
        .with_alias("gpt4", "gpt-4o")
        .with_alias("smart", "gpt4");
    let r = router(
        settings,
        vec![
            d("gpt-4o", "openai/gpt-4o", "a"),
            d("gpt4", "openai/gpt-4-0613", "b"),
        ],
    );
    let route = r.route("gpt4", &NONE).unwrap();
    assert_eq!(
        route.id().as_str(),
        "a",
        "the alias wins over a model_name of the same name"
    );
    assert_eq!(route.reason().alias(), Some("gpt4"));
    // Aliases are not chained: "smart" -> "gpt4" is routed as the model_name "gpt4".
    assert_eq!(r.route("smart", &NONE).unwrap().id().as_str(), "b");
}

#[test]
fn alias_to_a_wildcard_name_gets_the_concrete_model() {
    let settings = RouterSettings::default().with_alias("fast", "groq/llama-3.1-8b-instant");
    let r = router(settings, vec![d("groq/*", "groq/*", "g")]);
    let route = r.route("fast", &NONE).unwrap();
    assert_eq!(route.model(), "groq/llama-3.1-8b-instant");
    assert_eq!(route.reason().alias(), Some("fast"));
    assert_eq!(route.reason().retried_as(), None);
}

#[test]
fn an_alias_target_gets_the_provider_retry() {
    let settings = RouterSettings::default().with_alias("fast", "gpt-4.1-mini");
    let r = router(settings, vec![d("openai/*", "openai/*", "oa")]);
    let route = r.route("fast", &NONE).unwrap();
    assert_eq!(route.model(), "openai/gpt-4.1-mini");
    assert_eq!(route.reason().alias(), Some("fast"));
    assert_eq!(route.reason().retried_as(), Some("openai/gpt-4.1-mini"));
}

#[test]
fn team_names_and_team_wildcards_come_first_for_that_team_only() {
    let team_a = Deployment::new("model_name_team_a_1", "azure/gpt-4o-team-a")
        .unwrap()
        .with_team("team-a", "gpt-4o")
        .unwrap()
        .with_id("team-exact")
        .unwrap();
    let team_a_wild = Deployment::new("model_name_team_a_2", "anthropic/*")
        .unwrap()
        .with_team("team-a", "claude-*")
        .unwrap()
        .with_id("team-wild")
        .unwrap();
    let r = router(
        RouterSettings::default(),
        vec![
            team_a,
            team_a_wild,
            d("gpt-4o", "openai/gpt-4o", "global"),
            d("claude-*", "bedrock/claude-*", "global-wild"),
        ],
    );
    let a = RequestContext::new().with_team("team-a");
    let b = RequestContext::new().with_team("team-b");

    let route = r.route("gpt-4o", &a).unwrap();
    assert_eq!(route.id().as_str(), "team-exact");
    assert!(
        matches!(route.reason().matched(), MatchKind::TeamName { team } if &**team == "team-a")
    );
    let route = r.route("claude-sonnet-4", &a).unwrap();
    assert_eq!(route.model(), "anthropic/sonnet-4");
    assert!(matches!(
        route.reason().matched(),
        MatchKind::TeamWildcard { .. }
    ));

    // Other teams and requests without a team see only the global deployments.
    for ctx in [b, NONE] {
        assert_eq!(r.route("gpt-4o", &ctx).unwrap().id().as_str(), "global");
        assert_eq!(
            r.route("claude-sonnet-4", &ctx).unwrap().model(),
            "bedrock/claude-sonnet-4"
        );
    }
    // The internal model_name of a team deployment is not a public name.
    assert!(
        r.route("model_name_team_a_1", &NONE)
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn default_fallbacks_catch_names_that_resolve_to_nothing() {
    let settings =
        RouterSettings::default().with_default_fallbacks(["missing-group", "gpt-4o-mini"]);
    let r = router(
        settings,
        vec![d("gpt-4o-mini", "openai/gpt-4o-mini", "mini")],
    );
    let route = r.route("no-such-model", &NONE).unwrap();
    assert_eq!(route.id().as_str(), "mini");
    assert!(route.reason().is_default_fallback());
    assert!(route.reason().to_string().contains("default fallback"));
}

#[test]
fn nothing_found_lists_every_step_tried() {
    let settings = RouterSettings::default()
        .with_alias("old", "retired")
        .with_default_fallbacks(["also-missing"]);
    let r = router(settings, vec![d("gpt-4o", "openai/gpt-4o", "a")]);
    let err = r
        .route("old", &RequestContext::new().with_team("t1"))
        .unwrap_err();
    let RouteError::NoDeployment { model, tried } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(model, "old");
    assert_eq!(
        tried,
        &vec![
            Tried::DeploymentId { name: "old".into() },
            Tried::Alias {
                alias: "old".into(),
                target: "retired".into()
            },
            Tried::TeamName {
                team: "t1".into(),
                name: "retired".into()
            },
            Tried::Exact {
                name: "retired".into()
            },
            Tried::TeamWildcard {
                team: "t1".into(),
                name: "retired".into()
            },
            Tried::Wildcard {
                name: "retired".into()
            },
            Tried::LitellmModel {
                name: "retired".into()
            },
            Tried::DefaultFallback {
                name: "also-missing".into()
            },
        ]
    );
    let text = err.to_string();
    assert!(text.contains("alias `old` -> `retired`"), "{text}");
    assert!(text.contains("default fallback `also-missing`"), "{text}");
}

#[test]
fn blocked_deployments_are_never_picked() {
    let blocked = d("gpt-4o", "openai/gpt-4o", "blocked")
        .with_info("blocked", true)
        .unwrap();
    let r = router(
        RouterSettings::default(),
        vec![blocked.clone(), d("gpt-4o", "azure/gpt-4o", "ok")],
    );
    for _ in 0..50 {
        assert_eq!(r.route("gpt-4o", &NONE).unwrap().id().as_str(), "ok");
    }
    let only_blocked = router(RouterSettings::default(), vec![blocked]);
    let err = only_blocked.route("gpt-4o", &NONE).unwrap_err();
    assert!(
        matches!(
            err,
            RouteError::NoneAvailable {
                blocked: 1,
                total: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_unavailable());
    assert_eq!(err.retry_after(), None);
}

#[test]
fn blocked_wildcard_is_not_routed() {
    // LiteLLM #41580: a blocked wildcard deployment was still routed.
    let blocked = d("openai/*", "openai/*", "w")
        .with_info("blocked", true)
        .unwrap();
    let r = router(RouterSettings::default(), vec![blocked]);
    assert!(
        r.route("openai/gpt-4o", &NONE)
            .unwrap_err()
            .is_unavailable()
    );
}

#[test]
fn lowest_order_wins_and_unordered_come_last() {
    let p = |id: &str, order: Option<i64>| {
        let dep = d("g", &format!("openai/{id}"), id);
        match order {
            Some(o) => dep.with_param("order", o).unwrap(),
            None => dep,
        }
    };
    let r = router(
        RouterSettings::default(),
        vec![
            p("none", None),
            p("two", Some(2)),
            p("one", Some(1)),
            p("one-b", Some(1)),
        ],
    );
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        seen.insert(r.route("g", &NONE).unwrap().id().to_string());
    }
    assert_eq!(seen, ["one", "one-b"].map(String::from).into());
    let explained = r.explain("g", &NONE).unwrap();
    let availability: Vec<_> = explained
        .candidates
        .iter()
        .map(|c| c.availability)
        .collect();
    assert_eq!(
        availability,
        [
            CandidateStatus::LowerPriority,
            CandidateStatus::LowerPriority,
            CandidateStatus::Available,
            CandidateStatus::Available
        ]
    );
    // Without any order at all, all are used.
    let r = router(RouterSettings::default(), vec![p("x", None), p("y", None)]);
    assert_eq!(r.explain("g", &NONE).unwrap().reason.eligible(), 2);
}

#[test]
fn tag_filtering_follows_litellm() {
    let tagged = |id: &str, tags: &[&str]| {
        d("g", &format!("openai/{id}"), id)
            .with_param("tags", tags.to_vec())
            .unwrap()
    };
    let deployments = vec![
        tagged("free", &["free"]),
        tagged("paid", &["paid", "eu"]),
        tagged("fallback", &["default"]),
    ];
    let on = router(
        RouterSettings::default().with_tag_filtering(true),
        deployments.clone(),
    );
    let pick = |r: &Router, tags: &[&str]| -> std::collections::BTreeSet<String> {
        let ctx = RequestContext::new().with_tags(tags);
        (0..100)
            .map(|_| r.route("g", &ctx).unwrap().id().to_string())
            .collect()
    };
    assert_eq!(pick(&on, &["paid"]), ["paid".to_string()].into());
    assert_eq!(
        pick(&on, &["eu", "free"]),
        ["free".to_string(), "paid".to_string()].into()
    );
    // No deployment has the tag: those tagged "default".
    assert_eq!(pick(&on, &["us"]), ["fallback".to_string()].into());
    // A request without tags: the "default" ones, when there are some.
    assert_eq!(pick(&on, &[]), ["fallback".to_string()].into());
    // Tag filtering off: tags are ignored.
    let off = router(RouterSettings::default(), deployments);
    assert_eq!(pick(&off, &["paid"]).len(), 3);
    // No match and no default: unavailable, counted as tag mismatches.
    let strict = router(
        RouterSettings::default().with_tag_filtering(true),
        vec![tagged("free", &["free"])],
    );
    let err = strict
        .route("g", &RequestContext::new().with_tags(&["paid"]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            RouteError::NoneAvailable {
                tag_mismatch: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn explain_lists_candidates_in_config_order_with_concrete_models() {
    let r = router(
        RouterSettings::default().with_strategy(RoutingStrategy::RoundRobin),
        vec![
            d("llm/*", "openai/*", "a"),
            d("llm/*", "azure/*", "b"),
            d("llm/*", "ollama/fixed", "c"),
        ],
    );
    let res = r.explain("llm/gpt-4o", &NONE).unwrap();
    let got: Vec<(&str, &str)> = res
        .candidates
        .iter()
        .map(|c| (c.deployment.id().as_str(), c.model.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("a", "openai/gpt-4o"),
            ("b", "azure/gpt-4o"),
            ("c", "ollama/fixed")
        ]
    );
    assert_eq!(res.reason.strategy(), RoutingStrategy::RoundRobin);
    assert_eq!(res.reason.group_size(), 3);
}

#[test]
fn routes_keep_their_deployment_alive_after_removal() {
    let r = router(RouterSettings::default(), vec![d("g", "openai/x", "a")]);
    let route = r.route("g", &NONE).unwrap();
    let weak = Arc::downgrade(route.deployment());
    r.reconcile(Vec::<Deployment>::new()).unwrap();
    assert!(r.is_empty());
    assert_eq!(route.model(), "openai/x");
    assert!(weak.upgrade().is_some());
    drop(route);
    assert!(
        weak.upgrade().is_none(),
        "nothing else holds a removed deployment"
    );
}

#[test]
fn router_and_route_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Router>();
    check::<modelroute::Route>();
}

#[test]
fn concrete_model_names_agree_with_the_pattern_router() {
    let cases = [
        ("*/*", "prov/*/*", "a/b/c"),
        ("openai/*", "openai/*", "openai/gpt-*-mini"),
        ("gpt-*-*", "azure/*-deploy-*", "gpt-4o-mini"),
        ("*", "fixed/model", "anything"),
        ("x*y*z", "*+*", "x**y**z"),
        ("ollama/*", "ollama_chat/*", "ollama/qwen3:8b"),
    ];
    for (pattern, target, name) in cases {
        let dep = d(pattern, target, "w");
        let mut bare = modelroute::PatternRouter::new();
        bare.insert(dep.clone()).unwrap();
        let expected = bare.lookup(name).unwrap().first().into_model();
        let r = router(RouterSettings::default(), vec![dep]);
        assert_eq!(
            r.route(name, &NONE).unwrap().model(),
            expected,
            "{pattern} {target} {name}"
        );
        assert_eq!(
            r.explain(name, &NONE).unwrap().candidates[0].model,
            expected
        );
    }
}

#[test]
fn a_requested_name_longer_than_the_limit_is_refused_before_any_lookup() {
    let settings = || RouterSettings::default().with_fallbacks("pre/*", ["backup"]);
    let deployments = || vec![d("pre/*", "openai/*", "wild"), d("backup", "b", "b")];
    let r = router(settings(), deployments());
    let at_limit = format!("pre/x{}y", "é".repeat(509));
    assert_eq!(at_limit.len(), 1024);
    assert_eq!(r.route(&at_limit, &NONE).unwrap().id().as_str(), "wild");
    assert!(r.explain(&at_limit, &NONE).is_ok());
    assert_eq!(
        r.fallbacks(&at_limit).groups().collect::<Vec<_>>(),
        ["backup"]
    );

    let over = format!("{at_limit}z");
    for err in [
        r.route(&over, &NONE).unwrap_err(),
        r.explain(&over, &NONE).unwrap_err(),
    ] {
        assert!(err.is_name_too_long(), "{err}");
        assert!(!err.is_not_found() && !err.is_unavailable());
        assert_eq!(
            err,
            RouteError::ModelNameTooLong {
                // The first 64 bytes would end inside an `é`: 63 of them.
                model: format!("pre/x{}", "é".repeat(29)),
                len: 1025,
                max: 1024,
            }
        );
        assert_eq!(err.model().len(), 63);
        assert!(
            err.to_string()
                .contains("1025 bytes long, more than the 1024 allowed"),
            "{err}"
        );
    }
    // Nor does it resolve to a group with fallbacks.
    assert_eq!(r.fallbacks(&over).groups().count(), 0);

    // The limit is a setting.
    let r = router(settings().with_max_model_name_len(4096), deployments());
    assert_eq!(
        r.route(&over, &NONE).unwrap().model(),
        over.replacen("pre/", "openai/", 1)
    );
}

#[test]
fn a_deployment_id_routes_to_that_deployment_taken_as_asked() {
    let settings = RouterSettings::default()
        .with_alias("pinned", "gpt-4o")
        .with_cooldown(0, std::time::Duration::from_secs(60));
    let r = router(
        settings,
        vec![
            d("gpt-4o", "openai/gpt-4o", "oa"),
            d("gpt-4o", "azure/gpt-4o-eu", "pinned"),
            d("claude", "anthropic/claude-sonnet-4", "gpt-4o"),
        ],
    );
    let route = r.route("oa", &NONE).unwrap();
    assert_eq!(route.id().as_str(), "oa");
    assert_eq!(route.model(), "openai/gpt-4o");
    assert_eq!(route.group(), "gpt-4o");
    assert_eq!(route.reason().matched(), &MatchKind::DeploymentId);
    // Like LiteLLM, an id comes before an alias of the same name, and a model_name before an id.
    assert_eq!(r.route("pinned", &NONE).unwrap().id().as_str(), "pinned");
    assert_eq!(r.route("gpt-4o", &NONE).unwrap().group(), "gpt-4o");
    assert_eq!(
        r.route("gpt-4o", &NONE).unwrap().reason().matched(),
        &MatchKind::Exact
    );
    // Taken as asked: a cooldown does not keep the caller from the deployment it named.
    let route = r.route("oa", &NONE).unwrap();
    r.report(
        &route,
        modelroute::router::Outcome::failure(modelroute::router::FailureKind::Status(500)),
    );
    assert!(r.health(route.id()).unwrap().is_cooling_down());
    assert_eq!(r.route("oa", &NONE).unwrap().id().as_str(), "oa");
    for _ in 0..20 {
        assert_eq!(r.route("gpt-4o", &NONE).unwrap().id().as_str(), "pinned");
    }
}

#[test]
fn a_blocked_team_or_wildcard_deployment_is_not_reached_by_its_id() {
    let blocked = d("gpt-4o", "openai/gpt-4o", "blocked")
        .with_info("blocked", true)
        .unwrap();
    let team = Deployment::new("internal-1", "azure/gpt-4o-team")
        .unwrap()
        .with_team("team-a", "gpt-4o")
        .unwrap()
        .with_id("team-dep")
        .unwrap();
    let r = router(
        RouterSettings::default(),
        vec![blocked, team, d("openai/*", "openai/*", "wild")],
    );
    let err = r.route("blocked", &NONE).unwrap_err();
    assert!(
        matches!(err, RouteError::NoneAvailable { blocked: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        r.route("team-dep", &RequestContext::new().with_team("team-a"))
            .unwrap()
            .id()
            .as_str(),
        "team-dep"
    );
    for ctx in [NONE, RequestContext::new().with_team("team-b")] {
        assert!(r.route("team-dep", &ctx).unwrap_err().is_not_found());
    }
    // A wildcard deployment's model is a template, not something to call.
    assert!(r.route("wild", &NONE).unwrap_err().is_not_found());
}

#[test]
fn a_litellm_params_model_routes_to_its_deployments_when_no_name_matches() {
    let r = router(
        RouterSettings::default().with_strategy(RoutingStrategy::RoundRobin),
        vec![
            d("eu", "azure/gpt-4o-eu", "eu-1"),
            d("eu-backup", "azure/gpt-4o-eu", "eu-2"),
            d("azure/gpt-4o-eu", "openai/gpt-4o", "named"),
            d("us", "azure/gpt-4o-us", "us"),
            Deployment::new("internal", "azure/gpt-4o-us")
                .unwrap()
                .with_info("team_id", "team-a")
                .unwrap()
                .with_id("team-us")
                .unwrap(),
            d("anthropic/*", "anthropic/*", "anthropic-wild"),
            d("claude", "anthropic/claude-sonnet-4", "claude"),
        ],
    );
    // A model_name equal to the request comes first.
    assert_eq!(
        r.route("azure/gpt-4o-eu", &NONE).unwrap().id().as_str(),
        "named"
    );
    // Otherwise the deployments whose litellm_params.model it is, across model names, in id order.
    let explained = r.explain("azure/gpt-4o-us", &NONE).unwrap();
    assert_eq!(explained.reason.matched(), &MatchKind::LitellmModel);
    assert_eq!(explained.reason.group(), "azure/gpt-4o-us");
    // Deployments of a team are not reached by their model (LiteLLM drops them for other teams).
    let ids: Vec<&str> = explained
        .candidates
        .iter()
        .map(|c| c.deployment.id().as_str())
        .collect();
    assert_eq!(ids, ["us"]);
    // Wildcards come before: LiteLLM's early resolution returns the pattern's deployments.
    assert_eq!(
        r.route("anthropic/claude-sonnet-4", &NONE)
            .unwrap()
            .id()
            .as_str(),
        "anthropic-wild"
    );
    // Picked by the strategy like any group.
    let picks: Vec<String> = (0..4)
        .map(|_| r.route("openai/gpt-4o", &NONE).unwrap().id().to_string())
        .collect();
    assert_eq!(picks, ["named"; 4]);
    let mut two = std::collections::HashSet::new();
    let r = router(
        RouterSettings::default().with_strategy(RoutingStrategy::RoundRobin),
        vec![
            d("eu", "azure/gpt-4o-eu", "eu-1"),
            d("eu-backup", "azure/gpt-4o-eu", "eu-2"),
        ],
    );
    for _ in 0..4 {
        two.insert(r.route("azure/gpt-4o-eu", &NONE).unwrap().id().to_string());
    }
    assert_eq!(two, ["eu-1", "eu-2"].map(String::from).into());
}

#[test]
fn a_bare_name_retries_the_wildcards_as_provider_slash_name() {
    let r = router(
        RouterSettings::default(),
        vec![
            d("openai/*", "openai/*", "oa"),
            d("vertex_ai/*", "vertex_ai/*", "vertex"),
            d("gpt-4o", "azure/gpt-4o-eu", "exact"),
        ],
    );
    let route = r.route("gpt-4o-mini", &NONE).unwrap();
    assert_eq!(route.id().as_str(), "oa");
    assert_eq!(route.model(), "openai/gpt-4o-mini");
    assert_eq!(route.reason().retried_as(), Some("openai/gpt-4o-mini"));
    assert!(
        route
            .reason()
            .to_string()
            .contains("as `openai/gpt-4o-mini`")
    );
    // The provider is LiteLLM's: `gemini-2.5-flash` is a vertex_ai model in its price file.
    assert_eq!(
        r.route("gemini-2.5-flash", &NONE).unwrap().model(),
        "vertex_ai/gemini-2.5-flash"
    );
    // An exact name comes first; a name matching a wildcard as is is not retried.
    assert_eq!(r.route("gpt-4o", &NONE).unwrap().id().as_str(), "exact");
    assert_eq!(
        r.route("openai/o3", &NONE).unwrap().reason().retried_as(),
        None
    );
    // A name without a provider is not retried, and the error lists the retry it tried.
    let err = r.route("my-finetune", &NONE).unwrap_err();
    assert!(err.is_not_found());
    let err = r.route("claude-opus-9", &NONE).unwrap_err();
    let RouteError::NoDeployment { tried, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(tried.contains(&Tried::Wildcard {
        name: "anthropic/claude-opus-9".into()
    }));
}

#[test]
fn the_caller_overrides_the_provider_of_a_bare_name() {
    use modelroute::router::ModelProviders;
    let deployments = vec![
        d("openai/*", "openai/*", "oa"),
        d("ollama_chat/*", "ollama_chat/*", "local"),
    ];
    let r = Router::builder()
        .model_providers(
            ModelProviders::litellm()
                .with("llama3.3", "ollama_chat")
                .with("gpt-4o-mini", "ollama_chat")
                .without("o3"),
        )
        .deployments(deployments.clone())
        .build()
        .unwrap();
    assert_eq!(
        r.route("llama3.3", &NONE).unwrap().model(),
        "ollama_chat/llama3.3"
    );
    assert_eq!(
        r.route("gpt-4o-mini", &NONE).unwrap().id().as_str(),
        "local"
    );
    assert!(r.route("o3", &NONE).unwrap_err().is_not_found());
    assert_eq!(r.route("gpt-4.1", &NONE).unwrap().id().as_str(), "oa");
    let none = Router::builder()
        .model_providers(ModelProviders::none())
        .deployments(deployments)
        .build()
        .unwrap();
    assert!(none.route("gpt-4.1", &NONE).unwrap_err().is_not_found());
}

#[test]
fn a_team_retries_its_own_wildcards_before_the_global_ones() {
    let team_wild = Deployment::new("internal-1", "azure/*")
        .unwrap()
        .with_team("team-a", "openai/*")
        .unwrap()
        .with_id("team-wild")
        .unwrap();
    let r = router(
        RouterSettings::default(),
        vec![
            team_wild,
            d("*", "ollama/*", "catch-all"),
            d("gpt-4o", "openai/gpt-4o", "exact"),
        ],
    );
    let a = RequestContext::new().with_team("team-a");
    // LiteLLM: the team's wildcards with the name (no match), then as openai/gpt-4o-mini (match), before
    // the global `*`.
    let route = r.route("gpt-4o-mini", &a).unwrap();
    assert_eq!(route.id().as_str(), "team-wild");
    assert_eq!(route.model(), "azure/gpt-4o-mini");
    assert_eq!(
        r.route("gpt-4o-mini", &NONE).unwrap().id().as_str(),
        "catch-all"
    );
    // An exact name beats the team's wildcards (LiteLLM resolves names before its early wildcard step).
    assert_eq!(r.route("gpt-4o", &a).unwrap().id().as_str(), "exact");
}
