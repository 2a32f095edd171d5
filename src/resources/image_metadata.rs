//! `image_metadata`: metadata keys on an image this configuration does not own (a base image,
//! a scheduled snapshot): the declared keys are set and kept in sync, `absent_keys` must not
//! exist (e.g. the scheduled-images culling marker, to pin a snapshot), and destroy removes
//! only the keys this resource manages.

use super::image::metadata_key_checks;
use super::kind::{Imported, Resource};
use super::metadata;
use super::op::BoxFut;
use super::op::Op;
use super::views::Views;
use crate::config::schema::{Schema, Ty, arg, out, req_new};
use crate::provider::{Client, Image, ProviderError};
use crate::state::ResourceState;
use crate::value::{Map, Value};

pub struct ImageMetadata;

static SCHEMA: Schema = Schema {
    name: "image_metadata",
    attrs: &[
        req_new("image_id", Ty::String).doc("The image to tag: a base image, a scheduled snapshot, or any image this configuration does not create. The cloud must let this account change it (base images answer 403)."),
        arg("metadata", Ty::StringMap).doc("Keys to set and keep in sync. Keys already on the image and not listed here are left alone.").default("{}"),
        arg("absent_keys", Ty::StringList).doc("Keys that must not exist on the image; removed if present. Removing the scheduled-images marker `org.openstack__1__created_by` pins a scheduled snapshot, which retention then never deletes.").default("[]"),
        out("id", Ty::String).doc("The same as `image_id`."),
        out("all_metadata", Ty::StringMap).doc("Every metadata key the image has, as the cloud reports it. Read only."),
    ],
    blocks: &[],
};

const REFRESHED: &[&str] = &["id", "image_id", "all_metadata"];

/// Attributes of an image's metadata as refresh and import read them.
fn attributes(img: &Image) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(&img.id));
    m.insert("image_id".into(), Value::str(&img.id));
    m.insert("all_metadata".into(), img.metadata.clone().into());
    m
}

impl Resource for ImageMetadata {
    fn name(&self) -> &'static str {
        "image_metadata"
    }

    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn docs(&self) -> (&'static str, &'static str) {
        (
            "Metadata on an image this configuration does not own (a base image, a scheduled snapshot). Only the declared keys are compared and written; `absent_keys` must not exist. Destroy removes only the keys this resource manages.",
            r#"resource "image_metadata" "pin" {
  image_id    = data.image.latest_daily.id
  metadata    = { pinned_by = "ops" }
  absent_keys = ["org.openstack__1__created_by"]
}"#,
        )
    }

    fn validate(&self, args: &Map) -> Vec<(&'static str, String)> {
        metadata_key_checks(args)
    }

    fn normalized(&self, name: &str, v: Option<&Value>) -> Value {
        match (name, v) {
            ("metadata", Some(Value::Null) | None) => Value::Map(Map::new()),
            ("absent_keys", Some(Value::Null) | None) => Value::List(vec![]),
            (_, Some(Value::Null) | None) => Value::Null,
            (_, Some(v)) => v.clone(),
        }
    }

    /// The owned keys of `metadata`, and of `absent_keys` only those really absent.
    fn view(&self, current: &Map, desired: &Map, prior: Option<&ResourceState>) -> Map {
        let mut v = metadata::ownership_view(current, desired, prior);
        let all = super::op::string_map(current, "all_metadata");
        let absent: Vec<Value> = desired
            .get("absent_keys")
            .and_then(Value::as_list)
            .unwrap_or(&[])
            .iter()
            .filter(|k| k.as_str().is_none_or(|k| !all.contains_key(k)))
            .cloned()
            .collect();
        v.insert("absent_keys".into(), Value::List(absent));
        v
    }

    fn known_computed(&self, desired: &Map) -> Map {
        let mut m = Map::new();
        m.insert(
            "id".into(),
            self.normalized("image_id", desired.get("image_id")),
        );
        m
    }

    fn echoes(&self) -> &'static [(&'static str, &'static str)] {
        &[("metadata", "all_metadata")]
    }

    fn listed(&self) -> bool {
        true
    }

    fn refreshed_attributes(&self) -> (&'static [&'static str], usize) {
        (REFRESHED, 3)
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        rs: &'a ResourceState,
        views: &'a Views,
    ) -> BoxFut<'a, Result<Option<Map>, ProviderError>> {
        Box::pin(async move {
            // A base image may not be in the listing of the project's own images.
            let img = match views.images.as_deref().and_then(|l| l.get(&rs.id)) {
                Some(i) => Some(i.clone()),
                None => client.get_image(&rs.id).await?,
            };
            Ok(img.as_ref().map(attributes))
        })
    }

    fn generate<'a>(
        &'a self,
        _client: &'a Client,
        _id: &'a str,
    ) -> BoxFut<'a, Result<Map, String>> {
        Box::pin(async move {
            Err("configuration cannot be generated for image_metadata: which keys it manages is yours to say; write the block by hand (image_id and metadata)".into())
        })
    }

    fn import<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
        managed_keys: &'a [String],
    ) -> BoxFut<'a, Result<Imported, String>> {
        Box::pin(async move {
            let img = super::image::existing(client, id).await?;
            let missing: Vec<&String> = managed_keys
                .iter()
                .filter(|k| !img.metadata.contains_key(*k))
                .collect();
            if img.server_id.is_none() && !missing.is_empty() {
                // A base image belongs to the provider: its metadata cannot be written. Keys it
                // already has can be watched (nothing to write); keys it lacks could never be
                // set, and the next replace or destroy would fail deleting them.
                return Err(format!(
                    "image {id} (\"{}\") is a base image of the provider, whose metadata the cloud does not let you change, and it has no key {}: image_metadata can only watch keys a base image already has",
                    img.name,
                    missing
                        .iter()
                        .map(|k| format!("\"{k}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let mut m = attributes(&img);
            m.insert(
                "metadata".into(),
                metadata::owned(&img.metadata, managed_keys).into(),
            );
            Ok(Imported {
                attributes: m,
                tainted: false,
            })
        })
    }

    fn create<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>> {
        Box::pin(async move {
            let id = op.str_arg("image_id").to_string();
            metadata::sync(op, &id, None).await?;
            state_of(op, &id).await
        })
    }

    fn update<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>> {
        Box::pin(async move {
            let id = op.prior_id()?;
            let before = op.before.clone().unwrap_or_default();
            metadata::sync(op, &id, Some(&before)).await?;
            state_of(op, &id).await
        })
    }

    fn delete<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<(), String>> {
        Box::pin(async move {
            let Some(prior) = &op.prior else {
                return Ok(());
            };
            for k in &prior.managed_keys {
                op.call(op.client.delete_image_metadata_item(&prior.id, k))
                    .await?;
            }
            Ok(())
        })
    }
}

async fn state_of(op: &Op, image_id: &str) -> Result<ResourceState, String> {
    let all = op.call(op.client.get_image_metadata(image_id)).await?;
    let mut m = Map::new();
    m.insert("id".into(), Value::str(image_id));
    m.insert("image_id".into(), Value::str(image_id));
    m.insert("all_metadata".into(), all.clone().into());
    m.insert(
        "metadata".into(),
        metadata::owned(&all, &op.managed_keys).into(),
    );
    if let Some(a) = op.args.get("absent_keys") {
        m.insert("absent_keys".into(), a.clone());
    }
    Ok(op.state(image_id, m))
}
