//! The planner: configuration + prior state + refreshed objects → a `Plan` of actions.
//!
//! Architecture Invariant: `plan::plan` is a pure, deterministic function — no I/O, no clock, no
//! randomness. Everything it needs from the cloud arrives in `Refreshed`; data sources whose
//! arguments are known but not yet read come back as `data_requests`, and the caller (refresh)
//! reads them and plans again. Every expression is evaluated by `graph::Evaluator`, the same
//! evaluator apply uses.

mod diff;
mod edges;
mod model;
mod moves;
mod restrict;

pub use diff::unmarked;
pub use model::*;

use crate::addr::{InstanceAddr, Target};
use crate::config::schema::Schema;
use crate::config::{Config, Diagnostic, ObjectBlock};
use crate::graph::{Evaluator, Expansion, Graph, Instance, Node};
use crate::resources::Resource;
use crate::state::State;
use crate::value::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Plans the changes that converge the cloud to the configuration.
pub fn plan(
    cfg: &Config,
    graph: &Graph,
    vars: &BTreeMap<String, Value>,
    state: &State,
    refreshed: &Refreshed,
    opts: &Options,
) -> (Plan, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let steered = moves::steer(cfg, state, refreshed, &mut diags);
    let (state, refreshed) = (&steered.state, &steered.refreshed);
    let ev = Evaluator::new(cfg, graph, vars);
    let mut p = Planning {
        cfg,
        graph,
        state,
        refreshed,
        opts,
        ev: &ev,
        changes: Vec::new(),
        data_requests: BTreeMap::new(),
        drift: Vec::new(),
        diags: Vec::new(),
        deferred: Vec::new(),
        planned: BTreeSet::new(),
        exclusive: BTreeMap::new(),
    };
    let mut outputs = BTreeMap::new();
    if !opts.destroy {
        for node in graph.order() {
            if let Node::Object(addr) = node
                && let Some(block) = cfg.object(addr)
            {
                p.block(block);
            }
        }
        for (name, o) in &cfg.outputs {
            match ev.output(name) {
                Some(Ok(v)) => {
                    if v.contains_sensitive() && !o.sensitive {
                        p.diags.push(Diagnostic::error(
                            format!(
                                "output \"{name}\" refers to sensitive values; add sensitive = true to the output block, so it is shown as (sensitive value)"
                            ),
                            Some(o.value.span.clone()),
                        ));
                        continue;
                    }
                    let value = if o.sensitive {
                        Value::sensitive(v.unmarked())
                    } else {
                        v
                    };
                    outputs.insert(
                        name.clone(),
                        PlannedOutput {
                            value,
                            sensitive: o.sensitive,
                        },
                    );
                }
                Some(Err(d)) => p.diags.push(d),
                None => {}
            }
        }
    }
    p.orphans();
    let Planning {
        mut changes,
        data_requests,
        drift,
        diags: mut pd,
        mut deferred,
        ..
    } = p;
    diags.append(&mut pd);
    diags.extend(ev.take_diags());
    restrict::restrict(cfg, graph, &mut changes, &mut diags, &mut deferred, opts);
    let edges = edges::execution_edges(&changes, state);
    let outputs_changed = outputs.len() != state.outputs.len()
        || outputs.iter().any(|(k, o)| {
            state.outputs.get(k).is_none_or(|s| {
                s.value.unmarked() != o.value.unmarked() || s.sensitive != o.sensitive
            })
        });
    let plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        state_lineage: state.lineage.clone(),
        state_serial: state.serial,
        workspace: if cfg.workspace.is_empty() {
            "default".into()
        } else {
            cfg.workspace.clone()
        },
        destroy: opts.destroy,
        refresh_only: opts.refresh_only,
        variables: storable_vars(cfg, vars),
        sources: cfg.sources.clone(),
        changes,
        drift,
        outputs,
        outputs_changed,
        moves: steered.moves.clone(),
        imports: steered
            .imported
            .iter()
            .filter_map(|a| Some((a.clone(), state.resources.get(a)?.clone())))
            .collect(),
        outputs_before: state
            .outputs
            .iter()
            .map(|(k, o)| {
                let v = Value::marked_if(o.value.clone(), o.sensitive);
                (k.clone(), v)
            })
            .collect(),
        data_requests,
        data: refreshed.data.clone(),
        edges,
        cursors: refreshed.cursors.clone(),
        deposed: if opts.refresh_only {
            Vec::new()
        } else {
            refreshed.deposed.clone()
        },
        deferred,
    };
    (plan, diags)
}

