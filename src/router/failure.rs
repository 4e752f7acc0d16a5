//! [`FailureKind`]: why a request failed, in the classes LiteLLM's exception mapping gives, and how to get
//! one from an HTTP status and an OpenAI-style error body ([`FailureKind::classify`]).
//!
//! The class decides what the failure does to the deployment (LiteLLM 1.109.1, `router_utils/
//! cooldown_handlers.py`): whether it can cool the deployment down at all, which `allowed_fails_policy`
//! entry counts it, and which fallback list a caller takes next. Classifying follows
//! `litellm_core_utils/exception_mapping_utils.py` for the providers `modelroute` calls: OpenAI and the
//! OpenAI-compatible servers (`_map_openai_exception`), Azure (`_map_azure_exception`) and a LiteLLM proxy
//! (`extract_and_raise_litellm_exception`, then the OpenAI rules). What LiteLLM reads is the text the
//! OpenAI SDK puts in its exception, `Error code: <status> - <error.message>`, so that is what is read
//! here too: the rest of the body (its `type` and `code`) only counts where LiteLLM reads it.

use serde_json::Value;

/// Bodies longer than this are classified by their status alone (the classification reads the body a
/// few times; an error body is a few hundred bytes).
pub const MAX_CLASSIFIED_BODY: usize = 256 * 1024;

/// Why a request failed: the exception class LiteLLM would raise for it.
///
/// Build one from what the deployment answered with [`FailureKind::classify`] (or
/// [`FailureKind::classify_for`] for Azure and LiteLLM proxies), or from a status alone with
/// [`FailureKind::Status`], which behaves as the class its status maps to (`Status(429)` is a rate limit,
/// `Status(500)` an internal server error; see [`FailureKind::normalized`]).
///
/// ```
/// use modelroute::router::FailureKind;
/// let body = r#"{"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", "type": "invalid_request_error", "code": "context_length_exceeded"}}"#;
/// assert_eq!(FailureKind::classify(400, body), FailureKind::ContextWindowExceeded);
/// assert_eq!(FailureKind::classify(500, r#"{"error": {"message": "Rate limit reached"}}"#), FailureKind::RateLimit);
/// assert_eq!(FailureKind::Status(503).normalized(), FailureKind::ServiceUnavailable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// `RateLimitError` (429; also a message saying "rate limit", whatever the status).
    RateLimit,
    /// `AuthenticationError` (401).
    Authentication,
    /// `NotFoundError` (404).
    NotFound,
    /// `Timeout` (408, 504, or no answer in time).
    Timeout,
    /// `BadRequestError` (400, 422): the request's fault, not the deployment's.
    BadRequest,
    /// `ContextWindowExceededError`: the prompt is too long for the model (a `BadRequestError` in LiteLLM, so
    /// `BadRequestErrorAllowedFails` counts it). Take `context_window_fallbacks`.
    ContextWindowExceeded,
    /// `ContentPolicyViolationError`: the provider refused the content (a `BadRequestError` in LiteLLM).
    /// Take `content_policy_fallbacks`.
    ContentPolicyViolation,
    /// `InternalServerError` (500).
    InternalServer,
    /// `BadGatewayError` (502).
    BadGateway,
    /// `ServiceUnavailableError` (503).
    ServiceUnavailable,
    /// An HTTP status. A status with a class of its own behaves as that class ([`FailureKind::normalized`]);
    /// any other (403, 409, 418, …) is LiteLLM's generic `APIError` with that status.
    Status(u16),
    /// The connection failed (refused, reset, DNS): LiteLLM's `APIConnectionError`, never a cooldown.
    Connection,
    /// Any other failure without a status: LiteLLM's generic `APIError` with status 500.
    Other,
}

