//! How a replica takes part in a fleet: [`FleetOptions`], and what a usage limit does while Redis is away
//! ([`LimitMode`]).

use std::fmt;
use std::time::Duration;

use crate::error::FleetError;

/// What a deployment's `rpm` / `tpm` limit does while this replica cannot reach Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LimitMode {
    /// Keep serving: each replica enforces the limit on its own (what LiteLLM does all the time), so a fleet
    /// of N replicas may let up to N times the limit through until Redis is back. The default: an outage of
    /// the coordination store should not become an outage of the gateway.
    #[default]
    FailOpen,
    /// Refuse requests to limited deployments (`RouteError::NoneAvailable`) once the allowance leased before
    /// the outage is spent: the limit is never exceeded, at the price of availability.
    FailClosed,
}

/// Settings of a replica's [`Fleet`](super::Fleet). Every setting has a default that suits a fleet of a few
/// to a few dozen replicas on one Redis.
///
/// ```
/// use modelroute::fleet::{FleetOptions, LimitMode};
/// use std::time::Duration;
///
/// let options = FleetOptions::new("gateway-prod")?
///     .poll_interval(Duration::from_millis(50))
///     .limit_mode(LimitMode::FailClosed);
/// assert_eq!(options.prefix(), "gateway-prod");
/// # Ok::<(), modelroute::error::FleetError>(())
/// ```
#[derive(Clone)]
pub struct FleetOptions {
    pub(crate) prefix: String,
    pub(crate) replica: String,
    pub(crate) poll_interval: Duration,
    pub(crate) in_flight_lease: Duration,
    pub(crate) limit_mode: LimitMode,
    pub(crate) max_backoff: Duration,
    pub(crate) max_outbox: usize,
}

impl fmt::Debug for FleetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetOptions")
            .field("prefix", &self.prefix)
            .field("replica", &self.replica)
            .field("poll_interval", &self.poll_interval)
            .field("in_flight_lease", &self.in_flight_lease)
            .field("limit_mode", &self.limit_mode)
            .field("max_backoff", &self.max_backoff)
            .field("max_outbox", &self.max_outbox)
            .finish()
    }
}

/// Longest accepted prefix or replica name.
const MAX_NAME: usize = 128;

fn check_name(what: &'static str, name: &str) -> Result<(), FleetError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(FleetError::InvalidName {
            what,
            reason: "1 to 128 characters of A-Z a-z 0-9 - _ . :",
        })
    }
}

impl FleetOptions {
    /// Options for the fleet whose keys start with `{prefix}` (one Redis Cluster slot per fleet). Replicas
    /// of one gateway share a prefix; two gateways on one Redis use two. The replica name is random (see
    /// [`replica`](Self::replica)).
    pub fn new(prefix: &str) -> Result<Self, FleetError> {
        check_name("prefix", prefix)?;
        Ok(FleetOptions {
            prefix: prefix.to_owned(),
            replica: random_replica_name(),
            poll_interval: Duration::from_millis(50),
            in_flight_lease: Duration::from_secs(10),
            limit_mode: LimitMode::default(),
            max_backoff: Duration::from_secs(5),
            max_outbox: 100_000,
        })
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// This replica's name in Redis (its in-flight counts and events carry it). Random by default; set it
    /// to something stable, such as a pod name, to read Redis more easily. Two live replicas must not share
    /// one.
    pub fn replica(mut self, name: &str) -> Result<Self, FleetError> {
        check_name("replica", name)?;
        self.replica = name.to_owned();
        Ok(self)
    }

    /// The replica name in use.
    pub fn replica_name(&self) -> &str {
        &self.replica
    }

    /// How often the sync task exchanges state with Redis (default 50 ms): the bound on how late a cooldown
    /// or a model list started elsewhere arrives here, plus one Redis round trip. Clamped to 5 ms..=10 s.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.clamp(Duration::from_millis(5), Duration::from_secs(10));
        self
    }

    /// How long this replica's routes in flight count for the others without being renewed (default 10 s):
    /// a replica killed with routes in flight stops counting for `least-busy` after at most this long.
    /// Clamped to at least 4 poll intervals.
    pub fn in_flight_lease(mut self, lease: Duration) -> Self {
        self.in_flight_lease = lease;
        self
    }

    /// What `rpm` / `tpm` limits do while Redis is away (default [`LimitMode::FailOpen`]).
    pub fn limit_mode(mut self, mode: LimitMode) -> Self {
        self.limit_mode = mode;
        self
    }

    /// Longest wait between reconnection attempts while Redis is away (default 5 s; the wait starts at the
    /// poll interval and doubles).
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max.max(Duration::from_millis(10));
        self
    }

    /// Most local events (latency samples, reported tokens) kept for Redis while it is away (default
    /// 100,000); older ones are dropped first and counted in [`FleetHealth`](super::FleetHealth). Bounds
    /// memory during an outage.
    pub fn max_outbox(mut self, max: usize) -> Self {
        self.max_outbox = max.max(1);
        self
    }

    pub(crate) fn effective_in_flight_lease(&self) -> Duration {
        self.in_flight_lease.max(self.poll_interval * 4)
    }
}

/// A replica name unlikely to collide: process id, time and a counter, hashed.
fn random_replica_name() -> String {
    use sha2::{Digest, Sha256};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = Sha256::new();
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    hasher.update(now.as_nanos().to_le_bytes());
    // An address on the stack differs between processes started at the same instant on different hosts.
    let local = 0u8;
    hasher.update((std::ptr::addr_of!(local) as usize).to_le_bytes());
    let digest = hasher.finalize();
    let mut name = String::with_capacity(18);
    name.push_str("r-");
    for byte in &digest[..8] {
        name.push_str(&format!("{byte:02x}"));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_hash_tag_braces_or_spaces_are_refused() {
        assert!(FleetOptions::new("a{b}").is_err());
        assert!(FleetOptions::new("").is_err());
        assert!(FleetOptions::new("has space").is_err());
        assert!(FleetOptions::new(&"x".repeat(129)).is_err());
        assert!(FleetOptions::new("gateway-prod:eu_1.a").is_ok());
    }

    #[test]
    fn two_default_replicas_get_different_names() {
        let a = FleetOptions::new("p").unwrap();
        let b = FleetOptions::new("p").unwrap();
        assert_ne!(a.replica_name(), b.replica_name());
    }
}
