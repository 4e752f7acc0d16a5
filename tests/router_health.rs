//! Cooldowns driven by reported outcomes (time from a ManualClock: no sleeps), and fallback plans.

use std::sync::Arc;
use std::time::Duration;

use modelroute::router::{
    FailureKind, FallbackKind, FallbackSource, Outcome, RequestContext, RouterSettings,
    RoutingStrategy,
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
    clock: Arc<ManualClock>,
    settings: RouterSettings,
    deployments: Vec<Deployment>,
) -> Router {
    Router::builder()
        .settings(settings)
        .deployments(deployments)
        .clock(clock)
        .seed(4)
        .build()
        .unwrap()
}

#[test]
fn cooldown_after_allowed_fails_then_recovery() {
    let clock = Arc::new(ManualClock::new());
    let settings = RouterSettings::default()
        .with_strategy(RoutingStrategy::RoundRobin)
        .with_cooldown(2, Duration::from_secs(30));
    let r = router(clock.clone(), settings, vec![d("g", "a"), d("g", "b")]);
    let a = "a".into();
    // allowed_fails = 2: the third counted failure cools "a" down.
    assert_eq!(
        r.report_id(&a, Outcome::failure(FailureKind::Status(500))),
        Some(false)
    );
    assert_eq!(
        r.report_id(&a, Outcome::failure(FailureKind::Status(429))),
        Some(false)
    );
    assert_eq!(
        r.report_id(&a, Outcome::failure(FailureKind::Timeout)),
        Some(true)
    );
    let h = r.health(&a).unwrap();
    assert!(h.is_cooling_down());
    assert_eq!(h.cooldown_left, Some(Duration::from_secs(30)));
    for _ in 0..10 {
        assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "b");
    }
    clock.advance(Duration::from_secs(29));
    assert_eq!(r.explain("g", &NONE).unwrap().reason.eligible(), 1);
    clock.advance(Duration::from_secs(1));
    assert!(!r.health(&a).unwrap().is_cooling_down());
    let ids: std::collections::HashSet<String> = (0..4)
        .map(|_| r.route("g", &NONE).unwrap().id().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "a is back");
}

#[test]
fn failures_that_are_the_requests_fault_do_not_cool_down() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        clock,
        RouterSettings::default().with_cooldown(0, Duration::from_secs(5)),
        vec![d("g", "a"), d("g", "b")],
    );
    let a = "a".into();
    for kind in [
        FailureKind::Status(400),
        FailureKind::Status(413),
        FailureKind::Status(422),
        FailureKind::Connection,
    ] {
        assert_eq!(
            r.report_id(&a, Outcome::failure(kind)),
            Some(false),
            "{kind:?}"
        );
    }
    assert!(r.route("g", &NONE).is_ok());
    for kind in [
        FailureKind::Status(401),
        FailureKind::Status(404),
        FailureKind::Status(408),
        FailureKind::Status(503),
        FailureKind::Other,
    ] {
        let r2 = router(
            Arc::new(ManualClock::new()),
            RouterSettings::default().with_cooldown(0, Duration::from_secs(5)),
            vec![d("g", "a"), d("g", "b")],
        );
        assert_eq!(
            r2.report_id(&a, Outcome::failure(kind)),
            Some(true),
            "{kind:?}"
        );
    }
}

#[test]
fn failures_further_apart_than_the_cooldown_time_do_not_add_up() {
    // LiteLLM counts allowed_fails in a counter that lives `cooldown_time` from its first failure.
    let clock = Arc::new(ManualClock::new());
    let settings = RouterSettings::default().with_cooldown(1, Duration::from_secs(5));
    let r = router(clock.clone(), settings, vec![d("g", "a"), d("g", "b")]);
    let a = "a".into();
    assert_eq!(
        r.report_id(&a, Outcome::failure(FailureKind::Status(500))),
        Some(false)
    );
    clock.advance(Duration::from_secs(6));
    assert_eq!(
        r.report_id(&a, Outcome::failure(FailureKind::Status(500))),
        Some(false)
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        r.report_id(&a, Outcome::failure(FailureKind::Status(500))),
        Some(true)
    );
}

#[test]
fn all_cooling_down_is_an_error_with_retry_after() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        clock.clone(),
        RouterSettings::default().with_cooldown(0, Duration::from_secs(10)),
        vec![d("g", "a"), d("g", "b")],
    );
    let route = r.route("g", &NONE).unwrap();
    assert!(r.report(&route, Outcome::failure(FailureKind::Status(503))));
    let other = if route.id().as_str() == "a" { "b" } else { "a" };
    clock.advance(Duration::from_secs(4));
    r.report_id(&other.into(), Outcome::failure(FailureKind::Status(503)))
        .unwrap();
    let err = r.route("g", &NONE).unwrap_err();
    assert!(
        matches!(
            err,
            RouteError::NoneAvailable {
                cooling_down: 2,
                total: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(6)));
    assert!(err.to_string().contains("retry after 6.000 s"), "{err}");
}

