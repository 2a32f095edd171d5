//! End-to-end fault tests: the binary against a sandbox that fails snapshots, answers 503s and
//! rate-limits, checked with plain HTTP.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work, images_named, live_images};
use serde_json::json;

/// A failed snapshot: the image is tainted, what depends on it is skipped, independent work
/// finishes, the exit code is 1 and the summary says so; the next apply replaces the image.
#[tokio::test(flavor = "multi_thread")]
async fn failed_snapshot_taints_skips_dependents_and_is_replaced() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
data "server" "web" {{
  name = "web-01"
}}
data "server" "db" {{
  name = "db-01"
}}
resource "image" "a" {{
  server_id = data.server.web.id
  name      = "fails-once"
}}
resource "image_metadata" "m" {{
  image_id = image.a.id
  metadata = {{ k = "v" }}
}}
resource "image_schedule" "db" {{
  server_id = data.server.db.id
  retention = 2
}}
"#,
            sb.provider_block()
        ),
    );
    sb.set_faults(json!({"fail_next_snapshots": 1})).await;
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("failed:  image.a"), "{r:?}");
    assert!(r.stderr.contains("skipped: image_metadata.m"), "{r:?}");
    assert!(
        r.stderr.contains("ERROR"),
        "the cloud's status is named: {r:?}"
    );
    let (_, db) = api.get("/servers/detail?name=db-01").await;
    let db_id = db["servers"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = api
        .get(&format!("/servers/{db_id}/rax-si-image-schedule"))
        .await;
    assert_eq!(st, 200, "independent work finished");
    let state: serde_json::Value = serde_json::from_str(&work.state().unwrap()).unwrap();
    assert_eq!(state["resources"]["image.a"]["tainted"], true);
    let bad_id = state["resources"]["image.a"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("image.a must be replaced"), "{r:?}");
    assert!(r.stdout.contains("tainted"), "{r:?}");
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (st, _) = api.get(&format!("/images/{bad_id}")).await;
    assert_eq!(
        st, 404,
        "the failed snapshot was deleted by the replacement"
    );
    let (_, imgs) = api.get("/images/detail?name=fails-once").await;
    let imgs = imgs["images"].as_array().unwrap().clone();
    assert_eq!(imgs.len(), 1, "{imgs:?}");
    assert_eq!(imgs[0]["status"], "ACTIVE");
    assert_eq!(imgs[0]["metadata"]["k"], "v");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// With 15% of API calls answered 503, latency and a GET rate limit, apply still converges
/// (retries with backoff) and creates every image exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn apply_converges_through_503s_and_rate_limits() {
    let sb = ServedSandbox::start(&["--rate-limit", "GET=40/s"]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    let mut cfg = sb.provider_block();
    for (i, server) in ["web-01", "web-02", "db-01"].iter().enumerate() {
        cfg.push_str(&format!(
            "data \"server\" \"s{i}\" {{\n  name = \"{server}\"\n}}\nresource \"image\" \"i{i}\" {{\n  server_id = data.server.s{i}.id\n  name = \"flaky-{i}\"\n  metadata = {{ n = \"{i}\" }}\n}}\nresource \"image_schedule\" \"s{i}\" {{\n  server_id = data.server.s{i}.id\n  retention = {}\n}}\n",
            i + 1
        ));
    }
    work.write("main.snap.hcl", &cfg);
    sb.set_faults(json!({"error_rate": 0.15, "latency_ms": 5}))
        .await;
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    sb.set_faults(json!({"error_rate": 0.0, "latency_ms": 0}))
        .await;
    for i in 0..3 {
        let (_, imgs) = api.get(&format!("/images/detail?name=flaky-{i}")).await;
        let imgs = imgs["images"].as_array().unwrap().clone();
        assert_eq!(imgs.len(), 1, "flaky-{i} exactly once: {imgs:?}");
        assert_eq!(imgs[0]["metadata"]["n"], i.to_string());
    }
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Many snapshots saving at once are polled together: one listing per round, not one GET per
/// image per round.
#[tokio::test(flavor = "multi_thread")]
async fn many_snapshots_are_polled_with_one_listing() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "1"]);
    let api = Api::login(&sb.url, "DFW").await;
    let http = reqwest::Client::new();
    let mut cfg = sb.provider_block();
    for i in 0..8 {
        let r = http
            .post(format!("{}/sandbox/v1/servers", sb.url))
            .json(&json!({"name": format!("batch-{i}"), "region": "DFW"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        cfg.push_str(&format!(
            "data \"server\" \"s{i}\" {{\n  name = \"batch-{i}\"\n}}\nresource \"image\" \"i{i}\" {{\n  server_id = data.server.s{i}.id\n  name = \"batch-img-{i}\"\n}}\n"
        ));
    }
    let work = Work::new();
    work.write("main.snap.hcl", &cfg);
    sb.reset_requests().await;
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let counts = sb.requests().await;
    let by = &counts["by_route"];
    let listings = by["GET /images/detail"].as_u64().unwrap_or(0);
    let gets = by["GET /images/{id}"].as_u64().unwrap_or(0);
    // 1 s of saving at 100 ms polls is ~10 rounds: per-image polling would need ~80 GETs.
    assert!(listings >= 2, "polled with listings: {by}");
    assert!(gets <= 8 * 3, "few per-image GETs: {by}");
    for i in 0..8 {
        let (_, imgs) = api.get(&format!("/images/detail?name=batch-img-{i}")).await;
        assert_eq!(imgs["images"][0]["status"], "ACTIVE");
    }
}

/// Nova's createImage can fail with a 500 after it made the Glance image (its database write
/// failed: REFERENCE §10.2), leaving an image `queued` that no snapshot will ever fill. The
/// apply must not adopt and wait for it: it sees the server is idle, deletes the orphan and
/// sends createImage again. Each image exists once, active; no orphan is left. Without the
/// handling, the apply waits for the orphan until its create timeout.
#[tokio::test(flavor = "multi_thread")]
async fn a_500_that_leaves_a_queued_image_is_deleted_and_sent_again() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    let mut cfg = sb.provider_block();
    cfg.push_str("data \"server\" \"db\" {\n  name = \"db-01\"\n}\n");
    for n in ["a", "b", "c"] {
        cfg.push_str(&format!(
            "resource \"image\" \"{n}\" {{\n  server_id = data.server.db.id\n  name      = \"orphaned-{n}\"\n  timeouts {{\n    create = \"2m\"\n  }}\n}}\n"
        ));
    }
    work.write("main.snap.hcl", &cfg);
    // Two of the three snapshots fail that way (one of them twice in a row, whichever).
    sb.set_faults(json!({"orphan_next_snapshots": 3})).await;
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let requests = sb.requests().await;
    let posts = requests["by_route"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.starts_with("POST") && k.contains("/action"))
        .map(|(_, v)| v.as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(posts, 6, "three 500s and three snapshots: {requests}");
    let live = images_named(&api, "/images/detail", "orphaned-", "status", true).await;
    assert_eq!(
        live,
        [
            ("orphaned-a".to_string(), "ACTIVE".to_string()),
            ("orphaned-b".into(), "ACTIVE".into()),
            ("orphaned-c".into(), "ACTIVE".into())
        ],
        "each once, active, no queued orphan left"
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// When every attempt ends that way (4 of 4), the apply fails naming the cloud's 500 and how
/// often; every orphan is deleted, state holds neither the image nor an intent, and the next
/// apply makes the image exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn orphans_on_every_attempt_fail_clearly_and_leave_nothing() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}data \"server\" \"db\" {{\n  name = \"db-01\"\n}}\nresource \"image\" \"a\" {{\n  server_id = data.server.db.id\n  name      = \"orphaned-always\"\n}}\n",
            sb.provider_block()
        ),
    );
    sb.set_faults(json!({"orphan_next_snapshots": 4})).await;
    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("HTTP 500"), "the status: {r:?}");
    assert!(
        r.stderr.contains("Unexpected API Error"),
        "the cloud's message: {r:?}"
    );
    assert!(r.stderr.contains("4 times"), "{r:?}");
    assert_eq!(
        images_named(&api, "/images/detail", "orphaned-always", "status", true).await,
        [],
        "every orphan deleted"
    );
    let pulled: serde_json::Value =
        serde_json::from_str(&work.run(&["state", "pull"]).stdout).expect("state");
    assert_eq!(
        pulled["resources"].as_object().map(|m| m.len()),
        Some(0),
        "{pulled}"
    );
    assert_eq!(
        pulled["journal"].as_array().map(|j| j.len()).unwrap_or(0),
        0,
        "{pulled}"
    );
    let r = work.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(live_images(&api, "orphaned-always").await.len(), 1);
}

