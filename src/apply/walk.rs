//! The coordinator loop: readiness, evaluation of late-known arguments, state persistence.

use super::ops::{self, Msg, Task};
use super::wait::Watcher;
use super::{ApplyError, Event, Options, Outcome, Reporter};
use crate::config::eval::{self, Scope};
use crate::config::{Config, Diagnostic, base_address, instance_key, schema};
use crate::graph::Graph;
use crate::plan::{Action, Change, Plan, kinds_eval_args};
use crate::refresh::Clients;
use crate::state::{Backend, OutputState, State};
use crate::value::{Map, Value};
use petgraph::Direction;
use petgraph::graphmap::DiGraphMap;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// Carries out `plan`. State is written after every completed operation; the returned outcome
/// says what was done, what failed and what was skipped.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    plan: &Plan,
    cfg: &Config,
    graph: &Graph,
    state: &mut State,
    backend: &mut Backend,
    clients: &Clients,
    opts: &Options,
    reporter: Arc<dyn Reporter>,
) -> Result<Outcome, ApplyError> {
    let mut outcome = Outcome::default();
    let mut scope = Scope::new();
    for (k, v) in &plan.variables {
        scope.set(&format!("var.{k}"), v.clone());
    }
    for (addr, v) in &plan.data {
        scope.set_instance(
            base_address(addr),
            instance_key(addr).as_ref(),
            Value::Map(v.clone()),
        );
    }
    let by_addr: BTreeMap<&str, &Change> = plan
        .changes
        .iter()
        .map(|c| (c.address.as_str(), c))
        .collect();
    // `moved` blocks rename state entries; `import` blocks add the objects they adopted.
    for (from, to) in &plan.moves {
        if let Some(mut rs) = state.resources.remove(from) {
            rs.address = to.clone();
            if let Some((_, name)) = base_address(to).split_once('.') {
                rs.name = name.to_string();
            }
            state.resources.insert(to.clone(), rs);
        }
    }
    for (addr, rs) in &plan.imports {
        state
            .resources
            .entry(addr.clone())
            .or_insert_with(|| rs.clone());
    }
    // Planned values (unknown where not applied yet); forget objects already gone.
    for c in &plan.changes {
        if let Some(after) = &c.after
            && c.action != Action::Read
        {
            scope.set_instance(
                base_address(&c.address),
                c.key.as_ref(),
                Value::Map(after.clone()),
            );
        }
        if c.action == Action::NoOp {
            match &c.after {
                Some(after) => {
                    if let Some(rs) = state.resources.get_mut(&c.address) {
                        rs.attributes = ops::state_attrs(after);
                        rs.managed_keys = c.managed_keys.clone();
                    }
                }
                None => {
                    state.resources.remove(&c.address);
                }
            }
        }
    }
    crate::refresh::store_cursors(state, plan, false);
    backend.write(state).await?;

    let sem = Arc::new(Semaphore::new(opts.parallelism.max(1)));
    let watcher = Watcher::start(
        sem.clone(),
        reporter.clone(),
        opts.poll_interval,
        opts.batch_wait_from,
    );
    let (tx, mut rx) = mpsc::channel::<Msg>(64);
    // The execution graph from the plan (edge: dependency → dependent); apply only walks it.
    let mut exec: DiGraphMap<&str, ()> = DiGraphMap::new();
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        exec.add_node(c.address.as_str());
    }
    for (addr, deps) in &plan.edges {
        for d in deps {
            if exec.contains_node(d.as_str()) && exec.contains_node(addr.as_str()) {
                exec.add_edge(d.as_str(), addr.as_str(), ());
            }
        }
    }
    if let Err(cycle) = petgraph::algo::toposort(&exec, None) {
        return Err(ApplyError::Inconsistent(format!(
            "the plan's execution graph has a cycle through {}",
            cycle.node_id()
        )));
    }
    // Unfinished dependencies per node; a node is ready when its count reaches zero.
    let mut waiting: BTreeMap<&str, usize> = exec
        .nodes()
        .map(|n| (n, exec.neighbors_directed(n, Direction::Incoming).count()))
        .collect();
    let mut ready: VecDeque<String> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(a, _)| a.to_string())
        .collect();
    let mut failed: BTreeSet<String> = BTreeSet::new();
    let mut running: JoinSet<(String, Result<Option<crate::state::ResourceState>, String>)> =
        JoinSet::new();
    let mut started_at: BTreeMap<String, Instant> = BTreeMap::new();
    // Marks `addr` as settled (done, failed or skipped) and queues dependents that became ready.
    let settle = |addr: &str, waiting: &mut BTreeMap<&str, usize>, ready: &mut VecDeque<String>| {
        for d in exec.neighbors_directed(addr, Direction::Outgoing) {
            if let Some(n) = waiting.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.push_back(d.to_string());
                }
            }
        }
    };

    loop {
        // Start everything whose dependencies are settled; skip what depends on a failure.
        while let Some(addr) = ready.pop_front() {
            {
                let blocked = exec
                    .neighbors_directed(addr.as_str(), Direction::Incoming)
                    .find(|x| failed.contains(*x));
                if let Some(b) = blocked {
                    failed.insert(addr.clone());
                    outcome.skipped.push(addr.clone());
                    reporter.report(Event::Skipped {
                        address: addr.clone(),
                        because: format!("{b} failed"),
                    });
                    settle(&addr, &mut waiting, &mut ready);
                    continue;
                }
                let change = by_addr[addr.as_str()];
                let args = match late_args(cfg, graph, &mut scope, change) {
                    Ok(a) => a,
                    Err(msg) => {
                        failed.insert(addr.clone());
                        outcome.failed.push((addr.clone(), msg.clone()));
                        reporter.report(Event::Failed {
                            address: addr.clone(),
                            error: msg,
                        });
                        settle(&addr, &mut waiting, &mut ready);
                        continue;
                    }
                };
                let client = match clients.get(&change.provider) {
                    Ok(c) => c.clone(),
                    Err(e) => {
                        failed.insert(addr.clone());
                        outcome.failed.push((addr.clone(), e.to_string()));
                        reporter.report(Event::Failed {
                            address: addr.clone(),
                            error: e.to_string(),
                        });
                        settle(&addr, &mut waiting, &mut ready);
                        continue;
                    }
                };
                reporter.report(Event::Started {
                    address: addr.clone(),
                    action: change.action,
                });
                started_at.insert(addr.clone(), Instant::now());
                let task = Task {
                    change: change.clone(),
                    args,
                    prior: state.resources.get(&addr).cloned(),
                    client,
                    sem: sem.clone(),
                    tx: tx.clone(),
                    watcher: watcher.clone(),
                };
                running.spawn(async move {
                    let addr = task.change.address.clone();
                    (addr, ops::run(task).await)
                });
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some(msg) = rx.recv() => handle_msg(msg, state, backend).await?,
            Some(joined) = running.join_next() => {
                let (addr, result) = match joined {
                    Ok(r) => r,
                    Err(e) => (String::from("?"), Err(format!("task failed: {e}"))),
                };
                // Drain messages sent before the task ended so state is in order.
                while let Ok(msg) = rx.try_recv() {
                    handle_msg(msg, state, backend).await?;
                }
                let change = by_addr.get(addr.as_str()).copied();
                let elapsed = started_at.get(&addr).map(|t| t.elapsed()).unwrap_or_default();
                match result {
                    Ok(rs) => {
                        match &rs {
                            Some(rs) => {
                                let key = change.and_then(|c| c.key.as_ref());
                                scope.set_instance(
                                    base_address(&addr),
                                    key,
                                    Value::Map(rs.attributes.clone()),
                                );
                                state.resources.insert(addr.clone(), rs.clone());
                            }
                            None => {
                                state.resources.remove(&addr);
                            }
                        }
                        backend.write(state).await?;
                        let action = change.map(|c| c.action).unwrap_or(Action::NoOp);
                        outcome.done.push((addr.clone(), action));
                        reporter.report(Event::Finished {
                            address: addr.clone(),
                            action,
                            id: rs.map(|r| r.id),
                            elapsed,
                        });
                    }
                    Err(e) => {
                        failed.insert(addr.clone());
                        outcome.failed.push((addr.clone(), e.clone()));
                        reporter.report(Event::Failed { address: addr.clone(), error: e });
                    }
                }
                settle(&addr, &mut waiting, &mut ready);
            }
        }
    }
    drop(tx);
    while let Ok(msg) = rx.try_recv() {
        handle_msg(msg, state, backend).await?;
    }

    // Outputs, with everything now known.
    if plan.destroy {
        state.outputs.clear();
    } else {
        for (name, o) in &cfg.outputs {
            let v = eval_with_locals(cfg, graph, &mut scope, &format!("output.{name}"))
                .and_then(|_| eval::eval(&o.value, &scope).map_err(|d| d.message));
            if let Ok(v) = v
                && !v.contains_unknown()
            {
                state.outputs.insert(
                    name.clone(),
                    OutputState {
                        value: v,
                        sensitive: o.sensitive,
                    },
                );
            }
        }
        state.outputs.retain(|k, _| cfg.outputs.contains_key(k));
    }
    if outcome.success() {
        crate::refresh::store_cursors(state, plan, true);
    }
    backend.write(state).await?;
    Ok(outcome)
}

