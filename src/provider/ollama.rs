//! An Ollama server: `GET /api/tags`, then `POST /api/show` per model for its context length and
//! capabilities, and `GET /api/ps` for which models are loaded.
//!
//! - **Base URL**: given by the caller, or `OLLAMA_HOST` read as Ollama reads it ([`parse_ollama_host`]),
//!   default `http://127.0.0.1:11434` (Ollama's own default).
//! - **`/api/show`**: only for models whose `/api/tags` entry lacks a context length or capabilities (recent
//!   servers put both in the list), at most [`Ollama::with_show_concurrency`] at a time (default 4), each
//!   with the per-request timeout. A failing `/api/show` (error, timeout, odd body) keeps the model in the
//!   list without those fields: one broken model never empties the list.
//! - **Every wait has an end**: a listing takes at most [`Ollama::with_list_deadline`] (default 10 s), all
//!   requests included: each request's timeout is cut to what is left, and no `/api/show` starts once it
//!   has passed. At most [`Ollama::with_max_show_requests`] models (default 256, in the server's order) are
//!   asked about per listing. A model whose details did not come, for whichever reason, is listed without
//!   them and its [`details_missing`](ModelDescriptor::details_missing) says why
//!   ([`DetailsMissing`]). Only `/api/tags` itself (or its `/v1/models` fallback) missing the deadline fails
//!   the listing, with [`DiscoveryError::TimedOut`].
//! - **`/api/ps`**: fetched alongside; if it fails, `loaded` stays unknown.
//! - **Fallback**: if `/api/tags` does not exist (HTTP 404 / 405: a server that only speaks the
//!   OpenAI-compatible API), `/v1/models` is read instead; its `"data": null` is an empty list.
//!   Any other failure of `/api/tags` is reported.
//! - **Key**: none is needed locally; `OLLAMA_API_KEY` (ollama.com) is sent as `Authorization: Bearer`.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{self, Conn, HttpOptions};
use super::json::{self, u64_of};
use super::openai::parse_model_list;
use super::server::{Server, non_blank, parse_base_url, provider_api};
use super::{DetailsMissing, ModelDescriptor, ModelKind, Provider, ProviderKind};
use crate::base_url::BaseUrl;
use crate::env::{Environment, ProcessEnv};
use crate::error::{BaseUrlError, DiscoveryError, ParseError};
use crate::secret::{KeyFingerprint, Secret};

const NAME: &str = "ollama";

/// An Ollama server. See the [module docs](self).
///
/// ```no_run
/// # async fn demo() -> Result<(), modelroute::DiscoveryError> {
/// use modelroute::{Ollama, Provider};
/// let ollama = Ollama::from_env()?; // OLLAMA_HOST, else http://127.0.0.1:11434
/// let client = modelroute::reqwest::Client::new();
/// match ollama.list_models(&client).await {
///     Ok(models) => models.iter().for_each(|m| println!("{} {:?}", m.id, m.context_window)),
///     Err(e) if e.is_quiet() => println!("Ollama is not running"),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Ollama {
    server: Server,
    show_concurrency: usize,
    list_deadline: Duration,
    max_show_requests: usize,
}

impl Ollama {
    /// The environment variable Ollama reads its address from.
    pub const HOST_VAR: &'static str = "OLLAMA_HOST";
    /// The environment variable holding an API key (optional; ollama.com).
    pub const API_KEY_VAR: &'static str = "OLLAMA_API_KEY";
    /// Ollama's default address.
    pub const DEFAULT_BASE_URL: &'static str = "http://127.0.0.1:11434";
    /// Default number of `/api/show` requests in flight at once.
    pub const DEFAULT_SHOW_CONCURRENCY: usize = 4;
    /// Default overall deadline of one listing: 10 s, the per-request timeout, so that with the defaults
    /// a listing never takes longer than one request may.
    pub const DEFAULT_LIST_DEADLINE: Duration = Duration::from_secs(10);
    /// Default cap on the `/api/show` requests of one listing: 256, more models than a machine serves in
    /// practice, few enough that a hostile `/api/tags` cannot make thousands of requests.
    pub const DEFAULT_MAX_SHOW_REQUESTS: usize = 256;