/// One planning pass.
struct Planning<'a, 'c> {
    cfg: &'c Config,
    graph: &'c Graph,
    state: &'a State,
    refreshed: &'a Refreshed,
    opts: &'a Options,
    ev: &'a Evaluator<'c>,
    changes: Vec<Change>,
    data_requests: BTreeMap<InstanceAddr, Map>,
    drift: Vec<Drift>,
    diags: Vec<Diagnostic>,
    /// Errors only a final plan has (see `Plan::deferred`).
    deferred: Vec<Diagnostic>,
    /// Instance addresses the configuration declares (the rest of state is destroyed).
    planned: BTreeSet<InstanceAddr>,
    /// Keys at most one instance of a kind may hold (one schedule per server), and who holds
    /// them.
    exclusive: BTreeMap<(&'static str, String), InstanceAddr>,
}

impl Planning<'_, '_> {
    /// Whether an expression anywhere reads `block`'s values.
    fn read_by_others(&self, block: &crate::addr::BlockAddr) -> bool {
        self.graph.is_read(&Node::Object(block.clone()))
    }

    /// The instances of a block, recorded in the evaluator; `None` when not known yet (an
    /// error unless data sources may still be read).
    fn expand(&mut self, block: &ObjectBlock) -> Option<Vec<Instance>> {
        match self.ev.expand(block) {
            Ok(Some(list)) => {
                let e = if block.count.is_some() {
                    Expansion::Count(list.len() as u64)
                } else if block.for_each.is_some() {
                    Expansion::Keys(
                        list.iter()
                            .filter_map(|i| match i.key() {
                                Some(crate::addr::InstanceKey::Key(k)) => Some(k.clone()),
                                _ => None,
                            })
                            .collect(),
                    )
                } else {
                    Expansion::Single
                };
                self.ev.set_expansion(&block.addr, e);
                Some(list)
            }
            Ok(None) => {
                self.ev.set_expansion(&block.addr, Expansion::Unknown);
                {
                    let (what, span) = match (&block.count, &block.for_each) {
                        (Some(c), _) => ("count", c.span.clone()),
                        (_, Some(f)) => ("for_each", f.span.clone()),
                        _ => ("count", block.span.clone()),
                    };
                    let out = if self.opts.validate_only {
                        &mut self.deferred
                    } else {
                        &mut self.diags
                    };
                    out.push(Diagnostic::error(
                        format!(
                            "{}: {what} depends on values known only after apply; it must be known when planning (use values of variables, locals or data sources, or apply with --target first)",
                            block.addr
                        ),
                        Some(span),
                    ));
                }
                // Keep the instances state has, so that they are not planned for destruction.
                for a in self.state.resources.keys() {
                    if a.is_in(&block.addr) {
                        self.planned.insert(a.clone());
                    }
                }
                None
            }
            Err(d) => {
                self.ev.set_expansion(&block.addr, Expansion::Unknown);
                self.diags.push(d);
                for a in self.state.resources.keys() {
                    if a.is_in(&block.addr) {
                        self.planned.insert(a.clone());
                    }
                }
                None
            }
        }
    }

