//! Streams as OpenAI-compatible servers send them (real HTTP server on 127.0.0.1): events in order up to
//! `[DONE]` whatever the network chunking, usage from the last chunk, the time to the first event, and tool-call
//! deltas passed through and assembled.
#![cfg(feature = "openai")]

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use modelroute::Deployment;
use modelroute::call::{ChatCall, ChatStream, Endpoint, ToolCallAssembler};
use serde_json::{Value, json};
use support::http::{Piece, TestServer, chunk, sse_response, streamed_response, tokio_timer};

const BOUND: Duration = Duration::from_secs(30);

fn call_to(server: &TestServer) -> ChatCall {
    let d = Deployment::from_value(json!({"model_name": "g", "litellm_params": {
        "model": "hosted_vllm/qwen", "api_base": format!("{}/v1", server.url()), "temperature": 0.1}}))
    .unwrap();
    ChatCall::new(
        Endpoint::resolve(d.litellm_params(), "hosted_vllm/qwen", &|_: &str| None).unwrap(),
    )
}

async fn collect(mut s: ChatStream) -> (Vec<Value>, ChatStream) {
    let mut out = Vec::new();
    while let Some(e) = tokio::time::timeout(BOUND, s.next())
        .await
        .expect("bounded")
    {
        out.push(e.expect("no error").json().unwrap());
    }
    (out, s)
}

fn usage_chunk() -> String {
    json!({"id": "c", "object": "chat.completion.chunk", "choices": [],
           "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}})
    .to_string()
}

#[tokio::test]
async fn a_stream_yields_its_chunks_in_order_until_done_and_reports_usage_and_first_event_time() {
    let server = TestServer::start(|_req| async {
        sse_response([
            chunk("hel"),
            chunk("lo"),
            usage_chunk(),
            "[DONE]".to_string(),
            chunk("after done"),
        ])
    })
    .await;
    let client = reqwest::Client::new();
    let body = json!({"model": "public-name", "messages": [{"role": "user", "content": "hi"}]});
    let s = call_to(&server).stream(&client, &body).await.unwrap();
    let ttft = s.time_to_first_event();
    let (events, s) = collect(s).await;
    let text: String = events
        .iter()
        .map(|e| e["choices"][0]["delta"]["content"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(text, "hello");
    // The usage chunk was asked for by the call, not by the caller: read, not yielded.
    assert_eq!(events.len(), 2);
    let usage = s.usage().unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (9, 2, 11)
    );
    assert!(s.is_done());
    assert!(ttft > Duration::ZERO);
    assert_eq!(s.status(), 200);
    let sent = server.single_request();
    assert_eq!(sent.header("accept"), Some("text/event-stream"));
    assert_eq!(
        sent.json(),
        json!({"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.1,
               "stream": true, "stream_options": {"include_usage": true}})
    );
}

#[tokio::test]
async fn a_caller_that_asks_for_usage_gets_the_usage_chunk() {
    let server = TestServer::start(|_req| async {
        sse_response([chunk("a"), usage_chunk(), "[DONE]".into()])
    })
    .await;
    let client = reqwest::Client::new();
    let body = json!({"messages": [], "stream_options": {"include_usage": true}});
    let (events, s) = collect(call_to(&server).stream(&client, &body).await.unwrap()).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["usage"]["total_tokens"], 11);
    assert_eq!(s.usage().unwrap().total_tokens, 11);
    assert_eq!(
        server.single_request().json()["stream_options"],
        json!({"include_usage": true})
    );
}

#[tokio::test]
async fn events_are_the_same_however_the_network_splits_them() {
    let text = format!(
        ": keep-alive comment\r\n\r\ndata: {}\r\n\r\nid: 7\nretry: 100\n\ndata: {}\n\ndata: {}\r\n\r\ndata: [DONE]\n\n",
        chunk("né"),
        chunk("😀 multi-byte"),
        chunk("end"),
    );
    let want: Vec<&str> = vec!["né", "😀 multi-byte", "end"];
    for split in [1, 2, 3, 7, 64, text.len()] {
        let t = text.clone();
        let server = TestServer::start(move |_req| {
            let t = t.clone();
            async move {
                let pieces = t
                    .as_bytes()
                    .chunks(split)
                    .map(|c| Piece::Bytes(c.to_vec()))
                    .collect();
                streamed_response(pieces)
            }
        })
        .await;
        let client = reqwest::Client::new();
        let (events, s) = collect(
            call_to(&server)
                .stream(&client, &json!({"messages": []}))
                .await
                .unwrap(),
        )
        .await;
        let got: Vec<&str> = events
            .iter()
            .map(|e| e["choices"][0]["delta"]["content"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "split {split}");
        assert!(s.is_done());
    }
}

#[tokio::test]
async fn tool_call_deltas_pass_through_untouched_and_assemble_into_whole_calls() {
    let deltas = [
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]}}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"get_time","arguments":"{}"}}]}}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}"#,
        r#"{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
    ];
    let server = TestServer::start(move |_req| async move {
        let mut items: Vec<String> = deltas.iter().map(|s| s.to_string()).collect();
        items.push("[DONE]".into());
        sse_response(items)
    })
    .await;
    let client = reqwest::Client::new();
    let body = json!({"messages": [], "tools": [{"type": "function", "function": {"name": "get_weather"}}]});
    let mut s = call_to(&server).stream(&client, &body).await.unwrap();
    let mut tools = ToolCallAssembler::new();
    let mut passed = Vec::new();
    while let Some(e) = tokio::time::timeout(BOUND, s.next()).await.unwrap() {
        let e = e.unwrap();
        tools.push(&e).unwrap();
        passed.push(e.into_data());
    }
    assert_eq!(
        passed, deltas,
        "every delta is passed through byte for byte"
    );
    let calls = tools.finish();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].id.as_deref(), calls[0].name.as_str()),
        (Some("call_1"), "get_weather")
    );
    assert_eq!(calls[0].arguments_json().unwrap(), json!({"city": "Paris"}));
    assert_eq!(
        (
            calls[1].id.as_deref(),
            calls[1].name.as_str(),
            calls[1].arguments.as_str()
        ),
        (Some("call_2"), "get_time", "{}")
    );
    assert_eq!(server.single_request().json()["tools"], body["tools"]);
}

