//! Making a plan: reconciling the intent journal, refreshing, reading `import` targets and data
//! sources as their arguments become known, then running the pure planner.

use super::Error as CliError;
use super::connect::Connected;
use super::workspace::Workspace;
use crate::addr::Target;
use crate::graph::Evaluator;
use crate::plan::{self, Plan, Refreshed};
use crate::refresh;
use crate::state::{Backend, State};

/// How to plan (the plan, apply and destroy flags).
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// Read the cloud first (`--refresh=false` turns it off).
    pub refresh: bool,
    pub refresh_only: bool,
    /// `--target` addresses, as written.
    pub targets: Vec<String>,
    /// `--replace` addresses, as written.
    pub replace: Vec<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            refresh: true,
            refresh_only: false,
            targets: Vec::new(),
            replace: Vec::new(),
        }
    }
}

/// Everything a plan needs from the cloud, then the plan itself.
pub async fn make_plan(
    ws: &Workspace,
    state: &State,
    conn: &Connected,
    destroy: bool,
    flags: &PlanOptions,
) -> Result<Plan, CliError> {
    if !state.journal.is_empty() {
        return Err(CliError::msg(
            "state has unreconciled intents; this is a bug (reconcile runs first)",
        ));
    }
    // What this plan lists, shared by refresh and every round of data sources.
    let cache = refresh::Cache::default();
    let mut refreshed: Refreshed = if flags.refresh {
        refresh::refresh_with(state, &conn.clients, &cache).await?
    } else {
        // Trust the state: the planner uses recorded attributes when nothing was refreshed.
        Refreshed {
            image_api: conn.clients.by_key.values().all(|c| c.has_image_api()),
            deposed: state.deposed.clone(),
            ..Refreshed::default()
        }
    };
    read_imports(ws, state, conn, &mut refreshed).await?;
    let mut targets = Vec::new();
    let mut replace = Vec::new();
    for (list, out) in [
        (&flags.targets, &mut targets),
        (&flags.replace, &mut replace),
    ] {
        for t in list {
            let parsed: Target = t.parse().map_err(|e| CliError::msg(format!("{e}")))?;
            let known = ws.cfg.resources.contains_key(parsed.block())
                || state.resources.keys().any(|a| parsed.matches(a));
            if !known {
                let declared: Vec<String> =
                    ws.cfg.resources.keys().map(|a| a.to_string()).collect();
                return Err(CliError::msg(format!(
                    "{t} is neither declared in the configuration nor in state{}; expected a resource address such as image.golden or image.nightly[0]",
                    crate::config::suggest::did_you_mean(&parsed.block().to_string(), &declared)
                )));
            }
            out.push(parsed);
        }
    }
    // While data sources are still being read, an unknown count/for_each is not an error yet:
    // the planner defers it (and the prevent_destroy check) until the last round.
    let lenient = plan::Options {
        destroy,
        targets,
        replace,
        refresh_only: flags.refresh_only,
        validate_only: true,
        data_round: true,
    };
    // Data sources are read as their arguments become known, then the plan is made again.
    for _ in 0..=ws.cfg.data.len() + 1 {
        let (p, diags) = plan::plan(&ws.cfg, &ws.graph, &ws.vars, state, &refreshed, &lenient);
        if diags.iter().any(|d| d.is_error()) {
            return Err(CliError::Diagnostics(ws.cfg.sources.clone(), diags));
        }
        if p.data_requests.is_empty() {
            // Every data source is read: this plan is final, and so are the errors it
            // deferred. (The same plan as a strict pass, without planning everything again.)
            let mut p = p;
            let mut errors = std::mem::take(&mut p.deferred);
            if !errors.is_empty() {
                errors.sort_by(|a, b| {
                    let at = |d: &crate::config::Diagnostic| {
                        d.span.as_ref().map(|s| (s.file, s.range.start))
                    };
                    at(a).cmp(&at(b))
                });
                return Err(CliError::Diagnostics(ws.cfg.sources.clone(), errors));
            }
            return Ok(p);
        }
        let read =
            refresh::read_data_with(&ws.cfg, &p.data_requests, &conn.clients, &cache).await?;
        refreshed.data.extend(read);
        // An intermediate plan of many resources takes a while to free: not on this thread.
        if p.changes.len() > 1000 {
            std::thread::spawn(move || drop(p));
        }
    }
    Err(CliError::msg("data sources did not settle; this is a bug"))
}

