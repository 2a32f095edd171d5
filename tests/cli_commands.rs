//! End-to-end tests of fmt, graph, state rm|mv|pull|push, force-unlock, import and completions:
//! the real binary in a temporary directory, against `snapform sandbox serve` where the cloud
//! is needed (checked and prepared with plain HTTP).

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use serde_json::{Value, json};

const UNFORMATTED: &str = "# Golden images\nresource   \"image\"  \"golden\"{\n    name = \"golden\"   # the name\n  server_id= data.server.web.id\n\n\tmetadata = {\n  owner = \"ops\"\n      role=\"web\"\n  }\n}\n\n\n";
const FORMATTED: &str = "# Golden images\nresource \"image\" \"golden\" {\n  name      = \"golden\" # the name\n  server_id = data.server.web.id\n\n  metadata = {\n    owner = \"ops\"\n    role  = \"web\"\n  }\n}\n";

#[test]
fn fmt_check_diff_rewrite_and_idempotence() {
    let work = Work::new();
    work.write("main.snap.hcl", UNFORMATTED);
    work.write("ok.snap.hcl", FORMATTED);
    let read = || std::fs::read_to_string(work.path().join("main.snap.hcl")).unwrap();

    let r = work.run(&["fmt", "--check"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(
        r.stdout, "main.snap.hcl\n",
        "lists only the file that would change"
    );
    assert_eq!(read(), UNFORMATTED, "--check changes nothing");

    let r = work.run(&["fmt", "--check", "--diff"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stdout.contains("--- a/main.snap.hcl"), "{r:?}");
    assert!(r.stdout.contains("+++ b/main.snap.hcl"), "{r:?}");
    assert!(
        r.stdout.contains("-  server_id= data.server.web.id"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("+  server_id = data.server.web.id"),
        "{r:?}"
    );

    let r = work.run(&["fmt"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "main.snap.hcl\n", "{r:?}");
    assert_eq!(read(), FORMATTED, "comments kept, = aligned, indented");

    // Formatting formatted text changes nothing.
    let r = work.run(&["fmt"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:?}");
    assert_eq!(read(), FORMATTED);
    let r = work.run(&["fmt", "--check"]);
    assert_eq!(r.code, 0, "{r:?}");

    // Named files only.
    work.write("other.snap.hcl", "locals {\nx=1\n}\n");
    let r = work.run(&["fmt", "other.snap.hcl"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "other.snap.hcl\n"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("other.snap.hcl")).unwrap(),
        "locals {\n  x = 1\n}\n"
    );
}

#[test]
fn fmt_reports_syntax_errors_and_leaves_the_file_alone() {
    let work = Work::new();
    let bad = "resource \"image\" \"x\" {\n  name = \n}\n";
    work.write("bad.snap.hcl", bad);
    work.write("fine.snap.hcl", "locals {\nx=1\n}\n");
    let r = work.run(&["fmt"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("bad.snap.hcl:2:10"), "{r:?}");
    assert!(r.stderr.contains("syntax error"), "{r:?}");
    assert!(
        r.stderr.contains("bad.snap.hcl was left unchanged"),
        "{r:?}"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join("bad.snap.hcl")).unwrap(),
        bad
    );
    let r = work.run(&["fmt", "missing.snap.hcl"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("expected a file or directory"), "{r:?}");
}

const GRAPH_CONFIG: &str = r#"
provider "rackspace" {
  sandbox = ".snapform/sandbox"
}
variable "retention" {
  default = 7
}
locals {
  owner = "ops"
}
data "server" "web" {
  name = "web-01"
}
resource "image_schedule" "web" {
  server_id = data.server.web.id
  retention = var.retention
}
resource "image" "golden" {
  server_id = data.server.web.id
  name      = "golden"
  metadata  = { owner = local.owner }
}
output "id" {
  value = image.golden.id
}
"#;

#[test]
fn graph_prints_sorted_dot_of_every_block() {
    let work = Work::new();
    work.write("main.snap.hcl", GRAPH_CONFIG);
    let r = work.run(&["graph"]);
    assert_eq!(r.code, 0, "{r:?}");
    let want_edges = [
        "\"image.golden\" -> \"data.server.web\";",
        "\"image.golden\" -> \"local.owner\";",
        "\"image_schedule.web\" -> \"data.server.web\";",
        "\"image_schedule.web\" -> \"var.retention\";",
        "\"output.id\" -> \"image.golden\";",
    ];
    let edges: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("->"))
        .map(str::trim)
        .collect();
    assert_eq!(edges, want_edges, "{r:?}");
    let nodes: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains(" [shape"))
        .map(|l| l.trim().split(' ').next().unwrap())
        .collect();
    assert_eq!(
        nodes,
        [
            "\"data.server.web\"",
            "\"image.golden\"",
            "\"image_schedule.web\"",
            "\"local.owner\"",
            "\"output.id\"",
            "\"provider.rackspace\"",
            "\"var.retention\""
        ]
    );
    assert!(r.stdout.starts_with("digraph snapform {"), "{r:?}");
    assert!(
        !work.path().join(".snapform").exists(),
        "graph started no sandbox"
    );
    let again = work.run(&["graph"]);
    assert_eq!(again.stdout, r.stdout, "deterministic");
}

fn resource(addr: &str, id: &str, deps: &[&str]) -> Value {
    let (kind, name) = addr.split_once('.').unwrap();
    json!({"address": addr, "kind": kind, "name": name, "provider": "rackspace", "id": id,
           "attributes": {"id": id}, "managed_keys": [], "tainted": false, "dependencies": deps})
}

fn state_json(serial: u64, lineage: &str) -> Value {
    json!({
        "format_version": 1, "serial": serial, "lineage": lineage, "snapform_version": "0.1.0",
        "resources": {
            "image.a": resource("image.a", "img-1", &[]),
            "image_metadata.m": resource("image_metadata.m", "img-1", &["image.a"]),
            "image_schedule.s": resource("image_schedule.s", "srv-1", &[]),
        },
        "outputs": {}, "journal": [], "cursors": {}
    })
}

fn read_state(work: &Work) -> Value {
    serde_json::from_str(&work.state().expect("state file")).unwrap()
}

#[test]
fn state_rm_mv_pull_push() {
    let work = Work::new();
    work.write("snapform.state.json", &state_json(5, "L1").to_string());

    // rm: all or nothing; forgets, bumps the serial, keeps a backup.
    let r = work.run(&["state", "rm", "image_schedule.s", "image.nope"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("image.nope"), "{r:?}");
    assert_eq!(read_state(&work)["serial"], 5, "nothing removed");
    let r = work.run(&["state", "rm", "image_schedule.s"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("still in the cloud"), "{r:?}");
    let s = read_state(&work);
    assert_eq!(s["serial"], 6);
    assert!(s["resources"].get("image_schedule.s").is_none());
    assert!(work.path().join("snapform.state.json.backup").exists());

    // mv: renames, fixes dependencies; refuses a type change or an occupied address.
    let r = work.run(&["state", "mv", "image.a", "image_metadata.a"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("cannot become"), "{r:?}");
    let r = work.run(&["state", "mv", "image.a", "image.b"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s = read_state(&work);
    assert_eq!(s["serial"], 7);
    assert_eq!(s["resources"]["image.b"]["name"], "b");
    assert_eq!(s["resources"]["image.b"]["address"], "image.b");
    assert_eq!(
        s["resources"]["image_metadata.m"]["dependencies"],
        json!(["image.b"])
    );
    let r = work.run(&["state", "mv", "image_metadata.m", "image.b"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = work.run(&["state", "list"]);
    assert_eq!(r.stdout, "image.b\nimage_metadata.m\n", "{r:?}");

    // pull prints the state as it is on disk.
    let r = work.run(&["state", "pull"]);
    assert_eq!(r.code, 0, "{r:?}");
    let pulled: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(pulled, read_state(&work));

    // push: refuses an older serial or another lineage unless --force; bumps the serial.
    let older = work.path().join("older.json");
    std::fs::write(&older, state_json(3, "L1").to_string()).unwrap();
    let r = work.run(&["state", "push", "older.json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("older than the current serial 7"),
        "{r:?}"
    );
    std::fs::write(&older, state_json(9, "L2").to_string()).unwrap();
    let r = work.run(&["state", "push", "older.json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("lineage L2"), "{r:?}");
    assert_eq!(
        read_state(&work)["serial"],
        7,
        "refused pushes change nothing"
    );
    let mut edited = pulled.clone();
    edited["resources"]
        .as_object_mut()
        .unwrap()
        .remove("image_metadata.m");
    std::fs::write(work.path().join("edited.json"), edited.to_string()).unwrap();
    let r = work.run(&["state", "push", "edited.json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s = read_state(&work);
    assert_eq!(s["serial"], 8);
    assert!(s["resources"].get("image_metadata.m").is_none());
    let r = work.run(&["state", "push", "--force", "older.json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s = read_state(&work);
    assert_eq!(
        (s["lineage"].as_str(), s["serial"].as_u64()),
        (Some("L2"), Some(10))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(work.path().join("snapform.state.json")).unwrap();
        assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn state_commands_wait_for_the_lock_and_force_unlock_never_breaks_a_live_one() {
    let work = Work::new();
    work.write("snapform.state.json", &state_json(1, "L1").to_string());
    let r = work.run(&["force-unlock"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("no lock file"), "{r:?}");

    // Hold the lock as another run would (an OS file lock on the .lock file).
    let lock_path = work.path().join("snapform.state.json.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(&lock_path, "pid 4242 since 2026-01-01T00:00:00Z").unwrap();
    for cmd in [
        &["state", "rm", "image.a"][..],
        &["state", "mv", "image.a", "image.b"][..],
        &["state", "pull"][..],
        &["state", "push", "snapform.state.json"][..],
    ] {
        let r = work.run(cmd);
        assert_eq!(r.code, 1, "{cmd:?} {r:?}");
        assert!(
            r.stderr.contains("locked by another run (pid 4242"),
            "{cmd:?} {r:?}"
        );
        // The way out a live lock has (force-unlock never breaks one).
        assert!(r.stderr.contains("-lock-timeout"), "{cmd:?} {r:?}");
        assert!(!r.stderr.contains("force-unlock"), "{cmd:?} {r:?}");
    }
    let r = work.run(&["force-unlock", "some-id"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("locked by a running process (pid 4242"),
        "{r:?}"
    );
    assert!(r.stderr.contains("never"), "{r:?}");
    assert_eq!(read_state(&work)["serial"], 1, "state untouched");

    drop(lock);
    let r = work.run(&["force-unlock", "some-id"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("stale lock cannot exist"), "{r:?}");
    let r = work.run(&["state", "rm", "image.a"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn completions_for_bash_zsh_fish() {
    let work = Work::new();
    for (shell, marker) in [
        ("bash", "_snapform()"),
        ("zsh", "#compdef snapform"),
        ("fish", "complete -c snapform"),
    ] {
        let r = work.run(&["completions", shell]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains(marker), "{shell}: {r:?}");
        assert!(
            r.stdout.contains("force-unlock"),
            "{shell} knows the commands"
        );
    }
    let r = work.run(&["completions", "tcsh"]);
    assert_eq!(
        r.code, 1,
        "an unknown shell is a usage error (exit 1, as Terraform): {r:?}"
    );
}

/// Polls (bounded) until the image is ACTIVE.
async fn wait_active(api: &Api, id: &str) {
    for _ in 0..100 {
        let (_, img) = api.get(&format!("/images/{id}")).await;
        if img["image"]["status"] == "ACTIVE" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("image {id} never became ACTIVE");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_adopts_objects_and_plan_then_shows_no_changes() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let (_, servers) = api.get("/servers/detail?name=web-01").await;
    let server = servers["servers"][0]["id"].as_str().unwrap().to_string();
    let base = servers["servers"][0]["image"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Objects made by hand, outside snapform.
    let (st, _) = api
        .call(
            "POST",
            &format!("/servers/{server}/action"),
            Some(json!({"createImage": {"name": "hand-made", "metadata": {"owner": "ops", "other": "x", "cost_center": "cc-42"}}})),
        )
        .await;
    assert_eq!(st, 202);
    let (_, found) = api
        .get(&format!("/images/detail?server={server}&name=hand-made"))
        .await;
    let image = found["images"][0]["id"].as_str().unwrap().to_string();
    wait_active(&api, &image).await;
    let (st, _) = api
        .call(
            "POST",
            &format!("/servers/{server}/rax-si-image-schedule"),
            Some(json!({"image_schedule": {"retention": 4, "day_of_week": "MONDAY"}})),
        )
        .await;
    assert_eq!(st, 200);

    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"
provider "rackspace" {{
  auth_url = "{}"
  username = "demo"
  api_key  = "demo"
  region   = "DFW"
}}
data "server" "web" {{
  name = "web-01"
}}
resource "image" "golden" {{
  server_id = data.server.web.id
  name      = "hand-made"
  metadata  = {{ owner = "ops" }}
}}
resource "image_schedule" "web" {{
  server_id   = data.server.web.id
  retention   = 4
  day_of_week = "monday"
}}
resource "image_metadata" "cost" {{
  image_id = image.golden.id
  metadata = {{ cost_center = "cc-42" }}
}}
"#,
            sb.auth_url()
        ),
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "nothing imported yet: {r:?}");

    // Refusals: undeclared address, a base image as `image`, a server without schedule.
    let r = work.run(&["import", "image.nope", &image]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("declared: image.golden, image_metadata.cost, image_schedule.web"),
        "{r:?}"
    );
    let r = work.run(&["import", "image.golden", &base]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("base image"), "{r:?}");
    // image_metadata on a base image that lacks its keys: the cloud would refuse every write.
    let r = work.run(&["import", "image_metadata.cost", &base]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("base image") && r.stderr.contains("no key \"cost_center\""),
        "{r:?}"
    );
    let (_, db) = api.get("/servers/detail?name=db-01").await;
    let db = db["servers"][0]["id"].as_str().unwrap().to_string();
    let r = work.run(&["import", "image_schedule.web", &db]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("scheduled-images policy"), "{r:?}");
    assert!(work.state().is_none(), "refused imports write no state");

    for (addr, id) in [
        ("image.golden", &image),
        ("image_schedule.web", &server),
        ("image_metadata.cost", &image),
    ] {
        let r = work.run(&["import", addr, id]);
        assert_eq!(r.code, 0, "{addr}: {r:?}");
        assert!(r.stderr.contains(&format!("as {addr}")), "{r:?}");
    }
    let r = work.run(&["import", "image.golden", &image]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("already in state"), "{r:?}");

    let s = read_state(&work);
    assert_eq!(s["serial"], 3, "one write per import");
    assert_eq!(
        s["resources"]["image.golden"]["managed_keys"],
        json!(["owner"])
    );
    assert_eq!(
        s["resources"]["image_metadata.cost"]["managed_keys"],
        json!(["cost_center"])
    );
    assert_eq!(
        s["resources"]["image.golden"]["dependencies"],
        json!(["data.server.web"])
    );

    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "imported objects match the configuration: {r:?}");
    assert!(r.stdout.contains("No changes."), "{r:?}");

    let before = api.request_total().await;
    let r = work.run(&["state", "rm", "image_metadata.cost"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        api.request_total().await <= before + 1,
        "state rm calls no cloud"
    );
    let (_, md) = api.get(&format!("/images/{image}/metadata")).await;
    assert_eq!(
        md["metadata"]["cost_center"], "cc-42",
        "state rm only forgets"
    );
}
