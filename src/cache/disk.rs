//! The disk layer of the model cache: one JSON file per [`CacheKey`], named by the key's digest.
//!
//! A file holds the format name and version, the key's non-secret parts (kind, base URL, fingerprint),
//! the fetch time (wall clock, so it means something after a restart) and the list. On read it is ignored,
//! and the reason reported as a [`DiskIssue`], when it is corrupt or truncated, of an unknown format version,
//! larger than the size limit, not a regular file (a FIFO would block), or when its key parts differ from the
//! key asked for. Writes go to a temporary file in the same directory, are flushed to disk, then renamed over
//! the old file: a crash leaves the old file or the new one, never half of one. A list whose file would be
//! over the size limit is not written (it could not be read back). Temporary files left by a writer that
//! was killed are removed once their writer is gone (see [`TEMP_FILE_DEAD_WRITER_AGE`]).
//!
//! No secret is written: the credential is present only as a fingerprint keyed with the directory's own
//! random secret (HMAC-SHA-256; the file `fingerprint.key`, created once, readable by its owner only), and
//! file names are digests of the key with that fingerprint. So names and files are the same for every process
//! using the directory (lists survive restarts), but guessing a key from a file needs the directory's secret
//! too: a plain hash would confirm a weak key (`sk-1234`) in one try.
//!
//! The I/O is plain `std::fs`, run on the caller's task: the library has no runtime to move it to. It happens
//! only on a memory miss (once per key and process, inside the single-flight operation, so concurrent callers
//! share one read) and after a successful fetch. Cost, measured in `benches/model_cache.rs` for 2,000 models:
//! ~2.3 ms for compact entries (0.4 MB file), ~55 ms when every entry keeps LiteLLM's `/model/info` record
//! as `raw` (`keep_raw`, 3.6 MB file), both on a busy 2-core machine. A caller that cannot block that long on
//! a cold start can run the first `get` of each key on a blocking thread of its own runtime.

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
use crate::secret::{hex, random_secret};

/// Written in every file; a file with another `format` is not ours.
pub(crate) const FORMAT_NAME: &str = "modelroute-model-list";
/// The only version this build reads and writes. Version 2: the fingerprint and the file name are keyed
/// with the directory's secret (version 1 used a plain SHA-256, and its files are never looked up).
pub(crate) const FORMAT_VERSION: u64 = 2;

/// One directory of model-list files.
#[derive(Debug)]
pub(crate) struct DiskStore {
    dir: PathBuf,
    max_file_bytes: u64,
    /// When this store last removed the temporary files of writers that are gone.
    last_sweep: Mutex<Option<Instant>>,
    /// The directory's fingerprint secret, once read or created.
    secret: Mutex<Option<[u8; 32]>>,
}

/// The file holding the directory's fingerprint secret: 64 hex characters and a newline, mode 0600.
pub(crate) const SECRET_FILE: &str = "fingerprint.key";

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
    /// The parts of `key`, its credential shown as `fingerprint` (the one keyed with the directory's secret).
    fn of(key: &'a CacheKey, fingerprint: Option<&'a str>) -> Self {
        KeyParts {
            provider: key.kind().as_str(),
            base_url: key.base_url().as_str(),
            key_fingerprint: fingerprint,
        }
    }
}

