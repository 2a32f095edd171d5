//! End-to-end tests of lifecycle rules and plan-shaping flags: prevent_destroy, ignore_changes,
//! create_before_destroy, --target, --replace, --refresh=false, --refresh-only.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};

/// The sandbox provider plus the two fixture servers the tests snapshot.
fn provider(sb: &ServedSandbox) -> String {
    format!(
        "{}data \"server\" \"web\" {{\n  name = \"web-01\"\n}}\ndata \"server\" \"db\" {{\n  name = \"db-01\"\n}}\n",
        sb.provider_block()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn prevent_destroy_refuses_and_ignore_changes_ignores() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    let cfg = |server: &str| {
        format!(
            "{}resource \"image\" \"keep\" {{\n  server_id = data.server.{server}.id\n  name = \"keep\"\n  metadata = {{ owner = \"ops\" }}\n  lifecycle {{\n    prevent_destroy = true\n    ignore_changes = [metadata]\n  }}\n}}\n",
            provider(&sb)
        )
    };
    work.write("main.snap.hcl", &cfg("web"));
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let id = work.id_of("image.keep");

    // ignore_changes: a value changed behind snapform's back is not planned back.
    api.set_metadata(&id, "owner", "someone-else").await;
    let r = work.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");

    // prevent_destroy: destroy and a forced replacement are refused, naming the resource.
    let before = work.state();
    let r = work.run(&["destroy", "--auto-approve"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains("image.keep has lifecycle.prevent_destroy"),
        "{r:?}"
    );
    assert!(r.stderr.contains("main.snap.hcl:"), "{r:?}");
    work.write("main.snap.hcl", &cfg("db"));
    let r = work.run(&["plan"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("prevent_destroy"), "{r:?}");
    assert_eq!(work.state(), before, "state untouched");
    let (st, _) = api.get(&format!("/images/{id}")).await;
    assert_eq!(st, 200, "the image is still there");
}

/// `ignore_changes` of one key of a map (`metadata["tier"]`) ignores that key only, as in
/// Terraform; and an ignored attribute that differs from the configuration does not stop an
/// update of another one (the apply sends what the plan kept, never the configuration's value).
#[tokio::test(flavor = "multi_thread")]
async fn ignore_changes_of_one_map_key_and_updates_beside_ignored_values() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    let cfg = |name: &str, tier: &str, ignore: &str| {
        format!(
            "{}resource \"image\" \"i\" {{\n  server_id = data.server.web.id\n  name = \"{name}\"\n  metadata = {{ team = \"ops\", tier = \"{tier}\" }}\n  lifecycle {{\n    ignore_changes = [{ignore}]\n  }}\n}}\n",
            provider(&sb)
        )
    };
    work.write("main.snap.hcl", &cfg("keyed", "gold", "metadata[\"tier\"]"));
    let r = work.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let id = work.id_of("image.i");
    let set = |k: &'static str, v: &'static str| api.set_metadata(&id, k, v);
    let meta = || async {
        let (_, v) = api.get(&format!("/images/{id}")).await;
        (
            v["image"]["metadata"]["team"]
                .as_str()
                .unwrap_or("-")
                .to_string(),
            v["image"]["metadata"]["tier"]
                .as_str()
                .unwrap_or("-")
                .to_string(),
            v["image"]["name"].as_str().unwrap_or("-").to_string(),
        )
    };
    // The ignored key changed outside: no change.
    set("tier", "silver").await;
    let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 0, "{r:?}");
    // Another key of the same map changed outside: planned back, the ignored one left.
    set("team", "dev").await;
    let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("0 to add, 1 to change"), "{r:?}");
    assert!(
        r.stdout.contains("~ \"team\" = \"dev\" -> \"ops\""),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("~ \"tier\""),
        "tier is not planned: {r:?}"
    );
    let r = work.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        meta().await,
        ("ops".into(), "silver".into(), "keyed".into())
    );
}

