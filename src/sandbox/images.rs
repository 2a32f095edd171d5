//! Compute images API: `GET /images`, `/images/detail` (filters, `changes-since`,
//! pagination), `GET`/`DELETE /images/{id}`, and the summary/detail views (REFERENCE §3, §4).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::app::App;
use super::auth::{Compute, Ctx};
use super::clock;
use super::faults::{ApiError, ApiResult, Shape, empty, ok};
use super::paging::{Query, after_marker, compute_page};
use super::store::{Data, Image};

pub(crate) const IMAGE_NOT_FOUND: &str = "Image not found.";

/// nova `_get_status`: Glance status → compute status (REFERENCE §3.3).
pub(crate) fn compute_status(glance: &str) -> &'static str {
    match glance {
        "active" => "ACTIVE",
        "queued" | "saving" => "SAVING",
        "deleted" | "pending_delete" => "DELETED",
        "killed" => "ERROR",
        _ => "UNKNOWN",
    }
}

/// `self` / `bookmark` (and for images `alternate`) links of a resource.
pub(crate) fn links(ctx: &Ctx, collection: &str, id: &str) -> Value {
    let mut v = vec![
        json!({"rel": "self", "href": format!("{}/{collection}/{id}", ctx.compute_base())}),
        json!({"rel": "bookmark", "href": format!("{}/{collection}/{id}", ctx.bookmark_base())}),
    ];
    if collection == "images" {
        v.push(
            json!({"rel": "alternate", "type": "application/vnd.openstack.image",
                      "href": format!("{}/images/{id}", ctx.image_base())}),
        );
    }
    Value::Array(v)
}

pub(crate) fn summary(ctx: &Ctx, img: &Image) -> Value {
    json!({"id": img.id, "name": img.name, "links": links(ctx, "images", &img.id)})
}

pub(crate) fn detail(ctx: &Ctx, img: &Image, now: DateTime<Utc>) -> Value {
    let auto = img
        .metadata
        .get("auto_disk_config")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut v = json!({
        "id": img.id,
        "name": img.name,
        "status": compute_status(&img.status),
        "progress": img.progress(now),
        "created": clock::fmt(img.created),
        "updated": clock::fmt(img.updated),
        "minDisk": img.min_disk,
        "minRam": img.min_ram,
        "metadata": img.metadata,
        "links": links(ctx, "images", &img.id),
        "OS-DCF:diskConfig": if auto { "AUTO" } else { "MANUAL" },
        "OS-EXT-IMG-SIZE:size": if img.status == "active" || img.status == "deactivated" { img.size } else { 0 },
    });
    if let Some(server) = &img.server_id {
        v["server"] = json!({"id": server, "links": links(ctx, "servers", server)});
    }
    if img.status == "killed" {
        let msg = img
            .fault
            .clone()
            .unwrap_or_else(|| "Image snapshot failed".into());
        v["fault"] = json!({"code": 500, "message": msg, "details": "Snapshot of the server failed.",
                            "created": clock::fmt(img.updated)});
    }
    v
}

/// Sort key of image lists: newest first, insertion order as tie-breaker.
pub(crate) fn sort_key(img: &Image) -> (DateTime<Utc>, u64) {
    (img.created, img.seq)
}

fn parse_min(q: &Query, key: &str) -> ApiResult<Option<u64>> {
    q.get(key)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("Invalid {key} filter [{v}]")))
        })
        .transpose()
}

