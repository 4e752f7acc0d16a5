//! One entry of a LiteLLM `model_list`: [`Deployment`], its [`LiteLlmParams`] and [`ModelInfo`], and its
//! [`DeploymentId`].
//!
//! A deployment reads and writes the same JSON/YAML LiteLLM does, keeping every key (known or not) and the
//! order of `litellm_params`, so a config round-trips without loss. When `model_info.id` is absent the id is
//! the one LiteLLM itself computes (see [`DeploymentId::litellm`]), so one config gives the same ids in both.
//! `os.environ/NAME` values of `litellm_params` are resolved when the deployment is built; secrets such as
//! `api_key` are held as [`Secret`] and never printed, and `Debug` masks every other credential by its
//! key's name or by its form, at any depth ([`redact`]: URL userinfo, `?api-key=`,
//! `Cookie` / `Authorization` headers...). Serialization writes back exactly what was read.
//!
//! ```
//! use modelroute::Deployment;
//! use serde_json::json;
//!
//! let d = Deployment::from_value(json!({
//!     "model_name": "gpt-4o",
//!     "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-live-1", "rpm": 600, "my_flag": true},
//! }))?;
//! assert_eq!(d.model_name(), "gpt-4o");
//! assert_eq!(d.litellm_params().model(), "openai/gpt-4o");
//! assert_eq!(d.litellm_params().rpm(), Some(600));
//! assert_eq!(d.id().as_str().len(), 64); // LiteLLM's sha256 id
//! assert!(!format!("{d:?}").contains("sk-live-1"));
//! // Unknown keys are kept and written back.
//! assert_eq!(serde_json::to_value(&d)?["litellm_params"]["my_flag"], json!(true));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod id;
#[cfg(feature = "yaml")]
pub(crate) use id::py_float;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use self::id::DeploymentId;
use crate::env::{self, Environment, ProcessEnv};
use crate::error::{DeploymentError, NumberProblem};
use crate::redact::{self, RedactedMap};
use crate::secret::Secret;

/// One deployment of a model group: LiteLLM's `model_list` entry.
#[derive(Clone, PartialEq)]
pub struct Deployment {
    model_name: String,
    litellm_params: LiteLlmParams,
    model_info: ModelInfo,
    /// Top-level keys other than the three known ones, as written.
    extra: Map<String, Value>,
    id: DeploymentId,
}

impl Deployment {
    /// Builds a deployment from a `model_list` entry, resolving `os.environ/` references from the process
    /// environment.
    pub fn from_value(value: Value) -> Result<Self, DeploymentError> {
        Self::from_value_with_env(value, &ProcessEnv)
    }

    /// Builds a deployment from a `model_list` entry, resolving `os.environ/` references from `env`.
    pub fn from_value_with_env(
        value: Value,
        env: &dyn Environment,
    ) -> Result<Self, DeploymentError> {
        let Value::Object(mut entry) = value else {
            return Err(DeploymentError::NotAnObject {
                field: "deployment",
                found: json_type(&value),
            });
        };
        let model_name = match entry.shift_remove("model_name") {
            Some(Value::String(s)) if !s.is_empty() => s,
            Some(Value::String(_)) => {
                return Err(DeploymentError::Empty {
                    field: "model_name".into(),
                });
            }
            Some(other) => {
                return Err(DeploymentError::InvalidField {
                    field: "model_name".into(),
                    expected: "a string",
                    found: json_type(&other),
                });
            }
            None => {
                return Err(DeploymentError::MissingField {
                    field: "model_name",
                });
            }
        };
        let params = match entry.shift_remove("litellm_params") {
            Some(Value::Object(map)) => map,
            Some(other) => {
                return Err(DeploymentError::NotAnObject {
                    field: "litellm_params",
                    found: json_type(&other),
                });
            }
            None => {
                return Err(DeploymentError::MissingField {
                    field: "litellm_params",
                });
            }
        };
        let litellm_params = LiteLlmParams::from_map_with_env(params, env)?;
        let model_info = match entry.shift_remove("model_info") {
            None => ModelInfo::absent(),
            Some(Value::Null) => ModelInfo::from_map(Map::new(), true, env)?,
            Some(Value::Object(map)) => ModelInfo::from_map(map, true, env)?,
            Some(other) => {
                return Err(DeploymentError::NotAnObject {
                    field: "model_info",
                    found: json_type(&other),
                });
            }
        };
        Ok(Self::assemble(
            model_name,
            litellm_params,
            model_info,
            entry,
        ))
    }

