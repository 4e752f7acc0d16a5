//! `examples/gateway.rs` as a real process, for end-to-end tests.
//!
//! [`example_binary`] builds the example once per test process with the cargo that runs the tests
//! (`$CARGO build --example NAME --features <the test's own features> --message-format=json`, same target
//! directory, bounded) and returns the executable cargo reports, so a test never runs a stale binary and
//! never guesses paths. [`Gateway::start`] runs it on `127.0.0.1:0`, reads the address it prints, and
//! stops it by its PID ([`Gateway::stop`], also on drop). Logs: `<target dir>/gateway-logs/`.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use super::litellm::{crate_dir, target_dir};
use super::process::die_with_parent;

/// How long building an example may take (a cold build on a busy machine).
const BUILD_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How long the gateway may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

fn logs_dir() -> PathBuf {
    let dir = target_dir().join("gateway-logs");
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// The features this test binary was built with, passed on so the example links the same library build.
fn features() -> Vec<&'static str> {
    let mut features = Vec::new();
    if cfg!(feature = "openai") {
        features.push("openai");
    }
    if cfg!(feature = "yaml") {
        features.push("yaml");
    }
    features
}

/// Builds `examples/<name>.rs` (once per process) and returns its executable.
///
/// # Panics
/// If cargo fails, takes longer than 15 minutes, or reports no executable; with the build log.
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let log_path = logs_dir().join(format!("build-{name}.log"));
    let log = File::create(&log_path).expect("create the build log");
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--example",
        name,
        "--message-format=json-render-diagnostics",
    ])
    .current_dir(crate_dir())
    .env("CARGO_TARGET_DIR", target_dir())
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(log);
    let features = features();
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    let mut child = cmd.spawn().expect("run cargo build --example");
    let stdout = child.stdout.take().expect("piped stdout");
    let wanted = name.to_string();
    let reader = thread::spawn(move || {
        let mut executable = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let is_example = message["reason"] == "compiler-artifact"
                && message["target"]["name"] == wanted.as_str()
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "example"));
            if is_example && let Some(path) = message["executable"].as_str() {
                executable = Some(PathBuf::from(path));
            }
        }
        executable
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for cargo") {
            break status;
        }
        if started.elapsed() > BUILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "building example {name} took over {} s; log: {}",
                BUILD_TIMEOUT.as_secs(),
                log_path.display()
            );
        }
        thread::sleep(Duration::from_millis(100));
    };
    let executable = reader.join().expect("the cargo output reader");
    let log = fs::read_to_string(&log_path).unwrap_or_default();
    assert!(
        status.success(),
        "cargo build --example {name} failed ({status}):\n{log}"
    );
    let path = executable
        .unwrap_or_else(|| panic!("cargo reported no executable for example {name}:\n{log}"));
    built.insert(name.to_string(), path.clone());
    path
}

/// A running gateway process, stopped by its PID on [`Gateway::stop`] or drop.
pub struct Gateway {
    child: Option<Child>,
    addr: String,
    log_path: PathBuf,
}

impl Gateway {
    /// Runs `exe CONFIG 127.0.0.1:0` with `env` added, and waits (bounded) for the line
    /// `listening on http://ADDR` on its stdout.
    ///
    /// # Panics
    /// If it cannot start or prints no address within 60 s; with its log.
    pub fn start(exe: &Path, config: &Path, env: &[(&str, &str)]) -> Gateway {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let log_path = logs_dir().join(format!("gateway-{}-{n}.log", std::process::id()));
        let log = File::create(&log_path).expect("create the gateway log");
        let mut cmd = Command::new(exe);
        cmd.arg(config)
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.try_clone().expect("clone the log handle"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut log = log;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("listening on http://") {
                    let _ = tx.send(addr.trim().to_string());
                }
                let _ = writeln!(log, "{line}");
            }
        });
        let mut gateway = Gateway {
            child: Some(child),
            addr: String::new(),
            log_path,
        };
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(addr) => gateway.addr = addr,
            Err(e) => {
                gateway.stop();
                panic!(
                    "the gateway printed no address ({e}); log {}:\n{}",
                    gateway.log_path.display(),
                    fs::read_to_string(&gateway.log_path).unwrap_or_default()
                );
            }
        }
        gateway
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Its log (stderr and stdout).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGTERM by PID, up to 5 s to exit, then SIGKILL; reaps it. Idempotent.
    #[allow(unsafe_code)]
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(None) = child.try_wait() {
            // SAFETY: kill has no memory effects; the pid is our unreaped child's.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.stop();
    }
}
