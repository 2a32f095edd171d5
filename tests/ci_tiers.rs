//! `.ci/run` makes every test tier required in CI: with one tier's install forced to fail
//! (`SNAPFORM_CI_FAIL_TIER`), it exits non-zero naming that tier under `CI=true`, and goes on
//! (its tests will skip) outside CI. `SNAPFORM_CI_ONLY_TIER` runs just that tier's set-up, so
//! nothing is installed here.

use std::path::Path;
use std::process::Command;

fn ci_run(tier: &str, ci: bool) -> (i32, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("bash");
    cmd.arg(root.join(".ci/run"))
        .env("SNAPFORM_CI_ONLY_TIER", tier)
        .env("SNAPFORM_CI_FAIL_TIER", tier)
        .env_remove("CI");
    if ci {
        cmd.env("CI", "true");
    }
    let o = cmd.output().expect("run .ci/run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

#[test]
fn a_tier_that_cannot_be_installed_fails_ci_and_names_itself() {
    for tier in ["python", "chromium", "postgresql", "glance", "openstack"] {
        let (code, out) = ci_run(tier, true);
        assert_ne!(code, 0, "{tier}: {out}");
        assert!(
            out.contains(&format!("{tier}: ")) && out.contains("in CI every test tier is required"),
            "{tier}: {out}"
        );
        let (code, out) = ci_run(tier, false);
        assert_eq!(code, 0, "{tier} outside CI: {out}");
        assert!(out.contains("its tests will skip"), "{tier}: {out}");
    }
}
