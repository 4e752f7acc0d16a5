//! The attempt plan (`Router::attempts`) through the public API, with a `ManualClock` and a fixed random
//! source: how many times each class of failure is retried, the delays, which fallback list a failure takes,
//! `max_fallbacks`, `default_fallbacks`, the final error, and the reports the plan makes to the router. The
//! sequences themselves are checked against LiteLLM in tests/parity_attempts.rs.

use std::sync::Arc;
use std::time::Duration;

use modelroute::attempt::{AttemptResult, Decision, Failure, Next, RetryPolicy};
use modelroute::router::RouterSettings;
use modelroute::router::{FailureKind, FallbackKind, Outcome, RandomSource, RequestContext};
use modelroute::{AttemptError, Deployment, ManualClock, Router};

const NONE: RequestContext<'static> = RequestContext::new();

/// Always the middle of the range: every jitter is exactly half of LiteLLM's 0.75 s.
#[derive(Debug)]
struct Half;
impl RandomSource for Half {
    fn next_u64(&self) -> u64 {
        1 << 63
    }
}
const JITTER: Duration = Duration::from_millis(375);

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
        .rng(Arc::new(Half))
        .build()
        .unwrap()
}

/// What one run of a plan did.
#[derive(Debug)]
struct Run {
    /// `group/deployment` of every route tried.
    tried: Vec<String>,
    /// Every wait asked for.
    waits: Vec<Duration>,
    result: Result<Vec<modelroute::Attempt>, AttemptError>,
}

impl Run {
    fn groups(&self) -> Vec<&str> {
        let mut groups: Vec<&str> = Vec::new();
        for t in &self.tried {
            let g = t.split_once('/').unwrap().0;
            if groups.last() != Some(&g) {
                groups.push(g);
            }
        }
        groups
    }
}

/// Drives a plan to its end: `answer` says how each deployment answers; waits advance the clock.
fn drive(
    router: &Router,
    clock: &ManualClock,
    model: &str,
    mut answer: impl FnMut(&str) -> Result<Duration, Failure>,
) -> Run {
    let mut plan = router.attempts(model, &NONE);
    let (mut tried, mut waits) = (Vec::new(), Vec::new());
    for _ in 0..1000 {
        match plan.next_step() {
            Next::Try(route) => {
                tried.push(format!("{}/{}", route.group(), route.id()));
                match answer(route.id().as_str()) {
                    Ok(latency) => {
                        let result = Ok(plan.succeeded(route, Outcome::success(latency)));
                        return Run {
                            tried,
                            waits,
                            result,
                        };
                    }
                    Err(failure) => drop(plan.failed(route, failure)),
                }
            }
            Next::Wait(delay) => {
                waits.push(delay);
                clock.advance(delay);
            }
            Next::Stop(error) => {
                return Run {
                    tried,
                    waits,
                    result: Err(error),
                };
            }
        }
    }
    panic!("the plan did not end: tried {tried:?}");
}

fn always(kind: FailureKind) -> impl FnMut(&str) -> Result<Duration, Failure> {
    move |_| Err(Failure::new(kind))
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn a_lone_deployment_is_retried_num_retries_times_with_exponential_backoff_and_jitter() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default().with_num_retries(3),
        vec![d("g", "a")],
    );
    let run = drive(&r, &clock, "g", always(FailureKind::InternalServer));
    assert_eq!(run.tried, ["g/a"; 4]);
    assert_eq!(
        run.waits,
        [secs(0.5) + JITTER, secs(1.0) + JITTER, secs(2.0) + JITTER],
        "0.5 s doubling, plus the jitter; no wait after the last attempt"
    );
    let error = run.result.unwrap_err();
    assert_eq!(error.attempts().len(), 4);
    assert_eq!(error.failure(), Some(FailureKind::InternalServer));
}

#[test]
fn the_backoff_is_capped_at_eight_seconds_and_floored_by_retry_after() {
    let clock = Arc::new(ManualClock::new());
    let settings = RouterSettings::default().with_num_retries(6);
    let r = router(&clock, settings.clone(), vec![d("g", "a")]);
    let run = drive(&r, &clock, "g", always(FailureKind::ServiceUnavailable));
    let base: Vec<Duration> = run.waits.iter().map(|w| *w - JITTER).collect();
    assert_eq!(base, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0].map(secs));

    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        settings.with_num_retries(3).with_retry_after(secs(3.0)),
        vec![d("g", "a")],
    );
    let run = drive(&r, &clock, "g", always(FailureKind::ServiceUnavailable));
    assert_eq!(run.waits, [secs(3.0) + JITTER; 3]);
}

