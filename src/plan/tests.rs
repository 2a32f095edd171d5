//! Planner tests: configuration text + state + refreshed objects → actions, data-driven.

use super::*;
use crate::addr::InstanceAddr;
use crate::config::{SourceFile, Sources};
use crate::state::ResourceState;

fn setup(src: &str) -> (Config, Graph) {
    let (cfg, d) = crate::config::load(Sources::new(vec![SourceFile {
        path: "main.snap.hcl".into(),
        text: src.into(),
    }]));
    assert!(d.is_empty(), "{d:?}");
    let (g, d) = crate::graph::build(&cfg);
    assert!(d.is_empty(), "{d:?}");
    (cfg, g)
}

fn a(s: &str) -> InstanceAddr {
    s.parse().unwrap()
}

fn map(pairs: &[(&str, Value)]) -> Map {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn smap(pairs: &[(&str, &str)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::str(*v)))
            .collect(),
    )
}

const IMAGE: &str = r#"
resource "image" "g" {
  server_id = "srv"
  name      = "golden"
  metadata  = { owner = "ops" }
}
"#;

fn image_state(all_md: Value, managed: &[&str]) -> (State, Refreshed) {
    let attrs = map(&[
        ("id", Value::str("img1")),
        ("server_id", Value::str("srv")),
        ("name", Value::str("golden")),
        ("status", Value::str("ACTIVE")),
        ("all_metadata", all_md),
        ("deactivated", Value::Bool(false)),
    ]);
    let mut state = State::new();
    state.resources.insert(
        a("image.g"),
        ResourceState {
            address: a("image.g"),
            kind: "image".into(),
            name: "g".into(),
            provider: "rackspace".into(),
            id: "img1".into(),
            attributes: attrs.clone(),
            managed_keys: managed.iter().map(|s| s.to_string()).collect(),
            tainted: false,
            dependencies: vec![],
            sensitive_attributes: vec![],
        },
    );
    let mut r = Refreshed {
        image_api: true,
        ..Refreshed::default()
    };
    r.resources.insert(a("image.g"), Some(attrs));
    (state, r)
}

fn actions(p: &Plan) -> Vec<(String, Action)> {
    p.changes
        .iter()
        .map(|c| (c.address.to_string(), c.action))
        .collect()
}

fn run(src: &str, state: &State, r: &Refreshed) -> Plan {
    let (cfg, g) = setup(src);
    let (p, d) = plan(&cfg, &g, &BTreeMap::new(), state, r, &Options::default());
    assert!(d.is_empty(), "{d:?}");
    p
}

#[test]
fn new_image_is_created_with_unknown_id() {
    let p = run(IMAGE, &State::new(), &Refreshed::default());
    assert_eq!(actions(&p), [("image.g".to_string(), Action::Create)]);
    assert_eq!(p.changes[0].after.as_ref().unwrap()["id"], Value::Unknown);
    assert_eq!(
        p.counts(),
        Counts {
            add: 1,
            change: 0,
            destroy: 0
        }
    );
}

#[test]
fn keys_nobody_declares_are_not_drift() {
    let (s, r) = image_state(
        smap(&[("owner", "ops"), ("image_type", "snapshot")]),
        &["owner"],
    );
    let p = run(IMAGE, &s, &r);
    assert_eq!(actions(&p), [("image.g".to_string(), Action::NoOp)]);
    assert!(p.drift.is_empty());
}

#[test]
fn a_declared_key_changed_outside_is_updated_in_place() {
    let (mut s, r) = image_state(smap(&[("owner", "mallory")]), &["owner"]);
    s.resources
        .get_mut(&a("image.g"))
        .unwrap()
        .attributes
        .insert("all_metadata".into(), smap(&[("owner", "ops")]));
    let p = run(IMAGE, &s, &r);
    assert_eq!(actions(&p), [("image.g".to_string(), Action::Update)]);
    assert_eq!(p.drift.len(), 1, "{:?}", p.drift);
    assert!(p.drift[0].message.contains("metadata"));
}

#[test]
fn a_key_no_longer_declared_is_removed() {
    let (s, r) = image_state(smap(&[("owner", "ops"), ("old", "x")]), &["owner", "old"]);
    let p = run(IMAGE, &s, &r);
    assert_eq!(actions(&p), [("image.g".to_string(), Action::Update)]);
    let before = p.changes[0].before.as_ref().unwrap();
    assert_eq!(before["metadata"], smap(&[("old", "x"), ("owner", "ops")]));
}

