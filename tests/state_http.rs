//! The `http` state backend against a real HTTP state server (axum, in this test) that speaks
//! the protocol of Terraform's http backend: GET/POST/DELETE on the state address, LOCK/UNLOCK
//! with a JSON lock-info body, 423 with the holder's lock info on conflict, basic auth.

mod cli_support;

use axum::body::Bytes;
use axum::extract::{Query, State as Ext};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use cli_support::Work;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "hunter2-http-pass";

#[derive(Default)]
struct Server {
    /// The stored state by path (one per workspace address).
    states: HashMap<String, Bytes>,
    lock: Option<Value>,
    /// "METHOD ?query" per request, in order.
    log: Vec<String>,
    /// The path of each request, in order.
    paths: Vec<String>,
}

type Shared = Arc<Mutex<Server>>;

async fn handle(
    Ext(srv): Ext<Shared>,
    uri: axum::http::Uri,
    method: Method,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let want = format!("Basic {}", base64_basic(&format!("ci:{PASSWORD}")));
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return (StatusCode::UNAUTHORIZED, "bad credentials").into_response();
    }
    let mut s = srv.lock().unwrap();
    let id = q.get("ID").cloned().unwrap_or_default();
    s.log.push(format!("{method} {id}"));
    let path = uri.path().to_string();
    s.paths.push(path.clone());
    let held = s
        .lock
        .as_ref()
        .map(|l| l["ID"].as_str().unwrap_or("").to_string());
    match method.as_str() {
        "GET" => match s.states.get(&path) {
            Some(b) => (StatusCode::OK, b.clone()).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        "POST" => {
            if held.is_some() && held.as_deref() != Some(id.as_str()) {
                return (StatusCode::LOCKED, s.lock.clone().unwrap().to_string()).into_response();
            }
            if serde_json::from_slice::<Value>(&body).is_err() {
                return (StatusCode::BAD_REQUEST, "not JSON").into_response();
            }
            s.states.insert(path, body);
            StatusCode::OK.into_response()
        }
        "DELETE" => {
            s.states.remove(&path);
            StatusCode::OK.into_response()
        }
        "LOCK" => {
            if let Some(l) = &s.lock {
                return (StatusCode::LOCKED, l.to_string()).into_response();
            }
            let info: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if info["ID"].as_str().unwrap_or("").is_empty() {
                return (StatusCode::BAD_REQUEST, "lock info without ID").into_response();
            }
            s.lock = Some(info);
            StatusCode::OK.into_response()
        }
        "UNLOCK" => {
            let info: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            match &held {
                Some(h) if info["ID"].as_str() != Some(h) => {
                    (StatusCode::CONFLICT, s.lock.clone().unwrap().to_string()).into_response()
                }
                _ => {
                    s.lock = None;
                    StatusCode::OK.into_response()
                }
            }
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

/// Basic-auth encoding, written out so the test shares nothing with the code under test.
fn base64_basic(s: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn serve() -> (Shared, String) {
    let srv: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/state/{name}", axum::routing::any(handle))
        .with_state(srv.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/state/x", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (srv, url)
}

fn config(url: &str, password: &str, image: &str) -> String {
    let head = format!(
        "\nsnapform {{\n  backend \"http\" {{\n    address        = \"{url}\"\n    lock_address   = \"{url}\"\n    unlock_address = \"{url}\"\n    username       = \"ci\"\n    password       = \"{password}\"\n  }}\n}}"
    );
    cli_support::golden_config(&head, image, "")
}

fn stored(srv: &Shared) -> Value {
    let s = srv.lock().unwrap();
    serde_json::from_slice(s.states.get("/state/x").expect("a stored state")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_keeps_state_on_an_http_state_server_and_respects_its_lock() {
    let (srv, url) = serve().await;
    let work = Work::new();
    work.write("main.snap.hcl", &config(&url, PASSWORD, "golden-http"));

    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        work.state().is_none(),
        "no local state file with backend http"
    );
    let st = stored(&srv);
    assert!(st["resources"]["image.golden"]["id"].is_string(), "{st}");
    let serial = st["serial"].as_u64().unwrap();
    {
        let s = srv.lock().unwrap();
        assert!(s.lock.is_none(), "the lock is released after the run");
        assert_eq!(
            s.log.first().map(String::as_str),
            Some("LOCK "),
            "{:?}",
            s.log
        );
        assert!(
            s.log.iter().any(|l| l.starts_with("POST ") && l.len() > 10),
            "POST carries ?ID=: {:?}",
            s.log
        );
        assert!(s.log.last().unwrap().starts_with("UNLOCK"), "{:?}", s.log);
    }

    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "a second plan has no changes: {r:?}");
    let out = work.run(&["output", "-raw", "image_id"]);
    assert_eq!(
        out.stdout.trim(),
        st["resources"]["image.golden"]["id"].as_str().unwrap(),
        "{out:?}"
    );

    // Someone else holds the lock: refused with who holds it.
    srv.lock().unwrap().lock = Some(json!({
        "ID": "lock-7", "Operation": "OperationTypeApply", "Who": "alice@ci-runner",
        "Version": "1.6.0", "Created": "2026-01-01T00:00:00Z", "Info": "", "Path": ""
    }));
    let r = work.run(&["apply", "--auto-approve", "--lock-timeout", "1s"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("locked"), "{r:?}");
    assert!(
        r.stderr.contains("alice@ci-runner") && r.stderr.contains("lock-7"),
        "{r:?}"
    );
    // The holder died: force-unlock with its id releases it on the server.
    let r = work.run(&["force-unlock"]);
    assert_eq!(r.code, 1, "the id is required: {r:?}");
    let r = work.run(&["force-unlock", "lock-7"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(srv.lock().unwrap().lock.is_none(), "released");

    // A change bumps the serial and keeps the lineage.
    work.write("main.snap.hcl", &config(&url, PASSWORD, "golden-http-2"));
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let st2 = stored(&srv);
    assert!(st2["serial"].as_u64().unwrap() > serial, "{st2}");
    assert_eq!(st2["lineage"], st["lineage"]);

    // A run that fails while holding the lock (corrupt state) still releases it.
    let good = srv
        .lock()
        .unwrap()
        .states
        .insert("/state/x".into(), Bytes::from_static(b"{not json"));
    let r = work.run(&["plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not valid"), "{r:?}");
    assert!(
        srv.lock().unwrap().lock.is_none(),
        "released on the error path"
    );
    srv.lock()
        .unwrap()
        .states
        .insert("/state/x".into(), good.expect("a state"));

    // Wrong credentials: the status is reported, the password never is.
    work.write(
        "main.snap.hcl",
        &config(&url, "wrong-pass", "golden-http-2"),
    );
    let r = work.run(&["plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("401"), "{r:?}");
    assert!(!r.stderr.contains("wrong-pass"), "{r:?}");

    // The password may come from the environment instead of the configuration.
    let cfg = config(&url, PASSWORD, "golden-http-2")
        .replace(&format!("    password       = \"{PASSWORD}\"\n"), "");
    work.write("main.snap.hcl", &cfg);
    let r = work.run_env(
        &["plan", "--detailed-exitcode"],
        &[("SNAPFORM_HTTP_PASSWORD", PASSWORD)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    for r in [&r, &out] {
        assert!(
            !r.stderr.contains(PASSWORD) && !r.stdout.contains(PASSWORD),
            "{r:?}"
        );
    }
}

/// The http protocol has only whole-state writes, so an apply's changes are coalesced: a change
/// that starts no intent (an object recorded) waits for the next write that starts one, or for
/// the end. Six images, one after another on one server, so six intents: coalesced, a POST per
/// intent plus the first and the last; with the window at 0 (every change written at once),
/// one per intent and one per record as well.
#[tokio::test(flavor = "multi_thread")]
async fn apply_coalesces_writes_to_an_http_state_server() {
    async fn posts(window: &str) -> usize {
        let (srv, url) = serve().await;
        let work = Work::new();
        let cfg = config(&url, PASSWORD, "coalesced")
            .replace(
                "resource \"image\" \"golden\" {\n",
                "resource \"image\" \"golden\" {\n  count = 6\n",
            )
            .replace("\"coalesced\"", "\"coalesced-${count.index}\"")
            .replace("image.golden.id", "image.golden[0].id");
        work.write("main.snap.hcl", &cfg);
        let env = [
            ("SNAPFORM_HTTP_COALESCE_MS", window),
            ("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0"),
        ];
        let r = work.run_env(&["apply", "--auto-approve"], &env);
        assert_eq!(r.code, 0, "{r:?}");
        let st = stored(&srv);
        let images = st["resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["kind"] == "image")
            .count();
        assert_eq!(images, 6, "{st}");
        assert_eq!(st["journal"].as_array().map_or(0, Vec::len), 0, "{st}");
        let r = work.run_env(&["plan", "--detailed-exitcode"], &env);
        assert_eq!(r.code, 0, "a clean second plan: {r:?}");
        let log = &srv.lock().unwrap().log;
        log.iter()
            .take_while(|l| !l.starts_with("UNLOCK"))
            .filter(|l| l.starts_with("POST"))
            .count()
    }
    let (coalesced, each) = (posts("600000").await, posts("0").await);
    assert!(coalesced <= 6 + 2, "coalesced: {coalesced} POSTs");
    assert!(each >= 2 * 6, "uncoalesced: {each} POSTs");
}

/// Coalescing never costs safety: an apply through the http backend killed (SIGKILL) at
/// uneven moments, with records waiting to be sent, and one more apply converges — each image
/// exactly once in the cloud and in the stored state, the journal empty. The sandbox is a
/// separate process that outlives the killed runs; no lock, since a killed run's lock stays on
/// the server.
#[tokio::test(flavor = "multi_thread")]
async fn sigkill_with_coalesced_http_writes_loses_nothing() {
    use cli_support::{Api, ServedSandbox};
    let sb = ServedSandbox::start(&[
        "--snapshot-seconds",
        "0.4",
        "--reply-latency-ms",
        "30",
        "--servers",
        "6",
    ]);
    let (srv, url) = serve().await;
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"snapform {{
  backend "http" {{
    address  = "{url}"
    username = "ci"
    password = "{PASSWORD}"
  }}
}}
{}
locals {{
  images = {{ for i in range(12) : format("hk-%02d", i) => format("srv-%05d", i % 6 + 1) }}
}}
data "server" "s" {{
  for_each = toset(values(local.images))
  name     = each.value
}}
resource "image" "i" {{
  for_each  = local.images
  server_id = data.server.s[each.value].id
  name      = each.key
}}
"#,
            sb.provider_block()
        ),
    );
    for delay in [500u64, 1300, 800, 1900] {
        let mut child = std::process::Command::new(cli_support::bin())
            .args(["apply", "--auto-approve", "--parallelism", "10"])
            .current_dir(work.path())
            .env("SNAPFORM_POLL_MS", "100")
            .env("SNAPFORM_HTTP_COALESCE_MS", "600000")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn apply");
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        let _ = child.kill();
        let _ = child.wait();
    }
    let r = work.run(&["apply", "--auto-approve", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let api = Api::login(&sb.url, "DFW").await;
    let cloud = cli_support::live_images(&api, "hk-").await;
    let names: Vec<&str> = cloud.iter().map(|(n, _)| n.as_str()).collect();
    let want: Vec<String> = (0..12).map(|i| format!("hk-{i:02}")).collect();
    assert_eq!(names, want, "each image exactly once");
    let st = stored(&srv);
    for (name, id) in &cloud {
        let addr = format!("image.i[\"{name}\"]");
        assert_eq!(st["resources"][&addr]["id"], id.as_str(), "{addr}");
    }
    assert_eq!(st["journal"].as_array().map_or(0, Vec::len), 0, "{st}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Workspaces over the http protocol: `{workspace}` in the addresses gives each its own state
/// (here `/state/ws-default` and `/state/ws-staging`); without it, a workspace other than
/// default is refused with what to write.
#[tokio::test(flavor = "multi_thread")]
async fn workspaces_need_the_placeholder_and_keep_separate_states() {
    let (srv, url) = serve().await;
    let base = url.trim_end_matches("/x");
    let templ = format!("{base}/ws-{{workspace}}");
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &config(&templ, PASSWORD, "golden-${snapform.workspace}"),
    );
    let env = [("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0")];
    let r = work.run_env(&["apply", "-auto-approve"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run_env(&["workspace", "new", "staging"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run_env(&["apply", "-auto-approve"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run_env(&["workspace", "list"], &env);
    assert!(r.stdout.contains("* staging"), "{r:?}");
    let paths: Vec<String> = srv.lock().unwrap().paths.clone();
    assert!(paths.iter().any(|p| p == "/state/ws-default"), "{paths:?}");
    assert!(paths.iter().any(|p| p == "/state/ws-staging"), "{paths:?}");
    let names: Vec<String> = {
        let s = srv.lock().unwrap();
        let mut v: Vec<String> = s
            .states
            .values()
            .map(|b| {
                let st: Value = serde_json::from_slice(b).unwrap();
                st["resources"]["image.golden"]["attributes"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(names, ["golden-default", "golden-staging"]);

    // Without the placeholder there is one state: another workspace is refused.
    let other = Work::new();
    other.write("main.snap.hcl", &config(&url, PASSWORD, "plain"));
    let r = other.run_env(&["workspace", "new", "staging"], &env);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("{workspace}"), "{r:?}");
}
