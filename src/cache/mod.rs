//! The model-list cache: one list per server and key, in memory, on disk and in flight.
//!
//! [`ModelCache`] sits in front of [`Provider::list_models`]. Every layer is keyed by the full
//! [`CacheKey`] (provider kind + normalized base URL + key fingerprint), so two LiteLLM proxies, or two keys
//! with different allowlists on one proxy, never see each other's list (Zoo Code #638).
//!
//! # Layers
//! - **Memory**: the list as an `Arc<[ModelDescriptor]>`; a hit clones the `Arc` and allocates nothing.
//! - **Disk** (optional, [`ModelCacheOptions::disk_dir`]): one file per key, named by a SHA-256 of the key
//!   (its credential fingerprint keyed with the directory's random secret, see [`ModelCache::disk_file`]),
//!   holding the key's non-secret parts, the fetch time and the list. Read on a memory miss, so a list
//!   survives a restart; a file that is corrupt, truncated, of another format version or of another key is
//!   ignored and reported as a [`DiskIssue`] in the result. Writes are atomic (temporary file, flush, rename).
//!   A missing or read-only directory is reported the same way and the cache keeps working from memory.
//!   The I/O is blocking `std::fs` on the caller's task (the library has no runtime to hand it to): it runs
//!   once per key and process on a memory miss, inside the shared operation, and after each successful fetch.
//!   Loading 2,000 models takes ~2-4 ms (LiteLLM records included), and ~55 ms with their `raw` entries kept
//!   ([`ModelCacheOptions::keep_raw`], a 3.6 MB file; see `benches/model_cache.rs`).
//!
//! # Bounds
//! - At most [`ModelCacheOptions::max_entries`] keys in memory (default 1,024), least recently used forgotten
//!   first; a key in flight never is.
//! - A list holds each model's typed fields (~200 bytes plus the id), and its `raw` entry only with
//!   [`ModelCacheOptions::keep_raw`] (then without `null` members): 3% of a LiteLLM `/model/info` body, 0.95x
//!   with `raw`.
//! - A key with no list whose fetch failed is not fetched again by `get` before its backoff has passed
//!   ([`ModelCacheOptions::retry_backoff`]).
//! - Disk files over [`ModelCacheOptions::max_disk_file_bytes`] are neither read nor written; only regular
//!   files are read; temporary files of writers that are gone are removed.
//! - **In flight**: concurrent callers for one key share one operation (disk read, then fetch if needed), a
//!   [`futures_util::future::Shared`] future: no runtime, no spawned task. Whichever caller polls drives it;
//!   a caller that is dropped (a timeout, a closed view) does not cancel it for the others. When every caller
//!   is gone the operation is dropped with them, and the next `get` starts a new one.
//!
//! # Freshness
//! An entry is fresh for [`ModelCacheOptions::ttl`] after its fetch, measured with the injected [`Clock`]
//! (monotonic time in memory; for a list read from disk, the wall-clock fetch time written in the file).
//! - [`ModelCache::get`] is stale-while-revalidate: a stale list is returned at once with
//!   [`ModelList::is_stale`] set; the caller then runs [`ModelCache::refresh`] (the future it returns is
//!   `'static`, so it can be spawned on the caller's runtime) or ignores it.
//! - A failed refresh, or one that returns an empty list while a non-empty one is cached, keeps the last good
//!   list: `get` keeps serving it, with [`ModelList::refresh_problem`] saying what happened.
//! - [`ModelCache::refresh`] always fetches and returns its own outcome: its error if the fetch failed,
//!   [`CacheError::EmptyRefresh`] if the server listed nothing while a good list is kept. Never an old list
//!   presented as a fresh one (Roo Code #9682).
//! - An empty list with no non-empty list to keep is a real answer (a server with no model loaded), not an
//!   error (Zoo Code #1732): it is returned and kept in memory for the TTL, but never written to disk, so a
//!   restart never begins from "no models".
//!
//! # Example
//! ```
//! use std::sync::Arc;
//! use modelroute::{BaseUrl, DiscoveryError, KeyFingerprint, ModelCache, ModelCacheOptions, ModelDescriptor,
//!                  Provider, ProviderKind, ListSource};
//!
//! #[derive(Debug)]
//! struct Fixed(BaseUrl); // a provider that needs no server, for the example
//! #[async_trait::async_trait]
//! impl Provider for Fixed {
//!     fn kind(&self) -> ProviderKind { ProviderKind::Ollama }
//!     fn base_url(&self) -> &BaseUrl { &self.0 }
//!     fn credential_fingerprint(&self) -> Option<&KeyFingerprint> { None }
//!     async fn list_models(&self, _: &reqwest::Client) -> Result<Vec<ModelDescriptor>, DiscoveryError> {
//!         Ok(vec![ModelDescriptor::new("llama3:latest")])
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let dir = tempfile::tempdir().unwrap();
//! let cache = ModelCache::new(ModelCacheOptions::new().disk_dir(dir.path()));
//! let provider = Arc::new(Fixed(BaseUrl::parse("http://127.0.0.1:11434").unwrap()));
//! let client = reqwest::Client::new();
//!
//! let first = cache.get(&provider, &client).await.unwrap();
//! assert_eq!(first.source(), ListSource::Fetched);
//! let again = cache.get(&provider, &client).await.unwrap();
//! assert_eq!(again.source(), ListSource::Memory);
//! assert!(Arc::ptr_eq(first.models(), again.models())); // shared, not copied
//!
//! // A new cache over the same directory (a restart) starts from the disk copy.
//! let restarted = ModelCache::new(ModelCacheOptions::new().disk_dir(dir.path()));
//! let after = restarted.get(&provider, &client).await.unwrap();
//! assert_eq!(after.source(), ListSource::Disk);
//! assert!(after.validate("llama3").is_available()); // Ollama resolves `llama3` to `llama3:latest`
//! # });
//! ```