    /// A deployment of `model_name` served by `model` (LiteLLM's `litellm_params.model`), with nothing else set.
    /// Add parameters with [`Deployment::with_param`], an id with [`Deployment::with_id`].
    ///
    /// ```
    /// use modelroute::Deployment;
    /// let d = Deployment::new("openai/*", "openai/*")?.with_param("rpm", 100)?.with_id("wild-1")?;
    /// assert_eq!(d.id().as_str(), "wild-1");
    /// assert!(d.is_wildcard());
    /// # Ok::<(), modelroute::DeploymentError>(())
    /// ```
    pub fn new(
        model_name: impl Into<String>,
        model: impl Into<String>,
    ) -> Result<Self, DeploymentError> {
        let mut params = Map::new();
        params.insert("model".into(), Value::String(model.into()));
        Self::from_value(serde_json::json!({
            "model_name": model_name.into(),
            "litellm_params": params,
        }))
    }

    /// This deployment with `litellm_params[key] = value` (appended, or replaced in place). A `model_info.id`
    /// keeps the id; otherwise the LiteLLM id is computed again. `os.environ/` references in the params are
    /// resolved again, from the process environment (build from a value with
    /// [`Deployment::from_value_with_env`] to supply the variables yourself).
    pub fn with_param(self, key: &str, value: impl Into<Value>) -> Result<Self, DeploymentError> {
        let mut written = self.litellm_params.written.clone();
        written.insert(key.to_string(), value.into());
        let litellm_params = LiteLlmParams::from_map_with_env(written, &ProcessEnv)?;
        Ok(Self::assemble(
            self.model_name,
            litellm_params,
            self.model_info,
            self.extra,
        ))
    }

    /// This deployment with `model_info[key] = value` (`os.environ/` references in `model_info` resolved
    /// from the process environment, as in [`Deployment::with_param`]).
    pub fn with_info(self, key: &str, value: impl Into<Value>) -> Result<Self, DeploymentError> {
        let mut written = self.model_info.written.clone();
        written.insert(key.to_string(), value.into());
        let model_info = ModelInfo::from_map(written, true, &ProcessEnv)?;
        Ok(Self::assemble(
            self.model_name,
            self.litellm_params,
            model_info,
            self.extra,
        ))
    }

    /// This deployment with `model_info.id = id`.
    pub fn with_id(self, id: impl Into<String>) -> Result<Self, DeploymentError> {
        self.with_info("id", id.into())
    }

    /// This deployment owned by team `team_id`, which calls it `public_name`
    /// (`model_info.team_id` and `model_info.team_public_model_name`).
    pub fn with_team(
        self,
        team_id: impl Into<String>,
        public_name: impl Into<String>,
    ) -> Result<Self, DeploymentError> {
        self.with_info("team_id", team_id.into())?
            .with_info("team_public_model_name", public_name.into())
    }

    fn assemble(
        model_name: String,
        litellm_params: LiteLlmParams,
        model_info: ModelInfo,
        extra: Map<String, Value>,
    ) -> Self {
        let id = match &model_info.id {
            Some(id) => DeploymentId::new(id.as_str()),
            None => DeploymentId::litellm(&model_name, litellm_params.effective()),
        };
        Deployment {
            model_name,
            litellm_params,
            model_info,
            extra,
            id,
        }
    }

    /// The model group this deployment serves: the name clients request (may be a wildcard pattern).
    pub fn model_name(&self) -> &str {
        &self.model_name
    }

    /// The deployment's id: `model_info.id`, or LiteLLM's hash when absent.
    pub fn id(&self) -> &DeploymentId {
        &self.id
    }

    /// Whether the id was written in `model_info.id` (rather than computed).
    pub fn has_explicit_id(&self) -> bool {
        self.model_info.id.is_some()
    }

