//! State write → read round trips, for generated states: what the local backend writes — a
//! checkpoint, then log records of changed, added and removed resources and outputs — reads
//! back (by a fresh backend, as the next run does) as the same state with the same serial, and
//! `state::parse_state_file` reads the checkpoint text back as what was written.

use proptest::prelude::*;
use snapform::addr::InstanceAddr;
use snapform::state::{Delta, LocalBackend, ResourceState, State};
use snapform::value::Value;
use std::time::Duration;

/// Any attribute value the state holds: strings (any characters), numbers (integers and
/// floats), bools, null, lists and maps, nested.
fn value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        any::<String>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[a-z_.]{1,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn resource(key: &str, attrs: serde_json::Map<String, serde_json::Value>) -> ResourceState {
    serde_json::from_value(serde_json::json!({
        "address": format!("image.i[\"{key}\"]"),
        "kind": "image",
        "name": "i",
        "provider": "rackspace",
        "id": format!("id-{key}"),
        "attributes": attrs,
        "managed_keys": ["tier"],
    }))
    .expect("a resource")
}

type Attrs = serde_json::Map<String, serde_json::Value>;

fn attrs() -> impl Strategy<Value = Attrs> {
    prop::collection::btree_map("[a-z_]{1,8}", value(), 0..5).prop_map(|m| m.into_iter().collect())
}

/// A change to the state: put (add or replace) a resource, remove one, set an output.
#[derive(Debug, Clone)]
enum Change {
    Put(u8, Attrs),
    Remove(u8),
    Output(String, serde_json::Value, bool),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => (0u8..8, attrs()).prop_map(|(k, a)| Change::Put(k, a)),
        1 => (0u8..8).prop_map(Change::Remove),
        1 => ("[a-z]{1,6}", value(), any::<bool>()).prop_map(|(n, v, s)| Change::Output(n, v, s)),
    ]
}

fn addr(k: u8) -> InstanceAddr {
    format!("image.i[\"k{k}\"]").parse().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn what_is_written_reads_back(
        first in prop::collection::vec((0u8..8, attrs()), 0..6),
        changes in prop::collection::vec(change(), 0..10),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapform.state.json");
        let mut state = State::new();
        for (k, a) in &first {
            state.put(resource(&format!("k{k}"), a.clone()));
        }
        let mut b = LocalBackend::open(&path, Duration::from_secs(5)).unwrap();
        b.read().unwrap();
        b.write(&mut state).unwrap();
        if path.exists() {
            let text = std::fs::read_to_string(&path).unwrap();
            let parsed = snapform::state::parse_state_file(&text, &path).unwrap();
            prop_assert!(parsed.same_content(&state));
            prop_assert_eq!(parsed.serial, state.serial);
        }
        for c in &changes {
            let touched = match c {
                Change::Put(k, a) => {
                    state.resources.insert(addr(*k), resource(&format!("k{k}"), a.clone()));
                    vec![addr(*k)]
                }
                Change::Remove(k) => {
                    state.resources.remove(&addr(*k));
                    vec![addr(*k)]
                }
                Change::Output(n, v, s) => {
                    let v: Value = serde_json::from_value(v.clone()).unwrap();
                    state.outputs.insert(
                        n.clone(),
                        serde_json::from_value(serde_json::json!({"value": v, "sensitive": s})).unwrap(),
                    );
                    vec![]
                }
            };
            b.write_delta(&mut state, &Delta::of(touched)).unwrap();
        }
        drop(b);
        let mut again = LocalBackend::open(&path, Duration::from_secs(5)).unwrap();
        let read = again.read().unwrap();
        if path.exists() {
            prop_assert!(read.same_content(&state), "read back:\n{:?}\nwritten:\n{:?}", read, state);
            prop_assert_eq!(read.serial, state.serial);
            prop_assert_eq!(read.lineage, state.lineage);
        } else {
            prop_assert!(state.resources.is_empty() && state.outputs.is_empty());
        }
    }
}
