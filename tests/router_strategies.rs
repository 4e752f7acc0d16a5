//! Strategies: weighted shuffle (checked statistically), round-robin, least-busy, lowest-latency; seeded
//! randomness.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use modelroute::router::{Outcome, RequestContext, RouterSettings, RoutingStrategy, SplitMix64};
use modelroute::{Deployment, Router};

const NONE: RequestContext<'static> = RequestContext::new();

fn d(id: &str) -> Deployment {
    Deployment::new("g", format!("openai/{id}"))
        .unwrap()
        .with_id(id)
        .unwrap()
}

fn router(strategy: RoutingStrategy, seed: u64, deployments: Vec<Deployment>) -> Router {
    Router::builder()
        .settings(RouterSettings::default().with_strategy(strategy))
        .deployments(deployments)
        .seed(seed)
        .build()
        .unwrap()
}

fn counts(r: &Router, n: usize) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for _ in 0..n {
        *out.entry(r.route("g", &NONE).unwrap().id().to_string())
            .or_default() += 1;
    }
    out
}

/// Pearson's chi-square statistic of `observed` against `expected` proportions.
fn chi_square(observed: &HashMap<String, usize>, expected: &[(&str, f64)], n: usize) -> f64 {
    expected
        .iter()
        .map(|(id, p)| {
            let e = p * n as f64;
            let o = *observed.get(*id).unwrap_or(&0) as f64;
            (o - e).powi(2) / e
        })
        .sum()
}

#[test]
fn simple_shuffle_follows_weights() {
    let r = router(
        RoutingStrategy::SimpleShuffle,
        11,
        vec![
            d("a").with_param("weight", 1).unwrap(),
            d("b").with_param("weight", 2).unwrap(),
            d("c").with_param("weight", 7).unwrap(),
        ],
    );
    let n = 20_000;
    let got = counts(&r, n);
    // 2 degrees of freedom: the 99.9% quantile is 13.8.
    let chi = chi_square(&got, &[("a", 0.1), ("b", 0.2), ("c", 0.7)], n);
    assert!(chi < 13.8, "chi-square {chi} for {got:?}");
}

#[test]
fn simple_shuffle_uses_rpm_then_tpm_when_no_weight() {
    let rpm = router(
        RoutingStrategy::SimpleShuffle,
        12,
        vec![
            d("a").with_param("rpm", 100).unwrap(),
            d("b").with_param("rpm", 300).unwrap(),
        ],
    );
    let n = 20_000;
    let chi = chi_square(&counts(&rpm, n), &[("a", 0.25), ("b", 0.75)], n);
    assert!(chi < 10.8, "rpm chi-square {chi}"); // 1 dof, 99.9%
    let tpm = router(
        RoutingStrategy::SimpleShuffle,
        13,
        vec![
            d("a").with_param("tpm", 80_000).unwrap(),
            d("b").with_param("tpm", 20_000).unwrap(),
        ],
    );
    let chi = chi_square(&counts(&tpm, n), &[("a", 0.8), ("b", 0.2)], n);
    assert!(chi < 10.8, "tpm chi-square {chi}");
}

#[test]
fn a_deployment_missing_the_metric_gets_weight_zero_like_litellm() {
    // LiteLLM: weights = [m.get("rpm", 0) ...]: a deployment without rpm is never picked while another has one.
    let r = router(
        RoutingStrategy::SimpleShuffle,
        14,
        vec![d("with-rpm").with_param("rpm", 10).unwrap(), d("without")],
    );
    let got = counts(&r, 2_000);
    assert_eq!(got.get("with-rpm"), Some(&2_000), "{got:?}");
    // weight takes precedence over rpm.
    let r = router(
        RoutingStrategy::SimpleShuffle,
        15,
        vec![
            d("w").with_param("weight", 1).unwrap(),
            d("r").with_param("rpm", 1000).unwrap(),
        ],
    );
    assert_eq!(counts(&r, 500).get("w"), Some(&500));
}

#[test]
fn simple_shuffle_without_metrics_is_uniform() {
    let r = router(
        RoutingStrategy::SimpleShuffle,
        16,
        vec![d("a"), d("b"), d("c"), d("d")],
    );
    let n = 20_000;
    let chi = chi_square(
        &counts(&r, n),
        &[("a", 0.25), ("b", 0.25), ("c", 0.25), ("d", 0.25)],
        n,
    );
    assert!(chi < 16.3, "chi-square {chi}"); // 3 dof, 99.9%
}