/// A snapshot the cloud stops making after accepting it (nova-compute restarted mid-snapshot:
/// the image stays queued, the server shows no task) fails the apply soon, not at the create
/// timeout, naming it; the image is tainted, and the next apply replaces it.
#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_snapshot_fails_soon_and_is_replaced() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "600"]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}data \"server\" \"db\" {{\n  name = \"db-01\"\n}}\nresource \"image\" \"a\" {{\n  server_id = data.server.db.id\n  name      = \"abandoned\"\n}}\n",
            sb.provider_block()
        ),
    );
    let url = sb.url.clone();
    let abandon = tokio::spawn(async move {
        let http = reqwest::Client::new();
        let api = Api::login(&url, "DFW").await;
        for _ in 0..200 {
            let (_, v) = api.get("/images/detail?name=abandoned").await;
            if let Some(id) = v["images"][0]["id"].as_str() {
                let r = http
                    .post(format!("{url}/sandbox/v1/images/{id}/abandon"))
                    .send()
                    .await
                    .expect("abandon");
                assert_eq!(r.status().as_u16(), 204);
                return id.to_string();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the snapshot never appeared");
    });
    let (r, work) = tokio::task::spawn_blocking(move || {
        let r = work.run_env(
            &["apply", "--auto-approve", "--no-color"],
            &[("SNAPFORM_ABANDON_CHECK_SECS", "1")],
        );
        (r, work)
    })
    .await
    .unwrap();
    let orphan = abandon.await.unwrap();
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("the cloud abandoned it") && r.stderr.contains(&orphan),
        "{r:?}"
    );
    let state: serde_json::Value = serde_json::from_str(&work.state().unwrap()).unwrap();
    assert_eq!(state["resources"]["image.a"]["tainted"], true, "{state}");
    sb.set_faults(json!({"snapshot_seconds": 0.0})).await;
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (st, _) = api.get(&format!("/images/{orphan}")).await;
    assert_eq!(
        st, 404,
        "the abandoned image was deleted by the replacement"
    );
    assert_eq!(live_images(&api, "abandoned").await.len(), 1);
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}