    /// The `litellm_params`.
    pub fn litellm_params(&self) -> &LiteLlmParams {
        &self.litellm_params
    }

    /// The `model_info`.
    pub fn model_info(&self) -> &ModelInfo {
        &self.model_info
    }

    /// Top-level keys other than `model_name`, `litellm_params` and `model_info`, as written.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// Whether `model_name` is a wildcard pattern (contains `*`).
    pub fn is_wildcard(&self) -> bool {
        self.model_name.contains('*')
    }

    /// Whether `litellm_params.model` is a LiteLLM strategy-router marker (`auto_router/...`: a semantic,
    /// complexity, adaptive or quality router), which names no model to call but a LiteLLM plugin that picks
    /// another deployment. The router refuses such deployments (modelroute runs no strategy router), and
    /// config loading refuses them, or skips them when lenient.
    ///
    /// ```
    /// use modelroute::Deployment;
    /// assert!(Deployment::new("auto", "auto_router/complexity_router")?.is_strategy_marker());
    /// assert!(!Deployment::new("gpt-4o", "openai/gpt-4o")?.is_strategy_marker());
    /// # Ok::<(), modelroute::DeploymentError>(())
    /// ```
    pub fn is_strategy_marker(&self) -> bool {
        // LiteLLM's `classify_strategy_router_model`: every `auto_router/` model is one.
        self.litellm_params.model().starts_with("auto_router/")
    }

    /// The team and its public name for this deployment, when both `model_info.team_id` and
    /// `model_info.team_public_model_name` are set: such a deployment is seen only by that team's requests,
    /// under the public name.
    pub fn team(&self) -> Option<(&str, &str)> {
        match (
            &self.model_info.team_id,
            &self.model_info.team_public_model_name,
        ) {
            (Some(team), Some(name)) => Some((team, name)),
            _ => None,
        }
    }

    /// The name requests match against: the team's public name for a team deployment, else `model_name`.
    pub fn routing_name(&self) -> &str {
        self.team().map_or(&self.model_name, |(_, name)| name)
    }

    /// The entry as LiteLLM writes it (`os.environ/` references kept, not their values).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl fmt::Debug for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Deployment");
        s.field("id", &self.id)
            .field("model_name", &redact::text(&self.model_name))
            .field("litellm_params", &self.litellm_params)
            .field("model_info", &self.model_info);
        if !self.extra.is_empty() {
            s.field("extra", &RedactedMap(&self.extra));
        }
        s.finish()
    }
}

