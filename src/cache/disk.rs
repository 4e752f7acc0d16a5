//! The disk layer of the model cache: one JSON file per [`CacheKey`], named by the key's digest.
//!
//! A file holds the format name and version, the key's non-secret parts (kind, base URL, fingerprint),
//! the fetch time (wall clock, so it means something after a restart) and the list. On read it is ignored,
//! and the reason reported as a [`DiskIssue`], when it is corrupt or truncated, of an unknown format version,
//! larger than the size limit, or when its key parts differ from the key asked for. Writes go to a temporary
//! file in the same directory, are flushed to disk, then renamed over the old file: a crash leaves the old
//! file or the new one, never half of one. No secret is written: the key is present only as its fingerprint.
//!
//! The I/O is plain `std::fs`, run on the caller's task: the library has no runtime to move it to. It happens
//! only on a memory miss (once per key and process, inside the single-flight operation, so concurrent callers
//! share one read) and after a successful fetch. Cost, measured in `benches/model_cache.rs` for 2,000 models:
//! ~3.5 ms for compact entries (0.8 MB file), ~80 ms when every entry keeps LiteLLM's full `/model/info`
//! record as `raw` (17 MB file; up to ~170 ms on a busy 2-core machine). A caller that cannot block that
//! long on a cold start can run the first `get` of each key on a blocking thread of its own runtime.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;

use serde::{Deserialize, Serialize};

use super::key::CacheKey;
use crate::error::DiskIssue;
use crate::provider::ModelDescriptor;

/// Written in every file; a file with another `format` is not ours.
pub(crate) const FORMAT_NAME: &str = "modelroute-model-list";
/// The only version this build reads and writes.
pub(crate) const FORMAT_VERSION: u64 = 1;

/// One directory of model-list files.
#[derive(Debug)]
pub(crate) struct DiskStore {
    dir: PathBuf,
    max_file_bytes: u64,
    tmp_counter: AtomicU64,
    /// When this store last removed the temporary files of writers that are gone.
    last_sweep: Mutex<Option<Instant>>,
}

/// A temporary file is left behind by a writer that was killed mid-write (`kill -9`, a crash, power loss).
/// One whose writer process is gone is removed once it is this old (a live writer touches its file as it
/// writes, and renames it as soon as it is complete).
pub(crate) const TEMP_FILE_DEAD_WRITER_AGE: Duration = Duration::from_secs(10);
/// A temporary file this old is removed whatever its writer's process id says (that id may have been
/// reused by another process since).
pub(crate) const TEMP_FILE_ABANDONED_AGE: Duration = Duration::from_secs(3600);
/// How often a store looks for such files: on its first read or write, then at most this often.
const SWEEP_INTERVAL: Duration = Duration::from_secs(600);

/// A list read back from disk.
#[derive(Debug)]
pub(crate) struct DiskEntry {
    pub(crate) fetched_at: SystemTime,
    pub(crate) models: Vec<ModelDescriptor>,
}

/// What a read found.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// No file for this key (or no directory yet).
    Missing,
    /// A valid file for this key.
    Entry(DiskEntry),
    /// A file that cannot be used, and why.
    Ignored(DiskIssue),
}

#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct KeyParts<'a> {
    provider: &'a str,
    base_url: &'a str,
    key_fingerprint: Option<&'a str>,
}

impl<'a> KeyParts<'a> {
    fn of(key: &'a CacheKey) -> Self {
        KeyParts {
            provider: key.kind().as_str(),
            base_url: key.base_url().as_str(),
            key_fingerprint: key.fingerprint().map(|f| f.as_str()),
        }
    }
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'static str,
    version: u64,
    key: KeyParts<'a>,
    fetched_at_unix_ms: u64,
    models: &'a [ModelDescriptor],
}

#[derive(Deserialize)]
struct FileIn {
    format: String,
    version: u64,
    key: OwnedKeyParts,
    fetched_at_unix_ms: u64,
    models: Vec<ModelDescriptor>,
}

#[derive(Deserialize)]
struct OwnedKeyParts {
    provider: String,
    base_url: String,
    key_fingerprint: Option<String>,
}

