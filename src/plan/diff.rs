//! The diff of one resource instance: the configured arguments against the cloud's attributes
//! (through the kind's ownership view) and what state recorded, choosing no-op / update /
//! replace; and the sensitive paths whose marks the planned values carry. What is particular
//! to a kind (defaults, view, forced replacements, known computed attributes) comes from its
//! unit in `src/resources/`.

use super::{Action, Change, Drift};
use crate::addr::InstanceAddr;
use crate::config::{Diagnostic, ObjectBlock};
use crate::resources::Resource;
use crate::state::ResourceState;
use crate::value::{Map, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

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

/// [`unmarked`], copying only when there is a mark to remove.
fn unmarked_cow(m: &Map) -> std::borrow::Cow<'_, Map> {
    if m.values().any(Value::contains_sensitive) {
        std::borrow::Cow::Owned(unmarked(m))
    } else {
        std::borrow::Cow::Borrowed(m)
    }
}

/// Marks the values at `paths` (see `marked_attributes`) of a planned map sensitive.
pub fn mark(m: &mut Option<Arc<Map>>, paths: &BTreeSet<String>) {
    let Some(m) = m else { return };
    if paths.is_empty() {
        return;
    }
    let m = Arc::make_mut(m);
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

/// The kind's checks on known argument values, located at the attribute at fault.
pub fn validate(kind: &dyn Resource, block: &ObjectBlock, args: &Map) -> Vec<Diagnostic> {
    kind.validate(args)
        .into_iter()
        .map(|(attr, msg)| {
            let span = block
                .attrs
                .get(attr)
                .map(|a| a.value.span.clone())
                .unwrap_or_else(|| block.span.clone());
            Diagnostic::error(format!("{}: {msg}", block.addr), Some(span))
        })
        .collect()
}

/// What the diff of one instance needs to know.
pub struct Inputs<'a> {
    pub kind: &'a dyn Resource,
    pub block: &'a ObjectBlock,
    pub addr: &'a InstanceAddr,
    /// `--replace` names this instance.
    pub force_replace: bool,
    /// The arguments, unmarked.
    pub desired: &'a Map,
    pub prior: Option<&'a ResourceState>,
    /// The cloud's attributes now (`None`: gone, or never created).
    pub current: Option<&'a Map>,
    pub image_api: bool,
    /// Sensitive paths: drift messages about them do not show the values.
    pub sensitive: &'a BTreeSet<String>,
}

