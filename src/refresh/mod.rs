//! Refresh: reads the cloud (through the provider) into what the planner needs — the current
//! attributes of every resource in state and the results of data sources. It decides nothing.
//!
//! Refresh is batched: one paginated image listing per provider serves every `image` and
//! `image_metadata` resource, whatever their number — and incremental: with a cursor in state,
//! only the images changed since (`incremental.rs`; cursors are stored by apply, `cursor.rs`).

mod cursor;
mod data;
mod incremental;
mod model;
mod reconcile;

pub use cursor::store_cursors;
pub use data::read_data;
pub use incremental::{SAFETY_MARGIN_SECONDS, WINDOW_DAYS, cursor_key};
use model::listed;
pub use model::{Clients, RefreshError};
pub use reconcile::{Reconciled, reconcile};

use crate::plan::Refreshed;
use crate::provider::{Client, ImageQuery};
use crate::resources;
use crate::state::{ResourceState, State};
use std::collections::BTreeMap;

/// Reads the current attributes of every resource in `state`.
pub async fn refresh(state: &State, clients: &Clients) -> Result<Refreshed, RefreshError> {
    let mut out = Refreshed {
        image_api: clients.by_key.values().all(Client::has_image_api) && !clients.by_key.is_empty(),
        ..Refreshed::default()
    };
    // Group by provider so each provider's listing is fetched once.
    let mut by_provider: BTreeMap<&str, Vec<&ResourceState>> = BTreeMap::new();
    for rs in state.resources.values() {
        by_provider
            .entry(rs.provider.as_str())
            .or_default()
            .push(rs);
    }
    // A provider with no images in state yet still needs a cursor, so that the plan after the
    // apply that creates them is incremental: one tiny listing tells the cloud's time.
    for key in clients.by_key.keys() {
        if !by_provider.contains_key(key.as_str()) && !state.cursors.contains_key(&cursor_key(key))
        {
            by_provider.insert(key, Vec::new());
        }
    }
    for (key, list) in by_provider {
        let client = clients.get(key).map_err(|_| RefreshError::Data {
            address: list
                .iter()
                .map(|r| r.address.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            message: format!(
                "recorded in state as managed by provider \"{key}\", which the configuration no longer has; keep that provider block until they are destroyed (or use `snapform state rm`)"
            ),
        })?;
        let needs_images = list.iter().any(|r| listed(r));
        let view = if needs_images {
            Some(incremental::read(client, key, &list, state).await?)
        } else {
            None
        };
        let cursor = match &view {
            Some(v) => v.cursor.clone(),
            None if list.is_empty() => probe(client).await,
            // Nothing listed: what state has is still as good as it was.
            None => state.cursors.get(&cursor_key(key)).cloned(),
        };
        if let Some(c) = cursor {
            out.cursors.insert(cursor_key(key), c);
        }
        for rs in list {
            if let Some(current) = view.as_ref().and_then(|v| v.unchanged(rs)) {
                out.resources.insert(rs.address.clone(), current);
                continue;
            }
            let current = match resources::resource(&rs.kind) {
                Some(kind) => {
                    let listing = view.as_ref().filter(|_| kind.listed()).map(|v| &v.images);
                    kind.read(client, rs, listing).await?
                }
                // A kind this build does not know: what state has stands.
                None => Some(rs.attributes.clone()),
            };
            out.resources.insert(rs.address.clone(), current);
        }
    }
    // Deposed objects (a replacement that did not finish): those still there get destroyed.
    for rs in &state.deposed {
        let Some(kind) = resources::resource(&rs.kind) else {
            out.deposed.push(rs.clone());
            continue;
        };
        let client = clients.get(&rs.provider)?;
        if let Some(attrs) = kind.read(client, rs, None).await? {
            let mut rs = rs.clone();
            rs.attributes = attrs;
            out.deposed.push(rs);
        }
    }
    Ok(out)
}

/// The cloud's time from one one-image page, for a provider with nothing to list yet. A
/// failure only means no cursor (the next refresh lists in full).
async fn probe(client: &Client) -> Option<String> {
    let q = ImageQuery {
        limit: Some(1),
        ..ImageQuery::default()
    };
    match client.list_images_dated(&q).await {
        Ok(l) => l.cloud_time.map(incremental::fmt_time),
        Err(e) => {
            tracing::debug!(error = %e, "no changes-since cursor");
            None
        }
    }
}
