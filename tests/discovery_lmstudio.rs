//! LM Studio discovery against wiremock servers on 127.0.0.1 serving LM Studio's documented answers for
//! 0.4 (`/api/v1/models`), 0.3 (`/api/v0/models`, and its "200 Unexpected endpoint" answer to unknown
//! paths) and older servers (`/v1/models` only), with tokens, errors, timeouts, garbage and huge bodies.

use std::time::{Duration, Instant};

use modelroute::{DiscoveryError, LmStudio, ModelKind, Provider, ProviderKind, Secret};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn lmstudio(server: &MockServer) -> LmStudio {
    LmStudio::new(&server.uri(), None).unwrap()
}

async fn mount_json(server: &MockServer, p: &str, status: u16, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .mount(server)
        .await;
}

/// What LM Studio 0.3 answers for a path it does not serve.
async fn mount_unexpected_endpoint(server: &MockServer, p: &str) {
    mount_json(
        server,
        p,
        200,
        json!({"error": format!("Unexpected endpoint or method. (GET {p})")}),
    )
    .await;
}

fn v1_body() -> serde_json::Value {
    json!({"models": [
        {"type": "llm", "publisher": "openai", "key": "openai/gpt-oss-20b", "display_name": "gpt-oss 20B",
         "architecture": "gpt-oss", "quantization": {"name": "MXFP4", "bits_per_weight": 4},
         "size_bytes": 12109566560u64, "params_string": "20B",
         "loaded_instances": [{"id": "openai/gpt-oss-20b", "config": {"context_length": 8192, "eval_batch_size": 512,
                               "parallel": 4, "flash_attention": true, "offload_kv_cache_to_gpu": true}}],
         "max_context_length": 131072, "format": "gguf",
         "capabilities": {"vision": false, "trained_for_tool_use": true,
                          "reasoning": {"allowed_options": ["low", "medium", "high"], "default": "medium"}},
         "description": null},
        {"type": "llm", "publisher": "google", "key": "google/gemma-3-12b", "display_name": "Gemma 3 12B",
         "architecture": "gemma3", "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
         "size_bytes": 8149190253u64, "params_string": "12B", "loaded_instances": [],
         "max_context_length": 131072, "format": "mlx",
         "capabilities": {"vision": true, "trained_for_tool_use": false}},
        {"type": "embedding", "publisher": "nomic-ai", "key": "text-embedding-nomic-embed-text-v1.5",
         "display_name": "Nomic Embed Text v1.5", "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
         "size_bytes": 84106624, "params_string": null, "loaded_instances": [], "max_context_length": 2048,
         "format": "gguf"},
        // Values a later LM Studio might send: unknown type and format, no capabilities.
        {"type": "speech", "publisher": "x", "key": "x/tts-1", "display_name": "TTS", "quantization": null,
         "size_bytes": 1, "params_string": null, "loaded_instances": [], "max_context_length": 0,
         "format": "onnx", "capabilities": {"audio_output": true}}
    ]})
}

#[tokio::test]
async fn lm_studio_0_4_native_v1_api_with_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .and(header("authorization", "Bearer lm-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(v1_body()))
        .expect(1)
        .mount(&server)
        .await;
    let p = LmStudio::new(&server.uri(), Some(Secret::new("lm-token-1"))).unwrap();
    assert_eq!(p.kind(), ProviderKind::LmStudio);
    let m = p.list_models(&client()).await.expect("list");
    let ids: Vec<&str> = m.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "openai/gpt-oss-20b",
            "google/gemma-3-12b",
            "text-embedding-nomic-embed-text-v1.5",
            "x/tts-1"
        ]
    );
    let oss = &m[0];
    assert_eq!(oss.kind, ModelKind::Chat);
    assert_eq!(oss.loaded, Some(true));
    assert_eq!(
        oss.context_window,
        Some(8192),
        "loaded: the instance's context length"
    );
    assert_eq!(
        (
            oss.supports_tools,
            oss.supports_vision,
            oss.supports_reasoning
        ),
        (Some(true), Some(false), Some(true))
    );
    let gemma = &m[1];
    assert_eq!(gemma.loaded, Some(false));
    assert_eq!(
        gemma.context_window,
        Some(131072),
        "not loaded: the model's maximum"
    );
    assert_eq!(
        (gemma.supports_vision, gemma.supports_tools),
        (Some(true), Some(false))
    );
    assert_eq!(gemma.raw["format"], "mlx");
    assert_eq!(m[2].kind, ModelKind::Embedding);
    assert_eq!(m[2].context_window, Some(2048));
    assert_eq!(m[3].kind, ModelKind::Other("speech".into()));
    assert_eq!(m[3].raw["format"], "onnx");
    server.verify().await;
}

