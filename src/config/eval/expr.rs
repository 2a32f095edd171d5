//! The expression walker: literals, collections, references and traversals (with splats),
//! conditionals, operators and `for` expressions, over `Value` with unknowns and sensitive marks.
//!
//! The shape follows hcl-rs's own evaluator (`hcl::eval`), which cannot represent either:
//! - an unknown input makes the smallest enclosing value unknown (an element, not its list;
//!   a list with unknown elements keeps its length, a map with unknown values its keys);
//! - a sensitive input marks every value computed from it.

use super::scope::Scope;
use super::walk::{R, Walk};
use super::{call, template};
use crate::value::{Map, Value};
use hcl::expr::{BinaryOperator, Expression, ForExpr, ObjectKey, Operation, TraversalOperator};
use std::borrow::Cow;

/// One evaluation: the scope of references plus the variables bound by enclosing `for`s.
pub(super) struct Ev<'s> {
    pub(super) scope: &'s dyn Scope,
    /// `for` variables, innermost last.
    pub(super) frames: Vec<(String, Value)>,
}

impl Walk for Ev<'_> {
    fn expr(&mut self, e: &Expression) -> R {
        Ev::expr(self, e)
    }

    fn frames(&mut self) -> &mut Vec<(String, Value)> {
        &mut self.frames
    }
}

