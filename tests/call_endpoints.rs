//! The OpenAI-compatible call reaches each provider's endpoint with its credential header, LiteLLM's
//! defaults and environment variables, and the caller's body untouched but for `model` (real HTTP server on
//! 127.0.0.1 recording what it receives).
#![cfg(feature = "openai")]

mod support;

use std::collections::HashMap;
use std::time::Duration;

use modelroute::call::{ApiProvider, ChatCall, Endpoint};
use modelroute::config::RouterConfig;
use modelroute::error::CallError;
use modelroute::router::RequestContext;
use modelroute::{Deployment, Router};
use serde_json::{Value, json};
use support::http::{Recorded, TestServer, completion, json_response};

const BOUND: Duration = Duration::from_secs(30);

async fn recorder() -> TestServer {
    TestServer::start(|_req| async { json_response(200, completion("hi")) }).await
}

fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn call_with_env(params: Value, vars: &[(&str, &str)]) -> Result<ChatCall, CallError> {
    let env = env(vars);
    let d =
        Deployment::from_value_with_env(json!({"model_name": "g", "litellm_params": params}), &env)
            .expect("valid deployment");
    let model = d.litellm_params().model().to_string();
    Ok(ChatCall::new(Endpoint::resolve(
        d.litellm_params(),
        &model,
        &env,
    )?))
}

fn call(params: Value) -> ChatCall {
    call_with_env(params, &[]).expect("endpoint resolves")
}

/// Sends `{"model": "alias", "messages": [...]}` and returns what the server received.
async fn send(server: &TestServer, call: &ChatCall) -> Recorded {
    let client = reqwest::Client::new();
    let before = server.requests().len();
    let body = json!({"model": "alias", "messages": [{"role": "user", "content": "hi"}]});
    let reply = tokio::time::timeout(BOUND, call.complete(&client, &body))
        .await
        .expect("bounded")
        .expect("the call succeeds");
    assert_eq!(reply.body["choices"][0]["message"]["content"], "hi");
    let all = server.requests();
    assert_eq!(all.len(), before + 1);
    all.last().unwrap().clone()
}