mod disk;
mod key;
pub mod validate;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures_util::future::{BoxFuture, FutureExt, Shared, WeakShared};
use parking_lot::Mutex;

use self::disk::{DiskStore, Loaded};
pub use self::key::CacheKey;
use self::key::{KeyRef, KeyView};
pub use self::validate::{Availability, Validation, validate};
use crate::clock::{Clock, SystemClock};
use crate::error::{CacheError, DiscoveryError, DiskIssue};
use crate::provider::{ModelDescriptor, Provider, drop_null_members};

/// The default time a list stays fresh: 5 minutes (what Roo Code and Cline use).
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);
/// The default size limit of one disk file: 64 MiB.
pub const DEFAULT_MAX_DISK_FILE_BYTES: u64 = 64 << 20;
/// The default number of keys the cache remembers: 1,024 (see [`ModelCacheOptions::max_entries`]).
pub const DEFAULT_MAX_ENTRIES: usize = 1024;
/// The default wait before `get` fetches again the list of a key whose last fetch failed: 1 s, doubled after
/// each further failure (see [`ModelCacheOptions::retry_backoff`]).
pub const DEFAULT_RETRY_BACKOFF: Duration = Duration::from_secs(1);
/// The default longest such wait: 1 minute.
pub const DEFAULT_MAX_RETRY_BACKOFF: Duration = Duration::from_secs(60);

/// How a [`ModelCache`] behaves. Start from [`ModelCacheOptions::new`] (or `Default`).
#[derive(Debug, Clone)]
pub struct ModelCacheOptions {
    ttl: Duration,
    disk_dir: Option<PathBuf>,
    max_disk_file_bytes: u64,
    max_entries: usize,
    retry_backoff: Duration,
    max_retry_backoff: Duration,
    keep_raw: bool,
    clock: Arc<dyn Clock>,
}

impl Default for ModelCacheOptions {
    fn default() -> Self {
        ModelCacheOptions {
            ttl: DEFAULT_TTL,
            disk_dir: None,
            max_disk_file_bytes: DEFAULT_MAX_DISK_FILE_BYTES,
            max_entries: DEFAULT_MAX_ENTRIES,
            retry_backoff: DEFAULT_RETRY_BACKOFF,
            max_retry_backoff: DEFAULT_MAX_RETRY_BACKOFF,
            keep_raw: false,
            clock: Arc::new(SystemClock),
        }
    }
}

