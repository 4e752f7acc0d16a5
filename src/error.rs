//! Every error type of the crate, one enum per concept, each `#[non_exhaustive]`.
//!
//! No error message ever contains a secret: API keys are held in [`Secret`](crate::Secret), which prints `***`;
//! what a server sends back is quoted only as a scrubbed excerpt, and parse errors name the path and what
//! was expected there, never the value found ([`redact`](crate::redact)).

use std::sync::Arc;

#[cfg(feature = "openai")]
mod call;
#[cfg(feature = "openai")]
mod send;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub use call::CallError;
#[cfg(feature = "openai")]
#[cfg_attr(docsrs, doc(cfg(feature = "openai")))]
pub use send::SendError;

/// A base URL that cannot identify a server. See [`BaseUrl`](crate::BaseUrl).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BaseUrlError {
    /// The URL is empty.
    #[error("base URL is empty")]
    Empty,
    /// The URL does not parse.
    #[error("invalid base URL: {reason}")]
    Invalid {
        /// Why it does not parse.
        reason: String,
    },
    /// Only `http` and `https` are supported.
    #[error("unsupported URL scheme {scheme:?} (expected http or https)")]
    UnsupportedScheme {
        /// The scheme found.
        scheme: String,
    },
    /// The URL carries a user name or password; pass the key as a credential instead.
    #[error("base URL must not contain credentials (user:password@); pass the API key separately")]
    CredentialsInUrl,
    /// The URL has a query or a fragment.
    #[error("base URL must not have a query or fragment")]
    QueryOrFragment,
}

/// Why listing a server's models failed. Cheap to clone (shared by every caller of one fetch).
///
/// Predicates tell the outcomes apart; [`DiscoveryError::is_quiet`] says which ones are an expected state
/// (a local server that is not running) rather than something to log as an error.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// No configuration names the server (no base URL given and no environment variable set).
    #[error("{provider}: not configured: {reason}")]
    NotConfigured {
        /// The provider kind, e.g. `litellm`.
        provider: &'static str,
        /// What is missing.
        reason: String,
    },
    /// The configured base URL is invalid.
    #[error("{provider}: {source}")]
    InvalidBaseUrl {
        /// The provider kind.
        provider: &'static str,
        /// Why the URL is invalid.
        #[source]
        source: BaseUrlError,
    },
    /// The server could not be reached (connection refused, DNS failure, reset).
    #[error("{endpoint}: server not reachable")]
    Unreachable {
        /// The URL requested.
        endpoint: String,
        /// The transport error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// The server did not answer in time.
    #[error("{endpoint}: timed out")]
    TimedOut {
        /// The URL requested.
        endpoint: String,
    },
    /// The server refused the credentials (HTTP 401 or 403).
    #[error("{endpoint}: unauthorized (HTTP {status}){}", fmt_message(.message))]
    Unauthorized {
        /// The URL requested.
        endpoint: String,
        /// 401 or 403.
        status: u16,
        /// The server's error message, if it sent one.
        message: Option<String>,
    },
    /// The server answered with another non-success status.
    #[error("{endpoint}: HTTP {status}{}", fmt_message(.message))]
    Status {
        /// The URL requested.
        endpoint: String,
        /// The HTTP status code.
        status: u16,
        /// The server's error message, if it sent one.
        message: Option<String>,
    },
    /// The body is not what the API documents.
    #[error("{endpoint}: malformed response at {path}: {reason}")]
    Malformed {
        /// The URL requested.
        endpoint: String,
        /// Where in the body (e.g. `data[3].id`; `.` for the whole body).
        path: String,
        /// What is wrong there: what was expected and the kind of value found, never the value.
        reason: String,
    },
    /// The body exceeded the configured size limit.
    #[error("{endpoint}: response larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL requested.
        endpoint: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// A credential would have been sent in clear text: plain `http` to a host that is not loopback.
    /// Nothing was sent. Use `https`, or opt in with the provider's `allow_insecure_http(true)`
    /// (for a trusted private network).
    #[error(
        "{endpoint}: refusing to send the API key over plain http to a non-loopback host (use https, or allow_insecure_http)"
    )]
    InsecureTransport {
        /// The URL that would have been requested.
        endpoint: String,
    },
    /// Something answered, but not in HTTP: a server of another protocol (SSH, SMTP, a database) that
    /// speaks first or answers garbage, or a response head larger than the client accepts. Usually a
    /// wrong port; never [quiet](Self::is_quiet), unlike a server that is off.
    #[error("{endpoint}: the answer is not HTTP (wrong port?): {source}")]
    NotHttp {
        /// The URL requested.
        endpoint: String,
        /// The HTTP client's parse error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
    /// Any other transport failure.
    #[error("{endpoint}: request failed: {source}")]
    Transport {
        /// The URL requested.
        endpoint: String,
        /// The underlying error.
        #[source]
        source: Arc<dyn std::error::Error + Send + Sync>,
    },
}

fn fmt_message(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}