#[test]
fn the_servers_retry_after_is_obeyed_up_to_a_minute() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default().with_num_retries(2),
        vec![d("g", "a")],
    );
    let mut n = 0;
    let run = drive(&r, &clock, "g", |_| {
        n += 1;
        let retry_after = if n == 1 { 7 } else { 61 };
        Err(Failure::new(FailureKind::RateLimit)
            .with_retry_after(Some(Duration::from_secs(retry_after))))
    });
    assert_eq!(run.tried.len(), 3);
    assert_eq!(
        run.waits,
        [secs(7.0) + JITTER, secs(1.0) + JITTER],
        "7 s as the server asked; 61 s is ignored for the backoff"
    );
    assert_eq!(
        run.result.unwrap_err().retry_after(),
        Some(Duration::from_secs(61))
    );
}

#[test]
fn a_retry_goes_at_once_to_another_deployment_while_one_is_healthy() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default().with_num_retries(2),
        vec![d("g", "a"), d("g", "b"), d("g", "c")],
    );
    let run = drive(&r, &clock, "g", always(FailureKind::InternalServer));
    assert!(run.waits.is_empty(), "{:?}", run.waits);
    let mut ids: Vec<&str> = run.tried.iter().map(|t| &t[2..]).collect();
    ids.sort();
    assert_eq!(
        ids,
        ["a", "b", "c"],
        "never the same deployment twice while another is left"
    );
}

#[test]
fn the_request_s_own_faults_are_not_retried_without_a_policy() {
    for (kind, attempts) in [
        (FailureKind::BadRequest, 1),
        (FailureKind::NotFound, 1),
        (FailureKind::Status(422), 1),
        (FailureKind::Status(418), 1),
        (FailureKind::ContextWindowExceeded, 1),
        (FailureKind::ContentPolicyViolation, 1),
        // A lone deployment with a bad key: no other deployment to try.
        (FailureKind::Authentication, 1),
        (FailureKind::Status(403), 3),
        (FailureKind::Status(409), 3),
        (FailureKind::Timeout, 3),
        (FailureKind::BadGateway, 3),
        (FailureKind::Connection, 3),
        (FailureKind::RateLimit, 3),
    ] {
        let clock = Arc::new(ManualClock::new());
        let r = router(&clock, RouterSettings::default(), vec![d("g", "a")]);
        let run = drive(&r, &clock, "g", always(kind));
        assert_eq!(run.tried.len(), attempts, "{kind:?}");
    }
    // With a second deployment, an authentication error is worth retrying elsewhere; a 401 cools a
    // deployment down at once, so once both failed nothing healthy is left and the retries stop.
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default(),
        vec![d("g", "a"), d("g", "b")],
    );
    let run = drive(&r, &clock, "g", always(FailureKind::Authentication));
    assert_eq!(run.tried.len(), 2);
    assert_eq!(run.result.unwrap_err().attempts().len(), 2);
}

#[test]
fn num_retries_defaults_to_litellms_two() {
    let clock = Arc::new(ManualClock::new());
    let r = router(&clock, RouterSettings::default(), vec![d("g", "a")]);
    let run = drive(&r, &clock, "g", always(FailureKind::InternalServer));
    assert_eq!(run.tried.len(), 3);
    let r = router(
        &clock,
        RouterSettings::default().with_num_retries(0),
        vec![d("g", "a")],
    );
    assert_eq!(
        drive(&r, &clock, "g", always(FailureKind::InternalServer))
            .tried
            .len(),
        1
    );
}

