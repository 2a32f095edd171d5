//! Image API v2 (Glance, Rackspace Cloud Images): show, list, rename (JSON patch), deactivate.

use reqwest::Method;
use serde_json::{Value, json};

use super::http::{Body, Call, Service, no_image_api};
use super::paging::{self, Next};
use super::types::{ImageV2, str_field};
use super::{Client, ProviderError, found};

/// Attributes that are links, not data.
const LINKS: [&str; 3] = ["self", "file", "schema"];

impl Client {
    /// `GET /v2/images/{id}`; `None` when the image does not exist.
    pub async fn get_image_v2(&self, id: &str) -> Result<Option<ImageV2>, ProviderError> {
        let op = format!("get image {id} (Image API v2)");
        let call = self.image_call(Method::GET, &["images", id], op.clone())?;
        let Some(reply) = found(self.inner.execute(&call).await)? else {
            return Ok(None);
        };
        parse_image_v2(&reply.json(&op)?, &op).map(Some)
    }

    /// Every image the Image API lists, following `next` links.
    pub async fn list_images_v2(&self) -> Result<Vec<ImageV2>, ProviderError> {
        let op = "GET /v2/images".to_owned();
        let call = self
            .image_call(Method::GET, &["images"], op.clone())?
            .query("limit", self.inner.page_size());
        let items = paging::collect(&self.inner, call, "images", Next::GlanceNext).await?;
        items.iter().map(|v| parse_image_v2(v, &op)).collect()
    }

    /// Renames an image in place (`PATCH`, JSON patch `replace /name`).
    pub async fn rename_image_v2(&self, id: &str, name: &str) -> Result<ImageV2, ProviderError> {
        let op = format!("rename image {id} to {name:?}");
        let mut call = self.image_call(Method::PATCH, &["images", id], op.clone())?;
        call.body = Body::JsonPatch(json!([{"op": "replace", "path": "/name", "value": name}]));
        let reply = self.inner.execute(&call).await?;
        parse_image_v2(&reply.json(&op)?, &op)
    }

    /// `POST /v2/images/{id}/actions/deactivate` (admin only on most clouds; idempotent).
    pub async fn deactivate_image(&self, id: &str) -> Result<(), ProviderError> {
        let call = self
            .image_call(
                Method::POST,
                &["images", id, "actions", "deactivate"],
                format!("deactivate image {id}"),
            )?
            .idempotent();
        self.inner.execute(&call).await.map(|_| ())
    }

    /// `POST /v2/images/{id}/actions/reactivate` (admin only on most clouds; idempotent).
    pub async fn reactivate_image(&self, id: &str) -> Result<(), ProviderError> {
        let call = self
            .image_call(
                Method::POST,
                &["images", id, "actions", "reactivate"],
                format!("reactivate image {id}"),
            )?
            .idempotent();
        self.inner.execute(&call).await.map(|_| ())
    }

    fn image_call(&self, method: Method, path: &[&str], op: String) -> Result<Call, ProviderError> {
        if !self.has_image_api() {
            return Err(no_image_api());
        }
        Ok(Call::new(method, Service::Image, path, op))
    }
}

/// Reads a bare Glance image entity (REFERENCE.md §6.2).
pub(crate) fn parse_image_v2(v: &Value, operation: &str) -> Result<ImageV2, ProviderError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ProviderError::transport(operation, "an image is not a JSON object"))?;
    let id = str_field(obj, "id")
        .ok_or_else(|| ProviderError::transport(operation, "an image has no id"))?;
    let properties = obj
        .iter()
        .filter(|(k, _)| {
            !matches!(k.as_str(), "id" | "name" | "status" | "protected")
                && !LINKS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(ImageV2 {
        id,
        name: str_field(obj, "name").unwrap_or_default(),
        status: str_field(obj, "status")
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default(),
        protected: match obj.get("protected") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        },
        properties,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_glance_entity() {
        let v = json!({"id": "g1", "name": "CentOS", "status": "deactivated", "protected": true,
            "visibility": "private", "size": 1024, "tags": ["a"], "image_type": "snapshot",
            "com.rackspace__1__options": "0", "self": "/v2/images/g1", "file": "/v2/images/g1/file",
            "schema": "/v2/schemas/image"});
        let img = parse_image_v2(&v, "t").unwrap();
        assert_eq!(img.status, "deactivated");
        assert!(img.protected);
        assert_eq!(img.properties["image_type"], "snapshot");
        assert_eq!(img.properties["visibility"], "private");
        assert!(!img.properties.contains_key("self"));
        assert!(!img.properties.contains_key("id"));
    }
}
