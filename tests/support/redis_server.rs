//! Real `redis-server`s for the integration tests.
//!
//! [`RedisServer::start`] installs Debian's `redis-server` package the first time it is needed and the binary is
//! missing (`apt-get install -y redis-server`, about a minute; CI runs as root), then starts
//! `redis-server --port <free port> --bind 127.0.0.1 --dir <temp dir> --save '' --appendonly no` in the foreground
//! and waits until it answers `PING`. No persistence: a restarted server starts empty, as after a crash without
//! a dump.
//!
//! Each server runs in its own process group with `PR_SET_PDEATHSIG = SIGKILL`, so a test process that dies leaves
//! no server behind; [`RedisServer::stop`] (also run on drop) stops it by PID. [`RedisServer::kill`] and
//! [`RedisServer::restart`] let a test take Redis away and bring it back on the same port.
//!
//! Environment knobs (optional): `MODELROUTE_TEST_REDIS_SERVER` (the binary; default `redis-server` on PATH, else
//! `/usr/bin/redis-server`).
//!
//! ```ignore
//! mod support;
//! use support::redis_server::RedisServer;
//!
//! let redis = RedisServer::start();
//! let client = redis::Client::open(redis.url())?;
//! ```

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use super::litellm::target_dir;
use super::process::{
    die_with_parent, free_port, has_exited, port_accepts, signal_group,
    spawn_from_long_lived_thread, tail,
};

/// How long a server may take to answer `PING`.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the one-time package install may take.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// SIGTERM grace period before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running `redis-server` on 127.0.0.1, stopped (by PID) on drop.
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    pid: u32,
}

impl RedisServer {
    /// Installs `redis-server` if needed, starts one on a free port and waits until it answers `PING`.
    pub fn start() -> RedisServer {
        let binary = ensure_installed();
        let dir = tempfile::Builder::new()
            .prefix("modelroute-redis-")
            .tempdir()
            .expect("cannot create a temp dir for redis-server");
        let mut server = RedisServer {
            binary,
            port: free_port(),
            dir,
            child: None,
            pid: 0,
        };
        server.spawn();
        server
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's PID (0 when stopped).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the server process is running.
    pub fn is_running(&self) -> bool {
        self.child.is_some() && !has_exited(self.pid)
    }

    /// SIGKILL, as a crash: clients see their connections reset.
    pub fn kill(&mut self) {
        self.terminate(libc::SIGKILL);
    }

    /// Stops it (SIGTERM, then SIGKILL after a grace period) and waits until the port refuses connections.
    pub fn stop(&mut self) {
        self.terminate(libc::SIGTERM);
    }

    /// Starts it again on the same port (empty: there is no persistence), after [`kill`](Self::kill) or
    /// [`stop`](Self::stop).
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Runs one command with `redis-cli`-like raw RESP over a fresh connection and returns the raw reply (for
    /// assertions that must not go through the client under test). Bounded by 2 s timeouts.
    pub fn raw(&self, args: &[&str]) -> String {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .expect("connect to redis-server");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        stream
            .write_all(request.as_bytes())
            .expect("write to redis-server");
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        // One reply: read until a read would block briefly (replies here are small).
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        loop {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(_) if !reply.is_empty() => break,
                Err(e) => panic!("no reply from redis-server: {e}"),
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    }

    fn spawn(&mut self) {
        let log_path = self.dir.path().join("redis.log");
        let log = File::create(&log_path).expect("create redis.log");
        let log_err = log.try_clone().expect("clone redis.log");
        let mut cmd = Command::new(&self.binary);
        cmd.args([
            "--port",
            &self.port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
        ])
        .arg(self.dir.path())
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .args(["--protected-mode", "no"])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0);
        die_with_parent(&mut cmd);
        let child = spawn_from_long_lived_thread(cmd)
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.binary.display()));
        self.pid = child.id();
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ping(self.port) {
                return;
            }
            if has_exited(self.pid) || Instant::now() > deadline {
                let why = if has_exited(self.pid) {
                    "exited"
                } else {
                    "did not answer PING in time"
                };
                let log = tail(&log_path, 30);
                self.terminate(libc::SIGKILL);
                panic!("redis-server on port {} {why}; its log:\n{log}", self.port);
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn terminate(&mut self, signal: libc::c_int) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if !has_exited(self.pid) {
            signal_group(self.pid, signal);
            let deadline = Instant::now() + STOP_GRACE;
            while !has_exited(self.pid) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
            signal_group(self.pid, libc::SIGKILL);
        }
        let _ = child.wait();
        let deadline = Instant::now() + STOP_GRACE;
        while port_accepts(self.port) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        self.pid = 0;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.terminate(libc::SIGKILL);
    }
}

/// `PING` answers `+PONG` (raw RESP, short timeouts).
fn ping(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(300)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    if stream.write_all(b"*1\r\n$4\r\nPING\r\n").is_err() {
        return false;
    }
    let mut reply = [0u8; 7];
    let mut len = 0;
    while len < reply.len() {
        match stream.read(&mut reply[len..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    &reply[..len] == b"+PONG\r\n"
}

/// The `redis-server` binary, installed from Debian's packages the first time when missing. One install per
/// machine at a time (an flock in the target dir), once per test process.
pub fn ensure_installed() -> PathBuf {
    static BINARY: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BINARY
        .get_or_init(install_once)
        .clone()
        .unwrap_or_else(|why| panic!("{why}"))
}

fn find_binary() -> Option<PathBuf> {
    if let Ok(explicit) = std::env::var("MODELROUTE_TEST_REDIS_SERVER") {
        return Some(PathBuf::from(explicit));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("redis-server"))
        .find(|candidate| candidate.is_file())
}

fn install_once() -> Result<PathBuf, String> {
    if let Some(found) = find_binary() {
        return Ok(found);
    }
    let lock_path = target_dir().join("redis-install.lock");
    let _ = std::fs::create_dir_all(target_dir());
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("cannot open {}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
    if let Some(found) = find_binary() {
        return Ok(found);
    }
    let log_path = target_dir().join("redis-install.log");
    let started = Instant::now();
    for args in [
        &["update"][..],
        &["install", "-y", "--no-install-recommends", "redis-server"][..],
    ] {
        let log = File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("redis-server is missing and apt-get cannot run: {e}"))?;
        loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                if !status.success() {
                    return Err(format!(
                        "redis-server is missing and `apt-get {}` failed ({status}); install Debian's redis-server \
                         package (or set MODELROUTE_TEST_REDIS_SERVER). Its output:\n{}",
                        args.join(" "),
                        tail(&log_path, 30)
                    ));
                }
                break;
            }
            if started.elapsed() > INSTALL_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "installing redis-server took over {} s",
                    INSTALL_TIMEOUT.as_secs()
                ));
            }
            thread::sleep(Duration::from_millis(200));
        }
    }
    find_binary()
        .ok_or_else(|| "apt-get installed redis-server but no redis-server binary was found".into())
}
