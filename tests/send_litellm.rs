//! `Sender::send` / `send_stream` with a real LiteLLM 1.109.1 proxy as the upstream (`litellm_proxy/`
//! deployments of `tests/litellm/config_send.yaml`, answered by `mock_response`), including its own failures:
//! `litellm.RateLimitError` (429) and `litellm.ContextWindowExceededError` (400), classified from what the
//! proxy really sends.
#![cfg(feature = "openai")]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use modelroute::call::{Sender, Sleep};
use modelroute::config::RouterConfig;
use modelroute::router::{FailureKind, RandomSource, RequestContext};
use modelroute::{DeploymentId, Router};
use serde_json::{Value, json};
use support::http::tokio_timer;
use support::litellm::{LiteLlmProxy, ProxyConfig, litellm_dir};

const BOUND: Duration = Duration::from_secs(60);

/// Simple-shuffle picks the first deployment listed.
#[derive(Debug)]
struct Zero;
impl RandomSource for Zero {
    fn next_u64(&self) -> u64 {
        0
    }
}

fn deployment(group: &str, id: &str, proxy: &LiteLlmProxy, model: &str) -> Value {
    json!({"model_name": group, "model_info": {"id": id}, "litellm_params": {
        "model": format!("litellm_proxy/{model}"), "api_base": proxy.base_url(), "api_key": LiteLlmProxy::MASTER_KEY}})
}

fn hello() -> Value {
    json!({"model": "ignored", "messages": [{"role": "user", "content": "hi"}]})
}

fn failures(attempts: &[modelroute::attempt::Attempt]) -> Vec<Option<FailureKind>> {
    attempts.iter().map(|a| a.failure()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_retries_a_real_proxys_429_elsewhere_and_takes_the_context_window_fallback_for_its_400()
 {
    let proxy = tokio::task::spawn_blocking(|| {
        LiteLlmProxy::start(ProxyConfig::File(litellm_dir().join("config_send.yaml")))
    })
    .await
    .expect("the proxy starts");
    let config = json!({
        "model_list": [
            deployment("chat", "limited", &proxy, "rate-limited"),
            deployment("chat", "fine", &proxy, "gpt-4o"),
            deployment("long", "too-long", &proxy, "too-long"),
            deployment("big", "big", &proxy, "gpt-4o"),
            deployment("tools", "tools", &proxy, "tools"),
            deployment("only-limited", "only-limited", &proxy, "rate-limited"),
        ],
        "router_settings": {"context_window_fallbacks": [{"long": ["big"]}], "fallbacks": [{"long": ["chat"]}]}
    });
    let router = Router::builder()
        .config(RouterConfig::from_json(&config.to_string()).unwrap())
        .rng(Arc::new(Zero))
        .build()
        .unwrap();
    let waits = Arc::new(Mutex::new(Vec::new()));
    let seen = waits.clone();
    let sender = Sender::new(move |d: Duration| -> Sleep {
        seen.lock().unwrap().push(d);
        Box::pin(std::future::ready(()))
    })
    .configure(|call| call.with_timer(tokio_timer()));
    let client = reqwest::Client::new();
    let ctx = RequestContext::new();
    let id = |s: &str| DeploymentId::from(s);

    // A 429 from the proxy: LiteLLM cools a deployment with a sibling down at once, and the retry goes to
    // the sibling without waiting.
    let sent = tokio::time::timeout(BOUND, sender.send(&client, &router, "chat", &ctx, &hello()))
        .await
        .unwrap()
        .expect("the sibling answers");
    assert_eq!(
        sent.completion().body["choices"][0]["message"]["content"],
        "Hello from gpt-4o (mock)"
    );
    assert_eq!(sent.deployment().id(), &id("fine"));
    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::RateLimit), None]
    );
    assert!(router.health(&id("limited")).unwrap().is_cooling_down());
    assert!(waits.lock().unwrap().is_empty());
    let usage = sent.completion().usage.expect("LiteLLM reports usage");
    assert!(usage.total_tokens > 0);

    // Streamed: the cooled-down deployment is not even tried; the success reports its time to first event.
    let mut stream = tokio::time::timeout(
        BOUND,
        sender.send_stream(&client, &router, "chat", &ctx, &hello()),
    )
    .await
    .unwrap()
    .expect("the stream starts");
    assert_eq!(stream.deployment().id(), &id("fine"));
    assert!(stream.attempts().is_empty());
    let mut content = String::new();
    while let Some(event) = tokio::time::timeout(BOUND, stream.next()).await.unwrap() {
        let chunk = event.expect("no error mid-stream").json().unwrap();
        content.push_str(
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or(""),
        );
    }
    assert_eq!(content, "Hello from gpt-4o (mock)");
    assert!(stream.is_done() && stream.is_reported());
    assert!(stream.usage().is_some_and(|u| u.total_tokens > 0));
    let health = router.health(&id("fine")).unwrap();
    assert_eq!(health.successes, 2);
    assert!(health.time_to_first_token.is_some(), "{health:?}");

    // The proxy's ContextWindowExceededError (400) takes context_window_fallbacks, not fallbacks.
    let sent = tokio::time::timeout(BOUND, sender.send(&client, &router, "long", &ctx, &hello()))
        .await
        .unwrap()
        .expect("the context-window fallback answers");
    assert_eq!(sent.group(), "big");
    assert_eq!(
        failures(sent.attempts()),
        [Some(FailureKind::ContextWindowExceeded), None]
    );

    // A tool call passes through.
    let sent = tokio::time::timeout(
        BOUND,
        sender.send(&client, &router, "tools", &ctx, &hello()),
    )
    .await
    .unwrap()
    .expect("the tool call answers");
    let call = &sent.completion().body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], r#"{"city":"Paris"}"#);

    // Nothing else to try: the proxy's status and message, the key scrubbed, no URL.
    let error = tokio::time::timeout(
        BOUND,
        sender.send(&client, &router, "only-limited", &ctx, &hello()),
    )
    .await
    .unwrap()
    .expect_err("only a rate-limited deployment");
    assert_eq!(error.status(), 429);
    assert!(error.is_rate_limited());
    assert!(
        error
            .public_message()
            .contains("this is a mock rate limit error"),
        "{}",
        error.public_message()
    );
    assert!(!error.public_message().contains(&proxy.base_url()));
    assert!(
        error
            .attempts()
            .iter()
            .all(|a| a.failure() == Some(FailureKind::RateLimit))
    );
    // A lone deployment rate limited without Retry-After: LiteLLM's backoff, 0.5 s then 1 s (no jitter).
    assert_eq!(
        *waits.lock().unwrap(),
        [Duration::from_millis(500), Duration::from_secs(1)]
    );
}
