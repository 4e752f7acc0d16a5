//! Per-deployment latency, as LiteLLM's `latency-based-routing` measures it (`router_strategy/lowest_latency.py`).
//!
//! - A success is one sample: its latency in seconds, divided by its completion tokens when the outcome
//!   carries a [`Usage`](crate::router::Usage) with completion tokens (seconds per output token, so long and
//!   short answers compare); without tokens, the latency itself.
//! - A timeout is a sample of 1,000 s (LiteLLM's penalty), so a deployment that timed out is avoided until
//!   faster samples push it out of the window. A timeout is any failure that normalizes to
//!   [`FailureKind::Timeout`] (a reported `Timeout`, an HTTP 408, a body classified as one), as LiteLLM
//!   penalises every `litellm.Timeout` its exception mapping produces; other failures are no sample.
//! - The last 10 samples are kept (`max_latency_list_size`); their average is the deployment's latency.
//! - A streamed success also reports its time to first token; for a streamed request
//!   ([`RequestContext::with_stream`](crate::router::RequestContext::with_stream)) the average of the last
//!   10 of those is used instead, when there are some (or the `ttft_percentile` of them, when set).
//! - A deployment without samples has latency 0, so it is tried first, as in LiteLLM.
//! - Samples are forgotten `ttl` after the deployment's last sample (`routing_strategy_args.ttl`, default
//!   1 hour). LiteLLM keeps one map per model group, so a group's samples expire together, `ttl` after the
//!   group's last sample: a deployment that was penalised keeps its penalty for as long as its siblings keep
//!   reporting, and is never tried again. Here each deployment's samples expire on their own.
//!
//! Averages are sums left to right divided by the count, as Python 3.11's `sum(samples) / len(samples)`
//! computes them, so equal samples give equal averages and ties are ties in both.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use super::failure::FailureKind;

/// LiteLLM keeps the last 10 latencies of a deployment (`max_latency_list_size`).
pub(crate) const LATENCY_WINDOW: usize = 10;
/// LiteLLM records a timeout as a latency of 1,000 s for latency-based routing.
pub(crate) const TIMEOUT_PENALTY_SECS: f64 = 1000.0;
/// LiteLLM's default `ttl` of latency samples: 1 hour.
pub(crate) const DEFAULT_LATENCY_TTL: Duration = Duration::from_secs(3600);

/// "No value" in an atomic f64 slot.
const NONE_BITS: u64 = u64::MAX;

/// How latencies are read for a route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LatencyRead {
    /// Monotonic nanoseconds since the router's epoch.
    pub now_ns: u64,
    pub ttl_ns: u64,
    /// The request is streamed: use time to first token when known.
    pub stream: bool,
}

#[derive(Debug, Default)]
struct Samples {
    per_token: VecDeque<f64>,
    ttft: VecDeque<f64>,
}

/// The latency samples of one deployment, with their summaries readable without a lock.
#[derive(Debug)]
pub(crate) struct LatencyWindow {
    samples: Mutex<Samples>,
    /// Average of `per_token` (f64 bits; `NONE_BITS` = none).
    average: AtomicU64,
    /// Average (or percentile) of `ttft` (f64 bits; `NONE_BITS` = none).
    ttft: AtomicU64,
    /// Monotonic nanoseconds of the last sample, + 1 (0 = never).
    updated: AtomicU64,
}

impl Default for LatencyWindow {
    fn default() -> Self {
        LatencyWindow {
            samples: Mutex::default(),
            average: AtomicU64::new(NONE_BITS),
            ttft: AtomicU64::new(NONE_BITS),
            updated: AtomicU64::new(0),
        }
    }
}

fn load(slot: &AtomicU64) -> Option<f64> {
    let bits = slot.load(Ordering::Relaxed);
    (bits != NONE_BITS).then(|| f64::from_bits(bits))
}

fn push(window: &mut VecDeque<f64>, sample: f64) {
    if window.len() == LATENCY_WINDOW {
        window.pop_front();
    }
    window.push_back(sample);
}

