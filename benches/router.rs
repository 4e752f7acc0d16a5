//! Router benchmarks on a 10,000-deployment config, compared in one run:
//! - `route` (exact name, wildcard name) vs the bare lookups it builds on (a `HashMap` get, a
//!   `PatternRouter::lookup` with its concrete model name);
//! - route throughput on 2 threads vs 1;
//! - `reconcile` of the 10,000 with 1% changed (and 0% changed) vs building a router from scratch;
//! - the strategies on one group of 10,000 deployments: `usage-based-routing-v2` and `latency-based-routing`
//!   against `simple-shuffle` (bar: at most 1.5x), and a report with token counts under
//!   `usage-based-routing-v2` against a plain report (bar: at most 2x);
//! - with feature `redis`: `route` on a replica of a fleet (its sync task running against a local
//!   `redis-server`) against the same router without a fleet, under `simple-shuffle` and
//!   `usage-based-routing-v2` (bar: at most 1.2x; `router/fleet.rs`).
//!
//! After criterion's report, a short fixed-size measurement prints the ratios (best of 7 rounds).
//! `cargo bench --bench router -- strategies` runs only the strategies, and
//! `cargo bench --all-features --bench router -- fleet` only the fleet comparison.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use modelroute::router::{
    ChangeSet, Outcome, RequestContext, RouterSettings, RoutingStrategy, Usage,
};
use modelroute::{Deployment, PatternRouter, Router};

#[cfg(feature = "redis")]
#[path = "router/fleet.rs"]
mod fleet;
// The test harness's real `redis-server` (installed when missing, stopped by PID).
#[cfg(feature = "redis")]
#[path = "../tests/support/mod.rs"]
mod support;

const N: usize = 10_000;
const NONE: RequestContext<'static> = RequestContext::new();

/// 8,000 exact deployments (4,000 groups of two, with rpm) and 2,000 wildcard deployments
/// (2,000 provider patterns `provN/*`).
fn deployments(version: u64) -> Vec<Arc<Deployment>> {
    let mut out = Vec::with_capacity(N);
    for g in 0..4_000 {
        for (i, provider) in ["azure", "openai"].iter().enumerate() {
            out.push(Arc::new(
                Deployment::new(format!("model-{g}"), format!("{provider}/model-{g}"))
                    .unwrap()
                    .with_param("api_base", format!("https://{provider}-{g}.example/v1"))
                    .unwrap()
                    .with_param("rpm", 100 * (i as u64 + 1) + version)
                    .unwrap()
                    .with_id(format!("exact-{g}-{i}"))
                    .unwrap(),
            ));
        }
    }
    for p in 0..2_000 {
        out.push(Arc::new(
            Deployment::new(format!("prov{p}/*"), format!("prov{p}/*"))
                .unwrap()
                .with_param("rpm", 1000 + version)
                .unwrap()
                .with_id(format!("wild-{p}"))
                .unwrap(),
        ));
    }
    out
}

/// The same list with 1% changed: 34 updated in place, 33 removed, 33 added.
fn one_percent_changed(base: &[Arc<Deployment>]) -> Vec<Arc<Deployment>> {
    let mut out: Vec<Arc<Deployment>> = base.to_vec();
    for i in 0..34 {
        let d = &out[i * 97];
        out[i * 97] = Arc::new((**d).clone().with_param("rpm", 7_777).unwrap());
    }
    let removed: Vec<usize> = (0..33).map(|i| 5_000 + i * 31).collect();
    let mut out: Vec<Arc<Deployment>> = out
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !removed.contains(i))
        .map(|(_, d)| d)
        .collect();
    for i in 0..33 {
        out.push(Arc::new(
            Deployment::new(format!("new-{i}"), format!("openai/new-{i}"))
                .unwrap()
                .with_id(format!("new-{i}"))
                .unwrap(),
        ));
    }
    out
}

fn deep_copy(list: &[Arc<Deployment>]) -> Vec<Arc<Deployment>> {
    list.iter().map(|d| Arc::new((**d).clone())).collect()
}

/// The ChangeSet turning `from` into `to` (same ids except removed/added ones).
fn changes(from: &[Arc<Deployment>], to: &[Arc<Deployment>]) -> ChangeSet {
    let old: HashMap<&str, &Arc<Deployment>> = from.iter().map(|d| (d.id().as_str(), d)).collect();
    let new: HashMap<&str, &Arc<Deployment>> = to.iter().map(|d| (d.id().as_str(), d)).collect();
    let mut set = ChangeSet::new();
    for d in to {
        if old.get(d.id().as_str()).is_none_or(|o| ***o != **d) {
            set = set.upsert(d.clone());
        }
    }
    for d in from {
        if !new.contains_key(d.id().as_str()) {
            set = set.remove(d.id().clone());
        }
    }
    set
}