impl DiscoveryError {
    /// The server could not be reached.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, DiscoveryError::Unreachable { .. })
    }
    /// The request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, DiscoveryError::TimedOut { .. })
    }
    /// The server refused the credentials.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, DiscoveryError::Unauthorized { .. })
    }
    /// The server answered with a body that does not parse.
    pub fn is_malformed(&self) -> bool {
        matches!(self, DiscoveryError::Malformed { .. })
    }
    /// The body was over the size limit.
    pub fn is_too_large(&self) -> bool {
        matches!(self, DiscoveryError::TooLarge { .. })
    }
    /// The HTTP status, for `Unauthorized` and `Status`.
    pub fn status(&self) -> Option<u16> {
        match self {
            DiscoveryError::Unauthorized { status, .. } | DiscoveryError::Status { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
    /// Something answered at the address, but not in HTTP (see [`DiscoveryError::NotHttp`]).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let e = modelroute::DiscoveryError::NotHttp {
    ///     endpoint: "http://127.0.0.1:22/api/tags".into(),
    ///     source: Arc::new(std::io::Error::other("invalid HTTP version parsed")),
    /// };
    /// assert!(e.is_not_http() && !e.is_quiet() && !e.is_unreachable());
    /// ```
    pub fn is_not_http(&self) -> bool {
        matches!(self, DiscoveryError::NotHttp { .. })
    }
    /// Nothing was sent because the credential would have travelled in clear text.
    pub fn is_insecure_transport(&self) -> bool {
        matches!(self, DiscoveryError::InsecureTransport { .. })
    }
    /// The URL requested, for the errors that concern one request.
    pub fn endpoint(&self) -> Option<&str> {
        match self {
            DiscoveryError::Unreachable { endpoint, .. }
            | DiscoveryError::TimedOut { endpoint }
            | DiscoveryError::Unauthorized { endpoint, .. }
            | DiscoveryError::Status { endpoint, .. }
            | DiscoveryError::Malformed { endpoint, .. }
            | DiscoveryError::TooLarge { endpoint, .. }
            | DiscoveryError::InsecureTransport { endpoint }
            | DiscoveryError::NotHttp { endpoint, .. }
            | DiscoveryError::Transport { endpoint, .. } => Some(endpoint),
            DiscoveryError::NotConfigured { .. } | DiscoveryError::InvalidBaseUrl { .. } => None,
        }
    }
    /// An expected state rather than a fault: the server is not configured or not running.
    /// Log these at debug level at most (a local Ollama that is off is normal). Something that answers
    /// but not in HTTP ([`NotHttp`](Self::NotHttp), e.g. a wrong port) is not quiet.
    pub fn is_quiet(&self) -> bool {
        matches!(
            self,
            DiscoveryError::Unreachable { .. } | DiscoveryError::NotConfigured { .. }
        )
    }
}

/// A problem with the model cache's disk layer. Reported beside a result (see
/// [`ModelList::disk_issues`](crate::cache::ModelList::disk_issues)), never a failure of
/// [`ModelCache::get`](crate::ModelCache::get): the cache keeps working from memory and the network.
///
/// Paths name files by the digest of their key; no message contains a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum DiskIssue {
    /// The file exists but could not be read.
    #[error("model cache: cannot read {}: {source}", .path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The list could not be written (directory missing and not creatable, read-only, disk full...).
    #[error("model cache: cannot write {}: {source}", .path.display())]
    Write {
        /// The file (or the directory that could not be created).
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file could not be deleted (on invalidation).
    #[error("model cache: cannot remove {}: {source}", .path.display())]
    Remove {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file is corrupt, truncated or not a model-list file; it was ignored.
    #[error("model cache: ignored corrupt file {}: {reason}", .path.display())]
    Corrupt {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The file was written in a format version this build does not read; it was ignored.
    #[error("model cache: ignored {} (format version {found}, this build reads {supported})", .path.display())]
    UnsupportedVersion {
        /// The file.
        path: std::path::PathBuf,
        /// The version found, as written.
        found: String,
        /// The version this build reads.
        supported: u64,
    },
    /// The file holds the list of another key (copied or renamed); it was ignored.
    #[error("model cache: ignored {}: it holds the list of {found}", .path.display())]
    KeyMismatch {
        /// The file.
        path: std::path::PathBuf,
        /// The non-secret key parts found in the file.
        found: String,
    },
    /// The file is larger than the configured limit; it was ignored.
    #[error("model cache: ignored {} ({size} bytes, limit {limit})", .path.display())]
    TooLarge {
        /// The file.
        path: std::path::PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// The list was not written: its file would be larger than the configured limit, so it could not be read
    /// back. The key's older file, if any, was removed (it no longer holds the latest list).
    #[error(
        "model cache: did not write {}: the list takes {size} bytes, over the limit of {limit} (it could not be read back)",
        .path.display()
    )]
    TooLargeToWrite {
        /// The file that was not written.
        path: std::path::PathBuf,
        /// The size the file would have had, in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
}

impl DiskIssue {
    /// The file (or directory) concerned.
    pub fn path(&self) -> &std::path::Path {
        match self {
            DiskIssue::Read { path, .. }
            | DiskIssue::Write { path, .. }
            | DiskIssue::Remove { path, .. }
            | DiskIssue::Corrupt { path, .. }
            | DiskIssue::UnsupportedVersion { path, .. }
            | DiskIssue::KeyMismatch { path, .. }
            | DiskIssue::TooLarge { path, .. }
            | DiskIssue::TooLargeToWrite { path, .. } => path,
        }
    }
    /// A file was found but ignored (corrupt, other version, other key, too large).
    pub fn is_ignored_file(&self) -> bool {
        matches!(
            self,
            DiskIssue::Corrupt { .. }
                | DiskIssue::UnsupportedVersion { .. }
                | DiskIssue::KeyMismatch { .. }
                | DiskIssue::TooLarge { .. }
        )
    }
    /// An I/O operation failed (read, write, remove).
    pub fn is_io(&self) -> bool {
        matches!(
            self,
            DiskIssue::Read { .. } | DiskIssue::Write { .. } | DiskIssue::Remove { .. }
        )
    }
    /// A file was ignored, or a list not written, because of the size limit
    /// ([`ModelCacheOptions::max_disk_file_bytes`](crate::ModelCacheOptions::max_disk_file_bytes)).
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            DiskIssue::TooLarge { .. } | DiskIssue::TooLargeToWrite { .. }
        )
    }
}

/// Why the [`ModelCache`](crate::ModelCache) has no list to give, or why an explicit
/// [`refresh`](crate::ModelCache::refresh) did not produce a new one.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// [`get`](crate::ModelCache::get): no list in memory or on disk, and the fetch failed.
    #[error("{key}: no model list available{}: {source}", backoff_note(*.retry_in))]
    Unavailable {
        /// The list's key (no secret in it).
        key: crate::CacheKey,
        /// Why the fetch failed.
        #[source]
        source: DiscoveryError,
        /// Disk problems met on the way.
        disk_issues: Vec<DiskIssue>,
        /// Set when this is the last fetch's error, returned without a new fetch because the key is backing
        /// off: the time until `get` fetches again (see
        /// [`ModelCacheOptions::retry_backoff`](crate::ModelCacheOptions::retry_backoff)).
        retry_in: Option<std::time::Duration>,
    },
    /// [`refresh`](crate::ModelCache::refresh): the fetch failed. The cache still serves the last good list,
    /// if it has one (`last_good_kept`).
    #[error("{key}: refresh failed{}: {source}", if *.last_good_kept { " (the last good list is kept)" } else { "" })]
    RefreshFailed {
        /// The list's key.
        key: crate::CacheKey,
        /// Why the fetch failed.
        #[source]
        source: DiscoveryError,
        /// Whether a last good list is still served by `get`.
        last_good_kept: bool,
        /// Disk problems met on the way.
        disk_issues: Vec<DiskIssue>,
    },
    /// [`refresh`](crate::ModelCache::refresh): the server answered with no models while the cache holds a
    /// non-empty list; that list is kept (call [`invalidate`](crate::ModelCache::invalidate) to accept
    /// the empty answer).
    #[error("{key}: the server listed no models; the last good list ({kept} models) is kept")]
    EmptyRefresh {
        /// The list's key.
        key: crate::CacheKey,
        /// How many models the kept list has.
        kept: usize,
        /// Disk problems met on the way.
        disk_issues: Vec<DiskIssue>,
    },
}

impl CacheError {
    /// The key of the list concerned.
    pub fn key(&self) -> &crate::CacheKey {
        match self {
            CacheError::Unavailable { key, .. }
            | CacheError::RefreshFailed { key, .. }
            | CacheError::EmptyRefresh { key, .. } => key,
        }
    }
    /// The fetch error, if a fetch failed.
    pub fn discovery_error(&self) -> Option<&DiscoveryError> {
        match self {
            CacheError::Unavailable { source, .. } | CacheError::RefreshFailed { source, .. } => {
                Some(source)
            }
            CacheError::EmptyRefresh { .. } => None,
        }
    }
    /// Disk problems met on the way (warnings: they did not cause this error).
    pub fn disk_issues(&self) -> &[DiskIssue] {
        match self {
            CacheError::Unavailable { disk_issues, .. }
            | CacheError::RefreshFailed { disk_issues, .. }
            | CacheError::EmptyRefresh { disk_issues, .. } => disk_issues,
        }
    }
    /// No list at all is available for the key.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, CacheError::Unavailable { .. })
    }
    /// When [`get`](crate::ModelCache::get) returned the last fetch's error without fetching (the key is
    /// backing off after failures): the time until it fetches again.
    pub fn retry_in(&self) -> Option<std::time::Duration> {
        match self {
            CacheError::Unavailable { retry_in, .. } => *retry_in,
            _ => None,
        }
    }
    /// The server listed no models and the last good list was kept.
    pub fn is_empty_refresh(&self) -> bool {
        matches!(self, CacheError::EmptyRefresh { .. })
    }
    /// An expected state (the server is not running or not configured): log at debug level at most.
    /// See [`DiscoveryError::is_quiet`].
    pub fn is_quiet(&self) -> bool {
        self.discovery_error().is_some_and(DiscoveryError::is_quiet)
    }
}

