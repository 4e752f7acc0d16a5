//! Four replicas in four OS processes share one `rpm` limit through a real redis-server: the limit holds for
//! the fleet, not per process.
//!
//! The replicas are this test binary itself, started again with `--ignored --exact replica_process` (the
//! ignored entry point below), so no other binary has to be built.
#![cfg(feature = "redis")]

mod support;

use std::collections::HashMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use modelroute::fleet::{Fleet, FleetOptions};
use modelroute::router::{RequestContext, RouterSettings, RoutingStrategy};
use modelroute::{Deployment, Router};
use support::process::{die_with_parent, has_exited, signal_group};
use support::redis_server::RedisServer;

/// Set in the environment of a replica process: the Redis URL to join.
const CHILD_ENV: &str = "MODELROUTE_FLEET_CHILD_REDIS_URL";
/// How long each replica routes.
const LOAD: Duration = Duration::from_secs(3);
/// Every replica process must be done within this long.
const BOUND: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the entry point of the replica processes that four_replica_processes_never_serve_more_than_rpm_together starts"]
async fn replica_process() {
    let Ok(url) = std::env::var(CHILD_ENV) else {
        return;
    };
    let fleet = Fleet::new(FleetOptions::new("processes").unwrap());
    let router = Arc::new(
        Router::builder()
            .settings(RouterSettings::default().with_strategy(RoutingStrategy::UsageBasedV2))
            .deployment(
                Deployment::new("limited", "openai/gpt-4o-mini")
                    .unwrap()
                    .with_id("l")
                    .unwrap()
                    .with_param("rpm", 100)
                    .unwrap(),
            )
            .fleet(&fleet)
            .build()
            .unwrap(),
    );
    let conn = redis::aio::ConnectionManager::new(redis::Client::open(url).unwrap())
        .await
        .unwrap();
    let sync = tokio::spawn(fleet.sync(router.clone(), conn, tokio::time::sleep));
    let start = Instant::now();
    while !fleet.health().connected {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "replica never connected"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Start together: at the next full second of the wall clock.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    tokio::time::sleep(Duration::from_nanos(
        1_000_000_000 - u64::from(now.subsec_nanos()),
    ))
    .await;
    let mut served: HashMap<u64, u64> = HashMap::new();
    let start = Instant::now();
    while start.elapsed() < LOAD {
        if router.route("limited", &RequestContext::new()).is_ok() {
            *served.entry(fleet.redis_minute().unwrap()).or_default() += 1;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    for (minute, n) in served {
        println!("FLEET-SERVED {minute} {n}");
    }
    sync.abort();
}

#[test]
fn four_replica_processes_never_serve_more_than_rpm_together() {
    let redis = RedisServer::start();
    let exe = std::env::current_exe().unwrap();
    let mut children = Vec::new();
    for _ in 0..4 {
        let mut cmd = Command::new(&exe);
        cmd.args([
            "--ignored",
            "--exact",
            "replica_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, redis.url())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        die_with_parent(&mut cmd);
        children.push(cmd.spawn().expect("start a replica process"));
    }
    let start = Instant::now();
    let mut per_minute: HashMap<u64, u64> = HashMap::new();
    for mut child in children {
        while !has_exited(child.id()) {
            if start.elapsed() > BOUND {
                signal_group(child.id(), libc::SIGKILL);
                let _ = child.wait();
                panic!("a replica process did not finish within {BOUND:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "replica process failed: {status}\n{out}");
        // libtest prints `test replica_process ... ` before the test's own output, on the same line.
        for line in out
            .lines()
            .filter_map(|l| l.split_once("FLEET-SERVED ").map(|(_, rest)| rest))
        {
            let (minute, n) = line.split_once(' ').unwrap();
            *per_minute.entry(minute.parse().unwrap()).or_default() += n.parse::<u64>().unwrap();
        }
    }
    eprintln!("served per minute by 4 processes: {per_minute:?}");
    assert!(
        per_minute.values().all(|&n| n <= 100),
        "never more than rpm in a minute across processes: {per_minute:?}"
    );
    let best = per_minute.values().copied().max().unwrap_or(0);
    assert!(
        best >= 95,
        "at least 95 of 100 served in a saturated minute: {per_minute:?}"
    );
}
