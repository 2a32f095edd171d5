//! A real OpenStack (Keystone + Nova + Glance, Zed, Debian packages) on loopback for tests,
//! started with `../shared/tools/openstack/run-openstack.sh DIR` (relative to the crate), and
//! plain-HTTP access to it that involves no snapform code.
//!
//! DIR is `SNAPFORM_OPENSTACK_DIR` when set (the caller, e.g. `.ci/run`, owns that stack and
//! stops it), else a temporary directory whose stack is stopped by PID (`stop-openstack.sh`)
//! when the [`Stack`] is dropped. When the scripts or packages are missing, `start_or_skip`
//! prints a SKIPPED reason and returns `None`; with `SNAPFORM_OPENSTACK_REQUIRED=1` it panics.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `SNAPFORM_OPENSTACK_REQUIRED=1`: a stack that cannot be started is a failure, not a skip.
pub fn required() -> bool {
    std::env::var("SNAPFORM_OPENSTACK_REQUIRED").is_ok_and(|v| v.trim() == "1")
}

pub fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/openstack")
}

/// A running stack in one auth mode; dropping it stops it when this process started it.
pub struct Stack {
    pub env: BTreeMap<String, String>,
    dir: PathBuf,
    owned: Option<tempfile::TempDir>,
}

impl Stack {
    pub fn get(&self, k: &str) -> &str {
        self.env.get(k).map(String::as_str).unwrap_or("")
    }

    pub fn keystone(&self) -> bool {
        self.get("OPENSTACK_AUTH") == "keystone"
    }

    /// Switches the same DIR to another auth mode (restarts Nova and Glance; servers and
    /// images are kept).
    pub fn switch(&mut self, auth: &str) -> Result<(), String> {
        self.env = run(&self.dir, auth)?;
        Ok(())
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if self.owned.is_some() {
            let _ = Command::new("bash")
                .arg(tools_dir().join("stop-openstack.sh"))
                .arg(&self.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn installed() -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}\n", "keystone", "nova-api", "glance-api"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .matches("install ok installed")
                .count()
                == 3
        })
}

/// Starts the stack in `auth` mode (`keystone` or `none`), or says why not.
pub fn start_or_skip(test: &str, auth: &str) -> Option<Stack> {
    match start(auth) {
        Ok(s) => Some(s),
        Err(why) if required() => {
            panic!("{test}: SNAPFORM_OPENSTACK_REQUIRED=1 but no OpenStack could be started: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED {test}: {why} (set SNAPFORM_OPENSTACK_REQUIRED=1 to make this a failure)"
            );
            None
        }
    }
}

