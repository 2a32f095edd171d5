//! The blocks that steer state rather than declare objects: `moved`, `removed`, `import`, and
//! variable `validation` rules.

use super::parse::Loader;
use super::{ImportBlock, ListBlock, MovedBlock, RemovedBlock, Validation};
use crate::addr::Target;
use hcl::edit::Span as _;
use hcl::edit::expr::{Expression as EditExpr, TraversalOperator};
use hcl::edit::structure::{Block, Structure};

/// A resource address written as an expression: `image.a`, `image.a[0]`, `image.a["web"]`.
pub fn static_address(e: &EditExpr) -> Option<String> {
    let EditExpr::Traversal(t) = e else {
        return None;
    };
    let EditExpr::Variable(root) = &t.expr else {
        return None;
    };
    let mut out = root.as_str().to_string();
    let mut names = 0;
    for op in &t.operators {
        match op.value() {
            TraversalOperator::GetAttr(id) if names == 0 => {
                out.push('.');
                out.push_str(id.as_str());
                names += 1;
            }
            TraversalOperator::Index(EditExpr::Number(n)) if names == 1 => {
                out.push_str(&format!("[{}]", n.value().as_u64()?));
                names += 1;
            }
            TraversalOperator::Index(EditExpr::String(s)) if names == 1 => {
                out.push_str(&format!(
                    "[{}]",
                    serde_json::Value::String(s.value().to_string())
                ));
                names += 1;
            }
            TraversalOperator::LegacyIndex(i) if names == 1 => {
                out.push_str(&format!("[{}]", i.value()));
                names += 1;
            }
            _ => return None,
        }
    }
    (names >= 1 && crate::resources::resource(root.as_str()).is_some()).then_some(out)
}

