//! `data "server"`: one server, by id or by exact name (exactly one must match; a cloud's name
//! filter is not trusted to be exact).

use super::kind::{DataSource, ReadError};
use super::op::BoxFut;
use super::views::{Answered, Views};
use crate::config::schema::{Schema, Ty, arg, out};
use crate::provider::{Client, Server as CloudServer};
use crate::value::{Map, Value};

pub struct Server;

static SCHEMA: Schema = Schema {
    name: "server",
    attrs: &[
        arg("id", Ty::String).doc("Select the server with this id. Give `id` or `name`; the id is set after the read either way."),
        arg("name", Ty::String).doc("Select the server with exactly this name; more than one or none is an error. Set after the read."),
        out("status", Ty::String).doc("The server status, e.g. `ACTIVE`."),
        out("image_id", Ty::String).doc("The image the server was built from, where the cloud reports one."),
    ],
    blocks: &[],
};

fn s<'a>(args: &'a Map, k: &str) -> Option<&'a str> {
    args.get(k).and_then(Value::as_str)
}

/// The attributes a server data source has.
pub fn attributes(sv: &CloudServer) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(&sv.id));
    m.insert("name".into(), Value::str(&sv.name));
    m.insert("status".into(), Value::str(&sv.status));
    if let Some(i) = &sv.image_id {
        m.insert("image_id".into(), Value::str(i));
    }
    m
}

impl DataSource for Server {
    fn name(&self) -> &'static str {
        "server"
    }

    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn docs(&self) -> (&'static str, &'static str) {
        (
            "One server, by `id` or by exact `name`; exactly one must match.",
            r#"data "server" "web" {
  name = "web-01"
}"#,
        )
    }

    fn answered_by(&self, _args: &Map) -> Answered {
        Answered::Servers
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        args: &'a Map,
        views: &'a Views,
    ) -> BoxFut<'a, Result<Map, ReadError>> {
        Box::pin(async move {
            let listed = views.servers.as_deref();
            let found: Vec<CloudServer> = if let Some(id) = s(args, "id") {
                match listed {
                    Some(ix) => ix.get(id).cloned().into_iter().collect(),
                    None => client.get_server(id).await?.into_iter().collect(),
                }
            } else if let Some(name) = s(args, "name") {
                match listed {
                    Some(ix) => ix.named(name).into_iter().cloned().collect(),
                    None => client.find_servers_by_name(name).await?,
                }
            } else {
                return Err(ReadError::Selection(
                    "set \"id\" or \"name\" to select a server".into(),
                ));
            };
            let what = s(args, "id")
                .map(|i| format!("id {i}"))
                .or_else(|| s(args, "name").map(|n| format!("name \"{n}\"")))
                .unwrap_or_default();
            match found.as_slice() {
                [one] => Ok(attributes(one)),
                [] => Err(ReadError::Selection(format!("no server with {what}"))),
                many => Err(ReadError::Selection(format!(
                    "{} servers match {what}; a server data source needs exactly one (use id)",
                    many.len()
                ))),
            }
        })
    }
}
