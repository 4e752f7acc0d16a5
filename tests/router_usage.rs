//! Usage limits, usage-based and cost-based routing, and latency samples, through the public API (time from a
//! `ManualClock`: no sleeps). The decisions themselves are checked against LiteLLM in `parity_usage.rs`; this file
//! checks what a caller relies on beyond them: the errors, concurrency, health snapshots, config keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

use modelroute::config::RouterConfig;
use modelroute::router::{
    CandidateStatus, FailureKind, Outcome, RequestContext, RouterSettings, RoutingStrategy, Usage,
    UsageLimit,
};
use modelroute::{Deployment, ManualClock, Router};

const NONE: RequestContext<'static> = RequestContext::new();
/// A minute boundary.
const T0: u64 = 1_700_000_040;

fn clock_at(second: u64) -> Arc<ManualClock> {
    Arc::new(ManualClock::starting_at(
        UNIX_EPOCH + Duration::from_secs(T0 + second),
    ))
}

fn d(id: &str) -> Deployment {
    Deployment::new("g", format!("openai/{id}"))
        .unwrap()
        .with_id(id)
        .unwrap()
}

fn router(
    clock: &Arc<ManualClock>,
    strategy: RoutingStrategy,
    deployments: Vec<Deployment>,
) -> Router {
    Router::builder()
        .settings(RouterSettings::default().with_strategy(strategy))
        .deployments(deployments)
        .clock(clock.clone())
        .seed(3)
        .build()
        .unwrap()
}

fn ok(tokens: u64) -> Outcome {
    Outcome::success(Duration::from_millis(100)).with_usage(Usage::new(tokens, 0))
}

#[test]
fn a_refusal_names_each_limit_and_retry_after_is_the_first_window_reset() {
    let clock = clock_at(15);
    let r = router(
        &clock,
        RoutingStrategy::UsageBasedV2,
        vec![
            d("a").with_param("rpm", 1).unwrap(),
            d("b").with_param("tpm", 100).unwrap(),
        ],
    );
    r.report_id(&"b".into(), ok(95)).unwrap();
    assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "a");
    let err = r
        .route("g", &RequestContext::new().with_input_tokens(6))
        .unwrap_err();
    assert!(err.is_unavailable() && err.is_rate_limited(), "{err:?}");
    let limits: Vec<(String, UsageLimit)> = err
        .limits_reached()
        .iter()
        .map(|l| (l.deployment.to_string(), l.limit))
        .collect();
    assert_eq!(
        limits,
        [
            ("a".to_string(), UsageLimit::Rpm { limit: 1, used: 1 }),
            (
                "b".to_string(),
                UsageLimit::Tpm {
                    limit: 100,
                    used: 95,
                    requested: 6
                }
            ),
        ]
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(45)));
    // 5 input tokens still fit in b's minute.
    let route = r
        .route("g", &RequestContext::new().with_input_tokens(5))
        .unwrap();
    assert_eq!(route.id().as_str(), "b");
    clock.advance(Duration::from_secs(45));
    assert!(
        r.route("g", &RequestContext::new().with_input_tokens(6))
            .is_ok()
    );
}

#[test]
fn a_deployment_at_its_limit_is_explained_as_such() {
    let clock = clock_at(0);
    let r = router(
        &clock,
        RoutingStrategy::UsageBasedV2,
        vec![d("a").with_param("rpm", 1).unwrap(), d("b")],
    );
    r.report_id(&"b".into(), ok(10)).unwrap();
    assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "a");
    let explained = r.explain("g", &NONE).unwrap();
    let status = |id: &str| {
        explained
            .candidates
            .iter()
            .find(|c| c.deployment.id().as_str() == id)
            .unwrap()
            .availability
    };
    assert_eq!(
        status("a"),
        CandidateStatus::AtLimit(UsageLimit::Rpm { limit: 1, used: 1 })
    );
    assert_eq!(status("b"), CandidateStatus::Available);
}

