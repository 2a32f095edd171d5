//! Apply benchmark: creating N snapshots at once against the sandbox, with the shared snapshot
//! poller batching its polls (one listing per round) versus polling each image (one GET per
//! image per round) — both measured in the same run. Prints wall time and request counts.
//!
//! `cargo bench --bench apply` (N from SNAPFORM_BENCH_N, default 200; snapshot time from
//! SNAPFORM_BENCH_SNAPSHOT_SECONDS, default 3; per-request latency SNAPFORM_BENCH_LATENCY_MS,
//! default 20).

use snapform::apply::{self, Event, Reporter};
use snapform::config::{self, SourceFile, Sources};
use snapform::plan::{self, Refreshed};
use snapform::provider::{Client, ClientOptions, Credential, Secret};
use snapform::refresh::Clients;
use snapform::sandbox::{self, SandboxOptions};
use snapform::state::{Backend, BackendSettings};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_num(k: &str, d: f64) -> f64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

struct Quiet;
impl Reporter for Quiet {
    fn report(&self, _: Event) {}
}

async fn run_once(n: usize, batch_from: usize, snapshot: f64, latency: u64) -> (Duration, u64) {
    let sb = sandbox::spawn(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        snapshot_seconds: snapshot,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox");
    let http = reqwest::Client::new();
    let mut src = String::new();
    for i in 0..n {
        let r = http
            .post(format!("{}/sandbox/v1/servers", sb.url()))
            .json(&serde_json::json!({"name": format!("bench-{i}"), "region": "DFW"}))
            .send()
            .await
            .expect("server");
        let v: serde_json::Value = r.json().await.expect("json");
        let id = v["server"]["id"].as_str().expect("id");
        src.push_str(&format!(
            "resource \"image\" \"i{i}\" {{\n  server_id = \"{id}\"\n  name = \"bench-{i}\"\n}}\n"
        ));
    }
    let _ = http
        .put(format!("{}/sandbox/v1/faults", sb.url()))
        .json(&serde_json::json!({"latency_ms": latency}))
        .send()
        .await;
    let client = Client::connect(ClientOptions {
        auth_url: sb.auth_url(),
        username: "demo".into(),
        credential: Credential::ApiKey(Secret::new("demo")),
        region: "DFW".into(),
        ..ClientOptions::default()
    })
    .await
    .expect("connect");
    let mut clients = Clients::default();
    clients.by_key.insert("rackspace".into(), client.clone());
    let (cfg, d) = config::load(Sources::new(vec![SourceFile {
        path: "bench.snap.hcl".into(),
        text: src,
    }]));
    assert!(d.is_empty(), "{d:?}");
    let (graph, _) = snapform::graph::build(&cfg);
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = BackendSettings::Local {
        path: dir.path().join("s.json"),
    };
    let mut backend = Backend::open(&settings, Duration::ZERO, "apply")
        .await
        .expect("state");
    let mut state = backend.read().await.expect("read");
    let (p, _) = plan::plan(
        &cfg,
        &graph,
        &BTreeMap::new(),
        &state,
        &Refreshed::default(),
        &plan::Options::default(),
    );
    let before = client.request_count();
    let t = Instant::now();
    let out = apply::apply(
        &p,
        &cfg,
        &graph,
        &BTreeMap::new(),
        &mut state,
        &mut backend,
        &clients,
        &apply::Options {
            parallelism: 10,
            poll_interval: Duration::from_millis(250),
            batch_wait_from: batch_from,
        },
        Arc::new(Quiet),
    )
    .await
    .expect("apply");
    assert!(out.success(), "{out:?}");
    let elapsed = t.elapsed();
    sb.shutdown().await;
    (elapsed, client.request_count() - before)
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n = env_num("SNAPFORM_BENCH_N", 200.0) as usize;
    let snapshot = env_num("SNAPFORM_BENCH_SNAPSHOT_SECONDS", 3.0);
    let latency = env_num("SNAPFORM_BENCH_LATENCY_MS", 20.0) as u64;
    let (tb, rb) = run_once(n, 4, snapshot, latency).await;
    let (tp, rp) = run_once(n, usize::MAX, snapshot, latency).await;
    println!(
        "apply creating {n} snapshots ({snapshot} s each, {latency} ms latency, parallelism 10, 250 ms polls):"
    );
    println!(
        "  batched polling (snapform):    {:>8.2} s, {rb} requests",
        tb.as_secs_f64()
    );
    println!(
        "  per-image polling (baseline):  {:>8.2} s, {rp} requests",
        tp.as_secs_f64()
    );
    println!(
        "  ratio: {:.2}x the baseline's time, {:.1}x fewer requests",
        tb.as_secs_f64() / tp.as_secs_f64(),
        rp as f64 / rb.max(1) as f64
    );
}