impl Serialize for Deployment {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("model_name", &self.model_name)?;
        map.serialize_entry("litellm_params", &self.litellm_params.written)?;
        if self.model_info.present {
            map.serialize_entry("model_info", &self.model_info.written)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Deserializes a `model_list` entry, resolving `os.environ/` references from the process environment
/// (as LiteLLM does at load). Use [`Deployment::from_value_with_env`] to supply the variables yourself.
impl<'de> Deserialize<'de> for Deployment {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Deployment::from_value(value).map_err(serde::de::Error::custom)
    }
}

/// `litellm_params`: how to call the model. Keys are kept in the order written.
#[derive(Clone, PartialEq)]
pub struct LiteLlmParams {
    /// As written: `os.environ/` references unresolved.
    written: Map<String, Value>,
    /// With `os.environ/` references resolved; `None` when there were none (then equal to `written`).
    resolved: Option<Map<String, Value>>,
    model: String,
    api_base: Option<String>,
    api_key: Option<Secret>,
    rpm: Option<f64>,
    tpm: Option<f64>,
    weight: Option<f64>,
    order: Option<i64>,
}

impl LiteLlmParams {
    fn from_map_with_env(
        written: Map<String, Value>,
        env: &dyn Environment,
    ) -> Result<Self, DeploymentError> {
        let resolved = match env::resolve_references(
            &Value::Object(written.clone()),
            "litellm_params",
            env,
        )? {
            Some(Value::Object(map)) => Some(map),
            _ => None,
        };
        let eff = resolved.as_ref().unwrap_or(&written);
        let model = match eff.get("model") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) => {
                return Err(DeploymentError::Empty {
                    field: "litellm_params.model".into(),
                });
            }
            Some(other) => {
                return Err(DeploymentError::InvalidField {
                    field: "litellm_params.model".into(),
                    expected: "a string",
                    found: json_type(other),
                });
            }
            None => {
                return Err(DeploymentError::MissingField {
                    field: "litellm_params.model",
                });
            }
        };
        let api_base = optional_string(eff, "litellm_params", "api_base")?;
        let api_key = optional_string(eff, "litellm_params", "api_key")?.map(Secret::new);
        let rpm = optional_non_negative(eff, "rpm")?;
        let tpm = optional_non_negative(eff, "tpm")?;
        let weight = optional_non_negative(eff, "weight")?;
        let order = match eff.get("order") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64(),
            // A value from `os.environ/` is a string; LiteLLM accepts numeric strings.
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            Some(other) => {
                return Err(DeploymentError::InvalidField {
                    field: "litellm_params.order".into(),
                    expected: "an integer",
                    found: json_type(other),
                });
            }
        };
        Ok(LiteLlmParams {
            written,
            resolved,
            model,
            api_base,
            api_key,
            rpm,
            tpm,
            weight,
            order,
        })
    }

    /// The params with `os.environ/` references resolved, in the order written.
    pub(crate) fn effective(&self) -> &Map<String, Value> {
        self.resolved.as_ref().unwrap_or(&self.written)
    }

    /// The provider model to call, e.g. `openai/gpt-4o` (may contain `*` for a wildcard deployment).
    pub fn model(&self) -> &str {
        &self.model
    }

    /// `api_base`, resolved.
    pub fn api_base(&self) -> Option<&str> {
        self.api_base.as_deref()
    }

    /// `api_key`, resolved, as a [`Secret`].
    pub fn api_key(&self) -> Option<&Secret> {
        self.api_key.as_ref()
    }

    /// Requests per minute (`rpm`).
    pub fn rpm(&self) -> Option<u64> {
        self.rpm.map(|v| v as u64)
    }

    /// Tokens per minute (`tpm`).
    pub fn tpm(&self) -> Option<u64> {
        self.tpm.map(|v| v as u64)
    }

    /// `rpm` as written (LiteLLM accepts fractional values).
    pub fn rpm_f64(&self) -> Option<f64> {
        self.rpm
    }

    /// `tpm` as written.
    pub fn tpm_f64(&self) -> Option<f64> {
        self.tpm
    }

    /// Relative weight for `simple-shuffle` (`weight`).
    pub fn weight(&self) -> Option<f64> {
        self.weight
    }

    /// Priority (`order`): lower is preferred; deployments of higher order are used only when all those of a
    /// lower order are unavailable.
    pub fn order(&self) -> Option<i64> {
        self.order
    }

    /// The value of `key`, with `os.environ/` references resolved. Beware: for secret keys such as `api_key`
    /// this is the secret itself (prefer [`LiteLlmParams::api_key`]).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.effective().get(key)
    }

    /// The params as written in the config (`os.environ/` references kept, literal keys too).
    pub fn as_written(&self) -> &Map<String, Value> {
        &self.written
    }
}

/// Credentials masked (see [`redact`]): values of credential-named keys at any depth, values read from
/// the environment, and credentials recognisable by their form (URL userinfo, `?api-key=`, `Bearer ...`).
impl fmt::Debug for LiteLlmParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.effective() {
            let from_env = self.written.get(k) != Some(v);
            redact::entry(&mut m, k, v, from_env);
        }
        m.finish()
    }
}

/// `model_info`: facts about the deployment. Every key is kept.
#[derive(Clone, PartialEq)]
pub struct ModelInfo {
    written: Map<String, Value>,
    /// With `os.environ/` references resolved; `None` when there were none.
    resolved: Option<Map<String, Value>>,
    /// Whether `model_info` was present in the input (an absent one is not written back).
    present: bool,
    id: Option<String>,
    team_id: Option<String>,
    team_public_model_name: Option<String>,
    blocked: bool,
}

