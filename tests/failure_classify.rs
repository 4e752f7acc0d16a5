//! `FailureKind::classify`: what of an error body counts. LiteLLM reads the text the OpenAI SDK puts in its
//! exception, `Error code: <status> - <error.message>`, and `error.code` only for `cyber_policy`, so the rest of
//! the body never changes the class. Properties over random statuses, codes, types and messages; the classes
//! themselves are checked against LiteLLM in tests/parity_cooldown.rs.

use modelroute::router::{FailureKind, FallbackKind};
use proptest::prelude::*;
use serde_json::json;

/// Words that steer LiteLLM's mapping, mixed with filler, so random messages hit every branch.
fn message() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "rate limit",
        "Rate-Limit",
        "this model's maximum context length is",
        "invalid_request_error",
        "model_not_found",
        "content_policy_violation",
        "request was rejected as a result of the safety system",
        "Request too large",
        "Request timed out",
        "A timeout occurred",
        "could not be verified",
        "Incorrect API key provided",
        "The server had an error processing your request.",
        "litellm.RateLimitError",
        "hello",
        "é",
        " ",
        "",
    ]);
    prop::collection::vec(words, 0..5).prop_map(|w| w.concat())
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![
            400u16, 401, 402, 403, 404, 408, 409, 418, 422, 429, 500, 502, 503, 504
        ]),
        any::<u16>(),
    ]
}

proptest! {
    #[test]
    fn a_body_without_a_message_classifies_as_its_status(
        status in status(),
        code in "[a-z_]{0,20}",
        kind in "[a-z_]{0,20}",
    ) {
        prop_assume!(code != "cyber_policy");
        let body = json!({"error": {"type": kind, "code": code, "param": null}}).to_string();
        prop_assert_eq!(FailureKind::classify(status, &body), FailureKind::Status(status).normalized());
        prop_assert_eq!(FailureKind::classify(status, "not json"), FailureKind::Status(status).normalized());
    }

    #[test]
    fn only_the_message_of_a_body_counts(
        status in status(),
        message in message(),
        code in "[a-z_]{0,12}",
        kind in "[a-z_]{0,12}",
    ) {
        prop_assume!(code != "cyber_policy");
        let wrapped = json!({"error": {"message": message, "type": kind, "code": code}}).to_string();
        let bare = json!({"message": message}).to_string();
        let class = FailureKind::classify(status, &wrapped);
        prop_assert_eq!(class, FailureKind::classify(status, &bare));
        prop_assert_eq!(class, class.normalized());
        // Surrounding whitespace does not change what the SDK parses.
        prop_assert_eq!(class, FailureKind::classify(status, &format!("\n {wrapped}\t")));
    }

    #[test]
    fn a_cyber_policy_code_is_a_content_policy_violation_whatever_the_message(
        status in status(),
        message in message(),
    ) {
        // LiteLLM looks for timeout wording before any provider's mapping.
        prop_assume!(!message.contains("Request timed out"));
        let body = json!({"error": {"message": message, "code": "cyber_policy"}}).to_string();
        prop_assert_eq!(FailureKind::classify(status, &body), FailureKind::ContentPolicyViolation);
    }
}

#[test]
fn the_class_says_which_fallbacks_to_take() {
    let too_long =
        r#"{"error": {"message": "This model's maximum context length is 4096 tokens"}}"#;
    let kind = FailureKind::classify(400, too_long);
    assert_eq!(kind, FailureKind::ContextWindowExceeded);
    assert_eq!(kind.fallback_kind(), FallbackKind::ContextWindow);
    assert!(!kind.counts_for_cooldown(), "the request's fault");
    let refused =
        r#"{"error": {"message": "Your request was rejected as a result of the safety system."}}"#;
    assert_eq!(
        FailureKind::classify(400, refused).fallback_kind(),
        FallbackKind::ContentPolicy
    );
    assert_eq!(
        FailureKind::classify(503, "").fallback_kind(),
        FallbackKind::General
    );
}

#[test]
fn a_huge_body_is_classified_by_its_status() {
    let message = "rate limit ".repeat(30_000);
    let body = json!({"error": {"message": message}}).to_string();
    assert!(body.len() > modelroute::router::MAX_CLASSIFIED_BODY);
    assert_eq!(FailureKind::classify(400, &body), FailureKind::BadRequest);
    let small = json!({"error": {"message": "rate limit"}}).to_string();
    assert_eq!(FailureKind::classify(400, &small), FailureKind::RateLimit);
}
