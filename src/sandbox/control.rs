//! The control API under `/sandbox/v1/` (no token, not counted): clock, request counters,
//! fault knobs, forced snapshot errors, server create/delete, token revocation, reset.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::app::App;
use super::clock;
use super::faults::{ApiError, ApiResult, Shape, empty, json_response, ok, parse_json};
use super::fixtures::{self, REGIONS};
use super::options::CloudKind;
use super::ratelimit::RateLimit;
use super::store::Server;

/// Keeps sandbox time far from chrono's limits.
const MAX_OFFSET_MS: i64 = 1000 * 366 * 86_400_000;

/// `GET /sandbox/v1/health`.
pub(crate) async fn health() -> Response {
    ok(json!({"status": "ok"}))
}

fn clock_json(app: &App, created: usize, culled: usize) -> Value {
    let store = app.store();
    json!({
        "now": clock::fmt_millis(store.data.now()),
        "offset_seconds": store.data.clock_offset_ms as f64 / 1000.0,
        "snapshots_created": created,
        "images_culled": culled,
    })
}

/// `GET /sandbox/v1/clock`.
pub(crate) async fn clock_get(State(app): State<Arc<App>>) -> Response {
    ok(clock_json(&app, 0, 0))
}

/// `POST /sandbox/v1/clock {"advance_seconds": N}`: moves sandbox time forward and lets the
/// scheduled-images worker catch up.
pub(crate) async fn clock_advance(State(app): State<Arc<App>>, body: Bytes) -> ApiResult<Response> {
    let body = parse_json(&body, Shape::Compute)?;
    let secs = body
        .get("advance_seconds")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 100.0 * 365.0 * 86400.0)
        .ok_or_else(|| ApiError::bad_request("advance_seconds must be a number >= 0"))?;
    {
        let mut store = app.store();
        let offset = store.data.clock_offset_ms + (secs * 1000.0).round() as i64;
        if offset > MAX_OFFSET_MS {
            return Err(ApiError::bad_request(
                "the sandbox clock cannot move past 1000 years ahead",
            ));
        }
        store.data.clock_offset_ms = offset;
        store.commit();
    }
    let (created, culled) = super::scheduler::tick(&app);
    Ok(ok(clock_json(&app, created, culled)))
}

/// `GET /sandbox/v1/requests`: totals, counts by route template, the recent log.
pub(crate) async fn requests_get(State(app): State<Arc<App>>) -> Response {
    let rt = app.runtime();
    ok(json!({"total": rt.total, "by_route": rt.by_route, "log": rt.log}))
}

/// `DELETE /sandbox/v1/requests`: resets counters and log.
pub(crate) async fn requests_reset(State(app): State<Arc<App>>) -> Response {
    let mut rt = app.runtime();
    rt.total = 0;
    rt.by_route.clear();
    rt.log.clear();
    empty(StatusCode::NO_CONTENT)
}

fn faults_json(app: &App) -> Value {
    let rt = app.runtime();
    json!({
        "latency_ms": rt.latency_ms,
        "reply_latency_ms": rt.reply_latency_ms,
        "cloud": match rt.cloud {
            CloudKind::Rackspace => "rackspace",
            CloudKind::Openstack => "openstack",
        },
        "error_rate": rt.error_rate,
        "rate_limits": rt.rate_limits.iter().map(RateLimit::spec).collect::<Vec<_>>(),
        "snapshot_seconds": rt.snapshot_seconds,
        "fail_next_snapshots": rt.fail_next_snapshots,
        "orphan_next_snapshots": rt.orphan_next_snapshots,
    })
}

/// `GET /sandbox/v1/faults`.
pub(crate) async fn faults_get(State(app): State<Arc<App>>) -> Response {
    ok(faults_json(&app))
}

