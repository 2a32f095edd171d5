//! Refresh benchmark, through the engine as a user runs it: a no-change `plan` of N image
//! resources against the sandbox — with a full listing (no cursor) and incremental
//! (`changes-since` the cursor the apply stored, with 1 % of the images changed since) — and
//! the per-object baseline (one GET per image, 10 in flight, as Terraform's OpenStack provider
//! refreshes), all in the same run. Prints wall time, requests and the ratios.
//!
//! `cargo bench --bench refresh` (N from SNAPFORM_BENCH_N, default 1000; per-request latency
//! from SNAPFORM_BENCH_LATENCY_MS, default 20). SNAPFORM_BENCH_PRESET=openstack runs the same
//! through the `openstack` preset against the sandbox's OpenStack flavour: images through
//! Glance, which reports no deletions, so the incremental plan also verifies the unmentioned
//! images by id (`id=in:`, 50 a request, 4 in flight).

use snapform::config::vars::VarInputs;
use snapform::engine::{self, ApplyOptions, Event, PlanOptions, Reporter, Session};
use snapform::provider::{Client, ClientOptions};
use snapform::sandbox::{self, SandboxOptions};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_num(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

struct Quiet;
impl Reporter for Quiet {
    fn report(&self, _: Event) {}
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n = env_num("SNAPFORM_BENCH_N", 1000) as usize;
    let latency = env_num("SNAPFORM_BENCH_LATENCY_MS", 20);
    let openstack = std::env::var("SNAPFORM_BENCH_PRESET").is_ok_and(|p| p == "openstack");
    let sb = sandbox::spawn(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        snapshot_seconds: 0.0,
        cloud: if openstack {
            sandbox::CloudKind::Openstack
        } else {
            sandbox::CloudKind::Rackspace
        },
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox");
    let http = reqwest::Client::new();
    // The baseline's client, and the servers the images are snapshots of.
    let client = Client::connect(ClientOptions::rackspace(
        &sb.auth_url(),
        "demo",
        "demo",
        "DFW",
    ))
    .await
    .expect("connect");
    let servers = client.list_servers().await.expect("servers");

    // The configuration: N snapshots spread over the DFW servers, created by an apply.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut src = if openstack {
        format!(
            "provider \"openstack\" {{\n  auth_url = \"{}\"\n  username = \"demo\"\n  password = \"demo\"\n  project_name = \"demo\"\n  region = \"DFW\"\n}}\n",
            sb.auth_url_v3()
        )
    } else {
        format!(
            "provider \"rackspace\" {{\n  auth_url = \"{}\"\n  username = \"demo\"\n  api_key = \"demo\"\n  region = \"DFW\"\n}}\n",
            sb.auth_url()
        )
    };
    for i in 0..n {
        let s = &servers[i % servers.len()];
        src.push_str(&format!(
            "resource \"image\" \"i{i}\" {{\n  server_id = \"{}\"\n  name = \"bench-{i}\"\n}}\n",
            s.id
        ));
    }
    std::fs::write(dir.path().join("bench.snap.hcl"), src).expect("config");
    let sources = engine::read_sources(dir.path()).expect("sources");
    let ws = engine::load(dir.path(), sources, &VarInputs::default()).expect("workspace");
    let t = Instant::now();
    {
        let mut s = Session::open(&ws, Duration::ZERO, "apply")
            .await
            .expect("session");
        let p = s.plan(false, &PlanOptions::default()).await.expect("plan");
        let out = s
            .apply(
                &p,
                &ApplyOptions {
                    poll_interval: Duration::from_millis(50),
                    ..ApplyOptions::default()
                },
                Arc::new(Quiet),
            )
            .await
            .expect("apply");
        assert!(out.success(), "{out:?}");
        s.close().await.expect("unlock");
    }
    eprintln!("applied {n} snapshots in {:.1}s", t.elapsed().as_secs_f64());
    let ids: Vec<String> = {
        let s = Session::open(&ws, Duration::ZERO, "read")
            .await
            .expect("session");
        let ids = s.state.resources.values().map(|r| r.id.clone()).collect();
        s.close().await.expect("unlock");
        ids
    };

    // Now add latency, as a real cloud has, and move the sandbox clock past the safety margin
    // of the cursor the apply stored.
    let _ = http
        .put(format!("{}/sandbox/v1/faults", sb.url()))
        .json(&serde_json::json!({"latency_ms": latency}))
        .send()
        .await;
    let _ = http
        .post(format!("{}/sandbox/v1/clock", sb.url()))
        .json(&serde_json::json!({"advance_seconds": 3600}))
        .send()
        .await;

    // A no-change apply stores a cursor of the cloud's time now, so the next plans ask only for
    // what changed since (not the whole fleet, which changed within the cursor's margin).
    {
        let mut s = Session::open(&ws, Duration::ZERO, "apply")
            .await
            .expect("session");
        let before = s.state.cursors.clone();
        let p = s.plan(false, &PlanOptions::default()).await.expect("plan");
        let out = s
            .apply(&p, &ApplyOptions::default(), Arc::new(Quiet))
            .await
            .expect("apply");
        assert!(out.success(), "{out:?}");
        assert_ne!(s.state.cursors, before, "the cursor moved");
        s.close().await.expect("unlock");
    }

    let runs = 3;
    // A no-change plan listing everything (no cursor).
    let mut full = Vec::new();
    let mut full_requests = 0;
    for _ in 0..runs {
        let mut s = Session::open(&ws, Duration::ZERO, "plan")
            .await
            .expect("session");
        s.state.cursors.clear();
        let before = s.requests();
        let t = Instant::now();
        let p = s.plan(false, &PlanOptions::default()).await.expect("plan");
        full.push(t.elapsed());
        full_requests = s.requests() - before;
        assert!(!p.has_changes(), "a no-change plan");
        s.close().await.expect("unlock");
    }

    // 1 % of the images change outside snapform (a metadata write each): the next plan asks
    // only for what changed since the cursor.
    let changed = (n / 100).max(1);
    for id in ids.iter().step_by(n / changed) {
        let m = BTreeMap::from([("bench".to_string(), "changed".to_string())]);
        client.merge_image_metadata(id, &m).await.expect("metadata");
    }
    let mut incremental = Vec::new();
    let mut incremental_requests = 0;
    for _ in 0..runs {
        let s = Session::open(&ws, Duration::ZERO, "plan")
            .await
            .expect("session");
        let before = s.requests();
        let t = Instant::now();
        let p = s.plan(false, &PlanOptions::default()).await.expect("plan");
        incremental.push(t.elapsed());
        incremental_requests = s.requests() - before;
        assert!(!p.has_changes(), "undeclared keys are no change");
        s.close().await.expect("unlock");
    }

    // Baseline: one GET per object, 10 in flight (Terraform's default parallelism).
    let mut baseline = Vec::new();
    let mut baseline_requests = 0;
    for _ in 0..runs {
        let before = client.request_count();
        let t = Instant::now();
        let sem = Arc::new(tokio::sync::Semaphore::new(10));
        let mut set = tokio::task::JoinSet::new();
        for id in ids.clone() {
            let c = client.clone();
            let sem = sem.clone();
            set.spawn(async move {
                let _p = sem.acquire().await.unwrap();
                c.get_image(&id).await.expect("get").is_some()
            });
        }
        let mut found = 0;
        while let Some(r) = set.join_next().await {
            found += r.unwrap() as usize;
        }
        assert_eq!(found, n);
        baseline.push(t.elapsed());
        baseline_requests = client.request_count() - before;
    }
    let (f, i, b) = (
        median(&mut full),
        median(&mut incremental),
        median(&mut baseline),
    );
    println!(
        "no-change plan of {n} images ({} preset), {latency} ms latency per request, median of {runs} runs:",
        if openstack { "openstack" } else { "rackspace" }
    );
    println!(
        "  full listing (snapform):      {:>8.1} ms, {full_requests} requests",
        f.as_secs_f64() * 1e3
    );
    println!(
        "  incremental ({changed} changed):    {:>8.1} ms, {incremental_requests} requests",
        i.as_secs_f64() * 1e3
    );
    println!(
        "  per-object GET (baseline):    {:>8.1} ms, {baseline_requests} requests (10 in flight)",
        b.as_secs_f64() * 1e3
    );
    println!(
        "  full listing vs per-object: {:.1}x faster; incremental vs per-object: {:.1}x faster, {:.0}x fewer requests",
        b.as_secs_f64() / f.as_secs_f64(),
        b.as_secs_f64() / i.as_secs_f64(),
        baseline_requests as f64 / incremental_requests.max(1) as f64
    );
    sb.shutdown().await;
}