#[tokio::test]
async fn each_provider_prefix_is_called_on_its_endpoint_with_its_credential_header() {
    let server = recorder().await;
    let url = server.url();
    // (litellm_params, path+query, model in the body, Authorization, api-key)
    let cases = [
        (
            json!({"model": "openai/gpt-4o", "api_base": format!("{url}/v1"), "api_key": "sk-openai"}),
            "/v1/chat/completions",
            "gpt-4o",
            Some("Bearer sk-openai"),
            None,
        ),
        (
            json!({"model": "litellm_proxy/openai/gpt-4o", "api_base": url, "api_key": "sk-proxy"}),
            "/chat/completions",
            "openai/gpt-4o",
            Some("Bearer sk-proxy"),
            None,
        ),
        (
            json!({"model": "hosted_vllm/meta-llama/Llama-3.1-8B-Instruct", "api_base": format!("{url}/v1")}),
            "/v1/chat/completions",
            "meta-llama/Llama-3.1-8B-Instruct",
            None,
            None,
        ),
        (
            json!({"model": "lm_studio/qwen2.5-7b-instruct", "api_base": format!("{url}/v1"), "api_key": "lm-key"}),
            "/v1/chat/completions",
            "qwen2.5-7b-instruct",
            Some("Bearer lm-key"),
            None,
        ),
        (
            json!({"model": "ollama/llama3.1:8b", "api_base": url}),
            "/v1/chat/completions",
            "llama3.1:8b",
            None,
            None,
        ),
        (
            json!({"model": "ollama_chat/llama3.1:8b", "api_base": format!("{url}/v1")}),
            "/v1/chat/completions",
            "llama3.1:8b",
            None,
            None,
        ),
        (
            json!({"model": "azure/gpt-4o-eu", "api_base": url, "api_key": "az-key", "api_version": "2024-10-21"}),
            "/openai/deployments/gpt-4o-eu/chat/completions?api-version=2024-10-21",
            "gpt-4o-eu",
            None,
            Some("az-key"),
        ),
        (
            json!({"model": "azure/gpt-4o-eu", "api_base": url, "api_key": "az-key", "api_version": "v1"}),
            "/openai/v1/chat/completions",
            "gpt-4o-eu",
            Some("Bearer az-key"),
            None,
        ),
    ];
    for (params, path, model, authorization, api_key) in cases {
        let c = call(params.clone());
        let got = send(&server, &c).await;
        assert_eq!(got.method, "POST", "{params}");
        assert_eq!(got.path_and_query, path, "{params}");
        assert_eq!(got.json()["model"], model, "{params}");
        assert_eq!(got.header("authorization"), authorization, "{params}");
        assert_eq!(got.header("api-key"), api_key, "{params}");
        assert_eq!(got.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn environment_variables_fill_what_litellm_params_leave_out_as_litellm_reads_them() {
    let server = recorder().await;
    let url = server.url();
    // (litellm_params, environment, path+query, credential, the header that carries it)
    type Case<'a> = (
        Value,
        Vec<(&'a str, String)>,
        &'a str,
        Option<&'a str>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            json!({"model": "gpt-4o"}), // a bare OpenAI model: LiteLLM sends it to OpenAI
            vec![
                ("OPENAI_API_BASE", format!("{url}/v1")),
                ("OPENAI_API_KEY", "sk-env".into()),
                ("OPENAI_ORGANIZATION", "org-env".into()),
            ],
            "/v1/chat/completions",
            Some("Bearer sk-env"),
            "authorization",
        ),
        (
            json!({"model": "openai/gpt-4o"}),
            vec![
                ("OPENAI_BASE_URL", format!("{url}/base-url")),
                ("OPENAI_API_BASE", format!("{url}/api-base")),
            ],
            "/base-url/chat/completions",
            None,
            "authorization",
        ),
        (
            json!({"model": "litellm_proxy/gpt-4o"}),
            vec![
                ("LITELLM_PROXY_API_BASE", url.clone()),
                ("LITELLM_PROXY_API_KEY", "sk-proxy-env".into()),
            ],
            "/chat/completions",
            Some("Bearer sk-proxy-env"),
            "authorization",
        ),
        (
            json!({"model": "hosted_vllm/m"}),
            vec![
                ("HOSTED_VLLM_API_BASE", format!("{url}/v1")),
                ("HOSTED_VLLM_API_KEY", "vllm-env".into()),
            ],
            "/v1/chat/completions",
            Some("Bearer vllm-env"),
            "authorization",
        ),
        (
            json!({"model": "lm_studio/m"}),
            vec![("LM_STUDIO_API_BASE", format!("{url}/v1"))],
            "/v1/chat/completions",
            None,
            "authorization",
        ),
        (
            json!({"model": "ollama_chat/llama3"}),
            vec![
                ("OLLAMA_API_BASE", url.clone()),
                ("OLLAMA_API_KEY", "ollama-env".into()),
            ],
            "/v1/chat/completions",
            Some("Bearer ollama-env"),
            "authorization",
        ),
        (
            json!({"model": "azure/dep"}),
            vec![
                ("AZURE_API_BASE", url.clone()),
                ("AZURE_API_KEY", "az-env".into()),
                ("AZURE_API_VERSION", "2024-06-01".into()),
            ],
            "/openai/deployments/dep/chat/completions?api-version=2024-06-01",
            Some("az-env"),
            "api-key",
        ),
        (
            json!({"model": "azure/dep", "api_base": url}),
            vec![
                ("AZURE_OPENAI_API_KEY", "az-openai-env".into()),
                ("AZURE_API_KEY", "second".into()),
            ],
            "/openai/deployments/dep/chat/completions?api-version=2025-02-01-preview",
            Some("az-openai-env"),
            "api-key",
        ),
    ];
    for (params, vars, path, credential, header) in cases {
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let c = call_with_env(params.clone(), &vars).unwrap();
        let got = send(&server, &c).await;
        assert_eq!(got.path_and_query, path, "{params}");
        assert_eq!(got.header(header), credential, "{params}");
        if params["model"] == "gpt-4o" {
            assert_eq!(got.header("openai-organization"), Some("org-env"));
        }
    }
}

#[tokio::test]
async fn a_deployment_without_its_own_endpoint_never_falls_back_to_openai() {
    let server = recorder().await;
    // "OpenAI" here is the recording server: a fallback to it would show as a request.
    let openai = format!("{}/v1", server.url());
    let vars = [
        ("OPENAI_API_BASE", openai.as_str()),
        ("OPENAI_BASE_URL", openai.as_str()),
        ("OPENAI_API_KEY", "sk-openai-must-not-travel"),
    ];
    for model in [
        "litellm_proxy/gpt-4o",
        "hosted_vllm/m",
        "lm_studio/m",
        "azure/dep",
    ] {
        let err = call_with_env(json!({"model": model}), &vars).unwrap_err();
        assert!(
            matches!(err, CallError::MissingApiBase { .. }),
            "{model}: {err}"
        );
        assert!(err.is_config());
    }
    // And another provider's key is not sent to a LiteLLM proxy that has none.
    let proxy = TestServer::start(|_req| async { json_response(200, completion("hi")) }).await;
    let c = call_with_env(
        json!({"model": "litellm_proxy/gpt-4o", "api_base": proxy.url()}),
        &vars,
    )
    .unwrap();
    let got = send(&proxy, &c).await;
    assert_eq!(got.header("authorization"), None);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn other_providers_and_unknown_bare_models_are_typed_errors_naming_them() {
    for (params, provider) in [
        (
            json!({"model": "anthropic/claude-3-5-sonnet"}),
            Some("anthropic"),
        ),
        (
            json!({"model": "bedrock/anthropic.claude-v2", "aws_region_name": "eu-west-1"}),
            Some("bedrock"),
        ),
        (
            json!({"model": "gemini-pro", "custom_llm_provider": "vertex_ai"}),
            Some("vertex_ai"),
        ),
        (json!({"model": "llama3"}), None),
        (json!({"model": "claude-3-5-sonnet-20241022"}), None),
    ] {
        let err = call_with_env(params.clone(), &[("OPENAI_API_KEY", "k")]).unwrap_err();
        assert!(err.is_unsupported_provider(), "{params}: {err}");
        assert!(err.is_config());
        match (&err, provider) {
            (CallError::UnsupportedProvider { provider: p, .. }, Some(want)) => assert_eq!(p, want),
            (CallError::UnknownProvider { model }, None) => {
                assert_eq!(Some(model.as_str()), params["model"].as_str())
            }
            _ => panic!("{params}: unexpected {err:?}"),
        }
        assert!(err.to_string().contains("litellm_proxy") || err.to_string().contains("openai/"));
    }
}

#[tokio::test]
async fn extra_headers_and_organization_are_sent_and_extra_headers_win_over_the_defaults() {
    let server = recorder().await;
    let c = call(json!({
        "model": "openai/gpt-4o", "api_base": server.url(), "api_key": "sk-default",
        "organization": "org-1",
        "extra_headers": {"X-Team": "search", "X-Priority": 2, "Authorization": "Bearer sk-override"}
    }));
    let got = send(&server, &c).await;
    assert_eq!(got.header("x-team"), Some("search"));
    assert_eq!(got.header("x-priority"), Some("2"));
    assert_eq!(got.header("openai-organization"), Some("org-1"));
    assert_eq!(got.header("authorization"), Some("Bearer sk-override"));
    assert_eq!(got.headers.get_all("authorization").iter().count(), 1);
}

#[tokio::test]
async fn the_body_is_the_callers_but_for_model_with_the_deployment_params_litellm_sends() {
    let server = recorder().await;
    let c = call(json!({
        "model": "hosted_vllm/qwen", "api_base": server.url(),
        "temperature": 0.2, "max_tokens": 64, "top_k": 20, "repetition_penalty": 1.1,
        "extra_body": {"chat_template_kwargs": {"enable_thinking": false}},
        "rpm": 600, "tpm": 100000, "timeout": 30, "stream_timeout": 5, "mock_response": "never sent",
        "input_cost_per_token": 0.000001, "tags": ["eu"], "weight": 2, "order": 1,
        "api_key": "sk-vllm", "supports_vision": true, "organization": "org"
    }));
    let body = json!({
        "model": "qwen-public-alias",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "temperature": 0.7,
        "response_format": {"type": "json_object"},
        "x_gateway_field": {"nested": [1, 2.5, null, "é"]},
        "metadata": {"trace": "abc"}
    });
    let client = reqwest::Client::new();
    tokio::time::timeout(BOUND, c.complete(&client, &body))
        .await
        .unwrap()
        .unwrap();
    let sent = server.single_request().json();
    assert_eq!(
        sent,
        json!({
            "model": "qwen",
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
            "temperature": 0.7,
            "response_format": {"type": "json_object"},
            "x_gateway_field": {"nested": [1, 2.5, null, "é"]},
            "metadata": {"trace": "abc"},
            "chat_template_kwargs": {"enable_thinking": false},
            "max_tokens": 64, "top_k": 20, "repetition_penalty": 1.1,
            "stream": false // what LiteLLM writes for hosted_vllm
        })
    );
}

#[tokio::test]
async fn a_body_given_as_bytes_is_sent_as_the_same_json() {
    let server = recorder().await;
    let c = call(json!({"model": "ollama/llama3", "api_base": server.url()}));
    let raw =
        br#"{"messages":[{"role":"user","content":"hi"}],"model":"x","options":{"num_ctx":8192}}"#;
    let client = reqwest::Client::new();
    tokio::time::timeout(BOUND, c.complete(&client, &raw[..]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        server.single_request().json(),
        json!({"model": "llama3", "messages": [{"role": "user", "content": "hi"}], "options": {"num_ctx": 8192}})
    );
}

#[tokio::test]
async fn a_routed_wildcard_deployment_is_called_with_its_concrete_model() {
    let server = recorder().await;
    let router = Router::from_config(
        RouterConfig::from_json(
            &json!({"model_list": [
                {"model_name": "local/*", "litellm_params": {"model": "hosted_vllm/*", "api_base": format!("{}/v1", server.url())}}
            ]})
            .to_string(),
        )
        .unwrap(),
    );
    let route = router
        .route("local/Qwen/Qwen2.5-7B", &RequestContext::new())
        .unwrap();
    let c = ChatCall::for_route(&route).unwrap();
    assert_eq!(c.endpoint().provider(), ApiProvider::HostedVllm);
    let got = send(&server, &c).await;
    assert_eq!(got.json()["model"], "Qwen/Qwen2.5-7B");
    assert_eq!(got.path_and_query, "/v1/chat/completions");
}

#[tokio::test]
async fn a_key_is_never_sent_over_plain_http_to_a_host_that_is_not_loopback() {
    let client = reqwest::Client::new();
    let body = json!({"messages": []});
    // 192.0.2.1 (TEST-NET-1): refused before any connection, so nothing can leak.
    let c = call(
        json!({"model": "openai/gpt-4o", "api_base": "http://192.0.2.1:4000/v1", "api_key": "sk-secret"}),
    );
    let err = c.complete(&client, &body).await.unwrap_err();
    assert!(matches!(err, CallError::InsecureTransport { .. }), "{err}");
    assert!(!err.to_string().contains("sk-secret"));
    let err = c.stream(&client, &body).await.unwrap_err();
    assert!(matches!(err, CallError::InsecureTransport { .. }));
    // Without a key, or to a loopback host, it is sent.
    let server = recorder().await;
    let port = server.url().rsplit(':').next().unwrap().to_string();
    let c = call(
        json!({"model": "openai/gpt-4o", "api_base": format!("http://localhost:{port}/v1"), "api_key": "k"}),
    );
    assert_eq!(
        send(&server, &c).await.header("authorization"),
        Some("Bearer k")
    );
    let open = call(
        json!({"model": "openai/gpt-4o", "api_base": "http://192.0.2.1:4000/v1", "api_key": "k"}),
    )
    .allow_insecure_http(true);
    assert!(open.endpoint().sends_credential());
}

#[tokio::test]
async fn a_non_streamed_answer_gives_its_body_usage_status_and_latency() {
    let server = TestServer::start(|_req| async {
        support::http::with_header(
            json_response(200, completion("hello")),
            "x-litellm-model-id",
            "dep-1",
        )
    })
    .await;
    let c = call(json!({"model": "openai/gpt-4o", "api_base": server.url()}));
    let client = reqwest::Client::new();
    let reply = c.complete(&client, &json!({"messages": []})).await.unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["choices"][0]["message"]["content"], "hello");
    let usage = reply.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (9, 3, 12)
    );
    assert!(reply.latency > Duration::ZERO);
    assert_eq!(reply.headers.get("x-litellm-model-id").unwrap(), "dep-1");
    // The deployment's own deadline is what the request gets.
    let d = Deployment::new("g", "openai/gpt-4o")
        .unwrap()
        .with_param("timeout", 12.5)
        .unwrap();
    let e = Endpoint::resolve(d.litellm_params(), "openai/gpt-4o", &|_: &str| None).unwrap();
    assert_eq!(
        ChatCall::new(e).timeout(),
        Some(Duration::from_millis(12_500))
    );
}
