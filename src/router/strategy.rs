//! Picking one deployment among the eligible ones of a group: the routing strategies, and the injectable
//! randomness they use.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::latency::LatencyRead;
use super::state::Member;
use super::usage::WallNow;

/// How the router picks among the eligible deployments of a group (LiteLLM's `routing_strategy`).
///
/// ```
/// use modelroute::router::RoutingStrategy;
/// let s: RoutingStrategy = "usage-based-routing-v2".parse()?;
/// assert_eq!(s, RoutingStrategy::UsageBasedV2);
/// assert_eq!(s.as_str(), "usage-based-routing-v2");
/// assert!("cost-based-routing".parse::<RoutingStrategy>().is_ok());
/// # Ok::<(), modelroute::router::UnknownStrategy>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RoutingStrategy {
    /// `simple-shuffle` (LiteLLM's default): a weighted random pick. The weight is `weight` if any eligible
    /// deployment has a positive one, else `rpm`, else `tpm`; a deployment without that metric gets weight 0
    /// and is never picked while another has it (LiteLLM does the same). Without any metric: uniform.
    #[default]
    SimpleShuffle,
    /// `round-robin`: the eligible deployments in config order, one after the other (one counter per group).
    RoundRobin,
    /// `least-busy`: the fewest requests in flight (routes not yet dropped); ties broken at random.
    LeastBusy,
    /// `latency-based-routing`: the lowest average of the last 10 latency samples (seconds per completion
    /// token when the outcome carries token counts; time to first token for streamed requests; a timeout
    /// counts 1,000 s; a deployment without samples is tried first); random among those within
    /// `lowest_latency_buffer` of the best. `rpm` / `tpm` are limits on the successes and tokens of the
    /// current minute. See [`latency`](super::latency).
    LowestLatency,
    /// `usage-based-routing` (LiteLLM's v1): the fewest tokens reported this minute; ties go to the first in
    /// config order. `rpm` limits the successes of the minute, `tpm` its tokens. See [`usage`](super::usage).
    UsageBased,
    /// `usage-based-routing-v2`: the fewest tokens reported this minute; ties broken at random. `rpm` limits
    /// the routes made this minute (counted when routed, as LiteLLM's pre-call check does), `tpm` the tokens.
    UsageBasedV2,
    /// `cost-based-routing`: the lowest input + output price per token (see [`pricing`](super::pricing));
    /// ties go to the first in config order. `rpm` / `tpm` are limits on the successes and tokens of the
    /// current minute.
    LowestCost,
    /// `provider-budget-routing`: picks like `simple-shuffle`; provider budgets (`provider_budget_config`)
    /// are not enforced. (LiteLLM 1.109.1 accepts the name but has no selector for it, so it answers every
    /// request with "No deployments available".)
    ProviderBudget,
    /// `lar1` (LiteLLM's LAR-1 routing): the first eligible deployment whose `model_info.type` is the tier
    /// LiteLLM picks for a request without LAR-1 metadata (confidence 0.5 against `routing_strategy_args`
    /// `confidence_threshold_low` / `_medium` / `_high`: `local` with the defaults; see
    /// [`RouterSettings::lar1_type`](super::RouterSettings::lar1_type)), else the first eligible one.
    Lar1,
}

impl RoutingStrategy {
    /// Every strategy, in the order of [`RoutingStrategy::as_str`]'s names as LiteLLM lists them
    /// (`round-robin`, this crate's own, last).
    pub const ALL: [RoutingStrategy; 9] = [
        RoutingStrategy::SimpleShuffle,
        RoutingStrategy::Lar1,
        RoutingStrategy::LeastBusy,
        RoutingStrategy::LowestLatency,
        RoutingStrategy::LowestCost,
        RoutingStrategy::UsageBasedV2,
        RoutingStrategy::UsageBased,
        RoutingStrategy::ProviderBudget,
        RoutingStrategy::RoundRobin,
    ];

