//! What every function of the library works with: its arguments, its result type, the
//! imports the families share, and helpers that check an argument and say what was expected.

#![allow(unused_imports)]

pub(super) use chrono::{DateTime, Datelike, FixedOffset, Timelike};
pub(super) use hcl::{Map, Number, Value};
pub(super) use std::cmp::Ordering;

pub(super) type Res = Result<Value, String>;

/// The arguments of one call: positional ones first, then the variadic rest.
pub struct FuncArgs {
    pub(super) values: Vec<Value>,
    pub(super) positional: usize,
}

impl std::ops::Deref for FuncArgs {
    type Target = [Value];

    fn deref(&self) -> &[Value] {
        &self.values
    }
}

impl FuncArgs {
    /// The arguments after the positional ones.
    pub fn variadic_args(&self) -> impl Iterator<Item = &Value> {
        self.values[self.positional..].iter()
    }
}

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

/// The name of a value's type, as used in error messages.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

pub(super) fn expected(func: &str, what: &str, ty: &str, got: &Value) -> String {
    format!("{func}: {what} must be {ty}, got {}", type_name(got))
}

/// Converts a primitive to its string form (Terraform's automatic conversion).
pub(super) fn prim_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(super) fn arg_str(func: &str, what: &str, v: &Value) -> Result<String, String> {
    prim_to_string(v).ok_or_else(|| expected(func, what, "a string", v))
}

pub(super) fn parse_number(s: &str) -> Option<Number> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::from(i));
    }
    if let Ok(u) = t.parse::<u64>() {
        return Some(Number::from(u));
    }
    // Rust accepts "inf"/"nan"; Terraform does not, and `from_f64` rejects non-finite values.
    t.parse::<f64>().ok().and_then(Number::from_f64)
}

pub(super) fn arg_num(func: &str, what: &str, v: &Value) -> Result<Number, String> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::String(s) => parse_number(s).ok_or_else(|| {
            format!("{func}: {what} must be a number, got string {s:?} which is not a number")
        }),
        _ => Err(expected(func, what, "a number", v)),
    }
}

pub(super) fn arg_f64(func: &str, what: &str, v: &Value) -> Result<f64, String> {
    Ok(num_f64(&arg_num(func, what, v)?))
}

pub(super) fn num_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

pub(super) fn arg_int(func: &str, what: &str, v: &Value) -> Result<i64, String> {
    let n = arg_num(func, what, v)?;
    n.as_i64()
        .ok_or_else(|| format!("{func}: {what} must be a whole number, got {n}"))
}

pub(super) fn arg_bool(func: &str, what: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(expected(func, what, "a bool", v)),
    }
}

pub(super) fn arg_list<'a>(func: &str, what: &str, v: &'a Value) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| expected(func, what, "a list", v))
}

pub(super) fn arg_map<'a>(
    func: &str,
    what: &str,
    v: &'a Value,
) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| expected(func, what, "a map", v))
}

pub(super) fn num_value(f: f64, func: &str) -> Res {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("{func}: result is not a finite number"))
}

pub(super) fn str_value(s: impl Into<String>) -> Res {
    Ok(Value::String(s.into()))
}
