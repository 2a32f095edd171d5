//! The Image API v2 calls against a real OpenStack Glance (Zed) on loopback, started with
//! `../shared/tools/glance/run-glance.sh DIR 19292`. Opt-in: run with
//! `SNAPFORM_GLANCE_URL=http://127.0.0.1:19292 cargo test --test provider_glance -- --ignored`.
//! With `SNAPFORM_GLANCE_REQUIRED=1` (CI sets it when glance-api could be installed), plain
//! `cargo test` runs the same checks on a Glance the test starts itself (tests/glance_support).
//! A tiny identity stub hands out a catalog whose image endpoint is that Glance (bare root,
//! as real catalogs list it).

mod glance_support;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use snapform::provider::{Client, ClientOptions, ProviderError, Tuning};

async fn tokens(State(glance): State<String>) -> axum::Json<Value> {
    axum::Json(
        json!({"access": {"token": {"id": "glance-test-token"}, "serviceCatalog": [
        {"name": "cloudServersOpenStack", "type": "compute", "endpoints": [
            {"region": "DFW", "publicURL": "http://127.0.0.1:9/v2/1", "versionId": "2"}]},
        {"name": "glance", "type": "image", "endpoints": [{"region": "DFW", "publicURL": glance}]}]}}),
    )
}

async fn connect(glance: &str) -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/v2.0/tokens", post(tokens))
        .with_state(glance.to_owned());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let opts = ClientOptions {
        max_retries: 2,
        timeout: Duration::from_secs(10),
        ..ClientOptions::rackspace(&format!("{base}/v2.0"), "u", "k", "DFW")
    };
    let tuning = Tuning {
        page_size: 2,
        ..Tuning::default()
    };
    Client::connect_with(opts, tuning)
        .await
        .expect("stub identity")
}

/// Creates an image directly in Glance; with `upload`, it becomes `active`.
async fn create(http: &reqwest::Client, glance: &str, name: &str, upload: bool) -> String {
    let body = json!({"name": name, "disk_format": "raw", "container_format": "bare", "image_type": "snapshot"});
    let resp = http
        .post(format!("{glance}/v2/images"))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let v: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let id = v["id"].as_str().unwrap().to_owned();
    if upload {
        let resp = http
            .put(format!("{glance}/v2/images/{id}/file"))
            .header("content-type", "application/octet-stream")
            .body(vec![0u8; 64])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 204);
    }
    id
}

#[tokio::test]
#[ignore = "needs a real Glance: set SNAPFORM_GLANCE_URL (see the file header)"]
async fn image_api_v2_against_real_glance() {
    let glance = std::env::var("SNAPFORM_GLANCE_URL").expect("SNAPFORM_GLANCE_URL");
    exercise(glance.trim_end_matches('/')).await;
}

/// The same checks on a Glance started here; only with `SNAPFORM_GLANCE_REQUIRED=1`.
#[tokio::test]
async fn image_api_v2_against_own_glance() {
    if !glance_support::required() {
        eprintln!(
            "SKIPPED image_api_v2_against_own_glance: set SNAPFORM_GLANCE_REQUIRED=1 to start a \
             Glance here, or SNAPFORM_GLANCE_URL with --ignored to use a running one"
        );
        return;
    }
    let Some(glance) = tokio::task::spawn_blocking(|| {
        glance_support::start_or_skip("image_api_v2_against_own_glance", &[])
    })
    .await
    .expect("start glance") else {
        return;
    };
    exercise(&glance.url).await;
    drop(glance);
}

async fn exercise(glance: &str) {
    let glance = glance.to_owned();
    let c = connect(&glance).await;
    assert!(c.has_image_api());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();

    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(create(&http, &glance, &format!("snapform-test-{i}"), true).await);
    }
    let queued = create(&http, &glance, "snapform-test-queued", false).await;

    // Listing with limit=2 follows Glance's host-relative `next` through every page.
    let listed = c.list_images_v2().await.unwrap();
    for id in ids.iter().chain([&queued]) {
        assert!(
            listed.iter().any(|i| &i.id == id),
            "{id} missing from the listing"
        );
    }

    let img = c.get_image_v2(&ids[0]).await.unwrap().expect("exists");
    assert_eq!(img.status, "active");
    assert_eq!(img.properties.get("image_type"), Some(&json!("snapshot")));
    assert!(
        c.get_image_v2("00000000-0000-0000-0000-000000000000")
            .await
            .unwrap()
            .is_none()
    );

    let renamed = c
        .rename_image_v2(&ids[0], "snapform renamed")
        .await
        .unwrap();
    assert_eq!(renamed.name, "snapform renamed");

    c.deactivate_image(&ids[1]).await.unwrap();
    c.deactivate_image(&ids[1]).await.unwrap();
    assert_eq!(
        c.get_image_v2(&ids[1]).await.unwrap().unwrap().status,
        "deactivated"
    );
    c.reactivate_image(&ids[1]).await.unwrap();
    assert_eq!(
        c.get_image_v2(&ids[1]).await.unwrap().unwrap().status,
        "active"
    );

    // Glance's JSON error (string `code`, `<br />` in the message) becomes a clean message.
    let err = c.deactivate_image(&queued).await.unwrap_err();
    match &err {
        ProviderError::Api {
            status: 403,
            message,
            ..
        } => {
            assert!(
                message.contains("Not allowed to deactivate image in status 'queued'"),
                "{message}"
            );
            assert!(!message.contains("<br"), "{message}");
        }
        other => panic!("expected a 403, got {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with(&format!("deactivate image {queued}: HTTP 403: ")),
        "{err}"
    );

    for id in ids.iter().chain([&queued]) {
        let _ = http.delete(format!("{glance}/v2/images/{id}")).send().await;
    }
}
