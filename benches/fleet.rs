//! How fast a fleet's replicas see each other's changes, and how exactly they hold a shared `rpm` limit: 4 routers
//! in this process, each a replica with its own Redis connection and sync task (default [`FleetOptions`]: 50 ms
//! poll interval), sharing one local `redis-server` (started by the test harness,
//! `tests/support/redis_server.rs`).
//!
//! - **Cooldown propagation**: one replica reports a failure that cools a deployment down; the time until each
//!   of the 3 others sees [`DeploymentHealth::is_cooling_down`] (a fresh deployment per round; rounds start at
//!   random moments, so they fall anywhere in the poll interval). 100 rounds, over 10,000 deployments.
//! - **Model-list propagation**: [`Fleet::publish`] of a new version (2% of its deployments changed), until
//!   every replica's [`FleetHealth::list_version`] is that version (it has reconciled to it). 50 rounds with
//!   1,000 deployments, 10 with 10,000.
//! - **Fleet-wide `rpm`**: `usage-based-routing-v2`, a deployment with `rpm` 100, 1,000 or 10 alone in its group,
//!   4 replicas each trying a route every 0.5 ms for 3 s inside one Redis minute (all 4 busy, or one busy and
//!   three idle): requests served against the limit (overshoot, unused capacity), and the pool Redis granted.
//!
//! `cargo bench --all-features --bench fleet` (about 40 s). Plain `main`: figures are printed, nothing is
//! asserted but that the limit was never exceeded. `cargo bench --all-features --bench fleet -- minute` runs only
//! (a'): cooldowns and rate-limited routes at the start of a Redis minute (waits for one: up to a minute).
//!
//! [`DeploymentHealth::is_cooling_down`]: modelroute::router::DeploymentHealth::is_cooling_down
//! [`FleetHealth::list_version`]: modelroute::fleet::FleetHealth::list_version

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use modelroute::fleet::{Fleet, FleetOptions};
use modelroute::router::{FailureKind, Outcome, RequestContext, RouterSettings, RoutingStrategy};
use modelroute::{Deployment, DeploymentId, Router};
use redis::aio::ConnectionManager;
use support::redis_server::RedisServer;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

const REPLICAS: usize = 4;
/// Every wait ends: a change not seen within this long is counted as missed.
const BOUND: Duration = Duration::from_secs(5);
/// How often the bench looks at a replica's state while waiting.
const LOOK_EVERY: Duration = Duration::from_micros(200);
const NONE: RequestContext<'static> = RequestContext::new();

