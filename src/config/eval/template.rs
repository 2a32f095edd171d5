//! String templates (`"golden-${var.name}"`, heredocs, `%{ if }` / `%{ for }` directives), with
//! the whitespace-strip markers (`~`) as hcl-rs implements them. An unknown part makes the string
//! unknown; a sensitive part marks it.

use super::walk::{R, Walk};
use crate::value::Value;
use hcl::expr::TemplateExpr;
use hcl::template::{Directive, Element, Strip, Template};

pub(super) fn eval(ev: &mut dyn Walk, t: &TemplateExpr) -> R {
    let template = Template::from_expr(t).map_err(|e| format!("invalid template: {e}"))?;
    // A template that is a single interpolation yields the value itself, not a string
    // (HCL's "interpolation unwrapping").
    if let [Element::Interpolation(i)] = template.elements() {
        return ev.expr(&i.expr);
    }
    let mut out = Out::default();
    render(ev, &template, &mut out, Strip::None, Strip::None)?;
    let v = if out.unknown {
        Value::Unknown
    } else {
        Value::String(out.text)
    };
    Ok(Value::marked_if(v, out.marked))
}

#[derive(Default)]
struct Out {
    text: String,
    unknown: bool,
    marked: bool,
}

fn strip_of(e: &Element) -> Strip {
    match e {
        Element::Literal(_) => Strip::None,
        Element::Interpolation(i) => i.strip,
        Element::Directive(d) => {
            let (start, end) = match &**d {
                Directive::If(d) => (d.if_strip, d.endif_strip),
                Directive::For(d) => (d.for_strip, d.endfor_strip),
            };
            Strip::from((start.strip_start(), end.strip_end()))
        }
    }
}

fn render(
    ev: &mut dyn Walk,
    t: &Template,
    out: &mut Out,
    prev_strip: Strip,
    next_strip: Strip,
) -> Result<(), String> {
    let elems = t.elements();
    let n = elems.len();
    for (i, elem) in elems.iter().enumerate() {
        let prev = if i == 0 {
            prev_strip
        } else {
            strip_of(&elems[i - 1])
        };
        let next = if i + 1 == n {
            next_strip
        } else {
            strip_of(&elems[i + 1])
        };
        match elem {
            Element::Literal(l) => out.text.push_str(strip_literal(l, prev, next)),
            Element::Interpolation(interp) => {
                let (v, marked) = ev.expr(&interp.expr)?.unmark();
                out.marked |= marked;
                match v {
                    Value::Unknown => out.unknown = true,
                    Value::Null => {
                        return Err("a template cannot include a null value".into());
                    }
                    Value::List(_) | Value::Map(_) => {
                        return Err(format!(
                            "a template cannot include a {}; use join() or jsonencode()",
                            v.type_name()
                        ));
                    }
                    v if v.contains_unknown() => out.unknown = true,
                    v => out.text.push_str(&v.to_plain_string().unwrap_or_default()),
                }
            }
            Element::Directive(d) => match &**d {
                Directive::If(d) => {
                    let (cond, marked) = ev.expr(&d.cond_expr)?.unmark();
                    out.marked |= marked;
                    match cond {
                        Value::Unknown => out.unknown = true,
                        Value::Bool(true) => {
                            let next = if d.false_template.is_some() {
                                d.else_strip
                            } else {
                                d.endif_strip
                            };
                            render(ev, &d.true_template, out, d.if_strip, next)?;
                        }
                        Value::Bool(false) => {
                            if let Some(f) = &d.false_template {
                                render(ev, f, out, d.else_strip, d.endif_strip)?;
                            }
                        }
                        other => {
                            return Err(format!(
                                "a template if condition must be true or false, found {}",
                                other.type_name()
                            ));
                        }
                    }
                }
                Directive::For(d) => {
                    let (coll, marked) = ev.expr(&d.collection_expr)?.unmark();
                    out.marked |= marked;
                    let pairs: Vec<(Value, Value)> = match coll {
                        Value::Unknown => {
                            out.unknown = true;
                            continue;
                        }
                        Value::List(l) => l
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (Value::int(i as i64), v))
                            .collect(),
                        Value::Map(m) => {
                            m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
                        }
                        other => {
                            return Err(format!(
                                "a template for directive needs a list or map, found {}",
                                other.type_name()
                            ));
                        }
                    };
                    for (k, v) in pairs {
                        let depth = ev.frames().len();
                        if let Some(kv) = &d.key_var {
                            ev.frames().push((kv.to_string(), k));
                        }
                        ev.frames().push((d.value_var.to_string(), v));
                        let r = render(ev, &d.template, out, d.for_strip, d.endfor_strip);
                        ev.frames().truncate(depth);
                        r?;
                    }
                }
            },
        }
    }
    Ok(())
}

/// Strips spaces (and one line break) next to a `~` marker, as hcl-rs does.
fn strip_literal(mut literal: &str, prev: Strip, next: Strip) -> &str {
    fn is_space(ch: char) -> bool {
        ch.is_whitespace() && ch != '\r' && ch != '\n'
    }
    if prev.strip_end() {
        let s = literal.trim_start_matches(is_space);
        literal = s
            .strip_prefix("\r\n")
            .or_else(|| s.strip_prefix('\n'))
            .unwrap_or(s);
    }
    if next.strip_start() {
        let s = literal.trim_end_matches(is_space);
        literal = s
            .strip_suffix("\r\n")
            .or_else(|| s.strip_suffix('\n'))
            .unwrap_or(s);
    }
    literal
}
