//! The planner: configuration + prior state + refreshed objects → a `Plan` of actions.
//!
//! Architecture Invariant: `plan::plan` is a pure, deterministic function — no I/O, no clock, no
//! randomness. Everything it needs from the cloud arrives in `Refreshed`; data sources whose
//! arguments are known but not yet read come back as `data_requests`, and the caller (refresh)
//! reads them and plans again.

mod edges;
mod instances;
mod kinds;
mod model;
mod moves;
mod restrict;

pub use instances::enter as enter_instance;
use instances::{Instance, block_value, instances};
pub use kinds::parse_duration;
pub use model::*;

use crate::config::eval::{self, Scope};
use crate::config::{Config, Diagnostic, schema};
use crate::graph::Graph;
use crate::state::State;
use crate::value::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

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
    let mut scope = Scope::new();
    for (k, v) in vars {
        scope.set(&format!("var.{k}"), v.clone());
    }
    let mut changes: Vec<Change> = Vec::new();
    let mut data_requests = BTreeMap::new();
    let mut outputs = BTreeMap::new();
    let mut drift = Vec::new();
    let mut schedule_servers: BTreeMap<String, String> = BTreeMap::new();
    // Instance addresses the configuration declares (the rest of state is destroyed).
    let mut planned: BTreeSet<String> = BTreeSet::new();

    for addr in graph.order() {
        if let Some(name) = addr.strip_prefix("var.") {
            if !vars.contains_key(name) {
                scope.set(addr, Value::Unknown);
            }
        } else if let Some(name) = addr.strip_prefix("local.") {
            let Some(def) = cfg.locals.get(name) else {
                continue;
            };
            match eval::eval(&def.value, &scope) {
                Ok(v) => scope.set(addr, v),
                Err(d) => {
                    diags.push(d);
                    scope.set(addr, Value::Unknown);
                }
            }
        } else if let Some(name) = addr.strip_prefix("output.") {
            let Some(o) = cfg.outputs.get(name) else {
                continue;
            };
            match eval::eval(&o.value, &scope) {
                Ok(v) => {
                    outputs.insert(
                        name.to_string(),
                        PlannedOutput {
                            value: v,
                            sensitive: o.sensitive,
                        },
                    );
                }
                Err(d) => diags.push(d),
            }
        } else if let Some(block) = cfg.data.get(addr) {
            let Some(sch) = schema::data(&block.kind) else {
                continue;
            };
            let Some(list) = expand(block, &mut scope, opts, &mut diags) else {
                continue;
            };
            let mut values: Vec<(Option<Value>, Value)> = Vec::new();
            for inst in list {
                inst.enter(&mut scope);
                let (args, mut ds) = kinds::eval_args(block, sch, &scope);
                Instance::leave(&mut scope);
                let known = ds.is_empty() && !Value::Map(args.clone()).contains_unknown();
                diags.append(&mut ds);
                let value = if let Some(found) = refreshed.data.get(&inst.address) {
                    Value::Map(found.clone())
                } else if known && !opts.destroy {
                    data_requests.insert(inst.address.clone(), args);
                    Value::Unknown
                } else {
                    if !opts.destroy {
                        changes.push(Change {
                            address: inst.address.clone(),
                            kind: block.kind.clone(),
                            name: block.name.clone(),
                            provider: provider_key(cfg, block.provider.as_deref()),
                            action: Action::Read,
                            before: None,
                            after: Some(args),
                            replace_paths: vec![],
                            reason: Some(
                                "its arguments depend on values known only after apply".into(),
                            ),
                            managed_keys: vec![],
                            deps: graph.object_deps(addr).into_iter().collect(),
                            key: inst.key.clone(),
                            each_value: inst.each_value.clone(),
                            create_before_destroy: false,
                        });
                    }
                    Value::Unknown
                };
                values.push((inst.key.clone(), value));
            }
            scope.set(addr, block_value(block, values));
        } else if let Some(block) = cfg.resources.get(addr) {
            let Some(sch) = schema::resource(&block.kind) else {
                continue;
            };
            let Some(list) = expand(block, &mut scope, opts, &mut diags) else {
                continue;
            };
            let mut values: Vec<(Option<Value>, Value)> = Vec::new();
            for inst in list {
                let iaddr = inst.address.as_str();
                planned.insert(inst.address.clone());
                inst.enter(&mut scope);
                let (desired, mut ds) = kinds::eval_args(block, sch, &scope);
                Instance::leave(&mut scope);
                let had_errors = !ds.is_empty();
                diags.append(&mut ds);
                diags.extend(kinds::validate(block, &desired));
                if block.kind == "image_schedule"
                    && let Some(Value::String(server)) = desired.get("server_id")
                    && let Some(other) =
                        schedule_servers.insert(server.clone(), inst.address.clone())
                {
                    diags.push(Diagnostic::error(
                        format!(
                            "{iaddr} and {other} both schedule images of server {server}; a server has at most one schedule"
                        ),
                        Some(block.span.clone()),
                    ));
                }
                let prior = state.resources.get(iaddr);
                let current = match refreshed.resources.get(iaddr) {
                    Some(c) => c.as_ref(),
                    None => prior.map(|p| &p.attributes),
                };
                if let (Some(p), None) = (prior, current) {
                    drift.push(Drift {
                        address: inst.address.clone(),
                        message: format!("{iaddr} (id {}) was deleted outside snapform", p.id),
                    });
                }
                let mut change = if opts.destroy {
                    kinds::destroy_change(block.kind.as_str(), iaddr, prior, current)
                } else if had_errors {
                    None
                } else {
                    Some(kinds::diff(
                        block,
                        iaddr,
                        opts.replace.contains(iaddr),
                        &desired,
                        prior,
                        current,
                        refreshed,
                        &mut drift,
                    ))
                };
                let value = match &mut change {
                    Some(c) => {
                        c.provider = provider_key(cfg, block.provider.as_deref());
                        c.deps = edges::precise_deps(cfg, graph, block);
                        c.key = inst.key.clone();
                        c.each_value = inst.each_value.clone();
                        match c.action {
                            Action::Delete => Value::Map(c.before.clone().unwrap_or_default()),
                            _ => Value::Map(c.after.clone().unwrap_or_default()),
                        }
                    }
                    None => Value::Unknown,
                };
                values.push((inst.key.clone(), value));
                if let Some(c) = change {
                    changes.push(c);
                }
            }
            scope.set(addr, block_value(block, values));
        }
    }

    // Resources in state that the configuration no longer declares are destroyed.
    for (addr, rs) in &state.resources {
        if planned.contains(addr) {
            continue;
        }
        let current = match refreshed.resources.get(addr) {
            Some(c) => c.as_ref(),
            None => Some(&rs.attributes),
        };
        if let Some(c) = kinds::destroy_change(&rs.kind, addr, Some(rs), current) {
            let mut c = c;
            c.provider = rs.provider.clone();
            if moves::forget_only(cfg, addr) {
                c.action = Action::NoOp;
                c.after = None;
                c.reason = Some(
                    "a removed block says so: it leaves state, the object stays in the cloud"
                        .into(),
                );
                changes.push(c);
                continue;
            }
            c.reason = Some(
                if cfg
                    .resources
                    .contains_key(crate::config::base_address(addr))
                {
                    "its key is no longer in count / for_each".into()
                } else {
                    "it is no longer in the configuration".into()
                },
            );
            changes.push(c);
        }
    }

    restrict::restrict(cfg, graph, &mut changes, &mut diags, opts);
    let edges = edges::execution_edges(&changes, state);
    if opts.destroy {
        outputs.clear();
    }
    let outputs_changed = outputs.len() != state.outputs.len()
        || outputs.iter().any(|(k, o)| {
            state
                .outputs
                .get(k)
                .is_none_or(|s| s.value != o.value || s.sensitive != o.sensitive)
        });
    let plan = Plan {
        format_version: PLAN_FORMAT_VERSION,
        state_lineage: state.lineage.clone(),
        state_serial: state.serial,
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
            .map(|(k, o)| (k.clone(), o.value.clone()))
            .collect(),
        data_requests,
        data: refreshed.data.clone(),
        edges,
        cursors: refreshed.cursors.clone(),
    };
    (plan, diags)
}

/// The instances of a block; when they cannot be known, the block's value is unknown (and an
/// error is recorded unless this is a lenient pass).
fn expand(
    block: &crate::config::ObjectBlock,
    scope: &mut Scope,
    opts: &Options,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<Instance>> {
    match instances(block, scope, opts.validate_only) {
        Ok(Some(l)) => Some(l),
        Ok(None) => {
            scope.set(&block.addr, Value::Unknown);
            None
        }
        Err(d) => {
            diags.push(d);
            scope.set(&block.addr, Value::Unknown);
            None
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
            || self
                .changes
                .iter()
                .any(|c| c.action == Action::NoOp && c.after.is_none())
    }
}

/// Evaluates a block's arguments (used by apply for values unknown at plan time).
pub fn kinds_eval_args(
    block: &crate::config::ObjectBlock,
    sch: &schema::Schema,
    scope: &Scope,
) -> (Map, Vec<Diagnostic>) {
    kinds::eval_args(block, sch, scope)
}

#[cfg(test)]
mod tests;
