//! Compute servers: `GET /servers`, `/servers/detail` (filters incl. `RAX-SI:image_schedule`),
//! `GET /servers/{id}`, and the `createImage` server action (REFERENCE §4.11).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::app::App;
use super::auth::{Compute, Ctx};
use super::clock;
use super::faults::{ApiError, ApiResult, Shape, empty, ok, parse_json};
use super::images::links;
use super::metadata::{MAX_IMAGE_META, check_pair, quota_error};
use super::options::CloudKind;
use super::paging::{Query, after_marker, compute_page};
use super::schedule::schedule_json;
use super::snapshot::{self, SnapshotSpec};
use super::store::{Data, Server};

pub(crate) const SERVER_NOT_FOUND: &str = "Instance could not be found";

fn server_detail(ctx: &Ctx, data: &Data, s: &Server) -> Value {
    let busy = data.snapshot_in_progress(&s.id);
    let mut v = json!({
        "id": s.id,
        "name": s.name,
        "status": "ACTIVE",
        "tenant_id": ctx.tenant,
        "user_id": ctx.user_id,
        "metadata": s.metadata,
        "hostId": s.host_id,
        "image": {"id": s.image_id, "links": [
            {"rel": "bookmark", "href": format!("{}/images/{}", ctx.bookmark_base(), s.image_id)}]},
        "flavor": {"id": s.flavor_id, "links": [
            {"rel": "bookmark", "href": format!("{}/flavors/{}", ctx.bookmark_base(), s.flavor_id)}]},
        "created": clock::fmt(s.created),
        "updated": clock::fmt(s.updated),
        "addresses": {
            "public": [{"version": 4, "addr": s.ipv4}, {"version": 6, "addr": s.ipv6}],
            "private": [{"version": 4, "addr": s.private_ipv4}],
        },
        "accessIPv4": s.ipv4,
        "accessIPv6": s.ipv6,
        "links": links(ctx, "servers", &s.id),
        "key_name": null,
        "config_drive": "",
        "progress": 100,
        "OS-DCF:diskConfig": "AUTO",
        "OS-EXT-STS:power_state": 1,
        "OS-EXT-STS:vm_state": "active",
        "OS-EXT-STS:task_state": if busy { json!("image_snapshot") } else { Value::Null },
    });
    if let Some(sched) = &s.schedule {
        v["RAX-SI:image_schedule"] = schedule_json(sched);
    }
    v
}

fn select<'a>(data: &'a Data, ctx: &Ctx, q: &Query) -> ApiResult<(Vec<&'a Server>, bool)> {
    let limit = q.limit(Shape::Compute)?;
    let si = match q.get("RAX-SI:image_schedule") {
        None => None,
        Some(v) if v.eq_ignore_ascii_case("true") => Some(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Some(false),
        Some(_) => {
            return Err(ApiError::bad_request(
                "Bad value for query parameter RAX-SI:image_schedule, use True or False",
            ));
        }
    };
    let since =
        match q.get("changes-since") {
            Some(v) => Some(clock::parse_iso(v).ok_or_else(|| {
                ApiError::bad_request(format!("Invalid changes-since value: {v}"))
            })?),
            None => None,
        };
    let image = q
        .get("image")
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_string());
    let key = |s: &&Server| (s.created, s.id.clone());
    let mut items: Vec<&Server> = data
        .servers()
        .iter()
        .filter(|s| s.region == ctx.region)
        // nova's name filter is a regex search; for plain names that is a substring match.
        .filter(|s| q.get("name").is_none_or(|n| s.name.contains(n)))
        .filter(|_| {
            q.get("status")
                .is_none_or(|st| st.eq_ignore_ascii_case("ACTIVE"))
        })
        .filter(|s| image.as_deref().is_none_or(|i| s.image_id == i))
        .filter(|s| q.get("flavor").is_none_or(|f| s.flavor_id == f))
        .filter(|s| since.is_none_or(|t| s.updated >= t))
        .filter(|s| si.is_none_or(|want| s.schedule.is_some() == want))
        .collect();
    items.sort_by_key(|s| std::cmp::Reverse(key(s)));
    let marker = match q.get("marker") {
        Some(m) => Some(
            data.servers()
                .iter()
                .find(|s| s.id == m && s.region == ctx.region)
                .map(|s| key(&s))
                .ok_or_else(|| ApiError::bad_request(format!("marker [{m}] not found")))?,
        ),
        None => None,
    };
    let items = after_marker(items, key, marker);
    Ok(compute_page(items, limit))
}

fn list(app: &App, ctx: &Ctx, raw: Option<String>, detailed: bool) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let store = app.store();
    let (page, full) = select(&store.data, ctx, &q)?;
    let servers: Vec<Value> = page
        .iter()
        .map(|s| {
            if detailed {
                server_detail(ctx, &store.data, s)
            } else {
                json!({"id": s.id, "name": s.name, "links": links(ctx, "servers", &s.id)})
            }
        })
        .collect();
    let mut body = json!({ "servers": servers });
    if full && let Some(last) = page.last() {
        let path = if detailed {
            "/servers/detail"
        } else {
            "/servers"
        };
        let href = format!("{}{path}?{}", ctx.compute_base(), q.with_marker(&last.id));
        body["servers_links"] = json!([{"rel": "next", "href": href}]);
    }
    Ok(ok(body))
}

/// `GET /servers`.
pub(crate) async fn list_summary(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    list(&app, &ctx, q, false)
}

/// `GET /servers/detail`.
pub(crate) async fn list_detail(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    list(&app, &ctx, q, true)
}

