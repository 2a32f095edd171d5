//! Fuzz target `state_read`: `snapform::fuzzing::state_read` on arbitrary bytes (docs/fuzzing.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = snapform::fuzzing::state_read(data);
});