/// `key`'s credential fingerprint keyed with a directory's `secret`.
fn disk_fingerprint(key: &CacheKey, secret: &[u8; 32]) -> Option<String> {
    key.fingerprint().map(|f| f.keyed_with(secret))
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
            last_sweep: Mutex::new(None),
            secret: Mutex::new(None),
        }
    }

    /// The directory holding the files.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of `key` under `secret`: `<dir>/<sha256 of the whole key, with its keyed fingerprint>.json`.
    fn file_name(&self, key: &CacheKey, secret: &[u8; 32]) -> PathBuf {
        let fingerprint = disk_fingerprint(key, secret);
        self.dir
            .join(format!("{}.json", key.file_digest(fingerprint.as_deref())))
    }

    /// The file of `key`, if the directory has its secret already (nothing is created).
    pub(crate) fn file_of(&self, key: &CacheKey) -> Option<PathBuf> {
        let secret = self.read_secret().ok()??;
        Some(self.file_name(key, &secret))
    }

    /// The file of `key`, creating the directory and its secret if needed.
    #[cfg(test)]
    pub(crate) fn path_for(&self, key: &CacheKey) -> PathBuf {
        fs::create_dir_all(&self.dir).unwrap();
        let secret = self.secret_for_write().unwrap();
        self.file_name(key, &secret)
    }

    /// Reads the list of `key`, if a valid file holds it.
    pub(crate) fn load(&self, key: &CacheKey) -> Loaded {
        self.sweep_if_due();
        let secret = match self.read_secret() {
            Ok(Some(secret)) => secret,
            Ok(None) => return Loaded::Missing, // no secret, so nothing was written here
            Err(issue) => return Loaded::Ignored(issue),
        };
        let path = self.file_name(key, &secret);
        let bytes = match self.read_bounded(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Loaded::Missing,
            Err(issue) => return Loaded::Ignored(issue),
        };
        let fingerprint = disk_fingerprint(key, &secret);
        match decode(&path, KeyParts::of(key, fingerprint.as_deref()), &bytes) {
            Ok(entry) => Loaded::Entry(entry),
            Err(issue) => Loaded::Ignored(issue),
        }
    }

    /// The directory's secret: the one this store knows, else the file's; `None` if there is no file.
    fn read_secret(&self) -> Result<Option<[u8; 32]>, DiskIssue> {
        if let Some(secret) = *self.secret.lock() {
            return Ok(Some(secret));
        }
        let secret = read_secret_file(&self.dir.join(SECRET_FILE))?;
        if secret.is_some() {
            *self.secret.lock() = secret;
        }
        Ok(secret)
    }

    /// The directory's secret for a write: the file's (read again, in case the directory was emptied), else a
    /// new one installed atomically (the one this store knew, or a random one). A corrupt secret file is
    /// replaced: the files written under it could not be found anyway.
    fn secret_for_write(&self) -> Result<[u8; 32], DiskIssue> {
        let path = self.dir.join(SECRET_FILE);
        let write_issue = |e: io::Error| DiskIssue::Write {
            path: path.clone(),
            source: Arc::new(e),
        };
        let secret = match read_secret_file(&path) {
            Ok(Some(secret)) => secret,
            Ok(None) => {
                let known = *self.secret.lock();
                let fresh = match known {
                    Some(secret) => secret,
                    None => random_secret().map_err(|e| write_issue(io::Error::other(e)))?,
                };
                self.install_secret(&path, &fresh, false)
                    .map_err(write_issue)?
            }
            Err(DiskIssue::Corrupt { .. }) => {
                let fresh = random_secret().map_err(|e| write_issue(io::Error::other(e)))?;
                self.install_secret(&path, &fresh, true)
                    .map_err(write_issue)?
            }
            Err(issue) => return Err(issue),
        };
        *self.secret.lock() = Some(secret);
        Ok(secret)
    }

    /// Writes `secret` to a temporary file (mode 0600, flushed), then links it at `path` (`replace`: renames
    /// it over `path`). Linking fails if another process installed its secret first: that one is returned.
    /// On a file system without hard links the file is created in place with `O_EXCL`.
    fn install_secret(
        &self,
        path: &Path,
        secret: &[u8; 32],
        replace: bool,
    ) -> io::Result<[u8; 32]> {
        let body = format!("{}\n", hex(secret));
        let tmp = self.dir.join(format!(
            ".{SECRET_FILE}.{}-{}.tmp",
            std::process::id(),
            next_temp_file_number()
        ));
        write_new_file(&tmp, body.as_bytes())?;
        let installed = if replace {
            fs::rename(&tmp, path)
        } else {
            fs::hard_link(&tmp, path)
        };
        let _ = fs::remove_file(&tmp);
        let installed = match installed {
            Err(e) if !replace && e.kind() != io::ErrorKind::AlreadyExists => {
                write_new_file(path, body.as_bytes())
            }
            other => other,
        };
        match installed {
            Ok(()) => Ok(*secret),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match read_secret_file(path) {
                Ok(Some(theirs)) => Ok(theirs),
                _ => Err(e),
            },
            Err(e) => Err(e),
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
        let write_issue = |at: &Path, e: io::Error| DiskIssue::Write {
            path: at.to_path_buf(),
            source: Arc::new(e),
        };
        fs::create_dir_all(&self.dir).map_err(|e| write_issue(&self.dir, e))?;
        self.sweep_if_due();
        let secret = self.secret_for_write()?;
        let path = self.file_name(key, &secret);
        let fingerprint = disk_fingerprint(key, &secret);
        let parts = KeyParts::of(key, fingerprint.as_deref());
        let body = match encode_bounded(parts, fetched_at, models, self.max_file_bytes) {
            Ok(body) => body,
            Err(size) => {
                let _ = remove_if_present(&path);
                return Err(DiskIssue::TooLargeToWrite {
                    path,
                    size,
                    limit: self.max_file_bytes,
                });
            }
        };
        let digest = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or_default();
        let tmp = self.dir.join(format!(
            ".{digest}.{}-{}.tmp",
            std::process::id(),
            next_temp_file_number()
        ));
        let written = write_new_file(&tmp, &body).and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(write_issue(&path, e));
        }
        Ok(())
    }

    /// The bytes [`store`](Self::store) would write for `key` (for tests: the directory's secret is created).
    #[cfg(test)]
    pub(crate) fn encode(
        &self,
        key: &CacheKey,
        fetched_at: SystemTime,
        models: &[ModelDescriptor],
    ) -> Vec<u8> {
        fs::create_dir_all(&self.dir).unwrap();
        let fingerprint = disk_fingerprint(key, &self.secret_for_write().unwrap());
        encode_bounded(
            KeyParts::of(key, fingerprint.as_deref()),
            fetched_at,
            models,
            u64::MAX,
        )
        .unwrap()
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
        match self.file_of(key) {
            Some(path) => remove_if_present(&path),
            None => Ok(()), // no secret: nothing was written
        }
    }
}

