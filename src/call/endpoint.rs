//! [`Endpoint`]: where and how one deployment is called, resolved from its `litellm_params` the way LiteLLM
//! 1.109.1 resolves them (`get_llm_provider` and each provider's handler).
//!
//! | provider prefix | URL | `api_base` when not in `litellm_params` | key when not in `litellm_params` |
//! |---|---|---|---|
//! | `openai/`, or a bare OpenAI model name | `{api_base}/chat/completions` | `OPENAI_BASE_URL`, `OPENAI_API_BASE`, `https://api.openai.com/v1` | `OPENAI_API_KEY` |
//! | `litellm_proxy/` | `{api_base}/chat/completions` | `LITELLM_PROXY_API_BASE`, else an error | `LITELLM_PROXY_API_KEY` |
//! | `hosted_vllm/` | `{api_base}/chat/completions` | `HOSTED_VLLM_API_BASE`, else an error | `HOSTED_VLLM_API_KEY` |
//! | `lm_studio/` | `{api_base}/chat/completions` | `LM_STUDIO_API_BASE`, else an error | `LM_STUDIO_API_KEY` |
//! | `ollama/`, `ollama_chat/` | `{api_base}/v1/chat/completions` | `OLLAMA_API_BASE`, `http://localhost:11434` | `OLLAMA_API_KEY` |
//! | `azure/` | `{api_base}/openai/deployments/{model}/chat/completions?api-version=…` | `AZURE_API_BASE`, else an error | `AZURE_OPENAI_API_KEY`, `AZURE_API_KEY` |
//!
//! The key goes in `Authorization: Bearer …`, for Azure in `api-key: …` (and `azure_ad_token` /
//! `AZURE_AD_TOKEN` in `Authorization`); Azure's `api_version` defaults to `AZURE_API_VERSION`, then
//! `2025-02-01-preview`, and the v1 API (`api_version` `v1`, `latest` or `preview`) is
//! `{api_base}/openai/v1/chat/completions` with a Bearer key. `organization` becomes `OpenAI-Organization`
//! (`OPENAI_ORGANIZATION` for `openai/`), `extra_headers` are added last (they win over the defaults, as in the
//! OpenAI SDK). A `custom_llm_provider` parameter names the provider of a model written without prefix;
//! `use_litellm_proxy: true` (or `USE_LITELLM_PROXY=true`) sends any model to the LiteLLM proxy.
//!
//! **Deliberate differences** (LiteLLM would reach another server than the one the deployment names, or send
//! another provider's credential):
//! - `litellm_proxy/`, `hosted_vllm/`, `lm_studio/` and `azure/` without an `api_base` are an error
//!   ([`CallError::MissingApiBase`]). LiteLLM falls back to `OPENAI_BASE_URL` / `https://api.openai.com`
//!   (the endpoint of another provider: Sim Studio PR #4644's bug).
//! - `OPENAI_API_KEY` is sent only to `openai/` deployments (LiteLLM also sends it to a `litellm_proxy/` without
//!   a key), and no placeholder key (`fake-api-key`) is sent to vLLM or LM Studio without one.
//! - `ollama/` and `ollama_chat/` use Ollama's OpenAI-compatible `/v1/chat/completions` (LiteLLM translates to
//!   Ollama's native `/api/generate` and `/api/chat`), so the body stays the caller's.
//! - Any other provider is [`CallError::UnsupportedProvider`]: route such models through a LiteLLM proxy.
//!
//! **Body parameters.** LiteLLM calls `completion(**{**litellm_params, **request})`: every `litellm_params` key
//! it does not keep for itself (credentials, routing, pricing, logging, timeouts: the
//! [`LITELLM_SETTINGS`] list, generated from LiteLLM) reaches the request body,
//! `temperature` or `max_tokens` as well as keys it does not know (`top_k`, sent through the OpenAI SDK's
//! `extra_body`); `extra_body` itself is flattened into the body; the request's own fields win. That is what
//! [`Endpoint::body_params`] holds. LiteLLM's per-model translation of OpenAI parameters (`max_tokens` to
//! `max_completion_tokens` for o-series models, dropping `user` for models outside OpenAI's catalog,
//! `drop_params`) is not done: the body is the caller's.

