//! The plan's execution graph: what each change waits for — dependencies by instance where a
//! reference names one, whole blocks otherwise, and destroys in reverse order.

use super::{Action, Change};
use crate::config::Config;
use crate::graph::Graph;
use crate::state::State;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a block depends on: an instance address where a reference names one statically
/// (`image.g[0].id` → `image.g[0]`), else the whole block; through locals, whole blocks.
pub(super) fn precise_deps(
    cfg: &Config,
    graph: &Graph,
    block: &crate::config::ObjectBlock,
) -> Vec<String> {
    use crate::value::PathStep;
    let mut out: BTreeSet<String> = BTreeSet::new();
    let refs = block
        .attrs
        .values()
        .map(|a| &a.value)
        .chain(
            block
                .blocks
                .values()
                .flat_map(|b| b.values().map(|a| &a.value)),
        )
        .chain(block.count.iter())
        .chain(block.for_each.iter())
        .flat_map(|e| e.refs.iter())
        .chain(block.depends_on.iter());
    for r in refs {
        let Some(target) = r.target() else { continue };
        if target.starts_with("var.") || target.starts_with("local.") {
            out.extend(graph.object_deps(&target));
            continue;
        }
        let multi = cfg.object(&target).is_some_and(|o| o.is_multi());
        match (multi, r.rest().first()) {
            (true, Some(PathStep::Index(i))) => {
                out.insert(format!("{target}[{i}]"));
            }
            (true, Some(PathStep::Attr(k))) => {
                out.insert(format!("{target}[{}]", Value::String(k.clone())));
            }
            _ => {
                out.insert(target);
            }
        }
    }
    out.remove(&block.addr);
    out.into_iter().collect()
}

/// For each change, the changes that must finish before it starts. Creates and updates follow
/// dependencies; deletes run in reverse (a dependent is deleted before what it depends on).
pub(super) fn execution_edges(changes: &[Change], state: &State) -> crate::graph::Edges {
    use crate::config::base_address;
    // Active instance addresses by block address.
    let mut by_base: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.action != Action::NoOp) {
        by_base
            .entry(base_address(&c.address))
            .or_default()
            .push(c.address.as_str());
    }
    let deletes: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| c.address.as_str())
        .collect();
    let mut edges: crate::graph::Edges = BTreeMap::new();
    for c in changes.iter().filter(|c| c.action != Action::NoOp) {
        let e = edges.entry(c.address.clone()).or_default();
        match c.action {
            Action::Delete => {
                // Wait for the deletes of everything that depended on this one.
                let base = base_address(&c.address);
                for (addr, rs) in &state.resources {
                    if rs.dependencies.iter().any(|d| d == base || *d == c.address)
                        && deletes.contains(addr.as_str())
                    {
                        e.insert(addr.clone());
                    }
                }
            }
            _ => {
                for d in &c.deps {
                    if d.contains('[') {
                        // A dependency on one instance waits for that instance only.
                        if by_base
                            .get(base_address(d))
                            .is_some_and(|l| l.contains(&d.as_str()))
                        {
                            e.insert(d.clone());
                        }
                        continue;
                    }
                    for inst in by_base.get(d.as_str()).into_iter().flatten() {
                        e.insert(inst.to_string());
                    }
                }
            }
        }
    }
    edges
}
