//! Configuration text for objects that already exist (`plan -generate-config-out`): a
//! `resource` block per object, with the arguments that make its import plan no change. The
//! CLI puts the text in canonical layout (`fmt`'s rules) before writing it.

use crate::value::{Map, Value};
use std::fmt::Write;

/// `resource "KIND" "NAME" { ... }`, after a comment line; arguments in `order` (the
/// schema's) first, then the rest.
pub fn resource_block(kind: &str, name: &str, args: &Map, order: &[&str], comment: &str) -> String {
    let mut out = String::new();
    for line in comment.lines() {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "resource \"{kind}\" \"{name}\" {{");
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(order.len());
    let mut keys: Vec<&String> = args.keys().collect();
    keys.sort_by_key(|k| (rank(k), (*k).clone()));
    for k in keys {
        let _ = writeln!(out, "  {k} = {}", literal(&args[k], 1));
    }
    out.push_str("}\n");
    out
}

/// A value as an HCL literal (maps over several lines, `depth` levels of two spaces).
pub fn literal(v: &Value, depth: usize) -> String {
    let pad = "  ".repeat(depth);
    match v.peel() {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::List(l) => {
            let items: Vec<String> = l.iter().map(|x| literal(x, depth + 1)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Map(m) if m.is_empty() => "{}".into(),
        Value::Map(m) => {
            let mut s = String::from("{\n");
            for (k, x) in m {
                let _ = writeln!(s, "{pad}  {} = {}", key(k), literal(x, depth + 1));
            }
            s.push_str(&pad);
            s.push('}');
            s
        }
        Value::Sensitive(_) => "null".into(),
    }
}

/// A map key: bare when it is an identifier, else quoted.
fn key(k: &str) -> String {
    let ident = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident { k.to_string() } else { string(k) }
}

/// A quoted string, with HCL's escapes (and `${` / `%{` kept literal).
fn string(s: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_parse_back_to_the_same_values() {
        let m: Map = [
            ("name".to_string(), Value::str("a \"b\" ${c} %{d} \\ e\nf")),
            (
                "metadata".to_string(),
                Value::Map(
                    [
                        ("owner".to_string(), Value::str("ops")),
                        ("com.x/y z".to_string(), Value::str("1")),
                    ]
                    .into(),
                ),
            ),
        ]
        .into();
        let text = resource_block("image", "x", &m, &["name"], "generated");
        let body: hcl::Body = hcl::from_str(&text).expect(&text);
        let block = body.blocks().next().expect("a block");
        let name = block.body.attributes().find(|a| a.key() == "name").unwrap();
        assert_eq!(
            name.expr,
            hcl::Expression::String("a \"b\" ${c} %{d} \\ e\nf".into()),
            "{text}"
        );
        assert!(text.contains("\"com.x/y z\" = \"1\""), "{text}");
        assert!(text.contains("owner = \"ops\""), "{text}");
    }
}
