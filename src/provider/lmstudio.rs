//! An LM Studio server: `GET /api/v1/models` (LM Studio 0.4+), else `/api/v0/models` (0.3.6+), else the
//! OpenAI-compatible `/v1/models` (ids only).
//!
//! - **Base URL**: given by the caller, or `LMSTUDIO_BASE_URL`, default `http://localhost:1234` (LM Studio's
//!   own default). A base URL ending in `/v1` (the OpenAI-compatible URL) is accepted.
//! - **Token**: optional (LM Studio 0.4+ can require one); `LM_API_TOKEN`, sent as `Authorization: Bearer`.
//! - **Fallback**: the next endpoint is tried only when the server says the endpoint does not exist: HTTP 404
//!   or 405, or what LM Studio 0.3 answers for an unknown path, HTTP 200 with
//!   `{"error": "Unexpected endpoint or method. (GET /api/v1/models)"}`. Unauthorized, timed out, unreachable
//!   or a malformed body is reported at once.
//! - **Tolerance**: values LM Studio may add to its enums (`type`, `state`, `compatibility_type`, `format`)
//!   never fail the parse: an unknown `type` becomes [`ModelKind::Other`], an unknown `state` leaves `loaded`
//!   unknown, and the others are kept in `raw`.
//! - **Context window**: the loaded instance's context length when the model is loaded (what requests get
//!   now), else the model's maximum.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::http;
use super::json::{self, bool_of, u64_of};
use super::openai::parse_model_list;
use super::server::{
    ParseModels, Server, list_from_first_present, non_blank, parse_base_url, provider_api,
};
use super::{ModelDescriptor, ModelKind, Provider, ProviderKind};
use crate::base_url::BaseUrl;
use crate::env::{Environment, ProcessEnv};
use crate::error::{DiscoveryError, ParseError};
use crate::secret::{KeyFingerprint, Secret};

const NAME: &str = "lmstudio";

/// An LM Studio server. See the [module docs](self).
///
/// ```no_run
/// # async fn demo() -> Result<(), modelroute::DiscoveryError> {
/// use modelroute::{LmStudio, Provider};
/// let lms = LmStudio::new("http://localhost:1234", None)?;
/// let models = lms.list_models(&modelroute::reqwest::Client::new()).await?;
/// let loaded: Vec<_> = models.iter().filter(|m| m.loaded == Some(true)).collect();
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct LmStudio {
    server: Server,
}

impl LmStudio {
    /// The environment variable holding the server's base URL (optional).
    pub const BASE_URL_VAR: &'static str = "LMSTUDIO_BASE_URL";
    /// The environment variable holding the API token (optional), as LM Studio's docs name it.
    pub const TOKEN_VAR: &'static str = "LM_API_TOKEN";
    /// LM Studio's default address.
    pub const DEFAULT_BASE_URL: &'static str = "http://localhost:1234";
    /// The endpoints tried, in order, relative to the base URL.
    pub const ENDPOINTS: [&'static str; 3] = ["api/v1/models", "api/v0/models", "v1/models"];

    /// A server at `base_url`, sending `token` if any. Fails on an invalid URL.
    pub fn new(base_url: &str, token: Option<Secret>) -> Result<Self, DiscoveryError> {
        Ok(Self::with_base_url(parse_base_url(NAME, base_url)?, token))
    }

    /// A server at an already parsed base URL.
    pub fn with_base_url(base_url: BaseUrl, token: Option<Secret>) -> Self {
        LmStudio {
            server: Server::new(base_url, token, http::DEFAULT_LOCAL_TIMEOUT),
        }
    }

    /// From the process environment: `LMSTUDIO_BASE_URL` (default `http://localhost:1234`) and
    /// `LM_API_TOKEN` (optional).
    pub fn from_env() -> Result<Self, DiscoveryError> {
        Self::from_env_with(&ProcessEnv)
    }

    /// Like [`from_env`](Self::from_env), reading variables from `env` (see [`Environment`]).
    ///
    /// ```
    /// use modelroute::{LmStudio, Provider};
    /// assert_eq!(LmStudio::from_env_with(&|_: &str| None)?.base_url().as_str(), "http://localhost:1234");
    /// # Ok::<(), modelroute::DiscoveryError>(())
    /// ```
    pub fn from_env_with(env: &dyn Environment) -> Result<Self, DiscoveryError> {
        let url = non_blank(env.var(Self::BASE_URL_VAR))
            .unwrap_or_else(|| Self::DEFAULT_BASE_URL.to_string());
        let token = non_blank(env.var(Self::TOKEN_VAR)).map(Secret::new);
        Self::new(&url, token)
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
            (&urls[0], parse_models_v1),
            (&urls[1], parse_models_v0),
            (&urls[2], parse_model_list),
        ];
        list_from_first_present(&conn, &endpoints, is_unexpected_endpoint).await
    }
}

