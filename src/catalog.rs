//! [`ModelCatalog`]: what LiteLLM knows about models (per-token prices, context windows, provider), read
//! from LiteLLM's `model_prices_and_context_window.json` format.
//!
//! The router uses it to price deployments for `cost-based-routing` (a deployment's own
//! `input_cost_per_token` / `output_cost_per_token` come first); other parts use the context windows and
//! the provider of a model name. The crate ships no prices: load LiteLLM's own file (installed with LiteLLM
//! as `litellm/model_prices_and_context_window_backup.json`, or fetched from LiteLLM's repository), your own
//! file in the same format, or build a catalog entry by entry.
//!
//! # Reading
//! The file is one JSON object: model name → entry. Reading is lenient, as LiteLLM's own reading is: of each
//! entry only `input_cost_per_token`, `output_cost_per_token`, `max_input_tokens`, `max_output_tokens`,
//! `max_tokens` and `litellm_provider` are kept; a field of another type (LiteLLM's `sample_spec` entry has
//! descriptions where numbers go) reads as absent; an entry that is not an object is skipped and counted
//! ([`ModelCatalog::skipped`]). Every other key is skipped without being stored, so reading costs time and
//! memory linear in the input, and a file that is not a JSON object is an error ([`CatalogError`]).
//!
//! # Looking a model up
//! [`ModelCatalog::lookup`] follows the order of LiteLLM's `get_model_info` for the names a `model_list`
//! holds, each candidate found as written or else ignoring case: the name as written; for `provider/model`,
//! `model` when its entry's `litellm_provider` is that provider (so `openai/gpt-4o` finds `gpt-4o`); then the
//! name stripped as LiteLLM strips it (an OpenAI fine-tune without its organisation, suffix and id:
//! `ft:gpt-4o:org:suffix:id` finds `ft:gpt-4o`; otherwise without a dated-snapshot suffix: `gpt-4o-2099-01-01`
//! finds `gpt-4o`). A prefix counts as a provider when some entry of the catalog names it as its
//! `litellm_provider`. Not done (provider-specific rewrites): Bedrock region and version stripping, Vertex and
//! Gemini version stripping, the provider LiteLLM infers for a bare name (a bare name is not checked against
//! its entry's provider), and LiteLLM's capability generalization rules for unmapped models. Checked against
//! LiteLLM's own lookup on its own file by `tests/parity_catalog.rs`.
//!
//! ```
//! use modelroute::catalog::{CatalogEntry, ModelCatalog};
//!
//! let catalog = ModelCatalog::from_json(r#"{
//!   "gpt-4o": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
//!              "max_input_tokens": 128000, "litellm_provider": "openai", "mode": "chat"},
//!   "azure/gpt-4o": {"input_cost_per_token": 2.5e-06, "litellm_provider": "azure"}
//! }"#)?;
//! let found = catalog.lookup("openai/gpt-4o").unwrap();
//! assert_eq!(found.key(), "gpt-4o");
//! assert_eq!(found.entry().max_input_tokens, Some(128_000));
//! assert_eq!(catalog.provider("gpt-4o"), Some("openai"));
//! // `azure/gpt-4o-mini` is not in this catalog, and `gpt-4o-mini` neither.
//! assert!(catalog.lookup("azure/gpt-4o-mini").is_none());
//!
//! // Entries can be added or overridden by the caller.
//! let mut catalog = catalog;
//! catalog.insert("my-vllm-model", CatalogEntry::new().with_costs(1e-07, 2e-07));
//! assert_eq!(catalog.get("my-vllm-model").unwrap().input_cost_per_token, Some(1e-07));
//! # Ok::<(), modelroute::error::CatalogError>(())
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::error::CatalogError;

/// The largest catalog file [`ModelCatalog::from_file`] reads (LiteLLM's is about 1.5 MB).
pub const MAX_CATALOG_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What the catalog knows about one model. Absent fields are `None`.
///
/// ```
/// use modelroute::catalog::CatalogEntry;
/// let entry = CatalogEntry::new()
///     .with_costs(1.5e-07, 6e-07)
///     .with_max_input_tokens(128_000)
///     .with_provider("openai");
/// assert!(entry.declares_token_price());
/// assert_eq!(entry.litellm_provider.as_deref(), Some("openai"));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct CatalogEntry {
    /// Price of one input (prompt) token, in USD.
    pub input_cost_per_token: Option<f64>,
    /// Price of one output (completion) token, in USD.
    pub output_cost_per_token: Option<f64>,
    /// The context window: how many input tokens the model accepts.
    pub max_input_tokens: Option<u64>,
    /// How many tokens the model may generate.
    pub max_output_tokens: Option<u64>,
    /// `max_tokens` as written (LiteLLM's legacy field; the output limit for most models).
    pub max_tokens: Option<u64>,
    /// The LiteLLM provider that serves the model (`openai`, `azure`, `anthropic`, ...).
    pub litellm_provider: Option<Box<str>>,
}

