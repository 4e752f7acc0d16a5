//! Real LiteLLM proxies for the integration tests.
//!
//! [`LiteLlmProxy::start`] installs LiteLLM 1.109.1 the first time it is needed (a venv at
//! `<target dir>/litellm-venv`, built by `tests/litellm/install.sh` from `tests/litellm/requirements.lock`; ~15-70 s
//! once, then reused), then starts `litellm --config <config> --host 127.0.0.1 --port <free port>` offline and waits
//! until `GET /health/liveliness` answers 200 (~7-10 s alone, more when several start at once on a busy machine).
//!
//! Blocking, std only (plus libc): call it from a plain `#[test]` or from an async test. Each proxy runs in its own
//! process group with `PR_SET_PDEATHSIG = SIGKILL`, so a test process that dies (even by SIGKILL) leaves no proxy
//! behind; [`LiteLlmProxy::stop`] (also run on drop) stops it by PID. Logs: `<target dir>/litellm-logs/<port>.log`.
//!
//! Environment knobs (all optional): `CARGO_TARGET_DIR` (where the venv and logs go), `MODELROUTE_TEST_PYTHON`
//! (the interpreter that creates the venv; default `python3.11`, else `python3`),
//! `MODELROUTE_LITELLM_START_TIMEOUT_SECS` (default 120).
//!
//! ```ignore
//! mod support;
//! use support::litellm::{LiteLlmProxy, ProxyConfig};
//!
//! let proxy = LiteLlmProxy::start(ProxyConfig::A);
//! let url = format!("{}/v1/models", proxy.base_url()); // Bearer LiteLlmProxy::MASTER_KEY
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::process::{
    die_with_parent, free_port, has_exited, port_accepts, signal_group,
    spawn_from_long_lived_thread, tail,
};

/// How long a proxy may take to answer `/health/liveliness` (override: `MODELROUTE_LITELLM_START_TIMEOUT_SECS`).
const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the one-time install may take, and how long another process may hold the install lock.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// SIGTERM grace period before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Name of the file, inside the venv, that `install.sh` writes last: the sha256 of `requirements.lock`.
const MARKER_FILE: &str = ".modelroute-lock-sha256";
/// Lines of the proxy's log shown when it fails.
const LOG_TAIL_LINES: usize = 40;
/// The proxy is started a few times on a fresh port if its port was taken in the meantime.
const PORT_ATTEMPTS: usize = 3;
/// How long a start may wait for a start slot (see [`acquire_start_slot`]).
const SLOT_WAIT: Duration = Duration::from_secs(15 * 60);

/// Which config file a proxy serves. The files live in `tests/litellm/`; every deployment in them answers from
/// `mock_response` (no upstream, no network), and keys are checked by `tests/litellm/custom_auth.py`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyConfig {
    /// `config_a.yaml`: `gpt-4o` (openai/gpt-4o), `balanced` (2 deployments: openai/gpt-4o-mini, and
    /// openai/gpt-4.1-mini with `model_info.id: balanced-deployment-2`), `llama3` (ollama/llama3), and an `openai/*`
    /// wildcard deployment (expanded by `/v1/models` into OpenAI's known model names, ~200 of them).
    A,
    /// `config_b.yaml`: `claude-3-5-sonnet` and `mistral-large`. The two restricted keys still list their own model
    /// names here (LiteLLM lists a key's allowed names as they are), but calling them fails (400, invalid model).
    B,
    /// Any other config file. A `custom_auth` module it names must sit beside it.
    File(PathBuf),
}

impl ProxyConfig {
    /// Absolute path of the config file.
    pub fn path(&self) -> PathBuf {
        match self {
            ProxyConfig::A => litellm_dir().join("config_a.yaml"),
            ProxyConfig::B => litellm_dir().join("config_b.yaml"),
            ProxyConfig::File(path) if path.is_absolute() => path.clone(),
            ProxyConfig::File(path) => crate_dir().join(path),
        }
    }
}

/// A running LiteLLM proxy on 127.0.0.1, stopped (by PID, with its process group) on [`LiteLlmProxy::stop`] or drop.
#[derive(Debug)]
pub struct LiteLlmProxy {
    child: Option<Child>,
    pid: u32,
    port: u16,
    config: PathBuf,
    log_path: PathBuf,
    startup: Duration,
}

impl LiteLlmProxy {
    /// The master key of the test configs (proxy admin: sees and may call every model).
    pub const MASTER_KEY: &'static str = "sk-test-master-key-0123456789";
    /// A key that may list and call only `gpt-4o` (others: 403 `key_model_access_denied`).
    pub const KEY_ONLY_GPT4O: &'static str = "sk-test-only-gpt-4o";
    /// A key that may list and call only `balanced` (others: 403 `key_model_access_denied`).
    pub const KEY_ONLY_BALANCED: &'static str = "sk-test-only-balanced";

