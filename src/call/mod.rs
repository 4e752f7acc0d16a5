//! The OpenAI-compatible call (feature `openai`): one chat completion sent to one routed deployment, streamed
//! or not, on your [`reqwest::Client`].
//!
//! # Following a call
//! 1. **Where** ([`Endpoint`], from a [`Route`]): the deployment's provider prefix picks the URL and the
//!    credential header (`openai/`, `azure/`, `litellm_proxy/`, `hosted_vllm/`, `ollama/`, `ollama_chat/`,
//!    `lm_studio/`, with LiteLLM's defaults and environment variables); any other provider is a typed error,
//!    never another provider's endpoint and never a default model. See [`endpoint`] for the table.
//! 2. **What** ([`ChatCall::complete`], [`ChatCall::stream`]): your JSON body, passed through untouched but
//!    for `model` (set to the deployment's model) and `stream` (set by the method you call); the
//!    deployment's `litellm_params` that LiteLLM sends (`temperature`, `max_tokens`, unknown keys such as
//!    `top_k`...) are added when your body does not set them. A gateway forwards fields it does not know.
//! 3. **The answer**: [`Completion`] (the body as JSON, its [`Usage`], the latency), or a [`ChatStream`] of
//!    [`StreamEvent`]s parsed by the `sse-stream` crate, ending at `data: [DONE]`, with the usage of the last
//!    chunk and the time to the first event. [`ToolCallAssembler`] joins streamed tool-call deltas into whole
//!    calls.
//! 4. **Failures** ([`CallError`]): everything a retry plan needs: the HTTP status, the error body (bounded to
//!    16 KiB, the API key and secret header values replaced by `***`), `Retry-After`, whether a stream failed
//!    before or after its first event, timeouts and connection failures told apart.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use modelroute::call::ChatCall;
//! use modelroute::router::RequestContext;
//! use modelroute::Router;
//! use serde_json::json;
//!
//! # async fn run(router: Router, client: modelroute::reqwest::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let route = router.route("gpt-4o", &RequestContext::new())?;
//! let call = ChatCall::for_route(&route)?;
//! let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]});
//!
//! let reply = call.complete(&client, &body).await?;
//! println!("{} ({:?} tokens, {:?})", reply.body["choices"][0]["message"]["content"], reply.usage, reply.latency);
//!
//! let mut events = call.stream(&client, &body).await?; // resolves once the first event has arrived
//! while let Some(event) = events.next().await {
//!     print!("{}", event?.json()?["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
//! }
//! println!("\nfirst token after {:?}, usage {:?}", events.time_to_first_event(), events.usage());
//! # Ok(()) }
//! ```
//!
//! # Timeouts, without a runtime
//! The crate has no timer of its own. A non-streamed call gets the deployment's `timeout` (else
//! `request_timeout`, else [`ChatCall::default_timeout`]) as reqwest's per-request deadline
//! ([`reqwest::RequestBuilder::timeout`], from connecting to the end of the body).
//!
//! A stream cannot use that deadline: it runs from connecting to the *last* byte, and would cut long answers.
//! LiteLLM's `stream_timeout` is an httpx timeout, a bound on each wait (for the response, then between
//! chunks). Two ways to get it here:
//! - give the call your runtime's timer ([`ChatCall::with_timer`], e.g. `tokio::time::sleep`): then
//!   `stream_timeout` (else the `timeout` above) bounds the wait for the first event, counted from the
//!   request's start, and every wait between events after it ([`CallError::Timeout`], with
//!   [`CallError::is_before_first_event`] telling which). The timer is armed once per quiet period, not per
//!   event;
//! - or build your client with [`reqwest::ClientBuilder::read_timeout`]: reqwest then bounds every read
//!   (response headers, then each chunk) of every request of that client.
//!
//! Without either, a stream that stops sending waits as long as the server keeps the connection open.
//!
//! # Bounds
//! A non-streamed body is read up to [`ChatCall::max_body_bytes`] (32 MiB by default); a stream holds at
//! most [`ChatCall::max_event_bytes`] (8 MiB) received since the last complete event, beside the network chunk
//! being read;
//! error bodies are read up to 64 KiB and kept up to 16 KiB. Anything larger is [`CallError::TooLarge`],
//! never an allocation.

