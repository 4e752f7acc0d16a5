//! The seam between a deployment's local health and usage state and the state a fleet of replicas shares.
//!
//! Without a fleet (the default) nothing here is used: cooldowns, failure counts, usage per minute, routes in
//! flight and latency samples live in memory ([`Stats`](super::health::Stats)), as they always have. With a
//! [`Fleet`](crate::fleet::Fleet) (feature `redis`), each deployment's state also carries what the fleet's sync
//! task brought from the other replicas, and the route path reads it like local state: no I/O, atomics only.
//!
//! - **Request allowance** ([`Allowance`]): under a strategy that holds `rpm` as a limit, a replica routes a
//!   rate-limited deployment only with requests leased from the fleet's pool of the current minute (Redis's
//!   minute), which the sync task tops up by recent demand. The pool never grants more than `rpm` in a minute
//!   across the fleet, so the limit holds exactly, however many replicas.
//! - **Fleet tokens**: the fleet's `tpm` usage of the current minute, as of the last sync (`tpm` is held against
//!   the larger of it and the local count).
//! - **Remote routes in flight**: the other replicas' routes in flight, for `least-busy`.
//!
//! Cooldowns and latency samples from other replicas are written into the local state itself: a cooldown is a
//! cooldown, wherever it started.

use std::sync::atomic::{AtomicU64, Ordering};

/// The requests of one rate-limited deployment this replica may still route in one Redis minute, leased from
/// the fleet's pool.
#[derive(Debug, Default)]
pub(crate) struct Allowance {
    /// The minute (Redis time, minutes since the Unix epoch) the remaining requests belong to; 0 before the
    /// first lease.
    window: AtomicU64,
    remaining: AtomicU64,
    /// Requests taken since the sync task last looked (the demand it sizes the next lease by).
    taken: AtomicU64,
    /// Requests refused for want of allowance since the sync task last looked.
    refused: AtomicU64,
}

impl Allowance {
    /// Takes one request of `window`. False when none is left (or the allowance is for another minute).
    pub(crate) fn take(&self, window: u64) -> bool {
        if self.window.load(Ordering::Acquire) != window {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let mut left = self.remaining.load(Ordering::Acquire);
        loop {
            if left == 0 {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            match self.remaining.compare_exchange_weak(
                left,
                left - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.taken.fetch_add(1, Ordering::Relaxed);
                    return true;
                }
                Err(now) => left = now,
            }
        }
    }

    /// Whether a request of `window` could be taken now (no side effect but counting the demand).
    pub(crate) fn has(&self, window: u64) -> bool {
        self.remaining(window) > 0
    }

    /// Remaining requests of `window`.
    pub(crate) fn remaining(&self, window: u64) -> u64 {
        if self.window.load(Ordering::Acquire) == window {
            self.remaining.load(Ordering::Acquire)
        } else {
            0
        }
    }

    /// Adds `granted` requests of `window` (a new minute replaces what was left of the old one, which the
    /// fleet's pool has forgotten anyway).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn grant(&self, window: u64, granted: u64) {
        if self.window.load(Ordering::Acquire) == window {
            self.remaining.fetch_add(granted, Ordering::AcqRel);
        } else {
            self.remaining.store(granted, Ordering::Release);
            self.window.store(window, Ordering::Release);
        }
    }

    /// Takes back everything left of `window` (to return it to the pool); returns how much.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn take_back(&self, window: u64) -> u64 {
        if self.window.load(Ordering::Acquire) != window {
            return 0;
        }
        self.remaining.swap(0, Ordering::AcqRel)
    }

    /// (taken, refused) since the last call.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn demand(&self) -> (u64, u64) {
        (
            self.taken.swap(0, Ordering::Relaxed),
            self.refused.swap(0, Ordering::Relaxed),
        )
    }

    /// Counts a refusal the route path saw while filtering (so the sync task leases more).
    pub(crate) fn note_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Bits of [`SharedStats::fleet_tokens`] holding the count; the rest hold the minute.
const COUNT_BITS: u32 = 40;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

/// What the fleet's sync task keeps of one deployment's shared state.
#[derive(Debug, Default)]
pub(crate) struct SharedStats {
    pub allowance: Allowance,
    /// The other replicas' routes in flight.
    remote_in_flight: AtomicU64,
    /// The fleet's tokens of one minute: minute (low 24 bits) << 40 | tokens.
    fleet_tokens: AtomicU64,
}

