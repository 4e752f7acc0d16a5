//! Property test: usage-based routing (v1 and v2) against a plain reference model of LiteLLM's rules, over random
//! sequences of routes (with input tokens, held or not), reports with tokens, releases and clock moves across
//! minute boundaries, on deployments with random `rpm`, `tpm` and `max_parallel_requests`.
//!
//! The reference: per deployment, the requests (v2) or successes (v1), the tokens and the routes in flight of the
//! current wall-clock minute; eligible = below `rpm`, tokens + input ≤ `tpm`, in flight below
//! `max_parallel_requests` (own, else `rpm`, else `tpm / 1000 * 6` at least 1); the pick is one of the eligible
//! with the fewest tokens (v1: the first of them in config order). A refusal happens exactly when nothing is
//! eligible, and lists every deployment with a limit reached.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use modelroute::router::{Outcome, RequestContext, Route, RouterSettings, RoutingStrategy, Usage};
use modelroute::{Deployment, ManualClock, Router};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Spec {
    rpm: Option<u64>,
    tpm: Option<u64>,
    max_parallel: Option<u64>,
}

#[derive(Debug, Clone)]
enum Op {
    Route { input: u64, hold: bool },
    Report { route: usize, tokens: u64 },
    Release { route: usize },
    Advance { seconds: u64 },
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of(1u64..6),
        proptest::option::of(20u64..400),
        proptest::option::of(1u64..4),
    )
        .prop_map(|(rpm, tpm, max_parallel)| Spec {
            rpm,
            tpm,
            max_parallel,
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1u64..80, any::<bool>()).prop_map(|(input, hold)| Op::Route { input, hold }),
        3 => (0usize..8, 0u64..120).prop_map(|(route, tokens)| Op::Report { route, tokens }),
        2 => (0usize..8).prop_map(|route| Op::Release { route }),
        1 => (0u64..45).prop_map(|seconds| Op::Advance { seconds }),
    ]
}

#[derive(Debug, Default, Clone)]
struct Counts {
    minute: u64,
    rpm_count: u64,
    tokens: u64,
}

struct Reference {
    specs: Vec<Spec>,
    counts: Vec<Counts>,
    in_flight: Vec<u64>,
    v2: bool,
}

impl Reference {
    fn max_parallel(s: &Spec) -> Option<u64> {
        s.max_parallel
            .or(s.rpm)
            .or(s.tpm.map(|t| ((t as f64 / 1000.0 * 6.0) as u64).max(1)))
    }

    fn current(&mut self, i: usize, minute: u64) -> &mut Counts {
        let c = &mut self.counts[i];
        if c.minute != minute {
            *c = Counts {
                minute,
                ..Counts::default()
            };
        }
        c
    }

    fn eligible(&mut self, i: usize, minute: u64, input: u64) -> bool {
        let s = self.specs[i].clone();
        let in_flight = self.in_flight[i];
        let c = self.current(i, minute).clone();
        s.rpm.is_none_or(|r| c.rpm_count < r)
            && s.tpm.is_none_or(|t| c.tokens + input.max(1) <= t)
            && Self::max_parallel(&s).is_none_or(|m| in_flight < m)
    }
}

fn run(v2: bool, specs: Vec<Spec>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let start = 1_700_000_040u64;
    let clock = Arc::new(ManualClock::starting_at(
        UNIX_EPOCH + Duration::from_secs(start),
    ));
    let mut elapsed = 0u64;
    let deployments: Vec<Deployment> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut d = Deployment::new("g", format!("openai/m{i}"))
                .unwrap()
                .with_id(format!("d{i}"))
                .unwrap();
            if let Some(rpm) = s.rpm {
                d = d.with_param("rpm", rpm).unwrap();
            }
            if let Some(tpm) = s.tpm {
                d = d.with_param("tpm", tpm).unwrap();
            }
            if let Some(m) = s.max_parallel {
                d = d.with_param("max_parallel_requests", m).unwrap();
            }
            d
        })
        .collect();
    let strategy = if v2 {
        RoutingStrategy::UsageBasedV2
    } else {
        RoutingStrategy::UsageBased
    };
    let router = Router::builder()
        .settings(RouterSettings::default().with_strategy(strategy))
        .deployments(deployments)
        .clock(clock.clone())
        .seed(9)
        .build()
        .unwrap();
    let n = specs.len();
    let mut model = Reference {
        specs,
        counts: vec![Counts::default(); n],
        in_flight: vec![0; n],
        v2,
    };
    // Routes made: (deployment index, the route while held).
    let mut routes: Vec<(usize, Option<Route>)> = Vec::new();
    for op in ops {
        let minute = (start + elapsed) / 60;
        match op {
            Op::Route { input, hold } => {
                let eligible: Vec<usize> = (0..n)
                    .filter(|&i| model.eligible(i, minute, input))
                    .collect();
                let fewest = eligible.iter().map(|&i| model.counts[i].tokens).min();
                let allowed: Vec<usize> = eligible
                    .iter()
                    .copied()
                    .filter(|&i| Some(model.counts[i].tokens) == fewest)
                    .collect();
                let got = router.route("g", &RequestContext::new().with_input_tokens(input));
                match got {
                    Ok(route) => {
                        let i: usize = route.id().as_str()[1..].parse().unwrap();
                        prop_assert!(allowed.contains(&i), "picked d{i}, allowed {allowed:?}");
                        if !model.v2 {
                            prop_assert_eq!(i, allowed[0], "v1 takes the first of the fewest");
                        } else {
                            model.current(i, minute).rpm_count += 1;
                        }
                        if hold {
                            model.in_flight[i] += 1;
                            routes.push((i, Some(route)));
                        } else {
                            routes.push((i, None));
                        }
                    }
                    Err(e) => {
                        prop_assert!(allowed.is_empty(), "refused, allowed {allowed:?}: {e}");
                        prop_assert!(e.is_rate_limited() || n == 0);
                        prop_assert_eq!(e.limits_reached().len(), n, "{}", e);
                    }
                }
            }
            Op::Report { route, tokens } => {
                if let Some((i, held)) = routes.get(route) {
                    let i = *i;
                    let outcome = Outcome::success(Duration::from_millis(50))
                        .with_usage(Usage::new(tokens, 0));
                    match held {
                        Some(r) => router.report(r, outcome),
                        None => router
                            .report_id(&format!("d{i}").as_str().into(), outcome)
                            .unwrap(),
                    };
                    let v1 = !model.v2;
                    let c = model.current(i, minute);
                    c.tokens += tokens;
                    if v1 {
                        c.rpm_count += 1;
                    }
                }
            }
            Op::Release { route } => {
                if let Some((i, held)) = routes.get_mut(route)
                    && held.take().is_some()
                {
                    model.in_flight[*i] -= 1;
                }
            }
            Op::Advance { seconds } => {
                clock.advance(Duration::from_secs(seconds));
                elapsed += seconds;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn usage_based_routing_v2_matches_the_reference_model(
        specs in prop::collection::vec(spec(), 1..5),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        run(true, specs, ops)?;
    }

    #[test]
    fn usage_based_routing_v1_matches_the_reference_model(
        specs in prop::collection::vec(spec(), 1..5),
        ops in prop::collection::vec(op(), 1..60),
    ) {
        run(false, specs, ops)?;
    }
}