impl FailureKind {
    /// The class of an answer from OpenAI or an OpenAI-compatible server (vLLM, LM Studio, Ollama's `/v1`,
    /// …), as LiteLLM's `_map_openai_exception` decides it: `status` and the raw response `body` (JSON
    /// `{"error": {"message": …}}`, or anything else, which then counts as no message).
    ///
    /// In order: a message saying the request timed out → [`Timeout`](FailureKind::Timeout); an `error.code`
    /// of `cyber_policy` → content policy; status 429 or a message saying "rate limit" → rate limit; a message
    /// saying the context is too long ("maximum context length", "context_length_exceeded", …) → context
    /// window; content-policy wording → content policy; `invalid_request_error` in the message → bad request
    /// (or 401 / 404 by status); else by status: 400 and 422 bad request, 401, 404, 408 and 504 timeout,
    /// 429, 500, 502, 503; any other status stays a [`Status`](FailureKind::Status).
    ///
    /// ```
    /// use modelroute::router::FailureKind;
    /// assert_eq!(FailureKind::classify(429, ""), FailureKind::RateLimit);
    /// assert_eq!(FailureKind::classify(400, r#"{"error": {"message": "Your request was rejected as a result of the safety system."}}"#), FailureKind::ContentPolicyViolation);
    /// assert_eq!(FailureKind::classify(403, r#"{"error": {"message": "forbidden"}}"#), FailureKind::Status(403));
    /// assert_eq!(FailureKind::classify(504, "<html>gateway timeout</html>"), FailureKind::Timeout);
    /// ```
    pub fn classify(status: u16, body: &str) -> Self {
        let error = ErrorText::new(status, body);
        error.timeout_prelude().unwrap_or_else(|| error.openai())
    }

    /// The class of an answer from a deployment of `provider` (LiteLLM's provider prefix of
    /// `litellm_params.model`, e.g. `azure` for `azure/gpt-4o`): `azure` and `azure_text` follow LiteLLM's
    /// Azure mapping (content filter wording and the `content_policy_violation` / `ResponsibleAIPolicyViolation`
    /// codes → content policy; a 500 without "Internal server error" in the message is LiteLLM's generic
    /// `APIError`, [`Other`](FailureKind::Other)); `litellm_proxy` first takes the class a LiteLLM proxy names in its
    /// message (`litellm.RateLimitError: …`); every other provider is [`FailureKind::classify`].
    ///
    /// ```
    /// use modelroute::router::FailureKind;
    /// let filtered = r#"{"error": {"code": "content_filter", "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy."}}"#;
    /// assert_eq!(FailureKind::classify_for("azure", 400, filtered), FailureKind::ContentPolicyViolation);
    /// let proxied = r#"{"error": {"message": "litellm.ContextWindowExceededError: prompt too long", "code": "400"}}"#;
    /// assert_eq!(FailureKind::classify_for("litellm_proxy", 400, proxied), FailureKind::ContextWindowExceeded);
    /// ```
    pub fn classify_for(provider: &str, status: u16, body: &str) -> Self {
        let error = ErrorText::new(status, body);
        if let Some(kind) = error.timeout_prelude() {
            return kind;
        }
        match provider {
            "azure" | "azure_text" => error.azure(),
            "litellm_proxy" => error.litellm_proxy().unwrap_or_else(|| error.openai()),
            _ => error.openai(),
        }
    }

    /// The class a status alone maps to (what [`FailureKind::classify`] gives with an empty body); a status
    /// without a class of its own stays a [`Status`](FailureKind::Status). Every other kind is returned as is.
    ///
    /// ```
    /// use modelroute::router::FailureKind;
    /// assert_eq!(FailureKind::Status(429).normalized(), FailureKind::RateLimit);
    /// assert_eq!(FailureKind::Status(422).normalized(), FailureKind::BadRequest);
    /// assert_eq!(FailureKind::Status(418).normalized(), FailureKind::Status(418));
    /// ```
    pub fn normalized(self) -> Self {
        match self {
            FailureKind::Status(status) => by_status(status),
            other => other,
        }
    }