/// Just enough of a file to tell "another version" from "corrupt" when the full parse fails.
#[derive(Deserialize)]
struct Header {
    format: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

impl DiskStore {
    pub(crate) fn new(dir: PathBuf, max_file_bytes: u64) -> Self {
        DiskStore {
            dir,
            max_file_bytes,
            tmp_counter: AtomicU64::new(0),
            last_sweep: Mutex::new(None),
        }
    }

    /// The directory holding the files.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `key`: `<dir>/<sha256 of the whole key>.json`.
    pub(crate) fn path_for(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.json", key.digest()))
    }

    /// Reads the list of `key`, if a valid file holds it.
    pub(crate) fn load(&self, key: &CacheKey) -> Loaded {
        self.sweep_if_due();
        let path = self.path_for(key);
        let bytes = match self.read_bounded(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Loaded::Missing,
            Err(issue) => return Loaded::Ignored(issue),
        };
        match decode(&path, key, &bytes) {
            Ok(entry) => Loaded::Entry(entry),
            Err(issue) => Loaded::Ignored(issue),
        }
    }

    fn read_bounded(&self, path: &Path) -> Result<Option<Vec<u8>>, DiskIssue> {
        let read_issue = |e: io::Error| DiskIssue::Read {
            path: path.to_path_buf(),
            source: Arc::new(e),
        };
        let file = match open_regular_file(path) {
            Ok(Opened::File(f)) => f,
            Ok(Opened::Missing) => return Ok(None),
            Ok(Opened::NotRegular) => {
                return Err(DiskIssue::Corrupt {
                    path: path.to_path_buf(),
                    reason: "not a regular file".to_string(),
                });
            }
            Err(e) => return Err(read_issue(e)),
        };
        let too_large = |size: u64| DiskIssue::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: self.max_file_bytes,
        };
        let len = file.metadata().map_err(read_issue)?.len();
        if len > self.max_file_bytes {
            return Err(too_large(len));
        }
        let mut bytes = Vec::new();
        bytes
            .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
            .map_err(|_| too_large(len))?;
        // `take` bounds the read even if the file grows between `metadata` and `read`.
        file.take(self.max_file_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(read_issue)?;
        if bytes.len() as u64 > self.max_file_bytes {
            return Err(too_large(bytes.len() as u64));
        }
        Ok(Some(bytes))
    }

    /// Writes the list of `key` atomically (temporary file, flush, rename).
    ///
    /// A list whose file would exceed the size limit is not written (a restart would ignore it, fetch and
    /// write it again, forever): [`DiskIssue::TooLargeToWrite`], and the key's older file is removed, since
    /// it no longer holds the latest list.
    pub(crate) fn store(
        &self,
        key: &CacheKey,
        fetched_at: SystemTime,
        models: &[ModelDescriptor],
    ) -> Result<(), DiskIssue> {
        let path = self.path_for(key);
        let body = match encode_bounded(key, fetched_at, models, self.max_file_bytes) {
            Ok(body) => body,
            Err(size) => {
                let _ = self.remove(key);
                return Err(DiskIssue::TooLargeToWrite {
                    path,
                    size,
                    limit: self.max_file_bytes,
                });
            }
        };
        let write_issue = |at: &Path, e: io::Error| DiskIssue::Write {
            path: at.to_path_buf(),
            source: Arc::new(e),
        };
        fs::create_dir_all(&self.dir).map_err(|e| write_issue(&self.dir, e))?;
        self.sweep_if_due();
        let tmp = self.dir.join(format!(
            ".{}.{}-{}.tmp",
            key.digest(),
            std::process::id(),
            self.tmp_counter.fetch_add(1, Ordering::Relaxed)
        ));
        let written = write_new_file(&tmp, &body).and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(write_issue(&path, e));
        }
        Ok(())
    }

