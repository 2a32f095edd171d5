//! Refresh benchmark: snapform's batched refresh of N image resources against the sandbox,
//! its incremental refresh (`changes-since` a cursor, with 1 % of the images changed since),
//! and the per-object baseline (one GET per image, as Terraform's OpenStack provider
//! refreshes), all in the same run. Prints wall time, requests and the ratios.
//!
//! `cargo bench --bench refresh` (N from SNAPFORM_BENCH_N, default 1000; per-request latency
//! from SNAPFORM_BENCH_LATENCY_MS, default 20).

use snapform::provider::{Client, ClientOptions, Credential, Secret};
use snapform::refresh::{self, Clients};
use snapform::sandbox::{self, SandboxOptions};
use snapform::state::{ResourceState, State};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn env_num(k: &str, d: u64) -> u64 {
    std::env::var(k)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(d)
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n = env_num("SNAPFORM_BENCH_N", 1000) as usize;
    let latency = env_num("SNAPFORM_BENCH_LATENCY_MS", 20);
    let sb = sandbox::spawn(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        snapshot_seconds: 0.0,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox");
    let client = Client::connect(ClientOptions {
        auth_url: sb.auth_url(),
        username: "demo".into(),
        credential: Credential::ApiKey(Secret::new("demo")),
        region: "DFW".into(),
        ..ClientOptions::default()
    })
    .await
    .expect("connect");

    // Seed N snapshots spread over the DFW servers.
    let servers = client.list_servers().await.expect("servers");
    let t = Instant::now();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let s = &servers[i % servers.len()];
        let id = client
            .create_image(&s.id, &format!("bench-{i}"), &BTreeMap::new())
            .await
            .expect("create");
        ids.push(id);
    }
    eprintln!("seeded {n} snapshots in {:.1}s", t.elapsed().as_secs_f64());

    // Now add latency, as a real cloud has.
    let http = reqwest::Client::new();
    let _ = http
        .put(format!("{}/sandbox/v1/faults", sb.url()))
        .json(&serde_json::json!({"latency_ms": latency}))
        .send()
        .await;

    let mut state = State::new();
    for (i, id) in ids.iter().enumerate() {
        let addr: snapform::addr::InstanceAddr =
            format!("image.bench_{i}").parse().expect("an address");
        state.resources.insert(
            addr.clone(),
            ResourceState {
                address: addr,
                kind: "image".into(),
                name: format!("bench_{i}"),
                provider: "rackspace".into(),
                id: id.clone(),
                attributes: Default::default(),
                managed_keys: vec![],
                tainted: false,
                dependencies: vec![],
                sensitive_attributes: vec![],
            },
        );
    }
    let mut clients = Clients::default();
    clients.by_key.insert("rackspace".into(), client.clone());

    let runs = 3;
    let mut batched = Vec::new();
    let mut batched_requests = 0;
    for _ in 0..runs {
        let before = client.request_count();
        let t = Instant::now();
        let r = refresh::refresh(&state, &clients).await.expect("refresh");
        batched.push(t.elapsed());
        batched_requests = client.request_count() - before;
        assert_eq!(r.resources.values().filter(|v| v.is_some()).count(), n);
    }

    // Incremental: state holds what a full refresh read and a cursor; then 1 % of the images
    // change (a metadata write each) and the next refresh asks only for what changed.
    let full = refresh::refresh(&state, &clients).await.expect("refresh");
    let mut inc_state = state.clone();
    for (addr, attrs) in &full.resources {
        if let Some(rs) = inc_state.resources.get_mut(addr) {
            rs.attributes = attrs.clone().expect("exists");
        }
    }
    // The sandbox's HTTP `Date` is the host's clock, which does not follow the sandbox clock
    // that we advance here (so that the seeding falls outside the safety margin): the cursor is
    // the sandbox's own time, as a real cloud's `Date` would give it.
    let clock: serde_json::Value = http
        .post(format!("{}/sandbox/v1/clock", sb.url()))
        .json(&serde_json::json!({"advance_seconds": 3600}))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("clock json");
    let now = clock["now"].as_str().expect("now");
    let now = chrono::DateTime::parse_from_rfc3339(now).expect("time");
    inc_state.cursors.insert(
        refresh::cursor_key("rackspace"),
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    let changed = (n / 100).max(1);
    for id in ids.iter().step_by(n / changed) {
        let m = BTreeMap::from([("bench".to_string(), "changed".to_string())]);
        client.merge_image_metadata(id, &m).await.expect("metadata");
    }
    let mut expected = refresh::refresh(&state, &clients).await.expect("refresh");
    expected.cursors.clear();
    let mut incremental = Vec::new();
    let mut incremental_requests = 0;
    for _ in 0..runs {
        let before = client.request_count();
        let t = Instant::now();
        let mut r = refresh::refresh(&inc_state, &clients)
            .await
            .expect("refresh");
        incremental.push(t.elapsed());
        incremental_requests = client.request_count() - before;
        r.cursors.clear();
        assert_eq!(r.resources, expected.resources, "incremental = full");
    }

    // Baseline: one GET per object, 10 in flight (Terraform's default parallelism).
    let mut baseline = Vec::new();
    let mut baseline_requests = 0;
    for _ in 0..runs {
        let before = client.request_count();
        let t = Instant::now();
        let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(10));
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
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (b, p) = (median(&mut batched), median(&mut baseline));
    let i = median(&mut incremental);
    println!("refresh of {n} images, {latency} ms latency per request, median of {runs} runs:");
    println!(
        "  batched (snapform):        {:>8.1} ms, {batched_requests} requests",
        b.as_secs_f64() * 1e3
    );
    println!(
        "  incremental ({changed} changed): {:>8.1} ms, {incremental_requests} requests",
        i.as_secs_f64() * 1e3
    );
    println!(
        "  per-object GET (baseline): {:>8.1} ms, {baseline_requests} requests (10 in flight)",
        p.as_secs_f64() * 1e3
    );
    println!(
        "  batched vs per-object GET: {:.1}x faster, {:.0}x fewer requests",
        p.as_secs_f64() / b.as_secs_f64(),
        baseline_requests as f64 / batched_requests.max(1) as f64
    );
    println!(
        "  incremental vs batched: {:.1}x faster; vs per-object GET: {:.1}x faster, {:.0}x fewer requests",
        b.as_secs_f64() / i.as_secs_f64(),
        p.as_secs_f64() / i.as_secs_f64(),
        baseline_requests as f64 / incremental_requests.max(1) as f64
    );
    sb.shutdown().await;
}
