//! `Sender::send` / `send_stream` against real HTTP servers on 127.0.0.1 that fail on purpose: a 500 then
//! a success, a 429 with `Retry-After`, a context-window error body, a content-policy error body, a hang past
//! the timeout, a refused connection, a stream cut after its first event. The waits the plan asks for go
//! through a recording timer that returns at once (so no test sleeps for a backoff or a cooldown), and the
//! router's random source is fixed so the failing deployment is picked first.
#![cfg(feature = "openai")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use modelroute::attempt::AttemptResult;
use modelroute::call::{Sender, Sleep};
use modelroute::config::RouterConfig;
use modelroute::router::{FailureKind, RandomSource, RequestContext};
use modelroute::{DeploymentId, Router};
use serde_json::{Value, json};
use support::http::{
    Piece, Recorded, TestServer, chunk, completion, hang, json_response, sse_response,
    streamed_response, tokio_timer, with_header,
};

/// Every test's bound.
const BOUND: Duration = Duration::from_secs(30);

/// The first choice every time: simple-shuffle picks the first deployment listed.
#[derive(Debug)]
struct Zero;
impl RandomSource for Zero {
    fn next_u64(&self) -> u64 {
        0
    }
}

/// A router from a LiteLLM config (model_list + router_settings), with the random source fixed.
fn router(config: Value) -> Router {
    let config = RouterConfig::from_json(&config.to_string()).expect("a valid config");
    Router::builder()
        .config(config)
        .rng(Arc::new(Zero))
        .build()
        .expect("a valid router")
}

/// A deployment of `group` served by `server`, with this id and extra `litellm_params`.
fn deployment(group: &str, id: &str, server: &str, extra: Value) -> Value {
    let mut params =
        json!({"model": "openai/gpt-4o", "api_base": format!("{server}/v1"), "api_key": "sk-test"});
    if let (Some(params), Some(extra)) = (params.as_object_mut(), extra.as_object()) {
        params.extend(extra.clone());
    }
    json!({"model_name": group, "litellm_params": params, "model_info": {"id": id}})
}

/// A sender whose waits between attempts are recorded and return at once; calls get a real tokio timer for
/// stream timeouts.
fn sender() -> (Sender, Arc<Mutex<Vec<Duration>>>) {
    let waits = Arc::new(Mutex::new(Vec::new()));
    let seen = waits.clone();
    let sender = Sender::new(move |d: Duration| -> Sleep {
        seen.lock().unwrap().push(d);
        Box::pin(std::future::ready(()))
    })
    .configure(|call| call.with_timer(tokio_timer()));
    (sender, waits)
}

fn body() -> Value {
    json!({"model": "whatever", "messages": [{"role": "user", "content": "hi"}]})
}

fn ctx() -> RequestContext<'static> {
    RequestContext::new()
}

fn id(s: &str) -> DeploymentId {
    DeploymentId::from(s)
}

/// A server answering the n-th request (0-based) with `answers(n)`.
async fn server_by_count<F>(answers: F) -> TestServer
where
    F: Fn(usize) -> axum::response::Response + Clone + Send + Sync + 'static,
{
    let count = Arc::new(Mutex::new(0usize));
    TestServer::start(move |_req: Recorded| {
        let answers = answers.clone();
        let count = count.clone();
        async move {
            let n = {
                let mut c = count.lock().unwrap();
                *c += 1;
                *c - 1
            };
            answers(n)
        }
    })
    .await
}

