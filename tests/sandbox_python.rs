//! The real Python clients (python-novaclient 2.27.0 + rackspace-auth-openstack +
//! rax_scheduled_images_python_novaclient_ext, and pyrax 1.10.0) driven against a spawned
//! sandbox by `tests/python/clients_against_sandbox.py`.
//!
//! The clients come from `$SNAPFORM_PYTHON` (an interpreter that already has them), or from
//! a virtualenv (`$SNAPFORM_PYTHON_VENV`, default `<target>/tmp/sandbox-pyenv`) created and
//! filled with `pip install --no-deps -r tests/python/requirements.txt` on first use. Without python3 or PyPI the test is skipped with a printed reason, unless
//! `SNAPFORM_PYTHON_CLIENTS=1` makes it mandatory; `SNAPFORM_PYTHON_CLIENTS=0` skips it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use snapform::sandbox::{self, SandboxOptions};

const INSTALL_TIMEOUT: Duration = Duration::from_secs(600);
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);
const IMPORTS: &str = "import novaclient.client, pyrax, rax_scheduled_images_python_novaclient_ext, \
                       rackspace_auth_openstack.plugin";

fn mandatory() -> bool {
    std::env::var("SNAPFORM_PYTHON_CLIENTS").is_ok_and(|v| v == "1")
}

/// Skips (prints why) or fails, depending on `SNAPFORM_PYTHON_CLIENTS`.
fn unavailable(reason: &str) {
    if mandatory() {
        panic!("python clients required (SNAPFORM_PYTHON_CLIENTS=1) but {reason}");
    }
    println!("SKIPPED sandbox_python: {reason} (set SNAPFORM_PYTHON_CLIENTS=1 to make this fatal)");
}

/// Runs a command to completion within `limit`, killing it (by its own handle) on timeout.
/// Returns (success, combined output).
fn run(cmd: &mut Command, limit: Duration) -> (bool, String) {
    let out_file = tempfile::NamedTempFile::new().expect("temp file");
    let err_file = out_file.reopen().expect("reopen");
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_file.reopen().expect("reopen")))
        .stderr(Stdio::from(err_file))
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return (false, format!("cannot start {cmd:?}: {e}")),
    };
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let output = std::fs::read_to_string(out_file.path()).unwrap_or_default();
    match status {
        Some(s) => (s.success(), output),
        None => (false, format!("{output}\n(timed out after {limit:?})")),
    }
}

fn venv_dir() -> PathBuf {
    std::env::var_os("SNAPFORM_PYTHON_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("sandbox-pyenv"))
}

/// A python with the clients importable, installing them if needed; `Err` = why not.
fn python_with_clients() -> Result<PathBuf, String> {
    // An interpreter prepared by the caller (e.g. `.ci/run`) wins when it has the clients.
    if let Some(p) = std::env::var_os("SNAPFORM_PYTHON").map(PathBuf::from)
        && run(
            Command::new(&p).args(["-c", IMPORTS]),
            Duration::from_secs(60),
        )
        .0
    {
        return Ok(p);
    }
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    if python.exists()
        && run(
            Command::new(&python).args(["-c", IMPORTS]),
            Duration::from_secs(60),
        )
        .0
    {
        return Ok(python);
    }
    let (ok, out) = run(
        Command::new("python3").arg("--version"),
        Duration::from_secs(30),
    );
    if !ok {
        return Err(format!("python3 is not available: {out}"));
    }
    if !python.exists() {
        let (ok, out) = run(
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
            Duration::from_secs(120),
        );
        if !ok {
            return Err(format!(
                "cannot create a virtualenv (python3 -m venv): {out}"
            ));
        }
    }
    let reqs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/requirements.txt");
    let (ok, out) = run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--no-input",
            ])
            .args(["--timeout", "30", "--retries", "2", "--no-deps", "-r"])
            .arg(&reqs),
        INSTALL_TIMEOUT,
    );
    if !ok {
        let tail: String = out
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        return Err(format!("pip could not install {}:\n{tail}", reqs.display()));
    }
    let (ok, out) = run(
        Command::new(&python).args(["-c", IMPORTS]),
        Duration::from_secs(60),
    );
    if !ok {
        return Err(format!(
            "the clients were installed but do not import:\n{out}"
        ));
    }
    Ok(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_clients_against_the_sandbox() {
    if std::env::var("SNAPFORM_PYTHON_CLIENTS").is_ok_and(|v| v == "0") {
        println!("SKIPPED sandbox_python: SNAPFORM_PYTHON_CLIENTS=0");
        return;
    }
    let python = match tokio::task::spawn_blocking(python_with_clients)
        .await
        .expect("join")
    {
        Ok(p) => p,
        Err(reason) => return unavailable(&reason),
    };
    let sb = sandbox::spawn(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..SandboxOptions::default()
    })
    .await
    .expect("spawn sandbox");
    let url = format!("http://{}", sb.addr());
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/clients_against_sandbox.py");
    let (ok, out) = tokio::task::spawn_blocking(move || {
        run(
            Command::new(&python)
                .arg(&script)
                .arg(&url)
                .env("PYTHONDONTWRITEBYTECODE", "1"),
            SCRIPT_TIMEOUT,
        )
    })
    .await
    .expect("join");
    sb.shutdown().await;
    println!("{out}");
    assert!(ok, "python clients failed against the sandbox:\n{out}");
    assert!(
        out.lines().any(|l| l.ends_with(" passed, 0 failed")),
        "no summary line in:\n{out}"
    );
}