#[tokio::test]
async fn a_stream_that_is_done_at_once_is_an_empty_stream() {
    let server = TestServer::start(|_req| async { sse_response(["[DONE]"]) }).await;
    let client = reqwest::Client::new();
    let (events, s) = collect(
        call_to(&server)
            .stream(&client, &json!({"messages": []}))
            .await
            .unwrap(),
    )
    .await;
    assert!(events.is_empty());
    assert!(s.is_done());
}

#[tokio::test]
async fn a_finished_stream_gives_its_connection_back_to_the_client_pool() {
    // The terminator of the chunked body comes a moment after [DONE]: the stream waits for it.
    let server = TestServer::start(|_req| async {
        streamed_response(vec![
            Piece::Data(chunk("a")),
            Piece::Data("[DONE]".into()),
            Piece::Wait(Duration::from_millis(50)),
        ])
    })
    .await;
    let client = reqwest::Client::new();
    let call = call_to(&server);
    for _ in 0..3 {
        let (events, s) = collect(
            call.stream(&client, &json!({"messages": []}))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(events.len(), 1);
        assert!(s.is_done());
    }
    let peers: Vec<_> = server.requests().iter().map(|r| r.peer.unwrap()).collect();
    assert_eq!(peers.len(), 3);
    assert!(
        peers.iter().all(|p| *p == peers[0]),
        "one connection for all: {peers:?}"
    );
}

#[tokio::test]
async fn a_server_that_keeps_the_stream_open_after_done_ends_it_at_the_stream_timeout() {
    let server = TestServer::start(|_req| async {
        streamed_response(vec![
            Piece::Data(chunk("a")),
            Piece::Data("[DONE]".into()),
            Piece::Data(chunk("ignored after done")),
            Piece::Wait(Duration::from_secs(3600)),
        ])
    })
    .await;
    let d = Deployment::from_value(json!({"model_name": "g", "litellm_params": {
        "model": "openai/m", "api_base": server.url(), "stream_timeout": 0.3}}))
    .unwrap();
    let call =
        ChatCall::new(Endpoint::resolve(d.litellm_params(), "openai/m", &|_: &str| None).unwrap())
            .with_timer(tokio_timer());
    let client = reqwest::Client::new();
    let (events, s) = collect(
        call.stream(&client, &json!({"messages": []}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        events.len(),
        1,
        "the answer is complete: no error, nothing after [DONE]"
    );
    assert!(s.is_done());
}