async fn handle_msg(msg: Msg, state: &mut State, backend: &mut Backend) -> Result<(), ApplyError> {
    match msg {
        Msg::Journal { intent, ack } => {
            state.journal.push(intent);
            backend.write(state).await?;
            let _ = ack.send(());
        }
        Msg::Record {
            rs,
            clear_intent,
            ack,
        } => {
            if let Some(id) = clear_intent {
                state.journal.retain(|i| i.id != id);
            }
            state.resources.insert(rs.address.clone(), rs);
            backend.write(state).await?;
            let _ = ack.send(());
        }
        Msg::ClearIntent { id } => {
            state.journal.retain(|i| i.id != id);
            backend.write(state).await?;
        }
    }
    Ok(())
}

/// Evaluates the locals an object depends on, in order, into the scope.
fn eval_with_locals(
    cfg: &Config,
    graph: &Graph,
    scope: &mut Scope,
    addr: &str,
) -> Result<(), String> {
    let mut needed = BTreeSet::new();
    let mut stack = graph.deps(addr);
    while let Some(d) = stack.pop() {
        if d.starts_with("local.") && needed.insert(d.clone()) {
            stack.extend(graph.deps(&d));
        }
    }
    for a in graph.order().iter().filter(|a| needed.contains(*a)) {
        if let Some(def) = cfg.locals.get(a.trim_start_matches("local.")) {
            let v = eval::eval(&def.value, scope).map_err(|d: Diagnostic| d.message)?;
            scope.set(a, v);
        }
    }
    Ok(())
}

