//! Scheduled images (RAX-SI, REFERENCE §5): the `rax-si-image-schedule` resource and the
//! emulated QonoS worker that takes `Daily-…`/`Weekly-…` snapshots and culls by retention.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::app::App;
use super::auth::Compute;
use super::faults::{ApiError, ApiResult, Shape, empty, ok, parse_json};
use super::scheduler::{DAYS, first_run};
use super::store::Schedule;

/// Retention cap (REFERENCE §5.1 DECIDE).
pub(crate) const MAX_RETENTION: i64 = 65535;
/// The wire form: `{"retention": N}` plus `"day_of_week"` for weekly schedules.
pub(crate) fn schedule_json(s: &Schedule) -> Value {
    match &s.day_of_week {
        Some(d) => json!({"day_of_week": d, "retention": s.retention}),
        None => json!({"retention": s.retention}),
    }
}

fn not_exist(server_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Image schedule does not exist for server {server_id}"
    ))
}

/// Validation of the server source's `is_valid_body`, messages verbatim.
fn parse_body(body: &Value) -> ApiResult<(u32, Option<String>)> {
    let Some(sched) = body.get("image_schedule").filter(|v| !v.is_null()) else {
        return Err(ApiError::bad_request(
            "The request body is invalid. Key image_schedule is missing in the body",
        ));
    };
    let Some(raw) = sched.get("retention").filter(|v| !v.is_null()) else {
        return Err(ApiError::bad_request(
            "The request body is invalid. Key retention is missing in the body",
        ));
    };
    let shown = match raw {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let retention: i64 = match raw {
        Value::Number(n) if n.is_i64() => n.as_i64().unwrap_or(0),
        Value::Number(n) if n.is_u64() => i64::MAX,
        Value::String(s) => s.trim().parse().map_err(|_| not_integer(&shown))?,
        _ => return Err(not_integer(&shown)),
    };
    if retention <= 0 {
        return Err(ApiError::bad_request(format!(
            "The retention value {shown} is not allowed. It must be greater than 0"
        )));
    }
    if retention > MAX_RETENTION {
        return Err(ApiError::bad_request(format!(
            "The retention value {shown} is not allowed. It cannot exceed {MAX_RETENTION}"
        )));
    }
    let day = match sched.get("day_of_week") {
        None | Some(Value::Null) => None,
        Some(Value::String(d)) if DAYS.contains(&d.to_uppercase().as_str()) => {
            Some(d.to_uppercase())
        }
        Some(other) => {
            let shown = other
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| other.to_string());
            return Err(ApiError::bad_request(format!(
                "The day_of_week value {shown} is not allowed. It must be one of {}",
                DAYS.join(", ")
            )));
        }
    };
    Ok((retention as u32, day))
}

fn not_integer(shown: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The retention value {shown} is not allowed. It must be an integer"
    ))
}

/// `POST /servers/{id}/rax-si-image-schedule`.
pub(crate) async fn enable(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
    body: Bytes,
) -> ApiResult<Response> {
    let body = parse_json(&body, Shape::Compute)?;
    let (retention, day) = parse_body(&body)?;
    let id = ctx.param("id");
    let mut store = app.store();
    let now = store.data.now();
    let server = store.data.server_mut(&ctx.region, &id).ok_or_else(|| {
        ApiError::not_found(format!("Specified instance {id} could not be found."))
    })?;
    let next_run = match &server.schedule {
        Some(old) if old.day_of_week == day => old.next_run,
        _ => first_run(now, day.as_deref()),
    };
    let sched = Schedule {
        retention,
        day_of_week: day,
        next_run,
        tenant: ctx.tenant.clone(),
        user_id: ctx.user_id.clone(),
    };
    let out = schedule_json(&sched);
    server.schedule = Some(sched);
    store.commit();
    Ok(ok(json!({ "image_schedule": out })))
}

/// `GET /servers/{id}/rax-si-image-schedule`.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let id = ctx.param("id");
    let store = app.store();
    let sched = store
        .data
        .server(&ctx.region, &id)
        .and_then(|s| s.schedule.as_ref())
        .ok_or_else(|| not_exist(&id))?;
    Ok(ok(json!({ "image_schedule": schedule_json(sched) })))
}

/// `DELETE /servers/{id}/rax-si-image-schedule`: 202.
pub(crate) async fn disable(
    State(app): State<Arc<App>>,
    Compute(ctx): Compute,
) -> ApiResult<Response> {
    let id = ctx.param("id");
    let mut store = app.store();
    let server = store.data.server_mut(&ctx.region, &id);
    match server {
        Some(s) if s.schedule.is_some() => s.schedule = None,
        _ => return Err(not_exist(&id)),
    }
    store.commit();
    Ok(empty(StatusCode::ACCEPTED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages() {
        let err = |v: Value| parse_body(&v).unwrap_err().message;
        assert!(err(json!({})).contains("Key image_schedule is missing"));
        assert!(err(json!({"image_schedule": {}})).contains("Key retention is missing"));
        assert_eq!(
            err(json!({"image_schedule": {"retention": "test"}})),
            "The retention value test is not allowed. It must be an integer"
        );
        assert!(err(json!({"image_schedule": {"retention": 0}})).ends_with("greater than 0"));
        assert!(
            err(json!({"image_schedule": {"retention": 65536}})).contains("cannot exceed 65535")
        );
        assert!(
            err(json!({"image_schedule": {"retention": 1, "day_of_week": "funday"}}))
                .contains("day_of_week")
        );
        assert_eq!(
            parse_body(&json!({"image_schedule": {"retention": "5"}})).unwrap(),
            (5, None)
        );
        assert_eq!(
            parse_body(&json!({"image_schedule": {"retention": 2, "day_of_week": "saturday"}}))
                .unwrap(),
            (2, Some("SATURDAY".into()))
        );
    }
}
