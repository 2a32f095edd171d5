//! The one evaluator: every expression of a configuration — resource and data-source arguments,
//! `count` / `for_each`, locals, outputs, provider blocks, import ids — is evaluated here, by
//! every command (plan, apply, destroy, import, provider connection).
//!
//! Values of `data` and `resource` instances are supplied by the caller (planned values while
//! planning, applied ones during apply); variables come in resolved, with `sensitive` ones
//! marked; locals are evaluated lazily from exactly the nodes they reference and cached. When an
//! instance value changes, the cached values of everything that reads its block are dropped, so
//! a later read sees the new value. A local whose expression fails is reported once and reads
//! as unknown, so one mistake gives one error.

use crate::addr::{BlockAddr, InstanceAddr, InstanceKey};
use crate::config::eval::{self, Scope, conform, names_in_target};
use crate::config::schema::{Schema, Ty};
use crate::config::suggest::did_you_mean;
use crate::config::{Config, Diagnostic, Expr, ObjectBlock};
use crate::graph::{Graph, Node};
use crate::value::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

/// How many instances a block has.
#[derive(Clone, Debug, PartialEq)]
pub enum Expansion {
    /// `count` / `for_each` is not known yet.
    Unknown,
    /// No `count` or `for_each`: one instance, addressed like the block.
    Single,
    Count(u64),
    /// `for_each` keys.
    Keys(Vec<String>),
}

/// One instance of a block, with what `count.index` / `each.key` / `each.value` read.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    pub addr: InstanceAddr,
    pub each_value: Option<Value>,
}

impl Instance {
    pub fn key(&self) -> Option<&InstanceKey> {
        self.addr.key.as_ref()
    }
}

#[derive(Default)]
struct BlockValues {
    expansion: Option<Expansion>,
    instances: BTreeMap<Option<InstanceKey>, Value>,
    /// The block's value as other blocks see it (a list for count, a map for for_each).
    assembled: Option<Arc<Value>>,
}

#[derive(Default)]
struct Inner {
    blocks: BTreeMap<BlockAddr, BlockValues>,
    locals: BTreeMap<String, Arc<Value>>,
    diags: Vec<Diagnostic>,
    failed: BTreeSet<String>,
    /// Locals being evaluated right now: a cycle (reported by the graph) reads as unknown
    /// instead of recursing forever.
    evaluating: BTreeSet<String>,
    /// `for_each` instances (with `each.value`) by block, as last evaluated.
    /// Each `for_each` block's instances as it reads now, by address (looked up per instance:
    /// a scan would make an apply of N instances cost N²).
    expansions: BTreeMap<BlockAddr, Arc<BTreeMap<InstanceAddr, Instance>>>,
}

/// Evaluates the expressions of one configuration against supplied object values.
pub struct Evaluator<'c> {
    cfg: &'c Config,
    graph: &'c Graph,
    vars: BTreeMap<String, Arc<Value>>,
    workspace: String,
    inner: Mutex<Inner>,
}