impl CatalogEntry {
    /// An entry that knows nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// With these per-token prices (input, output).
    pub fn with_costs(mut self, input: f64, output: f64) -> Self {
        self.input_cost_per_token = Some(input);
        self.output_cost_per_token = Some(output);
        self
    }

    /// With this context window (`max_input_tokens`).
    pub fn with_max_input_tokens(mut self, tokens: u64) -> Self {
        self.max_input_tokens = Some(tokens);
        self
    }

    /// With this provider (`litellm_provider`).
    pub fn with_provider(mut self, provider: &str) -> Self {
        self.litellm_provider = Some(provider.into());
        self
    }

    /// Whether the entry declares a per-token price (input or output), as LiteLLM's cost-based routing
    /// requires of a catalog row before it uses it.
    pub fn declares_token_price(&self) -> bool {
        self.input_cost_per_token.is_some() || self.output_cost_per_token.is_some()
    }
}

/// A catalog entry found by [`ModelCatalog::lookup`], with the key it was found under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CatalogMatch<'a> {
    key: &'a str,
    entry: &'a CatalogEntry,
}

impl<'a> CatalogMatch<'a> {
    /// The catalog key that matched (e.g. `gpt-4o` for `openai/gpt-4o`).
    pub fn key(&self) -> &'a str {
        self.key
    }
    /// The entry.
    pub fn entry(&self) -> &'a CatalogEntry {
        self.entry
    }
}

/// Per-model prices, context windows and providers in LiteLLM's `model_prices_and_context_window.json`
/// format. See the [module docs](self).
#[derive(Clone, Default)]
pub struct ModelCatalog {
    entries: HashMap<Box<str>, CatalogEntry>,
    /// Lower-cased key → key, for the keys that are not lower case already.
    lowercase: HashMap<Box<str>, Box<str>>,
    /// Every `litellm_provider` named by an entry.
    providers: HashSet<Box<str>>,
    skipped: usize,
}

impl fmt::Debug for ModelCatalog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelCatalog")
            .field("entries", &self.entries.len())
            .field("providers", &self.providers.len())
            .field("skipped", &self.skipped)
            .finish()
    }
}

