//! Image metadata, all six calls of REFERENCE §4.5–4.10: list, merge (POST), replace (PUT),
//! item show/set/delete, with validation and the `maxImageMeta` quota (413, Retry-After 0).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::app::App;
use super::auth::{Compute, Ctx};
use super::faults::{ApiError, ApiResult, Shape, empty, ok, parse_json};
use super::images::IMAGE_NOT_FOUND;
use super::store::{Data, Image};

/// Absolute limit `maxImageMeta` (REFERENCE §1.6).
pub(crate) const MAX_IMAGE_META: usize = 40;
const MAX_LEN: usize = 255;

/// Checks one key/value pair; values must be strings.
pub(crate) fn check_pair(key: &str, value: &Value) -> ApiResult<String> {
    if key.trim().is_empty() {
        return Err(ApiError::bad_request("Image metadata key cannot be blank"));
    }
    if key.chars().count() > MAX_LEN {
        return Err(ApiError::bad_request("Image metadata key too long"));
    }
    let Some(v) = value.as_str() else {
        return Err(ApiError::bad_request(format!(
            "Invalid metadata: value of '{key}' must be a string"
        )));
    };
    if v.chars().count() > MAX_LEN {
        return Err(ApiError::bad_request("Image metadata value too long"));
    }
    Ok(v.to_string())
}

/// `{"<wrapper>": {k: v, ...}}` → the map, validated.
pub(crate) fn parse_map(body: &Value, wrapper: &str) -> ApiResult<BTreeMap<String, String>> {
    let Some(obj) = body.get(wrapper).and_then(Value::as_object) else {
        return Err(ApiError::bad_request("Malformed request body"));
    };
    let mut out = BTreeMap::new();
    for (k, v) in obj {
        out.insert(k.clone(), check_pair(k, v)?);
    }
    Ok(out)
}

pub(crate) fn quota_error() -> ApiError {
    ApiError::over_limit("Image metadata limit exceeded", 0).with_details(format!(
        "Maximum number of metadata items is {MAX_IMAGE_META}"
    ))
}

fn image<'a>(data: &'a Data, ctx: &Ctx) -> ApiResult<&'a Image> {
    data.image(&ctx.region, &ctx.tenant, &ctx.param("id"))
        .ok_or_else(|| ApiError::not_found(IMAGE_NOT_FOUND))
}

/// The caller's own image for a write; base images belong to the provider (403).
fn owned<'a>(data: &'a mut Data, ctx: &Ctx) -> ApiResult<&'a mut Image> {
    let img = data
        .image_mut(&ctx.region, &ctx.tenant, &ctx.param("id"))
        .ok_or_else(|| ApiError::not_found(IMAGE_NOT_FOUND))?;
    if img.owner.is_none() {
        return Err(ApiError::forbidden(
            "You are not allowed to modify this image.",
        ));
    }
    Ok(img)
}

/// `GET /images/{id}/metadata`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let store = app.store();
    let img = image(&store.data, &ctx)?;
    Ok(ok(json!({ "metadata": img.metadata })))
}

async fn write_all(app: &App, ctx: &Ctx, body: &[u8], replace: bool) -> ApiResult<Response> {
    let body = parse_json(body, Shape::Compute)?;
    let new = parse_map(&body, "metadata")?;
    let mut store = app.store();
    let now = store.data.now();
    let img = owned(&mut store.data, ctx)?;
    let mut merged = if replace {
        BTreeMap::new()
    } else {
        img.metadata.clone()
    };
    merged.extend(new);
    if merged.len() > MAX_IMAGE_META {
        return Err(quota_error());
    }
    img.metadata = merged;
    img.updated = now;
    let out = json!({ "metadata": img.metadata });
    store.commit();
    Ok(ok(out))
}

/// `POST /images/{id}/metadata`: merge, returns the whole map.
pub(crate) async fn merge(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    body: Bytes,
) -> ApiResult<Response> {
    write_all(&app, &ctx, &body, false).await
}

/// `PUT /images/{id}/metadata`: replace everything.
pub(crate) async fn replace(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    body: Bytes,
) -> ApiResult<Response> {
    write_all(&app, &ctx, &body, true).await
}

/// `GET /images/{id}/metadata/{key}`.
pub(crate) async fn show_item(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let store = app.store();
    let img = image(&store.data, &ctx)?;
    let key = ctx.param("key");
    let value = img
        .metadata
        .get(&key)
        .ok_or_else(|| ApiError::not_found("Invalid metadata key"))?;
    Ok(ok(json!({ "meta": { key: value } })))
}

/// `PUT /images/{id}/metadata/{key}`: `{"meta": {key: value}}`, exactly one matching entry.
pub(crate) async fn set_item(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    body: Bytes,
) -> ApiResult<Response> {
    let body = parse_json(&body, Shape::Compute)?;
    let key = ctx.param("key");
    let Some(meta) = body.get("meta").and_then(Value::as_object) else {
        return Err(ApiError::bad_request("Malformed request body"));
    };
    if meta.len() > 1 {
        return Err(ApiError::bad_request(
            "Request body contains too many items",
        ));
    }
    let Some((k, v)) = meta.iter().next() else {
        return Err(ApiError::bad_request("Malformed request body"));
    };
    if *k != key {
        return Err(ApiError::bad_request("Request body and URI mismatch"));
    }
    let value = check_pair(k, v)?;
    let mut store = app.store();
    let now = store.data.now();
    let img = owned(&mut store.data, &ctx)?;
    if !img.metadata.contains_key(&key) && img.metadata.len() >= MAX_IMAGE_META {
        return Err(quota_error());
    }
    img.metadata.insert(key.clone(), value.clone());
    img.updated = now;
    store.commit();
    Ok(ok(json!({ "meta": { key: value } })))
}

/// `DELETE /images/{id}/metadata/{key}`: 204, 404 for a missing key.
pub(crate) async fn delete_item(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let key = ctx.param("key");
    let mut store = app.store();
    let now = store.data.now();
    let img = owned(&mut store.data, &ctx)?;
    if img.metadata.remove(&key).is_none() {
        return Err(ApiError::not_found("Invalid metadata key"));
    }
    img.updated = now;
    store.commit();
    Ok(empty(StatusCode::NO_CONTENT))
}
