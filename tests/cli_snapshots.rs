//! Snapshot tests (insta) of what users read: the rendered plan (create, in-place update,
//! destroy), `show`, and a configuration error with its file:line:column. Ids, times and
//! temporary paths are replaced by placeholders before comparing, so a snapshot changes only
//! when the rendering does. Snapshots live in tests/snapshots/; after an intended change,
//! `INSTA_UPDATE=always cargo test --test cli_snapshots` rewrites them (review the diff).

mod cli_support;

use cli_support::Work;
use std::path::Path;

/// Replaces what differs between runs: UUIDs, timestamps, the working directory.
fn normalized(text: &str, work: &Work) -> String {
    let uuid =
        regex_lite::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
            .unwrap();
    let time = regex_lite::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z").unwrap();
    let dir = work.path().display().to_string();
    let text = text.replace(&dir, "[DIR]");
    let text = uuid.replace_all(&text, "[UUID]");
    time.replace_all(&text, "[TIME]").into_owned()
}

fn quickstart() -> Work {
    let work = Work::new();
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart/main.snap.hcl"),
    )
    .unwrap();
    work.write("main.snap.hcl", &src);
    work
}

#[test]
fn plan_show_and_destroy_render() {
    let work = quickstart();
    let r = work.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!("plan_create", normalized(&r.stdout, &work));

    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "-no-color", "-var", "retention=14"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!("plan_update", normalized(&r.stdout, &work));

    let r = work.run(&["show", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!("show", normalized(&r.stdout, &work));

    let r = work.run(&["plan", "-destroy", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    insta::assert_snapshot!("plan_destroy", normalized(&r.stdout, &work));
}

#[test]
fn configuration_errors_render_with_their_place() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"provider "rackspace" {
  sandbox = ".snapform/sandbox"
}

data "server" "web" {
  name = "web-01"
}

resource "image" "golden" {
  server_id = data.server.wbe.id
  name      = "golden"
  retention = 3
}

resource "image_schedule" "web" {
  server_id   = data.server.web.id
  retention   = var.keep
  day_of_week = "someday"
}
"#,
    );
    let r = work.run(&["validate", "-no-color"]);
    assert_eq!(r.code, 1, "{r:?}");
    insta::assert_snapshot!("validate_errors", normalized(&r.stderr, &work));
}

/// API errors as the user reads them: the operation, the status and the cloud's message — a
/// quota refused by the compute API (413), and credentials refused by the identity API (401).
#[test]
fn api_errors_name_the_operation_the_status_and_the_message() {
    let work = Work::new();
    let metadata: Vec<String> = (0..45).map(|i| format!("    k{i:02} = \"v\"")).collect();
    work.write(
        "main.snap.hcl",
        &format!(
            "provider \"rackspace\" {{\n  sandbox = \".snapform/sandbox\"\n}}\n\
             data \"server\" \"web\" {{\n  name = \"web-01\"\n}}\n\
             resource \"image\" \"big\" {{\n  server_id = data.server.web.id\n  name      = \"too-much-metadata\"\n  metadata = {{\n{}\n  }}\n}}\n",
            metadata.join("\n")
        ),
    );
    let r = work.run_env(
        &["apply", "-auto-approve", "-no-color"],
        &[("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0")],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let failed: String = r
        .stdout
        .lines()
        .chain(r.stderr.lines())
        .filter(|l| l.contains("FAILED") || l.contains("failed"))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!("api_error_quota", normalized(&failed, &work));

    let sb = cli_support::ServedSandbox::start(&[]);
    let bad = Work::new();
    bad.write(
        "main.snap.hcl",
        &format!(
            "{}data \"server\" \"web\" {{\n  name = \"web-01\"\n}}\n",
            sb.provider_block()
                .replace("api_key  = \"demo\"", "api_key  = \"wrong\"")
        ),
    );
    let r = bad.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{r:?}");
    let port = regex_lite::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let text = port.replace_all(&r.stderr, "127.0.0.1:[PORT]").into_owned();
    insta::assert_snapshot!("api_error_auth", normalized(&text, &bad));
}
