//! Human rendering of plans (DESIGN §5): one block per changed resource with its plan symbol,
//! `(known after apply)` for unknowns, drift listed separately, and the summary line.

use crate::plan::{Action, Change, Plan};
use crate::value::{Map, Value};
use std::fmt::Write;

/// Attributes never shown in plan output (read-only views of the cloud).
const HIDDEN: &[&str] = &["all_metadata", "timeouts"];

pub fn plan(p: &Plan) -> String {
    let mut out = String::new();
    if !p.drift.is_empty() {
        out.push_str("Objects changed outside snapform since the last apply:\n\n");
        for d in &p.drift {
            let _ = writeln!(out, "  # {}", d.message);
        }
        out.push('\n');
    }
    if p.refresh_only {
        if p.drift.is_empty() {
            out.push_str("No changes. The state matches the cloud.\n");
        } else {
            out.push_str(
                "This is a refresh-only plan: apply records the changes above in state and changes nothing in the cloud.\n",
            );
        }
        return out;
    }
    // State-only changes: moves, imports and objects leaving state without being destroyed.
    let mut state_only = String::new();
    for (from, to) in &p.moves {
        let _ = writeln!(state_only, "  # {from} has moved to {to}");
    }
    for addr in p.imports.keys() {
        let what = match p
            .changes
            .iter()
            .find(|c| &c.address == addr)
            .map(|c| c.action)
        {
            Some(Action::Update) => "will be imported and updated in-place (see below)",
            Some(Action::Replace) => "will be imported, then replaced (see below)",
            _ => "will be imported",
        };
        let _ = writeln!(state_only, "  # {addr} {what}");
    }
    for c in p
        .changes
        .iter()
        .filter(|c| c.action == Action::NoOp && c.after.is_none())
    {
        let _ = writeln!(
            state_only,
            "  # {} will be removed from state; the object stays in the cloud{}",
            c.address,
            c.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
    }
    if !state_only.is_empty() {
        out.push_str("snapform will change the state only:\n\n");
        out.push_str(&state_only);
        out.push('\n');
    }
    let visible: Vec<&Change> = p
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if visible.is_empty() && !p.outputs_changed && state_only.is_empty() && p.deposed.is_empty() {
        out.push_str("No changes. The cloud matches the configuration.\n");
        return out;
    }
    if !visible.is_empty() || !p.deposed.is_empty() {
        out.push_str(
            "snapform will perform the following actions (+ create, ~ update in place, -/+ replace, - destroy, <= read):\n\n",
        );
        for d in &p.deposed {
            let _ = writeln!(
                out,
                "  # {} (deposed object {}) will be destroyed\n  # (left by a replacement that did not finish)\n  - resource \"{}\" \"{}\" {{\n      - id = \"{}\"\n    }}\n",
                d.address, d.id, d.kind, d.name, d.id
            );
        }
        for c in visible {
            change(&mut out, c);
            out.push('\n');
        }
    }
    if p.outputs_changed {
        out.push_str("Changes to outputs:\n");
        let shown = |v: &Value, sensitive: bool| {
            if sensitive {
                "(sensitive value)".to_string()
            } else {
                v.to_string()
            }
        };
        for (name, o) in &p.outputs {
            match p.outputs_before.get(name) {
                None => {
                    let _ = writeln!(out, "  + {name} = {}", shown(&o.value, o.sensitive));
                }
                Some(b) if *b != o.value => {
                    let _ = writeln!(
                        out,
                        "  ~ {name} = {} -> {}",
                        shown(b, o.sensitive),
                        shown(&o.value, o.sensitive)
                    );
                }
                Some(_) => {}
            }
        }
        for (name, b) in &p.outputs_before {
            if !p.outputs.contains_key(name) {
                let _ = writeln!(out, "  - {name} = {b}");
            }
        }
        out.push('\n');
    }
    let n = p.counts();
    let mut extra = String::new();
    if !p.imports.is_empty() {
        extra.push_str(&format!(" {} to import.", p.imports.len()));
    }
    if !p.moves.is_empty() {
        extra.push_str(&format!(" {} moved.", p.moves.len()));
    }
    let _ = writeln!(
        out,
        "Plan: {} to add, {} to change, {} to destroy.{extra}",
        n.add, n.change, n.destroy
    );
    out
}

fn headline(c: &Change) -> String {
    let what = match c.action {
        Action::Create => "will be created".to_string(),
        Action::Update => "will be updated in-place".to_string(),
        Action::Replace => "must be replaced".to_string(),
        Action::Delete => "will be destroyed".to_string(),
        Action::Read => "will be read during apply".to_string(),
        Action::NoOp => "is unchanged".to_string(),
    };
    match &c.reason {
        Some(r) => format!("  # {} {what}\n  # (because {r})\n", c.address),
        None => format!("  # {} {what}\n", c.address),
    }
}

fn change(out: &mut String, c: &Change) {
    out.push_str(&headline(c));
    let block = if c.action == Action::Read {
        "data"
    } else {
        "resource"
    };
    let _ = writeln!(
        out,
        "  {} {block} \"{}\" \"{}\" {{",
        c.action.symbol(),
        c.kind,
        c.name
    );
    let empty = Map::new();
    let before = c.before.as_deref().unwrap_or(&empty);
    let after = c.after.as_deref().unwrap_or(&empty);
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let width = keys
        .iter()
        .filter(|k| !HIDDEN.contains(&k.as_str()))
        .map(|k| k.len())
        .max()
        .unwrap_or(0);
    let mut hidden = 0;
    for k in keys {
        if HIDDEN.contains(&k.as_str()) {
            continue;
        }
        let (b, a) = (before.get(k), after.get(k));
        let forces = if c.replace_paths.iter().any(|p| p == k) {
            " # forces replacement"
        } else {
            ""
        };
        match c.action {
            Action::Create | Action::Read => {
                if let Some(a) = a {
                    attr(out, "+", k, width, a, None, forces);
                }
            }
            Action::Delete => {
                if let Some(b) = b
                    && matches!(
                        k.as_str(),
                        "id" | "name" | "server_id" | "image_id" | "retention"
                    )
                {
                    attr(out, "-", k, width, b, None, "");
                }
            }
            Action::Update | Action::Replace => match (b, a) {
                (Some(b), Some(a)) if b == a => {
                    if k == "id" {
                        attr(out, " ", k, width, b, None, "");
                    } else {
                        hidden += 1;
                    }
                }
                (Some(b), Some(a)) => attr(out, "~", k, width, a, Some(b), forces),
                (None, Some(a)) => attr(out, "+", k, width, a, None, forces),
                (Some(b), None) => {
                    if c.action == Action::Update {
                        attr(out, "-", k, width, b, None, "")
                    }
                }
                (None, None) => {}
            },
            Action::NoOp => {}
        }
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "        # ({hidden} unchanged attribute{} hidden)",
            if hidden == 1 { "" } else { "s" }
        );
    }
    out.push_str("    }\n");
}