async fn ok_server(content: &'static str) -> TestServer {
    TestServer::start(move |req: Recorded| async move {
        if req.json()["stream"] == json!(true) {
            let usage = json!({"id": "c", "object": "chat.completion.chunk", "choices": [],
                               "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}});
            sse_response([chunk(content), usage.to_string(), "[DONE]".to_string()])
        } else {
            json_response(200, completion(content))
        }
    })
    .await
}

fn failures(attempts: &[modelroute::attempt::Attempt]) -> Vec<Option<FailureKind>> {
    attempts.iter().map(|a| a.failure()).collect()
}

#[tokio::test]
async fn a_500_is_retried_after_the_plans_backoff_and_the_second_answer_is_returned() {
    let server = server_by_count(|n| match n {
        0 => json_response(500, json!({"error": {"message": "boom"}})),
        _ => json_response(200, completion("second time lucky")),
    })
    .await;
    let router = router(json!({"model_list": [deployment("g", "only", &server.url(), json!({}))]}));
    let (sender, waits) = sender();
    let client = reqwest::Client::new();

    let sent = tokio::time::timeout(BOUND, sender.send(&client, &router, "g", &ctx(), &body()))
        .await
        .unwrap()
        .expect("the retry answers");

    assert_eq!(
        sent.completion().body["choices"][0]["message"]["content"],
        "second time lucky"
    );
    assert_eq!(sent.deployment().id(), &id("only"));
    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::InternalServer), None]
    );
    assert!(sent.attempts()[1].is_success());
    assert_eq!(server.requests().len(), 2);
    // A lone deployment: LiteLLM's exponential backoff, 0.5 s for the first retry (no jitter from this rng).
    assert_eq!(*waits.lock().unwrap(), [Duration::from_millis(500)]);
    let health = router.health(&id("only")).unwrap();
    assert_eq!((health.successes, health.failures), (1, 1));
}

#[tokio::test]
async fn a_429_waits_the_servers_retry_after_before_trying_again() {
    let server = server_by_count(|n| match n {
        0 => with_header(
            json_response(429, json!({"error": {"message": "slow down"}})),
            "retry-after",
            "7",
        ),
        _ => json_response(200, completion("ok")),
    })
    .await;
    let router = router(json!({"model_list": [deployment("g", "only", &server.url(), json!({}))]}));
    let (sender, waits) = sender();
    let client = reqwest::Client::new();

    let sent = tokio::time::timeout(BOUND, sender.send(&client, &router, "g", &ctx(), &body()))
        .await
        .unwrap()
        .expect("the retry answers");

    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::RateLimit), None]
    );
    match sent.attempts()[0].result() {
        AttemptResult::Failed(f) => assert_eq!(f.retry_after, Some(Duration::from_secs(7))),
        other => panic!("expected a failure, got {other:?}"),
    }
    assert_eq!(*waits.lock().unwrap(), [Duration::from_secs(7)]);
}

/// Three groups: `small` fails with `error_body`, `special` and `general` answer. `small` has both a
/// special fallback list (`list`) and a general one.
async fn fallback_case(
    list: &str,
    status: u16,
    error_body: Value,
) -> (modelroute::call::Sent, [TestServer; 3]) {
    let small = TestServer::start(move |_r: Recorded| {
        let error_body = error_body.clone();
        async move { json_response(status, error_body) }
    })
    .await;
    let special = ok_server("from the special fallback").await;
    let general = ok_server("from the general fallback").await;
    let router = router(json!({
        "model_list": [
            deployment("small", "small-1", &small.url(), json!({})),
            deployment("special", "special-1", &special.url(), json!({})),
            deployment("general", "general-1", &general.url(), json!({})),
        ],
        "router_settings": {list: [{"small": ["special"]}], "fallbacks": [{"small": ["general"]}]}
    }));
    let (sender, waits) = sender();
    let client = reqwest::Client::new();
    let sent = tokio::time::timeout(
        BOUND,
        sender.send(&client, &router, "small", &ctx(), &body()),
    )
    .await
    .unwrap()
    .expect("the fallback answers");
    assert!(
        waits.lock().unwrap().is_empty(),
        "a fallback is taken at once"
    );
    (sent, [small, special, general])
}

