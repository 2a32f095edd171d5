//! The state file reader on arbitrary text: a state or an error, never a panic; a state that
//! reads writes back to text that reads as the same state.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.state.json");
    if let Ok(state) = snapform::state::parse_state_file(text, path) {
        let again = serde_json::to_string(&state).expect("a read state encodes");
        let back = snapform::state::parse_state_file(&again, path).expect("and reads back");
        assert!(back.same_content(&state) && back.serial == state.serial);
    }
});
