//! Starts a real OpenStack Glance (Zed, Debian's `glance-api`) for tests: runs
//! `../shared/tools/glance/run-glance.sh <tempdir> <free port>` (relative to the crate) and stops
//! that server by its PID (`stop-glance.sh`, then SIGKILL if needed) on drop. Every wait is
//! bounded. When the script, apt or the package is unavailable, `start_or_skip` prints a
//! SKIPPED reason and returns `None`; with `SNAPFORM_GLANCE_REQUIRED=1` it panics instead.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the script may take once the package is installed (its own startup wait is 60 s).
const START_BUDGET: Duration = Duration::from_secs(120);
/// Extra time for a first-time `apt-get install glance-api` (about a minute usually).
const INSTALL_BUDGET: Duration = Duration::from_secs(300);

/// A running Glance; dropping it stops the server.
pub struct Glance {
    /// `http://127.0.0.1:PORT` (the Image API is under `/v2`).
    pub url: String,
    pub pid: u32,
    tools: PathBuf,
    state: PathBuf,
    _dir: tempfile::TempDir,
}

/// `SNAPFORM_GLANCE_REQUIRED=1`: a Glance that cannot be started is a failure, not a skip.
pub fn required() -> bool {
    std::env::var("SNAPFORM_GLANCE_REQUIRED").is_ok_and(|v| v.trim() == "1")
}

pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/glance")
}

/// Starts Glance, or says why not: prints `SKIPPED <test>: <reason>` and returns `None`, or
/// panics when `SNAPFORM_GLANCE_REQUIRED=1`.
pub fn start_or_skip(test: &str, env: &[(&str, &str)]) -> Option<Glance> {
    match start(env) {
        Ok(g) => Some(g),
        Err(why) if required() => {
            panic!("{test}: SNAPFORM_GLANCE_REQUIRED=1 but no real Glance could be started: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED {test}: {why} (set SNAPFORM_GLANCE_REQUIRED=1 to make this a failure)"
            );
            None
        }
    }
}

fn package_installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", "glance-api"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs run-glance.sh on a fresh temp dir; `env` is passed to the script (e.g.
/// `GLANCE_API_LIMIT_MAX`).
pub fn start(env: &[(&str, &str)]) -> Result<Glance, String> {
    let tools = tools_dir();
    let run = tools.join("run-glance.sh");
    if !run.is_file() || !tools.join("stop-glance.sh").is_file() {
        return Err(format!("{} not found", run.display()));
    }
    let installed = package_installed();
    if !installed && !Path::new("/usr/bin/apt-get").exists() {
        return Err("Debian package glance-api is not installed and there is no apt-get".into());
    }
    let budget = if installed {
        START_BUDGET
    } else {
        START_BUDGET + INSTALL_BUDGET
    };
    let dir = tempfile::Builder::new()
        .prefix("snapform-glance-")
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    let state = dir.path().join("glance");
    let (out_path, err_path) = (dir.path().join("run.out"), dir.path().join("run.err"));
    let port = free_port()?;
    let mut cmd = Command::new("bash");
    cmd.arg(&run)
        .arg(&state)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).map_err(|e| e.to_string())?)
        .stderr(File::create(&err_path).map_err(|e| e.to_string())?);
    // Every request is admin unless the caller asks otherwise; never inherit GLANCE_AUTH.
    cmd.env("GLANCE_AUTH", "noauth");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", run.display()))?;
    let deadline = Instant::now() + budget;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                // Only the script we started, by its PID; then the server it may have left.
                let _ = child.kill();
                let _ = child.wait();
                stop(&tools, &state, None);
                return Err(format!(
                    "run-glance.sh did not finish within {} s; last output:\n{}",
                    budget.as_secs(),
                    tail(&err_path, 15)
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(200)),
            Err(e) => return Err(format!("waiting for run-glance.sh: {e}")),
        }
    };
    if !status.success() {
        stop(&tools, &state, None);
        return Err(format!(
            "run-glance.sh failed ({status}); last output:\n{}",
            tail(&err_path, 15)
        ));
    }
    let out = std::fs::read_to_string(&out_path).unwrap_or_default();
    let Some(pid) = out
        .lines()
        .last()
        .and_then(|l| l.trim().parse::<u32>().ok())
    else {
        stop(&tools, &state, None);
        return Err(format!("run-glance.sh printed no PID: {out:?}"));
    };
    Ok(Glance {
        url: format!("http://127.0.0.1:{port}"),
        pid,
        tools,
        state,
        _dir: dir,
    })
}

/// stop-glance.sh (SIGTERM, SIGKILL after 15 s, by the PID file), bounded to 30 s; then, if
/// `pid` is still a glance-api, SIGKILL it.
fn stop(tools: &Path, state: &Path, pid: Option<u32>) {
    if let Ok(mut child) = Command::new("bash")
        .arg(tools.join("stop-glance.sh"))
        .arg(state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    if let Some(pid) = pid {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains("glance-api") {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

impl Drop for Glance {
    fn drop(&mut self) {
        stop(&self.tools, &self.state, Some(self.pid));
    }
}