use std::fmt;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::tables::{LITELLM_SETTINGS, OPENAI_CHAT_MODELS};
use crate::base_url::BaseUrl;
use crate::deployment::{LiteLlmParams, json_type};
use crate::env::{Environment, ProcessEnv};
use crate::error::CallError;
use crate::router::Route;
use crate::secret::Secret;

/// LiteLLM's default Azure API version (`litellm.AZURE_DEFAULT_API_VERSION`).
pub const AZURE_DEFAULT_API_VERSION: &str = "2025-02-01-preview";
/// OpenAI's API, LiteLLM's default `api_base` for `openai/`.
pub const OPENAI_DEFAULT_API_BASE: &str = "https://api.openai.com/v1";
/// Ollama's default address, LiteLLM's default `api_base` for `ollama/` and `ollama_chat/`.
pub const OLLAMA_DEFAULT_API_BASE: &str = "http://localhost:11434";

/// The prefix LiteLLM gives its internal keyword arguments (never sent).
const INTERNAL_PREFIX: &str = "_litellm_";

/// The providers this crate calls, by their LiteLLM prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiProvider {
    /// `openai/` (and bare OpenAI model names).
    OpenAi,
    /// `azure/`: Azure OpenAI.
    Azure,
    /// `litellm_proxy/`: a LiteLLM proxy.
    LiteLlmProxy,
    /// `hosted_vllm/`: a vLLM server.
    HostedVllm,
    /// `ollama/`: Ollama (called on its OpenAI-compatible endpoint).
    Ollama,
    /// `ollama_chat/`: Ollama (called on its OpenAI-compatible endpoint).
    OllamaChat,
    /// `lm_studio/`: LM Studio.
    LmStudio,
}

impl ApiProvider {
    /// Every provider, in the order of the module table.
    pub const ALL: [ApiProvider; 7] = [
        ApiProvider::OpenAi,
        ApiProvider::LiteLlmProxy,
        ApiProvider::HostedVllm,
        ApiProvider::LmStudio,
        ApiProvider::Ollama,
        ApiProvider::OllamaChat,
        ApiProvider::Azure,
    ];

    /// The LiteLLM provider name (the model prefix without `/`).
    ///
    /// ```
    /// use modelroute::call::ApiProvider;
    /// assert_eq!(ApiProvider::LiteLlmProxy.as_str(), "litellm_proxy");
    /// assert_eq!(ApiProvider::from_name("hosted_vllm"), Some(ApiProvider::HostedVllm));
    /// assert_eq!(ApiProvider::from_name("anthropic"), None);
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ApiProvider::OpenAi => "openai",
            ApiProvider::Azure => "azure",
            ApiProvider::LiteLlmProxy => "litellm_proxy",
            ApiProvider::HostedVllm => "hosted_vllm",
            ApiProvider::Ollama => "ollama",
            ApiProvider::OllamaChat => "ollama_chat",
            ApiProvider::LmStudio => "lm_studio",
        }
    }

    /// The provider of a LiteLLM provider name, if this crate calls it.
    pub fn from_name(name: &str) -> Option<Self> {
        ApiProvider::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

impl fmt::Display for ApiProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One deployment's chat completions endpoint: URL, headers (credentials included), the model name the body
/// carries, the `litellm_params` merged into the body, and the timeouts. See the [module docs](self).
///
/// `Debug` shows header names, never their values, and the names of the body parameters only.
///
/// ```
/// use modelroute::call::{ApiProvider, Endpoint};
/// use modelroute::Deployment;
/// use serde_json::json;
///
/// let d = Deployment::from_value(json!({"model_name": "fast", "litellm_params": {
///     "model": "hosted_vllm/meta-llama/Llama-3.1-8B-Instruct", "api_base": "http://127.0.0.1:8000/v1",
///     "temperature": 0.2, "top_k": 20, "rpm": 600, "timeout": 30}}))?;
/// let env = |_: &str| None; // no environment variables
/// let e = Endpoint::resolve(d.litellm_params(), d.litellm_params().model(), &env)?;
/// assert_eq!(e.provider(), ApiProvider::HostedVllm);
/// assert_eq!(e.url(), "http://127.0.0.1:8000/v1/chat/completions");
/// assert_eq!(e.model(), "meta-llama/Llama-3.1-8B-Instruct");
/// // temperature and top_k are sent; rpm and timeout are LiteLLM's own settings.
/// assert_eq!(serde_json::Value::Object(e.body_params().clone()), json!({"temperature": 0.2, "top_k": 20}));
/// assert_eq!(e.timeout(), Some(std::time::Duration::from_secs(30)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Endpoint {
    provider: ApiProvider,
    url: String,
    base: BaseUrl,
    model: String,
    headers: HeaderMap,
    secrets: Vec<Secret>,
    sends_key: bool,
    params: Map<String, Value>,
    timeout: Option<Duration>,
    stream_timeout: Option<Duration>,
}