/// `PUT /sandbox/v1/faults`: sets the given knobs, leaves the others.
pub(crate) async fn faults_put(State(app): State<Arc<App>>, body: Bytes) -> ApiResult<Response> {
    let body = parse_json(&body, Shape::Compute)?;
    let bad = |k: &str| ApiError::bad_request(format!("invalid value for {k}"));
    // A knob left out is left as it is; one given must parse.
    let knob = |k: &str, parse: &dyn Fn(&Value) -> Option<f64>| -> ApiResult<Option<f64>> {
        body.get(k)
            .map(|v| parse(v).ok_or_else(|| bad(k)))
            .transpose()
    };
    let millis = |v: &Value| v.as_u64().filter(|n| *n <= 600_000).map(|n| n as f64);
    let count = |v: &Value| {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(f64::from)
    };
    let latency = knob("latency_ms", &millis)?.map(|n| n as u64);
    let reply_latency = knob("reply_latency_ms", &millis)?.map(|n| n as u64);
    let cloud = match body.get("cloud").map(|v| v.as_str()) {
        None => None,
        Some(Some("rackspace")) => Some(CloudKind::Rackspace),
        Some(Some("openstack")) => Some(CloudKind::Openstack),
        Some(_) => return Err(bad("cloud (rackspace or openstack)")),
    };
    let error_rate = knob("error_rate", &|v| {
        v.as_f64().filter(|r| (0.0..=1.0).contains(r))
    })?;
    let snapshot_seconds = knob("snapshot_seconds", &|v| {
        v.as_f64().filter(|s| s.is_finite() && *s >= 0.0)
    })?;
    let fail_next = knob("fail_next_snapshots", &count)?.map(|n| n as u32);
    let orphan_next = knob("orphan_next_snapshots", &count)?.map(|n| n as u32);
    let limits = match body.get("rate_limits") {
        None => None,
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                let spec = item.as_str().ok_or_else(|| bad("rate_limits"))?;
                out.push(RateLimit::parse(spec).map_err(|e| ApiError::bad_request(e.to_string()))?);
            }
            Some(out)
        }
        Some(_) => return Err(bad("rate_limits")),
    };
    {
        let mut rt = app.runtime();
        if let Some(v) = latency {
            rt.latency_ms = v;
        }
        if let Some(v) = reply_latency {
            rt.reply_latency_ms = v;
        }
        if let Some(v) = cloud {
            rt.cloud = v;
        }
        if let Some(v) = error_rate {
            rt.error_rate = v;
        }
        if let Some(v) = snapshot_seconds {
            rt.snapshot_seconds = v;
        }
        if let Some(v) = fail_next {
            rt.fail_next_snapshots = v;
        }
        if let Some(v) = orphan_next {
            rt.orphan_next_snapshots = v;
        }
        if let Some(v) = limits {
            rt.rate_limits = v;
        }
    }
    Ok(ok(faults_json(&app)))
}

