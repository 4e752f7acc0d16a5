//! A small provider for the model-cache tests and benchmarks: lists `GET {base}/v1/models` (OpenAI shape)
//! over real HTTP, so a 127.0.0.1 server (wiremock) counts the requests that reach it.
#![allow(dead_code)] // each test crate uses a different part

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use modelroute::{
    BaseUrl, DiscoveryError, KeyFingerprint, ModelDescriptor, Provider, ProviderKind, Secret,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Lists `{base}/v1/models` with an optional Bearer key.
#[derive(Debug)]
pub struct HttpList {
    kind: ProviderKind,
    base: BaseUrl,
    key: Option<Secret>,
    fingerprint: Option<KeyFingerprint>,
}

impl HttpList {
    pub fn new(base: &str, key: Option<&str>) -> Arc<Self> {
        Self::of_kind(ProviderKind::LiteLlm, base, key)
    }

    pub fn of_kind(kind: ProviderKind, base: &str, key: Option<&str>) -> Arc<Self> {
        let key = key.map(Secret::new);
        Arc::new(HttpList {
            kind,
            base: BaseUrl::parse(base).expect("test base URL"),
            fingerprint: key.as_ref().map(Secret::fingerprint),
            key,
        })
    }
}

#[async_trait]
impl Provider for HttpList {
    fn kind(&self) -> ProviderKind {
        self.kind
    }
    fn base_url(&self) -> &BaseUrl {
        &self.base
    }
    fn credential_fingerprint(&self) -> Option<&KeyFingerprint> {
        self.fingerprint.as_ref()
    }
    async fn list_models(
        &self,
        client: &reqwest::Client,
    ) -> Result<Vec<ModelDescriptor>, DiscoveryError> {
        let endpoint = self.base.endpoint("v1/models");
        let mut request = client.get(&endpoint);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                DiscoveryError::TimedOut {
                    endpoint: endpoint.clone(),
                }
            } else if e.is_connect() {
                DiscoveryError::Unreachable {
                    endpoint: endpoint.clone(),
                    source: Arc::new(e),
                }
            } else {
                DiscoveryError::Transport {
                    endpoint: endpoint.clone(),
                    source: Arc::new(e),
                }
            }
        })?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(DiscoveryError::Unauthorized {
                endpoint,
                status,
                message: None,
            });
        }
        if !response.status().is_success() {
            return Err(DiscoveryError::Status {
                endpoint,
                status,
                message: None,
            });
        }
        let body: serde_json::Value =
            response
                .json()
                .await
                .map_err(|e| DiscoveryError::Malformed {
                    endpoint: endpoint.clone(),
                    path: ".".to_string(),
                    reason: e.to_string(),
                })?;
        let data = body["data"]
            .as_array()
            .ok_or_else(|| DiscoveryError::Malformed {
                endpoint: endpoint.clone(),
                path: "data".to_string(),
                reason: "not an array".to_string(),
            })?;
        data.iter()
            .enumerate()
            .map(|(i, entry)| match entry["id"].as_str() {
                Some(id) => Ok(ModelDescriptor::new(id)),
                None => Err(DiscoveryError::Malformed {
                    endpoint: endpoint.clone(),
                    path: format!("data[{i}].id"),
                    reason: "missing".to_string(),
                }),
            })
            .collect()
    }
}

/// An OpenAI-shaped `/v1/models` body.
pub fn models_body(ids: &[&str]) -> serde_json::Value {
    serde_json::json!({
        "object": "list",
        "data": ids.iter().map(|id| serde_json::json!({"id": id, "object": "model"})).collect::<Vec<_>>(),
    })
}

/// Makes `server` answer `/v1/models` with `ids` (after `delay`), replacing what it answered before.
pub async fn serve(server: &MockServer, ids: &[&str], delay: Duration) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(models_body(ids))
                .set_delay(delay),
        )
        .mount(server)
        .await;
}

/// Makes `server` answer `/v1/models` with `status`.
pub async fn serve_status(server: &MockServer, status: u16) {
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(status))
        .mount(server)
        .await;
}

/// Requests `server` received (counted server-side).
pub async fn requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .map_or(0, |requests| requests.len())
}

/// A client whose every request gives up after 10 s. No idle connections are kept, so a request to a
/// server that went away fails as "unreachable" (connection refused), not on a dead pooled connection.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

/// A wiremock server of its own (not from wiremock's pool): once dropped, its port refuses connections.
/// Stops `server` and waits (at most 5 s) until its port refuses connections: wiremock shuts down in the
/// background, and a connection accepted meanwhile would be reset rather than refused.
pub async fn stop_server(server: MockServer) {
    let addr = *server.address();
    drop(server);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server at {addr} still accepts connections"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn exclusive_server() -> MockServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    MockServer::builder().listener(listener).start().await
}

/// `http://127.0.0.1:PORT` of a port nothing listens on (bound, then released).
pub fn dead_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
