//! `data` and `resource` blocks: meta-arguments (`count`, `for_each`, `depends_on`,
//! `provider`, `lifecycle`) and attributes checked against the type's schema.

use super::parse::Loader;
use super::schema::{Schema, Ty};
use super::{Attrs, Lifecycle, ObjectBlock, refs};
use hcl::edit::Span as _;
use hcl::edit::expr::Expression as EditExpr;
use hcl::edit::structure::{Block, Body, Structure};
use std::collections::BTreeMap;

impl Loader<'_> {
    pub(super) fn object(&mut self, b: &Block, is_data: bool) {
        let what = if is_data { "data" } else { "resource" };
        let Some(labels) = self.labels(b, 2, "the type and the name") else {
            return;
        };
        let (kind, name) = (labels[0].clone(), labels[1].clone());
        let schema = if is_data {
            crate::resources::data_schema(&kind)
        } else {
            crate::resources::resource_schema(&kind)
        };
        let Some(schema) = schema else {
            let known = if is_data {
                crate::resources::data_kinds()
            } else {
                crate::resources::resource_kinds()
            };
            let known = known.as_slice();
            self.err(
                b.labels[0].span(),
                format!(
                    "unknown {what} type \"{kind}\"; expected one of {}{}",
                    known.join(", "),
                    super::suggest::did_you_mean(&kind, known)
                ),
            );
            return;
        };
        let addr = if is_data {
            crate::addr::BlockAddr::data(&kind, &name)
        } else {
            crate::addr::BlockAddr::resource(&kind, &name)
        };
        let mut depends_on = Vec::new();
        let mut count = None;
        let mut for_each = None;
        let mut provider = None;
        let mut lifecycle = Lifecycle::default();
        let mut meta = Body::builder();
        // Meta-arguments first, then the schema attributes.
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "depends_on" => {
                    depends_on = refs::collect(&a.value, self.file);
                }
                Structure::Attribute(a) if a.key.as_str() == "count" => {
                    count = Some(self.expr(&a.value));
                }
                Structure::Attribute(a) if a.key.as_str() == "for_each" => {
                    for_each = Some(self.expr(&a.value));
                }
                Structure::Attribute(a) if a.key.as_str() == "provider" => {
                    provider = Some(a.value.to_string().trim().to_string());
                }
                Structure::Block(l) if l.ident.as_str() == "lifecycle" && !is_data => {
                    for a in l.body.attributes() {
                        match a.key.as_str() {
                            "prevent_destroy" => {
                                lifecycle.prevent_destroy =
                                    matches!(&a.value, EditExpr::Bool(b) if *b.value())
                            }
                            "create_before_destroy" => {
                                lifecycle.create_before_destroy =
                                    matches!(&a.value, EditExpr::Bool(b) if *b.value())
                            }
                            "ignore_changes" => {
                                lifecycle.ignore_changes = refs::collect(&a.value, self.file)
                                    .into_iter()
                                    .map(|r| r.display())
                                    .collect()
                            }
                            other => self.err(
                                a.key.span(),
                                format!("unknown lifecycle argument \"{other}\"; expected prevent_destroy, create_before_destroy or ignore_changes"),
                            ),
                        }
                    }
                }
                other => meta = meta.structure(other.clone()),
            }
        }
        if let (Some(_), Some(f)) = (&count, &for_each) {
            self.diags.push(super::Diagnostic::error(
                format!("{what} \"{kind}\" \"{name}\" has both count and for_each; use one"),
                Some(f.span.clone()),
            ));
        }
        let rest = meta.build();
        let attrs = self.attrs_against(&rest, schema, &format!("{what} \"{kind}\" \"{name}\""));
        let mut blocks = BTreeMap::new();
        for inner in rest.blocks() {
            if let Some(nb) = schema.block(inner.ident.as_str()) {
                let nested = Schema {
                    name: nb.name,
                    attrs: nb.attrs,
                    blocks: &[],
                };
                let a = self.attrs_against(&inner.body, &nested, &format!("{} block", nb.name));
                blocks.insert(nb.name.to_string(), a);
            }
        }
        let obj = ObjectBlock {
            addr: addr.clone(),
            kind,
            name,
            attrs,
            blocks,
            depends_on,
            count,
            for_each,
            provider,
            lifecycle,
            span: self.span(b.span()),
            label_span: self.span(b.labels[0].span()),
        };
        let dup = if is_data {
            self.cfg.data.insert(addr.clone(), obj).is_some()
        } else {
            self.cfg.resources.insert(addr.clone(), obj).is_some()
        };
        if dup {
            self.err(b.labels[1].span(), format!("{addr} is declared twice"));
        }
    }

    /// Checks a body's attributes and blocks against a schema; returns the attributes.
    pub(super) fn attrs_against(&mut self, body: &Body, schema: &Schema, ctx: &str) -> Attrs {
        let mut out = Attrs::new();
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    match schema.attr(key) {
                        Some(attr) if attr.computed => self.err(
                            a.key.span(),
                            format!(
                                "\"{key}\" in {ctx} is computed by the cloud and cannot be set"
                            ),
                        ),
                        Some(attr) => {
                            if let Some(msg) = literal_type_error(&a.value, attr.ty) {
                                self.err(
                                    a.value.span(),
                                    format!("{ctx}: \"{key}\" must be {}, {msg}", attr.ty.name()),
                                );
                            }
                            out.insert(key.to_string(), self.attr_def(a));
                        }
                        None => self.err(
                            a.key.span(),
                            format!(
                                "unknown attribute \"{key}\" in {ctx}; expected one of {}{}",
                                schema.writable_names().join(", "),
                                super::suggest::did_you_mean(key, &schema.writable_names())
                            ),
                        ),
                    }
                }
                Structure::Block(inner) => {
                    if schema.block(inner.ident.as_str()).is_none() {
                        let names: Vec<&str> = schema.blocks.iter().map(|b| b.name).collect();
                        self.err(
                            inner.ident.span(),
                            format!(
                                "unknown block \"{}\" in {ctx}{}",
                                inner.ident.as_str(),
                                super::suggest::did_you_mean(inner.ident.as_str(), &names)
                            ),
                        );
                    }
                }
            }
        }
        for attr in schema.attrs.iter().filter(|a| a.required) {
            if !out.contains_key(attr.name) {
                // Point at the block header: the end of the body's first line is not known here.
                let r = body.iter().next().and_then(|s| match s {
                    Structure::Attribute(a) => a.key.span(),
                    Structure::Block(b) => b.ident.span(),
                });
                self.err(
                    r,
                    format!(
                        "{ctx} is missing the required attribute \"{}\" ({})",
                        attr.name,
                        attr.ty.name()
                    ),
                );
            }
        }
        out
    }
}

/// For literal expressions, an early type check ("found number"); non-literals are checked
/// after evaluation.
fn literal_type_error(e: &EditExpr, ty: Ty) -> Option<String> {
    let found = match e {
        EditExpr::Null(_) => return None,
        EditExpr::Bool(_) => "bool",
        EditExpr::Number(_) => "number",
        EditExpr::String(_) | EditExpr::StringTemplate(_) | EditExpr::HeredocTemplate(_) => {
            "string"
        }
        EditExpr::Array(_) => "list",
        EditExpr::Object(_) => "map",
        _ => return None,
    };
    let ok = match ty {
        Ty::String => matches!(found, "string" | "number" | "bool"),
        Ty::Number => found == "number",
        Ty::Bool => found == "bool",
        Ty::StringMap => found == "map",
        Ty::StringList => found == "list",
        Ty::Any => true,
    };
    (!ok).then(|| format!("found {found}"))
}
