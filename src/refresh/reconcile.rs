//! Reconciling the intent journal after an interrupted apply: an image whose `createImage` was
//! sent but whose id never reached state is found by server and name and adopted, never
//! duplicated.

use super::{Clients, RefreshError, image_attrs};
use crate::provider::ImageQuery;
use crate::state::{ResourceState, State};
use std::collections::BTreeSet;

/// What reconciliation did, for the CLI to report.
#[derive(Debug, Default)]
pub struct Reconciled {
    pub adopted: Vec<(crate::addr::InstanceAddr, String)>,
    pub dropped: Vec<crate::addr::InstanceAddr>,
}

/// Resolves every journaled intent against the cloud. The caller persists `state` afterwards.
pub async fn reconcile(state: &mut State, clients: &Clients) -> Result<Reconciled, RefreshError> {
    let mut done = Reconciled::default();
    let intents = std::mem::take(&mut state.journal);
    let known: BTreeSet<String> = state.resources.values().map(|r| r.id.clone()).collect();
    for intent in intents {
        if intent.operation != "create_image" {
            done.dropped.push(intent.address.clone());
            continue;
        }
        let provider = state
            .resources
            .get(&intent.address)
            .map(|r| r.provider.clone())
            .or_else(|| intent.detail.get("provider").cloned())
            .unwrap_or_else(|| "rackspace".into());
        let client = clients.get(&provider)?;
        let (Some(server), Some(name)) =
            (intent.detail.get("server_id"), intent.detail.get("name"))
        else {
            done.dropped.push(intent.address.clone());
            continue;
        };
        let q = ImageQuery {
            name: Some(name.clone()),
            server_id: Some(server.clone()),
            ..ImageQuery::default()
        };
        let mut found: Vec<_> = client
            .list_images(&q)
            .await?
            .into_iter()
            .filter(|i| {
                i.name == *name
                    && i.server_id.as_deref() == Some(server.as_str())
                    && !known.contains(&i.id)
                    // Created by this intent, not an older image with the same name.
                    && i.created.as_str() >= started_floor(&intent.started).as_str()
            })
            .collect();
        found.sort_by(|a, b| b.created.cmp(&a.created));
        match found.first() {
            Some(img) if !state.resources.contains_key(&intent.address) => {
                let attrs = image_attrs(client, img).await?;
                let (kind, rname) = (
                    intent.address.block.kind.clone(),
                    intent.address.block.name.clone(),
                );
                state.resources.insert(
                    intent.address.clone(),
                    ResourceState {
                        address: intent.address.clone(),
                        kind,
                        name: rname,
                        provider,
                        id: img.id.clone(),
                        attributes: attrs,
                        managed_keys: Vec::new(),
                        tainted: img.status == "ERROR",
                        dependencies: Vec::new(),
                        sensitive_attributes: Vec::new(),
                    },
                );
                done.adopted.push((intent.address.clone(), img.id.clone()));
            }
            _ => done.dropped.push(intent.address.clone()),
        }
    }
    Ok(done)
}

/// Cloud timestamps have second precision and clocks differ a little: allow a minute.
fn started_floor(started: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(started)
        .map(|t| {
            (t.with_timezone(&chrono::Utc) - chrono::Duration::seconds(60))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .unwrap_or_default()
}
