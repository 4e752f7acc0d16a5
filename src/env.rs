//! `os.environ/NAME` references, and where their values come from.
//!
//! LiteLLM configs name secrets indirectly: `api_key: os.environ/OPENAI_API_KEY`. They are resolved when a
//! deployment is loaded; an unset variable is an error naming the variable and the field, never a silent
//! empty string. The [`Environment`] trait lets tests supply variables without touching the process.

use std::collections::{BTreeMap, HashMap};

/// The prefix LiteLLM uses for environment references.
pub const ENV_PREFIX: &str = "os.environ/";

/// A source of environment variables.
///
/// Implemented by [`ProcessEnv`], by maps, and by any `Fn(&str) -> Option<String>`:
///
/// ```
/// use modelroute::env::Environment;
/// let env = |name: &str| (name == "KEY").then(|| "v".to_string());
/// assert_eq!(env.var("KEY").as_deref(), Some("v"));
/// ```
pub trait Environment {
    /// The value of `name`, if set (and valid UTF-8).
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment (`std::env::var`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Environment for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<F: Fn(&str) -> Option<String>> Environment for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The variable name of an `os.environ/NAME` reference, if `value` is one.
///
/// ```
/// assert_eq!(modelroute::env::reference("os.environ/OPENAI_API_KEY"), Some("OPENAI_API_KEY"));
/// assert_eq!(modelroute::env::reference("sk-123"), None);
/// ```
pub fn reference(value: &str) -> Option<&str> {
    value.strip_prefix(ENV_PREFIX)
}

/// Resolves the `os.environ/NAME` references in `value` the way the LiteLLM proxy does when it loads a
/// config: strings that are references, at any depth inside objects (also objects inside arrays); not plain
/// strings inside arrays, and not keys ending in `_ref` (pointers the provider resolves itself). A value
/// that reads `true` / `false` (any case, surrounding spaces) becomes a boolean, like LiteLLM's
/// `get_secret`. Unlike LiteLLM, an unset variable is an error (LiteLLM silently uses `None`).
///
/// Returns `Ok(None)` when nothing was resolved. `path` names `value` in errors (e.g. `litellm_params`).
pub(crate) fn resolve_references(
    value: &serde_json::Value,
    path: &str,
    env: &dyn Environment,
) -> Result<Option<serde_json::Value>, crate::DeploymentError> {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            let Some(var) = reference(s) else {
                return Ok(None);
            };
            if var.is_empty() {
                return Err(crate::DeploymentError::Empty { field: path.into() });
            }
            let Some(resolved) = env.var(var) else {
                return Err(crate::DeploymentError::EnvVarNotSet {
                    field: path.into(),
                    variable: var.to_string(),
                });
            };
            Ok(Some(match resolved.trim().to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(resolved),
            }))
        }
        Value::Object(map) => {
            let mut out: Option<serde_json::Map<String, Value>> = None;
            for (key, item) in map {
                if key.ends_with("_ref") {
                    continue;
                }
                if let Some(new) = resolve_references(item, &format!("{path}.{key}"), env)? {
                    out.get_or_insert_with(|| map.clone())
                        .insert(key.clone(), new);
                }
            }
            Ok(out.map(Value::Object))
        }
        Value::Array(items) => {
            let mut out: Option<Vec<Value>> = None;
            for (i, item) in items.iter().enumerate() {
                if item.is_string() {
                    continue;
                }
                if let Some(new) = resolve_references(item, &format!("{path}[{i}]"), env)? {
                    out.get_or_insert_with(|| items.clone())[i] = new;
                }
            }
            Ok(out.map(Value::Array))
        }
        _ => Ok(None),
    }
}
