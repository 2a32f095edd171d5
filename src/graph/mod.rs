//! The dependency graph of a configuration (petgraph): which node reads which, in what order
//! nodes are evaluated, the checks that every reference points at something declared, and the
//! one evaluator of every expression (`eval.rs`).
//!
//! Architecture Invariant: pure; no I/O. Nodes are typed (`Node`): variables, locals, `data` and
//! `resource` blocks (by `BlockAddr`, never by an instance address), outputs, provider blocks
//! and `import` blocks.

mod eval;

pub use eval::{Evaluator, Expansion, Instance};

use crate::addr::{BlockAddr, InstanceAddr};
use crate::config::suggest::did_you_mean;
use crate::config::{Config, Diagnostic, Reference, schema};
use crate::value::PathStep;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A node of the dependency graph.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Var(String),
    Local(String),
    /// A `data` or `resource` block (all its instances).
    Object(BlockAddr),
    Output(String),
    /// A provider block, by key (`rackspace`, `rackspace.lon`).
    Provider(String),
    /// The `import` block at this index of `Config::imports`.
    Import(usize),
    /// The `list` block at this index of `Config::lists` (query files).
    List(usize),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Var(n) => write!(f, "var.{n}"),
            Node::Local(n) => write!(f, "local.{n}"),
            Node::Object(a) => write!(f, "{a}"),
            Node::Output(n) => write!(f, "output.{n}"),
            Node::Provider(k) => write!(f, "provider \"{k}\""),
            Node::Import(i) => write!(f, "import block {}", i + 1),
            Node::List(i) => write!(f, "list block {}", i + 1),
        }
    }
}

impl Node {
    /// The node a reference points at (`var.x`, `local.y`, a block), if it names one.
    pub fn of_reference(r: &Reference) -> Option<Node> {
        let attr = |i: usize| match r.path.get(i) {
            Some(PathStep::Attr(a)) => Some(a.clone()),
            _ => None,
        };
        Some(match r.root.as_str() {
            "var" => Node::Var(attr(0)?),
            "local" => Node::Local(attr(0)?),
            "data" => Node::Object(BlockAddr::data(attr(0)?, attr(1)?)),
            "count" | "each" | "snapform" | "path" => return None,
            kind => Node::Object(BlockAddr::resource(kind, attr(0)?)),
        })
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Node::Object(_))
    }
}

/// Dependency graph: an edge `a → b` means `b` reads `a` (so `a` comes first).
#[derive(Debug, Clone, Default)]
pub struct Graph {
    graph: DiGraph<Node, ()>,
    index: BTreeMap<Node, NodeIndex>,
    order: Vec<Node>,
}

impl Graph {
    fn node(&mut self, n: &Node) -> NodeIndex {
        if let Some(i) = self.index.get(n) {
            return *i;
        }
        let i = self.graph.add_node(n.clone());
        self.index.insert(n.clone(), i);
        i
    }

    /// Every node in dependency order (dependencies first); deterministic.
    pub fn order(&self) -> &[Node] {
        &self.order
    }