/// `" (last fetch's error; next fetch in 3 s)"` for a [`CacheError::Unavailable`] served while backing off.
fn backoff_note(retry_in: Option<std::time::Duration>) -> String {
    match retry_in {
        Some(d) => format!(
            " (last fetch's error; next fetch in {:.1} s)",
            d.as_secs_f64()
        ),
        None => String::new(),
    }
}

/// A response body that does not have the shape an API documents. Returned by the public parsers
/// (e.g. [`litellm::parse_model_info`](crate::provider::litellm::parse_model_info)); a provider turns
/// it into [`DiscoveryError::Malformed`] with the URL it requested.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed response at {path}: {reason}")]
#[non_exhaustive]
pub struct ParseError {
    /// Where in the body: `data[3].model_name`, or `.` for the whole body.
    pub path: String,
    /// What is wrong there: what was expected and the kind of value found (`invalid type: found a
    /// string, expected a sequence`), never the value itself (a server may put a credential anywhere).
    pub reason: String,
}

impl ParseError {
    /// A parse error at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        ParseError {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The [`DiscoveryError::Malformed`] for a body fetched from `endpoint`.
    pub fn at_endpoint(self, endpoint: impl Into<String>) -> DiscoveryError {
        DiscoveryError::Malformed {
            endpoint: endpoint.into(),
            path: self.path,
            reason: self.reason,
        }
    }
}