impl<'c> Evaluator<'c> {
    /// `vars` are the resolved input values; a declared variable without one reads as unknown
    /// (`validate`), and `sensitive` variables are marked.
    pub fn new(cfg: &'c Config, graph: &'c Graph, vars: &BTreeMap<String, Value>) -> Self {
        let vars = cfg
            .variables
            .iter()
            .map(|(name, decl)| {
                let v = vars.get(name).cloned().unwrap_or(Value::Unknown);
                (name.clone(), Arc::new(Value::marked_if(v, decl.sensitive)))
            })
            .collect();
        Evaluator {
            cfg,
            graph,
            vars,
            workspace: if cfg.workspace.is_empty() {
                "default".into()
            } else {
                cfg.workspace.clone()
            },
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Sets what `snapform.workspace` reads.
    pub fn with_workspace(mut self, name: &str) -> Self {
        self.workspace = name.to_string();
        self
    }

    pub fn config(&self) -> &'c Config {
        self.cfg
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Errors found while evaluating locals (each reported once), taken out.
    pub fn take_diags(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut self.lock().diags)
    }

    /// Records how many instances `block` has; instances outside it are forgotten.
    pub fn set_expansion(&self, block: &BlockAddr, e: Expansion) {
        {
            let mut inner = self.lock();
            let b = inner.blocks.entry(block.clone()).or_default();
            b.instances.retain(|k, _| match (&e, k) {
                (Expansion::Single, None) => true,
                (Expansion::Count(n), Some(InstanceKey::Index(i))) => i < n,
                (Expansion::Keys(keys), Some(InstanceKey::Key(k))) => keys.contains(k),
                _ => false,
            });
            b.expansion = Some(e);
            b.assembled = None;
        }
        self.invalidate(block);
    }

    /// Sets the value of one instance (its planned or applied attributes).
    pub fn set_instance(&self, addr: &InstanceAddr, value: Value) {
        let value = complete(&addr.block, value);
        {
            let mut inner = self.lock();
            let b = inner.blocks.entry(addr.block.clone()).or_default();
            b.instances.insert(addr.key.clone(), value);
            b.assembled = None;
        }
        self.invalidate(&addr.block);
    }

    /// Drops cached values that read `block`.
    fn invalidate(&self, block: &BlockAddr) {
        let dependents = self.graph.dependents(&Node::Object(block.clone()));
        let mut inner = self.lock();
        for d in dependents {
            match d {
                Node::Local(l) => {
                    inner.locals.remove(&l);
                }
                Node::Object(b) => {
                    inner.expansions.remove(&b);
                }
                _ => {}
            }
        }
    }

    /// One instance of a block as its `for_each` reads now (`each.value` from the current
    /// values of what it depends on); `planned` when the block has no `for_each`.
    pub fn current_instance(
        &self,
        block: &ObjectBlock,
        planned: Instance,
    ) -> Result<Instance, Diagnostic> {
        if block.for_each.is_none() {
            return Ok(planned);
        }
        let cached = self.lock().expansions.get(&block.addr).cloned();
        let list = match cached {
            Some(l) => l,
            None => {
                let l: Arc<BTreeMap<InstanceAddr, Instance>> = Arc::new(
                    self.expand(block)?
                        .unwrap_or_default()
                        .into_iter()
                        .map(|i| (i.addr.clone(), i))
                        .collect(),
                );
                self.lock().expansions.insert(block.addr.clone(), l.clone());
                l
            }
        };
        Ok(list.get(&planned.addr).cloned().unwrap_or(planned))
    }

    /// The value other blocks see for `block`.
    pub fn block_value(&self, block: &BlockAddr) -> Arc<Value> {
        let mut inner = self.lock();
        let Some(b) = inner.blocks.get_mut(block) else {
            return Arc::new(Value::Unknown);
        };
        if let Some(v) = &b.assembled {
            return v.clone();
        }
        let unknown = || Value::Unknown;
        let v = match &b.expansion {
            None | Some(Expansion::Unknown) => Value::Unknown,
            Some(Expansion::Single) => b.instances.get(&None).cloned().unwrap_or_else(unknown),
            Some(Expansion::Count(n)) => Value::List(
                (0..*n)
                    .map(|i| {
                        b.instances
                            .get(&Some(InstanceKey::Index(i)))
                            .cloned()
                            .unwrap_or_else(unknown)
                    })
                    .collect(),
            ),
            Some(Expansion::Keys(keys)) => Value::Map(
                keys.iter()
                    .map(|k| {
                        let v = b
                            .instances
                            .get(&Some(InstanceKey::Key(k.clone())))
                            .cloned()
                            .unwrap_or_else(unknown);
                        (k.clone(), v)
                    })
                    .collect(),
            ),
        };
        let v = Arc::new(v);
        b.assembled = Some(v.clone());
        v
    }

    /// The value of `local.NAME` (unknown when its expression failed; the error is recorded).
    pub fn local(&self, name: &str) -> Arc<Value> {
        if let Some(v) = self.lock().locals.get(name) {
            return v.clone();
        }
        let Some(def) = self.cfg.locals.get(name) else {
            return Arc::new(Value::Unknown);
        };
        if !self.lock().evaluating.insert(name.to_string()) {
            return Arc::new(Value::Unknown);
        }
        let result = self.eval(&def.value, None);
        self.lock().evaluating.remove(name);
        let v = match result {
            Ok(v) => v,
            Err(d) => {
                let mut inner = self.lock();
                if inner.failed.insert(name.to_string()) {
                    inner.diags.push(d);
                }
                Value::Unknown
            }
        };
        let v = Arc::new(v);
        self.lock().locals.insert(name.to_string(), v.clone());
        v
    }

    /// Evaluates an expression of the configuration, inside `inst` when it belongs to a block
    /// with `count` / `for_each`.
    pub fn eval(&self, e: &Expr, inst: Option<&Instance>) -> Result<Value, Diagnostic> {
        eval::eval(e, &NodeScope { ev: self, inst })
    }

    /// The value of `output.NAME`.
    pub fn output(&self, name: &str) -> Option<Result<Value, Diagnostic>> {
        let o = self.cfg.outputs.get(name)?;
        Some(self.eval(&o.value, None))
    }

    /// The instances of a block. `Ok(None)` when its `count` / `for_each` is not known yet.
    pub fn expand(&self, block: &ObjectBlock) -> Result<Option<Vec<Instance>>, Diagnostic> {
        let addr = &block.addr;
        if let Some(c) = &block.count {
            let v = self.eval(c, None)?;
            let err = |m: String| Diagnostic::error(format!("{addr}: {m}"), Some(c.span.clone()));
            let v = v.unmark().0;
            if v.contains_unknown() {
                return Ok(None);
            }
            let n = match conform(v.clone(), Ty::Number).ok().and_then(|n| n.as_i64()) {
                Some(n) if (0..=100_000).contains(&n) => n as u64,
                _ => {
                    return Err(err(format!(
                        "count must be a whole number from 0 to 100000, found {v}"
                    )));
                }
            };
            return Ok(Some(
                (0..n)
                    .map(|i| Instance {
                        addr: addr.instance(Some(InstanceKey::Index(i))),
                        each_value: None,
                    })
                    .collect(),
            ));
        }
        if let Some(f) = &block.for_each {
            let v = self.eval(f, None)?;
            let err = |m: String| Diagnostic::error(format!("{addr}: {m}"), Some(f.span.clone()));
            if v.is_sensitive() {
                return Err(err(
                    "for_each may not use sensitive values: the instance keys would be shown in plans and state".into(),
                ));
            }
            let pairs: Vec<(String, Value)> = match v {
                Value::Unknown => return Ok(None),
                // A map needs known keys only; its values may still be unknown.
                Value::Map(m) => m.into_iter().collect(),
                Value::List(l) => {
                    let mut out = BTreeMap::new();
                    for x in l {
                        if x.is_sensitive() {
                            return Err(err(
                                "for_each may not use sensitive values: the instance keys would be shown in plans and state".into(),
                            ));
                        }
                        if x.is_unknown() {
                            return Ok(None);
                        }
                        match x.to_plain_string() {
                            Some(s) => {
                                out.insert(s.clone(), Value::String(s));
                            }
                            None => {
                                return Err(err(format!(
                                    "for_each over a list needs strings, found an element of type {}",
                                    x.type_name()
                                )));
                            }
                        }
                    }
                    out.into_iter().collect()
                }
                other => {
                    return Err(err(format!(
                        "for_each must be a map or a set of strings, found {}",
                        other.type_name()
                    )));
                }
            };
            return Ok(Some(
                pairs
                    .into_iter()
                    .map(|(k, v)| Instance {
                        addr: addr.instance(Some(InstanceKey::Key(k))),
                        each_value: Some(v),
                    })
                    .collect(),
            ));
        }
        Ok(Some(vec![Instance {
            addr: addr.instance(None),
            each_value: None,
        }]))
    }

    /// A block's arguments for one instance, converted to the schema's types; errors located.
    pub fn eval_args(
        &self,
        block: &ObjectBlock,
        sch: &Schema,
        inst: Option<&Instance>,
    ) -> (Map, Vec<Diagnostic>) {
        let mut out = Map::new();
        let mut diags = Vec::new();
        for (name, def) in &block.attrs {
            let Some(attr) = sch.attr(name) else { continue };
            match self.eval(&def.value, inst) {
                Ok(v) => match conform(v, attr.ty) {
                    Ok(Value::Null) => {}
                    Ok(v) => {
                        out.insert(name.clone(), v);
                    }
                    Err(m) => diags.push(Diagnostic::error(
                        format!("{}: invalid value for \"{name}\": {m}", block.addr),
                        Some(def.value.span.clone()),
                    )),
                },
                Err(d) => diags.push(d),
            }
        }
        for (bname, attrs) in &block.blocks {
            let mut inner = Map::new();
            for (name, def) in attrs {
                match self.eval(&def.value, inst).map(|v| conform(v, Ty::String)) {
                    Ok(Ok(v)) => {
                        inner.insert(name.clone(), v);
                    }
                    Ok(Err(m)) => diags.push(Diagnostic::error(
                        format!("{}: invalid value for \"{bname}.{name}\": {m}", block.addr),
                        Some(def.value.span.clone()),
                    )),
                    Err(d) => diags.push(d),
                }
            }
            out.insert(bname.clone(), Value::Map(inner));
        }
        (out, diags)
    }
}

/// An instance value with every attribute of its schema present (null where unset), so that
/// `image.g.day_of_week` reads null rather than failing.
fn complete(block: &BlockAddr, value: Value) -> Value {
    let Value::Map(mut m) = value else {
        return value;
    };
    let sch = if block.data {
        crate::resources::data_schema(&block.kind)
    } else {
        crate::resources::resource_schema(&block.kind)
    };
    if let Some(sch) = sch {
        for a in sch.attrs {
            m.entry(a.name.to_string()).or_insert(Value::Null);
        }
        m.entry("id".to_string()).or_insert(Value::Null);
    }
    Value::Map(m)
}

/// The scope of one node (and instance): what its references read.
struct NodeScope<'a, 'c> {
    ev: &'a Evaluator<'c>,
    inst: Option<&'a Instance>,
}

impl Scope for NodeScope<'_, '_> {
    fn lookup(&self, root: &str, names: &[&str]) -> Result<(Arc<Value>, usize), String> {
        let want = names_in_target(root);
        if names.len() < want {
            return Err(format!(
                "incomplete reference to \"{root}\"; expected e.g. var.NAME, local.NAME, TYPE.NAME or data.TYPE.NAME"
            ));
        }
        let cfg = self.ev.cfg;
        let v = match root {
            "var" => match self.ev.vars.get(names[0]) {
                Some(v) => v.clone(),
                None => {
                    let known: Vec<&str> = cfg.variables.keys().map(String::as_str).collect();
                    return Err(format!(
                        "reference to undeclared input variable \"{}\"{}",
                        names[0],
                        did_you_mean(names[0], &known)
                    ));
                }
            },
            "local" => {
                if !cfg.locals.contains_key(names[0]) {
                    let known: Vec<&str> = cfg.locals.keys().map(String::as_str).collect();
                    return Err(format!(
                        "reference to undeclared local value \"{}\"{}",
                        names[0],
                        did_you_mean(names[0], &known)
                    ));
                }
                self.ev.local(names[0])
            }
            "count" => match self.inst.and_then(Instance::key) {
                Some(k @ InstanceKey::Index(_)) => {
                    Arc::new(Value::Map([("index".to_string(), k.to_value())].into()))
                }
                _ => return Err("\"count\" can only be used in a block with count".into()),
            },
            "each" => match self.inst {
                Some(
                    i @ Instance {
                        addr:
                            InstanceAddr {
                                key: Some(InstanceKey::Key(k)),
                                ..
                            },
                        ..
                    },
                ) => Arc::new(Value::Map(
                    [
                        ("key".to_string(), Value::String(k.clone())),
                        (
                            "value".to_string(),
                            i.each_value.clone().unwrap_or(Value::Null),
                        ),
                    ]
                    .into(),
                )),
                _ => return Err("\"each\" can only be used in a block with for_each".into()),
            },
            "snapform" => Arc::new(Value::Map(
                [(
                    "workspace".to_string(),
                    Value::String(self.ev.workspace.clone()),
                )]
                .into(),
            )),
            "data" => {
                let addr = BlockAddr::data(names[0], names[1]);
                if !cfg.data.contains_key(&addr) {
                    return Err(format!("reference to undeclared data source \"{addr}\""));
                }
                self.ev.block_value(&addr)
            }
            kind if crate::resources::resource(kind).is_some() => {
                let addr = BlockAddr::resource(kind, names[0]);
                if !cfg.resources.contains_key(&addr) {
                    return Err(format!("reference to undeclared resource \"{addr}\""));
                }
                self.ev.block_value(&addr)
            }
            other => {
                let mut roots = vec!["var", "local", "data", "count", "each"];
                roots.extend(crate::resources::resource_kinds());
                return Err(format!(
                    "unknown reference \"{other}\"{}",
                    did_you_mean(other, &roots)
                ));
            }
        };
        Ok((v, want))
    }
}
