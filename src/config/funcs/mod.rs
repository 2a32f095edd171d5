//! The function library that configuration expressions can call (Terraform-compatible subset).
//!
//! Every function is a [`FuncDef`]: a plain function over `hcl::Value` arguments plus its arity.
//! The functions check their own arguments so that error messages can say which argument was
//! wrong, what was expected and what was found (`substr: length must be a number, got string`).
//! Unknown and sensitive arguments never reach them: the evaluator (`config::eval::call`) deals
//! with those first. Primitive arguments are converted the way
//! Terraform converts them: numbers and bools are accepted where a string is expected, and
//! strings such as `"3"` or `"true"` where a number or bool is expected.
//!
//! Nothing here does I/O: functions like `file` belong to a layer that may touch the disk.

use std::cmp::Ordering;

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use hcl::{Map, Number, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

mod strings;
use strings::*;
mod format;
use format::*;
mod date;
use date::*;
mod regex;
use regex::*;
mod collections;
use collections::*;
mod convert;
use convert::*;
mod numbers;
use numbers::*;

type Res = Result<Value, String>;

/// The arguments of one call: positional ones first, then the variadic rest.
pub struct FuncArgs {
    values: Vec<Value>,
    positional: usize,
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

pub type Func = fn(FuncArgs) -> Res;

/// One function: its implementation and how many arguments it takes.
pub struct FuncDef {
    func: Func,
    params: usize,
    variadic: bool,
}

fn table() -> &'static BTreeMap<&'static str, FuncDef> {
    static TABLE: OnceLock<BTreeMap<&'static str, FuncDef>> = OnceLock::new();
    TABLE.get_or_init(|| defs().into_iter().collect())
}

/// True when `name` is a function of the library.
pub fn exists(name: &str) -> bool {
    table().contains_key(name)
}

/// Calls `name` with fully known, unmarked arguments.
pub fn call(name: &str, args: Vec<Value>) -> Res {
    let Some(def) = table().get(name) else {
        return Err(format!("there is no function named \"{name}\""));
    };
    let n = args.len();
    if n < def.params || (!def.variadic && n > def.params) {
        let want = if def.variadic {
            format!("at least {}", def.params)
        } else {
            def.params.to_string()
        };
        return Err(format!(
            "{name}: expected {want} argument{}, found {n}",
            if def.params == 1 && !def.variadic {
                ""
            } else {
                "s"
            }
        ));
    }
    (def.func)(FuncArgs {
        values: args,
        positional: def.params,
    })
}

/// Names of all functions, sorted (for docs and "did you mean" messages).
pub fn names() -> &'static [&'static str] {
    NAMES
}

const NAMES: &[&str] = &[
    "abs",
    "ceil",
    "chomp",
    "coalesce",
    "compact",
    "concat",
    "contains",
    "distinct",
    "element",
    "endswith",
    "flatten",
    "floor",
    "format",
    "formatdate",
    "index",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "lookup",
    "lower",
    "max",
    "merge",
    "min",
    "pow",
    "range",
    "regex",
    "regexall",
    "replace",
    "reverse",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strrev",
    "substr",
    "sum",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "upper",
    "values",
    "zipmap",
];

/// A function taking exactly `n` arguments of any type.
fn fixed(func: Func, params: usize) -> FuncDef {
    FuncDef {
        func,
        params,
        variadic: false,
    }
}

/// A function taking at least `n` arguments of any type.
fn variadic(func: Func, params: usize) -> FuncDef {
    FuncDef {
        func,
        params,
        variadic: true,
    }
}

fn defs() -> Vec<(&'static str, FuncDef)> {
    vec![
        ("abs", fixed(abs, 1)),
        ("ceil", fixed(ceil, 1)),
        ("chomp", fixed(chomp, 1)),
        ("coalesce", variadic(coalesce, 0)),
        ("compact", fixed(compact, 1)),
        ("concat", variadic(concat, 0)),
        ("contains", fixed(contains, 2)),
        ("distinct", fixed(distinct, 1)),
        ("element", fixed(element, 2)),
        ("endswith", fixed(endswith, 2)),
        ("flatten", fixed(flatten, 1)),
        ("floor", fixed(floor, 1)),
        ("format", variadic(format, 1)),
        ("formatdate", fixed(formatdate, 2)),
        ("index", fixed(index, 2)),
        ("join", variadic(join, 1)),
        ("jsondecode", fixed(jsondecode, 1)),
        ("jsonencode", fixed(jsonencode, 1)),
        ("keys", fixed(keys, 1)),
        ("length", fixed(length, 1)),
        ("lookup", variadic(lookup, 2)),
        ("lower", fixed(lower, 1)),
        ("max", variadic(max, 0)),
        ("merge", variadic(merge, 0)),
        ("min", variadic(min, 0)),
        ("pow", fixed(pow, 2)),
        ("range", variadic(range, 0)),
        ("regex", fixed(regex, 2)),
        ("regexall", fixed(regexall, 2)),
        ("replace", fixed(replace, 3)),
        ("reverse", fixed(reverse, 1)),
        ("signum", fixed(signum, 1)),
        ("slice", fixed(slice, 3)),
        ("sort", fixed(sort, 1)),
        ("split", fixed(split, 2)),
        ("startswith", fixed(startswith, 2)),
        ("strrev", fixed(strrev, 1)),
        ("substr", fixed(substr, 3)),
        ("sum", fixed(sum, 1)),
        ("title", fixed(title, 1)),
        ("tobool", fixed(tobool, 1)),
        ("tolist", fixed(tolist, 1)),
        ("tomap", fixed(tomap, 1)),
        ("tonumber", fixed(tonumber, 1)),
        ("toset", fixed(toset, 1)),
        ("tostring", fixed(tostring, 1)),
        ("trim", fixed(trim, 2)),
        ("trimprefix", fixed(trimprefix, 2)),
        ("trimspace", fixed(trimspace, 1)),
        ("trimsuffix", fixed(trimsuffix, 2)),
        ("upper", fixed(upper, 1)),
        ("values", fixed(values, 1)),
        ("zipmap", fixed(zipmap, 2)),
    ]
}

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

/// The name of a value's type, as used in error messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "map",
    }
}