#[test]
fn a_retry_policy_sets_the_retries_of_each_class_and_overrides_the_checks() {
    let policy = RetryPolicy::new()
        .with(FailureKind::RateLimit, 4)
        .with(FailureKind::BadRequest, 1)
        .with(FailureKind::Timeout, 0);
    let settings = RouterSettings::default()
        .with_num_retries(2)
        .with_retry_policy(policy)
        .with_model_group_retry_policy("h", RetryPolicy::new().with_default(5));
    for (group, kind, attempts) in [
        ("g", FailureKind::RateLimit, 5),
        // A policy count is obeyed even for a class LiteLLM would not otherwise retry.
        ("g", FailureKind::BadRequest, 2),
        ("g", FailureKind::ContextWindowExceeded, 2),
        ("g", FailureKind::Timeout, 1),
        // No entry and no DefaultRetries: num_retries, with the usual checks.
        ("g", FailureKind::InternalServer, 3),
        ("g", FailureKind::NotFound, 1),
        // The group's own policy replaces the router's.
        ("h", FailureKind::RateLimit, 6),
        ("h", FailureKind::NotFound, 6),
    ] {
        let clock = Arc::new(ManualClock::new());
        let r = router(&clock, settings.clone(), vec![d("g", "a"), d("h", "b")]);
        let run = drive(&r, &clock, group, always(kind));
        // A 404 cools even a lone deployment down at once: some of `h`'s retries find no deployment, and
        // count as attempts all the same.
        let error = run.result.unwrap_err();
        assert_eq!(error.attempts().len(), attempts, "{group} {kind:?}");
    }
}

#[test]
fn the_first_failure_fixes_the_budget_of_a_group() {
    let settings = RouterSettings::default()
        .with_retry_policy(RetryPolicy::new().with(FailureKind::RateLimit, 3));
    let clock = Arc::new(ManualClock::new());
    let r = router(&clock, settings, vec![d("g", "a")]);
    let mut n = 0;
    let run = drive(&r, &clock, "g", |_| {
        n += 1;
        Err(Failure::new(if n == 1 {
            FailureKind::RateLimit
        } else {
            FailureKind::BadRequest
        }))
    });
    assert_eq!(
        run.tried.len(),
        4,
        "a rate limit first: three retries, whatever follows"
    );
}

#[test]
fn each_class_takes_its_own_fallback_list() {
    let settings = RouterSettings::default()
        .with_num_retries(0)
        .with_fallbacks("g", ["general"])
        .with_context_window_fallbacks("g", ["bigger"])
        .with_content_policy_fallbacks("g", ["lenient"]);
    let groups = ["g", "general", "bigger", "lenient"];
    for (kind, expected) in [
        (FailureKind::ContextWindowExceeded, "bigger"),
        (FailureKind::ContentPolicyViolation, "lenient"),
        (FailureKind::InternalServer, "general"),
        (FailureKind::RateLimit, "general"),
        (FailureKind::BadRequest, "general"),
    ] {
        let clock = Arc::new(ManualClock::new());
        let deployments = groups.iter().map(|g| d(g, &format!("{g}-1"))).collect();
        let r = router(&clock, settings.clone(), deployments);
        let run = drive(&r, &clock, "g", |id| match id {
            "g-1" => Err(Failure::new(kind)),
            _ => Ok(Duration::from_millis(10)),
        });
        assert_eq!(run.groups(), ["g", expected], "{kind:?}");
        let attempts = run.result.unwrap();
        assert!(attempts.last().unwrap().is_success());
    }
}

#[test]
fn a_context_window_error_takes_the_general_fallbacks_when_no_context_window_list_is_set() {
    let settings = RouterSettings::default()
        .with_num_retries(0)
        .with_fallbacks("g", ["general"]);
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        settings.clone(),
        vec![d("g", "a"), d("general", "b")],
    );
    let run = drive(&r, &clock, "g", |id| match id {
        "a" => Err(Failure::new(FailureKind::ContextWindowExceeded)),
        _ => Ok(Duration::ZERO),
    });
    assert_eq!(run.groups(), ["g", "general"]);

    // A context-window list without an entry for the group ends the request: the general list is not
    // consulted (LiteLLM raises the original error).
    let r = router(
        &clock,
        settings.with_context_window_fallbacks("other", ["general"]),
        vec![d("g", "a"), d("general", "b")],
    );
    let run = drive(&r, &clock, "g", |id| match id {
        "a" => Err(Failure::new(FailureKind::ContextWindowExceeded)),
        _ => Ok(Duration::ZERO),
    });
    assert_eq!(run.groups(), ["g"]);
    assert!(run.result.unwrap_err().is_context_window_exceeded());
}