/// A `model_list` entry that is not a valid deployment. Names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeploymentError {
    /// A required field is missing.
    #[error("missing field `{field}`")]
    MissingField {
        /// The field, e.g. `litellm_params.model`.
        field: &'static str,
    },
    /// A field that must be an object is not.
    #[error("`{field}` must be an object, found {found}")]
    NotAnObject {
        /// The field.
        field: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A field has the wrong type or an out-of-range value.
    #[error("`{field}` must be {expected}, found {found}")]
    InvalidField {
        /// The field.
        field: String,
        /// What was expected.
        expected: &'static str,
        /// What was found (a type, never the value).
        found: &'static str,
    },
    /// A number that cannot be used as a limit or weight (`rpm`, `tpm`, `weight`): negative, NaN,
    /// infinite, or too large for an `f64`. The problem says which.
    #[error("`{field}` must be a non-negative number, found {problem}")]
    InvalidNumber {
        /// The field, e.g. `litellm_params.rpm`.
        field: String,
        /// What is wrong with the number.
        problem: NumberProblem,
    },
    /// A field that must not be empty is empty (e.g. `model_info.id`, `model_name`).
    #[error("`{field}` must not be empty")]
    Empty {
        /// The field.
        field: String,
    },
    /// An `os.environ/NAME` reference names a variable that is not set.
    #[error("`{field}` refers to environment variable `{variable}`, which is not set")]
    EnvVarNotSet {
        /// The field holding the reference.
        field: String,
        /// The variable name.
        variable: String,
    },
}

impl DeploymentError {
    /// The field the error is about, e.g. `litellm_params.api_key`.
    pub fn field(&self) -> &str {
        match self {
            DeploymentError::MissingField { field }
            | DeploymentError::NotAnObject { field, .. } => field,
            DeploymentError::InvalidField { field, .. }
            | DeploymentError::InvalidNumber { field, .. }
            | DeploymentError::Empty { field }
            | DeploymentError::EnvVarNotSet { field, .. } => field,
        }
    }

    /// The error is an unset environment variable.
    pub fn is_env_var_not_set(&self) -> bool {
        matches!(self, DeploymentError::EnvVarNotSet { .. })
    }

    /// What is wrong with a number, for [`InvalidNumber`](Self::InvalidNumber).
    ///
    /// ```
    /// use modelroute::{Deployment, NumberProblem};
    /// let rpm = |v: &str| {
    ///     let entry = serde_json::json!({"model_name": "m", "litellm_params": {"model": "openai/m", "rpm": v}});
    ///     Deployment::from_value(entry).unwrap_err().number_problem()
    /// };
    /// assert_eq!(rpm("NaN"), Some(NumberProblem::NotANumber));
    /// assert_eq!(rpm("inf"), Some(NumberProblem::Infinite));
    /// assert_eq!(rpm("1e309"), Some(NumberProblem::OutOfRange));
    /// assert_eq!(rpm("-1"), Some(NumberProblem::Negative));
    /// ```
    pub fn number_problem(&self) -> Option<NumberProblem> {
        match self {
            DeploymentError::InvalidNumber { problem, .. } => Some(*problem),
            _ => None,
        }
    }
}

/// Why a number found in a config cannot be used. See [`DeploymentError::InvalidNumber`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NumberProblem {
    /// Below zero.
    #[error("a negative number")]
    Negative,
    /// `NaN` (any spelling Rust's and Python's `float()` accept: `nan`, `NaN`, `-nan`).
    #[error("NaN (not a number)")]
    NotANumber,
    /// Written as infinity: `inf`, `-inf`, `infinity`.
    #[error("an infinite number")]
    Infinite,
    /// Finite as written, but beyond what an `f64` holds (`1e309`).
    #[error("a number out of range (beyond what a 64-bit float holds)")]
    OutOfRange,
}

/// A deployment the [`PatternRouter`](crate::PatternRouter) cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is empty.
    #[error("pattern is empty")]
    EmptyPattern,
    /// The pattern is longer than 4 GiB.
    #[error("pattern is too long")]
    TooLong,
    /// The deployment's id is empty.
    #[error("deployment of `{model_name}` has an empty id")]
    EmptyId {
        /// The deployment's model_name.
        model_name: String,
    },
    /// A deployment with this id is already present (`insert`); use `upsert` to replace it.
    #[error("a deployment with id `{id}` is already present")]
    DuplicateId {
        /// The id.
        id: crate::DeploymentId,
    },
    /// The target `litellm_params.model` has a number of `*` that is neither 0 nor the pattern's.
    #[error(
        "deployment `{id}`: target `{target}` has {target_wildcards} `*` but pattern `{pattern}` has {pattern_wildcards} (the target needs 0 or the same number)"
    )]
    WildcardCountMismatch {
        /// The deployment's id.
        id: crate::DeploymentId,
        /// The pattern (model_name or team public name).
        pattern: String,
        /// The target (`litellm_params.model`), with credentials masked ([`redact::text`](crate::redact::text)).
        target: String,
        /// `*` in the pattern.
        pattern_wildcards: usize,
        /// `*` in the target.
        target_wildcards: usize,
    },
}

