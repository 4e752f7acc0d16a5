//! Loading LiteLLM configs: real ones (LiteLLM's own, copied under tests/fixtures/configs) and
//! real-looking ones, in JSON and YAML; errors that name file, entry and field; lenient loading.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

#[cfg(feature = "yaml")]
use modelroute::EntryError;
#[cfg(feature = "yaml")]
use modelroute::config::ConfigWarning;
use modelroute::config::RouterConfig;
use modelroute::router::{FailureKind, FallbackKind, RequestContext, RoutingStrategy};
use modelroute::{ConfigError, Router};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/configs")
        .join(name)
}

fn env() -> HashMap<String, String> {
    [
        "AZURE_EU_KEY",
        "AZURE_US_KEY",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "RESEARCH_KEY",
        "AZURE_API_KEY",
        "GROQ_API_KEY",
    ]
    .into_iter()
    .map(|k| (k.to_string(), format!("sk-test-{}", k.to_lowercase())))
    .collect()
}

fn load(name: &str) -> RouterConfig {
    let env = env();
    RouterConfig::loader()
        .env(&env)
        .load_file(fixture(name))
        .unwrap()
}

fn check_production(config: RouterConfig) {
    assert_eq!(config.deployments().len(), 9);
    assert!(config.skipped().is_empty());
    let s = config.settings();
    assert_eq!(s.routing_strategy, RoutingStrategy::SimpleShuffle);
    assert_eq!(s.allowed_fails, Some(2));
    assert_eq!(s.cooldown_time, Duration::from_secs(30));
    assert_eq!(
        s.num_retries,
        Some(2),
        "router_settings wins over litellm_settings"
    );
    assert!(s.enable_tag_filtering);
    assert!(s.model_group_alias["claude"].hidden);
    assert!(!s.model_group_alias["gpt4"].hidden);
    // Secrets resolved from the environment, never shown.
    let eu = &config.deployments()[0];
    assert_eq!(
        eu.litellm_params().api_key().unwrap().expose(),
        "sk-test-azure_eu_key"
    );
    assert!(!format!("{config:?}").contains("sk-test-"));

    let router = Router::builder().config(config).seed(3).build().unwrap();
    let none = RequestContext::new();
    // Tag filtering on, no tags: the deployments tagged "default".
    for _ in 0..20 {
        assert_eq!(
            router.route("gpt4", &none).unwrap().id().as_str(),
            "gpt4o-azure-us"
        );
    }
    let eu_ctx = RequestContext::new().with_tags(&["eu"]);
    assert_eq!(
        router.route("gpt-4o", &eu_ctx).unwrap().model(),
        "azure/gpt-4o-eu"
    );
    // Team model under its public name, for that team only.
    let research = RequestContext::new().with_team("research");
    assert_eq!(
        router.route("llama", &research).unwrap().model(),
        "openai/llama-3.3-70b"
    );
    // Unknown names go to default_fallbacks (gpt-4o); wildcards keep the suffix.
    assert!(
        router
            .route("llama", &none)
            .unwrap()
            .reason()
            .is_default_fallback()
    );
    assert_eq!(
        router.route("ollama/qwen3:8b", &none).unwrap().model(),
        "ollama_chat/qwen3:8b"
    );
    assert_eq!(
        router.route("openai/o4-mini", &none).unwrap().model(),
        "openai/o4-mini"
    );
    // Blocked.
    assert!(
        router
            .route("gpt-4o-legacy", &none)
            .unwrap_err()
            .is_unavailable()
    );
    // Fallback plans from both sections.
    assert_eq!(
        router.fallbacks("gpt4").groups().collect::<Vec<_>>(),
        ["claude-sonnet"]
    );
    assert_eq!(
        router.fallbacks("claude").groups().collect::<Vec<_>>(),
        ["gpt-4o"]
    );
    assert_eq!(
        router
            .fallbacks_for("gpt-4o", FallbackKind::ContextWindow)
            .groups()
            .collect::<Vec<_>>(),
        ["claude-sonnet"]
    );
}

#[test]
fn production_json_config() {
    check_production(load("production.json"));
}

#[cfg(feature = "yaml")]
#[test]
fn production_yaml_config_loads_like_its_json_twin() {
    let yaml = load("production.yaml");
    let json = load("production.json");
    assert_eq!(yaml.settings(), json.settings());
    let ids = |c: &RouterConfig| {
        c.deployments()
            .iter()
            .map(|d| d.id().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&yaml),
        ids(&json),
        "same LiteLLM ids from YAML and JSON"
    );
    assert_eq!(yaml.deployments(), json.deployments());
    check_production(yaml);
}

