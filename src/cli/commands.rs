//! The commands: each builds its options, runs the layers in order and maps the result to an
//! exit code (0 ok, 1 error, 2 changes present with `--detailed-exitcode`).

use super::args::{
    ApplyArgs, Cli, Command, GraphArgs, PlanArgs, PlanFlags, SandboxCommand, StateCommand,
    ValidateArgs, WorkspaceCommand,
};
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
        Command::Init(a) => {
            let opts = engine::InitOptions {
                migrate_state: a.migrate_state,
                reconfigure: a.reconfigure,
                force_copy: a.force_copy,
                lock_timeout: engine::lock_timeout(&a.lock.lock_timeout)?,
            };
            for n in engine::init(&dir, &opts).await? {
                eprintln!("{n}");
            }
            Ok(0)
        }
        Command::Validate(v) if v.json => validate_json(&dir, &v),
        Command::Validate(v) => {
            let ws = load_ws(&dir, &v.vars)?;
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
        Command::Apply(a) => apply_cmd(&dir, a).await,
        Command::Destroy(a) => {
            if a.plan_file.is_some() {
                // As Terraform: a saved plan (made with `plan -destroy`) is carried out by apply.
                return Err(CliError::msg(
                    "destroy can't be called with a plan file; if the plan was made with \
                     `plan -destroy`, apply it with: snapform apply PLANFILE",
                ));
            }
            apply_cmd(&dir, a.into_apply()).await
        }
        Command::Output(o) => {
            let state = engine::read_unlocked(&dir).await?;
            if o.raw {
                return output_raw(&state, o.name.as_deref().unwrap_or_default());
            }
            output_cmd(&state, o.name.as_deref(), o.json)
        }
        Command::Show(s) => {
            if let Some(f) = s.plan_file {
                engine::use_encryption_of(&dir)?;
                let p = engine::read_plan_file(&in_dir(&dir, &f))?;
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
                        serde_json::to_string_pretty(&super::tfjson::state(&state))
                            .unwrap_or_default()
                    );
                } else {
                    for (addr, attrs) in &state.data {
                        outp!("{}", render::data_block(addr, attrs));
                        outln!();
                    }
                    for rs in state.resources.values() {
                        outp!("{}", render::resource_block(rs));
                        outln!();
                    }
                    if !state.outputs.is_empty() {
                        outln!("Outputs:\n");
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
            // Sensitive attributes show as (sensitive value), as in every other view.
            outp!("{}", render::resource_block(rs));
            Ok(0)
        }
        Command::State(s) => state_cmd(&dir, s).await,
        Command::Workspace(w) => workspace_cmd(&dir, w).await,
        Command::Fmt(a) => super::fmt::run(&dir, a),
        Command::Graph(a) if !a.html && a.plan.is_none() => super::inspect::graph(&dir),
        Command::Graph(a) => graph_cmd(&dir, a).await,
        Command::Import(a) => {
            let timeout = engine::lock_timeout(&a.lock.lock_timeout)?;
            let note = engine::import(&dir, &a.address, &a.id, &var_args(&a.vars), timeout).await?;
            eprintln!("{note}");
            Ok(0)
        }
        Command::Query(a) => query_cmd(&dir, a).await,
        Command::ForceUnlock(a) => {
            notes(engine::force_unlock(&dir, a.id.as_deref()).await?);
            Ok(0)
        }
        Command::Completions { shell } => super::inspect::completions(shell),
        Command::Man { out_dir } => {
            super::inspect::man(out_dir.as_ref().map(|d| in_dir(&dir, d)).as_deref())
        }
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

/// `validate -json`: Terraform's format (`format_version`, `valid`, counts, `diagnostics` with
/// `severity`, `summary`, `detail` and a `range` of file, line, column and byte).
fn validate_json(dir: &Path, v: &ValidateArgs) -> Result<u8, CliError> {
    let (valid, sources, diags) = match load_ws(dir, &v.vars) {
        Ok(_) => (true, None, Vec::new()),
        Err(CliError::Diagnostics(sources, diags)) => (false, Some(sources), diags),
        Err(CliError::Message(m)) => (false, None, vec![crate::config::Diagnostic::error(m, None)]),
    };
    let pos = |s: &crate::config::Sources, file: usize, byte: usize| {
        let (line, column) = s.line_col(file, byte);
        serde_json::json!({"line": line, "column": column, "byte": byte})
    };
    let shown: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let mut o = serde_json::json!({
                "severity": if d.is_error() { "error" } else { "warning" },
                "summary": redact::text(&d.message),
                "detail": d.help.as_deref().map(redact::text).unwrap_or_default(),
            });
            if let (Some(span), Some(s)) = (&d.span, &sources) {
                o["range"] = serde_json::json!({
                    "filename": s.path(span.file),
                    "start": pos(s, span.file, span.range.start),
                    "end": pos(s, span.file, span.range.end),
                });
            }
            o
        })
        .collect();
    let errors = diags.iter().filter(|d| d.is_error()).count();
    outln!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "format_version": "1.0",
            "valid": valid,
            "error_count": errors,
            "warning_count": diags.len() - errors,
            "diagnostics": shown,
        }))
        .unwrap_or_default()
    );
    Ok(if valid { 0 } else { 1 })
}

