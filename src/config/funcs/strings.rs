//! Configuration functions: strings.

#[allow(unused_imports)]
use super::args::*;
use super::regex::compile_regex;

pub(super) fn lower(args: FuncArgs) -> Res {
    str_value(arg_str("lower", "argument", &args[0])?.to_lowercase())
}

pub(super) fn upper(args: FuncArgs) -> Res {
    str_value(arg_str("upper", "argument", &args[0])?.to_uppercase())
}

pub(super) fn title(args: FuncArgs) -> Res {
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

pub(super) fn strrev(args: FuncArgs) -> Res {
    str_value(
        arg_str("strrev", "argument", &args[0])?
            .chars()
            .rev()
            .collect::<String>(),
    )
}

pub(super) fn trimspace(args: FuncArgs) -> Res {
    str_value(arg_str("trimspace", "argument", &args[0])?.trim())
}

pub(super) fn chomp(args: FuncArgs) -> Res {
    let s = arg_str("chomp", "argument", &args[0])?;
    str_value(s.trim_end_matches(['\n', '\r']))
}

pub(super) fn trim(args: FuncArgs) -> Res {
    let s = arg_str("trim", "string", &args[0])?;
    let cutset = arg_str("trim", "cutset", &args[1])?;
    str_value(s.trim_matches(|c| cutset.contains(c)))
}

pub(super) fn trimprefix(args: FuncArgs) -> Res {
    let s = arg_str("trimprefix", "string", &args[0])?;
    let prefix = arg_str("trimprefix", "prefix", &args[1])?;
    str_value(s.strip_prefix(prefix.as_str()).unwrap_or(&s))
}

pub(super) fn trimsuffix(args: FuncArgs) -> Res {
    let s = arg_str("trimsuffix", "string", &args[0])?;
    let suffix = arg_str("trimsuffix", "suffix", &args[1])?;
    str_value(s.strip_suffix(suffix.as_str()).unwrap_or(&s))
}

pub(super) fn startswith(args: FuncArgs) -> Res {
    let s = arg_str("startswith", "string", &args[0])?;
    let prefix = arg_str("startswith", "prefix", &args[1])?;
    Ok(Value::Bool(s.starts_with(&prefix)))
}

pub(super) fn endswith(args: FuncArgs) -> Res {
    let s = arg_str("endswith", "string", &args[0])?;
    let suffix = arg_str("endswith", "suffix", &args[1])?;
    Ok(Value::Bool(s.ends_with(&suffix)))
}

pub(super) fn join(args: FuncArgs) -> Res {
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

pub(super) fn split(args: FuncArgs) -> Res {
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

pub(super) fn replace(args: FuncArgs) -> Res {
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

pub(super) fn substr(args: FuncArgs) -> Res {
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