impl Loader<'_> {
    fn address_attr(&mut self, b: &Block, key: &str, what: &str) -> Option<Target> {
        let Some(a) = b.body.get_attribute(key) else {
            self.err(
                b.ident.span(),
                format!("{what} block is missing \"{key}\" (a resource address such as image.old)"),
            );
            return None;
        };
        let addr = static_address(&a.value).and_then(|s| s.parse::<Target>().ok());
        if addr.is_none() {
            self.err(
                a.value.span(),
                format!(
                    "\"{key}\" must be a resource address such as image.old or image.nightly[\"web\"], found {}",
                    a.value.to_string().trim()
                ),
            );
        }
        addr
    }

    fn only(&mut self, b: &Block, allowed: &[&str], blocks: &[&str], what: &str) {
        for s in b.body.iter() {
            match s {
                Structure::Attribute(a) if !allowed.contains(&a.key.as_str()) => self.err(
                    a.key.span(),
                    format!(
                        "unknown attribute \"{}\" in {what} block; expected {}",
                        a.key.as_str(),
                        allowed.join(" and ")
                    ),
                ),
                Structure::Block(i) if !blocks.contains(&i.ident.as_str()) => self.err(
                    i.ident.span(),
                    format!("unknown block \"{}\" in {what} block", i.ident.as_str()),
                ),
                _ => {}
            }
        }
    }

    pub(super) fn moved(&mut self, b: &Block) {
        self.only(b, &["from", "to"], &[], "moved");
        let from = self.address_attr(b, "from", "moved");
        let to = self.address_attr(b, "to", "moved");
        if let (Some(from), Some(to)) = (from, to) {
            let span = self.span(b.span());
            if from.block().kind != to.block().kind {
                self.err(
                    b.ident.span(),
                    format!("moved from {from} to {to}: both must be of the same resource type"),
                );
                return;
            }
            self.cfg.moved.push(MovedBlock { from, to, span });
        }
    }

    pub(super) fn removed(&mut self, b: &Block) {
        self.only(b, &["from"], &["lifecycle"], "removed");
        let Some(from) = self.address_attr(b, "from", "removed") else {
            return;
        };
        let mut destroy = true;
        for l in b.body.blocks().filter(|l| l.ident.as_str() == "lifecycle") {
            for a in l.body.attributes() {
                match (a.key.as_str(), &a.value) {
                    ("destroy", EditExpr::Bool(v)) => destroy = *v.value(),
                    _ => self.err(
                        a.key.span(),
                        "removed { lifecycle { ... } } takes only destroy = true or false",
                    ),
                }
            }
        }
        let span = self.span(b.span());
        self.cfg.removed.push(RemovedBlock {
            from,
            destroy,
            span,
        });
    }

    pub(super) fn import(&mut self, b: &Block) {
        self.only(b, &["to", "id", "for_each"], &[], "import");
        let for_each = b
            .body
            .get_attribute("for_each")
            .map(|a| self.expr(&a.value));
        // Under for_each, `to` may index its block with an expression (`image.x[each.key]`).
        let dynamic = for_each.as_ref().and_then(|_| {
            let a = b.body.get_attribute("to")?;
            if static_address(&a.value).is_some() {
                return None;
            }
            let EditExpr::Traversal(t) = &a.value else {
                return None;
            };
            let EditExpr::Variable(root) = &t.expr else {
                return None;
            };
            match t
                .operators
                .iter()
                .map(|o| o.value())
                .collect::<Vec<_>>()
                .as_slice()
            {
                [
                    TraversalOperator::GetAttr(name),
                    TraversalOperator::Index(key),
                ] if crate::resources::resource(root.as_str()).is_some() => Some((
                    crate::addr::BlockAddr::resource(root.as_str(), name.as_str()),
                    key.clone(),
                )),
                _ => None,
            }
        });
        let (to, to_key) = match dynamic {
            Some((block, key)) => (Some(Target::Block(block)), Some(self.expr(&key))),
            None => (self.address_attr(b, "to", "import"), None),
        };
        let Some(id) = b.body.get_attribute("id") else {
            self.err(
                b.ident.span(),
                "import block is missing \"id\" (the cloud's id of the object)",
            );
            return;
        };
        let id = self.expr(&id.value);
        let span = self.span(b.span());
        let to = match to {
            Some(Target::Instance(to)) => to,
            Some(Target::Block(block)) => block.instance(None),
            None => return,
        };
        self.cfg.imports.push(ImportBlock {
            to,
            id,
            for_each,
            to_key,
            span,
        });
    }

    /// `list "TYPE" "NAME" { provider = P  config { FILTER = ... } }` (query files). The kind's
    /// unit says which filters it takes (`resources::Resource::list_filters`).
    pub(super) fn list(&mut self, b: &Block) {
        let Some(labels) = self.labels(
            b,
            2,
            "the type and a name, e.g. list \"image\" \"snapshots\"",
        ) else {
            return;
        };
        let (kind, name) = (labels[0].clone(), labels[1].clone());
        let Some(filters) = crate::resources::resource(&kind).and_then(|r| r.list_filters()) else {
            self.err(
                b.labels[0].span(),
                format!(
                    "unknown list type \"{kind}\"; expected one of {}",
                    crate::resources::RESOURCES
                        .iter()
                        .filter(|r| r.list_filters().is_some())
                        .map(|r| format!("\"{}\"", r.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return;
        };
        let mut provider = None;
        let mut config = std::collections::BTreeMap::new();
        for st in b.body.iter() {
            match st {
                Structure::Attribute(a) if a.key.as_str() == "provider" => {
                    provider = Some(a.value.to_string().trim().to_string());
                }
                Structure::Attribute(a) => self.err(
                    a.key.span(),
                    format!(
                        "unknown attribute \"{}\" in list block; expected provider (and the filters inside config {{ ... }})",
                        a.key.as_str()
                    ),
                ),
                Structure::Block(c) if c.ident.as_str() == "config" => {
                    for a in c.body.attributes() {
                        if !filters.contains(&a.key.as_str()) {
                            self.err(
                                a.key.span(),
                                format!(
                                    "unknown filter \"{}\" for list \"{kind}\"; expected one of {}{}",
                                    a.key.as_str(),
                                    filters.join(", "),
                                    super::suggest::did_you_mean(a.key.as_str(), filters)
                                ),
                            );
                            continue;
                        }
                        config.insert(a.key.as_str().to_string(), self.expr(&a.value));
                    }
                }
                Structure::Block(c) => self.err(
                    c.ident.span(),
                    format!("unknown block \"{}\" in list block; expected config", c.ident.as_str()),
                ),
            }
        }
        let span = self.span(b.span());
        self.cfg.lists.push(ListBlock {
            kind,
            name,
            provider,
            config,
            span,
        });
    }

    pub(super) fn validation(&mut self, b: &Block, var: &str) -> Option<Validation> {
        self.only(b, &["condition", "error_message"], &[], "validation");
        let cond = b.body.get_attribute("condition");
        let msg = b.body.get_attribute("error_message");
        let (Some(cond), Some(msg)) = (cond, msg) else {
            self.err(
                b.ident.span(),
                format!("validation of variable \"{var}\" needs condition and error_message"),
            );
            return None;
        };
        let message = match &msg.value {
            EditExpr::String(s) => s.value().to_string(),
            _ => {
                self.err(msg.value.span(), "error_message must be a plain string");
                return None;
            }
        };
        let condition = self.expr(&cond.value);
        if let Some(r) = condition
            .refs
            .iter()
            .find(|r| !(r.root == "var" && r.target().as_deref() == Some(&format!("var.{var}"))))
        {
            self.err(
                Some(r.span.range.clone()),
                format!(
                    "a validation of variable \"{var}\" may refer only to var.{var}, found {}",
                    r.display()
                ),
            );
            return None;
        }
        Some(Validation {
            condition,
            error_message: message,
        })
    }
}
