//! Per-resource-type planning rules: argument evaluation and checks, the metadata-ownership view,
//! and the diff that chooses between no-op, update and replace.

use super::{Action, Change, Drift, Refreshed};
use crate::addr::InstanceAddr;
use crate::config::schema;
use crate::config::{Diagnostic, ObjectBlock};
use crate::state::ResourceState;
use crate::value::{Map, Value};
use std::collections::BTreeSet;

/// Paths of the sensitive values among the arguments: `name` for a whole attribute,
/// `metadata.tag` for one value of a map (the rest of the map stays visible).
pub fn marked_attributes(args: &Map) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (k, v) in args {
        match v {
            v if v.is_sensitive() => {
                out.insert(k.clone());
            }
            Value::Map(m) => {
                for (key, x) in m {
                    if x.contains_sensitive() {
                        out.insert(format!("{k}.{key}"));
                    }
                }
            }
            v if v.contains_sensitive() => {
                out.insert(k.clone());
            }
            _ => {}
        }
    }
    out
}

/// The arguments without marks, for comparing and sending.
pub fn unmarked(args: &Map) -> Map {
    args.iter()
        .map(|(k, v)| (k.clone(), v.unmarked()))
        .collect()
}

/// Marks the values at `paths` (see `marked_attributes`) of a planned map sensitive.
pub fn mark(m: &mut Option<Map>, paths: &BTreeSet<String>) {
    let Some(m) = m else { return };
    for p in paths {
        match p.split_once('.') {
            None => {
                if let Some(v) = m.get_mut(p) {
                    *v = Value::sensitive(std::mem::take(v).unmarked());
                }
            }
            Some((attr, key)) => {
                if let Some(Value::Map(inner)) = m.get_mut(attr)
                    && let Some(v) = inner.get_mut(key)
                {
                    *v = Value::sensitive(std::mem::take(v).unmarked());
                }
            }
        }
    }
}

/// Semantic checks on known argument values (ranges, enumerations).
pub fn validate(block: &ObjectBlock, args: &Map) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let span = |name: &str| block.attrs.get(name).map(|a| a.value.span.clone());
    let mut err = |name: &str, msg: String| {
        diags.push(Diagnostic::error(
            format!("{}: {msg}", block.addr),
            span(name).or(Some(block.span.clone())),
        ))
    };
    match block.kind.as_str() {
        "image_schedule" => {
            if let Some(v @ Value::Number(_)) = args.get("retention") {
                match v.as_i64() {
                    Some(n) if (1..=65535).contains(&n) => {}
                    _ => err(
                        "retention",
                        format!("retention must be a whole number from 1 to 65535, found {v}"),
                    ),
                }
            }
            if let Some(Value::String(d)) = args.get("day_of_week")
                && !schema::DAYS.contains(&d.to_uppercase().as_str())
            {
                err(
                    "day_of_week",
                    format!(
                        "day_of_week must be one of {} (any case), found \"{d}\"",
                        schema::DAYS.join(", ")
                    ),
                );
            }
        }
        "image" => {
            if let Some(Value::String(n)) = args.get("name")
                && (n.trim().is_empty() || n.chars().count() > 255)
            {
                err(
                    "name",
                    "name must be 1 to 255 characters and not blank".to_string(),
                );
            }
            if let Some(Value::Map(t)) = args.get("timeouts")
                && let Some(Value::String(c)) = t.get("create")
                && parse_duration(c).is_none()
            {
                err(
                    "timeouts",
                    format!(
                        "timeouts.create must be a duration like \"30m\" or \"1h30m\", found \"{c}\""
                    ),
                );
            }
        }
        _ => {}
    }
    if let Some(Value::Map(m)) = args.get("metadata") {
        for k in m.keys() {
            if k.trim().is_empty() || k.len() > 255 {
                err(
                    "metadata",
                    format!("metadata keys must be 1 to 255 characters, found \"{k}\""),
                );
            }
        }
    }
    diags
}

