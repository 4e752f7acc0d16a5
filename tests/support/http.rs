//! Real HTTP servers on 127.0.0.1 for the call tests (axum on the test's tokio runtime): each records every
//! request it receives and answers with what the test's handler returns, including answers that fail on
//! purpose (error statuses, hangs, streams cut or oversized).
//!
//! ```ignore
//! let server = TestServer::start(|_req| async { sse_response(["{\"choices\":[]}", "[DONE]"]) }).await;
//! // ... call server.url() ...
//! assert_eq!(server.requests()[0].path_and_query, "/v1/chat/completions");
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST`, ...
    pub method: String,
    /// Path and query, e.g. `/openai/deployments/d/chat/completions?api-version=2025-02-01-preview`.
    pub path_and_query: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The client's address: one port per TCP connection.
    pub peer: Option<SocketAddr>,
}

impl Recorded {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// A running server; stopped when dropped.
pub struct TestServer {
    port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server on a free 127.0.0.1 port answering every request with `handler`.
    pub async fn start<F, Fut>(handler: F) -> TestServer
    where
        F: Fn(Recorded) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let handler = handler.clone();
            let seen = seen.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
                    .await
                    .unwrap_or_default();
                let recorded = Recorded {
                    method: parts.method.to_string(),
                    path_and_query: parts
                        .uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    peer: parts
                        .extensions
                        .get::<axum::extract::ConnectInfo<SocketAddr>>()
                        .map(|c| c.0),
                    headers: parts.headers,
                    body,
                };
                seen.lock().unwrap().push(recorded.clone());
                handler(recorded).await
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .ok();
        });
        TestServer {
            port,
            requests,
            shutdown: Some(tx),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// The only request received.
    pub fn single_request(&self) -> Recorded {
        let all = self.requests();
        assert_eq!(all.len(), 1, "expected exactly one request, got {all:?}");
        all.into_iter().next().unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A JSON response.
pub fn json_response(status: u16, body: serde_json::Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// An OpenAI-shaped chat completion with this content and usage.
pub fn completion(content: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}
    })
}

/// An OpenAI-shaped streaming chunk carrying `content`.
pub fn chunk(content: &str) -> String {
    serde_json::json!({
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"content": content}}]
    })
    .to_string()
}

/// An SSE response whose body is `data: <item>\n\n` for each item, sent at once.
pub fn sse_response<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> Response {
    let mut body = String::new();
    for item in items {
        body.push_str("data: ");
        body.push_str(item.as_ref());
        body.push_str("\n\n");
    }
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from(body))
        .unwrap()
}

/// One piece of a streamed body.
pub enum Piece {
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// `data: <text>\n\n`.
    Data(String),
    /// Wait this long.
    Wait(Duration),
    /// Wait until the test says so (`notify_one`; a notification sent before is kept): a cut that comes
    /// only after the client has read what came before, whatever the timing.
    WaitFor(Arc<tokio::sync::Notify>),
    /// Break the connection (the body ends with an error: the client sees an incomplete body).
    Cut,
}

/// An SSE response sent piece by piece.
pub fn streamed_response(pieces: Vec<Piece>) -> Response {
    let stream = futures_util::stream::iter(pieces).then(|piece| async move {
        match piece {
            Piece::Bytes(b) => Some(Ok(Bytes::from(b))),
            Piece::Data(d) => Some(Ok(Bytes::from(format!("data: {d}\n\n")))),
            Piece::Wait(d) => {
                tokio::time::sleep(d).await;
                None
            }
            Piece::WaitFor(go) => {
                go.notified().await;
                None
            }
            Piece::Cut => Some(Err(std::io::Error::other("cut on purpose"))),
        }
    });
    let stream = stream.filter_map(|x| async move { x });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// A response with extra headers.
pub fn with_header(mut resp: Response, name: &'static str, value: &str) -> Response {
    resp.headers_mut()
        .insert(name, HeaderValue::from_str(value).unwrap());
    resp
}

/// Never answers (within any test's bounds).
pub async fn hang() -> Response {
    tokio::time::sleep(Duration::from_secs(3600)).await;
    Response::new(Body::empty())
}

/// A tokio timer for `ChatCall::with_timer`.
pub fn tokio_timer() -> impl Fn(Duration) -> modelroute_sleep::Sleep + Send + Sync + 'static {
    |d| Box::pin(tokio::time::sleep(d))
}

/// The sleep type of the call's `Timer`, named without depending on the crate's feature here.
pub mod modelroute_sleep {
    /// A boxed sleep.
    pub type Sleep = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}