#[test]
fn concurrent_routes_never_pass_rpm_under_usage_based_routing_v2() {
    let clock = clock_at(0);
    let r = router(
        &clock,
        RoutingStrategy::UsageBasedV2,
        vec![
            d("a").with_param("rpm", 50).unwrap(),
            d("b").with_param("rpm", 70).unwrap(),
        ],
    );
    let routed = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100 {
                    if r.route("g", &NONE).is_ok() {
                        routed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    assert_eq!(routed.load(Ordering::Relaxed), 120);
    assert_eq!(r.health(&"a".into()).unwrap().requests_this_minute, 50);
    assert_eq!(r.health(&"b".into()).unwrap().requests_this_minute, 70);
}

#[test]
fn concurrent_routes_never_hold_more_than_max_parallel_requests() {
    let clock = clock_at(0);
    let r = router(
        &clock,
        RoutingStrategy::LeastBusy,
        vec![
            d("a").with_param("max_parallel_requests", 3).unwrap(),
            d("b").with_param("max_parallel_requests", 2).unwrap(),
        ],
    );
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..200 {
                    let held: Vec<_> = (0..6).filter_map(|_| r.route("g", &NONE).ok()).collect();
                    let a = held.iter().filter(|h| h.id().as_str() == "a").count();
                    let b = held.len() - a;
                    assert!(a <= 3 && b <= 2, "{a} {b}");
                    let h = (
                        r.health(&"a".into()).unwrap(),
                        r.health(&"b".into()).unwrap(),
                    );
                    assert!(h.0.in_flight <= 3 && h.1.in_flight <= 2, "{h:?}");
                }
            });
        }
    });
    let held: Vec<_> = (0..5).map(|_| r.route("g", &NONE).unwrap()).collect();
    let err = r.route("g", &NONE).unwrap_err();
    assert!(err.is_rate_limited());
    assert_eq!(
        err.retry_after(),
        None,
        "a slot frees when a route is dropped"
    );
    assert!(
        err.to_string().contains("max_parallel_requests 3/3"),
        "{err}"
    );
    drop(held);
    assert!(r.route("g", &NONE).is_ok());
}

#[test]
fn rpm_and_tpm_are_weights_not_limits_under_simple_shuffle() {
    let clock = clock_at(0);
    let r = router(
        &clock,
        RoutingStrategy::SimpleShuffle,
        vec![d("a").with_param("tpm", 10).unwrap()],
    );
    for _ in 0..5 {
        let route = r
            .route("g", &RequestContext::new().with_input_tokens(1000))
            .unwrap();
        r.report(&route, ok(1000));
    }
    // ... but tpm 10 still derives max_parallel_requests = 1 (LiteLLM: tpm / 1000 * 6, at least 1).
    let _held = r.route("g", &NONE).unwrap();
    assert!(r.route("g", &NONE).unwrap_err().is_rate_limited());
}

#[test]
fn when_the_lowest_order_is_at_its_limit_the_next_order_serves() {
    let clock = clock_at(0);
    let r = router(
        &clock,
        RoutingStrategy::UsageBasedV2,
        vec![
            d("primary")
                .with_param("order", 1)
                .unwrap()
                .with_param("rpm", 2)
                .unwrap(),
            d("backup").with_param("order", 2).unwrap(),
        ],
    );
    let picks: Vec<String> = (0..4)
        .map(|_| r.route("g", &NONE).unwrap().id().to_string())
        .collect();
    assert_eq!(picks, ["primary", "primary", "backup", "backup"]);
    clock.advance(Duration::from_secs(60));
    assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "primary");
}

#[test]
fn a_short_ttl_forgets_usage_within_the_minute() {
    let clock = clock_at(0);
    let r = Router::builder()
        .settings(
            RouterSettings::default()
                .with_strategy(RoutingStrategy::UsageBasedV2)
                .with_strategy_ttl(Duration::from_secs(10)),
        )
        .deployment(d("a").with_param("rpm", 1).unwrap())
        .clock(clock.clone())
        .build()
        .unwrap();
    assert!(r.route("g", &NONE).is_ok());
    let err = r.route("g", &NONE).unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
    clock.advance(Duration::from_secs(10));
    assert!(r.route("g", &NONE).is_ok());
}

