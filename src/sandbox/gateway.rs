//! The "Repose" in front of the sandbox: body size cap, injected latency and 503s, per-verb
//! rate limits (413 + Retry-After), request ids, fault bodies for 404/405, request counters.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::app::{App, LOG_CAP, LogEntry};
use super::clock;
use super::faults::{ApiError, Shape};
use super::ratelimit::RateLimit;

/// Largest accepted request body.
pub(crate) const MAX_BODY: usize = 1 << 20;
/// A client that announces a body and never sends it is cut off after this.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Which API a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Control,
    Identity,
    Compute,
    Image,
    Other,
}

pub(crate) fn family(path: &str) -> Family {
    let mut segs = path.trim_start_matches('/').split('/');
    let first = segs.next().unwrap_or("");
    let second = segs.next().unwrap_or("");
    match (first, second) {
        ("sandbox", _) => Family::Control,
        ("v2.0" | "v3", _) => Family::Identity,
        (_, "compute") => Family::Compute,
        (_, "image") => Family::Image,
        _ => Family::Other,
    }
}

pub(crate) fn shape_of(f: Family) -> Shape {
    if f == Family::Image {
        Shape::Glance
    } else {
        Shape::Compute
    }
}

/// Route template without region/tenant, derived from the path: `/images/detail`,
/// `/servers/{id}/action`, `/v2/images/{id}` (Image API keeps its `/v2`).
pub(crate) fn route_template(path: &str) -> String {
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let rest: &[&str] = match family(path) {
        Family::Compute => segs.get(4..).unwrap_or(&[]),
        Family::Image => segs.get(2..).unwrap_or(&[]),
        _ => return path.to_string(),
    };
    let mut out = String::new();
    let mut prev = "";
    for seg in rest {
        let t = match (prev, *seg) {
            ("servers" | "images" | "extensions", s) if s != "detail" => "{id}",
            ("metadata", _) => "{key}",
            (_, s) => s,
        };
        out.push('/');
        out.push_str(t);
        prev = seg;
    }
    if out.is_empty() { "/".into() } else { out }
}

/// Checks every matching limit; records the hit only when all pass.
fn check_limits(limits: &mut [RateLimit], verb: &str) -> Result<(), ApiError> {
    let now = Instant::now();
    let mut worst: Option<(Duration, String)> = None;
    for l in limits.iter_mut().filter(|l| l.applies(verb)) {
        let (remaining, wait) = l.status(now);
        if remaining == 0 && worst.as_ref().is_none_or(|(w, _)| wait > *w) {
            let details = format!(
                "Only {} {} request(s) can be made to \"*\" every {}.",
                l.value,
                l.verb,
                l.unit.to_ascii_lowercase()
            );
            worst = Some((wait, details));
        }
    }
    if let Some((wait, details)) = worst {
        let secs = wait.as_millis().div_ceil(1000) as u64;
        let at = clock::fmt(Utc::now() + chrono::Duration::seconds(secs as i64));
        return Err(ApiError::over_limit("This request was rate-limited.", secs)
            .with_details(details)
            .with_retry_at(at));
    }
    for l in limits.iter_mut().filter(|l| l.applies(verb)) {
        l.record(now);
    }
    Ok(())
}

