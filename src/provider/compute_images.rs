//! Compute API images: list (paginated detail), show, createImage, delete. On OpenStack with an
//! image endpoint, list, show and delete go to the Image API instead (`glance_images`).

use std::collections::BTreeMap;

use chrono::Utc;
use reqwest::Method;
use reqwest::header::{DATE, LOCATION};
use serde_json::{Value, json};

use super::http::{Call, Service};
use super::paging::{self, Next};
use super::types::{Image, ImageListing, ImageQuery, parse_time, str_field, string_map, u64_field};
use super::{Client, ProviderError, found};

impl Client {
    /// Every image matching `q`, from `GET /images/detail`, following `images_links` until the
    /// last page. One request per page of `page_size` (1000) images; no per-image requests.
    pub async fn list_images(&self, q: &ImageQuery) -> Result<Vec<Image>, ProviderError> {
        self.list_images_dated(q).await.map(|l| l.images)
    }

    /// [`Client::list_images`], plus the cloud's clock when the listing started (a cursor for
    /// a later `changes-since`; see [`ImageListing::cloud_time`]).
    pub async fn list_images_dated(&self, q: &ImageQuery) -> Result<ImageListing, ProviderError> {
        if self.images_in_glance() {
            return self.glance_list(q).await;
        }
        let mut call = Call::new(
            Method::GET,
            Service::Compute,
            &["images", "detail"],
            "GET /images/detail",
        )
        .query(
            "limit",
            q.limit
                .map_or_else(|| self.inner.page_size(), |l| l.max(1).to_string()),
        );
        let filters = [
            ("name", &q.name),
            ("status", &q.status),
            ("server", &q.server_id),
            ("type", &q.image_type),
            ("changes-since", &q.changes_since),
        ];
        for (key, value) in filters {
            if let Some(v) = value {
                call = call.query(key, v.clone());
            }
        }
        let operation = call.operation.clone();
        let got = if q.limit.is_some() {
            // One page only (a probe of the clock, not a listing).
            let reply = self.inner.execute(&call).await?;
            let body = reply.json(&operation)?;
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
            paging::collect_dated(
                &self.inner,
                call,
                "images",
                Next::ComputeLinks("images_links"),
            )
            .await?
        };
        let images = got
            .items
            .iter()
            .map(|v| parse_image(v, &operation))
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
        Ok(ImageListing {
            images,
            cloud_time: http_date.max(first_updated),
            http_date,
        })
    }

    /// `GET /images/{id}`; `None` when the image does not exist.
    pub async fn get_image(&self, id: &str) -> Result<Option<Image>, ProviderError> {
        if self.images_in_glance() {
            return self.glance_get(id).await;
        }
        let op = format!("get image {id}");
        let call = Call::new(Method::GET, Service::Compute, &["images", id], op.clone());
        let Some(reply) = found(self.inner.execute(&call).await)? else {
            return Ok(None);
        };
        let body = reply.json(&op)?;
        let image = body
            .get("image")
            .ok_or_else(|| ProviderError::transport(&op, "the answer has no \"image\" object"))?;
        parse_image(image, &op).map(Some)
    }

    /// Snapshots a server (`createImage` action). Returns the new image's id when the answer
    /// names it: a body `image_id` (nova 2.45+), or a `Location` whose path ends in
    /// `/images/<id>`; `None` when it names none (a `Location` that is no image URL), and the
    /// caller must find the image by server and name. Never retried (not idempotent).
    pub async fn create_image(
        &self,
        server_id: &str,
        name: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<Option<String>, ProviderError> {
        if self.images_in_glance() {
            super::glance_images::reserved_keys(
                metadata.keys(),
                &format!("create image {name:?} from server {server_id}"),
            )?;
        }
        let op = format!("create image {name:?} from server {server_id}");
        let call = Call::new(
            Method::POST,
            Service::Compute,
            &["servers", server_id, "action"],
            op.clone(),
        )
        .json(json!({"createImage": {"name": name, "metadata": metadata}}));
        let reply = self.inner.execute(&call).await?;
        let from_body = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|b| b.get("image_id")?.as_str().map(str::to_owned))
            .filter(|id| !id.is_empty());
        let from_location = || {
            reply
                .headers
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .and_then(id_from_location)
        };
        Ok(from_body.or_else(from_location))
    }

    /// `DELETE /images/{id}`; `false` when the image was already gone.
    pub async fn delete_image(&self, id: &str) -> Result<bool, ProviderError> {
        if self.images_in_glance() {
            return self.glance_delete(id).await;
        }
        let call = Call::new(
            Method::DELETE,
            Service::Compute,
            &["images", id],
            format!("delete image {id}"),
        );
        Ok(found(self.inner.execute(&call).await)?.is_some())
    }
}

