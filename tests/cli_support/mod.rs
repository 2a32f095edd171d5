//! Helpers for end-to-end tests: a `snapform sandbox serve` child process on an ephemeral
//! loopback port, a temporary working directory, and plain HTTP calls to the sandbox.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_snapform"))
}

/// `snapform sandbox serve --listen 127.0.0.1:0`, killed on drop.
pub struct ServedSandbox {
    child: Child,
    pub url: String,
}

impl ServedSandbox {
    pub fn start(extra: &[&str]) -> ServedSandbox {
        let mut child = Command::new(bin())
            .args(["sandbox", "serve", "--listen", "127.0.0.1:0"])
            .args(if extra.contains(&"--snapshot-seconds") {
                &[][..]
            } else {
                &["--snapshot-seconds", "0.3"][..]
            })
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start snapform sandbox serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut reader = BufReader::new(stderr);
        let mut url = None;
        for _ in 0..20 {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(rest) = line.trim().strip_prefix("sandbox listening on ") {
                url = Some(rest.trim().to_string());
                break;
            }
        }
        // Keep draining stderr so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).unwrap_or(0) > 0 {
                sink.clear();
            }
        });
        let url = url.expect("sandbox printed its address");
        ServedSandbox { child, url }
    }

    pub fn auth_url(&self) -> String {
        format!("{}/v2.0", self.url)
    }

    /// A `provider "rackspace"` block pointing at this sandbox (user demo, region DFW).
    pub fn provider_block(&self) -> String {
        format!(
            "provider \"rackspace\" {{\n  auth_url = \"{}\"\n  username = \"demo\"\n  api_key  = \"demo\"\n  region   = \"DFW\"\n}}\n",
            self.auth_url()
        )
    }

    fn control() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    /// `PUT /sandbox/v1/faults`: sets fault knobs (latency, error rate, failing snapshots...).
    pub async fn set_faults(&self, body: Value) {
        let r = Self::control()
            .put(format!("{}/sandbox/v1/faults", self.url))
            .json(&body)
            .send()
            .await
            .expect("faults");
        assert!(r.status().is_success(), "{}", r.status());
    }

    /// `GET /sandbox/v1/requests`: counters by route and the recent request log.
    pub async fn requests(&self) -> Value {
        Self::control()
            .get(format!("{}/sandbox/v1/requests", self.url))
            .send()
            .await
            .expect("requests")
            .json()
            .await
            .expect("json")
    }

    /// `POST /sandbox/v1/clock`: moves sandbox time forward (the scheduled-images service
    /// catches up); the answer (`snapshots_created`, `images_culled`, ...).
    pub async fn advance_clock(&self, seconds: u64) -> Value {
        let r = Self::control()
            .post(format!("{}/sandbox/v1/clock", self.url))
            .json(&serde_json::json!({"advance_seconds": seconds}))
            .send()
            .await
            .expect("clock");
        assert!(r.status().is_success(), "{}", r.status());
        r.json().await.expect("json")
    }

    /// `DELETE /sandbox/v1/requests`: resets the counters and the log.
    pub async fn reset_requests(&self) {
        let _ = Self::control()
            .delete(format!("{}/sandbox/v1/requests", self.url))
            .send()
            .await;
    }
}

