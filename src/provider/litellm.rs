//! A LiteLLM proxy: `GET /v1/model/info` (rich metadata), falling back to `/model/info`, then to `/v1/models`.
//!
//! - **Base URL**: given by the caller, or `LITELLM_BASE_URL` ([`LiteLlm::from_env`]). Never taken from another
//!   provider's setting, and there is no default: without one, [`DiscoveryError::NotConfigured`]. A base URL
//!   ending in `/v1` (the OpenAI-compatible URL users often have) is accepted: paths are resolved beside it.
//! - **Key**: sent as `Authorization: Bearer`. A key restricted to some models sees only those; that is why
//!   the key's fingerprint is part of the provider's identity (and of the model cache's key).
//! - **Fallback**: the next endpoint is tried only when the server says the endpoint does not exist
//!   (HTTP 404 or 405). Unauthorized, timed out, unreachable, a 5xx or a malformed body is reported at once:
//!   another endpoint would not change the answer, and silently degrading would hide the fault.
//! - **Why `/model/info` first**: besides the metadata, it lists what is deployed for the key. `/v1/models`
//!   lists a restricted key's allowed names as they are, deployed or not (LiteLLM 1.109.1: a key allowed
//!   `gpt-4o` on a proxy without `gpt-4o` gets `["gpt-4o"]` from `/v1/models` and `[]` from `/model/info`).
//! - **Deployments**: `/model/info` lists deployments; several can share one `model_name` (a load-balanced
//!   group). The list has one descriptor per `model_name`, in the order of first appearance; its fields are
//!   the first deployment's, each missing one filled from the next deployments, and `raw` is the first
//!   deployment's entry (its `litellm_params` carry no `api_key`: the proxy removes it).
//!
//! ```no_run
//! # async fn demo() -> Result<(), modelroute::DiscoveryError> {
//! use modelroute::{LiteLlm, Provider, Secret};
//! let proxy = LiteLlm::new("http://127.0.0.1:4000", Some(Secret::new("sk-my-key")))?;
//! let client = modelroute::reqwest::Client::new();
//! for model in proxy.list_models(&client).await? {
//!     println!("{} context={:?}", model.id, model.context_window);
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::http;
use super::json::{self, bool_of, f64_of, u64_of};
use super::openai::parse_model_list;
use super::server::{
    ParseModels, Server, list_from_first_present, non_blank, parse_base_url, provider_api,
};
use super::{ModelDescriptor, ModelKind, Pricing, Provider, ProviderKind};
use crate::base_url::BaseUrl;
use crate::env::{Environment, ProcessEnv};
use crate::error::{DiscoveryError, ParseError};
use crate::secret::{KeyFingerprint, Secret};

const NAME: &str = "litellm";

/// A LiteLLM proxy. See the [module docs](self).
#[derive(Clone)]
pub struct LiteLlm {
    server: Server,
}