/// `ignore_changes` in every form (one key, a key with dots, the whole map, `all`) × both ways
/// to apply (`apply`, `apply PLANFILE`): after the cloud's values changed outside and the
/// configuration changed too, what the cloud ends with is the cloud's value for what is
/// ignored and the configuration's for the rest, and the next plan is clean.
#[tokio::test(flavor = "multi_thread")]
async fn ignore_changes_in_every_form_and_both_ways_to_apply() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    // (ignore_changes, the key it ignores, whether team and the name are ignored too)
    let forms = [
        ("metadata[\"tier\"]", "tier", false),
        ("metadata[\"org.x.tier\"]", "org.x.tier", false),
        ("metadata", "tier", true),
        ("all", "tier", true),
    ];
    for (n, (ignore, key, broad)) in forms.into_iter().enumerate() {
        for planfile in [false, true] {
            let label = format!(
                "{ignore} via {}",
                if planfile { "apply PLANFILE" } else { "apply" }
            );
            let work = Work::new();
            let cfg = |name: &str, value: &str| {
                format!(
                    "{}resource \"image\" \"i\" {{\n  server_id = data.server.web.id\n  name = \"{name}\"\n  metadata = {{ team = \"ops\", \"{key}\" = \"{value}\" }}\n  lifecycle {{\n    ignore_changes = [{ignore}]\n  }}\n}}\n",
                    provider(&sb)
                )
            };
            let first = format!("forms-{n}-{planfile}");
            work.write("main.snap.hcl", &cfg(&first, "gold"));
            let r = work.run(&["apply", "-auto-approve"]);
            assert_eq!(r.code, 0, "{label}: {r:?}");
            let id = work.id_of("image.i");
            api.set_metadata(&id, key, "silver").await;
            api.set_metadata(&id, "team", "dev").await;
            let renamed = format!("{first}-renamed");
            work.write("main.snap.hcl", &cfg(&renamed, "platinum"));
            let r = if planfile {
                let r = work.run(&["plan", "-out=p", "-no-color"]);
                assert_eq!(r.code, 0, "{label}: {r:?}");
                work.run(&["apply", "-no-color", "p"])
            } else {
                work.run(&["apply", "-auto-approve", "-no-color"])
            };
            assert_eq!(r.code, 0, "{label}: {r:?}");
            let (_, v) = api.get(&format!("/images/{id}")).await;
            let got = (
                v["image"]["name"].as_str().unwrap_or("-"),
                v["image"]["metadata"]["team"].as_str().unwrap_or("-"),
                v["image"]["metadata"][key].as_str().unwrap_or("-"),
            );
            let want = match (broad, ignore) {
                (_, "all") => (first.as_str(), "dev", "silver"),
                (true, _) => (renamed.as_str(), "dev", "silver"),
                (false, _) => (renamed.as_str(), "ops", "silver"),
            };
            assert_eq!(got, want, "{label}");
            let r = work.run(&["plan", "-detailed-exitcode", "-no-color"]);
            assert_eq!(r.code, 0, "{label}: {r:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn create_before_destroy_and_replace() {
    let sb = ServedSandbox::start(&[]);
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}resource \"image\" \"cbd\" {{\n  server_id = data.server.web.id\n  name = \"cbd\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n",
            provider(&sb)
        ),
    );
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let old_id = work.id_of("image.cbd");
    sb.reset_requests().await;

    let r = work.run(&["plan", "--detailed-exitcode", "--replace", "image.cbd"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stdout.contains("image.cbd must be replaced"), "{r:?}");
    assert!(r.stdout.contains("--replace"), "{r:?}");
    let r = work.run(&["apply", "--auto-approve", "--replace", "image.cbd"]);
    assert_eq!(r.code, 0, "{r:?}");
    let log = sb.requests().await;
    let routes: Vec<String> = log["log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["method"].as_str().unwrap_or(""),
                e["route"].as_str().unwrap_or("")
            )
        })
        .collect();
    let create = routes.iter().position(|r| r == "POST /servers/{id}/action");
    let delete = routes.iter().position(|r| r == "DELETE /images/{id}");
    assert!(
        create.is_some() && delete.is_some() && create < delete,
        "created before destroyed: {routes:?}"
    );
    assert_ne!(work.id_of("image.cbd"), old_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn target_refresh_false_and_refresh_only() {
    let sb = ServedSandbox::start(&[]);
    let api = Api::login(&sb.url, "DFW").await;
    let work = Work::new();
    let cfg = |a: u32, b: u32| {
        format!(
            "{}resource \"image_schedule\" \"a\" {{\n  server_id = data.server.web.id\n  retention = {a}\n}}\nresource \"image_schedule\" \"b\" {{\n  server_id = data.server.db.id\n  retention = {b}\n}}\nresource \"image\" \"i\" {{\n  server_id = data.server.web.id\n  name = \"i\"\n  metadata = {{ owner = \"ops\" }}\n}}\n",
            provider(&sb)
        )
    };
    work.write("main.snap.hcl", &cfg(1, 1));
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");

    // --target: only the target changes.
    work.write("main.snap.hcl", &cfg(2, 2));
    let r = work.run(&["plan", "--target", "image_schedule.a"]);
    assert!(r.stdout.contains("0 to add, 1 to change"), "{r:?}");
    assert!(!r.stdout.contains("image_schedule.b"), "{r:?}");
    let r = work.run(&["apply", "--auto-approve", "--target", "image_schedule.a"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["plan"]);
    assert!(
        r.stdout.contains("image_schedule.b will be updated"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("image_schedule.a will"), "{r:?}");
    let r = work.run(&["plan", "--target", "image.nope"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("image.nope is neither declared"), "{r:?}");
    let r = work.run(&["apply", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");

    // --refresh-only: drift is recorded in state, nothing changes in the cloud.
    let id = work.id_of("image.i");
    api.set_metadata(&id, "owner", "mallory").await;
    let r = work.run(&["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("metadata changed outside snapform"),
        "{r:?}"
    );
    assert!(r.stdout.contains("refresh-only"), "{r:?}");
    let r = work.run(&["apply", "--refresh-only", "--auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let (_, md) = api.get(&format!("/images/{id}/metadata")).await;
    assert_eq!(md["metadata"]["owner"], "mallory", "the cloud is unchanged");
    assert!(
        work.state().unwrap().contains("mallory"),
        "state records the drift"
    );
    let r = work.run(&["plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(r.code, 0, "{r:?}");

    // --refresh=false trusts the state: an image deleted behind snapform's back goes unnoticed.
    let (st, _) = api.call("DELETE", &format!("/images/{id}"), None).await;
    assert_eq!(st, 204);
    let r = work.run(&["plan", "--refresh=false"]);
    assert!(!r.stdout.contains("image.i will be created"), "{r:?}");
    let r = work.run(&["plan"]);
    assert!(r.stdout.contains("image.i will be created"), "{r:?}");
}