#[test]
fn usage_based_routing_spreads_tokens_and_health_shows_the_minute() {
    let clock = clock_at(0);
    let r = router(
        &clock,
        RoutingStrategy::UsageBased,
        vec![d("a"), d("b"), d("c")],
    );
    let mut tokens = std::collections::HashMap::new();
    for i in 0..30u64 {
        let route = r.route("g", &NONE).unwrap();
        let used = 100 + (i * 37) % 50;
        *tokens.entry(route.id().to_string()).or_insert(0u64) += used;
        r.report(&route, ok(used));
    }
    let spread: Vec<u64> = ["a", "b", "c"].iter().map(|id| tokens[*id]).collect();
    let (min, max) = (spread.iter().min().unwrap(), spread.iter().max().unwrap());
    assert!(max - min <= 150, "{spread:?}");
    let h = r.health(&"a".into()).unwrap();
    assert_eq!(h.tokens_this_minute, tokens["a"]);
    assert!(h.successes_this_minute >= 9, "{h:?}");
    clock.advance(Duration::from_secs(60));
    assert_eq!(r.health(&"a".into()).unwrap().tokens_this_minute, 0);
}

#[test]
fn changing_only_limits_or_prices_keeps_the_minutes_usage() {
    let clock = clock_at(0);
    let r = router(
        &clock,
        RoutingStrategy::UsageBasedV2,
        vec![d("a").with_param("rpm", 5).unwrap()],
    );
    for _ in 0..3 {
        r.route("g", &NONE).unwrap();
    }
    r.reconcile([d("a")
        .with_param("rpm", 3)
        .unwrap()
        .with_param("input_cost_per_token", 1e-6)
        .unwrap()])
        .unwrap();
    assert!(r.route("g", &NONE).unwrap_err().is_rate_limited());
    // A different endpoint is another deployment: its usage starts again.
    r.reconcile([d("a")
        .with_param("rpm", 3)
        .unwrap()
        .with_param("api_base", "https://other.example/v1")
        .unwrap()])
        .unwrap();
    assert!(r.route("g", &NONE).is_ok());
}

#[test]
fn latency_routing_compares_time_to_first_token_for_streams() {
    let clock = clock_at(0);
    let r = router(&clock, RoutingStrategy::LowestLatency, vec![d("a"), d("b")]);
    // a answers fast overall but starts streaming late; b the reverse.
    r.report_id(
        &"a".into(),
        Outcome::success(Duration::from_millis(1000))
            .with_usage(Usage::new(10, 100))
            .with_time_to_first_token(Duration::from_millis(800)),
    );
    r.report_id(
        &"b".into(),
        Outcome::success(Duration::from_millis(4000))
            .with_usage(Usage::new(10, 100))
            .with_time_to_first_token(Duration::from_millis(200)),
    );
    for _ in 0..5 {
        assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "a");
        let stream = RequestContext::new().with_stream(true);
        assert_eq!(r.route("g", &stream).unwrap().id().as_str(), "b");
    }
    let h = r.health(&"a".into()).unwrap();
    assert_eq!(
        h.average_latency,
        Some(Duration::from_millis(10)),
        "per token"
    );
    assert_eq!(h.time_to_first_token, Some(Duration::from_millis(800)));
    // A timeout is LiteLLM's 1,000 s sample.
    r.report_id(&"a".into(), Outcome::failure(FailureKind::Timeout));
    assert_eq!(
        r.health(&"a".into()).unwrap().average_latency,
        Some(Duration::from_secs_f64((0.01 + 1000.0) / 2.0))
    );
    assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "b");
}

#[test]
fn a_config_sets_the_new_strategies_and_their_arguments() {
    let config = RouterConfig::from_json(
        r#"{"model_list": [{"model_name": "g", "litellm_params": {"model": "openai/a"}}],
            "router_settings": {"routing_strategy": "cost-based-routing",
                                "routing_strategy_args": {"ttl": 30, "lowest_latency_buffer": 0.2, "ttft_percentile": 0.9},
                                "default_max_parallel_requests": 4}}"#,
    )
    .unwrap();
    let s = config.settings();
    assert_eq!(s.routing_strategy, RoutingStrategy::LowestCost);
    assert_eq!(s.routing_strategy_ttl, Some(Duration::from_secs(30)));
    assert_eq!(s.ttft_percentile, Some(0.9));
    assert_eq!(s.default_max_parallel_requests, Some(4));
    for name in [
        "usage-based-routing",
        "usage-based-routing-v2",
        "cost-based-routing",
    ] {
        let text =
            format!(r#"{{"model_list": [], "router_settings": {{"routing_strategy": "{name}"}}}}"#);
        let config = RouterConfig::from_json(&text).unwrap();
        assert_eq!(config.settings().routing_strategy.as_str(), name);
    }
    let err = RouterConfig::from_json(
        r#"{"model_list": [], "router_settings": {"routing_strategy_args": {"ttft_percentile": 1.5}}}"#,
    )
    .unwrap_err();
    assert_eq!(
        err.field(),
        Some("router_settings.routing_strategy_args.ttft_percentile")
    );
}

