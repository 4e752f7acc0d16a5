//! [`CallError`]: why an OpenAI-compatible call ([`crate::call`]) failed.

use std::sync::Arc;
use std::time::Duration;

use crate::call::ErrorBody;
use crate::error::BaseUrlError;

/// Why a chat completion call failed. Cheap to clone.
///
/// Two groups:
/// - **Nothing was sent** ([`CallError::is_config`]): the deployment names a provider this crate does not call,
///   lacks an `api_base`, has an invalid parameter, the body is not a JSON object, or the key would travel in clear
///   text.
/// - **The call failed**: no connection, no answer in time, an HTTP error status (with its bounded, scrubbed
///   body and `Retry-After`), an error object instead of a completion, a malformed or oversize answer, or a
///   stream that broke off. For a stream, [`CallError::is_before_first_event`] says whether any event had
///   reached the caller (a stream may be retried elsewhere only before that).
///
/// Messages never contain the API key: the server's text is scrubbed of it (and of secret header values), and
/// request headers are never copied into an error.
///
/// ```
/// use modelroute::error::CallError;
/// # fn check(err: CallError) {
/// if let Some(429) = err.status() {
///     let wait = err.retry_after(); // the server's Retry-After, if it sent one
///     # let _ = wait;
/// } else if err.is_timeout() && err.is_before_first_event() {
///     // nothing reached the caller: another deployment may be tried
/// }
/// # }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The deployment's provider is not one this crate calls (it calls `openai/`, `azure/`, `litellm_proxy/`,
    /// `hosted_vllm/`, `ollama/`, `ollama_chat/` and `lm_studio/`). Route such models through a LiteLLM proxy
    /// deployment (`litellm_proxy/<model>` with the proxy's `api_base`). Nothing was sent.
    #[error(
        "model `{model}`: provider `{provider}` is not called by modelroute (openai, azure, litellm_proxy, \
         hosted_vllm, ollama, ollama_chat, lm_studio); route it through a LiteLLM proxy deployment \
         (litellm_proxy/{model})"
    )]
    UnsupportedProvider {
        /// The provider prefix (or `custom_llm_provider`).
        provider: String,
        /// The deployment's model.
        model: String,
    },
    /// A model without a provider prefix that LiteLLM does not send to OpenAI either: the provider cannot
    /// be told. Nothing was sent.
    #[error(
        "model `{model}` has no provider prefix and is not an OpenAI model LiteLLM knows; write it as \
         `openai/{model}` (or another provider prefix)"
    )]
    UnknownProvider {
        /// The deployment's model.
        model: String,
    },
    /// The provider has no default endpoint and neither `api_base` nor its environment variable is set.
    /// Nothing was sent (never another provider's endpoint).
    #[error("{provider}: no api_base in litellm_params and {variable} is not set")]
    MissingApiBase {
        /// The provider.
        provider: &'static str,
        /// The environment variable LiteLLM reads.
        variable: &'static str,
    },
    /// The `api_base` is not a usable URL. Nothing was sent.
    #[error("{provider}: invalid api_base: {source}")]
    InvalidApiBase {
        /// The provider.
        provider: &'static str,
        /// Why.
        #[source]
        source: BaseUrlError,
    },
    /// A `litellm_params` value the call needs is invalid (e.g. `timeout` not a number, an `extra_headers`
    /// value that is not a valid header). The value itself is never shown. Nothing was sent.
    #[error("invalid {field}: {reason}")]
    InvalidParam {
        /// Which parameter, e.g. `litellm_params.timeout`.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The request body is not a JSON object. Nothing was sent.
    #[error("request body: {reason}")]
    InvalidBody {
        /// What is wrong.
        reason: String,
    },
    /// The API key would have been sent over plain `http` to a host that is not loopback. Nothing was sent.
    /// Use `https`, or opt in with [`ChatCall::allow_insecure_http`](crate::call::ChatCall::allow_insecure_http).
    #[error(
        "{endpoint}: refusing to send the API key over plain http to a non-loopback host (use https, or allow_insecure_http)"
    )]
    InsecureTransport {
        /// The URL that would have been requested.
        endpoint: String,
    },
    /// No connection (refused, DNS failure, TLS failure).
    #[error("{endpoint}: cannot connect")]
    Connect {
        /// The URL requested.
        endpoint: String,
        /// The transport error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// No answer in time: the request's timeout, or for a stream, no event within `stream_timeout`.
    #[error("{endpoint}: timed out{}", after(*.after_first_event))]
    Timeout {
        /// The URL requested.
        endpoint: String,
        /// Whether an event had already reached the caller.
        after_first_event: bool,
    },
    /// The server answered with an HTTP error status.
    #[error("{endpoint}: HTTP {status}{}", message(.body))]
    Status {
        /// The URL requested.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The error body, bounded and scrubbed of secrets.
        body: ErrorBody,
        /// The server's `Retry-After`, when it sent a usable one.
        retry_after: Option<Duration>,
    },
    /// The server answered with an error object instead of a completion: a 2xx body `{"error": {...}}`, or
    /// an error event in a stream (`data: {"error": {...}}`, or an SSE `event: error`).
    #[error("{endpoint}: error from the server{}{}{}", fmt_code(*.code), message(.body), after(*.after_first_event))]
    Upstream {
        /// The URL requested.
        endpoint: String,
        /// The error's `code` when it is an HTTP status (LiteLLM sends `"code": "429"`).
        code: Option<u16>,
        /// The error, bounded and scrubbed of secrets.
        body: ErrorBody,
        /// Whether an event had already reached the caller.
        after_first_event: bool,
    },
    /// The answer is not what the OpenAI API documents (not JSON, not an event stream, an event that is not
    /// a JSON chunk).
    #[error("{endpoint}: malformed response: {reason}{}", after(*.after_first_event))]
    Malformed {
        /// The URL requested.
        endpoint: String,
        /// What is wrong.
        reason: String,
        /// Whether an event had already reached the caller.
        after_first_event: bool,
    },
    /// The response body, or one stream event, is larger than the limit.
    #[error("{endpoint}: response larger than the limit of {limit} bytes{}", after(*.after_first_event))]
    TooLarge {
        /// The URL requested.
        endpoint: String,
        /// The limit in bytes.
        limit: usize,
        /// Whether an event had already reached the caller.
        after_first_event: bool,
    },
    /// The stream ended without `data: [DONE]`: the server closed it early.
    #[error("{endpoint}: stream ended before [DONE]{}", after(*.after_first_event))]
    Incomplete {
        /// The URL requested.
        endpoint: String,
        /// Whether an event had already reached the caller.
        after_first_event: bool,
    },
    /// Any other transport failure (the connection broke while the answer was read, ...).
    #[error("{endpoint}: request failed{}: {source}", after(*.after_first_event))]
    Transport {
        /// The URL requested.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
        /// Whether an event had already reached the caller.
        after_first_event: bool,
    },
}

