//! Providers refreshed at once: a no-change plan of one configuration with two providers
//! (DFW and ORD, each N images, N/10 `data "server"` lookups and the schedule of its one
//! server — the sandbox's ORD has a single server, and a server has one schedule) against the
//! plans of the same two halves alone, all in one run. Read one after another, the two-provider plan would take
//! the sum of the halves; read at once, about the longer half. Prints the times and the ratio.
//!
//! `cargo bench --bench providers` (N from SNAPFORM_BENCH_N, default 500; latency per request
//! from SNAPFORM_BENCH_LATENCY_MS, default 20).

use snapform::config::vars::VarInputs;
use snapform::engine::{self, ApplyOptions, Event, PlanOptions, Reporter, Session};
use snapform::sandbox::{self, SandboxOptions};
use std::path::Path;
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

/// One provider block (aliased) and its share: n images of `server`, n/10 server lookups and
/// the server's schedule.
fn part(auth_url: &str, region: &str, server: &str, n: usize) -> String {
    let alias = region.to_lowercase();
    let mut s = format!(
        "provider \"rackspace\" {{\n  alias = \"{alias}\"\n  auth_url = \"{auth_url}\"\n  username = \"demo\"\n  api_key = \"demo\"\n  region = \"{region}\"\n}}\n\
         data \"server\" \"{alias}\" {{\n  provider = rackspace.{alias}\n  count = {}\n  name = \"{server}\"\n}}\n\
         resource \"image_schedule\" \"{alias}\" {{\n  provider = rackspace.{alias}\n  server_id = data.server.{alias}[0].id\n  retention = 3\n}}\n",
        (n / 10).max(1)
    );
    for i in 0..n {
        s.push_str(&format!(
            "resource \"image\" \"{alias}{i}\" {{\n  provider = rackspace.{alias}\n  server_id = data.server.{alias}[0].id\n  name = \"bench-{alias}-{i}\"\n}}\n"
        ));
    }
    s
}

async fn workspace(dir: &Path, src: &str) -> engine::Workspace {
    std::fs::write(dir.join("bench.snap.hcl"), src).expect("config");
    let sources = engine::read_sources(dir).expect("sources");
    engine::load(dir, sources, &VarInputs::default()).expect("workspace")
}

async fn apply(ws: &engine::Workspace) {
    let mut s = Session::open(ws, Duration::ZERO, "apply")
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

/// The median time of `runs` no-change plans.
async fn plan_time(ws: &engine::Workspace, runs: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..runs {
        let mut s = Session::open(ws, Duration::ZERO, "plan")
            .await
            .expect("session");
        s.state.cursors.clear();
        let t = Instant::now();
        let p = s.plan(false, &PlanOptions::default()).await.expect("plan");
        times.push(t.elapsed());
        assert!(!p.has_changes(), "a no-change plan");
        s.close().await.expect("unlock");
    }
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let n = env_num("SNAPFORM_BENCH_N", 500) as usize;
    let latency = env_num("SNAPFORM_BENCH_LATENCY_MS", 20);
    let sb = sandbox::spawn(SandboxOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        snapshot_seconds: 0.0,
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox");
    let auth = sb.auth_url();
    let (dfw_dir, ord_dir, both_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let dfw = part(&auth, "DFW", "web-01", n);
    let ord = part(&auth, "ORD", "web-03", n);
    let ws_both = workspace(both_dir.path(), &format!("{dfw}{ord}")).await;
    apply(&ws_both).await;
    // The halves adopt nothing: they are separate configurations over the same images, each
    // with its own state, so each creates its own N images first.
    let ws_dfw = workspace(dfw_dir.path(), &dfw.replace("bench-", "half-")).await;
    let ws_ord = workspace(ord_dir.path(), &ord.replace("bench-", "half-")).await;
    apply(&ws_dfw).await;
    apply(&ws_ord).await;

    reqwest::Client::new()
        .put(format!("{}/sandbox/v1/faults", sb.url()))
        .json(&serde_json::json!({"latency_ms": latency}))
        .send()
        .await
        .expect("latency");
    let runs = 5;
    let t_dfw = plan_time(&ws_dfw, runs).await;
    let t_ord = plan_time(&ws_ord, runs).await;
    let t_both = plan_time(&ws_both, runs).await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "no-change plan, {n} images + {} data \"server\" + 1 schedule per provider, {latency} ms per request, median of {runs}:",
        (n / 10).max(1)
    );
    println!("  DFW alone:               {:>8.1} ms", ms(t_dfw));
    println!("  ORD alone:               {:>8.1} ms", ms(t_ord));
    println!(
        "  DFW + ORD in one plan:   {:>8.1} ms ({:.2}x the sum of the halves, {:.2}x the longer one)",
        ms(t_both),
        t_both.as_secs_f64() / (t_dfw + t_ord).as_secs_f64(),
        t_both.as_secs_f64() / t_dfw.max(t_ord).as_secs_f64()
    );
    sb.shutdown().await;
}
