//! # modelroute
//!
//! Route LLM requests the way LiteLLM users expect, minus LiteLLM's bugs, and discover the models of
//! LiteLLM, Ollama and LM Studio servers through a cache that never mixes servers or keys.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

pub mod base_url;
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
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::RouterConfig;
pub use deployment::{Deployment, DeploymentId, LiteLlmParams, ModelInfo};
pub use error::{
    BaseUrlError, ChangeError, ConfigError, DeploymentError, DiscoveryError, EntryError,
    PatternError, RouteError,
};
pub use pattern::{MatchedDeployment, Pattern, PatternMatch, PatternRouter};
pub use provider::{ModelDescriptor, ModelKind, Pricing, Provider, ProviderKind};
pub use reqwest;
pub use router::{RequestContext, Route, Router};
pub use secret::{KeyFingerprint, Secret};