/// `GET /servers/{id}`.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let store = app.store();
    let s = store
        .data
        .server(&ctx.region, &ctx.param("id"))
        .ok_or_else(|| ApiError::not_found(SERVER_NOT_FOUND))?;
    Ok(ok(json!({ "server": server_detail(&ctx, &store.data, s) })))
}

/// nova actions the sandbox knows by name but does not emulate (501 rather than 400).
const OTHER_ACTIONS: [&str; 12] = [
    "reboot",
    "rebuild",
    "resize",
    "confirmResize",
    "revertResize",
    "changePassword",
    "rescue",
    "unrescue",
    "createBackup",
    "os-start",
    "os-stop",
    "os-getConsoleOutput",
];

/// `POST /servers/{id}/action`.
pub(crate) async fn action(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let body = parse_json(&body, Shape::Compute)?;
    let Some(obj) = body.as_object().filter(|o| o.len() == 1) else {
        return Err(ApiError::bad_request("Malformed request body"));
    };
    let Some((name, args)) = obj.iter().next() else {
        return Err(ApiError::bad_request("Malformed request body"));
    };
    if name == "createImage" {
        return create_image(&app, &ctx, args, microversion(&headers));
    }
    if OTHER_ACTIONS.contains(&name.as_str()) {
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("The sandbox does not implement the '{name}' action."),
        ));
    }
    Err(ApiError::bad_request(format!(
        "There is no such action: {name}"
    )))
}

/// The compute microversion a request asks for (`OpenStack-API-Version: compute 2.45` or
/// `X-OpenStack-Nova-API-Version: 2.45`), as (major, minor); 2.1 when it asks for none.
fn microversion(headers: &axum::http::HeaderMap) -> (u32, u32) {
    let asked = headers
        .get("openstack-api-version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("compute").map(str::trim))
        .or_else(|| {
            headers
                .get("x-openstack-nova-api-version")
                .and_then(|v| v.to_str().ok())
        })
        .map(str::trim);
    match asked {
        Some("latest") => (2, 96),
        Some(v) => v
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            .unwrap_or((2, 1)),
        None => (2, 1),
    }
}

fn create_image(
    app: &App,
    ctx: &Ctx,
    args: &Value,
    microversion: (u32, u32),
) -> ApiResult<Response> {
    let Some(args) = args.as_object() else {
        return Err(ApiError::bad_request("Malformed request body"));
    };
    let name = match args.get("name") {
        Some(Value::String(n)) if !n.trim().is_empty() => n.clone(),
        Some(Value::String(_)) => return Err(ApiError::bad_request("Image name cannot be blank")),
        _ => {
            return Err(ApiError::bad_request(
                "createImage entity requires name attribute",
            ));
        }
    };
    if name.chars().count() > 255 {
        return Err(ApiError::bad_request(
            "Image name is longer than 255 characters",
        ));
    }
    let mut extra = BTreeMap::new();
    match args.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                extra.insert(k.clone(), check_pair(k, v)?);
            }
        }
        Some(_) => return Err(ApiError::bad_request("Invalid metadata")),
    }
    let server_id = ctx.param("id");
    // Lock order everywhere: store, then runtime.
    let mut store = app.store();
    let openstack = app.runtime().cloud == CloudKind::Openstack;
    if openstack
        && let Some(k) = extra
            .keys()
            .find(|k| super::glance_patch::CORE.contains(&k.as_str()) || k.starts_with("os_glance"))
    {
        // What Nova passes on from Glance, HTML-escaped as Glance writes it.
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Attribute &#x27;{k}&#x27; is read-only."),
        ));
    }
    if store.data.server(&ctx.region, &server_id).is_none() {
        return Err(ApiError::not_found(SERVER_NOT_FOUND));
    }
    if store.data.snapshot_in_progress(&server_id) {
        return Err(ApiError::conflict(format!(
            "Cannot 'createImage' instance {server_id} while it is in task_state image_snapshot"
        )));
    }
    let orphan = app.take_orphan();
    let (seconds, fail) = if orphan {
        (0.0, false)
    } else {
        app.next_snapshot_plan()
    };
    let now: DateTime<Utc> = store.data.now();
    let spec = SnapshotSpec {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        metadata: extra,
        tenant: ctx.tenant.clone(),
        user_id: ctx.user_id.clone(),
        created: now,
        duration_secs: seconds,
        fail,
    };
    let img = snapshot::build(&mut store.data, &ctx.region, &server_id, spec)
        .ok_or_else(|| ApiError::not_found(SERVER_NOT_FOUND))?;
    if img.metadata.len() > MAX_IMAGE_META {
        return Err(quota_error());
    }
    let id = img.id.clone();
    if orphan {
        // Nova: the Glance image is made, then the server's task_state cannot be written
        // (`database is locked`): 500, and the image stays queued with no snapshot behind it.
        let mut img = img;
        img.status = "queued".into();
        img.ready_at = None;
        store.data.push_image(img);
        store.commit();
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.\n<class 'sqlalchemy.exc.OperationalError'>",
        ));
    }
    store.data.push_image(img);
    store.data.settle(now);
    store.commit();
    if openstack && microversion >= (2, 45) {
        // Nova 2.45+: the id in the body, no Location.
        return Ok(super::faults::json_response(
            StatusCode::ACCEPTED,
            &serde_json::json!({ "image_id": id }),
        ));
    }
    // Nova below 2.45 points at Glance, another host; Rackspace at its own compute API.
    let location = if openstack {
        format!("http://glance.sandbox.invalid:9292/images/{id}")
    } else {
        format!("{}/images/{id}", ctx.compute_base())
    };
    let mut resp = empty(StatusCode::ACCEPTED);
    if let Ok(v) = location.parse() {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}
