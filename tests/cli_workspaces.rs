//! Workspaces with the local backend, through the binary: one configuration, one state per
//! workspace (`snapform.state.d/NAME/`), `snapform.workspace` in expressions, the selection in
//! `.snapform/environment` and `SNAPFORM_WORKSPACE` over it, a saved plan bound to its
//! workspace, and delete refused while a state records resources.

mod cli_support;

use cli_support::Work;

const CONFIG: &str = r#"
provider "rackspace" {
  sandbox = ".snapform/sandbox"
}
data "server" "web" {
  name = "web-01"
}
resource "image" "golden" {
  server_id = data.server.web.id
  name      = "golden-${snapform.workspace}"
}
output "name" {
  value = image.golden.name
}
"#;

const ENV: [(&str, &str); 1] = [("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0")];

#[test]
fn one_configuration_two_workspaces_two_states() {
    let work = Work::new();
    work.write("main.snap.hcl", CONFIG);
    let run = |args: &[&str]| work.run_env(args, &ENV);

    let r = run(&["workspace", "show"]);
    assert_eq!(r.stdout.trim(), "default", "{r:?}");
    let r = run(&["workspace", "new", "staging"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Created and switched to workspace \"staging\""),
        "{r:?}"
    );
    let r = run(&["workspace", "new", "staging"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("already exists"), "{r:?}");

    let r = run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        work.path()
            .join("snapform.state.d/staging/snapform.state.json")
            .is_file()
    );
    assert!(
        work.state().is_none(),
        "the default workspace has no state yet"
    );
    let r = run(&["output", "-raw", "name"]);
    assert_eq!(r.stdout.trim(), "golden-staging", "{r:?}");

    // The default workspace is a separate state: the same configuration plans its own image.
    let r = run(&["workspace", "select", "default"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("golden-default"), "{r:?}");
    assert!(r.stdout.contains("1 to add"), "{r:?}");
    let r = run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["output", "-raw", "name"]);
    assert_eq!(r.stdout.trim(), "golden-default", "{r:?}");

    let r = run(&["workspace", "list"]);
    assert_eq!(r.stdout, "* default\n  staging\n", "{r:?}");
    // SNAPFORM_WORKSPACE chooses over the selection.
    let r = work.run_env(
        &["output", "-raw", "name"],
        &[("SNAPFORM_WORKSPACE", "staging")],
    );
    assert_eq!(r.stdout.trim(), "golden-staging", "{r:?}");
    let r = work.run_env(
        &["plan", "-detailed-exitcode"],
        &[("SNAPFORM_WORKSPACE", "staging"), ENV[0]],
    );
    assert_eq!(r.code, 0, "staging is unchanged: {r:?}");

    // A saved plan belongs to the workspace it was made in.
    let r = run(&["plan", "-out", "p.json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["workspace", "select", "staging"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["apply", "p.json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("made in workspace \"default\""), "{r:?}");

    // Delete: not the current one, not default, not while it records resources.
    let r = run(&["workspace", "delete", "staging"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("current workspace"), "{r:?}");
    let r = run(&["workspace", "select", "default"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["workspace", "delete", "default"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = run(&["workspace", "delete", "staging"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not empty"), "{r:?}");
    let r = work.run_env(
        &["destroy", "-auto-approve"],
        &[("SNAPFORM_WORKSPACE", "staging"), ENV[0]],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["workspace", "delete", "staging"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!work.path().join("snapform.state.d/staging").exists());
    let r = run(&["workspace", "list"]);
    assert_eq!(r.stdout, "* default\n", "{r:?}");
    let r = run(&["workspace", "select", "staging"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("does not exist"), "{r:?}");
    let r = run(&["workspace", "select", "-or-create", "qa"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["workspace", "show"]);
    assert_eq!(r.stdout.trim(), "qa", "{r:?}");
    let r = run(&["workspace", "new", "bad/name"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("letters, digits"), "{r:?}");
}