#[tokio::test]
async fn a_context_window_error_body_takes_the_context_window_fallbacks_not_the_general_ones() {
    let body = json!({"error": {"message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
                                "type": "invalid_request_error", "code": "context_length_exceeded"}});
    let (sent, [small, special, general]) =
        fallback_case("context_window_fallbacks", 400, body).await;

    assert_eq!(sent.group(), "special");
    assert_eq!(
        sent.completion().body["choices"][0]["message"]["content"],
        "from the special fallback"
    );
    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::ContextWindowExceeded), None]
    );
    assert_eq!(
        small.requests().len(),
        1,
        "not retried: the request is too long anywhere in the group"
    );
    assert_eq!(special.requests().len(), 1);
    assert!(general.requests().is_empty());
}

#[tokio::test]
async fn a_content_policy_error_body_takes_the_content_policy_fallbacks_not_the_general_ones() {
    let body = json!({"error": {"message": "Your request was rejected as a result of the safety system.",
                                "type": "invalid_request_error", "code": "content_policy_violation"}});
    let (sent, [small, special, general]) =
        fallback_case("content_policy_fallbacks", 400, body).await;

    assert_eq!(sent.group(), "special");
    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::ContentPolicyViolation), None]
    );
    assert_eq!(small.requests().len(), 1);
    assert_eq!(special.requests().len(), 1);
    assert!(general.requests().is_empty());
}

#[tokio::test]
async fn a_deployment_that_hangs_past_its_timeout_is_left_for_another_of_its_group() {
    let hanging = TestServer::start(|_r: Recorded| hang()).await;
    let fine = ok_server("from the other one").await;
    let router = router(json!({"model_list": [
        deployment("g", "hangs", &hanging.url(), json!({"timeout": 0.3})),
        deployment("g", "fine", &fine.url(), json!({})),
    ]}));
    let (sender, waits) = sender();
    let client = reqwest::Client::new();

    let sent = tokio::time::timeout(BOUND, sender.send(&client, &router, "g", &ctx(), &body()))
        .await
        .unwrap()
        .expect("the other deployment answers");

    assert_eq!(sent.deployment().id(), &id("fine"));
    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::Timeout), None]
    );
    assert_eq!(sent.attempts()[0].deployment(), Some(&id("hangs")));
    assert!(
        waits.lock().unwrap().is_empty(),
        "another deployment is healthy: no wait"
    );
    assert_eq!(hanging.requests().len(), 1);
}

