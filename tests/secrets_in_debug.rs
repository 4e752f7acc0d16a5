//! Credentials planted in a config never reach `Debug`: found by what a value is (URL userinfo, a
//! credential query parameter, an `Authorization`-style value) and by the name of a header or key, at any
//! depth, in every type that prints a deployment. Serialization stays the user's file, byte for byte.

use std::sync::Arc;

use modelroute::config::RouterConfig;
use modelroute::router::{ChangeSet, RequestContext};
use modelroute::{Deployment, Router};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Every secret planted in [`CONFIG`], each in a different form.
const SECRETS: &[&str] = &[
    "Userinfo0pw1A",       // api_base userinfo password
    "CookieSess2B",        // Cookie header
    "AuthHdrTok3C",        // Authorization header
    "ApiKeyHdr4D",         // api-key header
    "XApiKeyHdr5E",        // x-api-key header
    "QueryKey6F",          // ?api-key= in api_base
    "ModelUrlPw7G",        // userinfo inside litellm_params.model (a wildcard target)
    "ModelTok8H",          // ?token= inside litellm_params.model
    "U0VDUkVUX0JBU0lDXzk", // Basic credentials deep in model_info
    "SasSig10J",           // ?sig= deep in an array of litellm_params
    "ExtraPw11K",          // userinfo in a top-level extra key
    "ProxyAuth12L",        // Proxy-Authorization header with an unknown scheme
    "SetCookie13M",        // Set-Cookie deep in model_info
];

const CONFIG: &str = r#"{"model_list": [
  {"model_name": "gpt-4o",
   "litellm_params": {"model": "openai/gpt-4o",
     "api_base": "https://alice:Userinfo0pw1A@proxy.example.com/v1",
     "extra_headers": {"Cookie": "session=CookieSess2B", "Authorization": "Bearer AuthHdrTok3C",
                       "api-key": "ApiKeyHdr4D", "X-Api-Key": "XApiKeyHdr5E",
                       "Proxy-Authorization": "Custom ProxyAuth12L", "X-Request-Source": "visible-source"}},
   "model_info": {"id": "d-1", "deep": {"list": [{"headers": {"authorization": "Basic U0VDUkVUX0JBU0lDXzk="}},
                                                   {"headers": {"Set-Cookie": "sid=SetCookie13M; Path=/"}}]}}},
  {"model_name": "gpt-4o",
   "litellm_params": {"model": "azure/gpt-4o",
     "api_base": "https://azure.example.com/openai?api-version=2024-02-01&api-key=QueryKey6F",
     "storage": [{"endpoint": "https://acct.blob.example.net/c?sv=2021-08-06&sig=SasSig10J&se=2030"}]},
   "model_info": {"id": "d-2"},
   "mirror": "https://mirror:ExtraPw11K@mirror.example.com"},
  {"model_name": "vllm/*",
   "litellm_params": {"model": "hosted_vllm/https://bob:ModelUrlPw7G@vllm.example.com/v1/*"},
   "model_info": {"id": "d-3"}},
  {"model_name": "tok/*",
   "litellm_params": {"model": "ollama/http://127.0.0.1:11434/*?token=ModelTok8H"},
   "model_info": {"id": "d-4"}}
]}"#;

fn assert_no_secret(what: &str, shown: &str) {
    for secret in SECRETS {
        assert!(
            !shown.contains(secret),
            "{what} shows the secret {secret:?}: {shown}"
        );
    }
}