impl Ev<'_> {
    pub(super) fn expr(&mut self, e: &Expression) -> R {
        match e {
            Expression::Null => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b)),
            Expression::Number(n) => Ok(Value::from_hcl(&hcl::Value::Number(*n))),
            Expression::String(s) => Ok(Value::String(s.clone())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for x in items {
                    out.push(self.expr(x)?);
                }
                Ok(Value::List(out))
            }
            Expression::Object(obj) => {
                let mut out = Map::new();
                let mut unknown_key = false;
                let mut marked = false;
                for (k, v) in obj.iter() {
                    let value = self.expr(v)?;
                    match self.object_key(k)? {
                        Key::Known(key, m) => {
                            marked |= m;
                            out.insert(key, value);
                        }
                        Key::Unknown => unknown_key = true,
                    }
                }
                if unknown_key {
                    return Ok(Value::Unknown);
                }
                Ok(Value::marked_if(Value::Map(out), marked))
            }
            Expression::TemplateExpr(t) => template::eval(self, t),
            Expression::Variable(v) => self.traversal(e, v.as_str(), &[]),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => self.traversal(e, v.as_str(), &t.operators),
                other => {
                    let base = self.expr(other)?;
                    self.apply_ops(&base, &t.operators)
                }
            },
            Expression::FuncCall(c) => call::eval(self, c),
            Expression::Parenthesis(inner) => self.expr(inner),
            Expression::Conditional(c) => {
                let (cond, marked) = self.expr(&c.cond_expr)?.unmark();
                let v = match cond {
                    Value::Unknown => Value::Unknown,
                    Value::Bool(true) => self.expr(&c.true_expr)?,
                    Value::Bool(false) => self.expr(&c.false_expr)?,
                    other => {
                        return Err(format!(
                            "the condition of a conditional must be true or false, found {}",
                            other.type_name()
                        ));
                    }
                };
                Ok(Value::marked_if(v, marked))
            }
            Expression::Operation(op) => self.operation(op),
            Expression::ForExpr(f) => self.for_expr(f),
            _ => Err("this kind of expression is not supported".into()),
        }
    }

    fn object_key(&mut self, k: &ObjectKey) -> Result<Key, String> {
        match k {
            ObjectKey::Identifier(id) => Ok(Key::Known(id.to_string(), false)),
            ObjectKey::Expression(e) => {
                let v = self.expr(e)?;
                self.key_of(&v, "an object key")
            }
            _ => Err("unsupported object key".into()),
        }
    }

    /// A value used as a map key: a string, number or bool.
    fn key_of(&self, v: &Value, what: &str) -> Result<Key, String> {
        let marked = v.is_sensitive();
        match v.peel() {
            Value::Unknown => Ok(Key::Unknown),
            p => match p.to_plain_string() {
                Some(s) => Ok(Key::Known(s, marked)),
                None => Err(format!(
                    "{what} must be a string, number or bool, found {}",
                    p.type_name()
                )),
            },
        }
    }

    /// A reference (`var.x`, `image.g[0].id`, a `for` variable) and the traversal after it.
    fn traversal(&mut self, whole: &Expression, root: &str, ops: &[TraversalOperator]) -> R {
        if let Some(v) = self.frames.iter().rev().find(|(n, _)| n == root) {
            let v = v.1.clone();
            return self.apply_ops(&v, ops);
        }
        let names: Vec<&str> = ops
            .iter()
            .map_while(|op| match op {
                TraversalOperator::GetAttr(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        let _ = whole;
        let (value, used) = self.scope.lookup(root, &names)?;
        self.apply_ops(&value, &ops[used..])
    }

    /// Applies traversal operators to a value; stepping into an unknown gives an unknown, and
    /// stepping through a sensitive value marks the result.
    pub(super) fn apply_ops(&mut self, v: &Value, ops: &[TraversalOperator]) -> R {
        let mut cur: Cow<'_, Value> = Cow::Borrowed(v);
        let mut marked = false;
        let mut k = 0;
        while k < ops.len() {
            if cur.is_sensitive() {
                marked = true;
                cur = match cur {
                    Cow::Borrowed(b) => Cow::Borrowed(b.peel()),
                    Cow::Owned(o) => Cow::Owned(o.unmark().0),
                };
            }
            if matches!(*cur, Value::Unknown) {
                return Ok(Value::marked_if(Value::Unknown, marked));
            }
            match &ops[k] {
                TraversalOperator::GetAttr(name) => {
                    cur = step(cur, |v| get_attr(v, name.as_str()))?;
                }
                TraversalOperator::LegacyIndex(i) => {
                    let key = Value::Number((*i).into());
                    cur = step(cur, |v| index(v, &key))?;
                }
                TraversalOperator::Index(e) => {
                    let key = self.expr(e)?;
                    marked |= key.is_sensitive();
                    let key = key.unmark().0;
                    if key.is_unknown() {
                        return Ok(Value::marked_if(Value::Unknown, marked));
                    }
                    cur = step(cur, |v| index(v, &key))?;
                }
                TraversalOperator::AttrSplat | TraversalOperator::FullSplat => {
                    let full = matches!(ops[k], TraversalOperator::FullSplat);
                    // `[*]` applies every following operator to each element; `.*` only the
                    // attribute names right after it.
                    let end = if full {
                        ops.len()
                    } else {
                        k + 1
                            + ops[k + 1..]
                                .iter()
                                .take_while(|o| matches!(o, TraversalOperator::GetAttr(_)))
                                .count()
                    };
                    let rest = &ops[k + 1..end];
                    let list = match cur.as_ref() {
                        Value::List(items) => {
                            let mut out = Vec::with_capacity(items.len());
                            for item in items {
                                out.push(self.apply_ops(item, rest)?);
                            }
                            out
                        }
                        Value::Null => Vec::new(),
                        other => vec![self.apply_ops(other, rest)?],
                    };
                    cur = Cow::Owned(Value::List(list));
                    k = end;
                    continue;
                }
            }
            k += 1;
        }
        Ok(Value::marked_if(cur.into_owned(), marked))
    }

    fn operation(&mut self, op: &Operation) -> R {
        match op {
            Operation::Unary(u) => {
                let (v, marked) = self.expr(&u.expr)?.unmark();
                let out = match (u.operator, v) {
                    (_, Value::Unknown) => Value::Unknown,
                    (hcl::UnaryOperator::Not, Value::Bool(b)) => Value::Bool(!b),
                    (hcl::UnaryOperator::Neg, n @ Value::Number(_)) => number(-hcl_number(&n)?),
                    (o, v) => {
                        return Err(format!(
                            "operator {} cannot be applied to {}",
                            o.as_str(),
                            v.type_name()
                        ));
                    }
                };
                Ok(Value::marked_if(out, marked))
            }
            Operation::Binary(b) => {
                let (l, ml) = self.expr(&b.lhs_expr)?.unmark();
                let (r, mr) = self.expr(&b.rhs_expr)?.unmark();
                Ok(Value::marked_if(binary(l, b.operator, r)?, ml || mr))
            }
        }
    }

    fn for_expr(&mut self, f: &ForExpr) -> R {
        let (coll, marked) = self.expr(&f.collection_expr)?.unmark();
        let pairs: Vec<(Value, Value)> = match coll {
            Value::Unknown => return Ok(Value::marked_if(Value::Unknown, marked)),
            Value::List(l) => l
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::int(i as i64), v))
                .collect(),
            Value::Map(m) => m.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            other => {
                return Err(format!(
                    "a for expression needs a list or map, found {}",
                    other.type_name()
                ));
            }
        };
        let mut list = Vec::new();
        let mut map: Map = Map::new();
        let mut unknown = false;
        for (key, value) in pairs {
            let depth = self.frames.len();
            if let Some(kv) = &f.key_var {
                self.frames.push((kv.to_string(), key));
            }
            self.frames.push((f.value_var.to_string(), value));
            let result = self.for_item(f, &mut list, &mut map, &mut unknown);
            self.frames.truncate(depth);
            result?;
        }
        let out = if unknown {
            Value::Unknown
        } else if f.key_expr.is_some() {
            Value::Map(map)
        } else {
            Value::List(list)
        };
        Ok(Value::marked_if(out, marked))
    }

    fn for_item(
        &mut self,
        f: &ForExpr,
        list: &mut Vec<Value>,
        map: &mut Map,
        unknown: &mut bool,
    ) -> Result<(), String> {
        if let Some(c) = &f.cond_expr {
            match self.expr(c)?.peel() {
                Value::Bool(true) => {}
                Value::Bool(false) => return Ok(()),
                Value::Unknown => {
                    *unknown = true;
                    return Ok(());
                }
                other => {
                    return Err(format!(
                        "the if clause of a for expression must be true or false, found {}",
                        other.type_name()
                    ));
                }
            }
        }
        let value = self.expr(&f.value_expr)?;
        match &f.key_expr {
            None => list.push(value),
            Some(ke) => {
                let k = self.expr(ke)?;
                match self.key_of(&k, "the key of a for expression")? {
                    Key::Unknown => *unknown = true,
                    Key::Known(key, _) if f.grouping => {
                        let entry = map.entry(key).or_insert_with(|| Value::List(Vec::new()));
                        if let Value::List(l) = entry {
                            l.push(value);
                        }
                    }
                    Key::Known(key, _) => {
                        if map.contains_key(&key) {
                            return Err(format!(
                                "duplicate key \"{key}\" in a for expression; use ... after the value to group"
                            ));
                        }
                        map.insert(key, value);
                    }
                }
            }
        }
        Ok(())
    }
}

