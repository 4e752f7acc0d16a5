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
//! 1. **Config → [`Deployment`]** ([`deployment`]): each entry of the LiteLLM `model_list` you already
//!    write. Every key is kept, `os.environ/NAME` is resolved (an unset variable is an error, not an empty
//!    key), secrets print as `***`, and an entry without `model_info.id` gets the id LiteLLM computes.
//! 2. **Requested name → deployments** ([`pattern`]): exact names first, then wildcard patterns
//!    such as `openai/*`, matched against the *whole* name, most specific first, captures substituted into
//!    the target model.
//! 3. **Discovery** ([`provider`]): which models a LiteLLM proxy, an Ollama server or an LM Studio server
//!    offers, with typed outcomes (unreachable, timed out, unauthorized, malformed, too large).
//!
//! ```
//! use modelroute::{Deployment, PatternRouter};
//!
//! let model_list: Vec<Deployment> = serde_json::from_str(r#"[
//!   {"model_name": "openai/*",    "litellm_params": {"model": "openai/*"}, "model_info": {"id": "oa"}},
//!   {"model_name": "llmengine/*", "litellm_params": {"model": "openai/*"}, "model_info": {"id": "le"}},
//!   {"model_name": "gpt-*-mini",  "litellm_params": {"model": "openai/gpt-*-mini"}}
//! ]"#)?;
//! let mut router = PatternRouter::new();
//! for d in model_list {
//!     router.insert(d)?;
//! }
//! let m = router.lookup("llmengine/gpt-4o").expect("a wildcard matches");
//! assert_eq!(m.first().model(), "openai/gpt-4o");
//! // Whole-name match: LiteLLM's prefix match would send this to openai/gpt-4o-mini (#42090).
//! assert!(router.lookup("gpt-4o-mini-2024-07-18").is_none());
//!
//! // An update moves a deployment; nothing of the old pattern remains (LiteLLM #29064).
//! router.upsert(Deployment::new("engine/*", "azure/*")?.with_id("le")?)?;
//! assert!(router.lookup("llmengine/gpt-4o").is_none());
//! assert_eq!(router.lookup("engine/gpt-4o").unwrap().first().model(), "azure/gpt-4o");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Errors
//! One `#[non_exhaustive]` enum per concept in [`error`], each with predicates (for example
//! [`DiscoveryError::is_quiet`] tells an expected state, such as a local server that is off, from a fault).
//! No error message contains a secret.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod base_url;
pub mod cache;
pub mod clock;
pub mod config;
pub mod deployment;
pub mod env;
pub mod error;
pub mod pattern;
pub mod provider;
pub mod router;
pub mod secret;

pub use base_url::BaseUrl;
pub use cache::{
    Availability, CacheKey, ListSource, ModelCache, ModelCacheOptions, ModelList, RefreshProblem,
    Validation,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::RouterConfig;
pub use deployment::{Deployment, DeploymentId, LiteLlmParams, ModelInfo};
pub use error::{
    BaseUrlError, CacheError, ChangeError, ConfigError, DeploymentError, DiscoveryError, DiskIssue,
    EntryError, ParseError, PatternError, RouteError,
};
pub use pattern::{MatchedDeployment, Pattern, PatternMatch, PatternRouter};
pub use provider::{
    LiteLlm, LmStudio, ModelDescriptor, ModelKind, Ollama, Pricing, Provider, ProviderKind,
};
pub use reqwest;
pub use router::{RequestContext, Route, Router};
pub use secret::{KeyFingerprint, Secret};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
