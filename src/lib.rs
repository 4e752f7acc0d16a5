//! # modelroute
//!
//! Route LLM requests the way LiteLLM users expect, minus LiteLLM's bugs, and discover the models of
//! LiteLLM, Ollama and LM Studio servers through a cache that never mixes servers or keys.
//!
//! `modelroute` is a library: your application owns the async runtime and the [`reqwest::Client`]
//! (re-exported, so you use the same version); the crate starts no thread and no runtime.
//!
//! ## Follow a request
//!
//! 1. **Config → [`Deployment`]s** ([`config`], [`deployment`]): the LiteLLM `model_list` you already
//!    write (JSON, or YAML with the `yaml` feature). Every key is kept, `os.environ/NAME` is resolved (an
//!    unset variable is an error, not an empty key), secrets print as `***`, and an entry without
//!    `model_info.id` gets the id LiteLLM computes.
//! 2. **Requested name → one deployment** ([`router`]): [`Router::route`] resolves, in LiteLLM's order, a
//!    deployment id → alias → team names → exact `model_name` → wildcards ([`pattern`]: the *whole* name
//!    must match, the most specific pattern wins, captures fill the target model; a bare name is retried
//!    with its provider, `gpt-4o-mini` as `openai/gpt-4o-mini`) → `litellm_params.model` → default
//!    fallbacks; drops blocked and cooled-down deployments (cooldowns decided as LiteLLM decides them, from
//!    failure classes), those too small for the request (pre-call checks), those the tags leave out and
//!    those at a usage limit (`rpm`, `tpm`, `max_parallel_requests`); picks one with the routing strategy
//!    (LiteLLM's, including usage-, latency- and cost-based routing, with prices and context windows from a
//!    [`ModelCatalog`]); returns a [`Route`] saying which, with the concrete model name, and why.
//!    [`Router::apply`] and [`Router::reconcile`] change it atomically while it serves.
//! 3. **Discovery** ([`provider`]): which models a LiteLLM proxy, an Ollama server or an LM Studio server
//!    offers, with typed outcomes (unreachable, timed out, unauthorized, malformed, too large).
//! 4. **Model cache** ([`cache`]): one list per server *and* key, in memory, on disk and in flight; stale
//!    lists served while revalidating; a configured model is checked against a list, never replaced.
//! 5. **The call** (`call`, feature `openai`): the caller's OpenAI-compatible JSON body sent to the routed
//!    deployment's endpoint (by provider prefix, with its key, headers, parameters and timeouts), streamed or
//!    not, with typed failures (status, error body, `Retry-After`, before or after the first event).
//!
//! ```
//! use modelroute::config::RouterConfig;
//! use modelroute::router::RequestContext;
//! use modelroute::Router;
//!
//! let router = Router::from_config(RouterConfig::from_json(r#"{"model_list": [
//!   {"model_name": "openai/*",    "litellm_params": {"model": "openai/*"}},
//!   {"model_name": "llmengine/*", "litellm_params": {"model": "openai/*"}},
//!   {"model_name": "gpt-*-mini",  "litellm_params": {"model": "openai/gpt-*-mini"}}
//! ]}"#)?);
//! let ctx = RequestContext::new();
//! assert_eq!(router.route("llmengine/gpt-4o", &ctx)?.model(), "openai/gpt-4o");
//! // A bare name is retried with its provider, as LiteLLM does: `openai/*` serves it.
//! assert_eq!(router.route("o3", &ctx)?.model(), "openai/o3");
//! // Whole-name match: LiteLLM's prefix match would send this to `gpt-*-mini` as openai/gpt-4o-mini,
//! // dropping the date (#42090); here `gpt-*-mini` does not match, and `openai/*` keeps the whole name.
//! let route = router.route("gpt-4o-mini-2024-07-18", &ctx)?;
//! assert_eq!(route.model(), "openai/gpt-4o-mini-2024-07-18");
//! assert!(router.route("mistral-large", &ctx).unwrap_err().is_not_found());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//! - `yaml`: load LiteLLM `config.yaml` files.
//! - `openai`: send OpenAI-compatible chat completions to routed deployments (`call`).
//! - `redis`: replicas share cooldowns, usage limits, routes in flight, latency samples and the model list
//!   through Redis, over your connection ([`fleet`]).
//! - `tracing` (off by default): [`tracing`](https://docs.rs/tracing) events for route decisions,
//!   deployments skipped and why, cooldowns starting and ending, usage limits reached, and config entries
//!   skipped, for the subscriber you install (targets `modelroute::route`, `modelroute::health`,
//!   `modelroute::usage`, `modelroute::config`).
//!   Events carry ids, group and model names, counts and reasons, never a secret nor an `api_base`.
//!   Without the feature they are not compiled at all.
//!
//! ## Errors
//! One `#[non_exhaustive]` enum per concept in [`error`], each with predicates (for example
//! [`DiscoveryError::is_quiet`] tells an expected state, such as a local server that is off, from a fault).
//! No error message contains a secret: a server's message is quoted as a scrubbed excerpt, and parse
//! errors name the path and what was expected, never the value found. [`redact`] masks credentials in
//! `Debug` by their form as well as by their key's name.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod attempt;
pub mod base_url;
pub mod cache;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub mod call;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod deployment;
pub mod env;
pub mod error;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod fleet;
pub mod pattern;
pub mod provider;
pub mod redact;
pub mod router;
pub mod secret;
mod trace;

pub use attempt::{
    Answered, Attempt, AttemptResult, Attempts, Decision, Failure, Next, RetryPolicy,
};
pub use base_url::BaseUrl;
pub use cache::{
    Availability, CacheKey, ListSource, ModelCache, ModelCacheOptions, ModelList, RefreshProblem,
    Validation,
};
pub use catalog::ModelCatalog;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::RouterConfig;
pub use deployment::{Deployment, DeploymentId, LiteLlmParams, ModelInfo};
pub use error::{
    AttemptError, BaseUrlError, CacheError, CatalogError, ChangeError, ConfigError,
    DeploymentError, DiscoveryError, DiskIssue, EntryError, NumberProblem, ParseError,
    PatternError, RouteError,
};
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub use error::{CallError, SendError};
pub use pattern::{MatchedDeployment, Pattern, PatternMatch, PatternRouter};
pub use provider::{
    DetailsMissing, LiteLlm, LmStudio, ModelDescriptor, ModelKind, Ollama, Pricing, Provider,
    ProviderKind,
};
pub use reqwest;
pub use router::{RequestContext, Route, Router};
pub use secret::{KeyFingerprint, Secret};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
