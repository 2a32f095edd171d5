//! Plans and state in Terraform's JSON output format (`terraform show -json`), so the policy
//! tools teams already run on Terraform plans (OPA/Rego, conftest, Checkov) read ours:
//! `format_version`, `resource_changes[]` (`address`, `mode`, `type`, `name`, `index`,
//! `provider_name`, `change{actions, before, after, after_unknown, before_sensitive,
//! after_sensitive, replace_paths}`, `action_reason`), `resource_drift`, `prior_state`,
//! `planned_values`, `output_changes`, `configuration`, `variables`. What only snapform has
//! is under the one key `snapform`. docs/json.md documents it.
//!
//! Values: an unknown value is left out of `after` and marked `true` in `after_unknown`; a
//! sensitive value is `null` (plans never hold one in clear) and marked `true` in
//! `*_sensitive`.

use crate::addr::{InstanceAddr, InstanceKey};
use crate::plan::{Action, Change, Plan};
use crate::state::{ResourceState, State};
use crate::value::{Map, Value};
use serde_json::{Map as JMap, Value as J, json};

/// Terraform's JSON output format version these documents follow.
pub const FORMAT_VERSION: &str = "1.2";

/// A value, its unknown mask and its sensitive mask (`false`, `true`, or a structure of them
/// for collections), as Terraform's JSON plan shows them.
fn split(v: &Value) -> (J, J, J) {
    match v {
        Value::Unknown => (J::Null, J::Bool(true), J::Bool(false)),
        Value::Sensitive(inner) => {
            let (_, unknown, _) = split(inner);
            (J::Null, unknown, J::Bool(true))
        }
        Value::List(items) => {
            let mut vals = Vec::new();
            let mut unknown = Vec::new();
            let mut sensitive = Vec::new();
            for i in items {
                let (v, u, s) = split(i);
                vals.push(v);
                unknown.push(u);
                sensitive.push(s);
            }
            let any = |m: &Vec<J>| m.iter().any(|x| x != &J::Bool(false));
            (
                J::Array(vals),
                if any(&unknown) {
                    J::Array(unknown)
                } else {
                    J::Bool(false)
                },
                J::Array(if any(&sensitive) { sensitive } else { vec![] }),
            )
        }
        Value::Map(m) => {
            let (v, u, s) = split_map(m);
            (J::Object(v), J::Object(u), J::Object(s))
        }
        other => (other.to_json(), J::Bool(false), J::Bool(false)),
    }
}

/// An attribute map: values (unknown ones left out), and masks holding only the marked keys.
fn split_map(m: &Map) -> (JMap<String, J>, JMap<String, J>, JMap<String, J>) {
    let mut vals = JMap::new();
    let mut unknown = JMap::new();
    let mut sensitive = JMap::new();
    for (k, v) in m {
        let (x, u, s) = split(v);
        if u != J::Bool(true) {
            vals.insert(k.clone(), x);
        }
        if marked(&u) {
            unknown.insert(k.clone(), u);
        }
        if marked(&s) {
            sensitive.insert(k.clone(), s);
        }
    }
    (vals, unknown, sensitive)
}

fn marked(m: &J) -> bool {
    match m {
        J::Bool(b) => *b,
        J::Array(a) => a.iter().any(marked),
        J::Object(o) => !o.is_empty(),
        _ => false,
    }
}

/// Terraform's `actions` list for a planned action.
fn actions(c: &Change) -> Vec<&'static str> {
    match c.action {
        Action::NoOp if c.after.is_none() => vec!["delete"],
        Action::NoOp => vec!["no-op"],
        Action::Create => vec!["create"],
        Action::Update => vec!["update"],
        Action::Replace if c.create_before_destroy => vec!["create", "delete"],
        Action::Replace => vec!["delete", "create"],
        Action::Delete => vec!["delete"],
        Action::Read => vec!["read"],
    }
}

/// Terraform's `action_reason`, where one of its reasons fits.
fn action_reason(c: &Change) -> Option<&'static str> {
    let reason = c.reason.as_deref().unwrap_or("");
    match c.action {
        Action::Replace if reason.contains("--replace") => Some("replace_by_request"),
        Action::Replace if reason.contains("tainted") => Some("replace_because_tainted"),
        Action::Replace => Some("replace_because_cannot_update"),
        Action::Delete if reason.contains("no longer") || reason.contains("removed") => {
            Some("delete_because_no_resource_config")
        }
        Action::Delete => None,
        Action::Read => Some("read_because_config_unknown"),
        _ => None,
    }
}

fn index(addr: &InstanceAddr) -> Option<J> {
    addr.key.as_ref().map(|k| match k {
        InstanceKey::Index(i) => json!(i),
        InstanceKey::Key(s) => json!(s),
    })
}

/// `registry.snapform.dev/builtin/<type>`: the provider's type from its key (`rackspace.lon`).
fn provider_name(key: &str) -> String {
    let t = key.split('.').next().unwrap_or(key);
    format!("registry.snapform.dev/builtin/{t}")
}