    /// A server at `base_url` (a URL with a scheme; for an `OLLAMA_HOST`-style value use
    /// [`parse_ollama_host`]), sending `key` if any.
    pub fn new(base_url: &str, key: Option<Secret>) -> Result<Self, DiscoveryError> {
        Ok(Self::with_base_url(parse_base_url(NAME, base_url)?, key))
    }

    /// A server at an already parsed base URL.
    pub fn with_base_url(base_url: BaseUrl, key: Option<Secret>) -> Self {
        Ollama {
            server: Server::new(base_url, key, http::DEFAULT_LOCAL_TIMEOUT),
            show_concurrency: Self::DEFAULT_SHOW_CONCURRENCY,
            list_deadline: Self::DEFAULT_LIST_DEADLINE,
            max_show_requests: Self::DEFAULT_MAX_SHOW_REQUESTS,
        }
    }

    /// From the process environment: `OLLAMA_HOST` (default `127.0.0.1:11434`) and `OLLAMA_API_KEY` (optional).
    pub fn from_env() -> Result<Self, DiscoveryError> {
        Self::from_env_with(&ProcessEnv)
    }

    /// Like [`from_env`](Self::from_env), reading variables from `env` (see [`Environment`]).
    ///
    /// ```
    /// use modelroute::{Ollama, Provider};
    /// let env = |name: &str| (name == "OLLAMA_HOST").then(|| "0.0.0.0:11500".to_string());
    /// assert_eq!(Ollama::from_env_with(&env)?.base_url().as_str(), "http://127.0.0.1:11500");
    /// assert_eq!(Ollama::from_env_with(&|_: &str| None)?.base_url().as_str(), "http://127.0.0.1:11434");
    /// # Ok::<(), modelroute::DiscoveryError>(())
    /// ```
    pub fn from_env_with(env: &dyn Environment) -> Result<Self, DiscoveryError> {
        let host = env.var(Self::HOST_VAR).unwrap_or_default();
        let base_url =
            parse_ollama_host(&host).map_err(|source| DiscoveryError::InvalidBaseUrl {
                provider: NAME,
                source,
            })?;
        let key = non_blank(env.var(Self::API_KEY_VAR)).map(Secret::new);
        Ok(Self::with_base_url(base_url, key))
    }

    /// Sets how many `/api/show` requests may be in flight at once (at least 1; default 4).
    pub fn with_show_concurrency(mut self, n: usize) -> Self {
        self.show_concurrency = n.max(1);
        self
    }

    /// How many `/api/show` requests may be in flight at once.
    pub fn show_concurrency(&self) -> usize {
        self.show_concurrency
    }

    /// Sets the overall deadline of one [`list_models`](Provider::list_models) (default
    /// [`DEFAULT_LIST_DEADLINE`](Self::DEFAULT_LIST_DEADLINE), 10 s). Every request of the listing gets the
    /// per-request timeout cut to what is left of it, and no `/api/show` starts after it: models still
    /// without details are listed with [`DetailsMissing::DeadlineReached`]. If `/api/tags` itself does not
    /// answer in time, the listing fails with [`DiscoveryError::TimedOut`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use modelroute::Ollama;
    /// let ollama = Ollama::new("http://127.0.0.1:11434", None)?.with_list_deadline(Duration::from_secs(3));
    /// assert_eq!(ollama.list_deadline(), Duration::from_secs(3));
    /// # Ok::<(), modelroute::DiscoveryError>(())
    /// ```
    pub fn with_list_deadline(mut self, deadline: Duration) -> Self {
        self.list_deadline = deadline;
        self
    }

    /// The overall deadline of one listing.
    pub fn list_deadline(&self) -> Duration {
        self.list_deadline
    }

    /// Sets how many `/api/show` requests one listing makes at most (default
    /// [`DEFAULT_MAX_SHOW_REQUESTS`](Self::DEFAULT_MAX_SHOW_REQUESTS), 256). The first `n` models that need
    /// details, in the server's order, are asked about; the others are listed with
    /// [`DetailsMissing::CapReached`]. `0` asks about none.
    ///
    /// ```
    /// use modelroute::Ollama;
    /// let ollama = Ollama::new("http://127.0.0.1:11434", None)?.with_max_show_requests(16);
    /// assert_eq!(ollama.max_show_requests(), 16);
    /// assert_eq!(Ollama::new("http://127.0.0.1:11434", None)?.max_show_requests(), 256);
    /// # Ok::<(), modelroute::DiscoveryError>(())
    /// ```
    pub fn with_max_show_requests(mut self, n: usize) -> Self {
        self.max_show_requests = n;
        self
    }