/// Applies the compute list filters of §4.1 and the marker; returns the page and whether a
/// `next` link is due.
pub(crate) fn select<'a>(
    data: &'a Data,
    ctx: &Ctx,
    q: &Query,
) -> ApiResult<(Vec<&'a Image>, bool)> {
    let limit = q.limit(Shape::Compute)?;
    let since =
        match q.get("changes-since") {
            Some(v) => Some(clock::parse_iso(v).ok_or_else(|| {
                ApiError::bad_request(format!("Invalid changes-since value: {v}"))
            })?),
            None => None,
        };
    let min_ram = parse_min(q, "minRam")?;
    let min_disk = parse_min(q, "minDisk")?;
    let server = q
        .get("server")
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_string());
    let props: Vec<(String, &str)> = q
        .pairs
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("property-")
                .map(|p| (p.to_string(), v.as_str()))
        })
        .collect();
    let visible = |i: &&Image| i.region == ctx.region && i.visible_to(&ctx.tenant);
    let mut items: Vec<&Image> = data
        .images()
        .iter()
        .filter(visible)
        .filter(|i| match since {
            Some(t) => i.updated >= t,
            None => !i.is_deleted(),
        })
        .filter(|i| q.get("name").is_none_or(|n| i.name == n))
        .filter(|i| q.get("status").is_none_or(|s| i.status == s.to_lowercase()))
        .filter(|i| {
            server
                .as_deref()
                .is_none_or(|s| i.server_id.as_deref() == Some(s))
        })
        .filter(|i| {
            q.get("type").is_none_or(|t| {
                i.metadata
                    .get("image_type")
                    .is_some_and(|v| v.eq_ignore_ascii_case(t))
            })
        })
        .filter(|i| min_ram.is_none_or(|m| i.min_ram >= m))
        .filter(|i| min_disk.is_none_or(|m| i.min_disk >= m))
        .filter(|i| {
            props
                .iter()
                .all(|(k, v)| i.metadata.get(k).map(String::as_str) == Some(*v))
        })
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(sort_key(i)));
    let marker = match q.get("marker") {
        Some(m) => Some(
            data.images()
                .iter()
                .find(|i| i.id == m && visible(i))
                .map(sort_key)
                .ok_or_else(|| ApiError::bad_request(format!("marker [{m}] not found")))?,
        ),
        None => None,
    };
    let items = after_marker(items, |i| sort_key(i), marker);
    Ok(compute_page(items, limit))
}

fn list(app: &App, ctx: &Ctx, raw: Option<String>, detailed: bool) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    // Lock order everywhere: store, then runtime.
    let store = app.store();
    let tombstones = app.runtime().cloud == super::options::CloudKind::Rackspace;
    let now = store.data.now();
    let (mut page, full) = select(&store.data, ctx, &q)?;
    // Nova in front of Glance lists no deleted images, even for changes-since.
    if !tombstones {
        page.retain(|i| !i.is_deleted());
    }
    let images: Vec<Value> = page
        .iter()
        .map(|i| {
            if detailed {
                detail(ctx, i, now)
            } else {
                summary(ctx, i)
            }
        })
        .collect();
    let mut body = json!({ "images": images });
    if full && let Some(last) = page.last() {
        let path = if detailed {
            "/images/detail"
        } else {
            "/images"
        };
        let href = format!("{}{path}?{}", ctx.compute_base(), q.with_marker(&last.id));
        body["images_links"] = json!([{"rel": "next", "href": href}]);
    }
    Ok(ok(body))
}

/// `GET /images`.
pub(crate) async fn list_summary(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    list(&app, &ctx, q, false)
}

/// `GET /images/detail`.
pub(crate) async fn list_detail(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    list(&app, &ctx, q, true)
}

/// `GET /images/{id}`; a deleted image is 404 (REFERENCE §4.3 DECIDE).
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let store = app.store();
    let now = store.data.now();
    let img = store
        .data
        .image(&ctx.region, &ctx.tenant, &ctx.param("id"))
        .ok_or_else(|| ApiError::not_found(IMAGE_NOT_FOUND))?;
    Ok(ok(json!({ "image": detail(&ctx, img, now) })))
}

/// `DELETE /images/{id}`: 204; base images are not the caller's (403).
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let mut store = app.store();
    let now = store.data.now();
    let img = store
        .data
        .image_mut(&ctx.region, &ctx.tenant, &ctx.param("id"))
        .ok_or_else(|| ApiError::not_found(IMAGE_NOT_FOUND))?;
    if img.owner.is_none() || img.protected {
        return Err(ApiError::forbidden(
            "You are not allowed to delete the image.",
        ));
    }
    img.status = "deleted".into();
    img.ready_at = None;
    img.updated = now;
    store.commit();
    Ok(empty(StatusCode::NO_CONTENT))
}