provider_api!(
    LmStudio,
    kind: ProviderKind::LmStudio,
    credential: "token",
    timeout_doc: "Sets the per-request timeout (default 10 s).",
    debug_extra: [],
);

/// LM Studio 0.3's answer to an unknown path: HTTP 200 with `{"error":"Unexpected endpoint or method. (...)"}`.
fn is_unexpected_endpoint(body: &[u8]) -> bool {
    body.len() < 4096
        && serde_json::from_slice::<Value>(body).is_ok_and(|v| {
            json::str_of(v.get("error"))
                .is_some_and(|m| m.starts_with("Unexpected endpoint or method"))
        })
}

#[derive(Deserialize)]
struct V1Body {
    #[serde(deserialize_with = "json::nullable_list")]
    models: Vec<Value>,
}

#[derive(Deserialize)]
struct V1Entry {
    key: String,
}

/// Parses LM Studio's `/api/v1/models` body (0.4+): `{"models": [{"type", "key", "display_name",
/// "loaded_instances", "max_context_length", "format", "capabilities": {"vision", "trained_for_tool_use",
/// "reasoning"}, ...}]}`.
///
/// The id is `key`. `type` `llm` → chat, `embedding` → embedding, anything else kept as
/// [`ModelKind::Other`]. `loaded` is whether `loaded_instances` is non-empty. Vision and tools come from
/// `capabilities`; reasoning is `true` when `capabilities.reasoning` offers an option other than `off`.
///
/// ```
/// let body = br#"{"models":[{"type":"llm","key":"openai/gpt-oss-20b","max_context_length":131072,
///   "loaded_instances":[{"id":"openai/gpt-oss-20b","config":{"context_length":8192}}],
///   "capabilities":{"vision":false,"trained_for_tool_use":true}}]}"#;
/// let m = &modelroute::provider::lmstudio::parse_models_v1(body)?[0];
/// assert_eq!((m.id.as_str(), m.loaded, m.context_window), ("openai/gpt-oss-20b", Some(true), Some(8192)));
/// assert_eq!(m.supports_tools, Some(true));
/// # Ok::<(), modelroute::ParseError>(())
/// ```
pub fn parse_models_v1(body: &[u8]) -> Result<Vec<ModelDescriptor>, ParseError> {
    let list: V1Body = json::from_slice(body)?;
    let mut out = Vec::with_capacity(list.models.len());
    for (i, raw) in list.models.into_iter().enumerate() {
        let entry: V1Entry = json::from_value(&raw, &format!("models[{i}]"))?;
        let mut d = ModelDescriptor::new(entry.key);
        d.kind = kind_of_type(json::str_of(raw.get("type")));
        let instances = raw.get("loaded_instances").and_then(Value::as_array);
        d.loaded = instances.map(|a| !a.is_empty());
        let loaded_ctx = instances
            .and_then(|a| a.first())
            .and_then(|inst| u64_of(inst.get("config").and_then(|c| c.get("context_length"))));
        d.context_window = loaded_ctx.or_else(|| u64_of(raw.get("max_context_length")));
        if let Some(caps) = raw.get("capabilities").filter(|c| c.is_object()) {
            d.supports_vision = bool_of(caps.get("vision"));
            d.supports_tools = bool_of(caps.get("trained_for_tool_use"));
            d.supports_reasoning = caps
                .get("reasoning")
                .filter(|r| !r.is_null())
                .map(offers_reasoning);
        }
        d.raw = raw;
        out.push(d);
    }
    Ok(out)
}

/// `capabilities.reasoning`: `{"allowed_options": ["off", "on"], "default": "on"}`, or `true`/`false`.
fn offers_reasoning(r: &Value) -> bool {
    match r {
        Value::Bool(b) => *b,
        Value::Object(o) => match o.get("allowed_options").and_then(Value::as_array) {
            Some(opts) => opts.iter().any(|x| x.as_str().is_some_and(|s| s != "off")),
            None => true,
        },
        _ => true,
    }
}

#[derive(Deserialize)]
struct V0Body {
    #[serde(deserialize_with = "json::nullable_list")]
    data: Vec<Value>,
}