#[test]
fn debug_of_every_type_that_holds_a_deployment_masks_credentials_found_by_form_or_header_name() {
    let config = RouterConfig::from_json(CONFIG).unwrap();
    // The secrets are really there: serialization is the user's file.
    let written = serde_json::to_string(config.deployments()).unwrap();
    for secret in SECRETS {
        assert!(written.contains(secret), "{secret} planted");
    }

    assert_no_secret("RouterConfig", &format!("{config:?}"));
    for d in config.deployments() {
        assert_no_secret("Deployment", &format!("{d:?}"));
        assert_no_secret("Deployment (pretty)", &format!("{d:#?}"));
        assert_no_secret("LiteLlmParams", &format!("{:?}", d.litellm_params()));
        assert_no_secret("ModelInfo", &format!("{:?}", d.model_info()));
    }
    let changes = config
        .deployments()
        .iter()
        .cloned()
        .fold(ChangeSet::new(), ChangeSet::upsert);
    assert_no_secret("ChangeSet", &format!("{changes:?}"));

    let router = Router::from_config(config);
    assert_no_secret("RoutingTable", &format!("{:?}", router.routing_table()));
    let ctx = RequestContext::new();
    for model in ["gpt-4o", "vllm/llama-3", "tok/llama3"] {
        let route = router.route(model, &ctx).unwrap();
        assert_no_secret("Route", &format!("{route:?}"));
        let resolution = router.explain(model, &ctx).unwrap();
        assert_no_secret("Resolution", &format!("{resolution:?}"));
    }

    // The route still calls the model it names (the concrete model is untouched; only Debug masks).
    let route = router.route("vllm/llama-3", &ctx).unwrap();
    assert_eq!(
        route.model(),
        "hosted_vllm/https://bob:ModelUrlPw7G@vllm.example.com/v1/llama-3"
    );
    // What is not a credential stays readable.
    let shown = format!("{:?}", route);
    assert!(shown.contains("vllm.example.com/v1/llama-3"), "{shown}");
    let d2 = router.get(&"d-2".into()).unwrap();
    let shown = format!("{d2:?}");
    for visible in [
        "azure.example.com/openai",
        "api-version=2024-02-01",
        "sv=2021-08-06",
        "se=2030",
    ] {
        assert!(shown.contains(visible), "{visible} in {shown}");
    }
    let d1 = router.get(&"d-1".into()).unwrap();
    let shown = format!("{d1:?}");
    assert!(shown.contains("proxy.example.com/v1"), "{shown}");
    assert!(shown.contains("visible-source"), "{shown}");
}

#[test]
fn a_wildcard_target_refused_for_its_star_count_does_not_print_its_credentials() {
    let config = RouterConfig::loader()
        .lenient(true)
        .load_json(
            r#"{"model_list": [{"model_name": "a/*",
                "litellm_params": {"model": "hosted_vllm/https://bob:StarPw99Z@h.example.com/*/*"}}]}"#,
        )
        .unwrap();
    assert_eq!(config.skipped().len(), 1);
    let skipped = &config.skipped()[0];
    for shown in [
        format!("{config:?}"),
        format!("{skipped}"),
        format!("{skipped:?}"),
    ] {
        assert!(!shown.contains("StarPw99Z"), "{shown}");
        assert!(shown.contains("h.example.com"), "{shown}");
    }
    let strict = RouterConfig::from_json(
        r#"{"model_list": [{"model_name": "a/*",
            "litellm_params": {"model": "hosted_vllm/https://bob:StarPw99Z@h.example.com/*/*"}}]}"#,
    )
    .unwrap_err();
    assert!(!format!("{strict} {strict:?}").contains("StarPw99Z"));
}

#[test]
fn serialization_of_a_deployment_with_credentials_is_byte_exact() {
    let config: Value = serde_json::from_str(CONFIG).unwrap();
    for entry in config["model_list"].as_array().unwrap() {
        let text = serde_json::to_string(entry).unwrap();
        let d: Deployment = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), text);
        assert_eq!(serde_json::to_string(&d.to_value()).unwrap(), text);
    }
}

// ---------------------------------------------------------------------------------------------------
// Property: wherever a secret is planted (any depth, objects or arrays, in litellm_params, model_info or
// a top-level extra key) and in whichever recognisable form, `Debug` of the deployment never shows it.

/// A form a credential takes, given the secret.
#[derive(Debug, Clone)]
enum Plant {
    /// `{name: secret}` under a sensitive header or key name.
    Named(String),
    /// `scheme://user:secret@host/path`.
    UserinfoPassword(String),
    /// `scheme://secret@host`.
    UserinfoUser,
    /// `https://host/p?a=1&name=secret&b=2` with a credential parameter name.
    Query(String),
    /// `Bearer secret`.
    Bearer,
    /// A header line `Name: secret` inside a string.
    HeaderLine(String),
}

