//! The `pg` state backend against a real, throwaway PostgreSQL: the binary applies with its state
//! in the `states` table, a run is refused while another session holds the advisory lock, the
//! serial grows, and states of another lineage or changed under the lock are refused.

mod cli_support;
mod pg_support;

use cli_support::Work;
use pg_support::{Postgres, make_ca};
use snapform::state::{Backend, BackendSettings, PgSettings, State, StateError, pg_lock_key};
use std::time::Duration;

const PASSWORD: &str = "s3cret-pg-pass";

fn config(image: &str) -> String {
    cli_support::golden_config(
        "\nsnapform {\n  backend \"pg\" {\n    workspace = \"default\"\n  }\n}",
        image,
        "",
    )
}

async fn row(pg: &Postgres) -> (i64, String, bool) {
    let c = pg.client("test-reader").await;
    let r = c
        .query_one(
            "SELECT serial, lineage, data->'resources' ? 'image.golden' FROM snapform.states WHERE name = 'default'",
            &[],
        )
        .await
        .expect("state row");
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_applies_with_state_in_postgres_and_respects_the_lock() {
    let Some(pg) = Postgres::start() else { return };
    let conn = pg.conn_str(Some(PASSWORD));
    let env = [("SNAPFORM_PG_CONN_STR", conn.as_str())];
    let work = Work::new();
    work.write("main.snap.hcl", &config("golden-pg"));

    let r = work.run_env(&["apply", "--auto-approve"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        work.state().is_none(),
        "no local state file with backend pg"
    );
    let (serial, lineage, has) = row(&pg).await;
    assert!(has && serial >= 1, "serial {serial}");

    let r = work.run_env(&["plan", "--detailed-exitcode"], &env);
    assert_eq!(r.code, 0, "a second plan has no changes: {r:?}");
    let out = work.run_env(&["output", "-raw", "image_id"], &env);
    assert_eq!(out.stdout.trim().len(), 36, "{out:?}");
    let list = work.run_env(&["state", "list"], &env);
    assert_eq!(list.stdout.trim(), "image.golden", "{list:?}");
    let pull = work.run_env(&["state", "pull"], &env);
    let pulled: serde_json::Value = serde_json::from_str(&pull.stdout).expect("state pull JSON");
    assert_eq!(
        pulled["lineage"].as_str(),
        Some(lineage.as_str()),
        "{pull:?}"
    );

    // Another session holds the workspace's lock: the run is refused and names the holder.
    let holder = pg.client("held-by-test").await;
    holder
        .query_one(
            "SELECT pg_advisory_lock($1)",
            &[&pg_lock_key("snapform", "default")],
        )
        .await
        .unwrap();
    let r = work.run_env(&["plan", "--lock-timeout", "1s"], &env);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("locked"), "{r:?}");
    assert!(r.stderr.contains("held-by-test"), "{r:?}");
    drop(holder);

    // A change bumps the serial; the lineage stays.
    work.write("main.snap.hcl", &config("golden-pg-2"));
    let r = work.run_env(&["apply", "--auto-approve", "--lock-timeout", "10s"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let (serial2, lineage2, _) = row(&pg).await;
    assert!(serial2 > serial, "{serial2} > {serial}");
    assert_eq!(lineage2, lineage);

    // A saved plan is refused once the stored state is another lineage.
    let r = work.run_env(&["plan", "--out", "p.json"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    pg.set_lineage("default", "other").await;
    let r = work.run_env(&["apply", "p.json"], &env);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("stale"), "{r:?}");

    let r = work.run_env(&["plan"], &[("SNAPFORM_PG_CONN_STR", "")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("SNAPFORM_PG_CONN_STR"), "{r:?}");
    for r in [&out, &list] {
        assert!(!r.stderr.contains(PASSWORD) && !r.stdout.contains(PASSWORD));
    }
}

fn settings(pg: &Postgres, workspace: &str) -> BackendSettings {
    BackendSettings::Pg(PgSettings {
        conn_str: pg.conn_str(Some(PASSWORD)),
        schema_name: "custom".into(),
        workspace: workspace.into(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn pg_backend_locks_bumps_serial_and_refuses_foreign_or_changed_state() {
    let Some(pg) = Postgres::start() else { return };
    let s = settings(&pg, "lib");
    let mut a = Backend::open(&s, Duration::ZERO, "apply").await.unwrap();
    let mut st = a.read().await.unwrap();
    a.write(&mut st).await.unwrap();
    assert_eq!(st.serial, 0, "an empty new state is not stored");
    st.cursors.insert("c".into(), "1".into());
    a.write(&mut st).await.unwrap();
    a.write(&mut st).await.unwrap();
    assert_eq!(st.serial, 1, "unchanged content is not rewritten");

    // Locked: a second open waits, then fails naming the holder; other workspaces are free.
    let err = Backend::open(&s, Duration::from_millis(400), "plan")
        .await
        .err()
        .expect("locked");
    assert!(matches!(err, StateError::Locked(..)), "{err}");
    assert!(err.to_string().contains("snapform apply pid"), "{err}");
    assert!(!err.to_string().contains(PASSWORD), "{err}");
    let other = Backend::open(&settings(&pg, "other"), Duration::ZERO, "plan").await;
    assert!(other.is_ok(), "another workspace has its own lock");
    assert_eq!(snapform::state::read_unlocked(&s).await.unwrap(), st);

    // Another lineage is refused; `replace` takes it.
    let mut foreign = State::new();
    foreign.cursors.insert("c".into(), "2".into());
    let err = a.write(&mut foreign).await.unwrap_err();
    assert!(matches!(err, StateError::Lineage { .. }), "{err}");
    a.replace(&mut foreign).await.unwrap();
    assert_eq!(foreign.serial, 2, "above the stored serial");

    // Someone wrote behind the lock: nothing is written, the message says what changed.
    pg.client("test-writer")
        .await
        .execute(
            "UPDATE custom.states SET serial = 7 WHERE name = 'lib'",
            &[],
        )
        .await
        .unwrap();
    foreign.cursors.insert("c".into(), "3".into());
    let err = a.write(&mut foreign).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("changed while this run held the lock"),
        "{err}"
    );
    assert!(err.to_string().contains("found lineage"), "{err}");

    // Unlocked, the next run gets the lock at once.
    a.unlock().await.unwrap();
    let mut b = Backend::open(&s, Duration::ZERO, "apply").await.unwrap();
    assert_eq!(b.read().await.unwrap().lineage, foreign.lineage);
    b.unlock().await.unwrap();
}

/// As libpq and Terraform's pg backend: with no connection string anywhere, the PG*
/// variables say where the state is; `PGSSLMODE=require` against a server without TLS fails
/// saying so.
#[tokio::test(flavor = "multi_thread")]
async fn the_libpq_environment_is_enough() {
    let Some(pg) = Postgres::start() else { return };
    let port = pg.port.to_string();
    let env = [
        ("SNAPFORM_PG_CONN_STR", ""),
        ("PG_CONN_STR", ""),
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "snapform"),
        ("PGPASSWORD", PASSWORD),
        ("PGDATABASE", "postgres"),
    ];
    let work = Work::new();
    work.write("main.snap.hcl", &config("golden-libpq"));
    let r = work.run_env(&["apply", "-auto-approve"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        work.state().is_none(),
        "no local state file with backend pg"
    );
    let (serial, _, has) = row(&pg).await;
    assert!(has && serial >= 1, "serial {serial}");
    assert!(!r.stderr.contains(PASSWORD), "{r:?}");
    let r = work.run_env(&["plan", "-detailed-exitcode"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let mut tls = env.to_vec();
    tls.push(("PGSSLMODE", "require"));
    let r = work.run_env(&["plan"], &tls);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("TLS"), "{r:?}");
    let r = work.run_env(&["destroy", "-auto-approve"], &env);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Changes during an apply are rows of `state_log`, not rewrites of the state row: each
/// `write_delta` appends one record, a reader replays them, and a full write (the checkpoint)
/// folds them into the row and empties the log.
#[tokio::test(flavor = "multi_thread")]
async fn changes_are_log_rows_and_a_checkpoint_folds_them() {
    use snapform::state::{Delta, ResourceState};
    let Some(pg) = Postgres::start() else { return };
    let s = settings(&pg, "logged");
    let rs = |addr: &str, id: &str| ResourceState {
        address: addr.parse().unwrap(),
        kind: "image".into(),
        name: "x".into(),
        provider: "rackspace".into(),
        id: id.into(),
        attributes: Default::default(),
        managed_keys: vec![],
        tainted: false,
        dependencies: vec![],
        sensitive_attributes: vec![],
    };
    let c = pg.client("test-reader").await;
    let counts = || async {
        let r = c
            .query_one(
                "SELECT (SELECT serial FROM custom.states WHERE name = 'logged'), \
                 (SELECT count(*) FROM custom.state_log WHERE name = 'logged')",
                &[],
            )
            .await
            .unwrap();
        (r.get::<_, i64>(0), r.get::<_, i64>(1))
    };

    let mut b = Backend::open(&s, Duration::ZERO, "apply").await.unwrap();
    let mut state = b.read().await.unwrap();
    state.put(rs("image.a", "id-a"));
    b.write(&mut state).await.unwrap();
    assert_eq!(counts().await, (1, 0), "the first write is the row");

    for (i, addr) in ["image.b", "image.c", "image.d"].iter().enumerate() {
        state.put(rs(addr, &format!("id-{i}")));
        b.write_delta(&mut state, &Delta::of([addr.parse().unwrap()]))
            .await
            .unwrap();
    }
    state.resources.remove(&"image.a".parse().unwrap());
    b.write_delta(&mut state, &Delta::of(["image.a".parse().unwrap()]))
        .await
        .unwrap();
    // Nothing touched changed: no record.
    b.write_delta(&mut state, &Delta::of(["image.b".parse().unwrap()]))
        .await
        .unwrap();
    assert_eq!(counts().await, (1, 4), "four records, the row untouched");
    assert_eq!(state.serial, 5);

    // Another reader (no lock) and a later run both see the replayed state.
    let seen = snapform::state::read_unlocked(&s).await.unwrap();
    assert_eq!(seen.serial, 5);
    let mut ids: Vec<&str> = seen.resources.values().map(|r| r.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["id-0", "id-1", "id-2"]);
    b.unlock().await.unwrap();
    let mut b = Backend::open(&s, Duration::ZERO, "apply").await.unwrap();
    let mut again = b.read().await.unwrap();
    assert!(again.same_content(&seen) && again.serial == 5);

    // The checkpoint: same content, log folded into the row.
    b.write(&mut again).await.unwrap();
    assert_eq!(counts().await, (5, 0));
    // A record is checked against what is stored: a row changed under the lock refuses it.
    c.execute(
        "UPDATE custom.states SET serial = 99 WHERE name = 'logged'",
        &[],
    )
    .await
    .unwrap();
    again.put(rs("image.e", "id-e"));
    let err = b
        .write_delta(&mut again, &Delta::of(["image.e".parse().unwrap()]))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("changed while this run held the lock"),
        "{err}"
    );
    assert_eq!(counts().await, (99, 0), "nothing written");
    b.unlock().await.unwrap();
}

/// TLS to a PostgreSQL that refuses plain TCP (`hostnossl … reject`), with a self-signed
/// authority, through the libpq variables alone: `verify-full` with `PGSSLROOTCERT` works,
/// `verify-ca` and `require` work, another authority's root is refused naming the
/// certificate, and plain TCP is refused by the server. Then two racing runs over TLS: an
/// apply waiting at its prompt holds the lock, a plan with `-lock-timeout 1s` fails naming the
/// holder, an apply with `-lock-timeout 60s` waits and proceeds once the first is done.
#[tokio::test(flavor = "multi_thread")]
async fn tls_and_racing_applies_with_only_the_libpq_environment() {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let Some(pg) = Postgres::start_tls() else {
        return;
    };
    let ca = pg.ca_cert.clone().unwrap().display().to_string();
    let port = pg.port.to_string();
    let base = [
        ("SNAPFORM_PG_CONN_STR", ""),
        ("PG_CONN_STR", ""),
        ("PGHOST", "localhost"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "snapform"),
        ("PGDATABASE", "postgres"),
        ("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0"),
    ];
    let with = |extra: &[(&'static str, &str)]| -> Vec<(String, String)> {
        base.iter()
            .chain(extra.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let run = |work: &Work, args: &[&str], env: &[(String, String)]| {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        work.run_env(args, &env)
    };
    let verified = with(&[("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &ca)]);
    let work = Work::new();
    work.write("main.snap.hcl", &config("golden-tls"));
    let r = run(&work, &["apply", "-auto-approve"], &verified);
    assert_eq!(r.code, 0, "{r:?}");
    let (serial, _, has) = row(&pg).await;
    assert!(has && serial >= 1, "serial {serial}");

    let r = run(
        &work,
        &["plan", "-detailed-exitcode"],
        &with(&[("PGSSLMODE", "verify-ca"), ("PGSSLROOTCERT", &ca)]),
    );
    assert_eq!(r.code, 0, "verify-ca: {r:?}");
    let r = run(
        &work,
        &["plan", "-detailed-exitcode"],
        &with(&[("PGSSLMODE", "require")]),
    );
    assert_eq!(r.code, 0, "require (encrypted, unchecked): {r:?}");
    let r = run(&work, &["plan"], &with(&[("PGSSLMODE", "disable")]));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("rejects connection"),
        "plain TCP refused: {r:?}"
    );
    make_ca(work.path(), "other");
    let other = work.path().join("other.crt").display().to_string();
    let r = run(
        &work,
        &["plan"],
        &with(&[("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", &other)]),
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("certificate"), "{r:?}");
    assert!(r.stderr.contains("verify-full"), "{r:?}");

    // Racing runs. The first apply holds the lock while it waits for its answer.
    work.write("main.snap.hcl", &config("golden-tls-2"));
    let spawn = |args: &[&str], stdin: Stdio| {
        Command::new(cli_support::bin())
            .args(args)
            .current_dir(work.path())
            .envs(verified.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let mut first = spawn(&["apply", "-no-color"], Stdio::piped());
    let mut err = first.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        let mut buf = [0u8; 512];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
            if seen.contains("Enter a value") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the first apply reaches its prompt");
    let r = run(&work, &["plan", "-lock-timeout", "1s"], &verified);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("locked"), "{r:?}");
    assert!(
        r.stderr.contains("snapform apply pid"),
        "names the holder: {r:?}"
    );
    let second = spawn(
        &[
            "apply",
            "-auto-approve",
            "-lock-timeout",
            "60s",
            "-no-color",
        ],
        Stdio::null(),
    );
    std::thread::sleep(Duration::from_millis(500));
    first.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let out = first.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = second.wait_with_output().unwrap();
    assert!(out.status.success(), "the waiting apply proceeds: {out:?}");
    let (serial2, _, has) = row(&pg).await;
    assert!(has && serial2 > serial, "{serial2} > {serial}");
    let r = run(&work, &["plan", "-detailed-exitcode"], &verified);
    assert_eq!(r.code, 0, "{r:?}");
}

/// Two workspaces of one configuration keep two rows of `states`; `workspace list` reads them
/// from the table, and `workspace delete` removes a row (refused while it records resources).
#[tokio::test(flavor = "multi_thread")]
async fn workspaces_are_rows() {
    let Some(pg) = Postgres::start() else { return };
    let conn = pg.conn_str(None);
    let env = [
        ("SNAPFORM_PG_CONN_STR", conn.as_str()),
        ("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0"),
    ];
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &config("x").replace("\"x\"", "\"golden-${snapform.workspace}\""),
    );
    let r = work.run_env(&["workspace", "new", "staging"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run_env(&["workspace", "list"], &env);
    assert_eq!(r.stdout, "  default\n* staging\n", "{r:?}");
    for ws in ["staging", "default"] {
        let r = work.run_env(&["workspace", "select", ws], &env);
        assert_eq!(r.code, 0, "{r:?}");
        let r = work.run_env(&["apply", "-auto-approve"], &env);
        assert_eq!(r.code, 0, "{r:?}");
        let r = work.run_env(&["output", "-raw", "image_id"], &env);
        assert_eq!(r.stdout.trim().len(), 36, "{r:?}");
    }
    let c = pg.client("test-reader").await;
    let rows = c
        .query(
            "SELECT name, lineage, data->'resources'->'image.golden'->'attributes'->>'name' \
             FROM snapform.states ORDER BY name",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(2))).collect();
    assert_eq!(
        got,
        vec![
            ("default".to_string(), "golden-default".to_string()),
            ("staging".to_string(), "golden-staging".to_string())
        ]
    );
    let (l0, l1): (String, String) = (rows[0].get(1), rows[1].get(1));
    assert_ne!(l0, l1, "two states, two lineages");

    let r = work.run_env(&["workspace", "delete", "staging"], &env);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not empty"), "{r:?}");
    let mut staging = env.to_vec();
    staging.push(("SNAPFORM_WORKSPACE", "staging"));
    let r = work.run_env(&["destroy", "-auto-approve"], &staging);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run_env(&["workspace", "delete", "staging"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM snapform.states WHERE name = 'staging'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
    let r = work.run_env(&["workspace", "list"], &env);
    assert_eq!(r.stdout, "* default\n", "{r:?}");
    let r = work.run_env(&["plan", "-detailed-exitcode"], &env);
    assert_eq!(r.code, 0, "default is untouched: {r:?}");
}

/// Every checkpointed serial is kept in `state_history`: `state list-serials` lists them and
/// `state pull -serial N` reads one back (here the state before two renames); a serial not kept
/// is refused naming those that are. The local backend keeps the current state and its
/// `.backup`.
#[tokio::test(flavor = "multi_thread")]
async fn serial_history_and_pull_of_an_old_serial() {
    let Some(pg) = Postgres::start() else { return };
    let conn = pg.conn_str(None);
    let env = [
        ("SNAPFORM_PG_CONN_STR", conn.as_str()),
        ("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0"),
    ];
    let work = Work::new();
    let mut serials = Vec::new();
    for name in ["hist-1", "hist-2", "hist-3"] {
        work.write("main.snap.hcl", &config(name));
        let r = work.run_env(&["apply", "-auto-approve"], &env);
        assert_eq!(r.code, 0, "{r:?}");
        let (serial, _, _) = row(&pg).await;
        serials.push(serial as u64);
    }
    let r = work.run_env(&["state", "list-serials"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let listed: Vec<u64> = r
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    for s in &serials {
        assert!(listed.contains(s), "serial {s} kept: {}", r.stdout);
    }
    assert!(listed.windows(2).all(|w| w[0] < w[1]), "{listed:?}");
    let r = work.run_env(&["state", "pull", "-serial", &serials[0].to_string()], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let old: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(old["serial"].as_u64(), Some(serials[0]));
    assert_eq!(
        old["resources"]["image.golden"]["attributes"]["name"], "hist-1",
        "{old}"
    );
    let r = work.run_env(&["state", "pull", "-serial", "999999"], &env);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not kept"), "{r:?}");
    assert!(r.stderr.contains(&serials[2].to_string()), "{r:?}");

    let local = Work::new();
    let env = [("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS", "0")];
    let cfg =
        |n: &str| config(n).replace("  backend \"pg\" {\n    workspace = \"default\"\n  }\n", "");
    for name in ["loc-1", "loc-2"] {
        local.write("main.snap.hcl", &cfg(name));
        let r = local.run_env(&["apply", "-auto-approve"], &env);
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = local.run_env(&["state", "list-serials"], &env);
    assert_eq!(r.code, 0, "{r:?}");
    let listed: Vec<u64> = r
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next()?.parse().ok())
        .collect();
    assert_eq!(
        listed.len(),
        2,
        "the .backup and the current state: {}",
        r.stdout
    );
    let r = local.run_env(&["state", "pull", "-serial", &listed[0].to_string()], &env);
    assert_eq!(r.code, 0, "{r:?}");
}
