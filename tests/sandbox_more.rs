//! Sandbox wire tests, part 2 (the faithful, inspectable sandbox): filters, changes-since,
//! limits/extensions, RAX-SI server views, Image API v2, Keystone v3, the scheduled-images
//! clock, fault injection, request counters and robustness.

#[path = "sandbox_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::Datelike;
use reqwest::Method;
use serde_json::{Value, json};
use support::*;

fn ids(r: &Resp) -> Vec<String> {
    r.body["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn compute_image_filters() {
    let env = start().await;
    let snap = env.snapshot(WEB02, "filter-me", json!({})).await; // stays SAVING (2 s)
    let q = |s: &str| env.c(&format!("/images/detail?{s}"));
    assert_eq!(
        ids(&env.get(&q("name=CentOS%207%20(PVHVM)")).await),
        vec![CENTOS7.to_string()]
    );
    assert_eq!(
        ids(&env.get(&q("name=CentOS")).await).len(),
        0,
        "name is exact on images"
    );
    assert_eq!(ids(&env.get(&q("status=SAVING")).await), vec![snap.clone()]);
    assert_eq!(ids(&env.get(&q("status=ACTIVE")).await).len(), 8);
    assert_eq!(ids(&env.get(&q("status=BOGUS")).await).len(), 0);
    assert_eq!(
        ids(&env.get(&q(&format!("server={WEB02}"))).await),
        vec![snap.clone()]
    );
    let url = env.c(&format!("/servers/{WEB01}"));
    assert_eq!(
        ids(&env.get(&q(&format!("server={url}"))).await),
        vec![GOLDEN.to_string()]
    );
    assert_eq!(ids(&env.get(&q("type=BASE")).await).len(), 7);
    assert_eq!(ids(&env.get(&q("type=snapshot")).await).len(), 2);
    assert_eq!(ids(&env.get(&q("type=nonsense")).await).len(), 0);
    assert_eq!(ids(&env.get(&q("minDisk=40")).await).len(), 1);
    assert_eq!(env.get(&q("minRam=lots")).await.status, 400);
    assert_eq!(ids(&env.get(&q("property-os_type=windows")).await).len(), 1);
}

#[tokio::test]
async fn changes_since_rules() {
    let env = start().await;
    for bad in ["22-02-2013", "T12:13Z", "yesterday"] {
        let r = env
            .get(&env.c(&format!("/images?changes-since={bad}")))
            .await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.body["badRequest"]["code"], 400);
    }
    let clock = env.raw(Method::GET, &env.ctl("/clock"), None, None).await;
    let now = clock.body["now"].as_str().unwrap().to_string();
    let r = env
        .get(&env.c(&format!("/images?changes-since={now}")))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"images": []}), "nothing changed");
    env.advance(5.0).await;
    let id = env.snapshot(WEB01, "changed", json!({})).await;
    let r = env
        .get(&env.c(&format!("/images/detail?changes-since={now}")))
        .await;
    assert_eq!(ids(&r), vec![id.clone()]);
    env.delete(&env.c(&format!("/images/{id}"))).await;
    let r = env
        .get(&env.c(&format!("/images/detail?changes-since={now}")))
        .await;
    assert_eq!(r.body["images"][0]["status"], "DELETED");
    // Accepts the other documented forms.
    for ok in [
        "2011-01-24T17:08Z",
        "2011-01-24T17:08:00Z",
        "2011-01-24T12:08:00-05:00",
    ] {
        assert_eq!(
            env.get(&env.c(&format!("/images?changes-since={}", ok.replace('+', "%2B"))))
                .await
                .status,
            200
        );
    }
}

