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

/// A config FILE: the YAML loader must read values with PyYAML's (YAML 1.1) types, since LiteLLM hashes
/// them: `1e-05` is a string, `yes` a boolean, `017` the integer 15... Every id must equal the id the real
/// proxy reports for the same file (tests/litellm_harness.rs checks the proxy side).
#[cfg(feature = "yaml")]
#[test]
fn yaml_config_ids_equal_litellm_ids() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let env: HashMap<String, String> = [
        ("MODELROUTE_FIXTURE_KEY", "sk-fixture-123"),
        ("MODELROUTE_FIXTURE_TRUE", "True"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let text =
        std::fs::read_to_string(format!("{dir}/tests/fixtures/deployment_id_config.yaml")).unwrap();
    // `.inf` / `.nan` have no JSON value: the loader refuses them with the line (checked below), so the
    // comparison runs on the file without that one entry.
    let refused = modelroute::config::RouterConfig::loader()
        .env(&env)
        .load_yaml(&text)
        .unwrap_err();
    assert!(refused.to_string().contains("line"), "{refused}");
    let start = text.find("  - model_name: yaml-inf-nan").unwrap();
    let end = start + 1 + text[start + 1..].find("  - model_name:").unwrap();
    let text = format!("{}{}", &text[..start], &text[end..]);
    let config = modelroute::config::RouterConfig::loader()
        .env(&env)
        .load_yaml(&text)
        .expect("the fixture config loads");
    let expected: Vec<Value> = cases("deployment_ids_yaml.json")
        .into_iter()
        .filter(|c| c["model_name"] != "yaml-inf-nan")
        .collect();
    assert_eq!(config.deployments().len(), expected.len());
    // The loader types values like PyYAML (YAML 1.1); what still hashes differently, with the reason (also
    // in `config`'s module docs).
    const YAML_DIFFERENCES: &[(&str, &str)] = &[(
        "yaml-dates",
        "a date nested in a mapping is hashed by LiteLLM as its class name `datetime.date` (json.dumps \
         default=); JSON has no date value, so here it is the string `2024-01-31` (top-level dates and \
         timestamps hash alike: str() of the string)",
    )];
    let mut mismatches = Vec::new();
    let mut matched = 0;
    for case in &expected {
        let name = case["model_name"].as_str().unwrap();
        let d = config
            .deployments()
            .iter()
            .find(|d| d.model_name() == name)
            .unwrap_or_else(|| panic!("{name} not loaded"));
        let known = YAML_DIFFERENCES.iter().any(|(c, _)| *c == name);
        let equal = d.id().as_str() == case["id"].as_str().unwrap();
        match (equal, known) {
            (true, false) => matched += 1,
            (false, true) => {}
            (true, true) => {
                mismatches.push(format!("{name}: now equal, drop it from YAML_DIFFERENCES"))
            }
            (false, false) => {
                mismatches.push(format!("{name}: LiteLLM loaded {}", case["loaded_params"]))
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "ids differ:\n{}",
        mismatches.join("\n")
    );
    assert_eq!(matched + YAML_DIFFERENCES.len(), expected.len());
}
