//! Incremental image refresh with `changes-since` cursors (REFERENCE §1.7, DESIGN §6).
//!
//! A cursor is the cloud's time when a listing started (see `ImageListing::cloud_time`: the
//! first page's HTTP `Date`, or the latest `updated` on that page when later — never our own
//! clock, which may be skewed). When state holds a cursor for a provider and complete
//! attributes for every image and image_metadata resource of it, refresh asks only for
//! `changes-since = cursor − SAFETY_MARGIN` and takes everything else from state.
//!
//! Why that is correct: state's attributes of a resource were read from the cloud at or after
//! the cursor's time (the cursor is stored only together with them, see `cursor.rs`), and
//! whatever changes an image afterwards (metadata writes, renames, deactivation, deletion,
//! a snapshot finishing) sets its `updated` to a later time, so `changes-since` returns it.
//! The margin covers `updated`'s one-second precision (two writes in the same second), the
//! moment between the query and the `Date` header, replica lag and skew between the API
//! front end's clock and the database's. Images still `SAVING` in state are the exception:
//! their progress moves without `updated`, so they are read one by one.
//!
//! Falls back to the full listing when there is no cursor, when it is older than the cloud's
//! 30-day window for deleted images (checked against our clock before asking, and against
//! the cloud's answer after), when a resource's attributes are incomplete, or when the
//! `changes-since` request fails.
//!
//! Clouds whose images live in Glance send no `DELETED` entries (a deleted image is simply
//! absent), so there the ids the answer did not mention are verified by id in batches
//! (`id=in:`); and everywhere, an image a full listing lacks is asked for by id before it
//! counts as gone.

use super::model::RefreshError;
use crate::provider::{Client, Image, ImageQuery, parse_time};
use crate::resources;
use crate::state::{ResourceState, State};
use crate::value::{Map, Value};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// Subtracted from the cursor when asking (see the module comment).
pub const SAFETY_MARGIN_SECONDS: i64 = 300;
/// The cloud keeps deleted images visible to `changes-since` for 30 days; we stop a day short.
pub const WINDOW_DAYS: i64 = 29;
/// More unsettled images than this in state: a full listing is cheaper than GETs.
const MAX_VOLATILE: usize = 25;
/// On a cloud without tombstones, more unmentioned images than this to verify: a full
/// listing (1000 a page) is cheaper than `id=in:` batches (50 a request).
const MAX_VERIFIED: usize = 1000;

/// The key of a provider's image cursor in `State::cursors`.
pub fn cursor_key(provider: &str) -> String {
    format!("images:{provider}")
}

/// Formats a cursor as the cloud writes times.
pub fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The cloud's view of one provider's images.
pub(crate) struct ImageView {
    /// Images as the cloud shows them now: all of them (full) or the changed ones.
    pub images: BTreeMap<String, Image>,
    /// Incremental: ids the answer says are gone; everything else not in `images` is as
    /// state says.
    pub gone: BTreeSet<String>,
    pub incremental: bool,
    /// The new cursor, when the cloud told its time.
    pub cursor: Option<String>,
}

impl ImageView {
    /// The current attributes of an `image` / `image_metadata` resource that the changes
    /// answer did not mention (incremental only): state's, restricted to what refresh reads.
    pub fn unchanged(&self, rs: &ResourceState) -> Option<Option<Map>> {
        if !super::model::listed(rs) || !self.incremental || self.images.contains_key(&rs.id) {
            return None;
        }
        if self.gone.contains(&rs.id) {
            return Some(None);
        }
        Some(Some(state_view(rs)))
    }
}

/// What refresh produces for a listed kind, as state has it.
fn state_view(rs: &ResourceState) -> Map {
    let (keys, _) = refreshed(rs);
    keys.iter()
        .filter_map(|k| rs.attributes.get(*k).map(|v| ((*k).to_string(), v.clone())))
        .collect()
}

fn refreshed(rs: &ResourceState) -> (&'static [&'static str], usize) {
    resources::resource(&rs.kind).map_or((&[], 0), |k| k.refreshed_attributes())
}

/// State holds enough of `rs` to stand in for the cloud.
fn complete(rs: &ResourceState) -> bool {
    let (keys, required) = refreshed(rs);
    keys[..required]
        .iter()
        .all(|k| rs.attributes.get(*k).is_some_and(|v| *v != Value::Null))
}

/// State of `rs` may go stale without `updated` moving (a snapshot in progress).
fn volatile(rs: &ResourceState) -> bool {
    resources::resource(&rs.kind).is_some_and(|k| k.volatile(rs))
}