impl ModelCacheOptions {
    /// TTL [`DEFAULT_TTL`], memory only, the system clock.
    pub fn new() -> Self {
        Self::default()
    }
    /// How long a list stays fresh after its fetch.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
    /// Keep lists on disk in `dir` (created on first write), so they survive restarts.
    pub fn disk_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.disk_dir = Some(dir.into());
        self
    }
    /// The size limit of one disk file (default [`DEFAULT_MAX_DISK_FILE_BYTES`]). A larger file is ignored
    /// and reported ([`DiskIssue::TooLarge`]); a list whose file would be larger is not written, since it
    /// could not be read back, and that is reported too ([`DiskIssue::TooLargeToWrite`]).
    pub fn max_disk_file_bytes(mut self, bytes: u64) -> Self {
        self.max_disk_file_bytes = bytes;
        self
    }
    /// How many keys (server + credential) the cache remembers in memory, at least 1 (default
    /// [`DEFAULT_MAX_ENTRIES`]). Past it, the least recently used key is forgotten in memory (its disk file
    /// stays): a caller serving many tenants cannot grow the cache without limit. A key whose disk read or
    /// fetch is in flight is never forgotten, so the cache can briefly hold more keys than this while that
    /// many operations run at once.
    ///
    /// ```
    /// use modelroute::ModelCacheOptions;
    /// let options = ModelCacheOptions::new().max_entries(10_000);
    /// ```
    pub fn max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries.max(1);
        self
    }
    /// How long [`ModelCache::get`] waits before fetching again the list of a key it has no list for and
    /// whose last fetch failed: `first` after one failure, doubled after each further one, at most `max`
    /// (defaults [`DEFAULT_RETRY_BACKOFF`] and [`DEFAULT_MAX_RETRY_BACKOFF`]). Meanwhile `get` returns the
    /// last error at once ([`CacheError::retry_in`] says for how long), so a server that is down is not asked
    /// on every call. [`ModelCache::refresh`] always fetches; a success ends the backoff.
    ///
    /// ```
    /// use std::time::Duration;
    /// use modelroute::ModelCacheOptions;
    /// let options = ModelCacheOptions::new().retry_backoff(Duration::from_millis(500), Duration::from_secs(30));
    /// ```
    pub fn retry_backoff(mut self, first: Duration, max: Duration) -> Self {
        self.retry_backoff = first;
        self.max_retry_backoff = max.max(first);
        self
    }
    /// Keep each model's [`raw`](ModelDescriptor::raw) entry (default: no, `raw` is `null`).
    ///
    /// The typed fields of a [`ModelDescriptor`] are what the cache needs; the server's entry as received
    /// is often most of the body (LiteLLM's `/model/info` sends ~190 `model_info` fields per model, ~165 of
    /// them `null`) and, as a JSON tree in memory, takes several times its size. Without `raw`, the cache
    /// holds about `size_of::<ModelDescriptor>()` (~200 bytes) plus the id per model: 3% of a LiteLLM
    /// `/model/info` body. With `raw` kept, its `null` object members are dropped (they say nothing:
    /// `raw["x"]` is `null` either way), and the list takes at most about 2.5 times the body (measured
    /// for LiteLLM's records in `tests/cache_alloc.rs`). See the README's "Model cache" section.
    ///
    /// ```
    /// use modelroute::ModelCacheOptions;
    /// let options = ModelCacheOptions::new().keep_raw(true);
    /// ```
    pub fn keep_raw(mut self, keep: bool) -> Self {
        self.keep_raw = keep;
        self
    }
    /// The clock TTLs are measured with (tests pass a [`ManualClock`](crate::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// Where the list of a [`ModelList`] came from, for this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ListSource {
    /// The memory layer (no I/O).
    Memory,
    /// The disk layer (this process had no list in memory).
    Disk,
    /// The server, just now (this call's fetch, or the one it shared).
    Fetched,
}

/// Why the list served is not the server's latest answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RefreshProblem {
    /// The last refresh failed; the last good list is served.
    Failed(DiscoveryError),
    /// The last refresh returned no models; the last good (non-empty) list is served.
    Empty,
}

impl fmt::Display for RefreshProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefreshProblem::Failed(e) => write!(f, "the last refresh failed: {e}"),
            RefreshProblem::Empty => f.write_str("the last refresh listed no models"),
        }
    }
}

/// A model list served by the [`ModelCache`], with where it came from and how fresh it is.
#[derive(Debug, Clone)]
pub struct ModelList {
    key: Arc<CacheKey>,
    models: Arc<[ModelDescriptor]>,
    source: ListSource,
    fetched_at: SystemTime,
    age: Duration,
    stale: bool,
    refresh_problem: Option<RefreshProblem>,
    disk_issues: Vec<DiskIssue>,
}

impl ModelList {
    /// The key of the server and credential this list belongs to.
    pub fn key(&self) -> &CacheKey {
        &self.key
    }
    /// The models, shared with the cache (cloning the `Arc` copies nothing).
    pub fn models(&self) -> &Arc<[ModelDescriptor]> {
        &self.models
    }
    /// The model ids, in the server's order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.models.iter().map(|m| m.id.as_str())
    }
    /// The model with this exact id.
    pub fn get(&self, id: &str) -> Option<&ModelDescriptor> {
        self.models.iter().find(|m| m.id == id)
    }
    /// Whether the list has this exact id.
    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }
    /// How many models.
    pub fn len(&self) -> usize {
        self.models.len()
    }
    /// The server listed no models.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
    /// Where this call got the list.
    pub fn source(&self) -> ListSource {
        self.source
    }
    /// When the server sent this list (wall clock).
    pub fn fetched_at(&self) -> SystemTime {
        self.fetched_at
    }
    /// How old the list is (zero if its fetch time lies in the future, which also makes it stale).
    pub fn age(&self) -> Duration {
        self.age
    }
    /// Older than the TTL: the caller should run [`ModelCache::refresh`] (stale-while-revalidate).
    pub fn is_stale(&self) -> bool {
        self.stale
    }
    /// Set when the last refresh failed or was empty and this is the last good list instead.
    pub fn refresh_problem(&self) -> Option<&RefreshProblem> {
        self.refresh_problem.as_ref()
    }
    /// Problems with the disk layer met by this call (warnings; the list is still valid).
    pub fn disk_issues(&self) -> &[DiskIssue] {
        &self.disk_issues
    }
    /// Checks a configured model against this list. See [`validate()`].
    pub fn validate(&self, configured_model: &str) -> Validation {
        validate::check(configured_model, self)
    }
}

