//! Refresh: reads the cloud (through the provider) into what the planner needs — the current
//! attributes of every resource in state and the results of data sources. It decides nothing.
//!
//! Refresh is batched: one paginated image listing per provider serves every `image` and
//! `image_metadata` resource, whatever their number — and incremental: with a cursor in state,
//! only the images changed since (`incremental.rs`; cursors are stored by apply, `cursor.rs`).

mod cursor;
mod data;
mod import;
mod incremental;
mod reconcile;

pub use cursor::store_cursors;
pub use data::{read_data, read_one as read_data_one};
pub use import::read_import;
pub use incremental::{SAFETY_MARGIN_SECONDS, WINDOW_DAYS, cursor_key};
pub use reconcile::{Reconciled, reconcile};

use crate::plan::Refreshed;
use crate::provider::{Client, Image, ImageQuery, ProviderError};
use crate::state::{ResourceState, State};
use crate::value::{Map, Value};
use std::collections::BTreeMap;

/// Connected clients by provider key (`rackspace`, `rackspace.lon`).
#[derive(Clone, Default)]
pub struct Clients {
    pub by_key: BTreeMap<String, Client>,
}

impl Clients {
    pub fn get(&self, key: &str) -> Result<&Client, RefreshError> {
        self.by_key
            .get(key)
            .or_else(|| {
                // An unaliased key also matches the only provider of that kind.
                self.by_key
                    .iter()
                    .find(|(k, _)| k.split('.').next() == Some(key))
                    .map(|(_, c)| c)
            })
            .ok_or_else(|| RefreshError::NoProvider(key.to_string()))
    }

    pub fn request_count(&self) -> u64 {
        self.by_key.values().map(Client::request_count).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("no provider \"{0}\" is configured")]
    NoProvider(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{address}: {message}")]
    Data { address: String, message: String },
}

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
        let needs_images = list
            .iter()
            .any(|r| r.kind == "image" || r.kind == "image_metadata");
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
        let no_images = BTreeMap::new();
        let images: &BTreeMap<String, Image> = view.as_ref().map_or(&no_images, |v| &v.images);
        for rs in list {
            if let Some(current) = view.as_ref().and_then(|v| v.unchanged(rs)) {
                out.resources.insert(rs.address.clone(), current);
                continue;
            }
            let current = match rs.kind.as_str() {
                "image" => match images.get(&rs.id) {
                    Some(img) => Some(image_attrs(client, img).await?),
                    None => None,
                },
                "image_metadata" => {
                    let img = match images.get(&rs.id) {
                        Some(i) => Some(i.clone()),
                        None => client.get_image(&rs.id).await?,
                    };
                    img.map(|i| {
                        let mut m = Map::new();
                        m.insert("id".into(), Value::str(&i.id));
                        m.insert("image_id".into(), Value::str(&i.id));
                        m.insert("all_metadata".into(), i.metadata.clone().into());
                        m
                    })
                }
                "image_schedule" => client
                    .get_schedule(&rs.id)
                    .await?
                    .map(|s| schedule_attrs(&rs.id, s.retention, s.day_of_week.as_deref())),
                _ => Some(rs.attributes.clone()),
            };
            out.resources.insert(rs.address.clone(), current);
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

/// State attributes of an image resource from the cloud's view of it.
pub async fn image_attrs(client: &Client, img: &Image) -> Result<Map, ProviderError> {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(&img.id));
    m.insert("name".into(), Value::str(&img.name));
    if let Some(s) = &img.server_id {
        m.insert("server_id".into(), Value::str(s));
    }
    m.insert("status".into(), Value::str(&img.status));
    m.insert("progress".into(), Value::int(img.progress as i64));
    m.insert("min_disk".into(), Value::int(img.min_disk as i64));
    m.insert("min_ram".into(), Value::int(img.min_ram as i64));
    if let Some(s) = img.size {
        m.insert("size".into(), Value::Number(s.into()));
    }
    if let Some(d) = &img.disk_config {
        m.insert("disk_config".into(), Value::str(d));
    }
    m.insert("created".into(), Value::str(&img.created));
    m.insert("updated".into(), Value::str(&img.updated));
    m.insert("all_metadata".into(), img.metadata.clone().into());
    // The compute API shows a deactivated image as UNKNOWN; the Image API tells the truth.
    let mut deactivated = false;
    if img.status == "UNKNOWN"
        && client.has_image_api()
        && let Some(v2) = client.get_image_v2(&img.id).await?
    {
        deactivated = v2.status == "deactivated";
    }
    m.insert("deactivated".into(), Value::Bool(deactivated));
    Ok(m)
}

pub fn schedule_attrs(server_id: &str, retention: u32, day: Option<&str>) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(server_id));
    m.insert("server_id".into(), Value::str(server_id));
    m.insert("retention".into(), Value::int(retention as i64));
    if let Some(d) = day {
        m.insert("day_of_week".into(), Value::str(d.to_uppercase()));
    }
    m
}
