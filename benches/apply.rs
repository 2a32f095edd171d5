//! Apply benchmark: creating N snapshots at once against the sandbox, with the shared snapshot
//! poller batching its polls (one listing per round) versus polling each image (one GET per
//! image per round) — both measured in the same run. Prints wall time and request counts.
//!
//! `cargo bench --bench apply` (N from SNAPFORM_BENCH_N, default 200; snapshot time from
//! SNAPFORM_BENCH_SNAPSHOT_SECONDS, default 3; per-request latency SNAPFORM_BENCH_LATENCY_MS,
//! default 20).

use snapform::config::vars::VarInputs;
use snapform::engine::{self, ApplyOptions, Event, PlanOptions, Reporter, Session};
use snapform::sandbox::{self, SandboxOptions};
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
    let dir = tempfile::tempdir().expect("tempdir");
    src.push_str(&format!(
        "provider \"rackspace\" {{\n  auth_url = \"{}\"\n  username = \"demo\"\n  api_key = \"demo\"\n  region = \"DFW\"\n}}\n",
        sb.auth_url()
    ));
    std::fs::write(dir.path().join("bench.snap.hcl"), src).expect("config");
    let sources = engine::read_sources(dir.path()).expect("sources");
    let ws = engine::load(dir.path(), sources, &VarInputs::default()).expect("workspace");
    let mut session = Session::open(&ws, Duration::ZERO, "apply")
        .await
        .expect("session");
    let p = session
        .plan(false, &PlanOptions::default())
        .await
        .expect("plan");
    let before = session.requests();
    let t = Instant::now();
    let out = session
        .apply(
            &p,
            &ApplyOptions {
                parallelism: 10,
                poll_interval: Duration::from_millis(250),
                batch_wait_from: batch_from,
                ..ApplyOptions::default()
            },
            Arc::new(Quiet),
        )
        .await
        .expect("apply");
    assert!(out.success(), "{out:?}");
    let elapsed = t.elapsed();
    let requests = session.requests() - before;
    session.close().await.expect("unlock");
    sb.shutdown().await;
    (elapsed, requests)
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