#[test]
fn unset_environment_variable_names_file_entry_and_field() {
    let err = RouterConfig::loader()
        .env(&|_: &str| None)
        .load_file(fixture("production.json"))
        .unwrap_err();
    assert_eq!(err.file(), Some(fixture("production.json").as_path()));
    assert_eq!(err.index(), Some(0));
    assert_eq!(err.model_name(), Some("gpt-4o"));
    assert_eq!(err.field(), Some("litellm_params.api_key"));
    let text = err.to_string();
    assert!(text.contains("production.json"), "{text}");
    assert!(text.contains("model_list[0]"), "{text}");
    assert!(text.contains("AZURE_EU_KEY"), "{text}");
}

#[cfg(feature = "yaml")]
#[test]
fn litellm_proxys_own_test_config_loads_strictly_with_its_routing_strategy() {
    let env = env();
    // LiteLLM's own proxy test config routes with usage-based-routing-v2: it loads strictly.
    let config = RouterConfig::loader()
        .env(&env)
        .load_file(fixture("proxy_server_config.yaml"))
        .unwrap();
    assert_eq!(
        config.settings().routing_strategy,
        RoutingStrategy::UsageBasedV2
    );
    assert!(config.warnings().is_empty());
    // A strategy LiteLLM does not know is an error naming file and field, or a warning when lenient.
    let text = std::fs::read_to_string(fixture("proxy_server_config.yaml"))
        .unwrap()
        .replace("usage-based-routing-v2", "fastest-routing");
    let err = RouterConfig::loader()
        .env(&env)
        .load_yaml(&text)
        .unwrap_err();
    assert!(
        matches!(&err, ConfigError::UnsupportedStrategy { value, .. } if value == "fastest-routing"),
        "{err:?}"
    );
    assert_eq!(err.field(), Some("router_settings.routing_strategy"));
    let lenient = RouterConfig::loader()
        .env(&env)
        .lenient(true)
        .load_yaml(&text)
        .unwrap();
    assert_eq!(
        lenient.warnings(),
        [ConfigWarning::UnsupportedStrategy {
            field: "router_settings.routing_strategy".into(),
            value: "fastest-routing".into()
        }]
    );
    assert_eq!(
        lenient.settings().routing_strategy,
        RoutingStrategy::SimpleShuffle
    );

    assert!(config.skipped().is_empty());
    assert_eq!(config.deployments().len(), 19);
    assert_eq!(config.deployments()[0].id().as_str(), "1");
    assert_eq!(config.settings().num_retries, Some(5));
    // `mock_timeout: True` is a YAML 1.1 boolean, `api_version: 2023-06-01-preview` a string.
    let bad = config
        .deployments()
        .iter()
        .find(|d| d.model_name() == "bad-model")
        .unwrap();
    assert_eq!(
        bad.litellm_params().get("mock_timeout"),
        Some(&serde_json::json!(true))
    );
    let router = config.into_router();
    let none = RequestContext::new();
    let alias = router
        .route("my-special-fake-model-alias-name", &none)
        .unwrap();
    assert_eq!(alias.group(), "fake-openai-endpoint-3");
    assert_eq!(
        router
            .route("anthropic/claude-3-5-haiku", &none)
            .unwrap()
            .model(),
        "anthropic/claude-3-5-haiku"
    );
    assert_eq!(
        router.route("groq/llama3-8b", &none).unwrap().model(),
        "groq/llama3-8b"
    );
    // "*" catches the rest, as the global wildcard of lowest precedence.
    let any = router.route("gpt-5", &none).unwrap();
    assert_eq!(any.model(), "openai/gpt-5");
    assert_eq!(any.group(), "*");
    assert_eq!(
        router
            .fallbacks_for("gpt-3.5-turbo", FallbackKind::ContextWindow)
            .groups()
            .collect::<Vec<_>>(),
        ["gpt-3.5-turbo-large"]
    );
}

#[cfg(feature = "yaml")]
#[test]
fn yaml_1_1_integers_and_booleans_like_pyyaml() {
    let config = load("azure_config_with_tpm.yaml");
    for d in config.deployments() {
        assert_eq!(d.litellm_params().tpm(), Some(80_000));
    }
    let config = load("aliases_config.yaml");
    let alias = &config.settings().model_group_alias;
    assert_eq!(alias["claude-2"].model, "gpt-4");
    assert!(
        alias["legacy-davinci"].hidden,
        "`hidden: yes` is true in YAML 1.1"
    );
    let router = config.into_router();
    assert_eq!(
        router
            .route("claude-2", &RequestContext::new())
            .unwrap()
            .model(),
        "ollama/llama2"
    );
}