    /// The status LiteLLM's exception of this class carries (what its cooldown rules read): 429, 401, 404,
    /// 408, 400, 500, 502, 503, the status itself, and 500 for [`Connection`](FailureKind::Connection) and
    /// [`Other`](FailureKind::Other).
    ///
    /// ```
    /// use modelroute::router::FailureKind;
    /// // A message saying "rate limit" makes a 400 a rate limit, with LiteLLM's status for it.
    /// let kind = FailureKind::classify(400, r#"{"error": {"message": "rate limit exceeded"}}"#);
    /// assert_eq!(kind.status(), 429);
    /// assert_eq!(FailureKind::Status(418).status(), 418);
    /// ```
    pub fn status(self) -> u16 {
        match self.normalized() {
            FailureKind::RateLimit => 429,
            FailureKind::Authentication => 401,
            FailureKind::NotFound => 404,
            FailureKind::Timeout => 408,
            FailureKind::BadRequest
            | FailureKind::ContextWindowExceeded
            | FailureKind::ContentPolicyViolation => 400,
            FailureKind::InternalServer | FailureKind::Connection | FailureKind::Other => 500,
            FailureKind::BadGateway => 502,
            FailureKind::ServiceUnavailable => 503,
            FailureKind::Status(status) => status,
        }
    }

    /// The name of LiteLLM's exception class (`RateLimitError`, `Timeout`, `APIError`, …).
    ///
    /// ```
    /// use modelroute::router::FailureKind;
    /// assert_eq!(FailureKind::Status(504).litellm_class(), "Timeout");
    /// assert_eq!(FailureKind::Status(403).litellm_class(), "APIError");
    /// ```
    pub fn litellm_class(self) -> &'static str {
        match self.normalized() {
            FailureKind::RateLimit => "RateLimitError",
            FailureKind::Authentication => "AuthenticationError",
            FailureKind::NotFound => "NotFoundError",
            FailureKind::Timeout => "Timeout",
            FailureKind::BadRequest => "BadRequestError",
            FailureKind::ContextWindowExceeded => "ContextWindowExceededError",
            FailureKind::ContentPolicyViolation => "ContentPolicyViolationError",
            FailureKind::InternalServer => "InternalServerError",
            FailureKind::BadGateway => "BadGatewayError",
            FailureKind::ServiceUnavailable => "ServiceUnavailableError",
            FailureKind::Connection => "APIConnectionError",
            FailureKind::Status(_) | FailureKind::Other => "APIError",
        }
    }

    /// Whether this failure can cool a deployment down, as LiteLLM's `_is_cooldown_required` decides: 429,
    /// 401, 402, 404 and 408 can, other 4xx cannot (the request was at fault, not the deployment), every
    /// other status can; a connection error cannot. (A deployment's own `allowed_fails_policy` entry for the
    /// class overrides the "cannot" of a 4xx; see the router's cooldown rules.)
    ///
    /// ```
    /// use modelroute::router::FailureKind;
    /// assert!(FailureKind::RateLimit.counts_for_cooldown());
    /// assert!(FailureKind::Status(503).counts_for_cooldown());
    /// assert!(!FailureKind::ContextWindowExceeded.counts_for_cooldown());
    /// assert!(FailureKind::Timeout.counts_for_cooldown());
    /// assert!(!FailureKind::Connection.counts_for_cooldown());
    /// ```
    pub fn counts_for_cooldown(self) -> bool {
        if self == FailureKind::Connection {
            return false;
        }
        match self.status() {
            429 | 401 | 402 | 408 | 404 => true,
            400..=499 => false,
            _ => true,
        }
    }

    /// Whether LiteLLM would retry this status (`litellm.should_retry`: 408, 409, 429 and 5xx).
    pub(crate) fn retryable_status(self) -> bool {
        matches!(self.status(), 408 | 409 | 429 | 500..)
    }

    /// The fallback list a caller takes after this failure: `context_window_fallbacks` for
    /// [`ContextWindowExceeded`](FailureKind::ContextWindowExceeded), `content_policy_fallbacks` for
    /// [`ContentPolicyViolation`](FailureKind::ContentPolicyViolation), else the general `fallbacks`.
    ///
    /// ```
    /// use modelroute::router::{FailureKind, FallbackKind};
    /// assert_eq!(FailureKind::ContextWindowExceeded.fallback_kind(), FallbackKind::ContextWindow);
    /// assert_eq!(FailureKind::Status(500).fallback_kind(), FallbackKind::General);
    /// ```
    pub fn fallback_kind(self) -> super::FallbackKind {
        match self.normalized() {
            FailureKind::ContextWindowExceeded => super::FallbackKind::ContextWindow,
            FailureKind::ContentPolicyViolation => super::FallbackKind::ContentPolicy,
            _ => super::FallbackKind::General,
        }
    }
}

