//! Every way a call fails, from real HTTP servers on 127.0.0.1 that fail on purpose: error statuses with
//! their bodies and `Retry-After`, hangs past the timeout, streams cut, oversized or carrying an error, and
//! answers that are not what the API documents. Each failure is typed, says whether a stream had started,
//! and never shows the key.
#![cfg(feature = "openai")]

mod support;

use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use modelroute::Deployment;
use modelroute::call::{ChatCall, Endpoint};
use modelroute::error::CallError;
use serde_json::{Value, json};
use support::http::{
    Piece, TestServer, chunk, hang, json_response, streamed_response, tokio_timer, with_header,
};

const BOUND: Duration = Duration::from_secs(30);
const KEY: &str = "sk-live-secret-0123456789";

fn call_to(server: &TestServer, extra: Value) -> ChatCall {
    let mut params = json!({"model": "openai/gpt-4o", "api_base": format!("{}/v1", server.url()), "api_key": KEY});
    for (k, v) in extra.as_object().unwrap() {
        params[k] = v.clone();
    }
    let d = Deployment::from_value(json!({"model_name": "g", "litellm_params": params})).unwrap();
    let e = Endpoint::resolve(d.litellm_params(), "openai/gpt-4o", &|_: &str| None).unwrap();
    ChatCall::new(e).with_timer(tokio_timer())
}

fn body() -> Value {
    json!({"messages": [{"role": "user", "content": "hi"}]})
}

async fn complete_err(call: &ChatCall) -> CallError {
    let client = reqwest::Client::new();
    tokio::time::timeout(BOUND, call.complete(&client, &body()))
        .await
        .expect("bounded")
        .expect_err("the call fails")
}

async fn stream_err(call: &ChatCall) -> CallError {
    let client = reqwest::Client::new();
    tokio::time::timeout(BOUND, call.stream(&client, &body()))
        .await
        .expect("bounded")
        .expect_err("the stream fails before its first event")
}

/// Opens the stream, reads the first event, and returns the error that ends it.
async fn error_after_first_event(call: &ChatCall) -> CallError {
    let client = reqwest::Client::new();
    tokio::time::timeout(BOUND, async {
        let mut s = call
            .stream(&client, &body())
            .await
            .expect("the stream starts");
        let first = s
            .next()
            .await
            .expect("a first event")
            .expect("the first event is fine");
        assert_eq!(
            first.json().unwrap()["choices"][0]["delta"]["content"],
            "hel"
        );
        let mut error = None;
        while let Some(item) = s.next().await {
            if let Err(e) = item {
                error = Some(e);
            }
        }
        assert!(s.next().await.is_none(), "the stream ends after its error");
        error.expect("the stream ends with an error")
    })
    .await
    .expect("bounded")
}

fn assert_secret_free(err: &CallError) {
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(KEY), "{text}");
    }
    if let Some(body) = err.error_body() {
        assert!(!body.text().contains(KEY));
    }
}

#[tokio::test]
async fn a_server_error_is_a_status_error_with_its_body() {
    let server = TestServer::start(|_req| async {
        json_response(500, json!({"error": {"message": "upstream exploded", "type": "internal_server_error", "code": "500"}}))
    })
    .await;
    for err in [
        complete_err(&call_to(&server, json!({}))).await,
        stream_err(&call_to(&server, json!({}))).await,
    ] {
        assert_eq!(err.status(), Some(500));
        assert!(err.is_before_first_event());
        assert_eq!(
            err.error_body().unwrap().message(),
            Some("upstream exploded")
        );
        assert_eq!(
            err.error_body().unwrap().json().unwrap()["error"]["type"],
            "internal_server_error"
        );
        assert_eq!(err.retry_after(), None);
        assert!(
            err.to_string().contains("HTTP 500: upstream exploded"),
            "{err}"
        );
        assert!(!err.is_config());
    }
}

#[tokio::test]
async fn a_rate_limit_carries_the_servers_retry_after_in_seconds_or_as_a_date() {
    let server = TestServer::start(|req| async move {
        let resp = json_response(
            429,
            json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error"}}),
        );
        if req.body.windows(6).any(|w| w == b"stream") {
            with_header(resp, "retry-after", "7")
        } else {
            let later = SystemTime::now() + Duration::from_secs(3600);
            with_header(resp, "retry-after", &httpdate_fmt(later))
        }
    })
    .await;
    let err = stream_err(&call_to(&server, json!({}))).await;
    assert_eq!(
        (err.status(), err.retry_after()),
        (Some(429), Some(Duration::from_secs(7)))
    );
    let err = complete_err(&call_to(&server, json!({}))).await;
    assert_eq!(err.status(), Some(429));
    let wait = err.retry_after().expect("a date is read");
    assert!(
        wait > Duration::from_secs(3500) && wait <= Duration::from_secs(3600),
        "{wait:?}"
    );
}

