//! The configuration model: what a working directory's `*.snap.hcl` files declare, block by
//! block, with the expressions (and their places) left to evaluate.

use super::diag::{Sources, Span};
use super::refs::Reference;
use crate::addr::{BlockAddr, InstanceAddr, Target};
use std::collections::BTreeMap;

/// An expression from the configuration, with its location and the references it makes.
#[derive(Clone, Debug)]
pub struct Expr {
    pub expr: hcl::Expression,
    pub span: Span,
    pub refs: Vec<Reference>,
    /// Names of the functions it calls, each with the span of the name.
    pub funcs: Vec<(String, Span)>,
}

/// `name = expr` inside a block.
#[derive(Clone, Debug)]
pub struct AttrDef {
    pub name: String,
    pub name_span: Span,
    pub value: Expr,
}

pub type Attrs = BTreeMap<String, AttrDef>;

#[derive(Clone, Debug)]
pub struct ProviderBlock {
    /// `rackspace` or `openstack`.
    pub kind: String,
    pub alias: Option<String>,
    pub attrs: Attrs,
    pub span: Span,
}

impl ProviderBlock {
    /// `rackspace` or `rackspace.lon`.
    pub fn key(&self) -> String {
        match &self.alias {
            Some(a) => format!("{}.{}", self.kind, a),
            None => self.kind.clone(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct VariableBlock {
    pub name: String,
    pub default: Option<Expr>,
    /// Type constraint as written (`string`, `number`, `bool`, `map(string)`, ...).
    pub ty: Option<String>,
    pub description: Option<String>,
    pub sensitive: bool,
    /// `validation { condition = ..., error_message = "..." }` blocks.
    pub validations: Vec<Validation>,
    pub span: Span,
}

/// A rule a variable's value must satisfy.
#[derive(Clone, Debug)]
pub struct Validation {
    pub condition: Expr,
    pub error_message: String,
}

/// `moved { from = image.old  to = image.new }`: state at `from` now belongs to `to`.
#[derive(Clone, Debug)]
pub struct MovedBlock {
    pub from: Target,
    pub to: Target,
    pub span: Span,
}

/// `removed { from = image.x  lifecycle { destroy = false } }`: stop managing without destroying.
#[derive(Clone, Debug)]
pub struct RemovedBlock {
    pub from: Target,
    pub destroy: bool,
    pub span: Span,
}

/// `import { to = image.x  id = "..." }`: adopt an existing object when planning.
#[derive(Clone, Debug)]
pub struct ImportBlock {
    /// The target; with `to_key`, the block's address without a key.
    pub to: InstanceAddr,
    pub id: Expr,
    /// `for_each` (Terraform 1.7): one import per element, `each.key` / `each.value` in scope.
    pub for_each: Option<Expr>,
    /// The instance key of the target under `for_each` (`to = image.x[each.key]`).
    pub to_key: Option<Expr>,
    pub span: Span,
}

/// `list "image" "snapshots" { provider = rackspace  config { ... } }`: what `snapform query`
/// lists (Terraform 1.14's list blocks).
#[derive(Clone, Debug)]
pub struct ListBlock {
    pub kind: String,
    pub name: String,
    /// Provider key (`rackspace`, `rackspace.lon`); `None`: the default one.
    pub provider: Option<String>,
    /// The filters, by name.
    pub config: BTreeMap<String, Expr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct OutputBlock {
    pub name: String,
    pub value: Expr,
    pub sensitive: bool,
    pub description: Option<String>,
    pub span: Span,
}

/// A `data` or `resource` block.
#[derive(Clone, Debug)]
pub struct ObjectBlock {
    /// `image.golden` or `data.server.web`.
    pub addr: BlockAddr,
    pub kind: String,
    pub name: String,
    pub attrs: Attrs,
    /// Nested blocks such as `timeouts { create = "30m" }`.
    pub blocks: BTreeMap<String, Attrs>,
    pub depends_on: Vec<Reference>,
    /// `count = N`: N instances addressed `addr[0]`, `addr[1]`, ...
    pub count: Option<Expr>,
    /// `for_each = map or set of strings`: instances addressed `addr["key"]`.
    pub for_each: Option<Expr>,
    /// Provider key (`rackspace`, `rackspace.lon`); `None` = the default provider.
    pub provider: Option<String>,
    pub lifecycle: Lifecycle,
    pub span: Span,
    /// Span of the type label, for "unknown type" style messages.
    pub label_span: Span,
}

#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
    pub ignore_changes: Vec<String>,
}

/// The whole configuration of a working directory.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub sources: Sources,
    pub providers: Vec<ProviderBlock>,
    pub variables: BTreeMap<String, VariableBlock>,
    pub locals: BTreeMap<String, AttrDef>,
    pub data: BTreeMap<BlockAddr, ObjectBlock>,
    pub resources: BTreeMap<BlockAddr, ObjectBlock>,
    pub outputs: BTreeMap<String, OutputBlock>,
    /// `snapform { backend "KIND" { ... } }`; `None` = the local state file.
    pub backend: Option<BackendBlock>,
    /// `snapform { encryption { ... } }`: state and plans encrypted (its settings as a block
    /// of literals, like a backend's).
    pub encryption: Option<BackendBlock>,
    /// `snapform { required_version = ">= 0.1" }`, with its location.
    pub required_version: Option<(String, Span)>,
    pub moved: Vec<MovedBlock>,
    pub removed: Vec<RemovedBlock>,
    pub imports: Vec<ImportBlock>,
    /// `list` blocks of `*.snapquery.hcl` files (read by `snapform query` only).
    pub lists: Vec<ListBlock>,
    /// The workspace this configuration is planned in (what `snapform.workspace` reads); set
    /// by the engine, empty = `default`.
    pub workspace: String,
}

impl ObjectBlock {
    /// True when the block declares several instances (`count` or `for_each`).
    pub fn is_multi(&self) -> bool {
        self.count.is_some() || self.for_each.is_some()
    }
}

impl Config {
    /// Looks up a `data.*` or managed resource block by address.
    pub fn object(&self, addr: &BlockAddr) -> Option<&ObjectBlock> {
        if addr.data {
            self.data.get(addr)
        } else {
            self.resources.get(addr)
        }
    }

    pub fn provider(&self, key: Option<&str>) -> Option<&ProviderBlock> {
        match key {
            Some(k) => self.providers.iter().find(|p| p.key() == k),
            None => self
                .providers
                .iter()
                .find(|p| p.alias.is_none())
                .or(self.providers.first()),
        }
    }
}

/// A parsed `backend "KIND" { ... }` block.
#[derive(Clone, Debug)]
pub struct BackendBlock {
    /// `local`, `pg` or `http`.
    pub kind: String,
    pub attrs: Attrs,
    pub span: Span,
}
