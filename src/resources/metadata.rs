//! Metadata ownership (DESIGN §4), shared by `image` and `image_metadata`: a resource diffs
//! and writes only the keys it declares now or managed before; keys the cloud adds never show
//! up as drift.

use super::op::{Op, string_map};
use crate::state::ResourceState;
use crate::value::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The keys a resource owns: declared now, or managed before.
pub fn owned_keys(desired: &Map, prior: Option<&ResourceState>) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = prior
        .map(|p| p.managed_keys.iter().cloned().collect())
        .unwrap_or_default();
    if let Some(Value::Map(d)) = desired.get("metadata") {
        keys.extend(d.keys().cloned());
    }
    keys
}

/// The entries of `all` whose key is in `keys`.
pub fn owned<'a>(
    all: &BTreeMap<String, String>,
    keys: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, String> {
    let keys: BTreeSet<&String> = keys.into_iter().collect();
    all.iter()
        .filter(|(k, _)| keys.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `current` with `metadata` replaced by the owned part of `all_metadata`.
pub fn ownership_view(current: &Map, desired: &Map, prior: Option<&ResourceState>) -> Map {
    let mut v = current.clone();
    let keys = owned_keys(desired, prior);
    let owned: Map = match current.get("all_metadata") {
        Some(Value::Map(all)) => keys
            .iter()
            .filter_map(|k| {
                all.get(k)
                    .and_then(Value::to_plain_string)
                    .map(|s| (k.clone(), Value::String(s)))
            })
            .collect(),
        _ => Map::new(),
    };
    v.insert("metadata".into(), Value::Map(owned));
    v
}

/// Brings the managed metadata keys of `image_id` to the desired values: one merge call for
/// the keys to set, one delete per key to remove (keys managed before and no longer
/// declared, and `absent_keys` that exist).
pub async fn sync(op: &Op, image_id: &str, before: Option<&Map>) -> Result<(), String> {
    let want = op.map_arg("metadata");
    let have = before
        .map(|b| string_map(b, "metadata"))
        .unwrap_or_default();
    let to_set: BTreeMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !to_set.is_empty() {
        op.call(op.client.merge_image_metadata(image_id, &to_set))
            .await?;
    }
    let mut to_delete: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if let Some(absent) = op.args.get("absent_keys").and_then(Value::as_list) {
        let all = before.map(|b| string_map(b, "all_metadata"));
        for k in absent.iter().filter_map(Value::as_str) {
            // Without a refreshed view (create), try every key; 404 means already absent.
            if all.as_ref().is_none_or(|a| a.contains_key(k)) {
                to_delete.push(k.to_string());
            }
        }
    }
    for k in to_delete {
        op.call(op.client.delete_image_metadata_item(image_id, &k))
            .await?;
    }
    Ok(())
}
