//! End-to-end tests of the cases that broke before there was one evaluator: locals read by
//! instanced resources, sensitive values, provider blocks over chains of locals, destroy and
//! refresh-off plans over `for_each = data.…`, refined unknowns, and `validate` reporting every
//! mistake at once with exact places and near-miss hints.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};

const SECRET: &str = "Qx9-very-distinctive-Kp3";

async fn server_id(api: &Api, name: &str) -> String {
    let (_, list) = api.get(&format!("/servers/detail?name={name}")).await;
    list["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .and_then(|s| s["id"].as_str())
        .unwrap()
        .to_string()
}

/// A `for_each` resource whose arguments read a local, next to a plain resource that sorts
/// earlier and reads the same local (which used to hide the bug).
#[tokio::test(flavor = "multi_thread")]
async fn locals_reach_instanced_and_plain_resources_alike() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
locals {{
  names = ["a", "b", "c"]
  owner = "team-${{length(local.names)}}"
}}
data "server" "fleet" {{
  for_each = toset(["web-01", "web-02"])
  name     = each.key
}}
data "image" "golden" {{
  name = "web-01-golden"
}}
resource "image_metadata" "a_first" {{
  image_id = data.image.golden.id
  metadata = {{ owner = local.owner }}
}}
resource "image_schedule" "s" {{
  for_each  = data.server.fleet
  server_id = each.value.id
  retention = length(local.names)
}}
"#,
            sb.provider_block()
        ),
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    for s in ["web-01", "web-02"] {
        let id = server_id(&api, s).await;
        let (_, sched) = api
            .get(&format!("/servers/{id}/rax-si-image-schedule"))
            .await;
        assert_eq!(sched["image_schedule"]["retention"], 3, "{s}");
    }
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// A distinctive sensitive value: never in stdout, stderr (logs at trace level included) or
/// the plan file; in state; a second plan is clean (the sensitive output is recorded).
#[tokio::test(flavor = "multi_thread")]
async fn sensitive_values_are_used_but_never_shown() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
variable "suffix" {{
  type      = string
  sensitive = true
}}
data "server" "web" {{
  name = "web-01"
}}
data "images" "probe" {{
  name = "probe-${{var.suffix}}"
}}
resource "image" "g" {{
  server_id = data.server.web.id
  name      = "golden-${{var.suffix}}"
  metadata  = {{ tag = upper(var.suffix), plain = "visible" }}
}}
output "name" {{
  value     = image.g.name
  sensitive = true
}}
output "id" {{
  value = image.g.id
}}
"#,
            sb.provider_block()
        ),
    );
    let env = [("SNAPFORM_VAR_suffix", SECRET), ("SNAPFORM_LOG", "trace")];
    let clean = |r: &cli_support::Run, what: &str| {
        assert!(
            !r.stdout.contains(SECRET) && !r.stderr.contains(SECRET),
            "{what} printed the sensitive value: {r:?}"
        );
        assert!(
            !r.stdout.to_uppercase().contains(&SECRET.to_uppercase()),
            "{what} printed a value derived from it: {r:?}"
        );
    };
    let r = work.run_env(&["plan", "--out", "p.json"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    clean(&r, "plan");
    assert!(r.stdout.contains("(sensitive value)"), "{r:?}");
    assert!(r.stdout.contains("\"visible\""), "{r:?}");
    let planfile = std::fs::read_to_string(work.path().join("p.json")).unwrap();
    assert!(!planfile.contains(SECRET), "the plan file holds the value");
    assert!(!planfile.to_uppercase().contains(&SECRET.to_uppercase()));
    let r = work.run_env(&["apply", "p.json"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    clean(&r, "apply");
    // The value reached the cloud and state holds it.
    let (_, imgs) = api
        .get(&format!("/images/detail?name=golden-{SECRET}"))
        .await;
    assert_eq!(imgs["images"].as_array().unwrap().len(), 1, "{imgs}");
    assert_eq!(
        imgs["images"][0]["metadata"]["tag"],
        SECRET.to_uppercase().as_str()
    );
    assert!(work.state().unwrap().contains(SECRET));
    // Everything that shows state hides it; the second plan is clean.
    for args in [
        &["plan", "--detailed-exitcode"][..],
        &["show"],
        &["state", "show", "image.g"],
        &["output"],
    ] {
        let r = work.run_env(args, &env);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
        clean(&r, &format!("{args:?}"));
    }
    // As in Terraform, asking for one output by name shows its value.
    let r = work.run_env(&["output", "-raw", "name"], &env);
    assert_eq!(r.stdout.trim(), format!("golden-{SECRET}"), "{r:?}");
    let r = work.run_env(&["destroy", "--auto-approve"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    clean(&r, "destroy");
}

/// An output that is not sensitive may not show a sensitive value: the error names it.
#[test]
fn a_plain_output_of_a_sensitive_value_is_an_error() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"
provider "rackspace" { sandbox = ".snapform/sandbox" }
variable "key" {
  sensitive = true
  default   = "abc123"
}
output "leak" {
  value = "k-${var.key}"
}
"#,
    );
    let r = work.run(&["validate"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("main.snap.hcl:8:11"), "{r:?}");
    assert!(
        r.stderr
            .contains("output \"leak\" refers to sensitive values; add sensitive = true"),
        "{r:?}"
    );
}

/// A provider block that reads a chain of locals (and a variable through them).
#[tokio::test(flavor = "multi_thread")]
async fn provider_blocks_read_chains_of_locals() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"
variable "user" {{
  default = "demo"
}}
locals {{
  zone   = "DFW"
  region = local.zone
  login  = var.user
  url    = "{}"
}}
provider "rackspace" {{
  auth_url = local.url
  username = local.login
  api_key  = local.login
  region   = local.region
}}
data "server" "web" {{
  name = "web-01"
}}
output "server" {{
  value = data.server.web.id
}}
"#,
            sb.auth_url()
        ),
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["output", "--raw", "server"]);
    assert_eq!(r.stdout.trim().len(), 36, "{r:?}");
}

/// `plan --destroy`, `destroy`, `--refresh=false` and `--target` over `for_each = data.…`.
#[tokio::test(flavor = "multi_thread")]
async fn destroy_and_steered_plans_expand_for_each_over_data_sources() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
data "server" "fleet" {{
  for_each = toset(["web-01", "web-02"])
  name     = each.key
}}
resource "image_schedule" "s" {{
  for_each  = data.server.fleet
  server_id = each.value.id
  retention = 3
}}
"#,
            sb.provider_block()
        ),
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    for args in [
        &["plan", "--detailed-exitcode", "--refresh=false"][..],
        &[
            "plan",
            "--detailed-exitcode",
            "--target",
            "image_schedule.s[\"web-01\"]",
        ],
        &[
            "plan",
            "--detailed-exitcode",
            "--target",
            "image_schedule.s",
        ],
    ] {
        let r = work.run(args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    let r = work.run(&["plan", "--destroy", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("0 to add, 0 to change, 2 to destroy"),
        "{r:?}"
    );
    let r = work.run(&["destroy", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    for s in ["web-01", "web-02"] {
        let id = server_id(&api, s).await;
        let (st, _) = api
            .get(&format!("/servers/{id}/rax-si-image-schedule"))
            .await;
        assert_eq!(st, 404, "{s}");
    }
}

/// A collection of instances whose attributes are unknown still has a known length and keys.
#[tokio::test(flavor = "multi_thread")]
async fn unknowns_are_refined_for_count_and_for_each() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            r#"{}
data "server" "web" {{
  name = "web-01"
}}
resource "image" "g" {{
  for_each  = toset(["a", "b"])
  server_id = data.server.web.id
  name      = "g-${{each.key}}"
}}
resource "image_metadata" "per_image" {{
  for_each = image.g
  image_id = each.value.id
  metadata = {{ of = each.key }}
}}
resource "image_metadata" "counted" {{
  count    = length(image.g)
  image_id = values(image.g)[count.index].id
  metadata = {{ n = tostring(count.index) }}
}}
"#,
            sb.provider_block()
        ),
    );
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("Plan: 6 to add"), "{r:?}");
    assert!(
        r.stdout.contains("image_metadata.per_image[\"a\"]"),
        "{r:?}"
    );
    assert!(r.stdout.contains("image_metadata.counted[1]"), "{r:?}");
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Ten different mistakes: all reported in one run, in line order, at their exact places, with
/// near-miss hints; plus a bad value named by where it came from.
#[test]
fn validate_reports_every_mistake_in_line_order_with_hints() {
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"provider "rackspace" { sandbox = ".snapform/sandbox" }
variable "retention" {
  type    = number
  default = 7
}
locals {
  a = local.b
  b = local.a
}
resource "image_schedule" "s" {
  server_id = "x"
  retention = 3
  retnetion = 3
}
resource "imgae" "x" {
  name = "a"
}
resource "image_schedule" "t" {
  server_id = var.retnetion
  retention = 0
}
resource "image" "i" {
  server_id = "s"
  name      = lenght("abc")
}
resource "image" "j" {
  server_id = image.ii.id
  name      = [1]
}
resorce "image" "k" {
}
resource "image" "m" {
  server_id = "s"
  name      = "broken
}
"#,
    );
    work.write("prod.snapvars.hcl", "# prod\n\nretention = \"often\"\n");
    let r = work.run(&["validate", "--var-file", "prod.snapvars.hcl"]);
    assert_eq!(r.code, 1, "{r:?}");
    let want = [
        ("main.snap.hcl:8:3:", "dependency cycle through local.b"),
        (
            "main.snap.hcl:13:3:",
            "unknown attribute \"retnetion\" in resource \"image_schedule\" \"s\"; expected one of server_id, retention, day_of_week; did you mean \"retention\"?",
        ),
        (
            "main.snap.hcl:15:10:",
            "unknown resource type \"imgae\"; expected one of image, image_metadata, image_schedule; did you mean \"image\"?",
        ),
        (
            "main.snap.hcl:19:15:",
            "reference to undeclared input variable \"retnetion\"; did you mean \"retention\"?",
        ),
        (
            "main.snap.hcl:20:15:",
            "retention must be a whole number from 1 to 65535, found 0",
        ),
        (
            "main.snap.hcl:24:15:",
            "there is no function named \"lenght\"; did you mean \"length\"?",
        ),
        (
            "main.snap.hcl:27:15:",
            "reference to undeclared resource \"image.ii\"; did you mean \"image.i\"?",
        ),
        (
            "main.snap.hcl:28:15:",
            "\"name\" must be string, found list",
        ),
        (
            "main.snap.hcl:30:1:",
            "unknown block type \"resorce\"; expected one of snapform, provider, variable, locals, data, resource, output, moved, removed, import, list; did you mean \"resource\"?",
        ),
        (
            "main.snap.hcl:34:15:",
            "unterminated string; expected a closing \" on the same line",
        ),
        (
            "prod.snapvars.hcl:3:13:",
            "invalid value for variable \"retention\": expected number, found string \"often\"",
        ),
    ];
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error: "))
        .collect();
    assert_eq!(errors.len(), want.len(), "{r:?}");
    for ((at, msg), line) in want.iter().zip(&errors) {
        assert!(
            line.starts_with(at) && line.contains(msg),
            "expected {at} {msg}\nfound {line}\n{r:?}"
        );
    }
    assert!(r.stderr.contains("11 errors in the configuration"), "{r:?}");

    // The environment and --var name themselves as the origin of a bad value.
    let r = work.run_env(&["validate"], &[("SNAPFORM_VAR_retention", "x")]);
    assert!(
        r.stderr
            .contains("(from the environment variable SNAPFORM_VAR_retention)"),
        "{r:?}"
    );
    let r = work.run(&["validate", "--var", "retention=soon"]);
    assert!(
        r.stderr
            .contains("expected number, found string \"soon\" (from --var retention=soon)"),
        "{r:?}"
    );
}