impl SharedStats {
    /// The other replicas' routes in flight.
    pub(crate) fn remote_in_flight(&self) -> u64 {
        self.remote_in_flight.load(Ordering::Relaxed)
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn set_remote_in_flight(&self, count: u64) {
        self.remote_in_flight.store(count, Ordering::Relaxed);
    }

    /// The fleet's tokens in Redis minute `window`, as of the last sync (0 for any other minute).
    pub(crate) fn fleet_tokens(&self, window: u64) -> u64 {
        let packed = self.fleet_tokens.load(Ordering::Relaxed);
        if packed >> COUNT_BITS == window & 0xFF_FFFF {
            packed & COUNT_MASK
        } else {
            0
        }
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn set_fleet_tokens(&self, window: u64, tokens: u64) {
        let packed = ((window & 0xFF_FFFF) << COUNT_BITS) | tokens.min(COUNT_MASK);
        self.fleet_tokens.store(packed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_allowance_gives_exactly_what_was_granted_for_its_minute() {
        let a = Allowance::default();
        assert!(!a.take(7));
        a.grant(7, 3);
        assert!(a.take(7) && a.take(7) && a.take(7));
        assert!(!a.take(7));
        assert!(!a.take(8), "another minute has nothing");
        a.grant(8, 1);
        assert_eq!(a.remaining(7), 0);
        assert!(a.take(8));
        assert_eq!(a.demand(), (4, 3));
        assert_eq!(a.demand(), (0, 0));
    }

    #[test]
    fn four_threads_never_take_more_than_granted() {
        let a = std::sync::Arc::new(Allowance::default());
        a.grant(1, 500);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let a = a.clone();
                std::thread::spawn(move || (0..1000).filter(|_| a.take(1)).count())
            })
            .collect();
        let taken: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(taken, 500);
    }

    #[test]
    fn fleet_tokens_belong_to_their_minute() {
        let s = SharedStats::default();
        s.set_fleet_tokens(29_000_000, 1234);
        assert_eq!(s.fleet_tokens(29_000_000), 1234);
        assert_eq!(s.fleet_tokens(29_000_001), 0);
    }
}

/// The router's side of the seam: what its routes and reports hand to the fleet, and what the fleet's sync task
/// writes back. Without a fleet every method here does nothing.
mod replica {
    use std::time::Duration;

    #[cfg(feature = "redis")]
    use std::collections::HashMap;
    #[cfg(feature = "redis")]
    use std::sync::Arc;
    #[cfg(feature = "redis")]
    use std::time::Instant;

    #[cfg(feature = "redis")]
    use crate::deployment::DeploymentId;
    #[cfg(feature = "redis")]
    use crate::fleet::{Link, Local, Replica, RouterLimits};
    use crate::router::Router;
    #[cfg(feature = "redis")]
    use crate::router::latency;
    use crate::router::state::Member;
    use crate::router::usage::Usage;

    /// Milliseconds in a usage window (LiteLLM counts per minute).
    #[cfg(feature = "redis")]
    const MINUTE_MS: u64 = 60_000;

    impl Router {
        /// Whether this router was built with the fleet of `link`.
        #[cfg(feature = "redis")]
        pub(crate) fn is_linked_to(&self, link: &Arc<Link>) -> bool {
            self.fleet
                .as_ref()
                .is_some_and(|mine| Arc::ptr_eq(mine, link))
        }

        /// The fleet's current minute (Redis's clock), when the fleet's leases hold the `rpm` limits now:
        /// connected, or away and failing closed. Before the first exchange with Redis, minute 0, for which no
        /// request is ever leased.
        #[inline]
        pub(crate) fn fleet_minute(&self) -> Option<u64> {
            #[cfg(feature = "redis")]
            if let Some(link) = &self.fleet
                && link.leases_apply()
            {
                return Some(link.redis_ms(Instant::now()).map_or(0, |ms| ms / MINUTE_MS));
            }
            None
        }

        /// A success measured here: its latency sample and tokens, for the other replicas.
        #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
        pub(crate) fn share_success(
            &self,
            member: &Member,
            latency: Duration,
            usage: Option<Usage>,
            time_to_first_token: Option<Duration>,
        ) {
            #[cfg(feature = "redis")]
            if let Some(link) = &self.fleet {
                let secs = latency::seconds(latency);
                let sample = match usage.map(|u| u.completion_tokens) {
                    Some(tokens) if tokens > 0 => secs / tokens as f64,
                    _ => secs,
                };
                link.push(Local::Latency {
                    id: member.deployment.id().clone(),
                    sample,
                    ttft: time_to_first_token.map(latency::seconds),
                });
                if let Some(tokens) = usage.map(|u| u.total_tokens).filter(|t| *t > 0) {
                    link.push(Local::Tokens {
                        id: member.deployment.id().clone(),
                        tokens,
                    });
                }
            }
        }

        /// A timeout measured here (LiteLLM's latency penalty), for the other replicas.
        #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
        pub(crate) fn share_timeout(&self, member: &Member) {
            #[cfg(feature = "redis")]
            if let Some(link) = &self.fleet {
                link.push(Local::Latency {
                    id: member.deployment.id().clone(),
                    sample: latency::TIMEOUT_PENALTY_SECS,
                    ttft: None,
                });
            }
        }

        /// A cooldown started here, `left` to run: sent to the other replicas at once.
        #[cfg_attr(not(feature = "redis"), allow(unused_variables))]
        pub(crate) fn share_cooldown(&self, member: &Member, left: Duration) {
            #[cfg(feature = "redis")]
            if let Some(link) = &self.fleet {
                link.cooldown_started(member.deployment.id().clone(), left);
            }
        }
    }

    #[cfg(feature = "redis")]
    impl Replica for Router {
        fn cool_down(&self, id: &DeploymentId, remaining: Duration) {
            let member = self.state.read().by_id.get(id).cloned();
            if let Some(member) = member {
                let now = self.now_ns();
                let was = member.stats.is_cooling(now);
                member.stats.cool_down_for(now, remaining);
                if !was {
                    crate::trace::warn!(
                        target: "modelroute::health",
                        deployment = %id,
                        cooldown_secs = remaining.as_secs_f64(),
                        "cooldown started by another replica"
                    );
                }
            }
        }

        fn add_latency(&self, id: &DeploymentId, sample: f64, ttft: Option<f64>) {
            let member = self.state.read().by_id.get(id).cloned();
            if let Some(member) = member {
                member.stats.latency.record(
                    sample,
                    ttft,
                    self.now_ns(),
                    self.latency_ttl_ns,
                    self.settings.ttft_percentile,
                );
            }
        }

        fn fleet_tokens(&self, id: &DeploymentId, minute: u64, total: u64) {
            let member = self.state.read().by_id.get(id).cloned();
            if let Some(member) = member {
                member.stats.shared.set_fleet_tokens(minute, total);
            }
        }

        fn local_in_flight(&self) -> Vec<(DeploymentId, u64)> {
            self.state
                .read()
                .by_id
                .iter()
                .filter_map(|(id, m)| {
                    let n = m.stats.in_flight() as u64;
                    (n > 0).then(|| (id.clone(), n))
                })
                .collect()
        }

        fn set_remote_in_flight(&self, counts: HashMap<DeploymentId, u64>) {
            for (id, member) in &self.state.read().by_id {
                member
                    .stats
                    .shared
                    .set_remote_in_flight(counts.get(id).copied().unwrap_or(0));
            }
        }

        fn limited(&self) -> Vec<RouterLimits> {
            let Some(rule) = &self.limit_rule else {
                return Vec::new();
            };
            self.state
                .read()
                .by_id
                .iter()
                .filter_map(|(id, m)| {
                    let rpm = m.limits.rpm_allowed(rule)?;
                    Some(RouterLimits {
                        id: id.clone(),
                        rpm,
                        stats: m.stats.clone(),
                    })
                })
                .collect()
        }

        fn apply_list(&self, json: &str) -> Result<(), String> {
            let list: Vec<crate::deployment::Deployment> =
                serde_json::from_str(json).map_err(|e| crate::redact::parse_reason(&e))?;
            self.reconcile(list).map(|_| ()).map_err(|e| e.to_string())
        }
    }
}
