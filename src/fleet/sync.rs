//! The sync task: one loop per replica that exchanges state with Redis every poll interval (and at once when a
//! cooldown starts here), backs off while Redis is away, and resynchronises when it is back.

use std::collections::HashMap;
use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures_util::future::{Either, select};
use redis::aio::ConnectionLike;

use super::link::{Link, Local};
use super::store::{Event, Store, WINDOW_MS};
use super::{Replica, RouterLimits};
use crate::deployment::DeploymentId;
use crate::error::FleetError;

/// Events read per poll at most (a replica further behind reads the rest next time, or resynchronises).
const POLL_COUNT: usize = 1_000;
/// A replica that took nothing from an allowance for this many polls gives what is left back to the pool.
const IDLE_POLLS_BEFORE_RETURN: u32 = 20;
/// Below this `rpm`, an idle replica keeps none of the limit (see `lease`).
const IDLE_KEEP_MIN_RPM: u64 = 50;
/// Polls to wait before asking an empty pool again in the same window.
const EXHAUSTED_RETRY_POLLS: u32 = 10;

/// Per-deployment lease bookkeeping of the sync task.
#[derive(Debug, Default)]
struct LeaseState {
    idle_polls: u32,
    /// The window whose pool was found empty, and the polls to wait before asking again (replicas going idle
    /// give requests back).
    exhausted: Option<(u64, u32)>,
}

/// The loop's memory between rounds.
pub(crate) struct SyncTask<'a, R: Replica> {
    link: &'a Link,
    store: Store,
    replica: &'a R,
    /// Stream position; `None` until the first full load (and after an outage).
    position: Option<String>,
    leases: HashMap<DeploymentId, LeaseState>,
    list_version: u64,
}

impl<'a, R: Replica> SyncTask<'a, R> {
    pub(crate) fn new(link: &'a Link, replica: &'a R) -> Self {
        SyncTask {
            store: Store::new(&link.options.prefix, &link.options.replica),
            link,
            replica,
            position: None,
            leases: HashMap::new(),
            list_version: 0,
        }
    }