#[tokio::test]
async fn limits_and_extensions() {
    let mut o = opts();
    o.rate_limits = vec!["GET=1000/min".into(), "POST=10/minute".into()];
    let env = start_with(o).await;
    let r = env.get(&env.c("/limits")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["limits"]["absolute"]["maxImageMeta"], 40);
    let rate = &r.body["limits"]["rate"][0];
    assert_eq!(rate["uri"], "*");
    let verbs: Vec<&str> = rate["limit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["verb"].as_str().unwrap())
        .collect();
    assert_eq!(verbs, vec!["GET", "POST"]);
    assert_eq!(rate["limit"][1]["value"], 10);
    assert_eq!(rate["limit"][1]["unit"], "MINUTE");
    assert!(rate["limit"][0]["remaining"].as_u64().unwrap() < 1000);
    let r = env.get(&env.c("/extensions")).await;
    let ext = r.body["extensions"].as_array().unwrap();
    assert!(
        ext.iter()
            .any(|e| e["alias"] == "rax-si-image-schedule" && e["name"] == "ScheduledImages")
    );
    assert_eq!(
        env.get(&env.c("/extensions/rax-si-image-schedule"))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn rax_si_on_server_views_and_filter() {
    let env = start().await;
    let url = env.c(&format!("/servers/{DB01}/rax-si-image-schedule"));
    assert_eq!(
        env.post(&url, json!({"image_schedule": {"retention": 3}}))
            .await
            .status,
        200
    );
    let names = |r: &Resp| -> Vec<String> {
        r.body["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    let yes = env
        .get(&env.c("/servers/detail?RAX-SI:image_schedule=true"))
        .await;
    assert_eq!(names(&yes), vec!["db-01"]);
    assert_eq!(
        yes.body["servers"][0]["RAX-SI:image_schedule"],
        json!({"retention": 3})
    );
    let no = env
        .get(&env.c("/servers?RAX-SI:image_schedule=False"))
        .await;
    assert_eq!(no.body["servers"].as_array().unwrap().len(), 2);
    let bad = env
        .get(&env.c("/servers?RAX-SI:image_schedule=maybe"))
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.body["badRequest"]["message"],
        "Bad value for query parameter RAX-SI:image_schedule, use True or False"
    );
    // Deleting the server deletes its schedule; later calls are 404.
    let del = env
        .raw(
            Method::DELETE,
            &env.ctl(&format!("/servers/{DB01}")),
            None,
            None,
        )
        .await;
    assert_eq!(del.status, 204);
    assert_eq!(env.get(&url).await.status, 404);
    let r = env
        .post(&url, json!({"image_schedule": {"retention": 3}}))
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn image_api_v2_list_show_patch_delete() {
    let env = start().await;
    let r = env.get(&env.g("/images?limit=3")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["images"].as_array().unwrap().len(), 3);
    assert_eq!(r.body["schema"], "/DFW/image/v2/schemas/images");
    assert_eq!(r.body["first"], "/DFW/image/v2/images?limit=3");
    let next = r.body["next"].as_str().unwrap();
    assert!(
        next.starts_with("/DFW/image/v2/images?limit=3&marker="),
        "{next}"
    );
    let r2 = env.get(&format!("{}{next}", env.base)).await;
    assert_eq!(r2.body["images"].as_array().unwrap().len(), 3);
    assert_eq!(
        env.get(&env.g("/images?limit=0")).await.body["images"],
        json!([])
    );
    assert_eq!(env.get(&env.g("/images?limit=-1")).await.status, 400);
    assert_eq!(env.get(&env.g("/images?limit=abc")).await.status, 400);
    assert_eq!(env.get(&env.g("/images?marker=nope")).await.status, 400);
    let all = env.get(&env.g("/images")).await;
    assert_eq!(all.body["images"].as_array().unwrap().len(), 8);
    assert!(all.body.get("next").is_none());

    let show = env.get(&env.g(&format!("/images/{GOLDEN}"))).await;
    assert_eq!(show.status, 200);
    assert_eq!(show.body["id"], GOLDEN);
    assert_eq!(show.body["status"], "active");
    assert_eq!(show.body["image_type"], "snapshot");
    assert_eq!(show.body["instance_uuid"], WEB01);
    assert_eq!(show.body["visibility"], "private");
    let missing = env.get(&env.g("/images/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["code"], "404 Not Found");

    let patch = |ct: &'static str, body: Value| {
        let url = env.g(&format!("/images/{GOLDEN}"));
        let req = env
            .http
            .patch(url)
            .header("X-Auth-Token", &env.token)
            .header("Content-Type", ct)
            .body(body.to_string());
        async move {
            let r = req.send().await.unwrap();
            let s = r.status().as_u16();
            let h = r.headers().clone();
            let b: Value = r.json().await.unwrap_or(Value::Null);
            (s, h, b)
        }
    };
    const CT: &str = "application/openstack-images-v2.1-json-patch";
    let (s, h, _) = patch("application/json", json!([])).await;
    assert_eq!(s, 415);
    assert!(h.get("accept-patch").is_some());
    let (s, _, b) = patch(
        CT,
        json!([
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "add", "path": "/owner_team", "value": "infra"},
            {"op": "replace", "path": "/role", "value": "api"},
            {"op": "remove", "path": "/org.openstack__1__os_distro"},
        ]),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["name"], "renamed");
    assert_eq!(b["owner_team"], "infra");
    assert_eq!(b["role"], "api");
    assert!(b.get("org.openstack__1__os_distro").is_none());
    assert_eq!(env.image(GOLDEN).await["metadata"]["owner_team"], "infra");
    assert_eq!(
        patch(CT, json!([{"op": "remove", "path": "/missing"}]))
            .await
            .0,
        409
    );
    assert_eq!(
        patch(
            CT,
            json!([{"op": "replace", "path": "/missing", "value": "x"}])
        )
        .await
        .0,
        409
    );
    assert_eq!(
        patch(
            CT,
            json!([{"op": "replace", "path": "/status", "value": "x"}])
        )
        .await
        .0,
        403
    );
    assert_eq!(
        patch(
            CT,
            json!([{"op": "add", "path": "/os_glance_x", "value": "x"}])
        )
        .await
        .0,
        403
    );
    assert_eq!(
        patch(CT, json!([{"op": "add", "path": "/num", "value": 5}]))
            .await
            .0,
        400
    );
    assert_eq!(patch(CT, json!({"op": "add"})).await.0, 400);
    assert_eq!(
        patch(
            CT,
            json!([{"op": "replace", "path": "/protected", "value": true}])
        )
        .await
        .0,
        200
    );
    let del = env.delete(&env.g(&format!("/images/{GOLDEN}"))).await;
    assert_eq!(del.status, 403);
    assert_eq!(
        patch(
            CT,
            json!([{"op": "replace", "path": "/protected", "value": false}])
        )
        .await
        .0,
        200
    );
    assert_eq!(
        env.delete(&env.g(&format!("/images/{GOLDEN}")))
            .await
            .status,
        204
    );
    assert_eq!(
        env.delete(&env.g(&format!("/images/{GOLDEN}")))
            .await
            .status,
        404
    );
    assert_eq!(
        env.delete(&env.g(&format!("/images/{CENTOS7}")))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn deactivate_reactivate() {
    let env = start().await;
    let act = |id: &str, a: &str| env.g(&format!("/images/{id}/actions/{a}"));
    let r = env
        .raw(
            Method::POST,
            &act(GOLDEN, "deactivate"),
            Some(&env.token),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        env.raw(
            Method::POST,
            &act(GOLDEN, "deactivate"),
            Some(&env.token),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.get(&env.g(&format!("/images/{GOLDEN}"))).await.body["status"],
        "deactivated"
    );
    assert_eq!(env.image(GOLDEN).await["status"], "UNKNOWN");
    assert_eq!(
        env.raw(
            Method::POST,
            &act(GOLDEN, "reactivate"),
            Some(&env.token),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.raw(
            Method::POST,
            &act(GOLDEN, "reactivate"),
            Some(&env.token),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(env.image(GOLDEN).await["status"], "ACTIVE");
    let saving = env.snapshot(WEB02, "busy", json!({})).await;
    let r = env
        .raw(
            Method::POST,
            &act(&saving, "deactivate"),
            Some(&env.token),
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body["message"],
        "Not allowed to deactivate image in status 'saving'"
    );
    assert_eq!(
        env.raw(
            Method::POST,
            &act("nope", "deactivate"),
            Some(&env.token),
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(
        env.raw(
            Method::POST,
            &act(CENTOS7, "deactivate"),
            Some(&env.token),
            None
        )
        .await
        .status,
        403
    );
}

#[tokio::test]
async fn keystone_v3_password_auth() {
    let env = start().await;
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"name": "Default"}, "password": "demo"}}},
        "scope": {"project": {"name": "123456", "domain": {"name": "Default"}}}}});
    let r = env
        .raw(
            Method::POST,
            &format!("{}/auth/tokens", env.sb.auth_url_v3()),
            None,
            Some(body),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.header("x-subject-token").unwrap();
    let catalog = r.body["token"]["catalog"].as_array().unwrap();
    let compute = catalog.iter().find(|s| s["type"] == "compute").unwrap();
    let ep = compute["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["interface"] == "public" && e["region_id"] == "ORD")
        .unwrap();
    let url = ep["url"].as_str().unwrap().to_string();
    assert!(catalog.iter().any(|s| s["type"] == "image"));
    let servers = env
        .raw(Method::GET, &format!("{url}/servers"), Some(&token), None)
        .await;
    assert_eq!(servers.status, 200);
    assert_eq!(servers.body["servers"][0]["name"], "web-03");
    let bad = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "demo", "password": "x"}}}}});
    let r = env
        .raw(
            Method::POST,
            &format!("{}/auth/tokens", env.sb.auth_url_v3()),
            None,
            Some(bad),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["code"], 401);
}

#[tokio::test]
async fn ten_days_daily_schedule_keeps_retention_plus_pinned() {
    let env = start().await;
    let url = env.c(&format!("/servers/{WEB01}/rax-si-image-schedule"));
    assert_eq!(
        env.post(&url, json!({"image_schedule": {"retention": 3}}))
            .await
            .status,
        200
    );
    let daily = |r: &Resp| -> Vec<Value> {
        r.body["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["name"].as_str().unwrap().starts_with("Daily-web-01-"))
            .cloned()
            .collect()
    };
    let r = env.advance(86400.0 + 60.0).await;
    assert_eq!(r.body["snapshots_created"], 1);
    let first = daily(&env.get(&env.c("/images/detail")).await);
    assert_eq!(first.len(), 1);
    let pinned = first[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        first[0]["metadata"]["org.openstack__1__created_by"],
        "scheduled_images_service"
    );
    let epoch: i64 = first[0]["name"]
        .as_str()
        .unwrap()
        .rsplit('-')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(epoch > 1_400_000_000);
    // Pin it: remove the culling marker.
    let r = env
        .delete(&env.c(&format!(
            "/images/{pinned}/metadata/org.openstack__1__created_by"
        )))
        .await;
    assert_eq!(r.status, 204);
    let r = env.advance(10.0 * 86400.0).await;
    assert_eq!(r.body["snapshots_created"], 10);
    assert_eq!(r.body["images_culled"], 7);
    let list = env.get(&env.c("/images/detail")).await;
    let all = daily(&list);
    assert_eq!(all.len(), 4, "3 kept by retention + 1 pinned");
    assert!(all.iter().any(|i| i["id"] == json!(pinned)));
    assert!(all.iter().all(|i| i["status"] == "ACTIVE"));
    let marked = all
        .iter()
        .filter(|i| i["metadata"].get("org.openstack__1__created_by").is_some())
        .count();
    assert_eq!(marked, 3);
    // The culled ones show up as DELETED through changes-since.
    let since = env
        .get(&env.c("/images/detail?changes-since=2000-01-01T00:00:00Z"))
        .await;
    let deleted = daily(&since)
        .into_iter()
        .filter(|i| i["status"] == "DELETED")
        .count();
    assert_eq!(deleted, 7);
}

#[tokio::test]
async fn weekly_schedule_runs_on_its_day_and_doc_marker_is_culled() {
    let env = start().await;
    let clock = env.raw(Method::GET, &env.ctl("/clock"), None, None).await;
    let now = chrono::DateTime::parse_from_rfc3339(clock.body["now"].as_str().unwrap()).unwrap();
    let day = [
        "SUNDAY",
        "MONDAY",
        "TUESDAY",
        "WEDNESDAY",
        "THURSDAY",
        "FRIDAY",
        "SATURDAY",
    ][now.weekday().num_days_from_sunday() as usize];
    let url = env.c(&format!("/servers/{WEB02}/rax-si-image-schedule"));
    let r = env
        .post(
            &url,
            json!({"image_schedule": {"retention": 1, "day_of_week": day.to_lowercase()}}),
        )
        .await;
    assert_eq!(r.body["image_schedule"]["day_of_week"], day);
    // A manual snapshot carrying the documented marker spelling counts as scheduled.
    let manual = env
        .snapshot(
            WEB02,
            "old-scheduled",
            json!({"org.openstack__1__created-by": "scheduled-images-service"}),
        )
        .await;
    let r = env.advance(6.0 * 86400.0).await;
    assert_eq!(r.body["snapshots_created"], 0);
    let r = env.advance(9.0 * 86400.0).await;
    assert_eq!(r.body["snapshots_created"], 2);
    let list = env
        .get(&env.c(&format!("/images/detail?server={WEB02}")))
        .await;
    let names: Vec<&str> = list.body["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].starts_with("Weekly-web-02-"));
    assert_eq!(
        env.get(&env.c(&format!("/images/{manual}"))).await.status,
        404
    );
}

#[tokio::test]
async fn fault_injection_and_rate_limits() {
    let env = start().await;
    // Latency.
    let faults = env.ctl("/faults");
    let put = |b: Value| env.raw(Method::PUT, &faults, None, Some(b));
    assert_eq!(put(json!({"latency_ms": 150})).await.status, 200);
    let t = Instant::now();
    env.get(&env.c("/images")).await;
    assert!(t.elapsed() >= Duration::from_millis(150));
    // Error rate.
    put(json!({"latency_ms": 0, "error_rate": 1.0})).await;
    let r = env.get(&env.c("/images")).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body["serviceUnavailable"]["code"], 503);
    let ctl = env.raw(Method::GET, &env.ctl("/faults"), None, None).await;
    assert_eq!(ctl.status, 200, "control routes are never faulted");
    // Rate limit.
    put(json!({"error_rate": 0.0, "rate_limits": ["GET=2/min"]})).await;
    assert_eq!(env.get(&env.c("/images")).await.status, 200);
    assert_eq!(env.get(&env.c("/images")).await.status, 200);
    let r = env.get(&env.c("/images")).await;
    assert_eq!(r.status, 413);
    let ra: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&ra));
    assert_eq!(r.body["overLimit"]["retryAfter"], json!(ra.to_string()));
    assert!(
        r.body["overLimit"]["retryAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    put(json!({"rate_limits": []})).await;
    // Forced snapshot errors: next snapshot fails, or force an existing one.
    put(json!({"fail_next_snapshots": 1, "snapshot_seconds": 0.0})).await;
    let failed = env.snapshot(WEB01, "doomed", json!({})).await;
    let img = env.image(&failed).await;
    assert_eq!(img["status"], "ERROR");
    assert_eq!(img["fault"]["code"], 500);
    let fine = env.snapshot(WEB01, "fine", json!({})).await;
    assert_eq!(env.image(&fine).await["status"], "ACTIVE");
    let r = env
        .ctl_post(
            &format!("/images/{fine}/error"),
            json!({"message": "disk on fire"}),
        )
        .await;
    assert_eq!(r.status, 204);
    let img = env.image(&fine).await;
    assert_eq!(img["status"], "ERROR");
    assert_eq!(img["fault"]["message"], "disk on fire");
}

#[tokio::test]
async fn request_counters_by_route() {
    let env = start().await;
    env.raw(Method::DELETE, &env.ctl("/requests"), None, None)
        .await;
    env.get(&env.c("/images/detail")).await;
    env.get(&env.c("/images/detail?limit=1")).await;
    env.get(&env.c(&format!("/images/{GOLDEN}/metadata/role")))
        .await;
    env.post(
        &env.c(&format!("/servers/{WEB01}/action")),
        json!({"createImage": {"name": "n"}}),
    )
    .await;
    env.get(&env.g("/images")).await;
    let r = env
        .raw(Method::GET, &env.ctl("/requests"), None, None)
        .await;
    assert_eq!(r.body["total"], 5);
    let by = &r.body["by_route"];
    assert_eq!(by["GET /images/detail"], 2);
    assert_eq!(by["GET /images/{id}/metadata/{key}"], 1);
    assert_eq!(by["POST /servers/{id}/action"], 1);
    assert_eq!(by["GET /v2/images"], 1);
    assert_eq!(r.body["log"].as_array().unwrap().len(), 5);
    env.raw(Method::DELETE, &env.ctl("/requests"), None, None)
        .await;
    let r = env
        .raw(Method::GET, &env.ctl("/requests"), None, None)
        .await;
    assert_eq!(r.body["total"], 0);
}

#[tokio::test]
async fn robustness_faults_never_panics() {
    let env = start().await;
    let md = env.c(&format!("/images/{GOLDEN}/metadata"));
    let raw = |m: Method, url: &str, body: &'static str| {
        let req = env
            .http
            .request(m, url)
            .header("X-Auth-Token", &env.token)
            .header("Content-Type", "application/json")
            .body(body);
        async move {
            let r = req.send().await.unwrap();
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, b) = raw(Method::POST, &md, "{not json").await;
    assert_eq!(s, 400);
    assert_eq!(b["badRequest"]["code"], 400);
    let (s, _) = raw(Method::POST, &md, "[1,2]").await;
    assert_eq!(s, 400);
    let (s, _) = raw(Method::POST, &md, "{\"metadata\": [\"a\"]}").await;
    assert_eq!(s, 400);
    let (s, _) = raw(
        Method::POST,
        &env.c(&format!("/servers/{WEB01}/action")),
        "{\"createImage\": 5}",
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = raw(
        Method::POST,
        &env.c(&format!("/servers/{WEB01}/action")),
        "{\"reboot\": {}}",
    )
    .await;
    assert_eq!(s, 501);
    let huge = format!("{{\"metadata\": {{\"k\": \"{}\"}}}}", "x".repeat(2 << 20));
    let r = env
        .http
        .post(&md)
        .header("X-Auth-Token", &env.token)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    let r = env.get(&format!("{}/nowhere/at/all", env.base)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["itemNotFound"]["code"], 404);
    let r = env
        .get(&format!("{}/XYZ/compute/v2/{TENANT}/images", env.base))
        .await;
    assert_eq!(r.status, 404);
    let r = env
        .raw(Method::PATCH, &env.c("/images"), Some(&env.token), None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["badMethod"]["code"], 405);
    let r = env
        .raw(Method::PUT, &env.g("/images"), Some(&env.token), None)
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.body["code"], "405 Method Not Allowed");
    // Still healthy afterwards.
    assert_eq!(env.get(&env.c("/images")).await.status, 200);
}

#[tokio::test]
async fn router_without_bind_uses_host_header() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let router = snapform::sandbox::router(&opts()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let r = http
        .post(format!("http://{addr}/v2.0/tokens"))
        .json(&json!({"auth": {"passwordCredentials": {"username": "demo", "password": "demo"}}}))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    let url = body["access"]["serviceCatalog"][0]["endpoints"][0]["publicURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with(&format!("http://{addr}/")), "{url}");
    task.abort();
}

#[tokio::test]
async fn custom_users_and_tenant_isolation() {
    let mut o = opts();
    o.users = vec!["alice:s3cret".into(), "bob:hunter2".into()];
    o.snapshot_seconds = 0.0;
    let env = start_with(o).await;
    let bad = env
        .raw(Method::POST, &format!("{}/tokens", env.sb.auth_url()), None,
             Some(json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demo", "apiKey": "demo"}}})))
        .await;
    assert_eq!(bad.status, 401, "demo is not configured");
    let alice = env.login("alice", "s3cret").await;
    let bob = env.login("bob", "hunter2").await;
    let tenant = |t: &str| {
        let env = &env;
        let t = t.to_string();
        async move {
            let r = env
                .raw(
                    Method::POST,
                    &format!("{}/tokens", env.sb.auth_url()),
                    None,
                    Some(json!({"auth": {"token": {"id": t}}})),
                )
                .await;
            r.body["access"]["token"]["tenant"]["id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let (ta, tb) = (tenant(&alice).await, tenant(&bob).await);
    assert_ne!(ta, tb);
    let c = |t: &str, p: &str| format!("{}/DFW/compute/v2/{t}{p}", env.base);
    let r = env
        .raw(
            Method::POST,
            &c(&ta, &format!("/servers/{WEB01}/action")),
            Some(&alice),
            Some(json!({"createImage": {"name": "alice-img"}})),
        )
        .await;
    assert_eq!(r.status, 202);
    let id = r
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let mine = env
        .raw(
            Method::GET,
            &c(&ta, &format!("/images/{id}")),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(mine.status, 200);
    let theirs = env
        .raw(
            Method::GET,
            &c(&tb, &format!("/images/{id}")),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(theirs.status, 404, "snapshots are private to their tenant");
    let cross = env
        .raw(Method::GET, &c(&ta, "/images"), Some(&bob), None)
        .await;
    assert_eq!(cross.status, 401);
}
