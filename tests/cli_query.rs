//! Adopting an existing estate, through the real binary: `list` blocks in a query file,
//! `snapform query` (and `-json`), `query -generate-config-out`, then plan, apply, and a
//! second generation that writes nothing.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use serde_json::json;

#[test]
fn an_estate_made_by_hand_is_listed_generated_imported_and_converges() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "0.2"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let (web, db) = (
        rt.block_on(api.server_id("web-01")),
        rt.block_on(api.server_id("db-01")),
    );
    // Hand-made snapshots (one with metadata, two with one name) and a schedule on db-01.
    for (srv, name, md) in [
        (&web, "nightly web", json!({"owner": "ops", "tier": "gold"})),
        (&web, "nightly web", json!({})),
        (&db, "db before upgrade", json!({})),
    ] {
        rt.block_on(api.snapshot_by_hand(srv, name, md));
        std::thread::sleep(std::time::Duration::from_millis(350));
    }
    let (st, _) = rt.block_on(api.call(
        "POST",
        &format!("/servers/{db}/rax-si-image-schedule"),
        Some(json!({"image_schedule": {"retention": 3}})),
    ));
    assert_eq!(st, 200);
    // The scheduled-images service makes a snapshot (with its culling marker).
    let _ = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/sandbox/v1/clock", sb.url))
            .json(&json!({"advance_seconds": 90000}))
            .send()
            .await
    });
    std::thread::sleep(std::time::Duration::from_millis(400));

    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}\ndata \"server\" \"web\" {{\n  name = \"web-01\"\n}}\n",
            sb.provider_block()
        ),
    );
    work.write(
        "estate.snapquery.hcl",
        r#"list "image" "snapshots" {
  provider = rackspace
  config {
    type = "SNAPSHOT"
  }
}
list "image" "web" {
  provider = rackspace
  config {
    server     = data.server.web.id
    name_regex = "^nightly"
  }
}
list "image_schedule" "all" {
  provider = rackspace
}
"#,
    );
    let r = work.run(&["query", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    for want in [
        "list.image.snapshots:",
        "image.nightly_web ",
        "image.nightly_web_2 ",
        "image.db_before_upgrade ",
        "image.web_01_golden ",
        "list.image.web:",
        "list.image_schedule.all:",
        "image_schedule.db_01 ",
    ] {
        assert!(r.stdout.contains(want), "{want}: {r:?}");
    }
    let r = work.run(&["query", "-json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    let web: Vec<&serde_json::Value> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["list"] == "list.image.web")
        .collect();
    assert_eq!(web.len(), 2, "the regex and server filters: {v}");
    let all = v.as_array().unwrap().len();

    let r = work.run(&["query", "-generate-config-out=adopted.snap.hcl"]);
    assert_eq!(r.code, 0, "{r:?}");
    let text = std::fs::read_to_string(work.path().join("adopted.snap.hcl")).unwrap();
    assert!(
        text.contains("tier  = \"gold\""),
        "own metadata kept: {text}"
    );
    assert!(
        !text.contains("instance_uuid"),
        "the cloud's keys left out: {text}"
    );
    assert!(
        text.contains("scheduled-images service deletes it"),
        "{text}"
    );
    assert!(text.contains("absent_keys"), "how to pin it: {text}");
    assert!(
        text.contains("resource \"image_schedule\" \"db_01\""),
        "{text}"
    );
    let imports = text.matches("import {").count();
    assert!(
        imports >= 6 && imports < all,
        "each object once: {imports} of {all}\n{text}"
    );
    let r = work.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}\n{text}");
    let r = work.run(&["fmt", "-check"]);
    assert_eq!(r.code, 0, "{r:?}\n{text}");
    let r = work.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!(
            "Plan: 0 to add, 0 to change, 0 to destroy. {imports} to import."
        )),
        "{r:?}"
    );
    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["state", "list"]);
    assert_eq!(r.stdout.lines().count(), imports, "{r:?}");
    // Again, after adoption: everything is managed, nothing new is written.
    let r = work.run(&["query", "-no-color"]);
    assert!(r.stdout.contains("(managed)"), "{r:?}");
    let r = work.run(&["query", "-generate-config-out=again.snap.hcl"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("nothing to generate"), "{r:?}");
    assert!(!work.path().join("again.snap.hcl").exists());
}

#[test]
fn list_blocks_are_checked_with_file_line_and_column() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        "provider \"rackspace\" {\n  sandbox = \".snapform/sandbox\"\n}\n",
    );
    work.write(
        "q.snapquery.hcl",
        "list \"image\" \"x\" {\n  config {\n    nmae = \"a\"\n  }\n}\nlist \"imag\" \"y\" {\n}\n",
    );
    let r = work.run(&["query"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("q.snapquery.hcl:3:5"), "{r:?}");
    assert!(r.stderr.contains("did you mean \"name\""), "{r:?}");
    assert!(r.stderr.contains("q.snapquery.hcl:6:6"), "{r:?}");
    assert!(r.stderr.contains("unknown list type \"imag\""), "{r:?}");
    // Query files are not part of the configuration plan reads.
    let r = work.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
}
