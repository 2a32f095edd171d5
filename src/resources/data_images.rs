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
        arg("name", Ty::String),
        arg("status", Ty::String),
        arg("type", Ty::String),
        arg("server_id", Ty::String),
        arg("metadata", Ty::StringMap),
        out("ids", Ty::StringList),
        out("images", Ty::Any),
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