pub mod endpoint;
pub mod send;
mod stream;
mod tables;
mod tools;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::Serialize;
use serde_json::{Map, Value};

pub use self::endpoint::{ApiProvider, Endpoint, is_litellm_setting, is_openai_model};
pub use self::send::{Sender, Sent, SentStream};
pub use self::stream::{ChatStream, StreamEvent};
pub use self::tables::{LITELLM_SETTINGS, OPENAI_CHAT_MODELS};
pub use self::tools::{ToolCall, ToolCallAssembler, ToolCallError};
pub use crate::error::{CallError, SendError};
use crate::router::Route;
use crate::secret::Secret;

/// Default limit of a non-streamed response body: 32 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Default limit of the bytes a stream holds for one event: 8 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 8 * 1024 * 1024;
/// How much of an error body is read.
const MAX_ERROR_READ: usize = 64 * 1024;
/// How much of an error body is kept.
const MAX_ERROR_KEPT: usize = 16 * 1024;

/// A sleep of your runtime, for [`Timer`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Your runtime's timer, for stream timeouts ([`ChatCall::with_timer`]). Implemented by any
/// `Fn(Duration) -> Sleep`:
///
/// ```
/// use modelroute::call::{Sleep, Timer};
/// let timer = |d: std::time::Duration| -> Sleep { Box::pin(tokio::time::sleep(d)) };
/// fn takes(_: impl Timer) {}
/// takes(timer);
/// ```
pub trait Timer: Send + Sync + 'static {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;
}

impl<F> Timer for F
where
    F: Fn(Duration) -> Sleep + Send + Sync + 'static,
{
    fn sleep(&self, duration: Duration) -> Sleep {
        self(duration)
    }
}

/// The caller's request body: a JSON value, or JSON bytes (parsed, then written back with `model` set: the
/// same JSON, not necessarily the same bytes).
#[derive(Debug, Clone, Copy)]
pub enum RequestBody<'a> {
    /// A JSON object.
    Json(&'a Value),
    /// JSON text.
    Bytes(&'a [u8]),
}

impl<'a> From<&'a Value> for RequestBody<'a> {
    fn from(v: &'a Value) -> Self {
        RequestBody::Json(v)
    }
}

impl<'a> From<&'a [u8]> for RequestBody<'a> {
    fn from(v: &'a [u8]) -> Self {
        RequestBody::Bytes(v)
    }
}

impl<'a> From<&'a Vec<u8>> for RequestBody<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        RequestBody::Bytes(v)
    }
}

impl<'a> From<&'a str> for RequestBody<'a> {
    fn from(v: &'a str) -> Self {
        RequestBody::Bytes(v.as_bytes())
    }
}

/// Token counts of one completion (`usage`: `prompt_tokens`, `completion_tokens`, `total_tokens`): the router's
/// own `router::Usage`, so a completion's usage is reported as it is.
///
/// ```
/// use modelroute::call::Usage;
/// let u = Usage::from_json(&serde_json::json!({"prompt_tokens": 9, "completion_tokens": 1})).unwrap();
/// assert_eq!((u.prompt_tokens, u.completion_tokens, u.total_tokens), (9, 1, 10));
/// ```
pub use crate::router::Usage;

/// An error body as the server sent it, bounded (16 KiB kept) and with every secret of the call (API key,
/// tokens, secret header values) replaced by `***`. What tells a context-window error or a content-policy
/// refusal from another 400.
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorBody {
    text: String,
    message: Option<String>,
    truncated: bool,
}

impl ErrorBody {
    /// Builds one from raw bytes, scrubbing `secrets`.
    pub(crate) fn new(bytes: &[u8], secrets: &[Secret], truncated: bool) -> Self {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        for s in secrets {
            if !s.expose().is_empty() {
                text = text.replace(s.expose(), "***");
            }
        }
        let mut truncated = truncated;
        if text.len() > MAX_ERROR_KEPT {
            let mut end = MAX_ERROR_KEPT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            truncated = true;
        }
        let message = crate::provider::http::server_message(text.as_bytes(), None);
        ErrorBody {
            text,
            message,
            truncated,
        }
    }