#[tokio::test]
async fn a_stream_that_hangs_before_its_first_event_is_retried_on_another_deployment() {
    // Headers at once, then nothing: only the stream timeout (the call's timer) ends the wait.
    let hanging = TestServer::start(|_r: Recorded| async {
        streamed_response(vec![Piece::Wait(Duration::from_secs(3600))])
    })
    .await;
    let fine = ok_server("streamed by the other one").await;
    let router = router(json!({"model_list": [
        deployment("g", "hangs", &hanging.url(), json!({"stream_timeout": 0.3})),
        deployment("g", "fine", &fine.url(), json!({})),
    ]}));
    let (sender, _waits) = sender();
    let client = reqwest::Client::new();

    let mut stream = tokio::time::timeout(
        BOUND,
        sender.send_stream(&client, &router, "g", &ctx(), &body()),
    )
    .await
    .unwrap()
    .expect("the other deployment streams");
    assert_eq!(stream.deployment().id(), &id("fine"));
    assert_eq!(failures(stream.attempts()), [Some(FailureKind::Timeout)]);
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        first.json().unwrap()["choices"][0]["delta"]["content"],
        "streamed by the other one"
    );
    assert!(
        tokio::time::timeout(BOUND, stream.next())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_stream_cut_after_its_first_event_ends_with_an_error_is_reported_and_is_not_retried() {
    // The cut comes once the test has read the first event (so it cannot overtake it on the wire).
    let go = Arc::new(tokio::sync::Notify::new());
    let release = go.clone();
    let cut = TestServer::start(move |_r: Recorded| {
        let go = go.clone();
        async move {
            streamed_response(vec![
                Piece::Data(chunk("half an ans")),
                Piece::WaitFor(go),
                Piece::Cut,
            ])
        }
    })
    .await;
    let fine = ok_server("never asked").await;
    let router = router(json!({"model_list": [
        deployment("g", "cut", &cut.url(), json!({})),
        deployment("g", "fine", &fine.url(), json!({})),
    ]}));
    let (sender, _waits) = sender();
    let client = reqwest::Client::new();

    let mut stream = tokio::time::timeout(
        BOUND,
        sender.send_stream(&client, &router, "g", &ctx(), &body()),
    )
    .await
    .unwrap()
    .expect("the first event arrives");
    assert_eq!(
        stream.deployment().id(),
        &id("cut"),
        "{:?}",
        stream.attempts()
    );
    assert!(
        stream.attempts().is_empty(),
        "answered at the first attempt"
    );

    let first = stream.next().await.unwrap().unwrap();
    assert!(first.data().contains("half an ans"));
    assert!(!stream.is_reported());
    release.notify_one();
    let error = tokio::time::timeout(BOUND, stream.next())
        .await
        .unwrap()
        .expect("an error item")
        .expect_err("the cut is an error");
    assert!(!error.is_before_first_event());
    assert!(
        stream.next().await.is_none(),
        "the stream ends after its error"
    );

    assert!(stream.is_reported());
    assert_eq!(failures(stream.attempts()), [Some(FailureKind::Connection)]);
    assert_eq!(router.health(&id("cut")).unwrap().failures, 1);
    assert!(
        fine.requests().is_empty(),
        "nothing is retried after the first event"
    );
}

#[tokio::test]
async fn a_stream_that_fails_before_its_first_event_is_retried_and_its_success_reports_ttft_and_usage()
 {
    let failing = TestServer::start(|_r: Recorded| async {
        json_response(503, json!({"error": {"message": "overloaded"}}))
    })
    .await;
    let fine = ok_server("hello").await;
    let router = router(json!({"model_list": [
        deployment("g", "failing", &failing.url(), json!({})),
        deployment("g", "fine", &fine.url(), json!({})),
    ]}));
    let (sender, _waits) = sender();
    let client = reqwest::Client::new();

    let mut stream = tokio::time::timeout(
        BOUND,
        sender.send_stream(&client, &router, "g", &ctx(), &body()),
    )
    .await
    .unwrap()
    .expect("the other deployment streams");
    let mut content = String::new();
    while let Some(event) = tokio::time::timeout(BOUND, stream.next()).await.unwrap() {
        content.push_str(
            event.unwrap().json().unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or(""),
        );
    }
    assert_eq!(content, "hello");
    assert!(stream.is_reported());
    assert_eq!(
        failures(stream.attempts()),
        [Some(FailureKind::ServiceUnavailable), None]
    );
    assert_eq!(stream.usage().map(|u| u.total_tokens), Some(11));
    let health = router.health(&id("fine")).unwrap();
    assert_eq!(health.successes, 1);
    assert!(health.time_to_first_token.is_some(), "{health:?}");
    // The stream asked for usage on the caller's behalf (stream_options.include_usage).
    assert_eq!(
        fine.single_request().json()["stream_options"],
        json!({"include_usage": true})
    );
}

#[tokio::test]
async fn when_every_attempt_fails_the_error_lists_them_and_keeps_the_upstream_status_and_message() {
    let server = TestServer::start(|_r: Recorded| async {
        json_response(
            503,
            json!({"error": {"message": "the model is overloaded, key sk-test"}}),
        )
    })
    .await;
    let router = router(json!({
        "model_list": [deployment("g", "only", &server.url(), json!({}))],
        "router_settings": {"num_retries": 1}
    }));
    let (sender, waits) = sender();
    let client = reqwest::Client::new();

    let error = tokio::time::timeout(BOUND, sender.send(&client, &router, "g", &ctx(), &body()))
        .await
        .unwrap()
        .expect_err("nothing answers");

    assert_eq!(error.attempts().len(), 2);
    assert!(
        error
            .attempts()
            .iter()
            .all(|a| a.deployment() == Some(&id("only")))
    );
    assert_eq!(error.status(), 503);
    assert_eq!(error.call_error().and_then(|e| e.status()), Some(503));
    // The upstream's message, with the deployment's key scrubbed; no upstream URL.
    assert_eq!(error.public_message(), "the model is overloaded, key ***");
    assert!(!error.public_message().contains("127.0.0.1"));
    assert_eq!(*waits.lock().unwrap(), [Duration::from_millis(500)]);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_is_refused_before_anything_is_sent() {
    let server = ok_server("unused").await;
    let router = router(json!({"model_list": [deployment("g", "only", &server.url(), json!({}))]}));
    let (sender, _waits) = sender();
    let client = reqwest::Client::new();

    for bad in ["[1, 2]", "{not json"] {
        let error = sender
            .send(&client, &router, "g", &ctx(), bad)
            .await
            .unwrap_err();
        assert!(error.is_invalid_body(), "{error}");
        assert_eq!(error.status(), 400);
    }
    assert!(server.requests().is_empty());
    assert_eq!(router.health(&id("only")).unwrap().failures, 0);
}

#[tokio::test]
async fn a_refused_connection_is_tried_elsewhere_and_cools_nothing_down() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    }; // dropped: nothing listens there now
    let fine = ok_server("from the live one").await;
    let router = router(json!({"model_list": [
        deployment("g", "closed", &closed, json!({})),
        deployment("g", "fine", &fine.url(), json!({})),
    ]}));
    let (sender, _waits) = sender();
    let client = reqwest::Client::new();

    let sent = tokio::time::timeout(BOUND, sender.send(&client, &router, "g", &ctx(), &body()))
        .await
        .unwrap()
        .expect("the live deployment answers");
    assert_eq!(sent.deployment().id(), &id("fine"));
    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::Connection), None]
    );
    let health = router.health(&id("closed")).unwrap();
    assert_eq!(health.failures, 1);
    assert!(
        !health.is_cooling_down(),
        "LiteLLM never cools down for a connection error"
    );
}

