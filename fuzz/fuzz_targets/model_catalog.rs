//! Arbitrary bytes as a model catalog (LiteLLM's `model_prices_and_context_window.json` format): reading
//! never panics, every entry read is found again under its own name, and a lookup of any name (names of the
//! catalog with provider prefixes, fine-tune suffixes and case changes, and slices of the input) never panics
//! and finds an entry whose key is in the catalog.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelroute::catalog::ModelCatalog;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(catalog) = ModelCatalog::from_json(text) else {
        return;
    };
    let mut names: Vec<String> = Vec::new();
    for (name, entry) in catalog.iter() {
        assert!(catalog.get(name).is_some());
        assert!(catalog.lookup(name).is_some(), "{name:?} not found by lookup");
        names.push(name.to_uppercase());
        names.push(format!("ft:{name}:a:b:c"));
        if let Some(provider) = &entry.litellm_provider {
            names.push(format!("{provider}/{name}"));
        }
    }
    names.extend(text.split(['"', ':', ',']).take(64).map(str::to_string));
    for name in &names {
        if let Some(found) = catalog.lookup(name) {
            assert!(catalog.get(found.key()).is_some());
        }
        let _ = catalog.provider(name);
    }
});
