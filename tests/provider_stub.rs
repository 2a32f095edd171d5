//! Wire-level behaviour the sandbox cannot provoke, checked against a tiny scripted cloud on
//! 127.0.0.1: 401 re-authentication, 429 without Retry-After, HTML and 203 answers, timeouts
//! on GETs, Location-less createImage, next links followed exactly, Glance `next` resolution.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};
use snapform::provider::{Client, ClientOptions, ImageQuery, ProviderError, Secret, Tuning};

#[derive(Default)]
struct Stub {
    base: String,
    auths: AtomicU32,
    hits: Mutex<BTreeMap<String, u32>>,
    seen: Mutex<Vec<String>>,
}

impl Stub {
    /// Counts calls per key and returns the new count.
    fn hit(&self, key: &str) -> u32 {
        let mut hits = self.hits.lock().unwrap();
        let n = hits.entry(key.to_owned()).or_insert(0);
        *n += 1;
        *n
    }
    fn saw(&self, what: String) {
        self.seen.lock().unwrap().push(what);
    }
}

type S = State<Arc<Stub>>;

fn image(id: &str) -> Value {
    json!({"id": id, "name": format!("img-{id}"), "status": "ACTIVE", "progress": 100,
           "metadata": {}, "minDisk": 0, "minRam": 0, "created": "2015-07-09T16:12:57Z",
           "updated": "2015-07-09T16:12:57Z"})
}

fn token(headers: &HeaderMap) -> String {
    headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

async fn tokens(State(s): S) -> Response {
    let n = s.auths.fetch_add(1, Ordering::SeqCst) + 1;
    let b = &s.base;
    axum::Json(json!({"access": {"token": {"id": format!("tok-{n}"), "expires": "2099-01-01T00:00:00.000Z"},
        "serviceCatalog": [
            {"name": "cloudServersOpenStack", "type": "compute", "endpoints": [
                {"region": "DFW", "publicURL": format!("{b}/v2/1"), "versionId": "2"}]},
            {"name": "cloudImages", "type": "image", "endpoints": [
                {"region": "DFW", "publicURL": format!("{b}/images/v2")}]}]}}))
    .into_response()
}

async fn servers_detail(State(s): S, headers: HeaderMap) -> Response {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    s.saw(format!("ua={ua}"));
    if token(&headers) == "tok-1" {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"unauthorized": {"code": 401, "message": "Token expired"}})),
        )
            .into_response();
    }
    axum::Json(json!({"servers": []})).into_response()
}

async fn server_show(State(s): S, Path(id): Path<String>) -> Response {
    s.hit(&id);
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"unauthorized": {"code": 401, "message": "Not for you"}})),
    )
        .into_response()
}

async fn images_detail(State(s): S, RawQuery(q): RawQuery) -> Response {
    let q = q.unwrap_or_default();
    s.saw(format!("images?{q}"));
    if q.contains("marker=b") {
        // "b" again: it moved across the page boundary; the client keeps one copy.
        return axum::Json(json!({"images": [image("b"), image("c")]})).into_response();
    }
    let next = format!("{}/v2/1/images/detail?limit=2&marker=b&odd=%2F", s.base);
    axum::Json(json!({"images": [image("a"), image("b")], "images_links": [{"rel": "next", "href": next}]}))
        .into_response()
}

async fn image_show(State(s): S, Path(id): Path<String>) -> Response {
    let n = s.hit(&id);
    let ok = || axum::Json(json!({"image": image(&id)})).into_response();
    match id.as_str() {
        "html" => (StatusCode::INTERNAL_SERVER_ERROR, [(header::CONTENT_TYPE, "text/html")],
            "<html><head><title>500</title></head><body><h1>Oops</h1>upstream broke</body></html>").into_response(),
        "r429" if n == 1 => (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response(),
        "quota" => (StatusCode::PAYLOAD_TOO_LARGE, [(header::RETRY_AFTER, "0")],
            axum::Json(json!({"overLimit": {"code": 413, "message": "Image metadata limit exceeded", "retryAfter": "0"}}))).into_response(),
        "slow" if n == 1 => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            ok()
        }
        "text203" => (StatusCode::NON_AUTHORITATIVE_INFORMATION, axum::Json(json!({"image": image(&id)}))).into_response(),
        _ => ok(),
    }
}