#[test]
fn a_failure_carries_no_usage_and_counts_no_tokens() {
    let outcome = Outcome::failure(FailureKind::Status(500)).with_usage(Usage::new(10, 10));
    assert_eq!(outcome.usage(), None);
    let clock = clock_at(0);
    let r = router(&clock, RoutingStrategy::UsageBasedV2, vec![d("a")]);
    let route = r.route("g", &NONE).unwrap();
    r.report(&route, outcome);
    let h = r.health(&"a".into()).unwrap();
    assert_eq!(
        (
            h.requests_this_minute,
            h.successes_this_minute,
            h.tokens_this_minute
        ),
        (1, 0, 0)
    );
}

#[test]
fn a_refusal_counts_the_deployments_too_small_apart_from_those_at_a_limit() {
    let clock = clock_at(0);
    let r = Router::builder()
        .settings(
            RouterSettings::default()
                .with_strategy(RoutingStrategy::UsageBasedV2)
                .with_pre_call_checks(true),
        )
        .deployments([
            d("small").with_info("max_input_tokens", 100).unwrap(),
            d("a").with_param("rpm", 1).unwrap(),
        ])
        .clock(clock.clone())
        .build()
        .unwrap();
    let long = RequestContext::new().with_input_tokens(500);
    assert_eq!(r.route("g", &long).unwrap().id().as_str(), "a");
    // `a` fits but is at its limit, `small` is too small: a rate limit (LiteLLM's 429), not a context
    // window error, and the error counts each.
    let err = r.route("g", &long).unwrap_err();
    assert!(
        err.is_rate_limited() && !err.is_context_window_exceeded(),
        "{err}"
    );
    assert!(
        matches!(
            err,
            modelroute::RouteError::NoneAvailable {
                total: 2,
                context_window: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.limits_reached().len(), 1);
    let shown = err.to_string();
    assert!(
        shown.contains("1 too small for the request") && shown.contains("1 at a usage limit"),
        "{shown}"
    );
    // A short request still fits the small one.
    let short = RequestContext::new().with_input_tokens(50);
    assert_eq!(r.route("g", &short).unwrap().id().as_str(), "small");
}

#[test]
fn a_deployment_its_tags_leave_out_is_a_tag_mismatch_even_at_its_limit() {
    let clock = clock_at(0);
    let r = Router::builder()
        .settings(
            RouterSettings::default()
                .with_strategy(RoutingStrategy::UsageBasedV2)
                .with_tag_filtering(true),
        )
        .deployments([
            d("eu").with_param("tags", ["eu"]).unwrap(),
            d("us")
                .with_param("tags", ["us"])
                .unwrap()
                .with_param("rpm", 1)
                .unwrap(),
        ])
        .clock(clock.clone())
        .build()
        .unwrap();
    let us = RequestContext::new().with_tags(&["us"]);
    assert_eq!(r.route("g", &us).unwrap().id().as_str(), "us");
    let eu = RequestContext::new().with_tags(&["eu"]);
    let explained = r.explain("g", &eu).unwrap();
    assert_eq!(
        explained.candidates[1].availability,
        CandidateStatus::TagMismatch
    );
    // For a `us` request, the limit is what keeps it out.
    let err = r.route("g", &us).unwrap_err();
    assert!(err.is_rate_limited(), "{err}");
    assert!(
        matches!(
            err,
            modelroute::RouteError::NoneAvailable {
                tag_mismatch: 1,
                ..
            }
        ),
        "{err:?}"
    );
}
