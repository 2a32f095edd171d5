//! Where references get their values: the `Scope` trait (the graph's evaluator implements it
//! lazily), a scope of plain values, and the empty scope of literal expressions.

use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where references get their values.
pub trait Scope {
    /// The value named by `root` and the leading attribute names of a reference
    /// (`var` + `["x"]`, `data` + `["server", "web"]`, `count` + `[]`), and how many of `names`
    /// it used. `Err` says what is missing.
    fn lookup(&self, root: &str, names: &[&str]) -> Result<(Arc<Value>, usize), String>;
}

/// How many attribute names after `root` name the referenced block or value.
pub fn names_in_target(root: &str) -> usize {
    match root {
        "data" => 2,
        "count" | "each" | "snapform" => 0,
        _ => 1,
    }
}

/// A scope of plain values by address (`var.x`, `local.y`, `data.server.web`, `image.golden`,
/// `count`): for tests, variable validation and anything that has its values at hand.
#[derive(Clone, Debug, Default)]
pub struct Values {
    roots: BTreeMap<String, Value>,
}

impl Values {
    pub fn new() -> Values {
        Values::default()
    }

    /// Sets the value of an address: `var.x`, `local.y`, `data.server.web`, `image.golden`.
    pub fn set(&mut self, addr: &str, value: Value) {
        let mut parts: Vec<&str> = addr.split('.').collect();
        if parts.len() < 2 {
            self.roots.insert(addr.to_string(), value);
            return;
        }
        let root = parts.remove(0);
        let mut cur = self
            .roots
            .entry(root.to_string())
            .or_insert_with(|| Value::Map(Map::new()));
        let last = parts.pop().unwrap_or_default();
        for p in parts {
            if !matches!(cur, Value::Map(_)) {
                *cur = Value::Map(Map::new());
            }
            let Value::Map(m) = cur else { return };
            cur = m
                .entry(p.to_string())
                .or_insert_with(|| Value::Map(Map::new()));
        }
        if !matches!(cur, Value::Map(_)) {
            *cur = Value::Map(Map::new());
        }
        if let Value::Map(m) = cur {
            m.insert(last.to_string(), value);
        }
    }

    /// Value of an address, if set.
    pub fn get(&self, addr: &str) -> Option<&Value> {
        let mut parts = addr.split('.');
        let mut cur = self.roots.get(parts.next()?)?;
        for p in parts {
            cur = cur.as_map()?.get(p)?;
        }
        Some(cur)
    }
}

impl Scope for Values {
    fn lookup(&self, root: &str, names: &[&str]) -> Result<(Arc<Value>, usize), String> {
        let Some(mut cur) = self.roots.get(root) else {
            return Err(format!("unknown reference \"{root}\""));
        };
        let want = names_in_target(root);
        if names.len() < want {
            return Err(format!("incomplete reference to \"{root}\""));
        }
        for n in &names[..want] {
            cur = cur
                .as_map()
                .and_then(|m| m.get(*n))
                .ok_or_else(|| format!("unknown reference \"{root}.{n}\""))?;
        }
        Ok((Arc::new(cur.clone()), want))
    }
}

/// A scope with nothing in it (literal expressions, variable defaults).
pub struct Empty;

impl Scope for Empty {
    fn lookup(&self, root: &str, _: &[&str]) -> Result<(Arc<Value>, usize), String> {
        Err(format!(
            "\"{root}\" cannot be used here; only literal values are allowed"
        ))
    }
}
