//! The write-ahead log replay on arbitrary bytes, onto an empty state and onto a checkpoint:
//! a state or a corruption error, never a panic; the good prefix never exceeds the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snapform::state::{State, replay_log};

fuzz_target!(|data: &[u8]| {
    let mut empty = State::new();
    if let Ok((good, _)) = replay_log(&mut empty, data, "fuzz.wal") {
        assert!(good as usize <= data.len());
    }
    let mut checkpoint = State::new();
    checkpoint.serial = 3;
    checkpoint.lineage = "fuzz-lineage".into();
    let _ = replay_log(&mut checkpoint, data, "fuzz.wal");
});