#[test]
fn default_fallbacks_apply_when_the_group_has_no_fallbacks_of_its_own() {
    let settings = RouterSettings::default()
        .with_num_retries(0)
        .with_fallbacks("g", ["own"])
        .with_default_fallbacks(["backup"]);
    let deployments = || vec![d("g", "a"), d("h", "b"), d("own", "c"), d("backup", "z")];
    let clock = Arc::new(ManualClock::new());
    let r = router(&clock, settings, deployments());
    let fail_but_backup = |id: &str| match id {
        "z" => Ok(Duration::ZERO),
        _ => Err(Failure::new(FailureKind::InternalServer)),
    };
    assert_eq!(
        drive(&r, &clock, "h", fail_but_backup).groups(),
        ["h", "backup"]
    );
    // `own` has no chain of its own: it continues the requested model's chain, which is spent, so the
    // request ends there (LiteLLM's lookup by the original model group).
    let run = drive(&r, &clock, "g", fail_but_backup);
    assert_eq!(run.groups(), ["g", "own"]);
}

#[test]
fn fallbacks_nest_depth_first_and_max_fallbacks_bounds_the_depth() {
    // a → b → c → d → e, each group failing.
    let chain = ["a", "b", "c", "d", "e"];
    let mut settings = RouterSettings::default().with_num_retries(0);
    for pair in chain.windows(2) {
        settings = settings.with_fallbacks(pair[0], [pair[1]]);
    }
    let deployments = || {
        chain
            .iter()
            .map(|g| d(g, &format!("{g}1")))
            .collect::<Vec<_>>()
    };
    for (max, expected) in [
        (5, &chain[..]),
        (2, &chain[..3]),
        (1, &chain[..2]),
        (0, &chain[..1]),
    ] {
        let clock = Arc::new(ManualClock::new());
        let r = router(
            &clock,
            settings.clone().with_max_fallbacks(max),
            deployments(),
        );
        let run = drive(&r, &clock, "a", always(FailureKind::InternalServer));
        assert_eq!(run.groups(), expected, "max_fallbacks {max}");
    }
}

#[test]
fn max_fallbacks_does_not_cut_one_long_chain_of_the_requested_model() {
    // LiteLLM checks the depth only when a fallback group starts its own fallbacks.
    let targets = ["f1", "f2", "f3", "f4"];
    let settings = RouterSettings::default()
        .with_num_retries(0)
        .with_max_fallbacks(1)
        .with_fallbacks("g", targets);
    let mut deployments = vec![d("g", "g1")];
    deployments.extend(targets.iter().map(|t| d(t, &format!("{t}-1"))));
    let clock = Arc::new(ManualClock::new());
    let r = router(&clock, settings, deployments);
    let run = drive(&r, &clock, "g", always(FailureKind::InternalServer));
    assert_eq!(run.groups(), ["g", "f1", "f2", "f3", "f4"]);
}

#[test]
fn a_group_is_never_tried_twice_in_one_request() {
    let settings = RouterSettings::default()
        .with_num_retries(0)
        .with_fallbacks("a", ["b", "a", "c"])
        .with_fallbacks("b", ["a", "c"])
        .with_fallbacks("c", ["b", "a"]);
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        settings,
        vec![d("a", "1"), d("b", "2"), d("c", "3")],
    );
    let run = drive(&r, &clock, "a", always(FailureKind::InternalServer));
    assert_eq!(run.groups(), ["a", "b", "c"]);
}