#[test]
fn wildcard_deployments_are_never_cooled_down() {
    let clock = Arc::new(ManualClock::new());
    let w = Deployment::new("openai/*", "openai/*")
        .unwrap()
        .with_id("w")
        .unwrap();
    let r = router(
        clock,
        RouterSettings::default().with_cooldown(0, Duration::from_secs(10)),
        vec![w],
    );
    let route = r.route("openai/gpt-nonexistent", &NONE).unwrap();
    assert!(!r.report(&route, Outcome::failure(FailureKind::Status(404))));
    assert!(r.route("openai/gpt-4o", &NONE).is_ok());
}

#[test]
fn disable_cooldowns() {
    let mut settings = RouterSettings::default().with_cooldown(0, Duration::from_secs(10));
    settings.disable_cooldowns = true;
    let r = router(
        Arc::new(ManualClock::new()),
        settings,
        vec![d("g", "a"), d("g", "b")],
    );
    assert_eq!(
        r.report_id(&"a".into(), Outcome::failure(FailureKind::Status(500))),
        Some(false)
    );
    assert!(!r.health(&"a".into()).unwrap().is_cooling_down());
}

#[test]
fn reporting_an_unknown_id_says_so() {
    let r = router(
        Arc::new(ManualClock::new()),
        RouterSettings::default(),
        vec![d("g", "a")],
    );
    assert_eq!(
        r.report_id(&"zzz".into(), Outcome::success(Duration::ZERO)),
        None
    );
    assert!(r.health(&"zzz".into()).is_none());
}

#[test]
fn fallback_plans_in_order() {
    let mut settings = RouterSettings::default()
        .with_alias("gpt4", "gpt-4o")
        .with_fallbacks("gpt-4o", ["claude", "gpt-4o", "llama", "claude"])
        .with_fallbacks("openai/*", ["azure-gpt"])
        .with_default_fallbacks(["cheap"]);
    settings.context_window_fallbacks = vec![("gpt-4o".into(), vec!["gpt-4o-128k".into()])];
    settings.num_retries = Some(2);
    let r = router(
        Arc::new(ManualClock::new()),
        settings,
        vec![
            d("gpt-4o", "a"),
            Deployment::new("openai/*", "openai/*")
                .unwrap()
                .with_id("w")
                .unwrap(),
        ],
    );
    let plan = r.fallbacks("gpt-4o");
    assert_eq!(
        plan.groups().collect::<Vec<_>>(),
        ["claude", "llama"],
        "itself and duplicates left out"
    );
    assert_eq!(plan.source(), FallbackSource::Group);
    assert_eq!(plan.num_retries(), Some(2));
    // By alias target.
    assert_eq!(
        r.fallbacks("gpt4").groups().collect::<Vec<_>>(),
        ["claude", "llama"]
    );
    // By the wildcard pattern the name resolves to (LiteLLM #36058: fallbacks for wildcard groups).
    assert_eq!(
        r.fallbacks("openai/o3").groups().collect::<Vec<_>>(),
        ["azure-gpt"]
    );
    // Otherwise default_fallbacks.
    let plan = r.fallbacks("mistral");
    assert_eq!(plan.source(), FallbackSource::Default);
    assert_eq!(plan.groups().collect::<Vec<_>>(), ["cheap"]);
    // Other kinds have their own lists and no defaults.
    let plan = r.fallbacks_for("gpt-4o", FallbackKind::ContextWindow);
    assert_eq!(plan.groups().collect::<Vec<_>>(), ["gpt-4o-128k"]);
    assert!(
        r.fallbacks_for("mistral", FallbackKind::ContentPolicy)
            .is_empty()
    );
}

#[test]
fn fallback_plan_is_capped_by_max_fallbacks_and_star_entry_applies() {
    let mut settings =
        RouterSettings::default().with_fallbacks("*", ["a", "b", "c", "d", "e", "f", "g"]);
    settings.max_fallbacks = 3;
    let r = router(Arc::new(ManualClock::new()), settings, vec![d("x", "x")]);
    let plan = r.fallbacks("x");
    assert_eq!(plan.source(), FallbackSource::Wildcard);
    assert_eq!(plan.groups().collect::<Vec<_>>(), ["a", "b", "c"]);
}