#[cfg(feature = "yaml")]
#[test]
fn load_balancer_example_keeps_entry_level_keys() {
    let config = load("load_balancer.yaml");
    assert_eq!(config.deployments().len(), 4);
    let first = &config.deployments()[0];
    // tpm/rpm beside litellm_params are kept as written, not used for routing (as in LiteLLM).
    assert_eq!(first.extra().get("rpm"), Some(&serde_json::json!(3)));
    assert_eq!(first.litellm_params().rpm(), None);
    let router = config.into_router();
    let seen: std::collections::HashSet<String> = (0..200)
        .map(|_| {
            router
                .route("gpt-3.5-turbo", &RequestContext::new())
                .unwrap()
                .id()
                .to_string()
        })
        .collect();
    assert_eq!(seen.len(), 3);
}

#[cfg(feature = "yaml")]
#[test]
fn strict_loading_stops_at_the_first_invalid_entry() {
    let err = RouterConfig::from_file(fixture("invalid_entries.yaml")).unwrap_err();
    assert_eq!(err.index(), Some(1));
    assert_eq!(err.model_name(), Some("no-params"));
    assert_eq!(err.field(), Some("litellm_params"));
}

#[cfg(feature = "yaml")]
#[test]
fn lenient_loading_skips_invalid_entries_and_says_why() {
    let config = RouterConfig::loader()
        .lenient(true)
        .load_file(fixture("invalid_entries.yaml"))
        .unwrap();
    let kept: Vec<&str> = config
        .deployments()
        .iter()
        .map(|d| d.model_name())
        .collect();
    assert_eq!(kept, ["good", "dup", "fine"]);
    let skipped: Vec<(usize, Option<&str>, &str)> = config
        .skipped()
        .iter()
        .map(|s| (s.index, s.model_name.as_deref(), s.error.field()))
        .collect();
    assert_eq!(
        skipped,
        [
            (1, Some("no-params"), "litellm_params"),
            (2, Some("unset-env"), "litellm_params.api_key"),
            (3, Some("llm/*"), "litellm_params.model"),
            (5, Some("dup-2"), "model_info.id"),
            (6, Some("also-good"), "litellm_params.rpm"),
        ]
    );
    assert!(matches!(
        config.skipped()[3].error,
        EntryError::DuplicateId { first_index: 4, .. }
    ));
    assert!(
        config.skipped()[1]
            .to_string()
            .contains("MODELROUTE_TEST_UNSET_VARIABLE")
    );
}

