//! Ctrl-C during an apply, through the real binary: SIGINT while snapshots are saving.
//!
//! The first interrupt is reported, nothing new starts, the waits stop, state is written (the
//! saving snapshots recorded as `SAVING`, not tainted, not done), the lock is released and the
//! exit code is 130. The next plan reports no drift for them and plans to wait; the next apply
//! waits for them before anything that depends on them runs, and the cloud ends with exactly
//! the configured images. Two interrupts exit at once, and the next apply still converges.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn config(sb: &ServedSandbox) -> String {
    format!(
        r#"{}
data "server" "a" {{
  name = "web-01"
}}
data "server" "b" {{
  name = "web-02"
}}
resource "image" "a" {{
  server_id = data.server.a.id
  name      = "int-a"
}}
resource "image" "b" {{
  server_id = data.server.b.id
  name      = "int-b"
}}
resource "image_metadata" "a" {{
  image_id = image.a.id
  metadata = {{
    pinned = "yes"
  }}
}}
"#,
        sb.provider_block()
    )
}

fn state(work: &Work) -> Value {
    work.state()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

fn status_of(st: &Value, addr: &str) -> Option<String> {
    st["resources"][addr]["attributes"]["status"]
        .as_str()
        .map(str::to_string)
}

fn spawn_apply(work: &Work) -> Child {
    Command::new(cli_support::bin())
        .args(["apply", "-auto-approve", "-no-color"])
        .current_dir(work.path())
        .env("SNAPFORM_POLL_MS", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apply")
}

/// Waits (bounded) until both snapshots are recorded as saving.
fn until_saving(work: &Work, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = state(work);
        if status_of(&st, "image.a").as_deref() == Some("SAVING")
            && status_of(&st, "image.b").as_deref() == Some("SAVING")
        {
            return;
        }
        if let Ok(Some(s)) = child.try_wait() {
            panic!("apply ended ({s}) before both snapshots were saving");
        }
        assert!(Instant::now() < deadline, "snapshots never saving");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigint(child: &Child) {
    // SAFETY: kill(2) with a child's pid and SIGINT.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(rc, 0, "kill");
}

/// Waits (bounded) for the child to exit; its code, stdout and stderr.
fn finish(mut child: Child, within: Duration) -> (Option<i32>, String, String) {
    let deadline = Instant::now() + within;
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("apply did not exit within {within:?} of the interrupt");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn live_images(rt: &tokio::runtime::Runtime, api: &Api, name: &str) -> usize {
    let (_, v) = rt.block_on(api.get(&format!("/images/detail?name={name}")));
    v["images"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| i["name"] == name && i["status"] != "DELETED")
                .count()
        })
        .unwrap_or(0)
}

fn converge_and_check(work: &Work, rt: &tokio::runtime::Runtime, api: &Api, saving: bool) {
    // The snapshots (8 s to save) are still saving: the plan shows no drift and waits.
    let r = work.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("outside snapform"), "no drift: {r:?}");
    if saving {
        assert!(
            r.stdout.contains("still saving"),
            "the plan says it waits for the saving snapshots: {r:?}"
        );
    }
    // The apply waits for them, then runs what depends on them.
    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let st = state(work);
    assert_eq!(status_of(&st, "image.a").as_deref(), Some("ACTIVE"), "{st}");
    assert_eq!(status_of(&st, "image.b").as_deref(), Some("ACTIVE"), "{st}");
    assert!(st["resources"]["image_metadata.a"].is_object(), "{st}");
    assert_eq!(live_images(rt, api, "int-a"), 1, "no duplicate");
    assert_eq!(live_images(rt, api, "int-b"), 1, "no duplicate");
    let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "converged: {r:?}");
}

#[test]
fn one_interrupt_stops_gracefully_and_the_next_apply_waits_for_what_was_saving() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "8"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb));
    let mut child = spawn_apply(&work);
    until_saving(&work, &mut child);
    sigint(&child);
    let (code, _out, err) = finish(child, Duration::from_secs(15));
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("Interrupt received"), "{err}");
    assert!(err.contains("Apply interrupted"), "{err}");
    let st = state(&work);
    for a in ["image.a", "image.b"] {
        assert_eq!(status_of(&st, a).as_deref(), Some("SAVING"), "{a}: {st}");
        assert_ne!(
            st["resources"][a]["tainted"], true,
            "{a} is not tainted: {st}"
        );
    }
    assert!(
        st["resources"]["image_metadata.a"].is_null(),
        "nothing that depends on a saving snapshot ran: {st}"
    );
    assert_eq!(len(&st["journal"]), 0, "no intent left: {st}");
    let lock =
        std::fs::read_to_string(work.path().join("snapform.state.json.lock")).unwrap_or_default();
    assert_eq!(lock, "", "the lock is released");
    converge_and_check(&work, &rt, &api, true);
}

/// The sandbox answers every call 3 s late (after carrying it out), so the first interrupt
/// has createImage calls in flight to wait for; the second, during that wait, exits at once.
#[test]
fn two_interrupts_exit_at_once_and_the_next_apply_converges() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "2", "--reply-latency-ms", "3000"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb));
    let mut child = spawn_apply(&work);
    // Both createImage calls journaled and in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while len(&state(&work)["journal"]) < 2 {
        if let Ok(Some(s)) = child.try_wait() {
            panic!("apply ended ({s}) before its calls were in flight");
        }
        assert!(Instant::now() < deadline, "never in flight");
        std::thread::sleep(Duration::from_millis(20));
    }
    sigint(&child);
    std::thread::sleep(Duration::from_millis(500));
    sigint(&child);
    let t = Instant::now();
    let (code, _out, err) = finish(child, Duration::from_secs(15));
    assert!(t.elapsed() < Duration::from_secs(2), "exits at once: {err}");
    assert_eq!(code, Some(130), "{err}");
    assert!(err.contains("Two interrupts received"), "{err}");
    assert_eq!(
        len(&state(&work)["journal"]),
        2,
        "the calls in flight are journaled"
    );
    rt.block_on(sb.set_faults(serde_json::json!({"reply_latency_ms": 0})));
    converge_and_check(&work, &rt, &api, false);
}

fn len(v: &Value) -> usize {
    v.as_array()
        .map(Vec::len)
        .or_else(|| v.as_object().map(|o| o.len()))
        .unwrap_or(0)
}