    /// Removes the temporary files of writers that are gone, on the first call and then at most every
    /// [`SWEEP_INTERVAL`]. Best effort: what cannot be listed or removed is left for the next time.
    fn sweep_if_due(&self) {
        {
            let mut last = self.last_sweep.lock();
            if last.is_some_and(|at| at.elapsed() < SWEEP_INTERVAL) {
                return;
            }
            *last = Some(Instant::now());
        }
        self.sweep_temp_files();
    }

    /// Removes every temporary file of ours (named `.<digest>.<pid>-<n>.tmp`, nothing else) that is
    /// [`TEMP_FILE_ABANDONED_AGE`] old, or [`TEMP_FILE_DEAD_WRITER_AGE`] old and written by a process that no
    /// longer exists. This process's own files are left to it unless abandoned.
    pub(crate) fn sweep_temp_files(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(temp_file_writer) else {
                continue;
            };
            // `DirEntry::metadata` does not follow symlinks: only regular files are ours.
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let age = meta
                .modified()
                .ok()
                .and_then(|at| now.duration_since(at).ok())
                .unwrap_or_default();
            let writer_gone = pid != std::process::id()
                && age >= TEMP_FILE_DEAD_WRITER_AGE
                && !process_exists(pid);
            if writer_gone || age >= TEMP_FILE_ABANDONED_AGE {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// Deletes the file of `key`; a missing file is not an issue.
    pub(crate) fn remove(&self, key: &CacheKey) -> Result<(), DiskIssue> {
        let path = self.path_for(key);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(DiskIssue::Remove {
                path,
                source: Arc::new(e),
            }),
        }
    }
}

fn write_new_file(path: &Path, body: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Model lists are not secret, but they are nobody else's business either.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(body)?;
    file.sync_all()
}

/// The writer's process id if `name` is one of our temporary files: `.<64 hex>.<pid>-<counter>.tmp`.
fn temp_file_writer(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (digest, rest) = rest.split_once('.')?;
    let (pid, counter) = rest.split_once('-')?;
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ours = digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && is_digits(pid)
        && is_digits(counter);
    if ours { pid.parse().ok() } else { None }
}

/// Whether a process with this id exists (signal 0). When it cannot be told, it is assumed to exist.
fn process_exists(pid: u32) -> bool {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        use rustix::process::{Pid, test_kill_process};
        let Some(pid) = i32::try_from(pid).ok().and_then(Pid::from_raw) else {
            return true;
        };
        !matches!(test_kill_process(pid), Err(Errno::SRCH))
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// What [`open_regular_file`] found at a path.
enum Opened {
    File(fs::File),
    Missing,
    /// A FIFO, a socket, a device, a directory...: never read (a FIFO would block `open` or `read` forever).
    NotRegular,
}

/// Opens `path` for reading if it is a regular file (after following symlinks).
///
/// On Unix the file is opened with `O_NONBLOCK`, so a FIFO swapped in at the path cannot block the `open`
/// itself, and the opened file's own metadata is checked (not the path's, which could change in between).
/// Reads of a regular file are not affected by `O_NONBLOCK`.
fn open_regular_file(path: &Path) -> io::Result<Opened> {
    #[cfg(unix)]
    let opened = {
        use rustix::fs::{Mode, OFlags};
        rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map(fs::File::from)
        .map_err(io::Error::from)
    };
    #[cfg(not(unix))]
    let opened = match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return Ok(Opened::NotRegular),
        _ => fs::File::open(path),
    };
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Opened::Missing),
        Err(e) => return Err(e),
    };
    Ok(if file.metadata()?.is_file() {
        Opened::File(file)
    } else {
        Opened::NotRegular
    })
}

/// The bytes of the file of `key`.
#[cfg(test)]
pub(crate) fn encode(
    key: &CacheKey,
    fetched_at: SystemTime,
    models: &[ModelDescriptor],
) -> Vec<u8> {
    encode_bounded(key, fetched_at, models, u64::MAX).unwrap_or_default()
}

