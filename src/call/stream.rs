//! [`ChatStream`]: the events of a streamed chat completion, parsed by `sse-stream` from reqwest's body
//! frames, ending at `data: [DONE]`.
//!
//! Each SSE block with data is one [`StreamEvent`]. On the way, without parsing the chunk into a tree: an
//! error object (`data: {"error": ...}` or `event: error`) ends the stream with [`CallError::Upstream`]; a
//! `usage` is kept for [`ChatStream::usage`] (the usage-only chunk the call asked for on your behalf is not
//! yielded); an end of the body before `[DONE]` is [`CallError::Incomplete`]; more than `max_event_bytes`
//! received without completing an event is [`CallError::TooLarge`] (give or take an eighth of the limit: the
//! body is parsed in pieces; memory stays bounded by 9/8 of it plus the network chunk being read). After an
//! error the stream ends.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::Stream;
use http_body::Body as _;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;
use sse_stream::SseByteStream;

use super::{ErrorBody, Sleep, Timer, Usage, transport_error, upstream_error};
use crate::error::CallError;
use crate::secret::Secret;

/// One event of a streamed completion: the JSON text of one `chat.completion.chunk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEvent {
    data: String,
    usage: Option<Usage>,
}

impl StreamEvent {
    /// The event's data: one JSON chunk, as the server sent it (forward it as `data: {…}` unchanged).
    pub fn data(&self) -> &str {
        &self.data
    }
    /// The data, owned.
    pub fn into_data(self) -> String {
        self.data
    }
    /// The chunk as JSON.
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.data)
    }
    /// The chunk's `usage`, when it carries one (the last chunk, with `stream_options.include_usage`).
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }
}

/// What [`ChatStream::new`] needs from the call.
pub(crate) struct StreamSettings {
    pub(crate) endpoint: Arc<str>,
    pub(crate) secrets: Arc<[Secret]>,
    pub(crate) max_event_bytes: usize,
    pub(crate) hide_usage: bool,
    pub(crate) timer: Option<Arc<dyn Timer>>,
    pub(crate) idle: Option<Duration>,
    pub(crate) start: Instant,
    pub(crate) status: u16,
}

/// The events of a streamed chat completion (a [`futures_util::Stream`] of
/// `Result<`[`StreamEvent`]`, `[`CallError`]`>`), returned by
/// [`ChatCall::stream`](super::ChatCall::stream) once its first event has arrived. It ends after `data: [DONE]`,
/// or after yielding one error. Every error it yields happened after the first event
/// ([`CallError::is_before_first_event`] is false).
pub struct ChatStream {
    sse: SseByteStream<Frames>,
    fed: Arc<AtomicUsize>,
    first: Option<StreamEvent>,
    settings: StreamSettings,
    headers: HeaderMap,
    sleep: Option<Sleep>,
    last_activity: Instant,
    time_to_first_event: Duration,
    usage: Option<Usage>,
    started: bool,
    done: bool,
    after_done: usize,
    finished: bool,
}

/// The most SSE blocks read after `[DONE]` while waiting for the end of the body.
const AFTER_DONE_BLOCKS: usize = 16;

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("endpoint", &self.settings.endpoint)
            .field("status", &self.settings.status)
            .field("time_to_first_event", &self.time_to_first_event)
            .field("usage", &self.usage)
            .field("done", &self.done)
            .finish()
    }
}

impl ChatStream {
    pub(crate) fn new(mut resp: reqwest::Response, settings: StreamSettings) -> Self {
        let headers = std::mem::take(resp.headers_mut());
        Self::over(reqwest::Body::from(resp), headers, settings)
    }

    /// A stream over a body already received (a recorded stream, a test, a fuzz target), parsed exactly as
    /// a live one, up to `max_event_bytes` per event. Every item is ready at once: poll it with any executor,
    /// or `futures_util::FutureExt::now_or_never`.
    ///
    /// ```
    /// use futures_util::{FutureExt, StreamExt};
    /// use modelroute::call::ChatStream;
    /// let body = b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n";
    /// let mut s = ChatStream::from_body(body.to_vec(), 1 << 20);
    /// let event = s.next().now_or_never().unwrap().unwrap()?;
    /// assert_eq!(event.usage().unwrap().total_tokens, 4);
    /// assert!(s.next().now_or_never().unwrap().is_none());
    /// assert!(s.is_done());
    /// # Ok::<(), modelroute::CallError>(())
    /// ```
    pub fn from_body(body: Vec<u8>, max_event_bytes: usize) -> Self {
        Self::over(
            reqwest::Body::from(body),
            HeaderMap::new(),
            StreamSettings {
                endpoint: Arc::from("(body)"),
                secrets: Arc::from(Vec::new()),
                max_event_bytes,
                hide_usage: false,
                timer: None,
                idle: None,
                start: Instant::now(),
                status: 200,
            },
        )
    }