    fn block(&mut self, block: &ObjectBlock) {
        enum Kind {
            Data(&'static Schema),
            Resource(&'static dyn Resource),
        }
        let kind = if block.addr.data {
            crate::resources::data_schema(&block.kind).map(Kind::Data)
        } else {
            crate::resources::resource(&block.kind).map(Kind::Resource)
        };
        let Some(kind) = kind else { return };
        let Some(list) = self.expand(block) else {
            return;
        };
        let skip = self.opts.data_round
            && !self.data_requests.is_empty()
            && matches!(kind, Kind::Resource(_));
        for inst in list {
            if skip {
                // This round's plan is thrown away once the data sources are read.
                self.planned.insert(inst.addr.clone());
                self.ev.set_instance(&inst.addr, Value::Unknown);
                continue;
            }
            let value = match kind {
                Kind::Data(sch) => self.data_instance(block, sch, &inst),
                Kind::Resource(r) => self.resource_instance(block, r, &inst),
            };
            self.ev.set_instance(&inst.addr, value);
        }
    }

    /// A managed resource this data block depends on whose change this plan makes.
    fn pending_dependency(&self, block: &ObjectBlock) -> Option<InstanceAddr> {
        let deps = self.graph.object_deps(&Node::Object(block.addr.clone()));
        self.changes
            .iter()
            .find(|c| {
                !c.address.block.data
                    && deps.contains(&c.address.block)
                    && !matches!(c.action, Action::NoOp | Action::Read)
            })
            .map(|c| c.address.clone())
    }

    fn data_instance(&mut self, block: &ObjectBlock, sch: &Schema, inst: &Instance) -> Value {
        let (args, mut ds) = self.ev.eval_args(block, sch, Some(inst));
        let known = ds.is_empty() && !Value::Map(args.clone()).contains_unknown();
        self.diags.append(&mut ds);
        // As Terraform: a data source that depends on a resource with changes pending is read
        // during apply, after that change (what it reads may be what the change makes).
        let pending = self.pending_dependency(block);
        if pending.is_none() {
            if let Some(found) = self.refreshed.data.get(&inst.addr) {
                return Value::Map(found.clone());
            }
            if known {
                self.data_requests.insert(inst.addr.clone(), args);
                return Value::Unknown;
            }
        }
        let reason = match &pending {
            Some(dep) => format!("it depends on {dep}, which has changes pending"),
            None => "its arguments depend on values known only after apply".into(),
        };
        self.changes.push(Change {
            address: inst.addr.clone(),
            kind: block.kind.clone(),
            name: block.name.clone(),
            provider: provider_key(self.cfg, block.provider.as_deref()),
            action: Action::Read,
            before: None,
            after: Some(Arc::new(args)),
            replace_paths: vec![],
            reason: Some(reason),
            managed_keys: vec![],
            deps: self
                .graph
                .object_deps(&Node::Object(block.addr.clone()))
                .into_iter()
                .map(Target::Block)
                .collect(),
            each_value: inst.each_value.clone(),
            create_before_destroy: false,
            sensitive_attributes: vec![],
        });
        Value::Unknown
    }

    fn resource_instance(
        &mut self,
        block: &ObjectBlock,
        kind: &'static dyn Resource,
        inst: &Instance,
    ) -> Value {
        let iaddr = &inst.addr;
        self.planned.insert(iaddr.clone());
        let (desired, mut ds) = self.ev.eval_args(block, kind.schema(), Some(inst));
        let had_errors = !ds.is_empty();
        self.diags.append(&mut ds);
        // Compare and check plain values; put the marks back on what the plan shows.
        let marks = diff::marked_attributes(&desired);
        let plain = diff::unmarked(&desired);
        self.diags.extend(diff::validate(kind, block, &plain));
        if let Some((key, both)) = kind.exclusive(&plain)
            && let Some(other) = self.exclusive.insert((kind.name(), key), iaddr.clone())
        {
            self.diags.push(Diagnostic::error(
                format!("{iaddr} and {other} both {both}"),
                Some(block.span.clone()),
            ));
        }
        let prior = self.state.resources.get(iaddr);
        let current = match self.refreshed.resources.get(iaddr) {
            Some(c) => c.as_ref(),
            None => prior.map(|p| &p.attributes),
        };
        if let (Some(p), None) = (prior, current) {
            self.drift.push(Drift {
                address: iaddr.clone(),
                message: format!("{iaddr} (id {}) was deleted outside snapform", p.id),
            });
        }
        if had_errors {
            return Value::Unknown;
        }
        let mut sensitive: BTreeSet<String> = marks;
        if let Some(p) = prior {
            sensitive.extend(p.sensitive_attributes.iter().cloned());
        }
        // What the cloud reports back (`all_metadata`) holds the sensitive values too.
        let echoed: Vec<String> = kind
            .echoes()
            .iter()
            .flat_map(|(from, to)| {
                sensitive.iter().filter_map(move |p| {
                    let rest = p.strip_prefix(from)?;
                    (rest.is_empty() || rest.starts_with('.')).then(|| format!("{to}{rest}"))
                })
            })
            .collect();
        sensitive.extend(echoed);
        let replace = self.opts.replace.iter().any(|t| t.matches(iaddr));
        let mut c = diff::diff(
            diff::Inputs {
                kind,
                block,
                addr: iaddr,
                force_replace: replace,
                desired: &plain,
                prior,
                current,
                image_api: self.refreshed.image_api,
                sensitive: &sensitive,
            },
            &mut self.drift,
        );
        c.provider = provider_key(self.cfg, block.provider.as_deref());
        c.deps = edges::precise_deps(self.cfg, self.graph, block);
        c.each_value = inst.each_value.clone();
        c.sensitive_attributes = sensitive.iter().cloned().collect();
        diff::mark(&mut c.before, &sensitive);
        diff::mark(&mut c.after, &sensitive);
        if c.action == Action::NoOp
            && !sensitive.is_empty()
            && c.before.is_some()
            && c.before == c.after
        {
            c.after = c.before.clone();
        }
        // The instance's value, for the expressions that read this block; a block nothing
        // reads needs none (10,000 images nobody references cost no third copy).
        let value = if self.read_by_others(&block.addr) {
            Value::Map(c.after.as_deref().cloned().unwrap_or_default())
        } else {
            Value::Null
        };
        self.changes.push(c);
        value
    }

    /// Resources in state that the configuration no longer declares (all of them when
    /// destroying) are destroyed — or forgotten, where a `removed` block says so.
    fn orphans(&mut self) {
        for (addr, rs) in &self.state.resources {
            if self.planned.contains(addr) {
                continue;
            }
            let current = match self.refreshed.resources.get(addr) {
                Some(c) => c.as_ref(),
                None => Some(&rs.attributes),
            };
            let Some(mut c) = diff::destroy_change(&rs.kind, addr, Some(rs), current) else {
                continue;
            };
            c.provider = rs.provider.clone();
            diff::mark(
                &mut c.before,
                &rs.sensitive_attributes.iter().cloned().collect(),
            );
            if moves::forget_only(self.cfg, addr) {
                c.action = Action::NoOp;
                c.after = None;
                c.reason = Some(
                    "a removed block says so: it leaves state, the object stays in the cloud"
                        .into(),
                );
                self.changes.push(c);
                continue;
            }
            if !self.opts.destroy {
                c.reason = Some(if self.cfg.resources.contains_key(&addr.block) {
                    "its key is no longer in count / for_each".into()
                } else {
                    "it is no longer in the configuration".into()
                });
            }
            self.changes.push(c);
        }
    }
}

/// Variable values a saved plan may hold: not `sensitive` ones, and none that a provider block
/// reads (credentials never go into plan files); `apply PLANFILE` takes those from its inputs.
fn storable_vars(cfg: &Config, vars: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
    let provider_vars: BTreeSet<String> = cfg
        .providers
        .iter()
        .flat_map(|p| p.attrs.values())
        .flat_map(|a| a.value.refs.iter())
        .filter_map(|r| r.target())
        .collect();
    vars.iter()
        .filter(|(k, _)| {
            !provider_vars.contains(&format!("var.{k}"))
                && !cfg.variables.get(*k).is_some_and(|v| v.sensitive)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn provider_key(cfg: &Config, key: Option<&str>) -> String {
    cfg.provider(key)
        .map(|p| p.key())
        .or_else(|| key.map(str::to_string))
        .unwrap_or_else(|| "rackspace".into())
}

impl Plan {
    /// Counts for the summary line.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for ch in &self.changes {
            match ch.action {
                Action::Create => c.add += 1,
                Action::Update => c.change += 1,
                Action::Replace => {
                    c.add += 1;
                    c.destroy += 1
                }
                Action::Delete => c.destroy += 1,
                Action::Read | Action::NoOp => {}
            }
        }
        c.destroy += self.deposed.len();
        c
    }

    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| !matches!(c.action, Action::NoOp | Action::Read))
            || self.outputs_changed
            || (self.refresh_only && !self.drift.is_empty())
            || !self.moves.is_empty()
            || !self.imports.is_empty()
            || !self.deposed.is_empty()
            || self
                .changes
                .iter()
                .any(|c| c.action == Action::NoOp && c.after.is_none())
    }

    /// Every primitive under a sensitive mark anywhere in the plan (for redacting logs).
    pub fn sensitive_strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.changes {
            for m in c.before.iter().chain(c.after.iter()) {
                m.values().for_each(|v| v.sensitive_strings(&mut out));
            }
        }
        for o in self.outputs.values() {
            o.value.sensitive_strings(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests;