/// One attribute line; maps are shown key by key, a change as `old -> new`.
fn attr(
    out: &mut String,
    sym: &str,
    k: &str,
    width: usize,
    v: &Value,
    old: Option<&Value>,
    note: &str,
) {
    match (v, old) {
        (Value::Map(m), Some(Value::Map(o))) => {
            let _ = writeln!(out, "      {sym} {k:width$} = {{{note}");
            let mut keys: Vec<&String> = m.keys().chain(o.keys()).collect();
            keys.sort();
            keys.dedup();
            let inner = keys.iter().map(|k| k.len() + 2).max().unwrap_or(0);
            let mut same = 0;
            for key in keys {
                let q = format!("\"{key}\"");
                match (o.get(key), m.get(key)) {
                    (Some(a), Some(b)) if a == b => same += 1,
                    (Some(a), Some(b)) => {
                        let _ = writeln!(out, "          ~ {q:inner$} = {a} -> {b}");
                    }
                    (None, Some(b)) => {
                        let _ = writeln!(out, "          + {q:inner$} = {b}");
                    }
                    (Some(a), None) => {
                        let _ = writeln!(out, "          - {q:inner$} = {a} -> null");
                    }
                    (None, None) => {}
                }
            }
            if same > 0 {
                let _ = writeln!(
                    out,
                    "            # ({same} unchanged element{} hidden)",
                    if same == 1 { "" } else { "s" }
                );
            }
            let _ = writeln!(out, "        }}");
        }
        (Value::Map(m), None) if !m.is_empty() => {
            let _ = writeln!(out, "      {sym} {k:width$} = {{{note}");
            let inner = m.keys().map(|k| k.len() + 2).max().unwrap_or(0);
            for (key, val) in m {
                let q = format!("\"{key}\"");
                let _ = writeln!(out, "          {sym} {q:inner$} = {val}");
            }
            let _ = writeln!(out, "        }}");
        }
        (_, Some(o)) => {
            let _ = writeln!(out, "      {sym} {k:width$} = {o} -> {v}{note}");
        }
        (_, None) => {
            let _ = writeln!(out, "      {sym} {k:width$} = {v}{note}");
        }
    }
}