impl Endpoint {
    /// The endpoint of a routed deployment ([`Route::deployment`] called with [`Route::model`]), with
    /// environment variables from the process.
    pub fn for_route(route: &Route) -> Result<Self, CallError> {
        Self::for_route_with_env(route, &ProcessEnv)
    }

    /// [`Endpoint::for_route`] with environment variables from `env`.
    pub fn for_route_with_env(route: &Route, env: &dyn Environment) -> Result<Self, CallError> {
        Self::resolve(route.deployment().litellm_params(), route.model(), env)
    }

    /// The endpoint for `model` (the concrete model, e.g. `openai/gpt-4o`, a wildcard's captures filled in)
    /// of a deployment with these `litellm_params`, reading LiteLLM's environment variables from `env`.
    pub fn resolve(
        params: &LiteLlmParams,
        model: &str,
        env: &dyn Environment,
    ) -> Result<Self, CallError> {
        let (provider, model) = provider_of(params, model, env)?;
        let api_base = non_empty(params.api_base().map(str::to_string));
        let mut key = params.api_key().filter(|k| !k.expose().is_empty()).cloned();
        let env_var = |name: &str| non_empty(env.var(name));
        let env_key = |names: &[&str]| names.iter().find_map(|n| env_var(n)).map(Secret::new);
        let mut headers = HeaderMap::new();
        let mut secrets = Vec::new();
        let base_str = match provider {
            ApiProvider::OpenAi => {
                key = key.or_else(|| env_key(&["OPENAI_API_KEY"]));
                api_base
                    .or_else(|| env_var("OPENAI_BASE_URL"))
                    .or_else(|| env_var("OPENAI_API_BASE"))
                    .unwrap_or_else(|| OPENAI_DEFAULT_API_BASE.to_string())
            }
            ApiProvider::LiteLlmProxy => {
                key = key.or_else(|| env_key(&["LITELLM_PROXY_API_KEY"]));
                required_base(api_base, env, provider, "LITELLM_PROXY_API_BASE")?
            }
            ApiProvider::HostedVllm => {
                key = key.or_else(|| env_key(&["HOSTED_VLLM_API_KEY"]));
                required_base(api_base, env, provider, "HOSTED_VLLM_API_BASE")?
            }
            ApiProvider::LmStudio => {
                key = key.or_else(|| env_key(&["LM_STUDIO_API_KEY"]));
                required_base(api_base, env, provider, "LM_STUDIO_API_BASE")?
            }
            ApiProvider::Ollama | ApiProvider::OllamaChat => {
                key = key.or_else(|| env_key(&["OLLAMA_API_KEY"]));
                api_base
                    .or_else(|| env_var("OLLAMA_API_BASE"))
                    .unwrap_or_else(|| OLLAMA_DEFAULT_API_BASE.to_string())
            }
            ApiProvider::Azure => {
                key = key.or_else(|| env_key(&["AZURE_OPENAI_API_KEY", "AZURE_API_KEY"]));
                required_base(api_base, env, provider, "AZURE_API_BASE")?
            }
        };
        let base = BaseUrl::parse(&base_str).map_err(|source| CallError::InvalidApiBase {
            provider: provider.as_str(),
            source,
        })?;
        let mut bearer = true;
        let url = match provider {
            ApiProvider::Ollama | ApiProvider::OllamaChat => {
                let root = base.as_str();
                format!(
                    "{}/v1/chat/completions",
                    root.strip_suffix("/v1").unwrap_or(root)
                )
            }
            ApiProvider::Azure => {
                let version = string_param(params, "api_version")?
                    .or_else(|| env_var("AZURE_API_VERSION"))
                    .unwrap_or_else(|| AZURE_DEFAULT_API_VERSION.to_string());
                if let Some(token) =
                    string_param(params, "azure_ad_token")?.or_else(|| env_var("AZURE_AD_TOKEN"))
                {
                    let token = Secret::new(token);
                    headers.insert(AUTHORIZATION, bearer_value(&token, "azure_ad_token")?);
                    secrets.push(token);
                }
                if matches!(version.as_str(), "v1" | "latest" | "preview") {
                    if base.as_str().contains("/openai/v1") {
                        base.endpoint("chat/completions")
                    } else {
                        base.endpoint("openai/v1/chat/completions")
                    }
                } else {
                    bearer = false;
                    azure_deployment_url(&base, &model, &version)?
                }
            }
            _ => {
                if base.as_str().ends_with("/chat/completions") {
                    base.as_str().to_string()
                } else {
                    base.endpoint("chat/completions")
                }
            }
        };
        let sends_key = key.is_some() || !secrets.is_empty();
        if let Some(key) = key {
            if bearer {
                headers.insert(AUTHORIZATION, bearer_value(&key, "api_key")?);
            } else {
                let mut value = HeaderValue::from_str(key.expose())
                    .map_err(|_| invalid("litellm_params.api_key", "not a valid header value"))?;
                value.set_sensitive(true);
                headers.insert(HeaderName::from_static("api-key"), value);
            }
            secrets.push(key);
        }
        let organization = match provider {
            ApiProvider::OpenAi => {
                string_param(params, "organization")?.or_else(|| env_var("OPENAI_ORGANIZATION"))
            }
            ApiProvider::LiteLlmProxy | ApiProvider::LmStudio => {
                string_param(params, "organization")?
            }
            _ => None,
        };
        if let Some(org) = organization {
            let value = HeaderValue::from_str(&org)
                .map_err(|_| invalid("litellm_params.organization", "not a valid header value"))?;
            headers.insert(HeaderName::from_static("openai-organization"), value);
        }
        extra_headers(params, &mut headers, &mut secrets)?;
        let timeout =
            seconds_param(params, "timeout")?.or(seconds_param(params, "request_timeout")?);
        let stream_timeout = seconds_param(params, "stream_timeout")?;
        Ok(Endpoint {
            provider,
            url,
            base,
            model,
            headers,
            secrets,
            sends_key,
            params: body_params(params),
            timeout,
            stream_timeout,
        })
    }

