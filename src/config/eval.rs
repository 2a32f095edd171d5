//! The pure evaluator: expressions + a `Scope` of known (or unknown) values → `Value`.
//!
//! `hcl::eval` does the evaluation; unknowns are handled before it runs: an expression that
//! references an unknown value is itself unknown (object literals are refined item by item, so
//! `{ a = "x", b = image.g.id }` keeps `a` known).

use super::schema::Ty;
use super::{Diagnostic, Expr, Reference, refs};
use crate::value::{Map, PathStep, Value};
use hcl::eval::{Context, Evaluate};
use std::collections::BTreeMap;

/// Known values by root name (`var`, `local`, `data`, resource types).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    roots: BTreeMap<String, Value>,
}

impl Scope {
    pub fn new() -> Scope {
        Scope::default()
    }

    /// Sets the value of a graph address: `var.x`, `local.y`, `data.server.web`, `image.golden`.
    pub fn set(&mut self, addr: &str, value: Value) {
        let mut parts: Vec<&str> = addr.split('.').collect();
        if parts.len() < 2 {
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

    /// Sets a whole root (`count`, `each`).
    pub fn set_root(&mut self, name: &str, value: Value) {
        self.roots.insert(name.to_string(), value);
    }

    pub fn remove_root(&mut self, name: &str) {
        self.roots.remove(name);
    }

    /// Sets one instance of a block: `key` a number (count) or a string (for_each).
    pub fn set_instance(&mut self, block: &str, key: Option<&Value>, value: Value) {
        let Some(key) = key else {
            self.set(block, value);
            return;
        };
        let mut container = self.get(block).cloned().unwrap_or(Value::Unknown);
        match key {
            Value::Number(n) => {
                let i = n.as_u64().unwrap_or(0) as usize;
                let mut l = match container {
                    Value::List(l) => l,
                    _ => Vec::new(),
                };
                if l.len() <= i {
                    l.resize(i + 1, Value::Unknown);
                }
                l[i] = value;
                container = Value::List(l);
            }
            other => {
                let mut m = match container {
                    Value::Map(m) => m,
                    _ => Map::new(),
                };
                m.insert(other.to_plain_string().unwrap_or_default(), value);
                container = Value::Map(m);
            }
        }
        self.set(block, container);
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

    fn resolve(&self, r: &Reference) -> Resolved<'_> {
        let Some(root) = self.roots.get(&r.root) else {
            return Resolved::Missing(0);
        };
        let mut cur = root;
        for (i, step) in r.path.iter().enumerate() {
            cur = match (cur, step) {
                (Value::Unknown, _) => return Resolved::Value(&Value::Unknown),
                (Value::Map(m), PathStep::Attr(k)) => match m.get(k) {
                    Some(v) => v,
                    None => return Resolved::Missing(i + 1),
                },
                (Value::List(l), PathStep::Index(n)) => match l.get(*n as usize) {
                    Some(v) => v,
                    None => return Resolved::Missing(i + 1),
                },
                (Value::Map(m), PathStep::Index(n)) => match m.get(&n.to_string()) {
                    Some(v) => v,
                    None => return Resolved::Missing(i + 1),
                },
                _ => return Resolved::Missing(i + 1),
            };
        }
        Resolved::Value(cur)
    }
}

enum Resolved<'a> {
    Value(&'a Value),
    /// The step at this index (0 = the root) does not exist.
    Missing(usize),
}

/// Evaluates an expression. Unknown inputs give an unknown result.
pub fn eval(e: &Expr, scope: &Scope) -> Result<Value, Diagnostic> {
    let mut unknown = false;
    for r in &e.refs {
        match scope.resolve(r) {
            Resolved::Value(v) if v.contains_unknown() => unknown = true,
            Resolved::Value(_) => {}
            Resolved::Missing(i) => {
                let shown = Reference {
                    root: r.root.clone(),
                    path: r.path[..i.min(r.path.len())].to_vec(),
                    span: r.span.clone(),
                };
                let msg = if i == 0 {
                    format!("unknown reference \"{}\"", r.root)
                } else {
                    format!(
                        "\"{}\" has no attribute or element \"{}\" (in reference {})",
                        shown.display(),
                        step_name(&r.path[i.min(r.path.len()) - 1..]),
                        r.display()
                    )
                };
                return Err(Diagnostic::error(msg, Some(r.span.clone())));
            }
        }
    }
    if unknown {
        // Refine object literals item by item so known entries stay known.
        if let hcl::Expression::Object(obj) = &e.expr {
            let mut out = Map::new();
            for (k, v) in obj.iter() {
                let key = match k {
                    hcl::ObjectKey::Identifier(i) => i.to_string(),
                    hcl::ObjectKey::Expression(hcl::Expression::String(s)) => s.clone(),
                    _ => return Ok(Value::Unknown),
                };
                let edit: hcl::edit::expr::Expression = v.clone().into();
                let sub = Expr {
                    expr: v.clone(),
                    span: e.span.clone(),
                    refs: refs::collect(&edit, e.span.file)
                        .into_iter()
                        .map(|mut r| {
                            r.span = e.span.clone();
                            r
                        })
                        .collect(),
                };
                out.insert(key, eval(&sub, scope)?);
            }
            return Ok(Value::Map(out));
        }
        return Ok(Value::Unknown);
    }
    let mut ctx = Context::new();
    super::funcs::declare_all(&mut ctx);
    // Declare only what this expression references, keeping contexts small for big configs.
    let mut roots: BTreeMap<&str, Value> = BTreeMap::new();
    for r in &e.refs {
        if let Some(v) = scope.roots.get(&r.root) {
            roots.entry(r.root.as_str()).or_insert_with(|| v.clone());
        }
    }
    for (k, v) in roots {
        ctx.declare_var(k, v.to_hcl());
    }
    match e.expr.evaluate(&ctx) {
        Ok(v) => Ok(Value::from_hcl(&v)),
        Err(err) => Err(Diagnostic::error(
            format!(
                "cannot evaluate expression: {}",
                clean_eval_error(&err.to_string())
            ),
            Some(e.span.clone()),
        )),
    }
}

fn step_name(p: &[PathStep]) -> String {
    match p.first() {
        Some(PathStep::Attr(a)) => a.clone(),
        Some(PathStep::Index(i)) => i.to_string(),
        None => String::new(),
    }
}

fn clean_eval_error(s: &str) -> String {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks (and converts) an evaluated value against a schema type, as HCL's type conversion
/// would: numbers and bools become strings where strings are wanted, numeric strings become
/// numbers. Unknowns pass. Returns the message "expected ..., found ..." on failure.
pub fn conform(v: Value, ty: Ty) -> Result<Value, String> {
    if v.is_unknown() || matches!(v, Value::Null) {
        return Ok(v);
    }
    let found = v.type_name();
    let bad = || Err(format!("expected {}, found {found}", ty.name()));
    match ty {
        Ty::Any => Ok(v),
        Ty::String => match v.to_plain_string() {
            Some(s) => Ok(Value::String(s)),
            None => bad(),
        },
        Ty::Number => match &v {
            Value::Number(_) => Ok(v),
            Value::String(s) => match s.trim().parse::<i64>() {
                Ok(n) => Ok(Value::int(n)),
                Err(_) => match s
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    Some(n) => Ok(Value::Number(n)),
                    None => Err(format!("expected number, found string \"{s}\"")),
                },
            },
            _ => bad(),
        },
        Ty::Bool => match &v {
            Value::Bool(_) => Ok(v),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => bad(),
        },
        Ty::StringMap => match v {
            Value::Map(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    let x = if x.is_unknown() {
                        x
                    } else {
                        match x.to_plain_string() {
                            Some(s) => Value::String(s),
                            None => {
                                return Err(format!(
                                    "expected map of string, found {} at key \"{k}\"",
                                    x.type_name()
                                ));
                            }
                        }
                    };
                    out.insert(k, x);
                }
                Ok(Value::Map(out))
            }
            _ => bad(),
        },
        Ty::StringList => match v {
            Value::List(l) => {
                let mut out = Vec::new();
                for x in l {
                    if x.is_unknown() {
                        out.push(x);
                        continue;
                    }
                    match x.to_plain_string() {
                        Some(s) => out.push(Value::String(s)),
                        None => {
                            return Err(format!(
                                "expected list of string, found an element of type {}",
                                x.type_name()
                            ));
                        }
                    }
                }
                Ok(Value::List(out))
            }
            _ => bad(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Span;

    fn expr(src: &str) -> Expr {
        let e = hcl::edit::parser::parse_expr(src).unwrap();
        Expr {
            expr: e.clone().into(),
            span: Span {
                file: 0,
                range: 0..src.len(),
            },
            refs: refs::collect(&e, 0),
        }
    }

    #[test]
    fn evaluates_known_references() {
        let mut s = Scope::new();
        s.set("var.name", Value::str("web"));
        s.set(
            "image.golden",
            Value::Map([("id".into(), Value::str("abc"))].into()),
        );
        let v = eval(&expr("\"${var.name}-${image.golden.id}\""), &s).unwrap();
        assert_eq!(v, Value::str("web-abc"));
    }

    #[test]
    fn unknown_propagates_but_object_items_stay_known() {
        let mut s = Scope::new();
        s.set(
            "image.golden",
            Value::Map([("id".into(), Value::Unknown)].into()),
        );
        assert_eq!(eval(&expr("image.golden.id"), &s).unwrap(), Value::Unknown);
        let v = eval(&expr("{ a = \"x\", b = image.golden.id }"), &s).unwrap();
        assert_eq!(
            v,
            Value::Map([("a".into(), Value::str("x")), ("b".into(), Value::Unknown)].into())
        );
    }

    #[test]
    fn missing_attribute_is_an_error() {
        let mut s = Scope::new();
        s.set(
            "image.golden",
            Value::Map([("id".into(), Value::str("x"))].into()),
        );
        let e = eval(&expr("image.golden.nope"), &s).unwrap_err();
        assert!(e.message.contains("no attribute"), "{}", e.message);
    }

    #[test]
    fn conform_converts_like_hcl() {
        assert_eq!(
            conform(Value::str("14"), Ty::Number).unwrap(),
            Value::int(14)
        );
        assert_eq!(conform(Value::int(3), Ty::String).unwrap(), Value::str("3"));
        assert!(conform(Value::str("x"), Ty::Number).is_err());
    }
}