impl ModelInfo {
    fn absent() -> Self {
        ModelInfo {
            written: Map::new(),
            resolved: None,
            present: false,
            id: None,
            team_id: None,
            team_public_model_name: None,
            blocked: false,
        }
    }

    fn from_map(
        written: Map<String, Value>,
        present: bool,
        env: &dyn Environment,
    ) -> Result<Self, DeploymentError> {
        let resolved =
            match env::resolve_references(&Value::Object(written.clone()), "model_info", env)? {
                Some(Value::Object(map)) => Some(map),
                _ => None,
            };
        let eff = resolved.as_ref().unwrap_or(&written);
        let id = match eff.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => {
                return Err(DeploymentError::Empty {
                    field: "model_info.id".into(),
                });
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                return Err(DeploymentError::InvalidField {
                    field: "model_info.id".into(),
                    expected: "a string",
                    found: json_type(other),
                });
            }
        };
        let team_id = optional_string(eff, "model_info", "team_id")?.filter(|s| !s.is_empty());
        let team_public_model_name =
            optional_string(&written, "model_info", "team_public_model_name")?
                .filter(|s| !s.is_empty());
        let blocked = match eff.get("blocked") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                return Err(DeploymentError::InvalidField {
                    field: "model_info.blocked".into(),
                    expected: "a boolean",
                    found: json_type(other),
                });
            }
        };
        Ok(ModelInfo {
            written,
            resolved,
            present,
            id,
            team_id,
            team_public_model_name,
            blocked,
        })
    }

    /// `id`, when written.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `team_id`: the team that owns this deployment.
    pub fn team_id(&self) -> Option<&str> {
        self.team_id.as_deref()
    }

    /// `team_public_model_name`: the name the team requests this deployment by.
    pub fn team_public_model_name(&self) -> Option<&str> {
        self.team_public_model_name.as_deref()
    }

    /// `blocked`: a blocked deployment is never selected.
    pub fn blocked(&self) -> bool {
        self.blocked
    }

    /// The value of `key`, with `os.environ/` references resolved.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.resolved.as_ref().unwrap_or(&self.written).get(key)
    }

    /// Every key, as written.
    pub fn as_written(&self) -> &Map<String, Value> {
        &self.written
    }
}

/// Credentials masked at any depth, as [`LiteLlmParams`] masks them.
impl fmt::Debug for ModelInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&RedactedMap(&self.written), f)
    }
}

fn optional_string(
    map: &Map<String, Value>,
    section: &str,
    key: &str,
) -> Result<Option<String>, DeploymentError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(DeploymentError::InvalidField {
            field: format!("{section}.{key}"),
            expected: "a string",
            found: json_type(other),
        }),
    }
}

fn optional_non_negative(
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<f64>, DeploymentError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(value @ (Value::Number(_) | Value::String(_))) => match value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
        {
            Some(v) if v >= 0.0 && v.is_finite() => Ok(Some(v)),
            None => Err(DeploymentError::InvalidField {
                field: format!("litellm_params.{key}"),
                expected: "a non-negative number",
                found: json_type(value),
            }),
            Some(v) => Err(DeploymentError::InvalidNumber {
                field: format!("litellm_params.{key}"),
                problem: number_problem(v, value.as_str()),
            }),
        },
        Some(other) => Err(DeploymentError::InvalidField {
            field: format!("litellm_params.{key}"),
            expected: "a non-negative number",
            found: json_type(other),
        }),
    }
}

/// What is wrong with `v`, a number that is not finite and non-negative, parsed from `text` when it was
/// written as a string: `inf` / `infinity` (any case, signed) is infinite, any other spelling that parses
/// to infinity (`1e309`) is out of range.
fn number_problem(v: f64, text: Option<&str>) -> NumberProblem {
    if v.is_nan() {
        NumberProblem::NotANumber
    } else if v.is_infinite() {
        let word = text
            .unwrap_or_default()
            .trim()
            .trim_start_matches(['+', '-']);
        if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity") {
            NumberProblem::Infinite
        } else {
            NumberProblem::OutOfRange
        }
    } else {
        NumberProblem::Negative
    }
}

/// The JSON type of `value`, for error messages (never the value itself: it may be a secret).
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
