//! Refresh as one batch per provider, counted on the sandbox's request log: a no-change plan of
//! images, schedules and `data "server"` lookups costs one image listing and one server
//! listing — no schedule GET, no `servers/detail?name=` per lookup — and what the listings
//! say is what the per-object reads said (drift and deletion of schedules are still seen).

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use serde_json::{Value, json};

const CONFIG: &str = r#"
variable "servers" {
  default = ["web-01", "web-02", "db-01"]
}
data "server" "s" {
  for_each = toset(var.servers)
  name     = each.value
}
data "image" "base" {
  id = data.server.s["web-01"].image_id
}
data "image" "golden" {
  name = "web-01-golden"
}
resource "image_schedule" "s" {
  for_each  = data.server.s
  server_id = each.value.id
  retention = 3
}
resource "image" "snap" {
  for_each  = data.server.s
  server_id = each.value.id
  name      = "batch-${each.key}"
  metadata  = { base = data.image.base.id, golden = data.image.golden.id }
}
"#;

fn routes(v: &Value) -> Vec<(String, u64)> {
    v["by_route"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

fn count(v: &Value, route: &str) -> u64 {
    routes(v)
        .iter()
        .filter(|(k, _)| k == route)
        .map(|(_, n)| *n)
        .sum()
}

/// `GET /servers/detail?name=...` requests.
fn server_lookups(v: &Value) -> usize {
    v["log"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter(|e| e["route"] == "/servers/detail")
                .filter(|e| e["query"].as_str().is_some_and(|q| q.contains("name=")))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_no_change_plan_is_one_listing_of_each_kind() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write("main.snap.hcl", &format!("{}{CONFIG}", sb.provider_block()));
    let r = work.run(&["apply", "--auto-approve", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");

    sb.reset_requests().await;
    let r = work.run(&["plan", "--detailed-exitcode", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let log = sb.requests().await;
    assert_eq!(
        count(&log, "GET /servers/{id}/rax-si-image-schedule"),
        0,
        "schedules come from the server listing: {:?}",
        routes(&log)
    );
    assert_eq!(count(&log, "GET /servers/detail"), 1, "{:?}", routes(&log));
    assert_eq!(server_lookups(&log), 0, "no server lookup by name: {log}");
    // Auth, the image listing, the server listing, and the two image lookups, which come in
    // two rounds (one waits for a server) of one each: a request each is cheaper than a
    // listing of everything.
    let total = log["total"].as_u64().unwrap();
    assert!(total <= 5, "{:?}", routes(&log));

    // Out of band: one schedule changes, one goes. The listings see both.
    let api = Api::login(&sb.url, "DFW").await;
    let (_, v) = api.get("/servers?name=web-02").await;
    let web02 = v["servers"][0]["id"].as_str().unwrap().to_string();
    let (_, v) = api.get("/servers?name=db-01").await;
    let db01 = v["servers"][0]["id"].as_str().unwrap().to_string();
    let (st, _) = api
        .call(
            "POST",
            &format!("/servers/{web02}/rax-si-image-schedule"),
            Some(json!({"image_schedule": {"retention": 9}})),
        )
        .await;
    assert!(st == 200 || st == 201 || st == 202, "{st}");
    let (st, _) = api
        .call(
            "DELETE",
            &format!("/servers/{db01}/rax-si-image-schedule"),
            None,
        )
        .await;
    assert_eq!(st, 202, "delete schedule");
    let r = work.run(&["plan", "--detailed-exitcode", "--no-color"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("9 -> 3"), "{r:?}");
    assert!(
        r.stdout
            .contains("image_schedule.s[\"db-01\"] will be created"),
        "{r:?}"
    );
    let r = work.run(&["apply", "--auto-approve", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// One lookup alone is asked for directly, not by listing everything.
#[tokio::test(flavor = "multi_thread")]
async fn a_single_lookup_is_one_direct_request() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}data \"server\" \"w\" {{\n  name = \"web-01\"\n}}\noutput \"id\" {{\n  value = data.server.w.id\n}}\n",
            sb.provider_block()
        ),
    );
    sb.reset_requests().await;
    let r = work.run(&["plan", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let log = sb.requests().await;
    assert_eq!(server_lookups(&log), 1, "{log}");
    assert_eq!(count(&log, "GET /servers/detail"), 1, "{log}");
}
