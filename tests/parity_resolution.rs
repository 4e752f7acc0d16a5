//! Differential tests against LiteLLM 1.109.1 itself: the same configs and the same requested names go
//! through LiteLLM's Python `Router` (`tests/litellm/resolve_parity.py`, run once for every case of this
//! file) and through modelroute's `Router`; the loaded deployments, the resolved groups and the picks must
//! agree. The deliberate differences have their own test, which checks that LiteLLM still behaves the way
//! the README says it does and that modelroute does what the README promises instead.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::OnceLock;
use std::time::Duration;

use modelroute::config::{ConfigWarning, RouterConfig};
use modelroute::router::{CandidateStatus, RequestContext};
use modelroute::{RouteError, Router};
use serde_json::{Value, json};

/// Bare names whose provider (for the wildcard retry) must be LiteLLM's: names of its price file across
/// providers, fine-tunes, Replicate versions, the routing rules' names, and names it knows nothing of.
const PROVIDER_PROBES: [&str; 36] = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1-nano",
    "o3-mini",
    "o1",
    "chatgpt-4o-latest",
    "gpt-3.5-turbo-instruct",
    "text-embedding-3-large",
    "dall-e-3",
    "whisper-1",
    "tts-1",
    "gemini-2.5-flash",
    "gemini-embedding-001",
    "text-unicorn",
    "claude-3-5-sonnet-20241022",
    "claude-opus-4-1",
    "claude-opus-9",
    "claude-sonnet-7.5-20991231",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    "eu.anthropic.claude-future-v9:0",
    "amazon.titan-text-express-v1",
    "command-r-plus",
    "command-r",
    "j2-ultra",
    "deepseek-chat",
    "jev-latest",
    "ft:gpt-4o-mini:acme::x1",
    "ft:gpt-3.5-turbo:acme::x2",
    "gpt-image-2",
    "*",
    "amazon_nova-pro",
    "my-llama:0123456789012345678901234567890123456789012345678901234567890123",
    "my-finetune",
    "GPT-4O",
    "llama2",
    "",
];

