//! `init -migrate-state` through the binary, local → pg → http → local, with two workspaces:
//! each step copies both states keeping lineage and serial, a run between a backend change and
//! `init` is refused, a target holding another lineage is refused unless `-force-copy`, and
//! every step ends with a clean plan in both workspaces. PostgreSQL is real (pg_support); the
//! http state server is a minimal one (`cli_support::serve_http_states`, one state per path).

mod cli_support;
mod pg_support;

use cli_support::{Work, clean_plans, pulled};
use pg_support::Postgres;

fn config(backend: &str) -> String {
    cli_support::golden_config(backend, "golden-${snapform.workspace}", "")
}

const BOTH: &[&str] = &["default", "staging"];

#[tokio::test(flavor = "multi_thread")]
async fn local_to_pg_to_http_to_local_keeps_lineage_and_serial() {
    let Some(pg) = Postgres::start() else { return };
    let (http_states, http) = cli_support::serve_http_states().await;
    let conn = pg.conn_str(None);
    let env = [
        ("SNAPFORM_PG_CONN_STR", conn.as_str()),
        ("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0"),
    ];
    let work = Work::new();
    work.write("main.snap.hcl", &config(""));
    let r = work.run_env(&["init"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    for ws in ["staging", "default"] {
        let r = work.run_env(&["workspace", "select", "-or-create", ws], &env);
        assert_eq!(r.code, 0, "{r:?}");
        let r = work.run_env(&["apply", "-auto-approve"], &env);
        assert_eq!(r.code, 0, "{r:?}");
    }
    // A second apply in staging makes the two serials differ.
    let r = work.run_env(
        &["apply", "-auto-approve", "-refresh-only"],
        &[("SNAPFORM_WORKSPACE", "staging"), env[1]],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let before = [
        pulled(&work, "default", &env),
        pulled(&work, "staging", &env),
    ];
    assert_ne!(before[0].0, before[1].0, "two workspaces, two lineages");

    let steps = [
        ("pg", "snapform {\n  backend \"pg\" {}\n}\n".to_string()),
        (
            "http",
            format!(
                "snapform {{\n  backend \"http\" {{\n    address = \"{http}/images-{{workspace}}\"\n  }}\n}}\n"
            ),
        ),
        ("local", String::new()),
    ];
    for (kind, block) in steps {
        work.write("main.snap.hcl", &config(&block));
        // Between a backend change and init, runs are refused (they would start empty).
        let r = work.run_env(&["plan"], &env);
        assert_eq!(r.code, 1, "{kind}: {r:?}");
        assert!(r.stderr.contains("init -migrate-state"), "{kind}: {r:?}");
        let r = work.run_env(&["init"], &env);
        assert_eq!(r.code, 1, "{kind}: {r:?}");
        if kind == "local" {
            // The first local files are still there; remove them so the copy is a real one.
            std::fs::remove_file(work.path().join("snapform.state.json")).unwrap();
            std::fs::remove_dir_all(work.path().join("snapform.state.d")).unwrap();
        }
        let r = work.run_env(&["init", "-migrate-state"], &env);
        assert_eq!(r.code, 0, "{kind}: {r:?}");
        assert!(
            r.stderr.contains("Copied workspace \"staging\""),
            "{kind}: {r:?}"
        );
        let after = [
            pulled(&work, "default", &env),
            pulled(&work, "staging", &env),
        ];
        assert_eq!(after, before, "{kind}: lineage and serial kept");
        clean_plans(&work, BOTH, &env);
    }
    assert_eq!(http_states.lock().unwrap().len(), 2, "two states over http");

    // To pg again, where the rows now hold another lineage: refused, then -force-copy.
    pg.set_lineage("staging", "other").await;
    work.write(
        "main.snap.hcl",
        &config("snapform {\n  backend \"pg\" {}\n}\n"),
    );
    let r = work.run_env(&["init", "-migrate-state"], &env);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("another state there (lineage other"),
        "{r:?}"
    );
    assert!(r.stderr.contains("-force-copy"), "{r:?}");
    let r = work.run_env(&["init", "-migrate-state", "-force-copy"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let after = [
        pulled(&work, "default", &env),
        pulled(&work, "staging", &env),
    ];
    assert_eq!(after, before);
    clean_plans(&work, BOTH, &env);
    // -reconfigure accepts a new backend without copying.
    work.write("main.snap.hcl", &config(""));
    let r = work.run_env(&["init", "-reconfigure"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("was not copied"), "{r:?}");
}