    /// How many `/api/show` requests one listing makes at most.
    pub fn max_show_requests(&self) -> usize {
        self.max_show_requests
    }

    /// The body of [`Provider::list_models`](super::Provider::list_models).
    async fn fetch_models(
        &self,
        client: &reqwest::Client,
    ) -> Result<Vec<ModelDescriptor>, DiscoveryError> {
        let deadline = Deadline::after(self.list_deadline);
        let root = self.server.root();
        let tags_url = http::endpoint(&root, "api/tags");
        let conn = self.server.conn(client, &tags_url)?;
        let mut models = match deadline
            .within(&conn, &tags_url, async |c| c.get(&tags_url).await)
            .await
        {
            Ok(body) => parse_tags(&body).map_err(|e| e.at_endpoint(tags_url.as_str()))?,
            Err(e) if http::is_endpoint_missing(&e) => {
                let url = http::endpoint(&root, "v1/models");
                let body = deadline
                    .within(&conn, &url, async |c| c.get(&url).await)
                    .await?;
                return parse_model_list(&body).map_err(|e| e.at_endpoint(url.as_str()));
            }
            Err(e) => return Err(e),
        };
        if models.is_empty() {
            return Ok(models);
        }

        let ps_url = http::endpoint(&root, "api/ps");
        let show_url = http::endpoint(&root, "api/show");
        // The models to ask about, in the server's order, up to the cap; the rest are marked.
        let mut wanted: Vec<(usize, String)> = Vec::new();
        for (i, d) in models.iter_mut().enumerate() {
            if d.context_window.is_some() && has_capabilities(&d.raw) {
                continue;
            }
            if wanted.len() < self.max_show_requests {
                wanted.push((i, d.id.clone()));
            } else {
                d.details_missing = Some(DetailsMissing::CapReached);
            }
        }
        let ps = async {
            let body = deadline
                .within(&conn, &ps_url, async |c| c.get(&ps_url).await)
                .await
                .ok()?;
            parse_ps(&body).ok()
        };
        let shows = futures_util::stream::iter(wanted)
            .map(|(i, name)| {
                let show_url = &show_url;
                async move {
                    // `name` is the field of servers before 0.1.40; newer ones read `model`.
                    let req = json!({ "model": name, "name": name });
                    let info = match deadline
                        .within(&conn, show_url, async |c| c.post_json(show_url, &req).await)
                        .await
                    {
                        Ok(body) => parse_show(&body).map_err(|_| DetailsMissing::Malformed),
                        Err(e) if deadline.cut_short(&e) => Err(DetailsMissing::DeadlineReached),
                        Err(_) => Err(DetailsMissing::RequestFailed),
                    };
                    (i, info)
                }
            })
            .buffer_unordered(self.show_concurrency)
            .collect::<Vec<_>>();
        let (loaded, shows) = futures_util::future::join(ps, shows).await;

        for (i, info) in shows {
            let Some(d) = models.get_mut(i) else { continue };
            match info {
                Ok(info) => {
                    d.context_window = d.context_window.or(info.context_length);
                    if !has_capabilities(&d.raw) {
                        apply_capabilities(d, &info.capabilities);
                    }
                }
                Err(why) => d.details_missing = Some(why),
            }
        }
        if let Some(loaded) = loaded {
            // A set: a long `/api/ps` against a long `/api/tags` stays linear.
            let loaded: std::collections::HashSet<&str> =
                loaded.iter().map(String::as_str).collect();
            for d in &mut models {
                let model = json::str_of(d.raw.get("model"));
                d.loaded = Some(
                    loaded.contains(d.id.as_str()) || model.is_some_and(|m| loaded.contains(m)),
                );
            }
        }
        Ok(models)
    }
}

/// The end of one listing: every request made for it is given the per-request timeout cut to what is left
/// (the caller's client enforces it; the library needs no timer of its own), and none starts once it has
/// passed.
#[derive(Clone, Copy)]
struct Deadline {
    /// `None`: a deadline too far away for an `Instant` (e.g. `Duration::MAX`), that is, none.
    at: Option<Instant>,
}

