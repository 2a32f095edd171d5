//! Cloud Images / Image API v2 (REFERENCE §6, §10): list, show, JSON-patch update, delete,
//! deactivate/reactivate. Errors use the Glance body shape.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::app::App;
use super::auth::{Ctx, Glance};
use super::clock;
use super::faults::{ApiError, ApiResult, Shape, empty, ok, parse_json};
use super::glance_patch::apply;
use super::glance_patch::{CORE, err};
use super::metadata::MAX_IMAGE_META;
use super::paging::{Query, glance_page};
use super::store::{Data, Image};

const PATCH_TYPES: [&str; 2] = [
    "application/openstack-images-v2.1-json-patch",
    "application/openstack-images-v2.0-json-patch",
];

fn not_found(id: &str) -> ApiError {
    err(
        StatusCode::NOT_FOUND,
        format!("No image found with ID {id}"),
    )
}

/// The bare image entity: lowercase status, properties as top-level strings.
fn entity(ctx: &Ctx, img: &Image) -> Value {
    let done = matches!(img.status.as_str(), "active" | "deactivated");
    let base = ctx.image_path();
    let mut v = json!({
        "id": img.id,
        "name": img.name,
        "status": img.status,
        "visibility": img.visibility,
        "protected": img.protected,
        "checksum": if done { json!(img.checksum) } else { Value::Null },
        "size": if done { json!(img.size) } else { Value::Null },
        "virtual_size": null,
        "min_disk": img.min_disk,
        "min_ram": img.min_ram,
        "disk_format": img.disk_format,
        "container_format": img.container_format,
        "tags": img.tags,
        "created_at": clock::fmt(img.created),
        "updated_at": clock::fmt(img.updated),
        "owner": img.owner,
        "self": format!("{base}/images/{}", img.id),
        "file": format!("{base}/images/{}/file", img.id),
        "schema": format!("{base}/schemas/image"),
    });
    for (k, val) in &img.metadata {
        if !CORE.contains(&k.as_str()) {
            v[k] = json!(val);
        }
    }
    v
}

fn visible<'a>(data: &'a Data, ctx: &Ctx, id: &str) -> ApiResult<&'a Image> {
    data.image(&ctx.region, &ctx.tenant, id)
        .ok_or_else(|| not_found(id))
}

fn owned<'a>(data: &'a mut Data, ctx: &Ctx, id: &str, what: &str) -> ApiResult<&'a mut Image> {
    let img = data
        .image_mut(&ctx.region, &ctx.tenant, id)
        .ok_or_else(|| not_found(id))?;
    if img.owner.is_none() {
        return Err(err(
            StatusCode::FORBIDDEN,
            format!("You are not authorized to {what} this image."),
        ));
    }
    Ok(img)
}

/// Glance sort: `sort_key` (default `created_at`) and `sort_dir` (default `desc`).
fn comparator(q: &Query) -> ApiResult<impl Fn(&Image, &Image) -> Ordering> {
    let key = q.get("sort_key").unwrap_or("created_at").to_string();
    if ![
        "created_at",
        "updated_at",
        "name",
        "size",
        "id",
        "status",
        "min_disk",
        "min_ram",
    ]
    .contains(&key.as_str())
    {
        return Err(err(
            StatusCode::BAD_REQUEST,
            format!("Invalid sort key: {key}."),
        ));
    }
    let desc = match q.get("sort_dir").unwrap_or("desc") {
        "desc" => true,
        "asc" => false,
        other => {
            return Err(err(
                StatusCode::BAD_REQUEST,
                format!("Invalid sort direction: {other}"),
            ));
        }
    };
    Ok(move |a: &Image, b: &Image| {
        let primary = match key.as_str() {
            "updated_at" => a.updated.cmp(&b.updated),
            "name" => a.name.cmp(&b.name),
            "size" => a.size.cmp(&b.size),
            "id" => a.id.cmp(&b.id),
            "status" => a.status.cmp(&b.status),
            "min_disk" => a.min_disk.cmp(&b.min_disk),
            "min_ram" => a.min_ram.cmp(&b.min_ram),
            _ => a.created.cmp(&b.created),
        };
        let o = primary
            .then(a.created.cmp(&b.created))
            .then(a.seq.cmp(&b.seq));
        if desc { o.reverse() } else { o }
    })
}

