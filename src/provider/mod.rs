//! Model discovery: the [`Provider`] trait and the servers it knows (LiteLLM proxy, Ollama, LM Studio).
//!
//! A provider knows one server (its [`BaseUrl`]) and one credential (its [`KeyFingerprint`]); together with
//! its [`ProviderKind`] they are the identity the [`ModelCache`](crate) keys on, so two servers or two keys
//! never share a list. The caller passes its own [`reqwest::Client`]: the library starts no runtime.
//!
//! | Provider | Endpoints, in order of fallback | Base URL from the environment | Credential |
//! |---|---|---|---|
//! | [`LiteLlm`] | `/v1/model/info`, `/model/info`, `/v1/models` | `LITELLM_BASE_URL` (no default) | `LITELLM_API_KEY` |
//! | [`Ollama`] | `/api/tags` + `/api/show` per model + `/api/ps`; `/v1/models` | `OLLAMA_HOST` (default `127.0.0.1:11434`) | `OLLAMA_API_KEY` |
//! | [`LmStudio`] | `/api/v1/models`, `/api/v0/models`, `/v1/models` | `LMSTUDIO_BASE_URL` (default `localhost:1234`) | `LM_API_TOKEN` |
//!
//! Rules shared by the three:
//! - **Fallback only when the endpoint is missing** (HTTP 404 / 405, or LM Studio 0.3's "Unexpected
//!   endpoint" answer). Unauthorized, timed out, unreachable, other statuses and malformed bodies are reported
//!   as they are: each is a distinct [`DiscoveryError`] the caller can tell apart.
//! - **Per-request timeout** ([`DEFAULT_PROXY_TIMEOUT`] for LiteLLM, [`DEFAULT_LOCAL_TIMEOUT`] for the others)
//!   and **body size limit** ([`DEFAULT_BODY_LIMIT`]), both configurable on each provider.
//! - **A key never travels in clear text to another machine**: with a credential, plain `http` is only used
//!   for loopback hosts; otherwise [`DiscoveryError::InsecureTransport`] and nothing is sent, unless the
//!   caller opts in with `allow_insecure_http(true)`.
//! - A base URL ending in `/v1` (the OpenAI-compatible URL users often configure) is accepted: the native
//!   endpoints are resolved beside it.
//! - The body parsers are public functions over `&[u8]` ([`litellm::parse_model_info`],
//!   [`openai::parse_model_list`], [`ollama::parse_tags`], [`ollama::parse_show`], [`ollama::parse_ps`],
//!   [`lmstudio::parse_models_v1`], [`lmstudio::parse_models_v0`]) for callers who fetch bodies themselves.
//!   They are strict about structure (a [`ParseError`](crate::ParseError) names the bad field's path) and
//!   lenient about optional metadata and enum values. They never panic (fuzzed).
//!
//! ```
//! use modelroute::{LiteLlm, Ollama, Provider, Secret};
//! let providers: Vec<Box<dyn Provider>> = vec![
//!     Box::new(LiteLlm::new("https://litellm.example.com", Some(Secret::new("sk-team-a")))?),
//!     Box::new(Ollama::from_env_with(&|_: &str| None)?),
//! ];
//! for p in &providers {
//!     println!("{} {} {:?}", p.kind(), p.base_url(), p.credential_fingerprint());
//! }
//! # Ok::<(), modelroute::DiscoveryError>(())
//! ```

use std::fmt;

pub(crate) mod http;
mod json;
pub mod litellm;
pub mod lmstudio;
pub mod ollama;
pub mod openai;
mod server;

pub use http::{DEFAULT_BODY_LIMIT, DEFAULT_LOCAL_TIMEOUT, DEFAULT_PROXY_TIMEOUT};
pub(crate) use json::drop_null_members;
pub use litellm::LiteLlm;
pub use lmstudio::LmStudio;
pub use ollama::Ollama;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::base_url::BaseUrl;
use crate::error::DiscoveryError;
use crate::secret::KeyFingerprint;

/// Which kind of server a provider talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ProviderKind {
    /// A LiteLLM proxy.
    #[serde(rename = "litellm")]
    LiteLlm,
    /// An Ollama server.
    Ollama,
    /// An LM Studio server.
    #[serde(rename = "lmstudio")]
    LmStudio,
}

impl ProviderKind {
    /// The kind's stable name: `litellm`, `ollama`, `lmstudio`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::LiteLlm => "litellm",
            ProviderKind::Ollama => "ollama",
            ProviderKind::LmStudio => "lmstudio",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A server that can list its models.
///
/// Object-safe: `Box<dyn Provider>` and `Arc<dyn Provider>` work.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// The kind of server.
    fn kind(&self) -> ProviderKind;

    /// The server's normalized base URL.
    fn base_url(&self) -> &BaseUrl;