impl LiteLlm {
    /// The environment variable holding the proxy's base URL.
    pub const BASE_URL_VAR: &'static str = "LITELLM_BASE_URL";
    /// The environment variable holding the API key (optional).
    pub const API_KEY_VAR: &'static str = "LITELLM_API_KEY";
    /// The endpoints tried, in order, relative to the base URL.
    pub const ENDPOINTS: [&'static str; 3] = ["v1/model/info", "model/info", "v1/models"];

    /// A proxy at `base_url`, sending `key` if any. Fails on an invalid URL.
    pub fn new(base_url: &str, key: Option<Secret>) -> Result<Self, DiscoveryError> {
        Ok(Self::with_base_url(parse_base_url(NAME, base_url)?, key))
    }

    /// A proxy at an already parsed base URL.
    pub fn with_base_url(base_url: BaseUrl, key: Option<Secret>) -> Self {
        LiteLlm {
            server: Server::new(base_url, key, http::DEFAULT_PROXY_TIMEOUT),
        }
    }

    /// From the process environment: `LITELLM_BASE_URL` (required) and `LITELLM_API_KEY` (optional).
    pub fn from_env() -> Result<Self, DiscoveryError> {
        Self::from_env_with(&ProcessEnv)
    }

    /// Like [`from_env`](Self::from_env), reading variables from `env` (a closure, a map, or
    /// [`ProcessEnv`]: see [`Environment`]); for tests and config layers.
    /// Empty or blank values count as unset.
    ///
    /// ```
    /// use modelroute::{LiteLlm, Provider};
    /// let env = |name: &str| match name {
    ///     "LITELLM_BASE_URL" => Some("http://127.0.0.1:4000/".to_string()),
    ///     _ => None,
    /// };
    /// let proxy = LiteLlm::from_env_with(&env)?;
    /// assert_eq!(proxy.base_url().as_str(), "http://127.0.0.1:4000");
    /// assert!(LiteLlm::from_env_with(&|_: &str| None).unwrap_err().is_quiet()); // not configured
    /// # Ok::<(), modelroute::DiscoveryError>(())
    /// ```
    pub fn from_env_with(env: &dyn Environment) -> Result<Self, DiscoveryError> {
        let url = non_blank(env.var(Self::BASE_URL_VAR)).ok_or_else(|| {
            DiscoveryError::NotConfigured {
                provider: NAME,
                reason: format!(
                    "{} is not set and no base URL was given",
                    Self::BASE_URL_VAR
                ),
            }
        })?;
        let key = non_blank(env.var(Self::API_KEY_VAR)).map(Secret::new);
        Self::new(&url, key)
    }

    /// The body of [`Provider::list_models`](super::Provider::list_models).
    async fn fetch_models(
        &self,
        client: &reqwest::Client,
    ) -> Result<Vec<ModelDescriptor>, DiscoveryError> {
        let root = self.server.root();
        let urls = Self::ENDPOINTS.map(|p| http::endpoint(&root, p));
        let conn = self.server.conn(client, &urls[0])?;
        let endpoints: [(&str, ParseModels); 3] = [
            (&urls[0], parse_model_info),
            (&urls[1], parse_model_info),
            (&urls[2], parse_model_list),
        ];
        list_from_first_present(&conn, &endpoints, |_| false).await
    }
}

provider_api!(
    LiteLlm,
    kind: ProviderKind::LiteLlm,
    credential: "key",
    timeout_doc: "Sets the per-request timeout (default 30 s).",
    debug_extra: [],
);

/// The body, each entry left as its text: entries are parsed one at a time, so the whole body is never a JSON
/// tree in memory at once (LiteLLM records are ~9 KB of text each, several times that as a tree).
#[derive(Deserialize)]
struct InfoBody<'a> {
    #[serde(borrow, deserialize_with = "json::nullable_list")]
    data: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Deployment {
    model_name: String,
}

/// Parses a LiteLLM `/model/info` or `/v1/model/info` body: one descriptor per `model_name`.
///
/// From each deployment's `model_info`: `mode` → kind, `max_input_tokens` → context window,
/// `max_output_tokens`, `supports_function_calling` → tools, `supports_vision`, `supports_reasoning`,
/// `input_cost_per_token` / `output_cost_per_token` → pricing (US dollars per token). Deployments sharing
/// a `model_name` are merged as the [module docs](self) say. `raw` is the entry without its `null` object
/// members (~165 of LiteLLM's ~190 `model_info` fields: they say nothing, and took most of the memory). Fails with the path of the bad field when
/// `data` is not a list or an entry has no string `model_name`; optional fields of an unexpected type are
/// read as unknown.
///
/// ```
/// let body = br#"{"data":[
///   {"model_name":"gpt-4o","litellm_params":{"model":"openai/gpt-4o"},
///    "model_info":{"mode":"chat","max_input_tokens":128000,"supports_function_calling":true,
///                  "input_cost_per_token":2.5e-6,"output_cost_per_token":1e-5}}]}"#;
/// let models = modelroute::provider::litellm::parse_model_info(body)?;
/// assert_eq!(models[0].id, "gpt-4o");
/// assert_eq!(models[0].context_window, Some(128000));
/// assert_eq!(models[0].supports_tools, Some(true));
/// assert_eq!(models[0].pricing.unwrap().output_per_token, Some(1e-5));
/// # Ok::<(), modelroute::ParseError>(())
/// ```
pub fn parse_model_info(body: &[u8]) -> Result<Vec<ModelDescriptor>, ParseError> {
    let info: InfoBody = json::from_slice(body)?;
    let mut out: Vec<ModelDescriptor> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, text) in info.data.into_iter().enumerate() {
        let at = format!("data[{i}]");
        // Valid JSON already (checked while reading the body); read as a tree now, one entry at a time.
        let raw: Value =
            serde_json::from_str(text.get()).map_err(|e| ParseError::new(&at, e.to_string()))?;
        let dep: Deployment = json::from_value(&raw, &at)?;
        let mut d = describe(dep.model_name, raw);
        json::drop_null_members(&mut d.raw);
        match index.get(&d.id) {
            Some(&at) => fill_missing(&mut out[at], d),
            None => {
                index.insert(d.id.clone(), out.len());
                out.push(d);
            }
        }
    }
    Ok(out)
}