/// A request that the [`Router`](crate::Router) cannot serve.
///
/// Never a guess: a name that resolves to nothing lists every step that was tried, and a group whose
/// deployments are all unavailable says why (blocked, cooling down, tags) and when the first cooldown ends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// No alias, team name, model group, wildcard or default fallback matches the requested name.
    #[error("no deployment serves model `{model}` (tried: {})", fmt_tried(.tried))]
    NoDeployment {
        /// The model requested.
        model: String,
        /// Every resolution step that was tried, in order.
        tried: Vec<crate::router::Tried>,
    },
    /// The name resolved to a group, but none of its deployments can take a request now.
    #[error(
        "model `{model}` resolved to group `{group}`, but none of its {total} deployment(s) is available \
         ({blocked} blocked, {cooling_down} cooling down, {context_window} too small for the request, \
         {tag_mismatch} without a matching tag{}){}",
        fmt_limited(.limited),
        fmt_retry(.retry_after)
    )]
    NoneAvailable {
        /// The model requested.
        model: String,
        /// The group it resolved to (a model name or a wildcard pattern).
        group: String,
        /// Deployments in the group.
        total: usize,
        /// Deployments with `model_info.blocked: true`.
        blocked: usize,
        /// Deployments cooling down after failures.
        cooling_down: usize,
        /// Deployments whose context window is smaller than the request (pre-call checks).
        context_window: usize,
        /// Deployments left out by tag filtering.
        tag_mismatch: usize,
        /// Deployments at a usage limit (`rpm`, `tpm`, `max_parallel_requests`): which limit, and when its
        /// window resets (boxed, so that a `Result<_, RouteError>` stays small).
        limited: Box<[crate::router::LimitReached]>,
        /// When the first deployment becomes available again: the end of the first cooldown or the first
        /// usage window reset, whichever comes first (`None` if neither applies).
        retry_after: Option<std::time::Duration>,
    },
    /// The requested name is longer than
    /// [`RouterSettings::max_model_name_len`](crate::router::RouterSettings::max_model_name_len) (1 KiB by
    /// default). It is refused before any lookup: the name comes from a client, and no name may make routing
    /// slow. No model name that exists comes near the limit.
    #[error(
        "the requested model name is {len} bytes long, more than the {max} allowed (it starts with `{model}`)"
    )]
    ModelNameTooLong {
        /// The first 64 bytes of the name requested (fewer to end on a character boundary).
        model: String,
        /// The name's length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// Pre-call checks (`enable_pre_call_checks`): every deployment of the group that is not blocked or
    /// cooling down has a context window smaller than the request's input tokens. Take the group's
    /// `context_window_fallbacks` (LiteLLM raises `ContextWindowExceededError` here).
    #[error(
        "model `{model}` resolved to group `{group}`, but the request's {input_tokens} input tokens exceed \
         the context window of its {too_small} available deployment(s){}",
        fmt_window(.largest_window)
    )]
    ContextWindowExceeded {
        /// The model requested.
        model: String,
        /// The group it resolved to.
        group: String,
        /// The input tokens the request stated.
        input_tokens: u64,
        /// The largest context window among those deployments (`model_info.max_input_tokens`).
        largest_window: Option<u64>,
        /// How many deployments were too small.
        too_small: usize,
    },
}

fn fmt_window(window: &Option<u64>) -> String {
    match window {
        Some(w) => format!(" (largest: {w})"),
        None => String::new(),
    }
}

/// ", 2 at a usage limit: `a` rpm 3/3 (resets in 12.000 s), ..." (at most 3 listed).
fn fmt_limited(limited: &[crate::router::LimitReached]) -> String {
    if limited.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = limited.iter().take(3).map(ToString::to_string).collect();
    let more = match limited.len() {
        n if n > 3 => format!(" and {} more", n - 3),
        _ => String::new(),
    };
    format!(
        ", {} at a usage limit: {}{more}",
        limited.len(),
        shown.join(", ")
    )
}

fn fmt_tried(tried: &[crate::router::Tried]) -> String {
    tried
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn fmt_retry(retry: &Option<std::time::Duration>) -> String {
    match retry {
        Some(d) => format!("; retry after {:.3} s", d.as_secs_f64()),
        None => String::new(),
    }
}

impl RouteError {
    /// The requested name resolved to nothing.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RouteError::NoDeployment { .. })
    }
    /// The name resolved, but every deployment of the group is blocked, cooling down, at a usage limit or
    /// filtered out.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, RouteError::NoneAvailable { .. })
    }
    /// The group is unavailable and some of its deployments are at a usage limit (`rpm`, `tpm`,
    /// `max_parallel_requests`): what LiteLLM answers with a 429.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, RouteError::NoneAvailable { limited, .. } if !limited.is_empty())
    }
    /// The deployments at a usage limit (empty for other errors).
    pub fn limits_reached(&self) -> &[crate::router::LimitReached] {
        match self {
            RouteError::NoneAvailable { limited, .. } => limited,
            RouteError::NoDeployment { .. }
            | RouteError::ModelNameTooLong { .. }
            | RouteError::ContextWindowExceeded { .. } => &[],
        }
    }
    /// The requested name is longer than the router's limit.
    ///
    /// ```
    /// use modelroute::{RequestContext, Router, router::RouterSettings};
    /// let router = Router::builder()
    ///     .settings(RouterSettings::default().with_max_model_name_len(16))
    ///     .build()?;
    /// let err = router.route(&"x".repeat(17), &RequestContext::new()).unwrap_err();
    /// assert!(err.is_name_too_long());
    /// assert!(!err.is_not_found());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_name_too_long(&self) -> bool {
        matches!(self, RouteError::ModelNameTooLong { .. })
    }
    /// The request is too long for every available deployment of the group: take the group's
    /// `context_window_fallbacks` (`Router::fallbacks_for(model, FallbackKind::ContextWindow)`).
    ///
    /// ```
    /// use modelroute::{Deployment, Router};
    /// use modelroute::router::{RequestContext, RouterSettings};
    /// let router = Router::builder()
    ///     .settings(RouterSettings::default().with_pre_call_checks(true))
    ///     .deployment(Deployment::new("small", "openai/small")?.with_info("max_input_tokens", 8192)?)
    ///     .build()?;
    /// let err = router.route("small", &RequestContext::new().with_input_tokens(9000)).unwrap_err();
    /// assert!(err.is_context_window_exceeded());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_context_window_exceeded(&self) -> bool {
        matches!(self, RouteError::ContextWindowExceeded { .. })
    }
    /// The model requested (for [`RouteError::ModelNameTooLong`], its first 64 bytes).
    pub fn model(&self) -> &str {
        match self {
            RouteError::NoDeployment { model, .. }
            | RouteError::NoneAvailable { model, .. }
            | RouteError::ModelNameTooLong { model, .. }
            | RouteError::ContextWindowExceeded { model, .. } => model,
        }
    }
    /// When the first deployment of the group is available again (for [`RouteError::NoneAvailable`]): the
    /// end of its first cooldown, or the reset of the first usage window that keeps a deployment out.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            RouteError::NoneAvailable { retry_after, .. } => *retry_after,
            RouteError::NoDeployment { .. }
            | RouteError::ModelNameTooLong { .. }
            | RouteError::ContextWindowExceeded { .. } => None,
        }
    }
}