#[tokio::test]
async fn lm_studio_0_3_answers_200_unexpected_endpoint_then_v0_is_used() {
    let server = MockServer::start().await;
    mount_unexpected_endpoint(&server, "/api/v1/models").await;
    mount_json(
        &server,
        "/api/v0/models",
        200,
        json!({"object": "list", "data": [
            {"id": "qwen2-vl-7b-instruct", "object": "model", "type": "vlm", "publisher": "mlx-community",
             "arch": "qwen2_vl", "compatibility_type": "mlx", "quantization": "4bit", "state": "not-loaded",
             "max_context_length": 32768},
            {"id": "meta-llama-3.1-8b-instruct", "object": "model", "type": "llm", "publisher": "lmstudio-community",
             "arch": "llama", "compatibility_type": "gguf", "quantization": "Q4_K_M", "state": "loaded",
             "max_context_length": 131072, "loaded_context_length": 4096, "capabilities": ["tool_use"]},
            {"id": "text-embedding-nomic-embed-text-v1.5", "object": "model", "type": "embeddings",
             "publisher": "nomic-ai", "arch": "nomic-bert", "compatibility_type": "gguf", "quantization": "Q4_0",
             "state": "not-loaded", "max_context_length": 2048},
            {"id": "some-new-model", "object": "model", "type": "llm", "compatibility_type": "torch_safetensors",
             "state": "unloading", "max_context_length": 8192}
        ]}),
    )
    .await;
    let m = lmstudio(&server)
        .list_models(&client())
        .await
        .expect("v0 fallback");
    let ids: Vec<&str> = m.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "qwen2-vl-7b-instruct",
            "meta-llama-3.1-8b-instruct",
            "text-embedding-nomic-embed-text-v1.5",
            "some-new-model"
        ]
    );
    assert_eq!(
        (m[0].kind.clone(), m[0].supports_vision, m[0].loaded),
        (ModelKind::Chat, Some(true), Some(false))
    );
    assert_eq!(
        (m[1].loaded, m[1].context_window, m[1].supports_tools),
        (Some(true), Some(4096), Some(true))
    );
    assert_eq!(m[2].kind, ModelKind::Embedding);
    assert_eq!(
        (m[3].loaded, m[3].context_window),
        (None, Some(8192)),
        "unknown state tolerated"
    );
}