    /// The body's text (lossy UTF-8, scrubbed, at most 16 KiB).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The server's message (`error.message`, `detail`, ...), cleaned and shortened for display.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    /// The body as JSON, when it is JSON (and was not truncated).
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.text).ok()
    }
    /// Whether the server sent more than was kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }
}

impl fmt::Debug for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorBody")
            .field("text", &self.text)
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// A non-streamed answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Completion {
    /// The response body (an OpenAI `chat.completion` object).
    pub body: Value,
    /// Its `usage`, when it has one.
    pub usage: Option<Usage>,
    /// From sending the request to the end of the body.
    pub latency: Duration,
    /// The HTTP status.
    pub status: u16,
    /// The response headers (e.g. LiteLLM's `x-litellm-model-id`).
    pub headers: HeaderMap,
}

/// One OpenAI-compatible chat completion call to one deployment. Cheap to clone; reuse it for several
/// requests to the same deployment. See the [module docs](self).
#[derive(Clone)]
pub struct ChatCall {
    endpoint: Endpoint,
    allow_insecure_http: bool,
    timer: Option<Arc<dyn Timer>>,
    max_event_bytes: usize,
    max_body_bytes: usize,
    request_usage: bool,
    default_timeout: Option<Duration>,
    default_stream_timeout: Option<Duration>,
}

impl fmt::Debug for ChatCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatCall")
            .field("endpoint", &self.endpoint)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("timer", &self.timer.is_some())
            .field("max_event_bytes", &self.max_event_bytes)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("request_usage", &self.request_usage)
            .finish()
    }
}