fn changes_back(from: &[Arc<Deployment>], to: &[Arc<Deployment>]) -> ChangeSet {
    changes(to, from)
}

struct Fixture {
    router: Router,
    exact: HashMap<String, Vec<Arc<Deployment>>>,
    patterns: PatternRouter,
    base: Vec<Arc<Deployment>>,
    changed: Vec<Arc<Deployment>>,
}

fn fixture() -> Fixture {
    let base = deployments(0);
    // Default randomness (per thread), as in production.
    let router = Router::builder().deployments(base.clone()).build().unwrap();
    let mut exact: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
    let mut patterns = PatternRouter::new();
    for d in &base {
        if d.is_wildcard() {
            patterns.insert(d.clone()).unwrap();
        } else {
            exact
                .entry(d.model_name().to_string())
                .or_default()
                .push(d.clone());
        }
    }
    let changed = one_percent_changed(&base);
    Fixture {
        router,
        exact,
        patterns,
        base,
        changed,
    }
}

/// One group `big` of 10,000 deployments with `rpm` and `tpm` far from reached (so every deployment is checked
/// against its limits and none is left out).
fn big_group() -> Vec<Arc<Deployment>> {
    (0..N)
        .map(|i| {
            Arc::new(
                Deployment::new("big", format!("openai/m-{i}"))
                    .unwrap()
                    .with_param("rpm", 1_000_000_000u64)
                    .unwrap()
                    .with_param("tpm", 1_000_000_000_000u64)
                    .unwrap()
                    .with_id(format!("big-{i}"))
                    .unwrap(),
            )
        })
        .collect()
}

/// A router over [`big_group`] with `strategy`, with one latency sample and some tokens reported for every
/// deployment (so the strategy compares real values).
fn strategy_router(strategy: RoutingStrategy, deployments: &[Arc<Deployment>]) -> Router {
    let router = Router::builder()
        .settings(RouterSettings::default().with_strategy(strategy))
        .deployments(deployments.iter().cloned())
        .build()
        .unwrap();
    for (i, d) in deployments.iter().enumerate() {
        let outcome = Outcome::success(Duration::from_millis(200 + (i as u64 * 7919) % 1000))
            .with_usage(Usage::new(100 + (i as u64 * 104_729) % 5_000, 50));
        router.report_id(d.id(), outcome).unwrap();
    }
    router
}

struct Strategies {
    shuffle: Router,
    v2: Router,
    latency: Router,
}

fn strategies() -> Strategies {
    let big = big_group();
    Strategies {
        shuffle: strategy_router(RoutingStrategy::SimpleShuffle, &big),
        v2: strategy_router(RoutingStrategy::UsageBasedV2, &big),
        latency: strategy_router(RoutingStrategy::LowestLatency, &big),
    }
}

fn plain_outcome() -> Outcome {
    Outcome::success(Duration::from_millis(420))
}

fn outcome_with_tokens() -> Outcome {
    Outcome::success(Duration::from_millis(420)).with_usage(Usage::new(1_200, 300))
}

fn route_2_threads(router: &Router, iters: u64) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for t in 0..2u64 {
            s.spawn(move || {
                for i in 0..iters {
                    let name = if (i + t) % 2 == 0 {
                        "model-1234"
                    } else {
                        "prov777/gpt-4o"
                    };
                    black_box(router.route(black_box(name), &NONE).unwrap());
                }
            });
        }
    });
    start.elapsed()
}

