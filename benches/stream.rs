//! What the call adds to a streamed response, next to a bare `reqwest` read of the same stream, in the same run.
//!
//! A local server (axum on 127.0.0.1) streams 1,000 small `chat.completion.chunk` events (~130 bytes, one
//! HTTP chunk each) and `[DONE]`. Measured:
//! - first event: bare = send + the first body chunk; modelroute = `ChatCall::stream` (build the body, send,
//!   parse up to the first event);
//! - whole stream: bare = send + read every chunk; modelroute = `ChatCall::stream` + every `StreamEvent`
//!   (SSE parsing, the chunk peek for errors and usage, `[DONE]`).
//!
//! - the same through `Sender::send_stream` (a router with one deployment: the attempt plan, the route, the
//!   call, and the report of the outcome when the stream ends), next to `ChatCall::stream`.
//!
//! Criterion reports each; then an interleaved run (bare and modelroute alternating, 7 batches, medians of the
//! fastest batch) prints the added time to the first event and per event. Bars: 50 µs, 2 µs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use criterion::{Criterion, criterion_group};
use futures_util::StreamExt;
use modelroute::call::{ChatCall, Endpoint, Sender, Sleep};
use modelroute::router::RequestContext;
use modelroute::{Deployment, Router};
use serde_json::json;
use tokio::runtime::Runtime;

const EVENTS: usize = 1_000;