fn addr_fields(addr: &InstanceAddr, provider: &str) -> JMap<String, J> {
    let mut o = JMap::new();
    o.insert("address".into(), json!(addr.to_string()));
    o.insert(
        "mode".into(),
        json!(if addr.block.data { "data" } else { "managed" }),
    );
    o.insert("type".into(), json!(addr.block.kind));
    o.insert("name".into(), json!(addr.block.name));
    if let Some(i) = index(addr) {
        o.insert("index".into(), i);
    }
    o.insert("provider_name".into(), json!(provider_name(provider)));
    o
}

/// One resource of a `values` representation (state or planned values).
fn resource_value(addr: &InstanceAddr, provider: &str, attrs: &Map) -> J {
    let mut o = addr_fields(addr, provider);
    let (vals, _, sensitive) = split_map(attrs);
    o.insert("schema_version".into(), json!(0));
    o.insert("values".into(), J::Object(vals));
    o.insert("sensitive_values".into(), J::Object(sensitive));
    J::Object(o)
}

/// A state's resource attributes, its sensitive ones marked.
fn marked_attributes(rs: &ResourceState) -> Map {
    rs.shown_attributes()
}

/// `terraform show -json` of a state.
pub fn state(st: &State) -> J {
    let resources: Vec<J> = st
        .data
        .iter()
        .map(|(a, attrs)| resource_value(a, "", attrs))
        .chain(
            st.resources
                .iter()
                .map(|(a, rs)| resource_value(a, &rs.provider, &marked_attributes(rs))),
        )
        .collect();
    let outputs: JMap<String, J> = st
        .outputs
        .iter()
        .map(|(k, o)| {
            let value = if o.sensitive {
                J::Null
            } else {
                o.value.to_json()
            };
            (k.clone(), json!({"sensitive": o.sensitive, "value": value}))
        })
        .collect();
    json!({
        "format_version": "1.0",
        "terraform_version": env!("CARGO_PKG_VERSION"),
        "values": {
            "outputs": outputs,
            "root_module": {"resources": resources},
        },
        "snapform": {
            "lineage": st.lineage,
            "serial": st.serial,
            "tainted": st.resources.iter().filter(|(_, r)| r.tainted).map(|(a, _)| a.to_string()).collect::<Vec<_>>(),
        },
    })
}

