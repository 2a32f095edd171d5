//! The checks of the fuzz targets (fuzz/fuzz_targets/), here so that the targets and their
//! regression test (tests/fuzz_regressions.rs) run the same code. Each takes arbitrary bytes,
//! must not panic on its own, and asserts what must hold of what it read (a panic here is a
//! finding). Not an interface for anything else.

use crate::config::{self, SourceFile, Sources};
use crate::state::{State, parse_state_file, replay_log};
use std::path::Path;

/// Loads the bytes as a configuration file (parse, reference checks, graph) and renders every
/// diagnostic; the number of errors.
pub fn hcl_load(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data).into_owned();
    let (cfg, mut diags) = config::load(Sources::new(vec![SourceFile {
        path: "fuzz.snap.hcl".into(),
        text,
    }]));
    let (_, more) = crate::graph::build(&cfg);
    diags.extend(more);
    for d in &diags {
        let _ = d.render(&cfg.sources);
    }
    diags.iter().filter(|d| d.is_error()).count()
}

/// Reads the bytes as a state file; a state that reads must write back to text that reads as
/// the same state. Whether it read.
pub fn state_read(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let path = Path::new("fuzz.state.json");
    let Ok(state) = parse_state_file(text, path) else {
        return false;
    };
    let again = serde_json::to_string(&state).expect("a read state encodes");
    let back = parse_state_file(&again, path).expect("and reads back");
    assert!(
        back.same_content(&state) && back.serial == state.serial,
        "a state read back from its own text differs"
    );
    true
}

/// Reads the bytes as a saved plan; a plan that reads must write back to text that reads again.
/// Whether it read.
pub fn plan_read(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(plan) = crate::engine::parse_plan(text, "fuzz.tfplan") else {
        return false;
    };
    let again = serde_json::to_string(&plan).expect("a read plan encodes");
    crate::engine::parse_plan(&again, "fuzz.tfplan").expect("and reads back");
    let _ = plan.has_changes();
    true
}

/// Replays the bytes as a state log onto an empty state and onto a checkpoint; the good
/// prefix never exceeds the input. The replay onto the empty state: (good bytes, records).
pub fn wal_replay(data: &[u8]) -> Option<(u64, u64)> {
    let mut empty = State::new();
    let first = replay_log(&mut empty, data, "fuzz.wal").ok();
    if let Some((good, _)) = first {
        assert!(
            good as usize <= data.len(),
            "the good prefix is longer than the log"
        );
    }
    let mut checkpoint = State::new();
    checkpoint.serial = 3;
    checkpoint.lineage = "fuzz-lineage".into();
    let _ = replay_log(&mut checkpoint, data, "fuzz.wal");
    first
}
