//! The saved-plan reader on arbitrary text: a plan or an error, never a panic; a plan that
//! reads writes back to text that reads again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(plan) = snapform::engine::parse_plan(text, "fuzz.tfplan") {
        let again = serde_json::to_string(&plan).expect("a read plan encodes");
        snapform::engine::parse_plan(&again, "fuzz.tfplan").expect("and reads back");
        let _ = plan.has_changes();
    }
});
