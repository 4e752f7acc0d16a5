//! LM Studio parsers (`/api/v1/models`, `/api/v0/models`) never panic, whatever the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::provider::lmstudio;

fuzz_target!(|data: &[u8]| {
    let _ = lmstudio::parse_models_v1(data);
    let _ = lmstudio::parse_models_v0(data);
});
