//! Every directory in `examples/` is canonical (`fmt -check`), validates, applies against the
//! sandbox and plans clean afterwards; each is also driven through the change it exists to
//! show (a server leaving the fleet, a new release, a pinned snapshot surviving retention,
//! state in PostgreSQL from the libpq environment).

mod cli_support;
mod pg_support;

use cli_support::{Api, ServedSandbox, Work};
use std::path::Path;

const EXAMPLES: [&str; 5] = [
    "quickstart",
    "weekly-backups",
    "golden-images",
    "pin-snapshot",
    "team-state-pg",
];

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}/main.snap.hcl")),
    )
    .unwrap()
}

/// A working directory holding one example, as a user would copy it.
fn work_with(name: &str) -> Work {
    let work = Work::new();
    work.write("main.snap.hcl", &example(name));
    work
}

fn converges(work: &Work, env: &[(&str, &str)], added: usize) {
    let r = work.run_env(&["apply", "-auto-approve", "-input=false"], env);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("Apply complete! Resources: {added} added")),
        "{r:?}"
    );
    let r = work.run_env(&["plan", "-detailed-exitcode"], env);
    assert_eq!(r.code, 0, "the second plan is clean: {r:?}");
    assert!(r.stdout.contains("No changes."), "{r:?}");
}

#[test]
fn the_list_of_examples_is_complete() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    found.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "every example is tested here");
}

#[test]
fn every_example_is_canonical_and_valid() {
    for name in EXAMPLES {
        let work = work_with(name);
        let r = work.run(&["fmt", "-check", "-diff"]);
        assert_eq!(r.code, 0, "{name}: {r:?}");
        let r = work.run(&["validate"]);
        assert_eq!(r.code, 0, "{name}: {r:?}");
        assert!(r.stderr.contains("The configuration is valid"), "{r:?}");
    }
}

#[test]
fn weekly_backups_follows_the_fleet_list() {
    let work = work_with("weekly-backups");
    converges(&work, &[], 3);
    let r = work.run(&["output", "-json", "schedules"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["web-02"], "SUNDAY", "{v}");
    // A server leaves the list: its schedule is disabled, the others are untouched.
    let r = work.run(&["plan", "-var", "servers=[\"web-01\", \"db-01\"]"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("image_schedule.weekly[\"web-02\"] will be destroyed"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{r:?}"
    );
    let r = work.run(&["plan", "-var", "retention=99"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("Keep between 1 and 52 weekly snapshots."),
        "{r:?}"
    );
}

#[test]
fn golden_images_per_region_roll_to_a_new_release() {
    let work = work_with("golden-images");
    converges(&work, &[], 4);
    let r = work.run(&["output", "-json", "golden_images"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["DFW"].is_string() && v["ORD"].is_string(), "{v}");
    let state: serde_json::Value = serde_json::from_str(&work.state().unwrap()).unwrap();
    let ord = &state["resources"]["image.golden_ord"]["attributes"];
    assert_eq!(
        ord["metadata"]["base_image"],
        "Ubuntu 15.04 (Vivid Vervet) (PVHVM)"
    );
    // A new release renames both images in place (Image API v2) and keeps their ids.
    let r = work.run(&["apply", "-auto-approve", "-var", "release=2027-01"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("Apply complete! Resources: 0 added, 2 changed, 0 destroyed."),
        "{r:?}"
    );
    let r = work.run(&["output", "-json", "golden_images"]);
    let after: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(after, v, "same images");
}

/// The pin survives retention: a daily schedule keeping 3, one snapshot pinned, ten more days;
/// three marked snapshots are left plus the pinned one.
#[test]
fn pin_snapshot_survives_retention() {
    let sb = ServedSandbox::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let work = Work::new();
    let text = example("pin-snapshot").replace(
        "provider \"rackspace\" {\n  sandbox = \".snapform/sandbox\"\n  region  = \"DFW\"\n}\n",
        &sb.provider_block(),
    );
    assert!(text.contains("auth_url"), "provider block replaced");
    work.write("main.snap.hcl", &text);
    converges(&work, &[], 1);

    rt.block_on(sb.advance_clock(86_400 + 60));
    std::thread::sleep(std::time::Duration::from_millis(800));
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let web = rt.block_on(api.server_id("web-01"));
    let daily = |api: &Api| {
        rt.block_on(cli_support::images_named(
            api,
            &format!("/images/detail?server={web}"),
            "Daily-web-01-",
            "status",
            true,
        ))
    };
    let first = daily(&api);
    assert_eq!(first.len(), 1, "{first:?}");
    let pinned = first[0].0.clone();

    let var = format!("snapshot_name={pinned}");
    let r = work.run(&["apply", "-auto-approve", "-var", &var]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("1 added"), "{r:?}");
    let r = work.run(&["plan", "-detailed-exitcode", "-var", &var]);
    assert_eq!(r.code, 0, "{r:?}");

    rt.block_on(sb.advance_clock(10 * 86_400));
    std::thread::sleep(std::time::Duration::from_millis(800));
    let left = daily(&api);
    assert!(
        left.iter().any(|(n, s)| *n == pinned && s == "ACTIVE"),
        "the pinned snapshot is still there: {left:?}"
    );
    assert_eq!(
        left.len(),
        4,
        "3 kept by retention + the pinned one: {left:?}"
    );
    // Still pinned, nothing to do.
    let r = work.run(&["plan", "-detailed-exitcode", "-var", &var]);
    assert_eq!(r.code, 0, "{r:?}");
}

/// The team example keeps its state in PostgreSQL, found through the libpq environment alone.
#[test]
fn team_state_pg_keeps_state_in_postgres() {
    let Some(pg) = pg_support::Postgres::start() else {
        return;
    };
    let port = pg.port.to_string();
    let env = [
        ("SNAPFORM_PG_CONN_STR", ""),
        ("PG_CONN_STR", ""),
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "snapform"),
        ("PGDATABASE", "postgres"),
    ];
    let work = work_with("team-state-pg");
    converges(&work, &env, 2);
    assert!(work.state().is_none(), "no local state file");
    let r = work.run_env(&["state", "list"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("image.db_baseline") && r.stdout.contains("image_schedule.db"),
        "{r:?}"
    );
}
