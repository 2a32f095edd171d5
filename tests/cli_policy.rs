//! A Rego policy written for `terraform show -json` (tests/policy/protect.rego) evaluates
//! unchanged on `snapform show -json PLANFILE` and `snapform plan -json`, with a Rego engine
//! from crates.io (regorus): the JSON is Terraform's documented format.

mod cli_support;

use cli_support::{ServedSandbox, Work};

const POLICY: &str = include_str!("policy/protect.rego");

fn deny(plan_json: &str) -> Vec<String> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("protect.rego".into(), POLICY.into())
        .expect("policy parses");
    engine
        .set_input_json(plan_json)
        .expect("the plan is JSON regorus reads");
    let v = engine
        .eval_rule("data.terraform.images.deny".into())
        .expect("rule evaluates");
    let mut out: Vec<String> = v
        .as_set()
        .map(|s| {
            s.iter()
                .map(|m| m.as_string().map(|x| x.to_string()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn config(sb: &ServedSandbox, with_unowned: bool) -> String {
    format!(
        r#"{}
data "server" "web" {{
  name = "web-01"
}}
resource "image" "keep" {{
  server_id = data.server.web.id
  name      = "policy-keep"
  metadata = {{
    protect = "true"
    owner   = "ops"
  }}
}}
resource "image" "scratch" {{
  server_id = data.server.web.id
  name      = "policy-scratch"
  metadata = {{
    owner = "ops"
  }}
}}
{}"#,
        sb.provider_block(),
        if with_unowned {
            "resource \"image\" \"unowned\" {\n  server_id = data.server.web.id\n  name      = \"policy-unowned\"\n}\n"
        } else {
            ""
        }
    )
}

#[test]
fn a_terraform_rego_policy_reads_snapform_plans() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb, true));
    // A create without an owner is denied; the others pass.
    let r = work.run(&["plan", "-json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        deny(&r.stdout),
        vec!["image.unowned: a new image needs metadata.owner".to_string()],
        "{}",
        r.stdout
    );
    work.write("main.snap.hcl", &config(&sb, false));
    let r = work.run(&["plan", "-out=create.plan"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["show", "-json", "create.plan"]);
    assert_eq!(deny(&r.stdout), Vec::<String>::new(), "{}", r.stdout);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["format_version"], "1.2");
    let rc = &v["resource_changes"][0];
    assert_eq!(
        rc["change"]["actions"],
        serde_json::json!(["create"]),
        "{rc}"
    );
    assert_eq!(rc["change"]["after_unknown"]["id"], true, "{rc}");
    assert!(rc["change"]["after"].get("id").is_none(), "{rc}");
    let r = work.run(&["apply", "create.plan"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Destroying everything: the protected image is denied, the other is not.
    let r = work.run(&["plan", "-destroy", "-out=destroy.plan"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["show", "-json", "destroy.plan"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        deny(&r.stdout),
        vec!["image.keep: refusing to destroy image \"policy-keep\", its metadata says protect = \"true\"".to_string()],
        "{}",
        r.stdout
    );
    // A replacement deletes too: denied the same way.
    let r = work.run(&[
        "plan",
        "-json",
        "-replace=image.keep",
        "-replace=image.scratch",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let keep = v["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["address"] == "image.keep")
        .cloned()
        .unwrap();
    assert_eq!(
        keep["change"]["actions"],
        serde_json::json!(["delete", "create"])
    );
    assert_eq!(keep["action_reason"], "replace_by_request");
    assert_eq!(deny(&r.stdout).len(), 1, "{}", r.stdout);
    // The state in Terraform's format too.
    let r = work.run(&["show", "-json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let res = v["values"]["root_module"]["resources"].as_array().unwrap();
    assert_eq!(res.len(), 3, "{v}");
    assert_eq!(res[0]["address"], "data.server.web", "{v}");
    assert_eq!(res[0]["mode"], "data");
    assert_eq!(res[1]["mode"], "managed");
    assert_eq!(res[1]["type"], "image");
}