impl ModelCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a catalog in LiteLLM's `model_prices_and_context_window.json` format (see the
    /// [module docs](self) for what is kept).
    pub fn from_json(text: &str) -> Result<Self, CatalogError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let raw = RawCatalog::deserialize(&mut de).map_err(|e| CatalogError::Json {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?;
        de.end().map_err(|e| CatalogError::Json {
            line: e.line(),
            column: e.column(),
            reason: e.to_string(),
        })?;
        let mut catalog = ModelCatalog {
            skipped: raw.skipped,
            ..ModelCatalog::default()
        };
        for (name, entry) in raw.entries {
            catalog.insert(name, entry);
        }
        Ok(catalog)
    }

    /// Reads a catalog file, e.g. LiteLLM's `model_prices_and_context_window_backup.json`. Files larger than
    /// [`MAX_CATALOG_FILE_BYTES`] are refused.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, CatalogError> {
        use std::io::Read;
        let path = path.as_ref();
        let io = |e: std::io::Error| CatalogError::Io {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut text = String::new();
        file.take(MAX_CATALOG_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_CATALOG_FILE_BYTES {
            return Err(CatalogError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_CATALOG_FILE_BYTES,
            });
        }
        Self::from_json(&text)
    }

    /// Adds or replaces the entry of `name`.
    pub fn insert(&mut self, name: impl Into<Box<str>>, entry: CatalogEntry) {
        let name: Box<str> = name.into();
        let lower = name.to_lowercase();
        if *lower != *name {
            self.lowercase.insert(lower.into(), name.clone());
        }
        if let Some(provider) = &entry.litellm_provider
            && !self.providers.contains(provider)
        {
            self.providers.insert(provider.clone());
        }
        self.entries.insert(name, entry);
    }

    /// The entry of exactly `name`.
    pub fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.entries.get(name)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the catalog has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries of the file that were not objects and were skipped.
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &CatalogEntry)> + '_ {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Whether some entry names `provider` as its `litellm_provider`.
    pub fn is_provider(&self, provider: &str) -> bool {
        self.providers.contains(provider)
    }

    /// The entry for `model`, looked up in LiteLLM's order (see the [module docs](self)).
    ///
    /// ```
    /// use modelroute::catalog::ModelCatalog;
    /// let catalog = ModelCatalog::from_json(r#"{
    ///   "gpt-4o": {"litellm_provider": "openai"}, "claude-3-5-sonnet": {"litellm_provider": "anthropic"}
    /// }"#)?;
    /// assert_eq!(catalog.lookup("GPT-4o").unwrap().key(), "gpt-4o");
    /// assert_eq!(catalog.lookup("openai/gpt-4o").unwrap().key(), "gpt-4o");
    /// assert_eq!(catalog.lookup("gpt-4o-2099-01-01").unwrap().key(), "gpt-4o");
    /// // The provider must match the entry's.
    /// assert!(catalog.lookup("anthropic/gpt-4o").is_none());
    /// # Ok::<(), modelroute::error::CatalogError>(())
    /// ```
    pub fn lookup(&self, model: &str) -> Option<CatalogMatch<'_>> {
        // LiteLLM's `get_model_info` candidates, in its order: the name as written; for `provider/model`,
        // `model`, then `provider/<model stripped>`; the stripped name; `provider/provider/model`.
        let split = model
            .split_once('/')
            .filter(|(prefix, _)| self.is_provider(prefix));
        let Some((p, rest)) = split else {
            return self
                .find(model, None)
                .or_else(|| self.find(strip_model_name(model)?, None));
        };
        let provider = Some(p);
        if let Some(found) = self
            .find(model, provider)
            .or_else(|| self.find(rest, provider))
        {
            return Some(found);
        }
        if let Some(stripped) = strip_model_name(rest)
            && let Some(found) = self
                .find(&format!("{p}/{stripped}"), provider)
                .or_else(|| self.find(stripped, provider))
        {
            return Some(found);
        }
        self.find(&format!("{p}/{model}"), provider)
    }

    /// The provider (`litellm_provider`) of `model`, looked up as [`ModelCatalog::lookup`] does.
    pub fn provider(&self, model: &str) -> Option<&str> {
        self.lookup(model)?.entry.litellm_provider.as_deref()
    }

    /// `name` exactly, then ignoring case; with a `provider`, the entry's provider must match it.
    fn find(&self, name: &str, provider: Option<&str>) -> Option<CatalogMatch<'_>> {
        let found = match self.entries.get_key_value(name) {
            Some(kv) => Some(kv),
            None => {
                let lower = name.to_lowercase();
                match self.entries.get_key_value(lower.as_str()) {
                    Some(kv) => Some(kv),
                    None => self
                        .lowercase
                        .get(lower.as_str())
                        .and_then(|key| self.entries.get_key_value(key)),
                }
            }
        };
        let (key, entry) = found?;
        provider_matches(entry.litellm_provider.as_deref(), provider)
            .then_some(CatalogMatch { key, entry })
    }
}

/// LiteLLM's `_check_provider_match`: an entry without a provider matches any; otherwise the providers must
/// be equal, or be one of the families LiteLLM treats as one.
fn provider_matches(entry: Option<&str>, wanted: Option<&str>) -> bool {
    let (Some(entry), Some(wanted)) = (entry, wanted) else {
        return true;
    };
    entry == wanted
        || (wanted == "vertex_ai" && entry.starts_with("vertex_ai"))
        || (wanted == "fireworks_ai" && entry.starts_with("fireworks_ai"))
        || (wanted.starts_with("bedrock") && entry.starts_with("bedrock"))
        || matches!(wanted, "litellm_proxy" | "github" | "nadir")
        || (wanted == "azure_ai" && matches!(entry, "azure" | "openai"))
}