/// The arguments of a change, evaluated now that its dependencies are applied; known values must
/// match the plan.
fn late_args(
    cfg: &Config,
    graph: &Graph,
    scope: &mut Scope,
    change: &Change,
) -> Result<Map, String> {
    if change.action == Action::Delete {
        return Ok(Map::new());
    }
    let Some(block) = cfg.object(base_address(&change.address)) else {
        return Err(format!(
            "{} is in the plan but not in the configuration",
            change.address
        ));
    };
    eval_with_locals(cfg, graph, scope, &change.address)?;
    let sch = if change.action == Action::Read {
        schema::data(&block.kind)
    } else {
        schema::resource(&block.kind)
    };
    let Some(sch) = sch else {
        return Err(format!("unknown type {}", block.kind));
    };
    crate::plan::enter_instance(scope, change.key.as_ref(), change.each_value.as_ref());
    let (args, diags) = kinds_eval_args(block, sch, scope);
    scope.remove_root("count");
    scope.remove_root("each");
    if let Some(d) = diags.first() {
        return Err(d.message.clone());
    }
    if Value::Map(args.clone()).contains_unknown() {
        return Err(format!(
            "{}: some arguments are still unknown after their dependencies were applied",
            change.address
        ));
    }
    if let Some(after) = &change.after {
        for (k, v) in &args {
            if let Some(planned) = after.get(k)
                && !planned.contains_unknown()
                && normalize(k, planned) != normalize(k, v)
            {
                return Err(format!(
                    "{}: \"{k}\" was planned as {planned} but is now {v}; run plan again",
                    change.address
                ));
            }
        }
    }
    Ok(args)
}

fn normalize(k: &str, v: &Value) -> Value {
    match (k, v) {
        ("day_of_week", Value::String(s)) => Value::String(s.to_uppercase()),
        _ => v.clone(),
    }
}
