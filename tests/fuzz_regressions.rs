//! The fuzz targets' checks (`snapform::fuzzing`, which fuzz/fuzz_targets/ call) run over
//! every kept input under plain `cargo test`: the seeds (fuzz/seeds/<target>/, and for
//! `hcl_load` the examples' configurations) and every input that ever made a target fail,
//! kept in fuzz/regressions/<target>/. docs/fuzzing.md says how to run the fuzzers.

use snapform::fuzzing;
use std::path::{Path, PathBuf};

/// (is a seed, path, bytes) of every kept input of `target`.
fn inputs(target: &str) -> Vec<(bool, PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![
        (true, root.join("fuzz/seeds").join(target)),
        (false, root.join("fuzz/regressions").join(target)),
    ];
    if target == "hcl_load" {
        for e in std::fs::read_dir(root.join("examples")).unwrap().flatten() {
            dirs.push((true, e.path()));
        }
    }
    let mut out = Vec::new();
    for (seed, dir) in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name == ".keep"
                || p.is_dir()
                || (target == "hcl_load" && seed && !name.ends_with(".snap.hcl"))
            {
                continue;
            }
            out.push((seed, p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out.sort();
    assert!(out.iter().any(|(seed, _, _)| *seed), "{target} has seeds");
    out
}

#[test]
fn hcl_load_inputs() {
    for (seed, path, data) in inputs("hcl_load") {
        let errors = fuzzing::hcl_load(&data);
        assert!(
            !seed || errors == 0,
            "a seed is a valid configuration: {path:?}"
        );
    }
}

#[test]
fn state_read_inputs() {
    for (seed, path, data) in inputs("state_read") {
        let read = fuzzing::state_read(&data);
        assert!(!seed || read, "a seed reads: {path:?}");
    }
}

#[test]
fn plan_read_inputs() {
    for (seed, path, data) in inputs("plan_read") {
        let read = fuzzing::plan_read(&data);
        assert!(!seed || read, "a seed reads: {path:?}");
    }
}

#[test]
fn wal_replay_inputs() {
    for (seed, path, data) in inputs("wal_replay") {
        let r = fuzzing::wal_replay(&data);
        if seed {
            let (good, replayed) = r.unwrap_or_else(|| panic!("a seed replays: {path:?}"));
            assert!(
                replayed > 0 && (good as usize) < data.len(),
                "torn tail cut: {path:?}"
            );
        }
    }
}
