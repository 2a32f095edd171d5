//! `image_schedule`: the Rackspace scheduled-images setting of one server (RAX-SI,
//! REFERENCE §5). Create and update are one POST, read is a GET (404 = no schedule), delete a
//! DELETE. A server has at most one schedule.

use super::kind::{Imported, Resource};
use super::op::BoxFut;
use super::op::Op;
use super::views::Views;
use crate::config::schema::{Schema, Ty, arg, out, req, req_new};
use crate::provider::{Client, ProviderError, Schedule};
use crate::state::ResourceState;
use crate::value::{Map, Value};

pub struct ImageSchedule;

static SCHEMA: Schema = Schema {
    name: "image_schedule",
    attrs: &[
        req_new("server_id", Ty::String).doc("The server whose scheduled images this sets. Two schedules for one server are a plan-time error."),
        req("retention", Ty::Number).doc("How many scheduled snapshots the service keeps, 1 to 65535; it deletes the oldest beyond that."),
        arg("day_of_week", Ty::String).doc("A weekly schedule on this day, `SUNDAY` to `SATURDAY` in any case; unset, the schedule is daily."),
        out("id", Ty::String).doc("The server id (a server has at most one schedule)."),
    ],
    blocks: &[],
};

/// Days accepted by `day_of_week` (compared case-insensitively).
pub const DAYS: &[&str] = &[
    "SUNDAY",
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
];

/// State attributes of a schedule.
pub fn attributes(server_id: &str, retention: u32, day: Option<&str>) -> Map {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(server_id));
    m.insert("server_id".into(), Value::str(server_id));
    m.insert("retention".into(), Value::int(retention as i64));
    if let Some(d) = day {
        m.insert("day_of_week".into(), Value::str(d.to_uppercase()));
    }
    m
}

impl Resource for ImageSchedule {
    fn name(&self) -> &'static str {
        "image_schedule"
    }

    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn docs(&self) -> (&'static str, &'static str) {
        (
            "The scheduled-images setting of one server: the scheduled-images service snapshots it daily (or weekly on `day_of_week`) and keeps the newest `retention` snapshots. Two schedules for one server are a plan-time error.",
            r#"resource "image_schedule" "web" {
  server_id   = data.server.web.id
  retention   = 7
  day_of_week = "saturday"
}"#,
        )
    }

    fn validate(&self, args: &Map) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(v @ Value::Number(_)) = args.get("retention") {
            match v.as_i64() {
                Some(n) if (1..=65535).contains(&n) => {}
                _ => out.push((
                    "retention",
                    format!("retention must be a whole number from 1 to 65535, found {v}"),
                )),
            }
        }
        if let Some(Value::String(d)) = args.get("day_of_week")
            && !DAYS.contains(&d.to_uppercase().as_str())
        {
            out.push((
                "day_of_week",
                format!(
                    "day_of_week must be one of {} (any case), found \"{d}\"",
                    DAYS.join(", ")
                ),
            ));
        }
        out
    }

    fn normalized(&self, name: &str, v: Option<&Value>) -> Value {
        match (name, v) {
            ("day_of_week", Some(Value::String(d))) => Value::String(d.to_uppercase()),
            (_, Some(Value::Null) | None) => Value::Null,
            (_, Some(v)) => v.clone(),
        }
    }

    fn known_computed(&self, desired: &Map) -> Map {
        let mut m = Map::new();
        m.insert(
            "id".into(),
            self.normalized("server_id", desired.get("server_id")),
        );
        m
    }

    fn exclusive(&self, args: &Map) -> Option<(String, String)> {
        let server = args.get("server_id")?.as_str()?;
        Some((
            server.to_string(),
            format!("schedule images of server {server}; a server has at most one schedule"),
        ))
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        rs: &'a ResourceState,
        views: &'a Views,
    ) -> BoxFut<'a, Result<Option<Map>, ProviderError>> {
        Box::pin(async move {
            // Server views carry the schedule (absent when there is none): the listing
            // answers, a server not in it is gone, and so is its schedule.
            if let Some(servers) = &views.servers {
                return Ok(servers.get(&rs.id).and_then(|sv| {
                    sv.schedule
                        .as_ref()
                        .map(|s| attributes(&rs.id, s.retention, s.day_of_week.as_deref()))
                }));
            }
            Ok(client
                .get_schedule(&rs.id)
                .await?
                .map(|s| attributes(&rs.id, s.retention, s.day_of_week.as_deref())))
        })
    }

    fn served(&self) -> bool {
        true
    }

    fn list_filters(&self) -> Option<&'static [&'static str]> {
        Some(&["server"])
    }

    /// Every server with a scheduled-images policy (or the one named by `server`), from one
    /// server listing (its views carry `RAX-SI:image_schedule`).
    fn list<'a>(
        &'a self,
        client: &'a Client,
        filters: &'a Map,
    ) -> BoxFut<'a, Result<Vec<super::kind::Found>, String>> {
        Box::pin(async move {
            let only = filters.get("server").and_then(Value::as_str);
            let mut servers = client.list_servers().await.map_err(|e| e.to_string())?;
            servers.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            let mut out = Vec::new();
            for s in servers {
                if only.is_some_and(|o| o != s.id) {
                    continue;
                }
                // The view carries the schedule where the extension is on; else one GET.
                let sched = match s.schedule.clone() {
                    Some(sc) => Some(sc),
                    None if only.is_some() => client
                        .get_schedule(&s.id)
                        .await
                        .map_err(|e| e.to_string())?,
                    None => None,
                };
                let Some(sc) = sched else { continue };
                let mut attrs = Map::new();
                attrs.insert("server".into(), Value::str(&s.name));
                attrs.insert("retention".into(), Value::Number(sc.retention.into()));
                if let Some(d) = &sc.day_of_week {
                    attrs.insert("day_of_week".into(), Value::str(d));
                }
                out.push(super::kind::Found {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    attributes: attrs,
                    note: None,
                });
            }
            Ok(out)
        })
    }

    fn import<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
        _managed_keys: &'a [String],
    ) -> BoxFut<'a, Result<Imported, String>> {
        Box::pin(async move {
            let s = client
                .get_schedule(id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| {
                    format!(
                        "expected server {id} to have a scheduled-images policy, found none (or no such server)"
                    )
                })?;
            Ok(Imported {
                attributes: attributes(id, s.retention, s.day_of_week.as_deref()),
                tainted: false,
            })
        })
    }

    fn create<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>> {
        Box::pin(set(op))
    }

    fn update<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>> {
        Box::pin(set(op))
    }

    fn delete<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<(), String>> {
        Box::pin(async move {
            if let Some(p) = &op.prior {
                op.call(op.client.delete_schedule(&p.id)).await?;
            }
            Ok(())
        })
    }
}

/// POST the schedule (creates or replaces it).
async fn set(op: &Op) -> Result<ResourceState, String> {
    let server = op.str_arg("server_id").to_string();
    let retention = op
        .args
        .get("retention")
        .and_then(Value::as_i64)
        .ok_or("retention is not a number")?;
    let s = Schedule {
        retention: retention as u32,
        day_of_week: op
            .args
            .get("day_of_week")
            .and_then(Value::as_str)
            .map(str::to_uppercase),
    };
    let got = op.call(op.client.set_schedule(&server, &s)).await?;
    let attrs = attributes(&server, got.retention, got.day_of_week.as_deref());
    Ok(op.state(&server, attrs))
}
