//! The plan's graph, for `graph -html` (a self-contained page) and `graph -plan=FILE` (DOT):
//! one node per resource instance and data source, labelled by its planned action, and an edge
//! from each dependency to what depends on it. The page embeds dagre (assets/dagre) for the
//! layout and needs no network access.

use crate::addr::{BlockAddr, InstanceAddr, Target};
use crate::graph::{Graph, Node};
use crate::plan::{Action, Plan};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

const DAGRE: &str = include_str!("../../assets/dagre/dagre.min.js");

/// The instance graph of one plan.
#[derive(Debug, Serialize)]
pub struct PlanGraph {
    pub nodes: Vec<GraphNode>,
    /// `(dependency, dependent)` as indexes into `nodes`.
    pub edges: Vec<(usize, usize)>,
}

#[derive(Debug, Serialize)]
pub struct GraphNode {
    pub address: String,
    /// `create`, `update`, `replace`, `destroy`, `read` or `no-op`.
    pub action: &'static str,
    /// A short explanation shown under the address (e.g. why it is replaced).
    pub detail: String,
    pub data: bool,
    /// Not an instance: stands for every instance of a block that something depends on as a
    /// whole (`image.fleet[*]`), so N dependents of M instances draw N + M edges, not N × M.
    pub bundle: bool,
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::NoOp => "no-op",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "destroy",
        Action::Read => "read",
    }
}

/// The graph of `p`: its changes (no-ops included) and the data sources it read. Dependencies
/// are the changes' own (by instance where a reference names one); a data source read at plan
/// time depends on the blocks its configuration refers to (`cfg`).
pub fn build(p: &Plan, cfg: &Graph) -> PlanGraph {
    let mut nodes: Vec<GraphNode> = Vec::new();
    let mut deps: Vec<Vec<Target>> = Vec::new();
    let mut index: BTreeMap<InstanceAddr, usize> = BTreeMap::new();
    for c in &p.changes {
        if index.contains_key(&c.address) {
            continue;
        }
        let detail = match (c.action, c.create_before_destroy, &c.reason) {
            (Action::Read, _, _) => "read during apply".to_string(),
            (Action::Replace, true, _) => "create before destroy".to_string(),
            (_, _, Some(r)) => r.clone(),
            _ => String::new(),
        };
        index.insert(c.address.clone(), nodes.len());
        nodes.push(GraphNode {
            address: c.address.to_string(),
            action: action_name(c.action),
            detail,
            data: c.address.block.data,
            bundle: false,
        });
        deps.push(c.deps.clone());
    }
    for addr in p.data.keys() {
        if index.contains_key(addr) {
            continue;
        }
        index.insert(addr.clone(), nodes.len());
        nodes.push(GraphNode {
            address: addr.to_string(),
            action: "read",
            detail: String::new(),
            data: true,
            bundle: false,
        });
        deps.push(
            cfg.object_deps(&Node::Object(addr.block.clone()))
                .into_iter()
                .map(Target::Block)
                .collect(),
        );
    }
    let mut by_block: BTreeMap<&BlockAddr, Vec<usize>> = BTreeMap::new();
    for (addr, i) in &index {
        by_block.entry(&addr.block).or_default().push(*i);
    }
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut bundles: BTreeMap<BlockAddr, usize> = BTreeMap::new();
    for (to, targets) in deps.iter().enumerate() {
        for t in targets {
            let from: Vec<usize> = match t {
                Target::Instance(i) if index.contains_key(i) => vec![index[i]],
                other => by_block.get(other.block()).cloned().unwrap_or_default(),
            };
            if from.len() > 1 {
                let b = t.block();
                let n = *bundles.entry(b.clone()).or_insert_with(|| {
                    nodes.push(GraphNode {
                        address: format!("{b}[*]"),
                        action: "no-op",
                        detail: format!("all {} instances", from.len()),
                        data: b.data,
                        bundle: true,
                    });
                    edges.extend(from.iter().map(|f| (*f, nodes.len() - 1)));
                    nodes.len() - 1
                });
                edges.insert((n, to));
                continue;
            }
            edges.extend(from.into_iter().filter(|f| *f != to).map(|f| (f, to)));
        }
    }
    PlanGraph {
        nodes,
        edges: edges.into_iter().collect(),
    }
}

