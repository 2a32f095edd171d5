//! The configuration loader on arbitrary text: parsing, reference checks and the graph never
//! panic, and every diagnostic renders (its span lies inside the text).
#![no_main]

use libfuzzer_sys::fuzz_target;
use snapform::config::{self, SourceFile, Sources};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let (cfg, mut diags) = config::load(Sources::new(vec![SourceFile {
        path: "fuzz.snap.hcl".into(),
        text,
    }]));
    let (_, more) = snapform::graph::build(&cfg);
    diags.extend(more);
    for d in &diags {
        let _ = d.render(&cfg.sources);
    }
});