#[test]
fn same_seed_same_picks() {
    let make = || {
        router(
            RoutingStrategy::SimpleShuffle,
            99,
            vec![
                d("a").with_param("weight", 3).unwrap(),
                d("b").with_param("weight", 1).unwrap(),
                d("c").with_param("weight", 1).unwrap(),
            ],
        )
    };
    let (x, y) = (make(), make());
    let seq = |r: &Router| {
        (0..200)
            .map(|_| r.route("g", &NONE).unwrap().id().to_string())
            .collect::<Vec<_>>()
    };
    let (sx, sy) = (seq(&x), seq(&y));
    assert_eq!(sx, sy);
    let other = Router::builder()
        .settings(RouterSettings::default())
        .deployments([
            d("a").with_param("weight", 3).unwrap(),
            d("b").with_param("weight", 1).unwrap(),
            d("c").with_param("weight", 1).unwrap(),
        ])
        .rng(Arc::new(SplitMix64::new(100)))
        .build()
        .unwrap();
    assert_ne!(seq(&other), sx, "another seed gives another sequence");
}

#[test]
fn round_robin_cycles_in_config_order() {
    let r = router(RoutingStrategy::RoundRobin, 0, vec![d("a"), d("b"), d("c")]);
    let seq: Vec<String> = (0..7)
        .map(|_| r.route("g", &NONE).unwrap().id().to_string())
        .collect();
    assert_eq!(seq, ["a", "b", "c", "a", "b", "c", "a"]);
}

#[test]
fn least_busy_balances_in_flight_routes_and_guards_release_on_drop() {
    let r = router(RoutingStrategy::LeastBusy, 3, vec![d("a"), d("b"), d("c")]);
    let held: Vec<_> = (0..9).map(|_| r.route("g", &NONE).unwrap()).collect();
    for id in ["a", "b", "c"] {
        let h = r.health(&id.into()).unwrap();
        assert_eq!(h.in_flight, 3, "{id}");
    }
    // Release everything routed to "b": the next three go there.
    let (to_b, rest): (Vec<_>, Vec<_>) = held
        .into_iter()
        .partition(|route| route.id().as_str() == "b");
    drop(to_b);
    assert_eq!(r.health(&"b".into()).unwrap().in_flight, 0);
    let next: Vec<_> = (0..3).map(|_| r.route("g", &NONE).unwrap()).collect();
    assert!(next.iter().all(|route| route.id().as_str() == "b"));
    drop(next);
    drop(rest);
    for id in ["a", "b", "c"] {
        assert_eq!(
            r.health(&id.into()).unwrap().in_flight,
            0,
            "no count leaks after drop"
        );
    }
}

#[test]
fn least_busy_guard_survives_a_panicking_request() {
    let r = Arc::new(router(RoutingStrategy::LeastBusy, 3, vec![d("a")]));
    let r2 = r.clone();
    let result = std::thread::spawn(move || {
        let _route = r2.route("g", &NONE).unwrap();
        panic!("request handler crashed");
    })
    .join();
    assert!(result.is_err());
    assert_eq!(r.health(&"a".into()).unwrap().in_flight, 0);
}

#[test]
fn lowest_latency_prefers_the_fastest_and_tries_unmeasured_first() {
    let r = router(
        RoutingStrategy::LowestLatency,
        5,
        vec![d("slow"), d("fast"), d("new")],
    );
    let ms = Duration::from_millis;
    for _ in 0..5 {
        r.report_id(&"slow".into(), Outcome::success(ms(900)))
            .unwrap();
        r.report_id(&"fast".into(), Outcome::success(ms(100)))
            .unwrap();
    }
    // "new" has no sample yet: tried first (LiteLLM treats it as latency 0).
    let route = r.route("g", &NONE).unwrap();
    assert_eq!(route.id().as_str(), "new");
    r.report(&route, Outcome::success(ms(500)));
    drop(route);
    for _ in 0..20 {
        assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "fast");
    }
    // The average moves: "fast" gets slow.
    for _ in 0..10 {
        r.report_id(&"fast".into(), Outcome::success(ms(2000)))
            .unwrap();
    }
    assert_eq!(r.route("g", &NONE).unwrap().id().as_str(), "new");
    assert_eq!(
        r.health(&"fast".into()).unwrap().average_latency,
        Some(ms(2000))
    );
}

#[test]
fn lowest_latency_buffer_spreads_among_near_equals() {
    let mut settings = RouterSettings::default().with_strategy(RoutingStrategy::LowestLatency);
    settings.lowest_latency_buffer = 0.5;
    let r = Router::builder()
        .settings(settings)
        .deployments([d("a"), d("b"), d("c")])
        .seed(8)
        .build()
        .unwrap();
    let ms = Duration::from_millis;
    r.report_id(&"a".into(), Outcome::success(ms(100))).unwrap();
    r.report_id(&"b".into(), Outcome::success(ms(140))).unwrap();
    r.report_id(&"c".into(), Outcome::success(ms(400))).unwrap();
    let got = counts(&r, 2_000);
    assert!(got.get("a").copied().unwrap_or(0) > 800, "{got:?}");
    assert!(got.get("b").copied().unwrap_or(0) > 800, "{got:?}");
    assert_eq!(got.get("c"), None, "{got:?}");
}