/// Chooses the action for a configured resource and computes its planned attributes.
pub fn diff(i: Inputs<'_>, drift: &mut Vec<Drift>) -> Change {
    let kind = i.kind;
    let sch = kind.schema();
    let args: Vec<&str> = sch
        .attrs
        .iter()
        .filter(|a| !a.computed)
        .map(|a| a.name)
        .collect();
    let norm = |a: &str, v: Option<&Value>| kind.normalized(a, v);
    let mut after = Map::new();
    for a in &args {
        let v = norm(a, i.desired.get(*a));
        if v != Value::Null {
            after.insert((*a).to_string(), v);
        }
    }
    for b in sch.blocks {
        if let Some(t) = i.desired.get(b.name) {
            after.insert(b.name.to_string(), t.clone());
        }
    }
    let mut change = Change {
        address: i.addr.clone(),
        kind: i.block.kind.clone(),
        name: i.block.name.clone(),
        provider: String::new(),
        action: Action::Create,
        before: None,
        after: None,
        replace_paths: vec![],
        reason: None,
        managed_keys: kind.managed_keys(i.desired),
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
        after.extend(kind.known_computed(i.desired));
    };
    let Some(current) = i.current else {
        unknown_computed(&mut after);
        change.after = Some(Arc::new(after));
        if i.prior.is_some() {
            change.reason = Some("it was deleted outside snapform".into());
        }
        return change;
    };
    let current = unmarked_cow(current);
    let current = current.as_ref();
    let before = kind.view(current, i.desired, i.prior);
    let pending = kind.pending(current);
    // Drift: what changed in the cloud since the last apply, for the attributes we own (none
    // when the cloud's attributes are what state recorded, as without a refresh; none for an
    // object still being made, whose record is partial).
    if let Some(p) = i
        .prior
        .filter(|p| p.attributes != *current && pending.is_none())
    {
        let then = kind.view(&unmarked_cow(&p.attributes), i.desired, Some(p));
        for a in &args {
            let (x, y) = (norm(a, then.get(*a)), norm(a, before.get(*a)));
            if x != y && *a != "absent_keys" {
                let hidden = i
                    .sensitive
                    .iter()
                    .any(|p| p == a || p.starts_with(&format!("{a}.")));
                let message = if hidden {
                    format!("{}: {a} changed outside snapform (sensitive value)", i.addr)
                } else {
                    format!("{}: {a} changed outside snapform: {x} -> {y}", i.addr)
                };
                drift.push(Drift {
                    address: i.addr.clone(),
                    message,
                });
            }
        }
    }
    // lifecycle.ignore_changes: the cloud's value stands for these attributes, or for these
    // keys of a map (`metadata["tier"]`, collected as `metadata.tier`), as in Terraform.
    let ignores = &i.block.lifecycle.ignore_changes;
    let ignored = |a: &str| ignores.iter().any(|x| x == "all" || x == a);
    let ignored_keys = |a: &str| -> Vec<&str> {
        ignores
            .iter()
            .filter_map(|x| x.strip_prefix(a)?.strip_prefix('.'))
            .collect()
    };
    let mut partly: Vec<&str> = Vec::new();
    for a in &args {
        if ignored(a) {
            match before.get(*a) {
                Some(v) => after.insert((*a).to_string(), v.clone()),
                None => after.remove(*a),
            };
            continue;
        }
        let keys = ignored_keys(a);
        // Keys only exist in maps (a path into anything else names nothing).
        let is_map = |v: Option<&Value>| v.is_none_or(|v| v.as_map().is_some());
        if keys.is_empty() || !is_map(after.get(*a)) || !is_map(before.get(*a)) {
            continue;
        }
        let mut want = after
            .get(*a)
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        let have = before.get(*a).and_then(Value::as_map);
        for k in keys {
            match have.and_then(|m| m.get(k)) {
                Some(v) => want.insert(k.to_string(), v.clone()),
                None => want.remove(k),
            };
        }
        after.insert((*a).to_string(), Value::Map(want));
        partly.push(a);
    }
    let changed: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| {
            let want = if partly.contains(a) {
                after.get(*a)
            } else {
                i.desired.get(*a)
            };
            !ignored(a) && norm(a, before.get(*a)) != norm(a, want)
        })
        .collect();
    let forces: Vec<String> = changed
        .iter()
        .filter(|a| sch.attr(a).is_some_and(|x| x.forces_new) || kind.replaces_on(a, i.image_api))
        .map(|a| a.to_string())
        .collect();
    let tainted = i.prior.is_some_and(|p| p.tainted) || i.force_replace || kind.broken(current);
    if tainted || !forces.is_empty() {
        change.before = Some(Arc::new(before));
        change.action = Action::Replace;
        change.replace_paths = forces;
        if i.force_replace {
            change.reason = Some("replacement was requested with --replace".into());
        } else if tainted {
            change.reason = Some("it is tainted (its creation failed)".into());
        }
        unknown_computed(&mut after);
        change.after = Some(Arc::new(after));
        return change;
    }
    // Keep computed attributes as they are now. Where that changes nothing (a no-op, most
    // often), before and after are one allocation.
    let before = Arc::new(before);
    let full = if after.iter().all(|(k, v)| before.get(k) == Some(v)) {
        before.clone()
    } else {
        let mut full = (*before).clone();
        full.extend(after);
        Arc::new(full)
    };
    change.before = Some(before);
    change.action = if changed.is_empty() && pending.is_none() {
        Action::NoOp
    } else {
        Action::Update
    };
    if let Some(why) = pending {
        change.reason = Some(why.to_string());
    }
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
    // What is destroyed, as state knows it: the cloud's attributes, and the arguments the
    // cloud does not report under their own name (the metadata this resource manages, read
    // from the cloud's full metadata) — so a reader of the plan (a policy on `show -json`)
    // sees what it is asked to destroy.
    let before = current.map(|cur| {
        let mut b = cur.clone();
        for (k, v) in &prior.attributes {
            if b.contains_key(k) {
                continue;
            }
            let from_cloud = (k == "metadata")
                .then(|| cur.get("all_metadata").and_then(Value::as_map))
                .flatten()
                .map(|all| {
                    Value::Map(
                        prior
                            .managed_keys
                            .iter()
                            .filter_map(|key| all.get(key).map(|x| (key.clone(), x.clone())))
                            .collect(),
                    )
                });
            b.insert(k.clone(), from_cloud.unwrap_or_else(|| v.clone()));
        }
        Arc::new(b)
    });
    let mut c = Change {
        address: addr.clone(),
        kind: kind.to_string(),
        name: prior.name.clone(),
        provider: prior.provider.clone(),
        action: Action::Delete,
        before,
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