    /// The provider.
    pub fn provider(&self) -> ApiProvider {
        self.provider
    }
    /// The URL requested.
    pub fn url(&self) -> &str {
        &self.url
    }
    /// The `api_base` in use, normalized.
    pub fn api_base(&self) -> &BaseUrl {
        &self.base
    }
    /// The model name the body's `model` is set to (the deployment's model without its provider prefix; for
    /// Azure, the deployment name).
    pub fn model(&self) -> &str {
        &self.model
    }
    /// The `litellm_params` sent in the body, in the order written, unless the request sets them itself.
    pub fn body_params(&self) -> &Map<String, Value> {
        &self.params
    }
    /// The names of the headers sent (credentials included; values never exposed).
    pub fn header_names(&self) -> impl Iterator<Item = &str> {
        self.headers.keys().map(HeaderName::as_str)
    }
    /// Whether a credential (API key or token) is sent.
    pub fn sends_credential(&self) -> bool {
        self.sends_key
    }
    /// The deployment's `timeout` (else `request_timeout`): a non-streamed call's deadline.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
    /// The deployment's `stream_timeout`.
    pub fn stream_timeout(&self) -> Option<Duration> {
        self.stream_timeout
    }

    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub(crate) fn secrets(&self) -> &[Secret] {
        &self.secrets
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("provider", &self.provider)
            .field("url", &self.url)
            .field("model", &self.model)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_params", &self.params.keys().collect::<Vec<_>>())
            .field("timeout", &self.timeout)
            .field("stream_timeout", &self.stream_timeout)
            .finish()
    }
}

