//! Function calls: unknown arguments and sensitive marks are handled here, so the function
//! library only ever sees known, unmarked values.
//!
//! A call with an unknown argument is unknown, except where the answer does not depend on the
//! unknown part: `length` of a list whose elements are unknown, `keys` of a map whose values
//! are, `merge`/`concat`/`values`/`lookup`/`element`/`tolist`/`tomap`/`zipmap`/`flatten` of
//! known containers. A sensitive argument marks the result.

use super::walk::{R, Walk};
use crate::config::funcs;
use crate::value::{Map, Value};
use hcl::expr::FuncCall;

pub(super) fn eval(ev: &mut dyn Walk, c: &FuncCall) -> R {
    let name = c.name.name.as_str();
    if c.name.is_namespaced() || !funcs::exists(name) {
        return Err(format!(
            "there is no function named \"{}\"{}",
            c.name,
            crate::config::suggest::did_you_mean(name, funcs::names())
        ));
    }
    let mut args = Vec::with_capacity(c.args.len());
    for (i, a) in c.args.iter().enumerate() {
        let v = ev.expr(a)?;
        if c.expand_final && i + 1 == c.args.len() {
            let (v, marked) = v.unmark();
            match v {
                Value::List(items) => {
                    args.extend(items.into_iter().map(|x| Value::marked_if(x, marked)))
                }
                Value::Unknown => return Ok(Value::marked_if(Value::Unknown, marked)),
                other => {
                    return Err(format!(
                        "{name}: the argument before ... must be a list, found {}",
                        other.type_name()
                    ));
                }
            }
        } else {
            args.push(v);
        }
    }
    let marked = args.iter().any(Value::contains_sensitive);
    let args: Vec<Value> = if marked {
        args.iter().map(Value::unmarked).collect()
    } else {
        args
    };
    let out = if args.iter().any(Value::contains_unknown) {
        refine(name, &args).unwrap_or(Value::Unknown)
    } else {
        let hcl_args = args.iter().map(Value::to_hcl).collect();
        Value::from_hcl(&funcs::call(name, hcl_args)?)
    };
    Ok(Value::marked_if(out, marked))
}

/// The result of a call whose arguments hold unknowns, where it is known anyway; `None` means
/// unknown.
fn refine(name: &str, args: &[Value]) -> Option<Value> {
    let known = |v: &Value| !matches!(v, Value::Unknown);
    match (name, args) {
        ("length", [Value::List(l)]) => Some(Value::int(l.len() as i64)),
        ("length", [Value::Map(m)]) => Some(Value::int(m.len() as i64)),
        ("keys", [Value::Map(m)]) => Some(Value::List(
            m.keys().map(|k| Value::String(k.clone())).collect(),
        )),
        ("values", [Value::Map(m)]) => Some(Value::List(m.values().cloned().collect())),
        ("tolist", [v @ Value::List(_)]) | ("tomap", [v @ Value::Map(_)]) => Some(v.clone()),
        ("merge", args)
            if args
                .iter()
                .all(|a| matches!(a, Value::Map(_) | Value::Null)) =>
        {
            let mut out = Map::new();
            for a in args {
                if let Value::Map(m) = a {
                    out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
            Some(Value::Map(out))
        }
        ("concat", args) if args.iter().all(|a| matches!(a, Value::List(_))) => Some(Value::List(
            args.iter()
                .flat_map(|a| a.as_list().unwrap_or(&[]).iter().cloned())
                .collect(),
        )),
        ("lookup", [Value::Map(m), k, rest @ ..]) if !k.contains_unknown() => {
            let key = k.to_plain_string()?;
            match (m.get(&key), rest) {
                (Some(v), _) => Some(v.clone()),
                (None, [default]) => Some(default.clone()),
                (None, _) => None,
            }
        }
        ("element", [Value::List(l), i]) if !l.is_empty() && !i.contains_unknown() => {
            let i = i.as_i64()?;
            let n = l.len() as i64;
            Some(l[i.rem_euclid(n) as usize].clone())
        }
        ("zipmap", [Value::List(keys), Value::List(vals)])
            if keys.iter().all(|k| !k.contains_unknown()) && keys.len() == vals.len() =>
        {
            let mut out = Map::new();
            for (k, v) in keys.iter().zip(vals) {
                out.insert(k.to_plain_string()?, v.clone());
            }
            Some(Value::Map(out))
        }
        ("flatten", [v @ Value::List(_)]) => {
            fn flat(v: &Value, out: &mut Vec<Value>) -> Option<()> {
                match v {
                    Value::List(l) => {
                        for x in l {
                            flat(x, out)?;
                        }
                        Some(())
                    }
                    // An unknown element might be a list: the result's length is not known.
                    Value::Unknown => None,
                    other => {
                        out.push(other.clone());
                        Some(())
                    }
                }
            }
            let mut out = Vec::new();
            flat(v, &mut out)?;
            Some(Value::List(out))
        }
        ("coalesce", args) => {
            // The first non-null, non-empty argument, if every one before it is known.
            for a in args {
                if !known(a) {
                    return None;
                }
                if !matches!(a, Value::Null) && a.as_str() != Some("") {
                    return Some(a.clone());
                }
            }
            None
        }
        _ => None,
    }
}