/// The graph as DOT: nodes labelled with their action, edges from dependent to dependency
/// (Terraform's direction, as `snapform graph`).
pub fn dot(g: &PlanGraph) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let q = |s: &str| format!("\"{}\"", esc(s));
    let mut out = String::from(
        "digraph snapform_plan {\n  rankdir = \"RL\";\n  node [fontname = \"sans-serif\", shape = box];\n\n",
    );
    let mut order: Vec<usize> = (0..g.nodes.len()).collect();
    order.sort_by(|a, b| g.nodes[*a].address.cmp(&g.nodes[*b].address));
    for i in &order {
        let n = &g.nodes[*i];
        if n.bundle {
            out.push_str(&format!(
                "  {} [label = \"{}\\n{}\", shape = ellipse];\n",
                q(&n.address),
                esc(&n.address),
                n.detail
            ));
            continue;
        }
        let style = if n.data { ", style = dashed" } else { "" };
        out.push_str(&format!(
            "  {} [label = \"{}\\n{}\"{style}];\n",
            q(&n.address),
            esc(&n.address),
            n.action
        ));
    }
    let mut edges: Vec<(&str, &str)> = g
        .edges
        .iter()
        .map(|(from, to)| {
            (
                g.nodes[*to].address.as_str(),
                g.nodes[*from].address.as_str(),
            )
        })
        .collect();
    edges.sort();
    if !edges.is_empty() {
        out.push('\n');
    }
    for (a, b) in edges {
        out.push_str(&format!("  {} -> {};\n", q(a), q(b)));
    }
    out.push_str("}\n");
    out
}