fn httpdate_fmt(t: SystemTime) -> String {
    // RFC 7231 IMF-fixdate, built by hand to keep the test free of date crates.
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let days = secs / 86_400;
    let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{weekday}, {d:02} {name} {year} {h:02}:{m:02}:{s:02} GMT")
}

#[tokio::test]
async fn context_window_and_content_policy_refusals_keep_the_body_that_tells_them_apart() {
    let context = json!({"error": {
        "message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
        "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}});
    let policy = json!({"error": {
        "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        "type": null, "param": "prompt", "code": "content_filter", "status": 400,
        "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": true, "severity": "high"}}}}});
    for (answer, code) in [
        (context, "context_length_exceeded"),
        (policy, "content_filter"),
    ] {
        let a = answer.clone();
        let server = TestServer::start(move |_req| {
            let a = a.clone();
            async move { json_response(400, a) }
        })
        .await;
        for err in [
            complete_err(&call_to(&server, json!({}))).await,
            stream_err(&call_to(&server, json!({}))).await,
        ] {
            assert_eq!(err.status(), Some(400));
            assert_eq!(err.error_body().unwrap().json().unwrap(), answer);
            assert_eq!(
                err.error_body().unwrap().json().unwrap()["error"]["code"],
                code
            );
        }
    }
}

#[tokio::test]
async fn a_server_that_echoes_the_key_never_gets_it_into_the_error() {
    let server = TestServer::start(|req| async move {
        let auth = req.header("authorization").unwrap_or_default().to_string();
        json_response(
            401,
            json!({"error": {"message": format!("Incorrect API key provided: {auth}")}}),
        )
    })
    .await;
    let err = complete_err(&call_to(&server, json!({}))).await;
    assert_eq!(err.status(), Some(401));
    assert_secret_free(&err);
    assert!(err.error_body().unwrap().text().contains("Bearer ***"));
}

#[tokio::test]
async fn a_huge_error_body_is_read_and_kept_only_up_to_the_bounds() {
    let server = TestServer::start(|_req| async {
        json_response(503, json!({"error": {"message": "x".repeat(2_000_000)}}))
    })
    .await;
    let err = complete_err(&call_to(&server, json!({}))).await;
    let body = err.error_body().unwrap();
    assert_eq!(err.status(), Some(503));
    assert!(body.is_truncated());
    assert!(body.text().len() <= 16 * 1024);
    assert!(err.to_string().len() < 1000);
}

#[tokio::test]
async fn a_hang_past_the_timeout_is_a_timeout_before_the_first_event() {
    let server = TestServer::start(|_req| hang()).await;
    let call = call_to(&server, json!({"timeout": 0.3}));
    let err = complete_err(&call).await;
    assert!(err.is_timeout(), "{err}");
    assert!(err.is_before_first_event());
    // A stream waits `stream_timeout` (else `timeout`) for its first event, when given a timer.
    let err = stream_err(&call_to(&server, json!({"stream_timeout": 0.3}))).await;
    assert!(err.is_timeout() && err.is_before_first_event(), "{err}");
    let err = stream_err(&call).await;
    assert!(err.is_timeout() && err.is_before_first_event(), "{err}");
}

