//! Loading a LiteLLM `config.yaml` (or JSON) into a [`RouterConfig`]: the `model_list`, and the parts of
//! `router_settings` / `litellm_settings` that matter to routing.
//!
//! - Read: `model_list`; `routing_strategy` (every name LiteLLM accepts; + `routing_strategy_args`:
//!   `lowest_latency_buffer`, `ttl`, `ttft_percentile`, and `confidence_threshold_low` / `_medium` / `_high`
//!   for `lar1`), `default_max_parallel_requests`,
//!   `model_group_alias`, `fallbacks`, `context_window_fallbacks`, `content_policy_fallbacks`,
//!   `default_fallbacks`, `allowed_fails`, `allowed_fails_policy`, `cooldown_time`, `disable_cooldowns`,
//!   `num_retries`, `retry_after`, `retry_policy`, `model_group_retry_policy`, `max_fallbacks`,
//!   `enable_tag_filtering`, `tag_filtering_match_any`,
//!   `enable_pre_call_checks`, from `router_settings` or `litellm_settings` (the former wins, as on
//!   LiteLLM's proxy). Every other key is ignored. An `allowed_fails_policy` key LiteLLM does not know is an
//!   error (LiteLLM ignores it, leaving the class it meant uncovered).
//! - `model_list` entries become deployments as LiteLLM's `set_model_list` makes them: one per organization of
//!   `organization: [a, b]`, identical entries once (with a [`ConfigWarning::DuplicateDeployment`]),
//!   strategy-router markers (`auto_router/...`) refused (see `model_list.rs` beside this file).
//! - `os.environ/NAME` values of `litellm_params` are resolved (from the process, or an
//!   [`Environment`] you give); an unset variable is an error naming it.
//! - Errors name the file, the entry (index and `model_name`) and the field, never a value.
//! - Lenient loading ([`ConfigLoader::lenient`], like LiteLLM's `ignore_invalid_deployments`) skips invalid
//!   entries and lists them with the reason in [`RouterConfig::skipped`]; an unsupported routing strategy
//!   then falls back to `simple-shuffle` with a [`ConfigWarning`].
//! - YAML (feature `yaml`) is read like PyYAML's `yaml.safe_load` (YAML 1.1) reads LiteLLM's configs, since
//!   the types it gives change the ids LiteLLM computes: `yes`/`On` are booleans but `y`/`n` strings; `017`
//!   is 15 (octal), `0x1F` 31, `0b101` 5, `1_000` 1000, `1:30` 90 (base 60), `0o17` a string; `1e-05` and
//!   `1E5` are strings (a YAML 1.1 float needs a dot, and a signed exponent), `1.0e-5` a float;
//!   `~`/`null`/empty are null; dates and timestamps are Python's `str()` of them (`2024-01-31`); `<<`
//!   merges put the merged keys first; a duplicate key keeps its first position and takes the last value;
//!   one document only. `.inf`/`.nan` (no JSON value) and unknown tags are refused, with line and column.
//!   Known difference: a date nested in a mapping or list of `litellm_params` is hashed by LiteLLM as
//!   `"datetime.date"` / `datetime.date(2024, 1, 31)`, here as the string `2024-01-31`.
//!
//! ```
//! use modelroute::config::RouterConfig;
//! use modelroute::router::RequestContext;
//! use modelroute::Router;
//!
//! let config = RouterConfig::from_json(r#"{
//!   "model_list": [
//!     {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o", "api_key": "os.environ/AZURE_API_KEY", "rpm": 600}},
//!     {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "rpm": 60}}
//!   ],
//!   "router_settings": {"routing_strategy": "least-busy", "model_group_alias": {"gpt4": "gpt-4o"}}
//! }"#);
//! // AZURE_API_KEY is not set in this process:
//! let err = config.unwrap_err();
//! assert_eq!(err.index(), Some(0));
//! assert_eq!(err.model_name(), Some("gpt-4o"));
//! assert_eq!(err.field(), Some("litellm_params.api_key"));
//!
//! let env = |name: &str| (name == "AZURE_API_KEY").then(|| "sk-az".to_string());
//! let config = RouterConfig::loader().env(&env).load_json(r#"{"model_list": [
//!     {"model_name": "gpt-4o", "litellm_params": {"model": "azure/gpt-4o", "api_key": "os.environ/AZURE_API_KEY"}}
//! ]}"#)?;
//! let router = Router::from_config(config);
//! assert_eq!(router.route("gpt-4o", &RequestContext::new())?.model(), "azure/gpt-4o");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::attempt::RetryPolicy;
use crate::deployment::{Deployment, DeploymentId, json_type};
use crate::env::{Environment, ProcessEnv};
use crate::error::{ConfigError, EntryError};
use crate::pattern::PatternRouter;
use crate::router::{
    AliasTarget, AllowedFailsPolicy, PolicyError, Router, RouterSettings, RoutingStrategy,
};
use crate::trace;