/// Turns a message into a configuration diagnostic at `span` (an `import` or `list` block).
pub(super) fn error_at<'a>(
    ws: &'a Workspace,
    span: &'a crate::config::Span,
) -> impl Fn(String) -> CliError + 'a {
    move |m| {
        CliError::Diagnostics(
            ws.cfg.sources.clone(),
            vec![crate::config::Diagnostic::error(m, Some(span.clone()))],
        )
    }
}

/// Reads the objects `import` blocks adopt (those not in state yet) into `refreshed.imports`.
async fn read_imports(
    ws: &Workspace,
    state: &State,
    conn: &Connected,
    refreshed: &mut Refreshed,
) -> Result<(), CliError> {
    let ev = Evaluator::new(&ws.cfg, &ws.graph, &ws.vars);
    for imp in &ws.cfg.imports {
        let err = error_at(ws, &imp.span);
        for (to, id) in import_targets(&ev, imp).map_err(&err)? {
            read_import(ws, state, conn, refreshed, &ev, imp, to, id).await?;
        }
    }
    Ok(())
}

/// `plan -generate-config-out`: a resource block for each `import` target that the
/// configuration does not declare, made from the object in the cloud so that its import plans
/// no change. `None` when every target is declared.
pub async fn generate_config(ws: &Workspace, conn: &Connected) -> Result<Option<String>, CliError> {
    let ev = Evaluator::new(&ws.cfg, &ws.graph, &ws.vars);
    let mut out = Vec::new();
    let mut done = std::collections::BTreeSet::new();
    for imp in &ws.cfg.imports {
        let err = error_at(ws, &imp.span);
        for (to, id) in import_targets(&ev, imp).map_err(&err)? {
            if ws.cfg.resources.contains_key(&to.block) || !done.insert(to.block.clone()) {
                continue;
            }
            if to.key.is_some() {
                return Err(err(format!(
                    "configuration cannot be generated for {to}: a block with count or for_each is yours to write (generate one without the key, then add for_each)"
                )));
            }
            let kind = crate::resources::resource(&to.block.kind).ok_or_else(|| {
                err(format!(
                    "resources of type \"{}\" cannot be imported",
                    to.block.kind
                ))
            })?;
            let provider = ws
                .cfg
                .provider(None)
                .map(|p| p.key())
                .unwrap_or_else(|| "rackspace".into());
            let client = conn.clients.get(&provider)?;
            let args = kind
                .generate(client, &id)
                .await
                .map_err(|m| err(format!("generate configuration for {to} from {id}: {m}")))?;
            out.push(crate::config::generate::resource_block(
                &to.block.kind,
                &to.block.name,
                &args,
                &kind
                    .schema()
                    .attrs
                    .iter()
                    .map(|a| a.name)
                    .collect::<Vec<_>>(),
                &format!("__generated__ by snapform from {} {id}", to.block.kind),
            ));
        }
    }
    Ok((!out.is_empty()).then(|| out.join("\n")))
}

/// The (target, id) pairs of an import block: one, or one per element of its `for_each`.
use crate::value::Value;