/// Every case of this file, sent to LiteLLM in one run.
fn cases() -> Vec<Value> {
    let precedence = json!({
        "model_list": [
            {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "oa"}},
            {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o-eu"}, "model_info": {"id": "pinned"}},
            // An id equal to a model_name: the model_name wins.
            {"model_name": "claude", "litellm_params": {"model": "anthropic/claude-sonnet-4"},
             "model_info": {"id": "gpt-4o"}},
            {"model_name": "my-mini", "litellm_params": {"model": "azure/gpt-4o-mini-eu"}, "model_info": {"id": "mini"}},
            {"model_name": "eu", "litellm_params": {"model": "azure/gpt-4o-eu2"}, "model_info": {"id": "eu-1"}},
            {"model_name": "eu-backup", "litellm_params": {"model": "azure/gpt-4o-eu2"}, "model_info": {"id": "eu-2"}},
            {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "oa-wild"}},
            {"model_name": "vertex_ai/*", "litellm_params": {"model": "vertex_ai/*"}, "model_info": {"id": "vertex-wild"}},
            {"model_name": "team_a_1", "litellm_params": {"model": "anthropic/*"},
             "model_info": {"id": "team-wild", "team_id": "team-a", "team_public_model_name": "*"}},
            {"model_name": "team_a_2", "litellm_params": {"model": "azure/gpt-4o-team"},
             "model_info": {"id": "team-exact", "team_id": "team-a", "team_public_model_name": "gpt-4o-team"}},
            {"model_name": "team_b_1", "litellm_params": {"model": "azure/*"},
             "model_info": {"id": "team-b-wild", "team_id": "team-b", "team_public_model_name": "openai/*"}},
        ],
        "router_settings": {"model_group_alias": {"pinned": "gpt-4o", "smart": "gpt-4o", "fast": "gpt-4.1-mini"}}
    });
    let names = [
        // ids, aliases and names
        "oa",
        "pinned",
        "gpt-4o",
        "smart",
        "fast",
        "mini",
        "my-mini",
        "claude",
        // the provider retry
        "gpt-4o-mini",
        "o3",
        "gemini-2.5-flash",
        "text-embedding-3-small",
        "ft:gpt-4o-mini:acme::x1",
        "gpt-3.5-turbo-instruct",
        "claude-3-5-sonnet-20241022",
        "claude-opus-9",
        "my-finetune",
        "amazon.titan-text-express-v1",
        "deepseek-chat",
        // litellm_params.model, wildcards first
        "azure/gpt-4o-mini-eu",
        "azure/gpt-4o-eu2",
        "anthropic/claude-sonnet-4",
        "openai/gpt-4o",
        "azure/gpt-4o-team",
        "nope",
    ];
    let mut requests: Vec<Value> = names.iter().map(|m| json!({"model": m})).collect();
    for name in [
        "gpt-4o",
        "claude-x",
        "gpt-4o-mini",
        "gpt-4o-team",
        "team-exact",
        "oa",
        "azure/gpt-4o-eu2",
        "o3",
    ] {
        requests.push(json!({"model": name, "team": "team-a"}));
    }
    for name in ["gpt-4o-mini", "openai/o3", "gpt-4o", "claude-x"] {
        requests.push(json!({"model": name, "team": "team-b"}));
    }

    let lar1_list = json!([
        {"model_name": "agent", "litellm_params": {"model": "openai/a"}, "model_info": {"id": "smart", "type": "cloud-smart"}},
        {"model_name": "agent", "litellm_params": {"model": "openai/b"}, "model_info": {"id": "fast", "type": "cloud-fast"}},
        {"model_name": "agent", "litellm_params": {"model": "openai/c"}, "model_info": {"id": "local", "type": "local"}},
        {"model_name": "agent", "litellm_params": {"model": "openai/d"}, "model_info": {"id": "local-2", "type": "local"}},
        {"model_name": "agent", "litellm_params": {"model": "openai/e"}, "model_info": {"id": "deep", "type": "deep"}},
        {"model_name": "untyped", "litellm_params": {"model": "openai/f"}, "model_info": {"id": "f1", "type": "cloud-fast"}},
        {"model_name": "untyped", "litellm_params": {"model": "openai/g"}, "model_info": {"id": "g1", "type": "deep"}},
    ]);
    let lar1 = |name: &str, args: Value| {
        json!({"name": name, "config": {"model_list": lar1_list, "router_settings":
              {"routing_strategy": "lar1", "routing_strategy_args": args}},
              "requests": [{"model": "agent"}, {"model": "untyped"}]})
    };

    vec![
        json!({"name": "precedence", "config": precedence, "requests": requests}),
        json!({"name": "default fallback", "config": {
            "model_list": [{"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "oa"}}],
            "router_settings": {"default_fallbacks": ["gpt-4o"]}},
            "requests": [{"model": "unknown"}, {"model": "gpt-4o"}]}),
        json!({"name": "blocked", "config": {"model_list": [
            {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "b", "blocked": true}},
            {"model_name": "h", "litellm_params": {"model": "openai/o3"}, "model_info": {"id": "ok"}}]},
            "requests": [{"model": "b"}, {"model": "g"}, {"model": "openai/gpt-4o"}, {"model": "ok"}]}),
        json!({"name": "organizations and duplicates", "config": {"model_list": [
            {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "organization": ["org-a", "org-b"]}},
            {"model_name": "mini", "litellm_params": {"model": "openai/gpt-4o-mini", "organization": ["org-c"]}},
            {"model_name": "o3", "litellm_params": {"model": "openai/o3", "organization": ["org-a", "org-b"]},
             "model_info": {"id": "o3"}},
            {"model_name": "none", "litellm_params": {"model": "openai/o1", "organization": []}},
            {"model_name": "twice", "litellm_params": {"model": "openai/gpt-4.1", "rpm": 5}},
            {"model_name": "twice", "litellm_params": {"model": "openai/gpt-4.1", "rpm": 5}},
            {"model_name": "plain", "litellm_params": {"model": "openai/gpt-4.1-mini", "organization": "org-z"}}]},
            "requests": [{"model": "gpt-4o"}, {"model": "mini"}, {"model": "o3"}, {"model": "none"},
                         {"model": "twice"}, {"model": "plain"}]}),
        json!({"name": "markers", "config": {"model_list": [
            {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "oa"}},
            {"model_name": "smart", "litellm_params": {"model": "auto_router/complexity_router"}, "model_info": {"id": "m1"}},
            {"model_name": "semantic", "litellm_params": {"model": "auto_router/my-router"}, "model_info": {"id": "m2"}}]},
            "requests": []}),
        json!({"name": "markers lenient", "lenient": true, "config": {"model_list": [
            {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "oa"}},
            {"model_name": "smart", "litellm_params": {"model": "auto_router/complexity_router"}, "model_info": {"id": "m1"}},
            {"model_name": "semantic", "litellm_params": {"model": "auto_router/my-router"}, "model_info": {"id": "m2"}}]},
            "requests": [{"model": "gpt-4o"}, {"model": "smart"}, {"model": "semantic"}, {"model": "m1"},
                         {"model": "auto_router/my-router"}]}),
        json!({"name": "configured marker", "lenient": true, "config": {"model_list": [
            {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "oa"}},
            {"model_name": "smart", "litellm_params": {"model": "auto_router/complexity_router",
             "complexity_router_default_model": "gpt-4o"}, "model_info": {"id": "m1"}}]},
            "requests": [{"model": "smart"}, {"model": "m1"}]}),
        json!({"name": "strategies", "config": {}, "requests": [], "strategies": [
            "simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing",
            "usage-based-routing-v2", "cost-based-routing", "provider-budget-routing", "lar1",
            "round-robin", "lowest-latency", "usage-based", "Least-Busy", "lowest-cost", ""]}),
        json!({"name": "providers", "config": {}, "requests": [], "providers": PROVIDER_PROBES.to_vec()}),
        lar1("lar1 default", json!({})),
        lar1(
            "lar1 deep",
            json!({"confidence_threshold_medium": 0.35, "confidence_threshold_high": 0.4}),
        ),
        lar1(
            "lar1 smart",
            json!({"confidence_threshold_low": 0.6, "confidence_threshold_medium": 0.7,
                                  "confidence_threshold_high": 0.8}),
        ),
        lar1("lar1 fast", json!({"confidence_threshold_medium": 0.6})),
        lar1(
            "lar1 out of order",
            json!({"confidence_threshold_low": 0.6}),
        ),
        // Deliberate differences (see `deliberate_differences_are_the_documented_ones`).
        json!({"name": "differences", "config": {
            "model_list": [
                {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "oa"}},
                {"model_name": "openai/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "oa-wild"}},
                {"model_name": "gpt-*-mini", "litellm_params": {"model": "openai/gpt-*-mini"}, "model_info": {"id": "mini"}},
                {"model_name": "team_a_2", "litellm_params": {"model": "azure/gpt-4o-team"},
                 "model_info": {"id": "team-exact", "team_id": "team-a", "team_public_model_name": "gpt-4o-team"}}]},
            "requests": [{"model": "team-exact", "team": "team-b"}, {"model": "team-exact"},
                         {"model": "oa-wild"}, {"model": "gpt-4o-mini-2024-07-18"},
                         {"model": "azure/gpt-4o-team", "team": "team-a"}]}),
        json!({"name": "doubled prefix", "config": {"model_list": [
            {"model_name": "azure/azure/*", "litellm_params": {"model": "azure/*"}, "model_info": {"id": "doubled"}},
            {"model_name": "None/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "none"}}]},
            "requests": [{"model": "azure/gpt-4o"}, {"model": "my-finetune"}]}),
        json!({"name": "default fallbacks in turn", "config": {
            "model_list": [{"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "oa"}}],
            "router_settings": {"default_fallbacks": ["missing", "gpt-4o"]}},
            "requests": [{"model": "unknown"}]}),
        json!({"name": "fallback through a wildcard", "config": {
            "model_list": [{"model_name": "openai/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "w"}}],
            "router_settings": {"default_fallbacks": ["openai/gpt-4.1"]}},
            "requests": [{"model": "unknown"}]}),
        json!({"name": "provider budget", "config": {
            "model_list": [{"model_name": "g", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "a"}}],
            "router_settings": {"routing_strategy": "provider-budget-routing"}},
            "requests": [{"model": "g"}]}),
    ]
}

/// LiteLLM's results, by case name (one Python run for the whole file).
fn litellm() -> &'static HashMap<String, Value> {
    static RESULTS: OnceLock<HashMap<String, Value>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let input = serde_json::to_vec(&json!({"cases": cases()})).unwrap();
        let output =
            support::litellm::run_script("resolve_parity.py", &input, Duration::from_secs(300));
        let out: Value = serde_json::from_slice(&output).expect("resolve_parity.py prints JSON");
        assert_eq!(out["litellm"], "1.109.1");
        out["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|case| (case["name"].as_str().unwrap().to_string(), case.clone()))
            .collect()
    })
}

fn case(name: &str) -> Value {
    cases()
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// modelroute's config for a case, loaded as the case says (strict, or lenient).
fn load(case: &Value) -> Result<RouterConfig, modelroute::ConfigError> {
    RouterConfig::loader()
        .lenient(case["lenient"].as_bool().unwrap_or(false))
        .load_value(case["config"].clone())
}

fn router(case: &Value) -> Router {
    Router::from_config(load(case).expect("modelroute loads the config"))
}

/// What modelroute does with one request, in the shape of LiteLLM's results.
#[derive(Debug)]
struct Ours {
    /// The resolved group (every candidate, before filtering), or None when nothing resolves.
    candidates: Option<BTreeSet<String>>,
    /// The available candidates and their concrete models.
    available: HashMap<String, String>,
    /// The pick: (id, concrete model), or the error.
    pick: Result<(String, String), RouteError>,
}

fn ours(router: &Router, model: &str, team: Option<&str>) -> Ours {
    let ctx = match team {
        Some(team) => RequestContext::new().with_team(team),
        None => RequestContext::new(),
    };
    let explained = router.explain(model, &ctx);
    let candidates = explained.as_ref().ok().map(|r| {
        r.candidates
            .iter()
            .map(|c| c.deployment.id().to_string())
            .collect()
    });
    let available = explained
        .as_ref()
        .map(|r| {
            r.candidates
                .iter()
                .filter(|c| c.availability == CandidateStatus::Available)
                .map(|c| (c.deployment.id().to_string(), c.model.clone()))
                .collect()
        })
        .unwrap_or_default();
    let pick = router
        .route(model, &ctx)
        .map(|r| (r.id().to_string(), r.model().to_string()));
    Ours {
        candidates,
        available,
        pick,
    }
}

fn ids(value: &Value) -> Option<BTreeSet<String>> {
    value
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
}

/// Requires the same decision for one request: the same group (set of candidate ids), an error on both
/// sides or on neither, and the same pick when only one deployment is available (else LiteLLM's pick is one
/// of the available ones here, with the same concrete model).
fn assert_same(router: &Router, theirs: &Value) {
    let model = theirs["model"].as_str().unwrap();
    let team = theirs["team"].as_str();
    let mine = ours(router, model, team);
    // A group left empty for this request (another team's deployments only) is no group.
    let their_group = ids(&theirs["candidates"]).filter(|g| !g.is_empty());
    let what = format!("request {model:?} team {team:?}: LiteLLM {theirs}, modelroute {mine:?}");
    assert_eq!(mine.candidates, their_group, "group: {what}");
    match (&mine.pick, theirs["pick"].as_str()) {
        (Ok((id, model)), Some(their_id)) => {
            if mine.available.len() == 1 {
                assert_eq!(id, their_id, "pick: {what}");
                assert_eq!(
                    model,
                    theirs["pick_model"].as_str().unwrap(),
                    "model: {what}"
                );
            } else {
                assert_eq!(
                    mine.available.get(their_id).map(String::as_str),
                    theirs["pick_model"].as_str(),
                    "LiteLLM's pick is not available here: {what}"
                );
            }
        }
        (Err(_), None) => {}
        _ => panic!("one side failed: {what}"),
    }
}

fn assert_case(name: &str) {
    let theirs = &litellm()[name];
    assert!(
        theirs["init_error"].is_null(),
        "LiteLLM refused {name}: {theirs}"
    );
    let router = router(&case(name));
    let requests = theirs["requests"].as_array().unwrap();
    assert!(!requests.is_empty());
    for request in requests {
        assert_same(&router, request);
    }
}

#[test]
fn ids_aliases_names_wildcards_provider_retry_and_litellm_models_resolve_as_in_litellm() {
    assert_case("precedence");
}

#[test]
fn a_name_that_resolves_to_nothing_takes_the_first_default_fallback_as_in_litellm() {
    assert_case("default fallback");
}

#[test]
fn blocked_deployments_are_refused_by_id_and_by_name_as_in_litellm() {
    assert_case("blocked");
}

#[test]
fn organization_lists_and_identical_entries_load_the_deployments_litellm_loads() {
    let name = "organizations and duplicates";
    let theirs = &litellm()[name];
    let config = load(&case(name)).unwrap();
    // LiteLLM's rows (model_name, model, organization) are ours plus each reported duplicate again (here
    // right after the entry it repeats).
    let their_rows: Vec<(String, String, Option<String>)> = theirs["loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["model_name"].as_str().unwrap().to_string(),
                v["model"].as_str().unwrap().to_string(),
                v["organization"].as_str().map(str::to_string),
            )
        })
        .collect();
    let mut our_rows: Vec<(String, String, Option<String>)> = config
        .deployments()
        .iter()
        .map(|d| {
            let p = d.litellm_params();
            let organization = p.get("organization").and_then(Value::as_str);
            (
                d.model_name().to_string(),
                p.model().to_string(),
                organization.map(str::to_string),
            )
        })
        .collect();
    let duplicates: Vec<&modelroute::DeploymentId> = config
        .warnings()
        .iter()
        .filter_map(|w| match w {
            ConfigWarning::DuplicateDeployment { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    assert_eq!(duplicates.len(), 1);
    for id in duplicates {
        let at = config
            .deployments()
            .iter()
            .position(|d| d.id() == id)
            .unwrap();
        our_rows.insert(at + 1, our_rows[at].clone());
    }
    assert_eq!(our_rows, their_rows);
    assert!(
        config
            .warnings()
            .iter()
            .any(|w| matches!(w, ConfigWarning::EmptyOrganizationList { index: 3, .. }))
    );
    // Ids: LiteLLM gives every organization the entry's id; here a list of one keeps it, a longer list
    // suffixes it (so that each organization has its own health).
    let their_ids: Vec<&str> = theirs["loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    let our_ids: Vec<String> = config
        .deployments()
        .iter()
        .map(|d| d.id().to_string())
        .collect();
    assert_eq!(our_ids[0], format!("{}:org-a", their_ids[0]));
    assert_eq!(our_ids[1], format!("{}:org-b", their_ids[1]));
    assert_eq!(their_ids[0], their_ids[1]);
    assert_eq!(our_ids[2], their_ids[2]);
    assert_eq!(our_ids[3..5], ["o3:org-a", "o3:org-b"]);
    assert_eq!(our_ids[5], their_ids[5]);
    assert_eq!(our_ids[6], their_ids[7]);
    // The same groups serve the same names (as sets of model + organization).
    let router = Router::from_config(config);
    for request in theirs["requests"].as_array().unwrap() {
        let model = request["model"].as_str().unwrap();
        let mine = ours(&router, model, None);
        assert_eq!(mine.pick.is_ok(), request["pick"].is_string(), "{model}");
    }
}

#[test]
fn strategy_router_markers_are_refused_strictly_and_skipped_leniently_as_in_litellm() {
    let strict = &litellm()["markers"];
    assert_eq!(strict["init_error"], "ValueError");
    let err = load(&case("markers")).unwrap_err();
    assert_eq!(err.index(), Some(1));
    assert_eq!(err.field(), Some("litellm_params.model"));

    let lenient = &litellm()["markers lenient"];
    let config = load(&case("markers lenient")).unwrap();
    let their_ids: Vec<&str> = lenient["loaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    let our_ids: Vec<&str> = config
        .deployments()
        .iter()
        .map(|d| d.id().as_str())
        .collect();
    assert_eq!(our_ids, their_ids);
    assert_eq!(config.skipped().len(), 2);
    assert_case("markers lenient");

    // A marker LiteLLM does load (a configured complexity router) is still never routed to as a model.
    let configured = &litellm()["configured marker"];
    for request in configured["requests"].as_array().unwrap() {
        assert!(request["pick"].is_null(), "{request}");
    }
    let router = router(&case("configured marker"));
    for request in configured["requests"].as_array().unwrap() {
        let model = request["model"].as_str().unwrap();
        assert!(
            router.route(model, &RequestContext::new()).is_err(),
            "{model}"
        );
    }
}

#[test]
fn every_routing_strategy_litellm_accepts_is_accepted() {
    let theirs = &litellm()["strategies"]["strategies"];
    for (name, accepted) in theirs.as_object().unwrap() {
        let ours = RouterConfig::from_json(
            &json!({"router_settings": {"routing_strategy": name}}).to_string(),
        )
        .is_ok();
        match name.as_str() {
            // Deliberate: this crate's own strategy, and an older name of latency-based-routing.
            "round-robin" | "lowest-latency" => assert!(ours && !accepted.as_bool().unwrap()),
            _ => assert_eq!(ours, accepted.as_bool().unwrap(), "{name}"),
        }
    }
}

#[test]
fn bare_names_get_the_provider_litellm_retries_wildcards_with() {
    let theirs = litellm()["providers"]["providers"].as_object().unwrap();
    assert_eq!(theirs.len(), PROVIDER_PROBES.len());
    let providers = modelroute::router::ModelProviders::litellm();
    for (name, provider) in theirs {
        assert_eq!(providers.provider_of(name), provider.as_str(), "{name:?}");
    }
}

#[test]
fn lar1_picks_the_tier_litellm_picks_for_a_request_without_metadata() {
    for name in ["lar1 default", "lar1 deep", "lar1 smart", "lar1 fast"] {
        let theirs = &litellm()[name];
        let router = router(&case(name));
        for request in theirs["requests"].as_array().unwrap() {
            let model = request["model"].as_str().unwrap();
            let mine = router.route(model, &RequestContext::new()).unwrap();
            assert_eq!(
                mine.id().as_str(),
                request["pick"].as_str().unwrap(),
                "{name}: {model}"
            );
        }
    }
    assert_eq!(litellm()["lar1 out of order"]["init_error"], "ValueError");
    assert!(load(&case("lar1 out of order")).is_err());
}

#[test]
fn deliberate_differences_are_the_documented_ones() {
    let theirs = &litellm()["differences"];
    let router = router(&case("differences"));
    let their = |i: usize| &theirs["requests"][i];
    let mine = |i: usize| {
        ours(
            &router,
            their(i)["model"].as_str().unwrap(),
            their(i)["team"].as_str(),
        )
    };

    // 1. Another team's deployment by id: LiteLLM serves it; here a team deployment is only its team's.
    assert_eq!(their(0)["pick"], "team-exact");
    assert_eq!(their(1)["pick"], "team-exact");
    assert!(mine(0).pick.unwrap_err().is_not_found());
    assert!(mine(1).pick.unwrap_err().is_not_found());
    // 2. A wildcard deployment by id: LiteLLM returns its template `openai/*` as the model to call.
    assert_eq!(their(2)["pick_model"], "openai/*");
    assert!(mine(2).pick.unwrap_err().is_not_found());
    // 3. Whole-name wildcards (LiteLLM #42090): LiteLLM's prefix match sends this to `gpt-*-mini` and drops
    //    the date; here it goes to `openai/*` (the provider retry), date kept.
    assert_eq!(their(3)["pick"], "mini");
    assert_eq!(their(3)["pick_model"], "openai/gpt-4o-mini");
    assert_eq!(
        mine(3).pick.unwrap(),
        (
            "oa-wild".to_string(),
            "openai/gpt-4o-mini-2024-07-18".to_string()
        )
    );
    // 4. A team's own deployment by its litellm_params.model: LiteLLM finds it for that team; here only
    //    deployments without a team are found by model.
    assert_eq!(their(4)["pick"], "team-exact");
    assert!(mine(4).pick.unwrap_err().is_not_found());

    // 5. Only a bare name with a provider is retried: LiteLLM tries `azure/gpt-4o` as `azure/azure/gpt-4o`,
    //    and a name without a provider as `None/<name>`.
    let theirs = &litellm()["doubled prefix"]["requests"];
    assert_eq!(theirs[0]["pick"], "doubled");
    assert_eq!(theirs[1]["pick"], "none");
    let router = self::router(&case("doubled prefix"));
    for model in ["azure/gpt-4o", "my-finetune"] {
        let err = router.route(model, &RequestContext::new()).unwrap_err();
        assert!(err.is_not_found(), "{model}");
    }

    // 6. default_fallbacks: LiteLLM tries only the first (here missing); modelroute tries each in turn.
    let theirs = &litellm()["default fallbacks in turn"]["requests"][0];
    assert!(theirs["pick"].is_null());
    let router = self::router(&case("default fallbacks in turn"));
    assert_eq!(
        router
            .route("unknown", &RequestContext::new())
            .unwrap()
            .id()
            .as_str(),
        "oa"
    );

    // 7. A default fallback through a wildcard: LiteLLM looks fallbacks up by model_name only.
    let theirs = &litellm()["fallback through a wildcard"]["requests"][0];
    assert!(theirs["pick"].is_null());
    let router = self::router(&case("fallback through a wildcard"));
    let route = router.route("unknown", &RequestContext::new()).unwrap();
    assert_eq!(route.model(), "openai/gpt-4.1");

    // 8. provider-budget-routing: LiteLLM has no selector for it and refuses every request.
    let theirs = &litellm()["provider budget"]["requests"][0];
    assert_eq!(theirs["error"], "RouterRateLimitError");
    let router = self::router(&case("provider budget"));
    assert_eq!(
        router
            .route("g", &RequestContext::new())
            .unwrap()
            .id()
            .as_str(),
        "a"
    );
}
