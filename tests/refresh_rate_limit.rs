//! The client-side rate limiter through the binary: against a sandbox that allows 3 POSTs a
//! second, an apply of several metadata changes with a matching `rate_limit_post` never meets
//! a 413; without it the same apply runs into 413s and still completes through retries.

mod cli_support;

use cli_support::{ServedSandbox, Work};
use serde_json::Value;

/// The fixture snapshot `web-01-golden` (owned by the demo tenant).
const GOLDEN: &str = "59efc252-9f1c-4d78-8db2-562937c835d4";
const CHANGES: usize = 9;

fn config(sb: &ServedSandbox, limits: &str) -> String {
    let mut cfg = format!(
        "provider \"rackspace\" {{\n  auth_url = \"{}\"\n  username = \"demo\"\n  api_key  = \"demo\"\n  region   = \"DFW\"\n{limits}}}\n",
        sb.auth_url()
    );
    for i in 0..CHANGES {
        cfg.push_str(&format!(
            "resource \"image_metadata\" \"m{i}\" {{\n  image_id = \"{GOLDEN}\"\n  metadata = {{ key{i} = \"v{i}\" }}\n}}\n"
        ));
    }
    cfg
}

/// Statuses of the sandbox's logged `POST` metadata calls.
async fn metadata_posts(sb: &ServedSandbox) -> Vec<u64> {
    let v: Value = sb.requests().await;
    v["log"]
        .as_array()
        .expect("log")
        .iter()
        .filter(|e| e["method"] == "POST" && e["route"] == "/images/{id}/metadata")
        .map(|e| e["status"].as_u64().unwrap_or(0))
        .collect()
}

async fn apply(limits: &str) -> Vec<u64> {
    let sb = ServedSandbox::start(&["--rate-limit", "POST=3/s"]);
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb, limits));
    let r = work.run(&["apply", "--auto-approve", "--parallelism", "10"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains(&format!("{CHANGES} added")), "{r:?}");
    let again = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "nothing left to do: {again:?}");
    metadata_posts(&sb).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_matching_client_limit_avoids_every_413() {
    let statuses = apply("  rate_limit_post = \"3/s\"\n").await;
    assert_eq!(statuses.len(), CHANGES, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_client_limit_413s_are_retried_to_completion() {
    let statuses = apply("").await;
    assert!(
        statuses.contains(&413),
        "the cloud pushed back: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        CHANGES,
        "{statuses:?}"
    );
}

/// Both attributes accept a number (per minute) or `N/unit`; a bad value is refused early.
#[test]
fn provider_attributes_are_checked() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &config(
            &sb,
            "  rate_limit_get = 1000\n  rate_limit_post = \"100/min\"\n",
        ),
    );
    let r = work.run(&["plan"]);
    assert_eq!(r.code, 0, "{r:?}");
    work.write(
        "main.snap.hcl",
        &config(&sb, "  rate_limit_post = \"lots\"\n"),
    );
    let r = work.run(&["plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("rate_limit_post"), "{r:?}");
}