mod model_list;
#[cfg(feature = "yaml")]
mod yaml;

/// A loaded config: valid deployments (ids unique, wildcards accepted) and routing settings.
#[derive(Debug, Clone)]
pub struct RouterConfig {
    deployments: Vec<Deployment>,
    settings: RouterSettings,
    skipped: Vec<SkippedDeployment>,
    warnings: Vec<ConfigWarning>,
}

/// An invalid `model_list` entry left out by lenient loading.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedDeployment {
    /// Index in `model_list`.
    pub index: usize,
    /// The entry's `model_name`, if it has one.
    pub model_name: Option<String>,
    /// Why it was skipped.
    pub error: EntryError,
}

impl std::fmt::Display for SkippedDeployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "model_list[{}]", self.index)?;
        if let Some(name) = &self.model_name {
            write!(f, " (model_name {name:?})")?;
        }
        write!(f, ": `{}`: {}", self.error.field(), self.error)
    }
}

/// Something the loader accepted but you may want to know: a substitute (lenient loading), or an entry
/// that loads differently from how it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// A routing strategy this crate does not know (lenient loading); `simple-shuffle` is used instead.
    UnsupportedStrategy {
        /// The field.
        field: String,
        /// The strategy named.
        value: String,
    },
    /// An entry identical to an earlier one (same id, same settings): loaded once. LiteLLM loads both copies,
    /// which only doubles that deployment's share of a `simple-shuffle` pick.
    DuplicateDeployment {
        /// Index of the duplicate in `model_list`.
        index: usize,
        /// Index of the entry it repeats.
        first_index: usize,
        /// Their id.
        id: DeploymentId,
    },
    /// `organization: []`: like LiteLLM, the entry gives no deployment.
    EmptyOrganizationList {
        /// Index in `model_list`.
        index: usize,
        /// The entry's `model_name`, if it has one.
        model_name: Option<String>,
    },
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigWarning::UnsupportedStrategy { field, value } => write!(
                f,
                "`{field}`: unsupported routing strategy `{value}`, using simple-shuffle"
            ),
            ConfigWarning::DuplicateDeployment {
                index,
                first_index,
                id,
            } => write!(
                f,
                "model_list[{index}] repeats model_list[{first_index}] (id `{id}`): loaded once"
            ),
            ConfigWarning::EmptyOrganizationList { index, .. } => write!(
                f,
                "model_list[{index}]: `organization: []` gives no deployment"
            ),
        }
    }
}

impl RouterConfig {
    /// A strict loader reading `os.environ/` from the process; see [`ConfigLoader`].
    pub fn loader() -> ConfigLoader<'static> {
        ConfigLoader::new()
    }

    /// Loads a `.json`, `.yaml` or `.yml` file, strictly.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::loader().load_file(path)
    }

    /// Loads JSON text, strictly.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        Self::loader().load_json(text)
    }

    /// Loads YAML text, strictly.
    #[cfg(feature = "yaml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
    pub fn from_yaml(text: &str) -> Result<Self, ConfigError> {
        Self::loader().load_yaml(text)
    }

    /// The deployments, in `model_list` order.
    pub fn deployments(&self) -> &[Deployment] {
        &self.deployments
    }

    /// The routing settings.
    pub fn settings(&self) -> &RouterSettings {
        &self.settings
    }

    /// The settings, to adjust before building a router.
    pub fn settings_mut(&mut self) -> &mut RouterSettings {
        &mut self.settings
    }

    /// The entries lenient loading skipped (empty for strict loading).
    pub fn skipped(&self) -> &[SkippedDeployment] {
        &self.skipped
    }

    /// What lenient loading substituted.
    pub fn warnings(&self) -> &[ConfigWarning] {
        &self.warnings
    }

    /// The deployments and the settings.
    pub fn into_parts(self) -> (Vec<Deployment>, RouterSettings) {
        (self.deployments, self.settings)
    }

    /// A router with these deployments and settings (system clock, random seed).
    pub fn into_router(self) -> Router {
        Router::from_config(self)
    }
}

