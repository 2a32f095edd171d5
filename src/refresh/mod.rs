//! Refresh: reads the cloud (through the provider) into what the planner needs — the current
//! attributes of every resource in state and the results of data sources. It decides nothing.
//!
//! Refresh is batched: one paginated image listing per provider serves every `image` and
//! `image_metadata` resource, whatever their number — and incremental: with a cursor in state,
//! only the images changed since (`incremental.rs`; cursors are stored by apply, `cursor.rs`).

mod cache;
mod cursor;
mod data;
mod incremental;
mod model;
mod reconcile;

pub use cache::Cache;
pub use cursor::store_cursors;
pub use data::{read_data, read_data_with};
pub use incremental::{SAFETY_MARGIN_SECONDS, WINDOW_DAYS, cursor_key};
use model::listed;
pub use model::{Clients, RefreshError};
pub use reconcile::{Reconciled, reconcile};

use crate::plan::Refreshed;
use crate::provider::{Client, ImageQuery};
use crate::resources::{self, Views};
use crate::state::{ResourceState, State};
use crate::value::Map;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Reads the current attributes of every resource in `state`.
pub async fn refresh(state: &State, clients: &Clients) -> Result<Refreshed, RefreshError> {
    refresh_with(state, clients, &Cache::default()).await
}

/// [`refresh`], keeping what it lists in `cache` for the data sources of the same plan.
///
/// Per provider: one image listing (incremental when state allows) for the listed kinds, one
/// server listing for the served kinds when two or more want it, and the reads no listing
/// answers concurrently (at most [`READS_IN_FLIGHT`], under the client's rate limiter).
/// Providers are refreshed concurrently; the result does not depend on the order in which
/// the cloud answers.
pub async fn refresh_with(
    state: &State,
    clients: &Clients,
    cache: &Cache,
) -> Result<Refreshed, RefreshError> {
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
    // Providers are refreshed at once (each paced by its own client); their results are
    // merged in provider order, and of several failures the first provider's is reported.
    let results = futures_util::future::join_all(
        by_provider
            .into_iter()
            .map(|(key, list)| refresh_provider(key, list, state, clients, cache)),
    )
    .await;
    for r in results {
        let (cursor, found) = r?;
        out.cursors.extend(cursor);
        out.resources.extend(found);
    }
    // Deposed objects (a replacement that did not finish): those still there get destroyed.
    for rs in &state.deposed {
        let Some(kind) = resources::resource(&rs.kind) else {
            out.deposed.push(rs.clone());
            continue;
        };
        let client = clients.get(&rs.provider)?;
        if let Some(attrs) = kind.read(client, rs, &Views::default()).await? {
            let mut rs = rs.clone();
            rs.attributes = attrs;
            out.deposed.push(rs);
        }
    }
    Ok(out)
}

/// What one provider's refresh gives: its cursor (key and value) and its resources.
type ProviderRefresh = (
    Option<(String, String)>,
    BTreeMap<crate::addr::InstanceAddr, Option<Map>>,
);

/// One provider's part of [`refresh_with`]: its listings, then the reads they do not answer.
async fn refresh_provider(
    key: &str,
    list: Vec<&ResourceState>,
    state: &State,
    clients: &Clients,
    cache: &Cache,
) -> Result<ProviderRefresh, RefreshError> {
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
    cache.note_known_images(key, list.iter().filter(|r| listed(r)).count());
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
    let cursor = cursor.map(|c| (cursor_key(key), c));
    let served = list
        .iter()
        .filter(|r| resources::resource(&r.kind).is_some_and(|k| k.served()))
        .count();
    let servers = cache.servers(key, client, served).await?;
    let images = view.as_ref().map(|v| Arc::new(v.images.clone()));
    let complete = view.as_ref().is_some_and(|v| !v.incremental);
    if let (Some(l), true) = (&images, complete) {
        cache.seed_images(key, l.clone());
    }
    let mut found = BTreeMap::new();
    let mut pending: Vec<&ResourceState> = Vec::new();
    for rs in list {
        if let Some(current) = view.as_ref().and_then(|v| v.unchanged(rs)) {
            found.insert(rs.address.clone(), current);
            continue;
        }
        match resources::resource(&rs.kind) {
            Some(_) => pending.push(rs),
            // A kind this build does not know: what state has stands.
            None => {
                found.insert(rs.address.clone(), Some(rs.attributes.clone()));
            }
        }
    }
    let read = read_concurrently(client, &pending, |rs| {
        let listed = resources::resource(&rs.kind).is_some_and(|k| k.listed());
        Views {
            images: images.clone().filter(|_| listed),
            images_complete: complete && listed,
            servers: servers.clone(),
        }
    })
    .await?;
    found.extend(read);
    Ok((cursor, found))
}

/// How many single-object reads refresh runs at once (each still paced by the client).
pub const READS_IN_FLIGHT: usize = 10;

/// Runs `jobs` [`READS_IN_FLIGHT`] at a time (each created only when a slot is free) and
/// returns their results by key, so that what a caller reports first does not depend on
/// timing. A task that panicked is reported as `what` failed.
pub(crate) async fn in_flight<K, T, F>(
    jobs: impl IntoIterator<Item = (K, F)>,
    what: &str,
) -> Result<BTreeMap<K, T>, RefreshError>
where
    K: Ord + Send + 'static,
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let mut queue = jobs.into_iter();
    let mut results = BTreeMap::new();
    loop {
        while set.len() < READS_IN_FLIGHT {
            let Some((k, f)) = queue.next() else { break };
            set.spawn(async move { (k, f.await) });
        }
        match set.join_next().await {
            Some(Ok((k, r))) => {
                results.insert(k, r);
            }
            Some(Err(e)) => {
                return Err(RefreshError::Data {
                    address: String::new(),
                    message: format!("{what} failed: {e}"),
                });
            }
            None => break,
        }
    }
    Ok(results)
}

/// Each resource's own read, [`READS_IN_FLIGHT`] at a time; the first error (in address
/// order) wins.
async fn read_concurrently(
    client: &Client,
    pending: &[&ResourceState],
    views: impl Fn(&ResourceState) -> Views,
) -> Result<BTreeMap<crate::addr::InstanceAddr, Option<Map>>, RefreshError> {
    let jobs = pending.iter().filter_map(|rs| {
        let kind = resources::resource(&rs.kind)?;
        let (client, rs, views) = (client.clone(), (*rs).clone(), views(rs));
        Some((rs.address.clone(), async move {
            kind.read(&client, &rs, &views).await
        }))
    });
    let results = in_flight(jobs, "a refresh task").await?;
    let mut out = BTreeMap::new();
    for (addr, r) in results {
        out.insert(addr, r?);
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
