//! LiteLLM parsers (`/model/info` and the OpenAI-compatible `/v1/models`) never panic, whatever the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::provider::{litellm, openai};

fuzz_target!(|data: &[u8]| {
    if let Ok(models) = litellm::parse_model_info(data) {
        // Ids are unique: deployments of one model_name are merged.
        let mut ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
    let _ = openai::parse_model_list(data);
});
