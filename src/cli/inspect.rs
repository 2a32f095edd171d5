//! Commands that print something derived from the configuration or the CLI itself, without
//! touching state or the cloud: `graph` (the dependency graph in DOT), `man` and `completions`.

use super::CliError;
use super::args::Cli;
use crate::config::{self, Diagnostic};
use crate::engine as workspace;
use crate::graph::{self, Node};
use std::collections::BTreeSet;
use std::path::Path;

/// `snapform graph`: nodes are graph addresses (variables, locals, data sources, resources,
/// outputs); an edge `A -> B` means A depends on B (Terraform's direction). Nodes and edges are
/// sorted, so the output is the same on every run. Variables need no values.
pub fn graph(dir: &Path) -> Result<u8, CliError> {
    let sources = workspace::read_sources(dir)?;
    let (cfg, mut diags) = config::load(sources);
    let (g, gd) = graph::build(&cfg);
    diags.extend(gd);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(CliError::Diagnostics(cfg.sources.clone(), diags));
    }
    outp!("{}", dot(g.order(), |a| g.deps(a)));
    Ok(0)
}

/// A node's name in the graph output.
fn name(n: &Node) -> String {
    match n {
        Node::Provider(k) => format!("provider.{k}"),
        other => other.to_string(),
    }
}

/// The DOT text for `nodes` with `deps(node)` as their direct dependencies.
fn dot(nodes: &[Node], deps: impl Fn(&Node) -> Vec<Node>) -> String {
    let nodes: BTreeSet<&Node> = nodes
        .iter()
        .filter(|n| !matches!(n, Node::Import(_) | Node::List(_)))
        .collect();
    let mut out = String::from(
        "digraph snapform {\n  rankdir = \"RL\";\n  node [fontname = \"sans-serif\"];\n\n",
    );
    let mut names: Vec<(String, &Node)> = nodes.iter().map(|n| (name(n), *n)).collect();
    names.sort();
    for (shown, n) in &names {
        let style = match n {
            Node::Object(a) if a.data => "shape = box, style = dashed",
            Node::Object(_) => "shape = box",
            Node::Output(_) => "shape = note",
            Node::Provider(_) => "shape = diamond",
            _ => "shape = ellipse",
        };
        out.push_str(&format!("  {} [{style}];\n", quote(shown)));
    }
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for (shown, n) in &names {
        for d in deps(n) {
            edges.insert((shown.clone(), name(&d)));
        }
    }
    if !edges.is_empty() {
        out.push('\n');
    }
    for (from, to) in edges {
        out.push_str(&format!("  {} -> {};\n", quote(&from), quote(&to)));
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `snapform man`: the manual page of snapform on stdout, or with `dir` the pages of it and
/// every command (`snapform-plan.1`, `snapform-state-list.1`, ...) written there.
pub fn man(dir: Option<&Path>) -> Result<u8, CliError> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let fail = |e: std::io::Error| CliError::msg(format!("cannot write the manual pages: {e}"));
    match dir {
        None => {
            let mut buf: Vec<u8> = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf).map_err(fail)?;
            outp!("{}", String::from_utf8_lossy(&buf));
        }
        Some(d) => {
            std::fs::create_dir_all(d).map_err(fail)?;
            clap_mangen::generate_to(cmd, d).map_err(fail)?;
            eprintln!("Wrote the manual pages to {}", d.display());
        }
    }
    Ok(0)
}

/// `snapform completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<u8, CliError> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut buf: Vec<u8> = Vec::new();
    clap_complete::generate(shell, &mut cmd, "snapform", &mut buf);
    outp!("{}", String::from_utf8_lossy(&buf));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::dot;
    use crate::addr::BlockAddr;
    use crate::graph::Node;

    #[test]
    fn dot_is_sorted_and_points_from_dependent_to_dependency() {
        let w = Node::Object(BlockAddr::data("server", "w"));
        let s = Node::Object(BlockAddr::resource("image_schedule", "s"));
        let nodes = vec![
            Node::Var("r".into()),
            w.clone(),
            s.clone(),
            Node::Output("o".into()),
        ];
        let deps = |n: &Node| match n {
            Node::Object(a) if !a.data => vec![w.clone(), Node::Var("r".into())],
            Node::Output(_) => vec![s.clone()],
            _ => vec![],
        };
        let d = dot(&nodes, deps);
        assert!(d.starts_with("digraph snapform {\n"), "{d}");
        let i = d
            .find("\"data.server.w\" [shape = box, style = dashed];")
            .unwrap();
        let j = d.find("\"image_schedule.s\" [shape = box];").unwrap();
        assert!(i < j, "sorted: {d}");
        assert!(
            d.contains("\"image_schedule.s\" -> \"data.server.w\";"),
            "{d}"
        );
        assert!(d.contains("\"output.o\" -> \"image_schedule.s\";"), "{d}");
        assert!(d.contains("\"var.r\" [shape = ellipse];"), "{d}");
        assert!(d.ends_with("}\n"));
    }
}
