//! The OpenAI-compatible model list, `GET /v1/models`, served by LiteLLM, Ollama and LM Studio alike.
//!
//! `{"object": "list", "data": [{"id": "...", "object": "model", "created": ..., "owned_by": "..."}]}`.
//! LiteLLM adds `mode`, `max_input_tokens` and `max_output_tokens` to each entry; they are read when present.
//! Ollama answers `"data": null` when it has no model: that is an empty list, not an error.

use serde::Deserialize;
use serde_json::Value;

use super::ModelDescriptor;
use super::json::{self, u64_of};
use super::litellm::kind_of_mode;
use crate::error::ParseError;

#[derive(Deserialize)]
struct ListBody {
    #[serde(deserialize_with = "json::nullable_list")]
    data: Vec<Value>,
}

#[derive(Deserialize)]
struct Entry {
    id: String,
}

/// Parses an OpenAI-compatible `/v1/models` body into descriptors, in the server's order.
///
/// Each descriptor has the entry's `id`; kind, context window and max output tokens come from LiteLLM's
/// extra `mode`, `max_input_tokens` and `max_output_tokens` when present, else stay unknown. `raw` is the entry.
///
/// ```
/// let body = br#"{"object":"list","data":[{"id":"llama3:8b","object":"model","owned_by":"library"}]}"#;
/// let models = modelroute::provider::openai::parse_model_list(body)?;
/// assert_eq!(models[0].id, "llama3:8b");
/// assert!(modelroute::provider::openai::parse_model_list(br#"{"object":"list","data":null}"#)?.is_empty());
/// # Ok::<(), modelroute::ParseError>(())
/// ```
pub fn parse_model_list(body: &[u8]) -> Result<Vec<ModelDescriptor>, ParseError> {
    let list: ListBody = json::from_slice(body)?;
    let mut out = Vec::with_capacity(list.data.len());
    for (i, raw) in list.data.into_iter().enumerate() {
        let entry: Entry = json::from_value(&raw, &format!("data[{i}]"))?;
        let mut d = ModelDescriptor::new(entry.id);
        if let Some(mode) = json::str_of(raw.get("mode")) {
            d.kind = kind_of_mode(mode);
        }
        d.context_window = u64_of(raw.get("max_input_tokens"));
        d.max_output_tokens = u64_of(raw.get("max_output_tokens"));
        d.raw = raw;
        out.push(d);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::ModelKind;

    #[test]
    fn reads_litellm_extras_and_plain_entries() {
        let body = br#"{"data":[
            {"id":"gpt-4o","object":"model","created":1677610602,"owned_by":"openai","mode":"chat","max_input_tokens":128000,"max_output_tokens":16384},
            {"id":"openai/text-embedding-3-small","object":"model","mode":"embedding","max_input_tokens":8191},
            {"id":"qwen2.5-7b-instruct","object":"model","owned_by":"organization_owner"}
        ],"object":"list"}"#;
        let m = parse_model_list(body).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].id, "gpt-4o");
        assert_eq!(m[0].kind, ModelKind::Chat);
        assert_eq!(m[0].context_window, Some(128_000));
        assert_eq!(m[0].max_output_tokens, Some(16_384));
        assert_eq!(m[1].kind, ModelKind::Embedding);
        assert_eq!(m[1].max_output_tokens, None);
        assert_eq!(m[2].kind, ModelKind::Unknown);
        assert_eq!(m[2].raw["owned_by"], "organization_owner");
    }

    #[test]
    fn structural_errors_have_paths() {
        assert_eq!(
            parse_model_list(br#"{"data":[{"id":1}]}"#)
                .unwrap_err()
                .path,
            "data[0].id"
        );
        assert_eq!(
            parse_model_list(br#"{"data":[{},{"id":"a"}]}"#)
                .unwrap_err()
                .path,
            "data[0]"
        );
        assert_eq!(
            parse_model_list(br#"{"data":{"id":"a"}}"#)
                .unwrap_err()
                .path,
            "data"
        );
        assert_eq!(parse_model_list(br#"[]"#).unwrap_err().path, ".");
        assert_eq!(parse_model_list(b"").unwrap_err().path, ".");
    }
}
