//! The CLI contract CI pipelines and Terraform users rely on, through the real binary against
//! `snapform sandbox serve`: exit codes, both flag spellings, saved-plan rules, `output -raw`,
//! `validate -json`, `fmt -` / `-recursive`, the stream rule for outputs, lock messages.

mod cli_support;

use cli_support::{ServedSandbox, Work};

fn config(sb: &ServedSandbox) -> String {
    format!(
        r#"{}
variable "suffix" {{
  type    = string
  default = "a"
}}

data "server" "web" {{
  name = "web-01"
}}

resource "image" "golden" {{
  server_id = data.server.web.id
  name      = "golden-${{var.suffix}}"
}}

output "name" {{
  value = image.golden.name
}}

output "ids" {{
  value = [image.golden.id]
}}
"#,
        sb.provider_block()
    )
}

/// Terraform's spelling and clap's, as one test runs each.
fn spell(single: bool, flag: &str) -> String {
    if single {
        format!("-{flag}")
    } else {
        format!("--{flag}")
    }
}

#[test]
fn detailed_exitcode_is_0_2_1_in_both_spellings() {
    let sb = ServedSandbox::start(&[]);
    for single in [true, false] {
        let work = Work::new();
        work.write("main.snap.hcl", &config(&sb));
        let de = spell(single, "detailed-exitcode");
        let no_color = spell(single, "no-color");
        // Changes present: 2.
        let r = work.run(&["plan", &de, &no_color]);
        assert_eq!(r.code, 2, "{r:?}");
        // Apply with Terraform's flags, then no changes: 0.
        let var = spell(single, "var");
        let name = format!("suffix=s{}", single as u8);
        let auto = spell(single, "auto-approve");
        let par = format!("{}=2", spell(single, "parallelism"));
        let lt = format!("{}=5s", spell(single, "lock-timeout"));
        let input = format!("{}=false", spell(single, "input"));
        let r = work.run(&["apply", &auto, &var, &name, &par, &lt, &input]);
        assert_eq!(r.code, 0, "{r:?}");
        let r = work.run(&["plan", &de, &var, &name, &input]);
        assert_eq!(r.code, 0, "no changes: {r:?}");
        let r = work.run(&["plan", &de, &var, &name, "-refresh=false"]);
        assert_eq!(r.code, 0, "no changes without refresh: {r:?}");
        // An error: 1, never 2 — a configuration error, an unknown flag, a missing value.
        work.write(
            "bad.snap.hcl",
            "resource \"image\" \"x\" {\n  name = 1 +\n}\n",
        );
        let r = work.run(&["plan", &de]);
        assert_eq!(r.code, 1, "{r:?}");
        std::fs::remove_file(work.path().join("bad.snap.hcl")).unwrap();
        let r = work.run(&["plan", &de, &spell(single, "no-such-flag")]);
        assert_eq!(r.code, 1, "a misspelt flag is a usage error: {r:?}");
        let r = work.run(&["plan", &spell(single, "var")]);
        assert_eq!(r.code, 1, "a flag without its value: {r:?}");
        let r = work.run(&["plann"]);
        assert_eq!(r.code, 1, "an unknown command: {r:?}");
        let r = work.run(&["plan", &spell(single, "help")]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains("snapform plan -out=tfplan"), "{r:?}");
        // Cleanup for the next spelling (same sandbox).
        let r = work.run(&["destroy", &auto, &var, &name]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            r.stderr
                .contains("Destroy complete! Resources: 1 destroyed."),
            "{r:?}"
        );
    }
}

