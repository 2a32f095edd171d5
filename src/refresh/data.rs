//! Reading data sources (`server`, `image`, `images`) through the provider.

use super::{Clients, RefreshError};
use crate::addr::InstanceAddr;
use crate::config::Config;
use crate::provider::{Client, Image, ImageQuery, Server};
use crate::value::{Map, Value};
use std::collections::BTreeMap;

/// Reads each requested data source (address → evaluated arguments).
pub async fn read_data(
    cfg: &Config,
    requests: &BTreeMap<InstanceAddr, Map>,
    clients: &Clients,
) -> Result<BTreeMap<InstanceAddr, Map>, RefreshError> {
    let mut out = BTreeMap::new();
    for (addr, args) in requests {
        let Some(block) = cfg.data.get(&addr.block) else {
            continue;
        };
        let key = cfg
            .provider(block.provider.as_deref())
            .map(|p| p.key())
            .unwrap_or_else(|| "rackspace".into());
        let client = clients.get(&key)?;
        let v = read_one(client, &addr.to_string(), &block.kind, args).await?;
        out.insert(addr.clone(), v);
    }
    Ok(out)
}

fn s<'a>(args: &'a Map, k: &str) -> Option<&'a str> {
    args.get(k).and_then(Value::as_str)
}

/// Reads one data source of the given kind.
pub async fn read_one(
    client: &Client,
    addr: &str,
    kind: &str,
    args: &Map,
) -> Result<Map, RefreshError> {
    let fail = |message: String| RefreshError::Data {
        address: addr.to_string(),
        message,
    };
    match kind {
        "server" => {
            let found: Vec<Server> = if let Some(id) = s(args, "id") {
                client.get_server(id).await?.into_iter().collect()
            } else if let Some(name) = s(args, "name") {
                client.find_servers_by_name(name).await?
            } else {
                return Err(fail("set \"id\" or \"name\" to select a server".into()));
            };
            let what = s(args, "id")
                .map(|i| format!("id {i}"))
                .or_else(|| s(args, "name").map(|n| format!("name \"{n}\"")))
                .unwrap_or_default();
            match found.as_slice() {
                [one] => Ok(server_attrs(one)),
                [] => Err(fail(format!("no server with {what}"))),
                many => Err(fail(format!(
                    "{} servers match {what}; a server data source needs exactly one (use id)",
                    many.len()
                ))),
            }
        }
        "image" | "images" => {
            let mut list: Vec<Image> = if let Some(id) = s(args, "id") {
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
            // Filters are re-checked here: a cloud's filters are not always exact.
            list.retain(|i| matches(i, args));
            list.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
            if kind == "images" {
                let mut m = Map::new();
                m.insert(
                    "ids".into(),
                    Value::List(list.iter().map(|i| Value::str(&i.id)).collect()),
                );
                m.insert(
                    "images".into(),
                    Value::List(list.iter().map(|i| Value::Map(image_attrs(i))).collect()),
                );
                for (k, v) in args {
                    m.insert(k.clone(), v.clone());
                }
                return Ok(m);
            }
            let most_recent = args.get("most_recent").and_then(Value::as_bool) == Some(true);
            match (list.len(), most_recent) {
                (0, _) => Err(fail("no image matches the given filters".into())),
                (1, _) | (_, true) => Ok(image_attrs(&list[0])),
                (n, false) => Err(fail(format!(
                    "{n} images match; narrow the filters or set most_recent = true"
                ))),
            }
        }
        other => Err(fail(format!("unknown data source type \"{other}\""))),
    }
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

fn server_attrs(sv: &Server) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(&sv.id));
    m.insert("name".into(), Value::str(&sv.name));
    m.insert("status".into(), Value::str(&sv.status));
    if let Some(i) = &sv.image_id {
        m.insert("image_id".into(), Value::str(i));
    }
    m
}

fn image_attrs(i: &Image) -> Map {
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
