//! Input variable values: defaults, `*.snapvars.hcl` files, `SNAPFORM_VAR_*` and `--var` (later
//! wins). A value that does not fit its variable names where it came from:
//! `--var retention=x`, `prod.snapvars.hcl:3:13`, `SNAPFORM_VAR_retention`, or the default.

use super::eval::{self, Empty, Values};
use super::schema::Ty;
use super::{Config, Diagnostic, SourceFile, Sources, Span};
use crate::value::Value;
use hcl::edit::Span as _;
use std::collections::BTreeMap;

/// Raw variable inputs gathered by the CLI, lowest precedence first.
#[derive(Clone, Debug, Default)]
pub struct VarInputs {
    /// Contents of var files (`snapform.auto.snapvars.hcl`, then each `--var-file`).
    pub files: Vec<SourceFile>,
    /// `SNAPFORM_VAR_name=value` environment entries.
    pub env: Vec<(String, String)>,
    /// `--var name=value` flags, in order.
    pub cli: Vec<(String, String)>,
    /// The values come from a saved plan (and this run's inputs for what it does not hold).
    pub saved_plan: bool,
}

/// Where a variable's value came from, for messages about it.
#[derive(Clone, Debug)]
enum Origin {
    Default(Span),
    /// `path:line:column` in a var file.
    File(String),
    Env(String),
    Cli(String),
}

impl Origin {
    fn describe(&self) -> String {
        match self {
            Origin::Default(_) => "its default".into(),
            Origin::File(at) => at.clone(),
            Origin::Env(name) => format!("the environment variable SNAPFORM_VAR_{name}"),
            Origin::Cli(flag) => flag.clone(),
        }
    }

    /// A diagnostic about the value, located where the value was written.
    fn diag(&self, msg: String) -> Diagnostic {
        match self {
            Origin::Default(span) => Diagnostic::error(msg, Some(span.clone())),
            Origin::File(at) => Diagnostic::error(msg, None).located(at.clone()),
            _ => Diagnostic::error(format!("{msg} (from {})", self.describe()), None),
        }
    }
}

