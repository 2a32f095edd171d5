//! The function library that configuration expressions can call (Terraform-compatible subset).
//!
//! Every function is an [`hcl::eval::FuncDef`] whose parameters are declared as
//! [`ParamType::Any`]; the functions check their own arguments so that error messages can say
//! which argument was wrong, what was expected and what was found
//! (`substr: length must be a number, got string`). Primitive arguments are converted the way
//! Terraform converts them: numbers and bools are accepted where a string is expected, and
//! strings such as `"3"` or `"true"` where a number or bool is expected.
//!
//! Nothing here does I/O: functions like `file` belong to a layer that may touch the disk.

use std::cmp::Ordering;

use chrono::{DateTime, Datelike, FixedOffset, Timelike};
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Number, Value};

type Res = Result<Value, String>;

/// Declares every function of the library in `ctx`.
pub fn declare_all(ctx: &mut Context<'_>) {
    for (name, def) in defs() {
        ctx.declare_func(name, def);
    }
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
fn fixed(f: hcl::eval::Func, n: usize) -> FuncDef {
    FuncDef::new(f, std::iter::repeat_n(ParamType::Any, n))
}

/// A function taking at least `n` arguments of any type.
fn variadic(f: hcl::eval::Func, n: usize) -> FuncDef {
    FuncDef::builder()
        .params(std::iter::repeat_n(ParamType::Any, n))
        .variadic_param(ParamType::Any)
        .build(f)
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

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

fn lower(args: FuncArgs) -> Res {
    str_value(arg_str("lower", "argument", &args[0])?.to_lowercase())
}

fn upper(args: FuncArgs) -> Res {
    str_value(arg_str("upper", "argument", &args[0])?.to_uppercase())
}

fn title(args: FuncArgs) -> Res {
    let s = arg_str("title", "argument", &args[0])?;
    let mut out = String::with_capacity(s.len());
    let mut at_word_start = true;
    for c in s.chars() {
        if at_word_start && c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_word_start = !c.is_alphanumeric();
    }
    str_value(out)
}

fn strrev(args: FuncArgs) -> Res {
    str_value(
        arg_str("strrev", "argument", &args[0])?
            .chars()
            .rev()
            .collect::<String>(),
    )
}

fn trimspace(args: FuncArgs) -> Res {
    str_value(arg_str("trimspace", "argument", &args[0])?.trim())
}

fn chomp(args: FuncArgs) -> Res {
    let s = arg_str("chomp", "argument", &args[0])?;
    str_value(s.trim_end_matches(['\n', '\r']))
}

fn trim(args: FuncArgs) -> Res {
    let s = arg_str("trim", "string", &args[0])?;
    let cutset = arg_str("trim", "cutset", &args[1])?;
    str_value(s.trim_matches(|c| cutset.contains(c)))
}

fn trimprefix(args: FuncArgs) -> Res {
    let s = arg_str("trimprefix", "string", &args[0])?;
    let prefix = arg_str("trimprefix", "prefix", &args[1])?;
    str_value(s.strip_prefix(prefix.as_str()).unwrap_or(&s))
}

fn trimsuffix(args: FuncArgs) -> Res {
    let s = arg_str("trimsuffix", "string", &args[0])?;
    let suffix = arg_str("trimsuffix", "suffix", &args[1])?;
    str_value(s.strip_suffix(suffix.as_str()).unwrap_or(&s))
}

fn startswith(args: FuncArgs) -> Res {
    let s = arg_str("startswith", "string", &args[0])?;
    let prefix = arg_str("startswith", "prefix", &args[1])?;
    Ok(Value::Bool(s.starts_with(&prefix)))
}

fn endswith(args: FuncArgs) -> Res {
    let s = arg_str("endswith", "string", &args[0])?;
    let suffix = arg_str("endswith", "suffix", &args[1])?;
    Ok(Value::Bool(s.ends_with(&suffix)))
}

fn join(args: FuncArgs) -> Res {
    let sep = arg_str("join", "separator", &args[0])?;
    if args.len() < 2 {
        return Err("join: expected at least one list after the separator, got none".into());
    }
    let mut parts = Vec::new();
    for (i, list) in args.variadic_args().enumerate() {
        let what = format!("argument {}", i + 2);
        for (j, elem) in arg_list("join", &what, list)?.iter().enumerate() {
            let part = prim_to_string(elem).ok_or_else(|| {
                format!(
                    "join: element {j} of {what} must be a string, got {}",
                    type_name(elem)
                )
            })?;
            parts.push(part);
        }
    }
    str_value(parts.join(&sep))
}

fn split(args: FuncArgs) -> Res {
    let sep = arg_str("split", "separator", &args[0])?;
    let s = arg_str("split", "string", &args[1])?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep.as_str())
            .map(|p| Value::String(p.to_owned()))
            .collect()
    };
    Ok(Value::Array(parts))
}

fn replace(args: FuncArgs) -> Res {
    let s = arg_str("replace", "string", &args[0])?;
    let search = arg_str("replace", "substring", &args[1])?;
    let repl = arg_str("replace", "replacement", &args[2])?;
    if search.len() >= 2 && search.starts_with('/') && search.ends_with('/') {
        let re = compile_regex("replace", &search[1..search.len() - 1])?;
        return str_value(re.replace_all(&s, repl.as_str()).into_owned());
    }
    if search.is_empty() {
        return Err("replace: substring must not be empty".into());
    }
    str_value(s.replace(&search, &repl))
}

fn substr(args: FuncArgs) -> Res {
    let s = arg_str("substr", "string", &args[0])?;
    let offset = arg_int("substr", "offset", &args[1])?;
    let length = arg_int("substr", "length", &args[2])?;
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let start = if offset < 0 {
        (len + offset).max(0)
    } else {
        offset.min(len)
    };
    let end = if length < 0 {
        len
    } else {
        start.saturating_add(length).min(len)
    };
    str_value(
        chars[start as usize..end as usize]
            .iter()
            .collect::<String>(),
    )
}

