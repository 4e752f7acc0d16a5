//! Cooldowns, pre-call checks and tags through the public API (`route`, `report`, `explain`, `health`), with a
//! `ManualClock`. The rules themselves are checked against LiteLLM in tests/parity_cooldown.rs; this file covers
//! what the differential tests do not: reports through a `Route` (alias and group as the request named them),
//! the deliberate differences, and what the errors and explanations say.

use std::sync::Arc;
use std::time::Duration;

use modelroute::catalog::ModelCatalog;
use modelroute::router::{
    AllowedFailsPolicy, CandidateStatus, FailureKind, FallbackKind, Outcome, RequestContext,
    RouterSettings,
};
use modelroute::{Deployment, ManualClock, RouteError, Router};

const NONE: RequestContext<'static> = RequestContext::new();

fn d(name: &str, id: &str) -> Deployment {
    Deployment::new(name, format!("openai/{id}"))
        .unwrap()
        .with_id(id)
        .unwrap()
}

fn router(
    clock: &Arc<ManualClock>,
    settings: RouterSettings,
    deployments: Vec<Deployment>,
) -> Router {
    Router::builder()
        .settings(settings)
        .deployments(deployments)
        .clock(clock.clone())
        .seed(3)
        .build()
        .unwrap()
}

fn fail(status: u16) -> Outcome {
    Outcome::failure(FailureKind::Status(status))
}

#[test]
fn a_lone_deployment_is_spared_unless_the_request_had_somewhere_else_to_go() {
    let clock = Arc::new(ManualClock::new());
    let settings = RouterSettings::default()
        .with_cooldown(0, Duration::from_secs(10))
        .with_alias("s", "solo");
    let r = router(
        &clock,
        settings.clone(),
        vec![d("solo", "a"), d("other", "o")],
    );
    let route = r.route("solo", &NONE).unwrap();
    assert!(
        !r.report(&route, fail(500)),
        "nowhere else to go: no cooldown"
    );
    assert!(!r.report(&route, fail(401)));
    assert!(r.route("solo", &NONE).is_ok());

    // Fallbacks keyed by the name the request used (here an alias) make it worth cooling down.
    let r = router(
        &clock,
        settings.with_fallbacks("s", ["other"]),
        vec![d("solo", "a"), d("other", "o")],
    );
    let route = r.route("s", &NONE).unwrap();
    assert!(r.report(&route, fail(500)));
    let err = r.route("solo", &NONE).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
}

#[test]
fn a_router_cooldown_time_of_zero_disables_cooldowns() {
    // Deliberate difference: LiteLLM reads `cooldown_time: 0` as its default, 5 s.
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default().with_cooldown(0, Duration::ZERO),
        vec![d("g", "a"), d("g", "b")],
    );
    assert_eq!(r.report_id(&"a".into(), fail(429)), Some(false));
    assert!(!r.health(&"a".into()).unwrap().is_cooling_down());
    // A deployment's own cooldown_time still applies.
    let own = d("h", "c").with_info("cooldown_time", 2).unwrap();
    let r = router(
        &clock,
        RouterSettings::default().with_cooldown(0, Duration::ZERO),
        vec![own, d("h", "e")],
    );
    assert_eq!(r.report_id(&"c".into(), fail(429)), Some(true));
    assert_eq!(
        r.health(&"c".into()).unwrap().cooldown_left,
        Some(Duration::from_secs(2))
    );
}

#[test]
fn a_cooldown_decided_during_one_does_not_extend_it() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default().with_cooldown(0, Duration::from_secs(10)),
        vec![d("g", "a"), d("g", "b")],
    );
    let a = "a".into();
    assert_eq!(r.report_id(&a, fail(503)), Some(true));
    clock.advance(Duration::from_secs(6));
    // A request that was in flight fails too: LiteLLM keeps the first cooldown's end.
    assert_eq!(r.report_id(&a, fail(503)), Some(true));
    assert_eq!(
        r.health(&a).unwrap().cooldown_left,
        Some(Duration::from_secs(4))
    );
}

