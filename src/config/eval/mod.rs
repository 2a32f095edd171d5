//! The pure evaluator: expressions + a [`Scope`] of known (or unknown, or sensitive) values →
//! [`Value`].
//!
//! The walker is our own (`expr.rs`, `template.rs`, `call.rs`), because `hcl::eval` knows
//! neither unknown values nor sensitive marks; the function library is shared with it in shape
//! (`config::funcs`). References are resolved through the `Scope` trait, which the graph's
//! evaluator implements lazily (`graph::Evaluator`), so evaluating one expression reads exactly
//! the values it refers to.

mod call;
mod expr;
mod scope;
mod template;
mod walk;

pub use scope::{Empty, Scope, Values, names_in_target};

use super::diag::Diagnostic;
use super::model::Expr;
use super::schema::Ty;
use crate::value::{Map, PathStep, Value};

/// Evaluates an expression. Unknown inputs give unknown results; sensitive inputs marked ones.
pub fn eval(e: &Expr, scope: &dyn Scope) -> Result<Value, Diagnostic> {
    eval_raw(&e.expr, scope).map_err(|m| Diagnostic::error(m, Some(e.span.clone())))
}

/// Evaluates an `hcl::Expression` that has no location (variable files, `--var` values, tests).
pub fn eval_raw(e: &hcl::Expression, scope: &dyn Scope) -> Result<Value, String> {
    let mut ev = expr::Ev {
        scope,
        frames: Vec::new(),
    };
    ev.expr(e)
}

/// Follows a static path into a value (for references shown in messages).
pub fn walk<'v>(v: &'v Value, path: &[PathStep]) -> Option<&'v Value> {
    v.get_path(path)
}

/// Checks (and converts) an evaluated value against a schema type, as HCL's type conversion
/// would: numbers and bools become strings where strings are wanted, numeric strings become
/// numbers. Unknowns pass. Returns the message "expected ..., found ..." on failure.
pub fn conform(v: Value, ty: Ty) -> Result<Value, String> {
    // A mark survives conversion, on the value and on each element.
    if let Value::Sensitive(inner) = v {
        return conform(*inner, ty).map(Value::sensitive);
    }
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
                    let (x, marked) = x.unmark();
                    let x = if x.is_unknown() {
                        x
                    } else {
                        match x.to_plain_string() {
                            Some(s) => Value::marked_if(Value::String(s), marked),
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
                    let (x, marked) = x.unmark();
                    if x.is_unknown() {
                        out.push(x);
                        continue;
                    }
                    match x.to_plain_string() {
                        Some(s) => out.push(Value::marked_if(Value::String(s), marked)),
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
mod tests;
