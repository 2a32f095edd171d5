//! End-to-end tests of the state-steering blocks (`moved`, `removed`, `import`), variable
//! validation and `required_version`.

mod cli_support;

use cli_support::Work;

const HEAD: &str = r#"
provider "rackspace" {
  sandbox = ".snapform/sandbox"
}
data "server" "web" {
  name = "web-01"
}
"#;

fn state(work: &Work) -> serde_json::Value {
    serde_json::from_str(&work.state().expect("state")).unwrap()
}

#[test]
fn moved_renames_without_touching_the_cloud() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!("{HEAD}resource \"image\" \"old\" {{\n  server_id = data.server.web.id\n  name = \"m\"\n}}\n"),
    );
    assert_eq!(work.run(&["apply", "--auto-approve"]).code, 0);
    let id = state(&work)["resources"]["image.old"]["id"].clone();
    work.write(
        "main.snap.hcl",
        &format!("{HEAD}resource \"image\" \"new\" {{\n  server_id = data.server.web.id\n  name = \"m\"\n}}\nmoved {{\n  from = image.old\n  to   = image.new\n}}\n"),
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("# image.old has moved to image.new"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("0 to add, 0 to change, 0 to destroy. 1 moved."),
        "{r:?}"
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s = state(&work);
    assert_eq!(s["resources"]["image.new"]["id"], id);
    assert!(s["resources"].get("image.old").is_none());
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn removed_forgets_and_import_adopts() {
    let work = Work::new();
    let keep = format!(
        "{HEAD}resource \"image\" \"keep\" {{\n  server_id = data.server.web.id\n  name = \"kept\"\n  metadata = {{ owner = \"ops\" }}\n}}\n"
    );
    work.write("main.snap.hcl", &keep);
    assert_eq!(work.run(&["apply", "--auto-approve"]).code, 0);
    let id = state(&work)["resources"]["image.keep"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    // removed { lifecycle { destroy = false } }: out of state, still in the cloud.
    work.write(
        "main.snap.hcl",
        &format!(
            "{HEAD}removed {{\n  from = image.keep\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
        ),
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains("image.keep will be removed from state; the object stays in the cloud"),
        "{r:?}"
    );
    assert!(r.stdout.contains("0 to destroy"), "{r:?}");
    assert_eq!(work.run(&["apply", "--auto-approve"]).code, 0);
    assert!(state(&work)["resources"].get("image.keep").is_none());

    // import { to, id }: adopted when planning; the config matches, so nothing else changes.
    work.write(
        "main.snap.hcl",
        &format!("{keep}import {{\n  to = image.keep\n  id = \"{id}\"\n}}\n"),
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("# image.keep will be imported"), "{r:?}");
    assert!(
        r.stdout
            .contains("0 to add, 0 to change, 0 to destroy. 1 to import."),
        "{r:?}"
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(state(&work)["resources"]["image.keep"]["id"], id.as_str());
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "the import block is now a no-op: {r:?}");

    // An import of an id that does not exist names the block and the id.
    let w2 = Work::new();
    w2.write(
        "main.snap.hcl",
        &format!("{keep}import {{\n  to = image.keep\n  id = \"no-such-image\"\n}}\n"),
    );
    let r = w2.run(&["plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("main.snap.hcl:"), "{r:?}");
    assert!(r.stderr.contains("no-such-image"), "{r:?}");
}

#[test]
fn validation_and_required_version() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"
snapform {
  required_version = ">= 0.1"
}
variable "retention" {
  type    = number
  default = 7
  validation {
    condition     = var.retention <= 30
    error_message = "Keep at most 30 snapshots."
  }
}
"#,
    );
    assert_eq!(work.run(&["validate"]).code, 0);
    let r = work.run(&["validate", "--var", "retention=99"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("main.snap.hcl:9:21"), "{r:?}");
    assert!(r.stderr.contains("Keep at most 30 snapshots."), "{r:?}");
    work.write(
        "main.snap.hcl",
        "snapform {\n  required_version = \">= 99.0\"\n}\n",
    );
    let r = work.run(&["validate"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("main.snap.hcl:2:22"), "{r:?}");
    assert!(r.stderr.contains("requires snapform >= 99.0"), "{r:?}");
}