/// The self-contained page: the graph as JSON, the layout library and the drawing code inline.
pub fn html(g: &PlanGraph, title: &str) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in g.nodes.iter().filter(|n| !n.bundle) {
        *counts.entry(n.action).or_default() += 1;
    }
    let data = serde_json::json!({
        "title": title,
        "nodes": g.nodes,
        "edges": g.edges,
        "counts": counts,
    });
    // Inside <script>, "<" is written \u003c so no text can close the element.
    let data = serde_json::to_string(&data)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    TEMPLATE
        .replace("{{TITLE}}", &escape_html(title))
        .replace("{{DAGRE}}", DAGRE)
        .replace("{{DATA}}", &data)
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const TEMPLATE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
  :root { --create: #2e7d32; --update: #b7791f; --replace: #6a1b9a; --destroy: #c62828;
          --read: #1565c0; --noop: #757575; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
         color: #1f2328; background: #fafbfc; }
  header { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; gap: 12px;
           align-items: center; padding: 10px 16px; background: #fff; border-bottom: 1px solid #d0d7de; }
  h1 { font-size: 16px; margin: 0 12px 0 0; }
  .legend { display: flex; flex-wrap: wrap; gap: 10px; }
  .legend span { display: inline-flex; align-items: center; gap: 5px; }
  .swatch { width: 12px; height: 12px; border-radius: 3px; border: 2px solid; }
  .tools { margin-left: auto; display: flex; gap: 6px; align-items: center; }
  .tools input { padding: 4px 8px; width: 16em; }
  .tools button { padding: 4px 10px; }
  #canvas { overflow: auto; height: calc(100vh - 54px); }
  svg text { font-family: "DejaVu Sans Mono", ui-monospace, monospace; }
  .node rect { stroke-width: 2; rx: 6; }
  .node .addr { font-size: 13px; fill: #1f2328; }
  .node .act { font-size: 11px; font-weight: bold; }
  .node.data rect { stroke-dasharray: 6 3; }
  .node.dim, .bundle.dim { opacity: 0.25; }
  .bundle-label { font-size: 11px; fill: #57606a; }
  .node.hit rect { stroke-width: 4; }
  .edge { fill: none; stroke: #8c959f; stroke-width: 1.4; }
  .edge.dim { opacity: 0.15; }
  .edge.hot { stroke: #1f2328; stroke-width: 2.2; }
  table { border-collapse: collapse; margin: 16px; }
  td, th { border: 1px solid #d0d7de; padding: 3px 8px; text-align: left; }
  td.addr { font-family: "DejaVu Sans Mono", ui-monospace, monospace; }
</style>
</head>
<body>
<header>
  <h1>{{TITLE}}</h1>
  <div class="legend" id="legend"></div>
  <div class="tools">
    <input id="search" type="search" placeholder="Find an address" aria-label="Find an address">
    <button id="zoom-out" title="Zoom out">&minus;</button>
    <button id="zoom-fit" title="Fit to the window">Fit</button>
    <button id="zoom-in" title="Zoom in">+</button>
  </div>
</header>
<div id="canvas"><svg id="graph" xmlns="http://www.w3.org/2000/svg" role="img"></svg></div>
<noscript><p>This page draws the graph with JavaScript; the table below lists every node.</p></noscript>
<table id="list"><thead><tr><th>Address</th><th>Action</th><th>Depends on</th></tr></thead><tbody></tbody></table>
<script type="application/json" id="graph-data">{{DATA}}</script>
<script>{{DAGRE}}</script>
<script>
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("graph-data").textContent);
  const NS = "http://www.w3.org/2000/svg";
  const colours = { create: "--create", update: "--update", replace: "--replace",
                    destroy: "--destroy", read: "--read", "no-op": "--noop" };
  const symbols = { create: "+ create", update: "~ update", replace: "-/+ replace",
                    destroy: "- destroy", read: "<= read", "no-op": "no-op" };
  const css = getComputedStyle(document.documentElement);
  const colour = (a) => css.getPropertyValue(colours[a]).trim();
  const el = (name, attrs, parent) => {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  };

  // Legend with counts.
  const legend = document.getElementById("legend");
  for (const a of ["create", "update", "replace", "destroy", "read", "no-op"]) {
    const n = data.counts[a] || 0;
    if (!n) continue;
    const s = document.createElement("span");
    s.innerHTML = '<i class="swatch"></i>';
    s.firstChild.style.borderColor = colour(a);
    s.appendChild(document.createTextNode(symbols[a] + " (" + n + ")"));
    legend.appendChild(s);
  }

  // Text widths for the node boxes.
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = '13px "DejaVu Sans Mono", monospace';
  const width = (s) => Math.ceil(ctx.measureText(s).width);

  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 14, ranksep: 70, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  data.nodes.forEach((n, i) => {
    const w = n.bundle ? width(n.address) * 0.85 + 20
                       : Math.max(width(n.address), width(n.detail) * 0.85, 90) + 24;
    g.setNode(String(i), { width: w, height: n.bundle ? 24 : n.detail ? 56 : 42 });
  });
  data.edges.forEach(([from, to]) => g.setEdge(String(from), String(to)));
  dagre.layout(g);

  const svg = document.getElementById("graph");
  const size = g.graph();
  svg.setAttribute("viewBox", "0 0 " + size.width + " " + size.height);
  const defs = el("defs", {}, svg);
  const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5,
                                markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8c959f" }, marker);
  const edgeLayer = el("g", { class: "edges" }, svg);
  const nodeLayer = el("g", { class: "nodes" }, svg);
  const edgeEls = [];
  data.edges.forEach(([from, to]) => {
    const pts = g.edge(String(from), String(to)).points;
    const d = "M " + pts.map((p) => p.x.toFixed(1) + " " + p.y.toFixed(1)).join(" L ");
    const p = el("path", { class: "edge", d: d, "marker-end": "url(#arrow)",
                           "data-from": data.nodes[from].address, "data-to": data.nodes[to].address },
                 edgeLayer);
    edgeEls.push({ el: p, from: from, to: to });
  });
  const nodeEls = data.nodes.map((n, i) => {
    const box = g.node(String(i));
    if (n.bundle) {
      // Stands for every instance of a block: a small grey pill, not an instance.
      const grp = el("g", { class: "bundle", "data-address": n.address,
                            transform: "translate(" + (box.x - box.width / 2).toFixed(1) + "," +
                                       (box.y - box.height / 2).toFixed(1) + ")" }, nodeLayer);
      el("title", {}, grp).textContent = n.address + ": " + n.detail;
      el("rect", { width: box.width, height: box.height, rx: 12, fill: "#eaeef2", stroke: "#8c959f" }, grp);
      el("text", { class: "bundle-label", x: 10, y: 16 }, grp).textContent = n.address;
      return grp;
    }
    const grp = el("g", { class: "node" + (n.data ? " data" : ""), "data-address": n.address,
                          "data-action": n.action, tabindex: 0,
                          transform: "translate(" + (box.x - box.width / 2).toFixed(1) + "," +
                                     (box.y - box.height / 2).toFixed(1) + ")" }, nodeLayer);
    el("title", {}, grp).textContent = n.address + ": " + symbols[n.action] +
      (n.detail ? " (" + n.detail + ")" : "");
    const c = colour(n.action);
    el("rect", { width: box.width, height: box.height, fill: "#fff", stroke: c }, grp);
    el("text", { class: "addr", x: 12, y: 18 }, grp).textContent = n.address;
    const act = el("text", { class: "act", x: 12, y: 34, fill: c }, grp);
    act.textContent = symbols[n.action];
    if (n.detail) {
      el("text", { class: "act", x: 12, y: 49, fill: "#57606a", "font-weight": "normal" }, grp)
        .textContent = n.detail;
    }
    return grp;
  });

  // The table: every node with what it depends on (also for search engines and screen readers).
  const deps = data.nodes.map(() => []);
  data.edges.forEach(([from, to]) => deps[to].push(data.nodes[from].address));
  const tbody = document.querySelector("#list tbody");
  data.nodes.forEach((n, i) => {
    if (n.bundle) return;
    const tr = document.createElement("tr");
    tr.innerHTML = '<td class="addr"></td><td></td><td class="addr"></td>';
    tr.children[0].textContent = n.address;
    tr.children[1].textContent = symbols[n.action];
    tr.children[1].style.color = colour(n.action);
    tr.children[2].textContent = deps[i].join(", ");
    tbody.appendChild(tr);
  });

  // Zoom: the drawing at its natural size times `scale`; the canvas scrolls.
  const canvas = document.getElementById("canvas");
  let scale = 1;
  const apply = () => {
    svg.setAttribute("width", Math.ceil(size.width * scale));
    svg.setAttribute("height", Math.ceil(size.height * scale));
  };
  const fit = () => Math.min(1.5, canvas.clientWidth / size.width, canvas.clientHeight / size.height);
  // Fit small graphs; a large one starts at a size where the labels can be read.
  scale = Math.max(fit(), 0.75);
  apply();
  document.getElementById("zoom-in").onclick = () => { scale *= 1.25; apply(); };
  document.getElementById("zoom-out").onclick = () => { scale /= 1.25; apply(); };
  document.getElementById("zoom-fit").onclick = () => { scale = fit(); apply(); };

  // Highlight a node's neighbourhood on click; search dims what does not match.
  const focus = (i) => {
    const near = new Set([i]);
    edgeEls.forEach((e) => { if (e.from === i) near.add(e.to); if (e.to === i) near.add(e.from); });
    nodeEls.forEach((n, j) => n.classList.toggle("dim", i !== null && !near.has(j)));
    edgeEls.forEach((e) => {
      const hot = i !== null && (e.from === i || e.to === i);
      e.el.classList.toggle("hot", hot);
      e.el.classList.toggle("dim", i !== null && !hot);
    });
  };
  nodeEls.forEach((n, i) => n.addEventListener("click", (ev) => { ev.stopPropagation(); focus(i); }));
  svg.addEventListener("click", () => focus(null));
  document.getElementById("search").addEventListener("input", (ev) => {
    const q = ev.target.value.trim().toLowerCase();
    let first = null;
    nodeEls.forEach((n, i) => {
      if (data.nodes[i].bundle) { n.classList.toggle("dim", q !== ""); return; }
      const hit = q !== "" && data.nodes[i].address.toLowerCase().includes(q);
      n.classList.toggle("hit", hit);
      n.classList.toggle("dim", q !== "" && !hit);
      if (hit && first === null) first = n;
    });
    edgeEls.forEach((e) => e.el.classList.toggle("dim", q !== ""));
    if (first) first.scrollIntoView({ block: "center", inline: "center" });
  });
  svg.setAttribute("data-nodes", String(data.nodes.filter((n) => !n.bundle).length));
  svg.setAttribute("data-edges", String(edgeEls.length));
  svg.setAttribute("data-layout", "done");
})();
</script>
</body>
</html>
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_embeds_the_data_without_closing_the_script() {
        let g = PlanGraph {
            nodes: vec![GraphNode {
                address: "image.x[\"</script><b>\"]".into(),
                action: "create",
                detail: String::new(),
                data: false,
                bundle: false,
            }],
            edges: vec![],
        };
        let page = html(&g, "plan <of> x");
        assert_eq!(
            page.matches("</script>").count(),
            3,
            "only the three script ends"
        );
        assert!(page.contains("\\u003c/script>\\u003cb>"));
        assert!(page.contains("<title>plan &lt;of&gt; x</title>"));
        assert!(page.contains("dagre"));
        assert!(!page.contains("{{"), "every placeholder filled");
    }

    #[test]
    fn dot_points_from_dependent_to_dependency() {
        let g = PlanGraph {
            nodes: vec![
                GraphNode {
                    address: "data.server.w".into(),
                    action: "read",
                    detail: String::new(),
                    data: true,
                    bundle: false,
                },
                GraphNode {
                    address: "image.g".into(),
                    action: "create",
                    detail: String::new(),
                    data: false,
                    bundle: false,
                },
            ],
            edges: vec![(0, 1)],
        };
        let d = dot(&g);
        assert!(d.contains("\"image.g\" -> \"data.server.w\";"), "{d}");
        assert!(
            d.contains("\"data.server.w\" [label = \"data.server.w\\nread\", style = dashed];"),
            "{d}"
        );
    }
}
