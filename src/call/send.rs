//! [`Sender`]: a request delivered with retries and fallbacks. It runs the router's attempt plan
//! ([`Router::attempts`]) around [`ChatCall`], so a caller writes one line where it would otherwise
//! hand-write the loop LiteLLM's `Router.acompletion` runs.
//!
//! # The loop it runs
//! 1. The plan yields a [`Route`]; the sender builds the call for it ([`ChatCall::for_route`], with your
//!    timer and [`Sender::configure`]) and sends your body.
//! 2. A failure is classified ([`CallError::failure`]: LiteLLM's class from the status and the error body
//!    for the deployment's provider, the server's `Retry-After`; no answer in time is a timeout, no
//!    connection a connection error) and handed back to the plan, which reports it to the router (cooldowns)
//!    and answers: try again (the sender sleeps the plan's delay on your timer), try a fallback group, or
//!    stop.
//! 3. A success is reported through the plan with what the call measured ([`Outcome::success`]: latency,
//!    usage and, for a stream, the time to its first event), and returned with the deployment that answered
//!    and every attempt ([`Sent`], [`SentStream`]).
//!
//! A stream is retried only before its first event reached you: [`ChatCall::stream`] returns once the
//! first event has arrived, so every failure before that is the plan's to retry; after it, the
//! [`SentStream`] ends with the error, reports it (which may cool the deployment down), and nothing more is
//! tried.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use modelroute::call::{Sender, Sleep};
//! use modelroute::router::RequestContext;
//! use modelroute::Router;
//! use serde_json::json;
//!
//! # async fn run(router: Router, client: modelroute::reqwest::Client) -> Result<(), Box<dyn std::error::Error>> {
//! // Your runtime's timer: the waits between attempts, and stream timeouts.
//! let sender = Sender::new(|d| -> Sleep { Box::pin(tokio::time::sleep(d)) });
//! let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]});
//! let ctx = RequestContext::new();
//!
//! let sent = sender.send(&client, &router, "gpt-4o", &ctx, &body).await?;
//! println!("{} answered after {} attempt(s)", sent.deployment().id(), sent.attempts().len());
//! println!("{}", sent.completion().body["choices"][0]["message"]["content"]);
//!
//! let mut events = sender.send_stream(&client, &router, "gpt-4o", &ctx, &body).await?;
//! while let Some(event) = events.next().await {
//!     print!("{}", event?.json()?["choices"][0]["delta"]["content"].as_str().unwrap_or(""));
//! }
//! // Reported to the router when the stream ended: latency, usage, time to first event.
//! println!("\n{:?} to the first event, {:?}", events.time_to_first_event(), events.usage());
//! # Ok(()) }
//! ```
//!
//! # No runtime
//! The sender sleeps only on the [`Timer`] you give it (the plan computes the delay; it never sleeps), and
//! the same timer bounds stream waits (`stream_timeout`; see [`ChatCall::with_timer`]). It spawns nothing:
//! everything runs inside the future you await, on your [`reqwest::Client`].

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::Stream;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::{ChatCall, ChatStream, Completion, RequestBody, StreamEvent, Timer, Usage};
use crate::attempt::{Answered, Attempt, Failure, Next};
use crate::deployment::Deployment;
use crate::error::{CallError, SendError};
use crate::router::{FailureKind, Outcome, RequestContext, Route, Router};

type Configure = dyn Fn(ChatCall) -> ChatCall + Send + Sync;