static PROCESS_ENV: ProcessEnv = ProcessEnv;

/// Loads LiteLLM configs: strict (the first invalid entry is an error) or lenient.
#[derive(Clone, Copy)]
pub struct ConfigLoader<'e> {
    lenient: bool,
    env: &'e dyn Environment,
}

impl std::fmt::Debug for ConfigLoader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigLoader")
            .field("lenient", &self.lenient)
            .finish_non_exhaustive()
    }
}

impl Default for ConfigLoader<'static> {
    fn default() -> Self {
        Self::new()
    }
}

impl ConfigLoader<'static> {
    /// Strict, `os.environ/` from the process environment.
    pub fn new() -> Self {
        ConfigLoader {
            lenient: false,
            env: &PROCESS_ENV,
        }
    }
}

impl<'e> ConfigLoader<'e> {
    /// Skip invalid deployments instead of failing (LiteLLM's `ignore_invalid_deployments`); they are listed
    /// in [`RouterConfig::skipped`].
    pub fn lenient(mut self, lenient: bool) -> Self {
        self.lenient = lenient;
        self
    }

    /// Resolve `os.environ/NAME` from `env` instead of the process.
    pub fn env<'f>(self, env: &'f dyn Environment) -> ConfigLoader<'f> {
        ConfigLoader {
            lenient: self.lenient,
            env,
        }
    }

    /// Loads a file: `.json` as JSON, `.yaml` / `.yml` as YAML (feature `yaml`).
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<RouterConfig, ConfigError> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let read = || {
            std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
                file: path.to_path_buf(),
                source: Arc::new(e),
            })
        };
        let result = match ext.as_deref() {
            Some("json") => self.load_json(&read()?),
            Some("yaml" | "yml") => {
                #[cfg(feature = "yaml")]
                {
                    self.load_yaml(&read()?)
                }
                #[cfg(not(feature = "yaml"))]
                {
                    Err(ConfigError::YamlNotEnabled { file: None })
                }
            }
            _ => {
                return Err(ConfigError::UnknownFormat {
                    file: path.to_path_buf(),
                });
            }
        };
        result.map_err(|e| e.with_file(path))
    }

    /// Loads JSON text.
    pub fn load_json(&self, text: &str) -> Result<RouterConfig, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
            file: None,
            format: "JSON",
            message: e.to_string(),
        })?;
        self.load_value(value)
    }

    /// Loads YAML text, read like PyYAML reads it (see the [module docs](self)).
    #[cfg(feature = "yaml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "yaml")))]
    pub fn load_yaml(&self, text: &str) -> Result<RouterConfig, ConfigError> {
        // No excerpt of the text in messages: it may hold a key.
        let value = yaml::from_str(text).map_err(|e| ConfigError::Syntax {
            file: None,
            format: "YAML",
            message: e.to_string(),
        })?;
        self.load_value(value)
    }

    /// Loads an already parsed config.
    pub fn load_value(&self, value: Value) -> Result<RouterConfig, ConfigError> {
        let mut top = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => return Err(setting_error("(top level)", "a mapping", &other)),
        };
        let mut warnings = Vec::new();
        let settings = self.settings(&top, &mut warnings)?;
        let entries = match top.remove("model_list") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(setting_error("model_list", "a list", &other)),
        };
        let mut deployments: Vec<Deployment> = Vec::with_capacity(entries.len());
        let mut skipped = Vec::new();
        // id -> (index in model_list, position in `deployments`)
        let mut seen: HashMap<DeploymentId, (usize, usize)> = HashMap::with_capacity(entries.len());
        for (index, entry) in entries.into_iter().enumerate() {
            let model_name = entry
                .get("model_name")
                .and_then(Value::as_str)
                .map(str::to_string);
            // One deployment per organization of `organization: [a, b]`, else one.
            let expanded = model_list::expand(entry, self.env).unwrap_or_else(|e| vec![Err(e)]);
            if expanded.is_empty() {
                trace::warn!(
                    target: "modelroute::config",
                    index,
                    model_name = model_name.as_deref(),
                    "empty organization list"
                );
                warnings.push(ConfigWarning::EmptyOrganizationList {
                    index,
                    model_name: model_name.clone(),
                });
            }
            for result in expanded {
                let checked = result.and_then(|d| {
                    model_list::callable(&d)?;
                    if let Some(&(first_index, at)) = seen.get(d.id()) {
                        // Identical entries load once (LiteLLM keeps both copies of one deployment).
                        if deployments[at] == d {
                            return Ok(Err(ConfigWarning::DuplicateDeployment {
                                index,
                                first_index,
                                id: d.id().clone(),
                            }));
                        }
                        return Err(EntryError::DuplicateId {
                            id: d.id().clone(),
                            first_index,
                        });
                    }
                    if d.routing_name().contains('*') {
                        PatternRouter::check(&d)?;
                    }
                    Ok(Ok(d))
                });
                match checked {
                    Ok(Ok(d)) => {
                        seen.insert(d.id().clone(), (index, deployments.len()));
                        deployments.push(d);
                    }
                    Ok(Err(duplicate)) => {
                        trace_duplicate(&duplicate);
                        warnings.push(duplicate);
                    }
                    Err(error) if self.lenient => {
                        trace::warn!(
                            target: "modelroute::config",
                            index,
                            model_name = model_name.as_deref(),
                            field = error.field(),
                            reason = %error,
                            "model_list entry skipped"
                        );
                        skipped.push(SkippedDeployment {
                            index,
                            model_name: model_name.clone(),
                            error,
                        });
                    }
                    Err(source) => {
                        return Err(ConfigError::Deployment {
                            file: None,
                            index,
                            model_name,
                            source: Box::new(source),
                        });
                    }
                }
            }
        }
        Ok(RouterConfig {
            deployments,
            settings,
            skipped,
            warnings,
        })
    }

    /// `litellm_settings`, then `router_settings` over it.
    fn settings(
        &self,
        top: &Map<String, Value>,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<RouterSettings, ConfigError> {
        let mut settings = RouterSettings::default();
        let mut strategy_args = None;
        for section in ["litellm_settings", "router_settings"] {
            match top.get(section) {
                None | Some(Value::Null) => {}
                Some(Value::Object(map)) => {
                    self.apply_section(section, map, &mut settings, warnings)?;
                    if let Some(Value::Object(args)) = map.get("routing_strategy_args") {
                        strategy_args = Some((section, args));
                    }
                }
                Some(other) => return Err(setting_error(section, "a mapping", other)),
            }
        }
        if settings.routing_strategy == RoutingStrategy::Lar1 {
            let empty = Map::new();
            let (section, args) = strategy_args.unwrap_or(("router_settings", &empty));
            settings.lar1_type = lar1_type(section, args)?.to_string();
        }
        Ok(settings)
    }

    fn apply_section(
        &self,
        section: &str,
        map: &Map<String, Value>,
        s: &mut RouterSettings,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<(), ConfigError> {
        for (key, value) in map {
            if value.is_null() {
                continue;
            }
            let field = format!("{section}.{key}");
            match key.as_str() {
                "routing_strategy" => {
                    let name = string(&field, value)?;
                    match name.parse::<RoutingStrategy>() {
                        Ok(strategy) => s.routing_strategy = strategy,
                        Err(_) if self.lenient => {
                            trace::warn!(
                                target: "modelroute::config",
                                field = %field,
                                value = name,
                                "unsupported routing strategy replaced"
                            );
                            s.routing_strategy = RoutingStrategy::SimpleShuffle;
                            warnings.push(ConfigWarning::UnsupportedStrategy {
                                field,
                                value: name.to_string(),
                            });
                        }
                        Err(_) => {
                            return Err(ConfigError::UnsupportedStrategy {
                                file: None,
                                field,
                                value: name.to_string(),
                            });
                        }
                    }
                }
                "routing_strategy_args" => {
                    let args = object(&field, value)?;
                    if let Some(v) = args.get("lowest_latency_buffer").filter(|v| !v.is_null()) {
                        s.lowest_latency_buffer =
                            non_negative(&format!("{field}.lowest_latency_buffer"), v)?;
                    }
                    if let Some(v) = args.get("ttl").filter(|v| !v.is_null()) {
                        s.routing_strategy_ttl = Some(Duration::from_secs_f64(non_negative(
                            &format!("{field}.ttl"),
                            v,
                        )?));
                    }
                    if let Some(v) = args.get("ttft_percentile").filter(|v| !v.is_null()) {
                        let f = format!("{field}.ttft_percentile");
                        let p = non_negative(&f, v)?;
                        if !(p > 0.0 && p <= 1.0) {
                            return Err(setting_error(&f, "a number in (0, 1]", v));
                        }
                        s.ttft_percentile = Some(p);
                    }
                }
                "model_group_alias" => {
                    for (alias, target) in object(&field, value)? {
                        let f = format!("{field}.{alias}");
                        let target = match target {
                            Value::String(model) => AliasTarget::new(model.clone()),
                            Value::Object(obj) => {
                                let model = obj
                                    .get("model")
                                    .ok_or_else(|| setting_error(&f, "a model", &Value::Null))?;
                                let mut t = AliasTarget::new(string(&format!("{f}.model"), model)?);
                                if let Some(h) = obj.get("hidden").filter(|v| !v.is_null()) {
                                    t.hidden = boolean(&format!("{f}.hidden"), h)?;
                                }
                                t
                            }
                            other => {
                                return Err(setting_error(
                                    &f,
                                    "a model name or {model, hidden}",
                                    other,
                                ));
                            }
                        };
                        s.model_group_alias.insert(alias.clone(), target);
                    }
                }
                "fallbacks" => s.fallbacks = fallback_list(&field, value)?,
                "context_window_fallbacks" => {
                    s.context_window_fallbacks = fallback_list(&field, value)?
                }
                "content_policy_fallbacks" => {
                    s.content_policy_fallbacks = fallback_list(&field, value)?
                }
                "default_fallbacks" => s.default_fallbacks = strings(&field, value)?,
                "allowed_fails" => s.allowed_fails = Some(count(&field, value)?),
                "allowed_fails_policy" => {
                    s.allowed_fails_policy = Some(AllowedFailsPolicy::from_json(value).map_err(
                        |e| match e {
                            PolicyError::UnknownKey(key) | PolicyError::NotACount(key) => {
                                setting_error(
                                    &format!("{field}.{key}"),
                                    "one of LiteLLM's AllowedFailsPolicy keys, with a non-negative integer",
                                    map_value(value, &key),
                                )
                            }
                            _ => setting_error(&field, "a mapping", value),
                        },
                    )?)
                }
                "cooldown_time" => {
                    s.cooldown_time = Duration::from_secs_f64(non_negative(&field, value)?)
                }
                "disable_cooldowns" => s.disable_cooldowns = boolean(&field, value)?,
                "num_retries" => s.num_retries = Some(count(&field, value)?),
                "retry_after" => {
                    s.retry_after = Duration::from_secs_f64(non_negative(&field, value)?)
                }
                "retry_policy" => s.retry_policy = Some(retry_policy(&field, value)?),
                "model_group_retry_policy" => {
                    for (group, policy) in object(&field, value)? {
                        let f = format!("{field}.{group}");
                        s.model_group_retry_policy
                            .insert(group.clone(), retry_policy(&f, policy)?);
                    }
                }
                "max_fallbacks" => s.max_fallbacks = count(&field, value)? as usize,
                "enable_tag_filtering" => s.enable_tag_filtering = boolean(&field, value)?,
                "default_max_parallel_requests" => {
                    s.default_max_parallel_requests = Some(u64::from(count(&field, value)?))
                }
                "tag_filtering_match_any" => s.tag_filtering_match_any = boolean(&field, value)?,
                "enable_pre_call_checks" => s.enable_pre_call_checks = boolean(&field, value)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// A LiteLLM `RetryPolicy` mapping; an unknown key is an error naming it.
fn retry_policy(field: &str, value: &Value) -> Result<RetryPolicy, ConfigError> {
    RetryPolicy::from_json(value).map_err(|e| match e.key() {
        Some(key) => setting_error(
            &format!("{field}.{key}"),
            "one of LiteLLM's RetryPolicy keys, with a non-negative integer",
            map_value(value, key),
        ),
        None => setting_error(field, "a mapping", value),
    })
}

/// `value[key]` (for naming the type of a refused entry); `null` when absent.
fn map_value<'v>(value: &'v Value, key: &str) -> &'v Value {
    value.get(key).unwrap_or(&Value::Null)
}

/// The LAR-1 tier of a request without LAR-1 metadata (confidence 0.5), from the thresholds of
/// `routing_strategy_args` as LiteLLM reads them (`lar1_thresholds_from_args`: a number, else the default;
/// `0 < low < medium < high < 1` or LiteLLM refuses to start).
fn lar1_type(section: &str, args: &Map<String, Value>) -> Result<&'static str, ConfigError> {
    let threshold = |key: &str, default: f64| match args.get(key) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(default),
        // Python's bool is an int.
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        _ => default,
    };
    let low = threshold("confidence_threshold_low", 0.3);
    let medium = threshold("confidence_threshold_medium", 0.5);
    let high = threshold("confidence_threshold_high", 0.7);
    if !(0.0 < low && low < medium && medium < high && high < 1.0) {
        return Err(ConfigError::Setting {
            file: None,
            field: format!("{section}.routing_strategy_args"),
            expected: "LAR-1 thresholds with 0 < low < medium < high < 1",
            found: "thresholds out of order",
        });
    }
    const CONFIDENCE: f64 = 0.5;
    Ok(if CONFIDENCE < low {
        "cloud-smart"
    } else if CONFIDENCE < medium {
        "cloud-fast"
    } else if CONFIDENCE < high {
        "local"
    } else {
        "deep"
    })
}

/// The `duplicate model_list entry loaded once` event (feature `tracing`).
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn trace_duplicate(warning: &ConfigWarning) {
    if let ConfigWarning::DuplicateDeployment {
        index,
        first_index,
        id,
    } = warning
    {
        trace::info!(
            target: "modelroute::config",
            index,
            first_index,
            deployment = %id,
            "duplicate model_list entry loaded once"
        );
    }
}

fn setting_error(field: &str, expected: &'static str, found: &Value) -> ConfigError {
    ConfigError::Setting {
        file: None,
        field: field.to_string(),
        expected,
        found: json_type(found),
    }
}

fn string<'v>(field: &str, v: &'v Value) -> Result<&'v str, ConfigError> {
    v.as_str()
        .ok_or_else(|| setting_error(field, "a string", v))
}

