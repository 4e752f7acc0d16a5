//! Hostile servers on 127.0.0.1 (wiremock) echo the key back in every shape they can: cut short, base64
//! of the `Authorization` header (alone or inside a longer blob), percent-encoded, or as the value of a
//! field the parser rejects. No `DiscoveryError` or `CacheError` shows any of it, in `Display` or `Debug`,
//! and server messages stay short excerpts.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use modelroute::{LiteLlm, LmStudio, ModelCache, ModelCacheOptions, Provider, Secret};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A key with characters that change under percent-encoding.
const KEY: &str = "sk-live-7Hq2+Xr9/Lm4=Tz8Vb1Nc6Kd3Wf5Yg0Pj";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// `s` percent-encoded, every non-alphanumeric byte escaped, hex digits in upper or lower case.
fn percent_encoded(s: &str, upper_hex: bool) -> String {
    s.bytes()
        .map(|b| match (b.is_ascii_alphanumeric(), upper_hex) {
            (true, _) => (b as char).to_string(),
            (false, true) => format!("%{b:02X}"),
            (false, false) => format!("%{b:02x}"),
        })
        .collect()
}

/// Every 10-character window of `planted` (a token that carries the key): none may be shown.
fn assert_not_shown(shown: &str, planted: &str) {
    let chars: Vec<char> = planted.chars().collect();
    for w in chars.windows(10) {
        let w: String = w.iter().collect();
        assert!(
            !shown.contains(&w),
            "{w:?} of {planted:?} shown in: {shown}"
        );
    }
}

/// A LiteLLM proxy on 127.0.0.1 answering `/v1/model/info` with `status` and `body`.
async fn litellm_answering(status: u16, body: &str, content_type: &str) -> (MockServer, LiteLlm) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/model/info"))
        .respond_with(ResponseTemplate::new(status).set_body_raw(body.to_string(), content_type))
        .mount(&server)
        .await;
    let provider = LiteLlm::new(&server.uri(), Some(Secret::new(KEY))).unwrap();
    (server, provider)
}

/// Lists through the provider and through a model cache; returns everything both errors show.
async fn shown_errors(provider: LiteLlm) -> (modelroute::DiscoveryError, String) {
    let client = client();
    let err = provider.list_models(&client).await.unwrap_err();
    let cache = ModelCache::new(ModelCacheOptions::new());
    let cached = cache.get(&Arc::new(provider), &client).await.unwrap_err();
    let shown = format!("{err}\n{err:?}\n{cached}\n{cached:?}");
    (err, shown)
}

#[tokio::test]
async fn a_401_echoing_the_key_cut_short_shows_neither_the_key_nor_its_prefix() {
    let cut = &KEY[..KEY.len() - 4];
    let body = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {cut}****. You can find your API key at https://example.com/keys.","type":"invalid_request_error"}}}}"#
    );
    let (_server, provider) = litellm_answering(401, &body, "application/json").await;
    let (err, shown) = shown_errors(provider).await;
    assert!(err.is_unauthorized(), "{err:?}");
    assert_not_shown(&shown, cut);
    assert!(
        shown.contains("Incorrect API key provided"),
        "the server's message is kept: {shown}"
    );
}

#[tokio::test]
async fn a_401_echoing_base64_of_the_authorization_header_shows_none_of_it() {
    let bearer = format!("Bearer {KEY}");
    let std_b64 = STANDARD.encode(&bearer);
    let url_b64 = URL_SAFE_NO_PAD.encode(&bearer);
    // The header inside a longer blob: the key sits at another base64 alignment.
    let blob = STANDARD.encode(format!("GET /v1/model/info\r\nAuthorization: {bearer}\r\n"));
    for planted in [&std_b64, &url_b64, &blob] {
        let body = format!(r#"{{"detail":"rejected credentials {planted} (see logs)"}}"#);
        let (_server, provider) = litellm_answering(401, &body, "application/json").await;
        let (err, shown) = shown_errors(provider).await;
        assert!(err.is_unauthorized(), "{err:?}");
        assert_not_shown(&shown, KEY);
        assert_not_shown(&shown, planted);
        assert!(shown.contains("rejected credentials"), "{shown}");
    }
}

#[tokio::test]
async fn a_server_error_echoing_the_key_percent_encoded_shows_none_of_it() {
    for planted in [percent_encoded(KEY, false), percent_encoded(KEY, true)] {
        let body = format!("upstream refused key {planted} for org-1\n");
        let (_server, provider) = litellm_answering(500, &body, "text/plain").await;
        let (err, shown) = shown_errors(provider).await;
        assert_eq!(err.status(), Some(500), "{err:?}");
        assert_not_shown(&shown, KEY);
        assert_not_shown(&shown, &planted);
        assert!(shown.contains("upstream refused key"), "{shown}");
    }
}

#[tokio::test]
async fn a_200_body_holding_the_authorization_header_where_a_list_belongs_names_the_path_not_the_value()
 {
    let body = format!(r#"{{"data": "Bearer {KEY}"}}"#);
    let (_server, provider) = litellm_answering(200, &body, "application/json").await;
    let (err, shown) = shown_errors(provider).await;
    assert!(err.is_malformed(), "{err:?}");
    assert_not_shown(&shown, KEY);
    assert!(!shown.contains("Bearer"), "{shown}");
    match &err {
        modelroute::DiscoveryError::Malformed { path, reason, .. } => {
            assert_eq!(path, "data");
            assert!(reason.contains("string"), "what was found: {reason}");
            assert!(reason.contains("sequence"), "what was expected: {reason}");
        }
        other => panic!("{other:?}"),
    }

    // The same for LM Studio, whose first endpoint is /api/v1/models.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(r#"{{"models": "Bearer {KEY}"}}"#),
            "application/json",
        ))
        .mount(&server)
        .await;
    let lms = LmStudio::new(&server.uri(), Some(Secret::new(KEY))).unwrap();
    let err = lms.list_models(&client()).await.unwrap_err();
    assert!(err.is_malformed(), "{err:?}");
    assert_not_shown(&format!("{err} {err:?}"), KEY);
}

#[tokio::test]
async fn a_huge_server_message_is_cut_to_a_short_excerpt() {
    let body = format!(r#"{{"error":"{}"}}"#, "overloaded ".repeat(5000));
    let (_server, provider) = litellm_answering(503, &body, "application/json").await;
    let (err, _) = shown_errors(provider).await;
    let shown = err.to_string();
    assert!(shown.contains("overloaded"), "{shown}");
    assert!(
        shown.chars().count() < 500,
        "{} chars",
        shown.chars().count()
    );
}
