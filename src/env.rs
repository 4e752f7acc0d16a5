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