impl ChatCall {
    /// A call to `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        ChatCall {
            endpoint,
            allow_insecure_http: false,
            timer: None,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_usage: true,
            default_timeout: None,
            default_stream_timeout: None,
        }
    }

    /// A call to the routed deployment ([`Endpoint::for_route`], environment variables from the process).
    pub fn for_route(route: &Route) -> Result<Self, CallError> {
        Ok(Self::new(Endpoint::for_route(route)?))
    }

    /// Allows sending the key over plain `http` to a host that is not loopback (default: refused with
    /// [`CallError::InsecureTransport`], nothing sent). Only for a network you trust.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Uses your runtime's timer for stream timeouts (see the [module docs](self#timeouts-without-a-runtime)).
    pub fn with_timer(mut self, timer: impl Timer) -> Self {
        self.timer = Some(Arc::new(timer));
        self
    }

    /// [`ChatCall::with_timer`] with a timer already shared.
    pub(crate) fn with_shared_timer(mut self, timer: Arc<dyn Timer>) -> Self {
        self.timer = Some(timer);
        self
    }

    /// The most a stream holds for one event (bytes received since the last complete event). The body is
    /// parsed in pieces of an eighth of the limit (64 KiB at most), so the bound holds give or take a piece:
    /// an event up to 7/8 of it always passes, one over 9/8 of it is [`CallError::TooLarge`]; default
    /// [`DEFAULT_MAX_EVENT_BYTES`].
    pub fn max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }

    /// The largest non-streamed body read; default [`DEFAULT_MAX_BODY_BYTES`].
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Whether a stream asks for usage (`"stream_options": {"include_usage": true}`) when the body does not set
    /// `stream_options` (default: yes). The usage chunk it adds is read for [`ChatStream::usage`] and not
    /// passed to you, since you did not ask for it (LiteLLM hides it too). Turn off for a server that rejects
    /// `stream_options`.
    pub fn request_usage(mut self, on: bool) -> Self {
        self.request_usage = on;
        self
    }

    /// The deadline of a non-streamed call when the deployment sets neither `timeout` nor `request_timeout`
    /// (the router's `timeout` setting in LiteLLM). Default: none (your client's own).
    pub fn default_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.default_timeout = timeout;
        self
    }

    /// The stream timeout when the deployment sets no `stream_timeout` (the router's `stream_timeout`).
    pub fn default_stream_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.default_stream_timeout = timeout;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The deadline of a non-streamed call.
    pub fn timeout(&self) -> Option<Duration> {
        self.endpoint.timeout().or(self.default_timeout)
    }

    /// The bound on each wait of a stream (enforced with a [`Timer`]): `stream_timeout`, else
    /// [`ChatCall::timeout`], as LiteLLM picks it.
    pub fn stream_timeout(&self) -> Option<Duration> {
        self.endpoint
            .stream_timeout()
            .or(self.default_stream_timeout)
            .or_else(|| self.timeout())
    }

    /// The body this call sends for `body` (`stream` true for a streamed call), as JSON bytes.
    ///
    /// ```
    /// use modelroute::call::{ChatCall, Endpoint};
    /// use modelroute::Deployment;
    /// use serde_json::json;
    /// let d = Deployment::new("g", "openai/gpt-4o")?.with_param("temperature", 0.2)?;
    /// let call = ChatCall::new(Endpoint::resolve(d.litellm_params(), "openai/gpt-4o", &|_: &str| None)?);
    /// let sent: serde_json::Value = serde_json::from_slice(&call.request_body(
    ///     &json!({"model": "my-alias", "messages": [], "vendor_flag": true}), false)?)?;
    /// assert_eq!(sent, json!({"model": "gpt-4o", "messages": [], "vendor_flag": true, "temperature": 0.2}));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request_body<'a>(
        &self,
        body: impl Into<RequestBody<'a>>,
        stream: bool,
    ) -> Result<Vec<u8>, CallError> {
        self.build_body(body.into(), stream).map(|(bytes, _)| bytes)
    }

    /// The body to send, and whether the call added `stream_options` (its usage chunk is then hidden).
    fn build_body(
        &self,
        body: RequestBody<'_>,
        stream: bool,
    ) -> Result<(Vec<u8>, bool), CallError> {
        let parsed;
        let caller = match body {
            RequestBody::Json(Value::Object(map)) => map,
            RequestBody::Json(other) => {
                return Err(CallError::InvalidBody {
                    reason: format!(
                        "expected a JSON object, found {}",
                        crate::deployment::json_type(other)
                    ),
                });
            }
            RequestBody::Bytes(bytes) => {
                parsed = serde_json::from_slice::<Map<String, Value>>(bytes).map_err(|e| {
                    CallError::InvalidBody {
                        reason: format!("not a JSON object: {e}"),
                    }
                })?;
                &parsed
            }
        };
        let merged = Merged {
            caller,
            model: self.endpoint.model(),
            params: self.endpoint.body_params(),
            stream,
            // LiteLLM writes `"stream": false` for hosted_vllm (its own HTTP handler) and azure; the OpenAI
            // SDK path (openai, litellm_proxy, lm_studio) leaves it out (tests/call_litellm.rs compares).
            explicit_no_stream: matches!(
                self.endpoint.provider(),
                ApiProvider::HostedVllm | ApiProvider::Azure
            ),
            add_usage: stream && self.request_usage && !caller.contains_key("stream_options"),
        };
        let bytes = serde_json::to_vec(&merged).map_err(|e| CallError::InvalidBody {
            reason: e.to_string(),
        })?;
        Ok((bytes, merged.add_usage))
    }

    /// Sends the body as a non-streamed chat completion. The answer's body is read up to
    /// [`ChatCall::max_body_bytes`]; a 2xx answer that is an error object is [`CallError::Upstream`].
    pub async fn complete<'a>(
        &self,
        client: &reqwest::Client,
        body: impl Into<RequestBody<'a>>,
    ) -> Result<Completion, CallError> {
        let bytes = self.request_body(body, false)?;
        self.check_transport()?;
        let url = self.endpoint.url();
        let start = Instant::now();
        let mut req = self
            .request(client, bytes)
            .header(ACCEPT, "application/json");
        if let Some(t) = self.timeout() {
            req = req.timeout(t);
        }
        let mut resp = req.send().await.map_err(|e| self.transport(e, false))?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            return Err(self.status_error(resp).await);
        }
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body_bytes as u64)
        {
            return Err(self.too_large(self.max_body_bytes, false));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(e, false))? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(self.too_large(self.max_body_bytes, false));
            }
            body.extend_from_slice(&chunk);
        }
        let latency = start.elapsed();
        let value: Value = serde_json::from_slice(&body).map_err(|e| CallError::Malformed {
            endpoint: url.to_string(),
            reason: format!("the body is not JSON: {e}"),
            after_first_event: false,
        })?;
        if let Some(err) = self.upstream_error(&value, &body, false) {
            return Err(err);
        }
        let usage = value.get("usage").and_then(Usage::from_json);
        Ok(Completion {
            body: value,
            usage,
            latency,
            status,
            headers: std::mem::take(resp.headers_mut()),
        })
    }

    /// Sends the body as a streamed chat completion and waits for the first event: every failure before it
    /// (status, connection, timeout, an error event, a stream that ends at once without `[DONE]`) is this
    /// method's error, so a caller may still try another deployment; the stream it returns has started.
    pub async fn stream<'a>(
        &self,
        client: &reqwest::Client,
        body: impl Into<RequestBody<'a>>,
    ) -> Result<ChatStream, CallError> {
        let (bytes, hide_usage) = self.build_body(body.into(), true)?;
        self.check_transport()?;
        let start = Instant::now();
        let req = self
            .request(client, bytes)
            .header(ACCEPT, "text/event-stream");
        let timeout = self.stream_timeout().filter(|_| self.timer.is_some());
        let resp = self
            .before_deadline(start, timeout, req.send())
            .await?
            .map_err(|e| self.transport(e, false))?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let err = self
                .before_deadline(start, timeout, self.status_error(resp))
                .await?;
            return Err(err);
        }
        let is_json = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.trim_start().starts_with("application/json"));
        if is_json {
            let read = self.before_deadline(start, timeout, self.read_error_body(resp));
            let (body, _) = read.await?;
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            return Err(self
                .upstream_error(&value, &body, false)
                .unwrap_or_else(|| CallError::Malformed {
                    endpoint: self.endpoint.url().to_string(),
                    reason: "expected an event stream, got a JSON body".to_string(),
                    after_first_event: false,
                }));
        }
        let mut stream = ChatStream::new(
            resp,
            stream::StreamSettings {
                endpoint: self.endpoint.url().into(),
                secrets: self.endpoint.secrets().into(),
                max_event_bytes: self.max_event_bytes,
                hide_usage,
                timer: self.timer.clone(),
                idle: timeout,
                start,
                status,
            },
        );
        stream.read_first().await?;
        Ok(stream)
    }

    fn request(&self, client: &reqwest::Client, body: Vec<u8>) -> reqwest::RequestBuilder {
        client
            .post(self.endpoint.url())
            .headers(self.endpoint.headers().clone())
            .header(CONTENT_TYPE, "application/json")
            .body(body)
    }

    fn check_transport(&self) -> Result<(), CallError> {
        let base = self.endpoint.api_base();
        if self.endpoint.sends_credential()
            && !self.allow_insecure_http
            && base.as_str().starts_with("http://")
            && !base.is_loopback()
        {
            return Err(CallError::InsecureTransport {
                endpoint: self.endpoint.url().to_string(),
            });
        }
        Ok(())
    }

    /// Runs `fut`, bounded by the stream timeout counted from `start` when a timer is set.
    async fn before_deadline<F: Future>(
        &self,
        start: Instant,
        timeout: Option<Duration>,
        fut: F,
    ) -> Result<F::Output, CallError> {
        let (Some(timeout), Some(timer)) = (timeout, self.timer.as_ref()) else {
            return Ok(fut.await);
        };
        let left = timeout.saturating_sub(start.elapsed());
        let fut = std::pin::pin!(fut);
        match futures_util::future::select(fut, timer.sleep(left)).await {
            futures_util::future::Either::Left((out, _)) => Ok(out),
            futures_util::future::Either::Right(_) => Err(CallError::Timeout {
                endpoint: self.endpoint.url().to_string(),
                after_first_event: false,
            }),
        }
    }

    async fn read_error_body(&self, mut resp: reqwest::Response) -> (Vec<u8>, bool) {
        let mut body = Vec::new();
        let mut truncated = false;
        while let Ok(Some(chunk)) = resp.chunk().await {
            let room = MAX_ERROR_READ - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if chunk.len() > room || body.len() >= MAX_ERROR_READ {
                truncated = true;
                break;
            }
        }
        (body, truncated)
    }

    async fn status_error(&self, resp: reqwest::Response) -> CallError {
        let status = resp.status().as_u16();
        let retry_after = retry_after(resp.headers(), SystemTime::now());
        let (body, truncated) = self.read_error_body(resp).await;
        CallError::Status {
            endpoint: self.endpoint.url().to_string(),
            status,
            body: ErrorBody::new(&body, self.endpoint.secrets(), truncated),
            retry_after,
        }
    }

    /// A body `{"error": ...}` without `choices`: the server's error object.
    fn upstream_error(&self, value: &Value, raw: &[u8], after: bool) -> Option<CallError> {
        upstream_error(
            value,
            raw,
            self.endpoint.url(),
            self.endpoint.secrets(),
            after,
        )
    }

    fn too_large(&self, limit: usize, after_first_event: bool) -> CallError {
        CallError::TooLarge {
            endpoint: self.endpoint.url().to_string(),
            limit,
            after_first_event,
        }
    }

    fn transport(&self, e: reqwest::Error, after_first_event: bool) -> CallError {
        transport_error(e, self.endpoint.url(), after_first_event)
    }
}

