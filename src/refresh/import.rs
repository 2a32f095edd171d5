//! Reading one existing object for import (the `import` command and `import` blocks).

use super::{image_attrs, schedule_attrs};
use crate::provider::Client;
use crate::value::{Map, Value};

/// Reads an existing object for import: its state attributes and whether it is tainted.
/// Errors say what was expected and what was found.
pub async fn read_import(
    client: &Client,
    kind: &str,
    id: &str,
    managed_keys: &[String],
) -> Result<(Map, bool), String> {
    let cloud = |e: crate::provider::ProviderError| e.to_string();
    let owned = |all: &std::collections::BTreeMap<String, String>| -> Value {
        all.iter()
            .filter(|(k, _)| managed_keys.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<String, String>>()
            .into()
    };
    match kind {
        "image" => {
            let img = client.get_image(id).await.map_err(cloud)?.ok_or_else(|| {
                format!("expected an image with id {id}, found none in the cloud")
            })?;
            if img.server_id.is_none() {
                return Err(format!(
                    "expected a server snapshot, found image {id} (\"{}\") with no server: it is a base image, which snapform never manages as an image resource (use image_metadata to manage keys on it)",
                    img.name
                ));
            }
            let mut m = image_attrs(client, &img).await.map_err(cloud)?;
            m.insert("metadata".into(), owned(&img.metadata));
            Ok((m, img.status == "ERROR"))
        }
        "image_schedule" => {
            let s = client.get_schedule(id).await.map_err(cloud)?.ok_or_else(|| {
                format!("expected server {id} to have a scheduled-images policy, found none (or no such server)"
                )
            })?;
            Ok((
                schedule_attrs(id, s.retention, s.day_of_week.as_deref()),
                false,
            ))
        }
        "image_metadata" => {
            let img = client.get_image(id).await.map_err(cloud)?.ok_or_else(|| {
                format!("expected an image with id {id}, found none in the cloud")
            })?;
            let mut m = Map::new();
            m.insert("id".into(), Value::str(&img.id));
            m.insert("image_id".into(), Value::str(&img.id));
            m.insert("all_metadata".into(), img.metadata.clone().into());
            m.insert("metadata".into(), owned(&img.metadata));
            Ok((m, false))
        }
        other => Err(format!("resources of type \"{other}\" cannot be imported")),
    }
}