// ---------------------------------------------------------------------------------------------
// format
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

fn format(args: FuncArgs) -> Res {
    let fmt = arg_str("format", "format string", &args[0])?;
    let vals: Vec<&Value> = args.variadic_args().collect();
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = fmt.char_indices().peekable();
    while let Some((pos, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                _ => break,
            }
            chars.next();
        }
        let digits = |chars: &mut std::iter::Peekable<std::str::CharIndices>| {
            let mut n: Option<usize> = None;
            while let Some(&(_, d)) = chars.peek() {
                let Some(d) = d.to_digit(10) else { break };
                n = Some(n.unwrap_or(0).saturating_mul(10).saturating_add(d as usize));
                chars.next();
            }
            n
        };
        spec.width = digits(&mut chars);
        if chars.peek().is_some_and(|&(_, c)| c == '.') {
            chars.next();
            spec.precision = Some(digits(&mut chars).unwrap_or(0));
        }
        let Some((_, verb)) = chars.next() else {
            return Err(format!(
                "format: unterminated format verb at offset {pos} of the format string"
            ));
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(val) = vals.get(next) else {
            return Err(format!(
                "format: not enough arguments for \"%{verb}\" at offset {pos}: need argument {} but got {} in total",
                next + 1,
                vals.len()
            ));
        };
        next += 1;
        let body = format_one(verb, &spec, val, pos)?;
        out.push_str(&pad(
            &spec,
            body,
            matches!(verb, 'd' | 'f' | 'e' | 'x' | 'X' | 'o' | 'b'),
        ));
    }
    if next < vals.len() {
        return Err(format!(
            "format: too many arguments; the format string uses {next} but got {}",
            vals.len()
        ));
    }
    str_value(out)
}

/// Formats one value for one verb, without width padding.
fn format_one(verb: char, spec: &Spec, val: &Value, pos: usize) -> Result<String, String> {
    let bad = |what: &str| {
        format!(
            "format: \"%{verb}\" at offset {pos} needs {what}, got {}",
            type_name(val)
        )
    };
    let sign = |neg: bool| {
        if neg {
            "-"
        } else if spec.plus {
            "+"
        } else if spec.space {
            " "
        } else {
            ""
        }
    };
    match verb {
        's' => {
            let s = prim_to_string(val).ok_or_else(|| bad("a string"))?;
            Ok(match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            })
        }
        'q' => {
            let s = prim_to_string(val).ok_or_else(|| bad("a string"))?;
            Ok(serde_json::to_string(&s).unwrap_or_default())
        }
        'v' => Ok(match val {
            Value::String(s) => s.clone(),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => to_json(other)
                .map(|j| j.to_string())
                .map_err(|e| format!("format: {e}"))?,
        }),
        't' => {
            let b = match val {
                Value::Bool(b) => *b,
                Value::String(s) if s == "true" || s == "false" => s == "true",
                _ => return Err(bad("a bool")),
            };
            Ok(b.to_string())
        }
        'd' | 'x' | 'X' | 'o' | 'b' => {
            let n = match val {
                Value::Number(n) => *n,
                Value::String(s) => parse_number(s).ok_or_else(|| bad("a number"))?,
                _ => return Err(bad("a number")),
            };
            let i = n.as_i64().ok_or_else(|| {
                format!("format: \"%{verb}\" at offset {pos} needs a whole number, got {n}")
            })?;
            let mag = i.unsigned_abs();
            let digits = match verb {
                'd' => mag.to_string(),
                'x' => format!("{mag:x}"),
                'X' => format!("{mag:X}"),
                'o' => format!("{mag:o}"),
                _ => format!("{mag:b}"),
            };
            Ok(format!("{}{digits}", sign(i < 0)))
        }
        'f' | 'e' => {
            let n = match val {
                Value::Number(n) => num_f64(n),
                Value::String(s) => num_f64(&parse_number(s).ok_or_else(|| bad("a number"))?),
                _ => return Err(bad("a number")),
            };
            let p = spec.precision.unwrap_or(6);
            let mag = n.abs();
            let digits = if verb == 'f' {
                format!("{mag:.p$}")
            } else {
                go_exp(mag, p)
            };
            Ok(format!(
                "{}{digits}",
                sign(n.is_sign_negative() && n != 0.0)
            ))
        }
        other => Err(format!(
            "format: unsupported verb \"%{other}\" at offset {pos} (supported: %s %q %v %t %d %x %X %o %b %f %e %%)"
        )),
    }
}

/// Formats like Go's `%e`: `1.234500e+03`.
fn go_exp(mag: f64, p: usize) -> String {
    let s = format!("{mag:.p$e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let (esign, edigits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{esign}{edigits:0>2}")
        }
        None => s,
    }
}

/// Pads `body` to the spec's width (counted in characters).
fn pad(spec: &Spec, body: String, numeric: bool) -> String {
    let Some(width) = spec.width else { return body };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        let split = body
            .find(|c: char| !matches!(c, '+' | '-' | ' '))
            .unwrap_or(0);
        let (sign, digits) = body.split_at(split);
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

// ---------------------------------------------------------------------------------------------
// formatdate
// ---------------------------------------------------------------------------------------------

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn formatdate(args: FuncArgs) -> Res {
    let spec = arg_str("formatdate", "format specification", &args[0])?;
    let ts = arg_str("formatdate", "timestamp", &args[1])?;
    let t = DateTime::parse_from_rfc3339(&ts).map_err(|e| {
        format!("formatdate: timestamp must be an RFC 3339 timestamp like \"2006-01-02T15:04:05Z\", got {ts:?} ({e})")
    })?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // `''` is a literal quote; otherwise a quoted literal runs to the next lone quote.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(
                            "formatdate: unterminated quoted literal in format specification"
                                .into(),
                        );
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        out.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&lit) => {
                        out.push(lit);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        date_token(&mut out, &t, c, n)?;
        i += n;
    }
    str_value(out)
}