/// The bytes of the file of `key`, or `Err(size)` when they would exceed `limit` bytes. Memory stays within
/// the limit: past it, bytes are counted, not kept.
pub(crate) fn encode_bounded(
    key: &CacheKey,
    fetched_at: SystemTime,
    models: &[ModelDescriptor],
    limit: u64,
) -> Result<Vec<u8>, u64> {
    let file = FileOut {
        format: FORMAT_NAME,
        version: FORMAT_VERSION,
        key: KeyParts::of(key),
        fetched_at_unix_ms: unix_ms(fetched_at),
        models,
    };
    let mut out = BoundedBuf {
        bytes: Vec::new(),
        size: 0,
        limit,
    };
    // Serializing plain data (strings, numbers, JSON values) cannot fail, and `BoundedBuf` never fails.
    let _ = serde_json::to_writer(&mut out, &file);
    if out.size > limit {
        Err(out.size)
    } else {
        Ok(out.bytes)
    }
}

/// A `Vec` that keeps bytes up to `limit` and only counts them past it.
struct BoundedBuf {
    bytes: Vec<u8>,
    size: u64,
    limit: u64,
}

impl Write for BoundedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.size = self.size.saturating_add(buf.len() as u64);
        if self.size <= self.limit {
            self.bytes.extend_from_slice(buf);
        } else if !self.bytes.is_empty() {
            self.bytes = Vec::new();
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads a file's bytes as the list of `key`, or says why it cannot be used.
pub(crate) fn decode(path: &Path, key: &CacheKey, bytes: &[u8]) -> Result<DiskEntry, DiskIssue> {
    let corrupt = |reason: String| DiskIssue::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let file: FileIn = match serde_json::from_slice(bytes) {
        Ok(file) => file,
        Err(full_error) => {
            // Tell a file of another version (whose body may differ) from a broken one.
            return Err(match serde_json::from_slice::<Header>(bytes) {
                Ok(Header {
                    format: Some(serde_json::Value::String(format)),
                    version: Some(version),
                }) if format == FORMAT_NAME && version != serde_json::json!(FORMAT_VERSION) => {
                    DiskIssue::UnsupportedVersion {
                        path: path.to_path_buf(),
                        found: version.to_string(),
                        supported: FORMAT_VERSION,
                    }
                }
                _ => corrupt(full_error.to_string()),
            });
        }
    };
    if file.format != FORMAT_NAME {
        return Err(corrupt(format!(
            "not a model-list file (format {:?})",
            file.format
        )));
    }
    if file.version != FORMAT_VERSION {
        return Err(DiskIssue::UnsupportedVersion {
            path: path.to_path_buf(),
            found: file.version.to_string(),
            supported: FORMAT_VERSION,
        });
    }
    let found = KeyParts {
        provider: &file.key.provider,
        base_url: &file.key.base_url,
        key_fingerprint: file.key.key_fingerprint.as_deref(),
    };
    if found != KeyParts::of(key) {
        return Err(DiskIssue::KeyMismatch {
            path: path.to_path_buf(),
            found: format!(
                "{} {} {}",
                found.provider,
                found.base_url,
                found
                    .key_fingerprint
                    .map_or("no key".to_string(), |f| format!("key:{f}"))
            ),
        });
    }
    // `checked_add`: a huge time is representable on some platforms and not on others; never panic on it.
    let fetched_at = UNIX_EPOCH
        .checked_add(Duration::from_millis(file.fetched_at_unix_ms))
        .ok_or_else(|| {
            corrupt(format!(
                "fetch time out of range: {}",
                file.fetched_at_unix_ms
            ))
        })?;
    Ok(DiskEntry {
        fetched_at,
        models: file.models,
    })
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base_url::BaseUrl;
    use crate::provider::ProviderKind;
    use crate::secret::Secret;

    fn key(url: &str, secret: Option<&str>) -> CacheKey {
        CacheKey::new(
            ProviderKind::LiteLlm,
            BaseUrl::parse(url).unwrap(),
            secret.map(|s| Secret::new(s).fingerprint()),
        )
    }

    fn models(ids: &[&str]) -> Vec<ModelDescriptor> {
        ids.iter().map(|id| ModelDescriptor::new(*id)).collect()
    }

    fn store(dir: &Path) -> DiskStore {
        DiskStore::new(dir.to_path_buf(), 1 << 20)
    }

    fn ids(loaded: Loaded) -> Vec<String> {
        match loaded {
            Loaded::Entry(e) => e.models.into_iter().map(|m| m.id).collect(),
            other => panic!("expected an entry, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_keeps_list_and_time_and_writes_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let k = key("http://127.0.0.1:4000", Some("sk-secret-abc"));
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        s.store(&k, at, &models(&["gpt-4o", "llama3"])).unwrap();
        match s.load(&k) {
            Loaded::Entry(e) => {
                assert_eq!(e.fetched_at, at);
                assert_eq!(e.models, models(&["gpt-4o", "llama3"]));
            }
            other => panic!("{other:?}"),
        }
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![format!("{}.json", k.digest())]);
        let text = fs::read_to_string(s.path_for(&k)).unwrap();
        assert!(!text.contains("sk-secret-abc"));
        assert!(text.contains(k.fingerprint().unwrap().as_str()));
        assert!(text.contains("\"base_url\":\"http://127.0.0.1:4000\""));
    }

    #[test]
    fn two_keys_two_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let a = key("http://h", Some("a"));
        let b = key("http://h", Some("b"));
        s.store(&a, SystemTime::now(), &models(&["only-a"]))
            .unwrap();
        s.store(&b, SystemTime::now(), &models(&["only-b"]))
            .unwrap();
        assert_eq!(ids(s.load(&a)), ["only-a"]);
        assert_eq!(ids(s.load(&b)), ["only-b"]);
        assert!(matches!(s.load(&key("http://h", None)), Loaded::Missing));
    }

    #[test]
    fn missing_directory_is_missing_not_an_issue() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir.path().join("not/yet"));
        assert!(matches!(s.load(&key("http://h", None)), Loaded::Missing));
        s.store(&key("http://h", None), SystemTime::now(), &models(&["m"]))
            .unwrap();
        assert_eq!(ids(s.load(&key("http://h", None))), ["m"]);
    }

    #[test]
    fn a_file_with_another_keys_parts_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let a = key("http://h", Some("a"));
        let b = key("http://h", Some("b"));
        s.store(&a, SystemTime::now(), &models(&["only-a"]))
            .unwrap();
        // A file copied or renamed under another key's name.
        fs::copy(s.path_for(&a), s.path_for(&b)).unwrap();
        match s.load(&b) {
            Loaded::Ignored(issue @ DiskIssue::KeyMismatch { .. }) => {
                assert!(issue.to_string().contains("holds the list of"), "{issue}");
                assert_eq!(issue.path(), s.path_for(&b));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_corrupt_foreign_and_future_files_are_ignored_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let k = key("http://h", None);
        let full = encode(&k, SystemTime::now(), &models(&["a", "b", "c"]));
        let path = s.path_for(&k);
        for cut in [0, 1, full.len() / 2, full.len() - 1] {
            fs::write(&path, &full[..cut]).unwrap();
            assert!(
                matches!(s.load(&k), Loaded::Ignored(DiskIssue::Corrupt { .. })),
                "cut at {cut}"
            );
        }
        fs::write(&path, b"\xff\xfe not json").unwrap();
        assert!(matches!(
            s.load(&k),
            Loaded::Ignored(DiskIssue::Corrupt { .. })
        ));
        fs::write(&path, br#"{"format":"something-else","version":1,"key":{"provider":"litellm","base_url":"http://h","key_fingerprint":null},"fetched_at_unix_ms":0,"models":[]}"#).unwrap();
        assert!(matches!(
            s.load(&k),
            Loaded::Ignored(DiskIssue::Corrupt { .. })
        ));

        let v2 = String::from_utf8(full.clone())
            .unwrap()
            .replace("\"version\":1", "\"version\":2");
        fs::write(&path, &v2).unwrap();
        match s.load(&k) {
            Loaded::Ignored(DiskIssue::UnsupportedVersion { found, .. }) => assert_eq!(found, "2"),
            other => panic!("{other:?}"),
        }
        // A future version with a body this build cannot parse is still "unsupported version".
        fs::write(
            &path,
            format!(r#"{{"format":"{FORMAT_NAME}","version":3,"lists":{{}}}}"#),
        )
        .unwrap();
        assert!(matches!(
            s.load(&k),
            Loaded::Ignored(DiskIssue::UnsupportedVersion { .. })
        ));

        fs::write(&path, &full).unwrap();
        assert_eq!(ids(s.load(&k)), ["a", "b", "c"]);
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("http://h", None);
        let big = DiskStore::new(dir.path().to_path_buf(), 1 << 20);
        big.store(&k, SystemTime::now(), &models(&["a"; 100]))
            .unwrap();
        let small = DiskStore::new(dir.path().to_path_buf(), 64);
        assert!(matches!(
            small.load(&k),
            Loaded::Ignored(DiskIssue::TooLarge { limit: 64, .. })
        ));
    }

    #[test]
    fn rewrite_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let k = key("http://h", None);
        s.store(&k, SystemTime::now(), &models(&["old"])).unwrap();
        s.store(&k, SystemTime::now(), &models(&["new"])).unwrap();
        assert_eq!(ids(s.load(&k)), ["new"]);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        s.remove(&k).unwrap();
        s.remove(&k).unwrap();
        assert!(matches!(s.load(&k), Loaded::Missing));
    }

    #[cfg(unix)]
    #[test]
    fn unwritable_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        // A regular file where the directory should be: cannot be created, whoever we run as.
        let blocker = dir.path().join("file");
        fs::write(&blocker, b"x").unwrap();
        let s = store(&blocker.join("cache"));
        let err = s
            .store(&key("http://h", None), SystemTime::now(), &models(&["m"]))
            .unwrap_err();
        assert!(matches!(err, DiskIssue::Write { .. }), "{err:?}");
        // Reading under a path that is not a directory is reported too (ENOTDIR is not "no file yet").
        assert!(matches!(
            s.load(&key("http://h", None)),
            Loaded::Ignored(DiskIssue::Read { .. })
        ));
    }

    #[test]
    fn a_size_limit_of_u64_max_reads_files_instead_of_overflowing() {
        let dir = tempfile::tempdir().unwrap();
        let s = DiskStore::new(dir.path().to_path_buf(), u64::MAX);
        let k = key("http://h", None);
        s.store(&k, SystemTime::now(), &models(&["a", "b"]))
            .unwrap();
        assert_eq!(ids(s.load(&k)), ["a", "b"]);
    }

    /// Runs `load` on another thread and fails the test (after unblocking it) if it does not return in 10 s.
    #[cfg(target_os = "linux")]
    fn load_within_bounded_time(s: DiskStore, k: CacheKey, fifo: &Path) -> Loaded {
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            let _ = tx.send(s.load(&k));
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(loaded) => {
                worker.join().unwrap();
                loaded
            }
            Err(_) => {
                // Opening the FIFO for writing releases the reader blocked in `open`.
                let _ = fs::OpenOptions::new().write(true).open(fifo);
                worker.join().unwrap();
                panic!("load blocked on a FIFO");
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_fifo_or_a_symlink_to_one_at_a_files_path_is_ignored_without_blocking() {
        use rustix::fs::{CWD, FileType, Mode, mknodat};
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let k = key("http://h", None);
        let fifo = dir.path().join("a-fifo");
        mknodat(CWD, &fifo, FileType::Fifo, Mode::RUSR | Mode::WUSR, 0).unwrap();

        std::os::unix::fs::symlink(&fifo, s.path_for(&k)).unwrap();
        match load_within_bounded_time(store(dir.path()), k.clone(), &fifo) {
            Loaded::Ignored(issue @ DiskIssue::Corrupt { .. }) => {
                assert!(issue.to_string().contains("not a regular file"), "{issue}")
            }
            other => panic!("{other:?}"),
        }
        fs::remove_file(s.path_for(&k)).unwrap();
        fs::rename(&fifo, s.path_for(&k)).unwrap();
        assert!(matches!(
            load_within_bounded_time(store(dir.path()), k.clone(), &s.path_for(&k)),
            Loaded::Ignored(DiskIssue::Corrupt { .. })
        ));
        // The next write replaces the FIFO with a regular file.
        s.store(&k, SystemTime::now(), &models(&["m"])).unwrap();
        assert_eq!(ids(s.load(&k)), ["m"]);
    }

    #[test]
    fn a_list_too_large_to_be_read_back_is_not_written_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let k = key("http://h", None);
        let body_len = encode(&k, SystemTime::now(), &models(&["a"; 100])).len() as u64;
        let s = DiskStore::new(dir.path().to_path_buf(), body_len - 1);
        s.store(&k, SystemTime::now(), &models(&["small"])).unwrap();
        let err = s
            .store(&k, SystemTime::now(), &models(&["a"; 100]))
            .unwrap_err();
        match &err {
            DiskIssue::TooLargeToWrite { size, limit, .. } => {
                assert_eq!((*size, *limit), (body_len, body_len - 1))
            }
            other => panic!("{other:?}"),
        }
        assert!(err.is_too_large() && !err.is_io() && !err.is_ignored_file());
        // Nothing is left that a restart would load as the current list: not the new one, not the older one.
        assert!(matches!(s.load(&k), Loaded::Missing));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        // At the limit exactly, it is written and read back.
        let s = DiskStore::new(dir.path().to_path_buf(), body_len);
        let at = SystemTime::now();
        s.store(&k, at, &models(&["a"; 100])).unwrap();
        assert_eq!(ids(s.load(&k)).len(), 100);
    }

    #[cfg(unix)]
    #[test]
    fn temporary_files_of_writers_that_are_gone_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let digest = key("http://h", None).digest();
        // A process id that surely exists no more: a child that exited and was reaped.
        let dead = {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            child.wait().unwrap();
            pid
        };
        let me = std::process::id();
        let minute = Duration::from_secs(60);
        let two_hours = Duration::from_secs(7200);
        let files = [
            // (name, age, removed?)
            (format!(".{digest}.{dead}-0.tmp"), minute, true), // killed mid-write
            (format!(".{digest}.{dead}-1.tmp"), Duration::ZERO, false), // too fresh to judge
            (format!(".{digest}.{me}-7.tmp"), minute, false),  // ours, in progress
            (format!(".{digest}.{me}-8.tmp"), two_hours, true), // ours, but abandoned
            (format!(".{digest}.1-0.tmp"), minute, false),     // pid 1 exists
            (format!(".{digest}.1-1.tmp"), two_hours, true),   // ...but may be a reused id
            // Not our naming: never touched.
            (
                format!("{}.json", key("http://other", None).digest()),
                two_hours,
                false,
            ),
            (format!(".{digest}.{dead}.tmp"), two_hours, false),
            (format!(".{}.{dead}-0.tmp", &digest[1..]), two_hours, false),
            (
                format!(".{}.{dead}-0.tmp", digest.to_uppercase()),
                two_hours,
                false,
            ),
            ("notes.tmp".to_string(), two_hours, false),
        ];
        for (name, age, _) in &files {
            let file = fs::File::create(dir.path().join(name)).unwrap();
            file.set_modified(SystemTime::now() - *age).unwrap();
        }
        let s = store(dir.path());
        assert!(matches!(s.load(&key("http://h", None)), Loaded::Missing));
        for (name, _, removed) in &files {
            assert_eq!(
                !dir.path().join(name).exists(),
                *removed,
                "{name} removed: expected {removed}"
            );
        }
        // The sweep runs on a store's first read or write, not on every one.
        let late = dir.path().join(format!(".{digest}.{dead}-9.tmp"));
        fs::File::create(&late)
            .unwrap()
            .set_modified(SystemTime::now() - minute)
            .unwrap();
        s.store(&key("http://h", None), SystemTime::now(), &models(&["m"]))
            .unwrap();
        assert!(late.exists());
        store(dir.path())
            .store(&key("http://h", None), SystemTime::now(), &models(&["m"]))
            .unwrap();
        assert!(!late.exists());
    }
}
