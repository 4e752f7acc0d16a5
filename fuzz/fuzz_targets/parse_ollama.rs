//! Ollama parsers (`/api/tags`, `/api/show`, `/api/ps`, `/v1/models`) and `OLLAMA_HOST` parsing never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::provider::{ollama, openai};

fuzz_target!(|data: &[u8]| {
    let _ = ollama::parse_tags(data);
    let _ = ollama::parse_show(data);
    let _ = ollama::parse_ps(data);
    let _ = openai::parse_model_list(data);
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(url) = ollama::parse_ollama_host(s) {
            // Whatever it accepts is a normalized base URL that parses to itself.
            assert_eq!(modelroute::BaseUrl::parse(url.as_str()).as_ref(), Ok(&url));
        }
    }
});
