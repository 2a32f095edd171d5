//! Importing: adopts an existing cloud object into state for a resource the configuration
//! declares, recording it exactly as refresh reads it, so the next plan compares it with the
//! configuration like any other managed object.
//!
//! - `image`: ID is an image id; the image must be a server snapshot.
//! - `image_schedule`: ID is a server id; the server must have a scheduled-images policy.
//! - `image_metadata`: ID is an image id; the managed keys are the keys the block declares.

use super::Error as CliError;
use super::connect::connect;
use super::workspace::{self, VarArgs};
use crate::addr::{InstanceAddr, Target};
use crate::config::ObjectBlock;
use crate::graph::{Evaluator, Instance, Node};
use crate::state::ResourceState;
use crate::value::Value;
use std::path::Path;
use std::time::Duration;

/// Imports the object `id` into `address`; returns what was done, for the user.
pub async fn import(
    dir: &Path,
    address: &str,
    id: &str,
    vars: &VarArgs,
    lock_timeout: Duration,
) -> Result<String, CliError> {
    let sources = workspace::read_sources(dir)?;
    let inputs = workspace::var_inputs(dir, vars)?;
    let ws = workspace::load(dir, sources, &inputs)?;
    let addr: InstanceAddr = address
        .parse()
        .map_err(|e| CliError::msg(format!("import: {e}")))?;
    let Some(block) = ws.cfg.resources.get(&addr.block) else {
        let declared: Vec<String> = ws.cfg.resources.keys().map(|a| a.to_string()).collect();
        return Err(CliError::msg(format!(
            "import: expected a resource declared in the configuration, found no block for {addr}{} (declared: {}). Add resource \"TYPE\" \"NAME\" {{ ... }} first.",
            crate::config::suggest::did_you_mean(&addr.block.to_string(), &declared),
            if declared.is_empty() {
                "none".to_string()
            } else {
                declared.join(", ")
            }
        )));
    };
    match (block.is_multi(), &addr.key) {
        (true, None) => {
            return Err(CliError::msg(format!(
                "import: {} has {}; import into one instance, e.g. {}",
                block.addr,
                if block.count.is_some() {
                    "count"
                } else {
                    "for_each"
                },
                if block.count.is_some() {
                    format!("{}[0]", block.addr)
                } else {
                    format!("{}[\"KEY\"]", block.addr)
                }
            )));
        }
        (false, Some(_)) => {
            return Err(CliError::msg(format!(
                "import: {} has neither count nor for_each; import into {} itself",
                block.addr, block.addr
            )));
        }
        _ => {}
    }
    let ev = Evaluator::new(&ws.cfg, &ws.graph, &ws.vars);
    let managed_keys = declared_keys(&ev, block, &addr)?;
    let mut backend = super::backend::open(&ws, lock_timeout, "import").await?;
    let mut state = backend.read().await?;
    if let Some(rs) = state.resources.get(&addr) {
        return Err(CliError::msg(format!(
            "import: {addr} is already in state (id {}); to import another object, forget this one first with: snapform state rm {addr}",
            rs.id
        )));
    }
    if let Some(rs) = state
        .resources
        .values()
        .find(|r| r.kind == block.kind && r.id == id)
    {
        return Err(CliError::msg(format!(
            "import: {} {id} is already managed as {}; one object is managed by one resource",
            block.kind, rs.address
        )));
    }
    if !state.journal.is_empty() {
        return Err(CliError::msg(
            "import: the state has intents of an interrupted apply; run snapform plan first to reconcile them",
        ));
    }
    let provider = ws
        .cfg
        .provider(block.provider.as_deref())
        .map(|p| p.key())
        .or_else(|| block.provider.clone())
        .unwrap_or_else(|| "rackspace".into());
    let conn = connect(&ws).await?;
    let client = conn.clients.get(&provider)?;
    let kind = crate::resources::resource(&block.kind).ok_or_else(|| {
        CliError::msg(format!(
            "import: resources of type \"{}\" cannot be imported",
            block.kind
        ))
    })?;
    let imported = kind
        .import(client, id, &managed_keys)
        .await
        .map_err(|m| CliError::msg(format!("import: {m}")))?;
    let (attributes, tainted) = (imported.attributes, imported.tainted);
    state.resources.insert(
        addr.clone(),
        ResourceState {
            address: addr.clone(),
            kind: block.kind.clone(),
            name: block.name.clone(),
            provider,
            id: id.to_string(),
            attributes,
            managed_keys,
            tainted,
            dependencies: ws
                .graph
                .object_deps(&Node::Object(block.addr.clone()))
                .into_iter()
                .map(Target::Block)
                .collect(),
            sensitive_attributes: Vec::new(),
        },
    );
    backend.write(&mut state).await?;
    backend.unlock().await?;
    Ok(format!(
        "Imported {} {id} as {addr}. Run snapform plan to compare it with the configuration.",
        block.kind
    ))
}

/// The metadata keys the block declares for one instance. Values may be unknown before
/// apply; the keys must not.
pub(crate) fn declared_keys(
    ev: &Evaluator<'_>,
    block: &ObjectBlock,
    addr: &InstanceAddr,
) -> Result<Vec<String>, CliError> {
    let Some(def) = block.attrs.get("metadata") else {
        return Ok(Vec::new());
    };
    let inst = Instance {
        addr: addr.clone(),
        each_value: match addr.key {
            Some(crate::addr::InstanceKey::Key(_)) => Some(Value::Unknown),
            _ => None,
        },
    };
    match ev.eval(&def.value, Some(&inst)).map(|v| v.unmark().0) {
        Ok(Value::Map(m)) => Ok(m.keys().cloned().collect()),
        Ok(Value::Null) => Ok(Vec::new()),
        Ok(_) | Err(_) => Err(CliError::msg(format!(
            "import: expected the metadata keys of {} to be known from variables and locals, found an expression whose keys are known only after apply; write the keys out in an object literal",
            block.addr
        ))),
    }
}

/// The id of an `import` block: a string known from variables and locals.
pub(crate) fn eval_id(ev: &Evaluator<'_>, id: &crate::config::Expr) -> Result<String, String> {
    eval_id_in(ev, id, None)
}

/// `eval_id` inside one element of an import block's `for_each`.
pub(crate) fn eval_id_in(
    ev: &Evaluator<'_>,
    id: &crate::config::Expr,
    inst: Option<&crate::graph::Instance>,
) -> Result<String, String> {
    match ev.eval(id, inst).map(|v| v.unmark().0) {
        Ok(Value::String(s)) if !s.is_empty() => Ok(s),
        Ok(other) => Err(format!(
            "the id of an import block must be a non-empty string known before apply, found {}",
            other.type_name()
        )),
        Err(d) => Err(d.message),
    }
}
