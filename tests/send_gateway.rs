//! `examples/gateway.rs` end to end: the example binary (built by the test with the test's own cargo) serves
//! `tests/litellm/gateway.yaml`, whose deployments are two real LiteLLM proxies; the client is the official
//! `openai` Python package (pinned, installed by the test set-up into its own venv), with its own retries
//! off. It lists the models, chats, streams and calls a tool through the gateway; then one upstream proxy is
//! stopped, and the same requests still succeed, through the other one. No test waits for a cooldown: a
//! refused connection is retried on the other deployment at once.
#![cfg(all(feature = "openai", feature = "yaml"))]

mod support;

use std::thread;

use serde_json::{Value, json};
use support::gateway::{Gateway, example_binary};
use support::litellm::{LiteLlmProxy, ProxyConfig, litellm_dir};
use support::openai::{OpenAiClient, ensure_installed};

const GATEWAY_KEY: &str = "sk-gateway-test-key";

fn ok(answer: Value) -> Value {
    assert_eq!(answer["ok"], true, "the openai client failed: {answer}");
    answer
}

/// A chat, a streamed chat and a tool call; returns the deployments that answered them.
fn round(client: &mut OpenAiClient) -> [String; 3] {
    let chat = ok(client.ask(json!({"op": "chat", "model": "gpt-4o"})));
    assert_eq!(chat["content"], "Hello from gpt-4o (mock)");
    assert_eq!(chat["finish_reason"], "stop");
    assert!(
        chat["usage"]["completion_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{chat}"
    );

    let stream = ok(client.ask(json!({"op": "stream", "model": "gpt-4o"})));
    assert_eq!(stream["content"], "Hello from gpt-4o (mock)");
    assert!(
        stream["chunks"].as_u64().is_some_and(|n| n >= 2),
        "{stream}"
    );
    assert_eq!(stream["finish_reason"], "stop");
    // The client asked for usage (stream_options.include_usage): the gateway passes the usage chunk on.
    assert!(
        stream["usage"]["prompt_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{stream}"
    );

    let tools = ok(client.ask(json!({"op": "tools", "model": "tools"})));
    assert_eq!(
        tools["tool_calls"],
        json!([{"id": "call_abc123", "name": "get_weather", "arguments": {"city": "Paris"}}])
    );

    [chat, stream, tools].map(|a| a["deployment"].as_str().unwrap_or_default().to_string())
}

#[test]
fn the_gateway_example_serves_the_official_openai_client_and_survives_an_upstream_stopping() {
    // Everything that takes a while, at once: two proxies, the example's build, the client's install.
    let a = thread::spawn(|| {
        LiteLlmProxy::start(ProxyConfig::File(litellm_dir().join("config_send.yaml")))
    });
    let b = thread::spawn(|| {
        LiteLlmProxy::start(ProxyConfig::File(litellm_dir().join("config_send.yaml")))
    });
    let exe = thread::spawn(|| example_binary("gateway"));
    ensure_installed();
    let mut upstream_a = a.join().expect("proxy A starts");
    let upstream_b = b.join().expect("proxy B starts");
    let exe = exe.join().expect("the gateway example builds");

    let mut gateway = Gateway::start(
        &exe,
        &litellm_dir().join("gateway.yaml"),
        &[
            ("UPSTREAM_A", &upstream_a.base_url()),
            ("UPSTREAM_B", &upstream_b.base_url()),
            ("UPSTREAM_KEY", LiteLlmProxy::MASTER_KEY),
            ("GATEWAY_API_KEY", GATEWAY_KEY),
        ],
    );
    let base_url = format!("{}/v1", gateway.url());

    // A wrong key is refused by the gateway, in OpenAI's shape (the client raises AuthenticationError).
    let mut stranger = OpenAiClient::start(&base_url, "sk-wrong");
    let refused = stranger.ask(json!({"op": "models"}));
    assert_eq!(
        (refused["ok"].clone(), refused["status"].clone()),
        (json!(false), json!(401)),
        "{refused}"
    );
    stranger.stop();

    let mut client = OpenAiClient::start(&base_url, GATEWAY_KEY);
    let models = ok(client.ask(json!({"op": "models"})));
    assert_eq!(models["ids"], json!(["gpt-4o", "tools"]));

    // Both upstreams up.
    let answered = round(&mut client);
    let known = ["upstream-a", "upstream-b", "tools-a", "tools-b"];
    assert!(
        answered.iter().all(|d| known.contains(&d.as_str())),
        "{answered:?}"
    );

    // One upstream stops (by PID; its port refuses connections when stop returns). The same client goes on.
    upstream_a.stop();
    for _ in 0..3 {
        let answered = round(&mut client);
        assert_eq!(
            answered,
            ["upstream-b", "upstream-b", "tools-b"].map(String::from)
        );
    }
    // An unknown model is the gateway's 400, as LiteLLM's proxy answers.
    let unknown = client.ask(json!({"op": "chat", "model": "no-such-model"}));
    assert_eq!(
        (unknown["ok"].clone(), unknown["status"].clone()),
        (json!(false), json!(400)),
        "{unknown}"
    );

    client.stop();
    gateway.stop();
    let log = gateway.log();
    assert!(
        !log.contains(LiteLlmProxy::MASTER_KEY),
        "the upstream key leaked into the log:\n{log}"
    );
}