// The cache, its results and its futures can cross threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ModelCache>();
    assert_send_sync::<ModelList>();
    assert_send_sync::<CacheKey>();
};

/// The model-list cache. See the [module docs](self) for layers, freshness and an example.
///
/// Cheap to clone (an `Arc`); clones share everything. `Send + Sync`.
#[derive(Clone)]
pub struct ModelCache {
    inner: Arc<Inner>,
}

struct Inner {
    ttl: Duration,
    keep_raw: bool,
    max_entries: usize,
    retry_backoff: Duration,
    max_retry_backoff: Duration,
    clock: Arc<dyn Clock>,
    disk: Option<DiskStore>,
    /// Serializes disk writes with invalidation, so an invalidated entry is never written back.
    disk_lock: Mutex<()>,
    slots: Mutex<HashMap<CacheKey, Slot>>,
    next_op: AtomicU64,
    /// Ticks of a logical clock: a slot's `last_used` is the tick of its last use (least recently used first).
    next_use: AtomicU64,
}

/// Everything the cache knows about one key.
struct Slot {
    key: Arc<CacheKey>,
    good: Option<Good>,
    problem: Option<RefreshProblem>,
    op: Option<OpHandle>,
    last_used: u64,
    /// Fetches failed in a row.
    failures: u32,
    /// While the last fetch failed: `get` does not fetch again before this time.
    retry_at: Option<Instant>,
}

/// The last good list of a key.
#[derive(Clone)]
struct Good {
    models: Arc<[ModelDescriptor]>,
    fetched_at: SystemTime,
    /// When this process got the list (fetch or disk read).
    loaded_at: Instant,
    /// Its age then; `None` if unknown (fetch time in the future), which makes it stale.
    age_at_load: Option<Duration>,
}

impl Good {
    fn age(&self, now: Instant) -> Duration {
        self.age_at_load
            .unwrap_or_default()
            .saturating_add(now.saturating_duration_since(self.loaded_at))
    }
    fn is_stale(&self, now: Instant, ttl: Duration) -> bool {
        self.age_at_load.is_none() || self.age(now) >= ttl
    }
}

type OpFuture = BoxFuture<'static, OpOutcome>;

/// The operation in flight for a key. Held weakly: it lives as long as a caller awaits it.
struct OpHandle {
    id: u64,
    op: WeakShared<OpFuture>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum OpKind {
    /// Disk first; fetch only if the disk has no list.
    Load,
    /// Fetch.
    Fetch,
}

/// What one shared operation produced, cloned to every caller.
#[derive(Clone)]
enum OpOutcome {
    /// A `Load` found the list on disk and did not fetch.
    FromDisk(ModelList),
    /// The server answered with this list.
    Fetched(ModelList),
    /// The server listed nothing; this is the kept (non-empty) list.
    EmptyKept(ModelList),
    /// The fetch failed; `kept` is the last good list, if any.
    Failed {
        error: DiscoveryError,
        kept: Option<ModelList>,
        disk_issues: Vec<DiskIssue>,
    },
}

impl ModelCache {
    /// A cache with these options.
    pub fn new(options: ModelCacheOptions) -> Self {
        let ModelCacheOptions {
            ttl,
            disk_dir,
            max_disk_file_bytes,
            max_entries,
            retry_backoff,
            max_retry_backoff,
            keep_raw,
            clock,
        } = options;
        ModelCache {
            inner: Arc::new(Inner {
                ttl,
                keep_raw,
                max_entries,
                retry_backoff,
                max_retry_backoff,
                clock,
                disk: disk_dir.map(|dir| DiskStore::new(dir, max_disk_file_bytes)),
                disk_lock: Mutex::new(()),
                slots: Mutex::new(HashMap::new()),
                next_op: AtomicU64::new(0),
                next_use: AtomicU64::new(0),
            }),
        }
    }