    fn over(body: reqwest::Body, headers: HeaderMap, settings: StreamSettings) -> Self {
        let fed = Arc::new(AtomicUsize::new(0));
        let frames = Frames {
            body,
            rest: Bytes::new(),
            fed: fed.clone(),
            limit: settings.max_event_bytes,
        };
        ChatStream {
            sse: SseByteStream::new(frames),
            fed,
            first: None,
            last_activity: settings.start,
            settings,
            headers,
            sleep: None,
            time_to_first_event: Duration::ZERO,
            usage: None,
            started: false,
            done: false,
            after_done: 0,
            finished: false,
        }
    }

    /// Reads up to the first event and keeps it for the first `next()`. Errors here are before the first event.
    pub(crate) async fn read_first(&mut self) -> Result<(), CallError> {
        let first = std::future::poll_fn(|cx| self.poll_event(cx)).await;
        self.time_to_first_event = self.settings.start.elapsed();
        self.started = true;
        match first {
            Some(Ok(event)) => {
                self.first = Some(event);
                Ok(())
            }
            Some(Err(e)) => Err(e),
            None => Ok(()), // `[DONE]` at once: an empty stream
        }
    }

    /// From sending the request to the first event (LiteLLM's time to first token, the latency to report
    /// for a stream).
    pub fn time_to_first_event(&self) -> Duration {
        self.time_to_first_event
    }
    /// The last `usage` the stream carried (with `stream_options.include_usage`, the last chunk's): complete
    /// once the stream has ended.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }
    /// Whether `data: [DONE]` was received.
    pub fn is_done(&self) -> bool {
        self.done
    }
    /// The HTTP status of the response.
    pub fn status(&self) -> u16 {
        self.settings.status
    }
    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    fn error(&self, make: impl FnOnce(String, bool) -> CallError) -> CallError {
        make(self.settings.endpoint.to_string(), self.started)
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, CallError>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        let out = self.poll_inner(cx);
        if matches!(out, Poll::Ready(None | Some(Err(_)))) {
            self.finished = true;
            self.sleep = None;
        }
        out
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, CallError>>> {
        if self.done {
            return self.poll_after_done(cx);
        }
        loop {
            let block = match Pin::new(&mut self.sse).poll_next(cx) {
                Poll::Pending => return self.poll_idle(cx),
                Poll::Ready(None) => {
                    return Poll::Ready(Some(Err(self.error(|endpoint, after_first_event| {
                        CallError::Incomplete {
                            endpoint,
                            after_first_event,
                        }
                    }))));
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(self.decode_error(e)))),
                Poll::Ready(Some(Ok(block))) => block,
            };
            self.fed.store(0, Ordering::Relaxed);
            if self.settings.idle.is_some() {
                self.last_activity = Instant::now();
            }
            let Some(data) = block.data else {
                continue; // id / retry only
            };
            if data == "[DONE]" {
                self.done = true;
                return self.poll_after_done(cx);
            }
            let peek: Peek = match serde_json::from_str(&data) {
                Ok(p) => p,
                Err(e) => {
                    let reason = format!("an event is not a JSON chunk: {e}");
                    return Poll::Ready(Some(Err(self.error(|endpoint, after_first_event| {
                        CallError::Malformed {
                            endpoint,
                            reason,
                            after_first_event,
                        }
                    }))));
                }
            };
            if peek.error.is_some() || block.event.as_deref() == Some("error") {
                let value: Value = serde_json::from_str(&data).unwrap_or(Value::Null);
                let err = upstream_error(
                    &value,
                    data.as_bytes(),
                    &self.settings.endpoint,
                    &self.settings.secrets,
                    self.started,
                )
                .unwrap_or_else(|| CallError::Upstream {
                    endpoint: self.settings.endpoint.to_string(),
                    code: None,
                    body: ErrorBody::new(data.as_bytes(), &self.settings.secrets, false),
                    after_first_event: self.started,
                });
                return Poll::Ready(Some(Err(err)));
            }
            let usage = peek.usage.as_ref().and_then(Usage::from_json);
            if usage.is_some() {
                self.usage = usage;
                if self.settings.hide_usage && peek.choices.is_some_and(|c| c.is_empty()) {
                    continue;
                }
            }
            return Poll::Ready(Some(Ok(StreamEvent { data, usage })));
        }
    }