fn route_1_thread(router: &Router, iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let name = if i % 2 == 0 {
            "model-1234"
        } else {
            "prov777/gpt-4o"
        };
        black_box(router.route(black_box(name), &NONE).unwrap());
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("router_10k");
    g.bench_function("hashmap_get_exact", |b| {
        b.iter(|| black_box(f.exact.get(black_box("model-1234")).map(|v| v[0].clone())))
    });
    g.bench_function("route_exact", |b| {
        b.iter(|| black_box(f.router.route(black_box("model-1234"), &NONE).unwrap()))
    });
    g.bench_function("pattern_lookup_wildcard", |b| {
        b.iter(|| {
            black_box(
                f.patterns
                    .lookup(black_box("prov777/gpt-4o"))
                    .map(|m| m.first().into_model()),
            )
        })
    });
    g.bench_function("route_wildcard", |b| {
        b.iter(|| black_box(f.router.route(black_box("prov777/gpt-4o"), &NONE).unwrap()))
    });
    g.bench_function("route_mixed_1_thread", |b| {
        b.iter_custom(|iters| route_1_thread(&f.router, iters))
    });
    g.bench_function("route_mixed_2_threads_per_pair", |b| {
        b.iter_custom(|iters| route_2_threads(&f.router, iters))
    });
    g.sample_size(20);
    g.bench_function("build_fresh_10k", |b| {
        b.iter(|| black_box(Router::new(f.base.clone()).unwrap()))
    });
    // As a poller would: freshly parsed deployments (new allocations), 1% of them different.
    let r = Router::new(f.base.clone()).unwrap();
    let lists = [f.changed.clone(), f.base.clone()];
    let mut turn = 0;
    g.bench_function("reconcile_10k_1pct_changed", |b| {
        b.iter_batched(
            || {
                turn ^= 1;
                deep_copy(&lists[turn])
            },
            |list| black_box(r.reconcile(list).unwrap()),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("reconcile_10k_unchanged", |b| {
        b.iter_batched(
            || deep_copy(&f.base),
            |list| black_box(r.reconcile(list).unwrap()),
            criterion::BatchSize::LargeInput,
        )
    });
    g.bench_function("apply_100_changes", |b| {
        let changes = changes(&f.base, &f.changed);
        let back = changes_back(&f.base, &f.changed);
        let mut turn = false;
        b.iter(|| {
            turn = !turn;
            black_box(
                r.apply(if turn { changes.clone() } else { back.clone() })
                    .unwrap(),
            )
        })
    });
    g.finish();

    let s = strategies();
    let mut g = c.benchmark_group("strategies_10k_one_group");
    for (name, router) in [
        ("route_simple_shuffle", &s.shuffle),
        ("route_usage_based_v2", &s.v2),
        ("route_latency_based", &s.latency),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| black_box(router.route(black_box("big"), &NONE).unwrap()))
        });
    }
    let shuffle_route = s.shuffle.route("big", &NONE).unwrap();
    let v2_route = s.v2.route("big", &NONE).unwrap();
    g.bench_function("report_plain", |b| {
        b.iter(|| black_box(s.shuffle.report(&shuffle_route, black_box(plain_outcome()))))
    });
    g.bench_function("report_with_tokens_v2", |b| {
        b.iter(|| black_box(s.v2.report(&v2_route, black_box(outcome_with_tokens()))))
    });
    g.finish();
}

/// Best of 7 rounds of `round`, divided by `per_round` operations.
fn best(per_round: u64, mut round: impl FnMut() -> Duration) -> Duration {
    (0..7).map(|_| round()).min().unwrap() / per_round as u32
}

fn ratios() {
    let f = fixture();
    let n = 200_000u64;
    let hashmap = best(n, || {
        let t = Instant::now();
        for _ in 0..n {
            black_box(f.exact.get(black_box("model-1234")).map(|v| v[0].clone()));
        }
        t.elapsed()
    });
    let exact = best(n, || {
        let t = Instant::now();
        for _ in 0..n {
            black_box(f.router.route(black_box("model-1234"), &NONE).unwrap());
        }
        t.elapsed()
    });
    let lookup = best(n, || {
        let t = Instant::now();
        for _ in 0..n {
            black_box(
                f.patterns
                    .lookup(black_box("prov777/gpt-4o"))
                    .map(|m| m.first().into_model()),
            );
        }
        t.elapsed()
    });
    let wildcard = best(n, || {
        let t = Instant::now();
        for _ in 0..n {
            black_box(f.router.route(black_box("prov777/gpt-4o"), &NONE).unwrap());
        }
        t.elapsed()
    });
    let one = best(n, || route_1_thread(&f.router, n));
    let two = best(2 * n, || route_2_threads(&f.router, n));
    // Control: the same on HashMap gets (no shared state at all), to tell the router's contention from a
    // machine whose second core is busy.
    let map_round = |threads: u64| {
        let t = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for _ in 0..n * 10 {
                        black_box(f.exact.get(black_box("model-1234")).map(|v| v[0].clone()));
                    }
                });
            }
        });
        t.elapsed()
    };
    let map_one = best(n * 10, || map_round(1));
    let map_two = best(n * 20, || map_round(2));
    let fresh = best(1, || {
        let t = Instant::now();
        black_box(Router::new(f.base.clone()).unwrap());
        t.elapsed()
    });
    let r = Router::new(f.base.clone()).unwrap();
    let mut locked = Duration::MAX;
    let reconcile = best(2, || {
        let (a, b) = (deep_copy(&f.changed), deep_copy(&f.base));
        let t = Instant::now();
        let ra = black_box(r.reconcile(a).unwrap());
        let rb = black_box(r.reconcile(b).unwrap());
        let elapsed = t.elapsed();
        locked = locked.min(ra.write_lock_held.max(rb.write_lock_held));
        elapsed
    });
    let unchanged = best(1, || {
        let list = deep_copy(&f.base);
        let t = Instant::now();
        black_box(r.reconcile(list).unwrap());
        t.elapsed()
    });
    let (fwd, back) = (
        changes(&f.base, &f.changed),
        changes_back(&f.base, &f.changed),
    );
    let apply = best(2, || {
        let (a, b) = (fwd.clone(), back.clone());
        let t = Instant::now();
        black_box(r.apply(a).unwrap());
        black_box(r.apply(b).unwrap());
        t.elapsed()
    });
    let x = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!("\n== router ratios (10,000 deployments, best of 7) ==");
    println!(
        "route exact      {exact:>10.2?}  vs HashMap get          {hashmap:>10.2?}  = {:.1}x",
        x(exact, hashmap)
    );
    println!(
        "route wildcard   {wildcard:>10.2?}  vs PatternRouter lookup {lookup:>10.2?}  = {:.1}x",
        x(wildcard, lookup)
    );
    println!(
        "route throughput 2 threads / 1 thread = {:.2}x ({two:.2?} vs {one:.2?} per route)",
        x(one, two)
    );
    println!(
        "  control, HashMap gets 2 threads / 1 thread = {:.2}x (what this machine allows now)",
        x(map_one, map_two)
    );
    println!(
        "reconcile 1% changed {reconcile:>10.2?}  vs build fresh {fresh:>10.2?}  = {:.2}x",
        x(reconcile, fresh)
    );
    println!("reconcile unchanged  {unchanged:>10.2?}  (the diff alone, under a read lock)");
    println!(
        "reconcile 1% changed: write lock held {locked:.2?}; apply of the same 100 changes {apply:.2?}"
    );
    strategy_ratios();
}

