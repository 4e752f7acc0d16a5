//! LiteLLM discovery against a real LiteLLM 1.109.1 proxy (tests/support/litellm.rs), plus the fallback
//! rules against wiremock (a real HTTP server on 127.0.0.1) where the real proxy cannot show them.
//!
//! The real proxy starts once (10-30 s) and every scenario runs in sequence in that one test.

mod support;

use std::time::{Duration, Instant};

use modelroute::{DiscoveryError, LiteLlm, ModelKind, Provider, Secret};
use support::litellm::{LiteLlmProxy, ProxyConfig};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn proxy_provider(base: &str, key: &str) -> LiteLlm {
    LiteLlm::new(base, Some(Secret::new(key))).expect("valid base URL")
}

fn ids(models: &[modelroute::ModelDescriptor]) -> Vec<&str> {
    models.iter().map(|m| m.id.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_litellm_proxy_discovery_keys_errors_and_shutdown() {
    let mut proxy = tokio::task::spawn_blocking(|| LiteLlmProxy::start(ProxyConfig::A))
        .await
        .expect("proxy start");
    let base = proxy.base_url();
    let client = client();

    // 1. Master key: the rich /v1/model/info list, one descriptor per model_name.
    let master = proxy_provider(&base, LiteLlmProxy::MASTER_KEY);
    let started = Instant::now();
    let all = master
        .list_models(&client)
        .await
        .expect("master key lists models");
    let took = started.elapsed();
    let names = ids(&all);
    assert_eq!(
        &names[..3],
        ["gpt-4o", "balanced", "llama3"],
        "configured groups first, in config order"
    );
    assert_eq!(
        names.iter().filter(|n| **n == "balanced").count(),
        1,
        "the two `balanced` deployments are one model"
    );
    let expanded = names.iter().filter(|n| n.starts_with("openai/")).count();
    assert!(
        expanded > 100,
        "the openai/* wildcard is expanded into OpenAI's known models, got {expanded}"
    );
    let gpt4o = &all[0];
    assert_eq!(gpt4o.kind, ModelKind::Chat);
    assert_eq!(gpt4o.context_window, Some(128_000));
    assert_eq!(gpt4o.max_output_tokens, Some(16_384));
    assert_eq!(gpt4o.supports_tools, Some(true));
    assert_eq!(gpt4o.supports_vision, Some(true));
    let pricing = gpt4o.pricing.expect("gpt-4o has prices");
    assert_eq!(pricing.input_per_token, Some(2.5e-6));
    assert_eq!(gpt4o.raw["litellm_params"]["model"], "openai/gpt-4o");
    let balanced = &all[1];
    assert_eq!(
        balanced.raw["litellm_params"]["model"], "openai/gpt-4o-mini",
        "raw is the first deployment of the group"
    );
    let llama3 = &all[2];
    assert_eq!(llama3.context_window, Some(8192));
    let raw_all = serde_json::to_string(&all).expect("serializable");
    assert!(
        !raw_all.contains("sk-upstream-placeholder-not-used"),
        "no upstream api_key in what discovery returns"
    );
    eprintln!(
        "master key: {} models from /v1/model/info in {took:?}",
        all.len()
    );

    // 2. The OpenAI-style base URL (…/v1) reaches the same proxy and the same list.
    let v1 = proxy_provider(&format!("{base}/v1"), LiteLlmProxy::MASTER_KEY);
    let via_v1 = v1.list_models(&client).await.expect("…/v1 base URL works");
    assert_eq!(ids(&via_v1), names);

    // 3. Two restricted keys see two different lists, and their identities differ.
    let only_gpt4o = proxy_provider(&base, LiteLlmProxy::KEY_ONLY_GPT4O);
    let only_balanced = proxy_provider(&base, LiteLlmProxy::KEY_ONLY_BALANCED);
    let a = only_gpt4o.list_models(&client).await.expect("key 1 lists");
    let b = only_balanced
        .list_models(&client)
        .await
        .expect("key 2 lists");
    assert_eq!(
        ids(&a),
        ["gpt-4o"],
        "a key limited to gpt-4o sees only gpt-4o"
    );
    assert_eq!(
        ids(&b),
        ["balanced"],
        "a key limited to balanced sees only balanced"
    );
    assert_eq!(
        a[0].context_window,
        Some(128_000),
        "restricted keys get metadata too"
    );
    assert_eq!(only_gpt4o.base_url(), only_balanced.base_url());
    assert_ne!(
        only_gpt4o.credential_fingerprint(),
        only_balanced.credential_fingerprint(),
        "the key is part of the identity"
    );

    // 4. A key the proxy does not know: unauthorized, never echoing the key, no fallback to another endpoint.
    let bad_key = "sk-not-a-key-4242";
    let err = proxy_provider(&base, bad_key)
        .list_models(&client)
        .await
        .expect_err("unknown key is refused");
    assert!(err.is_unauthorized(), "expected Unauthorized, got {err:?}");
    assert_eq!(err.status(), Some(401));
    assert!(
        err.endpoint()
            .is_some_and(|e| e.ends_with("/v1/model/info")),
        "reported for the first endpoint, no fallback: {err}"
    );
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(bad_key), "the key leaked: {text}");
    }
    eprintln!("bad key: {err}");

    // 5. No key at all: unauthorized as well.
    let err = LiteLlm::new(&base, None)
        .unwrap()
        .list_models(&client)
        .await
        .expect_err("no key is refused");
    assert!(err.is_unauthorized(), "expected Unauthorized, got {err:?}");

    // 6. A body limit below the real /model/info size: TooLarge; a tiny timeout: TimedOut.
    let err = proxy_provider(&base, LiteLlmProxy::MASTER_KEY)
        .with_body_limit(256 * 1024)
        .list_models(&client)
        .await
        .expect_err("1.8 MB body over a 256 KiB limit");
    assert!(err.is_too_large(), "expected TooLarge, got {err:?}");
    let err = proxy_provider(&base, LiteLlmProxy::MASTER_KEY)
        .with_timeout(Duration::from_millis(1))
        .list_models(&client)
        .await
        .expect_err("1 ms is too short");
    assert!(err.is_timeout(), "expected TimedOut, got {err:?}");

    // 7. Proxy stopped: unreachable, a quiet outcome.
    let pid = proxy.pid();
    proxy.stop();
    let started = Instant::now();
    let err = master
        .list_models(&client)
        .await
        .expect_err("stopped proxy");
    assert!(
        err.is_unreachable(),
        "expected Unreachable after stopping pid {pid}, got {err:?}"
    );
    assert!(err.is_quiet());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a refused connection is reported at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_litellm_second_proxy_other_list_and_no_phantom_models() {
    let proxy = tokio::task::spawn_blocking(|| LiteLlmProxy::start(ProxyConfig::B))
        .await
        .expect("proxy start");
    let base = proxy.base_url();
    let client = client();

    // Another server, another list (the base URL is part of the identity).
    let master = proxy_provider(&base, LiteLlmProxy::MASTER_KEY);
    let all = master.list_models(&client).await.expect("master lists");
    assert_eq!(ids(&all), ["claude-3-5-sonnet", "mistral-large"]);
    assert_eq!(
        all[0].raw["litellm_params"]["model"],
        "anthropic/claude-3-5-sonnet-20240620"
    );

    // A key allowed only gpt-4o, on a proxy that does not serve gpt-4o: /v1/models would list the
    // allowed name anyway (LiteLLM lists a key's allowed names as they are); /v1/model/info lists what
    // is actually deployed for that key: nothing. Discovery reports the truth: an empty list.
    let only_gpt4o = proxy_provider(&base, LiteLlmProxy::KEY_ONLY_GPT4O);
    let seen = only_gpt4o
        .list_models(&client)
        .await
        .expect("restricted key lists");
    assert!(
        seen.is_empty(),
        "no phantom gpt-4o on a proxy that does not serve it, got {:?}",
        ids(&seen)
    );
    drop(proxy); // stops it by PID
}

#[tokio::test]
async fn falls_back_only_when_the_endpoint_is_missing() {
    let server = MockServer::start().await;
    let key = "sk-wiremock-1";
    // An older or trimmed proxy: /v1/model/info missing (404), /model/info not allowed (405).
    Mock::given(method("GET"))
        .and(path("/v1/model/info"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(serde_json::json!({"detail": "Not Found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/model/info"))
        .respond_with(ResponseTemplate::new(405))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .and(header("authorization", format!("Bearer {key}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            include_bytes!("fixtures/litellm/customauth_v1_models__only_balanced.json").to_vec(),
            "application/json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let p = LiteLlm::new(&server.uri(), Some(Secret::new(key))).unwrap();
    let models = p
        .list_models(&client())
        .await
        .expect("fallback to /v1/models");
    assert_eq!(ids(&models), ["balanced", "llama3"]);
    assert_eq!(models[0].context_window, Some(128_000));
    server.verify().await;
}

#[tokio::test]
async fn model_info_missing_falls_back_to_the_unversioned_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/model/info"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/model/info"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            include_bytes!("fixtures/litellm/customauth_model_info__only_gpt4o.json").to_vec(),
            "application/json",
        ))
        .mount(&server)
        .await;
    let models = LiteLlm::new(&server.uri(), None)
        .unwrap()
        .list_models(&client())
        .await
        .expect("fallback to /model/info");
    assert_eq!(ids(&models), ["gpt-4o"]);
    assert_eq!(models[0].supports_tools, Some(true));
}

#[tokio::test]
async fn errors_other_than_missing_endpoint_are_reported_not_papered_over() {
    for (status, body) in [
        (
            401u16,
            r#"{"error":{"message":"Invalid API key","type":"auth_error","param":"api_key","code":"401"}}"#,
        ),
        (
            403,
            r#"{"error":{"message":"key not allowed","type":"auth_error"}}"#,
        ),
        (
            400,
            r#"{"error":{"message":"No connected db.","type":"no_db_connection","param":null,"code":"400"}}"#,
        ),
        (500, r#"{"detail":"Internal Server Error"}"#),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/model/info"))
            .respond_with(ResponseTemplate::new(status).set_body_raw(body, "application/json"))
            .expect(1)
            .mount(&server)
            .await;
        // Any other request would hit wiremock's default 404 and be counted as unexpected below.
        let err = LiteLlm::new(&server.uri(), Some(Secret::new("sk-x")))
            .unwrap()
            .list_models(&client())
            .await
            .expect_err("error status");
        assert_eq!(err.status(), Some(status), "{err}");
        assert_eq!(
            err.is_unauthorized(),
            status == 401 || status == 403,
            "{err}"
        );
        let message = match &err {
            DiscoveryError::Unauthorized { message, .. }
            | DiscoveryError::Status { message, .. } => message.clone().unwrap_or_default(),
            other => panic!("unexpected {other:?}"),
        };
        let want = serde_json::from_str::<serde_json::Value>(body).unwrap();
        let want = want["error"]["message"]
            .as_str()
            .or(want["detail"].as_str())
            .unwrap()
            .to_string();
        assert_eq!(message, want);
        let received = server.received_requests().await.unwrap();
        assert_eq!(received.len(), 1, "no fallback after HTTP {status}");
    }
}

#[tokio::test]
async fn a_key_is_never_sent_in_clear_text_to_a_remote_host() {
    // A non-loopback host name that the client resolves to the local wiremock: nothing leaves 127.0.0.1,
    // but for the provider it is a remote host reached over plain http.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/model/info"))
        .and(header("authorization", "Bearer sk-x"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"data":[{"model_name":"m"}]}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .resolve("litellm.internal.example", *server.address())
        .build()
        .unwrap();
    let url = format!(
        "http://litellm.internal.example:{}",
        server.address().port()
    );
    let p = LiteLlm::new(&url, Some(Secret::new("sk-x"))).unwrap();
    let err = p.list_models(&client).await.expect_err("refused");
    assert!(err.is_insecure_transport(), "{err:?}");
    assert!(!err.to_string().contains("sk-x"));
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing was sent"
    );

    // Opting in (a trusted private network) sends it.
    let models = p
        .allow_insecure_http(true)
        .list_models(&client)
        .await
        .expect("opted in");
    assert_eq!(ids(&models), ["m"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // Without a key there is nothing to protect: plain http to a remote host is fine.
    let models = LiteLlm::new(&url, None).unwrap().list_models(&client).await;
    assert!(
        models.is_err_and(|e| e.status() == Some(404)),
        "no key: request sent (and wiremock wants one)"
    );
}

#[tokio::test]
async fn server_echoing_the_key_does_not_leak_it() {
    let server = MockServer::start().await;
    let key = "sk-echo-me-123456";
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_raw(
            format!(r#"{{"error":"invalid key {key}"}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    let err = LiteLlm::new(&server.uri(), Some(Secret::new(key)))
        .unwrap()
        .list_models(&client())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(key), "{shown}");
    assert!(shown.contains("invalid key ***"), "{shown}");
}

#[tokio::test]
async fn not_configured_without_a_base_url() {
    let err = LiteLlm::from_env_with(&|name: &str| match name {
        "OLLAMA_HOST" => Some("127.0.0.1:11434".into()),
        "LMSTUDIO_BASE_URL" => Some("http://localhost:1234".into()),
        _ => None,
    })
    .unwrap_err();
    assert!(
        matches!(err, DiscoveryError::NotConfigured { .. }),
        "{err:?}"
    );
}
