//! Incremental refresh through the binary: after an apply, a plan asks the cloud only for
//! `changes-since` the stored cursor, still sees what was changed or deleted behind
//! snapform's back, and plans exactly what a full refresh plans.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use serde_json::{Value, json};

/// The fixture snapshot `web-01-golden` (owned by the demo tenant) and the DFW CentOS base.
const GOLDEN: &str = "59efc252-9f1c-4d78-8db2-562937c835d4";
const CENTOS: &str = "cd5a4063-c1ba-4514-b57b-5091dd1edb63";

/// Applies the configuration; the base image's metadata (read-only to the tenant) is imported.
fn apply_and_import(work: &Work, sb: &ServedSandbox) {
    let cfg = config(sb);
    let without_base = &cfg[..cfg
        .find("resource \"image_metadata\" \"base\"")
        .expect("base")];
    work.write("main.snap.hcl", without_base);
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    work.write("main.snap.hcl", &cfg);
    let r = work.run(&["import", "image_metadata.base", CENTOS]);
    assert_eq!(r.code, 0, "{r:?}");
}

fn config(sb: &ServedSandbox) -> String {
    format!(
        r#"provider "rackspace" {{
  auth_url = "{auth}"
  username = "demo"
  api_key  = "demo"
  region   = "DFW"
}}
data "server" "web" {{
  name = "web-01"
}}
resource "image" "a" {{
  server_id = data.server.web.id
  name      = "incr-a"
  metadata  = {{ role = "web" }}
}}
resource "image_metadata" "golden" {{
  image_id = "{GOLDEN}"
  metadata = {{ team = "blue" }}
}}
data "server" "db" {{
  name = "db-01"
}}
resource "image_schedule" "db" {{
  server_id = data.server.db.id
  retention = 2
}}
resource "image_metadata" "base" {{
  image_id    = "{CENTOS}"
  metadata    = {{ os_type = "linux" }}
  absent_keys = ["not-there"]
}}
"#,
        auth = sb.auth_url()
    )
}

fn state(work: &Work) -> Value {
    serde_json::from_str(&work.state().expect("state file")).expect("state json")
}

fn cursor(work: &Work) -> Option<String> {
    state(work)["cursors"]["images:rackspace"]
        .as_str()
        .map(str::to_owned)
}

/// `plan --json` without the time it was made.
fn plan_json(work: &Work) -> Value {
    let r = work.run(&["plan", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut v: Value = serde_json::from_str(&r.stdout).expect("plan json");
    // When the plan was made is not part of what it plans.
    v.as_object_mut().expect("object").remove("timestamp");
    v
}

/// The same plan from a full refresh: a copy of the work directory whose state has no cursor.
fn full_plan_json(work: &Work, sb: &ServedSandbox) -> Value {
    let full = Work::new();
    full.write("main.snap.hcl", &config(sb));
    let mut st = state(work);
    st["cursors"] = json!({});
    full.write("snapform.state.json", &st.to_string());
    let v = plan_json(&full);
    assert_eq!(cursor(&full), None, "a plan never stores a cursor");
    v
}

/// Runs `plan` with debug logging; returns the listing requests it sent (query keys, from
/// the client's log) and the sandbox's counters for it.
async fn logged_plan(work: &Work, sb: &ServedSandbox) -> (Vec<String>, Value) {
    sb.reset_requests().await;
    let r = work.run_env(&["plan"], &[("SNAPFORM_LOG", "debug")]);
    assert_eq!(r.code, 0, "{r:?}");
    let listings = r
        .stderr
        .lines()
        .filter(|l| l.contains("/images/detail") && l.contains("DEBUG"))
        .map(str::to_owned)
        .collect();
    (listings, sb.requests().await["by_route"].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_after_apply_is_incremental_and_still_sees_changes_and_deletions() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    apply_and_import(&work, &sb);
    let first = cursor(&work).expect("apply stored a cursor");

    // Nothing changed: one changes-since listing, no per-image GET, nothing to do.
    let (listings, by) = logged_plan(&work, &sb).await;
    assert_eq!(by["GET /images/detail"], 1, "{by}");
    assert!(by.get("GET /images/{id}").is_none(), "{by}");
    assert_eq!(listings.len(), 1, "{listings:?}");
    assert!(listings[0].contains("changes-since"), "{listings:?}");
    let incremental = plan_json(&work);
    assert_eq!(
        incremental["snapform"]["summary"],
        json!({"add": 0, "change": 0, "destroy": 0})
    );
    assert_eq!(incremental, full_plan_json(&work, &sb));
    assert_eq!(
        cursor(&work).as_deref(),
        Some(first.as_str()),
        "plans never move it"
    );

    // A metadata value changed behind snapform's back (plain HTTP) is detected.
    let (st, _) = api
        .call(
            "PUT",
            &format!("/images/{GOLDEN}/metadata/team"),
            Some(json!({"meta": {"team": "red"}})),
        )
        .await;
    assert_eq!(st, 200);
    let (listings, _) = logged_plan(&work, &sb).await;
    assert!(listings[0].contains("changes-since"), "{listings:?}");
    let incremental = plan_json(&work);
    assert_eq!(
        incremental["snapform"]["summary"]["change"], 1,
        "{incremental}"
    );
    assert_eq!(incremental, full_plan_json(&work, &sb));

    // An image deleted behind its back is detected (it comes back DELETED).
    let id = state(&work)["resources"]["image.a"]["id"]
        .as_str()
        .expect("image id")
        .to_string();
    let (st, _) = api.call("DELETE", &format!("/images/{id}"), None).await;
    assert_eq!(st, 204);
    let incremental = plan_json(&work);
    assert_eq!(
        incremental["snapform"]["summary"]["add"], 1,
        "{incremental}"
    );
    assert_eq!(incremental, full_plan_json(&work, &sb));

    // Apply brings both back and moves the cursor; the plan after it is empty again.
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let after = cursor(&work).expect("cursor");
    assert!(after >= first, "{after} < {first}");
    let (listings, by) = logged_plan(&work, &sb).await;
    assert!(listings[0].contains("changes-since"), "{listings:?} {by}");
    let incremental = plan_json(&work);
    assert_eq!(
        incremental["snapform"]["summary"],
        json!({"add": 0, "change": 0, "destroy": 0})
    );
    assert_eq!(incremental, full_plan_json(&work, &sb));
}

/// Without a usable cursor (none, unreadable, or older than the 30-day window) the plan lists
/// everything, and its result is the same.
#[tokio::test(flavor = "multi_thread")]
async fn stale_or_missing_cursor_falls_back_to_the_full_listing() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    apply_and_import(&work, &sb);
    let expected = plan_json(&work);
    for stale in [
        json!("2001-01-01T00:00:00Z"),
        json!("not a time"),
        Value::Null,
    ] {
        let mut st = state(&work);
        match &stale {
            Value::Null => st["cursors"] = json!({}),
            v => st["cursors"]["images:rackspace"] = v.clone(),
        }
        work.write("snapform.state.json", &st.to_string());
        let (listings, by) = logged_plan(&work, &sb).await;
        assert_eq!(by["GET /images/detail"], 1, "{by}");
        assert!(
            !listings[0].contains("changes-since"),
            "{stale}: {listings:?}"
        );
        assert_eq!(plan_json(&work), expected, "{stale}");
    }
}