/// Deletes `path`; a missing file is not an issue.
fn remove_if_present(path: &Path) -> Result<(), DiskIssue> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DiskIssue::Remove {
            path: path.to_path_buf(),
            source: Arc::new(e),
        }),
    }
}

/// A number for a temporary file name, unique within the process (with the process id, unique on the machine;
/// shared by every store, since two caches of one process may write to one directory).
fn next_temp_file_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn write_new_file(path: &Path, body: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    // Model lists are not secret, but they are nobody else's business either; the fingerprint secret is.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(body)?;
    file.sync_all()
}

/// Reads a fingerprint secret file: `None` if there is none; a file that is not a regular file holding 64
/// hex characters is [`DiskIssue::Corrupt`] (its content is never quoted).
fn read_secret_file(path: &Path) -> Result<Option<[u8; 32]>, DiskIssue> {
    let corrupt = || DiskIssue::Corrupt {
        path: path.to_path_buf(),
        reason: "not a fingerprint secret (64 hex characters)".to_string(),
    };
    let read_issue = |e: io::Error| DiskIssue::Read {
        path: path.to_path_buf(),
        source: Arc::new(e),
    };
    let file = match open_regular_file(path).map_err(read_issue)? {
        Opened::File(file) => file,
        Opened::Missing => return Ok(None),
        Opened::NotRegular => return Err(corrupt()),
    };
    let mut text = String::new();
    file.take(256)
        .read_to_string(&mut text)
        .map_err(|_| corrupt())?;
    let digits = text.trim().as_bytes();
    if digits.len() != 64 {
        return Err(corrupt());
    }
    let mut secret = [0u8; 32];
    for (byte, pair) in secret.iter_mut().zip(digits.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| corrupt())?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| corrupt())?;
    }
    Ok(Some(secret))
}

/// The writer's process id if `name` is one of our temporary files: `.<64 hex>.<pid>-<counter>.tmp`, or
/// `.fingerprint.key.<pid>-<counter>.tmp`.
fn temp_file_writer(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, writer) = rest.rsplit_once('.')?;
    let (pid, counter) = writer.split_once('-')?;
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let is_digest = target.len() == 64
        && target
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    let ours = (is_digest || target == SECRET_FILE) && is_digits(pid) && is_digits(counter);
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

