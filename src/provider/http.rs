//! The HTTP side shared by the providers: one request with a per-request timeout, a body read chunk by
//! chunk up to a size limit, and every failure classified into a [`DiscoveryError`].
//!
//! - Connection refused / DNS failure → [`DiscoveryError::Unreachable`]; an answer that is not HTTP (a
//!   server of another protocol, a response head over the client's limit) → [`DiscoveryError::NotHttp`];
//!   deadline passed → [`DiscoveryError::TimedOut`]; 401 / 403 → [`DiscoveryError::Unauthorized`]; any other non-2xx →
//!   [`DiscoveryError::Status`] with the server's own message (from `{"error": "..."}`,
//!   `{"error": {"message": "..."}}`, `{"detail": "..."}` or a short plain-text body), cut to a short
//!   excerpt and scrubbed ([`redact::excerpt`]): the key, any run of 8 or more of its characters, and its
//!   base64 and percent-encoded forms are replaced by `***` should the server echo them, and so is any
//!   other credential recognisable by its form. Headers are never copied into an error.
//! - A body over the limit → [`DiscoveryError::TooLarge`], detected from `Content-Length` before reading,
//!   or while reading, without buffering more than the limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::base_url::BaseUrl;
use crate::error::DiscoveryError;
use crate::redact;
use crate::secret::Secret;

/// Default body size limit: 32 MiB. LiteLLM's `/model/info` is ~1.8 MB for one `openai/*` wildcard
/// deployment (every OpenAI model expanded), so this admits a proxy with many wildcard deployments.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Default per-request timeout for local servers (Ollama, LM Studio).
pub const DEFAULT_LOCAL_TIMEOUT: Duration = Duration::from_secs(10);

/// Default per-request timeout for a LiteLLM proxy (a large `/model/info` takes seconds to build).
pub const DEFAULT_PROXY_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest server message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// How much of an error body is read to find the server's message.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Request settings of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HttpOptions {
    pub(crate) timeout: Duration,
    pub(crate) body_limit: usize,
    pub(crate) allow_insecure_http: bool,
}

impl HttpOptions {
    pub(crate) fn new(timeout: Duration) -> Self {
        HttpOptions {
            timeout,
            body_limit: DEFAULT_BODY_LIMIT,
            allow_insecure_http: false,
        }
    }
}

/// The root under which a provider's API paths live: the base URL without a trailing `/v1`.
///
/// Users often configure the OpenAI-compatible URL (`http://host:4000/v1`, `http://localhost:1234/v1`);
/// the native endpoints (`/model/info`, `/api/tags`, `/api/v1/models`) live beside it.
pub(crate) fn api_root(base: &BaseUrl) -> String {
    let s = base.as_str();
    s.strip_suffix("/v1").unwrap_or(s).to_string()
}

/// `root` + `path`.
pub(crate) fn endpoint(root: &str, path: &str) -> String {
    format!("{root}/{}", path.trim_start_matches('/'))
}

/// Refuses to go on when a credential would be sent in clear text (plain `http` to a non-loopback host),
/// unless the caller opted in. Loopback traffic never leaves the machine; anything else can be read on
/// the wire (CWE-319).
pub(crate) fn check_transport(
    base: &BaseUrl,
    key: Option<&Secret>,
    opts: &HttpOptions,
    first_endpoint: &str,
) -> Result<(), DiscoveryError> {
    if key.is_some()
        && !opts.allow_insecure_http
        && base.as_str().starts_with("http://")
        && !base.is_loopback()
    {
        return Err(DiscoveryError::InsecureTransport {
            endpoint: first_endpoint.to_string(),
        });
    }
    Ok(())
}

/// What a request needs besides its URL.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conn<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) key: Option<&'a Secret>,
    pub(crate) opts: &'a HttpOptions,
}