const LIST_PARAMS: [&str; 15] = [
    "id",
    "created_at",
    "updated_at",
    "limit",
    "marker",
    "sort_key",
    "sort_dir",
    "sort",
    "member_status",
    "name",
    "status",
    "visibility",
    "owner",
    "tag",
    "size_min",
];

type TimeFilter = Box<dyn Fn(chrono::DateTime<chrono::Utc>) -> bool>;

/// `created_at` / `updated_at` filters: `gt:`, `gte:`, `lt:`, `lte:`, `eq:`, `neq:` and an ISO
/// time (seconds; Glance compares at second precision).
fn time_filter(q: &Query, key: &str) -> ApiResult<Option<TimeFilter>> {
    let Some(v) = q.get(key) else {
        return Ok(None);
    };
    let (op, t) = match v.split_once(':') {
        Some((op, t)) if ["gt", "gte", "lt", "lte", "eq", "neq"].contains(&op) => (op, t),
        _ => ("eq", v),
    };
    let at = clock::parse_iso(t)
        .ok_or_else(|| err(StatusCode::BAD_REQUEST, format!("Invalid timestamp {t}")))?;
    let trunc = |x: chrono::DateTime<chrono::Utc>| x.timestamp();
    let at = trunc(at);
    let f: TimeFilter = match op {
        "gt" => Box::new(move |x| trunc(x) > at),
        "gte" => Box::new(move |x| trunc(x) >= at),
        "lt" => Box::new(move |x| trunc(x) < at),
        "lte" => Box::new(move |x| trunc(x) <= at),
        "eq" => Box::new(move |x| trunc(x) == at),
        _ => Box::new(move |x| trunc(x) != at),
    };
    Ok(Some(f))
}

/// `GET /v2/images`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Glance(ctx): Glance,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let q = Query::parse(raw.as_deref());
    let limit = q.limit(Shape::Glance)?;
    let cmp = comparator(&q)?;
    let size = |k: &str| -> ApiResult<Option<u64>> {
        q.get(k)
            .map(|v| {
                v.parse()
                    .map_err(|_| err(StatusCode::BAD_REQUEST, format!("Invalid {k}: {v}")))
            })
            .transpose()
    };
    let (size_min, size_max) = (size("size_min")?, size("size_max")?);
    let tags = q.all("tag");
    // `id=in:a,b,c` (Glance's list operator).
    let ids: Option<Vec<&str>> = q
        .get("id")
        .map(|v| v.strip_prefix("in:").unwrap_or(v).split(',').collect());
    let (created, updated) = (
        time_filter(&q, "created_at")?,
        time_filter(&q, "updated_at")?,
    );
    let props: Vec<&(String, String)> = q
        .pairs
        .iter()
        .filter(|(k, _)| !LIST_PARAMS.contains(&k.as_str()) && k != "size_max")
        .collect();
    let store = app.store();
    let data = &store.data;
    let mut items: Vec<&Image> = data
        .images()
        .iter()
        .filter(|i| i.region == ctx.region && i.visible_to(&ctx.tenant) && !i.is_deleted())
        .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id.as_str())))
        .filter(|i| created.as_ref().is_none_or(|f| f(i.created)))
        .filter(|i| updated.as_ref().is_none_or(|f| f(i.updated)))
        .filter(|i| q.get("name").is_none_or(|n| i.name == n))
        .filter(|i| q.get("status").is_none_or(|s| i.status == s.to_lowercase()))
        .filter(|i| {
            q.get("visibility")
                .is_none_or(|v| v == "all" || i.visibility == v)
        })
        .filter(|i| q.get("owner").is_none_or(|o| i.owner.as_deref() == Some(o)))
        .filter(|i| tags.iter().all(|t| i.tags.iter().any(|x| x == t)))
        .filter(|i| size_min.is_none_or(|m| i.size >= m) && size_max.is_none_or(|m| i.size <= m))
        .filter(|i| props.iter().all(|(k, v)| i.metadata.get(k) == Some(v)))
        .collect();
    items.sort_by(|a, b| cmp(a, b));
    if let Some(m) = q.get("marker") {
        let marker = data.image(&ctx.region, &ctx.tenant, m).ok_or_else(|| {
            err(
                StatusCode::BAD_REQUEST,
                format!("Invalid marker. Image {m} could not be found."),
            )
        })?;
        items.retain(|i| cmp(i, marker) == Ordering::Greater);
    }
    let (page, full) = glance_page(items, limit);
    let base = ctx.image_path();
    let first = q.without_marker();
    let mut body = json!({
        "images": page.iter().map(|i| entity(&ctx, i)).collect::<Vec<_>>(),
        "first": if first.is_empty() { format!("{base}/images") } else { format!("{base}/images?{first}") },
        "schema": format!("{base}/schemas/images"),
    });
    if full && let Some(last) = page.last() {
        body["next"] = json!(format!("{base}/images?{}", q.with_marker(&last.id)));
    }
    Ok(ok(body))
}