#[derive(Deserialize)]
struct V0Entry {
    id: String,
}

/// Parses LM Studio's legacy `/api/v0/models` body (0.3.6+): `{"object": "list", "data": [{"id", "type":
/// "llm" | "vlm" | "embeddings", "state": "loaded" | "not-loaded", "max_context_length",
/// "loaded_context_length"?, "capabilities"?: ["tool_use"], ...}]}`.
///
/// `vlm` is a chat model that accepts images. `capabilities` (0.3.16+) tells tool use; without it, unknown.
///
/// ```
/// let body = br#"{"object":"list","data":[{"id":"qwen2-vl-7b-instruct","type":"vlm","state":"not-loaded",
///   "max_context_length":32768}]}"#;
/// let m = &modelroute::provider::lmstudio::parse_models_v0(body)?[0];
/// assert_eq!((m.loaded, m.supports_vision, m.context_window), (Some(false), Some(true), Some(32768)));
/// # Ok::<(), modelroute::ParseError>(())
/// ```
pub fn parse_models_v0(body: &[u8]) -> Result<Vec<ModelDescriptor>, ParseError> {
    let list: V0Body = json::from_slice(body)?;
    let mut out = Vec::with_capacity(list.data.len());
    for (i, raw) in list.data.into_iter().enumerate() {
        let entry: V0Entry = json::from_value(&raw, &format!("data[{i}]"))?;
        let mut d = ModelDescriptor::new(entry.id);
        let ty = json::str_of(raw.get("type"));
        d.kind = kind_of_type(ty);
        if ty == Some("vlm") {
            d.supports_vision = Some(true);
        }
        d.loaded = match json::str_of(raw.get("state")) {
            Some("loaded") => Some(true),
            Some("not-loaded" | "loading") => Some(false),
            _ => None,
        };
        let loaded_ctx = if d.loaded == Some(true) {
            u64_of(raw.get("loaded_context_length"))
        } else {
            None
        };
        d.context_window = loaded_ctx.or_else(|| u64_of(raw.get("max_context_length")));
        if let Some(caps) = raw.get("capabilities").and_then(Value::as_array) {
            d.supports_tools = Some(caps.iter().any(|c| c.as_str() == Some("tool_use")));
        }
        d.raw = raw;
        out.push(d);
    }
    Ok(out)
}

