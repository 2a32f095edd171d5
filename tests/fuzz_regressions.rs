//! The fuzz targets' checks (fuzz/fuzz_targets/) run over every kept input under plain `cargo
//! test`: the seeds in fuzz/seeds/<target>/ and every input that ever made a target fail, kept in
//! fuzz/regressions/<target>/. docs/fuzzing.md says how to run the fuzzers.

use snapform::config::{self, SourceFile, Sources};
use snapform::state::{State, parse_state_file, replay_log};
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".keep") {
                continue;
            }
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn hcl_load_inputs() {
    let all = inputs("hcl_load");
    assert!(!all.is_empty());
    for (path, data) in all {
        let text = String::from_utf8_lossy(&data).into_owned();
        let (cfg, mut diags) = config::load(Sources::new(vec![SourceFile {
            path: "fuzz.snap.hcl".into(),
            text,
        }]));
        let (_, more) = snapform::graph::build(&cfg);
        diags.extend(more);
        for d in &diags {
            let _ = d.render(&cfg.sources);
        }
        if path.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")) {
            assert!(
                !diags.iter().any(|d| d.is_error()),
                "a seed is a valid configuration: {path:?}"
            );
        }
    }
}

#[test]
fn state_read_inputs() {
    let all = inputs("state_read");
    assert!(!all.is_empty());
    for (path, data) in all {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        let p = Path::new("fuzz.state.json");
        match parse_state_file(text, p) {
            Ok(state) => {
                let again = serde_json::to_string(&state).unwrap();
                let back = parse_state_file(&again, p).unwrap();
                assert!(back.same_content(&state) && back.serial == state.serial);
            }
            Err(e) => assert!(!path.to_string_lossy().contains("/seeds/"), "{path:?}: {e}"),
        }
    }
}

#[test]
fn plan_read_inputs() {
    let all = inputs("plan_read");
    assert!(!all.is_empty());
    for (path, data) in all {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        match snapform::engine::parse_plan(text, "fuzz.tfplan") {
            Ok(plan) => {
                let again = serde_json::to_string(&plan).unwrap();
                snapform::engine::parse_plan(&again, "fuzz.tfplan").unwrap();
            }
            Err(e) => assert!(
                !path.to_string_lossy().contains("/seeds/"),
                "{path:?}: {e:?}"
            ),
        }
    }
}

#[test]
fn wal_replay_inputs() {
    let all = inputs("wal_replay");
    assert!(!all.is_empty());
    for (path, data) in all {
        let mut empty = State::new();
        let r = replay_log(&mut empty, &data, "fuzz.wal");
        if let Ok((good, _)) = &r {
            assert!(*good as usize <= data.len());
        }
        if path.to_string_lossy().contains("/seeds/") {
            let (good, replayed) = r.expect("a seed replays");
            assert!(
                replayed > 0 && (good as usize) < data.len(),
                "torn tail cut"
            );
        }
        let mut checkpoint = State::new();
        checkpoint.serial = 3;
        checkpoint.lineage = "fuzz-lineage".into();
        let _ = replay_log(&mut checkpoint, &data, "fuzz.wal");
    }
}