impl Drop for ServedSandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary working directory holding configuration.
pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Work {
        Work {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path().join(name), text).expect("write config");
    }

    /// Runs the binary in this directory (fast polling for tests).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// `run` with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(bin())
            .envs(env.iter().copied())
            .args(args)
            .current_dir(self.path())
            .env("SNAPFORM_POLL_MS", "100")
            .env("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0.3")
            .env_remove("RAX_USERNAME")
            .env_remove("RAX_API_KEY")
            .stdin(Stdio::null())
            .output()
            .expect("run snapform");
        Run::from(out)
    }

    /// The state as a reader sees it: `snapform.state.json` with the records of its
    /// write-ahead log (`.wal`, one JSON line each; a torn last line ignored) replayed, as
    /// docs/state.md describes the format. Mid-apply, the checkpoint alone is behind.
    /// The id state records for `address` (`image.golden`); panics when there is none.
    pub fn id_of(&self, address: &str) -> String {
        let state: Value = serde_json::from_str(&self.state().expect("a state")).expect("JSON");
        state["resources"][address]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no {address} in {state}"))
            .to_string()
    }

    pub fn state(&self) -> Option<String> {
        let path = self.path().join("snapform.state.json");
        let text = std::fs::read_to_string(&path).ok();
        let wal = std::fs::read(self.path().join("snapform.state.json.wal")).unwrap_or_default();
        if wal.is_empty() {
            return text;
        }
        let mut state: Value = match &text {
            Some(t) => serde_json::from_str(t).ok()?,
            None => serde_json::json!({"serial": 0, "resources": {}}),
        };
        let complete = match wal.iter().rposition(|b| *b == b'\n') {
            Some(i) => &wal[..=i],
            None => &wal[..0],
        };
        for line in complete.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let r: Value = serde_json::from_slice(line).ok()?;
            if r["serial"].as_u64() <= state["serial"].as_u64() {
                continue;
            }
            if !state["resources"].is_object() {
                state["resources"] = serde_json::json!({});
            }
            for a in r["remove"].as_array().cloned().unwrap_or_default() {
                if let Some(m) = state["resources"].as_object_mut() {
                    m.remove(a.as_str().unwrap_or_default());
                }
            }
            for rs in r["put"].as_array().cloned().unwrap_or_default() {
                let a = rs["address"].as_str().unwrap_or_default().to_string();
                state["resources"][a] = rs;
            }
            // The journal: whole in old records, else what started and what settled.
            if r["journal"].is_array() {
                state["journal"] = r["journal"].clone();
            }
            let settled: Vec<Value> = r["journal_remove"].as_array().cloned().unwrap_or_default();
            let mut journal: Vec<Value> = state["journal"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|i| !settled.contains(&i["id"]))
                .collect();
            journal.extend(r["journal_add"].as_array().cloned().unwrap_or_default());
            state["journal"] = Value::Array(journal);
            for k in ["deposed", "cursors", "outputs", "serial", "lineage"] {
                state[k] = r[k].clone();
            }
        }
        serde_json::to_string(&state).ok()
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).to_string(),
            stderr: String::from_utf8_lossy(&o.stderr).to_string(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Plain HTTP access to the sandbox as a cloud user (no snapform code involved).
pub struct Api {
    http: reqwest::Client,
    pub token: String,
    pub compute: String,
    pub base: String,
}

impl Api {
    pub async fn login(base: &str, region: &str) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let body = serde_json::json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demo", "apiKey": "demo"}}});
        let r: Value = http
            .post(format!("{base}/v2.0/tokens"))
            .json(&body)
            .send()
            .await
            .expect("auth")
            .json()
            .await
            .expect("auth json");
        let token = r["access"]["token"]["id"]
            .as_str()
            .expect("token")
            .to_string();
        let compute = r["access"]["serviceCatalog"]
            .as_array()
            .expect("catalog")
            .iter()
            .find(|s| s["name"] == "cloudServersOpenStack")
            .and_then(|s| {
                s["endpoints"]
                    .as_array()?
                    .iter()
                    .find(|e| e["region"] == region)
                    .and_then(|e| e["publicURL"].as_str())
            })
            .expect("compute endpoint")
            .to_string();
        Api {
            http,
            token,
            compute,
            base: base.to_string(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{}", self.compute, path);
        let mut req = self
            .http
            .request(method.parse().expect("method"), url)
            .header("X-Auth-Token", &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = tokio::time::timeout(Duration::from_secs(10), req.send())
            .await
            .expect("no hang")
            .expect("request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `PUT /images/{id}/metadata/{key}`, as someone changing a key behind snapform's back;
    /// asserts 200.
    pub async fn set_metadata(&self, id: &str, key: &str, value: &str) {
        let (st, body) = self
            .call(
                "PUT",
                &format!("/images/{id}/metadata/{key}"),
                Some(serde_json::json!({"meta": {key: value}})),
            )
            .await;
        assert_eq!(st, 200, "set {key} of {id}: {body}");
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    /// The id of the server named `name` (it must exist).
    pub async fn server_id(&self, name: &str) -> String {
        let (_, v) = self.get(&format!("/servers/detail?name={name}")).await;
        v["servers"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no server {name}: {v}"))
            .to_string()
    }

    /// A snapshot made by hand (a plain createImage, no snapform involved); its id.
    pub async fn snapshot_by_hand(&self, server: &str, name: &str, metadata: Value) -> String {
        let (st, v) = self
            .call(
                "POST",
                &format!("/servers/{server}/action"),
                Some(serde_json::json!({"createImage": {"name": name, "metadata": metadata}})),
            )
            .await;
        assert_eq!(st, 202, "createImage {name}: {v}");
        let (_, found) = self
            .get(&format!("/images/detail?server={server}&name={name}"))
            .await;
        found["images"]
            .as_array()
            .and_then(|a| a.iter().map(|i| i["id"].as_str()).next_back().flatten())
            .unwrap_or_else(|| panic!("no image {name}: {found}"))
            .to_string()
    }

    /// Total requests the sandbox has counted.
    pub async fn request_total(&self) -> u64 {
        let v: Value = self
            .http
            .get(format!("{}/sandbox/v1/requests", self.base))
            .send()
            .await
            .expect("requests")
            .json()
            .await
            .expect("json");
        v["total"].as_u64().expect("total")
    }
}

/// The images `path` lists (`/images/detail`, `/images/detail?server=…`) whose name starts
/// with `prefix`, as (name, the field `field`: "id", "status"), sorted; DELETED ones only when
/// `deleted`.
pub async fn images_named(
    api: &Api,
    path: &str,
    prefix: &str,
    field: &str,
    deleted: bool,
) -> Vec<(String, String)> {
    let (_, v) = api.get(path).await;
    let mut out: Vec<(String, String)> = v["images"]
        .as_array()
        .expect("an image list")
        .iter()
        .filter(|i| i["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        .filter(|i| deleted || i["status"] != "DELETED")
        .map(|i| {
            (
                i["name"].as_str().unwrap_or_default().to_string(),
                i[field].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The live (not DELETED) images whose name starts with `prefix`, as (name, id), sorted: what a
/// crash test compares with the configuration ("each image exactly once").
pub async fn live_images(api: &Api, prefix: &str) -> Vec<(String, String)> {
    images_named(api, "/images/detail", prefix, "id", false).await
}

/// A minimal state server for Terraform's http protocol, one state per path under
/// `/state/`: GET (204 when none), POST, DELETE; no auth, no locking. Returns the stored bodies
/// by path and the base URL (`http://127.0.0.1:PORT/state`).
pub async fn serve_http_states() -> (HttpStates, String) {
    use axum::body::Bytes;
    use axum::http::{Method, StatusCode, Uri};
    use axum::response::IntoResponse;
    let states: HttpStates = Default::default();
    let s = states.clone();
    let app = axum::Router::new().route(
        "/state/{name}",
        axum::routing::any(move |uri: Uri, method: Method, body: Bytes| {
            let s = s.clone();
            async move {
                let mut m = s.lock().unwrap();
                let path = uri.path().to_string();
                match method.as_str() {
                    "GET" => match m.get(&path) {
                        Some(b) => (StatusCode::OK, b.clone()).into_response(),
                        None => StatusCode::NO_CONTENT.into_response(),
                    },
                    "POST" => {
                        m.insert(path, body.to_vec());
                        StatusCode::OK.into_response()
                    }
                    "DELETE" => {
                        m.remove(&path);
                        StatusCode::OK.into_response()
                    }
                    _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/state", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (states, url)
}

/// What `serve_http_states` stores, by path.
pub type HttpStates = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>;

/// One snapshot of web-01 in the embedded sandbox, as the state tests use it: `head` first (a
/// `snapform { … }` block, variables), then `image.golden` named `name` with `inner` in its
/// body, and `output "image_id"`.
pub fn golden_config(head: &str, name: &str, inner: &str) -> String {
    format!(
        r#"{head}
provider "rackspace" {{
  sandbox = ".snapform/sandbox"
}}
data "server" "web" {{
  name = "web-01"
}}
resource "image" "golden" {{
  server_id = data.server.web.id
  name      = "{name}"
{inner}}}
output "image_id" {{
  value = image.golden.id
}}
"#
    )
}

/// (lineage, serial) of workspace `ws` as `state pull` reads it through the configured backend.
pub fn pulled(work: &Work, ws: &str, env: &[(&str, &str)]) -> (String, u64) {
    let mut env = env.to_vec();
    env.push(("SNAPFORM_WORKSPACE", ws));
    let r = work.run_env(&["state", "pull"], &env);
    assert_eq!(r.code, 0, "{ws}: {r:?}");
    let v: Value = serde_json::from_str(&r.stdout).expect("state JSON");
    (
        v["lineage"].as_str().unwrap().to_string(),
        v["serial"].as_u64().unwrap(),
    )
}

/// A plan in each of `workspaces` finds nothing to do (`-detailed-exitcode` 0).
pub fn clean_plans(work: &Work, workspaces: &[&str], env: &[(&str, &str)]) {
    for ws in workspaces {
        let mut env = env.to_vec();
        env.push(("SNAPFORM_WORKSPACE", ws));
        let r = work.run_env(&["plan", "-detailed-exitcode", "-no-color"], &env);
        assert_eq!(r.code, 0, "{ws}: {r:?}");
    }
}