/// An attempt plan ([`Attempts`](crate::attempt::Attempts)) that ran out: every retry and fallback it
/// allowed was tried, and none succeeded. Lists every attempt, in order.
///
/// Its *cause* is the requested model's last attempt: LiteLLM raises that group's error whatever its
/// fallbacks answered, so a gateway answers as the requested model failed (a context-window error stays one
/// even if the fallback then timed out). The predicates read the cause.
///
/// ```
/// use modelroute::attempt::Next;
/// use modelroute::router::{FailureKind, RequestContext, RouterSettings};
/// use modelroute::{Deployment, Router};
/// let router = Router::builder()
///     .settings(RouterSettings::default().with_num_retries(0))
///     .deployment(Deployment::new("gpt-4o", "openai/gpt-4o")?.with_id("a")?)
///     .build()?;
/// let mut plan = router.attempts("gpt-4o", &RequestContext::new());
/// let Next::Try(route) = plan.next_step() else { unreachable!() };
/// plan.failed(route, FailureKind::ContextWindowExceeded);
/// let Next::Stop(error) = plan.next_step() else { unreachable!() };
/// assert!(error.is_context_window_exceeded());
/// assert_eq!(error.attempts().len(), 1);
/// assert_eq!(error.to_string(), "model `gpt-4o`: no attempt succeeded: `gpt-4o` deployment `a`: ContextWindowExceededError (400)");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttemptError {
    /// The requested model's last attempt reached a deployment, which failed.
    #[error("model `{model}`: no attempt succeeded: {}", fmt_attempts(.attempts))]
    Failed {
        /// The model requested.
        model: String,
        /// Every attempt, in order.
        attempts: Vec<crate::attempt::Attempt>,
    },
    /// The requested model's last attempt found no deployment to call: the name resolves to nothing, or
    /// every deployment of its group is blocked, cooling down, filtered out or too small for the request.
    #[error("model `{model}`: no deployment could take the request: {}", fmt_attempts(.attempts))]
    NoDeployment {
        /// The model requested.
        model: String,
        /// Every attempt, in order.
        attempts: Vec<crate::attempt::Attempt>,
    },
}

fn fmt_attempts(attempts: &[crate::attempt::Attempt]) -> String {
    attempts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl AttemptError {
    /// The model requested.
    pub fn model(&self) -> &str {
        match self {
            AttemptError::Failed { model, .. } | AttemptError::NoDeployment { model, .. } => model,
        }
    }
    /// Every attempt, in order.
    pub fn attempts(&self) -> &[crate::attempt::Attempt] {
        match self {
            AttemptError::Failed { attempts, .. } | AttemptError::NoDeployment { attempts, .. } => {
                attempts
            }
        }
    }
    /// The requested model's last attempt.
    pub fn cause(&self) -> Option<&crate::attempt::Attempt> {
        self.attempts()
            .iter()
            .rev()
            .find(|a| a.group() == self.model())
    }
    /// The cause's failure class, if a deployment failed.
    pub fn failure(&self) -> Option<crate::router::FailureKind> {
        self.cause().and_then(|a| a.failure())
    }
    /// The cause's routing error, if no deployment could be called.
    pub fn route_error(&self) -> Option<&RouteError> {
        match self.cause().map(|a| a.result()) {
            Some(crate::attempt::AttemptResult::NoDeployment(e)) => Some(e),
            _ => None,
        }
    }
    /// No deployment serves the requested name (nor a default fallback).
    pub fn is_not_found(&self) -> bool {
        self.route_error().is_some_and(RouteError::is_not_found)
    }
    /// Every deployment of the requested group was blocked, cooling down or filtered out.
    pub fn is_unavailable(&self) -> bool {
        self.route_error().is_some_and(RouteError::is_unavailable)
    }
    /// The request is too long for the requested model (its answer, or the pre-call checks).
    pub fn is_context_window_exceeded(&self) -> bool {
        self.failure()
            .is_some_and(|k| k.normalized() == crate::router::FailureKind::ContextWindowExceeded)
            || self
                .route_error()
                .is_some_and(RouteError::is_context_window_exceeded)
    }
    /// The requested model's provider refused the content.
    pub fn is_content_policy_violation(&self) -> bool {
        self.failure()
            .is_some_and(|k| k.normalized() == crate::router::FailureKind::ContentPolicyViolation)
    }
    /// The requested model was rate limited.
    pub fn is_rate_limited(&self) -> bool {
        self.failure()
            .is_some_and(|k| k.normalized() == crate::router::FailureKind::RateLimit)
    }
    /// When to try again: the server's `Retry-After` of the cause, or when the first cooldown of the
    /// requested group ends.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self.cause().map(|a| a.result()) {
            Some(crate::attempt::AttemptResult::Failed(f)) => f.retry_after,
            Some(crate::attempt::AttemptResult::NoDeployment(e)) => e.retry_after(),
            _ => None,
        }
    }
}

