//! Fuzz target `plan_read`: `snapform::fuzzing::plan_read` on arbitrary bytes (docs/fuzzing.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = snapform::fuzzing::plan_read(data);
});