/// The image id of a `Location` URL whose path ends in `/images/<id>` (query and fragment
/// ignored); `None` for anything else — Rackspace's own mock answers `www.someurl.com`.
pub(crate) fn id_from_location(location: &str) -> Option<String> {
    let path = location.split(['?', '#']).next()?;
    let mut segments = path.split('/').filter(|s| !s.is_empty()).rev();
    let id = segments.next()?;
    let plausible = id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    (segments.next() == Some("images") && plausible).then(|| id.to_owned())
}

/// Reads one image of the detail view (REFERENCE.md §3.2).
pub(crate) fn parse_image(v: &Value, operation: &str) -> Result<Image, ProviderError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ProviderError::transport(operation, "an image is not a JSON object"))?;
    let id = str_field(obj, "id")
        .ok_or_else(|| ProviderError::transport(operation, "an image has no id"))?;
    let server_id = obj
        .get("server")
        .and_then(|s| s.as_object())
        .and_then(|s| str_field(s, "id"));
    let fault = match obj.get("fault") {
        Some(Value::Object(f)) => {
            str_field(f, "message").or_else(|| Some(Value::Object(f.clone()).to_string()))
        }
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    Ok(Image {
        name: str_field(obj, "name").unwrap_or_default(),
        status: str_field(obj, "status")
            .map(|s| s.to_ascii_uppercase())
            .unwrap_or_else(|| "UNKNOWN".into()),
        progress: u64_field(obj, "progress").map_or(0, |p| p.min(100) as u32),
        server_id,
        metadata: string_map(obj.get("metadata")),
        min_disk: u64_field(obj, "minDisk").unwrap_or(0),
        min_ram: u64_field(obj, "minRam").unwrap_or(0),
        size: u64_field(obj, "OS-EXT-IMG-SIZE:size"),
        disk_config: str_field(obj, "OS-DCF:diskConfig"),
        created: str_field(obj, "created").unwrap_or_default(),
        updated: str_field(obj, "updated").unwrap_or_default(),
        fault,
        glance_status: None,
        id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_ids() {
        assert_eq!(
            id_from_location("https://dfw.servers.api.rackspacecloud.com/v2/123/images/abc-1")
                .as_deref(),
            Some("abc-1")
        );
        assert_eq!(
            id_from_location("http://g/images/xyz/?a=b").as_deref(),
            Some("xyz")
        );
        assert_eq!(id_from_location(""), None);
        assert_eq!(id_from_location("www.someurl.com"), None);
        assert_eq!(id_from_location("http://h/v2/123/servers/abc"), None);
        assert_eq!(
            id_from_location("http://127.0.0.1:19292/images/0f6e1c56-415a").as_deref(),
            Some("0f6e1c56-415a")
        );
    }

    #[test]
    fn parses_a_detail_image() {
        let v: Value =
            serde_json::from_str(include_str!("testdata/image_detail_snapshot.json")).unwrap();
        let img = parse_image(&v["image"], "t").unwrap();
        assert_eq!(img.id, "a8c4b2f2-07c3-4d6b-b67a-8d6d1b2a0f11");
        assert_eq!(img.status, "SAVING");
        assert_eq!(img.progress, 89);
        assert_eq!(
            img.server_id.as_deref(),
            Some("0f3c1a2b-9a8e-4b6e-8d3c-1a2b3c4d5e6f")
        );
        assert_eq!(img.metadata["image_type"], "snapshot");
        assert_eq!(img.metadata["instance_type_vcpus"], "1");
        assert_eq!(img.min_disk, 20);
        assert_eq!(img.min_ram, 512);
        assert_eq!(img.size, Some(1_234_567));
        assert_eq!(img.disk_config.as_deref(), Some("AUTO"));
        assert_eq!(img.created, "2015-07-09T16:12:57Z");
        assert_eq!(img.fault, None);
    }

    #[test]
    fn parses_a_base_image_with_a_fault_and_odd_types() {
        let v = json!({"id": "b", "name": "Base", "status": "error", "progress": "0", "minDisk": "10",
            "OS-EXT-IMG-SIZE:size": "42", "fault": {"code": 500, "message": "snapshot failed"}});
        let img = parse_image(&v, "t").unwrap();
        assert_eq!(img.status, "ERROR");
        assert_eq!(img.server_id, None);
        assert_eq!(img.min_disk, 10);
        assert_eq!(img.size, Some(42));
        assert_eq!(img.fault.as_deref(), Some("snapshot failed"));
        assert!(parse_image(&json!({"name": "no id"}), "t").is_err());
    }
}