    /// Installs LiteLLM if needed (once per machine and lock file), starts
    /// `litellm --config <cfg> --host 127.0.0.1 --port <free port>` with the offline environment, and waits
    /// (bounded, 120 s by default) until `GET /health/liveliness` answers 200.
    ///
    /// # Panics
    /// With what failed and the last lines of the install or proxy log, if LiteLLM cannot be installed or the proxy
    /// does not become ready in time.
    pub fn start(config: ProxyConfig) -> LiteLlmProxy {
        LiteLlmProxy::start_with_env(config, &[])
    }

    /// [`LiteLlmProxy::start`] with extra environment variables for the proxy (e.g. the values of the
    /// `os.environ/NAME` references in its config).
    ///
    /// # Panics
    /// Like [`LiteLlmProxy::start`].
    pub fn start_with_env(config: ProxyConfig, env: &[(&str, &str)]) -> LiteLlmProxy {
        let venv = ensure_installed();
        let config = config.path();
        assert!(
            config.is_file(),
            "LiteLLM test config not found: {}",
            config.display()
        );
        let timeout = start_timeout();
        // Starting is CPU-heavy (~6 s of CPU importing LiteLLM): at most a few at once per machine, so that each
        // start's timeout measures its own start, not a queue of others (tests run in parallel threads/processes).
        let _slot = acquire_start_slot();
        let mut last_failure = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let mut proxy = spawn_proxy(&venv, &config, env);
            match proxy.wait_until_ready(timeout) {
                Ok(()) => return proxy,
                Err(StartFailure::PortTaken) => {
                    // Another process bound the port between our probe and the proxy's bind: try another port.
                    proxy.stop();
                    last_failure = format!(
                        "port {} was taken before the proxy could bind it",
                        proxy.port
                    );
                }
                Err(StartFailure::Fatal(what)) => {
                    proxy.stop();
                    panic!(
                        "LiteLLM proxy ({}) {what}.\nLog: {}\n--- last {LOG_TAIL_LINES} lines ---\n{}",
                        config.display(),
                        proxy.log_path.display(),
                        tail(&proxy.log_path, LOG_TAIL_LINES)
                    );
                }
            }
        }
        panic!(
            "LiteLLM proxy ({}) could not start after {PORT_ATTEMPTS} attempts: {last_failure}",
            config.display()
        );
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port the proxy listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The proxy's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The config file the proxy serves.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The proxy's log file (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Time from spawning the process to the first 200 from `/health/liveliness`.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// Resident memory of the proxy process in KiB (`VmRSS`), while it runs.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Stops the proxy: SIGTERM to its process group, up to ~5 s for it to exit, then SIGKILL to the group, and
    /// reaps it. Idempotent. When it returns, connections to the port are refused.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if !has_exited(self.pid) {
            signal_group(self.pid, libc::SIGTERM);
            let deadline = Instant::now() + STOP_GRACE;
            while !has_exited(self.pid) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(25));
            }
        }
        // The leader is a zombie or still alive, so the group id cannot have been reused: kill any straggler.
        signal_group(self.pid, libc::SIGKILL);
        let _ = child.wait();
        let deadline = Instant::now() + STOP_GRACE;
        while port_accepts(self.port) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(25));
        }
    }

    fn wait_until_ready(&mut self, timeout: Duration) -> Result<(), StartFailure> {
        let started = Instant::now();
        let deadline = started + timeout;
        loop {
            if has_exited(self.pid) {
                let log = fs::read_to_string(&self.log_path).unwrap_or_default();
                if log.contains("address already in use") || log.contains("Address already in use")
                {
                    return Err(StartFailure::PortTaken);
                }
                return Err(StartFailure::Fatal(format!(
                    "exited before answering /health/liveliness on port {}",
                    self.port
                )));
            }
            if liveliness_ok(self.port) {
                self.startup = started.elapsed();
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(StartFailure::Fatal(format!(
                    "did not answer 200 on http://127.0.0.1:{}/health/liveliness within {} s (set \
                     MODELROUTE_LITELLM_START_TIMEOUT_SECS to wait longer on a slow machine)",
                    self.port,
                    timeout.as_secs()
                )));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for LiteLlmProxy {
    fn drop(&mut self) {
        self.stop();
    }
}

enum StartFailure {
    PortTaken,
    Fatal(String),
}

/// The crate's root directory.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/litellm`: configs, custom auth, lock file, install script.
pub fn litellm_dir() -> PathBuf {
    crate_dir().join("tests").join("litellm")
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set (relative to the crate root if relative), else `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                crate_dir().join(dir)
            }
        }
        _ => crate_dir().join("target"),
    }
}

/// The venv LiteLLM is installed into.
pub fn venv_dir() -> PathBuf {
    target_dir().join("litellm-venv")
}

fn logs_dir() -> PathBuf {
    target_dir().join("litellm-logs")
}

/// Installs LiteLLM into [`venv_dir`] unless the marker says the current lock file is installed; returns the venv.
/// Safe when several test threads or processes call it at once (an exclusive lock on `<venv>.lock`).
///
/// # Panics
/// If the install fails or takes longer than 20 minutes, with the install log's last lines.
pub fn ensure_installed() -> PathBuf {
    // One attempt per test process (a failure is reported by every test that needs the proxy); OnceLock makes
    // concurrent callers in this process wait for it, the file lock serializes processes.
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match INSTALLED.get_or_init(install_once) {
        Ok(venv) => venv.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn install_once() -> Result<PathBuf, String> {
    let venv = venv_dir();
    let lock_file = litellm_dir().join("requirements.lock");
    let lock_bytes =
        fs::read(&lock_file).map_err(|e| format!("cannot read {}: {e}", lock_file.display()))?;
    let want = hex(&Sha256::digest(&lock_bytes));
    if is_installed(&venv, &want) {
        return Ok(venv);
    }

    let parent = venv.parent().expect("the venv path has a parent");
    fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let lock_path = PathBuf::from(format!("{}.lock", venv.display()));
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open the install lock {}: {e}", lock_path.display()))?;
    let waited_since = Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) if waited_since.elapsed() < INSTALL_TIMEOUT => {
                thread::sleep(Duration::from_millis(200));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another process held {} for {} s (a LiteLLM install that hangs?); stop it or delete {}",
                    lock_path.display(),
                    INSTALL_TIMEOUT.as_secs(),
                    venv.display()
                ));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", lock_path.display()));
            }
        }
    }
    // Another process may have finished the install while we waited for the lock.
    if is_installed(&venv, &want) {
        return Ok(venv);
    }

    fs::create_dir_all(logs_dir())
        .map_err(|e| format!("cannot create {}: {e}", logs_dir().display()))?;
    let log_path = logs_dir().join("install.log");
    let log = File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot reuse {}: {e}", log_path.display()))?;
    let script = litellm_dir().join("install.sh");
    // Straight to fd 2, not eprintln!: the test harness captures eprintln! output, and this explains a long pause.
    let _ = writeln!(
        io::stderr(),
        "[modelroute tests] installing LiteLLM 1.109.1 into {} (once; ~15-70 s with network access to PyPI; log: {})",
        venv.display(),
        log_path.display()
    );
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(&venv)
        .env("MODELROUTE_LITELLM_INSTALL_LOCK_HELD", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot run {} with bash: {e}", script.display()))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < INSTALL_TIMEOUT => {
                thread::sleep(Duration::from_millis(200))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(install_failure(&log_path, "timed out"));
            }
            Err(e) => return Err(format!("waiting for {}: {e}", script.display())),
        }
    };
    if !status.success() || !is_installed(&venv, &want) {
        return Err(install_failure(&log_path, &format!("failed ({status})")));
    }
    let _ = writeln!(
        io::stderr(),
        "[modelroute tests] LiteLLM installed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    drop(lock);
    Ok(venv)
}

fn install_failure(log_path: &Path, what: &str) -> String {
    format!(
        "installing LiteLLM for the tests {what}. It needs python3 (3.11; or set MODELROUTE_TEST_PYTHON) with the venv \
         module, bash, and access to PyPI. Run tests/litellm/install.sh by hand to see more.\nLog: {}\n--- last {} lines \
         ---\n{}",
        log_path.display(),
        LOG_TAIL_LINES,
        tail(log_path, LOG_TAIL_LINES)
    )
}

fn is_installed(venv: &Path, want: &str) -> bool {
    let marker_ok =
        fs::read_to_string(venv.join(MARKER_FILE)).is_ok_and(|found| found.trim() == want);
    marker_ok && venv.join("bin").join("litellm").is_file()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Takes one of N start slots (an exclusive flock on `<target>/litellm-logs/start-slot-<i>.lock`), N = number of CPUs
/// (1..=4; override: `MODELROUTE_LITELLM_PARALLEL_STARTS`), shared by every test thread and process using this target
/// directory. Released when the returned file is dropped (or the process dies).
fn acquire_start_slot() -> File {
    let slots = std::env::var("MODELROUTE_LITELLM_PARALLEL_STARTS")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or_else(|| {
            thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(4)
        })
        .max(1);
    let dir = logs_dir();
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let mut files: Vec<File> = (0..slots)
        .map(|i| {
            let path = dir.join(format!("start-slot-{i}.lock"));
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
        })
        .collect();
    let since = Instant::now();
    loop {
        if let Some(free) = files.iter().position(|file| file.try_lock().is_ok()) {
            return files.swap_remove(free);
        }
        assert!(
            since.elapsed() < SLOT_WAIT,
            "waited {} s for one of {slots} LiteLLM start slots in {} (are other proxies stuck starting?)",
            SLOT_WAIT.as_secs(),
            dir.display()
        );
        thread::sleep(Duration::from_millis(100));
    }
}

fn start_timeout() -> Duration {
    std::env::var("MODELROUTE_LITELLM_START_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or(DEFAULT_START_TIMEOUT, Duration::from_secs)
}

/// Environment that keeps LiteLLM from reaching the internet at import and start (see
/// /work/shared/reference/litellm-proxy.md: with these, strace showed no outbound connection).
const OFFLINE_ENV: &[(&str, &str)] = &[
    ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
    ("LITELLM_OFFLINE_MODE", "true"),
    ("LITELLM_DISABLE_LATEST_RELEASE_CHECK", "true"),
    ("LITELLM_LOCAL_BLOG_POSTS", "True"),
    ("LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS", "True"),
    ("LITELLM_LOCAL_POLICY_TEMPLATES", "true"),
    ("LITELLM_LOCAL_AUTOROUTER_PRESETS", "True"),
    ("PYTHONUNBUFFERED", "1"),
    // The venv's bytecode was compiled at install; this keeps tests/litellm/__pycache__ out of the source tree.
    ("PYTHONDONTWRITEBYTECODE", "1"),
];

/// Variables of the caller's environment that would change what the proxy does.
const REMOVED_ENV: &[&str] = &[
    "DATABASE_URL",
    "DIRECT_URL",
    "LITELLM_MASTER_KEY",
    "LITELLM_SALT_KEY",
    "LITELLM_CONFIG",
    "CONFIG_FILE_PATH",
    "REDIS_URL",
    "REDIS_HOST",
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
];

fn spawn_proxy(venv: &Path, config: &Path, env: &[(&str, &str)]) -> LiteLlmProxy {
    let port = free_port();
    let logs = logs_dir();
    fs::create_dir_all(&logs).unwrap_or_else(|e| panic!("cannot create {}: {e}", logs.display()));
    let log_path = logs.join(format!("{port}.log"));
    let log = File::create(&log_path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", log_path.display()));
    let log_err = log
        .try_clone()
        .unwrap_or_else(|e| panic!("cannot reuse {}: {e}", log_path.display()));

    let mut cmd = Command::new(venv.join("bin").join("litellm"));
    cmd.arg("--config")
        .arg(config)
        .args(["--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        // Not next to the venv or the sources: LiteLLM writes nothing here that we know of, but keep it in target/.
        .current_dir(&logs)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0);
    for name in REMOVED_ENV {
        cmd.env_remove(name);
    }
    for (name, value) in OFFLINE_ENV.iter().chain(env) {
        cmd.env(name, value);
    }
    die_with_parent(&mut cmd);

    let child = spawn_from_long_lived_thread(cmd).unwrap_or_else(|e| {
        panic!(
            "cannot start {}: {e}",
            venv.join("bin").join("litellm").display()
        )
    });
    LiteLlmProxy {
        pid: child.id(),
        child: Some(child),
        port,
        config: config.to_path_buf(),
        log_path,
        startup: Duration::ZERO,
    }
}

/// Runs `tests/litellm/<script>` with the venv's Python (installing LiteLLM first if needed), `input` on its
/// stdin, offline; returns its stdout. The process is killed (by PID) if it runs longer than `timeout`.
///
/// # Panics
/// If the script cannot start, exits with an error (its stderr is shown) or times out.
pub fn run_script(script: &str, input: &[u8], timeout: Duration) -> Vec<u8> {
    let venv = ensure_installed();
    let mut child = Command::new(venv.join("bin").join("python"))
        .arg(litellm_dir().join(script))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {script}: {e}"));
    let pid = child.id();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < timeout => thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{script} (pid {pid}) ran longer than {} s; killed",
                    timeout.as_secs()
                );
            }
            Err(e) => panic!("waiting for {script} (pid {pid}): {e}"),
        }
    };
    let _ = writer.join();
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    assert!(
        status.success(),
        "{script} failed ({status}):\n{}",
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

/// `GET /health/liveliness` answers 200 (raw HTTP/1.1, bounded by short timeouts).
fn liveliness_ok(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "GET /health/liveliness HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 64];
    let mut len = 0;
    while len < 12 {
        match stream.read(&mut head[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    head[..len].starts_with(b"HTTP/1.1 200") || head[..len].starts_with(b"HTTP/1.0 200")
}
