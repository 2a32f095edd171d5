//! The binary against a scripted cloud that behaves like Rackspace's own API mock rather than
//! like our sandbox: createImage answers `Location: www.someurl.com` (no image URL), list
//! filters and paging are ignored (every page is the whole list, with a next link), the brief
//! image list fails after a snapshot, and DELETE is refused with 405.
//!
//! Apply must record the right id, a second plan must be clean, and destroy must fail naming
//! the 405 and keep the resource in state (nothing orphaned, nothing duplicated).

mod cli_support;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cli_support::Work;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SERVER: &str = "5a1c0f4e-3a55-4d9b-9a6e-2f9b1d2c3e4f";
const BASE: &str = "0b9a7c5e-1f2d-4c3b-8a6e-7d5c4b3a2f10";

struct Img {
    id: String,
    name: String,
    server: Option<String>,
    created: chrono::DateTime<chrono::Utc>,
    ready: Instant,
}

#[derive(Default)]
struct Mock {
    base: Mutex<String>,
    images: Mutex<Vec<Img>>,
    snapshotted: Mutex<bool>,
    log: Mutex<Vec<String>>,
}

type S = State<Arc<Mock>>;

fn fmt(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn image_json(i: &Img) -> Value {
    let active = Instant::now() >= i.ready;
    let mut v = json!({
        "id": i.id, "name": i.name,
        "status": if active { "ACTIVE" } else { "SAVING" },
        "progress": if active { 100 } else { 50 },
        "minDisk": 20, "minRam": 512,
        "created": fmt(i.created), "updated": fmt(i.created),
        "metadata": {},
        "links": [],
    });
    if let Some(s) = &i.server {
        v["server"] = json!({"id": s});
        v["metadata"] = json!({"image_type": "snapshot", "instance_uuid": s});
    }
    v
}

fn server_json() -> Value {
    json!({"id": SERVER, "name": "web", "status": "ACTIVE", "image": {"id": BASE}})
}

async fn tokens(State(m): S) -> Response {
    let base = m.base.lock().unwrap().clone();
    let expires = fmt(chrono::Utc::now() + chrono::Duration::hours(12));
    axum::Json(json!({"access": {
        "token": {"id": "tok", "expires": expires, "tenant": {"id": "123", "name": "123"}},
        "serviceCatalog": [{"name": "cloudServersOpenStack", "type": "compute",
            "endpoints": [{"region": "DFW", "tenantId": "123", "publicURL": format!("{base}/v2/123")}]}],
        "user": {"id": "u", "name": "demo"}
    }}))
    .into_response()
}

/// Ignores every filter and the paging: the whole list, and a next link back to itself.
async fn images_detail(State(m): S) -> Response {
    m.log.lock().unwrap().push("GET /images/detail".into());
    let base = m.base.lock().unwrap().clone();
    let images = m.images.lock().unwrap();
    let list: Vec<Value> = images.iter().map(image_json).collect();
    axum::Json(json!({"images": list, "images_links": [
        {"rel": "next", "href": format!("{base}/v2/123/images/detail?limit=1000&marker=whatever")}
    ]}))
    .into_response()
}

async fn images_brief(State(m): S) -> Response {
    m.log.lock().unwrap().push("GET /images".into());
    if *m.snapshotted.lock().unwrap() {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(json!({"computeFault": {"code": 500, "message": "brief list broke"}})),
        )
            .into_response();
    }
    let images = m.images.lock().unwrap();
    let list: Vec<Value> = images
        .iter()
        .map(|i| json!({"id": i.id, "name": i.name}))
        .collect();
    axum::Json(json!({"images": list})).into_response()
}

async fn image_one(State(m): S, Path(id): Path<String>) -> Response {
    m.log.lock().unwrap().push(format!("GET /images/{id}"));
    let images = m.images.lock().unwrap();
    match images.iter().find(|i| i.id == id) {
        Some(i) => axum::Json(json!({"image": image_json(i)})).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"itemNotFound": {"code": 404, "message": "Image not found."}})),
        )
            .into_response(),
    }
}

async fn image_delete(State(m): S, Path(id): Path<String>) -> Response {
    m.log.lock().unwrap().push(format!("DELETE /images/{id}"));
    (
        StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(json!({"badMethod": {"code": 405, "message": "The server could not comply with the request since it is either malformed or otherwise incorrect."}})),
    )
        .into_response()
}

