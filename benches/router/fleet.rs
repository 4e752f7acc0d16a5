//! `route` with a fleet's shared state on (feature `redis`) against the same router without a fleet, in one run.
//!
//! Two configs of 10,000 deployments, each as a router without a fleet and as a replica of a fleet whose sync
//! task runs against a local `redis-server` (started by the test harness, `tests/support/redis_server.rs`) on a
//! tokio runtime in a background thread of this process:
//! - `simple-shuffle` over the router bench's list ([`deployments`]: 4,000 exact groups of two, with `rpm` as
//!   weights, and 2,000 wildcard providers);
//! - `usage-based-routing-v2` over the same shape where one deployment of each exact group has `rpm: 100000`
//!   (far from reached, so every route of it takes a request leased from the fleet's pool; 4,000 rate-limited
//!   deployments whose allowances the sync task keeps topped up).
//!
//! Routes rotate over 1,024 names (512 exact, 512 wildcard). The ratio (bar: at most 1.2x) is the fastest of 15
//! alternating batches of each router, so that the machine's load hits them alike.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use modelroute::fleet::{Fleet, FleetOptions};
use modelroute::router::{RouterSettings, RoutingStrategy};
use modelroute::{Deployment, Router};
use tokio::runtime::Runtime;

use super::support::redis_server::RedisServer;
use super::{NONE, deployments};

/// Names routed, in turn: exact names of 512 groups and 512 wildcard names.
fn names() -> Vec<String> {
    (0..512)
        .flat_map(|i| {
            [
                format!("model-{}", (i * 7) % 4_000),
                format!("prov{}/gpt-4o", (i * 3) % 2_000),
            ]
        })
        .collect()
}

/// The router bench's list shape (4,000 exact groups of two, 2,000 wildcard providers), with `rpm: 100000` on
/// the `openai` deployment of each exact group only: the rest are unlimited, so a group always has a deployment
/// that needs no lease.
fn v2_deployments() -> Vec<Arc<Deployment>> {
    let mut out = Vec::with_capacity(10_000);
    for g in 0..4_000 {
        for provider in ["azure", "openai"] {
            let mut d = Deployment::new(format!("model-{g}"), format!("{provider}/model-{g}"))
                .unwrap()
                .with_param("api_base", format!("https://{provider}-{g}.example/v1"))
                .unwrap()
                .with_id(format!("exact-{g}-{provider}"))
                .unwrap();
            if provider == "openai" {
                d = d.with_param("rpm", 100_000u64).unwrap();
            }
            out.push(Arc::new(d));
        }
    }
    for p in 0..2_000 {
        out.push(Arc::new(
            Deployment::new(format!("prov{p}/*"), format!("prov{p}/*"))
                .unwrap()
                .with_id(format!("wild-{p}"))
                .unwrap(),
        ));
    }
    out
}

/// One config as a plain router and as a fleet replica.
pub(super) struct Pair {
    pub name: &'static str,
    pub in_memory: Router,
    pub fleet: Arc<Router>,
    pub membership: Fleet,
}

/// The two pairs, the runtime their sync tasks run on and the Redis they use. Dropping it stops the sync tasks
/// (with the runtime), then Redis.
pub(super) struct FleetFixture {
    pub pairs: Vec<Pair>,
    runtime: Runtime,
    _redis: RedisServer,
}

