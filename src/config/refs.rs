//! References between blocks (`var.x`, `local.y`, `image.golden.id`, `data.server.web.id`),
//! found by visiting `hcl::edit` expressions so that each keeps its source span.

use super::Span;
use crate::value::PathStep;
use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::visit::{Visit, visit_expr};
use hcl::edit::{Ident, Span as _};

/// A reference from an expression to a value elsewhere in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// First identifier: `var`, `local`, `data`, a resource type, ...
    pub root: String,
    /// Attribute and static index steps after the root.
    pub path: Vec<PathStep>,
    pub span: Span,
}

impl Reference {
    /// The graph address this reference points at, or `None` for roots that are not blocks.
    /// `var.x` → `var.x`; `data.server.web.id` → `data.server.web`; `image.golden.id` →
    /// `image.golden`.
    pub fn target(&self) -> Option<String> {
        let attr = |i: usize| match self.path.get(i) {
            Some(PathStep::Attr(a)) => Some(a.as_str()),
            _ => None,
        };
        match self.root.as_str() {
            "var" | "local" => Some(format!("{}.{}", self.root, attr(0)?)),
            "data" => Some(format!("data.{}.{}", attr(0)?, attr(1)?)),
            _ => Some(format!("{}.{}", self.root, attr(0)?)),
        }
    }

    /// The path below the target block (`id` in `image.golden.id`).
    pub fn rest(&self) -> &[PathStep] {
        let skip = match self.root.as_str() {
            "data" => 2,
            _ => 1,
        };
        self.path.get(skip..).unwrap_or(&[])
    }

    /// The reference as written, e.g. `image.golden.id`.
    pub fn display(&self) -> String {
        let mut s = self.root.clone();
        for p in &self.path {
            match p {
                PathStep::Attr(a) => {
                    s.push('.');
                    s.push_str(a);
                }
                PathStep::Index(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

/// Collects every reference in `expr`. Variables bound by `for` expressions are skipped.
pub fn collect(expr: &Expression, file: usize) -> Vec<Reference> {
    let mut c = Collector {
        file,
        refs: Vec::new(),
        bound: Vec::new(),
    };
    c.visit_expr(expr);
    c.refs
}

/// Every function call in `expr`: the name (with its namespace, if any) and the name's span.
pub fn functions(expr: &Expression, file: usize) -> Vec<(String, Span)> {
    struct Calls {
        file: usize,
        out: Vec<(String, Span)>,
    }
    impl Visit for Calls {
        fn visit_func_call(&mut self, call: &hcl::edit::expr::FuncCall) {
            let name = &call.name;
            let shown = name
                .namespace
                .iter()
                .map(|n| n.as_str())
                .chain(std::iter::once(name.name.as_str()))
                .collect::<Vec<_>>()
                .join("::");
            self.out.push((
                shown,
                Span {
                    file: self.file,
                    range: name.name.span().unwrap_or(0..0),
                },
            ));
            hcl::edit::visit::visit_func_call(self, call);
        }
    }
    let mut c = Calls {
        file,
        out: Vec::new(),
    };
    c.visit_expr(expr);
    c.out
}

struct Collector {
    file: usize,
    refs: Vec<Reference>,
    /// Names bound by enclosing `for` expressions.
    bound: Vec<String>,
}

impl Collector {
    fn add(&mut self, root: &Ident, path: Vec<PathStep>, span: Option<std::ops::Range<usize>>) {
        let root = root.as_str().to_string();
        if self.bound.contains(&root) {
            return;
        }
        self.refs.push(Reference {
            root,
            path,
            span: Span {
                file: self.file,
                range: span.unwrap_or(0..0),
            },
        });
    }
}

impl Visit for Collector {
    fn visit_expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Variable(v) => self.add(v.value(), Vec::new(), v.span()),
            Expression::Traversal(t) => {
                if let Expression::Variable(v) = &t.expr {
                    let mut path = Vec::new();
                    for op in &t.operators {
                        match op.value() {
                            TraversalOperator::GetAttr(id) => {
                                path.push(PathStep::Attr(id.as_str().to_string()))
                            }
                            TraversalOperator::LegacyIndex(i) => {
                                path.push(PathStep::Index(*i.value()))
                            }
                            TraversalOperator::Index(Expression::Number(n)) => {
                                match n.value().as_u64() {
                                    Some(i) => path.push(PathStep::Index(i)),
                                    None => break,
                                }
                            }
                            TraversalOperator::Index(Expression::String(s)) => {
                                path.push(PathStep::Attr(s.value().to_string()))
                            }
                            _ => break,
                        }
                    }
                    self.add(v.value(), path, t.span());
                    for op in &t.operators {
                        if let TraversalOperator::Index(e) = op.value() {
                            self.visit_expr(e);
                        }
                    }
                } else {
                    hcl::edit::visit::visit_traversal(self, t);
                }
            }
            Expression::ForExpr(f) => {
                self.visit_expr(&f.intro.collection_expr);
                let before = self.bound.len();
                if let Some(k) = &f.intro.key_var {
                    self.bound.push(k.as_str().to_string());
                }
                self.bound.push(f.intro.value_var.as_str().to_string());
                if let Some(k) = &f.key_expr {
                    self.visit_expr(k);
                }
                self.visit_expr(&f.value_expr);
                if let Some(c) = &f.cond {
                    self.visit_expr(&c.expr);
                }
                self.bound.truncate(before);
            }
            _ => visit_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(src: &str) -> Vec<String> {
        let e = hcl::edit::parser::parse_expr(src).unwrap();
        collect(&e, 0).iter().map(Reference::display).collect()
    }

    #[test]
    fn finds_references_with_paths() {
        assert_eq!(
            refs("\"${var.a}-${image.golden.id}\""),
            ["var.a", "image.golden.id"]
        );
        assert_eq!(refs("data.server.web[\"id\"]"), ["data.server.web.id"]);
        assert_eq!(
            refs("[for k, v in local.m : upper(v) if k != var.x]"),
            ["local.m", "var.x"]
        );
        assert_eq!(refs("lookup(var.m, local.k)"), ["var.m", "local.k"]);
    }

    #[test]
    fn target_addresses() {
        let e = hcl::edit::parser::parse_expr("data.server.web.id").unwrap();
        let r = &collect(&e, 0)[0];
        assert_eq!(r.target().as_deref(), Some("data.server.web"));
        assert_eq!(r.rest(), &[PathStep::Attr("id".into())]);
    }
}