impl Conn<'_> {
    /// `GET url`; the body of a 2xx answer.
    pub(crate) async fn get(&self, url: &str) -> Result<Vec<u8>, DiscoveryError> {
        self.send(self.client.get(url), url).await
    }

    /// `POST url` with a JSON body; the body of a 2xx answer.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> Result<Vec<u8>, DiscoveryError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let req = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .body(bytes);
        self.send(req, url).await
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        url: &str,
    ) -> Result<Vec<u8>, DiscoveryError> {
        let mut req = req
            .timeout(self.opts.timeout)
            .header(ACCEPT, "application/json");
        if let Some(key) = self.key {
            // `bearer_auth` marks the header sensitive.
            req = req.bearer_auth(key.expose());
        }
        // Both discovery requests are reads (GET, and Ollama's read-only POST /api/show), so a send that
        // failed on a connection the server closed under us (a kept-alive connection to a server that has
        // just stopped: hyper's "connection closed before message completed") is retried once on a new
        // connection. That retry tells "the server went away" (connect refused: `Unreachable`, quiet) from
        // a passing hiccup (it succeeds), instead of reporting a loud `Transport` error.
        // If the retry meets a closed connection too (another pooled one), the server is going away.
        // An answer that is not HTTP is retried too (it may be a stale pooled connection) and reported
        // as such if the new connection gets one as well.
        // The retry gets what is left of the timeout: the timeout bounds the request, retry included.
        let retry = req.try_clone();
        let started = Instant::now();
        let mut resp = match (req.send().await, retry) {
            (Ok(resp), _) => resp,
            (Err(e), Some(retry)) if is_closed_connection(&e) => match retry
                .timeout(self.opts.timeout.saturating_sub(started.elapsed()))
                .send()
                .await
            {
                Ok(resp) => resp,
                Err(e) if is_not_http(&e) => return Err(classify(e, url)),
                Err(e) if is_closed_connection(&e) => {
                    return Err(DiscoveryError::Unreachable {
                        endpoint: url.to_string(),
                        source: Arc::new(e.without_url()),
                    });
                }
                Err(e) => return Err(classify(e, url)),
            },
            (Err(e), _) => return Err(classify(e, url)),
        };
        let status = resp.status();
        if !status.is_success() {
            let body = read_capped(&mut resp, MAX_ERROR_BODY).await.ok();
            let message = body.and_then(|b| server_message(&b, self.key));
            let code = status.as_u16();
            return Err(if code == 401 || code == 403 {
                DiscoveryError::Unauthorized {
                    endpoint: url.to_string(),
                    status: code,
                    message,
                }
            } else {
                DiscoveryError::Status {
                    endpoint: url.to_string(),
                    status: code,
                    message,
                }
            });
        }
        let limit = self.opts.body_limit;
        if resp.content_length().is_some_and(|len| len > limit as u64) {
            return Err(DiscoveryError::TooLarge {
                endpoint: url.to_string(),
                limit,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| classify(e, url))? {
            if body.len() + chunk.len() > limit {
                return Err(DiscoveryError::TooLarge {
                    endpoint: url.to_string(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

/// Reads at most `cap` bytes of the body (the rest is dropped).
async fn read_capped(resp: &mut reqwest::Response, cap: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = cap - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= cap {
            break;
        }
    }
    Ok(body)
}

/// A send that failed after a connection was established, neither by timeout nor by connect failure: the
/// server closed or reset a (pooled) connection before answering.
fn is_closed_connection(e: &reqwest::Error) -> bool {
    e.is_request() && !e.is_timeout() && !e.is_connect() && !e.is_body() && !e.is_decode()
}

/// Whether the peer answered something that is not HTTP: hyper could not parse the response head
/// (`SSH-2.0-...` where a status line belongs, a head over its size limit), or the peer sent bytes before
/// any request was written (a server that speaks first: SSH, SMTP, FTP, MySQL; an HTTP server never does).
/// Hyper has no predicate for the latter, so its kind is recognized by its fixed description;
/// `tests/discovery_not_http.rs` checks both against real sockets.
fn is_not_http(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && (h.is_parse() || h.to_string() == "received unexpected message from connection")
        {
            return true;
        }
        source = err.source();
    }
    false
}

/// Maps a transport error to the outcome it means.
pub(crate) fn classify(e: reqwest::Error, url: &str) -> DiscoveryError {
    let endpoint = url.to_string();
    if e.is_timeout() {
        DiscoveryError::TimedOut { endpoint }
    } else if is_not_http(&e) {
        DiscoveryError::NotHttp {
            endpoint,
            source: Arc::new(e.without_url()),
        }
    } else if e.is_connect() {
        DiscoveryError::Unreachable {
            endpoint,
            source: Arc::new(e.without_url()),
        }
    } else {
        DiscoveryError::Transport {
            endpoint,
            source: Arc::new(e.without_url()),
        }
    }
}

/// Whether an error means "this server has no such endpoint" (HTTP 404 or 405): the cue to try the next
/// endpoint. Anything else (unauthorized, timed out, unreachable, 5xx) is the server's answer and is reported.
pub(crate) fn is_endpoint_missing(e: &DiscoveryError) -> bool {
    matches!(
        e,
        DiscoveryError::Status {
            status: 404 | 405,
            ..
        }
    )
}

/// The server's own error message in an error body, cleaned for an error message.
pub(crate) fn server_message(body: &[u8], key: Option<&Secret>) -> Option<String> {
    let raw = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => message_in(&v)?,
        Err(_) => {
            let text = std::str::from_utf8(body).ok()?.trim();
            if text.is_empty() || text.starts_with('<') {
                return None; // empty, or an HTML error page: nothing useful to quote
            }
            text.to_string()
        }
    };
    let cleaned = clean_message(&raw, key);
    (!cleaned.is_empty()).then_some(cleaned)
}

fn message_in(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    fn text(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => m.get("message").or_else(|| m.get("error")).and_then(text),
            _ => None,
        }
    }
    match v {
        Value::Object(m) => ["error", "detail", "message"]
            .iter()
            .find_map(|k| m.get(*k).and_then(text)),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The excerpt of a server's message an error quotes: the key and its encodings scrubbed, other
/// credentials masked, whitespace collapsed, at most [`MAX_MESSAGE_CHARS`] characters
/// ([`redact::excerpt`]).
pub(crate) fn clean_message(raw: &str, key: Option<&Secret>) -> String {
    redact::excerpt(raw, key, MAX_MESSAGE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_known_shapes() {
        let m = |b: &str| server_message(b.as_bytes(), None);
        assert_eq!(
            m(r#"{"error":"model is required"}"#).as_deref(),
            Some("model is required")
        );
        assert_eq!(
            m(r#"{"error":{"message":"Invalid API key","type":"auth_error"}}"#).as_deref(),
            Some("Invalid API key")
        );
        assert_eq!(m(r#"{"detail":"Not Found"}"#).as_deref(), Some("Not Found"));
        assert_eq!(m(r#"{"detail":{"error":"bad"}}"#).as_deref(), Some("bad"));
        assert_eq!(
            m(r#"{"type":"error","error":{"type":"x","message":"no"}}"#).as_deref(),
            Some("no")
        );
        assert_eq!(
            m("404 page not found\n").as_deref(),
            Some("404 page not found")
        );
        assert_eq!(m("<html><body>502</body></html>"), None);
        assert_eq!(m(""), None);
        assert_eq!(m(r#"{"foo":1}"#), None);
        assert_eq!(m("\u{0}\u{1}"), None);
    }

    #[test]
    fn messages_are_cleaned_truncated_and_never_carry_the_key() {
        let key = Secret::new("sk-secret-123");
        let m = server_message(
            br#"{"error":"bad key sk-secret-123\n\n  try again"}"#,
            Some(&key),
        )
        .unwrap();
        assert_eq!(m, "bad key *** try again");
        let long = format!(r#"{{"error":"{}"}}"#, "é".repeat(1000));
        let m = server_message(long.as_bytes(), None).unwrap();
        assert_eq!(m.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(m.ends_with('…'));
    }

    #[test]
    fn api_root_drops_a_trailing_v1_only() {
        let r = |s: &str| api_root(&BaseUrl::parse(s).unwrap());
        assert_eq!(r("http://h:4000/v1"), "http://h:4000");
        assert_eq!(r("http://h:4000/v1/"), "http://h:4000");
        assert_eq!(r("http://h:4000/litellm"), "http://h:4000/litellm");
        assert_eq!(r("http://h:4000/api/v10"), "http://h:4000/api/v10");
        assert_eq!(endpoint("http://h", "/api/tags"), "http://h/api/tags");
    }

    #[test]
    fn keys_only_travel_encrypted_or_locally() {
        let opts = HttpOptions::new(DEFAULT_LOCAL_TIMEOUT);
        let key = Secret::new("k");
        let check = |url: &str, key: Option<&Secret>, opts: &HttpOptions| {
            check_transport(&BaseUrl::parse(url).unwrap(), key, opts, url)
        };
        assert!(
            check("http://example.com", Some(&key), &opts)
                .unwrap_err()
                .is_insecure_transport()
        );
        assert!(check("http://10.0.0.5:4000", Some(&key), &opts).is_err());
        assert!(check("https://example.com", Some(&key), &opts).is_ok());
        assert!(check("http://127.0.0.1:4000", Some(&key), &opts).is_ok());
        assert!(check("http://[::1]:4000", Some(&key), &opts).is_ok());
        assert!(check("http://localhost:4000", Some(&key), &opts).is_ok());
        assert!(check("http://example.com", None, &opts).is_ok());
        let open = HttpOptions {
            allow_insecure_http: true,
            ..opts
        };
        assert!(check("http://example.com", Some(&key), &open).is_ok());
    }
}