    /// The fingerprint of the credential this provider sends, `None` if it sends none.
    fn credential_fingerprint(&self) -> Option<&KeyFingerprint>;

    /// Lists the models the server offers to this credential.
    async fn list_models(
        &self,
        client: &reqwest::Client,
    ) -> Result<Vec<ModelDescriptor>, DiscoveryError>;
}

/// What a model is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModelKind {
    /// Chat / text generation.
    Chat,
    /// Plain text completion.
    Completion,
    /// Embeddings.
    Embedding,
    /// Image generation.
    ImageGeneration,
    /// Speech to text / text to speech.
    Audio,
    /// Reranking.
    Rerank,
    /// A kind the server named that this crate does not know; the server's word is kept.
    Other(String),
    /// The server did not say.
    Unknown,
}

/// Prices, in the server's currency (US dollars for LiteLLM), per token.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pricing {
    /// Price of one input token.
    pub input_per_token: Option<f64>,
    /// Price of one output token.
    pub output_per_token: Option<f64>,
}

impl Pricing {
    /// Prices per input and output token.
    pub fn new(input_per_token: Option<f64>, output_per_token: Option<f64>) -> Self {
        Pricing {
            input_per_token,
            output_per_token,
        }
    }
}

/// One model a server offers, with what the server said about it. `None` means "the server did not say".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelDescriptor {
    /// The id to request the model by.
    pub id: String,
    /// What the model is for.
    pub kind: ModelKind,
    /// Context window (input tokens).
    pub context_window: Option<u64>,
    /// Maximum output tokens.
    pub max_output_tokens: Option<u64>,
    /// Supports tool / function calling.
    pub supports_tools: Option<bool>,
    /// Accepts images.
    pub supports_vision: Option<bool>,
    /// Has a reasoning / thinking mode.
    pub supports_reasoning: Option<bool>,
    /// Loaded in memory right now (Ollama, LM Studio).
    pub loaded: Option<bool>,
    /// Prices, where the server publishes them (LiteLLM).
    pub pricing: Option<Pricing>,
    /// The server's entry for this model, as received.
    pub raw: serde_json::Value,
    /// Set when the provider meant to ask the server for more about this model (Ollama's `/api/show`: its
    /// context length and capabilities) and did not get it: the model is listed without those details,
    /// and this says why. `None` when nothing was missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details_missing: Option<DetailsMissing>,
}

/// Why a listed model lacks the details its provider asks for separately (see
/// [`ModelDescriptor::details_missing`]). The model itself is listed either way.
///
/// ```
/// use modelroute::{DetailsMissing, ModelDescriptor};
/// fn note(m: &ModelDescriptor) -> &'static str {
///     match m.details_missing {
///         None => "complete",
///         Some(DetailsMissing::DeadlineReached) => "server too slow: try again later",
///         Some(DetailsMissing::CapReached) => "too many models: raise the cap to learn more",
///         Some(_) => "the server could not describe it",
///     }
/// }
/// assert_eq!(note(&ModelDescriptor::new("llama3.2:latest")), "complete");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DetailsMissing {
    /// The listing's overall deadline passed before the details came (or before they were asked for).
    DeadlineReached,
    /// More models lacked details than the provider asks about in one listing; this one was not asked about.
    CapReached,
    /// The request for the details failed: an error status, a transport error, or its own timeout.
    RequestFailed,
    /// The server answered with a body that does not parse.
    Malformed,
}

impl ModelDescriptor {
    /// A descriptor with only an id: kind unknown, nothing else known, `raw` null.
    pub fn new(id: impl Into<String>) -> Self {
        ModelDescriptor {
            id: id.into(),
            kind: ModelKind::Unknown,
            context_window: None,
            max_output_tokens: None,
            supports_tools: None,
            supports_vision: None,
            supports_reasoning: None,
            loaded: None,
            pricing: None,
            raw: serde_json::Value::Null,
            details_missing: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_missing_is_written_only_when_set_and_read_back() {
        // A descriptor saved before the field existed (an older cache file) reads as complete.
        let old: ModelDescriptor = serde_json::from_str(
            r#"{"id":"m","kind":"chat","context_window":null,"max_output_tokens":null,"supports_tools":null,
                "supports_vision":null,"supports_reasoning":null,"loaded":null,"pricing":null,"raw":null}"#,
        )
        .unwrap();
        assert_eq!(old.details_missing, None);
        assert!(
            !serde_json::to_string(&old)
                .unwrap()
                .contains("details_missing")
        );
        let mut d = ModelDescriptor::new("m");
        d.details_missing = Some(DetailsMissing::DeadlineReached);
        let text = serde_json::to_string(&d).unwrap();
        assert!(
            text.contains(r#""details_missing":"deadline_reached""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ModelDescriptor>(&text).unwrap(), d);
    }
}