/// A resource in state as `show` and `state show` print it, in Terraform's shape:
///
/// ```text
/// # image.golden:
/// resource "image" "golden" {
///     id   = "..."
///     name = "golden-web"
/// }
/// ```
pub fn resource_block(rs: &crate::state::ResourceState) -> String {
    object_block(&rs.address, rs.tainted, &rs.shown_attributes())
}

/// A data source's last read, as `show` prints it (`data "server" "web" { ... }`).
pub fn data_block(addr: &crate::addr::InstanceAddr, attrs: &Map) -> String {
    object_block(addr, false, attrs)
}

fn object_block(addr: &crate::addr::InstanceAddr, tainted: bool, attrs: &Map) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {addr}:{}", if tainted { " (tainted)" } else { "" });
    let _ = writeln!(
        out,
        "{} \"{}\" \"{}\" {{",
        if addr.block.data { "data" } else { "resource" },
        addr.block.kind,
        addr.block.name
    );
    let shown: Vec<(&String, &Value)> = attrs
        .iter()
        .filter(|(k, v)| !HIDDEN.contains(&k.as_str()) && **v != Value::Null)
        .collect();
    let width = shown.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in shown {
        let _ = writeln!(out, "    {k:width$} = {}", hcl_value(v, 1));
    }
    out.push_str("}\n");
    out
}

/// A value in HCL syntax, maps and lists over several lines (`depth` levels of 4 spaces).
fn hcl_value(v: &Value, depth: usize) -> String {
    let pad = "    ".repeat(depth);
    match v {
        Value::Map(m) if !m.is_empty() => {
            let width = m.keys().map(|k| k.len() + 2).max().unwrap_or(0);
            let mut s = String::from("{\n");
            for (k, x) in m {
                let q = format!("\"{k}\"");
                let _ = writeln!(s, "{pad}    {q:width$} = {}", hcl_value(x, depth + 1));
            }
            s.push_str(&pad);
            s.push('}');
            s
        }
        Value::List(l) if !l.is_empty() => {
            let mut s = String::from("[\n");
            for x in l {
                let _ = writeln!(s, "{pad}    {},", hcl_value(x, depth + 1));
            }
            s.push_str(&pad);
            s.push(']');
            s
        }
        other => other.to_string(),
    }
}

/// Colours a rendered plan for a terminal. The symbols (`+`, `~`, `-/+`, `-`, `<=`) stay, so
/// colour is never the only carrier of meaning.
pub fn colorize(text: &str) -> String {
    const RESET: &str = "\x1b[0m";
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let code = if t.starts_with("-/+ ") {
            Some("\x1b[35m")
        } else if t.starts_with("+ ") {
            Some("\x1b[32m")
        } else if t.starts_with("~ ") {
            Some("\x1b[33m")
        } else if t.starts_with("- ") {
            Some("\x1b[31m")
        } else if t.starts_with("<= ") {
            Some("\x1b[36m")
        } else if t.starts_with("# (") {
            Some("\x1b[2m")
        } else if t.starts_with("# ") || t.starts_with("Plan:") {
            Some("\x1b[1m")
        } else {
            None
        };
        match code {
            Some(c) => {
                let body = line.trim_end_matches('\n');
                out.push_str(c);
                out.push_str(body);
                out.push_str(RESET);
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Whether to colour stdout: a terminal, no `--no-color`, no `NO_COLOR`.
pub fn use_color(no_color: bool) -> bool {
    use std::io::IsTerminal;
    !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_keeps_the_symbols() {
        let plain = "  + resource \"image\" \"g\" {\n      ~ retention = 7 -> 14\nPlan: 1 to add\n";
        let c = super::colorize(plain);
        assert!(c.contains("\x1b[32m  + resource"));
        assert!(c.contains("~ retention = 7 -> 14"));
        let stripped: String = c
            .replace("\x1b[0m", "")
            .replace("\x1b[32m", "")
            .replace("\x1b[33m", "")
            .replace("\x1b[1m", "");
        assert_eq!(stripped, plain);
    }
}
