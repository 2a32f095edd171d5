//! `snapform query`: what each `list` block of the query files finds in the cloud, the
//! address each object would get, and (`-generate-config-out`) the `import` and `resource`
//! blocks that adopt what state does not manage yet.

use super::Error;
use super::planning::PlanOptions;
use super::session::Session;
use crate::addr::{BlockAddr, InstanceAddr};
use crate::resources::Found;
use crate::value::{Map, Value};
use std::collections::BTreeSet;

/// One object a list found.
#[derive(Clone, Debug)]
pub struct Listed {
    /// `list.image.snapshots`.
    pub list: String,
    pub kind: String,
    pub provider: String,
    pub found: Found,
    /// Where state manages it already.
    pub managed: Option<InstanceAddr>,
    /// The address it has (managed) or would get (readable, stable, unique).
    pub address: InstanceAddr,
}

/// Runs every `list` block (their filters may read variables, locals and data sources).
pub async fn query(session: &Session<'_>) -> Result<Vec<Listed>, Error> {
    let ws = session.ws;
    if ws.cfg.lists.is_empty() {
        return Err(Error::msg(
            "no list blocks: write them in *.snapquery.hcl files, e.g. list \"image\" \"snapshots\" { provider = rackspace }",
        ));
    }
    // The data sources the filters may read.
    let plan = session
        .plan(
            false,
            &PlanOptions {
                refresh: false,
                ..PlanOptions::default()
            },
        )
        .await?;
    let ev = crate::apply::seeded_evaluator(&plan, &ws.cfg, &ws.graph, &ws.vars, &session.state);
    let mut taken: BTreeSet<BlockAddr> = ws.cfg.resources.keys().cloned().collect();
    let mut out = Vec::new();
    for l in &ws.cfg.lists {
        let err = super::planning::error_at(ws, &l.span);
        let mut filters = Map::new();
        for (k, e) in &l.config {
            let v = ev
                .eval(e, None)
                .map_err(|d| Error::Diagnostics(ws.cfg.sources.clone(), vec![d]))?
                .unmarked();
            if v.contains_unknown() {
                return Err(err(format!(
                    "list.{}.{}: filter {k} is known only after apply",
                    l.kind, l.name
                )));
            }
            filters.insert(k.clone(), v);
        }
        let provider = ws
            .cfg
            .provider(l.provider.as_deref())
            .map(|p| p.key())
            .unwrap_or_else(|| "rackspace".into());
        let client = session.conn.clients.get(&provider)?;
        let kind = crate::resources::resource(&l.kind)
            .ok_or_else(|| err(format!("unknown list type \"{}\"", l.kind)))?;
        let found = kind
            .list(client, &filters)
            .await
            .map_err(|m| err(format!("list.{}.{}: {m}", l.kind, l.name)))?;
        for f in found {
            let managed = session
                .state
                .resources
                .values()
                .find(|r| r.kind == l.kind && r.id == f.id)
                .map(|r| r.address.clone());
            let address = match &managed {
                Some(a) => a.clone(),
                None => {
                    // Two lists may find one object: it gets one address.
                    if let Some(prev) = out
                        .iter()
                        .find(|x: &&Listed| x.kind == l.kind && x.found.id == f.id)
                    {
                        prev.address.clone()
                    } else {
                        let b = unique(&l.kind, &f.name, &taken);
                        taken.insert(b.clone());
                        b.instance(None)
                    }
                }
            };
            out.push(Listed {
                list: format!("list.{}.{}", l.kind, l.name),
                kind: l.kind.clone(),
                provider: provider.clone(),
                found: f,
                managed,
                address,
            });
        }
    }
    Ok(out)
}

/// `import` and `resource` blocks for what state does not manage yet (each object once);
/// `None` when there is nothing new.
pub async fn generate(session: &Session<'_>, listed: &[Listed]) -> Result<Option<String>, Error> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for x in listed.iter().filter(|x| x.managed.is_none()) {
        if !seen.insert((x.kind.clone(), x.found.id.clone())) {
            continue;
        }
        let kind = crate::resources::resource(&x.kind)
            .ok_or_else(|| Error::msg(format!("unknown resource type {}", x.kind)))?;
        let client = session.conn.clients.get(&x.provider)?;
        let mut args = kind
            .generate(client, &x.found.id)
            .await
            .map_err(|m| Error::msg(format!("generate configuration for {}: {m}", x.found.id)))?;
        if x.provider != "rackspace" && x.provider.contains('.') {
            args.insert("provider".into(), Value::str(&x.provider));
        }
        let mut comment = format!(
            "{} {:?} ({}), found by {}",
            x.kind, x.found.name, x.found.id, x.list
        );
        if let Some(n) = &x.found.note {
            comment.push('\n');
            comment.push_str(n);
        }
        let order: Vec<&str> = kind.schema().attrs.iter().map(|a| a.name).collect();
        out.push(format!(
            "import {{\n  to = {}\n  id = {}\n}}\n\n{}",
            x.address,
            crate::config::generate::literal(&Value::str(&x.found.id), 1),
            crate::config::generate::resource_block(
                &x.kind,
                &x.address.block.name,
                &args,
                &order,
                &comment
            )
        ));
    }
    Ok((!out.is_empty()).then(|| out.join("\n")))
}

/// A readable block name from an object's name (`web-01 golden` → `web_01_golden`), unique
/// among `taken` (`_2`, `_3`, ... in the order objects are found).
fn unique(kind: &str, name: &str, taken: &BTreeSet<BlockAddr>) -> BlockAddr {
    let mut base: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    while base.contains("__") {
        base = base.replace("__", "_");
    }
    let mut base = base.trim_matches('_').to_string();
    if base.is_empty() {
        base = kind.to_string();
    }
    if base.starts_with(|c: char| c.is_ascii_digit()) {
        base = format!("{kind}_{base}");
    }
    let mut candidate = BlockAddr::resource(kind, &base);
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = BlockAddr::resource(kind, format!("{base}_{n}"));
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_readable_stable_and_unique() {
        let mut taken = BTreeSet::new();
        let a = unique("image", "Web-01 Golden!", &taken);
        assert_eq!(a.to_string(), "image.web_01_golden");
        taken.insert(a);
        let b = unique("image", "web 01 golden", &taken);
        assert_eq!(b.to_string(), "image.web_01_golden_2");
        assert_eq!(
            unique("image", "2024-backup", &taken).to_string(),
            "image.image_2024_backup"
        );
        assert_eq!(unique("image", "---", &taken).to_string(), "image.image");
    }
}
