//! End-to-end tests: the real `snapform` binary against `snapform sandbox serve` on an ephemeral
//! loopback port, checked with plain HTTP calls to the sandbox.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};

fn config(auth_url: &str) -> String {
    format!(
        r#"
provider "rackspace" {{
  auth_url = "{auth_url}"
  username = "demo"
  api_key  = "demo"
  region   = "DFW"
}}

variable "retention" {{
  type    = number
  default = 7
}}

data "server" "web" {{
  name = "web-01"
}}

resource "image_schedule" "web" {{
  server_id   = data.server.web.id
  retention   = var.retention
  day_of_week = "saturday"
}}

resource "image" "golden" {{
  server_id = data.server.web.id
  name      = "golden-web"
  metadata = {{
    owner = "ops"
    role  = "web"
  }}
}}

resource "image_metadata" "cost" {{
  image_id = image.golden.id
  metadata = {{
    cost_center = "cc-42"
  }}
}}

output "image_id" {{
  value = image.golden.id
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_apply_update_drift_destroy_round_trip() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb.auth_url()));

    // 2. plan says 3 to add and exits 2; apply creates exactly that; a second plan exits 0.
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{r:?}"
    );
    assert!(r.stdout.contains("(known after apply)"), "{r:?}");

    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let out = work.run(&["output", "-raw", "image_id"]);
    let image_id = out.stdout.trim().to_string();
    assert_eq!(image_id.len(), 36, "{out:?}");

    let (_, servers) = api.get("/servers/detail?name=web-01").await;
    let server_id = servers["servers"][0]["id"].as_str().unwrap().to_string();
    let (st, sched) = api
        .get(&format!("/servers/{server_id}/rax-si-image-schedule"))
        .await;
    assert_eq!(st, 200);
    assert_eq!(sched["image_schedule"]["retention"], 7);
    assert_eq!(sched["image_schedule"]["day_of_week"], "SATURDAY");
    let (st, img) = api.get(&format!("/images/{image_id}")).await;
    assert_eq!(st, 200);
    assert_eq!(img["image"]["name"], "golden-web");
    assert_eq!(img["image"]["status"], "ACTIVE");
    assert_eq!(img["image"]["server"]["id"], server_id.as_str());
    let md = &img["image"]["metadata"];
    assert_eq!(md["owner"], "ops");
    assert_eq!(md["role"], "web");
    assert_eq!(md["cost_center"], "cc-42");
    let (_, snaps) = api
        .get(&format!(
            "/images/detail?server={server_id}&name=golden-web"
        ))
        .await;
    assert_eq!(
        snaps["images"].as_array().unwrap().len(),
        1,
        "exactly one snapshot"
    );

    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");

    // 3. A variable change plans `7 -> 14` and applies it.
    let r = work.run(&["plan", "--detailed-exitcode", "--var", "retention=14"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("~ retention   = 7 -> 14"), "{r:?}");
    assert!(
        r.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{r:?}"
    );
    let r = work.run(&["apply", "--auto-approve", "--var", "retention=14"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (_, sched) = api
        .get(&format!("/servers/{server_id}/rax-si-image-schedule"))
        .await;
    assert_eq!(sched["image_schedule"]["retention"], 14);

    // Metadata changed behind snapform's back shows and is restored; an undeclared key does not.
    let (st, _) = api
        .call(
            "POST",
            &format!("/images/{image_id}/metadata"),
            Some(serde_json::json!({"metadata": {"owner": "mallory", "added_by_hand": "x"}})),
        )
        .await;
    assert_eq!(st, 200);
    let r = work.run(&["plan", "--detailed-exitcode", "--var", "retention=14"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("\"owner\" = \"mallory\" -> \"ops\""),
        "{r:?}"
    );
    assert!(!r.stdout.contains("added_by_hand"), "{r:?}");
    let r = work.run(&["apply", "--auto-approve", "--var", "retention=14"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (_, md) = api.get(&format!("/images/{image_id}/metadata")).await;
    assert_eq!(md["metadata"]["owner"], "ops");
    assert_eq!(
        md["metadata"]["added_by_hand"], "x",
        "keys nobody declares are left alone"
    );
    let r = work.run(&["plan", "--detailed-exitcode", "--var", "retention=14"]);
    assert_eq!(r.code, 0, "{r:?}");

    // 4. destroy removes the schedule and the image, and leaves base images and servers alone.
    let (_, before_servers) = api.get("/servers/detail").await;
    let (_, base_before) = api.get("/images/detail?type=BASE").await;
    let r = work.run(&["destroy", "--auto-approve", "--var", "retention=14"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (st, _) = api
        .get(&format!("/servers/{server_id}/rax-si-image-schedule"))
        .await;
    assert_eq!(st, 404);
    let (st, _) = api.get(&format!("/images/{image_id}")).await;
    assert_eq!(st, 404);
    let (_, after_servers) = api.get("/servers/detail").await;
    let (_, base_after) = api.get("/images/detail?type=BASE").await;
    assert_eq!(
        before_servers["servers"].as_array().unwrap().len(),
        after_servers["servers"].as_array().unwrap().len()
    );
    assert_eq!(base_before["images"], base_after["images"]);
    assert!(!base_after["images"].as_array().unwrap().is_empty());
}

/// 5. Configuration mistakes exit 1 naming file and line; nothing reaches the cloud; state is
/// untouched.
#[tokio::test(flavor = "multi_thread")]
async fn config_errors_name_the_place_and_send_nothing() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb.auth_url()));
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let state_before = work.state().expect("state written");

    let provider = format!(
        "provider \"rackspace\" {{\n  auth_url = \"{}\"\n  username = \"demo\"\n  api_key = \"demo\"\n  region = \"DFW\"\n}}\n",
        sb.auth_url()
    );
    let cases: &[(&str, &str, &str)] = &[
        (
            "resource \"image\" \"x\" {\n  name = \n}\n",
            "bad.snap.hcl:2:",
            "syntax error",
        ),
        (
            "resource \"image_schedule\" \"x\" {\n  server_id = \"a\"\n  retention = 3\n  colour = \"red\"\n}\n",
            "bad.snap.hcl:4:3",
            "unknown attribute \"colour\"",
        ),
        (
            "resource \"image_schedule\" \"x\" {\n  server_id = \"a\"\n  retention = 0\n}\n",
            "bad.snap.hcl:3:",
            "retention must be a whole number from 1 to 65535",
        ),
        (
            "resource \"image\" \"x\" {\n  server_id = image.nope.id\n  name = \"n\"\n}\n",
            "bad.snap.hcl:2:15",
            "undeclared resource \"image.nope\"",
        ),
    ];
    for (text, place, what) in cases {
        work.write("bad.snap.hcl", text);
        let _ = &provider;
        let before = api.request_total().await;
        for cmd in [
            &["plan"][..],
            &["apply", "--auto-approve"][..],
            &["validate"][..],
        ] {
            let r = work.run(cmd);
            assert_eq!(r.code, 1, "{cmd:?} {r:?}");
            assert!(r.stderr.contains(place), "{cmd:?} wants {place}: {r:?}");
            assert!(r.stderr.contains(what), "{cmd:?} wants {what}: {r:?}");
        }
        let after = api.request_total().await;
        // Only our own counter read happened in between.
        assert!(
            after <= before + 1,
            "requests were sent: {before} -> {after}"
        );
        assert_eq!(
            work.state().as_deref(),
            Some(state_before.as_str()),
            "state untouched"
        );
    }
}

#[test]
fn quickstart_runs_against_the_embedded_sandbox() {
    let work = Work::new();
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.snap.hcl"),
    )
    .unwrap();
    work.write("main.snap.hcl", &src);
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("Apply complete! Resources: 3 added"),
        "{r:?}"
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("No changes."), "{r:?}");
    // The sandbox persisted its state in the directory.
    assert!(work.path().join(".snapform/sandbox").is_dir());
}

#[test]
fn saved_plan_applies_and_refuses_when_stale() {
    let work = Work::new();
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.snap.hcl"),
    )
    .unwrap();
    work.write("main.snap.hcl", &src);
    let r = work.run(&["plan", "--out", "p.json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "--out", "p2.json", "--var", "retention=9"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["apply", "p.json"]);
    assert_eq!(r.code, 0, "{r:?}");
    // p2 was made against the old (empty) state: stale now.
    let r = work.run(&["apply", "p2.json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Saved plan is stale"), "{r:?}");
}

const SINGLE_IMAGE: &str = r#"
provider "rackspace" {
  sandbox = ".snapform/sandbox"
}
data "server" "web" {
  name = "web-01"
}
resource "image" "golden" {
  server_id = data.server.web.id
  name      = "golden-kill-test"
}
"#;

/// An intent journaled before `createImage` whose result never reached state is adopted by the
/// next plan, not created again.
#[test]
fn journaled_create_is_adopted_not_duplicated() {
    let work = Work::new();
    work.write("main.snap.hcl", SINGLE_IMAGE);
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut state: serde_json::Value = serde_json::from_str(&work.state().unwrap()).unwrap();
    let rs = state["resources"]["image.golden"].clone();
    let id = rs["id"].as_str().unwrap().to_string();
    let server = rs["attributes"]["server_id"].as_str().unwrap().to_string();
    // Simulate a kill between the journal write and recording the new image's id.
    state["resources"]
        .as_object_mut()
        .unwrap()
        .remove("image.golden");
    state["journal"] = serde_json::json!([{
        "id": "intent-1", "address": "image.golden", "operation": "create_image",
        "detail": {"server_id": server, "name": "golden-kill-test", "provider": "rackspace"},
        "started": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }]);
    std::fs::write(
        work.path().join("snapform.state.json"),
        serde_json::to_string_pretty(&state).unwrap(),
    )
    .unwrap();
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "adopted, so nothing to create: {r:?}");
    assert!(r.stderr.contains(&format!("adopted image {id}")), "{r:?}");
    let state: serde_json::Value = serde_json::from_str(&work.state().unwrap()).unwrap();
    assert_eq!(state["resources"]["image.golden"]["id"], id.as_str());
    assert_eq!(state["journal"], serde_json::json!([]));
}

/// Killing apply while a snapshot is saving leaves an image that state knows about: the next
/// apply does not create a second one.
#[test]
fn killed_apply_leaves_no_orphan() {
    let work = Work::new();
    work.write("main.snap.hcl", SINGLE_IMAGE);
    let mut child = std::process::Command::new(cli_support::bin())
        .args(["apply", "--auto-approve"])
        .current_dir(work.path())
        .env("SNAPFORM_POLL_MS", "100")
        .env("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "30")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (bounded) until the new image is in state, then kill -9.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if work.state().is_some_and(|s| s.contains("image.golden")) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "apply never recorded the image"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["state", "pull"]);
    let state: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let id = state["resources"]["image.golden"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Count the images with that name, through a sandbox serving the persisted directory.
    let data = work.path().join(".snapform/sandbox");
    let sb = ServedSandbox::start(&["--data", data.to_str().unwrap()]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let images = rt.block_on(async {
        let api = Api::login(&sb.url, "DFW").await;
        api.get("/images/detail?name=golden-kill-test").await.1
    });
    let list = images["images"].as_array().unwrap();
    assert_eq!(list.len(), 1, "exactly one image: {images}");
    assert_eq!(list[0]["id"], id.as_str());
}

/// `name` and `deactivated` change in place through the Image API v2.
#[test]
fn rename_and_deactivate_in_place() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"
provider "rackspace" {
  sandbox = ".snapform/sandbox"
}
variable "off" {
  type    = bool
  default = false
}
variable "name" {
  default = "img-a"
}
data "server" "w" {
  name = "web-02"
}
resource "image" "i" {
  server_id   = data.server.w.id
  name        = var.name
  deactivated = var.off
}
"#,
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let vars = ["--var", "off=true", "--var", "name=img-b"];
    let r = work.run(&[&["plan", "--detailed-exitcode"][..], &vars].concat());
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("~ deactivated = false -> true"), "{r:?}");
    assert!(
        r.stdout.contains("~ name        = \"img-a\" -> \"img-b\""),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{r:?}"
    );
    let r = work.run(&[&["apply", "--auto-approve"][..], &vars].concat());
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&[&["plan", "--detailed-exitcode"][..], &vars].concat());
    assert_eq!(
        r.code, 0,
        "deactivated image reads back as deactivated: {r:?}"
    );
    let r = work.run(&["state", "show", "image.i"]);
    assert!(
        r.stdout.contains("status ") && r.stdout.contains("= \"UNKNOWN\""),
        "compute shows deactivated as UNKNOWN: {r:?}"
    );
    assert!(r.stdout.contains("resource \"image\" \"i\" {"), "{r:?}");
    assert!(r.stdout.contains("= \"img-b\""), "{r:?}");
    // And back.
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// The `openstack` preset (Keystone v3) works against the sandbox too.
#[test]
fn openstack_preset_against_the_sandbox() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"
provider "openstack" {
  sandbox = ".snapform/sandbox"
  region  = "ORD"
}
data "server" "w" {
  name = "web-03"
}
data "image" "base" {
  id = data.server.w.image_id
}
resource "image" "snap" {
  server_id = data.server.w.id
  name      = "os-${lower(data.image.base.name)}"
  metadata  = { from = data.image.base.id }
}
output "name" {
  value = image.snap.name
}
"#,
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["output", "-raw", "name"]);
    assert_eq!(
        r.stdout.trim(),
        "os-ubuntu 15.04 (vivid vervet) (pvhvm)",
        "{r:?}"
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Credentials reach the provider but never a plan file, the state or an error message.
#[test]
fn credentials_stay_out_of_plans_state_and_errors() {
    let secret = "s3cr3t-key-1234";
    let sb = ServedSandbox::start(&["--user", &format!("alice:{secret}")]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"
variable "key" {{}}
provider "rackspace" {{
  auth_url = "{}"
  username = "alice"
  api_key  = var.key
  region   = "DFW"
}}
data "server" "w" {{
  name = "db-01"
}}
resource "image_schedule" "s" {{
  server_id = data.server.w.id
  retention = 2
}}
"#,
            sb.auth_url()
        ),
    );
    let env = [("SNAPFORM_VAR_key", secret)];
    let r = work.run_env(&["plan", "--out", "p.json"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let plan = std::fs::read_to_string(work.path().join("p.json")).unwrap();
    assert!(!plan.contains(secret), "the plan file holds the key");
    let r = work.run_env(&["apply", "p.json"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !work.state().unwrap().contains(secret),
        "the state holds the key"
    );
    // A wrong key: the error names the status but never the key.
    let r = work.run_env(&["plan"], &[("SNAPFORM_VAR_key", "wrong-key-5678")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("401"), "{r:?}");
    assert!(
        !r.stderr.contains("wrong-key-5678") && !r.stdout.contains("wrong-key-5678"),
        "{r:?}"
    );
}

/// `count` and `for_each` make instances addressed `[0]` / `["key"]`, referenced by index or
/// key; shrinking the set destroys exactly the instances that left it.
#[test]
fn count_and_for_each_instances() {
    let work = Work::new();
    let cfg = |servers: &str, copies: u32| {
        format!(
            r#"
provider "rackspace" {{
  sandbox = ".snapform/sandbox"
}}
variable "servers" {{
  type    = list(string)
  default = {servers}
}}
data "server" "s" {{
  for_each = toset(var.servers)
  name     = each.key
}}
resource "image_schedule" "s" {{
  for_each  = data.server.s
  server_id = each.value.id
  retention = 3
}}
resource "image" "golden" {{
  count     = {copies}
  server_id = data.server.s["web-01"].id
  name      = "golden-${{count.index}}"
  metadata  = {{ copy = tostring(count.index) }}
}}
resource "image_metadata" "first" {{
  image_id = image.golden[0].id
  metadata = {{ first = "yes" }}
}}
output "ids" {{
  value = image.golden[*].id
}}
"#
        )
    };
    work.write("main.snap.hcl", &cfg("[\"web-01\", \"db-01\"]", 2));
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("# image.golden[1] will be created"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("# image_schedule.s[\"db-01\"] will be created"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Plan: 5 to add"), "{r:?}");
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["state", "list"]);
    assert_eq!(
        r.stdout.lines().collect::<Vec<_>>(),
        [
            "image.golden[0]",
            "image.golden[1]",
            "image_metadata.first",
            "image_schedule.s[\"db-01\"]",
            "image_schedule.s[\"web-01\"]"
        ],
        "{r:?}"
    );
    let r = work.run(&["output", "--json"]);
    let ids: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(ids["ids"]["value"].as_array().unwrap().len(), 2, "{r:?}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Shrink both: exactly the instances that left are destroyed.
    work.write("main.snap.hcl", &cfg("[\"web-01\"]", 1));
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("# image.golden[1] will be destroyed"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("# image_schedule.s[\"db-01\"] will be destroyed"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("0 to add, 0 to change, 2 to destroy"),
        "{r:?}"
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// With every provider block aliased there is no default provider: a block without
/// `provider =` is an error at the block (Terraform's rule), not a silent pick of the first.
#[test]
fn no_default_provider_when_every_provider_is_aliased() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        "provider \"rackspace\" {\n  alias   = \"dfw\"\n  sandbox = \".snapform/sandbox\"\n}\nprovider \"rackspace\" {\n  alias   = \"ord\"\n  sandbox = \".snapform/sandbox\"\n  region  = \"ORD\"\n}\ndata \"server\" \"x\" {\n  name = \"web-03\"\n}\ndata \"server\" \"y\" {\n  provider = rackspace.ord\n  name     = \"web-03\"\n}\n",
    );
    for cmd in ["validate", "plan"] {
        let r = work.run(&[cmd]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(
            r.stderr.contains("main.snap.hcl:10:1: data.server.x has no provider argument, and every provider block has an alias (rackspace.dfw, rackspace.ord)"),
            "{r:?}"
        );
        assert!(!r.stderr.contains("data.server.y"), "{r:?}");
    }
}

/// Two provider instances (`alias`) for two regions, selected with `provider = rackspace.ord`.
#[test]
fn multi_region_with_provider_aliases() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"
provider "rackspace" {
  sandbox = ".snapform/sandbox"
  region  = "DFW"
}
provider "rackspace" {
  alias   = "ord"
  sandbox = ".snapform/sandbox"
  region  = "ORD"
}
data "server" "ord" {
  provider = rackspace.ord
  name     = "web-03"
}
resource "image_schedule" "ord" {
  provider  = rackspace.ord
  server_id = data.server.ord.id
  retention = 3
}
"#,
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let state: serde_json::Value = serde_json::from_str(&work.state().unwrap()).unwrap();
    assert_eq!(
        state["resources"]["image_schedule.ord"]["provider"],
        "rackspace.ord"
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Dropping the aliased provider while state still uses it is refused, naming the resource.
    work.write(
        "main.snap.hcl",
        "provider \"rackspace\" {\n  sandbox = \".snapform/sandbox\"\n}\n",
    );
    let r = work.run(&["plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("image_schedule.ord"), "{r:?}");
    assert!(r.stderr.contains("rackspace.ord"), "{r:?}");
    // web-03 lives in ORD only: through the default (DFW) provider it is not found.
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        "provider \"rackspace\" {\n  sandbox = \".snapform/sandbox\"\n}\ndata \"server\" \"x\" {\n  name = \"web-03\"\n}\noutput \"id\" {\n  value = data.server.x.id\n}\n",
    );
    let r = work.run(&["plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("no server with name \"web-03\""), "{r:?}");
}
