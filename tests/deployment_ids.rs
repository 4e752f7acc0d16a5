//! Deployment ids against the ids LiteLLM 1.109.1 itself computed for the same entries
//! (tests/fixtures/deployment_ids.json, made by tests/litellm/deployment_ids.py), plus the YAML set
//! (tests/fixtures/deployment_ids_yaml.json) checked through the YAML loader when the feature is on.

use std::collections::HashMap;

use modelroute::Deployment;
use serde_json::Value;

/// Cases this crate deliberately or knowingly computes differently, with the reason (also in the docs of
/// `DeploymentId::litellm`).
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "env_unset",
        "an unset os.environ/ variable is an error here; LiteLLM hashes it as None",
    ),
    (
        "int_beyond_u64",
        "integers beyond u64 are read as floats by serde_json (no arbitrary_precision)",
    ),
    (
        "list_strings_unassigned_code_point",
        "no Unicode category tables: unassigned code points are treated as printable",
    ),
    (
        "list_strings_unicode_version_dependent",
        "depends on the Python build's Unicode version",
    ),
];

fn cases(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("json")
}

fn env_of(case: &Value) -> HashMap<String, String> {
    case["env"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn ids_equal_litellm_ids() {
    let cases = cases("deployment_ids.json");
    assert!(cases.len() >= 40, "fixture too small");
    let mut checked = 0;
    for case in &cases {
        let name = case["case"].as_str().unwrap();
        let env = env_of(case);
        let result = Deployment::from_value_with_env(case["deployment"].clone(), &env);
        if let Some((_, why)) = KNOWN_DIFFERENCES.iter().find(|(c, _)| *c == name) {
            if name == "env_unset" {
                let err = result.expect_err("unset variable must be an error");
                assert!(err.is_env_var_not_set(), "{name}: {err}");
                assert!(
                    err.to_string().contains("MODELROUTE_FIXTURE_UNSET"),
                    "{err}"
                );
            } else if let Ok(d) = result {
                // Documented limitation: make sure the fixture still shows it, so the list stays honest.
                assert_ne!(
                    d.id().as_str(),
                    case["id"].as_str().unwrap(),
                    "{name} now matches: drop it from KNOWN_DIFFERENCES ({why})"
                );
            }
            continue;
        }
        let d = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            d.id().as_str(),
            case["id"].as_str().unwrap(),
            "{name}: {}",
            case["note"]
        );
        checked += 1;
    }
    assert_eq!(checked + KNOWN_DIFFERENCES.len(), cases.len());
}

#[test]
fn round_trip_keeps_every_key_and_the_order() {
    for case in cases("deployment_ids.json") {
        let env = env_of(&case);
        let Ok(d) = Deployment::from_value_with_env(case["deployment"].clone(), &env) else {
            continue;
        };
        let back = serde_json::to_value(&d).unwrap();
        assert_eq!(back, case["deployment"], "{}", case["case"]);
        // Order of litellm_params as written.
        let want: Vec<&String> = case["deployment"]["litellm_params"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        let got: Vec<&String> = back["litellm_params"].as_object().unwrap().keys().collect();
        assert_eq!(got, want);
        // And parsing the output again gives the same deployment.
        assert_eq!(Deployment::from_value_with_env(back, &env).unwrap(), d);
    }
}

#[test]
fn secrets_never_print() {
    let env: HashMap<String, String> =
        [("KEY_VAR".to_string(), "sk-from-env-42".to_string())].into();
    let d = Deployment::from_value_with_env(
        serde_json::json!({
            "model_name": "m",
            "litellm_params": {"model": "openai/x", "api_key": "sk-literal-41", "aws_secret_access_key": "AKIA-s",
                               "custom": "os.environ/KEY_VAR", "headers": {"Authorization": "Bearer sk-h"}},
            "model_info": {"id": "m1", "access_token": "tok-1"}
        }),
        &env,
    )
    .unwrap();
    let dbg = format!("{d:?}");
    for secret in ["sk-literal-41", "sk-from-env-42", "AKIA-s", "sk-h", "tok-1"] {
        assert!(!dbg.contains(secret), "{secret} in {dbg}");
    }
    assert_eq!(
        d.litellm_params().api_key().unwrap().expose(),
        "sk-literal-41"
    );
    assert_eq!(d.litellm_params().get("custom").unwrap(), "sk-from-env-42");
    // Serializing writes the reference, not the value it resolved to.
    assert_eq!(
        d.to_value()["litellm_params"]["custom"],
        "os.environ/KEY_VAR"
    );
}

#[test]
fn unset_variable_is_a_clear_error() {
    let err = Deployment::from_value_with_env(
        serde_json::json!({"model_name": "m", "litellm_params": {"model": "x", "api_key": "os.environ/NOPE_NOT_SET"}}),
        &HashMap::<String, String>::new(),
    )
    .unwrap_err();
    assert_eq!(err.field(), "litellm_params.api_key");
    assert_eq!(
        err.to_string(),
        "`litellm_params.api_key` refers to environment variable `NOPE_NOT_SET`, which is not set"
    );
}

#[test]
fn invalid_entries_name_the_field() {
    let cases = [
        (
            serde_json::json!({"litellm_params": {"model": "x"}}),
            "model_name",
        ),
        (serde_json::json!({"model_name": "m"}), "litellm_params"),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {}}),
            "litellm_params.model",
        ),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {"model": 3}}),
            "litellm_params.model",
        ),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {"model": "x", "rpm": "many"}}),
            "litellm_params.rpm",
        ),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {"model": "x", "rpm": -1}}),
            "litellm_params.rpm",
        ),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {"model": "x", "order": 1.5}}),
            "litellm_params.order",
        ),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {"model": "x"}, "model_info": {"id": ""}}),
            "model_info.id",
        ),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {"model": "x"}, "model_info": {"blocked": "yes"}}),
            "model_info.blocked",
        ),
        (
            serde_json::json!({"model_name": "m", "litellm_params": {"model": "x", "api_key": 5}}),
            "litellm_params.api_key",
        ),
    ];
    for (value, field) in cases {
        let err = Deployment::from_value(value.clone()).unwrap_err();
        assert_eq!(err.field(), field, "{value}");
        assert!(!err.to_string().contains("many"));
    }
    assert!(Deployment::from_value(serde_json::json!([1])).is_err());
}
