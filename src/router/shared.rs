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