    /// The name LiteLLM's config uses (`round-robin` is this crate's own).
    pub fn as_str(&self) -> &'static str {
        match self {
            RoutingStrategy::SimpleShuffle => "simple-shuffle",
            RoutingStrategy::RoundRobin => "round-robin",
            RoutingStrategy::LeastBusy => "least-busy",
            RoutingStrategy::LowestLatency => "latency-based-routing",
            RoutingStrategy::UsageBased => "usage-based-routing",
            RoutingStrategy::UsageBasedV2 => "usage-based-routing-v2",
            RoutingStrategy::LowestCost => "cost-based-routing",
            RoutingStrategy::ProviderBudget => "provider-budget-routing",
            RoutingStrategy::Lar1 => "lar1",
        }
    }
}

impl fmt::Display for RoutingStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A routing strategy name that is not supported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStrategy(pub String);

impl fmt::Display for UnknownStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unsupported routing strategy `{}`", self.0)
    }
}

impl std::error::Error for UnknownStrategy {}

impl FromStr for RoutingStrategy {
    type Err = UnknownStrategy;

    /// Parses every name LiteLLM 1.109.1 accepts (`simple-shuffle`, `lar1`, `least-busy`,
    /// `latency-based-routing`, `cost-based-routing`, `usage-based-routing-v2`, `usage-based-routing`,
    /// `provider-budget-routing`), and `round-robin`; `lowest-latency` is accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lowest-latency" => Ok(RoutingStrategy::LowestLatency),
            other => RoutingStrategy::ALL
                .into_iter()
                .find(|strategy| strategy.as_str() == other)
                .ok_or_else(|| UnknownStrategy(other.to_string())),
        }
    }
}

/// A source of random numbers for the strategies. Inject a seeded one to make routing deterministic.
///
/// ```
/// use modelroute::router::{RandomSource, SplitMix64};
/// let a = SplitMix64::new(7);
/// let b = SplitMix64::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// ```
pub trait RandomSource: Send + Sync + fmt::Debug {
    /// The next 64 random bits.
    fn next_u64(&self) -> u64;
}

/// SplitMix64: a small, fast, seedable generator (not cryptographic). Lock-free: concurrent callers each
/// get a distinct value of the sequence.
#[derive(Debug)]
pub struct SplitMix64 {
    state: AtomicU64,
}

const GOLDEN_GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

impl SplitMix64 {
    /// A generator starting from `seed`: the same seed gives the same sequence.
    pub fn new(seed: u64) -> Self {
        SplitMix64 {
            state: AtomicU64::new(seed),
        }
    }

    /// A generator seeded from the clock and the process (different on every call).
    pub fn from_entropy() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let local = 0u8;
        let address = &local as *const u8 as u64;
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        SplitMix64::new(mix(time
            ^ address.rotate_left(32)
            ^ mix(n)
            ^ u64::from(std::process::id())))
    }
}

impl RandomSource for SplitMix64 {
    fn next_u64(&self) -> u64 {
        mix(self
            .state
            .fetch_add(GOLDEN_GAMMA, Ordering::Relaxed)
            .wrapping_add(GOLDEN_GAMMA))
    }
}

/// The default source: one [`SplitMix64`] state per thread, seeded from entropy, so that threads routing
/// at once do not contend on a shared state.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PerThreadRandom;

