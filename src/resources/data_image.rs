//! `data "image"`: one image, by id or by filters (`name`, `status`, `type`, `server_id`,
//! `metadata`), the newest when `most_recent`. The filters are sent to the cloud and checked
//! again here: a cloud's filters are not always exact. `data "images"` shares them.

use super::kind::{DataSource, ReadError};
use super::op::BoxFut;
use super::views::{Answered, Views};
use crate::config::schema::{Schema, Ty, arg, out};
use crate::provider::{Client, Image, ImageQuery};
use crate::value::{Map, Value};

pub struct ImageData;

static SCHEMA: Schema = Schema {
    name: "image",
    attrs: &[
        arg("id", Ty::String).doc("Select the image with this id (the other filters are then checks). Set after the read."),
        arg("name", Ty::String).doc("Only images with exactly this name. Set after the read."),
        arg("status", Ty::String).doc("Only images in this status, e.g. `ACTIVE`. Set after the read."),
        arg("type", Ty::String).doc("`BASE` (the cloud's images) or `SNAPSHOT` (server snapshots). Set after the read."),
        arg("server_id", Ty::String).doc("Only snapshots of this server. Set after the read."),
        arg("metadata", Ty::StringMap).doc("Only images that have every one of these keys with these values. After the read: all of the image's metadata."),
        arg("most_recent", Ty::Bool).doc("With several matches, take the newest (by `created`) instead of failing.").default("false"),
        out("created", Ty::String).doc("When the cloud created the image (RFC 3339)."),
        out("min_disk", Ty::Number).doc("Minimum disk in GB to boot from the image."),
        out("min_ram", Ty::Number).doc("Minimum RAM in MB to boot from the image."),
    ],
    blocks: &[],
};

fn s<'a>(args: &'a Map, k: &str) -> Option<&'a str> {
    args.get(k).and_then(Value::as_str)
}

/// The images that match the filters in `args`, newest first.
pub(super) async fn matching(
    client: &Client,
    args: &Map,
    views: &Views,
) -> Result<Vec<Image>, ReadError> {
    let mut list: Vec<Image> = if let Some(all) = views.all_images() {
        // Every image the project sees, listed once for all the lookups; filtered below.
        match s(args, "id") {
            Some(id) => all.get(id).cloned().into_iter().collect(),
            None => all.values().cloned().collect(),
        }
    } else if let Some(id) = s(args, "id") {
        client.get_image(id).await?.into_iter().collect()
    } else {
        let q = ImageQuery {
            name: s(args, "name").map(str::to_string),
            status: s(args, "status").map(str::to_string),
            server_id: s(args, "server_id").map(str::to_string),
            image_type: s(args, "type").map(str::to_uppercase),
            ..ImageQuery::default()
        };
        client.list_images(&q).await?
    };
    list.retain(|i| matches(i, args));
    list.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(list)
}

fn matches(i: &Image, args: &Map) -> bool {
    if let Some(n) = s(args, "name")
        && i.name != n
    {
        return false;
    }
    if let Some(st) = s(args, "status")
        && !i.status.eq_ignore_ascii_case(st)
    {
        return false;
    }
    if let Some(sv) = s(args, "server_id")
        && i.server_id.as_deref() != Some(sv)
    {
        return false;
    }
    if let Some(t) = s(args, "type") {
        let is_snapshot = i.server_id.is_some()
            || i.metadata.get("image_type").map(String::as_str) == Some("snapshot");
        if t.eq_ignore_ascii_case("snapshot") != is_snapshot {
            return false;
        }
    }
    if let Some(Value::Map(want)) = args.get("metadata") {
        for (k, v) in want {
            if i.metadata.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    true
}

/// The attributes an image has as a data source (what `data "images"` lists, too).
pub(super) fn attributes(i: &Image) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(&i.id));
    m.insert("name".into(), Value::str(&i.name));
    m.insert("status".into(), Value::str(&i.status));
    if let Some(sv) = &i.server_id {
        m.insert("server_id".into(), Value::str(sv));
    }
    m.insert("metadata".into(), i.metadata.clone().into());
    m.insert("created".into(), Value::str(&i.created));
    m.insert("min_disk".into(), Value::int(i.min_disk as i64));
    m.insert("min_ram".into(), Value::int(i.min_ram as i64));
    m.insert(
        "type".into(),
        Value::str(if i.server_id.is_some() {
            "SNAPSHOT"
        } else {
            "BASE"
        }),
    );
    m
}

impl DataSource for ImageData {
    fn name(&self) -> &'static str {
        "image"
    }

    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn docs(&self) -> (&'static str, &'static str) {
        (
            "One image: by `id`, or by filters (`name`, `status`, `type` BASE or SNAPSHOT, `server_id`, `metadata`). Several matches are an error unless `most_recent = true`.",
            r#"data "image" "latest_daily" {
  server_id   = data.server.web.id
  type        = "SNAPSHOT"
  metadata    = { "org.openstack__1__created_by" = "scheduled_images_service" }
  most_recent = true
}"#,
        )
    }

    fn answered_by(&self, _args: &Map) -> Answered {
        Answered::Images
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        args: &'a Map,
        views: &'a Views,
    ) -> BoxFut<'a, Result<Map, ReadError>> {
        Box::pin(async move {
            let list = matching(client, args, views).await?;
            let most_recent = args.get("most_recent").and_then(Value::as_bool) == Some(true);
            match (list.len(), most_recent) {
                (0, _) => Err(ReadError::Selection(
                    "no image matches the given filters".into(),
                )),
                (1, _) | (_, true) => Ok(attributes(&list[0])),
                (n, false) => Err(ReadError::Selection(format!(
                    "{n} images match; narrow the filters or set most_recent = true"
                ))),
            }
        })
    }
}