/// `output -raw NAME`: the bare string, no quotes, no newline (Terraform's `-raw`).
fn output_raw(state: &State, name: &str) -> Result<u8, CliError> {
    let o = state
        .outputs
        .get(name)
        .ok_or_else(|| CliError::msg(format!("no output named \"{name}\" in state")))?;
    match o.value.to_plain_string() {
        Some(s) => {
            outp!("{s}");
            Ok(0)
        }
        None => Err(CliError::msg(format!(
            "output \"{name}\" is not a string, number or bool; -raw prints only those \
             (use -json for lists, maps and objects)"
        ))),
    }
}

fn output_cmd(state: &State, name: Option<&str>, json: bool) -> Result<u8, CliError> {
    if let Some(n) = name {
        let o = state
            .outputs
            .get(n)
            .ok_or_else(|| CliError::msg(format!("no output named \"{n}\" in state")))?;
        // As Terraform: one output by name is shown in full (even a sensitive one) in HCL
        // syntax, so strings are quoted; `-raw` gives the bare string.
        if json {
            outln!("{}", o.value.to_json());
        } else {
            outln!("{}", o.value.unmarked());
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

/// `workspace list|show|new|select|delete`.
async fn workspace_cmd(dir: &Path, cmd: WorkspaceCommand) -> Result<u8, CliError> {
    use engine::workspaces;
    match cmd {
        WorkspaceCommand::List => {
            let (names, now) = workspaces::list(dir).await?;
            for n in names {
                let mark = if n == now { "*" } else { " " };
                outln!("{mark} {n}");
            }
        }
        WorkspaceCommand::Show => outln!("{}", workspaces::current(dir)?),
        WorkspaceCommand::New { name } => {
            workspaces::new(dir, &name).await?;
            outln!("Created and switched to workspace \"{name}\".");
            outln!();
            outln!("You're now on a new, empty workspace. Workspaces isolate their state,");
            outln!("so if you run \"snapform plan\" snapform will not see any existing state");
            outln!("for this configuration.");
        }
        WorkspaceCommand::Select { name, or_create } => {
            if workspaces::select(dir, &name, or_create).await? {
                outln!("Created and switched to workspace \"{name}\".");
            } else {
                outln!("Switched to workspace \"{name}\".");
            }
        }
        WorkspaceCommand::Delete { name, force, lock } => {
            let timeout = engine::lock_timeout(&lock.lock_timeout)?;
            workspaces::delete(dir, &name, force, timeout).await?;
            outln!("Deleted workspace \"{name}\".");
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
        StateCommand::Pull {
            serial: Some(n), ..
        } => outln!("{}", engine::pull_serial(dir, n).await?),
        StateCommand::ListSerials => {
            for k in engine::list_serials(dir).await? {
                outln!(
                    "{:>8}  {}  {}",
                    k.serial,
                    k.lineage,
                    k.saved.as_deref().unwrap_or("-")
                );
            }
        }
        StateCommand::Pull { lock, .. } => match engine::pull(dir, timeout(&lock)?).await? {
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

/// How long to wait for the state lock; `None`: take none (`-lock=false`).
fn lock_wait(l: &super::args::LockFlags) -> Result<Option<Duration>, CliError> {
    Ok(Some(engine::lock_timeout(&l.lock_timeout)?).filter(|_| l.lock))
}

/// `plan -generate-config-out=FILE`: writes the blocks the `import` targets lack, so the plan
/// that follows reads them (as Terraform's). FILE must be new and a configuration file here.
async fn generate_config(dir: &Path, a: &PlanArgs, out: &Path) -> Result<(), CliError> {
    let path = new_config_file(dir, out)?;
    let ws = load_ws(dir, &a.vars)?;
    let session = Session::open_mode(&ws, lock_wait(&a.state_lock)?, "plan").await?;
    let text = session.generate_config().await;
    session.close().await?;
    let Some(text) = text? else {
        eprintln!("-generate-config-out: every import target is declared; nothing to generate.");
        return Ok(());
    };
    let text = super::hclfmt::format(&text).unwrap_or(text);
    std::fs::write(&path, &text)
        .map_err(|e| CliError::msg(format!("cannot write {}: {e}", out.display())))?;
    let n = text.matches("resource \"").count();
    eprintln!(
        "Wrote configuration for {n} import target{} to {}; review it, then keep it with the import blocks.",
        if n == 1 { "" } else { "s" },
        out.display()
    );
    Ok(())
}

/// `query`: each list's findings (address, id, name, key attributes), or JSON; with
/// `-generate-config-out`, the blocks that adopt what state does not manage.
async fn query_cmd(dir: &Path, a: super::args::QueryArgs) -> Result<u8, CliError> {
    let target = match &a.generate_config_out {
        Some(out) => Some(new_config_file(dir, out)?),
        None => None,
    };
    let sources = engine::read_query_sources(dir)?;
    let inputs = engine::var_inputs(dir, &var_args(&a.vars))?;
    let ws = engine::load(dir, sources, &inputs)?;
    redact::add(ws.sensitive_values());
    let session = Session::open_mode(&ws, None, "query").await?;
    notes(session.notes.clone());
    let listed = engine::query(&session).await;
    let generated = match (&listed, &target) {
        (Ok(l), Some(_)) => Some(engine::generate_query_config(&session, l).await),
        _ => None,
    };
    session.close().await?;
    let listed = listed?;
    if a.json {
        let v: Vec<serde_json::Value> = listed
            .iter()
            .map(|x| {
                serde_json::json!({
                    "list": x.list,
                    "address": x.address.to_string(),
                    "managed": x.managed.is_some(),
                    "type": x.kind,
                    "id": x.found.id,
                    "name": x.found.name,
                    "attributes": serde_json::Value::Object(
                        x.found.attributes.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()
                    ),
                })
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let mut last = "";
        for x in &listed {
            if x.list != last {
                outln!("{}:", x.list);
                last = &x.list;
            }
            let attrs: Vec<String> = x
                .found
                .attributes
                .iter()
                .filter(|(k, _)| k.as_str() != "name")
                .map(|(k, v)| {
                    format!(
                        "{k}={}",
                        v.to_plain_string().unwrap_or_else(|| v.to_string())
                    )
                })
                .collect();
            outln!(
                "  {:<32} {}  {:?}  {}{}",
                x.address.to_string(),
                x.found.id,
                x.found.name,
                attrs.join(" "),
                if x.managed.is_some() {
                    "  (managed)"
                } else {
                    ""
                }
            );
        }
        if listed.is_empty() {
            eprintln!("The lists found nothing.");
        }
    }
    if let (Some(path), Some(generated)) = (target, generated) {
        match generated? {
            None => eprintln!(
                "-generate-config-out: state manages everything the lists found; nothing to generate."
            ),
            Some(text) => {
                let text = super::hclfmt::format(&text).unwrap_or(text);
                std::fs::write(&path, &text)
                    .map_err(|e| CliError::msg(format!("cannot write {}: {e}", path.display())))?;
                let n =
                    text.matches("\nimport {").count() + usize::from(text.starts_with("import {"));
                eprintln!(
                    "Wrote {n} import{} and resource block{} to {}; run snapform plan to see the imports.",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "" } else { "s" },
                    a.generate_config_out.as_deref().unwrap_or(&path).display()
                );
            }
        }
    }
    Ok(0)
}

/// A new `*.snap.hcl` file in the working directory, for generated configuration.
fn new_config_file(dir: &Path, out: &Path) -> Result<std::path::PathBuf, CliError> {
    let path = if out.is_absolute() {
        out.to_path_buf()
    } else {
        dir.join(out)
    };
    if path.exists() {
        return Err(CliError::msg(format!(
            "-generate-config-out: {} already exists; snapform writes only a new file (move it away, or choose another name)",
            out.display()
        )));
    }
    let in_dir = path.parent().map(|p| p == dir).unwrap_or(false);
    let named = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".snap.hcl"));
    if !in_dir || !named {
        return Err(CliError::msg(format!(
            "-generate-config-out: expected a new *.snap.hcl file in the working directory (so the plan reads it), found {}",
            out.display()
        )));
    }
    Ok(path)
}

async fn plan_cmd(dir: &Path, a: PlanArgs) -> Result<u8, CliError> {
    if let Some(out) = &a.generate_config_out {
        generate_config(dir, &a, out).await?;
    }
    let ws = load_ws(dir, &a.vars)?;
    let mut session = Session::open_mode(&ws, lock_wait(&a.state_lock)?, "plan").await?;
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

/// A path given on the command line, relative to the working directory (`--chdir`).
fn in_dir(dir: &Path, f: &Path) -> std::path::PathBuf {
    if f.is_absolute() {
        f.to_path_buf()
    } else {
        dir.join(f)
    }
}

/// `graph -html` / `graph -plan=FILE`: the plan's graph (planned now, or a saved plan) as a
/// page or as DOT.
async fn graph_cmd(dir: &Path, a: GraphArgs) -> Result<u8, CliError> {
    let p = match &a.plan {
        Some(f) => {
            engine::use_encryption_of(dir)?;
            engine::read_plan_file(&in_dir(dir, f))?
        }
        None => {
            let ws = load_ws(dir, &a.vars)?;
            let mut session = Session::open_mode(&ws, lock_wait(&a.state_lock)?, "graph").await?;
            notes(std::mem::take(&mut session.notes));
            let p = session.plan(a.destroy, &plan_options(&a.flags)).await?;
            session.close().await?;
            p
        }
    };
    let pg = super::graph_html::build(&p, &engine::config_graph(&p.sources));
    if a.html {
        let name = std::fs::canonicalize(dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "configuration".into());
        let title = format!("snapform plan: {name}");
        outp!("{}", super::graph_html::html(&pg, &title));
    } else {
        outp!("{}", super::graph_html::dot(&pg));
    }
    Ok(0)
}

/// Leaves a large value to the end of the process: the command ends next, and the OS takes
/// back the memory at once, where dropping a plan of 10,000 resources value by value costs
/// a tenth of the command's CPU.
fn leak<T>(v: T) {
    std::mem::forget(v);
}

/// A plan as JSON: Terraform's `show -json` format (docs/json.md).
fn plan_json(p: &Plan) -> String {
    serde_json::to_string_pretty(&super::tfjson::plan(p)).unwrap_or_default()
}

async fn apply_cmd(dir: &Path, a: ApplyArgs) -> Result<u8, CliError> {
    let destroy = a.destroy;
    if a.plan_file.is_some() {
        // A saved plan fixes its variables and its options (Terraform refuses these too).
        let mut given = Vec::new();
        // -var only for what a plan never holds: sensitive values (checked against the plan).
        if !a.vars.var_files.is_empty() {
            given.push("-var-file");
        }
        if !a.flags.targets.is_empty() {
            given.push("-target");
        }
        if !a.flags.replace.is_empty() {
            given.push("-replace");
        }
        if a.flags.refresh_only {
            given.push("-refresh-only");
        }
        if !a.flags.refresh {
            given.push("-refresh=false");
        }
        if !given.is_empty() {
            return Err(CliError::msg(format!(
                "can't use {} when applying a saved plan: the plan holds the variables and \
                 options it was made with; make a new plan with them instead",
                given.join(", ")
            )));
        }
    }
    let saved = match &a.plan_file {
        Some(f) => {
            engine::use_encryption_of(dir)?;
            Some(engine::read_plan_file(&in_dir(dir, f))?)
        }
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
    let interrupt = Interrupt::install();
    let mut session = Session::open_mode(&ws, lock_wait(&a.run.state_lock)?, op).await?;
    notes(std::mem::take(&mut session.notes));
    let p = match saved {
        Some(p) => {
            if destroy && !p.destroy {
                return Err(CliError::msg(
                    "the saved plan is not a destroy plan (it was made without -destroy); \
                     apply it without -destroy, or make one with: snapform plan -destroy -out=FILE",
                ));
            }
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
            if !a.run.auto_approve && p.has_changes() {
                if !a.run.input {
                    return Err(CliError::msg(format!(
                        "{} needs an approval, and -input=false forbids asking; nothing was \
                         changed (use -auto-approve)",
                        if destroy { "destroy" } else { "apply" }
                    )));
                }
                interrupt.stage(STAGE_PROMPT);
                let yes = confirm(destroy)?;
                interrupt.stage(STAGE_WORK);
                if !yes {
                    eprintln!(
                        "{} cancelled; nothing was changed.",
                        if destroy { "Destroy" } else { "Apply" }
                    );
                    return Ok(1);
                }
            }
            p
        }
    };
    if interrupt.received() {
        session.close().await?;
        eprintln!("Interrupted before anything was changed.");
        return Ok(EXIT_INTERRUPTED);
    }
    let reporter = Arc::new(Progress::new());
    let opts = engine::ApplyOptions {
        parallelism: a.run.parallelism.max(1),
        poll_interval: Duration::from_millis(
            std::env::var("SNAPFORM_POLL_MS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(1000),
        ),
        abandon_check: Duration::from_secs(
            std::env::var("SNAPFORM_ABANDON_CHECK_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .filter(|s| *s > 0)
                .unwrap_or(60),
        ),
        interrupt: Some(interrupt.receiver()),
        ..engine::ApplyOptions::default()
    };
    let outcome = session.apply(&p, &opts, reporter).await?;
    let state = session.state.clone();
    session.close().await?;
    let n = p.counts();
    if outcome.success() {
        if p.destroy {
            eprintln!("\nDestroy complete! Resources: {} destroyed.", n.destroy);
        } else {
            eprintln!(
                "\nApply complete! Resources: {} added, {} changed, {} destroyed.",
                n.add, n.change, n.destroy
            );
        }
        if !state.outputs.is_empty() && !p.destroy {
            // The outputs are data: heading and values on stdout, together.
            outln!("\nOutputs:\n");
            output_cmd(&state, None, false)?;
        }
        Ok(0)
    } else {
        eprintln!(
            "\n{} {}: {} done, {} failed, {} skipped.",
            if p.destroy { "Destroy" } else { "Apply" },
            if outcome.interrupted {
                "interrupted"
            } else {
                "failed"
            },
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
        if outcome.interrupted {
            eprintln!(
                "State is saved and the lock released. A snapshot still saving is recorded; the next apply waits for it."
            );
            return Ok(EXIT_INTERRUPTED);
        }
        Ok(1)
    }
}

/// Exit code after an interrupt (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;
const STAGE_WORK: u8 = 0;
const STAGE_PROMPT: u8 = 1;

/// Ctrl-C during apply and destroy: the first is reported and interrupts the apply gracefully
/// (nothing new starts, calls in flight finish, state is written, the lock released, exit
/// 130); a second exits at once — what was in flight is in the journal, which is durable
/// before every mutating call, and the next plan reconciles it. At the confirmation prompt,
/// Ctrl-C cancels.
struct Interrupt {
    rx: tokio::sync::watch::Receiver<bool>,
    stage: Arc<std::sync::atomic::AtomicU8>,
}

impl Interrupt {
    fn install() -> Interrupt {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let stage = Arc::new(std::sync::atomic::AtomicU8::new(STAGE_WORK));
        let at = stage.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            if at.load(std::sync::atomic::Ordering::SeqCst) == STAGE_PROMPT {
                eprintln!("\nCancelled; nothing was changed.");
                std::process::exit(EXIT_INTERRUPTED.into());
            }
            eprintln!(
                "\nInterrupt received.\nPlease wait for snapform to exit or data loss may occur.\nGracefully shutting down..."
            );
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nTwo interrupts received. Exiting immediately. What was in flight is in the journal; the next plan reconciles it."
                );
                std::process::exit(EXIT_INTERRUPTED.into());
            }
        });
        Interrupt { rx, stage }
    }

    fn stage(&self, s: u8) {
        self.stage.store(s, std::sync::atomic::Ordering::SeqCst);
    }

    fn received(&self) -> bool {
        *self.rx.borrow()
    }

    fn receiver(&self) -> tokio::sync::watch::Receiver<bool> {
        self.rx.clone()
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
