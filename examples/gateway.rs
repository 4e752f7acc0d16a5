//! An OpenAI-compatible gateway in front of the deployments of a LiteLLM config: `/v1/chat/completions`
//! (streamed or not) and `/v1/models`, routed by modelroute with LiteLLM's retries and fallbacks.
//!
//! ```sh
//! cargo run --example gateway --features openai,yaml -- config.yaml 127.0.0.1:4000
//! curl localhost:4000/v1/chat/completions -H 'content-type: application/json' \
//!   -d '{"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}'
//! ```
//!
//! The config (LiteLLM's `model_list` and `router_settings`, YAML or JSON) may also be named by
//! `MODELROUTE_CONFIG`; if `GATEWAY_API_KEY` is set, clients must send it as `Authorization: Bearer …`.
//! Each answer names the deployment that gave it in `x-modelroute-deployment`. For `https` upstreams, enable
//! a TLS feature of reqwest (e.g. `rustls`) in your own crate.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router as Http};
use futures_util::StreamExt;
use modelroute::call::{Sender, SentStream, Sleep};
use modelroute::config::RouterConfig;
use modelroute::router::RequestContext;
use modelroute::{Router, SendError};
use serde_json::{Value, json};

struct Gateway {
    router: Router,
    client: reqwest::Client,
    sender: Sender,
    api_key: Option<String>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let config = (args.next())
        .or_else(|| std::env::var("MODELROUTE_CONFIG").ok())
        .ok_or("usage: gateway CONFIG [ADDR] (or set MODELROUTE_CONFIG)")?;
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:4000".to_string());
    // It lives as long as the process: a `&'static` lets streamed bodies borrow the router.
    let gateway: &'static Gateway = Box::leak(Box::new(Gateway {
        router: RouterConfig::from_file(&config)?.into_router(),
        client: reqwest::Client::new(),
        // The runtime's timer: waits between retries, and stream timeouts.
        sender: Sender::new(|d| -> Sleep { Box::pin(tokio::time::sleep(d)) }),
        api_key: std::env::var("GATEWAY_API_KEY").ok(),
    }));
    let app = Http::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .with_state(gateway);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn chat(State(gw): State<&'static Gateway>, headers: HeaderMap, body: Bytes) -> Response {
    if !gw.authorized(&headers) {
        return error(401, "invalid API key");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "the body is not JSON");
    };
    let Some(model) = request["model"].as_str() else {
        return error(400, "`model` is required");
    };
    let (sender, client, router, ctx) = (&gw.sender, &gw.client, &gw.router, RequestContext::new());
    let answer = if request["stream"] == true {
        let sent = sender
            .send_stream(client, router, model, &ctx, &request)
            .await;
        sent.map(server_sent_events)
    } else {
        let sent = sender.send(client, router, model, &ctx, &request).await;
        sent.map(|sent| {
            let id = sent.deployment().id().to_string();
            deployment_header(id, Json(sent.into_completion().body))
        })
    };
    answer.unwrap_or_else(|e: SendError| {
        eprintln!("{model}: {e}"); // every attempt, upstream URLs included: for the logs only
        let mut response = error(e.status(), &e.public_message());
        if let Some(after) = e.retry_after() {
            let seconds = after.as_secs().max(1).into();
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    })
}

/// Each event as the deployment sent it, then `[DONE]`; a failure after the first event (nothing can be
/// retried then) ends the stream with an error event, as LiteLLM's proxy does.
fn server_sent_events(stream: SentStream<'static>) -> Response {
    let id = stream.deployment().id().to_string();
    let events = futures_util::stream::unfold(Some(stream), |stream| async move {
        let mut stream = stream?;
        let (data, rest) = match stream.next().await {
            Some(Ok(event)) => (event.into_data(), Some(stream)),
            Some(Err(e)) => {
                let message = e
                    .error_body()
                    .and_then(|b| b.message())
                    .unwrap_or("upstream failed");
                (
                    json!({"error": {"message": message, "code": e.status()}}).to_string(),
                    None,
                )
            }
            None => ("[DONE]".to_string(), None),
        };
        Some((Ok::<_, Infallible>(format!("data: {data}\n\n")), rest))
    });
    let sse = (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(events),
    );
    deployment_header(id, sse)
}

fn deployment_header(id: String, response: impl IntoResponse) -> Response {
    ([("x-modelroute-deployment", id)], response).into_response()
}

async fn models(State(gw): State<&'static Gateway>, headers: HeaderMap) -> Response {
    if !gw.authorized(&headers) {
        return error(401, "invalid API key");
    }
    let mut names: Vec<String> = (gw.router.deployments().iter())
        .map(|d| d.model_name().to_string())
        .filter(|name| !name.contains('*')) // wildcard routes are not models
        .collect();
    names.sort();
    names.dedup();
    let data: Vec<Value> = (names.iter())
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "modelroute"}))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

impl Gateway {
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(key) = &self.api_key else {
            return true;
        };
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        sent.and_then(|v| v.strip_prefix("Bearer ")) == Some(key.as_str())
    }
}

/// An error in OpenAI's shape.
fn error(status: u16, message: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let body = json!({"error": {"message": message, "type": null, "param": null, "code": status.as_str()}});
    (status, Json(body)).into_response()
}