async fn servers_detail() -> Response {
    axum::Json(json!({"servers": [server_json()]})).into_response()
}

async fn server_one(Path(id): Path<String>) -> Response {
    if id == SERVER {
        axum::Json(json!({"server": server_json()})).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({"itemNotFound": {"code": 404, "message": "Instance could not be found"}}),
            ),
        )
            .into_response()
    }
}

async fn action(State(m): S, Path(id): Path<String>, body: axum::body::Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let name = v["createImage"]["name"].as_str().unwrap_or("").to_string();
    m.log.lock().unwrap().push(format!("createImage {name}"));
    m.images.lock().unwrap().push(Img {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        server: Some(id),
        created: chrono::Utc::now(),
        ready: Instant::now() + Duration::from_millis(400),
    });
    *m.snapshotted.lock().unwrap() = true;
    let mut h = HeaderMap::new();
    h.insert(header::LOCATION, "www.someurl.com".parse().unwrap());
    (StatusCode::ACCEPTED, h).into_response()
}

/// Starts the mock on a thread of its own; returns its base URL and its state.
fn start() -> (String, Arc<Mock>) {
    let mock = Arc::new(Mock::default());
    mock.images.lock().unwrap().push(Img {
        id: BASE.into(),
        name: "Ubuntu Base".into(),
        server: None,
        created: chrono::Utc::now() - chrono::Duration::days(30),
        ready: Instant::now(),
    });
    let m = mock.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            *m.base.lock().unwrap() = base.clone();
            let app = Router::new()
                .route("/v2.0/tokens", post(tokens))
                .route("/v2/123/images/detail", get(images_detail))
                .route("/v2/123/images", get(images_brief))
                .route("/v2/123/images/{id}", get(image_one).delete(image_delete))
                .route("/v2/123/servers/detail", get(servers_detail))
                .route("/v2/123/servers/{id}", get(server_one))
                .route("/v2/123/servers/{id}/action", post(action))
                .with_state(m);
            tx.send(base).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    let base = rx.recv_timeout(Duration::from_secs(10)).expect("mock up");
    (base, mock)
}

fn state_id(work: &Work) -> Option<String> {
    let s: Value = serde_json::from_str(&work.state()?).ok()?;
    let res = &s["resources"];
    let rs = res
        .as_array()
        .and_then(|a| a.iter().find(|r| r["address"] == "image.snap").cloned())
        .or_else(|| res.get("image.snap").cloned())?;
    rs["id"].as_str().map(str::to_string)
}

#[test]
fn a_cloud_that_names_no_image_ignores_filters_and_refuses_delete() {
    let (base, mock) = start();
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"
provider "rackspace" {{
  auth_url = "{base}/v2.0"
  username = "demo"
  api_key  = "demo"
  region   = "DFW"
}}
data "server" "web" {{
  name = "web"
}}
resource "image" "snap" {{
  server_id = data.server.web.id
  name      = "nightly"
}}
"#
        ),
    );
    let r = work.run(&["apply", "--auto-approve", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let made: Vec<String> = mock
        .images
        .lock()
        .unwrap()
        .iter()
        .filter(|i| i.name == "nightly")
        .map(|i| i.id.clone())
        .collect();
    assert_eq!(made.len(), 1, "exactly one snapshot: {made:?}");
    assert_eq!(
        state_id(&work).as_deref(),
        Some(made[0].as_str()),
        "the right id"
    );

    let r = work.run(&["plan", "--detailed-exitcode", "--no-color"]);
    assert_eq!(r.code, 0, "a second plan is clean: {r:?}");

    let r = work.run(&["destroy", "--auto-approve", "--no-color"]);
    assert_ne!(r.code, 0, "{r:?}");
    let all = format!("{}{}", r.stdout, r.stderr);
    eprintln!("{all}");
    assert!(
        all.contains("delete image") && all.contains("HTTP 405"),
        "names the operation and the 405: {r:?}"
    );
    assert_eq!(
        state_id(&work).as_deref(),
        Some(made[0].as_str()),
        "kept in state"
    );
    let r = work.run(&["plan", "--detailed-exitcode", "--no-color"]);
    assert_eq!(r.code, 0, "still managed, nothing to create: {r:?}");
    let creates = mock
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.starts_with("createImage"))
        .count();
    assert_eq!(creates, 1, "{:?}", mock.log.lock().unwrap());
}