/// The middleware in front of every route.
pub(crate) async fn gateway(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let method = req.method().clone();
    let fam = family(&path);
    let route = route_template(&path);
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, MAX_BODY)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(_)) => Err(ApiError::over_limit(
            "Request body is larger than 1 MiB.",
            0,
        )),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "Timed out reading the request body.",
        )),
    };
    if fam == Family::Control {
        let resp = match bytes {
            Ok(b) => next.run(Request::from_parts(parts, Body::from(b))).await,
            Err(e) => e.into_response(),
        };
        return fix_bodies(resp, fam);
    }
    let (latency, reply_latency, injected) = {
        let mut rt = app.runtime();
        let mut injected = bytes.as_ref().err().cloned();
        if injected.is_none() && matches!(fam, Family::Compute | Family::Image) {
            if let Err(e) = check_limits(&mut rt.rate_limits, method.as_str()) {
                injected = Some(e);
            } else if rt.error_rate > 0.0 && rand::random::<f64>() < rt.error_rate {
                injected = Some(ApiError::unavailable(
                    "The server is currently unavailable. Please try again at a later time.",
                ));
            }
        }
        (rt.latency_ms, rt.reply_latency_ms, injected)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let resp = match (injected, bytes) {
        (Some(e), _) => e.into_response(),
        (None, Ok(b)) => next.run(Request::from_parts(parts, Body::from(b))).await,
        (None, Err(e)) => e.into_response(),
    };
    if reply_latency > 0 && matches!(fam, Family::Compute | Family::Image) {
        tokio::time::sleep(Duration::from_millis(reply_latency)).await;
    }
    let mut resp = fix_bodies(resp, fam);
    let rid = format!("req-{}", uuid::Uuid::new_v4());
    let header = match fam {
        Family::Compute => Some("x-compute-request-id"),
        Family::Image => Some("x-openstack-request-id"),
        _ => None,
    };
    if let (Some(h), Ok(v)) = (header, HeaderValue::from_str(&rid)) {
        resp.headers_mut().insert(h, v);
    }
    // The `Date` of the sandbox's own clock (which tests advance), as the timestamps in its
    // bodies are: a client that takes its cursor from `Date` must see one clock.
    let now = app.store().data.now();
    if let Ok(v) = HeaderValue::from_str(&now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        resp.headers_mut().insert(axum::http::header::DATE, v);
    }
    record(&app, &method, &path, &query, &route, resp.status());
    resp
}

/// Gives axum's bare 405 (and any other empty error) the family's fault body.
fn fix_bodies(resp: Response, fam: Family) -> Response {
    if resp.status() != StatusCode::METHOD_NOT_ALLOWED
        || resp.headers().contains_key("content-type")
    {
        return resp;
    }
    let allow = resp.headers().get("allow").cloned();
    let mut out = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "The method is not allowed for the requested URL.",
    )
    .shape(shape_of(fam))
    .into_response();
    if let Some(a) = allow {
        out.headers_mut().insert("allow", a);
    }
    out
}

fn record(app: &App, method: &Method, path: &str, query: &str, route: &str, status: StatusCode) {
    let key = format!("{method} {route}");
    let mut rt = app.runtime();
    rt.total += 1;
    *rt.by_route.entry(key).or_insert(0) += 1;
    rt.log.push_back(LogEntry {
        at: clock::fmt_millis(Utc::now()),
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        route: route.to_string(),
        status: status.as_u16(),
    });
    while rt.log.len() > LOG_CAP {
        rt.log.pop_front();
    }
}

/// Fallback for unknown routes: 404 in the family's shape.
pub(crate) async fn not_found(req: Request) -> Response {
    let fam = family(req.uri().path());
    ApiError::not_found("The resource could not be found.")
        .shape(shape_of(fam))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_drop_region_and_tenant() {
        assert_eq!(
            route_template("/DFW/compute/v2/123/images/detail"),
            "/images/detail"
        );
        assert_eq!(
            route_template("/DFW/compute/v2/123/images/abc/metadata/k"),
            "/images/{id}/metadata/{key}"
        );
        assert_eq!(
            route_template("/DFW/compute/v2/123/servers/abc/action"),
            "/servers/{id}/action"
        );
        assert_eq!(
            route_template("/DFW/image/v2/images/abc"),
            "/v2/images/{id}"
        );
        assert_eq!(
            route_template("/ORD/image/v2/images/abc/actions/deactivate"),
            "/v2/images/{id}/actions/deactivate"
        );
        assert_eq!(route_template("/v2.0/tokens"), "/v2.0/tokens");
    }

    #[test]
    fn rate_limit_parse_and_window() {
        let mut l = RateLimit::parse("post=2/min").unwrap();
        assert_eq!(l.spec(), "POST=2/minute");
        let mut v = vec![l.clone()];
        assert!(check_limits(&mut v, "POST").is_ok());
        assert!(check_limits(&mut v, "GET").is_ok());
        assert!(check_limits(&mut v, "POST").is_ok());
        let e = check_limits(&mut v, "POST").unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(e.retry_after().unwrap() >= 59);
        assert!(RateLimit::parse("GET").is_err());
        assert!(RateLimit::parse("GET=x/min").is_err());
        assert_eq!(l.status(Instant::now()).0, 2);
    }
}