impl Deadline {
    fn after(span: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(span),
        }
    }

    /// The timeout for a request starting now (`per_request`, or less if the deadline is nearer);
    /// `None` once the deadline has passed.
    fn timeout(&self, per_request: Duration) -> Option<Duration> {
        match self.at {
            None => Some(per_request),
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                (!left.is_zero()).then(|| left.min(per_request))
            }
        }
    }

    /// Runs `request` on `conn` with its timeout cut to the deadline; past the deadline, sends nothing and
    /// reports [`DiscoveryError::TimedOut`] for `url`.
    async fn within(
        &self,
        conn: &Conn<'_>,
        url: &str,
        request: impl AsyncFnOnce(Conn<'_>) -> Result<Vec<u8>, DiscoveryError>,
    ) -> Result<Vec<u8>, DiscoveryError> {
        let Some(timeout) = self.timeout(conn.opts.timeout) else {
            return Err(DiscoveryError::TimedOut {
                endpoint: url.to_string(),
            });
        };
        let opts = HttpOptions {
            timeout,
            ..*conn.opts
        };
        request(Conn {
            opts: &opts,
            ..*conn
        })
        .await
    }

    /// Whether `e` is the deadline's doing: a timeout, with the deadline now passed.
    fn cut_short(&self, e: &DiscoveryError) -> bool {
        e.is_timeout() && self.at.is_some_and(|at| Instant::now() >= at)
    }
}

provider_api!(
    Ollama,
    kind: ProviderKind::Ollama,
    credential: "key",
    timeout_doc: "Sets the per-request timeout (default 10 s), for `/api/tags` and each `/api/show`.",
    debug_extra: [show_concurrency, list_deadline, max_show_requests],
);

#[derive(Deserialize)]
struct TagsBody {
    #[serde(deserialize_with = "json::nullable_list")]
    models: Vec<Value>,
}

#[derive(Deserialize)]
struct TagEntry {
    name: Option<String>,
    model: Option<String>,
}

/// Parses an Ollama `/api/tags` body, in the server's order (newest first).
///
/// The id is the entry's `name` (else `model`); `details.context_length` and `capabilities` are read when
/// the server includes them (recent versions), else left for [`parse_show`]. `raw` is the entry.
/// `"models": null` is an empty list. Fails with the path of the bad field when `models` is missing or
/// not a list, or an entry has neither a string `name` nor `model`.
///
/// ```
/// let body = br#"{"models":[{"name":"llama3.2:latest","model":"llama3.2:latest","size":2019393189,
///   "details":{"family":"llama","parameter_size":"3.2B"}}]}"#;
/// let models = modelroute::provider::ollama::parse_tags(body)?;
/// assert_eq!(models[0].id, "llama3.2:latest");
/// assert_eq!(models[0].context_window, None); // comes from /api/show
/// # Ok::<(), modelroute::ParseError>(())
/// ```
pub fn parse_tags(body: &[u8]) -> Result<Vec<ModelDescriptor>, ParseError> {
    let tags: TagsBody = json::from_slice(body)?;
    let mut out = Vec::with_capacity(tags.models.len());
    for (i, raw) in tags.models.into_iter().enumerate() {
        let at = format!("models[{i}]");
        let entry: TagEntry = json::from_value(&raw, &at)?;
        let id = entry
            .name
            .filter(|n| !n.is_empty())
            .or(entry.model.filter(|m| !m.is_empty()))
            .ok_or_else(|| ParseError::new(at, "missing field `name`"))?;
        let mut d = ModelDescriptor::new(id);
        d.context_window = u64_of(raw.get("details").and_then(|x| x.get("context_length")));
        if let Some(caps) = capabilities_in(&raw) {
            apply_capabilities(&mut d, &caps);
        }
        d.raw = raw;
        out.push(d);
    }
    Ok(out)
}

/// What `/api/show` says about one model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ShowInfo {
    /// `general.architecture` from `model_info`.
    pub architecture: Option<String>,
    /// `<architecture>.context_length` from `model_info`: the context the model was trained for.
    pub context_length: Option<u64>,
    /// `capabilities` (`completion`, `tools`, `insert`, `vision`, `embedding`, `thinking`, ...); empty when
    /// the server does not report them (before 0.6.4).
    pub capabilities: Vec<String>,
}

