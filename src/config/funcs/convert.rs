//! Configuration functions: type conversion and json.

#[allow(unused_imports)]
use super::args::*;
use super::collections::dedup;

pub(super) fn tostring(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::String(prim_to_string(v).ok_or_else(|| {
            expected("tostring", "argument", "a string, number or bool", v)
        })?)),
    }
}

pub(super) fn tonumber(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) => parse_number(s)
            .map(Value::Number)
            .ok_or_else(|| format!("tonumber: cannot convert {s:?} to a number")),
        v => Ok(Value::Number(arg_num("tonumber", "argument", v)?)),
    }
}

pub(super) fn tobool(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) if s != "true" && s != "false" => Err(format!(
            "tobool: cannot convert {s:?} to a bool (only \"true\" and \"false\" can be)"
        )),
        v => Ok(Value::Bool(arg_bool("tobool", "argument", v)?)),
    }
}

/// Unifies element types the way Terraform does for lists, sets and maps: a mix of strings
/// with numbers or bools becomes all strings; any other mix is an error.
pub(super) fn unify<'a, I>(func: &str, elems: I) -> Result<Vec<Value>, String>
where
    I: Iterator<Item = &'a Value> + Clone,
{
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> = elems
            .clone()
            .filter(|v| !v.is_null())
            .map(type_name)
            .collect();
        k.sort_unstable();
        k.dedup();
        k
    };
    if kinds.len() <= 1 {
        return Ok(elems.cloned().collect());
    }
    if kinds
        .iter()
        .all(|k| matches!(*k, "string" | "number" | "bool"))
    {
        return Ok(elems
            .map(|v| prim_to_string(v).map_or(Value::Null, Value::String))
            .collect());
    }
    Err(format!(
        "{func}: all elements must have the same type, got a mix of {}",
        kinds.join(", ")
    ))
}

pub(super) fn tolist(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::Array(unify(
            "tolist",
            arg_list("tolist", "argument", v)?.iter(),
        )?)),
    }
}

pub(super) fn toset(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => {
            let list = unify("toset", arg_list("toset", "argument", v)?.iter())?;
            Ok(Value::Array(dedup(&list)))
        }
    }
}

pub(super) fn tomap(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => {
            let m = arg_map("tomap", "argument", v)?;
            let vals = unify("tomap", m.values())?;
            Ok(Value::Object(m.keys().cloned().zip(vals).collect()))
        }
    }
}

pub(super) fn to_json(v: &Value) -> Result<serde_json::Value, String> {
    Ok(match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                serde_json::Value::from(i)
            } else if let Some(u) = n.as_u64() {
                serde_json::Value::from(u)
            } else {
                serde_json::Number::from_f64(num_f64(n))
                    .map(serde_json::Value::Number)
                    .ok_or_else(|| format!("number {n} cannot be represented in JSON"))?
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Array(a) => {
            serde_json::Value::Array(a.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Value::Object(o) => serde_json::Value::Object(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

pub(super) fn from_json(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::Array(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
    }
}

pub(super) fn jsonencode(args: FuncArgs) -> Res {
    let json = to_json(&args[0]).map_err(|e| format!("jsonencode: {e}"))?;
    str_value(json.to_string())
}

pub(super) fn jsondecode(args: FuncArgs) -> Res {
    let s = arg_str("jsondecode", "argument", &args[0])?;
    let json: serde_json::Value =
        serde_json::from_str(&s).map_err(|e| format!("jsondecode: invalid JSON: {e}"))?;
    Ok(from_json(json))
}