fn start(auth: &str) -> Result<Stack, String> {
    let run_sh = tools_dir().join("run-openstack.sh");
    if !run_sh.is_file() {
        return Err(format!("{} not found", run_sh.display()));
    }
    if !required() && !installed() {
        return Err("the OpenStack packages (keystone, nova-api, glance-api) are not installed; .ci/run installs them".into());
    }
    let (dir, owned) = match std::env::var("SNAPFORM_OPENSTACK_DIR") {
        Ok(d) if !d.trim().is_empty() => (PathBuf::from(d), None),
        _ => {
            let t = tempfile::tempdir().map_err(|e| e.to_string())?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let env = run(&dir, auth)?;
    Ok(Stack { env, dir, owned })
}

/// `OPENSTACK_AUTH=auth run-openstack.sh DIR` (bounded), then the env file it wrote.
fn run(dir: &Path, auth: &str) -> Result<BTreeMap<String, String>, String> {
    let started = Instant::now();
    let out = Command::new("timeout")
        .arg("900")
        .arg("bash")
        .arg(tools_dir().join("run-openstack.sh"))
        .arg(dir)
        .env("OPENSTACK_AUTH", auth)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run-openstack.sh: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(15).collect();
        return Err(format!(
            "run-openstack.sh failed ({}): {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let env_file = String::from_utf8_lossy(&out.stdout).trim().to_string();
    eprintln!(
        "openstack ({auth}) up in {:.1}s: {env_file}",
        started.elapsed().as_secs_f64()
    );
    // Values are %q-quoted by bash: let bash read them back.
    let dump = Command::new("bash")
        .arg("-c")
        .arg("set -a; source \"$1\"; for k in $(sed -n 's/^\\([A-Z_]*\\)=.*/\\1/p' \"$1\"); do printf '%s=%s\\0' \"$k\" \"${!k}\"; done")
        .arg("_")
        .arg(&env_file)
        .output()
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&dump.stdout)
        .split('\0')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Plain HTTP to the stack's Nova and Glance as the demo user (keystone) or token-less (none).
pub struct OsApi {
    http: reqwest::Client,
    token: Option<String>,
    nova: String,
    glance: String,
}

impl OsApi {
    pub async fn connect(stack: &Stack) -> OsApi {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        let token = if stack.keystone() {
            let body = json!({"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": stack.get("DEMO_USER"), "domain": {"name": "Default"},
                    "password": stack.get("DEMO_PASSWORD")}}},
                "scope": {"project": {"name": stack.get("DEMO_PROJECT"), "domain": {"name": "Default"}}}
            }});
            let r = http
                .post(format!("{}/auth/tokens", stack.get("KEYSTONE_URL")))
                .json(&body)
                .send()
                .await
                .expect("keystone");
            assert_eq!(r.status().as_u16(), 201, "keystone token");
            Some(
                r.headers()["x-subject-token"]
                    .to_str()
                    .expect("token")
                    .to_string(),
            )
        } else {
            None
        };
        OsApi {
            http,
            token,
            nova: stack.get("NOVA_URL").to_string(),
            glance: format!("{}/v2", stack.get("GLANCE_URL")),
        }
    }

    async fn call(&self, method: &str, url: String, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().expect("method"), url)
            .header("OpenStack-API-Version", "compute 2.37");
        if let Some(t) = &self.token {
            req = req.header("X-Auth-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The id of an ACTIVE server named `name`, booted from the base image when there is none.
    pub async fn server(&self, stack: &Stack, name: &str) -> String {
        let (_, v) = self
            .call("GET", format!("{}/servers?name=^{name}$", self.nova), None)
            .await;
        let id = match v["servers"].as_array().and_then(|s| s.first()) {
            Some(s) => s["id"].as_str().expect("id").to_string(),
            None => {
                let body = json!({"server": {"name": name, "imageRef": stack.get("BASE_IMAGE_ID"),
                    "flavorRef": stack.get("FLAVOR_ID"), "networks": "none"}});
                let (st, v) = self
                    .call("POST", format!("{}/servers", self.nova), Some(body))
                    .await;
                assert_eq!(st, 202, "boot {name}: {v}");
                v["server"]["id"].as_str().expect("id").to_string()
            }
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (_, v) = self
                .call("GET", format!("{}/servers/{id}", self.nova), None)
                .await;
            match v["server"]["status"].as_str() {
                Some("ACTIVE") => return id,
                Some("ERROR") => panic!("server {name} is in ERROR: {v}"),
                _ if Instant::now() > deadline => panic!("server {name} not ACTIVE: {v}"),
                _ => tokio::time::sleep(Duration::from_millis(500)).await,
            }
        }
    }

    /// Glance's images made from `server`.
    pub async fn images_of(&self, server: &str) -> Vec<Value> {
        glance_images_of(&self.http, &self.glance, self.token.as_deref(), server).await
    }

    pub async fn delete_image(&self, id: &str) -> u16 {
        self.call("DELETE", format!("{}/images/{id}", self.glance), None)
            .await
            .0
    }
}

/// `GET {glance}/images?instance_uuid=server` (both the real Glance and the sandbox's).
pub async fn glance_images_of(
    http: &reqwest::Client,
    glance_v2: &str,
    token: Option<&str>,
    server: &str,
) -> Vec<Value> {
    let mut req = http.get(format!(
        "{glance_v2}/images?instance_uuid={server}&limit=1000"
    ));
    if let Some(t) = token {
        req = req.header("X-Auth-Token", t);
    }
    let v: Value = req
        .send()
        .await
        .expect("glance list")
        .json()
        .await
        .expect("glance json");
    v["images"].as_array().cloned().unwrap_or_default()
}
