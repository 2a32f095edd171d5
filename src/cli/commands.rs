//! The commands: each builds its options, runs the layers in order and maps the result to an
//! exit code (0 ok, 1 error, 2 changes present with `--detailed-exitcode`).

use super::args::{ApplyArgs, Cli, Command, PlanArgs, PlanFlags, SandboxCommand, StateCommand};
use super::progress::Progress;
use super::{CliError, redact, render};
use crate::engine::{self, Session, Workspace};
use crate::plan::{self, Plan};
use crate::state::State;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The human plan, coloured on a terminal unless `--no-color` / `NO_COLOR`.
fn shown(p: &Plan) -> String {
    let text = render::plan(p);
    if render::use_color(NO_COLOR.load(std::sync::atomic::Ordering::Relaxed)) {
        render::colorize(&text)
    } else {
        text
    }
}

static NO_COLOR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub async fn run(cli: Cli) -> Result<u8, CliError> {
    NO_COLOR.store(cli.no_color, std::sync::atomic::Ordering::Relaxed);
    let dir = match &cli.chdir {
        Some(d) => d.clone(),
        None => std::env::current_dir()
            .map_err(|e| CliError::msg(format!("cannot read the current directory: {e}")))?,
    };
    match cli.command {
        Command::Init => {
            std::fs::create_dir_all(dir.join(".snapform"))
                .map_err(|e| CliError::msg(format!("cannot create .snapform: {e}")))?;
            let sources = engine::read_sources(&dir)?;
            eprintln!(
                "snapform initialized in {} ({} configuration file{}).",
                dir.display(),
                sources.files.len(),
                if sources.files.len() == 1 { "" } else { "s" }
            );
            Ok(0)
        }
        Command::Validate(v) => {
            let ws = load_ws(&dir, &v)?;
            eprintln!(
                "The configuration is valid ({} resource{}, {} data source{}).",
                ws.cfg.resources.len(),
                if ws.cfg.resources.len() == 1 { "" } else { "s" },
                ws.cfg.data.len(),
                if ws.cfg.data.len() == 1 { "" } else { "s" }
            );
            Ok(0)
        }
        Command::Plan(a) => plan_cmd(&dir, a).await,
        Command::Apply(a) => apply_cmd(&dir, a, false).await,
        Command::Destroy(a) => apply_cmd(&dir, a, true).await,
        Command::Output(o) => {
            let state = engine::read_unlocked(&dir).await?;
            output_cmd(&state, o.name.as_deref(), o.json)
        }
        Command::Show(s) => {
            if let Some(f) = s.plan_file {
                let p = engine::read_plan_file(&f)?;
                if s.json {
                    outln!("{}", plan_json(&p));
                } else {
                    outp!("{}", shown(&p));
                }
            } else {
                let state = engine::read_unlocked(&dir).await?;
                if s.json {
                    outln!(
                        "{}",
                        serde_json::to_string_pretty(&state).unwrap_or_default()
                    );
                } else {
                    for (addr, rs) in &state.resources {
                        outln!("# {addr}{}", if rs.tainted { " (tainted)" } else { "" });
                        for (k, v) in &rs.shown_attributes() {
                            outln!("    {k} = {v}");
                        }
                        outln!();
                    }
                    if !state.outputs.is_empty() {
                        outln!("Outputs:");
                        output_cmd(&state, None, false)?;
                    }
                }
            }
            Ok(0)
        }
        Command::State(StateCommand::List) => {
            let state = engine::read_unlocked(&dir).await?;
            for addr in state.resources.keys() {
                outln!("{addr}");
            }
            Ok(0)
        }
        Command::State(StateCommand::Show { address }) => {
            let state = engine::read_unlocked(&dir).await?;
            let parsed: crate::addr::InstanceAddr = address
                .parse()
                .map_err(|e| CliError::msg(format!("state show: {e}")))?;
            let rs = state
                .resources
                .get(&parsed)
                .ok_or_else(|| CliError::msg(format!("{address} is not in state")))?;
            // Sensitive attributes show as {"$sensitive": true}, as in every other view.
            let mut shown = rs.clone();
            shown.attributes = rs.shown_attributes();
            outln!(
                "{}",
                serde_json::to_string_pretty(&shown).unwrap_or_default()
            );
            Ok(0)
        }
        Command::State(s) => state_cmd(&dir, s).await,
        Command::Fmt(a) => super::fmt::run(&dir, a),
        Command::Graph => super::inspect::graph(&dir),
        Command::Import(a) => {
            let timeout = engine::lock_timeout(&a.lock.lock_timeout)?;
            let note = engine::import(&dir, &a.address, &a.id, &var_args(&a.vars), timeout).await?;
            eprintln!("{note}");
            Ok(0)
        }
        Command::ForceUnlock(a) => {
            notes(engine::force_unlock(&dir, a.id.as_deref()).await?);
            Ok(0)
        }
        Command::Completions { shell } => super::inspect::completions(shell),
        Command::Sandbox(SandboxCommand::Serve(opts)) => {
            let sb = crate::sandbox::spawn(opts)
                .await
                .map_err(|e| CliError::msg(format!("cannot start the sandbox: {e:#}")))?;
            eprintln!("sandbox listening on {}", sb.url());
            eprintln!(
                "  identity v2.0: {}/tokens (user demo, API key demo)",
                sb.auth_url()
            );
            eprintln!("  control API:   {}", sb.control_url());
            let _ = tokio::signal::ctrl_c().await;
            sb.shutdown().await;
            Ok(0)
        }
        Command::Version => {
            outln!("snapform {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
    }
}

fn output_cmd(state: &State, name: Option<&str>, json: bool) -> Result<u8, CliError> {
    if let Some(n) = name {
        let o = state
            .outputs
            .get(n)
            .ok_or_else(|| CliError::msg(format!("no output named \"{n}\" in state")))?;
        if json {
            outln!("{}", o.value.to_json());
        } else {
            match o.value.as_str() {
                Some(s) => outln!("{s}"),
                None => outln!("{}", o.value),
            }
        }
        return Ok(0);
    }
    if json {
        let m: serde_json::Map<String, serde_json::Value> = state
            .outputs
            .iter()
            .map(|(k, o)| {
                (
                    k.clone(),
                    serde_json::json!({"value": o.value.to_json(), "sensitive": o.sensitive}),
                )
            })
            .collect();
        outln!("{}", serde_json::Value::Object(m));
    } else {
        for (k, o) in &state.outputs {
            if o.sensitive {
                outln!("{k} = (sensitive value)");
            } else {
                outln!("{k} = {}", o.value);
            }
        }
    }
    Ok(0)
}

/// `state rm|mv|pull|push` (`list` and `show` are above).
async fn state_cmd(dir: &Path, cmd: StateCommand) -> Result<u8, CliError> {
    let timeout = |l: &super::args::LockArgs| engine::lock_timeout(&l.lock_timeout);
    match cmd {
        StateCommand::Rm { addresses, lock } => {
            notes(engine::rm(dir, &addresses, timeout(&lock)?).await?)
        }
        StateCommand::Mv { from, to, lock } => {
            notes(engine::mv(dir, &from, &to, timeout(&lock)?).await?)
        }
        StateCommand::Pull { lock } => match engine::pull(dir, timeout(&lock)?).await? {
            Ok(text) => outln!("{text}"),
            Err(n) => notes(n),
        },
        StateCommand::Push { file, force, lock } => {
            notes(engine::push(dir, &dir.join(file), force, timeout(&lock)?).await?)
        }
        StateCommand::List | StateCommand::Show { .. } => {
            return Err(CliError::msg(
                "state list and state show are run above; this is a bug",
            ));
        }
    }
    Ok(0)
}

/// Notes from the engine, for the user (stderr).
fn notes(n: Vec<String>) {
    for line in n {
        eprintln!("{}", redact::text(&line));
    }
}

fn var_args(v: &super::args::VarArgs) -> engine::VarArgs {
    engine::VarArgs {
        vars: v.vars.clone(),
        var_files: v.var_files.clone(),
    }
}

fn plan_options(f: &PlanFlags) -> engine::PlanOptions {
    engine::PlanOptions {
        refresh: f.refresh,
        refresh_only: f.refresh_only,
        targets: f.targets.clone(),
        replace: f.replace.clone(),
    }
}

fn load_ws(dir: &Path, vars: &super::args::VarArgs) -> Result<Workspace, CliError> {
    let sources = engine::read_sources(dir)?;
    let inputs = engine::var_inputs(dir, &var_args(vars))?;
    let ws = engine::load(dir, sources, &inputs)?;
    // Sensitive values never reach a log line or an error message in clear.
    redact::add(ws.sensitive_values());
    Ok(ws)
}

async fn plan_cmd(dir: &Path, a: PlanArgs) -> Result<u8, CliError> {
    let ws = load_ws(dir, &a.vars)?;
    let mut session = Session::open(&ws, engine::lock_timeout(&a.lock_timeout)?, "plan").await?;
    notes(std::mem::take(&mut session.notes));
    let p = session.plan(a.destroy, &plan_options(&a.flags)).await?;
    redact::add(p.sensitive_strings());
    if a.json {
        outln!("{}", plan_json(&p));
    } else {
        outp!("{}", shown(&p));
    }
    if let Some(out) = &a.out {
        let path = if out.is_absolute() {
            out.clone()
        } else {
            dir.join(out)
        };
        engine::write_plan_file(&path, &p)?;
        eprintln!(
            "Saved the plan to {}; apply it with: snapform apply {}",
            out.display(),
            out.display()
        );
    }
    leak(std::mem::take(&mut session.state));
    session.close().await?;
    let code = if a.detailed_exitcode && p.has_changes() {
        2
    } else {
        0
    };
    leak(p);
    leak(ws);
    Ok(code)
}

/// Leaves a large value to the end of the process: the command ends next, and the OS takes
/// back the memory at once, where dropping a plan of 10,000 resources value by value costs
/// a tenth of the command's CPU.
fn leak<T>(v: T) {
    std::mem::forget(v);
}

fn plan_json(p: &Plan) -> String {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        // The sources are in the plan file for apply; the JSON view is about changes.
        o.remove("sources");
        let n = p.counts();
        o.insert(
            "summary".into(),
            serde_json::json!({"add": n.add, "change": n.change, "destroy": n.destroy}),
        );
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

async fn apply_cmd(dir: &Path, a: ApplyArgs, destroy: bool) -> Result<u8, CliError> {
    let saved = match &a.plan_file {
        Some(f) => Some(engine::read_plan_file(&if f.is_absolute() {
            f.clone()
        } else {
            dir.join(f)
        })?),
        None => None,
    };
    let ws = match &saved {
        Some(p) => {
            let ws = engine::load_for_plan(dir, p, &var_args(&a.vars))?;
            redact::add(ws.sensitive_values());
            ws
        }
        None => load_ws(dir, &a.vars)?,
    };
    let op = if destroy { "destroy" } else { "apply" };
    let mut session = Session::open(&ws, engine::lock_timeout(&a.lock_timeout)?, op).await?;
    notes(std::mem::take(&mut session.notes));
    let p = match saved {
        Some(p) => {
            session.check_saved_plan(&p).await?;
            outp!("{}", shown(&p));
            p
        }
        None => {
            let p = session.plan(destroy, &plan_options(&a.flags)).await?;
            redact::add(p.sensitive_strings());
            outp!("{}", shown(&p));
            if !p.has_changes() {
                if p.changes
                    .iter()
                    .any(|c| c.action == plan::Action::NoOp && c.after.is_none())
                {
                    // Forget objects already gone.
                } else {
                    return Ok(0);
                }
            }
            if !a.auto_approve && p.has_changes() && !confirm(destroy)? {
                eprintln!("Apply cancelled; nothing was changed.");
                return Ok(1);
            }
            p
        }
    };
    let reporter = Arc::new(Progress::new());
    let opts = engine::ApplyOptions {
        parallelism: a.parallelism.max(1),
        poll_interval: Duration::from_millis(
            std::env::var("SNAPFORM_POLL_MS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(1000),
        ),
        ..engine::ApplyOptions::default()
    };
    let outcome = session.apply(&p, &opts, reporter).await?;
    let state = session.state.clone();
    session.close().await?;
    let n = p.counts();
    if outcome.success() {
        eprintln!(
            "\nApply complete! Resources: {} added, {} changed, {} destroyed.",
            n.add, n.change, n.destroy
        );
        if !state.outputs.is_empty() && !destroy {
            eprintln!("\nOutputs:");
            output_cmd(&state, None, false)?;
        }
        Ok(0)
    } else {
        eprintln!(
            "\nApply failed: {} done, {} failed, {} skipped.",
            outcome.done.len(),
            outcome.failed.len(),
            outcome.skipped.len()
        );
        for (addr, e) in &outcome.failed {
            eprintln!("  failed:  {addr}: {}", redact::text(e));
        }
        for addr in &outcome.skipped {
            eprintln!("  skipped: {addr}");
        }
        Ok(1)
    }
}

fn confirm(destroy: bool) -> Result<bool, CliError> {
    let mut err = std::io::stderr();
    let _ = writeln!(
        err,
        "\nDo you really want to {}? Only 'yes' will be accepted.",
        if destroy {
            "destroy all resources"
        } else {
            "perform these actions"
        }
    );
    let _ = write!(err, "  Enter a value: ");
    let _ = err.flush();
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        // Still read: scripts may pipe "yes".
    }
    let mut line = String::new();
    let n = stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::msg(format!("cannot read the answer: {e}")))?;
    if n == 0 {
        // No input at all (closed stdin): end the prompt line, then cancel.
        eprintln!("(no answer; use --auto-approve in scripts)");
    }
    Ok(line.trim() == "yes")
}