    /// The list of `provider`'s server and credential: from memory, else disk, else the server.
    ///
    /// A stale list is returned at once, marked [`ModelList::is_stale`]; run [`refresh`](Self::refresh) to
    /// update it. Concurrent calls for one key share one disk read and one fetch. Fails only when no list is
    /// known and the fetch fails; disk problems are reported in the result, not as failures. After a failed
    /// fetch, the next calls return that error without fetching until the key's backoff has passed (see
    /// [`ModelCacheOptions::retry_backoff`]).
    ///
    /// The future owns what it needs (`'static`): it can be spawned, and dropping it does not cancel the
    /// fetch for other callers.
    pub fn get<P>(
        &self,
        provider: &Arc<P>,
        client: &reqwest::Client,
    ) -> impl Future<Output = Result<ModelList, CacheError>> + Send + use<P>
    where
        P: Provider + ?Sized + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let provider = Arc::clone(provider);
        let client = client.clone();
        async move {
            let op = {
                let mut slots = inner.slots.lock();
                let view = KeyRef::of(&*provider);
                if let Some(slot) = slots.get_mut(&view as &dyn KeyView) {
                    slot.last_used = inner.tick();
                    if let Some(list) = inner.memory_hit(slot) {
                        return Ok(list);
                    }
                    if live_op(slot).is_none()
                        && let Some(error) = inner.backing_off(slot)
                    {
                        return Err(error);
                    }
                }
                let slot = inner.slot_for(&mut slots, view);
                match live_op(slot) {
                    Some(op) => op,
                    None => inner.start_op(slot, OpKind::Load, &provider, &client),
                }
            };
            match op.await {
                OpOutcome::FromDisk(list)
                | OpOutcome::Fetched(list)
                | OpOutcome::EmptyKept(list)
                | OpOutcome::Failed {
                    kept: Some(list), ..
                } => Ok(list),
                OpOutcome::Failed {
                    error,
                    kept: None,
                    disk_issues,
                } => Err(CacheError::Unavailable {
                    key: CacheKey::of(&*provider),
                    source: error,
                    disk_issues,
                    retry_in: None,
                }),
            }
        }
    }

    /// Fetches the list of `provider`'s server now and returns that fetch's outcome.
    ///
    /// Joins a fetch already in flight for the key. On success the new list replaces the cached one in
    /// memory and on disk. On failure the error is returned ([`CacheError::RefreshFailed`]) and the cache
    /// keeps serving the last good list; an empty answer while a non-empty list is cached gives
    /// [`CacheError::EmptyRefresh`] and keeps that list. Never an old list reported as a success.
    ///
    /// The future is `'static`: spawn it to revalidate a stale list in the background.
    pub fn refresh<P>(
        &self,
        provider: &Arc<P>,
        client: &reqwest::Client,
    ) -> impl Future<Output = Result<ModelList, CacheError>> + Send + use<P>
    where
        P: Provider + ?Sized + 'static,
    {
        let inner = Arc::clone(&self.inner);
        let provider = Arc::clone(provider);
        let client = client.clone();
        async move {
            let mut disk_issues = Vec::new();
            let mut loaded = false;
            loop {
                let op = {
                    let mut slots = inner.slots.lock();
                    let slot = inner.slot_for(&mut slots, KeyRef::of(&*provider));
                    match live_op(slot) {
                        Some(op) => op,
                        None => {
                            // A cold key reads the disk first, so an empty answer cannot hide a good list there.
                            let kind = if slot.good.is_none() && !loaded {
                                OpKind::Load
                            } else {
                                OpKind::Fetch
                            };
                            inner.start_op(slot, kind, &provider, &client)
                        }
                    }
                };
                let key = || CacheKey::of(&*provider);
                return match op.await {
                    OpOutcome::FromDisk(list) => {
                        disk_issues.extend(list.disk_issues);
                        loaded = true;
                        continue;
                    }
                    OpOutcome::Fetched(mut list) => {
                        disk_issues.append(&mut list.disk_issues);
                        list.disk_issues = disk_issues;
                        Ok(list)
                    }
                    OpOutcome::EmptyKept(list) => Err(CacheError::EmptyRefresh {
                        key: key(),
                        kept: list.len(),
                        disk_issues: [disk_issues, list.disk_issues].concat(),
                    }),
                    OpOutcome::Failed {
                        error,
                        kept,
                        disk_issues: issues,
                    } => Err(CacheError::RefreshFailed {
                        key: key(),
                        source: error,
                        last_good_kept: kept.is_some(),
                        disk_issues: [disk_issues, issues].concat(),
                    }),
                };
            }
        }
    }