/// Python's `sum(samples) / len(samples)` (left to right).
fn average(samples: &VecDeque<f64>) -> Option<f64> {
    (!samples.is_empty()).then(|| samples.iter().fold(0.0, |acc, s| acc + s) / samples.len() as f64)
}

/// LiteLLM's `_percentile_latency`: the sorted sample at `ceil(n * p) - 1`.
fn percentile(samples: &VecDeque<f64>, p: f64) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted: Vec<f64> = samples.iter().copied().collect();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    Some(sorted[index])
}

/// Seconds as LiteLLM computes them from its timestamps (`timedelta.total_seconds()`): the exact duration,
/// rounded once.
pub(crate) fn seconds(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e9
}

impl LatencyWindow {
    fn fresh(&self, now_ns: u64, ttl_ns: u64) -> bool {
        let updated = self.updated.load(Ordering::Relaxed);
        updated != 0 && now_ns.saturating_sub(updated - 1) < ttl_ns
    }

    /// The latency a route compares: 0 without fresh samples.
    #[inline]
    pub fn read(&self, how: &LatencyRead) -> f64 {
        if !self.fresh(how.now_ns, how.ttl_ns) {
            return 0.0;
        }
        if how.stream
            && let Some(ttft) = load(&self.ttft)
        {
            return ttft;
        }
        load(&self.average).unwrap_or(0.0)
    }

    /// Records a success that took `latency`, with `completion_tokens` if known and the time to first token
    /// of a stream.
    pub fn record_success(
        &self,
        latency: Duration,
        completion_tokens: Option<u64>,
        ttft: Option<Duration>,
        now_ns: u64,
        ttl_ns: u64,
        ttft_percentile: Option<f64>,
    ) {
        let secs = seconds(latency);
        let sample = match completion_tokens {
            Some(tokens) if tokens > 0 => secs / tokens as f64,
            _ => secs,
        };
        self.record(sample, ttft.map(seconds), now_ns, ttl_ns, ttft_percentile);
    }

    /// Records a failure: LiteLLM's 1,000 s penalty when it is a timeout (whatever its spelling:
    /// `FailureKind::Timeout`, `Status(408)`), nothing otherwise. Returns whether a sample was recorded.
    pub fn record_failure(
        &self,
        kind: FailureKind,
        now_ns: u64,
        ttl_ns: u64,
        ttft_percentile: Option<f64>,
    ) -> bool {
        let timeout = kind.normalized() == FailureKind::Timeout;
        if timeout {
            self.record_timeout(now_ns, ttl_ns, ttft_percentile);
        }
        timeout
    }

    /// Records a timeout: LiteLLM's 1,000 s penalty.
    pub fn record_timeout(&self, now_ns: u64, ttl_ns: u64, ttft_percentile: Option<f64>) {
        self.record(TIMEOUT_PENALTY_SECS, None, now_ns, ttl_ns, ttft_percentile);
    }

    fn record(
        &self,
        sample: f64,
        ttft: Option<f64>,
        now_ns: u64,
        ttl_ns: u64,
        ttft_percentile: Option<f64>,
    ) {
        let mut samples = self.samples.lock();
        if !self.fresh(now_ns, ttl_ns) {
            samples.per_token.clear();
            samples.ttft.clear();
            self.ttft.store(NONE_BITS, Ordering::Relaxed);
        }
        push(&mut samples.per_token, sample);
        let avg = average(&samples.per_token).unwrap_or(0.0);
        self.average.store(avg.to_bits(), Ordering::Relaxed);
        if let Some(ttft) = ttft {
            push(&mut samples.ttft, ttft);
            let value = match ttft_percentile {
                Some(p) => percentile(&samples.ttft, p),
                None => average(&samples.ttft),
            };
            self.ttft
                .store(value.map_or(NONE_BITS, f64::to_bits), Ordering::Relaxed);
        }
        self.updated
            .store(now_ns.saturating_add(1), Ordering::Relaxed);
    }

