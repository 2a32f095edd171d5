//! `GET /limits` (configured rate limits and absolute limits) and `GET /extensions`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use serde_json::{Value, json};

use super::app::App;
use super::auth::Compute;
use super::clock;
use super::faults::{ApiError, ApiResult, ok};
use super::metadata::MAX_IMAGE_META;

/// `GET /limits`: rate limits as configured (empty when none), absolute limits, usage.
pub(crate) async fn limits(State(app): State<Arc<App>>, Compute(ctx): Compute) -> Response {
    let (servers, ram, cores) = {
        let store = app.store();
        let mine = store
            .data
            .servers()
            .iter()
            .filter(|s| s.region == ctx.region);
        mine.fold((0u64, 0u64, 0u64), |(n, r, c), s| {
            (n + 1, r + s.flavor_ram, c + s.flavor_vcpus)
        })
    };
    let rate: Vec<Value> = {
        let mut rt = app.runtime();
        let now = Instant::now();
        rt.rate_limits
            .iter_mut()
            .map(|l| {
                let (remaining, wait) = l.status(now);
                let next = Utc::now() + chrono::Duration::milliseconds(wait.as_millis() as i64);
                json!({"verb": l.verb, "value": l.value, "remaining": remaining, "unit": l.unit,
                       "next-available": clock::fmt(next)})
            })
            .collect()
    };
    let rate = if rate.is_empty() {
        json!([])
    } else {
        json!([{"uri": "*", "regex": ".*", "limit": rate}])
    };
    ok(json!({"limits": {
        "rate": rate,
        "absolute": {
            "maxImageMeta": MAX_IMAGE_META,
            "maxServerMeta": 40,
            "maxPersonality": 5,
            "maxPersonalitySize": 1000,
            "maxTotalCores": -1,
            "maxTotalInstances": 100,
            "maxTotalPrivateNetworks": 10,
            "maxTotalRAMSize": 131072,
            "totalCoresUsed": cores,
            "totalInstancesUsed": servers,
            "totalRAMUsed": ram,
        },
    }}))
}

fn extensions_list() -> Vec<Value> {
    vec![
        json!({"name": "ScheduledImages", "alias": "rax-si-image-schedule",
               "namespace": "http://docs.openstack.org/servers/api/ext/scheduled_images/v1.0",
               "updated": "2013-03-20T00:00:00Z",
               "description": "Enables automatic daily images to be taken of a server.", "links": []}),
        json!({"name": "DiskConfig", "alias": "OS-DCF",
               "namespace": "http://docs.openstack.org/compute/ext/disk_config/api/v1.1",
               "updated": "2011-09-27T00:00:00Z", "description": "Disk Management Extension.", "links": []}),
        json!({"name": "ImageSize", "alias": "OS-EXT-IMG-SIZE",
               "namespace": "http://docs.openstack.org/compute/ext/image_size/api/v1.1",
               "updated": "2013-02-19T00:00:00Z", "description": "Adds image size to image listings.", "links": []}),
        json!({"name": "ExtendedStatus", "alias": "OS-EXT-STS",
               "namespace": "http://docs.openstack.org/compute/ext/extended_status/api/v1.1",
               "updated": "2011-11-03T00:00:00Z", "description": "Extended Status support.", "links": []}),
    ]
}

/// `GET /extensions`.
pub(crate) async fn extensions(Compute(_ctx): Compute) -> Response {
    ok(json!({ "extensions": extensions_list() }))
}

/// `GET /extensions/{id}` (by alias).
pub(crate) async fn extension(Compute(ctx): Compute) -> ApiResult<Response> {
    let alias = ctx.param("id");
    extensions_list()
        .into_iter()
        .find(|e| e["alias"] == json!(alias))
        .map(|e| ok(json!({ "extension": e })))
        .ok_or_else(|| ApiError::not_found(format!("Extension {alias} not found.")))
}