fn kind_of_type(ty: Option<&str>) -> ModelKind {
    match ty {
        Some("llm" | "vlm") => ModelKind::Chat,
        Some("embedding" | "embeddings") => ModelKind::Embedding,
        Some("") | None => ModelKind::Unknown,
        Some(other) => ModelKind::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_documented_shape() {
        let body = br#"{"models":[
          {"type":"llm","publisher":"google","key":"google/gemma-3-12b","display_name":"Gemma 3 12B","architecture":"gemma3",
           "quantization":{"name":"Q4_K_M","bits_per_weight":4.5},"size_bytes":8000000000,"params_string":"12B",
           "loaded_instances":[],"max_context_length":131072,"format":"gguf",
           "capabilities":{"vision":true,"trained_for_tool_use":true,"reasoning":{"allowed_options":["off"],"default":"off"}},"description":null},
          {"type":"embedding","publisher":"nomic-ai","key":"text-embedding-nomic-embed-text-v1.5","display_name":"Nomic Embed",
           "quantization":{"name":"Q4_0","bits_per_weight":4},"size_bytes":84106624,"params_string":null,
           "loaded_instances":[{"id":"text-embedding-nomic-embed-text-v1.5","config":{"context_length":2048}}],
           "max_context_length":2048,"format":"gguf"},
          {"type":"llm","key":"openai/gpt-oss-20b","max_context_length":131072,"format":"mlx",
           "loaded_instances":[{"id":"openai/gpt-oss-20b","config":{"context_length":8192,"parallel":4}}],
           "capabilities":{"trained_for_tool_use":true,"reasoning":{"allowed_options":["low","medium","high"],"default":"medium"}}}
        ]}"#;
        let m = parse_models_v1(body).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].id, "google/gemma-3-12b");
        assert_eq!(m[0].kind, ModelKind::Chat);
        assert_eq!(m[0].loaded, Some(false));
        assert_eq!(m[0].context_window, Some(131_072));
        assert_eq!(
            (
                m[0].supports_vision,
                m[0].supports_tools,
                m[0].supports_reasoning
            ),
            (Some(true), Some(true), Some(false))
        );
        assert_eq!(m[1].kind, ModelKind::Embedding);
        assert_eq!((m[1].loaded, m[1].context_window), (Some(true), Some(2048)));
        assert_eq!((m[1].supports_tools, m[1].supports_vision), (None, None));
        assert_eq!((m[2].loaded, m[2].context_window), (Some(true), Some(8192)));
        assert_eq!(
            (m[2].supports_vision, m[2].supports_reasoning),
            (None, Some(true))
        );
        assert_eq!(m[2].raw["format"], "mlx");
    }

    #[test]
    fn v1_unknown_enums_are_tolerated() {
        let body = br#"{"models":[{"type":"reranker","key":"r","format":"onnx","loaded_instances":"weird","capabilities":[]}]}"#;
        let m = parse_models_v1(body).unwrap();
        assert_eq!(m[0].kind, ModelKind::Other("reranker".into()));
        assert_eq!(m[0].loaded, None);
        assert_eq!(m[0].raw["format"], "onnx");
        assert_eq!(
            parse_models_v1(br#"{"models":[{"type":"llm"}]}"#)
                .unwrap_err()
                .path,
            "models[0]"
        );
        assert_eq!(
            parse_models_v1(br#"{"models":[{"key":null}]}"#)
                .unwrap_err()
                .path,
            "models[0].key"
        );
    }

    #[test]
    fn v0_documented_and_later_fields() {
        let body = br#"{"object":"list","data":[
          {"id":"qwen2-vl-7b-instruct","object":"model","type":"vlm","publisher":"mlx-community","arch":"qwen2_vl",
           "compatibility_type":"mlx","quantization":"4bit","state":"not-loaded","max_context_length":32768},
          {"id":"meta-llama-3.1-8b-instruct","object":"model","type":"llm","publisher":"lmstudio-community","arch":"llama",
           "compatibility_type":"gguf","quantization":"Q4_K_M","state":"loaded","max_context_length":131072,
           "loaded_context_length":4096,"capabilities":["tool_use"]},
          {"id":"text-embedding-nomic-embed-text-v1.5","object":"model","type":"embeddings","publisher":"nomic-ai",
           "arch":"nomic-bert","compatibility_type":"gguf","quantization":"Q4_0","state":"not-loaded","max_context_length":2048,"capabilities":[]},
          {"id":"future","type":"audio","state":"sleeping","compatibility_type":"torch_safetensors"}
        ]}"#;
        let m = parse_models_v0(body).unwrap();
        assert_eq!(m[0].kind, ModelKind::Chat);
        assert_eq!(
            (m[0].supports_vision, m[0].loaded, m[0].supports_tools),
            (Some(true), Some(false), None)
        );
        assert_eq!(
            (m[1].loaded, m[1].context_window, m[1].supports_tools),
            (Some(true), Some(4096), Some(true))
        );
        assert_eq!(
            (m[2].kind.clone(), m[2].supports_tools),
            (ModelKind::Embedding, Some(false))
        );
        assert_eq!(
            (m[3].kind.clone(), m[3].loaded),
            (ModelKind::Other("audio".into()), None)
        );
        assert_eq!(
            parse_models_v0(br#"{"data":[{"type":"llm"}]}"#)
                .unwrap_err()
                .path,
            "data[0]"
        );
        assert!(parse_models_v0(br#"{"data":null}"#).unwrap().is_empty());
    }

    #[test]
    fn unexpected_endpoint_answer() {
        assert!(is_unexpected_endpoint(
            br#"{"error":"Unexpected endpoint or method. (GET /api/v1/models)"}"#
        ));
        assert!(!is_unexpected_endpoint(br#"{"error":"Model not found"}"#));
        assert!(!is_unexpected_endpoint(br#"{"models":[]}"#));
        assert!(!is_unexpected_endpoint(b"garbage"));
    }

    #[test]
    fn env() {
        let env = |name: &str| match name {
            "LMSTUDIO_BASE_URL" => Some("http://127.0.0.1:9999/v1".to_string()),
            "LM_API_TOKEN" => Some("tok".to_string()),
            _ => None,
        };
        let l = LmStudio::from_env_with(&env).unwrap();
        assert_eq!(l.base_url().as_str(), "http://127.0.0.1:9999/v1");
        assert_eq!(l.credential_fingerprint(), Some(&KeyFingerprint::of("tok")));
        assert_eq!(l.kind(), ProviderKind::LmStudio);
    }
}
