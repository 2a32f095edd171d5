//! Reconciling the intent journal after an interrupted apply: the kind that journaled an
//! intent finds what its call made (an image by server and name) so that it is adopted, never
//! duplicated.

use super::model::{Clients, RefreshError};
use crate::addr::InstanceAddr;
use crate::resources;
use crate::state::{ResourceState, State};

/// What reconciliation did, for the CLI to report.
#[derive(Debug, Default)]
pub struct Reconciled {
    pub adopted: Vec<(InstanceAddr, String)>,
    pub dropped: Vec<InstanceAddr>,
}

/// Resolves every journaled intent against the cloud. The caller persists `state` afterwards.
pub async fn reconcile(state: &mut State, clients: &Clients) -> Result<Reconciled, RefreshError> {
    let mut done = Reconciled::default();
    let intents = std::mem::take(&mut state.journal);
    // Each object is adopted once: ids in state (current or deposed) and those adopted here.
    let mut known: Vec<String> = state.known_ids();
    for intent in intents {
        let Some(kind) = resources::resource(&intent.address.block.kind) else {
            done.dropped.push(intent.address.clone());
            continue;
        };
        let provider = state
            .resources
            .get(&intent.address)
            .map(|r| r.provider.clone())
            .or_else(|| intent.detail.get("provider").cloned())
            .unwrap_or_else(|| "rackspace".into());
        let client = clients.get(&provider)?;
        let found = kind.reconcile(client, &intent, &known).await?;
        match found {
            Some(found)
                if state.resources.get(&intent.address).map(|r| &r.id) != Some(&found.id) =>
            {
                let resources::Adopted {
                    id,
                    attributes,
                    tainted,
                } = found;
                known.push(id.clone());
                // An address that still holds another object was being replaced: that object
                // is deposed (destroyed by the next plan, if it still exists), not forgotten.
                state.put(ResourceState {
                    address: intent.address.clone(),
                    kind: intent.address.block.kind.clone(),
                    name: intent.address.block.name.clone(),
                    provider,
                    id: id.clone(),
                    attributes,
                    managed_keys: Vec::new(),
                    tainted,
                    dependencies: Vec::new(),
                    sensitive_attributes: Vec::new(),
                });
                done.adopted.push((intent.address.clone(), id));
            }
            _ => done.dropped.push(intent.address.clone()),
        }
    }
    Ok(done)
}
