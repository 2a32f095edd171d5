//! Scale and concurrency against the sandbox: thousands of images come back in one paginated
//! listing (a request per 1000 images, none per image), and many tasks that meet an expired
//! token at once share a single re-authentication.

mod provider_common;

use std::time::{Duration, Instant};

use provider_common::{client, control, options};
use reqwest::Method;
use snapform::provider::{Client, ImageQuery};
use snapform::sandbox::fixture_ids::{DB01, WEB01, WEB02};
use snapform::sandbox::{Sandbox, SandboxOptions};

async fn instant_snapshots() -> Sandbox {
    snapform::sandbox::spawn(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: None,
        snapshot_seconds: 0.0,
        latency_ms: 0,
        error_rate: 0.0,
        rate_limits: vec![],
        users: vec![],
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_images_in_one_paginated_listing() {
    let sb = instant_snapshots().await;
    let c = client(&sb).await;
    let per_server = 400;
    let mut tasks = Vec::new();
    for server in [WEB01, WEB02, DB01] {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_server {
                let name = format!("bulk-{server}-{i}");
                c.create_image(server, &name, &Default::default()).await?;
            }
            Ok::<_, snapform::provider::ProviderError>(())
        }));
    }
    for t in tasks {
        t.await.unwrap().expect("bulk snapshots");
    }

    let fresh = Client::connect(options(&sb)).await.unwrap();
    let before = fresh.request_count();
    let started = Instant::now();
    let images = fresh.list_images(&ImageQuery::default()).await.unwrap();
    let elapsed = started.elapsed();
    let requests = fresh.request_count() - before;
    assert!(images.len() >= 3 * per_server, "{}", images.len());
    let pages = images.len().div_ceil(1000) as u64;
    assert!(
        requests == pages || requests == pages + 1,
        "{requests} requests for {} images",
        images.len()
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "listing took {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_401s_share_one_reauthentication() {
    let sb = instant_snapshots().await;
    let c = client(&sb).await;
    control(&sb, Method::DELETE, "/tokens", None).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move { c.list_servers().await }));
    }
    for t in tasks {
        assert!(!t.await.unwrap().expect("re-authenticated").is_empty());
    }
    let log = control(&sb, Method::GET, "/requests", None).await;
    assert_eq!(
        log["by_route"]["POST /v2.0/tokens"], 2,
        "one login, one shared re-login: {log}"
    );
}
