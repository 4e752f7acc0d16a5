//! Property tests of the attempt plan over random routers (groups, fallbacks of every kind, retry settings and
//! policies, `max_fallbacks`) and random answers, with a `ManualClock` the plan's waits advance (so cooldowns
//! end mid-request too). Checked against plain models of what the plan may do:
//! - it ends, within `names × (most retries + 1)` attempts (each name asked is tried at most once as a group,
//!   each time with at most its retries), and asks to wait only after an attempt;
//! - it never yields a deployment that is cooling down, nor one outside the group it asks;
//! - it never yields a deployment that already failed this request while a deployment of the group that has
//!   not failed is eligible;
//! - every attempt is reported: the router's failure count grows by the attempts that reached a deployment.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use modelroute::attempt::{AttemptResult, Failure, Next, RetryPolicy};
use modelroute::router::{CandidateStatus, FailureKind, Outcome, RequestContext, RouterSettings};
use modelroute::{Deployment, ManualClock, Router};
use proptest::prelude::*;

const GROUPS: [&str; 4] = ["g0", "g1", "g2", "g3"];
/// A name nothing serves, as a fallback target.
const MISSING: &str = "missing";
const KINDS: [FailureKind; 12] = [
    FailureKind::RateLimit,
    FailureKind::Authentication,
    FailureKind::NotFound,
    FailureKind::Timeout,
    FailureKind::BadRequest,
    FailureKind::ContextWindowExceeded,
    FailureKind::ContentPolicyViolation,
    FailureKind::InternalServer,
    FailureKind::BadGateway,
    FailureKind::ServiceUnavailable,
    FailureKind::Status(403),
    FailureKind::Connection,
];

#[derive(Debug, Clone)]
struct Setup {
    sizes: Vec<usize>,
    fallbacks: Vec<(usize, Vec<usize>)>,
    context_window: Vec<(usize, Vec<usize>)>,
    content_policy: Vec<(usize, Vec<usize>)>,
    default_fallbacks: Vec<usize>,
    num_retries: Option<u32>,
    policy: Option<Vec<(usize, u32)>>,
    max_fallbacks: usize,
    allowed_fails: Option<u32>,
    requested: usize,
    /// Answers in order: `None` is a success, else the failure and a `Retry-After` in seconds.
    answers: Vec<Option<(usize, Option<u64>)>>,
}

/// A target index: one of the groups, or (4) the missing name.
fn name(i: usize) -> &'static str {
    GROUPS.get(i).copied().unwrap_or(MISSING)
}

fn chains() -> impl Strategy<Value = Vec<(usize, Vec<usize>)>> {
    proptest::collection::vec(
        (0..4usize, proptest::collection::vec(0..5usize, 0..4)),
        0..4,
    )
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        proptest::collection::vec(1..4usize, 4),
        chains(),
        chains(),
        chains(),
        proptest::collection::vec(0..5usize, 0..3),
        proptest::option::of(0..4u32),
        proptest::option::of(proptest::collection::vec((0..KINDS.len(), 0..4u32), 0..4)),
        0..6usize,
        proptest::option::of(0..3u32),
        0..5usize,
        proptest::collection::vec(
            proptest::option::weighted(
                0.9,
                (0..KINDS.len(), proptest::option::weighted(0.2, 0..90u64)),
            ),
            1..40,
        ),
    )
        .prop_map(
            |(
                sizes,
                fallbacks,
                context_window,
                content_policy,
                default_fallbacks,
                num_retries,
                policy,
                max_fallbacks,
                allowed_fails,
                requested,
                answers,
            )| Setup {
                sizes,
                fallbacks,
                context_window,
                content_policy,
                default_fallbacks,
                num_retries,
                policy,
                max_fallbacks,
                allowed_fails,
                requested,
                answers,
            },
        )
}

fn build(s: &Setup, clock: &Arc<ManualClock>) -> Router {
    let mut settings = RouterSettings::default().with_max_fallbacks(s.max_fallbacks);
    let names = |to: &[usize]| to.iter().map(|&i| name(i)).collect::<Vec<_>>();
    for (from, to) in &s.fallbacks {
        settings = settings.with_fallbacks(name(*from), names(to));
    }
    for (from, to) in &s.context_window {
        settings = settings.with_context_window_fallbacks(name(*from), names(to));
    }
    for (from, to) in &s.content_policy {
        settings = settings.with_content_policy_fallbacks(name(*from), names(to));
    }
    if !s.default_fallbacks.is_empty() {
        settings = settings.with_default_fallbacks(names(&s.default_fallbacks));
    }
    if let Some(n) = s.num_retries {
        settings = settings.with_num_retries(n);
    }
    if let Some(entries) = &s.policy {
        let policy = entries
            .iter()
            .fold(RetryPolicy::new(), |p, &(k, n)| p.with(KINDS[k], n));
        settings = settings.with_retry_policy(policy);
    }
    if let Some(n) = s.allowed_fails {
        settings = settings.with_cooldown(n, Duration::from_secs(5));
    }
    let mut deployments = Vec::new();
    for (g, &size) in s.sizes.iter().enumerate() {
        for i in 0..size {
            let id = format!("{}-{i}", GROUPS[g]);
            deployments.push(
                Deployment::new(GROUPS[g], format!("openai/{id}"))
                    .unwrap()
                    .with_id(id)
                    .unwrap(),
            );
        }
    }
    Router::builder()
        .settings(settings)
        .deployments(deployments)
        .clock(clock.clone())
        .seed(7)
        .build()
        .unwrap()
}