/// The provider and the model name sent, as LiteLLM's `get_llm_provider` decides them (for the providers
/// called here).
fn provider_of(
    params: &LiteLlmParams,
    model: &str,
    env: &dyn Environment,
) -> Result<(ApiProvider, String), CallError> {
    let use_proxy = matches!(params.get("use_litellm_proxy"), Some(Value::Bool(true)))
        || env
            .var("USE_LITELLM_PROXY")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    if use_proxy {
        return Ok((ApiProvider::LiteLlmProxy, model.to_string()));
    }
    if let Some(named) = string_param(params, "custom_llm_provider")? {
        let provider =
            ApiProvider::from_name(&named).ok_or_else(|| CallError::UnsupportedProvider {
                provider: named.clone(),
                model: model.to_string(),
            })?;
        let rest = model
            .strip_prefix(named.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or(model);
        return Ok((provider, rest.to_string()));
    }
    if let Some((prefix, rest)) = model.split_once('/')
        && let Some(provider) = ApiProvider::from_name(prefix)
    {
        return Ok((provider, rest.to_string()));
    }
    if is_openai_model(model) {
        return Ok((ApiProvider::OpenAi, model.to_string()));
    }
    match model.split_once('/') {
        Some((prefix, _)) => Err(CallError::UnsupportedProvider {
            provider: prefix.to_string(),
            model: model.to_string(),
        }),
        None => Err(CallError::UnknownProvider {
            model: model.to_string(),
        }),
    }
}

/// Whether LiteLLM sends a bare model name to OpenAI (`get_llm_provider`: the OpenAI chat catalog,
/// fine-tunes of gpt-3.5-turbo and gpt-4, and `*`).
///
/// ```
/// use modelroute::call::is_openai_model;
/// assert!(is_openai_model("gpt-4o"));
/// assert!(is_openai_model("ft:gpt-4o-mini:acme::abc123"));
/// assert!(!is_openai_model("llama3"));
/// ```
pub fn is_openai_model(model: &str) -> bool {
    OPENAI_CHAT_MODELS.binary_search(&model).is_ok()
        || model.contains("ft:gpt-3.5-turbo")
        || model.contains("ft:gpt-4")
        || model == "*"
}

/// Whether a `litellm_params` key is one of LiteLLM's own settings (never sent in the body).
///
/// ```
/// use modelroute::call::is_litellm_setting;
/// assert!(is_litellm_setting("rpm"));
/// assert!(is_litellm_setting("api_key"));
/// assert!(!is_litellm_setting("temperature"));
/// assert!(!is_litellm_setting("top_k"));
/// ```
pub fn is_litellm_setting(key: &str) -> bool {
    key.starts_with(INTERNAL_PREFIX) || LITELLM_SETTINGS.binary_search(&key).is_ok()
}

/// The `litellm_params` that reach the body: `extra_body` flattened first, then every other key that is not a
/// LiteLLM setting (so it wins over `extra_body`), `null`s left out. `stream` and `stream_options` are the
/// call's own (see `ChatCall`).
fn body_params(params: &LiteLlmParams) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(Value::Object(extra)) = params.get("extra_body") {
        for (k, v) in extra {
            if k != "model" && !v.is_null() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    for (key, value) in params.effective() {
        if is_litellm_setting(key)
            || value.is_null()
            || matches!(key.as_str(), "stream" | "stream_options")
        {
            continue;
        }
        out.insert(key.clone(), value.clone());
    }
    out
}

fn required_base(
    api_base: Option<String>,
    env: &dyn Environment,
    provider: ApiProvider,
    variable: &'static str,
) -> Result<String, CallError> {
    api_base
        .or_else(|| non_empty(env.var(variable)))
        .ok_or(CallError::MissingApiBase {
            provider: provider.as_str(),
            variable,
        })
}

fn azure_deployment_url(
    base: &BaseUrl,
    deployment: &str,
    version: &str,
) -> Result<String, CallError> {
    let mut url = url::Url::parse(base.as_str()).map_err(|e| CallError::InvalidApiBase {
        provider: "azure",
        source: crate::error::BaseUrlError::Invalid {
            reason: e.to_string(),
        },
    })?;
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|_| CallError::InvalidApiBase {
                provider: "azure",
                source: crate::error::BaseUrlError::Invalid {
                    reason: "cannot be a base".to_string(),
                },
            })?;
        segments.pop_if_empty().extend([
            "openai",
            "deployments",
            deployment,
            "chat",
            "completions",
        ]);
    }
    url.query_pairs_mut().append_pair("api-version", version);
    Ok(url.into())
}

