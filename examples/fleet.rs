//! Two replicas of a gateway in one process, sharing a cooldown and an `rpm` limit through Redis.
//!
//! ```text
//! redis-server --port 6379 --save '' &          # any Redis 6.2+
//! REDIS_URL=redis://127.0.0.1:6379/ cargo run --example fleet --features redis
//! ```
use std::sync::Arc;
use std::time::{Duration, Instant};

use modelroute::fleet::{Fleet, FleetOptions};
use modelroute::router::{FailureKind, Outcome, RequestContext, RouterSettings, RoutingStrategy};
use modelroute::{Deployment, DeploymentId, Router};

fn model_list() -> Result<Vec<Deployment>, Box<dyn std::error::Error>> {
    Ok(vec![
        Deployment::new("gpt-4o", "openai/gpt-4o")?.with_id("openai-eu")?,
        Deployment::new("gpt-4o", "azure/gpt-4o")?.with_id("azure-eu")?,
        Deployment::new("mini", "openai/gpt-4o-mini")?
            .with_id("mini")?
            .with_param("rpm", 10)?,
    ])
}

/// One replica: a router in a fleet, with its sync task spawned on this runtime.
async fn replica(
    name: &str,
    url: &str,
) -> Result<(Arc<Router>, Fleet), Box<dyn std::error::Error>> {
    let fleet = Fleet::new(FleetOptions::new("fleet-example")?.replica(name)?);
    let router = Arc::new(
        Router::builder()
            .settings(
                RouterSettings::default()
                    .with_strategy(RoutingStrategy::UsageBasedV2)
                    .with_cooldown(0, Duration::from_secs(30)),
            )
            .deployments(model_list()?)
            .fleet(&fleet)
            .build()?,
    );
    let conn = redis::aio::ConnectionManager::new(redis::Client::open(url)?).await?;
    tokio::spawn(fleet.sync(router.clone(), conn, tokio::time::sleep));
    Ok((router, fleet))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url =
        std::env::var("REDIS_URL").map_err(|_| "set REDIS_URL, e.g. redis://127.0.0.1:6379/")?;
    let (one, one_fleet) = replica("replica-1", &url).await?;
    let (two, two_fleet) = replica("replica-2", &url).await?;
    while !(one_fleet.health().connected && two_fleet.health().connected) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // 1. A failure on replica 1 cools the deployment down on replica 2 as well.
    let route = one.route("gpt-4o", &RequestContext::new())?;
    let failed = route.id().clone();
    one.report(&route, Outcome::failure(FailureKind::Status(503)));
    let start = Instant::now();
    while !two.health(&failed).is_some_and(|h| h.is_cooling_down()) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!(
        "replica 1 saw {failed} fail; replica 2 cooled it down {:?} later",
        start.elapsed()
    );
    let on_two = two.route("gpt-4o", &RequestContext::new())?;
    println!("replica 2 now routes gpt-4o to {}", on_two.id());

    // 2. `mini` allows 10 requests a minute across the fleet, not 10 per replica.
    let mut served = [0, 0];
    for _ in 0..50 {
        for (i, router) in [&one, &two].into_iter().enumerate() {
            if router.route("mini", &RequestContext::new()).is_ok() {
                served[i] += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "mini (rpm 10): replica 1 served {}, replica 2 served {}, {} in all",
        served[0],
        served[1],
        served[0] + served[1]
    );
    let mini = DeploymentId::from("mini");
    println!("fleet health of replica 1: {:?}", one_fleet.health());
    let _ = one.health(&mini);
    Ok(())
}
