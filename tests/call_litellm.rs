//! The call against a real LiteLLM 1.109.1 proxy, both ways:
//! - as an upstream: `litellm_proxy/` deployments answered by `mock_response` / `mock_tool_calls`, streamed
//!   and not, and its error answers;
//! - as the reference: LiteLLM itself calls deployments of five providers whose `api_base` is a recording
//!   server on 127.0.0.1, and modelroute's call sends the same deployments to the same server; both must send
//!   the same URL, credential headers and body.
#![cfg(all(feature = "openai", feature = "yaml"))]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use modelroute::Deployment;
use modelroute::call::{ChatCall, Endpoint};
use modelroute::config::RouterConfig;
use serde_json::{Value, json};
use support::http::{Recorded, TestServer, chunk, completion, json_response, sse_response};
use support::litellm::{LiteLlmProxy, ProxyConfig, litellm_dir};

const BOUND: Duration = Duration::from_secs(60);

fn proxy_call(proxy: &LiteLlmProxy, model: &str, key: &str) -> ChatCall {
    let d = Deployment::from_value(json!({"model_name": "g", "litellm_params": {
        "model": format!("litellm_proxy/{model}"), "api_base": proxy.base_url(), "api_key": key}}))
    .unwrap();
    let model = d.litellm_params().model().to_string();
    ChatCall::new(Endpoint::resolve(d.litellm_params(), &model, &|_: &str| None).unwrap())
}

fn hello() -> Value {
    json!({"messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_talks_to_a_real_litellm_proxy_and_sends_what_litellm_itself_sends() {
    let recorder = TestServer::start(|req: Recorded| async move {
        let streamed =
            serde_json::from_slice::<Value>(&req.body).is_ok_and(|b| b["stream"] == json!(true));
        if streamed {
            sse_response([chunk("hi"), "[DONE]".to_string()])
        } else {
            json_response(200, completion("hi"))
        }
    })
    .await;
    let recorder_url = recorder.url();
    let env = [
        ("RECORDER".to_string(), recorder_url.clone()),
        ("RECORDER_V1".to_string(), format!("{recorder_url}/v1")),
    ];
    let proxy_env = env.clone();
    let mut proxy = tokio::task::spawn_blocking(move || {
        let vars: Vec<(&str, &str)> = proxy_env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        LiteLlmProxy::start_with_env(
            ProxyConfig::File(litellm_dir().join("config_call.yaml")),
            &vars,
        )
    })
    .await
    .expect("the proxy starts");
    let client = reqwest::Client::new();

    // --- LiteLLM as the upstream -------------------------------------------------------------------
    let call = proxy_call(&proxy, "gpt-4o", LiteLlmProxy::MASTER_KEY);
    let reply = tokio::time::timeout(BOUND, call.complete(&client, &hello()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reply.body["choices"][0]["message"]["content"],
        "Hello from gpt-4o (mock)"
    );
    let usage = reply.usage.expect("LiteLLM reports usage");
    assert!(
        usage.total_tokens > 0
            && usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    );
    assert_eq!(
        reply.headers.get("x-litellm-model-group").unwrap(),
        "gpt-4o"
    );

    let mut stream = tokio::time::timeout(BOUND, call.stream(&client, &hello()))
        .await
        .unwrap()
        .unwrap();
    let mut text = String::new();
    while let Some(event) = tokio::time::timeout(BOUND, stream.next()).await.unwrap() {
        let event = event.unwrap();
        let chunk = event.json().unwrap();
        assert_eq!(chunk["object"], "chat.completion.chunk");
        text.push_str(
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .unwrap_or(""),
        );
    }
    assert_eq!(text, "Hello from gpt-4o (mock)");
    assert!(stream.is_done());
    assert!(
        stream
            .usage()
            .expect("usage from the last chunk")
            .total_tokens
            > 0
    );
    assert!(stream.time_to_first_event() > Duration::ZERO);

    let tools = proxy_call(&proxy, "tools", LiteLlmProxy::MASTER_KEY);
    let reply = tools.complete(&client, &hello()).await.unwrap();
    let call0 = &reply.body["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call0["function"]["name"], "get_weather");
    assert_eq!(call0["id"], "call_abc123");

    let unknown = proxy_call(&proxy, "does-not-exist", LiteLlmProxy::MASTER_KEY);
    for err in [
        unknown.complete(&client, &hello()).await.unwrap_err(),
        unknown.stream(&client, &hello()).await.unwrap_err(),
    ] {
        assert_eq!(err.status(), Some(400), "{err}");
        assert!(err.is_before_first_event());
        assert!(
            err.error_body().unwrap().text().contains("does-not-exist"),
            "{err}"
        );
    }
    let wrong = proxy_call(&proxy, "gpt-4o", "sk-wrong-key-0000");
    let err = wrong.complete(&client, &hello()).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(!err.to_string().contains("sk-wrong-key-0000"));

    // --- LiteLLM as the reference ------------------------------------------------------------------
    let env_map: HashMap<String, String> = env.iter().cloned().collect();
    let config = RouterConfig::loader()
        .env(&env_map)
        .load_file(litellm_dir().join("config_call.yaml"))
        .unwrap();
    for group in [
        "parity-openai",
        "parity-vllm",
        "parity-lmstudio",
        "parity-proxy",
        "parity-azure",
    ] {
        let request = json!({"model": group, "messages": [{"role": "user", "content": "hi"}], "temperature": 0.9});
        // LiteLLM calls the deployment.
        let before = recorder.requests().len();
        let resp = client
            .post(format!("{}/v1/chat/completions", proxy.base_url()))
            .bearer_auth(LiteLlmProxy::MASTER_KEY)
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.status(),
            200,
            "{group}: {}",
            resp.text().await.unwrap_or_default()
        );
        let chat =
            |r: &&Recorded| r.method == "POST" && r.path_and_query.contains("chat/completions");
        let by_litellm = recorder.requests()[before..]
            .iter()
            .filter(chat)
            .last()
            .cloned()
            .expect("LiteLLM called the recorder");
        // modelroute calls the same deployment.
        let d = config
            .deployments()
            .iter()
            .find(|d| d.model_name() == group)
            .unwrap();
        let endpoint =
            Endpoint::resolve(d.litellm_params(), d.litellm_params().model(), &env_map).unwrap();
        ChatCall::new(endpoint)
            .complete(&client, &request)
            .await
            .unwrap();
        let by_us = recorder
            .requests()
            .iter()
            .filter(chat)
            .last()
            .cloned()
            .unwrap();

        assert_eq!(
            by_us.path_and_query, by_litellm.path_and_query,
            "{group}: URL"
        );
        for header in ["authorization", "api-key", "x-team", "openai-organization"] {
            assert_eq!(
                by_us.header(header),
                by_litellm.header(header),
                "{group}: header {header}"
            );
        }
        assert_eq!(by_us.json(), by_litellm.json(), "{group}: body");
    }

    proxy.stop();
}