async fn server_action(
    State(s): S,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    s.saw(format!(
        "action ct={:?} body={body}",
        headers.get(header::CONTENT_TYPE)
    ));
    if id == "body" {
        return (
            StatusCode::ACCEPTED,
            axum::Json(json!({"image_id": "from-body"})),
        )
            .into_response();
    }
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("{}/v2/1/images/new-id", s.base))],
        "",
    )
        .into_response()
}

async fn glance_list(State(s): S, RawQuery(q): RawQuery) -> Response {
    let q = q.unwrap_or_default();
    s.saw(format!("glance?{q}"));
    let entity = |id: &str| json!({"id": id, "name": id, "status": "active", "protected": false, "self": format!("/images/v2/images/{id}")});
    if q.contains("marker=g1") {
        return axum::Json(json!({"images": [entity("g2")], "first": "/images/v2/images?limit=1"}))
            .into_response();
    }
    axum::Json(json!({"images": [entity("g1")], "next": "/images/v2/images?limit=1&marker=g1"}))
        .into_response()
}

async fn glance_patch(Path(id): Path<String>, headers: HeaderMap, body: String) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct != "application/openstack-images-v2.1-json-patch" {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "wrong media type").into_response();
    }
    let ops: Value = serde_json::from_str(&body).unwrap();
    let name = ops[0]["value"].as_str().unwrap_or("").to_owned();
    axum::Json(json!({"id": id, "name": name, "status": "active", "protected": true, "tags": []}))
        .into_response()
}

async fn start() -> (Arc<Stub>, ClientOptions) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stub = Arc::new(Stub {
        base: base.clone(),
        ..Stub::default()
    });
    let app = Router::new()
        .route("/v2.0/tokens", post(tokens))
        .route("/v2/1/servers/detail", get(servers_detail))
        .route("/v2/1/servers/{id}", get(server_show))
        .route("/v2/1/servers/{id}/action", post(server_action))
        .route("/v2/1/images/detail", get(images_detail))
        .route("/v2/1/images/{id}", get(image_show))
        .route("/images/v2/images", get(glance_list))
        .route("/images/v2/images/{id}", patch(glance_patch))
        .with_state(stub.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let opts = ClientOptions {
        max_retries: 3,
        timeout: Duration::from_secs(5),
        ..ClientOptions::rackspace(&format!("{base}/v2.0"), "u", "k", "DFW")
    };
    (stub, opts)
}

