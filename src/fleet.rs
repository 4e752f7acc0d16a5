//! A fleet of replicas sharing routing state through Redis (feature `redis`).
//!
//! Each replica of a gateway has its own [`Router`]. Without a fleet, each decides from its own memory: a
//! deployment failing in one replica is still hammered by the others, and a deployment's `rpm` is enforced per
//! replica, so N replicas let N times the limit through (LiteLLM #27736, #40291). With a [`Fleet`], replicas
//! share through Redis:
//!
//! - **cooldowns**: a cooldown started by any replica is honoured by all, typically within one poll interval
//!   (50 ms by default; LiteLLM re-reads every second);
//! - **`rpm` limits, exactly**: a replica routes a rate-limited deployment only with requests leased from the
//!   fleet's pool for the current minute, which an atomic script never lets exceed the limit. Leases are sized by
//!   each replica's recent demand, so idle capacity is not hoarded (an idle replica gives its lease back);
//! - **`tpm` usage**: tokens reported by every replica add up in Redis, and each replica sees the fleet's total;
//! - **routes in flight** (`least-busy`), leased so that a crashed replica's counts expire, and **latency
//!   samples** (`latency-based-routing`);
//! - **the model list**: [`Fleet::publish`] stores a new version; every replica's sync task reconciles to it as
//!   soon as it sees it (atomically, like [`Router::reconcile`]); a replica that starts late loads the current one.
//!
//! [`Router::route`] stays synchronous and does no network I/O: it reads local state, which the sync task keeps
//! close to Redis. The library starts no task: you spawn [`Fleet::sync`] on your runtime, with your Redis
//! connection (any [`redis::aio::ConnectionLike`]: a `ConnectionManager`, which reconnects by itself, or a cluster
//! connection) and your runtime's sleep function.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use modelroute::fleet::{Fleet, FleetOptions};
//! use modelroute::{Deployment, Router};
//!
//! let fleet = Fleet::new(FleetOptions::new("my-gateway")?);
//! let router = std::sync::Arc::new(
//!     Router::builder()
//!         .deployment(Deployment::new("gpt-4o", "openai/gpt-4o")?.with_param("rpm", 100)?)
//!         .fleet(&fleet)
//!         .build()?,
//! );
//! let redis = redis::Client::open("redis://127.0.0.1/")?;
//! let conn = redis::aio::ConnectionManager::new(redis).await?;
//! let sync = fleet.sync(router.clone(), conn, tokio::time::sleep);
//! tokio::spawn(sync);
//! # Ok(()) }
//! ```
//!
//! # When Redis is away
//! Routing goes on from local state; the sync task retries with backoff (from the poll interval up to
//! [`FleetOptions::max_backoff`]), logs it (`tracing`, feature `tracing`) and reports it ([`Fleet::health`]),
//! keeps what it could not send in a bounded outbox, and loads the whole shared state again when Redis is back.
//! What a usage limit does meanwhile is [`LimitMode`]: by default each replica enforces it alone (fail open).
#![cfg_attr(docsrs, doc(cfg(feature = "redis")))]

mod link;
mod options;
mod store;
mod sync;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionLike;

pub use self::link::FleetHealth;
pub(crate) use self::link::{Link, Local};
pub use self::options::{FleetOptions, LimitMode};
use self::store::Store;
use crate::deployment::{Deployment, DeploymentId};
use crate::error::FleetError;
use crate::router::Router;

/// One replica's membership in a fleet: give it to the [`Router`] ([`RouterBuilder::fleet`]) and spawn
/// [`sync`](Self::sync). Cheap to clone (shared).
///
/// [`RouterBuilder::fleet`]: crate::router::RouterBuilder::fleet
#[derive(Debug, Clone)]
pub struct Fleet {
    link: Arc<Link>,
}

impl Fleet {
    /// A replica of the fleet `options` names.
    pub fn new(options: FleetOptions) -> Self {
        Fleet {
            link: Link::new(options),
        }
    }

    /// Its settings.
    pub fn options(&self) -> &FleetOptions {
        &self.link.options
    }

