//! Fuzz target `hcl_load`: `snapform::fuzzing::hcl_load` on arbitrary bytes (docs/fuzzing.md).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = snapform::fuzzing::hcl_load(data);
});
