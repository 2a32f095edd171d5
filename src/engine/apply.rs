//! Applying a plan: saved plan files (read, written, and the staleness check that refuses a
//! plan whose state or objects changed since it was made), and the apply itself with a stream
//! of events for whoever shows progress.

use super::Error;
use super::connect::Connected;
use super::planning::{PlanOptions, make_plan};
use super::workspace::{self, VarArgs, Workspace};
use crate::apply::{self, Outcome, Reporter};
use crate::config::Sources;
use crate::plan::{PLAN_FORMAT_VERSION, Plan};
use crate::state::{Backend, State};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Cloud API calls in flight at once.
    pub parallelism: usize,
    /// How often snapshots still saving are polled.
    pub poll_interval: Duration,
    /// From this many snapshots saving at once on one endpoint, poll them with one listing
    /// per round instead of one GET each.
    pub batch_wait_from: usize,
    /// When a wait for a snapshot first checks that the cloud is still making it.
    pub abandon_check: Duration,
    /// Set to `true` to interrupt the apply gracefully (see `apply::Options::interrupt`).
    pub interrupt: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            poll_interval: Duration::from_secs(1),
            batch_wait_from: 4,
            abandon_check: Duration::from_secs(60),
            interrupt: None,
        }
    }
}

/// Reads a saved plan file.
pub fn read_plan_file(path: &Path) -> Result<Plan, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::msg(format!("cannot read plan {}: {e}", path.display())))?;
    let text = crate::state::crypt::open_plan(&text, &format!("plan {}", path.display()))
        .map_err(Error::msg)?;
    parse_plan(&text, &path.display().to_string())
}

/// A plan file's text as a plan; `name` (the file) is for messages. Any text gives a plan or
/// an error, never a panic (fuzzed: fuzz/fuzz_targets/plan_read.rs).
pub fn parse_plan(text: &str, name: &str) -> Result<Plan, Error> {
    let p: Plan = serde_json::from_str(text)
        .map_err(|e| Error::msg(format!("{name} is not a snapform plan: {e}")))?;
    if p.format_version != PLAN_FORMAT_VERSION {
        return Err(Error::msg(format!(
            "{name} has plan format {}; this snapform reads {PLAN_FORMAT_VERSION}",
            p.format_version
        )));
    }
    Ok(p)
}

/// Writes a plan file (sensitive values never reach it: see `Value`'s serialization).
pub fn write_plan_file(path: &Path, p: &Plan) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(p)
        .map_err(|e| Error::msg(format!("cannot encode the plan: {e}")))?;
    let text = crate::state::crypt::seal_plan(&text).map_err(Error::msg)?;
    std::fs::write(path, text)
        .map_err(|e| Error::msg(format!("cannot write {}: {e}", path.display())))
}

/// The workspace a saved plan was made from: exactly its configuration and variables; the
/// values a plan never stores (sensitive ones, provider credentials) come from this run's
/// inputs.
pub fn load_for_plan(dir: &Path, p: &Plan, vars: &VarArgs) -> Result<Workspace, Error> {
    let mut inputs = workspace::var_inputs(dir, vars)?;
    inputs.saved_plan = true;
    // A saved plan holds every value but the sensitive ones; only those may be given again.
    if let Some((k, _)) = inputs.cli.iter().find(|(k, _)| p.variables.contains_key(k)) {
        return Err(Error::msg(format!(
            "can't set variable \"{k}\" when applying a saved plan: the plan holds the value it was made with; make a new plan with -var {k}=... instead"
        )));
    }
    inputs.cli.extend(p.variables.iter().map(|(k, v)| {
        (
            k.clone(),
            v.to_plain_string()
                .unwrap_or_else(|| v.to_json().to_string()),
        )
    }));
    let mut ws = workspace::load(dir, Sources::new(p.sources.files.clone()), &inputs)?;
    let made_in = if p.workspace.is_empty() {
        "default"
    } else {
        p.workspace.as_str()
    };
    if made_in != ws.cfg.workspace {
        return Err(Error::msg(format!(
            "the saved plan was made in workspace {made_in:?}, and the current workspace is {:?}; select it (snapform workspace select {made_in}) to apply this plan",
            ws.cfg.workspace
        )));
    }
    for (k, v) in &p.variables {
        ws.vars.insert(k.clone(), v.clone());
    }
    Ok(ws)
}

/// Refuses a saved plan made against another state (lineage or serial differ) or whose
/// objects changed in the cloud since it was planned.
pub async fn check_saved_plan(
    ws: &Workspace,
    p: &Plan,
    state: &mut State,
    conn: &Connected,
) -> Result<(), Error> {
    let fresh = state.serial == 0 && p.state_serial == 0;
    if !fresh && (p.state_lineage != state.lineage || p.state_serial != state.serial) {
        return Err(Error::msg(
            "Saved plan is stale: the state changed since the plan was made (serial or lineage differ). Run plan again.",
        ));
    }
    if fresh {
        state.lineage = p.state_lineage.clone();
    }
    let now = make_plan(ws, state, conn, p.destroy, &PlanOptions::default()).await?;
    for c in &p.changes {
        let again = now.changes.iter().find(|n| n.address == c.address);
        // Compared as a plan file holds them (sensitive values redacted).
        let before_now = again.map(|n| n.before.as_deref().map(redacted));
        if before_now != Some(c.before.as_deref().map(redacted)) {
            return Err(Error::msg(format!(
                "Saved plan is stale: {} changed since the plan was made. Run plan again.",
                c.address
            )));
        }
    }
    Ok(())
}

fn redacted(m: &crate::value::Map) -> crate::value::Map {
    m.iter().map(|(k, v)| (k.clone(), v.redacted())).collect()
}

/// Carries out `plan`, reporting progress to `reporter`; state is persisted after every
/// operation.
pub async fn apply_plan(
    ws: &Workspace,
    plan: &Plan,
    state: &mut State,
    backend: &mut Backend,
    conn: &Connected,
    opts: &ApplyOptions,
    reporter: Arc<dyn Reporter>,
) -> Result<Outcome, Error> {
    let opts = apply::Options {
        parallelism: opts.parallelism.max(1),
        poll_interval: opts.poll_interval,
        batch_wait_from: opts.batch_wait_from,
        abandon_check: opts.abandon_check,
        interrupt: opts.interrupt.clone(),
    };
    apply::apply(
        plan,
        &ws.cfg,
        &ws.graph,
        &ws.vars,
        state,
        backend,
        &conn.clients,
        &opts,
        reporter,
    )
    .await
    .map_err(|e| Error::msg(e.to_string()))
}