/// Resolves every declared variable to a value, or reports what is missing or mistyped.
pub fn resolve(cfg: &Config, inputs: &VarInputs) -> (BTreeMap<String, Value>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut raw: BTreeMap<String, (Value, Origin)> = BTreeMap::new();
    let declared: Vec<&str> = cfg.variables.keys().map(String::as_str).collect();
    let undeclared = |name: &str| {
        format!(
            "value for undeclared variable \"{name}\"{}",
            super::suggest::closest(name, &declared)
                .map(|c| format!("; did you mean \"{c}\"?"))
                .unwrap_or_else(|| format!("; declare it with a variable \"{name}\" block"))
        )
    };
    for (name, v) in &cfg.variables {
        if let Some(d) = &v.default {
            match eval::eval(d, &Empty) {
                Ok(val) => {
                    raw.insert(name.clone(), (val, Origin::Default(d.span.clone())));
                }
                Err(e) => diags.push(e),
            }
        }
    }
    // Var files are HCL bodies of `name = value`.
    let file_sources = Sources::new(inputs.files.clone());
    for (i, f) in inputs.files.iter().enumerate() {
        let at = |offset: usize| {
            let (l, c) = file_sources.line_col(i, offset);
            format!("{}:{l}:{c}", f.path)
        };
        match hcl::edit::parser::parse_body(&f.text) {
            Ok(body) => {
                for a in body.attributes() {
                    let key = a.key.as_str().to_string();
                    let here = at(a.key.span().map_or(0, |r| r.start));
                    if !cfg.variables.contains_key(&key) {
                        diags.push(Diagnostic::error(undeclared(&key), None).located(here));
                        continue;
                    }
                    let value_at = at(a.value.span().map_or(0, |r| r.start));
                    let expr: hcl::Expression = a.value.clone().into();
                    match eval::eval_raw(&expr, &Empty) {
                        Ok(v) => {
                            raw.insert(key, (v, Origin::File(value_at)));
                        }
                        Err(e) => diags.push(
                            Diagnostic::error(format!("variable \"{key}\": {e}"), None)
                                .located(value_at),
                        ),
                    }
                }
            }
            Err(e) => {
                let off = e.location().offset();
                let msg = e.message().lines().next().unwrap_or("syntax error").trim();
                diags
                    .push(Diagnostic::error(format!("syntax error: {msg}"), None).located(at(off)));
            }
        }
    }
    for (list, env) in [(&inputs.env, true), (&inputs.cli, false)] {
        for (k, s) in list {
            let origin = if env {
                Origin::Env(k.clone())
            } else {
                Origin::Cli(format!("--var {k}=..."))
            };
            let Some(decl) = cfg.variables.get(k) else {
                diags.push(origin.diag(undeclared(k)));
                continue;
            };
            let origin = match origin {
                Origin::Cli(_) if !decl.sensitive => Origin::Cli(format!("--var {k}={s}")),
                o => o,
            };
            raw.insert(k.clone(), (parse_cli_value(s, decl.ty.as_deref()), origin));
        }
    }
    let mut out = BTreeMap::new();
    for (name, decl) in &cfg.variables {
        let Some((v, origin)) = raw.remove(name) else {
            let message = if inputs.saved_plan && decl.sensitive {
                format!(
                    "no value for variable \"{name}\": it is sensitive, so the saved plan does not hold it; give it again with -var {name}=VALUE or SNAPFORM_VAR_{name}"
                )
            } else {
                format!(
                    "no value for required variable \"{name}\"; set it with --var {name}=VALUE, SNAPFORM_VAR_{name} or a default"
                )
            };
            diags.push(Diagnostic::error(message, Some(decl.span.clone())));
            continue;
        };
        let v = match decl.ty.as_deref().and_then(simple_ty) {
            Some(ty) => match eval::conform(v.clone(), ty) {
                Ok(v) => v,
                Err(m) => {
                    // Never repeat a sensitive value in a message.
                    let m = if decl.sensitive {
                        format!("expected {}, found {}", ty.name(), v.type_name())
                    } else {
                        m
                    };
                    diags.push(origin.diag(format!("invalid value for variable \"{name}\": {m}")));
                    continue;
                }
            },
            None => v,
        };
        // validation { condition, error_message }
        let mut scope = Values::new();
        scope.set(
            &format!("var.{name}"),
            Value::marked_if(v.clone(), decl.sensitive),
        );
        for rule in &decl.validations {
            match eval::eval(&rule.condition, &scope).map(|r| r.unmark().0) {
                Ok(Value::Bool(true)) | Ok(Value::Unknown) => {}
                Ok(Value::Bool(false)) => diags.push(
                    Diagnostic::error(
                        format!(
                            "invalid value for variable \"{name}\": {} (value from {})",
                            rule.error_message,
                            origin.describe()
                        ),
                        Some(rule.condition.span.clone()),
                    ),
                ),
                Ok(other) => diags.push(Diagnostic::error(
                    format!(
                        "the validation condition of variable \"{name}\" must be true or false, found {}",
                        other.type_name()
                    ),
                    Some(rule.condition.span.clone()),
                )),
                Err(d) => diags.push(d),
            }
        }
        out.insert(name.clone(), v);
    }
    (out, diags)
}

fn simple_ty(t: &str) -> Option<Ty> {
    match t {
        "string" => Some(Ty::String),
        "number" => Some(Ty::Number),
        "bool" => Some(Ty::Bool),
        "map(string)" => Some(Ty::StringMap),
        "list(string)" | "set(string)" => Some(Ty::StringList),
        _ => None,
    }
}

/// A `--var` value: complex types are parsed as HCL; everything else is a string (converted to
/// the declared type later, as Terraform does).
fn parse_cli_value(s: &str, ty: Option<&str>) -> Value {
    let complex = matches!(ty, Some(t) if t.starts_with("map(") || t.starts_with("list(") || t.starts_with("set(") || t.starts_with("object("));
    if complex
        && let Ok(e) = s.parse::<hcl::Expression>()
        && let Ok(v) = eval::eval_raw(&e, &Empty)
    {
        return v;
    }
    Value::String(s.to_string())
}

/// Parses `name=value` (the `--var` syntax).
pub fn parse_assignment(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected NAME=VALUE, found \"{s}\"")),
    }
}
