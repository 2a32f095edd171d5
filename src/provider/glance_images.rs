//! Images through the Image API v2 (Glance) — what an OpenStack cloud uses, since Nova's image
//! proxy is gone from compute microversion 2.36 on (REFERENCE §7, §10): listing (with the
//! `changes-since` of the compute API as `updated_at=gte:`), show, delete, and metadata as image
//! properties (JSON patch). Glance reports no tombstones: a deleted image is simply absent, so
//! `images_by_ids` lets refresh verify the ids a listing did not mention.
//!
//! Glance entities are read into the compute API's `Image` shape (statuses mapped as nova maps
//! them, custom properties as metadata, `instance_uuid` as the server), so the rest of
//! snapform sees one image type.

use std::collections::BTreeMap;

use chrono::Utc;
use reqwest::Method;
use reqwest::header::DATE;
use serde_json::{Value, json};

use super::http::{Body, Call, Service};
use super::paging::{self, Next};
use super::types::{Image, ImageListing, ImageQuery, parse_time, str_field, u64_field};
use super::{Client, ProviderError, found};

/// Attributes of a Glance image that are not properties (and cannot be set as metadata).
pub(crate) const CORE: &[&str] = &[
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "checksum",
    "size",
    "virtual_size",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "tags",
    "created_at",
    "updated_at",
    "owner",
    "self",
    "file",
    "schema",
    "locations",
    "direct_url",
    "os_hidden",
    "os_hash_algo",
    "os_hash_value",
    "stores",
];

/// How many ids one `id=in:` query asks about (URLs stay well under common limits).
const IDS_PER_QUERY: usize = 50;
/// How many of those queries run at once.
const BATCHES_IN_FLIGHT: usize = 4;

impl Client {
    /// True when this client keeps images in the Image API v2 (OpenStack with an image
    /// endpoint) rather than the compute API (Rackspace).
    pub fn images_in_glance(&self) -> bool {
        self.inner.opts.preset == super::Preset::Openstack && self.has_image_api()
    }

    /// True when an incremental listing reports deleted images: Rackspace's compute
    /// `changes-since` does; Glance does not, nor Nova's image proxy in front of it.
    pub fn reports_deletions(&self) -> bool {
        self.inner.opts.preset == super::Preset::Rackspace
    }

    pub(crate) async fn glance_list(&self, q: &ImageQuery) -> Result<ImageListing, ProviderError> {
        let op = "GET /v2/images".to_owned();
        let mut call = Call::new(Method::GET, Service::Image, &["images"], op.clone()).query(
            "limit",
            q.limit
                .map_or_else(|| self.inner.page_size(), |l| l.max(1).to_string()),
        );
        if let Some(n) = &q.name {
            call = call.query("name", n.clone());
        }
        if let Some(s) = &q.status {
            call = call.query("status", glance_status_filter(s));
        }
        if let Some(sv) = &q.server_id {
            call = call.query("instance_uuid", sv.clone());
        }
        if let Some(since) = &q.changes_since {
            call = call.query("updated_at", format!("gte:{since}"));
        }
        let got = if q.limit.is_some() {
            let reply = self.inner.execute(&call).await?;
            let body = reply.json(&op)?;
            let items = body
                .get("images")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            paging::Collected {
                first_len: items.len(),
                first_date: reply
                    .headers
                    .get(DATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                items,
            }
        } else {
            paging::collect_dated(&self.inner, call, "images", Next::GlanceNext).await?
        };
        let mut images = got
            .items
            .iter()
            .map(|v| from_glance(v, &op))
            .collect::<Result<Vec<_>, _>>()?;
        let http_date = got
            .first_date
            .as_deref()
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|t| t.with_timezone(&Utc));
        let first_updated = images[..got.first_len.min(images.len())]
            .iter()
            .filter_map(|i| parse_time(&i.updated))
            .max();
        // Glance has no image type: a snapshot is an image made from a server.
        if let Some(t) = &q.image_type {
            let snapshot = t.eq_ignore_ascii_case("snapshot");
            images.retain(|i| i.server_id.is_some() == snapshot);
        }
        Ok(ImageListing {
            images,
            cloud_time: http_date.max(first_updated),
            http_date,
        })
    }