#[test]
fn changing_the_server_forces_replacement() {
    let (s, r) = image_state(smap(&[("owner", "ops")]), &["owner"]);
    let p = run(&IMAGE.replace("\"srv\"", "\"other\""), &s, &r);
    assert_eq!(actions(&p), [("image.g".to_string(), Action::Replace)]);
    assert_eq!(p.changes[0].replace_paths, ["server_id"]);
}

#[test]
fn rename_is_in_place_only_with_the_image_api() {
    let (s, mut r) = image_state(smap(&[("owner", "ops")]), &["owner"]);
    let renamed = IMAGE.replace("\"golden\"", "\"gold\"");
    assert_eq!(run(&renamed, &s, &r).changes[0].action, Action::Update);
    r.image_api = false;
    assert_eq!(run(&renamed, &s, &r).changes[0].action, Action::Replace);
}

#[test]
fn removed_from_config_is_destroyed_and_gone_is_forgotten() {
    let (s, mut r) = image_state(smap(&[]), &[]);
    let p = run("", &s, &r);
    assert_eq!(actions(&p), [("image.g".to_string(), Action::Delete)]);
    r.resources.insert(a("image.g"), None);
    let p = run("", &s, &r);
    assert_eq!(actions(&p), [("image.g".to_string(), Action::NoOp)]);
    assert!(p.changes[0].after.is_none());
}

#[test]
fn two_schedules_for_one_server_are_an_error() {
    let src = r#"
resource "image_schedule" "a" {
  server_id = "s1"
  retention = 3
}
resource "image_schedule" "b" {
  server_id = "s1"
  retention = 4
}
"#;
    let (cfg, g) = setup(src);
    let (_, d) = plan(
        &cfg,
        &g,
        &BTreeMap::new(),
        &State::new(),
        &Refreshed::default(),
        &Options::default(),
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].message.contains("at most one schedule"));
}

#[test]
fn data_sources_with_known_arguments_are_requested_then_used() {
    let src = r#"
data "server" "w" {
  name = "web-01"
}
resource "image_schedule" "s" {
  server_id   = data.server.w.id
  retention   = 3
  day_of_week = "monday"
}
"#;
    let (cfg, g) = setup(src);
    let mut r = Refreshed::default();
    let (p, _) = plan(
        &cfg,
        &g,
        &BTreeMap::new(),
        &State::new(),
        &r,
        &Options::default(),
    );
    assert_eq!(
        p.data_requests
            .keys()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["data.server.w"]
    );
    r.data.insert(
        a("data.server.w"),
        map(&[("id", Value::str("S")), ("name", Value::str("web-01"))]),
    );
    let (p, _) = plan(
        &cfg,
        &g,
        &BTreeMap::new(),
        &State::new(),
        &r,
        &Options::default(),
    );
    assert!(p.data_requests.is_empty());
    let after = p.changes[0].after.as_ref().unwrap();
    assert_eq!(after["server_id"], Value::str("S"));
    assert_eq!(after["day_of_week"], Value::str("MONDAY"));
    assert_eq!(after["id"], Value::str("S"));
}

#[test]
fn planning_is_deterministic() {
    let (s, r) = image_state(smap(&[("owner", "x")]), &["owner"]);
    let a = serde_json::to_string(&run(IMAGE, &s, &r)).unwrap();
    let b = serde_json::to_string(&run(IMAGE, &s, &r)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_reference_to_one_instance_waits_for_that_instance_only() {
    let src = r#"
resource "image" "g" {
  count     = 2
  server_id = "srv"
  name      = "g-${count.index}"
}
resource "image_metadata" "first" {
  image_id = image.g[0].id
  metadata = { first = "yes" }
}
resource "image_metadata" "all" {
  count    = 2
  image_id = image.g[count.index].id
}
"#;
    let p = run(src, &State::new(), &Refreshed::default());
    let deps = |x: &str| {
        p.edges[&a(x)]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(deps("image_metadata.first"), ["image.g[0]"]);
    // A computed index depends on the whole block.
    assert_eq!(deps("image_metadata.all[1]"), ["image.g[0]", "image.g[1]"]);
}
