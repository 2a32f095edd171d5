//! Input variable values: defaults, `*.snapvars.hcl` files, `SNAPFORM_VAR_*` and `--var` (later wins).

use super::eval::{self, Scope};
use super::schema::Ty;
use super::{Config, Diagnostic, SourceFile, Sources, Span};
use crate::value::Value;
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
}

/// Resolves every declared variable to a value, or reports what is missing or mistyped.
pub fn resolve(cfg: &Config, inputs: &VarInputs) -> (BTreeMap<String, Value>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut raw: BTreeMap<String, Value> = BTreeMap::new();
    let empty = Scope::new();
    for (name, v) in &cfg.variables {
        if let Some(d) = &v.default {
            match eval::eval(d, &empty) {
                Ok(val) => {
                    raw.insert(name.clone(), val);
                }
                Err(e) => diags.push(e),
            }
        }
    }
    // Var files are HCL bodies of `name = value`.
    let file_sources = Sources::new(inputs.files.clone());
    for (i, f) in inputs.files.iter().enumerate() {
        match hcl::from_str::<hcl::Body>(&f.text) {
            Ok(body) => {
                for a in body.attributes() {
                    let key = a.key.to_string();
                    if !cfg.variables.contains_key(&key) {
                        diags.push(Diagnostic::error(
                            format!("{}: value for undeclared variable \"{key}\"", f.path),
                            None,
                        ));
                        continue;
                    }
                    match hcl::eval::Evaluate::evaluate(&a.expr, &hcl::eval::Context::new()) {
                        Ok(v) => {
                            raw.insert(key, Value::from_hcl(&v));
                        }
                        Err(e) => diags.push(Diagnostic::error(
                            format!("{}: variable \"{key}\": {e}", f.path),
                            None,
                        )),
                    }
                }
            }
            Err(e) => {
                let _ = &file_sources;
                diags.push(Diagnostic::error(
                    format!("{}: {}", f.path, e.to_string().replace('\n', " ")),
                    Some(Span {
                        file: i,
                        range: 0..0,
                    }),
                ))
            }
        }
    }
    for (source, list) in [("environment", &inputs.env), ("--var", &inputs.cli)] {
        for (k, s) in list {
            let Some(decl) = cfg.variables.get(k) else {
                diags.push(Diagnostic::error(
                    format!(
                        "{source}: value for undeclared variable \"{k}\"; declare it with a variable \"{k}\" block"
                    ),
                    None,
                ));
                continue;
            };
            raw.insert(k.clone(), parse_cli_value(s, decl.ty.as_deref()));
        }
    }
    let mut out = BTreeMap::new();
    for (name, decl) in &cfg.variables {
        let Some(v) = raw.remove(name) else {
            diags.push(Diagnostic::error(
                format!(
                    "no value for required variable \"{name}\"; set it with --var {name}=VALUE, SNAPFORM_VAR_{name} or a default"
                ),
                Some(decl.span.clone()),
            ));
            continue;
        };
        let v = match decl.ty.as_deref().and_then(simple_ty) {
            Some(ty) => match eval::conform(v, ty) {
                Ok(v) => v,
                Err(m) => {
                    diags.push(Diagnostic::error(
                        format!("variable \"{name}\": {m}"),
                        Some(decl.span.clone()),
                    ));
                    continue;
                }
            },
            None => v,
        };
        // validation { condition, error_message }
        let mut scope = Scope::new();
        scope.set(&format!("var.{name}"), v.clone());
        for rule in &decl.validations {
            match eval::eval(&rule.condition, &scope) {
                Ok(Value::Bool(true)) | Ok(Value::Unknown) => {}
                Ok(Value::Bool(false)) => diags.push(Diagnostic::error(
                    format!("invalid value for variable \"{name}\": {}", rule.error_message),
                    Some(rule.condition.span.clone()),
                )),
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
        && let Ok(v) = hcl::eval::Evaluate::evaluate(&e, &hcl::eval::Context::new())
    {
        return Value::from_hcl(&v);
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
