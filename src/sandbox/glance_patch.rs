//! Image API v2 JSON-patch semantics (REFERENCE §6.3, §10): one `add`/`replace`/`remove`
//! operation on a core attribute or a custom property, with Glance's 400/403/409 rules.

use axum::http::StatusCode;
use serde_json::Value;

use super::faults::{ApiError, ApiResult, Shape};
use super::store::Image;

/// Entity attributes that are not custom properties.
pub(crate) const CORE: [&str; 23] = [
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "checksum",
    "size",
    "virtual_size",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "tags",
    "created_at",
    "updated_at",
    "owner",
    "self",
    "file",
    "schema",
    "locations",
    "direct_url",
    "os_hash_algo",
    "os_hash_value",
];

pub(crate) fn err(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError::new(status, msg).shape(Shape::Glance)
}

/// Core attributes a JSON patch may change.
const WRITABLE: [&str; 6] = [
    "name",
    "visibility",
    "protected",
    "min_disk",
    "min_ram",
    "tags",
];
/// Applies one JSON-patch operation to `img`.
pub(crate) fn apply(img: &mut Image, op: &Value) -> ApiResult<()> {
    let bad = |m: String| err(StatusCode::BAD_REQUEST, m);
    let kind = op
        .get("op")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Unable to find 'op' in JSON Schema change".into()))?;
    let path = op
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("Unable to find 'path' in JSON Schema change".into()))?;
    let Some(raw) = path
        .strip_prefix('/')
        .filter(|p| !p.is_empty() && !p.contains('/'))
    else {
        return Err(bad(format!(
            "Invalid JSON pointer for this resource: '{path}'"
        )));
    };
    let name = raw.replace("~1", "/").replace("~0", "~");
    if !matches!(kind, "add" | "replace" | "remove") {
        return Err(bad(format!("Operation {kind} is not supported.")));
    }
    let value = op.get("value");
    if kind != "remove" && value.is_none() {
        return Err(bad(format!(
            "Unable to find 'value' in JSON Schema change for '{path}'"
        )));
    }
    let forbidden = |m: String| err(StatusCode::FORBIDDEN, m);
    if name.starts_with("os_glance") {
        return Err(forbidden(format!("Attribute '{name}' is reserved.")));
    }
    if name.starts_with("com.rackspace") {
        return Err(forbidden(format!("Attribute '{name}' is read-only.")));
    }
    if WRITABLE.contains(&name.as_str()) {
        if kind == "remove" {
            return Err(forbidden(format!("Properties {name} cannot be removed.")));
        }
        let v = value.cloned().unwrap_or(Value::Null);
        let invalid = || bad(format!("Invalid value for '{name}': {v}"));
        match name.as_str() {
            "name" => {
                img.name = v
                    .as_str()
                    .filter(|s| s.chars().count() <= 255)
                    .ok_or_else(invalid)?
                    .to_string()
            }
            "protected" => img.protected = v.as_bool().ok_or_else(invalid)?,
            "min_disk" => img.min_disk = v.as_u64().ok_or_else(invalid)?,
            "min_ram" => img.min_ram = v.as_u64().ok_or_else(invalid)?,
            "visibility" => match v.as_str() {
                Some("public" | "community") => {
                    return Err(forbidden(
                        "You are not authorized to publicize images.".into(),
                    ));
                }
                Some(s @ ("private" | "shared")) => img.visibility = s.to_string(),
                _ => return Err(invalid()),
            },
            _ => {
                let tags = v.as_array().ok_or_else(invalid)?;
                let mut out = Vec::new();
                for t in tags {
                    let t = t.as_str().ok_or_else(invalid)?.to_string();
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
                img.tags = out;
            }
        }
        return Ok(());
    }
    if CORE.contains(&name.as_str()) {
        return Err(forbidden(format!("Attribute '{name}' is read-only.")));
    }
    let exists = img.metadata.contains_key(&name);
    if kind != "add" && !exists {
        return Err(err(
            StatusCode::CONFLICT,
            format!("Property {name} does not exist."),
        ));
    }
    if kind == "remove" {
        img.metadata.remove(&name);
        return Ok(());
    }
    let Some(s) = value.and_then(Value::as_str) else {
        return Err(bad(format!(
            "Provided object does not match schema 'image': property '{name}' must be a string"
        )));
    };
    img.metadata.insert(name, s.to_string());
    Ok(())
}