/// The bytes of the file of the key with these parts, or `Err(size)` when they would exceed `limit` bytes.
/// Memory stays within the limit: past it, bytes are counted, not kept.
fn encode_bounded(
    key: KeyParts<'_>,
    fetched_at: SystemTime,
    models: &[ModelDescriptor],
    limit: u64,
) -> Result<Vec<u8>, u64> {
    let file = FileOut {
        format: FORMAT_NAME,
        version: FORMAT_VERSION,
        key,
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

/// Reads a file's bytes as the list of the key with parts `expected`, or says why it cannot be used.
fn decode(path: &Path, expected: KeyParts<'_>, bytes: &[u8]) -> Result<DiskEntry, DiskIssue> {
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
                _ => corrupt(crate::redact::parse_reason(&full_error)),
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
    if found != expected {
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
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        let file = s.file_of(&k).unwrap();
        let file_name = file.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(names, [file_name, SECRET_FILE.to_string()]);
        let text = fs::read_to_string(&file).unwrap();
        assert!(!text.contains("sk-secret-abc"));
        // The fingerprint in the file is keyed with the directory's secret: not the process's one.
        assert!(!text.contains(k.fingerprint().unwrap().as_str()));
        let secret = read_secret_file(&dir.path().join(SECRET_FILE))
            .unwrap()
            .unwrap();
        assert!(text.contains(&disk_fingerprint(&k, &secret).unwrap()));
        assert!(text.contains("\"base_url\":\"http://127.0.0.1:4000\""));
    }

    #[test]
    fn a_cache_file_alone_does_not_confirm_a_guessed_key() {
        let weak = key("http://h", Some("sk-1234"));
        let write_in = |dir: &Path| {
            let s = store(dir);
            s.store(&weak, SystemTime::now(), &models(&["m"])).unwrap();
            let file = s.file_of(&weak).unwrap();
            (
                file.file_name().unwrap().to_owned(),
                fs::read_to_string(&file).unwrap(),
            )
        };
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (name_one, text_one) = write_in(one.path());
        let (name_two, text_two) = write_in(two.path());
        // The same key gets another file name and another fingerprint in another directory: they are not
        // a function of the key alone, so no guess can be checked against them without the secret.
        assert_ne!(name_one, name_two);
        let fingerprint = |text: &str| {
            let v: serde_json::Value = serde_json::from_str(text).unwrap();
            v["key"]["key_fingerprint"].as_str().unwrap().to_string()
        };
        assert_ne!(fingerprint(&text_one), fingerprint(&text_two));
        // Within a directory the identity is stable: another store (a restart) finds the list.
        assert_eq!(ids(store(one.path()).load(&weak)), ["m"]);
        assert_eq!(
            store(one.path())
                .file_of(&weak)
                .unwrap()
                .file_name()
                .unwrap(),
            name_one
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_directory_secret_is_created_once_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let secret_file = dir.path().join(SECRET_FILE);
        // Several stores racing to create it end up with one secret.
        let stores: Vec<_> = (0..8).map(|_| store(dir.path())).collect();
        std::thread::scope(|scope| {
            for (i, s) in stores.iter().enumerate() {
                scope.spawn(move || {
                    s.store(
                        &key("http://h", Some(&format!("k{i}"))),
                        SystemTime::now(),
                        &models(&["m"]),
                    )
                    .unwrap()
                });
            }
        });
        let secret = read_secret_file(&secret_file).unwrap().unwrap();
        for (i, s) in stores.iter().enumerate() {
            assert_eq!(s.secret_for_write().unwrap(), secret);
            assert_eq!(
                ids(store(dir.path()).load(&key("http://h", Some(&format!("k{i}"))))),
                ["m"]
            );
        }
        let mode = fs::metadata(&secret_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 9);

        // A corrupt secret is reported on read, and replaced on the next write.
        fs::write(&secret_file, b"garbage").unwrap();
        let s = store(dir.path());
        match s.load(&key("http://h", Some("k0"))) {
            Loaded::Ignored(issue @ DiskIssue::Corrupt { .. }) => {
                assert_eq!(issue.path(), secret_file);
                assert!(!issue.to_string().contains("garbage"));
            }
            other => panic!("{other:?}"),
        }
        s.store(
            &key("http://h", Some("k0")),
            SystemTime::now(),
            &models(&["new"]),
        )
        .unwrap();
        assert_eq!(
            ids(store(dir.path()).load(&key("http://h", Some("k0")))),
            ["new"]
        );
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
        let full = s.encode(&k, SystemTime::now(), &models(&["a", "b", "c"]));
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

        let v1 = String::from_utf8(full.clone())
            .unwrap()
            .replace("\"version\":2", "\"version\":1");
        fs::write(&path, &v1).unwrap();
        match s.load(&k) {
            Loaded::Ignored(DiskIssue::UnsupportedVersion { found, .. }) => assert_eq!(found, "1"),
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
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            2,
            "the list and the secret"
        );
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
        let body_len = store(dir.path())
            .encode(&k, SystemTime::now(), &models(&["a"; 100]))
            .len() as u64;
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
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "the secret only"
        );
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
        let digest = "ab".repeat(32);
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
            (format!("{}.json", "cd".repeat(32)), two_hours, false),
            (format!(".{digest}.{dead}.tmp"), two_hours, false),
            (format!(".{}.{dead}-0.tmp", &digest[1..]), two_hours, false),
            (format!(".{SECRET_FILE}.{dead}-0.tmp"), minute, true),
            (format!(".other.key.{dead}-0.tmp"), two_hours, false),
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
