//! The tables the call takes from LiteLLM (src/call/tables.rs: the `litellm_params` LiteLLM keeps for itself,
//! and the bare model names it sends to OpenAI) are what LiteLLM 1.109.1 itself says: the file is regenerated
//! with the test venv's Python by `tests/litellm/call_tables.py` and must be identical.
#![cfg(feature = "openai")]

mod support;

use std::process::Command;

use support::litellm::{crate_dir, ensure_installed, litellm_dir};

#[test]
fn the_litellm_tables_are_what_litellm_itself_generates() {
    let venv = ensure_installed();
    let out = Command::new(venv.join("bin/python"))
        .arg(litellm_dir().join("call_tables.py"))
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_OFFLINE_MODE", "true")
        .env("LITELLM_DISABLE_LATEST_RELEASE_CHECK", "true")
        .output()
        .expect("run tests/litellm/call_tables.py");
    assert!(
        out.status.success(),
        "call_tables.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).unwrap();
    let committed = std::fs::read_to_string(crate_dir().join("src/call/tables.rs")).unwrap();
    assert!(
        generated == committed,
        "src/call/tables.rs differs from what LiteLLM generates; regenerate it with\n  \
         target/litellm-venv/bin/python tests/litellm/call_tables.py > src/call/tables.rs"
    );
    // The tables are what the call consults.
    assert!(modelroute::call::is_litellm_setting("mock_response"));
    assert!(modelroute::call::is_openai_model("gpt-4o-mini"));
}
