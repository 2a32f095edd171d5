//! `data "images"`: every image that matches the filters of `data "image"`, newest first:
//! `ids` and `images` (a list of objects with the attributes of `data "image"`).

use super::data_image::{attributes, matching};
use super::kind::{DataSource, ReadError};
use super::op::BoxFut;
use super::views::{Answered, Views};
use crate::config::schema::{Schema, Ty, arg, out};
use crate::provider::Client;
use crate::value::{Map, Value};

pub struct ImagesData;

static SCHEMA: Schema = Schema {
    name: "images",
    attrs: &[
        arg("name", Ty::String).doc("Only images with exactly this name."),
        arg("status", Ty::String).doc("Only images in this status, e.g. `ACTIVE`."),
        arg("type", Ty::String).doc("`BASE` or `SNAPSHOT`."),
        arg("server_id", Ty::String).doc("Only snapshots of this server."),
        arg("metadata", Ty::StringMap).doc("Only images that have every one of these keys with these values."),
        out("ids", Ty::StringList).doc("The ids of the matching images, newest first; empty when nothing matches."),
        out("images", Ty::Any).doc("The matching images, newest first, each an object with the attributes of `data \"image\"` (`id`, `name`, `status`, `type`, `server_id`, `metadata`, `created`, `min_disk`, `min_ram`)."),
    ],
    blocks: &[],
};

impl DataSource for ImagesData {
    fn name(&self) -> &'static str {
        "images"
    }

    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn docs(&self) -> (&'static str, &'static str) {
        (
            "Every image that matches the filters of `data \"image\"`, newest first.",
            r#"data "images" "web_snapshots" {
  server_id = data.server.web.id
  type      = "SNAPSHOT"
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
            let mut m = Map::new();
            m.insert(
                "ids".into(),
                Value::List(list.iter().map(|i| Value::str(&i.id)).collect()),
            );
            m.insert(
                "images".into(),
                Value::List(list.iter().map(|i| Value::Map(attributes(i))).collect()),
            );
            for (k, v) in args {
                m.insert(k.clone(), v.clone());
            }
            Ok(m)
        })
    }
}
