//! Child processes of the test suite (LiteLLM proxies, redis-server): spawned so that they die with the test
//! process, signalled by process group, and checked without being reaped.

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::{OnceLock, mpsc};
use std::thread;
use std::time::Duration;

/// Sets `PR_SET_PDEATHSIG = SIGKILL` in the child, so it dies with the thread that spawned it.
#[allow(unsafe_code)]
pub fn die_with_parent(cmd: &mut Command) {
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only calls async-signal-safe functions
    // (prctl, getppid) without allocating; an error is built from a raw errno (no allocation).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) == -1
            {
                return Err(io::Error::last_os_error());
            }
            // The parent died before prctl took effect: do not run orphaned.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits, not the process. Test threads end after
/// each test, so a server shared by several tests (e.g. in a `static`) would be killed with the first test's thread.
/// Spawning from one thread that lives as long as the process makes the signal mean "the test process died".
pub fn spawn_from_long_lived_thread(cmd: Command) -> io::Result<Child> {
    type Job = (Command, mpsc::Sender<io::Result<Child>>);
    static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, incoming) = mpsc::channel::<Job>();
        thread::Builder::new()
            .name("test-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in incoming {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("cannot start the test-spawner thread");
        jobs
    });
    let (reply, result) = mpsc::channel();
    spawner
        .send((cmd, reply))
        .map_err(|_| io::Error::other("the test-spawner thread is gone"))?;
    result
        .recv()
        .map_err(|_| io::Error::other("the test-spawner thread is gone"))?
}

/// Whether the child `pid` has exited, without reaping it (so its pid, the group id, stays reserved).
#[allow(unsafe_code)]
pub fn has_exited(pid: u32) -> bool {
    // SAFETY: siginfo_t is plain data for which all-zero bytes are valid; waitid writes only into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to our siginfo_t; WNOWAIT leaves the child waitable by Child::wait.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc == -1 {
        // ECHILD: not our child any more (already reaped), so it has exited. EINTR: ask again next time.
        return io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD);
    }
    // SAFETY: waitid filled `info`, or left it zeroed (si_pid 0: still running).
    unsafe { info.si_pid() != 0 }
}

/// Sends `signal` to the process group `pgid` (errors such as "no such group" ignored).
#[allow(unsafe_code)]
pub fn signal_group(pgid: u32, signal: libc::c_int) {
    // SAFETY: killpg has no memory effects; pgid is the group of a child we have not reaped yet.
    unsafe {
        libc::killpg(pgid as libc::pid_t, signal);
    }
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, release it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("cannot bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("local_addr of a bound listener")
        .port()
}

pub fn port_accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// The last `lines` lines of a log file (lossy UTF-8), or why it cannot be read.
pub fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