    pub(crate) async fn glance_get(&self, id: &str) -> Result<Option<Image>, ProviderError> {
        let op = format!("get image {id}");
        let call = Call::new(Method::GET, Service::Image, &["images", id], op.clone());
        match found(self.inner.execute(&call).await)? {
            Some(reply) => from_glance(&reply.json(&op)?, &op).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) async fn glance_delete(&self, id: &str) -> Result<bool, ProviderError> {
        let call = Call::new(
            Method::DELETE,
            Service::Image,
            &["images", id],
            format!("delete image {id}"),
        );
        Ok(found(self.inner.execute(&call).await)?.is_some())
    }

    /// The images among `ids` that exist, asked in batches (`id=in:a,b,...`): what refresh
    /// uses on a cloud without tombstones to see which managed images are gone.
    pub async fn images_by_ids(&self, ids: &[String]) -> Result<Vec<Image>, ProviderError> {
        if !self.images_in_glance() {
            let mut out = Vec::new();
            for id in ids {
                out.extend(self.get_image(id).await?);
            }
            return Ok(out);
        }
        // A few batches in flight at once; the pacing in `http` still applies to each.
        let mut chunks = ids.chunks(IDS_PER_QUERY).map(<[String]>::to_vec);
        let mut set = tokio::task::JoinSet::new();
        let mut out = Vec::new();
        loop {
            while set.len() < BATCHES_IN_FLIGHT {
                let Some(chunk) = chunks.next() else { break };
                let me = self.clone();
                set.spawn(async move { me.glance_by_ids(&chunk).await });
            }
            match set.join_next().await {
                Some(Ok(found)) => out.extend(found?),
                Some(Err(e)) => {
                    return Err(ProviderError::transport(
                        "GET /v2/images?id=in:…",
                        format!("a batch failed: {e}"),
                    ));
                }
                None => break,
            }
        }
        Ok(out)
    }

    async fn glance_by_ids(&self, chunk: &[String]) -> Result<Vec<Image>, ProviderError> {
        let op = format!("GET /v2/images?id=in:… ({} ids)", chunk.len());
        let call = Call::new(Method::GET, Service::Image, &["images"], op.clone())
            .query("id", format!("in:{}", chunk.join(",")))
            .query("limit", self.inner.page_size());
        let items = paging::collect(&self.inner, call, "images", Next::GlanceNext).await?;
        let mut out = Vec::new();
        for v in &items {
            let img = from_glance(v, &op)?;
            // Filters are not trusted: keep only what was asked for.
            if chunk.contains(&img.id) {
                out.push(img);
            }
        }
        Ok(out)
    }

    /// The custom properties of an image (its metadata).
    pub(crate) async fn glance_properties(
        &self,
        id: &str,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        match self.glance_get(id).await? {
            Some(img) => Ok(img.metadata),
            None => Err(ProviderError::Api {
                operation: format!("get metadata of image {id}"),
                status: 404,
                message: format!("No image found with ID {id}"),
                retry_after: None,
            }),
        }
    }

    /// Sets properties (JSON patch: `replace` for those that exist, `add` for the others).
    pub(crate) async fn glance_merge(
        &self,
        id: &str,
        m: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        reserved_keys(m.keys(), &format!("set metadata of image {id}"))?;
        let have = self.glance_properties(id).await?;
        let ops: Vec<Value> = m
            .iter()
            .map(|(k, v)| {
                let op = if have.contains_key(k) {
                    "replace"
                } else {
                    "add"
                };
                json!({"op": op, "path": format!("/{}", pointer_escape(k)), "value": v})
            })
            .collect();
        let img = self.glance_patch(id, ops, "set metadata").await?;
        Ok(img.metadata)
    }

    /// Removes one property; `false` when it (or the image) was not there.
    pub(crate) async fn glance_remove(&self, id: &str, key: &str) -> Result<bool, ProviderError> {
        let have = match self.glance_get(id).await? {
            Some(img) => img.metadata,
            None => return Ok(false),
        };
        if !have.contains_key(key) {
            return Ok(false);
        }
        let op = json!([{"op": "remove", "path": format!("/{}", pointer_escape(key))}]);
        match self
            .glance_patch(
                id,
                op.as_array().cloned().unwrap_or_default(),
                "remove metadata",
            )
            .await
        {
            Ok(_) => Ok(true),
            // Removed by someone else in between.
            Err(e) if e.status() == Some(409) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn glance_patch(
        &self,
        id: &str,
        ops: Vec<Value>,
        what: &str,
    ) -> Result<Image, ProviderError> {
        let op = format!("{what} of image {id}");
        let mut call = Call::new(Method::PATCH, Service::Image, &["images", id], op.clone());
        call.body = Body::JsonPatch(Value::Array(ops));
        let reply = self.inner.execute(&call).await?;
        from_glance(&reply.json(&op)?, &op)
    }
}

/// Refuses metadata keys that Glance reserves (a core attribute, `os_glance_*`): it would
/// answer 403, after the rest of the change was made.
pub(crate) fn reserved_keys<'a>(
    keys: impl IntoIterator<Item = &'a String>,
    operation: &str,
) -> Result<(), ProviderError> {
    for k in keys {
        if CORE.contains(&k.as_str()) || k.starts_with("os_glance") {
            return Err(ProviderError::Api {
                operation: operation.to_string(),
                status: 400,
                message: format!(
                    "metadata key \"{k}\" is an attribute of the Image API itself on OpenStack, not a property; choose another key (e.g. \"{k}_tag\")"
                ),
                retry_after: None,
            });
        }
    }
    Ok(())
}

/// RFC 6901: `~` → `~0`, `/` → `~1`.
fn pointer_escape(k: &str) -> String {
    k.replace('~', "~0").replace('/', "~1")
}

/// The Glance status a compute-style status filter means.
fn glance_status_filter(s: &str) -> String {
    match s.to_ascii_uppercase().as_str() {
        "ACTIVE" => "active".into(),
        "SAVING" => "saving".into(),
        "ERROR" => "killed".into(),
        "DELETED" => "deleted".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// A Glance image entity in the compute API's shape (nova's status mapping, REFERENCE §3.3).
pub(crate) fn from_glance(v: &Value, operation: &str) -> Result<Image, ProviderError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ProviderError::transport(operation, "an image is not a JSON object"))?;
    let id = str_field(obj, "id")
        .ok_or_else(|| ProviderError::transport(operation, "an image has no id"))?;
    let glance = str_field(obj, "status")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (status, progress) = match glance.as_str() {
        "active" => ("ACTIVE", 100),
        "queued" => ("SAVING", 25),
        "saving" | "uploading" | "importing" => ("SAVING", 50),
        "killed" => ("ERROR", 0),
        "deleted" | "pending_delete" => ("DELETED", 0),
        _ => ("UNKNOWN", 0),
    };
    let metadata: BTreeMap<String, String> = obj
        .iter()
        .filter(|(k, _)| !CORE.contains(&k.as_str()))
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.clone(), s.clone())),
            Value::Bool(b) => Some((k.clone(), b.to_string())),
            Value::Number(n) => Some((k.clone(), n.to_string())),
            _ => None,
        })
        .collect();
    Ok(Image {
        name: str_field(obj, "name").unwrap_or_default(),
        status: status.into(),
        progress,
        server_id: metadata.get("instance_uuid").cloned(),
        min_disk: u64_field(obj, "min_disk").unwrap_or(0),
        min_ram: u64_field(obj, "min_ram").unwrap_or(0),
        size: u64_field(obj, "size"),
        disk_config: metadata.get("os_dcf_disk_config").cloned(),
        created: str_field(obj, "created_at").unwrap_or_default(),
        updated: str_field(obj, "updated_at").unwrap_or_default(),
        fault: None,
        glance_status: Some(glance),
        metadata,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glance_snapshot_reads_like_a_compute_image() {
        let v = json!({"id": "i1", "name": "snap", "status": "deactivated", "owner": "p",
            "instance_uuid": "s1", "image_type": "snapshot", "k": "v", "min_disk": 1,
            "size": 62, "created_at": "2026-12-01T16:51:29Z", "updated_at": "2026-12-01T16:51:30Z",
            "tags": [], "self": "/v2/images/i1"});
        let img = from_glance(&v, "t").unwrap();
        assert_eq!(img.status, "UNKNOWN");
        assert_eq!(img.glance_status.as_deref(), Some("deactivated"));
        assert_eq!(img.server_id.as_deref(), Some("s1"));
        assert_eq!(img.metadata.get("k").map(String::as_str), Some("v"));
        assert!(!img.metadata.contains_key("owner"));
        assert_eq!(img.updated, "2026-12-01T16:51:30Z");
        let q = from_glance(&json!({"id": "q", "status": "queued"}), "t").unwrap();
        assert_eq!((q.status.as_str(), q.progress), ("SAVING", 25));
    }

    #[test]
    fn reserved_keys_are_refused_before_anything_is_sent() {
        let keys = ["team".to_string(), "owner".to_string()];
        let e = reserved_keys(keys.iter(), "set").unwrap_err();
        assert!(e.to_string().contains("\"owner\""), "{e}");
        assert!(reserved_keys(["team".to_string()].iter(), "set").is_ok());
        assert_eq!(pointer_escape("a/b~c"), "a~1b~0c");
    }
}
