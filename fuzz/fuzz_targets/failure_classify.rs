//! Classifying a failed answer (`FailureKind::classify_for`) never panics, whatever the status, provider and body,
//! and gives the same class twice; a status alone classifies as its normalized `Status`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::router::FailureKind;

fuzz_target!(|input: (u16, u8, &str)| {
    let (status, provider, body) = input;
    let provider = ["openai", "azure", "litellm_proxy", "hosted_vllm"][usize::from(provider % 4)];
    let kind = FailureKind::classify_for(provider, status, body);
    assert_eq!(kind, FailureKind::classify_for(provider, status, body));
    assert_eq!(kind, kind.normalized(), "classes come normalized");
    let _ = (kind.status(), kind.counts_for_cooldown(), kind.litellm_class());
    if provider == "openai" {
        assert_eq!(FailureKind::classify(status, ""), FailureKind::Status(status).normalized());
    }
});