#[tokio::test]
async fn a_stream_whose_headers_arrive_but_no_event_times_out_before_its_first_event() {
    let server = TestServer::start(|_req| async {
        streamed_response(vec![
            Piece::Bytes(b": keep-alive\n\n".to_vec()),
            Piece::Wait(Duration::from_secs(3600)),
        ])
    })
    .await;
    let err = stream_err(&call_to(&server, json!({"stream_timeout": 0.3}))).await;
    assert!(
        matches!(
            err,
            CallError::Timeout {
                after_first_event: false,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn a_stream_that_goes_quiet_after_its_first_event_times_out_after_it() {
    let server = TestServer::start(|_req| async {
        streamed_response(vec![
            Piece::Data(chunk("hel")),
            Piece::Wait(Duration::from_secs(3600)),
        ])
    })
    .await;
    let err = error_after_first_event(&call_to(&server, json!({"stream_timeout": 0.3}))).await;
    assert!(
        matches!(
            err,
            CallError::Timeout {
                after_first_event: true,
                ..
            }
        ),
        "{err}"
    );
    assert!(!err.is_before_first_event());
}

#[tokio::test]
async fn a_slow_stream_is_not_cut_while_each_wait_stays_under_the_stream_timeout() {
    let server = TestServer::start(|_req| async {
        let mut pieces = vec![Piece::Data(chunk("hel"))];
        for _ in 0..8 {
            pieces.push(Piece::Wait(Duration::from_millis(250)));
            pieces.push(Piece::Data(chunk("lo")));
        }
        pieces.push(Piece::Data("[DONE]".into()));
        streamed_response(pieces)
    })
    .await;
    let call = call_to(&server, json!({"stream_timeout": 1.5}));
    let client = reqwest::Client::new();
    let mut s = call.stream(&client, &body()).await.unwrap();
    let mut n = 0;
    while let Some(event) = tokio::time::timeout(BOUND, s.next()).await.unwrap() {
        event.expect("no timeout: every wait is shorter than stream_timeout, the whole is longer");
        n += 1;
    }
    assert_eq!(n, 9);
    assert!(s.is_done());
}

#[tokio::test]
async fn a_stream_cut_after_its_first_event_ends_with_an_error_after_it() {
    let server = TestServer::start(|_req| async {
        streamed_response(vec![
            Piece::Data(chunk("hel")),
            Piece::Wait(Duration::from_millis(20)),
            Piece::Cut,
        ])
    })
    .await;
    let err = error_after_first_event(&call_to(&server, json!({}))).await;
    assert!(
        matches!(
            err,
            CallError::Transport {
                after_first_event: true,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_stream_that_ends_without_done_is_incomplete() {
    let server = TestServer::start(|req| async move {
        if req.header("x-case") == Some("empty") {
            streamed_response(vec![])
        } else {
            streamed_response(vec![Piece::Data(chunk("hel"))])
        }
    })
    .await;
    let err = error_after_first_event(&call_to(&server, json!({}))).await;
    assert!(
        matches!(
            err,
            CallError::Incomplete {
                after_first_event: true,
                ..
            }
        ),
        "{err}"
    );
    let err = stream_err(&call_to(
        &server,
        json!({"extra_headers": {"x-case": "empty"}}),
    ))
    .await;
    assert!(err.is_incomplete() && err.is_before_first_event(), "{err}");
}

#[tokio::test]
async fn an_oversize_event_is_refused_without_being_held() {
    let big = format!(
        "data: {{\"choices\":[{{\"delta\":{{\"content\":\"{}\"}}}}]}}\n\n",
        "x".repeat(4 << 20)
    );
    let b = big.clone();
    let server = TestServer::start(move |req| {
        let big = b.clone();
        async move {
            let mut pieces = Vec::new();
            if req.header("x-case") != Some("first") {
                pieces.push(Piece::Data(chunk("hel")));
            }
            // The oversize event arrives in 64 KiB pieces, then the stream would go on.
            for part in big.as_bytes().chunks(64 * 1024) {
                pieces.push(Piece::Bytes(part.to_vec()));
            }
            pieces.push(Piece::Data("[DONE]".into()));
            streamed_response(pieces)
        }
    })
    .await;
    let call = call_to(&server, json!({})).max_event_bytes(256 * 1024);
    let err = error_after_first_event(&call).await;
    assert!(
        matches!(
            err,
            CallError::TooLarge {
                limit: 262_144,
                after_first_event: true,
                ..
            }
        ),
        "{err}"
    );
    let call =
        call_to(&server, json!({"extra_headers": {"x-case": "first"}})).max_event_bytes(256 * 1024);
    let err = stream_err(&call).await;
    assert!(err.is_too_large() && err.is_before_first_event(), "{err}");
    // Under a larger limit the same event passes.
    let client = reqwest::Client::new();
    let call = call_to(&server, json!({})).max_event_bytes(8 << 20);
    let mut s = call.stream(&client, &body()).await.unwrap();
    let mut sizes = Vec::new();
    while let Some(e) = tokio::time::timeout(BOUND, s.next()).await.unwrap() {
        sizes.push(e.unwrap().data().len());
    }
    assert_eq!(sizes.len(), 2);
    assert_eq!(sizes[1], big.trim_end().len() - "data: ".len());
}

#[tokio::test]
async fn an_error_event_ends_the_stream_with_the_servers_error() {
    let server = TestServer::start(|req| async move {
        let error = json!({"error": {"message": "Rate limit reached for requests", "type": "rate_limit_error", "code": "429"}}).to_string();
        if req.header("x-case") == Some("first") {
            streamed_response(vec![Piece::Data(error)])
        } else if req.header("x-case") == Some("event") {
            streamed_response(vec![
                Piece::Data(chunk("hel")),
                Piece::Bytes(b"event: error\ndata: {\"message\":\"overloaded\"}\n\n".to_vec()),
            ])
        } else {
            streamed_response(vec![Piece::Data(chunk("hel")), Piece::Data(error)])
        }
    })
    .await;
    let err = error_after_first_event(&call_to(&server, json!({}))).await;
    assert!(
        matches!(
            err,
            CallError::Upstream {
                code: Some(429),
                after_first_event: true,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.status(), Some(429));
    assert_eq!(
        err.error_body().unwrap().message(),
        Some("Rate limit reached for requests")
    );
    let err = stream_err(&call_to(
        &server,
        json!({"extra_headers": {"x-case": "first"}}),
    ))
    .await;
    assert!(
        matches!(
            err,
            CallError::Upstream {
                code: Some(429),
                after_first_event: false,
                ..
            }
        ),
        "{err}"
    );
    let err = error_after_first_event(&call_to(
        &server,
        json!({"extra_headers": {"x-case": "event"}}),
    ))
    .await;
    assert!(
        matches!(err, CallError::Upstream { code: None, .. }),
        "{err}"
    );
    assert_eq!(err.error_body().unwrap().message(), Some("overloaded"));
}

#[tokio::test]
async fn answers_that_are_not_what_the_api_documents_are_malformed_or_upstream_errors() {
    let server = TestServer::start(|req| async move {
        match req.header("x-case").unwrap_or_default() {
            "html" => axum::response::Response::builder()
                .header("content-type", "text/html")
                .body(axum::body::Body::from("<html>gateway</html>"))
                .unwrap(),
            "error-200" => json_response(
                200,
                json!({"error": {"message": "no healthy deployments", "code": "400"}}),
            ),
            "garbage-event" => streamed_response(vec![Piece::Data("not json".into())]),
            "json-to-stream" => json_response(200, support::http::completion("not streamed")),
            _ => json_response(200, json!({})),
        }
    })
    .await;
    let with_case = |case: &str| call_to(&server, json!({"extra_headers": {"x-case": case}}));
    let err = complete_err(&with_case("html")).await;
    assert!(err.is_malformed(), "{err}");
    let err = complete_err(&with_case("error-200")).await;
    assert!(
        matches!(
            err,
            CallError::Upstream {
                code: Some(400),
                ..
            }
        ),
        "{err}"
    );
    let err = stream_err(&with_case("error-200")).await;
    assert!(
        matches!(
            err,
            CallError::Upstream {
                code: Some(400),
                ..
            }
        ),
        "{err}"
    );
    let err = stream_err(&with_case("garbage-event")).await;
    assert!(err.is_malformed() && err.is_before_first_event(), "{err}");
    let err = stream_err(&with_case("json-to-stream")).await;
    assert!(err.is_malformed(), "{err}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_and_a_refused_connection_is_a_connect_error() {
    let server = TestServer::start(|_req| async {
        json_response(200, support::http::completion(&"x".repeat(100_000)))
    })
    .await;
    let err = complete_err(&call_to(&server, json!({})).max_body_bytes(10_000)).await;
    assert!(err.is_too_large(), "{err}");
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let d = Deployment::from_value(json!({"model_name": "g", "litellm_params": {
        "model": "openai/gpt-4o", "api_base": format!("http://127.0.0.1:{port}/v1"), "api_key": KEY}}))
    .unwrap();
    let call = ChatCall::new(
        Endpoint::resolve(d.litellm_params(), "openai/gpt-4o", &|_: &str| None).unwrap(),
    );
    for err in [complete_err(&call).await, stream_err(&call).await] {
        assert!(err.is_connect(), "{err}");
        assert!(err.is_before_first_event());
        assert_secret_free(&err);
    }
}