/// One replica: its router, its fleet membership, its sync task (aborted on drop).
struct Replica {
    router: Arc<Router>,
    fleet: Fleet,
    task: JoinHandle<()>,
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connection(redis: &RedisServer) -> ConnectionManager {
    let client = redis::Client::open(redis.url()).unwrap();
    ConnectionManager::new(client).await.unwrap()
}

/// `REPLICAS` replicas of fleet `prefix` with default fleet options, connected (first exchange done).
fn replicas(
    rt: &Runtime,
    redis: &RedisServer,
    prefix: &str,
    settings: &RouterSettings,
    list: &[Arc<Deployment>],
) -> Vec<Replica> {
    let replicas: Vec<Replica> = (0..REPLICAS)
        .map(|_| {
            let fleet = Fleet::new(FleetOptions::new(prefix).unwrap());
            let router = Arc::new(
                Router::builder()
                    .settings(settings.clone())
                    .deployments(list.iter().cloned())
                    .fleet(&fleet)
                    .build()
                    .unwrap(),
            );
            let conn = rt.block_on(connection(redis));
            let sync = fleet.sync(router.clone(), conn, tokio::time::sleep);
            let task = rt.spawn(async move {
                let _ = sync.await;
            });
            Replica {
                router,
                fleet,
                task,
            }
        })
        .collect();
    let started = Instant::now();
    for r in &replicas {
        while !r.fleet.health().connected {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "a replica did not connect to Redis"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    replicas
}

/// `n` deployments: groups `model-<g>` of two (`exact-<g>-0`, `exact-<g>-1`), and from 8,000 on wildcard
/// providers. `version` sets `rpm` on 1% of them, so two versions differ in 2%.
fn list(n: usize, version: u64) -> Vec<Arc<Deployment>> {
    (0..n)
        .map(|i| {
            let mut d = if i < 8_000 {
                let (g, k) = (i / 2, i % 2);
                Deployment::new(format!("model-{g}"), format!("openai/model-{g}"))
                    .unwrap()
                    .with_param("api_base", format!("https://p{k}-{g}.example/v1"))
                    .unwrap()
                    .with_id(format!("exact-{g}-{k}"))
                    .unwrap()
            } else {
                Deployment::new(format!("prov{i}/*"), format!("prov{i}/*"))
                    .unwrap()
                    .with_id(format!("wild-{i}"))
                    .unwrap()
            };
            if i as u64 % 100 == version % 100 {
                d = d.with_param("rpm", 1_000 + version).unwrap();
            }
            Arc::new(d)
        })
        .collect()
}

/// A small xorshift for the random pauses between rounds (no dependency, reproducible).
struct Pauses(u64);

impl Pauses {
    /// 20 ms plus up to 50 ms (one poll interval): a round starts anywhere in the replicas' poll cycle.
    fn next(&mut self) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(20) + Duration::from_micros(self.0 % 50_000)
    }
}

/// Waits until `seen(i)` holds for every replica index in `among`; returns each one's delay from `start`
/// (`None`: not within [`BOUND`]).
fn wait_each(
    start: Instant,
    among: &[usize],
    seen: impl Fn(usize) -> bool,
) -> Vec<Option<Duration>> {
    let mut when: Vec<Option<Duration>> = vec![None; among.len()];
    while when.iter().any(Option::is_none) && start.elapsed() < BOUND {
        for (k, &i) in among.iter().enumerate() {
            if when[k].is_none() && seen(i) {
                when[k] = Some(start.elapsed());
            }
        }
        std::thread::sleep(LOOK_EVERY);
    }
    when
}

/// p50, p99 and max of `samples` (nearest rank), as text.
fn percentiles(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort();
    let rank =
        |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    format!(
        "p50 {:>7.1?}  p99 {:>7.1?}  max {:>7.1?}  ({} samples)",
        rank(0.50),
        rank(0.99),
        samples[samples.len() - 1],
        samples.len()
    )
}

/// (a) A cooldown started on replica 0, until each of the others sees it.
fn cooldown_propagation(rt: &Runtime, redis: &RedisServer) {
    const ROUNDS: usize = 100;
    let settings = RouterSettings::default().with_cooldown(0, Duration::from_secs(60));
    let replicas = replicas(rt, redis, "bench-cooldown", &settings, &list(10_000, 0));
    let mut pauses = Pauses(0x9E37_79B9_7F4A_7C15);
    let (mut each, mut all, mut missed) = (Vec::new(), Vec::new(), 0);
    for round in 0..ROUNDS {
        std::thread::sleep(pauses.next());
        let id = DeploymentId::from(format!("exact-{round}-0"));
        let cooling = |i: usize| {
            replicas[i]
                .router
                .health(&id)
                .is_some_and(|h| h.is_cooling_down())
        };
        let start = Instant::now();
        replicas[0]
            .router
            .report_id(&id, Outcome::failure(FailureKind::Status(503)))
            .unwrap();
        assert!(
            cooling(0),
            "the reporting replica cools the deployment down itself"
        );
        let seen = wait_each(start, &[1, 2, 3], cooling);
        missed += seen.iter().filter(|s| s.is_none()).count();
        each.extend(seen.iter().flatten());
        if seen.iter().all(Option::is_some) {
            all.push(seen.iter().flatten().copied().max().unwrap());
        }
    }
    println!(
        "\n== (a) cooldown propagation: 4 replicas, 10,000 deployments, default options (poll 50 ms) =="
    );
    println!("each other replica   {}", percentiles(&mut each));
    println!("all three            {}", percentiles(&mut all));
    println!("not seen within {BOUND:?}: {missed} of {}", 3 * ROUNDS);
}

/// (a') At the start of a Redis minute, under `usage-based-routing-v2` with 4,000 rate-limited deployments
/// (`rpm` 100,000, one in each exact group) and 20 groups whose only deployment is rate-limited: every replica
/// leases the new minute's requests then. From 2 s before the minute to 5 s after: cooldown rounds as in (a),
/// and replica 1 routing the 20 single-deployment groups every millisecond (how long each is refused after the
/// minute starts).
fn minute_start(rt: &Runtime, redis: &RedisServer) {
    const SOLO: usize = 20;
    let settings = RouterSettings::default()
        .with_cooldown(0, Duration::from_secs(60))
        .with_strategy(RoutingStrategy::UsageBasedV2);
    let limited = |d: Deployment| Arc::new(d.with_param("rpm", 100_000u64).unwrap());
    let mut deployments: Vec<Arc<Deployment>> = list(10_000, 0)
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            if i < 8_000 && i % 2 == 1 {
                limited((*d).clone())
            } else {
                d
            }
        })
        .collect();
    for k in 0..SOLO {
        let d = Deployment::new(format!("solo-{k}"), "openai/gpt-4o").unwrap();
        deployments.push(limited(d.with_id(format!("solo-{k}")).unwrap()));
    }
    let replicas = replicas(rt, redis, "bench-minute", &settings, &deployments);
    let mut conn = rt.block_on(connection(redis));
    let left = 60_000 - redis_ms(rt, &mut conn) % 60_000;
    println!(
        "\n(waiting {:.1} s for 2 s before the next Redis minute)",
        left.saturating_sub(2_000) as f64 / 1e3
    );
    std::thread::sleep(Duration::from_millis(left.saturating_sub(2_000)));
    let began = Instant::now();
    let minute_at = began + Duration::from_millis(left.min(2_000));
    let solo = &replicas[1].router;
    let (rounds, gaps) = std::thread::scope(|s| {
        let router = solo.clone();
        let gaps = s.spawn(move || {
            // Per group: the longest run of refusals (from the first refusal to the next success).
            let mut refused_since: Vec<Option<Instant>> = vec![None; SOLO];
            let mut longest = vec![Duration::ZERO; SOLO];
            while began.elapsed() < Duration::from_secs(7) {
                for k in 0..SOLO {
                    match router.route(&format!("solo-{k}"), &NONE) {
                        Ok(_) => {
                            if let Some(since) = refused_since[k].take() {
                                longest[k] = longest[k].max(since.elapsed());
                            }
                        }
                        Err(_) => {
                            refused_since[k].get_or_insert_with(Instant::now);
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            for (k, since) in refused_since.iter().enumerate() {
                if let Some(since) = since {
                    longest[k] = longest[k].max(since.elapsed());
                }
            }
            longest
        });
        let mut pauses = Pauses(0x1234_5678_9ABC_DEF1);
        let mut rounds = Vec::new();
        for round in 200.. {
            if began.elapsed() >= Duration::from_secs(7) {
                break;
            }
            std::thread::sleep(pauses.next());
            let id = DeploymentId::from(format!("exact-{round}-0"));
            let cooling = |i: usize| {
                replicas[i]
                    .router
                    .health(&id)
                    .is_some_and(|h| h.is_cooling_down())
            };
            let start = Instant::now();
            replicas[0]
                .router
                .report_id(&id, Outcome::failure(FailureKind::Status(503)))
                .unwrap();
            let seen = wait_each(start, &[1, 2, 3], cooling);
            // When the round started, relative to the minute start (ms; negative: before it).
            let at = start.saturating_duration_since(minute_at).as_secs_f64()
                - minute_at.saturating_duration_since(start).as_secs_f64();
            rounds.push((
                at,
                seen.iter().flatten().copied().max(),
                seen.iter().any(Option::is_none),
            ));
        }
        (rounds, gaps.join().unwrap())
    });
    println!(
        "== (a') a Redis minute starts: 10,000 deployments, 4,000 rate-limited (v2), default options =="
    );
    let mut before: Vec<Duration> = rounds
        .iter()
        .filter(|r| r.0 < 0.0)
        .filter_map(|r| r.1)
        .collect();
    let mut after: Vec<Duration> = rounds
        .iter()
        .filter(|r| r.0 >= 1.0)
        .filter_map(|r| r.1)
        .collect();
    println!(
        "cooldown, all three, rounds before the minute    {}",
        percentiles(&mut before)
    );
    println!(
        "cooldown, all three, rounds 1 s or more after it {}",
        percentiles(&mut after)
    );
    for (at, all, missed) in rounds.iter().filter(|r| (0.0..1.0).contains(&r.0)) {
        println!(
            "cooldown started {:>4.0} ms after the minute began: all three after {all:.1?}{}",
            at * 1e3,
            if *missed { " (some missed)" } else { "" }
        );
    }
    let mut gaps = gaps;
    println!(
        "routes refused to a group of one rate-limited deployment after the minute began (replica 1, {SOLO} \
         groups): {}",
        percentiles(&mut gaps)
    );
}

/// (b) A published list version, until every replica has reconciled to it.
fn list_propagation(rt: &Runtime, redis: &RedisServer, size: usize, rounds: u64) {
    let prefix = format!("bench-list-{size}");
    let replicas = replicas(
        rt,
        redis,
        &prefix,
        &RouterSettings::default(),
        &list(size, 0),
    );
    let mut writer = rt.block_on(connection(redis));
    let mut pauses = Pauses(0x2545_F491_4F6C_DD1D);
    let (mut each, mut all, mut missed) = (Vec::new(), Vec::new(), 0);
    for round in 1..=rounds {
        std::thread::sleep(pauses.next());
        let next: Vec<Deployment> = list(size, round).iter().map(|d| (**d).clone()).collect();
        let start = Instant::now();
        let version = rt
            .block_on(replicas[0].fleet.publish(&mut writer, &next))
            .unwrap();
        let seen = wait_each(start, &[0, 1, 2, 3], |i| {
            replicas[i].fleet.health().list_version == version
        });
        missed += seen.iter().filter(|s| s.is_none()).count();
        each.extend(seen.iter().flatten());
        if seen.iter().all(Option::is_some) {
            all.push(seen.iter().flatten().copied().max().unwrap());
        }
    }
    println!(
        "\n== (b) model-list propagation: publish, until each replica reconciled; {size} deployments, 2% changed =="
    );
    println!("each replica         {}", percentiles(&mut each));
    println!("all four             {}", percentiles(&mut all));
    println!("not seen within {BOUND:?}: {missed} of {}", 4 * rounds);
}

/// Redis time (ms).
fn redis_ms(rt: &Runtime, conn: &mut ConnectionManager) -> u64 {
    let (secs, micros): (u64, u64) = rt.block_on(redis::cmd("TIME").query_async(conn)).unwrap();
    secs * 1_000 + micros / 1_000
}

/// (c) `rpm` across the fleet: served against the limit in one Redis minute.
fn rpm_accuracy(rt: &Runtime, redis: &RedisServer) {
    const LOAD: Duration = Duration::from_secs(3);
    let cases: [(u64, usize); 6] = [(100, 4), (1_000, 4), (100, 1), (1_000, 1), (10, 4), (10, 1)];
    let list: Vec<Arc<Deployment>> = cases
        .iter()
        .enumerate()
        .map(|(i, (rpm, _))| {
            Arc::new(
                Deployment::new(format!("limited-{i}"), "openai/gpt-4o-mini")
                    .unwrap()
                    .with_param("rpm", *rpm)
                    .unwrap()
                    .with_id(format!("limited-{i}"))
                    .unwrap(),
            )
        })
        .collect();
    let settings = RouterSettings::default().with_strategy(RoutingStrategy::UsageBasedV2);
    let replicas = replicas(rt, redis, "bench-rpm", &settings, &list);
    let mut conn = rt.block_on(connection(redis));
    println!(
        "\n== (c) fleet-wide rpm: 4 replicas, usage-based-routing-v2, a route tried every 0.5 ms per busy replica \
         for {LOAD:?}, inside one Redis minute =="
    );
    for (case, (rpm, busy)) in cases.into_iter().enumerate() {
        // The whole load inside one Redis minute: wait for the next one if this one ends too soon.
        let now = redis_ms(rt, &mut conn);
        let left = 60_000 - now % 60_000;
        if left < LOAD.as_millis() as u64 + 2_000 {
            std::thread::sleep(Duration::from_millis(left + 200));
        }
        let window = redis_ms(rt, &mut conn) / 60_000;
        let name = format!("limited-{case}");
        let start = Instant::now();
        let per_replica: Vec<(u64, u64, Option<Duration>, Vec<u64>)> = std::thread::scope(|s| {
            let workers: Vec<_> = replicas[..busy]
                .iter()
                .map(|r| {
                    let name = &name;
                    s.spawn(move || {
                        let (mut served, mut tried, mut last) = (0u64, 0u64, None);
                        let mut minutes = Vec::new();
                        while start.elapsed() < LOAD {
                            tried += 1;
                            if let Ok(route) = r.router.route(name, &NONE) {
                                served += 1;
                                last = Some(start.elapsed());
                                minutes.push(r.fleet.redis_minute().unwrap_or(0));
                                drop(route);
                            }
                            std::thread::sleep(Duration::from_micros(500));
                        }
                        (served, tried, last, minutes)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let served: u64 = per_replica.iter().map(|p| p.0).sum();
        let tried: u64 = per_replica.iter().map(|p| p.1).sum();
        let last = per_replica
            .iter()
            .filter_map(|p| p.2)
            .max()
            .unwrap_or_default();
        let other_minute = per_replica
            .iter()
            .flat_map(|p| &p.3)
            .filter(|m| **m != window)
            .count();
        // The pool: requests of this minute leased to replicas (minus returned), as Redis counts them.
        let pool = redis.raw(&[
            "HGET",
            &format!("{{bench-rpm}}:use:{window}"),
            &format!("r:limited-{case}"),
        ]);
        let pool = pool.lines().nth(1).unwrap_or("?").to_string();
        let shares: Vec<u64> = per_replica.iter().map(|p| p.0).collect();
        println!(
            "rpm {rpm:>5}, {busy} busy + {} idle: served {served:>4} of {rpm} (overshoot {}, unused {}), last at \
             {last:.2?}; {tried} tried; per busy replica {shares:?}; leased from Redis {pool}{}",
            REPLICAS - busy,
            served.saturating_sub(rpm),
            rpm.saturating_sub(served),
            if other_minute > 0 {
                format!("; {other_minute} served in another minute")
            } else {
                String::new()
            },
        );
        assert!(
            served <= rpm,
            "the fleet served {served} requests with rpm {rpm} in one minute"
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; there is nothing to filter here.
    let started = Instant::now();
    let redis = RedisServer::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // `cargo bench --all-features --bench fleet -- minute`: only (a'), which waits for a Redis minute to start.
    if std::env::args().any(|a| a == "minute") {
        minute_start(&rt, &redis);
        rt.shutdown_timeout(Duration::from_secs(1));
        return;
    }
    cooldown_propagation(&rt, &redis);
    list_propagation(&rt, &redis, 1_000, 50);
    list_propagation(&rt, &redis, 10_000, 10);
    rpm_accuracy(&rt, &redis);
    rt.shutdown_timeout(Duration::from_secs(1));
    println!("\n(total {:.1?})", started.elapsed());
}
