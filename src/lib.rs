//! # modelroute
//!
//! Route LLM requests the way LiteLLM users expect, minus LiteLLM's bugs, and discover the models of
//! LiteLLM, Ollama and LM Studio servers through a cache that never mixes servers or keys.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod base_url;
pub mod cache;
pub mod clock;
pub mod deployment;
pub mod env;
pub mod error;
pub mod pattern;
pub mod provider;
pub mod secret;

pub use base_url::BaseUrl;
pub use cache::{
    Availability, CacheKey, ListSource, ModelCache, ModelCacheOptions, ModelList, RefreshProblem,
    Validation,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use deployment::{Deployment, DeploymentId, LiteLlmParams, ModelInfo};
pub use error::{
    BaseUrlError, CacheError, DeploymentError, DiscoveryError, DiskIssue, ParseError, PatternError,
};
pub use pattern::{MatchedDeployment, Pattern, PatternMatch, PatternRouter};
pub use provider::{
    LiteLlm, LmStudio, ModelDescriptor, ModelKind, Ollama, Pricing, Provider, ProviderKind,
};
pub use reqwest;
pub use secret::{KeyFingerprint, Secret};