fn bearer_value(secret: &Secret, field: &str) -> Result<HeaderValue, CallError> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", secret.expose())).map_err(|_| {
            invalid(
                &format!("litellm_params.{field}"),
                "not a valid header value",
            )
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Adds `extra_headers` (an object of strings, numbers or booleans); secret-looking ones are marked sensitive
/// and their values scrubbed from error bodies.
fn extra_headers(
    params: &LiteLlmParams,
    headers: &mut HeaderMap,
    secrets: &mut Vec<Secret>,
) -> Result<(), CallError> {
    let map = match params.get("extra_headers") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(invalid(
                "litellm_params.extra_headers",
                &format!("expected an object, found {}", json_type(other)),
            ));
        }
    };
    for (name, value) in map {
        let field = format!("litellm_params.extra_headers.{name}");
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            other => {
                return Err(invalid(
                    &field,
                    &format!("expected a string, found {}", json_type(other)),
                ));
            }
        };
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid(&field, "not a valid header name"))?;
        let mut header_value = HeaderValue::from_str(&text)
            .map_err(|_| invalid(&field, "not a valid header value"))?;
        if crate::redact::is_secret_name(name) {
            header_value.set_sensitive(true);
            if !text.is_empty() {
                secrets.push(Secret::new(text.trim_start_matches("Bearer ").to_string()));
            }
        }
        headers.insert(header, header_value);
    }
    Ok(())
}

fn string_param(params: &LiteLlmParams, key: &str) -> Result<Option<String>, CallError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(non_empty(Some(s.clone()))),
        Some(other) => Err(invalid(
            &format!("litellm_params.{key}"),
            &format!("expected a string, found {}", json_type(other)),
        )),
    }
}

/// A timeout in seconds: a positive number, or a string holding one (`os.environ/` values are strings).
fn seconds_param(params: &LiteLlmParams, key: &str) -> Result<Option<Duration>, CallError> {
    let field = format!("litellm_params.{key}");
    let secs = match params.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(other) => {
            return Err(invalid(
                &field,
                &format!("expected a number of seconds, found {}", json_type(other)),
            ));
        }
    };
    match secs {
        Some(s) if s > 0.0 && s.is_finite() && s < 1e12 => Ok(Some(Duration::from_secs_f64(s))),
        _ => Err(invalid(&field, "expected a positive number of seconds")),
    }
}

