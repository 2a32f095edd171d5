//! SIGKILL at the worst moments, then one more apply: the cloud holds exactly the configured
//! images and state matches it — during a `create_before_destroy` replace (killed while the
//! new snapshot's createImage is journaled and in flight, and while the old object is deposed
//! and the new one saving), and during two creates of the same name on one server (killed
//! during the first's call, while the first saves, during the second's call).
//!
//! The sandbox is a separate process (it outlives the killed apply) that answers every request
//! late, after carrying it out (`--reply-latency-ms`): a createImage caught in flight has
//! made its snapshot, and only the answer is lost.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn state(work: &Work) -> Value {
    work.state()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

fn len(v: &Value) -> usize {
    v.as_array()
        .map(Vec::len)
        .or_else(|| v.as_object().map(|o| o.len()))
        .unwrap_or(0)
}

/// The image resources in state, by address: (address, id).
fn state_images(work: &Work) -> Vec<(String, String)> {
    let s = state(work);
    let mut out: Vec<(String, String)> = match &s["resources"] {
        Value::Object(m) => m
            .iter()
            .filter(|(_, r)| r["kind"] == "image")
            .map(|(a, r)| (a.clone(), r["id"].as_str().unwrap_or("").to_string()))
            .collect(),
        Value::Array(a) => a
            .iter()
            .filter(|r| r["kind"] == "image")
            .map(|r| {
                (
                    r["address"].as_str().unwrap_or("").to_string(),
                    r["id"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect(),
        _ => vec![],
    };
    out.sort();
    out
}

/// How many image resources state holds.
fn images_in(st: &Value) -> usize {
    match &st["resources"] {
        Value::Object(m) => m.values().filter(|r| r["kind"] == "image").count(),
        Value::Array(a) => a.iter().filter(|r| r["kind"] == "image").count(),
        _ => 0,
    }
}

/// Starts `snapform args`, waits (bounded) until `ready(state)`, then SIGKILLs it.
fn kill_when(work: &Work, args: &[&str], what: &str, ready: impl Fn(&Value) -> bool) {
    let mut child = Command::new(cli_support::bin())
        .args(args)
        .current_dir(work.path())
        .env("SNAPFORM_POLL_MS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn apply");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if ready(&state(work)) {
            break;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("apply ended ({st}) before {what}");
        }
        assert!(Instant::now() < deadline, "never reached: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
}

/// The live images of `server` named `name`, read through the compute API.
fn cloud_images(rt: &tokio::runtime::Runtime, api: &Api, server: &str, name: &str) -> Vec<String> {
    let (_, v) = rt.block_on(api.get(&format!("/images/detail?server={server}&name={name}")));
    let mut ids: Vec<String> = v["images"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|i| i["name"] == name && i["status"] != "DELETED")
        .filter(|i| i["server"]["id"] == server)
        .map(|i| i["id"].as_str().unwrap_or("").to_string())
        .collect();
    ids.sort();
    ids
}

struct Setup {
    sb: ServedSandbox,
    rt: tokio::runtime::Runtime,
    api: Api,
    server: String,
}

fn setup() -> Setup {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "2", "--reply-latency-ms", "250"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let (_, v) = rt.block_on(api.get("/servers?name=db-01"));
    let server = v["servers"][0]["id"].as_str().expect("db-01").to_string();
    Setup {
        sb,
        rt,
        api,
        server,
    }
}

#[test]
fn sigkill_during_a_create_before_destroy_replace() {
    let s = setup();
    type Ready<'a> = Box<dyn Fn(&Value, &str) -> bool + 'a>;
    let points: Vec<(&str, Ready)> = vec![
        (
            "the new snapshot made, createImage's answer not yet back",
            Box::new(|st, name| {
                len(&st["journal"]) > 0 && cloud_images(&s.rt, &s.api, &s.server, name).len() == 2
            }),
        ),
        (
            "the old object deposed, the new one saving",
            Box::new(|st, _| len(&st["deposed"]) > 0),
        ),
    ];
    for (i, (what, ready)) in points.into_iter().enumerate() {
        let name = format!("kill-cbd-{i}");
        let work = Work::new();
        work.write(
            "main.snap.hcl",
            &format!(
                "{}data \"server\" \"db\" {{\n  name = \"db-01\"\n}}\nresource \"image\" \"a\" {{\n  server_id = data.server.db.id\n  name      = \"{name}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n",
                s.sb.provider_block()
            ),
        );
        let r = work.run(&["apply", "--auto-approve"]);
        assert_eq!(r.code, 0, "{r:?}");
        kill_when(
            &work,
            &["apply", "--auto-approve", "--replace", "image.a"],
            what,
            |st| ready(st, &name),
        );
        let r = work.run(&["apply", "--auto-approve", "--no-color"]);
        assert_eq!(r.code, 0, "{what}: recovery apply: {r:?}");
        let cloud = cloud_images(&s.rt, &s.api, &s.server, &name);
        let st = state(&work);
        assert_eq!(cloud.len(), 1, "{what}: exactly one image: {cloud:?}");
        assert_eq!(
            state_images(&work),
            vec![("image.a".to_string(), cloud[0].clone())],
            "{what}: state matches the cloud"
        );
        assert_eq!(len(&st["deposed"]), 0, "{what}: {st}");
        assert_eq!(len(&st["journal"]), 0, "{what}: {st}");
        let r = work.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
    }
}

#[test]
fn sigkill_during_two_creates_of_one_name_on_one_server() {
    let s = setup();
    type Ready<'a> = Box<dyn Fn(&Value, &str) -> bool + 'a>;
    let made = |name: &str| cloud_images(&s.rt, &s.api, &s.server, name).len();
    let points: Vec<(&str, Ready)> = vec![
        (
            "the first snapshot made, its answer not yet back",
            Box::new(|st, name| len(&st["journal"]) > 0 && images_in(st) == 0 && made(name) == 1),
        ),
        (
            "the first snapshot saving",
            Box::new(|st, _| len(&st["journal"]) == 0 && images_in(st) == 1),
        ),
        (
            "the second snapshot made, its answer not yet back",
            Box::new(|st, name| len(&st["journal"]) > 0 && images_in(st) == 1 && made(name) == 2),
        ),
    ];
    for (i, (what, ready)) in points.into_iter().enumerate() {
        let name = format!("kill-dup-{i}");
        let work = Work::new();
        work.write(
            "main.snap.hcl",
            &format!(
                "{}data \"server\" \"db\" {{\n  name = \"db-01\"\n}}\nresource \"image\" \"x\" {{\n  server_id = data.server.db.id\n  name      = \"{name}\"\n}}\nresource \"image\" \"y\" {{\n  server_id = data.server.db.id\n  name      = \"{name}\"\n}}\n",
                s.sb.provider_block()
            ),
        );
        kill_when(&work, &["apply", "--auto-approve"], what, |st| {
            ready(st, &name)
        });
        let r = work.run(&["apply", "--auto-approve", "--no-color"]);
        assert_eq!(r.code, 0, "{what}: recovery apply: {r:?}");
        let cloud = cloud_images(&s.rt, &s.api, &s.server, &name);
        assert_eq!(cloud.len(), 2, "{what}: exactly two images: {cloud:?}");
        let mut in_state: Vec<String> = state_images(&work).into_iter().map(|(_, id)| id).collect();
        in_state.sort();
        assert_eq!(in_state, cloud, "{what}: state matches the cloud");
        let st = state(&work);
        assert_eq!(len(&st["journal"]), 0, "{what}: {st}");
        let r = work.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
    }
}

/// SIGKILL at arbitrary moments of a parallel apply (snapshots of many servers recorded in
/// groups: one log record and one fdatasync per group), five times over, then one clean
/// apply: every configured image exists exactly once and state matches the cloud.
#[test]
fn sigkill_at_arbitrary_moments_of_a_parallel_apply() {
    let sb = ServedSandbox::start(&[
        "--snapshot-seconds",
        "0.5",
        "--reply-latency-ms",
        "30",
        "--servers",
        "8",
    ]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
locals {{
  images = {{ for i in range(16) : format("par-%02d", i) => format("srv-%05d", i % 8 + 1) }}
}}
data "server" "s" {{
  for_each = toset(values(local.images))
  name     = each.value
}}
resource "image" "i" {{
  for_each  = local.images
  server_id = data.server.s[each.value].id
  name      = each.key
}}
"#,
            sb.provider_block()
        ),
    );
    // Deterministic but uneven moments (ms after the start).
    for delay in [350u64, 900, 1400, 600, 2100] {
        let mut child = Command::new(cli_support::bin())
            .args(["apply", "--auto-approve", "--parallelism", "10"])
            .current_dir(work.path())
            .env("SNAPFORM_POLL_MS", "100")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn apply");
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the moment, state is readable.
        assert!(
            state(&work).is_object() || work.state().is_none(),
            "state reads"
        );
    }
    let r = work.run(&["apply", "--auto-approve", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let cloud = rt.block_on(cli_support::live_images(&api, "par-"));
    let names: Vec<&str> = cloud.iter().map(|(n, _)| n.as_str()).collect();
    let want: Vec<String> = (0..16).map(|i| format!("par-{i:02}")).collect();
    assert_eq!(names, want, "each image exactly once");
    let st = state(&work);
    for (name, id) in &cloud {
        let addr = format!("image.i[\"{name}\"]");
        assert_eq!(st["resources"][&addr]["id"], id.as_str(), "{addr}");
    }
    assert_eq!(len(&st["journal"]), 0, "{st}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// SIGKILL inside a group commit of the write-ahead log, at the two worst points: after half a
/// record is written (a torn tail) and after a whole record is written but before `fdatasync`
/// (the failpoint `SNAPFORM_CRASH_AT_COMMIT`, src/state/local.rs). Each time state reads (the
/// torn tail is ignored, never read as corruption), and one more apply converges: every image
/// exactly once in the cloud and in state, the journal empty, a clean plan.
#[test]
fn sigkill_inside_a_group_commit() {
    use std::os::unix::process::ExitStatusExt;
    let sb = ServedSandbox::start(&["--snapshot-seconds", "0.3", "--servers", "6"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
locals {{
  images = {{ for i in range(12) : format("gc-%02d", i) => format("srv-%05d", i % 6 + 1) }}
}}
data "server" "s" {{
  for_each = toset(values(local.images))
  name     = each.value
}}
resource "image" "i" {{
  for_each  = local.images
  server_id = data.server.s[each.value].id
  name      = each.key
}}
"#,
            sb.provider_block()
        ),
    );
    let wal = work.path().join("snapform.state.json.wal");
    for (at, torn) in [("4", true), ("3:unsynced", false), ("6", true)] {
        let st = Command::new(cli_support::bin())
            .args(["apply", "--auto-approve", "--parallelism", "10"])
            .current_dir(work.path())
            .env("SNAPFORM_POLL_MS", "100")
            .env("SNAPFORM_CRASH_AT_COMMIT", at)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("apply");
        assert_eq!(st.signal(), Some(9), "killed in commit {at}: {st:?}");
        let log = std::fs::read(&wal).expect("a log after the kill");
        assert_eq!(
            log.last() != Some(&b'\n'),
            torn,
            "commit {at}: the log ends {}",
            if torn { "torn" } else { "whole" }
        );
        let r = work.run(&["state", "list"]);
        assert_eq!(
            r.code, 0,
            "state reads after the kill in commit {at}: {r:?}"
        );
    }
    let r = work.run(&["apply", "--auto-approve", "--no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let cloud = rt.block_on(cli_support::live_images(&api, "gc-"));
    let names: Vec<&str> = cloud.iter().map(|(n, _)| n.as_str()).collect();
    let want: Vec<String> = (0..12).map(|i| format!("gc-{i:02}")).collect();
    assert_eq!(names, want, "each image exactly once");
    let st = state(&work);
    for (name, id) in &cloud {
        let addr = format!("image.i[\"{name}\"]");
        assert_eq!(st["resources"][&addr]["id"], id.as_str(), "{addr}");
    }
    assert_eq!(len(&st["journal"]), 0, "{st}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}