/// The class of a status with no message to read (the last branch of `_map_openai_exception`).
fn by_status(status: u16) -> FailureKind {
    match status {
        400 | 422 => FailureKind::BadRequest,
        401 => FailureKind::Authentication,
        404 => FailureKind::NotFound,
        408 | 504 => FailureKind::Timeout,
        429 => FailureKind::RateLimit,
        500 => FailureKind::InternalServer,
        502 => FailureKind::BadGateway,
        503 => FailureKind::ServiceUnavailable,
        other => FailureKind::Status(other),
    }
}

/// What LiteLLM reads of a failed answer: the exception text `Error code: <status> - <message>` the OpenAI
/// SDK builds (the message only when the body is a JSON object with a non-empty string `error.message`, or
/// `message` when it has no `error`), and the SDK's `body` (the `error` object, else the whole JSON value).
struct ErrorText {
    status: u16,
    text: String,
    lower: String,
    body: Option<Value>,
}

impl ErrorText {
    fn new(status: u16, body: &str) -> Self {
        let json: Option<Value> = if body.len() <= MAX_CLASSIFIED_BODY {
            serde_json::from_str(body.trim()).ok()
        } else {
            None
        };
        let mut text = format!("Error code: {status}");
        // `body.get("error", body)`: the SDK's `body` attribute, and where the message is read.
        let data = match json {
            Some(Value::Object(mut map)) => match map.remove("error") {
                Some(inner) => Some(inner),
                None => Some(Value::Object(map)),
            },
            other => other,
        };
        if let Some(Value::String(message)) = data.as_ref().and_then(|d| d.get("message"))
            && !message.is_empty()
        {
            text.push_str(" - ");
            text.push_str(message);
        }
        let lower = text.to_lowercase();
        ErrorText {
            status,
            text,
            lower,
            body: data,
        }
    }

    fn has(&self, needle: &str) -> bool {
        self.text.contains(needle)
    }

    fn has_lower(&self, needle: &str) -> bool {
        self.lower.contains(needle)
    }

    /// `exception_type`'s check before any provider mapping.
    fn timeout_prelude(&self) -> Option<FailureKind> {
        [
            "Request Timeout Error",
            "Request timed out",
            "Timed out generating response",
            "The read operation timed out",
        ]
        .iter()
        .any(|s| self.has(s))
        .then_some(FailureKind::Timeout)
    }

    /// `error.code` of the SDK's body (read once more through `error`, as LiteLLM does).
    fn code(&self) -> Option<&str> {
        let data = self.body.as_ref()?.as_object()?;
        let error = match data.get("error") {
            Some(inner) => inner.as_object()?,
            None => data,
        };
        error.get("code")?.as_str()
    }

    /// `ExceptionCheckers.is_error_str_rate_limit`.
    fn is_rate_limit(&self) -> bool {
        // `\b429\b` with the provider's status 429: the text starts "Error code: 429".
        self.status == 429
            || rate_limit_phrase(&self.lower)
            || self.has_lower("service tier capacity exceeded")
    }

    /// `ExceptionCheckers.is_error_str_context_window_exceeded`.
    fn is_context_window(&self) -> bool {
        let s = &self.lower;
        if s.contains("string_above_max_length")
            || (s.contains("invalid 'user'") && s.contains("string too long"))
        {
            return false;
        }
        [
            "exceed context limit",
            "this model's maximum context length is",
            "requested token count exceeds the model's maximum context length",
            "string too long. expected a string with maximum length",
            "model's maximum context limit",
            "is longer than the model's context length",
            "input tokens exceed the configured limit",
            "`inputs` tokens + `max_new_tokens` must be",
            "exceeds the available context size",
            "exceeds the maximum number of tokens allowed",
            "\"code\": \"context_length_exceeded\"",
        ]
        .iter()
        .any(|p| s.contains(p))
            || (s.contains("current length is") && s.contains("while limit is"))
            || (s.contains("maximum input length is") && s.contains("tokens"))
            || (s.contains("input too long:") && s.contains("input tokens, limit is"))
    }