/// One thread runs the server and the client: no cross-thread wake-ups, so on a loaded machine the
/// difference between the two sides is the work each does, not how the OS schedules two threads.
fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Starts a server; returns its base URL. `chunked`: one HTTP chunk per event (as a token-by-token server
/// sends them); else the events in 16 KiB writes (the network's coalescing, which leaves the parsing cost alone).
fn start_server(rt: &Runtime, chunked: bool) -> String {
    let mut pieces: Vec<Bytes> = (0..EVENTS)
        .map(|i| {
            Bytes::from(format!(
                "data: {}\n\n",
                json!({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": "m",
                       "choices": [{"index": 0, "delta": {"content": format!("tok{i}")}}]})
            ))
        })
        .collect();
    pieces.push(Bytes::from_static(b"data: [DONE]\n\n"));
    if !chunked {
        let all: Vec<u8> = pieces.concat();
        pieces = all.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    }
    rt.block_on(async move {
        let app = axum::Router::new().fallback(move || {
            let pieces = pieces.clone();
            async move {
                let stream =
                    futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
                axum::response::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(stream))
                    .unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.ok() });
        format!("http://{addr}")
    })
}

struct Bench {
    client: reqwest::Client,
    url: String,
    call: ChatCall,
    body: serde_json::Value,
    router: Router,
    sender: Sender,
}

impl Bench {
    fn new(base: &str) -> Self {
        let d = Deployment::from_value(json!({"model_name": "g", "litellm_params": {
            "model": "openai/m", "api_base": format!("{base}/v1"), "api_key": "sk-bench"}}))
        .unwrap();
        let endpoint = Endpoint::resolve(d.litellm_params(), "openai/m", &|_: &str| None).unwrap();
        Bench {
            client: reqwest::Client::new(),
            url: format!("{base}/v1/chat/completions"),
            call: ChatCall::new(endpoint),
            body: json!({"model": "m", "messages": [{"role": "user", "content": "hello"}]}),
            router: Router::new([d]).unwrap(),
            sender: Sender::new(|d| -> Sleep { Box::pin(tokio::time::sleep(d)) }),
        }
    }

    fn bare_request(&self) -> reqwest::RequestBuilder {
        self.client
            .post(&self.url)
            .bearer_auth("sk-bench")
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .body(
                serde_json::to_vec(
                    &json!({"model": "m", "messages": [{"role": "user", "content": "hello"}],
                                           "stream": true}),
                )
                .unwrap(),
            )
    }

    async fn bare_first(&self) -> usize {
        let mut resp = self.bare_request().send().await.unwrap();
        resp.chunk().await.unwrap().map_or(0, |c| c.len())
    }

    async fn bare_all(&self) -> usize {
        let mut resp = self.bare_request().send().await.unwrap();
        let mut n = 0;
        while let Some(c) = resp.chunk().await.unwrap() {
            n += c.len();
        }
        n
    }

    async fn lib_first(&self) -> usize {
        let mut s = self.call.stream(&self.client, &self.body).await.unwrap();
        s.next().await.unwrap().unwrap().data().len()
    }

    async fn send_first(&self) -> usize {
        let ctx = RequestContext::new();
        let mut s = (self.sender)
            .send_stream(&self.client, &self.router, "g", &ctx, &self.body)
            .await
            .unwrap();
        s.next().await.unwrap().unwrap().data().len()
    }

    async fn send_all(&self) -> usize {
        let ctx = RequestContext::new();
        let mut s = (self.sender)
            .send_stream(&self.client, &self.router, "g", &ctx, &self.body)
            .await
            .unwrap();
        let mut n = 0;
        while let Some(e) = s.next().await {
            n += e.unwrap().data().len();
        }
        assert!(s.is_reported());
        n
    }

    async fn lib_all(&self) -> usize {
        let mut s = self.call.stream(&self.client, &self.body).await.unwrap();
        let mut n = 0;
        while let Some(e) = s.next().await {
            n += e.unwrap().data().len();
        }
        assert!(s.is_done());
        n
    }
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    for (name, chunked) in [("chunked", true), ("coalesced", false)] {
        let base = start_server(&rt, chunked);
        run(c, &rt, &Bench::new(&base), name);
    }
}

fn run(c: &mut Criterion, rt: &Runtime, b: &Bench, name: &str) {
    // The stream is what the bench says it is.
    let events = rt.block_on(async {
        let mut s = b.call.stream(&b.client, &b.body).await.unwrap();
        let mut n = 0;
        while let Some(e) = s.next().await {
            e.unwrap();
            n += 1;
        }
        n
    });
    assert_eq!(events, EVENTS);

    let mut g = c.benchmark_group(format!("stream_{name}"));
    g.bench_function("1000_events/bare_reqwest", |x| {
        x.iter(|| black_box(rt.block_on(b.bare_all())))
    });
    g.bench_function("1000_events/modelroute", |x| {
        x.iter(|| black_box(rt.block_on(b.lib_all())))
    });
    // After the whole streams: a stream dropped after its first event leaves the server writing into a
    // closed connection for a moment, on the same thread.
    g.bench_function("first_event/bare_reqwest", |x| {
        x.iter(|| black_box(rt.block_on(b.bare_first())))
    });
    g.bench_function("first_event/modelroute", |x| {
        x.iter(|| black_box(rt.block_on(b.lib_first())))
    });
    g.bench_function("first_event/sender", |x| {
        x.iter(|| black_box(rt.block_on(b.send_first())))
    });
    g.finish();

    // Interleaved, each side after its own complete read (so both reuse a pooled connection): the machine's
    // load hits both alike.
    let mut best: Option<[Duration; 6]> = None;
    for _batch in 0..7 {
        let mut samples: [Vec<Duration>; 6] = Default::default();
        for _ in 0..60 {
            let t = Instant::now();
            black_box(rt.block_on(b.bare_all()));
            samples[2].push(t.elapsed());
            let t = Instant::now();
            black_box(rt.block_on(b.bare_first()));
            samples[0].push(t.elapsed());
            let t = Instant::now();
            black_box(rt.block_on(b.lib_all()));
            samples[3].push(t.elapsed());
            let t = Instant::now();
            black_box(rt.block_on(b.lib_first()));
            samples[1].push(t.elapsed());
            let t = Instant::now();
            black_box(rt.block_on(b.send_all()));
            samples[5].push(t.elapsed());
            let t = Instant::now();
            black_box(rt.block_on(b.send_first()));
            samples[4].push(t.elapsed());
        }
        let medians = samples.map(|mut v| {
            v.sort();
            v[v.len() / 2]
        });
        if best.is_none_or(|b| medians[2] + medians[3] < b[2] + b[3]) {
            best = Some(medians);
        }
    }
    let [
        bare_first,
        lib_first,
        bare_all,
        lib_all,
        send_first,
        send_all,
    ] = best.unwrap();
    let added_first = lib_first.saturating_sub(bare_first);
    let added_all = lib_all.saturating_sub(bare_all);
    let per_event = added_all.saturating_sub(added_first) / EVENTS as u32;
    println!(
        "\n== stream ({name}): what modelroute adds over bare reqwest (medians of the quietest of 7 batches of 60) =="
    );
    println!(
        "first event     bare {bare_first:>10.2?}  modelroute {lib_first:>10.2?}  added {added_first:>9.2?}  (bar 50 µs)"
    );
    println!(
        "1,000 events    bare {bare_all:>10.2?}  modelroute {lib_all:>10.2?}  added {added_all:>9.2?}"
    );
    println!("per event added {per_event:>9.2?}  (bar 2 µs)");
    println!(
        "Sender::send_stream over ChatCall::stream: first event {send_first:>10.2?} (+{:.2?}), 1,000 events \
         {send_all:>10.2?} (+{:.2?})",
        send_first.saturating_sub(lib_first),
        send_all.saturating_sub(lib_all)
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