/// `GET /v2/images/{id}`.
pub(crate) async fn show(State(app): State<Arc<App>>, Glance(ctx): Glance) -> ApiResult<Response> {
    let store = app.store();
    let img = visible(&store.data, &ctx, &ctx.param("id"))?;
    Ok(ok(entity(&ctx, img)))
}

/// `PATCH /v2/images/{id}` with a JSON-patch body; all operations apply or none.
pub(crate) async fn update(
    State(app): State<Arc<App>>,
    Glance(ctx): Glance,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !PATCH_TYPES.contains(&media.as_str()) {
        return Err(err(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported Content-Type '{ctype}'"),
        )
        .with_header(
            header::HeaderName::from_static("accept-patch"),
            PATCH_TYPES.join(", "),
        ));
    }
    let ops = parse_json(&body, Shape::Glance)?;
    let Some(ops) = ops.as_array() else {
        return Err(err(
            StatusCode::BAD_REQUEST,
            "Request body must be a JSON array of operation objects.",
        ));
    };
    let id = ctx.param("id");
    let mut store = app.store();
    let now = store.data.now();
    let img = owned(&mut store.data, &ctx, &id, "modify")?;
    let mut draft = img.clone();
    for op in ops {
        if !op.is_object() {
            return Err(err(
                StatusCode::BAD_REQUEST,
                "Operations must be JSON objects.",
            ));
        }
        apply(&mut draft, op)?;
    }
    if draft.metadata.len() > MAX_IMAGE_META {
        return Err(err(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Maximum number of image properties exceeded: attempted {}, maximum {MAX_IMAGE_META}",
                draft.metadata.len()
            ),
        ));
    }
    draft.updated = now;
    *img = draft;
    let out = entity(&ctx, img);
    store.commit();
    Ok(ok(out))
}

/// `DELETE /v2/images/{id}`: 204; protected → 403.
pub(crate) async fn delete(
    State(app): State<Arc<App>>,
    Glance(ctx): Glance,
) -> ApiResult<Response> {
    let id = ctx.param("id");
    let mut store = app.store();
    let now = store.data.now();
    let img = owned(&mut store.data, &ctx, &id, "delete")?;
    if img.protected {
        return Err(err(
            StatusCode::FORBIDDEN,
            format!("Image {id} is protected and cannot be deleted."),
        ));
    }
    img.status = "deleted".into();
    img.ready_at = None;
    img.updated = now;
    store.commit();
    Ok(empty(StatusCode::NO_CONTENT))
}

fn transition(app: &App, ctx: &Ctx, action: &str, from: &str, to: &str) -> ApiResult<Response> {
    let id = ctx.param("id");
    let mut store = app.store();
    let now = store.data.now();
    let img = owned(
        &mut store.data,
        ctx,
        &id,
        &format!("complete {action} action on"),
    )?;
    if img.status == to {
        return Ok(empty(StatusCode::NO_CONTENT));
    }
    if img.status != from {
        return Err(err(
            StatusCode::FORBIDDEN,
            format!("Not allowed to {action} image in status '{}'", img.status),
        ));
    }
    img.status = to.into();
    img.updated = now;
    store.commit();
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /v2/images/{id}/actions/deactivate`: 204, idempotent.
pub(crate) async fn deactivate(
    State(app): State<Arc<App>>,
    Glance(ctx): Glance,
) -> ApiResult<Response> {
    transition(&app, &ctx, "deactivate", "active", "deactivated")
}

/// `POST /v2/images/{id}/actions/reactivate`: 204, idempotent.
pub(crate) async fn reactivate(
    State(app): State<Arc<App>>,
    Glance(ctx): Glance,
) -> ApiResult<Response> {
    transition(&app, &ctx, "reactivate", "deactivated", "active")
}
