//! [`SendError`]: why a request delivered with retries and fallbacks ([`Sender`](crate::call::Sender))
//! got no answer.

use std::time::Duration;

use crate::attempt::{Attempt, AttemptResult};
use crate::error::{AttemptError, CallError, RouteError};

/// Why [`Sender::send`](crate::call::Sender::send) or
/// [`Sender::send_stream`](crate::call::Sender::send_stream) got no answer.
///
/// The predicates and [`SendError::status`] read the *cause*: the requested model's last attempt, as
/// LiteLLM raises that group's error whatever its fallbacks answered (see [`AttemptError`]).
///
/// ```
/// use modelroute::call::{Sender, Sleep};
/// use modelroute::router::RequestContext;
/// use modelroute::{Deployment, Router};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let router = Router::new([Deployment::new("gpt-4o", "openai/gpt-4o")?])?;
/// let sender = Sender::new(|d| -> Sleep { Box::pin(tokio::time::sleep(d)) });
/// let client = modelroute::reqwest::Client::new();
/// let error = sender
///     .send(&client, &router, "no-such-model", &RequestContext::new(), "{\"messages\": []}")
///     .await
///     .unwrap_err();
/// assert!(error.is_not_found());
/// assert_eq!(error.status(), 400); // what LiteLLM's proxy answers for an unknown model
/// assert!(error.call_error().is_none()); // nothing was sent
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The request body is not a JSON object. Nothing was sent.
    #[error("request body: {reason}")]
    InvalidBody {
        /// What is wrong.
        reason: String,
    },
    /// The plan ran out: every retry and fallback it allowed was tried (or no deployment could take the
    /// request), and none answered.
    #[error("{error}")]
    Failed {
        /// Every attempt, and the cause.
        error: AttemptError,
        /// The call error of the cause, when a deployment was called: the status, the (scrubbed) error
        /// body and `Retry-After` the deployment answered with.
        call_error: Option<Box<CallError>>,
    },
}

impl SendError {
    /// The body was not a JSON object (nothing sent).
    pub fn is_invalid_body(&self) -> bool {
        matches!(self, SendError::InvalidBody { .. })
    }
    /// The plan's error: every attempt and its cause.
    pub fn attempt_error(&self) -> Option<&AttemptError> {
        match self {
            SendError::Failed { error, .. } => Some(error),
            SendError::InvalidBody { .. } => None,
        }
    }
    /// Every attempt, in order (none for an invalid body).
    pub fn attempts(&self) -> &[Attempt] {
        self.attempt_error().map_or(&[], AttemptError::attempts)
    }
    /// The call error of the cause, when a deployment was called.
    pub fn call_error(&self) -> Option<&CallError> {
        match self {
            SendError::Failed { call_error, .. } => call_error.as_deref(),
            SendError::InvalidBody { .. } => None,
        }
    }
    /// No deployment serves the requested name (nor a default fallback).
    pub fn is_not_found(&self) -> bool {
        self.attempt_error().is_some_and(AttemptError::is_not_found)
    }
    /// Every deployment of the requested group was blocked, cooling down or filtered out.
    pub fn is_unavailable(&self) -> bool {
        self.attempt_error()
            .is_some_and(AttemptError::is_unavailable)
    }
    /// The request is too long for the requested model (its answer, or the pre-call checks).
    pub fn is_context_window_exceeded(&self) -> bool {
        self.attempt_error()
            .is_some_and(AttemptError::is_context_window_exceeded)
    }
    /// The requested model's provider refused the content.
    pub fn is_content_policy_violation(&self) -> bool {
        self.attempt_error()
            .is_some_and(AttemptError::is_content_policy_violation)
    }
    /// The requested model was rate limited.
    pub fn is_rate_limited(&self) -> bool {
        self.attempt_error()
            .is_some_and(AttemptError::is_rate_limited)
    }
    /// When to try again: the cause's `Retry-After`, or when the first cooldown of the requested group ends.
    pub fn retry_after(&self) -> Option<Duration> {
        self.attempt_error().and_then(AttemptError::retry_after)
    }

    /// The HTTP status a gateway answers with, as LiteLLM's proxy does: the status the cause's deployment
    /// answered with (or its error object's `code`); else the status of the cause's failure class (408 for
    /// a timeout, 500 for a broken connection or a malformed answer); 400 for an invalid body, a model no
    /// deployment serves, or a request too long for every deployment (pre-call checks); 429 when every
    /// deployment of the group is cooling down or at its limits.
    pub fn status(&self) -> u16 {
        if let Some(status) = self.call_error().and_then(CallError::status) {
            return status;
        }
        let Some(error) = self.attempt_error() else {
            return 400;
        };
        match error.cause().map(Attempt::result) {
            Some(AttemptResult::Failed(failure)) => failure.kind.status(),
            Some(AttemptResult::NoDeployment(RouteError::NoneAvailable { .. })) => 429,
            Some(AttemptResult::NoDeployment(_)) => 400,
            _ => 500,
        }
    }

    /// A message fit for the gateway's client: the cause deployment's own error message (scrubbed of
    /// secrets), else the failure's LiteLLM class, or the routing error. Never an upstream URL, which the
    /// `Display` of this error names (for your logs).
    pub fn public_message(&self) -> String {
        if let Some(message) = self
            .call_error()
            .and_then(CallError::error_body)
            .and_then(|b| b.message())
        {
            return message.to_string();
        }
        let Some(error) = self.attempt_error() else {
            return self.to_string();
        };
        match error.cause().map(Attempt::result) {
            Some(AttemptResult::Failed(failure)) => failure.kind.litellm_class().to_string(),
            Some(AttemptResult::NoDeployment(route_error)) => route_error.to_string(),
            _ => format!("model `{}`: no attempt succeeded", error.model()),
        }
    }
}
