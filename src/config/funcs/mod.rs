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

use hcl::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

mod args;
pub use args::FuncArgs;
use args::Res;

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

#[cfg(test)]
mod tests;