#[test]
fn health_shows_the_current_minute() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default(),
        vec![d("g", "a"), d("g", "b")],
    );
    let a = "a".into();
    for _ in 0..3 {
        r.report_id(&a, Outcome::success(Duration::from_millis(200)));
    }
    clock.advance(Duration::from_secs(30));
    r.report_id(&a, Outcome::failure(FailureKind::Connection));
    let h = r.health(&a).unwrap();
    assert_eq!((h.recent_successes, h.recent_failures), (3, 1));
    // The successes' minute began 30 s before the failures'.
    clock.advance(Duration::from_secs(30));
    let h = r.health(&a).unwrap();
    assert_eq!((h.recent_successes, h.recent_failures), (0, 1));
    clock.advance(Duration::from_secs(30));
    let h = r.health(&a).unwrap();
    assert_eq!((h.recent_successes, h.recent_failures), (0, 0));
    assert_eq!((h.successes, h.failures), (3, 1), "totals stay");
}

#[test]
fn an_allowed_fails_policy_counts_only_its_classes_and_the_rest_by_allowed_fails() {
    let clock = Arc::new(ManualClock::new());
    let policy = AllowedFailsPolicy::new().with(FailureKind::RateLimit, 2);
    let mut settings = RouterSettings::default().with_allowed_fails_policy(policy);
    settings.cooldown_time = Duration::from_secs(30);
    let r = router(&clock, settings, vec![d("g", "a"), d("g", "b")]);
    let a = "a".into();
    assert_eq!(r.report_id(&a, fail(429)), Some(false));
    assert_eq!(r.report_id(&a, fail(429)), Some(false));
    assert_eq!(r.report_id(&a, fail(429)), Some(true));
    let b = "b".into();
    // No entry for 500: allowed_fails, LiteLLM's 3.
    for _ in 0..3 {
        assert_eq!(r.report_id(&b, fail(500)), Some(false));
    }
    assert_eq!(r.report_id(&b, fail(500)), Some(true));
}

#[test]
fn pre_call_checks_say_which_deployments_are_too_small_and_where_to_go_next() {
    let clock = Arc::new(ManualClock::new());
    let mut settings = RouterSettings::default().with_pre_call_checks(true);
    settings.context_window_fallbacks = vec![("gpt".into(), vec!["gpt-long".into()])];
    let r = router(
        &clock,
        settings,
        vec![
            d("gpt", "short")
                .with_info("max_input_tokens", 8_192)
                .unwrap(),
            d("gpt", "long")
                .with_info("max_input_tokens", 128_000)
                .unwrap(),
            d("gpt-long", "longer")
                .with_info("max_input_tokens", 1_000_000)
                .unwrap(),
        ],
    );
    let ctx = RequestContext::new().with_input_tokens(20_000);
    assert_eq!(r.route("gpt", &ctx).unwrap().id().as_str(), "long");
    let explained = r.explain("gpt", &ctx).unwrap();
    assert_eq!(
        explained.candidates[0].availability,
        CandidateStatus::ContextWindowTooSmall(8_192)
    );
    assert_eq!(explained.reason.eligible(), 1);

    let ctx = RequestContext::new().with_input_tokens(200_000);
    let err = r.route("gpt", &ctx).unwrap_err();
    assert!(err.is_context_window_exceeded(), "{err}");
    assert!(matches!(
        err,
        RouteError::ContextWindowExceeded {
            input_tokens: 200_000,
            largest_window: Some(128_000),
            too_small: 2,
            ..
        }
    ));
    assert!(err.to_string().contains("200000 input tokens"), "{err}");
    let plan = r.fallbacks_for("gpt", FallbackKind::ContextWindow);
    let next = plan.groups().next().unwrap();
    assert_eq!(r.route(next, &ctx).unwrap().id().as_str(), "longer");

    // Without a stated token count, nothing is checked.
    assert!(r.route("gpt", &NONE).is_ok());
}