    /// How the link to Redis is doing.
    pub fn health(&self) -> FleetHealth {
        self.link.health.lock().clone()
    }

    /// The fleet's current minute (Redis's clock, minutes since the Unix epoch), as this replica estimates it
    /// from its last exchange: the window its `rpm` leases belong to. `None` before the first exchange.
    pub fn redis_minute(&self) -> Option<u64> {
        self.link
            .redis_ms(std::time::Instant::now())
            .map(|ms| ms / store::WINDOW_MS)
    }

    pub(crate) fn link(&self) -> &Arc<Link> {
        &self.link
    }

    /// The sync task of this replica: spawn it on your runtime. It runs until dropped (abort the task to stop
    /// it); it never ends by itself and never panics on a Redis failure. `sleep` is your runtime's timer (for
    /// tokio, `tokio::time::sleep`). Refuses a router built without this fleet.
    pub fn sync<C, S, F>(
        &self,
        router: Arc<Router>,
        mut conn: C,
        sleep: S,
    ) -> impl Future<Output = Result<std::convert::Infallible, FleetError>> + Send + 'static
    where
        C: ConnectionLike + Send + 'static,
        S: Fn(Duration) -> F + Send + 'static,
        F: Future<Output = ()> + Send,
    {
        let link = self.link.clone();
        async move {
            if !router.is_linked_to(&link) {
                return Err(FleetError::NotLinked);
            }
            let task = sync::SyncTask::new(&link, &*router);
            task.run(&mut conn, sleep).await
        }
    }

    /// Publishes `deployments` as the fleet's model list: a new version that every replica's sync task
    /// reconciles to. Returns the version. The list is stored as [`Deployment`] serializes it: `os.environ/`
    /// references stay references (each replica resolves them from its own environment), literal keys are
    /// stored as written, so protect Redis as you protect the config.
    pub async fn publish<C: ConnectionLike>(
        &self,
        conn: &mut C,
        deployments: &[Deployment],
    ) -> Result<u64, FleetError> {
        let json = serde_json::to_string(deployments).map_err(|e| FleetError::InvalidList {
            version: 0,
            reason: e.to_string(),
        })?;
        let store = Store::new(&self.link.options.prefix, &self.link.options.replica);
        Ok(store.publish_list(conn, &json).await?)
    }

    /// The version of the fleet's published model list (0: none).
    pub async fn published_version<C: ConnectionLike>(
        &self,
        conn: &mut C,
    ) -> Result<u64, FleetError> {
        let store = Store::new(&self.link.options.prefix, &self.link.options.replica);
        Ok(store.list_version(conn).await?)
    }
}

/// A rate-limited deployment as the sync task sees it.
#[derive(Debug)]
pub(crate) struct RouterLimits {
    pub id: DeploymentId,
    pub rpm: u64,
    pub stats: Arc<crate::router::health::Stats>,
}

/// The router side of the seam: what the sync task reads from and writes into a replica's local state.
pub(crate) trait Replica: Sync {
    /// A cooldown started by another replica, `remaining` from now.
    fn cool_down(&self, id: &DeploymentId, remaining: Duration);
    /// A latency sample (seconds, per token when known) and time to first token measured by another replica.
    fn add_latency(&self, id: &DeploymentId, sample: f64, ttft: Option<f64>);
    /// The fleet's token total of `id` in Redis minute `minute`.
    fn fleet_tokens(&self, id: &DeploymentId, minute: u64, total: u64);
    /// This replica's routes in flight (non-zero counts).
    fn local_in_flight(&self) -> Vec<(DeploymentId, u64)>;
    /// The other replicas' routes in flight (absent: 0).
    fn set_remote_in_flight(&self, counts: HashMap<DeploymentId, u64>);
    /// Deployments with an `rpm` limit, with their allowances.
    fn limited(&self) -> Vec<RouterLimits>;
    /// Reconciles to a published list (JSON array of model_list entries).
    fn apply_list(&self, json: &str) -> Result<(), String>;
}
