//! Proves the real-LiteLLM test harness (tests/support/litellm.rs): proxies start at once on their own ports with
//! different model lists, keys are filtered per model as configured, and `stop()` frees the port. Also checks that
//! tests/fixtures/deployment_ids_yaml.json (computed by tests/litellm/deployment_ids.py) is what a real proxy reports.
//! One test only: each proxy start costs ~7-30 s (and the first run installs LiteLLM).

mod support;

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::litellm::{LiteLlmProxy, ProxyConfig, crate_dir};

/// `GET /v1/models` with a Bearer key: the HTTP status and the listed ids, in order.
async fn list_models(
    client: &reqwest::Client,
    proxy: &LiteLlmProxy,
    key: &str,
) -> (u16, Vec<String>) {
    let response = client
        .get(format!("{}/v1/models", proxy.base_url()))
        .bearer_auth(key)
        .send()
        .await
        .expect("GET /v1/models");
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON body");
    let ids = body["data"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|row| row["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (status, ids)
}

/// `POST /v1/chat/completions` with a Bearer key: the HTTP status and the JSON body.
async fn chat(
    client: &reqwest::Client,
    proxy: &LiteLlmProxy,
    key: &str,
    model: &str,
) -> (u16, Value) {
    let response = client
        .post(format!("{}/v1/chat/completions", proxy.base_url()))
        .bearer_auth(key)
        .json(&serde_json::json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("POST /v1/chat/completions");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

#[test]
fn real_litellm_proxies_start_filter_models_per_key_and_stop() {
    let started = Instant::now();
    // Install once (if needed), then start both proxies at the same time.
    let b = thread::spawn(|| LiteLlmProxy::start(ProxyConfig::B));
    let ids = thread::spawn(|| {
        LiteLlmProxy::start_with_env(
            ProxyConfig::File("tests/fixtures/deployment_id_config.yaml".into()),
            &[
                ("MODELROUTE_FIXTURE_KEY", "sk-fixture-123"),
                ("MODELROUTE_FIXTURE_TRUE", "True"),
            ],
        )
    });
    let mut a = LiteLlmProxy::start(ProxyConfig::A);
    let b = b.join().expect("proxy B started");
    let ids = ids.join().expect("the deployment-id proxy started");
    eprintln!(
        "proxies ready after {:.1} s (A: {:.1} s, {} KiB RSS; B: {:.1} s, {} KiB RSS)",
        started.elapsed().as_secs_f64(),
        a.startup_time().as_secs_f64(),
        a.rss_kib().unwrap_or(0),
        b.startup_time().as_secs_f64(),
        b.rss_kib().unwrap_or(0),
    );
    assert_ne!(a.port(), b.port());
    assert_ne!(a.pid(), b.pid());
    assert_eq!(a.base_url(), format!("http://127.0.0.1:{}", a.port()));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a client");

        let (status, all) = list_models(&client, &a, LiteLlmProxy::MASTER_KEY).await;
        assert_eq!(status, 200);
        for model in ["gpt-4o", "balanced", "llama3"] {
            assert!(
                all.iter().any(|id| id == model),
                "{model} missing from proxy A's list: {all:?}"
            );
        }
        // The openai/* wildcard is expanded into OpenAI's model names; the literal pattern is not listed.
        assert!(
            all.len() > 10,
            "expected the expanded openai/* wildcard in {all:?}"
        );
        assert!(!all.iter().any(|id| id == "openai/*"));

        let (status, only_gpt4o) = list_models(&client, &a, LiteLlmProxy::KEY_ONLY_GPT4O).await;
        assert_eq!((status, only_gpt4o), (200, vec!["gpt-4o".to_owned()]));
        let (status, only_balanced) =
            list_models(&client, &a, LiteLlmProxy::KEY_ONLY_BALANCED).await;
        assert_eq!((status, only_balanced), (200, vec!["balanced".to_owned()]));
        let (status, _) = list_models(&client, &a, "sk-not-a-test-key").await;
        assert_eq!(status, 401);

        // Keys are enforced on calls too (enable_post_custom_auth_checks), and mock_response answers offline.
        let (status, body) = chat(&client, &a, LiteLlmProxy::KEY_ONLY_GPT4O, "gpt-4o").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["choices"][0]["message"]["content"],
            "Hello from gpt-4o (mock)"
        );
        let (status, body) = chat(&client, &a, LiteLlmProxy::KEY_ONLY_GPT4O, "balanced").await;
        assert_eq!(status, 403, "{body}");

        // Proxy B offers another list.
        let (status, mut on_b) = list_models(&client, &b, LiteLlmProxy::MASTER_KEY).await;
        on_b.sort();
        assert_eq!(
            (status, on_b),
            (
                200,
                vec!["claude-3-5-sonnet".to_owned(), "mistral-large".to_owned()]
            )
        );
        // LiteLLM lists a restricted key's allowed names as they are, even a model this proxy does not serve.
        let (status, on_b) = list_models(&client, &b, LiteLlmProxy::KEY_ONLY_GPT4O).await;
        assert_eq!((status, on_b), (200, vec!["gpt-4o".to_owned()]));
        let (status, body) = chat(&client, &b, LiteLlmProxy::KEY_ONLY_GPT4O, "gpt-4o").await;
        assert_eq!(status, 400, "{body}"); // "Invalid model name passed in model=gpt-4o"

        // The YAML deployment-id fixture is what a real proxy reports for that config file.
        let fixture: Value = serde_json::from_str(
            &std::fs::read_to_string(crate_dir().join("tests/fixtures/deployment_ids_yaml.json"))
                .expect("the YAML id fixture"),
        )
        .expect("JSON");
        let expected: Vec<(String, String)> = fixture
            .as_array()
            .expect("a list")
            .iter()
            .map(|row| {
                (
                    row["model_name"].as_str().expect("model_name").to_owned(),
                    row["id"].as_str().expect("id").to_owned(),
                )
            })
            .collect();
        let response = client
            .get(format!("{}/v1/model/info", ids.base_url()))
            .bearer_auth(LiteLlmProxy::MASTER_KEY)
            .send()
            .await
            .expect("GET /v1/model/info");
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("JSON");
        let reported: Vec<(String, String)> = body["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|row| {
                (
                    row["model_name"].as_str().expect("model_name").to_owned(),
                    row["model_info"]["id"].as_str().expect("id").to_owned(),
                )
            })
            .collect();
        assert_eq!(
            reported, expected,
            "regenerate with: target/litellm-venv/bin/python tests/litellm/deployment_ids.py"
        );
    });

    let (port, pid) = (a.port(), a.pid());
    let stopping = Instant::now();
    a.stop();
    eprintln!(
        "proxy A stopped in {:.2} s",
        stopping.elapsed().as_secs_f64()
    );
    let refused = TcpStream::connect_timeout(
        &SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_secs(2),
    );
    assert_eq!(
        refused.map_err(|e| e.kind()).err(),
        Some(ErrorKind::ConnectionRefused)
    );
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains("litellm"),
        "proxy A (pid {pid}) still runs"
    );
    a.stop(); // idempotent

    let b_port = b.port();
    drop(b); // Drop stops it too.
    drop(ids);
    assert!(
        TcpStream::connect_timeout(
            &SocketAddr::from((Ipv4Addr::LOCALHOST, b_port)),
            Duration::from_secs(2)
        )
        .is_err()
    );
}