fn date_token(
    out: &mut String,
    t: &DateTime<FixedOffset>,
    c: char,
    n: usize,
) -> Result<(), String> {
    use std::fmt::Write;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset = t.offset().local_minus_utc();
    let (osign, oabs) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    let (oh, om) = (oabs / 3600, (oabs % 3600) / 60);
    let _ = match (c, n) {
        ('Y', 4) => write!(out, "{:04}", t.year()),
        ('Y', 2) => write!(out, "{:02}", t.year().rem_euclid(100)),
        ('M', 4) => write!(out, "{}", MONTHS[t.month0() as usize]),
        ('M', 3) => write!(out, "{}", &MONTHS[t.month0() as usize][..3]),
        ('M', 2) => write!(out, "{:02}", t.month()),
        ('M', 1) => write!(out, "{}", t.month()),
        ('D', 2) => write!(out, "{:02}", t.day()),
        ('D', 1) => write!(out, "{}", t.day()),
        ('E', 4) => write!(
            out,
            "{}",
            WEEKDAYS[t.weekday().num_days_from_monday() as usize]
        ),
        ('E', 3) => write!(
            out,
            "{}",
            &WEEKDAYS[t.weekday().num_days_from_monday() as usize][..3]
        ),
        ('h', 2) => write!(out, "{:02}", t.hour()),
        ('h', 1) => write!(out, "{}", t.hour()),
        ('H', 2) => write!(out, "{hour12:02}"),
        ('H', 1) => write!(out, "{hour12}"),
        ('A', 2) => write!(out, "{}", if t.hour() < 12 { "AM" } else { "PM" }),
        ('a', 2) => write!(out, "{}", if t.hour() < 12 { "am" } else { "pm" }),
        ('m', 2) => write!(out, "{:02}", t.minute()),
        ('m', 1) => write!(out, "{}", t.minute()),
        ('s', 2) => write!(out, "{:02}", t.second()),
        ('s', 1) => write!(out, "{}", t.second()),
        ('Z', 5) => write!(out, "{osign}{oh:02}:{om:02}"),
        ('Z', 4) => write!(out, "{osign}{oh:02}{om:02}"),
        ('Z', 3) if offset == 0 => write!(out, "UTC"),
        ('Z', 3) => write!(out, "{osign}{oh:02}{om:02}"),
        ('Z', 1) if offset == 0 => write!(out, "Z"),
        ('Z', 1) => write!(out, "{osign}{oh:02}:{om:02}"),
        _ => {
            let seq: String = std::iter::repeat_n(c, n).collect();
            return Err(format!(
                "formatdate: invalid date format sequence {seq:?} in format specification (quote literal letters like 'T')"
            ));
        }
    };
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// regex
// ---------------------------------------------------------------------------------------------

fn compile_regex(func: &str, pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(pattern)
        .map_err(|e| format!("{func}: invalid regular expression {pattern:?}: {e}"))
}

/// Terraform's result shape for one match: the whole match when the pattern has no capture
/// groups, a list of the groups when they are unnamed, a map when they are all named.
fn match_value(re: &regex_lite::Regex, caps: &regex_lite::Captures<'_>) -> Res {
    let groups = re.captures_len() - 1;
    if groups == 0 {
        return str_value(caps.get(0).map_or("", |m| m.as_str()));
    }
    let group = |i: usize| {
        caps.get(i)
            .map_or(Value::Null, |m| Value::String(m.as_str().to_owned()))
    };
    let named: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if named.iter().all(Option::is_some) {
        let map = named
            .iter()
            .enumerate()
            .map(|(i, name)| (name.unwrap_or_default().to_owned(), group(i + 1)))
            .collect();
        Ok(Value::Object(map))
    } else if named.iter().all(Option::is_none) {
        Ok(Value::Array((1..=groups).map(group).collect()))
    } else {
        Err(
            "regex: pattern must use either only named or only unnamed capture groups, not both"
                .into(),
        )
    }
}

fn regex(args: FuncArgs) -> Res {
    let pattern = arg_str("regex", "pattern", &args[0])?;
    let s = arg_str("regex", "string", &args[1])?;
    let re = compile_regex("regex", &pattern)?;
    let caps = re
        .captures(&s)
        .ok_or_else(|| format!("regex: pattern {pattern:?} did not match any part of {s:?}"))?;
    match_value(&re, &caps)
}

fn regexall(args: FuncArgs) -> Res {
    let pattern = arg_str("regexall", "pattern", &args[0])?;
    let s = arg_str("regexall", "string", &args[1])?;
    let re = compile_regex("regexall", &pattern)?;
    let all = re
        .captures_iter(&s)
        .map(|caps| match_value(&re, &caps))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.replacen("regex:", "regexall:", 1))?;
    Ok(Value::Array(all))
}

// ---------------------------------------------------------------------------------------------
// Collections
// ---------------------------------------------------------------------------------------------

