//! `model_list` entries loaded the way LiteLLM's `Router.set_model_list` loads them: identical entries,
//! `organization` lists, strategy-router markers, and every `routing_strategy` LiteLLM accepts. (The same
//! configs are checked against LiteLLM itself in `parity_resolution.rs`.)

use modelroute::config::{ConfigWarning, RouterConfig};
use modelroute::router::{RequestContext, RoutingStrategy};
use modelroute::{ChangeError, ConfigError, Deployment, DeploymentId, EntryError, Router};
use serde_json::{Value, json};

fn load(config: Value) -> Result<RouterConfig, ConfigError> {
    RouterConfig::loader().load_value(config)
}

fn lenient(config: Value) -> RouterConfig {
    RouterConfig::loader()
        .lenient(true)
        .load_value(config)
        .unwrap()
}

#[test]
fn identical_entries_load_once_and_the_duplicate_is_reported() {
    let entry =
        json!({"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "rpm": 10}});
    let config = json!({"model_list": [
        entry,
        {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o"}},
        entry,
    ]});
    for config in [load(config.clone()).unwrap(), lenient(config)] {
        assert_eq!(config.deployments().len(), 2);
        let id = config.deployments()[0].id().clone();
        assert_eq!(
            config.warnings(),
            [ConfigWarning::DuplicateDeployment {
                index: 2,
                first_index: 0,
                id: id.clone()
            }]
        );
        assert!(config.skipped().is_empty());
        let text = config.warnings()[0].to_string();
        assert!(
            text.contains("model_list[2] repeats model_list[0]"),
            "{text}"
        );
        assert!(Router::from_config(config).get(&id).is_some());
    }
}

#[test]
fn one_id_with_other_settings_is_refused_or_skipped() {
    let config = json!({"model_list": [
        {"model_name": "a", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "x"}},
        {"model_name": "b", "litellm_params": {"model": "openai/o3"}, "model_info": {"id": "x"}},
    ]});
    let err = load(config.clone()).unwrap_err();
    assert_eq!(err.index(), Some(1));
    assert_eq!(err.field(), Some("model_info.id"));
    let config = lenient(config);
    assert_eq!(config.deployments().len(), 1);
    assert!(matches!(
        config.skipped()[0].error,
        EntryError::DuplicateId { first_index: 0, .. }
    ));
}

#[test]
fn an_organization_list_gives_one_deployment_per_organization() {
    let config = load(json!({"model_list": [
        {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "organization": ["org-a", "org-b"]}},
        {"model_name": "mini", "litellm_params": {"model": "openai/gpt-4o-mini", "organization": ["org-c"]},
         "model_info": {"id": "mini"}},
        {"model_name": "o3", "litellm_params": {"model": "openai/o3", "organization": ["org-a", "org-b"]},
         "model_info": {"id": "o3"}},
        {"model_name": "plain", "litellm_params": {"model": "openai/o1", "organization": "org-z"}},
    ]}))
    .unwrap();
    let rows: Vec<(&str, &str, &str)> = config
        .deployments()
        .iter()
        .map(|d| {
            (
                d.model_name(),
                d.litellm_params()
                    .get("organization")
                    .unwrap()
                    .as_str()
                    .unwrap(),
                d.id().as_str(),
            )
        })
        .collect();
    // LiteLLM's id of the entry as written (the list included), suffixed per organization.
    let written = Deployment::from_value(json!({"model_name": "gpt-4o",
        "litellm_params": {"model": "openai/gpt-4o", "organization": ["org-a", "org-b"]}}))
    .unwrap();
    let gpt_a = format!("{}:org-a", written.id());
    let gpt_b = format!("{}:org-b", written.id());
    assert_eq!(
        rows[..5],
        [
            ("gpt-4o", "org-a", gpt_a.as_str()),
            ("gpt-4o", "org-b", gpt_b.as_str()),
            ("mini", "org-c", "mini"),
            ("o3", "org-a", "o3:org-a"),
            ("o3", "org-b", "o3:org-b"),
        ]
    );
    assert_eq!(rows[5].0, "plain");
    assert!(config.warnings().is_empty());
    // Both organizations serve the group.
    let router = Router::from_config(config);
    let ctx = RequestContext::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        seen.insert(router.route("gpt-4o", &ctx).unwrap().id().to_string());
    }
    assert_eq!(seen, [gpt_a, gpt_b].into());
}

#[test]
fn an_empty_organization_list_gives_no_deployment_and_a_bad_one_names_the_element() {
    let config = load(json!({"model_list": [
        {"model_name": "none", "litellm_params": {"model": "openai/gpt-4o", "organization": []}},
    ]}))
    .unwrap();
    assert!(config.deployments().is_empty());
    assert_eq!(
        config.warnings(),
        [ConfigWarning::EmptyOrganizationList {
            index: 0,
            model_name: Some("none".into())
        }]
    );
    let bad = json!({"model_list": [
        {"model_name": "g", "litellm_params": {"model": "openai/gpt-4o", "organization": ["org-a", 7]}},
    ]});
    let err = load(bad.clone()).unwrap_err();
    assert_eq!(err.field(), Some("litellm_params.organization[1]"));
    let config = lenient(bad);
    assert_eq!(config.deployments().len(), 1);
    assert_eq!(config.skipped().len(), 1);
}