fn object<'v>(field: &str, v: &'v Value) -> Result<&'v Map<String, Value>, ConfigError> {
    v.as_object()
        .ok_or_else(|| setting_error(field, "a mapping", v))
}

fn boolean(field: &str, v: &Value) -> Result<bool, ConfigError> {
    v.as_bool()
        .ok_or_else(|| setting_error(field, "true or false", v))
}

fn count(field: &str, v: &Value) -> Result<u32, ConfigError> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| setting_error(field, "a non-negative integer", v))
}

fn non_negative(field: &str, v: &Value) -> Result<f64, ConfigError> {
    v.as_f64()
        .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1e12)
        .ok_or_else(|| setting_error(field, "a non-negative number", v))
}

fn strings(field: &str, v: &Value) -> Result<Vec<String>, ConfigError> {
    let Value::Array(items) = v else {
        return Err(setting_error(field, "a list of model names", v));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| string(&format!("{field}[{i}]"), item).map(str::to_string))
        .collect()
}

/// `[{"group": ["fallback", …]}, …]` (a mapping may hold several groups).
fn fallback_list(field: &str, v: &Value) -> Result<Vec<(String, Vec<String>)>, ConfigError> {
    let Value::Array(items) = v else {
        return Err(setting_error(field, "a list of {group: [fallbacks]}", v));
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let f = format!("{field}[{i}]");
        for (group, to) in object(&f, item)? {
            out.push((group.clone(), strings(&format!("{f}.{group}"), to)?));
        }
    }
    Ok(out)
}
