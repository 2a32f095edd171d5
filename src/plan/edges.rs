//! The plan's execution graph: what each change waits for — dependencies by instance where a
//! reference names one, whole blocks otherwise, and destroys in reverse order.

use super::{Action, Change};
use crate::addr::{BlockAddr, InstanceAddr, InstanceKey, Target};
use crate::config::{Config, ObjectBlock};
use crate::graph::{Edges, Graph, Node};
use crate::state::State;
use crate::value::PathStep;
use std::collections::{BTreeMap, BTreeSet};

/// What a block depends on: an instance where a reference names one statically
/// (`image.g[0].id` → `image.g[0]`), else the whole block; through locals, whole blocks.
pub(super) fn precise_deps(cfg: &Config, graph: &Graph, block: &ObjectBlock) -> Vec<Target> {
    let mut out: BTreeSet<Target> = BTreeSet::new();
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
        let Some(node) = Node::of_reference(r) else {
            continue;
        };
        let Node::Object(target) = &node else {
            out.extend(graph.object_deps(&node).into_iter().map(Target::Block));
            continue;
        };
        let multi = cfg.object(target).is_some_and(|o| o.is_multi());
        let key = match (multi, r.rest().first()) {
            (true, Some(PathStep::Index(i))) => Some(InstanceKey::Index(*i)),
            (true, Some(PathStep::Attr(k))) => Some(InstanceKey::Key(k.clone())),
            _ => None,
        };
        match key {
            Some(k) => out.insert(Target::Instance(target.instance(Some(k)))),
            None => out.insert(Target::Block(target.clone())),
        };
    }
    out.retain(|t| t.block() != &block.addr);
    out.into_iter().collect()
}

/// For each change, the changes that must finish before it starts. Creates and updates follow
/// dependencies; deletes run in reverse (a dependent is deleted before what it depends on).
pub(super) fn execution_edges(changes: &[Change], state: &State) -> Edges {
    // Active instance addresses by block.
    let mut by_block: BTreeMap<&BlockAddr, Vec<&InstanceAddr>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.action != Action::NoOp) {
        by_block
            .entry(&c.address.block)
            .or_default()
            .push(&c.address);
    }
    let deletes: BTreeSet<&InstanceAddr> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| &c.address)
        .collect();
    let mut edges: Edges = BTreeMap::new();
    for c in changes.iter().filter(|c| c.action != Action::NoOp) {
        let e = edges.entry(c.address.clone()).or_default();
        match c.action {
            Action::Delete => {
                // Wait for the deletes of everything that depended on this one.
                for (addr, rs) in &state.resources {
                    if rs.dependencies.iter().any(|d| d.matches(&c.address))
                        && deletes.contains(addr)
                    {
                        e.insert(addr.clone());
                    }
                }
            }
            _ => {
                for d in &c.deps {
                    let active = by_block.get(d.block()).into_iter().flatten();
                    // A dependency on one instance waits for that instance only.
                    for inst in active.filter(|i| d.matches(i)) {
                        e.insert((*inst).clone());
                    }
                }
            }
        }
    }
    edges
}
