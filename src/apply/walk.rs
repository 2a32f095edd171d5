//! The coordinator loop: readiness, evaluation of late-known arguments, state persistence.

use super::ops::{self, Msg};
use super::wait::Watcher;
use super::{ApplyError, Event, Options, Outcome, Reporter};
use crate::addr::{BlockAddr, InstanceAddr, InstanceKey};
use crate::config::Config;
use crate::graph::{Evaluator, Expansion, Graph, Instance};
use crate::plan::{Action, Change, Plan};
use crate::refresh::Clients;
use crate::resources::{Op, Shared, Waiter};
use crate::state::{Backend, Delta, OutputState, State};
use crate::value::{Map, Value};
use petgraph::Direction;
use petgraph::graphmap::DiGraphMap;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// Carries out `plan`. State is written after every completed operation; the returned outcome
/// says what was done, what failed and what was skipped. `vars` are this run's variable
/// values (a saved plan's, plus the sensitive ones it never stores).
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    plan: &Plan,
    cfg: &Config,
    graph: &Graph,
    vars: &BTreeMap<String, Value>,
    state: &mut State,
    backend: &mut Backend,
    clients: &Clients,
    opts: &Options,
    reporter: Arc<dyn Reporter>,
) -> Result<Outcome, ApplyError> {
    let mut outcome = Outcome::default();
    let by_addr: BTreeMap<&InstanceAddr, &Change> =
        plan.changes.iter().map(|c| (&c.address, c)).collect();
    // `moved` blocks rename state entries; `import` blocks add the objects they adopted.
    for (from, to) in &plan.moves {
        if let Some(mut rs) = state.resources.remove(from) {
            rs.address = to.clone();
            rs.name = to.block.name.clone();
            state.resources.insert(to.clone(), rs);
        }
    }
    for (addr, rs) in &plan.imports {
        state
            .resources
            .entry(addr.clone())
            .or_insert_with(|| rs.clone());
    }
    // Deposed objects that refresh found gone are forgotten.
    if !plan.refresh_only {
        state.deposed.retain(|d| {
            plan.deposed
                .iter()
                .any(|p| p.id == d.id && p.kind == d.kind)
        });
    }
    let ev = seeded_evaluator(plan, cfg, graph, vars, state);
    // Forget objects already gone; record the refreshed view of unchanged ones.
    for c in &plan.changes {
        if c.action == Action::NoOp {
            match &c.after {
                Some(after) => {
                    if let Some(rs) = state.resources.get_mut(&c.address) {
                        rs.attributes = ops::state_attrs(after);
                        rs.managed_keys = c.managed_keys.clone();
                        rs.sensitive_attributes = c.sensitive_attributes.clone();
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
    let journal = ops::channel(tx.clone());
    let waiter: Arc<dyn Waiter> = Arc::new(watcher.clone());
    let shared = Arc::new(
        Shared::new(state.known_ids())
            .with_stop(opts.interrupt.clone())
            .with_abandon_check(opts.abandon_check),
    );
    destroy_deposed(
        plan,
        state,
        backend,
        clients,
        &sem,
        &journal,
        &waiter,
        &shared,
        &reporter,
        &mut outcome,
    )
    .await?;
    // The execution graph from the plan (edge: dependency → dependent); apply only walks it.
    let mut exec: DiGraphMap<&InstanceAddr, ()> = DiGraphMap::new();
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        exec.add_node(&c.address);
    }
    for (addr, deps) in &plan.edges {
        for d in deps {
            if exec.contains_node(d) && exec.contains_node(addr) {
                exec.add_edge(d, addr, ());
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
    let mut waiting: BTreeMap<&InstanceAddr, usize> = exec
        .nodes()
        .map(|n| (n, exec.neighbors_directed(n, Direction::Incoming).count()))
        .collect();
    let mut ready: VecDeque<InstanceAddr> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(a, _)| (*a).clone())
        .collect();
    let mut failed: BTreeSet<InstanceAddr> = BTreeSet::new();
    type Done = (
        InstanceAddr,
        Result<Option<crate::state::ResourceState>, String>,
    );
    let mut running: JoinSet<Option<Done>> = JoinSet::new();
    let mut started_at: BTreeMap<InstanceAddr, Instant> = BTreeMap::new();
    // Marks `addr` as settled (done, failed or skipped) and queues dependents that became ready.
    let settle = |addr: &InstanceAddr,
                  waiting: &mut BTreeMap<&InstanceAddr, usize>,
                  ready: &mut VecDeque<InstanceAddr>| {
        for d in exec.neighbors_directed(addr, Direction::Outgoing) {
            if let Some(n) = waiting.get_mut(d) {
                *n -= 1;
                if *n == 0 {
                    ready.push_back(d.clone());
                }
            }
        }
    };

    loop {
        // Start everything whose dependencies are settled; skip what depends on a failure.
        while let Some(addr) = ready.pop_front() {
            {
                if shared.is_stopped() {
                    // Interrupted: nothing new starts.
                    outcome.interrupted = true;
                    outcome.skipped.push(addr.clone());
                    reporter.report(Event::Skipped {
                        address: addr.clone(),
                        because: "the apply was interrupted".into(),
                    });
                    settle(&addr, &mut waiting, &mut ready);
                    continue;
                }
                let blocked = exec
                    .neighbors_directed(&addr, Direction::Incoming)
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
                let change = by_addr[&addr];
                let args = match late_args(cfg, &ev, change) {
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
                let op = Op {
                    address: change.address.clone(),
                    kind: change.kind.clone(),
                    name: change.name.clone(),
                    provider: change.provider.clone(),
                    args,
                    before: change.before.as_deref().map(crate::plan::unmarked),
                    prior: state.resources.get(&addr).cloned(),
                    managed_keys: change.managed_keys.clone(),
                    deps: change.deps.clone(),
                    sensitive_attributes: change.sensitive_attributes.clone(),
                    client,
                    sem: sem.clone(),
                    journal: journal.clone(),
                    waiter: waiter.clone(),
                    shared: shared.clone(),
                };
                let change = change.clone();
                running.spawn(async move {
                    let addr = change.address.clone();
                    Some((addr, ops::run(change, op).await))
                });
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some(msg) = rx.recv() => handle_msgs(Some(msg), &mut rx, state, backend, Pending::default()).await?,
            Some(joined) = running.join_next() => {
                let (addr, result) = match joined {
                    Ok(Some(r)) => r,
                    Ok(None) => continue,
                    Err(e) => return Err(ApplyError::Inconsistent(format!("an apply task failed: {e}"))),
                };
                // Messages sent before the task ended come first, so state is in order.
                let mut pending = Pending::default();
                while let Ok(msg) = rx.try_recv() {
                    pending.apply(msg, state);
                }
                let change = by_addr.get(&addr).copied();
                let elapsed = started_at.get(&addr).map(|t| t.elapsed()).unwrap_or_default();
                match result {
                    Ok(rs) => {
                        match &rs {
                            // A data source read during apply: known to what depends on it,
                            // recorded for `show`, never a managed resource.
                            Some(rs) if addr.block.data => {
                                ev.set_instance(&addr, Value::Map(rs.shown_attributes()));
                                state.data.insert(addr.clone(), rs.attributes.clone());
                            }
                            Some(rs) => {
                                ev.set_instance(&addr, Value::Map(rs.shown_attributes()));
                                state.put(rs.clone());
                            }
                            None => {
                                state.resources.remove(&addr);
                            }
                        }
                        pending.touched.insert(addr.clone());
                        pending.any = true;
                        handle_msgs(None, &mut rx, state, backend, pending).await?;
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
                        handle_msgs(None, &mut rx, state, backend, pending).await?;
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
    handle_msgs(None, &mut rx, state, backend, Pending::default()).await?;
    outcome.interrupted |= shared.is_stopped();

    // What the data sources read (at plan or during this apply), for `show`.
    if plan.destroy {
        state.data.clear();
    } else if !plan.refresh_only {
        let read_now: BTreeMap<InstanceAddr, crate::value::Map> = std::mem::take(&mut state.data)
            .into_iter()
            .filter(|(a, _)| by_addr.get(a).is_some_and(|c| c.action == Action::Read))
            .collect();
        state.data = plan
            .data
            .iter()
            .map(|(a, m)| (a.clone(), ops::state_attrs(m)))
            .chain(read_now)
            .collect();
    }
    // Outputs, with everything now known. State keeps their values in clear, with the flag.
    if plan.destroy {
        state.outputs.clear();
    } else {
        for (name, o) in &cfg.outputs {
            if let Some(Ok(v)) = ev.output(name)
                && !v.contains_unknown()
                && (o.sensitive || !v.contains_sensitive())
            {
                state.outputs.insert(
                    name.clone(),
                    OutputState {
                        value: v.unmarked(),
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

/// Destroys the deposed objects of the plan (a replacement left them), first and one after
/// the other: nothing depends on them. One that cannot be destroyed stays in state.
#[allow(clippy::too_many_arguments)]
async fn destroy_deposed(
    plan: &Plan,
    state: &mut State,
    backend: &mut Backend,
    clients: &Clients,
    sem: &Arc<Semaphore>,
    journal: &Arc<dyn crate::resources::Journal>,
    waiter: &Arc<dyn Waiter>,
    shared: &Arc<Shared>,
    reporter: &Arc<dyn Reporter>,
    outcome: &mut Outcome,
) -> Result<(), ApplyError> {
    for d in &plan.deposed {
        let (Some(kind), Ok(client)) = (
            crate::resources::resource(&d.kind),
            clients.get(&d.provider),
        ) else {
            continue;
        };
        reporter.report(Event::Started {
            address: d.address.clone(),
            action: Action::Delete,
        });
        let started = Instant::now();
        let op = Op {
            address: d.address.clone(),
            kind: d.kind.clone(),
            name: d.name.clone(),
            provider: d.provider.clone(),
            args: Map::new(),
            before: Some(d.attributes.clone()),
            prior: Some(d.clone()),
            managed_keys: d.managed_keys.clone(),
            deps: Vec::new(),
            sensitive_attributes: d.sensitive_attributes.clone(),
            client: client.clone(),
            sem: sem.clone(),
            journal: journal.clone(),
            waiter: waiter.clone(),
            shared: shared.clone(),
        };
        match kind.delete(&op).await {
            Ok(()) => {
                state
                    .deposed
                    .retain(|x| !(x.id == d.id && x.kind == d.kind));
                backend.write_delta(state, &Delta::default()).await?;
                outcome.done.push((d.address.clone(), Action::Delete));
                reporter.report(Event::Finished {
                    address: d.address.clone(),
                    action: Action::Delete,
                    id: Some(d.id.clone()),
                    elapsed: started.elapsed(),
                });
            }
            Err(e) => {
                let e = format!("deposed object {}: {e}", d.id);
                outcome.failed.push((d.address.clone(), e.clone()));
                reporter.report(Event::Failed {
                    address: d.address.clone(),
                    error: e,
                });
            }
        }
    }
    Ok(())
}

/// Changes a worker reported, applied to state but not yet durable, and who waits for that.
#[derive(Default)]
struct Pending {
    touched: BTreeSet<InstanceAddr>,
    acks: Vec<tokio::sync::oneshot::Sender<()>>,
    any: bool,
    /// Intents started and ids settled, so the write records only those.
    started: Vec<crate::state::Intent>,
    settled: Vec<String>,
}

impl Pending {
    fn apply(&mut self, msg: Msg, state: &mut State) {
        self.any = true;
        match msg {
            Msg::Journal { intent, ack } => {
                self.started.push(intent.clone());
                state.journal.push(intent);
                self.acks.push(ack);
            }
            Msg::Record {
                rs,
                clear_intent,
                ack,
            } => {
                if let Some(id) = clear_intent {
                    state.journal.retain(|i| i.id != id);
                    self.settled.push(id);
                }
                self.touched.insert(rs.address.clone());
                state.put(rs);
                self.acks.push(ack);
            }
            Msg::ClearIntent { id } => {
                state.journal.retain(|i| i.id != id);
                self.settled.push(id);
            }
            Msg::Forget { address, id, ack } => {
                state.forget(&address, &id);
                self.touched.insert(address);
                self.acks.push(ack);
            }
        }
    }

    /// Group commit: one durable write for everything pending, then every waiter is told.
    async fn commit(self, state: &mut State, backend: &mut Backend) -> Result<(), ApplyError> {
        if !self.any {
            return Ok(());
        }
        backend
            .write_delta(
                state,
                &Delta {
                    touched: self.touched,
                    journal: Some((self.started, self.settled)),
                },
            )
            .await?;
        for ack in self.acks {
            let _ = ack.send(());
        }
        Ok(())
    }
}

/// Applies `first` and every message already waiting, then commits them together.
async fn handle_msgs(
    first: Option<Msg>,
    rx: &mut mpsc::Receiver<Msg>,
    state: &mut State,
    backend: &mut Backend,
    mut pending: Pending,
) -> Result<(), ApplyError> {
    if let Some(m) = first {
        pending.apply(m, state);
    }
    while let Ok(m) = rx.try_recv() {
        pending.apply(m, state);
    }
    pending.commit(state, backend).await
}

/// An evaluator holding every instance value apply starts from: what state has, then what
/// the plan expects (unknown where only the cloud can tell), then the data sources it read.
pub(crate) fn seeded_evaluator<'c>(
    plan: &Plan,
    cfg: &'c Config,
    graph: &'c Graph,
    vars: &BTreeMap<String, Value>,
    state: &State,
) -> Evaluator<'c> {
    let ev = Evaluator::new(cfg, graph, vars);
    let mut keys: BTreeMap<&BlockAddr, BTreeSet<Option<InstanceKey>>> = BTreeMap::new();
    let planned: BTreeSet<&InstanceAddr> = plan.changes.iter().map(|c| &c.address).collect();
    for a in state.resources.keys().filter(|a| !planned.contains(a)) {
        keys.entry(&a.block).or_default().insert(a.key.clone());
    }
    for c in plan.changes.iter().filter(|c| c.action != Action::Delete) {
        keys.entry(&c.address.block)
            .or_default()
            .insert(c.address.key.clone());
    }
    for a in plan.data.keys() {
        keys.entry(&a.block).or_default().insert(a.key.clone());
    }
    for (block, ks) in keys {
        let Some(b) = cfg.object(block) else { continue };
        let e = if b.count.is_some() {
            let n = ks
                .iter()
                .filter_map(|k| match k {
                    Some(InstanceKey::Index(i)) => Some(i + 1),
                    _ => None,
                })
                .max()
                .unwrap_or(0);
            Expansion::Count(n)
        } else if b.for_each.is_some() {
            Expansion::Keys(
                ks.into_iter()
                    .filter_map(|k| match k {
                        Some(InstanceKey::Key(k)) => Some(k),
                        _ => None,
                    })
                    .collect(),
            )
        } else {
            Expansion::Single
        };
        ev.set_expansion(block, e);
    }
    for (addr, rs) in &state.resources {
        if !planned.contains(addr) {
            ev.set_instance(addr, Value::Map(rs.shown_attributes()));
        }
    }
    for c in &plan.changes {
        if let Some(after) = &c.after
            && c.action != Action::Read
        {
            ev.set_instance(&c.address, Value::Map((**after).clone()));
        }
    }
    for (addr, v) in &plan.data {
        ev.set_instance(addr, Value::Map(v.clone()));
    }
    ev
}

/// The arguments of a change, evaluated now that its dependencies are applied (marks removed:
/// these go to the cloud); known values must match the plan.
pub(super) fn late_args(cfg: &Config, ev: &Evaluator<'_>, change: &Change) -> Result<Map, String> {
    if change.action == Action::Delete {
        return Ok(Map::new());
    }
    let Some(block) = cfg.object(&change.address.block) else {
        return Err(format!(
            "{} is in the plan but not in the configuration",
            change.address
        ));
    };
    let sch = if change.action == Action::Read {
        crate::resources::data_schema(&block.kind)
    } else {
        crate::resources::resource_schema(&block.kind)
    };
    let Some(sch) = sch else {
        return Err(format!("unknown type {}", block.kind));
    };
    // `each.value` may hold what was unknown when planning (`for_each = image.g`): read the
    // for_each again now that its dependencies are applied.
    let inst = ev
        .current_instance(
            block,
            Instance {
                addr: change.address.clone(),
                each_value: change.each_value.clone(),
            },
        )
        .map_err(|d| d.message)?;
    let (args, diags) = ev.eval_args(block, sch, Some(&inst));
    if let Some(d) = diags.first() {
        return Err(d.message.clone());
    }
    let mut args: Map = args
        .iter()
        .map(|(k, v)| (k.clone(), v.unmarked()))
        .collect();
    // lifecycle.ignore_changes: what the plan kept from the cloud for an ignored attribute (or
    // key of a map) is what goes to it, not the configuration's value.
    if let Some(after) = change
        .after
        .as_ref()
        .filter(|_| change.action != Action::Create)
    {
        let ignores = &block.lifecycle.ignore_changes;
        // The value the plan kept for an ignored attribute: as planned, else as the cloud had
        // it (a saved plan reads sensitive values back unknown); never the configuration's.
        let kept = |k: &str, key: Option<&str>| -> Result<Option<Value>, String> {
            let pick = |m: Option<&Value>| match (m, key) {
                (Some(v), Some(key)) => v.as_map().and_then(|m| m.get(key)).cloned(),
                (v, None) => v.cloned(),
                (None, Some(_)) => None,
            };
            let planned = pick(after.get(k));
            let before = pick(change.before.as_ref().and_then(|b| b.get(k)));
            match (planned, before) {
                (Some(v), _) if !v.contains_unknown() => Ok(Some(v.unmarked())),
                (Some(_), Some(b)) if !b.contains_unknown() => Ok(Some(b.unmarked())),
                (Some(_), _) => Err(format!(
                    "{}: the kept value of ignored \"{k}\" is not known; run plan again",
                    change.address
                )),
                (None, _) => Ok(None),
            }
        };
        for k in args.keys().cloned().collect::<Vec<_>>() {
            if ignores.iter().any(|x| x == "all" || *x == k) {
                match kept(&k, None)? {
                    Some(v) => args.insert(k, v),
                    None => args.remove(&k),
                };
                continue;
            }
            let keys: Vec<&str> = ignores
                .iter()
                .filter_map(|x| x.strip_prefix(k.as_str())?.strip_prefix('.'))
                .collect();
            if keys.is_empty() {
                continue;
            }
            let Some(mut map) = args.get(&k).and_then(Value::as_map).cloned() else {
                continue;
            };
            for key in keys {
                match kept(&k, Some(key))? {
                    Some(v) => map.insert(key.to_string(), v),
                    None => map.remove(key),
                };
            }
            args.insert(k, Value::Map(map));
        }
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
                && normalize(&block.kind, k, &planned.unmarked()) != normalize(&block.kind, k, v)
            {
                let shown = |x: &Value| {
                    if planned.contains_sensitive() {
                        "(sensitive value)".to_string()
                    } else {
                        x.to_string()
                    }
                };
                return Err(format!(
                    "{}: \"{k}\" was planned as {} but is now {}; run plan again",
                    change.address,
                    shown(planned),
                    shown(v)
                ));
            }
        }
    }
    Ok(args)
}

/// The normal form of an argument (as the planner compares it).
fn normalize(kind: &str, k: &str, v: &Value) -> Value {
    match crate::resources::resource(kind) {
        Some(r) => r.normalized(k, Some(v)),
        None => v.clone(),
    }
}