/// `POST /sandbox/v1/images/{id}/error`: the image (any region) goes to ERROR now.
pub(crate) async fn image_error(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let message = if body.is_empty() {
        None
    } else {
        parse_json(&body, Shape::Compute)?
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    change_image(&app, &id, |img| {
        img.status = "killed".into();
        img.fault =
            Some(message.unwrap_or_else(|| {
                "Image snapshot failed (forced by the sandbox control API)".into()
            }));
        Ok(())
    })
}

/// `POST /sandbox/v1/images/{id}/abandon`: a snapshot still saving stops where it is, as when
/// nova-compute restarts in the middle of one: the image stays `queued` and its server shows
/// no task any more.
pub(crate) async fn image_abandon(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    change_image(&app, &id, |img| {
        if img.status != "saving" {
            return Err(ApiError::conflict(format!(
                "image {id} is {}, not saving",
                img.status
            )));
        }
        img.status = "queued".into();
        Ok(())
    })
}

/// Changes a live image (any region) by `f`; its snapshot, if any, stops (`ready_at` none)
/// and it is marked updated now. 404 when there is none, 204 when changed.
fn change_image(
    app: &App,
    id: &str,
    f: impl FnOnce(&mut super::store::Image) -> ApiResult<()>,
) -> ApiResult<Response> {
    let mut store = app.store();
    let now = store.data.now();
    let img = store
        .data
        .live_image_any_mut(id)
        .ok_or_else(|| ApiError::not_found("Image not found."))?;
    f(img)?;
    img.ready_at = None;
    img.updated = now;
    store.commit();
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /sandbox/v1/servers {"name", "region"?, "image_id"?}` → 201 `{"server": {...}}`.
pub(crate) async fn server_create(State(app): State<Arc<App>>, body: Bytes) -> ApiResult<Response> {
    let body = parse_json(&body, Shape::Compute)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("name is required"))?;
    let region = body.get("region").and_then(Value::as_str).unwrap_or("DFW");
    if !REGIONS.contains(&region) {
        return Err(ApiError::bad_request(format!("unknown region {region}")));
    }
    let mut store = app.store();
    let image_id = match body.get("image_id").and_then(Value::as_str) {
        Some(id) => id.to_string(),
        None => store
            .data
            .images()
            .iter()
            .find(|i| i.region == region && i.owner.is_none())
            .map(|i| i.id.clone())
            .unwrap_or_default(),
    };
    if store
        .data
        .image_any(region, &image_id)
        .is_none_or(|i| i.is_deleted())
    {
        return Err(ApiError::bad_request(format!(
            "unknown image {image_id} in {region}"
        )));
    }
    let now = store.data.now();
    let n = store.data.next_seq();
    let server = Server {
        id: uuid::Uuid::new_v4().to_string(),
        region: region.into(),
        name: name.into(),
        image_id,
        flavor_id: "general1-1".into(),
        flavor_ram: 1024,
        flavor_disk: 20,
        flavor_vcpus: 1,
        created: now,
        updated: now,
        ipv4: format!("198.51.100.{}", 20 + n % 200),
        ipv6: format!("2001:db8::{:x}", 0x100 + n),
        private_ipv4: format!("10.176.1.{}", 20 + n % 200),
        host_id: format!("{:056x}", n.wrapping_mul(0x9e37_79b9)),
        metadata: BTreeMap::new(),
        schedule: None,
    };
    let out = json!({"server": {"id": server.id, "name": server.name, "region": server.region,
                                "image_id": server.image_id}});
    store.data.push_server(server);
    store.commit();
    Ok(json_response(StatusCode::CREATED, &out))
}

/// `DELETE /sandbox/v1/servers/{id}`: the server and its schedule go away; snapshots stay.
pub(crate) async fn server_delete(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let mut store = app.store();
    if !store.data.remove_server(&id) {
        return Err(ApiError::not_found("Instance could not be found"));
    }
    store.commit();
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `DELETE /sandbox/v1/tokens`: every token becomes invalid (clients must re-authenticate).
pub(crate) async fn tokens_revoke(State(app): State<Arc<App>>) -> Response {
    let mut store = app.store();
    store.data.tokens.clear();
    store.commit();
    empty(StatusCode::NO_CONTENT)
}

/// `POST /sandbox/v1/reset`: back to the fixtures, clock offset 0, counters cleared; tokens stay valid.
pub(crate) async fn reset(State(app): State<Arc<App>>) -> Response {
    {
        let mut store = app.store();
        let mut fresh = fixtures::fleet_data(app.fleet.0, app.fleet.1);
        fresh.tokens = std::mem::take(&mut store.data.tokens);
        store.replace(fresh);
        store.commit();
    }
    let mut rt = app.runtime();
    rt.total = 0;
    rt.by_route.clear();
    rt.log.clear();
    rt.fail_next_snapshots = 0;
    empty(StatusCode::NO_CONTENT)
}

/// `GET /sandbox/v1/state`: the whole persisted store, for inspection.
pub(crate) async fn state(State(app): State<Arc<App>>) -> Response {
    let store = app.store();
    ok(serde_json::to_value(&store.data).unwrap_or(Value::Null))
}