impl RandomSource for PerThreadRandom {
    fn next_u64(&self) -> u64 {
        thread_local! {
            static STATE: std::cell::Cell<u64> = std::cell::Cell::new(
                SplitMix64::from_entropy().next_u64()
            );
        }
        STATE.with(|state| {
            let next = state.get().wrapping_add(GOLDEN_GAMMA);
            state.set(next);
            mix(next)
        })
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A uniform integer in `0..n` (`n > 0`).
fn below(rng: &dyn RandomSource, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// A uniform float in `[0, 1)`.
fn unit(rng: &dyn RandomSource) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The `nth` member (0-based) among those accepted by `ok`; if there are fewer (counts changed meanwhile), the
/// first accepted, else the first.
fn nth(members: &[std::sync::Arc<Member>], ok: &impl Fn(&Member) -> bool, n: usize) -> usize {
    let (mut first, mut seen) = (None, 0);
    for (i, m) in members.iter().enumerate() {
        if ok(m) {
            if seen == n {
                return i;
            }
            first.get_or_insert(i);
            seen += 1;
        }
    }
    first.unwrap_or(0)
}

/// Everything a strategy may need besides the members.
pub(crate) struct StrategyInput<'a> {
    pub strategy: RoutingStrategy,
    pub rng: &'a dyn RandomSource,
    pub round_robin: &'a AtomicUsize,
    pub latency_buffer: f64,
    /// How latencies are read (`latency-based-routing`).
    pub latency: LatencyRead,
    /// The current minute and the counters' `ttl` (usage-based routing).
    pub usage: Option<(WallNow, u64)>,
    /// For `lar1`: the `model_info.type` to prefer.
    pub lar1_type: &'a str,
}

// The key-based strategies read the (cheap) key of every member first and check eligibility (`ok`: health,
// tags, limits, order) only for a member that could be the lowest: a member with a higher key than the lowest
// seen so far is skipped unchecked.

/// The index of the member accepted by `ok` with the lowest `key`; ties go to the first.
fn first_lowest(
    members: &[std::sync::Arc<Member>],
    ok: &impl Fn(&Member) -> bool,
    key: impl Fn(&Member) -> f64,
) -> usize {
    let mut best: Option<(f64, usize)> = None;
    for (i, m) in members.iter().enumerate() {
        let k = key(m);
        if best.is_none_or(|(min, _)| k < min) && ok(m) {
            best = Some((k, i));
        }
    }
    best.map_or(0, |(_, i)| i)
}

/// A member accepted by `ok` whose `key` is at most `(1 + buffer)` times the lowest, chosen at random.
fn random_lowest(
    input: &StrategyInput<'_>,
    members: &[std::sync::Arc<Member>],
    ok: &impl Fn(&Member) -> bool,
    buffer: f64,
    key: impl Fn(&Member) -> f64,
) -> usize {
    // The lowest key, and how many eligible members have it, in one pass.
    let (mut min, mut ties) = (f64::INFINITY, 0usize);
    for m in members {
        let k = key(m);
        if k < min || ties == 0 {
            if ok(m) {
                (min, ties) = (k, 1);
            }
        } else if k == min && ok(m) {
            ties += 1;
        }
    }
    if buffer <= 0.0 {
        let ok_low = |m: &Member| key(m) == min && ok(m);
        return nth(members, &ok_low, below(input.rng, ties.max(1)));
    }
    // LiteLLM: `x <= lowest + buffer * lowest`.
    let limit = min + buffer * min;
    let ok_low = |m: &Member| key(m) <= limit && ok(m);
    let n = members.iter().filter(|m| ok_low(m)).count();
    nth(members, &ok_low, below(input.rng, n.max(1)))
}

/// Picks one of the members accepted by `ok` (`count` of them, at least one). Returns its index in
/// `members`. Allocates nothing.
pub(crate) fn pick(
    input: &StrategyInput<'_>,
    members: &[std::sync::Arc<Member>],
    count: usize,
    ok: impl Fn(&Member) -> bool,
) -> usize {
    debug_assert!(count > 0);
    if count == 1 {
        return nth(members, &ok, 0);
    }
    match input.strategy {
        RoutingStrategy::SimpleShuffle | RoutingStrategy::ProviderBudget => {
            shuffle(input.rng, members, count, &ok)
        }
        RoutingStrategy::Lar1 => {
            let typed = |m: &Member| {
                ok(m)
                    && m.deployment
                        .model_info()
                        .get("type")
                        .and_then(|t| t.as_str())
                        == Some(input.lar1_type)
            };
            match members.iter().position(|m| typed(m)) {
                Some(i) => i,
                None => nth(members, &ok, 0),
            }
        }
        RoutingStrategy::RoundRobin => {
            let turn = input.round_robin.fetch_add(1, Ordering::Relaxed);
            nth(members, &ok, turn % count)
        }
        RoutingStrategy::LeastBusy => {
            let mut min = usize::MAX;
            let mut ties = 0;
            for m in members.iter().filter(|m| ok(m)) {
                let busy = m.stats.fleet_in_flight();
                if busy < min {
                    min = busy;
                    ties = 1;
                } else if busy == min {
                    ties += 1;
                }
            }
            let ok_min = |m: &Member| ok(m) && m.stats.fleet_in_flight() == min;
            nth(members, &ok_min, below(input.rng, ties.max(1)))
        }
        RoutingStrategy::LowestLatency => {
            let read = input.latency;
            random_lowest(input, members, &ok, input.latency_buffer, |m| {
                m.stats.latency.read(&read)
            })
        }
        RoutingStrategy::UsageBased | RoutingStrategy::UsageBasedV2 => {
            let Some((now, ttl)) = input.usage else {
                return nth(members, &ok, 0);
            };
            let tokens = |m: &Member| m.stats.usage.tokens.get(now, ttl) as f64;
            if input.strategy == RoutingStrategy::UsageBased {
                first_lowest(members, &ok, tokens)
            } else {
                random_lowest(input, members, &ok, 0.0, tokens)
            }
        }
        RoutingStrategy::LowestCost => first_lowest(members, &ok, |m| m.cost),
    }
}

/// Which metric simple-shuffle weighs by.
#[derive(Clone, Copy)]
enum Metric {
    Weight,
    Rpm,
    Tpm,
}

fn metric(m: &Member, which: Metric) -> f64 {
    let p = m.deployment.litellm_params();
    match which {
        Metric::Weight => p.weight(),
        Metric::Rpm => p.rpm_f64(),
        Metric::Tpm => p.tpm_f64(),
    }
    .unwrap_or(0.0)
}

fn shuffle(
    rng: &dyn RandomSource,
    members: &[std::sync::Arc<Member>],
    count: usize,
    ok: &impl Fn(&Member) -> bool,
) -> usize {
    for which in [Metric::Weight, Metric::Rpm, Metric::Tpm] {
        let total: f64 = members
            .iter()
            .filter(|m| ok(m))
            .map(|m| metric(m, which))
            .sum();
        if total > 0.0 && total.is_finite() {
            let target = unit(rng) * total;
            let mut acc = 0.0;
            let mut last_positive = 0;
            for (i, m) in members.iter().enumerate().filter(|(_, m)| ok(m)) {
                let w = metric(m, which);
                if w > 0.0 {
                    acc += w;
                    last_positive = i;
                    if target < acc {
                        return i;
                    }
                }
            }
            return last_positive;
        }
    }
    nth(members, ok, below(rng, count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_names_round_trip() {
        for s in RoutingStrategy::ALL {
            assert_eq!(s.as_str().parse::<RoutingStrategy>(), Ok(s));
        }
        assert_eq!(
            "lowest-latency".parse::<RoutingStrategy>(),
            Ok(RoutingStrategy::LowestLatency)
        );
        assert!("usage-based".parse::<RoutingStrategy>().is_err());
        assert!("least-cost".parse::<RoutingStrategy>().is_err());
    }

    #[test]
    fn splitmix_is_seeded_and_spreads() {
        let a = SplitMix64::new(1);
        let b = SplitMix64::new(1);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        // below() stays in range and hits every value.
        let mut seen = [0usize; 5];
        for _ in 0..5000 {
            seen[below(&a, 5)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
        for _ in 0..1000 {
            let u = unit(&a);
            assert!((0.0..1.0).contains(&u));
        }
    }
}