/// The most retries any group can get.
fn most_retries(s: &Setup) -> usize {
    let policy = s
        .policy
        .iter()
        .flatten()
        .map(|&(_, n)| n)
        .max()
        .unwrap_or(0);
    s.num_retries.unwrap_or(2).max(policy) as usize
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_plan_ends_in_bounds_and_never_yields_a_cooled_down_or_needlessly_repeated_deployment(s in setup()) {
        let clock = Arc::new(ManualClock::new());
        let router = build(&s, &clock);
        let ctx = RequestContext::new();
        let mut plan = router.attempts(name(s.requested), &ctx);
        // Five names can be asked: the four groups and the missing one.
        let bound = 5 * (most_retries(&s) + 1);
        let mut answers = s.answers.iter().cycle();
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut reached = 0u64;
        let mut steps = 0;
        // How many attempts there were at the last wait: a wait always follows a new attempt (one that found
        // no deployment counts).
        let mut at_last_wait: Option<usize> = None;
        let attempts = loop {
            steps += 1;
            prop_assert!(steps <= 2 * bound + 2, "more steps than the bound allows");
            match plan.next_step() {
                Next::Try(route) => {
                    let id = route.id().to_string();
                    let asked = plan.tried().len();
                    let health = router.health(route.id()).unwrap();
                    prop_assert!(!health.is_cooling_down(), "{id} is cooling down");
                    prop_assert_eq!(route.group(), id.split('-').next().unwrap());
                    if failed.contains(&id) {
                        // Every eligible deployment of the group has failed already.
                        let resolution = router.explain(route.group(), &ctx).unwrap();
                        for c in &resolution.candidates {
                            let eligible = matches!(c.availability, CandidateStatus::Available);
                            prop_assert!(
                                !eligible || failed.contains(c.deployment.id().as_str()),
                                "{} repeated while {} was fresh (after {} attempts)",
                                id, c.deployment.id(), asked
                            );
                        }
                    }
                    reached += 1;
                    match answers.next().unwrap() {
                        None => break plan.succeeded(route, Outcome::success(Duration::from_millis(3))),
                        Some((k, retry_after)) => {
                            failed.insert(id);
                            let failure = Failure::new(KINDS[*k])
                                .with_retry_after(retry_after.map(Duration::from_secs));
                            let _ = plan.failed(route, failure);
                        }
                    }
                }
                Next::Wait(delay) => {
                    let now = plan.tried().len();
                    prop_assert!(now > 0 && at_last_wait != Some(now), "a wait without a new attempt");
                    at_last_wait = Some(now);
                    prop_assert!(!delay.is_zero());
                    prop_assert!(delay < Duration::from_secs(61), "{delay:?}");
                    clock.advance(delay);
                }
                Next::Stop(error) => break error.attempts().to_vec(),
            }
        };
        prop_assert!(attempts.len() <= bound, "{} attempts, bound {}", attempts.len(), bound);
        // Each name is asked in one run of attempts: never again once another name was asked.
        let mut runs: Vec<&str> = Vec::new();
        for a in &attempts {
            if runs.last() != Some(&a.group()) {
                prop_assert!(!runs.contains(&a.group()), "{} asked twice: {:?}", a.group(), runs);
                runs.push(a.group());
            }
        }
        // Every attempt that reached a deployment was reported, and nothing else.
        let reported: u64 = (0..4)
            .flat_map(|g| (0..s.sizes[g]).map(move |i| format!("{}-{i}", GROUPS[g])))
            .map(|id| {
                let h = router.health(&id.as_str().into()).unwrap();
                h.failures + h.successes
            })
            .sum();
        prop_assert_eq!(reported, reached);
        let with_deployment = attempts.iter().filter(|a| a.deployment().is_some()).count() as u64;
        prop_assert_eq!(with_deployment, reached);
        let per_kind: HashMap<bool, usize> = attempts.iter().fold(HashMap::new(), |mut m, a| {
            *m.entry(matches!(a.result(), AttemptResult::NoDeployment(_))).or_default() += 1;
            m
        });
        prop_assert_eq!(per_kind.get(&false).copied().unwrap_or(0) as u64, reached);
    }
}