/// LiteLLM's `_strip_model_name` (for providers without their own rule): an OpenAI fine-tune name loses its
/// last three `:` fields (`ft:gpt-4o:org:suffix:id` → `ft:gpt-4o`), any other name a dated-snapshot suffix
/// (`gpt-4o-2099-01-01` → `gpt-4o`). `None` when nothing is stripped.
fn strip_model_name(model: &str) -> Option<&str> {
    if model.contains("ft:") {
        let mut end = model.len();
        for _ in 0..3 {
            end = model[..end].rfind(':')?;
        }
        return Some(&model[..end]);
    }
    // `-\d{4}-\d{2}-\d{2}$` (ASCII digits).
    let bytes = model.as_bytes();
    let n = bytes.len();
    let shape = b"-0000-00-00";
    if n < shape.len() {
        return None;
    }
    let tail = &bytes[n - shape.len()..];
    let dated = tail.iter().zip(shape).all(|(&b, &s)| {
        if s == b'-' {
            b == b'-'
        } else {
            b.is_ascii_digit()
        }
    });
    dated.then(|| &model[..n - shape.len()])
}

/// The file as read: entries, and how many were skipped.
struct RawCatalog {
    entries: Vec<(String, CatalogEntry)>,
    skipped: usize,
}

impl<'de> Deserialize<'de> for RawCatalog {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> Visitor<'de> for Top {
            type Value = RawCatalog;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of model name -> entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawCatalog, A::Error> {
                let mut out = RawCatalog {
                    entries: Vec::new(),
                    skipped: 0,
                };
                while let Some(name) = map.next_key::<String>()? {
                    match map.next_value::<LenientEntry>()?.0 {
                        Some(entry) => out.entries.push((name, entry)),
                        None => out.skipped += 1,
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_map(Top)
    }
}

/// One entry: `None` when it is not an object.
struct LenientEntry(Option<CatalogEntry>);

impl<'de> Deserialize<'de> for LenientEntry {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entry;
        impl<'de> Visitor<'de> for Entry {
            type Value = LenientEntry;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a catalog entry")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LenientEntry, A::Error> {
                let mut e = CatalogEntry::default();
                while let Some(key) = map.next_key::<KnownField>()? {
                    match key {
                        KnownField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                        field => {
                            let value = map.next_value::<Value>()?;
                            match field {
                                KnownField::InputCost => e.input_cost_per_token = rate(&value),
                                KnownField::OutputCost => e.output_cost_per_token = rate(&value),
                                KnownField::MaxInput => e.max_input_tokens = tokens(&value),
                                KnownField::MaxOutput => e.max_output_tokens = tokens(&value),
                                KnownField::MaxTokens => e.max_tokens = tokens(&value),
                                KnownField::Provider => {
                                    e.litellm_provider = value.as_str().map(Into::into)
                                }
                                KnownField::Other => {}
                            }
                        }
                    }
                }
                Ok(LenientEntry(Some(e)))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<LenientEntry, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LenientEntry(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<LenientEntry, E> {
                Ok(LenientEntry(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<LenientEntry, E> {
                Ok(LenientEntry(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<LenientEntry, E> {
                Ok(LenientEntry(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<LenientEntry, E> {
                Ok(LenientEntry(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<LenientEntry, E> {
                Ok(LenientEntry(None))
            }
            fn visit_unit<E>(self) -> Result<LenientEntry, E> {
                Ok(LenientEntry(None))
            }
        }
        deserializer.deserialize_any(Entry)
    }
}

/// The keys of an entry that are kept.
enum KnownField {
    InputCost,
    OutputCost,
    MaxInput,
    MaxOutput,
    MaxTokens,
    Provider,
    Other,
}

impl<'de> Deserialize<'de> for KnownField {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Key;
        impl Visitor<'_> for Key {
            type Value = KnownField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E>(self, key: &str) -> Result<KnownField, E> {
                Ok(match key {
                    "input_cost_per_token" => KnownField::InputCost,
                    "output_cost_per_token" => KnownField::OutputCost,
                    "max_input_tokens" => KnownField::MaxInput,
                    "max_output_tokens" => KnownField::MaxOutput,
                    "max_tokens" => KnownField::MaxTokens,
                    "litellm_provider" => KnownField::Provider,
                    _ => KnownField::Other,
                })
            }
        }
        deserializer.deserialize_identifier(Key)
    }
}

/// A per-token price: a finite JSON number, not negative (LiteLLM's `_as_rate` takes ints and floats, not
/// booleans or strings).
pub(crate) fn rate(value: &Value) -> Option<f64> {
    value.as_f64().filter(|v| v.is_finite() && *v >= 0.0)
}

/// A token count: a non-negative integer (a float with no fraction is accepted).
fn tokens(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v < u64::MAX as f64)
            .map(|v| v as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_the_wrong_type_read_as_absent_and_non_objects_are_skipped() {
        let c = ModelCatalog::from_json(
            r#"{
              "sample_spec": {"input_cost_per_token": 0.0, "max_input_tokens": "max input tokens, if the provider specifies it",
                              "litellm_provider": "one of https://docs.litellm.ai/docs/providers"},
              "a": {"input_cost_per_token": "0.1", "output_cost_per_token": true, "max_tokens": 4096.0,
                    "max_output_tokens": -1, "extra": {"deep": [1, 2, {"x": null}]}},
              "b": [1, 2], "c": 3, "d": null, "e": "text"
            }"#,
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c.skipped(), 4);
        let a = c.get("a").unwrap();
        assert_eq!(a.input_cost_per_token, None);
        assert_eq!(a.output_cost_per_token, None);
        assert_eq!(a.max_tokens, Some(4096));
        assert_eq!(a.max_output_tokens, None);
        assert!(!a.declares_token_price());
        assert_eq!(c.get("sample_spec").unwrap().max_input_tokens, None);
    }

    #[test]
    fn a_file_that_is_not_an_object_is_an_error_with_its_position() {
        for text in ["[]", "3", "{\"a\": {}", "{\"a\": {}} x", ""] {
            let err = ModelCatalog::from_json(text).unwrap_err();
            assert!(err.is_malformed(), "{text}: {err}");
        }
    }

    #[test]
    fn a_later_duplicate_key_wins_like_python_json() {
        let c = ModelCatalog::from_json(
            r#"{"m": {"input_cost_per_token": 1}, "m": {"input_cost_per_token": 2}}"#,
        )
        .unwrap();
        assert_eq!(c.get("m").unwrap().input_cost_per_token, Some(2.0));
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn lookup_strips_a_matching_provider_prefix_and_fine_tune_fields() {
        let c = ModelCatalog::from_json(
            r#"{
              "gpt-4o": {"litellm_provider": "openai"},
              "ft:gpt-4o-mini": {"litellm_provider": "openai"},
              "Mixed-Case": {"litellm_provider": "openai"},
              "groq/llama3": {"litellm_provider": "groq"},
              "anthropic.claude": {"litellm_provider": "bedrock_converse"}
            }"#,
        )
        .unwrap();
        let key = |m: &str| c.lookup(m).map(|f| f.key().to_string());
        assert_eq!(key("gpt-4o").as_deref(), Some("gpt-4o"));
        assert_eq!(key("openai/gpt-4o").as_deref(), Some("gpt-4o"));
        assert_eq!(key("mixed-case").as_deref(), Some("Mixed-Case"));
        assert_eq!(key("openai/MIXED-case").as_deref(), Some("Mixed-Case"));
        assert_eq!(key("groq/llama3").as_deref(), Some("groq/llama3"));
        assert_eq!(key("groq/gpt-4o"), None, "provider mismatch");
        assert_eq!(
            key("unknown/gpt-4o"),
            None,
            "unknown prefix is not a provider"
        );
        assert_eq!(
            key("ft:gpt-4o-mini:org:suffix:id").as_deref(),
            Some("ft:gpt-4o-mini")
        );
        assert_eq!(
            key("openai/ft:gpt-4o-mini:org::id").as_deref(),
            Some("ft:gpt-4o-mini")
        );
        assert_eq!(key("ft:gpt-4o-mini:org"), None);
        assert_eq!(key("openai/gpt-4o-2099-01-01").as_deref(), Some("gpt-4o"));
        assert_eq!(key("gpt-4o-2099-1-01"), None);
        assert_eq!(
            key("bedrock/anthropic.claude").as_deref(),
            None,
            "bedrock is not a provider of this catalog"
        );
    }

    #[test]
    fn provider_families_match_as_in_litellm() {
        assert!(provider_matches(
            Some("vertex_ai-language-models"),
            Some("vertex_ai")
        ));
        assert!(provider_matches(Some("bedrock_converse"), Some("bedrock")));
        assert!(provider_matches(Some("openai"), Some("azure_ai")));
        assert!(provider_matches(Some("anthropic"), Some("litellm_proxy")));
        assert!(provider_matches(None, Some("openai")));
        assert!(!provider_matches(Some("openai"), Some("azure")));
    }
}