impl Drop for FleetFixture {
    fn drop(&mut self) {
        // Stop the sync tasks before Redis goes away (they would retry and log).
        let runtime = std::mem::replace(
            &mut self.runtime,
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

pub(super) fn fixture() -> FleetFixture {
    let redis = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("fleet-sync")
        .enable_all()
        .build()
        .unwrap();
    let mut pairs = Vec::new();
    for (name, strategy, list) in [
        (
            "simple-shuffle",
            RoutingStrategy::SimpleShuffle,
            deployments(0),
        ),
        (
            "usage-based-routing-v2",
            RoutingStrategy::UsageBasedV2,
            v2_deployments(),
        ),
    ] {
        let settings = RouterSettings::default().with_strategy(strategy);
        let in_memory = Router::builder()
            .settings(settings.clone())
            .deployments(list.iter().cloned())
            .build()
            .unwrap();
        let membership = Fleet::new(FleetOptions::new(&format!("bench-{name}")).unwrap());
        let fleet = Arc::new(
            Router::builder()
                .settings(settings)
                .deployments(list)
                .fleet(&membership)
                .build()
                .unwrap(),
        );
        let client = redis::Client::open(redis.url()).unwrap();
        let conn = runtime
            .block_on(redis::aio::ConnectionManager::new(client))
            .unwrap();
        let sync = membership.sync(fleet.clone(), conn, tokio::time::sleep);
        runtime.spawn(async move {
            let _ = sync.await;
        });
        pairs.push(Pair {
            name,
            in_memory,
            fleet,
            membership,
        });
    }
    let started = Instant::now();
    for pair in &pairs {
        while !pair.membership.health().connected {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the fleet's sync task did not connect to Redis"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // Demand on every name, then a few polls, so the rate-limited deployments hold leased requests.
        let names = names();
        for _ in 0..3 {
            for name in &names {
                let _ = pair.fleet.route(name, &NONE);
                pair.in_memory.route(name, &NONE).unwrap();
            }
            std::thread::sleep(Duration::from_millis(150));
        }
    }
    println!(
        "fleet fixture: redis-server on port {}, sync tasks connected after {:.2?}",
        redis.port(),
        started.elapsed()
    );
    FleetFixture {
        pairs,
        runtime,
        _redis: redis,
    }
}

/// Routes every name once; returns the time and the routes refused.
fn route_all(router: &Router, names: &[String]) -> (Duration, u64) {
    let mut refused = 0;
    let t = Instant::now();
    for name in names {
        if black_box(router.route(black_box(name), &NONE)).is_err() {
            refused += 1;
        }
    }
    (t.elapsed(), refused)
}

/// 2 threads, each routing every name `passes` times (long enough that starting the threads does not count),
/// the second starting half-way through the names (two requests at once rarely go to the same group).
fn route_all_2_threads(router: &Router, names: &[String], passes: usize) -> Duration {
    let (first, second) = names.split_at(names.len() / 2);
    let rotated: Vec<String> = second.iter().chain(first).cloned().collect();
    let t = Instant::now();
    std::thread::scope(|s| {
        for names in [names, &rotated[..]] {
            s.spawn(move || {
                for _ in 0..passes {
                    route_all(router, names);
                }
            });
        }
    });
    t.elapsed()
}

pub(super) fn bench(c: &mut Criterion, f: &FleetFixture) {
    let names = names();
    let mut g = c.benchmark_group("fleet_10k");
    for pair in &f.pairs {
        for (state, router) in [("in_memory", &pair.in_memory), ("fleet", &*pair.fleet)] {
            let mut turn = 0;
            g.bench_function(format!("route_{}_{state}", pair.name), |b| {
                b.iter(|| {
                    turn = (turn + 1) % names.len();
                    black_box(router.route(black_box(&names[turn]), &NONE).is_ok())
                })
            });
        }
    }
    g.finish();
}

/// Alternating batches (in-memory, fleet, in-memory, ...) of each config, fastest of 15, and the ratio. Each
/// batch starts with an untimed pass over the names, so that each router finds its own state in cache whatever
/// ran before.
pub(super) fn ratios(f: &FleetFixture) {
    let names = names();
    let n = names.len() as u32;
    let x = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "\n== route with a fleet (Redis-backed state, sync task running) vs without, 10,000 deployments \
         (alternating batches, best of 15) =="
    );
    for pair in &f.pairs {
        let routers = [&pair.in_memory, &*pair.fleet];
        let mut one = [Duration::MAX; 2];
        let mut two = [Duration::MAX; 2];
        let mut refused = [0; 2];
        for _ in 0..15 {
            for (k, router) in routers.iter().enumerate() {
                route_all(router, &names);
                let (a, r1) = route_all(router, &names);
                let (b, r2) = route_all(router, &names);
                one[k] = one[k].min((a + b) / (2 * n));
                refused[k] += r1 + r2;
            }
            for (k, router) in routers.iter().enumerate() {
                route_all_2_threads(router, &names, 1);
                two[k] = two[k].min(route_all_2_threads(router, &names, 8) / (16 * n));
            }
        }
        assert_eq!(refused[0], 0, "the router without a fleet refused a route");
        let ([memory, fleet], [memory_2, fleet_2]) = (one, two);
        println!(
            "{:<23} route {fleet:>7.0?} with a fleet vs {memory:>7.0?} without = {:.2}x (bar 1.2x); \
             on 2 threads (wall time per route) {fleet_2:.0?} vs {memory_2:.0?} = {:.2}x; fleet routes refused: {}",
            pair.name,
            x(fleet, memory),
            x(fleet_2, memory_2),
            refused[1],
        );
    }
}