#[tokio::test]
async fn a_deployment_of_a_provider_modelroute_does_not_call_is_skipped_for_another() {
    let fine = ok_server("from openai/").await;
    let router = router(json!({"model_list": [
        {"model_name": "g", "litellm_params": {"model": "bedrock/anthropic.claude-3"}, "model_info": {"id": "bedrock"}},
        deployment("g", "fine", &fine.url(), json!({})),
    ]}));
    let (sender, _waits) = sender();
    let client = reqwest::Client::new();

    let sent = tokio::time::timeout(BOUND, sender.send(&client, &router, "g", &ctx(), &body()))
        .await
        .unwrap()
        .expect("the openai/ deployment answers");
    assert_eq!(sent.deployment().id(), &id("fine"));
    assert_eq!(failures(sent.attempts()), [Some(FailureKind::Other), None]);
    assert_eq!(sent.attempts()[0].deployment(), Some(&id("bedrock")));
}

#[tokio::test]
async fn a_model_name_over_the_routers_limit_is_a_400_and_reaches_no_deployment() {
    let server = ok_server("unused").await;
    let router = router(json!({"model_list": [deployment("g", "only", &server.url(), json!({}))]}));
    let (sender, _waits) = sender();
    let client = reqwest::Client::new();
    let name = "g".repeat(2_000);

    let error = sender
        .send(&client, &router, &name, &ctx(), &body())
        .await
        .unwrap_err();
    assert_eq!(error.status(), 400);
    let route_error = error.attempt_error().and_then(|e| e.route_error());
    assert!(route_error.is_some_and(|e| e.is_name_too_long()), "{error}");
    assert!(server.requests().is_empty());
}
