//! Scheduled images (RAX-SI, REFERENCE §5): the `rax-si-image-schedule` resource and the
//! emulated QonoS worker that takes `Daily-…`/`Weekly-…` snapshots and culls by retention.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{Value, json};

use super::app::App;
use super::auth::Compute;
use super::faults::{ApiError, ApiResult, Shape, empty, ok, parse_json};
use super::snapshot::{self, MARKER_KEY, MARKER_VALUE, SnapshotSpec, has_marker};
use super::store::{Data, Schedule};

const DAYS: [&str; 7] = [
    "SUNDAY",
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
];
/// Retention cap (REFERENCE §5.1 DECIDE).
pub(crate) const MAX_RETENTION: i64 = 65535;
/// At most this many runs of one schedule are emulated per tick; older ones are skipped
/// (they would have been culled anyway unless the retention is larger).
const MAX_RUNS_PER_TICK: i64 = 1000;

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

fn period(s: &Schedule) -> Duration {
    if s.day_of_week.is_some() {
        Duration::days(7)
    } else {
        Duration::days(1)
    }
}

/// First run after `from`: a day later (daily), or the next matching weekday at the same
/// time of day, never the same day (weekly).
fn first_run(from: DateTime<Utc>, day: Option<&str>) -> DateTime<Utc> {
    let Some(day) = day else {
        return from + Duration::days(1);
    };
    let target = DAYS.iter().position(|d| *d == day).unwrap_or(0) as i64;
    let current = from.weekday().num_days_from_sunday() as i64;
    let mut delta = (target - current).rem_euclid(7);
    if delta == 0 {
        delta = 7;
    }
    from + Duration::days(delta)
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

/// `Daily-<server name>-<epoch>`, the server name cut so the whole fits in 255 characters.
fn snapshot_name(prefix: &str, server: &str, at: DateTime<Utc>) -> String {
    let epoch = at.timestamp().to_string();
    let room = 255usize.saturating_sub(epoch.len() + prefix.len() + 2);
    let cut: String = server.chars().take(room).collect();
    format!("{prefix}-{cut}-{epoch}")
}

/// Runs every scheduled snapshot that is due by the sandbox clock, finishes snapshots whose
/// time has come, and culls after each scheduled snapshot that became active.
/// Returns (snapshots created, images culled).
pub(crate) fn run_due(app: &App, data: &mut Data) -> (usize, usize) {
    let now = data.now();
    let mut created = 0;
    for idx in 0..data.servers.len() {
        let Some(sched) = data.servers[idx].schedule.clone() else {
            continue;
        };
        let step = period(&sched);
        let mut next = sched.next_run;
        if next > now {
            continue;
        }
        let behind = (now - next).num_seconds() / step.num_seconds().max(1) + 1;
        if behind > MAX_RUNS_PER_TICK {
            next += step * (behind - MAX_RUNS_PER_TICK) as i32;
        }
        let mut runs = Vec::new();
        while next <= now && (runs.len() as i64) < MAX_RUNS_PER_TICK {
            runs.push(next);
            next += step;
        }
        if let Some(s) = data.servers[idx].schedule.as_mut() {
            s.next_run = next;
        }
        let (region, server_id, name) = {
            let s = &data.servers[idx];
            (s.region.clone(), s.id.clone(), s.name.clone())
        };
        let prefix = if sched.day_of_week.is_some() {
            "Weekly"
        } else {
            "Daily"
        };
        for at in runs {
            let (seconds, fail) = app.next_snapshot_plan();
            let spec = SnapshotSpec {
                id: uuid::Uuid::new_v4().to_string(),
                name: snapshot_name(prefix, &name, at),
                metadata: BTreeMap::from([(MARKER_KEY.to_string(), MARKER_VALUE.to_string())]),
                tenant: sched.tenant.clone(),
                user_id: sched.user_id.clone(),
                created: at,
                duration_secs: seconds,
                fail,
            };
            if let Some(img) = snapshot::build(data, &region, &server_id, spec) {
                data.images.push(img);
                created += 1;
            }
        }
    }
    let activated = data.settle(now);
    let mut culled = 0;
    let mut done: Vec<String> = Vec::new();
    for id in activated {
        let Some(img) = data.images.iter().find(|i| i.id == id) else {
            continue;
        };
        let (Some(server_id), true) = (img.server_id.clone(), has_marker(img)) else {
            continue;
        };
        if done.contains(&server_id) {
            continue;
        }
        let region = img.region.clone();
        let Some(retention) = data
            .server(&region, &server_id)
            .and_then(|s| s.schedule.as_ref())
            .map(|s| s.retention)
        else {
            continue;
        };
        culled += cull(data, &server_id, retention as usize, now);
        done.push(server_id);
    }
    (created, culled)
}

/// Deletes the scheduled snapshots of a server beyond the newest `retention` (images whose
/// marker was removed are never counted nor culled).
fn cull(data: &mut Data, server_id: &str, retention: usize, now: DateTime<Utc>) -> usize {
    let mut marked: Vec<(DateTime<Utc>, u64, usize)> = data
        .images
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.server_id.as_deref() == Some(server_id)
                && has_marker(i)
                && !i.is_deleted()
                && i.status != "killed"
        })
        .map(|(n, i)| (i.created, i.seq, n))
        .collect();
    marked.sort_by_key(|m| std::cmp::Reverse((m.0, m.1)));
    let mut culled = 0;
    for (_, _, n) in marked.into_iter().skip(retention) {
        if let Some(img) = data.images.get_mut(n) {
            img.status = "deleted".into();
            img.ready_at = None;
            img.updated = now;
            culled += 1;
        }
    }
    culled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::clock::at;

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

    #[test]
    fn weekly_first_run_is_next_matching_day() {
        let sat = at("2015-07-11T08:00:00Z"); // a Saturday
        assert_eq!(first_run(sat, Some("SATURDAY")), at("2015-07-18T08:00:00Z"));
        assert_eq!(first_run(sat, Some("MONDAY")), at("2015-07-13T08:00:00Z"));
        assert_eq!(first_run(sat, None), at("2015-07-12T08:00:00Z"));
    }

    #[test]
    fn names_fit_in_255() {
        let long = "x".repeat(400);
        let n = snapshot_name("Weekly", &long, at("2015-07-09T10:18:03Z"));
        assert_eq!(n.chars().count(), 255);
        assert!(n.starts_with("Weekly-xxx") && n.ends_with("-1436437083"));
    }
}