fn invalid(field: &str, reason: &str) -> CallError {
    CallError::InvalidParam {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Deployment;
    use serde_json::json;

    fn endpoint(params: Value, env: &[(&str, &str)]) -> Result<Endpoint, CallError> {
        let env: std::collections::HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let d = Deployment::from_value_with_env(
            json!({"model_name": "m", "litellm_params": params}),
            &env,
        )
        .unwrap();
        Endpoint::resolve(d.litellm_params(), d.litellm_params().model(), &env)
    }

    #[test]
    fn the_generated_tables_are_sorted_so_binary_search_finds_every_entry() {
        for table in [LITELLM_SETTINGS, OPENAI_CHAT_MODELS] {
            assert!(table.windows(2).all(|w| w[0] < w[1]));
            assert!(table.iter().all(|k| table.binary_search(k).is_ok()));
        }
    }

    #[test]
    fn each_provider_resolves_to_its_url_and_default_base() {
        let url = |p: Value, env: &[(&str, &str)]| endpoint(p, env).map(|e| e.url().to_string());
        assert_eq!(
            url(json!({"model": "openai/gpt-4o"}), &[]).unwrap(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert_eq!(
            url(
                json!({"model": "gpt-4o"}),
                &[("OPENAI_API_BASE", "https://gw.example/v1")]
            )
            .unwrap(),
            "https://gw.example/v1/chat/completions"
        );
        assert_eq!(
            url(json!({"model": "ollama_chat/llama3"}), &[]).unwrap(),
            "http://localhost:11434/v1/chat/completions"
        );
        assert_eq!(
            url(
                json!({"model": "ollama/llama3", "api_base": "http://h:11434/v1/"}),
                &[]
            )
            .unwrap(),
            "http://h:11434/v1/chat/completions"
        );
        assert_eq!(
            url(
                json!({"model": "azure/my dep", "api_base": "https://x.openai.azure.com/"}),
                &[]
            )
            .unwrap(),
            "https://x.openai.azure.com/openai/deployments/my%20dep/chat/completions?api-version=2025-02-01-preview"
        );
        assert_eq!(
            url(
                json!({"model": "azure/d", "api_base": "https://x", "api_version": "v1"}),
                &[]
            )
            .unwrap(),
            "https://x/openai/v1/chat/completions"
        );
        for (model, var) in [
            ("litellm_proxy/gpt-4o", "LITELLM_PROXY_API_BASE"),
            ("hosted_vllm/m", "HOSTED_VLLM_API_BASE"),
            ("lm_studio/m", "LM_STUDIO_API_BASE"),
            ("azure/d", "AZURE_API_BASE"),
        ] {
            let err = url(
                json!({"model": model}),
                &[("OPENAI_API_BASE", "https://api.openai.com/v1")],
            )
            .unwrap_err();
            assert!(
                matches!(&err, CallError::MissingApiBase { variable, .. } if *variable == var),
                "{model}: {err}"
            );
            assert!(
                url(json!({"model": model}), &[(var, "http://127.0.0.1:9/x")])
                    .unwrap()
                    .starts_with("http://127.0.0.1:9/x/")
            );
        }
    }

    #[test]
    fn unknown_providers_are_errors_that_name_them() {
        let err = endpoint(json!({"model": "anthropic/claude-3-5-sonnet"}), &[]).unwrap_err();
        assert!(
            matches!(&err, CallError::UnsupportedProvider { provider, .. } if provider == "anthropic")
        );
        assert!(
            err.to_string()
                .contains("litellm_proxy/anthropic/claude-3-5-sonnet")
        );
        let err = endpoint(json!({"model": "llama3"}), &[]).unwrap_err();
        assert!(matches!(err, CallError::UnknownProvider { .. }));
        let err =
            endpoint(json!({"model": "m", "custom_llm_provider": "bedrock"}), &[]).unwrap_err();
        assert!(err.is_unsupported_provider());
        let e = endpoint(
            json!({"model": "my-model", "custom_llm_provider": "hosted_vllm", "api_base": "http://127.0.0.1:1"}),
            &[],
        )
        .unwrap();
        assert_eq!(
            (e.provider(), e.model()),
            (ApiProvider::HostedVllm, "my-model")
        );
        let e = endpoint(
            json!({"model": "anthropic/claude", "use_litellm_proxy": true}),
            &[("LITELLM_PROXY_API_BASE", "http://127.0.0.1:4000")],
        )
        .unwrap();
        assert_eq!(
            (e.provider(), e.model()),
            (ApiProvider::LiteLlmProxy, "anthropic/claude")
        );
    }

    #[test]
    fn body_params_are_the_keys_litellm_sends_with_extra_body_flattened() {
        let e = endpoint(
            json!({"model": "openai/m", "rpm": 1, "temperature": 0.1, "extra_body": {"a": 1, "top_k": 1, "model": "x"},
                   "top_k": 5, "api_key": "k", "timeout": "2.5", "mock_response": "hi", "stream": true,
                   "_litellm_x": 1, "supports_vision": true, "organization": "org", "seed": null}),
            &[],
        )
        .unwrap();
        assert_eq!(
            Value::Object(e.body_params().clone()),
            json!({"a": 1, "top_k": 5, "temperature": 0.1})
        );
        assert_eq!(e.timeout(), Some(Duration::from_millis(2500)));
        assert!(
            endpoint(json!({"model": "openai/m", "timeout": "soon"}), &[])
                .unwrap_err()
                .is_config()
        );
    }

    #[test]
    fn debug_never_shows_credentials() {
        let e = endpoint(
            json!({"model": "azure/d", "api_base": "https://x", "api_key": "sk-azure-secret",
                   "extra_headers": {"X-Api-Token": "tok-secret", "X-Trace": "1"}}),
            &[("AZURE_AD_TOKEN", "ad-secret")],
        )
        .unwrap();
        let dbg = format!("{e:?}");
        for secret in ["sk-azure-secret", "tok-secret", "ad-secret"] {
            assert!(!dbg.contains(secret), "{dbg}");
        }
        assert!(e.header_names().any(|h| h == "api-key"));
        assert!(e.header_names().any(|h| h == "authorization"));
        assert_eq!(e.secrets().len(), 3);
    }
}