fn after(after_first_event: bool) -> &'static str {
    if after_first_event {
        " (after the first event)"
    } else {
        ""
    }
}

fn message(body: &ErrorBody) -> String {
    match body.message() {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}

fn fmt_code(code: Option<u16>) -> String {
    match code {
        Some(c) => format!(" (code {c})"),
        None => String::new(),
    }
}

impl CallError {
    /// Nothing was sent: the call could not be built (provider, `api_base`, a parameter, the body, or a key
    /// that would travel in clear text).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            CallError::UnsupportedProvider { .. }
                | CallError::UnknownProvider { .. }
                | CallError::MissingApiBase { .. }
                | CallError::InvalidApiBase { .. }
                | CallError::InvalidParam { .. }
                | CallError::InvalidBody { .. }
                | CallError::InsecureTransport { .. }
        )
    }
    /// The deployment's provider is not called by this crate ([`CallError::UnsupportedProvider`] or
    /// [`CallError::UnknownProvider`]).
    pub fn is_unsupported_provider(&self) -> bool {
        matches!(
            self,
            CallError::UnsupportedProvider { .. } | CallError::UnknownProvider { .. }
        )
    }
    /// No connection could be made.
    pub fn is_connect(&self) -> bool {
        matches!(self, CallError::Connect { .. })
    }
    /// No answer (or no event) in time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, CallError::Timeout { .. })
    }
    /// The answer or one event was over the size limit.
    pub fn is_too_large(&self) -> bool {
        matches!(self, CallError::TooLarge { .. })
    }
    /// The answer was not what the API documents.
    pub fn is_malformed(&self) -> bool {
        matches!(self, CallError::Malformed { .. })
    }
    /// The stream ended before `[DONE]`.
    pub fn is_incomplete(&self) -> bool {
        matches!(self, CallError::Incomplete { .. })
    }
    /// The HTTP status of an error answer ([`CallError::Status`]), or the numeric `code` of an error object
    /// ([`CallError::Upstream`]).
    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Status { status, .. } => Some(*status),
            CallError::Upstream { code, .. } => *code,
            _ => None,
        }
    }
    /// The error body the server sent (bounded, scrubbed of secrets): what tells a context-window error or a
    /// content-policy refusal from another 400.
    pub fn error_body(&self) -> Option<&ErrorBody> {
        match self {
            CallError::Status { body, .. } | CallError::Upstream { body, .. } => Some(body),
            _ => None,
        }
    }
    /// The server's `Retry-After` (seconds, or an HTTP date turned into the time left), when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CallError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
    /// Whether the failure happened before any event reached the caller. Always true for a call that is
    /// not streamed, and for every failure a streaming call returns before giving its stream; false only for
    /// an error a stream yields after its first event (such a request cannot be retried transparently).
    pub fn is_before_first_event(&self) -> bool {
        !matches!(
            self,
            CallError::Timeout {
                after_first_event: true,
                ..
            } | CallError::Upstream {
                after_first_event: true,
                ..
            } | CallError::Malformed {
                after_first_event: true,
                ..
            } | CallError::TooLarge {
                after_first_event: true,
                ..
            } | CallError::Incomplete {
                after_first_event: true,
                ..
            } | CallError::Transport {
                after_first_event: true,
                ..
            }
        )
    }
    /// The URL requested (or that would have been), for the errors that concern one request.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            CallError::InsecureTransport { endpoint }
            | CallError::Connect { endpoint, .. }
            | CallError::Timeout { endpoint, .. }
            | CallError::Status { endpoint, .. }
            | CallError::Upstream { endpoint, .. }
            | CallError::Malformed { endpoint, .. }
            | CallError::TooLarge { endpoint, .. }
            | CallError::Incomplete { endpoint, .. }
            | CallError::Transport { endpoint, .. } => Some(endpoint),
            _ => None,
        }
    }
}