    /// (average per-token latency, samples, time to first token) for a health snapshot.
    pub fn snapshot(&self, now_ns: u64, ttl_ns: u64) -> (Option<f64>, usize, Option<f64>) {
        if !self.fresh(now_ns, ttl_ns) {
            return (None, 0, None);
        }
        let n = self.samples.lock().per_token.len();
        (load(&self.average), n, load(&self.ttft))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: u64 = 3_600_000_000_000;

    fn read(w: &LatencyWindow, now_ns: u64, stream: bool) -> f64 {
        w.read(&LatencyRead {
            now_ns,
            ttl_ns: TTL,
            stream,
        })
    }

    #[test]
    fn the_average_is_of_the_last_ten_samples_per_completion_token() {
        let w = LatencyWindow::default();
        assert_eq!(read(&w, 1, false), 0.0);
        for ms in 1..=20u64 {
            w.record_success(Duration::from_millis(ms * 10), Some(10), None, 1, TTL, None);
        }
        // last ten: 110..=200 ms over 10 tokens -> 15.5 ms per token
        assert!((read(&w, 1, false) - 0.0155).abs() < 1e-12);
        w.record_success(Duration::from_secs(2), Some(0), None, 1, TTL, None);
        assert_eq!(w.snapshot(1, TTL).1, 10);
    }

    #[test]
    fn streams_read_time_to_first_token_when_known() {
        let w = LatencyWindow::default();
        w.record_success(Duration::from_secs(4), None, None, 1, TTL, None);
        assert_eq!(read(&w, 1, true), 4.0, "no ttft sample: the latency");
        w.record_success(
            Duration::from_secs(4),
            None,
            Some(Duration::from_millis(500)),
            1,
            TTL,
            None,
        );
        assert_eq!(read(&w, 1, true), 0.5);
        assert_eq!(read(&w, 1, false), 4.0);
    }

    #[test]
    fn a_timeout_is_a_thousand_second_sample() {
        let w = LatencyWindow::default();
        w.record_success(Duration::from_secs(1), None, None, 1, TTL, None);
        w.record_timeout(1, TTL, None);
        assert_eq!(read(&w, 1, false), 500.5);
    }

    #[test]
    fn a_timeout_of_any_spelling_is_the_penalty_and_other_failures_are_no_sample() {
        let w = LatencyWindow::default();
        assert!(w.record_failure(FailureKind::Status(408), 1, TTL, None));
        assert_eq!(read(&w, 1, false), TIMEOUT_PENALTY_SECS);
        let classified =
            FailureKind::classify(408, r#"{"error": {"message": "Request timed out"}}"#);
        assert!(w.record_failure(classified, 1, TTL, None));
        for kind in [
            FailureKind::RateLimit,
            FailureKind::Status(500),
            FailureKind::Connection,
        ] {
            assert!(!w.record_failure(kind, 1, TTL, None), "{kind:?}");
        }
        assert_eq!(w.snapshot(1, TTL).1, 2);
    }

    #[test]
    fn samples_expire_ttl_after_the_last_one() {
        let w = LatencyWindow::default();
        w.record_timeout(10, 100, None);
        assert_eq!(
            w.read(&LatencyRead {
                now_ns: 109,
                ttl_ns: 100,
                stream: false
            }),
            1000.0
        );
        assert_eq!(
            w.read(&LatencyRead {
                now_ns: 110,
                ttl_ns: 100,
                stream: false
            }),
            0.0
        );
        w.record_success(Duration::from_secs(2), None, None, 110, 100, None);
        assert_eq!(
            w.read(&LatencyRead {
                now_ns: 111,
                ttl_ns: 100,
                stream: false
            }),
            2.0
        );
    }

    #[test]
    fn ttft_percentile_picks_litellms_rank() {
        let w = LatencyWindow::default();
        for ms in [400u64, 100, 300, 200] {
            w.record_success(
                Duration::from_secs(1),
                None,
                Some(Duration::from_millis(ms)),
                1,
                TTL,
                Some(0.5),
            );
        }
        // sorted 0.1 0.2 0.3 0.4; ceil(4 * 0.5) - 1 = 1 -> 0.2
        assert_eq!(read(&w, 1, true), 0.2);
    }
}