fn length(args: FuncArgs) -> Res {
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

fn sorted_entries(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<_> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn keys(args: FuncArgs) -> Res {
    let m = arg_map("keys", "argument", &args[0])?;
    Ok(Value::Array(
        sorted_entries(m)
            .into_iter()
            .map(|(k, _)| Value::String(k.clone()))
            .collect(),
    ))
}

fn values(args: FuncArgs) -> Res {
    let m = arg_map("values", "argument", &args[0])?;
    Ok(Value::Array(
        sorted_entries(m)
            .into_iter()
            .map(|(_, v)| v.clone())
            .collect(),
    ))
}

fn merge(args: FuncArgs) -> Res {
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

fn lookup(args: FuncArgs) -> Res {
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

fn contains(args: FuncArgs) -> Res {
    let list = arg_list("contains", "first argument", &args[0])?;
    Ok(Value::Bool(list.iter().any(|v| values_equal(v, &args[1]))))
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_f64(x) == num_f64(y),
        _ => a == b,
    }
}

fn index(args: FuncArgs) -> Res {
    let list = arg_list("index", "first argument", &args[0])?;
    list.iter()
        .position(|v| values_equal(v, &args[1]))
        .map(Value::from)
        .ok_or_else(|| format!("index: value {} not found in the list", args[1]))
}

fn element(args: FuncArgs) -> Res {
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

fn concat(args: FuncArgs) -> Res {
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

fn dedup(list: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(list.len());
    for v in list {
        if !out.iter().any(|seen| values_equal(seen, v)) {
            out.push(v.clone());
        }
    }
    out
}

fn distinct(args: FuncArgs) -> Res {
    Ok(Value::Array(dedup(arg_list(
        "distinct", "argument", &args[0],
    )?)))
}

fn reverse(args: FuncArgs) -> Res {
    let list = arg_list("reverse", "argument", &args[0])?;
    Ok(Value::Array(list.iter().rev().cloned().collect()))
}

fn flatten(args: FuncArgs) -> Res {
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

fn compact(args: FuncArgs) -> Res {
    let list = arg_list("compact", "argument", &args[0])?;
    Ok(Value::Array(
        list.iter()
            .filter(|v| !v.is_null() && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

fn sort(args: FuncArgs) -> Res {
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

fn slice(args: FuncArgs) -> Res {
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

fn zipmap(args: FuncArgs) -> Res {
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

fn coalesce(args: FuncArgs) -> Res {
    if args.is_empty() {
        return Err("coalesce: expected at least one argument, got none".into());
    }
    args.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "coalesce: all arguments are null or empty strings".into())
}

// ---------------------------------------------------------------------------------------------
// Type conversion and JSON
// ---------------------------------------------------------------------------------------------

fn tostring(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::String(prim_to_string(v).ok_or_else(|| {
            expected("tostring", "argument", "a string, number or bool", v)
        })?)),
    }
}

fn tonumber(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) => parse_number(s)
            .map(Value::Number)
            .ok_or_else(|| format!("tonumber: cannot convert {s:?} to a number")),
        v => Ok(Value::Number(arg_num("tonumber", "argument", v)?)),
    }
}

fn tobool(args: FuncArgs) -> Res {
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
fn unify<'a, I>(func: &str, elems: I) -> Result<Vec<Value>, String>
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

fn tolist(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::Array(unify(
            "tolist",
            arg_list("tolist", "argument", v)?.iter(),
        )?)),
    }
}

fn toset(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => {
            let list = unify("toset", arg_list("toset", "argument", v)?.iter())?;
            Ok(Value::Array(dedup(&list)))
        }
    }
}

fn tomap(args: FuncArgs) -> Res {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => {
            let m = arg_map("tomap", "argument", v)?;
            let vals = unify("tomap", m.values())?;
            Ok(Value::Object(m.keys().cloned().zip(vals).collect()))
        }
    }
}

fn to_json(v: &Value) -> Result<serde_json::Value, String> {
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

fn from_json(v: serde_json::Value) -> Value {
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

fn jsonencode(args: FuncArgs) -> Res {
    let json = to_json(&args[0]).map_err(|e| format!("jsonencode: {e}"))?;
    str_value(json.to_string())
}

fn jsondecode(args: FuncArgs) -> Res {
    let s = arg_str("jsondecode", "argument", &args[0])?;
    let json: serde_json::Value =
        serde_json::from_str(&s).map_err(|e| format!("jsondecode: invalid JSON: {e}"))?;
    Ok(from_json(json))
}

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

fn abs(args: FuncArgs) -> Res {
    num_value(arg_f64("abs", "argument", &args[0])?.abs(), "abs")
}

fn ceil(args: FuncArgs) -> Res {
    num_value(arg_f64("ceil", "argument", &args[0])?.ceil(), "ceil")
}

fn floor(args: FuncArgs) -> Res {
    num_value(arg_f64("floor", "argument", &args[0])?.floor(), "floor")
}

fn signum(args: FuncArgs) -> Res {
    let n = arg_f64("signum", "argument", &args[0])?;
    let s = match n.partial_cmp(&0.0) {
        Some(Ordering::Less) => -1,
        Some(Ordering::Greater) => 1,
        _ => 0,
    };
    Ok(Value::from(s))
}

fn pow(args: FuncArgs) -> Res {
    let base = arg_f64("pow", "base", &args[0])?;
    let exp = arg_f64("pow", "exponent", &args[1])?;
    num_value(base.powf(exp), "pow")
}

fn numbers(func: &str, args: &[Value]) -> Result<Vec<(Number, f64)>, String> {
    if args.is_empty() {
        return Err(format!("{func}: expected at least one number, got none"));
    }
    args.iter()
        .enumerate()
        .map(|(i, v)| {
            let n = arg_num(func, &format!("argument {}", i + 1), v)?;
            let f = num_f64(&n);
            Ok((n, f))
        })
        .collect()
}

fn min(args: FuncArgs) -> Res {
    let nums = numbers("min", &args)?;
    let best = nums
        .into_iter()
        .reduce(|a, b| if b.1 < a.1 { b } else { a })
        .map(|(n, _)| n);
    Ok(best.map_or(Value::Null, Value::Number))
}

fn max(args: FuncArgs) -> Res {
    let nums = numbers("max", &args)?;
    let best = nums
        .into_iter()
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
        .map(|(n, _)| n);
    Ok(best.map_or(Value::Null, Value::Number))
}

fn sum(args: FuncArgs) -> Res {
    let list = arg_list("sum", "argument", &args[0])?;
    if list.is_empty() {
        return Err("sum: cannot sum an empty list".into());
    }
    let mut total = 0.0;
    for (i, v) in list.iter().enumerate() {
        total += arg_f64("sum", &format!("element {i}"), v)?;
    }
    num_value(total, "sum")
}

/// Terraform's limit on the number of elements `range` may produce.
const RANGE_MAX: usize = 1024;

fn range(args: FuncArgs) -> Res {
    let nums: Vec<f64> = args
        .iter()
        .enumerate()
        .map(|(i, v)| arg_f64("range", &format!("argument {}", i + 1), v))
        .collect::<Result<_, _>>()?;
    let (start, limit, step) = match nums[..] {
        [limit] => (0.0, limit, 1.0),
        [start, limit] => (start, limit, if start > limit { -1.0 } else { 1.0 }),
        [start, limit, step] => (start, limit, step),
        _ => {
            return Err(format!(
                "range: expected 1 to 3 arguments (start, limit, step), got {}",
                nums.len()
            ));
        }
    };
    if step == 0.0 {
        return Err("range: step must not be zero".into());
    }
    if start < limit && step < 0.0 {
        return Err(format!(
            "range: step must be positive when start is less than limit, got {step}"
        ));
    }
    if start > limit && step > 0.0 {
        return Err(format!(
            "range: step must be negative when start is greater than limit, got {step}"
        ));
    }
    let mut out = Vec::new();
    let mut i = 0.0;
    loop {
        let v = start + step * i;
        if (step > 0.0 && v >= limit) || (step < 0.0 && v <= limit) {
            break;
        }
        if out.len() == RANGE_MAX {
            return Err(format!(
                "range: more than {RANGE_MAX} elements would be produced"
            ));
        }
        out.push(num_value(v, "range")?);
        i += 1.0;
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(src: &str) -> Result<Value, String> {
        let expr: hcl::Expression = src.parse().map_err(|e: hcl::Error| e.to_string())?;
        let mut ctx = Context::new();
        declare_all(&mut ctx);
        expr.evaluate(&ctx).map_err(|e| e.to_string())
    }

    #[track_caller]
    fn ok(src: &str) -> Value {
        eval(src).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    #[track_caller]
    fn s(src: &str) -> String {
        match ok(src) {
            Value::String(s) => s,
            other => panic!("{src}: expected a string, got {other:?}"),
        }
    }

    #[track_caller]
    fn json(src: &str) -> String {
        to_json(&ok(src)).unwrap().to_string()
    }

    #[track_caller]
    fn err(src: &str, needle: &str) {
        match eval(src) {
            Ok(v) => panic!("{src}: expected an error containing {needle:?}, got {v:?}"),
            Err(e) => assert!(e.contains(needle), "{src}: error {e:?} lacks {needle:?}"),
        }
    }

    #[test]
    fn names_are_sorted_and_match_defs() {
        let mut sorted = names().to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, names());
        let declared: Vec<&str> = defs().iter().map(|(n, _)| *n).collect();
        assert_eq!(declared, names());
    }

    /// Every `` `call` → `result` `` example in docs/functions.md evaluates as documented.
    #[test]
    fn docs_examples_hold() {
        let docs = include_str!("../../docs/functions.md");
        let mut checked = 0;
        for line in docs
            .lines()
            .filter(|l| l.starts_with("| `") && l.contains(" → "))
        {
            let cell = line
                .trim_end_matches('|')
                .rsplit(" | ")
                .next()
                .unwrap()
                .trim();
            let (call, result) = cell.split_once(" → ").unwrap();
            let unquote = |s: &str| s.trim().trim_matches('`').to_owned();
            let (call, result) = (unquote(call), unquote(result));
            assert_eq!(ok(&call), ok(&result), "docs example {call}");
            checked += 1;
        }
        assert!(
            checked >= names().len(),
            "only {checked} doc examples found"
        );
        for name in names() {
            assert!(
                docs.contains(&format!("| `{name}(")),
                "{name} is not documented"
            );
        }
    }

    #[test]
    fn format_verbs() {
        assert_eq!(s(r#"format("Hello, %s!", "Ander")"#), "Hello, Ander!");
        assert_eq!(s(r#"format("%d items", 3)"#), "3 items");
        assert_eq!(s(r#"format("[%5d]", 42)"#), "[   42]");
        assert_eq!(s(r#"format("[%-5d]", 42)"#), "[42   ]");
        assert_eq!(s(r#"format("[%05d]", -42)"#), "[-0042]");
        assert_eq!(s(r#"format("%+d", 7)"#), "+7");
        assert_eq!(s(r#"format("%.2f", 3.14159)"#), "3.14");
        assert_eq!(s(r#"format("%8.3f|", 2.5)"#), "   2.500|");
        assert_eq!(s(r#"format("%f", 1)"#), "1.000000");
        assert_eq!(s(r#"format("%e", 1234.5)"#), "1.234500e+03");
        assert_eq!(s(r#"format("%v %v %v", "a", 1.5, true)"#), "a 1.5 true");
        assert_eq!(s(r#"format("%v", [1, "b"])"#), r#"[1,"b"]"#);
        assert_eq!(s(r#"format("%q", "say \"hi\"")"#), r#""say \"hi\"""#);
        assert_eq!(s(r#"format("100%%")"#), "100%");
        assert_eq!(
            s(r#"format("%x %X %o %b", 255, 255, 8, 5)"#),
            "ff FF 10 101"
        );
        assert_eq!(s(r#"format("%t", true)"#), "true");
        assert_eq!(s(r#"format("%.3s|%-4s|", "abcdef", "é")"#), "abc|é   |");
        assert_eq!(s(r#"format("%s", 12)"#), "12");
        assert_eq!(s(r#"format("%d", "12")"#), "12");
    }

    #[test]
    fn format_errors() {
        err(r#"format("%d %d", 1)"#, "format: not enough arguments");
        err(r#"format("%d", 1, 2)"#, "format: too many arguments");
        err(r#"format("%d", 1.5)"#, "needs a whole number, got 1.5");
        err(r#"format("%d", "x")"#, "needs a number, got string");
        err(r#"format("%s", [1])"#, "needs a string, got list");
        err(r#"format("%y", 1)"#, "unsupported verb");
        err(r#"format("50%")"#, "unterminated");
        err("format()", "expected 1 positional arguments, got 0");
    }

    #[test]
    fn case_and_trim() {
        assert_eq!(s(r#"lower("HeLLo")"#), "hello");
        assert_eq!(s(r#"upper("héllo")"#), "HÉLLO");
        assert_eq!(s(r#"title("hello big-world")"#), "Hello Big-World");
        assert_eq!(s(r#"strrev("abé")"#), "éba");
        assert_eq!(s("trimspace(\"  a b \\n\")"), "a b");
        assert_eq!(s("chomp(\"line\\r\\n\\n\")"), "line");
        assert_eq!(s(r#"trim("?!hello?!", "!?")"#), "hello");
        assert_eq!(s(r#"trimprefix("helloworld", "hello")"#), "world");
        assert_eq!(s(r#"trimprefix("helloworld", "x")"#), "helloworld");
        assert_eq!(s(r#"trimsuffix("helloworld", "world")"#), "hello");
        assert_eq!(ok(r#"startswith("hello", "he")"#), Value::Bool(true));
        assert_eq!(ok(r#"startswith("hello", "lo")"#), Value::Bool(false));
        assert_eq!(ok(r#"endswith("hello", "lo")"#), Value::Bool(true));
        assert_eq!(ok(r#"endswith("hello", "he")"#), Value::Bool(false));
        err("lower([])", "lower: argument must be a string, got list");
        err("upper(null)", "upper: argument must be a string, got null");
        err(
            r#"startswith("a", {})"#,
            "startswith: prefix must be a string, got map",
        );
    }

    #[test]
    fn join_and_split() {
        assert_eq!(s(r#"join(", ", ["a", "b", "c"])"#), "a, b, c");
        assert_eq!(s(r#"join("-", ["a"], [1, true])"#), "a-1-true");
        assert_eq!(s(r#"join("-", [])"#), "");
        assert_eq!(json(r#"split(",", "a,b,,c")"#), r#"["a","b","","c"]"#);
        assert_eq!(json(r#"split(",", "")"#), r#"[""]"#);
        assert_eq!(json(r#"split("", "ab")"#), r#"["a","b"]"#);
        err(
            r#"join(",", "abc")"#,
            "join: argument 2 must be a list, got string",
        );
        err(
            r#"join(",", [[1]])"#,
            "join: element 0 of argument 2 must be a string, got list",
        );
        err(r#"join(",")"#, "join: expected at least one list");
        err(
            r#"split(",", ["a"])"#,
            "split: string must be a string, got list",
        );
    }

    #[test]
    fn replace_plain_and_regex() {
        assert_eq!(s(r#"replace("1 + 2 + 3", "+", "-")"#), "1 - 2 - 3");
        assert_eq!(
            s(r#"replace("hello world", "/w.*d/", "there")"#),
            "hello there"
        );
        assert_eq!(s(r#"replace("a1b22", "/([0-9]+)/", "<$1>")"#), "a<1>b<22>");
        assert_eq!(s(r#"replace("a/b", "/", "_")"#), "a_b");
        err(
            r#"replace("x", "/(/", "y")"#,
            "replace: invalid regular expression",
        );
        err(
            r#"replace("x", "", "y")"#,
            "replace: substring must not be empty",
        );
    }

    #[test]
    fn substr_semantics() {
        assert_eq!(s(r#"substr("hello world", 1, 4)"#), "ello");
        assert_eq!(s(r#"substr("hello world", 6, -1)"#), "world");
        assert_eq!(s(r#"substr("hello world", -5, 3)"#), "wor");
        assert_eq!(s(r#"substr("héllo", 1, 2)"#), "él");
        assert_eq!(s(r#"substr("abc", 10, 2)"#), "");
        assert_eq!(s(r#"substr("abc", -10, 2)"#), "ab");
        assert_eq!(s(r#"substr("abc", "1", "1")"#), "b");
        err(
            r#"substr("abc", 0, [])"#,
            "substr: length must be a number, got list",
        );
        err(
            r#"substr("abc", 0, "x")"#,
            "substr: length must be a number, got string",
        );
        err(
            r#"substr("abc", 0.5, 1)"#,
            "substr: offset must be a whole number, got 0.5",
        );
        err(
            r#"substr("abc", 1)"#,
            "expected 3 positional arguments, got 2",
        );
    }

    #[test]
    fn formatdate_spec() {
        let ts = r#""2018-01-02T23:12:01Z""#;
        let fd = |spec: &str| s(&format!("formatdate({spec:?}, {ts})"));
        assert_eq!(fd("DD MMM YYYY hh:mm ZZZ"), "02 Jan 2018 23:12 UTC");
        assert_eq!(
            fd("EEEE, DD-MMM-YY hh:mm:ss ZZZ"),
            "Tuesday, 02-Jan-18 23:12:01 UTC"
        );
        assert_eq!(fd("MMM DD, YYYY"), "Jan 02, 2018");
        assert_eq!(fd("HH:mmaa"), "11:12pm");
        assert_eq!(fd("H:m:s AA"), "11:12:1 PM");
        assert_eq!(fd("MMMM D, EEE"), "January 2, Tue");
        assert_eq!(fd("M/D h"), "1/2 23");
        assert_eq!(fd("YYYY-MM-DD'T'hh:mm:ssZ"), "2018-01-02T23:12:01Z");
        assert_eq!(fd("'o''clock' ''"), "o'clock '");
        assert_eq!(fd("ZZZZ ZZZZZ"), "+0000 +00:00");
        assert_eq!(
            s(r#"formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")"#),
            "Tue, 02 Jan 2018 23:12:01 -0800"
        );
        assert_eq!(
            s(r#"formatdate("Z|ZZZZZ", "2018-01-02T03:04:05+05:30")"#),
            "+05:30|+05:30"
        );
        assert_eq!(
            s(r#"formatdate("hh HH aa", "2018-01-02T00:04:05Z")"#),
            "00 12 am"
        );
    }

    #[test]
    fn formatdate_errors() {
        err(
            r#"formatdate("YYYY", "2018-01-02")"#,
            "formatdate: timestamp must be an RFC 3339",
        );
        err(
            r#"formatdate("YYY", "2018-01-02T00:00:00Z")"#,
            "invalid date format sequence \"YYY\"",
        );
        err(
            r#"formatdate("T", "2018-01-02T00:00:00Z")"#,
            "invalid date format sequence \"T\"",
        );
        err(
            r#"formatdate("'abc", "2018-01-02T00:00:00Z")"#,
            "unterminated quoted literal",
        );
        err(
            r#"formatdate(1, [])"#,
            "formatdate: timestamp must be a string, got list",
        );
    }

    #[test]
    fn regex_functions() {
        assert_eq!(
            s(r#"regex("[a-z]+", "53453453.345345aaabbbccc23454")"#),
            "aaabbbccc"
        );
        assert_eq!(
            json(r#"regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01")"#),
            r#"["2019","02","01"]"#
        );
        assert_eq!(
            json(r#"regex("^(?P<user>[^@]+)@(?P<domain>.+)$", "me@example.com")"#),
            r#"{"user":"me","domain":"example.com"}"#
        );
        assert_eq!(json(r#"regex("a(x)?b", "ab")"#), "[null]");
        assert_eq!(
            json(r#"regexall("[a-z]+", "1234abcd5678efgh9")"#),
            r#"["abcd","efgh"]"#
        );
        assert_eq!(json(r#"regexall("(\\d)x", "1x2x")"#), r#"[["1"],["2"]]"#);
        assert_eq!(json(r#"regexall("z", "abc")"#), "[]");
        err(r#"regex("z", "abc")"#, "regex: pattern \"z\" did not match");
        err(r#"regex("(", "abc")"#, "regex: invalid regular expression");
        err(
            r#"regex("(?P<a>x)(y)", "xy")"#,
            "either only named or only unnamed",
        );
        err(
            r#"regexall("(?P<a>x)(y)", "xy")"#,
            "regexall: pattern must use",
        );
    }

    #[test]
    fn length_keys_values() {
        assert_eq!(ok(r#"length("héllo")"#), Value::from(5));
        assert_eq!(ok("length([1, 2, 3])"), Value::from(3));
        assert_eq!(ok("length({a = 1})"), Value::from(1));
        assert_eq!(json("keys({b = 1, a = 2, c = 3})"), r#"["a","b","c"]"#);
        assert_eq!(json("values({b = 1, a = 2, c = 3})"), "[2,1,3]");
        err(
            "length(5)",
            "length: argument must be a string, list or map, got number",
        );
        err("keys([1])", "keys: argument must be a map, got list");
        err(
            r#"values("x")"#,
            "values: argument must be a map, got string",
        );
    }

    #[test]
    fn merge_lookup_zipmap() {
        assert_eq!(
            json(r#"merge({a = 1, b = 2}, {b = 3, c = 4}, null)"#),
            r#"{"a":1,"b":3,"c":4}"#
        );
        assert_eq!(json("merge()"), "{}");
        assert_eq!(ok(r#"lookup({a = "x"}, "a")"#), Value::from("x"));
        assert_eq!(ok(r#"lookup({a = "x"}, "b", "dflt")"#), Value::from("dflt"));
        assert_eq!(json(r#"zipmap(["a", "b"], [1, 2])"#), r#"{"a":1,"b":2}"#);
        err(
            r#"merge({a = 1}, [1])"#,
            "merge: argument 2 must be a map, got list",
        );
        err(r#"lookup({a = "x"}, "b")"#, "lookup: key \"b\" not found");
        err(
            r#"lookup({}, "b", 1, 2)"#,
            "lookup: expected 2 or 3 arguments",
        );
        err(
            r#"lookup([], "b")"#,
            "lookup: first argument must be a map, got list",
        );
        err(
            r#"zipmap(["a"], [])"#,
            "zipmap: keys and values must have the same length",
        );
    }

    #[test]
    fn list_functions() {
        assert_eq!(ok(r#"contains(["a", "b"], "b")"#), Value::Bool(true));
        assert_eq!(ok(r#"contains(["a", "b"], "c")"#), Value::Bool(false));
        assert_eq!(ok("contains([1, 2.0], 2)"), Value::Bool(true));
        assert_eq!(json(r#"concat(["a"], [], ["b", "c"])"#), r#"["a","b","c"]"#);
        assert_eq!(
            json(r#"distinct(["a", "b", "a", "c", "b"])"#),
            r#"["a","b","c"]"#
        );
        assert_eq!(json("reverse([1, 2, 3])"), "[3,2,1]");
        assert_eq!(json("flatten([[1, [2]], [], 3])"), "[1,2,3]");
        assert_eq!(json(r#"compact(["a", "", null, "b"])"#), r#"["a","b"]"#);
        assert_eq!(ok(r#"element(["a", "b"], 3)"#), Value::from("b"));
        assert_eq!(ok(r#"index(["a", "b"], "b")"#), Value::from(1));
        assert_eq!(json(r#"sort(["c", "a", "b"])"#), r#"["a","b","c"]"#);
        assert_eq!(json(r#"slice(["a", "b", "c", "d"], 1, 3)"#), r#"["b","c"]"#);
        err(
            r#"contains("abc", "a")"#,
            "contains: first argument must be a list, got string",
        );
        err(
            r#"concat([1], "x")"#,
            "concat: argument 2 must be a list, got string",
        );
        err("distinct({})", "distinct: argument must be a list, got map");
        err("element([], 0)", "empty list");
        err(r#"index(["a"], "z")"#, "index: value \"z\" not found");
        err("sort([[1]])", "sort: element 0 must be a string, got list");
        err(
            "slice([1, 2], 1, 5)",
            "slice: end index must be between 1 and 2, got 5",
        );
    }

    #[test]
    fn coalesce_values() {
        assert_eq!(ok(r#"coalesce(null, "", "b", "c")"#), Value::from("b"));
        assert_eq!(ok("coalesce(null, 1)"), Value::from(1));
        err(
            r#"coalesce(null, "")"#,
            "coalesce: all arguments are null or empty strings",
        );
        err("coalesce()", "coalesce: expected at least one argument");
    }

    #[test]
    fn conversions() {
        assert_eq!(ok("tostring(12)"), Value::from("12"));
        assert_eq!(ok("tostring(true)"), Value::from("true"));
        assert_eq!(ok("tostring(null)"), Value::Null);
        assert_eq!(ok(r#"tonumber("1.5")"#), ok("1.5"));
        assert_eq!(ok(r#"tonumber("-3")"#), Value::from(-3));
        assert_eq!(ok("tonumber(4)"), Value::from(4));
        assert_eq!(ok(r#"tobool("true")"#), Value::Bool(true));
        assert_eq!(ok("tobool(false)"), Value::Bool(false));
        assert_eq!(json(r#"toset(["b", "a", "b"])"#), r#"["b","a"]"#);
        assert_eq!(json(r#"toset(["a", 1, "1"])"#), r#"["a","1"]"#);
        assert_eq!(json(r#"tolist(["a", true])"#), r#"["a","true"]"#);
        assert_eq!(json(r#"tomap({a = 1, b = "x"})"#), r#"{"a":"1","b":"x"}"#);
        assert_eq!(json("tomap({a = 1, b = 2})"), r#"{"a":1,"b":2}"#);
        err(
            "tostring([1])",
            "tostring: argument must be a string, number or bool, got list",
        );
        err(
            r#"tonumber("abc")"#,
            "tonumber: cannot convert \"abc\" to a number",
        );
        err(
            "tonumber(true)",
            "tonumber: argument must be a number, got bool",
        );
        err(
            r#"tobool("yes")"#,
            "tobool: cannot convert \"yes\" to a bool",
        );
        err("tobool(1)", "tobool: argument must be a bool, got number");
        err(
            r#"tolist({a = 1})"#,
            "tolist: argument must be a list, got map",
        );
        err(
            r#"tolist(["a", [1]])"#,
            "tolist: all elements must have the same type",
        );
        err("tomap([1])", "tomap: argument must be a map, got list");
    }

    #[test]
    fn json_roundtrip() {
        assert_eq!(
            s(r#"jsonencode({a = [1, 2.5, true, null], b = "x"})"#),
            r#"{"a":[1,2.5,true,null],"b":"x"}"#
        );
        assert_eq!(
            json(r#"jsondecode("{\"b\": [1, 2.5, \"x\"], \"a\": null}")"#),
            r#"{"b":[1,2.5,"x"],"a":null}"#
        );
        assert_eq!(ok(r#"jsondecode("42")"#), Value::from(42));
        assert_eq!(ok(r#"jsondecode(jsonencode("x\ny"))"#), Value::from("x\ny"));
        err(r#"jsondecode("{")"#, "jsondecode: invalid JSON");
        err(
            "jsondecode([])",
            "jsondecode: argument must be a string, got list",
        );
    }

    #[test]
    fn numeric_functions() {
        assert_eq!(ok("abs(-3)"), Value::from(3));
        assert_eq!(ok("abs(-1.5)"), ok("1.5"));
        assert_eq!(ok("ceil(1.2)"), Value::from(2));
        assert_eq!(ok("floor(-1.2)"), Value::from(-2));
        assert_eq!(ok("min(3, 1, 2)"), Value::from(1));
        assert_eq!(ok("max(3, 1.5, 2)"), Value::from(3));
        assert_eq!(ok("max([4, 9]...)"), Value::from(9));
        assert_eq!(ok("sum([1, 2, 3.5])"), ok("6.5"));
        assert_eq!(ok("signum(-7)"), Value::from(-1));
        assert_eq!(ok("pow(2, 10)"), Value::from(1024));
        assert_eq!(json("range(3)"), "[0,1,2]");
        assert_eq!(json("range(1, 4)"), "[1,2,3]");
        assert_eq!(json("range(4, 1)"), "[4,3,2]");
        assert_eq!(json("range(0, 1, 0.25)"), "[0,0.25,0.5,0.75]");
        assert_eq!(json("range(0)"), "[]");
        err(r#"abs("x")"#, "abs: argument must be a number, got string");
        err("ceil([])", "ceil: argument must be a number, got list");
        err("min()", "min: expected at least one number");
        err(
            r#"max(1, [])"#,
            "max: argument 2 must be a number, got list",
        );
        err("sum([])", "sum: cannot sum an empty list");
        err("range(0, 5, 0)", "range: step must not be zero");
        err("range(0, 5, -1)", "range: step must be positive");
        err("range(0, 5000)", "range: more than 1024 elements");
        err("range()", "range: expected 1 to 3 arguments");
    }
}