#[test]
fn terraform_spelling_of_every_plan_flag() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb));
    work.write("prod.snapvars.hcl", "suffix = \"prod\"\n");
    let r = work.run(&[
        "plan",
        "-var-file",
        "prod.snapvars.hcl",
        "-out=tfplan",
        "-target=image.golden",
        "-no-color",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("golden-prod"), "{r:?}");
    let r = work.run(&["show", "-json", "tfplan"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["apply", "tfplan"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Outputs are data: the heading and the values both on stdout.
    assert!(r.stdout.contains("Outputs:"), "{r:?}");
    assert!(r.stdout.contains("name = \"golden-prod\""), "{r:?}");
    assert!(!r.stderr.contains("Outputs:"), "{r:?}");
    // -replace in Terraform's spelling plans a replacement.
    let r = work.run(&[
        "plan",
        "-var-file=prod.snapvars.hcl",
        "-replace=image.golden",
        "-no-color",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("must be replaced"), "{r:?}");
    // output: by name in HCL syntax, -raw bare (no newline), -json as JSON.
    let r = work.run(&["output", "name"]);
    assert_eq!(r.stdout, "\"golden-prod\"\n", "{r:?}");
    let r = work.run(&["output", "-raw", "name"]);
    assert_eq!(r.stdout, "golden-prod", "{r:?}");
    let r = work.run(&["output", "-json", "ids"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v.as_array().map(|a| a.len()), Some(1), "{r:?}");
    let r = work.run(&["output", "-raw", "ids"]);
    assert_eq!(r.code, 1, "-raw of a list is refused: {r:?}");
    assert!(r.stderr.contains("use -json"), "{r:?}");
    let r = work.run(&["output", "-raw"]);
    assert_eq!(r.code, 1, "-raw needs a name: {r:?}");
}

#[test]
fn saved_plans_fix_their_variables_and_mode() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb));
    let r = work.run(&["plan", "-out=p1"]);
    assert_eq!(r.code, 0, "{r:?}");
    for extra in [
        vec!["-var", "suffix=b"],
        vec!["-var-file=x.snapvars.hcl"],
        vec!["-target=image.golden"],
        vec!["-refresh=false"],
    ] {
        let mut args = vec!["apply", "p1"];
        args.extend(extra.iter().copied());
        let r = work.run(&args);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        assert!(r.stderr.contains("when applying a saved plan"), "{r:?}");
    }
    // destroy never takes a plan file; apply -destroy refuses a plan that is not one.
    let r = work.run(&["destroy", "p1"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("snapform apply PLANFILE"), "{r:?}");
    let r = work.run(&["apply", "-destroy", "p1"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not a destroy plan"), "{r:?}");
    assert!(work.state().is_none(), "nothing was applied");
    let r = work.run(&["apply", "p1"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("Apply complete!"), "{r:?}");
    // A saved destroy plan is carried out by apply, and reported as a destroy.
    let r = work.run(&["plan", "-destroy", "-out=p2"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["apply", "p2"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("Destroy complete! Resources: 1 destroyed."),
        "{r:?}"
    );
}

/// A plan file never holds a sensitive variable's value, so `apply PLANFILE` takes it again,
/// from -var (allowed for exactly those variables) or SNAPFORM_VAR_; missing, the error says
/// so and how, instead of suggesting a flag the saved plan refuses.
#[test]
fn saved_plans_take_sensitive_variables_again() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}variable \"secret\" {{\n  type      = string\n  sensitive = true\n}}\nvariable \"tier\" {{\n  default = \"gold\"\n}}\ndata \"server\" \"web\" {{\n  name = \"web-01\"\n}}\nresource \"image\" \"s\" {{\n  server_id = data.server.web.id\n  name      = \"sensitive-${{var.tier}}\"\n  metadata  = {{ token = var.secret }}\n}}\n",
            sb.provider_block()
        ),
    );
    let r = work.run(&["plan", "-out=p", "-var", "secret=s3cr3t-value"]);
    assert_eq!(r.code, 0, "{r:?}");
    let bytes = std::fs::read(work.path().join("p")).unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("s3cr3t-value"),
        "the plan file holds no sensitive value"
    );
    let r = work.run(&["apply", "-no-color", "p"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("it is sensitive, so the saved plan does not hold it; give it again with -var secret=VALUE or SNAPFORM_VAR_secret"),
        "{r:?}"
    );
    assert!(r.stderr.contains("main.snap.hcl:"), "{r:?}");
    let r = work.run(&[
        "apply",
        "-no-color",
        "-var",
        "tier=x",
        "-var",
        "secret=s3cr3t-value",
        "p",
    ]);
    assert_eq!(r.code, 1, "a held variable cannot be set: {r:?}");
    assert!(r.stderr.contains("can't set variable \"tier\""), "{r:?}");
    assert!(work.state().is_none(), "nothing was applied");
    let r = work.run(&["apply", "-no-color", "-var", "secret=s3cr3t-value", "p"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout.contains("s3cr3t-value") && !r.stderr.contains("s3cr3t-value"),
        "{r:?}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let api = rt.block_on(cli_support::Api::login(&sb.url, "DFW"));
    let (_, v) = rt.block_on(api.get("/images/detail?name=sensitive-gold"));
    assert_eq!(v["images"][0]["metadata"]["token"], "s3cr3t-value", "{v}");
    let r = work.run_env(
        &["plan", "-detailed-exitcode"],
        &[("SNAPFORM_VAR_secret", "s3cr3t-value")],
    );
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn input_false_refuses_to_ask_and_a_no_answer_cancels_in_the_right_words() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb));
    let r = work.run(&["apply", "-input=false"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("-input=false"), "{r:?}");
    assert!(work.state().is_none(), "{r:?}");
    let r = work.run(&["apply"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Apply cancelled"), "{r:?}");
    let r = work.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["destroy"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("Destroy cancelled"), "{r:?}");
    let r = work.run(&["destroy", "-input=false"]);
    assert_eq!(r.code, 1, "{r:?}");
    // The lock file names no holder once the runs are over.
    let lock =
        std::fs::read_to_string(work.path().join("snapform.state.json.lock")).unwrap_or_default();
    assert_eq!(lock, "", "a free lock names no one");
}

#[test]
fn help_texts_offer_only_what_a_command_takes() {
    let work = Work::new();
    let r = work.run(&["destroy", "-help"]);
    assert_eq!(r.code, 0, "{r:?}");
    for absent in ["--refresh-only", "--replace", "PLAN_FILE"] {
        assert!(!r.stdout.contains(absent), "{absent}: {}", r.stdout);
    }
    assert!(r.stdout.contains("--target"), "{}", r.stdout);
    // Every command shows examples, in Terraform's spelling where a flag appears.
    for cmd in [
        "validate",
        "plan",
        "apply",
        "destroy",
        "output",
        "show",
        "state",
        "workspace",
        "fmt",
        "import",
        "query",
        "force-unlock",
        "graph",
        "man",
        "init",
        "completions",
        "sandbox",
        "version",
    ] {
        let r = work.run(&[cmd, "-help"]);
        assert_eq!(r.code, 0, "{cmd}: {r:?}");
        let examples = r.stdout.split("Examples:").nth(1).unwrap_or("");
        assert!(!examples.is_empty(), "{cmd} has examples: {}", r.stdout);
        assert!(
            !examples.contains(" --"),
            "{cmd}: Terraform's spelling: {examples}"
        );
    }
    for (cmd, arg) in [
        (
            vec!["state", "rm", "--help"],
            "Resource instances or blocks",
        ),
        (vec!["state", "mv", "--help"], "The address in state now"),
        (vec!["state", "show", "--help"], "The resource instance"),
        (vec!["state", "push", "--help"], "A state file"),
    ] {
        let r = work.run(&cmd);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(r.stdout.contains(arg), "{cmd:?}: {}", r.stdout);
    }
}

#[test]
fn validate_json_in_terraforms_format() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        "resource \"image\" \"x\" {\n  server_id = \"s\"\n  name      = \"n\"\n}\nprovider \"rackspace\" {\n  sandbox = \".snapform/sandbox\"\n}\n",
    );
    let r = work.run(&["validate", "-json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["format_version"], "1.0");
    assert_eq!(v["valid"], true);
    assert_eq!(v["error_count"], 0);
    work.write(
        "main.snap.hcl",
        "resource \"image\" \"x\" {\n  server_id = \"s\"\n  name      = nope(1)\n}\nprovider \"rackspace\" {\n  sandbox = \".snapform/sandbox\"\n}\n",
    );
    let r = work.run(&["validate", "-json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["error_count"], 1, "{v}");
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "error", "{v}");
    assert!(d["summary"].as_str().unwrap_or("").contains("nope"), "{v}");
    assert_eq!(d["range"]["filename"], "main.snap.hcl", "{v}");
    assert_eq!(d["range"]["start"]["line"], 3, "{v}");
    assert_eq!(d["range"]["start"]["column"], 15, "{v}");
    assert!(d["range"]["end"]["byte"].as_u64() > d["range"]["start"]["byte"].as_u64());
}

#[test]
fn fmt_stdin_recursive_absolute_paths_and_empty_directories() {
    let work = Work::new();
    // An empty directory: nothing to do, exit 0.
    let r = work.run(&["fmt"]);
    assert_eq!(r.code, 0, "{r:?}");
    // `fmt -`: stdin to stdout.
    let out = std::process::Command::new(cli_support::bin())
        .args(["fmt", "-"])
        .current_dir(work.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"a   = 1\nbcd = 2\n")?;
            c.wait_with_output()
        })
        .expect("fmt -");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a   = 1\nbcd = 2\n");
    let out = std::process::Command::new(cli_support::bin())
        .args(["fmt", "-check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"a = 1\nbcd = 2\n")?;
            c.wait_with_output()
        })
        .expect("fmt -check -");
    assert_eq!(out.status.code(), Some(3), "not canonical");
    // -recursive reaches subdirectories (not hidden ones).
    std::fs::create_dir_all(work.path().join("envs/prod")).unwrap();
    std::fs::create_dir_all(work.path().join(".snapform")).unwrap();
    work.write("envs/prod/main.snap.hcl", "x = 1\nyy = 2\n");
    work.write(".snapform/hidden.snap.hcl", "x = 1\nyy = 2\n");
    let r = work.run(&["fmt"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, "", "without -recursive, only here: {r:?}");
    let r = work.run(&["fmt", "-recursive", "-check"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert_eq!(r.stdout.trim(), "envs/prod/main.snap.hcl", "{r:?}");
    // An absolute path: a clean diff header.
    let abs = work.path().join("envs/prod/main.snap.hcl");
    let r = work.run(&["fmt", "-diff", abs.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("a//"), "{r:?}");
    assert!(r.stdout.contains("--- a/"), "{r:?}");
    assert_eq!(
        std::fs::read_to_string(&abs).unwrap(),
        "x  = 1\nyy = 2\n",
        "formatted"
    );
    assert_eq!(
        std::fs::read_to_string(work.path().join(".snapform/hidden.snap.hcl")).unwrap(),
        "x = 1\nyy = 2\n",
        "hidden directories are left alone"
    );
}

#[test]
fn progress_says_still_creating_and_retries_are_never_silent() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "1"]);
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb));
    // A snapshot that takes a second, reported every 200 ms (10 s by default).
    let r = work.run_env(
        &["apply", "-auto-approve", "-no-color"],
        &[("SNAPFORM_PROGRESS_INTERVAL_MS", "200")],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("image.golden: Still creating... ["),
        "{r:?}"
    );
    assert!(r.stderr.contains(" elapsed]"), "{r:?}");
    assert!(
        r.stderr.contains("image.golden: Creation complete after"),
        "{r:?}"
    );
    // Every compute call answered 503: each retry is a line, and the error counts attempts.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(sb.set_faults(serde_json::json!({"error_rate": 1.0})));
    let r = work.run_env(
        &["plan", "-no-color"],
        &[("SNAPFORM_RETRY_MIN_BACKOFF_MS", "20")],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        !r.stderr.contains('\u{1b}'),
        "no colour codes off a terminal: {r:?}"
    );
    // Each listing that failed was retried 5 times, each retry a line.
    let retries = r.stderr.matches("retrying ").count();
    assert!(
        retries >= 5 && retries.is_multiple_of(5),
        "one line per retry: {r:?}"
    );
    assert!(r.stderr.contains("(attempt 1 of 6 failed: "), "{r:?}");
    assert!(r.stderr.contains("HTTP 503"), "{r:?}");
    assert!(r.stderr.contains("gave up after 6 attempts"), "{r:?}");
}

#[test]
fn lock_false_runs_beside_a_held_lock() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb));
    let r = work.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Another run holds the lock (an OS file lock on the .lock file).
    let lock_path = work.path().join("snapform.state.json.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(&lock_path, "pid 4242 since 2026-01-01T00:00:00Z").unwrap();
    let r = work.run(&["plan", "-detailed-exitcode"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("locked by another run (pid 4242"),
        "{r:?}"
    );
    for args in [
        &["plan", "-lock=false", "-detailed-exitcode"][..],
        &["plan", "--lock", "false", "--detailed-exitcode"][..],
        &["apply", "-lock=false", "-auto-approve"][..],
    ] {
        let r = work.run(args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    assert_eq!(
        std::fs::read_to_string(&lock_path).unwrap(),
        "pid 4242 since 2026-01-01T00:00:00Z",
        "a run without the lock leaves the holder's note alone"
    );
}

/// As Terraform: a data source that depends on a resource with changes pending is read during
/// apply, after the change; `show` lists data sources; a read at apply never enters state as
/// a managed resource (the next plan is clean).
#[test]
fn data_source_after_a_pending_change_is_read_at_apply_and_shown() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "0.2"]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
data "server" "web" {{
  name = "web-01"
}}
resource "image" "golden" {{
  server_id = data.server.web.id
  name      = "golden-read"
}}
data "images" "mine" {{
  server_id = image.golden.server_id
  name      = image.golden.name
}}
output "n" {{
  value = length(data.images.mine.images)
}}
"#,
            sb.provider_block()
        ),
    );
    let r = work.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("depends on image.golden, which has changes pending"),
        "{r:?}"
    );
    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("n = 1"), "read after the create: {r:?}");
    let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "clean: {r:?}");
    let r = work.run(&["state", "list"]);
    assert_eq!(r.stdout.trim(), "image.golden", "{r:?}");
    let r = work.run(&["show", "-no-color"]);
    assert!(r.stdout.contains("# data.images.mine:"), "{r:?}");
    assert!(r.stdout.contains("data \"server\" \"web\" {"), "{r:?}");
    assert!(
        r.stdout.contains("resource \"image\" \"golden\" {"),
        "{r:?}"
    );
    assert!(r.stdout.contains("Outputs:"), "{r:?}");
    let r = work.run(&["show", "-json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let modes: Vec<&str> = v["values"]["root_module"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["mode"].as_str().unwrap())
        .collect();
    assert_eq!(modes, vec!["data", "data", "managed"], "{v}");
}

/// `-replace` on a `for_each` block address replaces every instance; after a replace that
/// carries a dependent `image_metadata` along, nothing is reported "outside snapform".
#[test]
fn replace_of_a_block_and_of_an_image_with_metadata() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "0.2"]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
data "server" "web" {{
  name = "web-01"
}}
resource "image" "golden" {{
  server_id = data.server.web.id
  name      = "golden-rep"
}}
resource "image_metadata" "x" {{
  image_id = image.golden.id
  metadata = {{
    k = "v"
  }}
}}
resource "image" "many" {{
  for_each  = toset(["a", "b"])
  server_id = data.server.web.id
  name      = "many-${{each.key}}"
}}
"#,
            sb.provider_block()
        ),
    );
    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "-no-color", "-replace=image.many"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("Plan: 2 to add, 0 to change, 2 to destroy."),
        "every instance of the block: {r:?}"
    );
    let r = work.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-replace=image.golden",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("outside snapform"), "{r:?}");
    assert!(!r.stderr.contains("outside snapform"), "{r:?}");
    let r = work.run(&["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stdout.contains("outside snapform"), "{r:?}");
}

/// `import` blocks with `for_each` (Terraform 1.7): one import per element, `each.key` in
/// `to`'s index and `each.value` in `id`; the plan after apply is clean.
#[test]
fn import_blocks_with_for_each_adopt_every_element() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "0.2"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(cli_support::Api::login(&sb.url, "DFW"));
    let server = rt.block_on(api.server_id("web-01"));
    // Two snapshots made by hand.
    let mut ids = Vec::new();
    for name in ["hand-a", "hand-b"] {
        ids.push(rt.block_on(api.snapshot_by_hand(&server, name, serde_json::json!({}))));
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
variable "snapshots" {{
  default = {{
    hand-a = "{}"
    hand-b = "{}"
  }}
}}
resource "image" "adopted" {{
  for_each  = var.snapshots
  server_id = "{server}"
  name      = each.key
}}
import {{
  for_each = var.snapshots
  to       = image.adopted[each.key]
  id       = each.value
}}
"#,
            sb.provider_block(),
            ids[0],
            ids[1]
        ),
    );
    let r = work.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("image.adopted[\"hand-a\"] will be imported"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("image.adopted[\"hand-b\"] will be imported"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("will be created"), "{r:?}");
    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let st: serde_json::Value = serde_json::from_str(&work.state().unwrap()).unwrap();
    assert_eq!(
        st["resources"]["image.adopted[\"hand-a\"]"]["id"],
        ids[0].as_str()
    );
    assert_eq!(
        st["resources"]["image.adopted[\"hand-b\"]"]["id"],
        ids[1].as_str()
    );
    let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    // A `to` without the instance key under for_each is an error naming the fix.
    work.write(
        "main.snap.hcl",
        &format!(
            "{}\nresource \"image\" \"x\" {{\n  server_id = \"{server}\"\n  name = \"x\"\n}}\nimport {{\n  for_each = toset([\"a\"])\n  to       = image.x\n  id       = each.key\n}}\n",
            sb.provider_block()
        ),
    );
    let r = work.run(&["plan", "-no-color"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("to = image.x[each.key]"), "{r:?}");
}

/// `plan -generate-config-out=FILE` (Terraform 1.5): resource blocks for the import targets
/// the configuration lacks, from the objects in the cloud — an image with its own metadata
/// (not the keys the cloud set) and a schedule — valid, canonical, and planning no change.
#[test]
fn generate_config_out_writes_blocks_that_plan_no_change() {
    let sb = ServedSandbox::start(&["--snapshot-seconds", "0.2"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let api = rt.block_on(cli_support::Api::login(&sb.url, "DFW"));
    let server = rt.block_on(api.server_id("web-01"));
    let image = rt.block_on(api.snapshot_by_hand(
        &server,
        "by-hand",
        serde_json::json!({"owner": "ops", "note": "a \"quoted\" ${x}"}),
    ));
    let (st, _) = rt.block_on(api.call(
        "POST",
        &format!("/servers/{server}/rax-si-image-schedule"),
        Some(serde_json::json!({"image_schedule": {"retention": 5}})),
    ));
    assert_eq!(st, 200);
    std::thread::sleep(std::time::Duration::from_millis(400));
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}\nimport {{\n  to = image.by_hand\n  id = \"{image}\"\n}}\nimport {{\n  to = image_schedule.web\n  id = \"{server}\"\n}}\n",
            sb.provider_block()
        ),
    );
    let r = work.run(&[
        "plan",
        "-generate-config-out=generated.snap.hcl",
        "-no-color",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("Wrote configuration for 2 import targets"),
        "{r:?}"
    );
    assert!(r.stdout.contains("image.by_hand will be imported"), "{r:?}");
    assert!(
        r.stdout.contains("image_schedule.web will be imported"),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("will be updated"),
        "no change beyond the import: {r:?}"
    );
    let text = std::fs::read_to_string(work.path().join("generated.snap.hcl")).unwrap();
    assert!(text.contains("owner = \"ops\""), "{text}");
    assert!(
        text.contains("$${x}"),
        "a literal ${{ stays literal: {text}"
    );
    assert!(
        !text.contains("instance_uuid"),
        "the cloud's own keys are left out: {text}"
    );
    assert!(
        !text.contains("os_type"),
        "inherited keys are left out: {text}"
    );
    assert!(text.contains("retention = 5"), "{text}");
    let r = work.run(&["fmt", "-check"]);
    assert_eq!(r.code, 0, "canonical: {r:?}\n{text}");
    let r = work.run(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    // The file is never overwritten.
    let r = work.run(&["plan", "-generate-config-out=generated.snap.hcl"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("already exists"), "{r:?}");
}