/// A `retry_policy` that cannot be read ([`RetryPolicy::from_json`](crate::attempt::RetryPolicy::from_json)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetryPolicyError {
    /// Not a mapping.
    #[error("a retry policy must be a mapping")]
    NotAMapping,
    /// A key that names no class.
    #[error("`{0}` is not a RetryPolicy key (expected one of {keys})", keys = crate::attempt::RetryPolicy::KEYS.join(", "))]
    UnknownKey(String),
    /// A value that is not a non-negative integer (`null` is allowed: no entry).
    #[error("`{0}` must be a non-negative integer")]
    NotACount(String),
}

impl RetryPolicyError {
    /// The key at fault, if one is.
    pub fn key(&self) -> Option<&str> {
        match self {
            RetryPolicyError::NotAMapping => None,
            RetryPolicyError::UnknownKey(k) | RetryPolicyError::NotACount(k) => Some(k),
        }
    }
}

/// A change the [`Router`](crate::Router) refuses. The router is left untouched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChangeError {
    /// Two deployments of one change (or one list) have the same id.
    #[error("deployment id `{id}` appears twice")]
    DuplicateId {
        /// The id.
        id: crate::DeploymentId,
    },
    /// A change both upserts and removes this id.
    #[error("deployment id `{id}` is both upserted and removed in one change")]
    Conflict {
        /// The id.
        id: crate::DeploymentId,
    },
    /// A wildcard deployment the pattern index refuses (e.g. a target with the wrong number of `*`).
    #[error("{source}")]
    Pattern {
        /// The deployment's id.
        id: crate::DeploymentId,
        /// Why.
        #[source]
        source: PatternError,
    },
    /// A LiteLLM strategy-router marker (`litellm_params.model: auto_router/...`), which names no model to
    /// call (see [`Deployment::is_strategy_marker`](crate::Deployment::is_strategy_marker)).
    #[error(
        "deployment `{id}` is a LiteLLM strategy-router marker (auto_router/...), not a callable model"
    )]
    StrategyMarker {
        /// The deployment's id.
        id: crate::DeploymentId,
    },
}

impl ChangeError {
    /// The id of the deployment at fault.
    pub fn id(&self) -> &crate::DeploymentId {
        match self {
            ChangeError::DuplicateId { id }
            | ChangeError::Conflict { id }
            | ChangeError::Pattern { id, .. }
            | ChangeError::StrategyMarker { id } => id,
        }
    }
}

/// Why one `model_list` entry is invalid (see [`ConfigError::Deployment`] and lenient loading).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The entry is not a valid deployment.
    #[error(transparent)]
    Invalid(#[from] DeploymentError),
    /// The wildcard pattern or its target is refused.
    #[error(transparent)]
    Pattern(#[from] PatternError),
    /// An earlier entry has the same id but is not identical (identical entries load once, with a
    /// [`ConfigWarning::DuplicateDeployment`](crate::config::ConfigWarning::DuplicateDeployment)).
    #[error("id `{id}` already used by model_list[{first_index}], with other settings")]
    DuplicateId {
        /// The id.
        id: crate::DeploymentId,
        /// Index of the first entry with this id.
        first_index: usize,
    },
    /// `litellm_params.model` is a LiteLLM strategy-router marker (`auto_router/...`): LiteLLM runs a
    /// plugin for it that picks another deployment; modelroute runs none, and never calls the marker.
    #[error(
        "`{model}` is a LiteLLM strategy-router marker, not a callable model (modelroute runs no strategy router)"
    )]
    StrategyMarker {
        /// The marker (`auto_router/...`).
        model: String,
    },
}

impl EntryError {
    /// The field at fault, e.g. `litellm_params.api_key`.
    pub fn field(&self) -> &str {
        match self {
            EntryError::Invalid(e) => e.field(),
            EntryError::Pattern(PatternError::EmptyId { .. }) => "model_info.id",
            EntryError::Pattern(PatternError::WildcardCountMismatch { .. }) => {
                "litellm_params.model"
            }
            EntryError::Pattern(_) => "model_name",
            EntryError::DuplicateId { .. } => "model_info.id",
            EntryError::StrategyMarker { .. } => "litellm_params.model",
        }
    }
}

/// A LiteLLM config that cannot be loaded. Names the file, the entry (index and `model_name`) and the
/// field; never a value (values may be secrets).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("{}: cannot read: {source}", .file.display())]
    Io {
        /// The file.
        file: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// The file's extension is neither `.json`, `.yaml` nor `.yml`.
    #[error("{}: unknown config format (expected .json, .yaml or .yml)", .file.display())]
    UnknownFormat {
        /// The file.
        file: std::path::PathBuf,
    },
    /// A YAML config, but the crate was built without the `yaml` feature.
    #[error("{}: YAML configs need the `yaml` feature of modelroute", fmt_file(.file))]
    YamlNotEnabled {
        /// The file, if loaded from one.
        file: Option<std::path::PathBuf>,
    },
    /// The text is not valid JSON / YAML.
    #[error("{}: invalid {format}: {message}", fmt_file(.file))]
    Syntax {
        /// The file, if loaded from one.
        file: Option<std::path::PathBuf>,
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message (position and problem; no excerpt of the text).
        message: String,
    },
    /// A part of the config has the wrong shape (e.g. the top level or `model_list` is not what LiteLLM reads).
    #[error("{}: `{field}` must be {expected}, found {found}", fmt_file(.file))]
    Setting {
        /// The file, if loaded from one.
        file: Option<std::path::PathBuf>,
        /// The field, e.g. `router_settings.allowed_fails`.
        field: String,
        /// What was expected.
        expected: &'static str,
        /// What was found (a type, never the value).
        found: &'static str,
    },
    /// A `routing_strategy` this crate does not implement.
    #[error(
        "{}: `{field}`: unsupported routing strategy `{value}` (supported: LiteLLM's simple-shuffle, least-busy, \
         latency-based-routing, usage-based-routing, usage-based-routing-v2, cost-based-routing, \
         provider-budget-routing, lar1; and round-robin)",
        fmt_file(.file)
    )]
    UnsupportedStrategy {
        /// The file, if loaded from one.
        file: Option<std::path::PathBuf>,
        /// The field.
        field: String,
        /// The strategy named.
        value: String,
    },
    /// A `model_list` entry is invalid.
    #[error(
        "{}: model_list[{index}]{}: `{}`: {source}",
        fmt_file(.file),
        fmt_model_name(.model_name),
        .source.field()
    )]
    Deployment {
        /// The file, if loaded from one.
        file: Option<std::path::PathBuf>,
        /// Index of the entry in `model_list`.
        index: usize,
        /// The entry's `model_name`, when it has one.
        model_name: Option<String>,
        /// What is wrong.
        #[source]
        source: Box<EntryError>,
    },
}

