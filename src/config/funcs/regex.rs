//! Configuration functions: regex.

#[allow(unused_imports)]
use super::args::*;

pub(super) fn compile_regex(func: &str, pattern: &str) -> Result<regex_lite::Regex, String> {
    regex_lite::Regex::new(pattern)
        .map_err(|e| format!("{func}: invalid regular expression {pattern:?}: {e}"))
}

/// Terraform's result shape for one match: the whole match when the pattern has no capture
/// groups, a list of the groups when they are unnamed, a map when they are all named.
pub(super) fn match_value(re: &regex_lite::Regex, caps: &regex_lite::Captures<'_>) -> Res {
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

pub(super) fn regex(args: FuncArgs) -> Res {
    let pattern = arg_str("regex", "pattern", &args[0])?;
    let s = arg_str("regex", "string", &args[1])?;
    let re = compile_regex("regex", &pattern)?;
    let caps = re
        .captures(&s)
        .ok_or_else(|| format!("regex: pattern {pattern:?} did not match any part of {s:?}"))?;
    match_value(&re, &caps)
}

pub(super) fn regexall(args: FuncArgs) -> Res {
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