fn describe(id: String, raw: Value) -> ModelDescriptor {
    let mut d = ModelDescriptor::new(id);
    if let Some(info) = raw.get("model_info").filter(|v| v.is_object()) {
        d.kind = json::str_of(info.get("mode")).map_or(ModelKind::Unknown, kind_of_mode);
        d.context_window = u64_of(info.get("max_input_tokens"));
        d.max_output_tokens = u64_of(info.get("max_output_tokens"));
        d.supports_tools = bool_of(info.get("supports_function_calling"));
        d.supports_vision = bool_of(info.get("supports_vision"));
        d.supports_reasoning = bool_of(info.get("supports_reasoning"));
        let input = f64_of(info.get("input_cost_per_token"));
        let output = f64_of(info.get("output_cost_per_token"));
        if input.is_some() || output.is_some() {
            d.pricing = Some(Pricing::new(input, output));
        }
    }
    d.raw = raw;
    d
}

fn fill_missing(into: &mut ModelDescriptor, from: ModelDescriptor) {
    if into.kind == ModelKind::Unknown {
        into.kind = from.kind;
    }
    into.context_window = into.context_window.or(from.context_window);
    into.max_output_tokens = into.max_output_tokens.or(from.max_output_tokens);
    into.supports_tools = into.supports_tools.or(from.supports_tools);
    into.supports_vision = into.supports_vision.or(from.supports_vision);
    into.supports_reasoning = into.supports_reasoning.or(from.supports_reasoning);
    into.pricing = into.pricing.or(from.pricing);
}