/// The merged request body, written without copying the caller's JSON: `model`, the caller's fields (but
/// `model`, and `stream` / `stream_options` that the method decides), the deployment's body parameters the
/// caller did not set, then `stream` and the added `stream_options`.
struct Merged<'a> {
    caller: &'a Map<String, Value>,
    model: &'a str,
    params: &'a Map<String, Value>,
    stream: bool,
    explicit_no_stream: bool,
    add_usage: bool,
}

impl Serialize for Merged<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("model", self.model)?;
        for (k, v) in self.caller {
            match k.as_str() {
                "model" | "stream" => continue,
                "stream_options" if !self.stream => continue,
                _ => map.serialize_entry(k, v)?,
            }
        }
        for (k, v) in self.params {
            if !self.caller.contains_key(k) {
                map.serialize_entry(k, v)?;
            }
        }
        if self.stream {
            map.serialize_entry("stream", &true)?;
            if self.add_usage {
                map.serialize_entry(
                    "stream_options",
                    &serde_json::json!({"include_usage": true}),
                )?;
            }
        } else if self.explicit_no_stream {
            map.serialize_entry("stream", &false)?;
        }
        map.end()
    }
}

/// A body `{"error": ...}` without `choices`, as a [`CallError::Upstream`].
pub(crate) fn upstream_error(
    value: &Value,
    raw: &[u8],
    endpoint: &str,
    secrets: &[Secret],
    after_first_event: bool,
) -> Option<CallError> {
    let obj = value.as_object()?;
    let error = obj.get("error").filter(|e| !e.is_null())?;
    if obj.contains_key("choices") {
        return None;
    }
    let code = error
        .get("code")
        .and_then(|c| match c {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (100..=599).contains(c));
    Some(CallError::Upstream {
        endpoint: endpoint.to_string(),
        code,
        body: ErrorBody::new(raw, secrets, false),
        after_first_event,
    })
}

pub(crate) fn transport_error(e: reqwest::Error, url: &str, after_first_event: bool) -> CallError {
    let endpoint = url.to_string();
    if e.is_timeout() {
        CallError::Timeout {
            endpoint,
            after_first_event,
        }
    } else if e.is_connect() {
        CallError::Connect {
            endpoint,
            source: Arc::new(e.without_url()),
        }
    } else {
        CallError::Transport {
            endpoint,
            source: Arc::new(e.without_url()),
            after_first_event,
        }
    }
}

/// `Retry-After`, as LiteLLM reads it (`_get_retry_after_from_exception_header`): whole seconds, or an HTTP
/// date turned into the time left from `now` (a date already past gives zero). Anything else is ignored.
///
/// ```
/// use modelroute::call::retry_after;
/// use modelroute::reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// let mut h = HeaderMap::new();
/// h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
/// assert_eq!(retry_after(&h, SystemTime::now()), Some(Duration::from_secs(7)));
/// h.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 10 s before that date
/// assert_eq!(retry_after(&h, now), Some(Duration::from_secs(10)));
/// ```
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Deployment;
    use serde_json::json;

    fn call(params: Value) -> ChatCall {
        let d =
            Deployment::from_value(json!({"model_name": "g", "litellm_params": params})).unwrap();
        let model = d.litellm_params().model().to_string();
        ChatCall::new(Endpoint::resolve(d.litellm_params(), &model, &|_: &str| None).unwrap())
    }

    fn sent(call: &ChatCall, body: Value, stream: bool) -> Value {
        serde_json::from_slice(&call.request_body(&body, stream).unwrap()).unwrap()
    }

    #[test]
    fn the_body_is_the_callers_with_model_replaced_and_deployment_params_added() {
        let c =
            call(json!({"model": "openai/gpt-4o", "temperature": 0.2, "max_tokens": 5, "rpm": 9}));
        let body = json!({"model": "alias", "messages": [{"role": "user", "content": "hi"}],
                          "temperature": 0.9, "x_vendor": {"a": [1, 2]}});
        assert_eq!(
            sent(&c, body, false),
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.9,
                   "x_vendor": {"a": [1, 2]}, "max_tokens": 5})
        );
    }

    #[test]
    fn the_method_decides_streaming_and_usage_is_asked_for_only_when_the_caller_did_not_set_it() {
        let c = call(json!({"model": "openai/gpt-4o"}));
        let body =
            json!({"messages": [], "stream": true, "stream_options": {"include_usage": false}});
        assert_eq!(
            sent(&c, body.clone(), false),
            json!({"model": "gpt-4o", "messages": []})
        );
        assert_eq!(
            sent(&c, body, true),
            json!({"model": "gpt-4o", "messages": [], "stream_options": {"include_usage": false}, "stream": true})
        );
        assert_eq!(
            sent(&c, json!({"messages": []}), true),
            json!({"model": "gpt-4o", "messages": [], "stream": true, "stream_options": {"include_usage": true}})
        );
        let quiet = c.clone().request_usage(false);
        assert_eq!(
            sent(&quiet, json!({"messages": []}), true),
            json!({"model": "gpt-4o", "messages": [], "stream": true})
        );
    }

    #[test]
    fn a_body_that_is_not_a_json_object_is_refused_before_sending() {
        let c = call(json!({"model": "openai/gpt-4o"}));
        assert!(c.request_body(&json!([1]), false).unwrap_err().is_config());
        assert!(c.request_body("{not json", false).unwrap_err().is_config());
        assert_eq!(
            serde_json::from_slice::<Value>(
                &c.request_body(r#"{"messages":[],"model":"x"}"#, false)
                    .unwrap()
            )
            .unwrap(),
            json!({"model": "gpt-4o", "messages": []})
        );
    }

    #[test]
    fn error_bodies_are_bounded_and_scrubbed() {
        let key = Secret::new("sk-live-123");
        let raw = format!(
            r#"{{"error":{{"message":"bad key sk-live-123 {}"}}}}"#,
            "x".repeat(20_000)
        );
        let body = ErrorBody::new(raw.as_bytes(), &[key], false);
        assert!(!body.text().contains("sk-live-123"));
        assert!(body.text().contains("bad key ***"));
        assert!(body.text().len() <= MAX_ERROR_KEPT);
        assert!(body.is_truncated());
        assert!(body.message().unwrap().contains("bad key ***"));
        let short = ErrorBody::new(br#"{"error":{"message":"no"}}"#, &[], false);
        assert_eq!((short.message(), short.is_truncated()), (Some("no"), false));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_ignores_the_rest() {
        let mut h = HeaderMap::new();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        for (v, want) in [
            ("0", Some(0)),
            (" 30 ", Some(30)),
            ("-1", None),
            ("soon", None),
            ("Wed, 21 Oct 2015 07:28:00 GMT", Some(0)),
            ("Wed, 21 Oct 2015 07:29:00 GMT", Some(60)),
        ] {
            h.insert(RETRY_AFTER, v.parse().unwrap());
            assert_eq!(retry_after(&h, now), want.map(Duration::from_secs), "{v}");
        }
    }
}