#[derive(Deserialize)]
struct ShowBody {
    #[serde(default)]
    model_info: Option<serde_json::Map<String, Value>>,
}

/// Parses an Ollama `POST /api/show` body.
///
/// ```
/// let body = br#"{"model_info":{"general.architecture":"llama","llama.context_length":131072},
///                 "capabilities":["completion","tools"]}"#;
/// let info = modelroute::provider::ollama::parse_show(body)?;
/// assert_eq!(info.context_length, Some(131072));
/// assert_eq!(info.capabilities, ["completion", "tools"]);
/// # Ok::<(), modelroute::ParseError>(())
/// ```
pub fn parse_show(body: &[u8]) -> Result<ShowInfo, ParseError> {
    let value: Value = json::from_slice(body)?;
    let show: ShowBody = json::from_value(&value, ".")?;
    let mut info = ShowInfo {
        capabilities: capabilities_in(&value).unwrap_or_default(),
        ..ShowInfo::default()
    };
    if let Some(mi) = show.model_info {
        info.architecture = json::str_of(mi.get("general.architecture")).map(str::to_string);
        info.context_length = match &info.architecture {
            Some(arch) => u64_of(mi.get(&format!("{arch}.context_length"))),
            None => None,
        }
        .or_else(|| {
            mi.iter()
                .filter(|(k, _)| k.ends_with(".context_length"))
                .find_map(|(_, v)| u64_of(Some(v)))
        });
    }
    Ok(info)
}

#[derive(Deserialize)]
struct PsBody {
    #[serde(deserialize_with = "json::nullable_list")]
    models: Vec<PsEntry>,
}

#[derive(Deserialize)]
struct PsEntry {
    name: Option<String>,
    model: Option<String>,
}

/// Parses an Ollama `/api/ps` body: the names of the loaded models.
///
/// ```
/// let names = modelroute::provider::ollama::parse_ps(br#"{"models":[{"name":"mistral:latest","size_vram":5137025024}]}"#)?;
/// assert_eq!(names, ["mistral:latest"]);
/// # Ok::<(), modelroute::ParseError>(())
/// ```
pub fn parse_ps(body: &[u8]) -> Result<Vec<String>, ParseError> {
    let ps: PsBody = json::from_slice(body)?;
    Ok(ps
        .models
        .into_iter()
        .filter_map(|e| e.name.or(e.model))
        .collect())
}

fn capabilities_in(v: &Value) -> Option<Vec<String>> {
    let caps: Vec<String> = v
        .get("capabilities")?
        .as_array()?
        .iter()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    (!caps.is_empty()).then_some(caps)
}

fn has_capabilities(raw: &Value) -> bool {
    capabilities_in(raw).is_some()
}

/// Kind and supports from Ollama's capability names. Empty: unknown, nothing changed.
fn apply_capabilities(d: &mut ModelDescriptor, caps: &[String]) {
    if caps.is_empty() {
        return;
    }
    let has = |c: &str| caps.iter().any(|x| x == c);
    d.kind = if has("completion") {
        ModelKind::Chat
    } else if has("embedding") {
        ModelKind::Embedding
    } else if has("image") {
        ModelKind::ImageGeneration
    } else {
        ModelKind::Unknown
    };
    d.supports_tools = Some(has("tools"));
    d.supports_vision = Some(has("vision"));
    d.supports_reasoning = Some(has("thinking"));
}