    /// After `[DONE]`, the stream ends with the body, as the OpenAI SDK does ("consume the rest of the
    /// stream"): the chunked terminator follows `[DONE]`, and a body read to its end gives the connection back
    /// to the client's pool (else it is closed, and the next request pays a new connection, a TLS handshake
    /// over the network). Bounded: at most [`AFTER_DONE_BLOCKS`] blocks are skipped, a quiet period past the
    /// stream timeout (with a timer) or an error ends it too; the answer is complete either way.
    fn poll_after_done(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<StreamEvent, CallError>>> {
        loop {
            match Pin::new(&mut self.sse).poll_next(cx) {
                Poll::Ready(Some(Ok(_))) if self.after_done < AFTER_DONE_BLOCKS => {
                    self.after_done += 1;
                    self.last_activity = Instant::now();
                }
                Poll::Ready(_) => return Poll::Ready(None),
                Poll::Pending => {
                    return match self.poll_idle(cx) {
                        Poll::Pending => Poll::Pending,
                        Poll::Ready(_) => Poll::Ready(None),
                    };
                }
            }
        }
    }

    /// Nothing to read: with a timer and a stream timeout, fail once the quiet period exceeds it.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<StreamEvent, CallError>>> {
        let (Some(idle), Some(timer)) = (self.settings.idle, self.settings.timer.as_ref()) else {
            return Poll::Pending;
        };
        loop {
            let waited = self.last_activity.elapsed();
            if waited >= idle {
                return Poll::Ready(Some(Err(self.error(|endpoint, after_first_event| {
                    CallError::Timeout {
                        endpoint,
                        after_first_event,
                    }
                }))));
            }
            let sleep = self.sleep.get_or_insert_with(|| timer.sleep(idle - waited));
            match sleep.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // The sleep was set for the quiet period as it stood; events may have come since.
                Poll::Ready(()) => self.sleep = None,
            }
        }
    }

    fn decode_error(&self, e: sse_stream::Error) -> CallError {
        match e {
            sse_stream::Error::Body(inner) => match inner.downcast::<FrameError>() {
                Ok(frame) => match *frame {
                    FrameError::TooLarge(limit) => {
                        self.error(|endpoint, after_first_event| CallError::TooLarge {
                            endpoint,
                            limit,
                            after_first_event,
                        })
                    }
                    FrameError::Body(e) => {
                        transport_error(e, &self.settings.endpoint, self.started)
                    }
                },
                Err(other) => self.error(|endpoint, after_first_event| CallError::Transport {
                    endpoint,
                    source: Arc::from(other),
                    after_first_event,
                }),
            },
            other => {
                let reason = other.to_string();
                self.error(|endpoint, after_first_event| CallError::Malformed {
                    endpoint,
                    reason,
                    after_first_event,
                })
            }
        }
    }
}

impl Stream for ChatStream {
    type Item = Result<StreamEvent, CallError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(first) = this.first.take() {
            return Poll::Ready(Some(Ok(first)));
        }
        let out = this.poll_event(cx);
        if let Poll::Ready(Some(Ok(_))) = out {
            this.started = true;
        }
        out
    }
}

/// The fields of a chunk the stream looks at; everything else is skipped without building a tree.
#[derive(Deserialize)]
struct Peek {
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    choices: Option<Vec<IgnoredAny>>,
}

/// reqwest's body as a stream of data pieces, failing once more than `limit` bytes were handed to the parser
/// without a complete event coming out (the stream resets `fed` at each event). Frames are cut (without
/// copying) into pieces of at most `limit / 8` bytes (64 KiB at most), so that a large network frame of many
/// small events is not mistaken for one large event. The piece that ends an event may hold the start of the
/// next, which the count then misses: an event up to 7/8 of the limit always passes, one over 9/8 of it never
/// does, and the parser never holds more than 9/8 of the limit (tests/call_stream_proptest.rs).
struct Frames {
    body: reqwest::Body,
    rest: Bytes,
    fed: Arc<AtomicUsize>,
    limit: usize,
}

impl Frames {
    fn piece(&mut self) -> Bytes {
        let size = (self.limit / 8).clamp(1, 64 * 1024);
        if self.rest.len() <= size {
            std::mem::take(&mut self.rest)
        } else {
            self.rest.split_to(size)
        }
    }
}

impl Stream for Frames {
    type Item = Result<Bytes, FrameError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        while self.rest.is_empty() {
            match Pin::new(&mut self.body).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(FrameError::Body(e)))),
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.rest = data; // (trailers are skipped)
                    }
                }
            }
        }
        let piece = self.piece();
        let fed = self.fed.fetch_add(piece.len(), Ordering::Relaxed) + piece.len();
        if fed > self.limit {
            return Poll::Ready(Some(Err(FrameError::TooLarge(self.limit))));
        }
        Poll::Ready(Some(Ok(piece)))
    }
}

#[derive(Debug, thiserror::Error)]
enum FrameError {
    #[error("{0}")]
    Body(reqwest::Error),
    #[error("event larger than {0} bytes")]
    TooLarge(usize),
}