    /// Runs forever: each round exchanges state, then waits for the poll interval, an urgent local event, or
    /// (after a failure) the backoff.
    pub(crate) async fn run<C, S, F>(mut self, conn: &mut C, sleep: S) -> !
    where
        C: ConnectionLike,
        S: Fn(Duration) -> F,
        F: Future<Output = ()>,
    {
        let mut backoff = self.link.options.poll_interval;
        loop {
            let wait = match self.round(conn).await {
                Ok(()) => {
                    backoff = self.link.options.poll_interval;
                    self.succeeded();
                    self.link.options.poll_interval
                }
                Err(error) => {
                    self.failed(&error, backoff);
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.link.options.max_backoff);
                    wait
                }
            };
            let timer = pin!(sleep(wait));
            let urgent = pin!(std::future::poll_fn(|cx| self.link.poll_urgent(cx)));
            match select(timer, urgent).await {
                Either::Left(_) | Either::Right(_) => {}
            }
        }
    }

    fn succeeded(&self) {
        let was = self.link.is_connected();
        self.link.set_connected(true);
        let mut health = self.link.health.lock();
        if !was && health.consecutive_failures > 0 {
            crate::trace::info!(
                replica = %self.link.options.replica,
                failures = health.consecutive_failures,
                "fleet: Redis is back; state resynchronised"
            );
        }
        health.connected = true;
        health.consecutive_failures = 0;
        health.last_success = Some(Instant::now());
        health.next_attempt_in = self.link.options.poll_interval;
        health.list_version = self.list_version;
    }

    fn failed(&mut self, error: &FleetError, backoff: Duration) {
        self.link.set_connected(false);
        // Events may be missed while away: load everything again when back.
        self.position = None;
        let mut health = self.link.health.lock();
        health.connected = false;
        health.consecutive_failures = health.consecutive_failures.saturating_add(1);
        health.last_error = Some(error.to_string());
        health.next_attempt_in = backoff;
        if health.consecutive_failures == 1 || health.consecutive_failures.is_power_of_two() {
            crate::trace::warn!(
                replica = %self.link.options.replica,
                failures = health.consecutive_failures,
                retry_in_ms = backoff.as_millis() as u64,
                error = %error,
                "fleet: Redis unreachable; routing from local state"
            );
        }
    }

    /// One exchange with Redis.
    pub(crate) async fn round<C: ConnectionLike>(
        &mut self,
        conn: &mut C,
    ) -> Result<(), FleetError> {
        let started = Instant::now();
        if self.position.is_none() {
            self.load(conn).await?;
        }
        self.send(conn).await?;
        let now_ms = self.read(conn).await?;
        self.link.anchor(now_ms, started);
        self.exchange_in_flight(conn).await?;
        self.lease(conn, now_ms).await?;
        Ok(())
    }

    /// Full state: running cooldowns, the published list, and the stream's end to read from.
    async fn load<C: ConnectionLike>(&mut self, conn: &mut C) -> Result<(), FleetError> {
        let (now_ms, cooldowns) = self.store.cooldowns(conn).await?;
        for (id, until_ms) in cooldowns {
            self.replica.cool_down(
                &DeploymentId::from(id),
                Duration::from_millis(until_ms.saturating_sub(now_ms)),
            );
        }
        let (_, position) = self.store.poll(conn, None, 0).await?;
        self.sync_list(conn, None).await?;
        self.position = position;
        Ok(())
    }

    /// Local facts to Redis. What is not delivered goes back to the outbox.
    async fn send<C: ConnectionLike>(&mut self, conn: &mut C) -> Result<(), FleetError> {
        let (cooldowns, samples, dropped) = self.link.drain();
        self.link.health.lock().dropped_events = dropped;
        let result = self.deliver(conn, &cooldowns, &samples).await;
        if result.is_err() {
            self.link.restore(cooldowns, samples);
        }
        result
    }

    async fn deliver<C: ConnectionLike>(
        &mut self,
        conn: &mut C,
        cooldowns: &[(DeploymentId, Duration)],
        samples: &[Local],
    ) -> Result<(), FleetError> {
        for (id, duration) in cooldowns {
            self.store
                .start_cooldown(conn, id.as_str(), *duration)
                .await?;
        }
        let mut latencies = Vec::new();
        let mut tokens: HashMap<&str, u64> = HashMap::new();
        for fact in samples {
            match fact {
                Local::Latency { id, sample, ttft } => {
                    latencies.push((id.as_str(), *sample, *ttft))
                }
                Local::Tokens { id, tokens: n } => *tokens.entry(id.as_str()).or_default() += n,
            }
        }
        self.store.log_latencies(conn, &latencies).await?;
        for (id, n) in tokens {
            let (minute, total) = self.store.add_tokens(conn, id, n).await?;
            self.replica
                .fleet_tokens(&DeploymentId::from(id), minute, total);
        }
        Ok(())
    }

    /// Events of the other replicas since the last read. Returns Redis time (ms).
    async fn read<C: ConnectionLike>(&mut self, conn: &mut C) -> Result<u64, FleetError> {
        let (poll, position) = self
            .store
            .poll(conn, self.position.as_deref(), POLL_COUNT)
            .await?;
        if poll.gap {
            self.position = None;
            self.load(conn).await?;
            return Ok(poll.now_ms);
        }
        self.position = position;
        let mut newest_list = None;
        for logged in poll.events {
            match logged.event {
                Event::Cooldown { id, until_ms } => {
                    let left = until_ms.saturating_sub(poll.now_ms);
                    if left > 0 {
                        self.replica
                            .cool_down(&DeploymentId::from(id), Duration::from_millis(left));
                    }
                }
                Event::Latency(samples) => {
                    for (id, sample, ttft) in samples {
                        self.replica
                            .add_latency(&DeploymentId::from(id), sample, ttft);
                    }
                }
                Event::List { version } => {
                    newest_list = Some(version.max(newest_list.unwrap_or(0)))
                }
            }
        }
        if let Some(version) = newest_list
            && version > self.list_version
        {
            self.sync_list(conn, Some(version)).await?;
        }
        Ok(poll.now_ms)
    }

    /// Reconciles to the published list when it is newer than the one applied.
    async fn sync_list<C: ConnectionLike>(
        &mut self,
        conn: &mut C,
        _hint: Option<u64>,
    ) -> Result<(), FleetError> {
        let Some((version, json)) = self.store.list(conn).await? else {
            return Ok(());
        };
        if version <= self.list_version {
            return Ok(());
        }
        match self.replica.apply_list(&json) {
            Ok(()) => {
                self.list_version = version;
                self.link.health.lock().list_version = version;
                crate::trace::info!(replica = %self.link.options.replica, version, "fleet: model list reconciled");
            }
            Err(reason) => {
                // Not applied and not retried until a newer version: the replica keeps routing its current list.
                self.list_version = version;
                crate::trace::warn!(replica = %self.link.options.replica, version, reason = %reason, "fleet: published model list refused");
                self.link.health.lock().rejected_list =
                    Some(format!("version {version}: {reason}"));
            }
        }
        Ok(())
    }

    async fn exchange_in_flight<C: ConnectionLike>(
        &mut self,
        conn: &mut C,
    ) -> Result<(), FleetError> {
        let mine = self.replica.local_in_flight();
        let mine_ref: Vec<(&str, u64)> = mine.iter().map(|(id, n)| (id.as_str(), *n)).collect();
        let others = self
            .store
            .exchange_in_flight(
                conn,
                &mine_ref,
                self.link.options.effective_in_flight_lease(),
            )
            .await?;
        self.replica.set_remote_in_flight(
            others
                .into_iter()
                .map(|(id, n)| (DeploymentId::from(id), n))
                .collect(),
        );
        Ok(())
    }

    /// Tops up the request allowance of every rate-limited deployment, sized by its recent demand, and gives
    /// back what an idle replica holds.
    async fn lease<C: ConnectionLike>(
        &mut self,
        conn: &mut C,
        now_ms: u64,
    ) -> Result<(), FleetError> {
        let window = now_ms / WINDOW_MS;
        let limited: Vec<RouterLimits> = self.replica.limited();
        self.leases
            .retain(|id, _| limited.iter().any(|l| &l.id == id));
        // What each deployment needs this round; the leases go to Redis in one script call.
        let mut wanted: Vec<(&RouterLimits, u64)> = Vec::new();
        for limits in &limited {
            let rpm = limits.rpm;
            let state = self.leases.entry(limits.id.clone()).or_default();
            let allowance = &limits.stats.shared.allowance;
            let (taken, refused) = allowance.demand();
            let demand = taken + refused;
            let remaining = allowance.remaining(window);
            state.idle_polls = if demand == 0 {
                state.idle_polls.saturating_add(1)
            } else {
                0
            };
            // An idle replica gives its requests back to the pool for the busy ones. It keeps one (so its next
            // request is not refused while it leases) only where the limit is large enough for every replica
            // to keep one without starving a busy one (`rpm` of 50 or more).
            let keep = u64::from(rpm >= IDLE_KEEP_MIN_RPM);
            if state.idle_polls >= IDLE_POLLS_BEFORE_RETURN && remaining > keep {
                let back = allowance.take_back(window);
                if back > keep {
                    self.store
                        .return_requests(conn, limits.id.as_str(), window, back - keep)
                        .await?;
                }
                allowance.grant(window, keep.min(back));
                continue;
            }
            // Enough for one more poll interval of demand (or idle and holding what it keeps): nothing to do.
            if remaining >= demand.max(keep) {
                continue;
            }
            if let Some((empty, retry_in)) = state.exhausted.as_mut()
                && *empty == window
                && *retry_in > 0
            {
                *retry_in -= 1;
                continue;
            }
            // Lease for two poll intervals of demand, at least one block (1/20 of the limit) when busy.
            let target = if demand == 0 {
                keep
            } else {
                (2 * demand).max((rpm / 20).max(1))
            }
            .min(rpm);
            let want = target.saturating_sub(remaining);
            if want > 0 {
                wanted.push((limits, want));
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        let requests: Vec<(&str, u64, u64)> = wanted
            .iter()
            .map(|(limits, want)| (limits.id.as_str(), limits.rpm, *want))
            .collect();
        let (leased_window, grants) = self.store.lease_requests(conn, &requests).await?;
        for ((limits, _), granted) in wanted.iter().zip(grants) {
            limits.stats.shared.allowance.grant(leased_window, granted);
            if let Some(state) = self.leases.get_mut(&limits.id) {
                state.exhausted = (granted == 0).then_some((leased_window, EXHAUSTED_RETRY_POLLS));
            }
        }
        Ok(())
    }
}
