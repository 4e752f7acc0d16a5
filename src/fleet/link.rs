//! What a router and its fleet's sync task share in memory: the outbox of local facts on their way to Redis,
//! the request allowances leased from Redis, the wake-up signal, and the health of the link.
//!
//! Everything here is synchronous and cheap: the route path touches only atomics.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;

use super::options::{FleetOptions, LimitMode};
use crate::deployment::DeploymentId;

/// A fact of this replica's, on its way to Redis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Local {
    /// A latency sample as LiteLLM stores it (seconds, per completion token when known) and a time to first
    /// token (seconds), measured here.
    Latency {
        id: DeploymentId,
        sample: f64,
        ttft: Option<f64>,
    },
    /// Tokens reported here.
    Tokens { id: DeploymentId, tokens: u64 },
}

/// The bounded queue of local facts. Cooldowns are never dropped (one per deployment at most matters, so
/// they are kept aside); samples and token counts are dropped oldest first when it is full.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    pub cooldowns: Vec<(DeploymentId, Duration)>,
    pub samples: VecDeque<Local>,
    pub dropped: u64,
}

impl Outbox {
    /// Keeps one cooldown per deployment: the longest asked for.
    fn add_cooldown(&mut self, id: DeploymentId, duration: Duration) {
        match self.cooldowns.iter_mut().find(|(known, _)| *known == id) {
            Some(entry) => entry.1 = entry.1.max(duration),
            None => self.cooldowns.push((id, duration)),
        }
    }
}

/// Health of a replica's link to Redis, as [`Fleet::health`](super::Fleet::health) reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FleetHealth {
    /// Whether the last exchange with Redis succeeded.
    pub connected: bool,
    /// Exchanges that failed in a row (0 when connected).
    pub consecutive_failures: u32,
    /// The last failure, as text (no secret: Redis errors carry no credentials).
    pub last_error: Option<String>,
    /// When the last exchange succeeded.
    pub last_success: Option<Instant>,
    /// How long the sync task waits before its next attempt (the poll interval when connected).
    pub next_attempt_in: Duration,
    /// Local facts (latency samples, reported tokens) dropped because the outbox was full during an outage.
    pub dropped_events: u64,
    /// The model list version this replica last reconciled to (0: none published yet).
    pub list_version: u64,
    /// Model lists published in Redis that this replica refused (invalid), with the reason of the last one.
    pub rejected_list: Option<String>,
}

/// State shared by a router (through its routes and reports) and its fleet's sync task.
#[derive(Debug)]
pub(crate) struct Link {
    pub options: FleetOptions,
    outbox: Mutex<Outbox>,
    /// Set when there is something the sync task should send without waiting for its next poll.
    urgent: AtomicBool,
    waker: AtomicWaker,
    connected: AtomicBool,
    /// When this link was made: the origin of `offset_ms`.
    origin: Instant,
    /// Redis time (ms) minus the milliseconds since `origin`, as of the last exchange (0: none yet). One
    /// atomic load names the current minute on the route path, without I/O or a lock.
    offset_ms: AtomicU64,
    pub health: Mutex<FleetHealth>,
}

impl Link {
    pub(crate) fn new(options: FleetOptions) -> Arc<Self> {
        Arc::new(Link {
            options,
            outbox: Mutex::new(Outbox::default()),
            urgent: AtomicBool::new(false),
            waker: AtomicWaker::new(),
            connected: AtomicBool::new(false),
            origin: Instant::now(),
            offset_ms: AtomicU64::new(0),
            health: Mutex::new(FleetHealth {
                connected: false,
                consecutive_failures: 0,
                last_error: None,
                last_success: None,
                next_attempt_in: Duration::ZERO,
                dropped_events: 0,
                list_version: 0,
                rejected_list: None,
            }),
        })
    }

    /// Whether the last exchange with Redis succeeded.
    pub(crate) fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Release);
    }

    /// Whether limits are enforced through leases now (connected, or disconnected and failing closed).
    pub(crate) fn leases_apply(&self) -> bool {
        self.is_connected() || self.options.limit_mode == LimitMode::FailClosed
    }

    /// Records Redis's time as read at `at`.
    pub(crate) fn anchor(&self, redis_ms: u64, at: Instant) {
        let since = at.saturating_duration_since(self.origin).as_millis() as u64;
        self.offset_ms
            .store(redis_ms.saturating_sub(since).max(1), Ordering::Release);
    }

    /// Redis's time (ms) at `now`, estimated from the last anchor (`None` before the first exchange).
    #[inline]
    pub(crate) fn redis_ms(&self, now: Instant) -> Option<u64> {
        let offset = self.offset_ms.load(Ordering::Acquire);
        (offset != 0)
            .then(|| offset + now.saturating_duration_since(self.origin).as_millis() as u64)
    }

    /// A cooldown started here: sent at once.
    pub(crate) fn cooldown_started(&self, id: DeploymentId, duration: Duration) {
        self.outbox.lock().add_cooldown(id, duration);
        self.wake();
    }

    /// A latency sample or a token count, sent with the next poll.
    pub(crate) fn push(&self, fact: Local) {
        let mut outbox = self.outbox.lock();
        if outbox.samples.len() >= self.options.max_outbox {
            outbox.samples.pop_front();
            outbox.dropped += 1;
        }
        outbox.samples.push_back(fact);
    }

    /// Everything waiting, leaving the outbox empty (its drop count stays).
    pub(crate) fn drain(&self) -> (Vec<(DeploymentId, Duration)>, Vec<Local>, u64) {
        let mut outbox = self.outbox.lock();
        let cooldowns = std::mem::take(&mut outbox.cooldowns);
        let samples = outbox.samples.drain(..).collect();
        (cooldowns, samples, outbox.dropped)
    }

    /// Puts back facts a failed exchange did not deliver (before anything newer, bounded as usual).
    pub(crate) fn restore(&self, cooldowns: Vec<(DeploymentId, Duration)>, samples: Vec<Local>) {
        let mut outbox = self.outbox.lock();
        for (id, duration) in cooldowns {
            outbox.add_cooldown(id, duration);
        }
        let max = self.options.max_outbox;
        let mut merged: VecDeque<Local> = samples.into();
        merged.extend(outbox.samples.drain(..));
        while merged.len() > max {
            merged.pop_front();
            outbox.dropped += 1;
        }
        outbox.samples = merged;
    }

    /// Asks the sync task to run now.
    pub(crate) fn wake(&self) {
        self.urgent.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready when [`wake`](Self::wake) was called since the last time this returned ready.
    pub(crate) fn poll_urgent(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.urgent.swap(false, Ordering::AcqRel) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        if self.urgent.swap(false, Ordering::AcqRel) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_drops_oldest_samples_but_never_a_cooldown() {
        let link = Link::new(FleetOptions::new("t").unwrap().max_outbox(2));
        let id = DeploymentId::from("d");
        link.cooldown_started(id.clone(), Duration::from_secs(5));
        for n in 1..=3 {
            link.push(Local::Latency {
                id: id.clone(),
                sample: f64::from(n),
                ttft: None,
            });
        }
        let (cooldowns, samples, dropped) = link.drain();
        assert_eq!(cooldowns.len(), 1);
        assert_eq!(dropped, 1);
        assert_eq!(
            samples,
            vec![
                Local::Latency {
                    id: id.clone(),
                    sample: 2.0,
                    ttft: None
                },
                Local::Latency {
                    id,
                    sample: 3.0,
                    ttft: None
                }
            ]
        );
    }
}
