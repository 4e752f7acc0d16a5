//! `ModelCatalog` against LiteLLM 1.109.1 itself, on LiteLLM's own cost table
//! (`litellm/model_prices_and_context_window_backup.json` in the test venv): every entry reads as LiteLLM reads
//! it, and a model name finds the entry LiteLLM's `get_model_info` finds.

mod support;

use modelroute::catalog::{CatalogEntry, ModelCatalog};
use serde_json::{Value, json};
use support::parity::{litellm_catalog, run_harness};

fn fields(e: &CatalogEntry) -> Value {
    json!([
        e.input_cost_per_token,
        e.output_cost_per_token,
        e.max_input_tokens,
        e.max_output_tokens,
        e.max_tokens,
        e.litellm_provider.as_deref()
    ])
}

/// Providers whose names LiteLLM looks up without provider-specific rewrites (Bedrock regions, Vertex versions,
/// ...), which modelroute does not do (see the catalog's module docs).
const PLAIN_PROVIDERS: [&str; 10] = [
    "openai",
    "azure",
    "anthropic",
    "mistral",
    "groq",
    "deepseek",
    "ollama",
    "cohere",
    "xai",
    "text-completion-openai",
];

fn names(catalog: &ModelCatalog) -> Vec<String> {
    let mut keys: Vec<(&str, &CatalogEntry)> = catalog
        .iter()
        .filter(|(_, e)| {
            e.litellm_provider
                .as_deref()
                .is_some_and(|p| PLAIN_PROVIDERS.contains(&p))
        })
        .collect();
    keys.sort_by_key(|(k, _)| *k);
    let mut names = Vec::new();
    for (key, entry) in keys {
        let provider = entry.litellm_provider.as_deref().unwrap_or_default();
        names.push(key.to_string());
        names.push(key.to_uppercase());
        if !key.contains('/') {
            names.push(format!("{provider}/{key}"));
            names.push(format!("{key}-2099-01-01"));
        }
    }
    names.extend(
        [
            "unknown/gpt-4o",
            "groq/gpt-4o",
            "ft:gpt-4o-mini-2024-07-18:org:suffix:id",
            "",
            "/",
            "openai/",
        ]
        .map(String::from),
    );
    names
}

/// Names LiteLLM resolves differently, and why (each a rule modelroute does not copy).
const KNOWN_DIFFERENCES: [(&str, &str); 2] = [
    // LiteLLM's provider inference calls this name an `openai` model, then refuses its own exact entry, whose
    // provider is `azure`. modelroute finds the exact entry.
    ("azure/mistral-large-latest", "exact entry"),
    // A fine-tune name keeps its date (the fine-tune rule strips `:` fields, not dates); LiteLLM's capability
    // generalization rules then accept the unknown name as an `ft:` model. modelroute has no such rules.
    ("ft:o4-mini-2025-04-16-2099-01-01", "generalization rule"),
];

#[test]
fn every_entry_of_litellms_file_reads_as_litellm_reads_it() {
    let catalog = litellm_catalog();
    let answer = run_harness(&json!({"catalog_entries": true}));
    let theirs = answer["catalog_entries"].as_object().unwrap();
    assert!(theirs.len() > 1000, "{}", theirs.len());
    let mut differences = Vec::new();
    for (key, expected) in theirs {
        match catalog.get(key) {
            Some(entry) if fields(entry) == *expected => {}
            Some(entry) => {
                differences.push(format!("{key}: {} vs LiteLLM {expected}", fields(entry)))
            }
            None => differences.push(format!("{key}: missing")),
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[test]
fn a_model_name_finds_the_entry_litellm_finds() {
    let catalog = litellm_catalog();
    let names = names(&catalog);
    assert!(names.len() > 2000, "{}", names.len());
    let answer = run_harness(&json!({"catalog_lookups": names}));
    let theirs = answer["catalog_lookups"].as_array().unwrap();
    let mut differences = Vec::new();
    let mut known = Vec::new();
    for (name, expected) in names.iter().zip(theirs) {
        let ours = catalog.lookup(name).map(|m| m.key().to_string());
        if json!(ours) != *expected {
            if KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == name.as_str()) {
                known.push(name.as_str());
            } else {
                differences.push(format!("{name:?}: {ours:?} vs LiteLLM {expected}"));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} differ:\n{}",
        differences.len(),
        names.len(),
        differences.join("\n")
    );
    // The documented differences are still differences (else this list is stale).
    assert_eq!(known, KNOWN_DIFFERENCES.map(|(n, _)| n));
}