/// Parses `90s`, `30m`, `1h30m`, `2h` into seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut num = String::new();
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
        } else {
            let n: u64 = num.parse().ok()?;
            num.clear();
            total += n * match ch {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return None,
            };
        }
    }
    (num.is_empty() && total > 0).then_some(total)
}

/// The view of current cloud attributes that counts for diffing: metadata restricted to the keys
/// declared now or managed before (DESIGN §4), absent_keys restricted to those really absent.
fn view(kind: &str, current: &Map, desired: &Map, prior: Option<&ResourceState>) -> Map {
    let mut v = current.clone();
    let all = current
        .get("all_metadata")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let mut keys: BTreeSet<String> = prior
        .map(|p| p.managed_keys.iter().cloned().collect())
        .unwrap_or_default();
    if let Some(Value::Map(d)) = desired.get("metadata") {
        keys.extend(d.keys().cloned());
    }
    let owned: Map = all
        .iter()
        .filter(|(k, _)| keys.contains(*k))
        .map(|(k, x)| (k.clone(), x.clone()))
        .collect();
    if kind == "image" || kind == "image_metadata" {
        v.insert("metadata".into(), Value::Map(owned));
    }
    if kind == "image_metadata" {
        let absent: Vec<Value> = desired
            .get("absent_keys")
            .and_then(Value::as_list)
            .unwrap_or(&[])
            .iter()
            .filter(|k| k.as_str().is_none_or(|k| !all.contains_key(k)))
            .cloned()
            .collect();
        v.insert("absent_keys".into(), Value::List(absent));
    }
    v
}

/// Default values of optional arguments, so "unset" and "default" compare equal.
fn normalized(kind: &str, name: &str, v: Option<&Value>) -> Value {
    match (v, kind, name) {
        (Some(Value::Null) | None, _, "metadata") => Value::Map(Map::new()),
        (Some(Value::Null) | None, _, "deactivated") => Value::Bool(false),
        (Some(Value::Null) | None, _, "absent_keys") => Value::List(vec![]),
        (Some(Value::String(d)), "image_schedule", "day_of_week") => {
            Value::String(d.to_uppercase())
        }
        (Some(v), _, _) => v.clone(),
        (None, _, _) => Value::Null,
    }
}