#[test]
fn the_final_error_lists_every_attempt_and_names_the_requested_models_failure() {
    let settings = RouterSettings::default()
        .with_num_retries(1)
        .with_fallbacks("g", ["missing", "h"]);
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        settings,
        vec![d("g", "a"), d("g", "b"), d("h", "c")],
    );
    let run = drive(&r, &clock, "g", |id| {
        Err(Failure::new(match id {
            "c" => FailureKind::Timeout,
            _ => FailureKind::ContextWindowExceeded,
        }))
    });
    let error = run.result.unwrap_err();
    assert!(matches!(error, AttemptError::Failed { .. }));
    assert_eq!(error.model(), "g");
    let summary: Vec<(&str, Option<&str>, String)> = error
        .attempts()
        .iter()
        .map(|a| {
            let what = match a.result() {
                AttemptResult::Failed(f) => f.kind.litellm_class().to_string(),
                AttemptResult::NoDeployment(e) => format!("no deployment: {}", e.is_not_found()),
                other => format!("{other:?}"),
            };
            (a.group(), a.deployment().map(|id| id.as_str()), what)
        })
        .collect();
    // A context-window error is not retried when a fallback would take it; `missing` resolves to nothing;
    // `h` times out (retried once, on its lone deployment).
    assert_eq!(summary.len(), 4, "{summary:?}");
    assert_eq!(summary[0].0, "g");
    assert_eq!(summary[0].2, "ContextWindowExceededError");
    assert_eq!(
        summary[1],
        ("missing", None, "no deployment: true".to_string())
    );
    assert_eq!(summary[2], ("h", Some("c"), "Timeout".to_string()));
    assert_eq!(summary[3], ("h", Some("c"), "Timeout".to_string()));
    // The cause is the requested model's failure, as LiteLLM raises it.
    assert!(error.is_context_window_exceeded());
    assert!(!error.is_rate_limited());
    assert_eq!(error.cause().unwrap().group(), "g");
    let text = error.to_string();
    assert!(
        text.starts_with("model `g`: no attempt succeeded: `g` deployment `"),
        "{text}"
    );
    assert!(text.contains("`h` deployment `c`: Timeout (408)"), "{text}");
}

#[test]
fn a_name_nothing_serves_stops_with_a_not_found_error() {
    let clock = Arc::new(ManualClock::new());
    let r = router(&clock, RouterSettings::default(), vec![d("g", "a")]);
    let run = drive(&r, &clock, "nope", always(FailureKind::InternalServer));
    assert!(run.tried.is_empty());
    let error = run.result.unwrap_err();
    assert!(matches!(error, AttemptError::NoDeployment { .. }));
    assert!(error.is_not_found());
    assert_eq!(error.attempts().len(), 1);
    assert!(error.route_error().is_some());
}

#[test]
fn failures_are_reported_so_a_rate_limited_deployment_cools_down_and_is_skipped() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default().with_fallbacks("g", ["h"]),
        vec![d("g", "a"), d("g", "b"), d("h", "c")],
    );
    let run = drive(&r, &clock, "g", |id| match id {
        "c" => Ok(Duration::from_millis(250)),
        _ => Err(Failure::new(FailureKind::RateLimit)),
    });
    // A 429 cools a deployment with a sibling down at once; with neither left, the plan falls back.
    assert_eq!(run.groups(), ["g", "h"]);
    assert_eq!(run.tried.len(), 3);
    assert!(run.waits.is_empty());
    for id in ["a", "b"] {
        assert!(r.health(&id.into()).unwrap().is_cooling_down(), "{id}");
    }
    let attempts = run.result.unwrap();
    assert!(attempts[0].cooled_down() && attempts[1].cooled_down());
    // The success is reported too: its latency and count feed the router.
    let c = r.health(&"c".into()).unwrap();
    assert_eq!(c.successes, 1);
    assert_eq!(c.average_latency, Some(Duration::from_millis(250)));
    assert_eq!(c.in_flight, 0);
}

#[test]
fn a_group_whose_deployments_all_cool_down_is_not_retried_but_falls_back() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default()
            .with_num_retries(5)
            .with_fallbacks("g", ["h"]),
        vec![d("g", "a"), d("g", "b"), d("h", "c")],
    );
    // Cool both down before the request.
    for _ in 0..2 {
        let route = r.route("g", &NONE).unwrap();
        r.report(&route, Outcome::failure(FailureKind::RateLimit));
    }
    let run = drive(&r, &clock, "g", |_| Ok(Duration::ZERO));
    assert_eq!(run.tried, ["h/c"]);
    let attempts = run.result.unwrap();
    assert!(matches!(attempts[0].result(), AttemptResult::NoDeployment(e) if e.is_unavailable()));
}

