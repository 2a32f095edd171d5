//! Parsing `*.snap.hcl` text into the `Config` model, checking block structure and schemas.
//!
//! Every problem becomes a `Diagnostic` with a span; parsing continues past errors so `validate`
//! can report them all at once.

use super::schema;
use super::{
    AttrDef, Config, Diagnostic, Expr, OutputBlock, ProviderBlock, Sources, Span, VariableBlock,
    refs,
};
use hcl::edit::Span as _;
use hcl::edit::expr::Expression as EditExpr;
use hcl::edit::structure::{Attribute, Block, BlockLabel, Body, Structure};

pub(super) fn load(sources: Sources) -> (Config, Vec<Diagnostic>) {
    let mut cfg = Config {
        sources: sources.clone(),
        ..Config::default()
    };
    let mut diags = Vec::new();
    for (file, src) in sources.files.iter().enumerate() {
        if let Some(body) = parse_recovering(file, &src.text, &mut diags) {
            let mut l = Loader {
                file,
                cfg: &mut cfg,
                diags: &mut diags,
            };
            l.body(&body);
        }
    }
    (cfg, diags)
}

/// Parses a file; an item (block) with a syntax error is reported and blanked out, and the
/// rest parsed again, so every broken block is reported and every sound one still loads.
/// A lexical mistake (an unterminated string) is reported where it begins, not where the
/// parser gave up.
fn parse_recovering(file: usize, text: &str, diags: &mut Vec<Diagnostic>) -> Option<Body> {
    let mut text = text.to_string();
    let items = super::scan::items(&text);
    let mut blanked: Vec<usize> = Vec::new();
    for _ in 0..=items.len() {
        let e = match hcl::edit::parser::parse_body(&text) {
            Ok(body) => return Some(body),
            Err(e) => e,
        };
        let off = e.location().offset();
        let open = |(n, _): &(usize, &super::scan::Item)| !blanked.contains(n);
        // The item holding the error: an unterminated string before it is the likely cause
        // (the parser reads on past it); else the item around the error, or the last one
        // before it.
        let found = items
            .iter()
            .enumerate()
            .filter(open)
            .rev()
            .find(|(_, i)| i.range.start <= off && i.lex_error.is_some())
            .or_else(|| {
                items
                    .iter()
                    .enumerate()
                    .filter(open)
                    .find(|(_, i)| i.range.contains(&off))
            })
            .or_else(|| {
                items
                    .iter()
                    .enumerate()
                    .filter(open)
                    .rev()
                    .find(|(_, i)| i.range.start <= off)
            })
            .or_else(|| items.iter().enumerate().find(open));
        if let Some((n, _)) = found {
            blanked.push(n);
        }
        let item = found.map(|(_, i)| i);
        match item.and_then(|i| i.lex_error.clone()) {
            Some((at, msg)) => diags.push(Diagnostic::at(file, at..at + 1, msg)),
            None => {
                let msg = e.message().lines().next().unwrap_or("syntax error").trim();
                diags.push(Diagnostic::at(
                    file,
                    off..off + 1,
                    format!("syntax error: {msg}"),
                ));
            }
        }
        let item = item?;
        let next = super::scan::blank(&text, item.range.clone());
        if next == text {
            return None;
        }
        text = next;
    }
    None
}

pub(super) struct Loader<'a> {
    pub(super) file: usize,
    pub(super) cfg: &'a mut Config,
    pub(super) diags: &'a mut Vec<Diagnostic>,
}

fn range(s: Option<std::ops::Range<usize>>) -> std::ops::Range<usize> {
    s.unwrap_or(0..0)
}

fn label(l: &BlockLabel) -> &str {
    match l {
        BlockLabel::Ident(i) => i.as_str(),
        BlockLabel::String(s) => s.value().as_str(),
    }
}

