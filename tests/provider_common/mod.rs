//! Shared helpers of the provider integration tests: start a sandbox on 127.0.0.1:0, connect.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use snapform::provider::{Client, ClientOptions, Image, Tuning};
use snapform::sandbox::{Sandbox, SandboxOptions};

/// A fresh sandbox with the given fault injection and rate limits.
pub async fn sandbox(error_rate: f64, rate_limits: &[&str]) -> Sandbox {
    snapform::sandbox::spawn(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: None,
        snapshot_seconds: 0.2,
        latency_ms: 0,
        error_rate,
        rate_limits: rate_limits.iter().map(|s| s.to_string()).collect(),
        users: vec![],
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

pub fn options(sb: &Sandbox) -> ClientOptions {
    ClientOptions {
        max_retries: 5,
        timeout: Duration::from_secs(10),
        ..ClientOptions::rackspace(&sb.auth_url(), "demo", "demo", "DFW")
    }
}

/// Retry timing short enough for tests.
pub fn fast() -> Tuning {
    Tuning {
        page_size: 1000,
        max_retry_wait: Duration::from_millis(300),
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
    }
}

pub async fn client(sb: &Sandbox) -> Client {
    client_with(sb, fast()).await
}

pub async fn client_with(sb: &Sandbox, tuning: Tuning) -> Client {
    Client::connect_with(options(sb), tuning)
        .await
        .expect("connect to the sandbox")
}

/// Polls until the image is ACTIVE (at most 15 s).
pub async fn wait_active(c: &Client, id: &str) -> Image {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let img = c.get_image(id).await.unwrap().expect("image exists");
        match img.status.as_str() {
            "ACTIVE" => return img,
            "SAVING" if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            other => panic!("image {id} is {other} (fault {:?})", img.fault),
        }
    }
}

/// Snapshots `server` and waits for the snapshot to become ACTIVE; returns its id.
pub async fn active_snapshot(c: &Client, server: &str, name: &str) -> String {
    let id = c
        .create_image(server, name, &BTreeMap::new())
        .await
        .expect("createImage")
        .expect("the answer names the image");
    wait_active(c, &id).await;
    id
}

/// Calls the sandbox control API (`/sandbox/v1/...`) and returns the JSON answer, if any.
pub async fn control(
    sb: &Sandbox,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> serde_json::Value {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let mut req = http.request(method, format!("{}{path}", sb.control_url()));
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.expect("control API answers");
    assert!(
        resp.status().is_success(),
        "control {path}: {}",
        resp.status()
    );
    let text = resp.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}
