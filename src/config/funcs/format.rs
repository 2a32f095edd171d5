//! Configuration functions: format.

#[allow(unused_imports)]
use super::args::*;
use super::convert::to_json;

#[derive(Default)]
pub(super) struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

pub(super) fn format(args: FuncArgs) -> Res {
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
pub(super) fn format_one(
    verb: char,
    spec: &Spec,
    val: &Value,
    pos: usize,
) -> Result<String, String> {
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
pub(super) fn go_exp(mag: f64, p: usize) -> String {
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
pub(super) fn pad(spec: &Spec, body: String, numeric: bool) -> String {
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