/// Delivers a request with the router's retries and fallbacks. Cheap to clone; build one and share it.
/// See the [module docs](self).
#[derive(Clone)]
pub struct Sender {
    timer: Arc<dyn Timer>,
    configure: Option<Arc<Configure>>,
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("configure", &self.configure.is_some())
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender sleeping on `timer` (your runtime's; e.g. `tokio::time::sleep`) between attempts, and
    /// bounding stream waits with it.
    ///
    /// ```
    /// use modelroute::call::{Sender, Sleep};
    /// let sender = Sender::new(|d| -> Sleep { Box::pin(tokio::time::sleep(d)) });
    /// # let _ = sender;
    /// ```
    pub fn new(timer: impl Timer) -> Self {
        Sender {
            timer: Arc::new(timer),
            configure: None,
        }
    }

    /// Adjusts every call the sender makes: `configure` gets the call built for a route (endpoint, key,
    /// headers, parameters and timeouts of the deployment, with the sender's timer) and returns the one to
    /// send.
    ///
    /// ```
    /// use modelroute::call::{Sender, Sleep};
    /// use std::time::Duration;
    /// let sender = Sender::new(|d| -> Sleep { Box::pin(tokio::time::sleep(d)) })
    ///     // The router's `timeout` for deployments that set none, and no usage chunk asked for.
    ///     .configure(|call| call.default_timeout(Some(Duration::from_secs(600))).request_usage(false));
    /// # let _ = sender;
    /// ```
    pub fn configure(
        mut self,
        configure: impl Fn(ChatCall) -> ChatCall + Send + Sync + 'static,
    ) -> Self {
        self.configure = Some(Arc::new(configure));
        self
    }

    /// Sends `body` as a (non-streamed) chat completion of `model`, with the retries and fallbacks of the
    /// router's plan. The body is parsed once (bytes) and sent to each deployment tried, untouched but for
    /// `model` (see [`ChatCall::complete`]).
    ///
    /// # Errors
    /// [`SendError::InvalidBody`] if the body is not a JSON object (nothing sent); else
    /// [`SendError::Failed`] once the plan has nothing left to try, with every attempt and the call error
    /// of its cause.
    pub async fn send<'a>(
        &self,
        client: &reqwest::Client,
        router: &Router,
        model: &str,
        ctx: &RequestContext<'_>,
        body: impl Into<RequestBody<'a>>,
    ) -> Result<Sent, SendError> {
        let parsed = parse(body.into())?;
        let body = parsed.get();
        let mut plan = router.attempts(model, ctx);
        let mut errors = CallErrors::default();
        loop {
            let route = match plan.next_step() {
                Next::Try(route) => route,
                Next::Wait(delay) => {
                    self.timer.sleep(delay).await;
                    continue;
                }
                Next::Stop(error) => return Err(errors.into_error(error)),
            };
            let outcome = match self.call(&route) {
                Ok(call) => call.complete(client, body).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(completion) => {
                    let deployment = route.deployment().clone();
                    let group = route.group().to_string();
                    let mut report = Outcome::success(completion.latency);
                    if let Some(usage) = completion.usage {
                        report = report.with_usage(usage);
                    }
                    let attempts = plan.succeeded(route, report);
                    return Ok(Sent {
                        completion,
                        deployment,
                        group,
                        attempts,
                    });
                }
                Err(e) => {
                    let failure = e.failure(&route);
                    plan.failed(route, failure);
                    errors.push(plan.tried().len(), e);
                }
            }
        }
    }

    /// Sends `body` as a streamed chat completion of `model`, with the retries and fallbacks of the router's
    /// plan until a deployment's first event has arrived; returns the stream then. The stream reports how
    /// it ended (success with latency, usage and time to first event, or the failure that cut it) to the
    /// router when it ends. `ctx` is used with [`RequestContext::with_stream`] set.
    ///
    /// The stream borrows the router (the report at its end goes through it). For a response body that must
    /// be `'static` (axum, hyper), keep the router in a `&'static` (e.g. `Box::leak` at start-up, as
    /// `examples/gateway.rs` does), or drive the stream in a task and forward its events through a channel.
    ///
    /// # Errors
    /// As [`Sender::send`]; every error here came before any event reached you.
    pub async fn send_stream<'r, 'a>(
        &self,
        client: &reqwest::Client,
        router: &'r Router,
        model: &str,
        ctx: &RequestContext<'_>,
        body: impl Into<RequestBody<'a>>,
    ) -> Result<SentStream<'r>, SendError> {
        let parsed = parse(body.into())?;
        let body = parsed.get();
        let ctx = ctx.with_stream(true);
        let mut plan = router.attempts(model, &ctx);
        let mut errors = CallErrors::default();
        loop {
            let route = match plan.next_step() {
                Next::Try(route) => route,
                Next::Wait(delay) => {
                    self.timer.sleep(delay).await;
                    continue;
                }
                Next::Stop(error) => return Err(errors.into_error(error)),
            };
            let start = Instant::now();
            let outcome = match self.call(&route) {
                Ok(call) => call.stream(client, body).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(stream) => {
                    let deployment = route.deployment().clone();
                    let group = route.group().to_string();
                    let answered = plan.answered(route);
                    let attempts = answered.tried().to_vec();
                    return Ok(SentStream {
                        stream,
                        answered: Some(answered),
                        deployment,
                        group,
                        attempts,
                        start,
                    });
                }
                Err(e) => {
                    let failure = e.failure(&route);
                    plan.failed(route, failure);
                    errors.push(plan.tried().len(), e);
                }
            }
        }
    }

    fn call(&self, route: &Route) -> Result<ChatCall, CallError> {
        let call = ChatCall::for_route(route)?.with_shared_timer(self.timer.clone());
        Ok(match &self.configure {
            Some(configure) => configure(call),
            None => call,
        })
    }
}