/// The new strategies against simple-shuffle on one group of 10,000, and a report with tokens against a plain
/// one. The batches alternate (shuffle, v2, latency, shuffle, ...) and each keeps its fastest of 9, so that a
/// change in the machine's load hits all of them alike.
fn strategy_ratios() {
    let s = strategies();
    let n = 500u64;
    let route_batch = |router: &Router| {
        let t = Instant::now();
        for _ in 0..n {
            black_box(router.route(black_box("big"), &NONE).unwrap());
        }
        t.elapsed() / n as u32
    };
    let mut routes = [Duration::MAX; 3];
    for _ in 0..9 {
        for (best, router) in routes.iter_mut().zip([&s.shuffle, &s.v2, &s.latency]) {
            *best = (*best).min(route_batch(router));
        }
    }
    let [shuffle, v2, latency] = routes;
    let m = 100_000u64;
    let shuffle_route = s.shuffle.route("big", &NONE).unwrap();
    let v2_route = s.v2.route("big", &NONE).unwrap();
    let (mut plain, mut tokens) = (Duration::MAX, Duration::MAX);
    for _ in 0..9 {
        let t = Instant::now();
        for _ in 0..m {
            black_box(s.shuffle.report(&shuffle_route, black_box(plain_outcome())));
        }
        plain = plain.min(t.elapsed() / m as u32);
        let t = Instant::now();
        for _ in 0..m {
            black_box(s.v2.report(&v2_route, black_box(outcome_with_tokens())));
        }
        tokens = tokens.min(t.elapsed() / m as u32);
    }
    let x = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "\n== strategies on one group of 10,000 deployments (alternating batches, best of 9) =="
    );
    println!("route simple-shuffle          {shuffle:>10.2?}");
    println!(
        "route usage-based-routing-v2  {v2:>10.2?}  = {:.2}x simple-shuffle (bar 1.5x)",
        x(v2, shuffle)
    );
    println!(
        "route latency-based-routing   {latency:>10.2?}  = {:.2}x simple-shuffle (bar 1.5x)",
        x(latency, shuffle)
    );
    println!(
        "report with tokens (v2) {tokens:>10.2?}  vs plain report (simple-shuffle) {plain:>10.2?}  = {:.2}x (bar 2x)",
        x(tokens, plain)
    );
}

criterion_group!(benches, bench);

/// The fleet comparison: its own fixture (a redis-server and the sync tasks run only meanwhile), criterion's
/// group, then the ratios.
#[cfg(feature = "redis")]
fn fleet_part() {
    let f = fleet::fixture();
    let mut c = Criterion::default().configure_from_args();
    fleet::bench(&mut c, &f);
    fleet::ratios(&f);
}

fn main() {
    let mode = |word: &str| std::env::args().any(|a| a == word);
    // `cargo bench --all-features --bench router -- fleet` runs only the fleet comparison and its ratios.
    if mode("fleet") {
        #[cfg(feature = "redis")]
        fleet_part();
        #[cfg(not(feature = "redis"))]
        println!(
            "the fleet comparison needs feature `redis` (cargo bench --all-features --bench router -- fleet)"
        );
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
        return;
    }
    benches();
    // `cargo bench --bench router -- strategies` runs only the strategy benchmarks and their ratios.
    if mode("strategies") {
        strategy_ratios();
        criterion::Criterion::default()
            .configure_from_args()
            .final_summary();
        return;
    }
    ratios();
    #[cfg(feature = "redis")]
    fleet_part();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