fn declared_keys(desired: &Map) -> Vec<String> {
    desired
        .get("metadata")
        .and_then(Value::as_map)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Chooses the action for a configured resource and computes its planned attributes.
#[allow(clippy::too_many_arguments)]
pub fn diff(
    block: &ObjectBlock,
    addr: &InstanceAddr,
    force_replace: bool,
    desired: &Map,
    prior: Option<&ResourceState>,
    current: Option<&Map>,
    refreshed: &Refreshed,
    drift: &mut Vec<Drift>,
    sensitive: &BTreeSet<String>,
) -> Change {
    let Some(sch) = schema::resource(&block.kind) else {
        unreachable!("resource kinds are checked when loading")
    };
    let kind = block.kind.as_str();
    let args: Vec<&str> = sch
        .attrs
        .iter()
        .filter(|a| !a.computed)
        .map(|a| a.name)
        .collect();
    let mut after = Map::new();
    for a in &args {
        let v = normalized(kind, a, desired.get(*a));
        if v != Value::Null {
            after.insert((*a).to_string(), v);
        }
    }
    if let Some(t) = desired.get("timeouts") {
        after.insert("timeouts".into(), t.clone());
    }
    let mut change = Change {
        address: addr.clone(),
        kind: block.kind.clone(),
        name: block.name.clone(),
        provider: String::new(),
        action: Action::Create,
        before: None,
        after: None,
        replace_paths: vec![],
        reason: None,
        managed_keys: declared_keys(desired),
        deps: vec![],
        each_value: None,
        create_before_destroy: false,
        sensitive_attributes: vec![],
    };
    let unknown_computed = |after: &mut Map| {
        for a in sch.attrs.iter().filter(|a| a.computed) {
            after.insert(a.name.to_string(), Value::Unknown);
        }
        // Ids that equal an argument are known as soon as the argument is.
        match kind {
            "image_schedule" => after.insert(
                "id".into(),
                normalized(kind, "server_id", desired.get("server_id")),
            ),
            "image_metadata" => after.insert(
                "id".into(),
                normalized(kind, "image_id", desired.get("image_id")),
            ),
            _ => None,
        };
    };
    let Some(current) = current else {
        unknown_computed(&mut after);
        change.after = Some(after);
        if prior.is_some() {
            change.reason = Some("it was deleted outside snapform".into());
        }
        return change;
    };
    let current = &unmarked(current);
    let before = view(kind, current, desired, prior);
    // Drift: what changed in the cloud since the last apply, for the attributes we own.
    if let Some(p) = prior {
        let then = view(kind, &unmarked(&p.attributes), desired, Some(p));
        for a in &args {
            let (x, y) = (
                normalized(kind, a, then.get(*a)),
                normalized(kind, a, before.get(*a)),
            );
            if x != y && *a != "absent_keys" {
                let message = if sensitive
                    .iter()
                    .any(|p| p == a || p.starts_with(&format!("{a}.")))
                {
                    format!("{addr}: {a} changed outside snapform (sensitive value)")
                } else {
                    format!("{addr}: {a} changed outside snapform: {x} -> {y}")
                };
                drift.push(Drift {
                    address: addr.clone(),
                    message,
                });
            }
        }
    }
    // lifecycle.ignore_changes: the cloud's value stands for these attributes.
    let ignored = |a: &str| {
        block
            .lifecycle
            .ignore_changes
            .iter()
            .any(|i| i == "all" || i == a || i.starts_with(&format!("{a}.")))
    };
    for a in &args {
        if ignored(a) {
            match before.get(*a) {
                Some(v) => after.insert((*a).to_string(), v.clone()),
                None => after.remove(*a),
            };
        }
    }
    let mut changed = Vec::new();
    for a in &args {
        if !ignored(a)
            && normalized(kind, a, before.get(*a)) != normalized(kind, a, desired.get(*a))
        {
            changed.push(*a);
        }
    }
    let forces: Vec<String> = changed
        .iter()
        .filter(|a| {
            sch.attr(a).is_some_and(|x| x.forces_new)
                || (kind == "image" && **a == "name" && !refreshed.image_api)
        })
        .map(|a| a.to_string())
        .collect();
    let tainted = prior.is_some_and(|p| p.tainted)
        || force_replace
        || (kind == "image" && current.get("status") == Some(&Value::str("ERROR")));
    change.before = Some(before.clone());
    if tainted || !forces.is_empty() {
        change.action = Action::Replace;
        change.replace_paths = forces;
        if force_replace {
            change.reason = Some("replacement was requested with --replace".into());
        } else if tainted {
            change.reason = Some("it is tainted (its creation failed)".into());
        }
        unknown_computed(&mut after);
        change.after = Some(after);
        return change;
    }
    // Keep computed attributes as they are now.
    let mut full = before;
    for (k, v) in after {
        full.insert(k, v);
    }
    change.action = if changed.is_empty() {
        Action::NoOp
    } else {
        Action::Update
    };
    change.after = Some(full);
    change
}

/// The change that destroys a resource in state (or forgets it when it is already gone).
pub fn destroy_change(
    kind: &str,
    addr: &InstanceAddr,
    prior: Option<&ResourceState>,
    current: Option<&Map>,
) -> Option<Change> {
    let prior = prior?;
    let mut c = Change {
        address: addr.clone(),
        kind: kind.to_string(),
        name: prior.name.clone(),
        provider: prior.provider.clone(),
        action: Action::Delete,
        before: current.cloned(),
        after: None,
        replace_paths: vec![],
        reason: None,
        managed_keys: prior.managed_keys.clone(),
        deps: prior.dependencies.clone(),
        each_value: None,
        create_before_destroy: false,
        sensitive_attributes: prior.sensitive_attributes.clone(),
    };
    if current.is_none() {
        c.action = Action::NoOp;
        c.reason = Some("it was already deleted outside snapform; it is removed from state".into());
    }
    Some(c)
}
