//! Events for a [`tracing`](https://docs.rs/tracing) subscriber (feature `tracing`); without the feature
//! the macros below expand to nothing, so an event costs nothing, not even the evaluation of its fields.
//!
//! Targets and what they carry (never a secret: ids, group names, model names, counts and reasons only;
//! never `api_base`, which may carry credentials, nor any other parameter value):
//!
//! | target | level | event |
//! |---|---|---|
//! | `modelroute::route` | debug | `routed`: `model` (requested), `deployment` (id), `call` (concrete model), `reason` (how it resolved and was picked) |
//! | `modelroute::route` | debug | `deployment skipped`: `model`, `group`, `deployment`, `why` (`blocked`, `cooling down`, `context window too small`, `tag mismatch`, `at a usage limit`, `lower priority`) |
//! | `modelroute::route` | debug | `no deployment`: `model`, `error` (every resolution step tried) |
//! | `modelroute::route` | info | `no deployment available`: `model`, `group`, `blocked`, `cooling_down`, `context_window` (too small), `tag_mismatch`, `limited` (at a usage limit), `retry_after_secs` |
//! | `modelroute::health` | warn | `cooldown started`: `deployment`, `failure` (LiteLLM's class), `cooldown_secs`, `rule` (what decided it: `default rule: rate limited`, `default rule: failure share of the minute`, `router allowed_fails`, `deployment allowed_fails_policy`, ...) |
//! | `modelroute::health` | info | `cooldown ended`: `deployment` (when a route next picks it after its cooldown) |
//! | `modelroute::usage` | info | `usage limit reached`: `deployment`, `limit` (`rpm`, `tpm`, `max_parallel_requests`), `used`, `max` (when a route or a report makes the deployment reach it) |
//! | `modelroute::config` | warn | `model_list entry skipped`: `index`, `model_name`, `field`, `reason` |
//! | `modelroute::config` | info | `duplicate model_list entry loaded once`: `index`, `first_index`, `deployment` |
//! | `modelroute::config` | warn | `empty organization list`: `index`, `model_name` |
//! | `modelroute::config` | warn | `unsupported routing strategy replaced`: `field`, `value` |

#[cfg(feature = "tracing")]
macro_rules! trace_debug {
    ($($arg:tt)*) => { ::tracing::debug!($($arg)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! trace_debug {
    ($($arg:tt)*) => {};
}

#[cfg(feature = "tracing")]
macro_rules! trace_info {
    ($($arg:tt)*) => { ::tracing::info!($($arg)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! trace_info {
    ($($arg:tt)*) => {};
}

#[cfg(feature = "tracing")]
macro_rules! trace_warn {
    ($($arg:tt)*) => { ::tracing::warn!($($arg)*) };
}
#[cfg(not(feature = "tracing"))]
macro_rules! trace_warn {
    ($($arg:tt)*) => {};
}

/// Whether a debug event of `target` would be recorded: guards events whose fields cost something to
/// compute (feature `tracing` only).
#[cfg(feature = "tracing")]
macro_rules! trace_debug_enabled {
    (target: $target:expr) => {
        ::tracing::enabled!(target: $target, ::tracing::Level::DEBUG)
    };
}

/// Whether an info event of `target` would be recorded (feature `tracing` only).
#[cfg(feature = "tracing")]
macro_rules! trace_info_enabled {
    (target: $target:expr) => {
        ::tracing::enabled!(target: $target, ::tracing::Level::INFO)
    };
}

pub(crate) use {trace_debug as debug, trace_info as info, trace_warn as warn};
#[cfg(feature = "tracing")]
pub(crate) use {trace_debug_enabled as debug_enabled, trace_info_enabled as info_enabled};
