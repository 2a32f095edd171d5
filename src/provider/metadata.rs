//! Compute API image metadata: list, merge (POST), replace (PUT), set one item, delete one item.
//! On OpenStack with an image endpoint, get / merge / delete go to Glance properties instead.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use super::http::{Call, Service};
use super::types::string_map;
use super::{Client, ProviderError, found};

impl Client {
    /// `GET /images/{id}/metadata`.
    pub async fn get_image_metadata(
        &self,
        id: &str,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        if self.images_in_glance() {
            return self.glance_properties(id).await;
        }
        let call = Call::new(
            Method::GET,
            Service::Compute,
            &["images", id, "metadata"],
            format!("get metadata of image {id}"),
        );
        self.metadata_call(call).await
    }

    /// `POST /images/{id}/metadata`: adds or overwrites the given keys, keeps the others.
    /// Returns the whole map after the merge.
    pub async fn merge_image_metadata(
        &self,
        id: &str,
        m: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        if self.images_in_glance() {
            return self.glance_merge(id, m).await;
        }
        let call = Call::new(
            Method::POST,
            Service::Compute,
            &["images", id, "metadata"],
            format!("merge metadata of image {id}"),
        )
        .idempotent()
        .json(json!({ "metadata": m }));
        self.metadata_call(call).await
    }

    /// `PUT /images/{id}/metadata`: makes the map exactly `m`. Returns the new map.
    pub async fn replace_image_metadata(
        &self,
        id: &str,
        m: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        let call = Call::new(
            Method::PUT,
            Service::Compute,
            &["images", id, "metadata"],
            format!("replace metadata of image {id}"),
        )
        .json(json!({ "metadata": m }));
        self.metadata_call(call).await
    }

    /// `PUT /images/{id}/metadata/{key}`: creates or overwrites one item.
    pub async fn set_image_metadata_item(
        &self,
        id: &str,
        key: &str,
        value: &str,
    ) -> Result<(), ProviderError> {
        let mut meta = serde_json::Map::new();
        meta.insert(key.to_owned(), Value::from(value));
        let call = Call::new(
            Method::PUT,
            Service::Compute,
            &["images", id, "metadata", key],
            format!("set metadata {key:?} of image {id}"),
        )
        .json(json!({ "meta": meta }));
        self.inner.execute(&call).await.map(|_| ())
    }

    /// `DELETE /images/{id}/metadata/{key}`; `false` when the key (or the image) was not there.
    pub async fn delete_image_metadata_item(
        &self,
        id: &str,
        key: &str,
    ) -> Result<bool, ProviderError> {
        if self.images_in_glance() {
            return self.glance_remove(id, key).await;
        }
        let call = Call::new(
            Method::DELETE,
            Service::Compute,
            &["images", id, "metadata", key],
            format!("delete metadata {key:?} of image {id}"),
        );
        Ok(found(self.inner.execute(&call).await)?.is_some())
    }

    async fn metadata_call(&self, call: Call) -> Result<BTreeMap<String, String>, ProviderError> {
        let reply = self.inner.execute(&call).await?;
        let body = reply.json(&call.operation)?;
        match body.get("metadata") {
            Some(m @ Value::Object(_)) => Ok(string_map(Some(m))),
            _ => Err(ProviderError::transport(
                &call.operation,
                "the answer has no \"metadata\" object",
            )),
        }
    }
}