#[test]
fn strategy_router_markers_are_refused_or_skipped_with_the_reason() {
    let config = json!({"model_list": [
        {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o"}},
        {"model_name": "smart", "litellm_params": {"model": "auto_router/complexity_router",
         "complexity_router_config": {"tiers": {}}}},
        {"model_name": "semantic", "litellm_params": {"model": "auto_router/my-router"}},
    ]});
    let err = load(config.clone()).unwrap_err();
    assert_eq!(err.index(), Some(1));
    assert_eq!(err.field(), Some("litellm_params.model"));
    assert!(err.to_string().contains("strategy-router marker"), "{err}");
    let config = lenient(config);
    assert_eq!(config.deployments().len(), 1);
    let reasons: Vec<(usize, &EntryError)> = config
        .skipped()
        .iter()
        .map(|s| (s.index, &s.error))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                1,
                &EntryError::StrategyMarker {
                    model: "auto_router/complexity_router".into()
                }
            ),
            (
                2,
                &EntryError::StrategyMarker {
                    model: "auto_router/my-router".into()
                }
            ),
        ]
    );
    let router = Router::from_config(config);
    assert!(
        router
            .route("smart", &RequestContext::new())
            .unwrap_err()
            .is_not_found()
    );
    // The builder refuses them too.
    let marker = Deployment::new("smart", "auto_router/quality_router").unwrap();
    assert!(matches!(
        Router::new([marker]),
        Err(ChangeError::StrategyMarker { id }) if id != DeploymentId::from("")
    ));
}

#[test]
fn every_routing_strategy_litellm_accepts_loads() {
    for (name, strategy) in [
        ("simple-shuffle", RoutingStrategy::SimpleShuffle),
        ("least-busy", RoutingStrategy::LeastBusy),
        ("latency-based-routing", RoutingStrategy::LowestLatency),
        ("usage-based-routing", RoutingStrategy::UsageBased),
        ("usage-based-routing-v2", RoutingStrategy::UsageBasedV2),
        ("cost-based-routing", RoutingStrategy::LowestCost),
        ("provider-budget-routing", RoutingStrategy::ProviderBudget),
        ("lar1", RoutingStrategy::Lar1),
    ] {
        let config = load(json!({"router_settings": {"routing_strategy": name}})).unwrap();
        assert_eq!(config.settings().routing_strategy, strategy, "{name}");
        assert!(config.warnings().is_empty());
    }
    let unknown = json!({"router_settings": {"routing_strategy": "fastest-first"}});
    let err = load(unknown.clone()).unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnsupportedStrategy { value, .. } if value == "fastest-first")
    );
    assert_eq!(
        lenient(unknown).warnings(),
        [ConfigWarning::UnsupportedStrategy {
            field: "router_settings.routing_strategy".into(),
            value: "fastest-first".into()
        }]
    );
}

#[test]
fn lar1_sends_a_request_without_metadata_to_litellms_tier() {
    let typed = |id: &str, tier: &str| {
        json!({"model_name": "agent", "litellm_params": {"model": format!("openai/{id}")},
               "model_info": {"id": id, "type": tier}})
    };
    let list = json!([
        typed("smart", "cloud-smart"),
        typed("fast", "cloud-fast"),
        typed("local", "local"),
        typed("local-2", "local"),
        typed("deep", "deep")
    ]);
    let ctx = RequestContext::new();
    for (args, want) in [
        (json!({}), "local"),
        (
            json!({"confidence_threshold_high": 0.4, "confidence_threshold_medium": 0.35}),
            "deep",
        ),
        (
            json!({"confidence_threshold_low": 0.6, "confidence_threshold_medium": 0.7,
                "confidence_threshold_high": 0.8}),
            "smart",
        ),
        (json!({"confidence_threshold_medium": 0.6}), "fast"),
    ] {
        let config = load(json!({"model_list": list, "router_settings":
            {"routing_strategy": "lar1", "routing_strategy_args": args}}))
        .unwrap();
        let router = Router::from_config(config);
        for _ in 0..5 {
            assert_eq!(
                router.route("agent", &ctx).unwrap().id().as_str(),
                want,
                "{args}"
            );
        }
    }
    // No deployment of the tier: the first eligible one.
    let config = load(
        json!({"model_list": [typed("a", "cloud-fast"), typed("b", "deep")],
        "router_settings": {"routing_strategy": "lar1"}}),
    )
    .unwrap();
    assert_eq!(
        Router::from_config(config)
            .route("agent", &ctx)
            .unwrap()
            .id()
            .as_str(),
        "a"
    );
    // LiteLLM refuses to start with thresholds out of order.
    let err = load(json!({"router_settings": {"routing_strategy": "lar1",
        "routing_strategy_args": {"confidence_threshold_low": 0.6}}}))
    .unwrap_err();
    assert_eq!(err.field(), Some("router_settings.routing_strategy_args"));
}