#[test]
fn bad_settings_name_their_field() {
    let cases = [
        (
            r#"{"router_settings": {"allowed_fails": "three"}}"#,
            "router_settings.allowed_fails",
        ),
        (
            r#"{"router_settings": {"cooldown_time": -1}}"#,
            "router_settings.cooldown_time",
        ),
        (
            r#"{"litellm_settings": {"fallbacks": [{"gpt-4o": "claude"}]}}"#,
            "litellm_settings.fallbacks[0].gpt-4o",
        ),
        (
            r#"{"router_settings": {"default_fallbacks": ["a", 3]}}"#,
            "router_settings.default_fallbacks[1]",
        ),
        (
            r#"{"router_settings": {"model_group_alias": {"a": 1}}}"#,
            "router_settings.model_group_alias.a",
        ),
        (r#"{"model_list": {"model_name": "x"}}"#, "model_list"),
        (r#"[1, 2]"#, "(top level)"),
        (
            r#"{"router_settings": {"allowed_fails_policy": {"RateLimitErrorAllowedFail": 3}}}"#,
            "router_settings.allowed_fails_policy.RateLimitErrorAllowedFail",
        ),
        (
            r#"{"router_settings": {"allowed_fails_policy": {"TimeoutErrorAllowedFails": -1}}}"#,
            "router_settings.allowed_fails_policy.TimeoutErrorAllowedFails",
        ),
        (
            r#"{"router_settings": {"allowed_fails_policy": [1]}}"#,
            "router_settings.allowed_fails_policy",
        ),
        (
            r#"{"router_settings": {"tag_filtering_match_any": "no"}}"#,
            "router_settings.tag_filtering_match_any",
        ),
        (
            r#"{"router_settings": {"enable_pre_call_checks": 1}}"#,
            "router_settings.enable_pre_call_checks",
        ),
        (
            r#"{"router_settings": {"retry_policy": {"RateLimitErrorRetry": 3}}}"#,
            "router_settings.retry_policy.RateLimitErrorRetry",
        ),
        (
            r#"{"router_settings": {"retry_policy": {"TimeoutErrorRetries": 1.5}}}"#,
            "router_settings.retry_policy.TimeoutErrorRetries",
        ),
        (
            r#"{"router_settings": {"model_group_retry_policy": {"gpt-4o": {"DefaultRetries": -1}}}}"#,
            "router_settings.model_group_retry_policy.gpt-4o.DefaultRetries",
        ),
        (
            r#"{"router_settings": {"model_group_retry_policy": {"gpt-4o": 3}}}"#,
            "router_settings.model_group_retry_policy.gpt-4o",
        ),
        (
            r#"{"router_settings": {"retry_after": "5s"}}"#,
            "router_settings.retry_after",
        ),
    ];
    for (text, field) in cases {
        let err = RouterConfig::from_json(text).unwrap_err();
        assert_eq!(err.field(), Some(field), "{text}: {err}");
        assert!(err.to_string().contains(field), "{err}");
    }
}

#[test]
fn settings_defaults_and_empty_configs() {
    for text in ["{}", "null", r#"{"model_list": null}"#] {
        let config = RouterConfig::from_json(text).unwrap();
        assert!(config.deployments().is_empty());
        assert_eq!(
            config.settings().allowed_fails,
            None,
            "LiteLLM's default rule"
        );
        assert_eq!(config.settings().cooldown_time, Duration::from_secs(5));
    }
}

#[test]
fn syntax_errors_and_files() {
    let err = RouterConfig::from_json(r#"{"model_list": [}"#).unwrap_err();
    assert!(err.is_syntax(), "{err}");
    assert!(err.to_string().contains("line 1"), "{err}");
    let dir = std::env::temp_dir().join(format!("modelroute-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let txt = dir.join("config.txt");
    std::fs::write(&txt, "{}").unwrap();
    assert!(matches!(
        RouterConfig::from_file(&txt).unwrap_err(),
        ConfigError::UnknownFormat { .. }
    ));
    let missing = dir.join("missing.json");
    let err = RouterConfig::from_file(&missing).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert_eq!(err.file(), Some(missing.as_path()));
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{").unwrap();
    let err = RouterConfig::from_file(&bad).unwrap_err();
    assert!(err.is_syntax());
    assert_eq!(err.file(), Some(bad.as_path()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(feature = "yaml")]
#[test]
fn yaml_errors_never_echo_the_text() {
    let text =
        "model_list:\n  - model_name: x\n    litellm_params: {model: a, api_key: sk-live-abcdef\n";
    let err = RouterConfig::from_yaml(text).unwrap_err();
    assert!(err.is_syntax());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("sk-live-abcdef"), "{shown}");
    assert!(shown.contains("line 3"), "{shown}");
}

#[test]
fn invalid_values_are_described_by_type_never_by_value() {
    let text = r#"{"model_list": [{"model_name": "x", "litellm_params": {"model": "a", "api_key": 12345678}}]}"#;
    let err = RouterConfig::from_json(text).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("12345678"), "{shown}");
    assert_eq!(err.field(), Some("litellm_params.api_key"));
}

#[test]
fn rpm_and_tpm_that_are_nan_infinite_or_out_of_range_say_what_they_are() {
    use modelroute::{DeploymentError, EntryError, NumberProblem};
    let cases = [
        ("rpm", r#""NaN""#, NumberProblem::NotANumber, "NaN"),
        ("tpm", r#""nan""#, NumberProblem::NotANumber, "NaN"),
        ("rpm", r#""inf""#, NumberProblem::Infinite, "infinite"),
        ("tpm", r#""-Infinity""#, NumberProblem::Infinite, "infinite"),
        (
            "rpm",
            r#""1e309""#,
            NumberProblem::OutOfRange,
            "out of range",
        ),
        (
            "tpm",
            r#"" 1e309 ""#,
            NumberProblem::OutOfRange,
            "out of range",
        ),
        (
            "rpm",
            r#"-5"#,
            NumberProblem::Negative,
            "found a negative number",
        ),
        (
            "tpm",
            r#""-1e309""#,
            NumberProblem::OutOfRange,
            "out of range",
        ),
    ];
    for (key, value, problem, says) in cases {
        let text = format!(
            r#"{{"model_list": [{{"model_name": "m", "litellm_params": {{"model": "openai/m", "{key}": {value}}}}}]}}"#
        );
        let err = RouterConfig::from_json(&text).unwrap_err();
        let field = format!("litellm_params.{key}");
        assert_eq!(err.field(), Some(field.as_str()), "{text}: {err}");
        let ConfigError::Deployment { source, .. } = &err else {
            panic!("{text}: {err:?}");
        };
        let EntryError::Invalid(invalid) = source.as_ref() else {
            panic!("{text}: {err:?}");
        };
        assert!(
            matches!(invalid, DeploymentError::InvalidNumber { .. }),
            "{text}: {invalid:?}"
        );
        assert_eq!(invalid.number_problem(), Some(problem), "{text}");
        let shown = err.to_string();
        assert!(shown.contains(says), "{text}: {shown}");
        if problem != NumberProblem::Negative {
            assert!(!shown.contains("found a negative"), "{text}: {shown}");
        }
    }
}

#[cfg(feature = "yaml")]
#[test]
fn yaml_plain_inf_and_1e309_are_strings_reported_as_infinite_and_out_of_range() {
    use modelroute::NumberProblem;
    // PyYAML reads `inf` and `1e309` (no dot) as strings; LiteLLM would then parse them as floats.
    for (value, problem) in [
        ("inf", NumberProblem::Infinite),
        ("1e309", NumberProblem::OutOfRange),
        ("NaN", NumberProblem::NotANumber),
    ] {
        let text = format!(
            "model_list:\n  - model_name: m\n    litellm_params: {{model: openai/m, rpm: {value}}}\n"
        );
        let err = RouterConfig::from_yaml(&text).unwrap_err();
        let ConfigError::Deployment { source, .. } = &err else {
            panic!("{value}: {err:?}");
        };
        let EntryError::Invalid(invalid) = source.as_ref() else {
            panic!("{value}: {err:?}");
        };
        assert_eq!(invalid.number_problem(), Some(problem), "{value}: {err}");
    }
}

#[test]
fn cooldown_pre_call_and_tag_settings_load_as_litellm_names_them() {
    let config = RouterConfig::from_json(
        r#"{"router_settings": {
            "allowed_fails_policy": {"RateLimitErrorAllowedFails": 10, "BadRequestErrorAllowedFails": null,
                                     "ContentPolicyViolationErrorAllowedFails": 1},
            "enable_pre_call_checks": true,
            "tag_filtering_match_any": false,
            "cooldown_time": 0.5
        }}"#,
    )
    .unwrap();
    let s = config.settings();
    let policy = s.allowed_fails_policy.expect("a policy");
    assert_eq!(policy.allowed_fails(FailureKind::RateLimit), Some(10));
    assert_eq!(policy.allowed_fails(FailureKind::BadRequest), None);
    assert_eq!(
        policy.allowed_fails(FailureKind::ContentPolicyViolation),
        Some(1)
    );
    assert_eq!(s.allowed_fails, None, "LiteLLM's default rule for the rest");
    assert!(s.enable_pre_call_checks);
    assert!(!s.tag_filtering_match_any);
    assert_eq!(s.cooldown_time, Duration::from_millis(500));
    let defaults = RouterConfig::from_json("{}").unwrap();
    assert!(defaults.settings().tag_filtering_match_any);
    assert!(!defaults.settings().enable_pre_call_checks);
}

#[test]
fn retry_settings_load_as_litellm_names_them() {
    let config = RouterConfig::from_json(
        r#"{"router_settings": {
            "num_retries": 4,
            "retry_after": 1.5,
            "max_fallbacks": 2,
            "retry_policy": {"RateLimitErrorRetries": 5, "BadRequestErrorRetries": 0, "TimeoutErrorRetries": null},
            "model_group_retry_policy": {"gpt-4o": {"DefaultRetries": 1}}
        }, "litellm_settings": {"num_retries": 9}}"#,
    )
    .unwrap();
    let s = config.settings();
    assert_eq!(s.num_retries, Some(4), "router_settings wins");
    assert_eq!(s.retry_after, Duration::from_millis(1500));
    assert_eq!(s.max_fallbacks, 2);
    let policy = s.retry_policy.expect("a policy");
    assert_eq!(policy.retries(FailureKind::RateLimit), Some(5));
    assert_eq!(policy.retries(FailureKind::ContextWindowExceeded), Some(0));
    assert_eq!(policy.retries(FailureKind::Timeout), None);
    let group = &s.model_group_retry_policy["gpt-4o"];
    assert_eq!(group.retries(FailureKind::Timeout), Some(1));

    let defaults = RouterConfig::from_json("{}").unwrap();
    let d = defaults.settings();
    assert_eq!(
        d.num_retries, None,
        "unset: the attempt plan takes LiteLLM's 2"
    );
    assert_eq!(d.retry_after, Duration::ZERO);
    assert_eq!(d.max_fallbacks, 5);
    assert!(d.retry_policy.is_none() && d.model_group_retry_policy.is_empty());
}