/// Reads an `OLLAMA_HOST` value the way Ollama's `envconfig.Host()` and `ConnectableHost()` do, giving the
/// URL a client connects to.
///
/// - Quotes and spaces around the value are ignored; empty means `http://127.0.0.1:11434`.
/// - No scheme: `http`, default port 11434 (`1.2.3.4` → `http://1.2.3.4:11434`). An explicit `http://` or
///   `https://` defaults to port 80 / 443. A bare `ollama.com` means `https://ollama.com`.
/// - `[::1]`, `::1` → `http://[::1]:11434`; an invalid port (`host:abc`, `host:70000`) → the default port.
/// - A path is kept (`host:8080/ollama` → `http://host:8080/ollama`).
/// - Bind-all addresses are made connectable: `0.0.0.0` → `127.0.0.1`, `::` → `::1`; an empty host
///   (`:1234`), which Go dials as the local machine, → `127.0.0.1`.
///
/// A scheme other than `http`/`https`, or a host that is not a valid URL host, is an error.
///
/// ```
/// use modelroute::provider::ollama::parse_ollama_host;
/// assert_eq!(parse_ollama_host("")?.as_str(), "http://127.0.0.1:11434");
/// assert_eq!(parse_ollama_host("0.0.0.0")?.as_str(), "http://127.0.0.1:11434");
/// assert_eq!(parse_ollama_host("example.com:8080")?.as_str(), "http://example.com:8080");
/// assert_eq!(parse_ollama_host("https://example.com")?.as_str(), "https://example.com");
/// # Ok::<(), modelroute::BaseUrlError>(())
/// ```
pub fn parse_ollama_host(value: &str) -> Result<BaseUrl, BaseUrlError> {
    let s = value.trim().trim_matches(['"', '\'']).trim();
    let mut default_port = 11434u16;
    let (scheme, hostport) = match s.split_once("://") {
        None if s == "ollama.com" => ("https", "ollama.com:443"),
        None => ("http", s),
        Some(("http", rest)) => {
            default_port = 80;
            ("http", rest)
        }
        Some(("https", rest)) => {
            default_port = 443;
            ("https", rest)
        }
        Some((other, rest)) => (other, rest),
    };
    let (hostport, path) = hostport.split_once('/').unwrap_or((hostport, ""));
    let (host, port) = match split_host_port(hostport) {
        Some((host, port)) => (host.to_string(), go_port(port).unwrap_or(default_port)),
        None => {
            let bare = hostport.trim_matches(['[', ']']);
            let host = match bare.parse::<IpAddr>() {
                Ok(ip) => ip.to_string(),
                Err(_) if !hostport.is_empty() => hostport.to_string(),
                Err(_) => "127.0.0.1".to_string(),
            };
            (host, default_port)
        }
    };
    // ConnectableHost: an unspecified (bind-all) address is dialled as loopback.
    let host = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_unspecified() => "127.0.0.1".to_string(),
        Ok(IpAddr::V6(ip)) if ip.is_unspecified() => "::1".to_string(),
        Ok(IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
            Some(v4) if v4.is_unspecified() => "127.0.0.1".to_string(),
            Some(v4) => v4.to_string(),
            None => ip.to_string(),
        },
        Ok(IpAddr::V4(ip)) => ip.to_string(),
        Err(_) if host.is_empty() => "127.0.0.1".to_string(),
        Err(_) => host,
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    let sep = if path.is_empty() { "" } else { "/" };
    BaseUrl::parse(&format!("{scheme}://{host}:{port}{sep}{path}"))
}

/// Go's `net.SplitHostPort`: `None` where it returns an error.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let i = hostport.rfind(':')?;
    let (host, j, k) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != i {
            return None; // "[::1]" (missing port), "[::1]x:1", "[a]:b:c"
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..i];
        if host.contains(':') {
            return None; // too many colons: a bare IPv6 address
        }
        (host, 0, 0)
    };
    if hostport[j..].contains('[') || hostport[k..].contains(']') {
        return None;
    }
    Some((host, &hostport[i + 1..]))
}