#[test]
fn pre_call_checks_take_the_window_from_the_catalog_when_model_info_has_none() {
    // LiteLLM's `get_router_model_info`: the deployment's `model_info` first, then the cost map entry of
    // its `base_model`, else of `litellm_params.model`.
    let catalog = ModelCatalog::from_json(
        r#"{"small-model": {"max_input_tokens": 4096, "litellm_provider": "openai"},
            "big-model": {"max_input_tokens": 128000, "litellm_provider": "openai"}}"#,
    )
    .unwrap();
    let deployments = || {
        vec![
            d("g", "small-model"),
            d("g", "own")
                .with_param("model", "openai/small-model")
                .unwrap()
                .with_info("max_input_tokens", 16_000)
                .unwrap(),
            Deployment::new("g", "azure/my-deployment")
                .unwrap()
                .with_id("based")
                .unwrap()
                .with_info("base_model", "small-model")
                .unwrap(),
            d("g", "unknown-model"),
            d("big", "big-model"),
        ]
    };
    let settings = RouterSettings::default().with_pre_call_checks(true);
    let r = Router::builder()
        .settings(settings.clone())
        .catalog(catalog)
        .deployments(deployments())
        .build()
        .unwrap();
    let ctx = RequestContext::new().with_input_tokens(8_000);
    let availability: Vec<(String, CandidateStatus)> = r
        .explain("g", &ctx)
        .unwrap()
        .candidates
        .iter()
        .map(|c| (c.deployment.id().to_string(), c.availability))
        .collect();
    assert_eq!(
        availability,
        [
            (
                "small-model".to_string(),
                CandidateStatus::ContextWindowTooSmall(4096)
            ),
            ("own".to_string(), CandidateStatus::Available),
            (
                "based".to_string(),
                CandidateStatus::ContextWindowTooSmall(4096)
            ),
            // Unknown to `model_info` and to the catalog: never left out.
            ("unknown-model".to_string(), CandidateStatus::Available),
        ]
    );
    let ctx = RequestContext::new().with_input_tokens(200_000);
    assert!(
        r.route("big", &ctx)
            .unwrap_err()
            .is_context_window_exceeded()
    );
    assert_eq!(
        r.route("big", &RequestContext::new().with_input_tokens(100_000))
            .unwrap()
            .id()
            .as_str(),
        "big-model"
    );

    // Without a catalog, only `model_info` says anything.
    let r = Router::builder()
        .settings(settings)
        .deployments(deployments())
        .build()
        .unwrap();
    assert!(r.route("big", &ctx).is_ok());
    let explained = r.explain("g", &RequestContext::new().with_input_tokens(8_000));
    assert_eq!(
        explained.unwrap().candidates[0].availability,
        CandidateStatus::Available
    );
}

#[test]
fn a_cooling_deployment_is_not_counted_as_too_small() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default()
            .with_pre_call_checks(true)
            .with_cooldown(0, Duration::from_secs(10)),
        vec![
            d("g", "small").with_info("max_input_tokens", 100).unwrap(),
            d("g", "large").with_info("max_input_tokens", 1000).unwrap(),
        ],
    );
    r.report_id(&"large".into(), fail(500)).unwrap();
    let ctx = RequestContext::new().with_input_tokens(500);
    // Like LiteLLM: the check runs on the deployments that are up, and the one that is up is too small.
    let err = r.route("g", &ctx).unwrap_err();
    assert!(err.is_context_window_exceeded(), "{err}");
    clock.advance(Duration::from_secs(10));
    assert_eq!(r.route("g", &ctx).unwrap().id().as_str(), "large");
    // When every deployment is cooling down, it is a cooldown, with its end.
    r.report_id(&"large".into(), fail(500)).unwrap();
    r.report_id(&"small".into(), fail(500)).unwrap();
    let err = r.route("g", &ctx).unwrap_err();
    assert!(err.is_unavailable() && err.retry_after().is_some(), "{err}");
}

#[test]
fn tags_match_all_when_match_any_is_off() {
    let clock = Arc::new(ManualClock::new());
    let tagged = |id: &str, tags: &[&str]| d("g", id).with_param("tags", tags.to_vec()).unwrap();
    let settings = RouterSettings::default()
        .with_tag_filtering(true)
        .with_tag_match_any(false);
    let r = router(
        &clock,
        settings,
        vec![tagged("eu-fast", &["eu", "fast"]), tagged("eu", &["eu"])],
    );
    let ctx = RequestContext::new().with_tags(&["eu", "fast"]);
    for _ in 0..5 {
        assert_eq!(r.route("g", &ctx).unwrap().id().as_str(), "eu-fast");
    }
    let ctx = RequestContext::new().with_tags(&["eu", "!fast"]);
    assert_eq!(r.route("g", &ctx).unwrap().id().as_str(), "eu");
    let err = r
        .route("g", &RequestContext::new().with_tags(&["eu", "slow"]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            RouteError::NoneAvailable {
                tag_mismatch: 2,
                ..
            }
        ),
        "{err}"
    );
}