    /// The list in memory for `key`, without I/O; `None` if memory has none. Counts as a use of the key
    /// (see [`ModelCacheOptions::max_entries`]).
    pub fn cached(&self, key: &CacheKey) -> Option<ModelList> {
        let mut slots = self.inner.slots.lock();
        let slot = slots.get_mut(key as &dyn KeyView)?;
        slot.last_used = self.inner.tick();
        self.inner.memory_hit(slot)
    }

    /// How many keys the cache remembers in memory (at most [`ModelCacheOptions::max_entries`], except
    /// while more operations than that are in flight).
    pub fn len(&self) -> usize {
        self.inner.slots.lock().len()
    }

    /// The cache remembers no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the list of `key` in memory and on disk. A fetch in flight still answers its callers but
    /// is not stored.
    pub fn invalidate(&self, key: &CacheKey) -> Result<(), DiskIssue> {
        self.inner.slots.lock().remove(key as &dyn KeyView);
        match &self.inner.disk {
            Some(disk) => {
                let _guard = self.inner.disk_lock.lock();
                disk.remove(key)
            }
            None => Ok(()),
        }
    }

    /// The disk directory, if the cache has one.
    pub fn disk_dir(&self) -> Option<&Path> {
        self.inner.disk.as_ref().map(DiskStore::dir)
    }

    /// The file that holds (or would hold) the list of `key`; `None` without a disk directory, or while the
    /// directory has no fingerprint secret yet (nothing was written to it). The name is a digest of the key
    /// with its fingerprint keyed by that secret: the same for every process using the directory, and of no
    /// use for guessing the key.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use modelroute::{BaseUrl, CacheKey, DiscoveryError, KeyFingerprint, ModelCache, ModelCacheOptions, ModelDescriptor, Provider, ProviderKind, Secret};
    /// # #[derive(Debug)] struct Fixed(BaseUrl, KeyFingerprint);
    /// # #[async_trait::async_trait] impl Provider for Fixed {
    /// #   fn kind(&self) -> ProviderKind { ProviderKind::LiteLlm }
    /// #   fn base_url(&self) -> &BaseUrl { &self.0 }
    /// #   fn credential_fingerprint(&self) -> Option<&KeyFingerprint> { Some(&self.1) }
    /// #   async fn list_models(&self, _: &reqwest::Client) -> Result<Vec<ModelDescriptor>, DiscoveryError> {
    /// #     Ok(vec![ModelDescriptor::new("gpt-4o")]) } }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let dir = tempfile::tempdir().unwrap();
    /// let cache = ModelCache::new(ModelCacheOptions::new().disk_dir(dir.path()));
    /// let provider = Arc::new(Fixed(BaseUrl::parse("http://127.0.0.1:4000").unwrap(), Secret::new("sk-1234").fingerprint()));
    /// let key = CacheKey::of(&*provider);
    /// assert_eq!(cache.disk_file(&key), None); // nothing written yet
    /// cache.get(&provider, &reqwest::Client::new()).await.unwrap();
    /// let file = cache.disk_file(&key).unwrap();
    /// let text = std::fs::read_to_string(&file).unwrap();
    /// assert!(!text.contains("sk-1234") && !text.contains(key.fingerprint().unwrap().as_str()));
    /// # });
    /// ```
    pub fn disk_file(&self, key: &CacheKey) -> Option<PathBuf> {
        self.inner.disk.as_ref()?.file_of(key)
    }

    /// The TTL.
    pub fn ttl(&self) -> Duration {
        self.inner.ttl
    }
}

impl fmt::Debug for ModelCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelCache")
            .field("ttl", &self.inner.ttl)
            .field("disk_dir", &self.disk_dir())
            .field("keys", &self.inner.slots.lock().len())
            .finish()
    }
}

fn live_op(slot: &Slot) -> Option<Shared<OpFuture>> {
    slot.op.as_ref().and_then(|h| h.op.upgrade())
}

impl Inner {
    fn tick(&self) -> u64 {
        self.next_use.fetch_add(1, Ordering::Relaxed)
    }

