//! The dependency graph of a configuration (petgraph): which block reads which, in what order
//! blocks are evaluated, and the checks that every reference points at something declared.
//!
//! Architecture Invariant: pure; no I/O. Node names are graph addresses: `var.x`, `local.y`,
//! `data.server.web`, `image.golden`, `output.id`.

use crate::config::schema;
use crate::config::{Config, Diagnostic, Reference};
use crate::value::PathStep;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet};

/// Dependency graph: an edge `a → b` means `b` reads `a` (so `a` comes first).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    graph: DiGraph<String, ()>,
    index: BTreeMap<String, NodeIndex>,
    order: Vec<String>,
}

impl Graph {
    fn node(&mut self, addr: &str) -> NodeIndex {
        if let Some(i) = self.index.get(addr) {
            return *i;
        }
        let i = self.graph.add_node(addr.to_string());
        self.index.insert(addr.to_string(), i);
        i
    }

    /// Every node in dependency order (dependencies first); deterministic.
    pub fn order(&self) -> &[String] {
        &self.order
    }

    /// Direct dependencies of a node.
    pub fn deps(&self, addr: &str) -> Vec<String> {
        let Some(i) = self.index.get(addr) else {
            return Vec::new();
        };
        let mut v: Vec<String> = self
            .graph
            .edges_directed(*i, petgraph::Direction::Incoming)
            .map(|e| self.graph[e.source()].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The data sources and resources a node depends on, looking through locals and variables.
    pub fn object_deps(&self, addr: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack = self.deps(addr);
        let mut seen = BTreeSet::new();
        while let Some(d) = stack.pop() {
            if !seen.insert(d.clone()) {
                continue;
            }
            if is_object(&d) {
                out.insert(d);
            } else {
                stack.extend(self.deps(&d));
            }
        }
        out
    }
}

/// True for `data.*` and managed resource addresses.
pub fn is_object(addr: &str) -> bool {
    !(addr.starts_with("var.") || addr.starts_with("local.") || addr.starts_with("output."))
}

/// Builds the graph and checks every reference. Reports all problems found.
pub fn build(cfg: &Config) -> (Graph, Vec<Diagnostic>) {
    let mut g = Graph::default();
    let mut diags = Vec::new();
    // Nodes in a stable order so the topological order is deterministic.
    let mut nodes: Vec<(String, Vec<&Reference>)> = Vec::new();
    // Blocks whose expressions may use `count.index` / `each.key` / `each.value`.
    let mut multi: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, v) in &cfg.variables {
        let refs = v.default.iter().flat_map(|e| e.refs.iter()).collect();
        nodes.push((format!("var.{name}"), refs));
    }
    for (name, l) in &cfg.locals {
        nodes.push((format!("local.{name}"), l.value.refs.iter().collect()));
    }
    for (addr, o) in cfg.data.iter().chain(cfg.resources.iter()) {
        let mut refs: Vec<&Reference> =
            o.attrs.values().flat_map(|a| a.value.refs.iter()).collect();
        refs.extend(
            o.blocks
                .values()
                .flat_map(|b| b.values().flat_map(|a| a.value.refs.iter())),
        );
        refs.extend(o.depends_on.iter());
        refs.extend(o.count.iter().flat_map(|e| e.refs.iter()));
        refs.extend(o.for_each.iter().flat_map(|e| e.refs.iter()));
        if o.count.is_some() {
            multi.insert(addr.as_str(), "count");
        } else if o.for_each.is_some() {
            multi.insert(addr.as_str(), "each");
        }
        nodes.push((addr.clone(), refs));
    }
    for (name, o) in &cfg.outputs {
        nodes.push((format!("output.{name}"), o.value.refs.iter().collect()));
    }
    for (addr, _) in &nodes {
        g.node(addr);
    }
    for (addr, refs) in &nodes {
        let to = g.index[addr];
        for r in refs {
            if r.root == "count" || r.root == "each" {
                match multi.get(addr.as_str()) {
                    Some(root) if *root == r.root => {}
                    _ => diags.push(Diagnostic::error(
                        format!(
                            "\"{}\" can only be used in a block with {}",
                            r.display(),
                            if r.root == "count" {
                                "count"
                            } else {
                                "for_each"
                            }
                        ),
                        Some(r.span.clone()),
                    )),
                }
                continue;
            }
            match check_reference(cfg, r) {
                Ok(target) => {
                    if &target == addr {
                        diags.push(Diagnostic::error(
                            format!("{addr} refers to itself"),
                            Some(r.span.clone()),
                        ));
                        continue;
                    }
                    let from = g.node(&target);
                    if g.graph.find_edge(from, to).is_none() {
                        g.graph.add_edge(from, to, ());
                    }
                }
                Err(d) => diags.push(d),
            }
        }
        if addr.starts_with("var.") && !refs.is_empty() {
            diags.push(Diagnostic::error(
                format!("the default of {addr} may not refer to other values"),
                Some(refs[0].span.clone()),
            ));
        }
    }
    match toposort(&g.graph, None) {
        Ok(order) => {
            // toposort is deterministic for a given insertion order; keep it.
            g.order = order.into_iter().map(|i| g.graph[i].clone()).collect();
        }
        Err(cycle) => {
            let addr = g.graph[cycle.node_id()].clone();
            let span = cfg.object(&addr).map(|o| o.span.clone()).or_else(|| {
                cfg.locals
                    .get(addr.trim_start_matches("local."))
                    .map(|l| l.name_span.clone())
            });
            diags.push(Diagnostic::error(
                format!("dependency cycle through {addr}"),
                span,
            ));
        }
    }
    (g, diags)
}

/// Checks that a reference points at a declared block (and, for objects, at a known attribute);
/// returns the target address.
fn check_reference(cfg: &Config, r: &Reference) -> Result<String, Diagnostic> {
    let err = |m: String| Diagnostic::error(m, Some(r.span.clone()));
    let Some(target) = r.target() else {
        return Err(err(format!(
            "incomplete reference \"{}\"; expected e.g. var.NAME, local.NAME, TYPE.NAME.ATTR or data.TYPE.NAME.ATTR",
            r.display()
        )));
    };
    match r.root.as_str() {
        "var" => {
            let name = target.trim_start_matches("var.");
            if !cfg.variables.contains_key(name) {
                return Err(err(format!(
                    "reference to undeclared input variable \"{name}\"; declare it with a variable \"{name}\" block"
                )));
            }
        }
        "local" => {
            let name = target.trim_start_matches("local.");
            if !cfg.locals.contains_key(name) {
                return Err(err(format!(
                    "reference to undeclared local value \"{name}\""
                )));
            }
        }
        "data" => {
            let Some(o) = cfg.data.get(&target) else {
                return Err(err(format!(
                    "reference to undeclared data source \"{target}\""
                )));
            };
            check_attr(r, schema::data(&o.kind), o.is_multi())?;
        }
        root if schema::resource(root).is_some() => {
            let Some(o) = cfg.resources.get(&target) else {
                return Err(err(format!(
                    "reference to undeclared resource \"{target}\""
                )));
            };
            check_attr(r, schema::resource(&o.kind), o.is_multi())?;
        }
        root => {
            return Err(err(format!(
                "unknown reference \"{}\": \"{root}\" is not var, local, data or a resource type ({})",
                r.display(),
                schema::RESOURCE_TYPES.join(", ")
            )));
        }
    }
    Ok(target)
}

fn check_attr(r: &Reference, s: Option<&schema::Schema>, multi: bool) -> Result<(), Diagnostic> {
    // With count/for_each the first step is the instance key; the attribute follows it.
    let step = if multi {
        r.rest().get(1)
    } else {
        r.rest().first()
    };
    let (Some(s), Some(PathStep::Attr(a))) = (s, step) else {
        return Ok(());
    };
    if s.attr(a).is_none() && a != "id" {
        let names: Vec<&str> = s.attrs.iter().map(|x| x.name).collect();
        return Err(Diagnostic::error(
            format!(
                "\"{}\" has no attribute \"{a}\"; expected one of {}",
                r.target().unwrap_or_default(),
                names.join(", ")
            ),
            Some(r.span.clone()),
        ));
    }
    Ok(())
}

/// Execution graph of a plan: for each address, the addresses that must finish first.
pub type Edges = BTreeMap<String, BTreeSet<String>>;