fn expected(func: &str, what: &str, ty: &str, got: &Value) -> String {
    format!("{func}: {what} must be {ty}, got {}", type_name(got))
}

/// Converts a primitive to its string form (Terraform's automatic conversion).
fn prim_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn arg_str(func: &str, what: &str, v: &Value) -> Result<String, String> {
    prim_to_string(v).ok_or_else(|| expected(func, what, "a string", v))
}

fn parse_number(s: &str) -> Option<Number> {
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

fn arg_num(func: &str, what: &str, v: &Value) -> Result<Number, String> {
    match v {
        Value::Number(n) => Ok(*n),
        Value::String(s) => parse_number(s).ok_or_else(|| {
            format!("{func}: {what} must be a number, got string {s:?} which is not a number")
        }),
        _ => Err(expected(func, what, "a number", v)),
    }
}

fn arg_f64(func: &str, what: &str, v: &Value) -> Result<f64, String> {
    Ok(num_f64(&arg_num(func, what, v)?))
}

fn num_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

fn arg_int(func: &str, what: &str, v: &Value) -> Result<i64, String> {
    let n = arg_num(func, what, v)?;
    n.as_i64()
        .ok_or_else(|| format!("{func}: {what} must be a whole number, got {n}"))
}

fn arg_bool(func: &str, what: &str, v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        _ => Err(expected(func, what, "a bool", v)),
    }
}

fn arg_list<'a>(func: &str, what: &str, v: &'a Value) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| expected(func, what, "a list", v))
}

fn arg_map<'a>(func: &str, what: &str, v: &'a Value) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| expected(func, what, "a map", v))
}

fn num_value(f: f64, func: &str) -> Res {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("{func}: result is not a finite number"))
}

fn str_value(s: impl Into<String>) -> Res {
    Ok(Value::String(s.into()))
}

#[cfg(test)]
mod tests;
