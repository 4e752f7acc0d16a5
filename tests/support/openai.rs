//! The official OpenAI Python client, as a real client no one here wrote, for end-to-end tests of
//! `examples/gateway.rs`.
//!
//! [`ensure_installed`] builds `<target dir>/openai-venv` from `tests/openai/requirements.lock` once
//! (`tests/openai/install.sh`, ~10 s; idempotent, serialized between processes by a lock file).
//! [`OpenAiClient::start`] runs `tests/openai/client.py` against a base URL: one Python process, one
//! `openai.OpenAI` client, driven a command at a time ([`OpenAiClient::ask`], bounded), stopped by its PID on
//! [`OpenAiClient::stop`] or drop.
//!
//! ```ignore
//! let mut client = OpenAiClient::start(&format!("{}/v1", gateway.url()), "sk-gateway");
//! let answer = client.ask(json!({"op": "chat", "model": "gpt-4o"}));
//! assert_eq!(answer["ok"], true, "{answer}");
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::process::die_with_parent;

use super::litellm::{crate_dir, target_dir};

/// How long the install may take, and how long another process may hold the install lock.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long one command may take (the client's own timeout is 60 s).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(90);
/// Written last by `install.sh`: the sha256 of `requirements.lock`.
const MARKER_FILE: &str = ".modelroute-lock-sha256";

/// `tests/openai`: the lock file, the install script and the client script.
pub fn openai_dir() -> PathBuf {
    crate_dir().join("tests").join("openai")
}

/// The venv the client is installed into.
pub fn venv_dir() -> PathBuf {
    target_dir().join("openai-venv")
}

/// Installs the client into [`venv_dir`] unless the marker says the current lock file is installed; returns
/// the venv. Safe when several test threads or processes call it at once.
///
/// # Panics
/// If the install fails or takes longer than 10 minutes, with the install log's last lines.
pub fn ensure_installed() -> PathBuf {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match INSTALLED.get_or_init(install_once) {
        Ok(venv) => venv.clone(),
        Err(message) => panic!("{message}"),
    }
}

fn install_once() -> Result<PathBuf, String> {
    let venv = venv_dir();
    let lock_file = openai_dir().join("requirements.lock");
    let lock_bytes =
        fs::read(&lock_file).map_err(|e| format!("cannot read {}: {e}", lock_file.display()))?;
    let want: String = Sha256::digest(&lock_bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let installed = |venv: &Path| {
        fs::read_to_string(venv.join(MARKER_FILE)).is_ok_and(|found| found.trim() == want)
            && venv.join("bin").join("python").exists()
    };
    if installed(&venv) {
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
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    let since = Instant::now();
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) if since.elapsed() < INSTALL_TIMEOUT => {
                thread::sleep(Duration::from_millis(200));
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another process held {} for {} s",
                    lock_path.display(),
                    INSTALL_TIMEOUT.as_secs()
                ));
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", lock_path.display()));
            }
        }
    }
    if installed(&venv) {
        return Ok(venv);
    }
    let log_path = target_dir().join("openai-install.log");
    let log = File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| e.to_string())?;
    let script = openai_dir().join("install.sh");
    let _ = writeln!(
        io::stderr(),
        "[modelroute tests] installing the openai Python client into {} (once; log: {})",
        venv.display(),
        log_path.display()
    );
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(&venv)
        .env("MODELROUTE_OPENAI_INSTALL_LOCK_HELD", "1")
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < INSTALL_TIMEOUT => {
                thread::sleep(Duration::from_millis(200));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "installing the openai client timed out; log: {}",
                    log_path.display()
                ));
            }
            Err(e) => return Err(format!("waiting for {}: {e}", script.display())),
        }
    };
    if !status.success() || !installed(&venv) {
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        return Err(format!(
            "installing the openai Python client failed ({status}); it needs python3 with venv and access to \
             PyPI. Log {}:\n{log}",
            log_path.display()
        ));
    }
    drop(lock);
    Ok(venv)
}

/// One `openai.OpenAI` client in a Python process, driven a command at a time (see `tests/openai/client.py`).
pub struct OpenAiClient {
    child: Option<Child>,
    stdin: Option<ChildStdin>,
    answers: mpsc::Receiver<String>,
}

impl OpenAiClient {
    /// Installs the client if needed and starts it against `base_url` (e.g. `http://127.0.0.1:PORT/v1`)
    /// with `api_key`.
    ///
    /// # Panics
    /// If the client cannot be installed or started.
    pub fn start(base_url: &str, api_key: &str) -> OpenAiClient {
        let venv = ensure_installed();
        let mut cmd = Command::new(venv.join("bin").join("python"));
        cmd.arg(openai_dir().join("client.py"))
            .arg(base_url)
            .arg(api_key)
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env_remove("PYTHONPATH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        die_with_parent(&mut cmd);
        let mut child = cmd.spawn().expect("start tests/openai/client.py");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, answers) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        OpenAiClient {
            child: Some(child),
            stdin,
            answers,
        }
    }

    /// Sends one command and waits (bounded) for its answer.
    ///
    /// # Panics
    /// If the client exits or does not answer within 90 s.
    pub fn ask(&mut self, command: Value) -> Value {
        let stdin = self.stdin.as_mut().expect("the client is running");
        writeln!(stdin, "{command}").expect("write a command to the client");
        stdin.flush().expect("flush the client's stdin");
        let line = self
            .answers
            .recv_timeout(ANSWER_TIMEOUT)
            .unwrap_or_else(|e| panic!("the openai client gave no answer to {command}: {e}"));
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not JSON from the client: {line}: {e}"))
    }

    /// Closes its stdin (it exits), waits up to 5 s, then kills it by PID; reaps it. Idempotent.
    pub fn stop(&mut self) {
        drop(self.stdin.take());
        let Some(mut child) = self.child.take() else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for OpenAiClient {
    fn drop(&mut self) {
        self.stop();
    }
}