    /// The slot of `view`, created empty if the key is new, after forgetting the least recently used keys
    /// not in flight if the cache is full. (Not on the memory-hit path: builds an owned key.)
    fn slot_for<'m>(
        &self,
        slots: &'m mut HashMap<CacheKey, Slot>,
        view: KeyRef<'_>,
    ) -> &'m mut Slot {
        if !slots.contains_key(&view as &dyn KeyView) {
            self.forget_least_recently_used(slots, self.max_entries - 1, None);
        }
        let last_used = self.tick();
        let slot = slots
            .entry(view.to_owned_key())
            .or_insert_with_key(|key| Slot {
                key: Arc::new(key.clone()),
                good: None,
                problem: None,
                op: None,
                last_used,
                failures: 0,
                retry_at: None,
            });
        slot.last_used = last_used;
        slot
    }

    /// Forgets least recently used keys, never one in flight nor `keep`, until at most `bound` are left
    /// (or only such keys are).
    fn forget_least_recently_used(
        &self,
        slots: &mut HashMap<CacheKey, Slot>,
        bound: usize,
        keep: Option<&CacheKey>,
    ) {
        while slots.len() > bound {
            let victim = slots
                .iter()
                .filter(|(key, slot)| live_op(slot).is_none() && Some(*key) != keep)
                .min_by_key(|(_, slot)| slot.last_used)
                .map(|(key, _)| key.clone());
            match victim {
                Some(key) => slots.remove(&key),
                None => return, // the rest are in flight: the bound is restored as they finish
            };
        }
    }

    /// The last error of a key with no list whose backoff is not over, as `get` returns it.
    fn backing_off(&self, slot: &Slot) -> Option<CacheError> {
        let retry_in = slot
            .retry_at?
            .checked_duration_since(self.clock.now())
            .filter(|d| !d.is_zero())?;
        match &slot.problem {
            Some(RefreshProblem::Failed(error)) if slot.good.is_none() => {
                Some(CacheError::Unavailable {
                    key: (*slot.key).clone(),
                    source: error.clone(),
                    disk_issues: Vec::new(),
                    retry_in: Some(retry_in),
                })
            }
            _ => None,
        }
    }

    /// `models` as the cache keeps them: without `raw`, or with `raw`'s null object members dropped
    /// ([`ModelCacheOptions::keep_raw`]).
    fn trimmed(&self, mut models: Vec<ModelDescriptor>) -> Vec<ModelDescriptor> {
        for model in &mut models {
            if self.keep_raw {
                drop_null_members(&mut model.raw);
            } else {
                model.raw = serde_json::Value::Null;
            }
        }
        models
    }

    /// The wait after `failures` failed fetches in a row.
    fn backoff(&self, failures: u32) -> Duration {
        let factor = 1u32
            .checked_shl(failures.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.retry_backoff
            .saturating_mul(factor)
            .min(self.max_retry_backoff)
    }

    fn memory_hit(&self, slot: &Slot) -> Option<ModelList> {
        let good = slot.good.as_ref()?;
        Some(self.list(
            &slot.key,
            good,
            ListSource::Memory,
            slot.problem.clone(),
            Vec::new(),
        ))
    }

    fn list(
        &self,
        key: &Arc<CacheKey>,
        good: &Good,
        source: ListSource,
        refresh_problem: Option<RefreshProblem>,
        disk_issues: Vec<DiskIssue>,
    ) -> ModelList {
        let now = self.clock.now();
        ModelList {
            key: Arc::clone(key),
            models: Arc::clone(&good.models),
            source,
            fetched_at: good.fetched_at,
            age: good.age(now),
            stale: good.is_stale(now, self.ttl),
            refresh_problem,
            disk_issues,
        }
    }

    fn start_op<P>(
        self: &Arc<Self>,
        slot: &mut Slot,
        kind: OpKind,
        provider: &Arc<P>,
        client: &reqwest::Client,
    ) -> Shared<OpFuture>
    where
        P: Provider + ?Sized + 'static,
    {
        let id = self.next_op.fetch_add(1, Ordering::Relaxed);
        let fut: OpFuture = Box::pin(run_op(
            Arc::clone(self),
            Arc::clone(&slot.key),
            id,
            kind,
            Arc::clone(provider),
            client.clone(),
        ));
        let shared = fut.shared();
        slot.op = shared.downgrade().map(|op| OpHandle { id, op });
        shared
    }

    /// The slot of `key` if operation `id` is still its current one (not invalidated since).
    fn current<'m>(
        slots: &'m mut HashMap<CacheKey, Slot>,
        key: &CacheKey,
        id: u64,
    ) -> Option<&'m mut Slot> {
        slots
            .get_mut(key as &dyn KeyView)
            .filter(|slot| slot.op.as_ref().is_some_and(|h| h.id == id))
    }

    fn finish_op(&self, key: &CacheKey, id: u64) {
        let mut slots = self.slots.lock();
        if let Some(slot) = Self::current(&mut slots, key, id) {
            slot.op = None;
            // Keys added while every other was in flight may have passed the bound: restore it now, keeping
            // the list just obtained.
            self.forget_least_recently_used(&mut slots, self.max_entries, Some(key));
        }
    }

    /// `Load`: the disk's list of `key`, put in memory, if the disk has a usable one.
    fn load_from_disk(
        &self,
        key: &Arc<CacheKey>,
        id: u64,
        disk_issues: &mut Vec<DiskIssue>,
    ) -> Option<ModelList> {
        let entry = match self.disk.as_ref()?.load(key) {
            Loaded::Entry(entry) => entry,
            Loaded::Missing => return None,
            Loaded::Ignored(issue) => {
                disk_issues.push(issue);
                return None;
            }
        };
        let good = Good {
            models: self.trimmed(entry.models).into(),
            fetched_at: entry.fetched_at,
            loaded_at: self.clock.now(),
            age_at_load: self
                .clock
                .system_now()
                .duration_since(entry.fetched_at)
                .ok(),
        };
        let problem = match Self::current(&mut self.slots.lock(), key, id) {
            Some(slot) => {
                slot.good = Some(good.clone());
                slot.problem.clone()
            }
            None => None,
        };
        Some(self.list(key, &good, ListSource::Disk, problem, disk_issues.clone()))
    }

    /// Records a fetch's result for `key` and says what is served now.
    fn apply_fetch(
        &self,
        key: &Arc<CacheKey>,
        id: u64,
        result: Result<Vec<ModelDescriptor>, DiscoveryError>,
        mut disk_issues: Vec<DiskIssue>,
    ) -> OpOutcome {
        let mut slots = self.slots.lock();
        let mut slot = Self::current(&mut slots, key, id);
        let models = match result {
            Err(error) => {
                let kept = slot.as_deref_mut().and_then(|slot| {
                    slot.problem = Some(RefreshProblem::Failed(error.clone()));
                    slot.failures = slot.failures.saturating_add(1);
                    slot.retry_at = Some(self.clock.now() + self.backoff(slot.failures));
                    slot.good.clone()
                });
                drop(slots);
                let kept = kept.map(|good| {
                    let problem = Some(RefreshProblem::Failed(error.clone()));
                    self.list(key, &good, ListSource::Memory, problem, disk_issues.clone())
                });
                return OpOutcome::Failed {
                    error,
                    kept,
                    disk_issues,
                };
            }
            Ok(models) => models,
        };
        // The server answered: any backoff ends.
        if let Some(slot) = slot.as_deref_mut() {
            slot.failures = 0;
            slot.retry_at = None;
        }
        if models.is_empty() {
            let kept = slot.as_deref_mut().and_then(|slot| {
                let good = slot.good.clone().filter(|g| !g.models.is_empty())?;
                slot.problem = Some(RefreshProblem::Empty);
                Some(good)
            });
            if let Some(good) = kept {
                drop(slots);
                let problem = Some(RefreshProblem::Empty);
                return OpOutcome::EmptyKept(self.list(
                    key,
                    &good,
                    ListSource::Memory,
                    problem,
                    disk_issues,
                ));
            }
        }
        let good = Good {
            models: self.trimmed(models).into(),
            fetched_at: self.clock.system_now(),
            loaded_at: self.clock.now(),
            age_at_load: Some(Duration::ZERO),
        };
        let is_current = match slot {
            Some(slot) => {
                slot.good = Some(good.clone());
                slot.problem = None;
                true
            }
            None => false,
        };
        drop(slots);
        // Empty lists stay in memory only: a restart never begins from "no models".
        if is_current
            && !good.models.is_empty()
            && let Err(issue) = self.persist(key, id, &good)
        {
            disk_issues.push(issue);
        }
        OpOutcome::Fetched(self.list(key, &good, ListSource::Fetched, None, disk_issues))
    }

    fn persist(&self, key: &CacheKey, id: u64, good: &Good) -> Result<(), DiskIssue> {
        let Some(disk) = &self.disk else {
            return Ok(());
        };
        let _guard = self.disk_lock.lock();
        if Self::current(&mut self.slots.lock(), key, id).is_none() {
            return Ok(()); // invalidated meanwhile
        }
        disk.store(key, good.fetched_at, &good.models)
    }
}

/// One shared operation for `key`: the disk (for `Load`), then the server if needed; results recorded once,
/// whichever caller happens to drive it.
async fn run_op<P>(
    inner: Arc<Inner>,
    key: Arc<CacheKey>,
    id: u64,
    kind: OpKind,
    provider: Arc<P>,
    client: reqwest::Client,
) -> OpOutcome
where
    P: Provider + ?Sized,
{
    let mut disk_issues = Vec::new();
    if kind == OpKind::Load
        && let Some(list) = inner.load_from_disk(&key, id, &mut disk_issues)
    {
        inner.finish_op(&key, id);
        return OpOutcome::FromDisk(list);
    }
    let result = provider.list_models(&client).await;
    let outcome = inner.apply_fetch(&key, id, result, disk_issues);
    inner.finish_op(&key, id);
    outcome
}