/// Reads the images of one provider: incrementally when `state` allows it, else in full.
pub(crate) async fn read(
    client: &Client,
    key: &str,
    list: &[&ResourceState],
    state: &State,
) -> Result<ImageView, RefreshError> {
    let listed: Vec<&&ResourceState> = list.iter().filter(|r| super::model::listed(r)).collect();
    let since = state
        .cursors
        .get(&cursor_key(key))
        .and_then(|c| parse_time(c))
        .map(|c| c - Duration::seconds(SAFETY_MARGIN_SECONDS))
        // Our clock only decides whether asking is worth it; the answer is checked below.
        .filter(|s| Utc::now() - *s < Duration::days(WINDOW_DAYS));
    let volatile: Vec<&str> = listed
        .iter()
        .filter(|r| volatile(r))
        .map(|r| r.id.as_str())
        .collect();
    let eligible = listed.iter().all(|r| complete(r)) && volatile.len() <= MAX_VOLATILE;
    let ids: Vec<&str> = listed.iter().map(|r| r.id.as_str()).collect();
    if let Some(since) = since.filter(|_| eligible)
        && let Some(view) = changes(client, since, &volatile, &ids).await
    {
        return Ok(view);
    }
    let listing = client.list_images_dated(&ImageQuery::default()).await?;
    let mut images: BTreeMap<String, Image> = listing
        .images
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    // An image missing from a listing is gone only when asking for it by id says so: a
    // listing can be cut short (a cloud that ignores paging, a replica behind).
    let missing: Vec<String> = ids
        .iter()
        .filter(|id| !images.contains_key(**id))
        .map(|id| (*id).to_string())
        .collect();
    if !missing.is_empty() {
        for img in client.images_by_ids(&missing).await? {
            images.insert(img.id.clone(), img);
        }
    }
    Ok(ImageView {
        images,
        gone: BTreeSet::new(),
        incremental: false,
        cursor: listing.cloud_time.map(fmt_time),
    })
}

/// The `changes-since` answer, or `None` when it cannot be trusted (error, window exceeded).
async fn changes(
    client: &Client,
    since: DateTime<Utc>,
    volatile: &[&str],
    ids: &[&str],
) -> Option<ImageView> {
    if !client.reports_deletions() && !client.images_in_glance() {
        // Nova's image proxy on OpenStack: no tombstones and no way to ask for many ids.
        tracing::debug!("the compute image list reports no deletions; listing everything");
        return None;
    }
    let q = ImageQuery {
        changes_since: Some(fmt_time(since)),
        ..ImageQuery::default()
    };
    let listing = match client.list_images_dated(&q).await {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!(error = %e, "changes-since listing failed; listing everything");
            return None;
        }
    };
    // The cloud's own now (its Date, or anything it updated since): a cursor that fell out of
    // its window may have missed deletions, so the answer is not enough.
    let latest = listing
        .images
        .iter()
        .filter_map(|i| parse_time(&i.updated))
        .max();
    let cloud_now = listing.http_date.max(latest)?;
    if cloud_now - since >= Duration::days(WINDOW_DAYS) {
        tracing::debug!(%since, %cloud_now, "cursor outside the changes-since window");
        return None;
    }
    let mut view = ImageView {
        images: BTreeMap::new(),
        gone: BTreeSet::new(),
        incremental: true,
        cursor: listing.cloud_time.map(fmt_time),
    };
    for img in listing.images {
        if img.status == "DELETED" {
            view.images.remove(&img.id);
            view.gone.insert(img.id);
        } else {
            view.gone.remove(&img.id);
            view.images.insert(img.id.clone(), img);
        }
    }
    for id in volatile {
        if view.images.contains_key(*id) || view.gone.contains(*id) {
            continue;
        }
        match client.get_image(id).await {
            Ok(Some(img)) => {
                view.images.insert(img.id.clone(), img);
            }
            Ok(None) => {
                view.gone.insert((*id).to_string());
            }
            Err(e) => {
                tracing::debug!(error = %e, "reading an unsettled image failed; listing everything");
                return None;
            }
        }
    }
    if !client.reports_deletions() {
        // Glance sends no tombstones: a deleted image is simply not in the answer. Whatever
        // the answer did not mention is asked for by id, in batches.
        let unmentioned: Vec<String> = ids
            .iter()
            .filter(|id| !view.images.contains_key(**id) && !view.gone.contains(**id))
            .map(|id| (*id).to_string())
            .collect();
        if unmentioned.len() > MAX_VERIFIED {
            tracing::debug!(
                n = unmentioned.len(),
                "too many images to verify by id; listing everything"
            );
            return None;
        }
        if !unmentioned.is_empty() {
            let present = match client.images_by_ids(&unmentioned).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::debug!(error = %e, "verifying images by id failed; listing everything");
                    return None;
                }
            };
            let present: BTreeSet<String> = present.into_iter().map(|i| i.id).collect();
            for id in unmentioned {
                if !present.contains(&id) {
                    view.gone.insert(id);
                }
            }
        }
    }
    Some(view)
}