impl Loader<'_> {
    pub(super) fn span(&self, r: Option<std::ops::Range<usize>>) -> Span {
        Span {
            file: self.file,
            range: range(r),
        }
    }

    pub(super) fn err(&mut self, r: Option<std::ops::Range<usize>>, msg: impl Into<String>) {
        self.diags.push(Diagnostic::error(msg, Some(self.span(r))));
    }

    pub(super) fn expr(&self, e: &EditExpr) -> Expr {
        Expr {
            expr: hcl::Expression::from(e.clone()),
            span: self.span(e.span()),
            refs: refs::collect(e, self.file),
            funcs: refs::functions(e, self.file),
        }
    }

    pub(super) fn attr_def(&self, a: &Attribute) -> AttrDef {
        AttrDef {
            name: a.key.as_str().to_string(),
            name_span: self.span(a.key.span()),
            value: self.expr(&a.value),
        }
    }

    fn body(&mut self, body: &Body) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) => self.err(
                    a.key.span(),
                    format!(
                        "unexpected attribute \"{}\" at top level; expected a block such as resource, data, variable, locals, output or provider",
                        a.key.as_str()
                    ),
                ),
                Structure::Block(b) => self.block(b),
            }
        }
    }

    pub(super) fn labels(&mut self, b: &Block, want: usize, what: &str) -> Option<Vec<String>> {
        if b.labels.len() != want {
            self.err(
                b.ident.span(),
                format!(
                    "{} block needs {want} label{} ({what}), found {}",
                    b.ident.as_str(),
                    if want == 1 { "" } else { "s" },
                    b.labels.len()
                ),
            );
            return None;
        }
        Some(b.labels.iter().map(|l| label(l).to_string()).collect())
    }

    fn block(&mut self, b: &Block) {
        match b.ident.as_str() {
            "snapform" => self.settings(b),
            "moved" => self.moved(b),
            "removed" => self.removed(b),
            "import" => self.import(b),
            "list" => self.list(b),
            "provider" => self.provider(b),
            "variable" => self.variable(b),
            "locals" => {
                for a in b.body.attributes() {
                    let def = self.attr_def(a);
                    if self.cfg.locals.contains_key(&def.name) {
                        self.err(
                            a.key.span(),
                            format!("local value \"{}\" is defined twice", def.name),
                        );
                    }
                    self.cfg.locals.insert(def.name.clone(), def);
                }
                for inner in b.body.blocks() {
                    self.err(inner.ident.span(), "locals may hold only attributes");
                }
            }
            "data" => self.object(b, true),
            "resource" => self.object(b, false),
            "output" => self.output(b),
            other => {
                const KINDS: &[&str] = &[
                    "snapform", "provider", "variable", "locals", "data", "resource", "output",
                    "moved", "removed", "import", "list",
                ];
                self.err(
                    b.ident.span(),
                    format!(
                        "unknown block type \"{other}\"; expected one of {}{}",
                        KINDS.join(", "),
                        super::suggest::did_you_mean(other, KINDS)
                    ),
                )
            }
        }
    }

    fn settings(&mut self, b: &Block) {
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "required_version" => {
                    match &a.value {
                        EditExpr::String(v) => {
                            self.cfg.required_version =
                                Some((v.value().to_string(), self.span(a.value.span())))
                        }
                        _ => self.err(
                            a.value.span(),
                            "required_version must be a string such as \">= 0.1\"",
                        ),
                    }
                }
                Structure::Block(inner) if inner.ident.as_str() == "backend" => self.backend(inner),
                Structure::Block(inner) if inner.ident.as_str() == "encryption" => {
                    let attrs = self.attrs_against(
                        &inner.body,
                        &super::backend::ENCRYPTION,
                        "encryption",
                    );
                    if self.cfg.encryption.is_some() {
                        self.err(inner.ident.span(), "encryption is configured twice; keep one");
                    }
                    let block = super::BackendBlock {
                        kind: "encryption".into(),
                        attrs,
                        span: self.span(inner.span()),
                    };
                    if let Err(diags) = block.values() {
                        self.diags.extend(diags);
                    }
                    self.cfg.encryption = Some(block);
                }
                Structure::Attribute(a) => self.err(
                    a.key.span(),
                    format!(
                        "unknown attribute \"{}\" in snapform block; expected required_version, a backend block or an encryption block",
                        a.key.as_str()
                    ),
                ),
                Structure::Block(inner) => self.err(
                    inner.ident.span(),
                    format!("unknown block \"{}\" in snapform block", inner.ident.as_str()),
                ),
            }
        }
    }

    /// `backend "KIND" { ... }` inside `snapform`: checked against the backend's schema.
    fn backend(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "the backend kind") else {
            return;
        };
        let Some(schema) = super::backend::schema(&labels[0]) else {
            let kinds = super::backend::BACKEND_KINDS.join(", ");
            let msg = format!("unknown backend \"{}\"; expected one of {kinds}", labels[0]);
            self.err(b.labels[0].span(), msg);
            return;
        };
        let attrs = self.attrs_against(&b.body, schema, &format!("backend \"{}\"", labels[0]));
        if self.cfg.backend.is_some() {
            self.err(
                b.ident.span(),
                "the state backend is configured twice; keep one",
            );
        }
        let block = super::BackendBlock {
            kind: labels[0].clone(),
            attrs,
            span: self.span(b.span()),
        };
        if let Err(diags) = block.values() {
            self.diags.extend(diags);
        }
        self.cfg.backend = Some(block);
    }

    fn provider(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "the provider name") else {
            return;
        };
        let kind = labels[0].clone();
        let Some(schema) = schema::provider(&kind) else {
            self.err(
                b.labels[0].span(),
                format!(
                    "unknown provider \"{kind}\"{}; expected \"rackspace\" or \"openstack\"",
                    super::suggest::did_you_mean(&kind, &["rackspace", "openstack"])
                ),
            );
            return;
        };
        let attrs = self.attrs_against(&b.body, schema, &format!("provider \"{kind}\""));
        let alias = attrs.get("alias").and_then(|a| match &a.value.expr {
            hcl::Expression::String(s) => Some(s.clone()),
            _ => None,
        });
        let p = ProviderBlock {
            kind,
            alias,
            attrs,
            span: self.span(b.span()),
        };
        if self.cfg.providers.iter().any(|q| q.key() == p.key()) {
            self.err(
                b.ident.span(),
                format!(
                    "provider \"{}\" is configured twice; give one an alias",
                    p.key()
                ),
            );
        }
        self.cfg.providers.push(p);
    }

    fn variable(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "the variable name") else {
            return;
        };
        let name = labels[0].clone();
        let mut v = VariableBlock {
            name: name.clone(),
            default: None,
            ty: None,
            description: None,
            sensitive: false,
            validations: Vec::new(),
            span: self.span(b.span()),
        };
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) => match a.key.as_str() {
                    "default" => v.default = Some(self.expr(&a.value)),
                    "type" => v.ty = Some(a.value.to_string().trim().to_string()),
                    "description" => v.description = literal_string(&a.value),
                    "sensitive" => v.sensitive = matches!(&a.value, EditExpr::Bool(b) if *b.value()),
                    "nullable" => {}
                    other => self.err(
                        a.key.span(),
                        format!(
                            "unknown attribute \"{other}\" in variable \"{name}\"{}; expected default, type, description or sensitive",
                            super::suggest::did_you_mean(other, &["default", "type", "description", "sensitive", "nullable"])
                        ),
                    ),
                },
                Structure::Block(inner) if inner.ident.as_str() == "validation" => {
                    if let Some(rule) = self.validation(inner, &name) {
                        v.validations.push(rule);
                    }
                }
                Structure::Block(inner) => self.err(
                    inner.ident.span(),
                    format!("unknown block \"{}\" in variable \"{name}\"", inner.ident.as_str()),
                ),
            }
        }
        if let Some(ty) = &v.ty
            && !matches!(
                ty.as_str(),
                "string"
                    | "number"
                    | "bool"
                    | "any"
                    | "map(string)"
                    | "list(string)"
                    | "set(string)"
            )
            && !ty.starts_with("map(")
            && !ty.starts_with("list(")
            && !ty.starts_with("object(")
        {
            let r = b.body.get_attribute("type").and_then(|a| a.value.span());
            self.err(
                r,
                format!("unknown type constraint \"{ty}\"; expected string, number, bool, map(...) or list(...)"),
            );
        }
        if self.cfg.variables.contains_key(&name) {
            self.err(
                b.ident.span(),
                format!("variable \"{name}\" is declared twice"),
            );
        }
        self.cfg.variables.insert(name, v);
    }

    fn output(&mut self, b: &Block) {
        let Some(labels) = self.labels(b, 1, "the output name") else {
            return;
        };
        let name = labels[0].clone();
        let mut value = None;
        let mut sensitive = false;
        let mut description = None;
        for a in b.body.attributes() {
            match a.key.as_str() {
                "value" => value = Some(self.expr(&a.value)),
                "sensitive" => sensitive = matches!(&a.value, EditExpr::Bool(b) if *b.value()),
                "description" => description = literal_string(&a.value),
                "depends_on" => {}
                other => self.err(
                    a.key.span(),
                    format!(
                        "unknown attribute \"{other}\" in output \"{name}\"{}; expected value, sensitive or description",
                        super::suggest::did_you_mean(other, &["value", "sensitive", "description", "depends_on"])
                    ),
                ),
            }
        }
        let Some(value) = value else {
            self.err(
                b.ident.span(),
                format!("output \"{name}\" is missing the required attribute \"value\""),
            );
            return;
        };
        if self.cfg.outputs.contains_key(&name) {
            self.err(
                b.ident.span(),
                format!("output \"{name}\" is declared twice"),
            );
        }
        self.cfg.outputs.insert(
            name.clone(),
            OutputBlock {
                name,
                value,
                sensitive,
                description,
                span: self.span(b.span()),
            },
        );
    }
}

fn literal_string(e: &EditExpr) -> Option<String> {
    match e {
        EditExpr::String(s) => Some(s.value().to_string()),
        _ => None,
    }
}
