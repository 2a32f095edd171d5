//! Error values of the sandbox and the three error-body shapes it speaks (compute fault,
//! Glance error, Keystone v3 error), plus small response helpers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Which API family an error belongs to; each renders its body differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `{"<faultName>": {"code": N, "message": ...}}` (REFERENCE §1.4), also used by identity v2.
    Compute,
    /// `{"code": "404 Not Found", "title": "Not Found", "message": ...}` (REFERENCE §10).
    Glance,
    /// `{"error": {"code": N, "title": ..., "message": ...}}` (Keystone v3).
    Keystone,
}

/// An error answer: status, message and everything needed to render it (kept small; the
/// rarely used parts live behind a box).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub shape: Shape,
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Clone, Default)]
struct Extra {
    details: Option<String>,
    /// Seconds for `Retry-After` / `retryAfter` (413 and 429 only).
    retry_after: Option<u64>,
    /// ISO time for `retryAt` in rate-limit faults.
    retry_at: Option<String>,
    headers: Vec<(header::HeaderName, String)>,
}

pub(crate) type ApiResult<T = Response> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            shape: Shape::Compute,
            extra: None,
        }
    }
    fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }
    #[cfg(test)]
    pub fn retry_after(&self) -> Option<u64> {
        self.extra.as_ref().and_then(|e| e.retry_after)
    }
    pub fn with_retry_at(mut self, at: String) -> Self {
        self.extra_mut().retry_at = Some(at);
        self
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
    /// 413 `overLimit`; `retry_after` 0 means "a quota: do not retry".
    pub fn over_limit(message: impl Into<String>, retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::PAYLOAD_TOO_LARGE, message);
        e.extra_mut().retry_after = Some(retry_after);
        e
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
    pub fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }
    pub fn with_details(mut self, details: impl Into<String>) -> Self {
        self.extra_mut().details = Some(details.into());
        self
    }
    pub fn with_header(mut self, name: header::HeaderName, value: impl Into<String>) -> Self {
        self.extra_mut().headers.push((name, value.into()));
        self
    }

    /// The body this error renders to.
    pub fn body(&self) -> Value {
        let code = self.status.as_u16();
        let reason = self.status.canonical_reason().unwrap_or("Error");
        let extra = self.extra.as_deref().cloned().unwrap_or_default();
        match self.shape {
            Shape::Compute => {
                let mut inner = serde_json::Map::new();
                inner.insert("code".into(), json!(code));
                inner.insert("message".into(), json!(self.message));
                if let Some(d) = &extra.details {
                    inner.insert("details".into(), json!(d));
                }
                if let Some(r) = extra.retry_after {
                    inner.insert("retryAfter".into(), json!(r.to_string()));
                }
                if let Some(at) = &extra.retry_at {
                    inner.insert("retryAt".into(), json!(at));
                }
                let name = fault_name(self.status);
                json!({ name: Value::Object(inner) })
            }
            Shape::Glance => json!({
                "message": self.message,
                "code": format!("{code} {reason}"),
                "title": reason,
            }),
            Shape::Keystone => json!({
                "error": {"code": code, "title": reason, "message": self.message}
            }),
        }
    }
}

/// nova's `Fault._fault_names` (REFERENCE §1.4).
pub(crate) fn fault_name(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "badRequest",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "itemNotFound",
        405 => "badMethod",
        409 => "conflictingRequest",
        413 | 429 => "overLimit",
        415 => "badMediaType",
        501 => "notImplemented",
        503 => "serviceUnavailable",
        _ => "computeFault",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = json_response(self.status, &self.body());
        let h = resp.headers_mut();
        let extra = self.extra.unwrap_or_default();
        if let Some(r) = extra.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(r));
        }
        for (name, value) in &extra.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(name.clone(), v);
            }
        }
        resp
    }
}

/// A JSON response with `Content-Type: application/json`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_string());
    let mut resp = (status, text).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// 200 with a JSON body.
pub(crate) fn ok(body: Value) -> Response {
    json_response(StatusCode::OK, &body)
}

/// A 202/204 with no body, as the Rackspace samples show it.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut resp = status.into_response();
    let h = resp.headers_mut();
    if status != StatusCode::NO_CONTENT {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html;charset=UTF-8"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
    }
    resp
}

/// Parses a request body as JSON; anything else is a 400 in the family's shape.
pub(crate) fn parse_json(body: &[u8], shape: Shape) -> ApiResult<Value> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request("The request body is missing or empty.").shape(shape));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Malformed request body: {e}")).shape(shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compute_fault_shape_has_one_key() {
        let e = ApiError::not_found("Image not found.");
        assert_eq!(
            e.body(),
            json!({"itemNotFound": {"code": 404, "message": "Image not found."}})
        );
    }

    #[test]
    fn over_limit_carries_retry_after_string() {
        let e = ApiError::over_limit("Image metadata limit exceeded", 0);
        assert_eq!(e.body()["overLimit"]["retryAfter"], json!("0"));
        assert_eq!(e.body()["overLimit"]["code"], json!(413));
    }

    #[test]
    fn glance_shape_uses_string_code() {
        let e = ApiError::not_found("No image found").shape(Shape::Glance);
        assert_eq!(e.body()["code"], json!("404 Not Found"));
    }
}
