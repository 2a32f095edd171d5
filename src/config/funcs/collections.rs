//! Configuration functions: collections.

#[allow(unused_imports)]
use super::args::*;

pub(super) fn length(args: FuncArgs) -> Res {
    let n = match &args[0] {
        Value::String(s) => s.chars().count(),
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        other => {
            return Err(expected(
                "length",
                "argument",
                "a string, list or map",
                other,
            ));
        }
    };
    Ok(Value::from(n))
}

pub(super) fn sorted_entries(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

pub(super) fn keys(args: FuncArgs) -> Res {
    let m = arg_map("keys", "argument", &args[0])?;
    Ok(Value::Array(
        sorted_entries(m)
            .into_iter()
            .map(|(k, _)| Value::String(k.clone()))
            .collect(),
    ))
}

pub(super) fn values(args: FuncArgs) -> Res {
    let m = arg_map("values", "argument", &args[0])?;
    Ok(Value::Array(
        sorted_entries(m)
            .into_iter()
            .map(|(_, v)| v.clone())
            .collect(),
    ))
}

pub(super) fn merge(args: FuncArgs) -> Res {
    let mut out = Map::new();
    for (i, arg) in args.iter().enumerate() {
        if arg.is_null() {
            continue;
        }
        let m = arg_map("merge", &format!("argument {}", i + 1), arg)?;
        for (k, v) in m {
            out.insert(k.clone(), v.clone());
        }
    }
    Ok(Value::Object(out))
}

pub(super) fn lookup(args: FuncArgs) -> Res {
    let m = arg_map("lookup", "first argument", &args[0])?;
    let key = arg_str("lookup", "key", &args[1])?;
    if args.len() > 3 {
        return Err(format!(
            "lookup: expected 2 or 3 arguments (map, key, default), got {}",
            args.len()
        ));
    }
    match (m.get(&key), args.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(format!(
            "lookup: key {key:?} not found in map and no default given"
        )),
    }
}

pub(super) fn contains(args: FuncArgs) -> Res {
    let list = arg_list("contains", "first argument", &args[0])?;
    Ok(Value::Bool(list.iter().any(|v| values_equal(v, &args[1]))))
}

pub(super) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_f64(x) == num_f64(y),
        _ => a == b,
    }
}

pub(super) fn index(args: FuncArgs) -> Res {
    let list = arg_list("index", "first argument", &args[0])?;
    list.iter()
        .position(|v| values_equal(v, &args[1]))
        .map(Value::from)
        .ok_or_else(|| format!("index: value {} not found in the list", args[1]))
}

pub(super) fn element(args: FuncArgs) -> Res {
    let list = arg_list("element", "first argument", &args[0])?;
    let i = arg_int("element", "index", &args[1])?;
    if list.is_empty() {
        return Err("element: cannot use element function with an empty list".into());
    }
    if i < 0 {
        return Err(format!("element: index must not be negative, got {i}"));
    }
    Ok(list[(i as u64 % list.len() as u64) as usize].clone())
}

pub(super) fn concat(args: FuncArgs) -> Res {
    let mut out = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        out.extend(
            arg_list("concat", &format!("argument {}", i + 1), arg)?
                .iter()
                .cloned(),
        );
    }
    Ok(Value::Array(out))
}

pub(super) fn dedup(list: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(list.len());
    for v in list {
        if !out.iter().any(|seen| values_equal(seen, v)) {
            out.push(v.clone());
        }
    }
    out
}

pub(super) fn distinct(args: FuncArgs) -> Res {
    Ok(Value::Array(dedup(arg_list(
        "distinct", "argument", &args[0],
    )?)))
}

pub(super) fn reverse(args: FuncArgs) -> Res {
    let list = arg_list("reverse", "argument", &args[0])?;
    Ok(Value::Array(list.iter().rev().cloned().collect()))
}

pub(super) fn flatten(args: FuncArgs) -> Res {
    fn go(list: &[Value], out: &mut Vec<Value>) {
        for v in list {
            match v {
                Value::Array(inner) => go(inner, out),
                other => out.push(other.clone()),
            }
        }
    }
    let mut out = Vec::new();
    go(arg_list("flatten", "argument", &args[0])?, &mut out);
    Ok(Value::Array(out))
}

pub(super) fn compact(args: FuncArgs) -> Res {
    let list = arg_list("compact", "argument", &args[0])?;
    Ok(Value::Array(
        list.iter()
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

pub(super) fn sort(args: FuncArgs) -> Res {
    let list = arg_list("sort", "argument", &args[0])?;
    let mut strs = list
        .iter()
        .enumerate()
        .map(|(i, v)| {
            prim_to_string(v)
                .ok_or_else(|| format!("sort: element {i} must be a string, got {}", type_name(v)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    strs.sort();
    Ok(Value::Array(strs.into_iter().map(Value::String).collect()))
}

pub(super) fn slice(args: FuncArgs) -> Res {
    let list = arg_list("slice", "first argument", &args[0])?;
    let start = arg_int("slice", "start index", &args[1])?;
    let end = arg_int("slice", "end index", &args[2])?;
    let len = list.len() as i64;
    if start < 0 || start > len {
        return Err(format!(
            "slice: start index must be between 0 and {len}, got {start}"
        ));
    }
    if end < start || end > len {
        return Err(format!(
            "slice: end index must be between {start} and {len}, got {end}"
        ));
    }
    Ok(Value::Array(list[start as usize..end as usize].to_vec()))
}

pub(super) fn zipmap(args: FuncArgs) -> Res {
    let keys = arg_list("zipmap", "keys", &args[0])?;
    let vals = arg_list("zipmap", "values", &args[1])?;
    if keys.len() != vals.len() {
        return Err(format!(
            "zipmap: keys and values must have the same length, got {} keys and {} values",
            keys.len(),
            vals.len()
        ));
    }
    let mut out = Map::new();
    for (i, (k, v)) in keys.iter().zip(vals).enumerate() {
        let k = arg_str("zipmap", &format!("key {i}"), k)?;
        out.insert(k, v.clone());
    }
    Ok(Value::Object(out))
}

pub(super) fn coalesce(args: FuncArgs) -> Res {
    if args.is_empty() {
        return Err("coalesce: expected at least one argument, got none".into());
    }
    args.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "coalesce: all arguments are null or empty strings".into())
}