fn sensitive_name() -> impl Strategy<Value = String> {
    let names = prop::sample::select(vec![
        "Authorization",
        "proxy-authorization",
        "Cookie",
        "set-cookie",
        "api-key",
        "x-api-key",
        "X-Goog-Api-Key",
        "anthropic-api-key",
        "Ocp-Apim-Subscription-Key",
        "api_key",
        "aws_secret_access_key",
        "password",
        "client_secret",
        "access_token",
        "x-auth-token",
        "vertex_credentials",
        "X-Amz-Security-Token",
    ]);
    (names, any::<bool>()).prop_map(|(n, upper)| {
        if upper {
            n.to_ascii_uppercase()
        } else {
            n.to_string()
        }
    })
}

fn query_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "api-key",
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "sig",
        "signature",
        "password",
        "secret",
        "auth",
        "X-Amz-Signature",
        "X-Amz-Credential",
        "api%2Dkey",
    ])
    .prop_map(str::to_string)
}

fn plant() -> impl Strategy<Value = Plant> {
    prop_oneof![
        sensitive_name().prop_map(Plant::Named),
        "[a-z]{1,8}".prop_map(Plant::UserinfoPassword),
        Just(Plant::UserinfoUser),
        query_name().prop_map(Plant::Query),
        Just(Plant::Bearer),
        sensitive_name().prop_map(Plant::HeaderLine),
    ]
}

impl Plant {
    /// The value holding `secret`, and the key to put it under (`None`: any benign key).
    fn value(&self, secret: &str) -> (Option<String>, Value) {
        match self {
            Plant::Named(name) => (Some(name.clone()), json!(secret)),
            Plant::UserinfoPassword(user) => (
                None,
                json!(format!("https://{user}:{secret}@h.example.com/v1")),
            ),
            Plant::UserinfoUser => (None, json!(format!("redis://{secret}@cache.local:6379/0"))),
            Plant::Query(name) => (
                None,
                json!(format!("https://h.example.com/p?a=1&{name}={secret}&b=2")),
            ),
            Plant::Bearer => (None, json!(format!("Bearer {secret}"))),
            Plant::HeaderLine(name) => (None, json!(format!("X-Trace: 1\n{name}: {secret}"))),
        }
    }
}

/// Where to plant: a path of steps into nested objects (`Ok(key)`) or arrays (`Err(())`).
fn path() -> impl Strategy<Value = Vec<Result<String, ()>>> {
    prop::collection::vec(prop_oneof!["[a-z_]{1,6}".prop_map(Ok), Just(Err(()))], 0..5)
}

/// `value` nested along `path`, under `leaf_key` at the bottom.
fn nest(path: &[Result<String, ()>], leaf_key: String, value: Value) -> Value {
    let mut v = Value::Object(Map::from_iter([(leaf_key, value)]));
    for step in path.iter().rev() {
        v = match step {
            Ok(key) => Value::Object(Map::from_iter([(key.clone(), v)])),
            Err(()) => Value::Array(vec![json!("benign"), v]),
        };
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn debug_of_a_deployment_never_shows_a_secret_planted_anywhere(
        secret in "Zq[A-Za-z0-9]{12,20}",
        plants in prop::collection::vec((plant(), 0..3usize, path(), "[a-z]{1,6}"), 1..4),
    ) {
        let mut entry = json!({
            "model_name": "m",
            "litellm_params": {"model": "openai/gpt-4o"},
            "model_info": {},
        });
        for (i, (plant, section, path, benign_key)) in plants.iter().enumerate() {
            let (key, value) = plant.value(&secret);
            let leaf_key = key.unwrap_or_else(|| benign_key.clone());
            let nested = nest(path, leaf_key, value);
            let slot = format!("p{i}");
            match section {
                0 => entry["litellm_params"][&slot] = nested,
                1 => entry["model_info"][&slot] = nested,
                _ => entry[format!("x_{slot}")] = nested,
            }
        }
        let d = Deployment::from_value(entry.clone()).unwrap();
        prop_assert!(serde_json::to_string(&d).unwrap().contains(&secret), "planted");
        prop_assert_eq!(d.to_value(), entry);
        let shown = format!("{d:?}");
        prop_assert!(!shown.contains(&secret), "{} in {}", secret, shown);
        let router = Router::new([Arc::new(d)]).unwrap();
        let table = format!("{:?}", router.routing_table());
        prop_assert!(!table.contains(&secret), "{} in {}", secret, table);
    }
}