#[tokio::test]
async fn older_servers_fall_back_to_openai_v1_models() {
    // 404 for /api/v1 (a proxy in front), the 0.3 "Unexpected endpoint" answer for /api/v0.
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/api/v1/models",
        404,
        json!({"error": "not found"}),
    )
    .await;
    mount_unexpected_endpoint(&server, "/api/v0/models").await;
    mount_json(
        &server,
        "/v1/models",
        200,
        json!({"object": "list", "data": [
            {"id": "lmstudio-community/Meta-Llama-3-8B-Instruct-GGUF", "object": "model", "owned_by": "organization_owner"}
        ]}),
    )
    .await;
    let m = lmstudio(&server).list_models(&client()).await.unwrap();
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].id, "lmstudio-community/Meta-Llama-3-8B-Instruct-GGUF");
    assert_eq!(
        (m[0].kind.clone(), m[0].context_window, m[0].loaded),
        (ModelKind::Unknown, None, None)
    );

    // No model at all on /v1/models: empty, not an error.
    let server = MockServer::start().await;
    mount_unexpected_endpoint(&server, "/api/v1/models").await;
    mount_unexpected_endpoint(&server, "/api/v0/models").await;
    mount_json(
        &server,
        "/v1/models",
        200,
        json!({"object": "list", "data": []}),
    )
    .await;
    assert!(
        lmstudio(&server)
            .list_models(&client())
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn zero_models_is_an_empty_list_at_once() {
    let server = MockServer::start().await;
    mount_json(&server, "/api/v1/models", 200, json!({"models": []})).await;
    let m = lmstudio(&server).list_models(&client()).await.unwrap();
    assert!(m.is_empty());
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no fallback on an empty list"
    );
}

#[tokio::test]
async fn missing_or_wrong_token_is_unauthorized_without_fallback() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/api/v1/models",
        401,
        json!({"type": "error", "error": {"type": "unauthorized", "message": "Invalid or missing API token", "code": "invalid_api_key"}}),
    )
    .await;
    let err = lmstudio(&server).list_models(&client()).await.unwrap_err();
    match &err {
        DiscoveryError::Unauthorized {
            status: 401,
            message: Some(m),
            ..
        } => assert_eq!(m, "Invalid or missing API token"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "no fallback after 401");
    assert!(
        requests[0].headers.get("authorization").is_none(),
        "no token configured: none sent"
    );
}

#[tokio::test]
async fn errors_timeouts_garbage_and_huge_bodies() {
    // 500: reported, no fallback.
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/api/v1/models",
        500,
        json!({"error": {"message": "internal"}}),
    )
    .await;
    let err = lmstudio(&server).list_models(&client()).await.unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Garbage on the native endpoint: Malformed, no fallback (the endpoint exists, its answer is bad).
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(vec![0xff, 0xfe, 0x00, 0x7b], "application/json"),
        )
        .mount(&server)
        .await;
    let err = lmstudio(&server).list_models(&client()).await.unwrap_err();
    assert!(err.is_malformed(), "{err:?}");

    // A model without a key: Malformed with the path of the entry.
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/api/v1/models",
        200,
        json!({"models": [{"type": "llm", "key": "a"}, {"type": "llm", "display_name": "no key"}]}),
    )
    .await;
    let err = lmstudio(&server).list_models(&client()).await.unwrap_err();
    assert!(
        matches!(&err, DiscoveryError::Malformed { path, .. } if path == "models[1]"),
        "{err:?}"
    );

    // Huge body over the limit.
    let server = MockServer::start().await;
    let filler = "x".repeat(200_000);
    mount_json(
        &server,
        "/api/v1/models",
        200,
        json!({"models": [{"key": "a", "description": filler}]}),
    )
    .await;
    let err = lmstudio(&server)
        .with_body_limit(100_000)
        .list_models(&client())
        .await
        .unwrap_err();
    assert!(err.is_too_large(), "{err:?}");
    // The same body under the default limit is fine.
    assert_eq!(
        lmstudio(&server)
            .list_models(&client())
            .await
            .unwrap()
            .len(),
        1
    );

    // Slow: TimedOut, bounded.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(v1_body())
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = lmstudio(&server)
        .with_timeout(Duration::from_millis(300))
        .list_models(&client())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no fallback after a timeout"
    );
}

#[tokio::test]
async fn openai_style_base_url_and_env() {
    let server = MockServer::start().await;
    mount_json(&server, "/api/v1/models", 200, v1_body()).await;
    let url = format!("{}/v1", server.uri());
    let p =
        LmStudio::from_env_with(&|name: &str| (name == "LMSTUDIO_BASE_URL").then(|| url.clone()))
            .unwrap();
    assert_eq!(p.list_models(&client()).await.unwrap().len(), 4);
}