    /// Direct dependencies of a node.
    pub fn deps(&self, n: &Node) -> Vec<Node> {
        let Some(i) = self.index.get(n) else {
            return Vec::new();
        };
        let mut v: Vec<Node> = self
            .graph
            .edges_directed(*i, petgraph::Direction::Incoming)
            .map(|e| self.graph[e.source()].clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Whether any node (a resource, data source, local or output) reads `n`.
    pub fn is_read(&self, n: &Node) -> bool {
        self.index.get(n).is_some_and(|i| {
            self.graph
                .edges_directed(*i, petgraph::Direction::Outgoing)
                .next()
                .is_some()
        })
    }

    /// Every node that reads `n`, directly or through others.
    pub fn dependents(&self, n: &Node) -> BTreeSet<Node> {
        let mut out = BTreeSet::new();
        let Some(start) = self.index.get(n) else {
            return out;
        };
        let mut stack = vec![*start];
        while let Some(i) = stack.pop() {
            for e in self.graph.edges_directed(i, petgraph::Direction::Outgoing) {
                if out.insert(self.graph[e.target()].clone()) {
                    stack.push(e.target());
                }
            }
        }
        out
    }

    /// The data sources and resources a node depends on, looking through locals and variables.
    pub fn object_deps(&self, n: &Node) -> BTreeSet<BlockAddr> {
        let mut out = BTreeSet::new();
        let mut stack = self.deps(n);
        let mut seen = BTreeSet::new();
        while let Some(d) = stack.pop() {
            if !seen.insert(d.clone()) {
                continue;
            }
            match d {
                Node::Object(a) => {
                    out.insert(a);
                }
                other => stack.extend(self.deps(&other)),
            }
        }
        out
    }
}

/// The references of every node of `cfg`, with the block kind each may use `count`/`each` in.
fn nodes(cfg: &Config) -> Vec<(Node, Vec<&Reference>, Option<&'static str>)> {
    let mut nodes = Vec::new();
    for (name, v) in &cfg.variables {
        let refs = v.default.iter().flat_map(|e| e.refs.iter()).collect();
        nodes.push((Node::Var(name.clone()), refs, None));
    }
    for (name, l) in &cfg.locals {
        nodes.push((
            Node::Local(name.clone()),
            l.value.refs.iter().collect(),
            None,
        ));
    }
    for p in &cfg.providers {
        let refs = p.attrs.values().flat_map(|a| a.value.refs.iter()).collect();
        nodes.push((Node::Provider(p.key()), refs, None));
    }
    for o in cfg.data.values().chain(cfg.resources.values()) {
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
        let multi = if o.count.is_some() {
            Some("count")
        } else if o.for_each.is_some() {
            Some("each")
        } else {
            None
        };
        nodes.push((Node::Object(o.addr.clone()), refs, multi));
    }
    for (name, o) in &cfg.outputs {
        nodes.push((
            Node::Output(name.clone()),
            o.value.refs.iter().collect(),
            None,
        ));
    }
    for (i, imp) in cfg.imports.iter().enumerate() {
        let refs = imp
            .id
            .refs
            .iter()
            .chain(imp.for_each.iter().flat_map(|e| e.refs.iter()))
            .chain(imp.to_key.iter().flat_map(|e| e.refs.iter()))
            .collect();
        let multi = imp.for_each.as_ref().map(|_| "each");
        nodes.push((Node::Import(i), refs, multi));
    }
    for (i, l) in cfg.lists.iter().enumerate() {
        let refs = l.config.values().flat_map(|e| e.refs.iter()).collect();
        nodes.push((Node::List(i), refs, None));
    }
    nodes
}

/// Every expression of the configuration.
fn expressions(cfg: &Config) -> Vec<&crate::config::Expr> {
    let mut out: Vec<&crate::config::Expr> = Vec::new();
    out.extend(cfg.variables.values().filter_map(|v| v.default.as_ref()));
    out.extend(
        cfg.variables
            .values()
            .flat_map(|v| v.validations.iter().map(|r| &r.condition)),
    );
    out.extend(cfg.locals.values().map(|l| &l.value));
    out.extend(
        cfg.providers
            .iter()
            .flat_map(|p| p.attrs.values().map(|a| &a.value)),
    );
    for o in cfg.data.values().chain(cfg.resources.values()) {
        out.extend(o.attrs.values().map(|a| &a.value));
        out.extend(o.blocks.values().flat_map(|b| b.values().map(|a| &a.value)));
        out.extend(o.count.iter().chain(o.for_each.iter()));
    }
    out.extend(cfg.outputs.values().map(|o| &o.value));
    for i in &cfg.imports {
        out.push(&i.id);
        out.extend(i.for_each.iter().chain(i.to_key.iter()));
    }
    out.extend(cfg.lists.iter().flat_map(|l| l.config.values()));
    out
}

/// Builds the graph and checks every reference and function name. Reports all problems found.
pub fn build(cfg: &Config) -> (Graph, Vec<Diagnostic>) {
    let mut g = Graph::default();
    let mut diags = Vec::new();
    for e in expressions(cfg) {
        for (name, span) in &e.funcs {
            if !crate::config::funcs::exists(name) {
                diags.push(Diagnostic::error(
                    format!(
                        "there is no function named \"{name}\"{}",
                        did_you_mean(name, crate::config::funcs::names())
                    ),
                    Some(span.clone()),
                ));
            }
        }
    }
    // Nodes in a stable order so the topological order is deterministic.
    let nodes = nodes(cfg);
    for (n, _, _) in &nodes {
        g.node(n);
    }
    for (n, refs, multi) in &nodes {
        let to = g.index[n];
        for r in refs {
            if r.root == "count" || r.root == "each" {
                if *multi != Some(r.root.as_str()) {
                    diags.push(Diagnostic::error(
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
                    ));
                }
                continue;
            }
            match check_reference(cfg, r) {
                Ok(None) => {}
                Ok(Some(target)) => {
                    if &target == n {
                        diags.push(Diagnostic::error(
                            format!("{n} refers to itself"),
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
        if matches!(n, Node::Var(_)) && !refs.is_empty() {
            diags.push(Diagnostic::error(
                format!("the default of {n} may not refer to other values"),
                Some(refs[0].span.clone()),
            ));
        }
    }
    match toposort(&g.graph, None) {
        Ok(order) => {
            // toposort is deterministic for a given insertion order; keep it.
            g.order = order.into_iter().map(|i| g.graph[i].clone()).collect();
            diags.extend(check_early_nodes(cfg, &g));
        }
        Err(cycle) => {
            let n = g.graph[cycle.node_id()].clone();
            diags.push(Diagnostic::error(
                format!("dependency cycle through {n}"),
                span_of(cfg, &n),
            ));
            // Still give an order (cycles broken at the first node declared), so the checks
            // that follow can report every other mistake in the same run.
            g.order = order_breaking_cycles(&g.graph);
        }
    }
    (g, diags)
}

/// Kahn's algorithm, taking nodes in declaration order; when only cycles remain, the first
/// remaining node is taken as if its dependencies were done.
fn order_breaking_cycles(graph: &DiGraph<Node, ()>) -> Vec<Node> {
    let n = graph.node_count();
    let mut waiting: Vec<usize> = graph
        .node_indices()
        .map(|i| {
            graph
                .edges_directed(i, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut done = vec![false; n];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let next = (0..n)
            .find(|&i| !done[i] && waiting[i] == 0)
            .or_else(|| (0..n).find(|&i| !done[i]));
        let Some(i) = next else { break };
        done[i] = true;
        let idx = NodeIndex::new(i);
        out.push(graph[idx].clone());
        for e in graph.edges_directed(idx, petgraph::Direction::Outgoing) {
            let t = e.target().index();
            waiting[t] = waiting[t].saturating_sub(1);
        }
    }
    out
}

/// Where a node is declared.
fn span_of(cfg: &Config, n: &Node) -> Option<crate::config::Span> {
    match n {
        Node::Object(a) => cfg.object(a).map(|o| o.span.clone()),
        Node::Local(l) => cfg.locals.get(l).map(|l| l.name_span.clone()),
        Node::Var(v) => cfg.variables.get(v).map(|v| v.span.clone()),
        Node::Output(o) => cfg.outputs.get(o).map(|o| o.span.clone()),
        Node::Provider(k) => cfg
            .providers
            .iter()
            .find(|p| &p.key() == k)
            .map(|p| p.span.clone()),
        Node::Import(i) => cfg.imports.get(*i).map(|b| b.span.clone()),
        Node::List(i) => cfg.lists.get(*i).map(|b| b.span.clone()),
    }
}

/// Provider blocks and import ids are evaluated before anything is read from the cloud: they
/// may use variables and locals, not data sources or resources.
fn check_early_nodes(cfg: &Config, g: &Graph) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for n in g.order() {
        if !matches!(n, Node::Provider(_) | Node::Import(_)) {
            continue;
        }
        if let Some(obj) = g.object_deps(n).into_iter().next() {
            diags.push(Diagnostic::error(
                format!(
                    "{n} depends on {obj}, which is known only after reading the cloud; it may use variables and locals only"
                ),
                span_of(cfg, n),
            ));
        }
    }
    diags
}

/// Checks that a reference points at a declared block (and, for objects, at a known attribute);
/// returns the target node (`None` for roots that name no node, such as `snapform`).
fn check_reference(cfg: &Config, r: &Reference) -> Result<Option<Node>, Diagnostic> {
    let err = |m: String| Diagnostic::error(m, Some(r.span.clone()));
    if matches!(r.root.as_str(), "snapform" | "path") {
        return Ok(None);
    }
    let Some(target) = Node::of_reference(r) else {
        return Err(err(format!(
            "incomplete reference \"{}\"; expected e.g. var.NAME, local.NAME, TYPE.NAME.ATTR or data.TYPE.NAME.ATTR",
            r.display()
        )));
    };
    match &target {
        Node::Var(name) if !cfg.variables.contains_key(name) => {
            let names: Vec<&str> = cfg.variables.keys().map(String::as_str).collect();
            return Err(err(format!(
                "reference to undeclared input variable \"{name}\"{}",
                hint_or(
                    did_you_mean(name, &names),
                    format!("; declare it with a variable \"{name}\" block")
                )
            )));
        }
        Node::Local(name) if !cfg.locals.contains_key(name) => {
            let names: Vec<&str> = cfg.locals.keys().map(String::as_str).collect();
            return Err(err(format!(
                "reference to undeclared local value \"{name}\"{}",
                did_you_mean(name, &names)
            )));
        }
        Node::Object(addr) if addr.data => {
            let Some(o) = cfg.data.get(addr) else {
                let names: Vec<String> = cfg.data.keys().map(|a| a.to_string()).collect();
                return Err(err(format!(
                    "reference to undeclared data source \"{addr}\"{}",
                    did_you_mean(&addr.to_string(), &names)
                )));
            };
            check_attr(r, crate::resources::data_schema(&o.kind), o.is_multi())?;
        }
        Node::Object(addr) => {
            if crate::resources::resource(&addr.kind).is_none() {
                let mut roots: Vec<&str> = vec!["var", "local", "data"];
                let kinds = crate::resources::resource_kinds();
                roots.extend(kinds.iter().copied());
                return Err(err(format!(
                    "unknown reference \"{}\": \"{}\" is not var, local, data or a resource type ({}){}",
                    r.display(),
                    r.root,
                    kinds.join(", "),
                    did_you_mean(&r.root, &roots)
                )));
            }
            let Some(o) = cfg.resources.get(addr) else {
                let names: Vec<String> = cfg.resources.keys().map(|a| a.to_string()).collect();
                return Err(err(format!(
                    "reference to undeclared resource \"{addr}\"{}",
                    did_you_mean(&addr.to_string(), &names)
                )));
            };
            check_attr(r, crate::resources::resource_schema(&o.kind), o.is_multi())?;
        }
        _ => {}
    }
    Ok(Some(target))
}

fn hint_or(hint: String, otherwise: String) -> String {
    if hint.is_empty() { otherwise } else { hint }
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
                "\"{}\" has no attribute \"{a}\"; expected one of {}{}",
                r.target().unwrap_or_default(),
                names.join(", "),
                did_you_mean(a, &names)
            ),
            Some(r.span.clone()),
        ));
    }
    Ok(())
}

/// Execution graph of a plan: for each instance, the instances that must finish first.
pub type Edges = BTreeMap<InstanceAddr, BTreeSet<InstanceAddr>>;