enum Key {
    Known(String, bool),
    Unknown,
}

fn step<'v>(
    cur: Cow<'v, Value>,
    f: impl Fn(&Value) -> Result<&Value, String>,
) -> Result<Cow<'v, Value>, String> {
    Ok(match cur {
        Cow::Borrowed(b) => Cow::Borrowed(f(b)?),
        Cow::Owned(o) => Cow::Owned(f(&o)?.clone()),
    })
}

fn get_attr<'v>(v: &'v Value, name: &str) -> Result<&'v Value, String> {
    match v {
        Value::Map(m) => m.get(name).ok_or_else(|| {
            let mut names: Vec<&str> = m.keys().map(String::as_str).collect();
            names.truncate(12);
            format!(
                "no attribute or key \"{name}\"{}",
                crate::config::suggest::did_you_mean(name, &names)
            )
        }),
        Value::Null => Err(format!("cannot read \"{name}\" of a null value")),
        other => Err(format!(
            "cannot read attribute \"{name}\" of a {}",
            other.type_name()
        )),
    }
}

fn index<'v>(v: &'v Value, key: &Value) -> Result<&'v Value, String> {
    match (v, key) {
        (Value::List(l), k) => {
            let i = k
                .as_i64()
                .or_else(|| k.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    format!(
                        "a list index must be a whole number, found {}",
                        k.type_name()
                    )
                })?;
            usize::try_from(i)
                .ok()
                .and_then(|i| l.get(i))
                .ok_or_else(|| {
                    format!(
                        "index {i} is out of range for a list of {} elements",
                        l.len()
                    )
                })
        }
        (Value::Map(m), k) => {
            let key = k
                .to_plain_string()
                .ok_or_else(|| format!("a map key must be a string, found {}", k.type_name()))?;
            m.get(&key)
                .ok_or_else(|| format!("no element with key \"{key}\""))
        }
        (Value::Null, _) => Err("cannot index a null value".into()),
        (other, _) => Err(format!("cannot index a {}", other.type_name())),
    }
}

pub(super) fn hcl_number(v: &Value) -> Result<hcl::Number, String> {
    match v.to_hcl() {
        hcl::Value::Number(n) => Ok(n),
        _ => Err(format!("expected a number, found {}", v.type_name())),
    }
}

pub(super) fn number(n: hcl::Number) -> Value {
    Value::from_hcl(&hcl::Value::Number(n))
}

fn binary(l: Value, op: BinaryOperator, r: Value) -> R {
    use BinaryOperator::*;
    // `false && x` and `true || x` are known whatever x is.
    match (&l, op, &r) {
        (Value::Bool(false), And, _) | (_, And, Value::Bool(false)) => {
            return Ok(Value::Bool(false));
        }
        (Value::Bool(true), Or, _) | (_, Or, Value::Bool(true)) => return Ok(Value::Bool(true)),
        _ => {}
    }
    if l.contains_unknown() || r.contains_unknown() {
        return Ok(Value::Unknown);
    }
    let bad = || {
        Err(format!(
            "operator {} cannot be applied to {} and {}",
            op.as_str(),
            l.type_name(),
            r.type_name()
        ))
    };
    Ok(match op {
        Eq => Value::Bool(l.unmarked().to_hcl() == r.unmarked().to_hcl()),
        NotEq => Value::Bool(l.unmarked().to_hcl() != r.unmarked().to_hcl()),
        And | Or => match (&l, &r) {
            (Value::Bool(a), Value::Bool(b)) => {
                Value::Bool(if op == And { *a && *b } else { *a || *b })
            }
            _ => return bad(),
        },
        _ => {
            let (Value::Number(_), Value::Number(_)) = (&l, &r) else {
                return bad();
            };
            let (a, b) = (hcl_number(&l)?, hcl_number(&r)?);
            match op {
                Less => Value::Bool(a < b),
                LessEq => Value::Bool(a <= b),
                Greater => Value::Bool(a > b),
                GreaterEq => Value::Bool(a >= b),
                Plus => number(a + b),
                Minus => number(a - b),
                Mul => number(a * b),
                Div | Mod if b.as_f64() == Some(0.0) => {
                    return Err("division by zero".into());
                }
                Div => number(a / b),
                Mod => number(a % b),
                _ => return bad(),
            }
        }
    })
}