fn tuning() -> Tuning {
    Tuning {
        page_size: 2,
        max_retry_wait: Duration::from_millis(100),
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn a_401_reauthenticates_once_and_resends_once() {
    let (stub, opts) = start().await;
    let c = Client::connect_with(opts, tuning()).await.unwrap();
    assert_eq!(c.list_servers().await.unwrap().len(), 0);
    assert_eq!(stub.auths.load(Ordering::SeqCst), 2);
    assert_eq!(c.request_count(), 4, "auth, 401, re-auth, resend");
    assert!(
        stub.seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.starts_with("ua=snapform/"))
    );

    // A call that keeps answering 401: one re-auth, one resend, then the error.
    let err = c.get_server("x").await.unwrap_err();
    assert_eq!(stub.hits.lock().unwrap()["x"], 2);
    assert_eq!(stub.auths.load(Ordering::SeqCst), 3);
    assert_eq!(err.to_string(), "get server x: HTTP 401: Not for you");
}

#[tokio::test]
async fn odd_answers_are_handled() {
    let (stub, mut opts) = start().await;
    opts.timeout = Duration::from_millis(500);
    let c = Client::connect_with(opts, tuning()).await.unwrap();

    let err = c.get_image("html").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "get image html: HTTP 500: Internal Server Error: Oops upstream broke"
    );
    assert_eq!(stub.hits.lock().unwrap()["html"], 1, "500 is not retried");

    assert!(
        c.get_image("r429").await.unwrap().is_some(),
        "429 without Retry-After is retried"
    );
    assert_eq!(stub.hits.lock().unwrap()["r429"], 2);

    let err = c.get_image("quota").await.unwrap_err();
    assert!(
        matches!(
            err,
            ProviderError::Api {
                status: 413,
                retry_after: Some(0),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        stub.hits.lock().unwrap()["quota"],
        1,
        "quota 413 is not retried"
    );

    assert!(
        c.get_image("slow").await.unwrap().is_some(),
        "a timed-out GET is retried"
    );
    assert_eq!(stub.hits.lock().unwrap()["slow"], 2);

    assert_eq!(c.get_image("text203").await.unwrap().unwrap().id, "text203");
}

#[tokio::test]
async fn create_image_reads_location_or_body() {
    let (stub, opts) = start().await;
    let c = Client::connect_with(opts, tuning()).await.unwrap();
    let meta: BTreeMap<String, String> = [("k".to_owned(), "v".to_owned())].into();
    assert_eq!(
        c.create_image("srv", "gold", &meta)
            .await
            .unwrap()
            .as_deref(),
        Some("new-id")
    );
    assert_eq!(
        c.create_image("body", "gold", &BTreeMap::new())
            .await
            .unwrap()
            .as_deref(),
        Some("from-body")
    );
    let seen = stub.seen.lock().unwrap();
    let action = seen.iter().find(|s| s.starts_with("action")).unwrap();
    assert!(action.contains("application/json"), "{action}");
    assert!(
        action.contains(r#"{"createImage":{"metadata":{"k":"v"},"name":"gold"}}"#)
            || action.contains(r#"{"createImage":{"name":"gold","metadata":{"k":"v"}}}"#),
        "{action}"
    );
}

#[tokio::test]
async fn pagination_links_are_followed_as_given() {
    let (stub, opts) = start().await;
    let c = Client::connect_with(opts, tuning()).await.unwrap();
    let images = c.list_images(&ImageQuery::default()).await.unwrap();
    let ids: Vec<_> = images.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"]);
    let seen = stub.seen.lock().unwrap().clone();
    assert!(seen.contains(&"images?limit=2".to_owned()), "{seen:?}");
    assert!(
        seen.contains(&"images?limit=2&marker=b&odd=%2F".to_owned()),
        "{seen:?}"
    );

    let v2 = c.list_images_v2().await.unwrap();
    let ids: Vec<_> = v2.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["g1", "g2"]);
    let seen = stub.seen.lock().unwrap().clone();
    assert!(
        seen.contains(&"glance?limit=1&marker=g1".to_owned()),
        "{seen:?}"
    );

    let renamed = c.rename_image_v2("g1", "new name").await.unwrap();
    assert_eq!(renamed.name, "new name");
    assert!(renamed.protected);
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_naming_the_operation() {
    // Bind and drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_stub, mut opts) = start().await;
    opts.auth = snapform::provider::Auth::RackspaceApiKey {
        auth_url: format!("http://127.0.0.1:{port}/v2.0"),
        username: "u".into(),
        api_key: Secret::new("k"),
        tenant: None,
    };
    opts.max_retries = 1;
    let err = Client::connect_with(opts, tuning()).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ProviderError::Transport { .. }), "{err:?}");
    assert!(
        text.starts_with(&format!(
            "authenticate as \"u\" at http://127.0.0.1:{port}/v2.0/tokens: cannot connect"
        )),
        "{text}"
    );
}