/// The body, parsed once for every attempt.
enum Parsed<'a> {
    Borrowed(&'a Value),
    Owned(Value),
}

impl Parsed<'_> {
    fn get(&self) -> &Value {
        match self {
            Parsed::Borrowed(v) => v,
            Parsed::Owned(v) => v,
        }
    }
}

fn parse(body: RequestBody<'_>) -> Result<Parsed<'_>, SendError> {
    let parsed = match body {
        RequestBody::Json(v) => Parsed::Borrowed(v),
        RequestBody::Bytes(b) => {
            Parsed::Owned(
                serde_json::from_slice(b).map_err(|e| SendError::InvalidBody {
                    reason: format!("not JSON: {e}"),
                })?,
            )
        }
    };
    if !parsed.get().is_object() {
        return Err(SendError::InvalidBody {
            reason: "not a JSON object".to_string(),
        });
    }
    Ok(parsed)
}

/// The call error of each failed attempt, by its position in the plan's list (1-based: the list's length
/// right after it was recorded).
#[derive(Default)]
struct CallErrors(Vec<(usize, CallError)>);

impl CallErrors {
    fn push(&mut self, position: usize, error: CallError) {
        self.0.push((position, error));
    }

    /// The plan's error, with the call error of its cause (the requested model's last attempt).
    fn into_error(self, error: crate::error::AttemptError) -> SendError {
        let cause = error
            .attempts()
            .iter()
            .rposition(|a| a.group() == error.model())
            .map(|i| i + 1);
        let call_error = cause.and_then(|position| {
            self.0
                .into_iter()
                .find(|(p, _)| *p == position)
                .map(|(_, e)| e)
        });
        SendError::Failed {
            error,
            call_error: call_error.map(Box::new),
        }
    }
}

impl CallError {
    /// What this error means to the attempt plan ([`Failure`]): the class LiteLLM gives the answer
    /// (an HTTP status or an error object, with its body, for the route's provider:
    /// [`Failure::from_status`]) and the server's `Retry-After`; no answer in time is
    /// [`FailureKind::Timeout`]; no connection, or one that broke or closed before the answer ended, is
    /// [`FailureKind::Connection`] (LiteLLM's `APIConnectionError`, which never cools a deployment down);
    /// a malformed or oversized answer, and a call that could not be built for the deployment (its
    /// provider, `api_base` or parameters), are [`FailureKind::Other`] (counted like a 500: the deployment
    /// is unusable as configured, so another one is tried).
    ///
    /// ```
    /// use modelroute::call::ChatCall;
    /// use modelroute::router::{FailureKind, RequestContext};
    /// use modelroute::{Deployment, Router};
    /// let router = Router::new([Deployment::new("g", "bedrock/claude")?])?;
    /// let route = router.route("g", &RequestContext::new())?;
    /// let error = ChatCall::for_route(&route).unwrap_err(); // a provider modelroute does not call
    /// assert_eq!(error.failure(&route).kind, FailureKind::Other);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn failure(&self, route: &Route) -> Failure {
        match self {
            CallError::Status {
                status,
                body,
                retry_after,
                ..
            } => Failure::from_status(route, *status, body.text()).with_retry_after(*retry_after),
            // An error object instead of an answer: classified by its code, else as LiteLLM's generic
            // APIError (500), whose message still counts ("rate limit", "context length", ...).
            CallError::Upstream { code, body, .. } => {
                Failure::from_status(route, code.unwrap_or(500), body.text())
            }
            CallError::Timeout { .. } => Failure::new(FailureKind::Timeout),
            CallError::Connect { .. }
            | CallError::Transport { .. }
            | CallError::Incomplete { .. } => Failure::new(FailureKind::Connection),
            _ => Failure::new(FailureKind::Other),
        }
    }
}