    /// `_map_openai_exception`.
    fn openai(&self) -> FailureKind {
        if self.code() == Some("cyber_policy") {
            return FailureKind::ContentPolicyViolation;
        }
        if self.is_rate_limit() {
            FailureKind::RateLimit
        } else if self.is_context_window() {
            FailureKind::ContextWindowExceeded
        } else if self.has("invalid_request_error") && self.has("model_not_found") {
            FailureKind::NotFound
        } else if self.has("A timeout occurred") {
            FailureKind::Timeout
        } else if (self.has("invalid_request_error") && self.has("content_policy_violation"))
            || (self.has("Invalid prompt") && self.has("violating our usage policy"))
            || self.has_lower("request was rejected as a result of the safety system")
        {
            FailureKind::ContentPolicyViolation
        } else if self.has("invalid_encrypted_content") || self.has("could not be verified") {
            FailureKind::BadRequest
        } else if self.has("invalid_request_error") && !self.has("Incorrect API key provided") {
            match self.status {
                401 => FailureKind::Authentication,
                404 => FailureKind::NotFound,
                _ => FailureKind::BadRequest,
            }
        } else if self.has("Web server is returning an unknown error")
            || self.has("The server had an error processing your request.")
        {
            FailureKind::InternalServer
        } else if self.has("Request too large") {
            FailureKind::RateLimit
        } else if self.has(
            "The api_key client option must be set either by passing api_key to the client or by setting the OPENAI_API_KEY environment variable",
        ) {
            FailureKind::Authentication
        } else if self.has("Mistral API raised a streaming error") {
            FailureKind::Other
        } else {
            by_status(self.status)
        }
    }

    /// `_map_azure_exception`.
    fn azure(&self) -> FailureKind {
        // Azure reads `error.code` of the SDK's body, and an inner `ResponsibleAIPolicyViolation`.
        let azure_code = self.body.as_ref().and_then(|data| {
            let error = data.get("error").and_then(Value::as_object);
            match error {
                Some(error) => {
                    let code = error.get("code").and_then(Value::as_str);
                    let inner = error.get("inner_error").or_else(|| error.get("innererror"));
                    let responsible = inner.and_then(|i| i.get("code")).and_then(Value::as_str)
                        == Some("ResponsibleAIPolicyViolation");
                    if code != Some("content_policy_violation") && responsible {
                        Some("content_policy_violation")
                    } else {
                        code
                    }
                }
                None => data.get("code").and_then(Value::as_str),
            }
        });
        let content_policy = [
            "content_policy_violation",
            "responsibleaipolicyviolation",
            "the response was filtered due to the prompt triggering azure openai's content management",
            "your task failed as a result of our safety system",
            "the model produced invalid content",
            "content_filter_policy",
            "your request was rejected as a result of our safety system",
        ]
        .iter()
        .any(|p| self.has_lower(p));
        let bad_request_status = self.status == 400;
        if self.has("Internal server error") {
            FailureKind::InternalServer
        } else if self.has("DeploymentNotFound") {
            FailureKind::NotFound
        } else if azure_code == Some("content_policy_violation") || content_policy {
            FailureKind::ContentPolicyViolation
        } else if azure_code == Some("invalid_encrypted_content") || self.has("could not be verified") {
            FailureKind::BadRequest
        } else if bad_request_status
            && (azure_code == Some("context_length_exceeded") || self.is_context_window())
        {
            FailureKind::ContextWindowExceeded
        } else if self.has("invalid_request_error") && bad_request_status {
            FailureKind::BadRequest
        } else if self.has(
            "The api_key client option must be set either by passing api_key to the client or by setting",
        ) {
            FailureKind::Authentication
        } else if self.has("Connection error") {
            FailureKind::Connection
        } else {
            match self.status {
                400 | 422 => FailureKind::BadRequest,
                401 => FailureKind::Authentication,
                404 => FailureKind::NotFound,
                408 | 504 => FailureKind::Timeout,
                429 => FailureKind::RateLimit,
                502 => FailureKind::BadGateway,
                503 => FailureKind::ServiceUnavailable,
                // No 500 branch: a generic APIError with status 500.
                500 => FailureKind::Other,
                other => FailureKind::Status(other),
            }
        }
    }

