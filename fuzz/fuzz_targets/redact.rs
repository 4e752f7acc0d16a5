//! Redaction reads what servers and configs send: it never panics, and what it scrubs is gone.
//!
//! The input is a key and a text (split at the first NUL byte). After `KeyScrubber::scrub`, the text holds
//! neither the key nor any run of `MIN_RUN` of its bytes (for a key without `*`, the mask character);
//! `text` and `excerpt` never panic and the excerpt respects its bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::Secret;
use modelroute::redact::{self, KeyScrubber};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (key, text) = input.split_once('\0').unwrap_or(("", input));
    let _ = redact::text(text);
    let max = 64;
    let excerpt = redact::excerpt(text, Some(&Secret::new(key)), max);
    assert!(excerpt.chars().count() <= max + 1);
    if key.is_empty() || key.contains('*') {
        return;
    }
    let scrubbed = KeyScrubber::new(&Secret::new(key)).scrub(text);
    assert!(!scrubbed.contains(key), "{key:?} in {scrubbed:?}");
    for run in key.as_bytes().windows(KeyScrubber::MIN_RUN) {
        assert!(
            !scrubbed.as_bytes().windows(run.len()).any(|w| w == run),
            "a run of {key:?} in {scrubbed:?}"
        );
    }
});