/// A non-streamed answer delivered by [`Sender::send`]: the completion, the deployment that gave it, and
/// every attempt.
#[derive(Debug, Clone)]
pub struct Sent {
    completion: Completion,
    deployment: Arc<Deployment>,
    group: String,
    attempts: Vec<Attempt>,
}

impl Sent {
    /// The answer.
    pub fn completion(&self) -> &Completion {
        &self.completion
    }
    /// The answer, owned.
    pub fn into_completion(self) -> Completion {
        self.completion
    }
    /// The deployment that answered.
    pub fn deployment(&self) -> &Arc<Deployment> {
        &self.deployment
    }
    /// The model group it was routed in: the requested model's, or a fallback's.
    pub fn group(&self) -> &str {
        &self.group
    }
    /// Every attempt, in order, the one that answered last.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }
}

/// A streamed answer delivered by [`Sender::send_stream`]: a [`futures_util::Stream`] of
/// `Result<`[`StreamEvent`]`, `[`CallError`]`>` (the deployment's [`ChatStream`]), which reports how it
/// ended to the router through the plan: when it ends after `[DONE]`, a success with the whole latency,
/// the usage and the time to first event; when it yields an error (cut, timed out, an error event), that
/// failure, which may cool the deployment down. Dropped before either, nothing is reported.
///
/// Every error it yields came after its first event: nothing is retried.
pub struct SentStream<'r> {
    stream: ChatStream,
    answered: Option<Answered<'r>>,
    deployment: Arc<Deployment>,
    group: String,
    attempts: Vec<Attempt>,
    start: Instant,
}

impl fmt::Debug for SentStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentStream")
            .field("stream", &self.stream)
            .field("deployment", self.deployment.id())
            .field("group", &self.group)
            .field("attempts", &self.attempts)
            .field("reported", &self.answered.is_none())
            .finish()
    }
}

impl SentStream<'_> {
    /// The deployment that answered.
    pub fn deployment(&self) -> &Arc<Deployment> {
        &self.deployment
    }
    /// The model group it was routed in: the requested model's, or a fallback's.
    pub fn group(&self) -> &str {
        &self.group
    }
    /// The attempts before this deployment answered, in order; once the stream has ended, this one last,
    /// with how it ended.
    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }
    /// Whether the stream has ended and its outcome was reported.
    pub fn is_reported(&self) -> bool {
        self.answered.is_none()
    }
    /// From sending the request to this deployment to its first event.
    pub fn time_to_first_event(&self) -> Duration {
        self.stream.time_to_first_event()
    }
    /// The usage the stream carried, complete once it has ended ([`ChatStream::usage`]).
    pub fn usage(&self) -> Option<Usage> {
        self.stream.usage()
    }
    /// Whether `data: [DONE]` was received.
    pub fn is_done(&self) -> bool {
        self.stream.is_done()
    }
    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.stream.status()
    }
    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.stream.headers()
    }
    /// The deployment's stream itself. Reading it directly skips the report at the end.
    pub fn get_ref(&self) -> &ChatStream {
        &self.stream
    }

    fn report(&mut self, error: Option<&CallError>) {
        let Some(answered) = self.answered.take() else {
            return;
        };
        self.attempts = match error {
            Some(e) => {
                let failure = e.failure(answered.route());
                answered.failed(failure)
            }
            None => {
                let mut outcome = Outcome::success(self.start.elapsed())
                    .with_time_to_first_token(self.stream.time_to_first_event());
                if let Some(usage) = self.stream.usage() {
                    outcome = outcome.with_usage(usage);
                }
                answered.succeeded(outcome)
            }
        };
    }
}

impl Stream for SentStream<'_> {
    type Item = Result<StreamEvent, CallError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let item = Pin::new(&mut this.stream).poll_next(cx);
        match &item {
            Poll::Ready(None) => this.report(None),
            Poll::Ready(Some(Err(e))) => this.report(Some(e)),
            _ => {}
        }
        item
    }
}
