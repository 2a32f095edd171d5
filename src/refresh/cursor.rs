//! When apply may store the `changes-since` cursors a plan carries (DESIGN §6).
//!
//! A cursor says "state's view of every image of this provider was read from the cloud at or
//! after this time". A plan's cursor is the time of the refresh the plan was made from, so it
//! may be stored only once state holds that refresh's attributes for every `image` and
//! `image_metadata` resource of the provider:
//!
//! - at the start of apply, which writes the refreshed attributes of unchanged (no-op)
//!   resources — if *every* such resource of the provider is a no-op in the plan;
//! - at the end of an apply in which every change succeeded, when every such resource in state
//!   is in the plan (created, updated or replaced ones were written by apply after the
//!   refresh, and the cloud moved their `updated` past the cursor, so the next
//!   `changes-since` returns them anyway).
//!
//! A resource left out of the plan (`--target`), or a change that failed, was skipped or was
//! cut short by a crash keeps attributes older than the refresh: the old cursor stays, which is
//! always safe (older cursors only return more). A plan alone never stores anything.

use crate::plan::{Action, Plan};
use crate::state::State;
use std::collections::BTreeMap;

/// Stores the plan's cursors that `state` now justifies (see the module comment). `finished`
/// is true after an apply in which every change succeeded, false at its start.
pub fn store_cursors(state: &mut State, plan: &Plan, finished: bool) {
    let changes: BTreeMap<&crate::addr::InstanceAddr, Action> = plan
        .changes
        .iter()
        .map(|c| (&c.address, c.action))
        .collect();
    for (key, cursor) in &plan.cursors {
        let Some(provider) = key.strip_prefix("images:") else {
            continue;
        };
        let covered = state
            .resources
            .values()
            .filter(|r| super::model::listed(r) && same_provider(&r.provider, provider))
            .all(|r| match changes.get(&r.address) {
                Some(Action::NoOp) => true,
                Some(_) => finished,
                None => false,
            });
        if covered {
            state.cursors.insert(key.clone(), cursor.clone());
        }
    }
}

/// `Clients::get` lets `rackspace` in state resolve to an aliased `rackspace.x` client, so any
/// key of the same kind counts; matching too much only makes the condition stricter.
fn same_provider(in_state: &str, key: &str) -> bool {
    in_state == key || in_state.split('.').next() == key.split('.').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Change, Plan};
    use crate::state::ResourceState;

    fn rs(addr: &str, kind: &str) -> ResourceState {
        ResourceState {
            address: addr.parse().unwrap(),
            kind: kind.into(),
            name: addr.into(),
            provider: "rackspace".into(),
            id: addr.into(),
            attributes: Default::default(),
            managed_keys: vec![],
            tainted: false,
            dependencies: vec![],
            sensitive_attributes: vec![],
        }
    }

    fn plan(changes: &[(&str, Action)]) -> Plan {
        let mut p: Plan = serde_json::from_value(serde_json::json!({
            "format_version": crate::plan::PLAN_FORMAT_VERSION, "state_lineage": "l",
            "state_serial": 1, "destroy": false, "variables": {}, "sources": {"files": []},
            "changes": [], "drift": [], "outputs": {}, "outputs_changed": false,
            "data": {}, "edges": {}
        }))
        .expect("a minimal plan");
        for (a, action) in changes {
            let mut c: Change = serde_json::from_value(serde_json::json!({
                "address": a, "kind": "image", "name": a, "provider": "rackspace",
                "action": "no-op", "before": null, "after": null, "replace_paths": [],
                "reason": null, "managed_keys": [], "deps": []
            }))
            .expect("a minimal change");
            c.action = *action;
            p.changes.push(c);
        }
        p.cursors
            .insert("images:rackspace".into(), "2030-01-01T00:00:00Z".into());
        p
    }

    #[test]
    fn stored_only_when_every_image_resource_is_refreshed() {
        let mut st = State::new();
        st.resources
            .insert("image.a".parse().unwrap(), rs("image.a", "image"));
        st.resources.insert(
            "image_metadata.m".parse().unwrap(),
            rs("image_metadata.m", "image_metadata"),
        );
        st.resources.insert(
            "image_schedule.s".parse().unwrap(),
            rs("image_schedule.s", "image_schedule"),
        );
        // A change not yet carried out: not at the start, yes once it succeeded.
        let p = plan(&[
            ("image.a", Action::NoOp),
            ("image_metadata.m", Action::Update),
        ]);
        store_cursors(&mut st, &p, false);
        assert!(st.cursors.is_empty());
        store_cursors(&mut st, &p, true);
        assert_eq!(st.cursors["images:rackspace"], "2030-01-01T00:00:00Z");
        // A resource outside the plan (--target) keeps the old cursor.
        st.cursors.clear();
        let p = plan(&[("image.a", Action::NoOp)]);
        store_cursors(&mut st, &p, true);
        assert!(st.cursors.is_empty());
        // All no-ops (schedules do not count): stored at the start.
        let p = plan(&[
            ("image.a", Action::NoOp),
            ("image_metadata.m", Action::NoOp),
        ]);
        store_cursors(&mut st, &p, false);
        assert_eq!(st.cursors.len(), 1);
    }
}