#[test]
fn a_dropped_route_counts_as_failed_and_is_not_reported() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default().with_num_retries(1),
        vec![d("g", "a"), d("g", "b")],
    );
    let mut plan = r.attempts("g", &NONE);
    let Next::Try(first) = plan.next_step() else {
        panic!("a route")
    };
    let first_id = first.id().clone();
    drop(first);
    let Next::Try(second) = plan.next_step() else {
        panic!("a retry")
    };
    assert_ne!(second.id(), &first_id);
    assert_eq!(plan.tried()[0].result(), &AttemptResult::Abandoned);
    assert_eq!(r.health(&first_id).unwrap().failures, 0);
    assert_eq!(
        plan.failed(second, FailureKind::InternalServer),
        Decision::Stop
    );
    assert!(plan.is_finished());
}

#[test]
fn the_decision_says_what_comes_next() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default()
            .with_num_retries(1)
            .with_context_window_fallbacks("g", ["big"]),
        vec![d("g", "a"), d("big", "b")],
    );
    let mut plan = r.attempts("g", &NONE);
    let Next::Try(route) = plan.next_step() else {
        panic!()
    };
    assert_eq!(
        plan.failed(route, FailureKind::InternalServer),
        Decision::Retry {
            after: secs(0.5) + JITTER
        }
    );
    assert!(matches!(plan.next_step(), Next::Wait(w) if w == secs(0.5) + JITTER));
    let Next::Try(route) = plan.next_step() else {
        panic!()
    };
    assert_eq!(
        plan.failed(route, FailureKind::ContextWindowExceeded),
        Decision::Fallback {
            group: "big".into(),
            kind: FallbackKind::ContextWindow
        }
    );
    let Next::Try(route) = plan.next_step() else {
        panic!()
    };
    assert_eq!(route.group(), "big");
    let attempts = plan.succeeded(route, Outcome::success(Duration::from_millis(5)));
    assert_eq!(attempts.len(), 3);
}

#[test]
fn a_stream_failing_after_its_first_event_is_reported_and_not_retried() {
    let clock = Arc::new(ManualClock::new());
    let r = router(
        &clock,
        RouterSettings::default(),
        vec![d("g", "a"), d("g", "b")],
    );
    let mut plan = r.attempts("g", &NONE);
    let Next::Try(route) = plan.next_step() else {
        panic!()
    };
    let id = route.id().clone();
    let answered = plan.answered(route);
    assert_eq!(
        r.health(&id).unwrap().in_flight,
        1,
        "in flight until it ends"
    );
    let attempts = answered.failed(FailureKind::RateLimit);
    assert_eq!(attempts.len(), 1);
    let health = r.health(&id).unwrap();
    assert!(health.is_cooling_down());
    assert_eq!(health.in_flight, 0);
}

#[test]
fn an_alias_request_takes_its_targets_fallbacks_and_retry_policy() {
    // A deliberate difference: LiteLLM looks both up by the name asked only, so a request through an alias
    // neither falls back nor gets the target's policy.
    let settings = RouterSettings::default()
        .with_num_retries(0)
        .with_alias("al", "g")
        .with_fallbacks("g", ["h"])
        .with_model_group_retry_policy("g", RetryPolicy::new().with_default(1));
    let clock = Arc::new(ManualClock::new());
    let r = router(&clock, settings, vec![d("g", "a"), d("h", "b")]);
    let run = drive(&r, &clock, "al", |id| match id {
        "a" => Err(Failure::new(FailureKind::InternalServer)),
        _ => Ok(Duration::ZERO),
    });
    assert_eq!(run.tried, ["g/a", "g/a", "h/b"]);
    let attempts = run.result.unwrap();
    assert_eq!(attempts[0].group(), "al", "attempts name the name asked");
    assert_eq!(attempts[2].group(), "h");
}

#[test]
fn a_plan_can_be_held_across_await_points_and_its_error_boxed() {
    fn send<T: Send>() {}
    fn error<T: std::error::Error + Send + Sync + 'static>() {}
    send::<modelroute::Attempts<'static, 'static>>();
    send::<modelroute::Answered<'static>>();
    send::<Next>();
    error::<AttemptError>();
    let clock = Arc::new(ManualClock::new());
    let r = router(&clock, RouterSettings::default(), vec![d("g", "a")]);
    let error = drive(&r, &clock, "nope", always(FailureKind::Timeout))
        .result
        .unwrap_err();
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
    assert!(
        boxed
            .to_string()
            .starts_with("model `nope`: no deployment could take the request: `nope`: "),
        "{boxed}"
    );
}