/// `terraform show -json PLANFILE` (and `plan -json`) of a plan.
pub fn plan(p: &Plan) -> J {
    let mut resource_changes = Vec::new();
    let mut planned = Vec::new();
    let mut prior = Vec::new();
    for c in &p.changes {
        let before = c.before.as_deref().map(split_map);
        let after = c.after.as_deref().map(split_map);
        let mut o = addr_fields(&c.address, &c.provider);
        let (b, bs) = match &before {
            Some((v, _, s)) => (J::Object(v.clone()), J::Object(s.clone())),
            None => (J::Null, J::Bool(false)),
        };
        let (a, au, as_) = match &after {
            Some((v, u, s)) => (
                J::Object(v.clone()),
                J::Object(u.clone()),
                J::Object(s.clone()),
            ),
            None => (J::Null, J::Bool(false), J::Bool(false)),
        };
        let mut change = json!({
            "actions": actions(c),
            "before": b,
            "after": a,
            "after_unknown": au,
            "before_sensitive": bs,
            "after_sensitive": as_,
        });
        if !c.replace_paths.is_empty() {
            change["replace_paths"] = json!(
                c.replace_paths
                    .iter()
                    .map(|p| p.split('.').collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            );
        }
        o.insert("change".into(), change);
        if let Some(r) = action_reason(c) {
            o.insert("action_reason".into(), json!(r));
        }
        resource_changes.push(J::Object(o));
        if let Some(after) = &c.after {
            planned.push(resource_value(&c.address, &c.provider, after));
        }
        if let Some(before) = &c.before
            && !c.address.block.data
        {
            prior.push(resource_value(&c.address, &c.provider, before));
        }
    }
    // Deposed objects: destroyed by this plan.
    for d in &p.deposed {
        let mut o = addr_fields(&d.address, &d.provider);
        let (b, _, bs) = split_map(&d.shown_attributes());
        o.insert("deposed".into(), json!(d.id));
        o.insert(
            "change".into(),
            json!({"actions": ["delete"], "before": b, "after": null, "after_unknown": false,
                   "before_sensitive": bs, "after_sensitive": false}),
        );
        resource_changes.push(J::Object(o));
    }
    // Data sources read for this plan: in the prior state and the planned values.
    for (addr, attrs) in &p.data {
        let provider = p
            .changes
            .iter()
            .find(|c| c.address == *addr)
            .map(|c| c.provider.as_str())
            .unwrap_or("");
        let v = resource_value(addr, provider, attrs);
        prior.push(v.clone());
        planned.push(v);
    }
    let drift: Vec<J> = p
        .drift
        .iter()
        .map(|d| {
            let mut o = addr_fields(&d.address, "");
            o.insert("change".into(), json!({"actions": ["update"]}));
            o.insert("snapform_message".into(), json!(d.message));
            J::Object(o)
        })
        .collect();
    let mut output_changes = JMap::new();
    let mut planned_outputs = JMap::new();
    for (k, o) in &p.outputs {
        let before = p.outputs_before.get(k);
        let (a, au, _) = split(&o.value);
        let action = match before {
            None => "create",
            Some(b) if *b == o.value.unmarked() => "no-op",
            Some(_) => "update",
        };
        let shown = |v: J| if o.sensitive { J::Null } else { v };
        output_changes.insert(
            k.clone(),
            json!({
                "actions": [action],
                "before": before.map(|b| shown(b.to_json())).unwrap_or(J::Null),
                "after": shown(a.clone()),
                "after_unknown": au,
                "before_sensitive": o.sensitive,
                "after_sensitive": o.sensitive,
            }),
        );
        planned_outputs.insert(
            k.clone(),
            json!({"sensitive": o.sensitive, "value": shown(a)}),
        );
    }
    for (k, b) in &p.outputs_before {
        if !p.outputs.contains_key(k) {
            output_changes.insert(
                k.clone(),
                json!({"actions": ["delete"], "before": b.to_json(), "after": null,
                       "after_unknown": false, "before_sensitive": false, "after_sensitive": false}),
            );
        }
    }
    let variables: JMap<String, J> = p
        .variables
        .iter()
        .map(|(k, v)| (k.clone(), json!({"value": split(v).0})))
        .collect();
    let n = p.counts();
    let configuration = configuration(p);
    json!({
        "format_version": FORMAT_VERSION,
        "terraform_version": env!("CARGO_PKG_VERSION"),
        "variables": variables,
        "planned_values": {
            "outputs": planned_outputs,
            "root_module": {"resources": planned},
        },
        "resource_drift": drift,
        "resource_changes": resource_changes,
        "output_changes": output_changes,
        "prior_state": {
            "format_version": "1.0",
            "terraform_version": env!("CARGO_PKG_VERSION"),
            "values": {"root_module": {"resources": prior}},
        },
        "configuration": configuration,
        "timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "errored": false,
        "applyable": p.has_changes(),
        "complete": true,
        "snapform": {
            "plan_format_version": p.format_version,
            "state_lineage": p.state_lineage,
            "state_serial": p.state_serial,
            "destroy": p.destroy,
            "refresh_only": p.refresh_only,
            "summary": {"add": n.add, "change": n.change, "destroy": n.destroy},
            "drift": p.drift.iter().map(|d| json!({"address": d.address.to_string(), "message": d.message})).collect::<Vec<_>>(),
            "reasons": p.changes.iter().filter_map(|c| c.reason.as_ref().map(|r| (c.address.to_string(), json!(r)))).collect::<JMap<String, J>>(),
            "managed_keys": p.changes.iter().filter(|c| !c.managed_keys.is_empty()).map(|c| (c.address.to_string(), json!(c.managed_keys))).collect::<JMap<String, J>>(),
            "moves": p.moves.iter().map(|(a, b)| json!([a.to_string(), b.to_string()])).collect::<Vec<_>>(),
            "imports": p.imports.keys().map(|a| a.to_string()).collect::<Vec<_>>(),
        },
    })
}

/// The `configuration` section: each block's address, mode, type, name and provider key.
fn configuration(p: &Plan) -> J {
    let mut seen = std::collections::BTreeSet::new();
    let mut resources = Vec::new();
    for c in &p.changes {
        let b = &c.address.block;
        if seen.insert(b.to_string()) {
            resources.push(json!({
                "address": b.to_string(),
                "mode": if b.data { "data" } else { "managed" },
                "type": b.kind,
                "name": b.name,
                "provider_config_key": c.provider,
                "schema_version": 0,
            }));
        }
    }
    let providers: JMap<String, J> = p
        .changes
        .iter()
        .map(|c| c.provider.clone())
        .filter(|k| !k.is_empty())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|k| {
            let name = k.split('.').next().unwrap_or(&k).to_string();
            let mut o = json!({"name": name, "full_name": provider_name(&k)});
            if let Some((_, alias)) = k.split_once('.') {
                o["alias"] = json!(alias);
            }
            (k, o)
        })
        .collect();
    json!({
        "provider_config": providers,
        "root_module": {"resources": resources},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_leave_after_and_are_marked_sensitive_ones_are_null() {
        let m: Map = [
            ("id".to_string(), Value::Unknown),
            ("name".to_string(), Value::str("n")),
            (
                "metadata".to_string(),
                Value::Map(
                    [
                        ("a".to_string(), Value::str("1")),
                        ("s".to_string(), Value::Sensitive(Box::new(Value::str("x")))),
                    ]
                    .into(),
                ),
            ),
        ]
        .into();
        let (v, u, s) = split_map(&m);
        assert!(!v.contains_key("id"));
        assert_eq!(u.get("id"), Some(&J::Bool(true)));
        assert!(!u.contains_key("name"));
        assert_eq!(v["metadata"]["a"], "1");
        assert_eq!(v["metadata"]["s"], J::Null, "never in clear");
        assert_eq!(s["metadata"], json!({"s": true}));
        assert!(!s.contains_key("name"));
    }
}