/// LiteLLM's `mode` as a [`ModelKind`]: `chat`, `completion`, `embedding`, `image_generation`,
/// `audio_transcription` / `audio_speech` (audio) and `rerank` are known; any other mode (`responses`,
/// `realtime`, `moderation`, ...) is kept as [`ModelKind::Other`].
pub(crate) fn kind_of_mode(mode: &str) -> ModelKind {
    match mode {
        "chat" => ModelKind::Chat,
        "completion" => ModelKind::Completion,
        "embedding" => ModelKind::Embedding,
        "image_generation" => ModelKind::ImageGeneration,
        "audio_transcription" | "audio_speech" => ModelKind::Audio,
        "rerank" => ModelKind::Rerank,
        "" => ModelKind::Unknown,
        other => ModelKind::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/litellm/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn real_model_info_of_a_restricted_key() {
        let m = parse_model_info(&fixture("customauth_model_info__only_gpt4o.json")).unwrap();
        assert_eq!(m.len(), 1);
        let g = &m[0];
        assert_eq!(g.id, "gpt-4o");
        assert_eq!(g.kind, ModelKind::Chat);
        assert_eq!(g.context_window, Some(128_000));
        assert_eq!(g.max_output_tokens, Some(16_384));
        assert_eq!(g.supports_tools, Some(true));
        assert_eq!(g.supports_vision, Some(true));
        assert_eq!(g.supports_reasoning, None);
        assert_eq!(g.pricing, Some(Pricing::new(Some(2.5e-6), Some(1e-5))));
        assert_eq!(g.raw["litellm_params"]["model"], "openai/gpt-4o");
        assert!(g.raw["litellm_params"].get("api_key").is_none());
    }

    #[test]
    fn real_model_info_merges_deployments_of_one_group() {
        let m = parse_model_info(&fixture("model_info_trimmed__master.json")).unwrap();
        let ids: Vec<&str> = m.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "gpt-4o",
                "balanced",
                "openai/text-embedding-3-small",
                "openai/gpt-5.2",
                "openai/gpt-image-1.5",
                "llama3"
            ]
        );
        let balanced = &m[1];
        // First deployment (gpt-4o) wins; raw is its entry.
        assert_eq!(
            balanced.pricing,
            Some(Pricing::new(Some(2.5e-6), Some(1e-5)))
        );
        assert_eq!(balanced.raw["model_info"]["id"], "balanced-a");
        assert_eq!(m[2].kind, ModelKind::Embedding);
        assert_eq!(m[2].context_window, Some(8191));
        assert_eq!(m[2].max_output_tokens, None);
        assert_eq!(m[3].supports_reasoning, Some(true));
        assert_eq!(m[3].context_window, Some(272_000));
        assert_eq!(m[4].kind, ModelKind::ImageGeneration);
        assert_eq!(m[5].context_window, Some(8192));
        assert_eq!(m[5].pricing, Some(Pricing::new(Some(0.0), Some(0.0))));
    }

    #[test]
    fn merge_fills_what_the_first_deployment_lacks() {
        let body = br#"{"data":[
            {"model_name":"g","model_info":{"max_input_tokens":null}},
            {"model_name":"g","model_info":{"mode":"chat","max_input_tokens":4096,"supports_vision":false}}]}"#;
        let m = parse_model_info(body).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].kind, ModelKind::Chat);
        assert_eq!(m[0].context_window, Some(4096));
        assert_eq!(m[0].supports_vision, Some(false));
    }

    #[test]
    fn lenient_on_metadata_strict_on_structure() {
        let body = br#"{"data":[{"model_name":"x","model_info":"oops"},
                                   {"model_name":"y","model_info":{"mode":"responses","max_input_tokens":"1000","supports_vision":"yes"}}]}"#;
        let m = parse_model_info(body).unwrap();
        assert_eq!(m[0].kind, ModelKind::Unknown);
        assert_eq!(m[1].kind, ModelKind::Other("responses".into()));
        assert_eq!(m[1].context_window, Some(1000));
        assert_eq!(m[1].supports_vision, None);
        let e =
            parse_model_info(br#"{"data":[{"model_name":"a"},{"model_name":null}]}"#).unwrap_err();
        assert_eq!(e.path, "data[1].model_name");
        let e = parse_model_info(br#"{"data":[{"litellm_params":{}}]}"#).unwrap_err();
        assert_eq!(e.path, "data[0]");
        assert!(e.reason.contains("model_name"), "{e}");
        assert!(parse_model_info(br#"{"data":null}"#).unwrap().is_empty());
    }

    #[test]
    fn real_v1_models_of_a_restricted_key() {
        let m = parse_model_list(&fixture("customauth_v1_models__only_balanced.json")).unwrap();
        let ids: Vec<&str> = m.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["balanced", "llama3"]);
        assert_eq!(m[1].context_window, Some(8192));
    }

    #[test]
    fn from_env_never_borrows_another_providers_setting() {
        let env = |name: &str| match name {
            "OLLAMA_HOST" | "OPENAI_BASE_URL" | "AZURE_API_BASE" => {
                Some("http://other:1".to_string())
            }
            "LITELLM_API_KEY" => Some("sk-x".to_string()),
            _ => None,
        };
        let e = LiteLlm::from_env_with(&env).unwrap_err();
        assert!(
            matches!(
                e,
                DiscoveryError::NotConfigured {
                    provider: "litellm",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("LITELLM_BASE_URL"));
        let blank = |name: &str| (name == "LITELLM_BASE_URL").then(|| "  ".to_string());
        assert!(LiteLlm::from_env_with(&blank).is_err());
        let bad = |name: &str| (name == "LITELLM_BASE_URL").then(|| "localhost:4000".to_string());
        assert!(matches!(
            LiteLlm::from_env_with(&bad).unwrap_err(),
            DiscoveryError::InvalidBaseUrl { .. }
        ));
    }

    #[test]
    fn identity_is_url_and_key_fingerprint() {
        let a = LiteLlm::new("http://H:4000/", Some(Secret::new("k1"))).unwrap();
        let b = LiteLlm::new("http://h:4000", Some(Secret::new("k2"))).unwrap();
        let c = LiteLlm::new("http://h:4000", None).unwrap();
        assert_eq!(a.base_url(), b.base_url());
        assert_ne!(a.credential_fingerprint(), b.credential_fingerprint());
        assert_eq!(a.credential_fingerprint(), Some(&KeyFingerprint::of("k1")));
        assert_eq!(c.credential_fingerprint(), None);
        assert!(!format!("{a:?}").contains("k1"));
        assert_eq!(a.timeout(), Duration::from_secs(30));
        let a = a.with_timeout(Duration::from_millis(5)).with_body_limit(10);
        assert_eq!(
            (a.timeout(), a.body_limit()),
            (Duration::from_millis(5), 10)
        );
    }
}
