//! Fuzz target `wal_replay`: `snapform::fuzzing::wal_replay` on arbitrary bytes (docs/fuzzing.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = snapform::fuzzing::wal_replay(data);
});