/// Go's `strconv.ParseInt(port, 10, 32)` accepted as a port by Ollama: 0..=65535, optional sign.
fn go_port(port: &str) -> Option<u16> {
    let digits = port.strip_prefix('+').unwrap_or(port);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 5 {
        return None;
    }
    if trimmed.is_empty() {
        return Some(0);
    }
    trimmed
        .parse::<u32>()
        .ok()
        .and_then(|n| u16::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ollama_host_like_ollama() {
        let cases = [
            ("", "http://127.0.0.1:11434"),
            ("   ", "http://127.0.0.1:11434"),
            ("\"127.0.0.1:1234\"", "http://127.0.0.1:1234"),
            ("'0.0.0.0'", "http://127.0.0.1:11434"),
            ("1.2.3.4", "http://1.2.3.4:11434"),
            ("1.2.3.4:5678", "http://1.2.3.4:5678"),
            (":1234", "http://127.0.0.1:1234"),
            ("0.0.0.0:11434", "http://127.0.0.1:11434"),
            ("0.0.0.0:0", "http://127.0.0.1:0"),
            ("example.com", "http://example.com:11434"),
            ("Example.COM:56789", "http://example.com:56789"),
            ("example.com:abc", "http://example.com:11434"),
            ("example.com:70000", "http://example.com:11434"),
            ("example.com:-1", "http://example.com:11434"),
            ("example.com:+8080", "http://example.com:8080"),
            ("example.com:08080", "http://example.com:8080"),
            ("http://example.com", "http://example.com"),
            ("http://example.com:56789", "http://example.com:56789"),
            ("https://example.com", "https://example.com"),
            ("https://example.com:56789", "https://example.com:56789"),
            ("https://example.com:abc", "https://example.com"),
            ("http://example.com/", "http://example.com"),
            ("http://example.com/ollama/", "http://example.com/ollama"),
            ("example.com:8080/path", "http://example.com:8080/path"),
            ("::1", "http://[::1]:11434"),
            ("[::1]", "http://[::1]:11434"),
            ("[::1]:1234", "http://[::1]:1234"),
            ("::", "http://[::1]:11434"),
            ("[::]:8080", "http://[::1]:8080"),
            ("[::ffff:0.0.0.0]:1", "http://127.0.0.1:1"),
            ("http://:80", "http://127.0.0.1"),
            ("ollama.com", "https://ollama.com"),
            ("localhost", "http://localhost:11434"),
        ];
        for (input, want) in cases {
            let got = parse_ollama_host(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got.as_str(), want, "OLLAMA_HOST={input:?}");
        }
    }

    #[test]
    fn ollama_host_errors() {
        assert!(matches!(
            parse_ollama_host("unix:///tmp/ollama.sock"),
            Err(BaseUrlError::UnsupportedScheme { .. }) | Err(BaseUrlError::Invalid { .. })
        ));
        assert!(parse_ollama_host("ftp://h").is_err());
        assert!(parse_ollama_host("bad host name").is_err());
    }

    #[test]
    fn split_host_port_matches_go() {
        assert_eq!(split_host_port("h:1"), Some(("h", "1")));
        assert_eq!(split_host_port(":1"), Some(("", "1")));
        assert_eq!(split_host_port("h:"), Some(("h", "")));
        assert_eq!(split_host_port("[::1]:1"), Some(("::1", "1")));
        assert_eq!(split_host_port("h"), None);
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("[::1]"), None);
        assert_eq!(split_host_port("[::1"), None);
        assert_eq!(split_host_port("[a]b:1"), None);
        assert_eq!(split_host_port("a]:1"), None);
        assert_eq!(split_host_port("[a]:[1"), None);
        assert_eq!(split_host_port(""), None);
    }

    #[test]
    fn tags_current_and_old_shapes() {
        let current = br#"{"models":[
          {"name":"qwen3:8b","model":"qwen3:8b","modified_at":"2025-05-01T10:00:00Z","size":5225387923,"digest":"500a1f067a9f",
           "details":{"parent_model":"","format":"gguf","family":"qwen3","families":["qwen3"],"parameter_size":"8.2B","quantization_level":"Q4_K_M","context_length":40960},
           "capabilities":["completion","tools","thinking"]},
          {"name":"nomic-embed-text:latest","model":"nomic-embed-text:latest","details":{"family":"nomic-bert"}}]}"#;
        let m = parse_tags(current).unwrap();
        assert_eq!(m[0].id, "qwen3:8b");
        assert_eq!(m[0].context_window, Some(40960));
        assert_eq!(m[0].kind, ModelKind::Chat);
        assert_eq!(
            (
                m[0].supports_tools,
                m[0].supports_vision,
                m[0].supports_reasoning
            ),
            (Some(true), Some(false), Some(true))
        );
        assert_eq!(m[1].kind, ModelKind::Unknown);
        assert_eq!(m[1].supports_tools, None);
        assert_eq!(m[1].raw["details"]["family"], "nomic-bert");

        // 2023 servers: no `model`, no `details`.
        let old = br#"{"models":[{"name":"llama2:latest","modified_at":"2023-08-02T17:02:23.713454393-07:00","size":3791730596,"digest":"sha256:abc"}]}"#;
        assert_eq!(parse_tags(old).unwrap()[0].id, "llama2:latest");
        // `model` only.
        assert_eq!(
            parse_tags(br#"{"models":[{"model":"m:1"}]}"#).unwrap()[0].id,
            "m:1"
        );
        assert!(parse_tags(br#"{"models":null}"#).unwrap().is_empty());
        assert!(parse_tags(br#"{"models":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn tags_structural_errors() {
        assert_eq!(
            parse_tags(br#"{"models":[{"size":1}]}"#).unwrap_err().path,
            "models[0]"
        );
        assert_eq!(
            parse_tags(br#"{"models":[{"name":7}]}"#).unwrap_err().path,
            "models[0].name"
        );
        assert_eq!(parse_tags(br#"{"models":{}}"#).unwrap_err().path, "models");
        assert_eq!(parse_tags(br#"{}"#).unwrap_err().path, ".");
        assert_eq!(parse_tags(b"Ollama is running").unwrap_err().path, ".");
    }

    #[test]
    fn show_current_and_old() {
        let current = br#"{"license":"...","modelfile":"FROM x","parameters":"num_ctx 4096","template":"{{ .Prompt }}",
            "details":{"format":"gguf","family":"gemma3"},
            "model_info":{"general.architecture":"gemma3","general.parameter_count":4300079472,"gemma3.context_length":131072,"gemma3.embedding_length":2560},
            "capabilities":["completion","vision"],"modified_at":"2025-04-01T00:00:00Z"}"#;
        let s = parse_show(current).unwrap();
        assert_eq!(s.architecture.as_deref(), Some("gemma3"));
        assert_eq!(s.context_length, Some(131_072));
        assert_eq!(s.capabilities, ["completion", "vision"]);
        // Before capabilities existed.
        let old = br#"{"modelfile":"FROM x","details":{"family":"llama"},"model_info":{"general.architecture":"llama","llama.context_length":8192}}"#;
        let s = parse_show(old).unwrap();
        assert_eq!(s.context_length, Some(8192));
        assert!(s.capabilities.is_empty());
        // Before model_info existed.
        assert_eq!(
            parse_show(br#"{"modelfile":"FROM x"}"#).unwrap(),
            ShowInfo::default()
        );
        // No architecture key: any *.context_length.
        let s = parse_show(br#"{"model_info":{"bert.context_length":"2048"}}"#).unwrap();
        assert_eq!(s.context_length, Some(2048));
        assert!(parse_show(b"[1]").is_err());
    }

    #[test]
    fn capabilities_to_kind() {
        let mut d = ModelDescriptor::new("e");
        apply_capabilities(&mut d, &["embedding".to_string()]);
        assert_eq!(d.kind, ModelKind::Embedding);
        assert_eq!(d.supports_tools, Some(false));
        let mut d = ModelDescriptor::new("i");
        apply_capabilities(&mut d, &["image".to_string()]);
        assert_eq!(d.kind, ModelKind::ImageGeneration);
        let mut d = ModelDescriptor::new("n");
        apply_capabilities(&mut d, &[]);
        assert_eq!((d.kind, d.supports_tools), (ModelKind::Unknown, None));
    }

    #[test]
    fn ps_names() {
        assert_eq!(
            parse_ps(br#"{"models":[{"name":"a:1","model":"a:1"},{"model":"b:2"},{}]}"#).unwrap(),
            ["a:1", "b:2"]
        );
        assert!(parse_ps(br#"{"models":null}"#).unwrap().is_empty());
    }

    #[test]
    fn env_key_and_identity() {
        let env = |name: &str| match name {
            "OLLAMA_HOST" => Some("https://ollama.example".to_string()),
            "OLLAMA_API_KEY" => Some("ok-1".to_string()),
            _ => None,
        };
        let o = Ollama::from_env_with(&env).unwrap();
        assert_eq!(o.base_url().as_str(), "https://ollama.example");
        assert_eq!(
            o.credential_fingerprint(),
            Some(&KeyFingerprint::of("ok-1"))
        );
        assert_eq!(o.kind(), ProviderKind::Ollama);
        assert_eq!(o.with_show_concurrency(0).show_concurrency(), 1);
        let e =
            Ollama::from_env_with(&|n: &str| (n == "OLLAMA_HOST").then(|| "ftp://x".to_string()));
        assert!(matches!(
            e,
            Err(DiscoveryError::InvalidBaseUrl {
                provider: "ollama",
                ..
            })
        ));
    }
}