fn import_targets(
    ev: &Evaluator<'_>,
    imp: &crate::config::ImportBlock,
) -> Result<Vec<(crate::addr::InstanceAddr, String)>, String> {
    use crate::addr::InstanceKey;
    let Some(f) = &imp.for_each else {
        return Ok(vec![(imp.to.clone(), super::import::eval_id(ev, &imp.id)?)]);
    };
    let Some(key_expr) = &imp.to_key else {
        return Err(format!(
            "an import block with for_each must name one instance per element, e.g. to = {}[each.key]",
            imp.to.block
        ));
    };
    let v = ev.eval(f, None).map_err(|d| d.message)?.unmark().0;
    let pairs: Vec<(String, Value)> = match v {
        Value::Map(m) => m.into_iter().collect(),
        Value::List(l) => l
            .into_iter()
            .map(|x| match x.to_plain_string() {
                Some(s) => Ok((s.clone(), Value::String(s))),
                None => Err(format!(
                    "for_each of an import block over a list needs strings, found an element of type {}",
                    x.type_name()
                )),
            })
            .collect::<Result<_, _>>()?,
        Value::Unknown => {
            return Err(
                "for_each of an import block must be known when planning (from variables, locals or literals)"
                    .into(),
            );
        }
        other => {
            return Err(format!(
                "for_each of an import block must be a map or a set of strings, found {}",
                other.type_name()
            ));
        }
    };
    let mut out = Vec::new();
    for (k, v) in pairs {
        let inst = crate::graph::Instance {
            addr: imp.to.block.instance(Some(InstanceKey::Key(k.clone()))),
            each_value: Some(v),
        };
        let key = match ev
            .eval(key_expr, Some(&inst))
            .map_err(|d| d.message)?
            .unmark()
            .0
        {
            Value::String(s) => InstanceKey::Key(s),
            Value::Number(n) if n.as_u64().is_some() => InstanceKey::Index(n.as_u64().unwrap_or(0)),
            other => {
                return Err(format!(
                    "the instance key in \"to\" must be a string or a whole number, found {} for each.key = {k:?}",
                    other.type_name()
                ));
            }
        };
        let id = super::import::eval_id_in(ev, &imp.id, Some(&inst))?;
        out.push((imp.to.block.instance(Some(key)), id));
    }
    Ok(out)
}

/// Reads one object an import block adopts into `refreshed.imports`, unless state has it.
#[allow(clippy::too_many_arguments)]
async fn read_import(
    ws: &Workspace,
    state: &State,
    conn: &Connected,
    refreshed: &mut Refreshed,
    ev: &Evaluator<'_>,
    imp: &crate::config::ImportBlock,
    to: crate::addr::InstanceAddr,
    id: String,
) -> Result<(), CliError> {
    {
        if state.resources.contains_key(&to) || ws.cfg.moved.iter().any(|m| m.to.matches(&to)) {
            return Ok(());
        }
        let err = error_at(ws, &imp.span);
        let Some(block) = ws.cfg.resources.get(&to.block) else {
            return Err(err(format!(
                "import to {to}: no such resource block in the configuration"
            )));
        };
        let keys = super::import::declared_keys(ev, block, &to)?;
        let provider = ws
            .cfg
            .provider(block.provider.as_deref())
            .map(|p| p.key())
            .unwrap_or_else(|| "rackspace".into());
        let client = conn.clients.get(&provider)?;
        let kind = crate::resources::resource(&block.kind).ok_or_else(|| {
            err(format!(
                "resources of type \"{}\" cannot be imported",
                block.kind
            ))
        })?;
        let imported = kind
            .import(client, &id, &keys)
            .await
            .map_err(|m| err(format!("import {id} to {to}: {m}")))?;
        let (attributes, tainted) = (imported.attributes, imported.tainted);
        refreshed.imports.insert(
            to.clone(),
            crate::state::ResourceState {
                address: to.clone(),
                kind: block.kind.clone(),
                name: block.name.clone(),
                provider,
                id,
                attributes,
                managed_keys: keys,
                tainted,
                dependencies: Vec::new(),
                sensitive_attributes: Vec::new(),
            },
        );
    }
    Ok(())
}

/// Adopts images whose creation an interrupted apply started but did not record. Returns
/// what it did, for the user.
pub async fn reconcile_journal(
    state: &mut State,
    backend: &mut Backend,
    conn: &Connected,
) -> Result<Vec<String>, CliError> {
    if state.journal.is_empty() {
        return Ok(Vec::new());
    }
    let r = refresh::reconcile(state, &conn.clients).await?;
    let mut notes = Vec::new();
    for (addr, id) in &r.adopted {
        notes.push(format!(
            "{addr}: adopted image {id}, created by an interrupted apply"
        ));
    }
    for addr in &r.dropped {
        notes.push(format!(
            "{addr}: an interrupted apply left no object behind; its intent is cleared"
        ));
    }
    backend.write(state).await?;
    Ok(notes)
}