    /// `extract_and_raise_litellm_exception`: a LiteLLM proxy names the class it raised
    /// (`litellm.<Name>Error`) in the message.
    fn litellm_proxy(&self) -> Option<FailureKind> {
        // `re.search(r"litellm\.\w+Error")`: the first `litellm.` followed by word characters that end, after
        // backtracking, in `Error`.
        let name = self.text.match_indices("litellm.").find_map(|(at, dot)| {
            let rest = &self.text[at + dot.len()..];
            let word_end = rest
                .char_indices()
                .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
                .map_or(rest.len(), |(i, _)| i);
            let word = &rest[..word_end];
            let end = word.rfind("Error").filter(|&i| i > 0)? + "Error".len();
            Some(&word[..end])
        })?;
        Some(match name {
            "RateLimitError" => FailureKind::RateLimit,
            "AuthenticationError" => FailureKind::Authentication,
            "NotFoundError" => FailureKind::NotFound,
            "BadRequestError" => FailureKind::BadRequest,
            "ContextWindowExceededError" => FailureKind::ContextWindowExceeded,
            "ContentPolicyViolationError" => FailureKind::ContentPolicyViolation,
            "InternalServerError" => FailureKind::InternalServer,
            "BadGatewayError" => FailureKind::BadGateway,
            "ServiceUnavailableError" => FailureKind::ServiceUnavailable,
            "APIConnectionError" => FailureKind::Connection,
            _ => return None,
        })
    }
}

/// `re.search(r"rate[\s_\-]*limit", lower)`.
fn rate_limit_phrase(lower: &str) -> bool {
    let mut rest = lower;
    while let Some(at) = rest.find("rate") {
        let after = rest[at + 4..].trim_start_matches(|c: char| {
            c.is_whitespace() || c == '_' || c == '-' || ('\u{1c}'..='\u{1f}').contains(&c)
        });
        if after.starts_with("limit") {
            return true;
        }
        rest = &rest[at + 4..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_read_from_error_message_or_a_top_level_message() {
        assert_eq!(
            FailureKind::classify(
                400,
                r#"{"message": "This model's maximum context length is 10"}"#
            ),
            FailureKind::ContextWindowExceeded
        );
        // A code alone is not read: LiteLLM only sees the message.
        assert_eq!(
            FailureKind::classify(
                400,
                r#"{"error": {"message": "bad", "code": "context_length_exceeded"}}"#
            ),
            FailureKind::BadRequest
        );
        // Not JSON: the status alone.
        assert_eq!(
            FailureKind::classify(500, "rate limit exceeded"),
            FailureKind::InternalServer
        );
    }

    #[test]
    fn rate_limit_phrases_allow_separators() {
        assert!(rate_limit_phrase("hit the rate-limit"));
        assert!(rate_limit_phrase("rate_ _limit"));
        assert!(rate_limit_phrase("ratelimit"));
        assert!(!rate_limit_phrase("rate: limit"));
        assert!(!rate_limit_phrase("generate a rat limit"));
    }

    #[test]
    fn proxy_class_names_backtrack_to_the_last_error() {
        let e = ErrorText::new(
            400,
            r#"{"error": {"message": "litellm.BadRequestErrorErrorx: no"}}"#,
        );
        assert_eq!(e.litellm_proxy(), None, "BadRequestErrorError is no class");
        let e = ErrorText::new(
            429,
            r#"{"error": {"message": "litellm.RateLimitError: slow down"}}"#,
        );
        assert_eq!(e.litellm_proxy(), Some(FailureKind::RateLimit));
    }
}