fn fmt_file(file: &Option<std::path::PathBuf>) -> String {
    match file {
        Some(f) => f.display().to_string(),
        None => "<config>".to_string(),
    }
}

fn fmt_model_name(name: &Option<String>) -> String {
    match name {
        Some(n) => format!(" (model_name {n:?})"),
        None => String::new(),
    }
}

impl ConfigError {
    /// The file the error is about, when the config was loaded from a file.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            ConfigError::Io { file, .. } | ConfigError::UnknownFormat { file } => Some(file),
            ConfigError::YamlNotEnabled { file }
            | ConfigError::Syntax { file, .. }
            | ConfigError::Setting { file, .. }
            | ConfigError::UnsupportedStrategy { file, .. }
            | ConfigError::Deployment { file, .. } => file.as_deref(),
        }
    }
    /// The index of the `model_list` entry at fault.
    pub fn index(&self) -> Option<usize> {
        match self {
            ConfigError::Deployment { index, .. } => Some(*index),
            _ => None,
        }
    }
    /// The `model_name` of the entry at fault.
    pub fn model_name(&self) -> Option<&str> {
        match self {
            ConfigError::Deployment { model_name, .. } => model_name.as_deref(),
            _ => None,
        }
    }
    /// The field at fault, e.g. `litellm_params.api_key` or `router_settings.fallbacks[0]`.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConfigError::Deployment { source, .. } => Some(source.field()),
            ConfigError::Setting { field, .. } | ConfigError::UnsupportedStrategy { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
    /// The config text does not parse.
    pub fn is_syntax(&self) -> bool {
        matches!(self, ConfigError::Syntax { .. })
    }
    pub(crate) fn with_file(mut self, path: &std::path::Path) -> Self {
        match &mut self {
            ConfigError::YamlNotEnabled { file }
            | ConfigError::Syntax { file, .. }
            | ConfigError::Setting { file, .. }
            | ConfigError::UnsupportedStrategy { file, .. }
            | ConfigError::Deployment { file, .. } => *file = Some(path.to_path_buf()),
            ConfigError::Io { .. } | ConfigError::UnknownFormat { .. } => {}
        }
        self
    }
}

/// A model catalog that cannot be read ([`ModelCatalog`](crate::catalog::ModelCatalog)).
///
/// ```
/// use modelroute::catalog::ModelCatalog;
/// let err = ModelCatalog::from_json("[1, 2]").unwrap_err();
/// assert!(err.is_malformed());
/// assert!(ModelCatalog::from_file("/nonexistent/prices.json").is_err_and(|e| !e.is_malformed()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file could not be read.
    #[error("cannot read model catalog {}: {reason}", .path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is larger than the limit.
    #[error("model catalog {} is larger than {limit} bytes", .path.display())]
    TooLarge {
        /// The file.
        path: std::path::PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// The text is not a JSON object of model name → entry.
    #[error(
        "model catalog is not a JSON object of model entries (line {line}, column {column}): {reason}"
    )]
    Json {
        /// Line of the fault (1-based).
        line: usize,
        /// Column of the fault (1-based).
        column: usize,
        /// What is wrong.
        reason: String,
    },
}

impl CatalogError {
    /// The text is not a catalog (as opposed to a file that could not be read).
    pub fn is_malformed(&self) -> bool {
        matches!(self, CatalogError::Json { .. })
    }
}

/// A fleet ([`crate::fleet`]) that cannot be set up or cannot reach Redis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// A fleet prefix or replica name that would break the key layout.
    #[error("invalid fleet {what}: {reason}")]
    InvalidName {
        /// `prefix` or `replica`.
        what: &'static str,
        /// What is accepted.
        reason: &'static str,
    },
    /// Redis refused or could not answer a command (connection lost, timeout, script error).
    #[cfg(feature = "redis")]
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// [`Fleet::sync`](crate::fleet::Fleet::sync) was given a router built without this fleet
    /// ([`RouterBuilder::fleet`](crate::router::RouterBuilder::fleet)).
    #[error("the router was not built with this fleet (RouterBuilder::fleet)")]
    NotLinked,
    /// The model list published in Redis is not a valid model list.
    #[error("the model list published in Redis (version {version}) is invalid: {reason}")]
    InvalidList {
        /// The published version.
        version: u64,
        /// What is wrong with it.
        reason: String,
    },
}

impl FleetError {
    /// Whether Redis could not be reached or did not answer (the sync task retries these with backoff).
    pub fn is_redis(&self) -> bool {
        #[cfg(feature = "redis")]
        if let FleetError::Redis(_) = self {
            return true;
        }
        false
    }
    /// Whether the published model list was refused.
    pub fn is_invalid_list(&self) -> bool {
        matches!(self, FleetError::InvalidList { .. })
    }
}
