//! A kept-alive connection that the server closes before answering: when the server has stopped,
//! discovery reports it as unreachable (a quiet, expected state), not as a transport fault; when the
//! server only dropped an idle connection, the request is retried on a new one and succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use modelroute::{Ollama, Provider};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

const TAGS: &str = r#"{"models":[{"name":"llama3:latest","model":"llama3:latest","details":{"family":"llama"},"capabilities":["completion"],"context_length":8192}]}"#;

/// A tiny Ollama: every connection on its own task; when `drop_next` is set, the next request (on any
/// connection) is dropped unanswered, closing its connection; when `stopped` is set, every connection
/// closes at its next request and no new connection is accepted, as when the process exits.
struct Server {
    url: String,
    drop_next: Arc<AtomicBool>,
    stopped: Arc<AtomicBool>,
    stop: Arc<Notify>,
}

async fn serve(mut sock: TcpStream, drop_next: Arc<AtomicBool>, stopped: Arc<AtomicBool>) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match sock.read(&mut buf).await {
            Ok(n) if n > 0 => n,
            _ => return,
        };
        if stopped.load(Ordering::SeqCst) || drop_next.swap(false, Ordering::SeqCst) {
            return; // closes the connection without an answer
        }
        let request = String::from_utf8_lossy(&buf[..n]);
        let body = if request.starts_with("GET /api/tags") {
            TAGS
        } else {
            r#"{"models":[]}"#
        };
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if sock.write_all(resp.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn start() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let drop_next = Arc::new(AtomicBool::new(false));
    let stopped = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(Notify::new());
    let (flag, dead, notified) = (drop_next.clone(), stopped.clone(), stop.clone());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((sock, _)) = accepted else { return };
                    tokio::spawn(serve(sock, flag.clone(), dead.clone()));
                }
                // Stop listening: new connections are refused from now on.
                _ = notified.notified() => return,
            }
        }
    });
    Server {
        url,
        drop_next,
        stopped,
        stop,
    }
}

#[tokio::test]
async fn stopped_server_is_unreachable_even_on_a_pooled_connection() {
    let server = start().await;
    let client = modelroute::reqwest::Client::new(); // a keep-alive pool, as most callers have
    let ollama = Ollama::new(server.url.as_str(), None).unwrap();
    let first = ollama.list_models(&client).await.expect("first listing");
    assert_eq!(first[0].id, "llama3:latest");
    // The server stops: its listener closes, and its kept-alive connections die at the next request.
    server.stopped.store(true, Ordering::SeqCst);
    server.stop.notify_one();
    tokio::task::yield_now().await;
    let err = ollama.list_models(&client).await.unwrap_err();
    assert!(err.is_unreachable(), "{err:?}");
    assert!(err.is_quiet());
}

#[tokio::test]
async fn an_idle_connection_closed_by_a_live_server_is_retried() {
    let server = start().await;
    let client = modelroute::reqwest::Client::new();
    let ollama = Ollama::new(server.url.as_str(), None).unwrap();
    ollama.list_models(&client).await.expect("first listing");
    server.drop_next.store(true, Ordering::SeqCst);
    let again = ollama
        .list_models(&client)
        .await
        .expect("retried on a new connection");
    assert_eq!(again[0].id, "llama3:latest");
}
