//! Sandbox wire tests, part 1 (the walking skeleton): identity, token checks, servers,
//! images, metadata, createImage, scheduled images, persistence — raw HTTP against a
//! sandbox spawned on 127.0.0.1:0.

#[path = "sandbox_support/mod.rs"]
mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn identity_v2_api_key_and_catalog() {
    let env = start().await;
    let r = env
        .raw(Method::POST, &format!("{}/tokens", env.sb.auth_url()), None,
             Some(json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demo", "apiKey": "demo"}}})))
        .await;
    assert_eq!(r.status, 200);
    let access = &r.body["access"];
    assert_eq!(access["token"]["tenant"]["id"], "123456");
    assert_eq!(
        access["token"]["RAX-AUTH:authenticatedBy"],
        json!(["APIKEY"])
    );
    let expires = access["token"]["expires"].as_str().unwrap();
    assert!(expires.ends_with('Z') && expires.len() == 24, "{expires}");
    assert_eq!(access["user"]["RAX-AUTH:defaultRegion"], "DFW");
    let catalog = access["serviceCatalog"].as_array().unwrap();
    let svc = |name: &str| catalog.iter().find(|s| s["name"] == name).unwrap().clone();
    let compute = svc("cloudServersOpenStack");
    assert_eq!(compute["type"], "compute");
    let dfw = compute["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["region"] == "DFW")
        .unwrap()
        .clone();
    assert_eq!(dfw["versionId"], "2");
    assert_eq!(dfw["publicURL"], json!(env.c("")));
    assert!(
        compute["endpoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["region"] == "ORD")
    );
    let images = svc("cloudImages");
    assert_eq!(images["type"], "image");
    assert_eq!(images["endpoints"][0]["publicURL"], json!(env.g("")));
    // The first-gen entry has no region and versionId 1.0 (clients must skip it).
    assert_eq!(svc("cloudServers")["endpoints"][0]["versionId"], "1.0");
}

#[tokio::test]
async fn identity_v2_password_rescope_and_errors() {
    let env = start().await;
    let url = format!("{}/tokens", env.sb.auth_url());
    let pw = env
        .raw(Method::POST, &url, None,
             Some(json!({"auth": {"passwordCredentials": {"username": "demo", "password": "demo"}, "tenantId": "demo"}})))
        .await;
    assert_eq!(
        pw.status, 200,
        "pyrax sends tenantId = username: {}",
        pw.text
    );
    assert_eq!(
        pw.body["access"]["token"]["RAX-AUTH:authenticatedBy"],
        json!(["PASSWORD"])
    );
    let rescope = env
        .raw(
            Method::POST,
            &url,
            None,
            Some(json!({"auth": {"token": {"id": env.token}, "tenantId": "123456"}})),
        )
        .await;
    assert_eq!(rescope.status, 200);
    assert_ne!(rescope.body["access"]["token"]["id"], json!(env.token));
    let bad = env
        .raw(Method::POST, &url, None,
             Some(json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demo", "apiKey": "nope"}}})))
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(
        bad.body,
        json!({"unauthorized": {"code": 401, "message": "Username or api key is invalid."}})
    );
    let both = env
        .raw(
            Method::POST,
            &url,
            None,
            Some(
                json!({"auth": {"passwordCredentials": {"username": "demo", "password": "demo"},
                                  "tenantId": "123456", "tenantName": "123456"}}),
            ),
        )
        .await;
    assert_eq!(both.status, 400);
    assert_eq!(both.body["badRequest"]["code"], 400);
    let junk = env
        .raw(Method::POST, &url, None, Some(json!({"nope": 1})))
        .await;
    assert_eq!(junk.status, 400);
}

#[tokio::test]
async fn token_is_checked_and_request_id_sent() {
    let env = start().await;
    let none = env.raw(Method::GET, &env.c("/images"), None, None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["unauthorized"]["code"], 401);
    let wrong = env
        .raw(Method::GET, &env.c("/images"), Some("not-a-token"), None)
        .await;
    assert_eq!(wrong.status, 401);
    let other_tenant = env
        .raw(
            Method::GET,
            &format!("{}/DFW/compute/v2/999/images", env.base),
            Some(&env.token),
            None,
        )
        .await;
    assert_eq!(other_tenant.status, 401);
    let ok = env.get(&env.c("/images")).await;
    assert_eq!(ok.status, 200);
    let rid = ok.header("x-compute-request-id").unwrap();
    assert!(rid.starts_with("req-") && rid.len() == 40, "{rid}");
    assert!(none.header("x-compute-request-id").is_some());
    // Revoked tokens stop working.
    assert_eq!(
        env.raw(Method::DELETE, &env.ctl("/tokens"), None, None)
            .await
            .status,
        204
    );
    assert_eq!(env.get(&env.c("/images")).await.status, 401);
}

#[tokio::test]
async fn servers_list_detail_show_and_filters() {
    let env = start().await;
    let r = env.get(&env.c("/servers")).await;
    assert_eq!(r.status, 200);
    let names: Vec<&str> = r.body["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3);
    for n in ["web-01", "web-02", "db-01"] {
        assert!(names.contains(&n), "{names:?}");
    }
    let s0 = &r.body["servers"][0];
    assert!(
        s0.get("status").is_none(),
        "summary view has id, name, links only"
    );
    let ord = env.get(&env.c_ord("/servers")).await;
    assert_eq!(ord.body["servers"].as_array().unwrap().len(), 1);
    assert_eq!(ord.body["servers"][0]["name"], "web-03");
    let d = env.get(&env.c("/servers/detail?name=web-01")).await;
    let list = d.body["servers"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], WEB01);
    assert_eq!(list[0]["image"]["id"], CENTOS7);
    assert_eq!(list[0]["status"], "ACTIVE");
    assert!(list[0].get("RAX-SI:image_schedule").is_none());
    let web = env.get(&env.c("/servers/detail?name=web")).await;
    assert_eq!(web.body["servers"].as_array().unwrap().len(), 2);
    let one = env.get(&env.c(&format!("/servers/{DB01}"))).await;
    assert_eq!(one.body["server"]["name"], "db-01");
    let missing = env.get(&env.c("/servers/nope")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({"itemNotFound": {"code": 404, "message": "Instance could not be found"}})
    );
}

#[tokio::test]
async fn images_list_detail_show_and_views() {
    let env = start().await;
    let r = env.get(&env.c("/images")).await;
    assert_eq!(r.status, 200);
    let items = r.body["images"].as_array().unwrap();
    assert_eq!(items.len(), 8, "7 base images + web-01-golden in DFW");
    assert!(items.iter().all(|i| i.as_object().unwrap().len() == 3));
    assert!(r.body.get("images_links").is_none());
    let links = items[0]["links"].as_array().unwrap();
    assert_eq!(links[0]["rel"], "self");
    assert!(
        links[0]["href"]
            .as_str()
            .unwrap()
            .starts_with(&env.c("/images/"))
    );
    assert_eq!(links[1]["rel"], "bookmark");
    assert_eq!(links[2]["type"], "application/vnd.openstack.image");

    let d = env.get(&env.c("/images/detail")).await;
    let all = d.body["images"].as_array().unwrap();
    let centos = all.iter().find(|i| i["id"] == CENTOS7).unwrap();
    assert_eq!(centos["name"], "CentOS 7 (PVHVM)");
    assert_eq!(centos["status"], "ACTIVE");
    assert_eq!(centos["progress"], 100);
    assert_eq!(centos["minDisk"], 20);
    assert!(centos["OS-EXT-IMG-SIZE:size"].is_u64());
    assert_eq!(centos["OS-DCF:diskConfig"], "AUTO");
    assert_eq!(centos["metadata"]["image_type"], "base");
    assert_eq!(
        centos["metadata"]["org.openstack__1__os_distro"],
        "org.centos"
    );
    assert!(centos.get("server").is_none(), "server only on snapshots");
    assert!(
        centos["metadata"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_string)
    );
    let golden = env.image(GOLDEN).await;
    assert_eq!(golden["server"]["id"], WEB01);
    assert_eq!(golden["metadata"]["image_type"], "snapshot");
    let created = golden["created"].as_str().unwrap();
    assert_eq!(created, "2015-07-09T10:18:04Z");

    let missing = env
        .get(&env.c("/images/00000000-0000-0000-0000-000000000000"))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.body,
        json!({"itemNotFound": {"code": 404, "message": "Image not found."}})
    );
}

#[tokio::test]
async fn images_pagination_follows_nova_rules() {
    let env = start().await;
    let mut seen = Vec::new();
    let mut url = env.c("/images/detail?limit=3");
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages < 10);
        let r = env.get(&url).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let items = r.body["images"].as_array().unwrap().clone();
        seen.extend(items.iter().map(|i| i["id"].as_str().unwrap().to_string()));
        match r.body.get("images_links") {
            Some(links) => {
                assert_eq!(items.len(), 3, "next only on full pages");
                assert_eq!(links[0]["rel"], "next");
                let href = links[0]["href"].as_str().unwrap().to_string();
                assert!(href.starts_with(&env.c("/images/detail?")), "{href}");
                assert!(
                    href.contains("limit=3")
                        && href.ends_with(&format!("marker={}", seen.last().unwrap()))
                );
                url = href;
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    assert_eq!(pages, 3);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 8);
    // Exactly-full last page still gets a link, and the next page is empty.
    let r = env.get(&env.c("/images?limit=8")).await;
    assert!(r.body.get("images_links").is_some());
    let next = r.body["images_links"][0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    let empty = env.get(&next).await;
    assert_eq!(empty.body, json!({"images": []}));
    for bad in ["limit=-1", "limit=abc", "marker=does-not-exist"] {
        let r = env.get(&env.c(&format!("/images?{bad}"))).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.body["badRequest"]["code"], 400);
    }
}

#[tokio::test]
async fn image_metadata_six_calls() {
    let env = start().await;
    let md = |p: &str| env.c(&format!("/images/{GOLDEN}/metadata{p}"));
    let r = env.get(&md("")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["metadata"]["role"], "web");
    let before = r.body["metadata"].as_object().unwrap().len();
    // POST merges and returns the whole map (key case preserved).
    let r = env
        .post(
            &md(""),
            json!({"metadata": {"Owner": "ops", "role": "frontend"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["metadata"]["Owner"], "ops");
    assert_eq!(r.body["metadata"]["role"], "frontend");
    assert_eq!(r.body["metadata"].as_object().unwrap().len(), before + 1);
    // Item calls.
    let r = env.get(&md("/Owner")).await;
    assert_eq!(r.body, json!({"meta": {"Owner": "ops"}}));
    let r = env
        .put(&md("/cost.center"), json!({"meta": {"cost.center": "42"}}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"meta": {"cost.center": "42"}}));
    let r = env.put(&md("/a"), json!({"meta": {"b": "1"}})).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["badRequest"]["message"],
        "Request body and URI mismatch"
    );
    let r = env
        .put(&md("/a"), json!({"meta": {"a": "1", "b": "2"}}))
        .await;
    assert_eq!(
        r.body["badRequest"]["message"],
        "Request body contains too many items"
    );
    assert_eq!(env.delete(&md("/Owner")).await.status, 204);
    let r = env.delete(&md("/Owner")).await;
    assert_eq!(r.status, 404);
    assert_eq!(env.get(&md("/Owner")).await.status, 404);
    // PUT replaces all.
    let r = env
        .put(&md(""), json!({"metadata": {"only": "this"}}))
        .await;
    assert_eq!(r.body, json!({"metadata": {"only": "this"}}));
    assert_eq!(
        env.get(&md("")).await.body,
        json!({"metadata": {"only": "this"}})
    );
    // Validation.
    let r = env.post(&md(""), json!({"metadata": {"": "x"}})).await;
    assert_eq!(r.status, 400);
    let r = env.post(&md(""), json!({"metadata": {"n": 1}})).await;
    assert_eq!(r.status, 400);
    let r = env.post(&md(""), json!({"nope": {}})).await;
    assert_eq!(r.status, 400);
    let r = env.get(&env.c("/images/nope/metadata")).await;
    assert_eq!(r.status, 404);
    // Base images belong to the provider.
    let r = env
        .post(
            &env.c(&format!("/images/{CENTOS7}/metadata")),
            json!({"metadata": {"a": "b"}}),
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body["forbidden"]["code"], 403);
}

#[tokio::test]
async fn metadata_quota_is_413_with_retry_after_zero() {
    let env = start().await;
    let mut big = serde_json::Map::new();
    for i in 0..41 {
        big.insert(format!("k{i}"), json!("v"));
    }
    let r = env
        .put(
            &env.c(&format!("/images/{GOLDEN}/metadata")),
            json!({"metadata": big}),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.header("retry-after").as_deref(), Some("0"));
    assert_eq!(r.body["overLimit"]["retryAfter"], "0");
    assert_eq!(r.body["overLimit"]["code"], 413);
}

#[tokio::test]
async fn create_image_saving_then_active_with_snapshot_metadata() {
    let env = start_with(support::opts()).await; // 2 s snapshots
    let r = env
        .post(
            &env.c(&format!("/servers/{WEB02}/action")),
            json!({"createImage": {"name": "web-02-nightly", "metadata": {"ImageType": "Gold"}}}),
        )
        .await;
    assert_eq!(r.status, 202);
    assert!(r.text.is_empty());
    let loc = r.header("location").unwrap();
    assert!(loc.starts_with(&env.c("/images/")), "{loc}");
    let id = loc.rsplit('/').next().unwrap();
    let img = env.image(id).await;
    assert_eq!(img["status"], "SAVING");
    let p = img["progress"].as_u64().unwrap();
    assert!((25..100).contains(&p), "{p}");
    assert_eq!(img["server"]["id"], WEB02);
    let md = &img["metadata"];
    assert_eq!(md["image_type"], "snapshot");
    assert_eq!(md["instance_uuid"], WEB02);
    assert_eq!(md["base_image_ref"], CENTOS7);
    assert_eq!(md["user_id"], "172157");
    assert_eq!(md["ImageType"], "Gold");
    assert_eq!(md["org.openstack__1__os_distro"], "org.centos", "inherited");
    assert!(md.get("cache_in_nova").is_none(), "not inherited");
    // Listed at once; the server shows the task state; a second snapshot conflicts.
    let list = env.get(&env.c(&format!("/images?server={WEB02}"))).await;
    assert_eq!(list.body["images"].as_array().unwrap().len(), 1);
    let srv = env.get(&env.c(&format!("/servers/{WEB02}"))).await;
    assert_eq!(
        srv.body["server"]["OS-EXT-STS:task_state"],
        "image_snapshot"
    );
    let again = env
        .post(
            &env.c(&format!("/servers/{WEB02}/action")),
            json!({"createImage": {"name": "again"}}),
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.body["conflictingRequest"]["code"], 409);
    env.advance(3.0).await;
    let img = env.image(id).await;
    assert_eq!(img["status"], "ACTIVE");
    assert_eq!(img["progress"], 100);
    // Errors.
    let r = env
        .post(
            &env.c("/servers/nope/action"),
            json!({"createImage": {"name": "x"}}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = env
        .post(
            &env.c(&format!("/servers/{WEB01}/action")),
            json!({"createImage": {"name": " "}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = env
        .post(
            &env.c(&format!("/servers/{WEB01}/action")),
            json!({"createImage": {}}),
        )
        .await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn delete_image_then_gone_but_visible_to_changes_since() {
    let env = start().await;
    let id = env.snapshot(WEB01, "tmp", json!({})).await;
    assert_eq!(
        env.delete(&env.c(&format!("/images/{id}"))).await.status,
        204
    );
    assert_eq!(env.get(&env.c(&format!("/images/{id}"))).await.status, 404);
    assert_eq!(
        env.delete(&env.c(&format!("/images/{id}"))).await.status,
        404
    );
    let list = env.get(&env.c("/images/detail")).await;
    assert!(!list.text.contains(&id));
    let since = env
        .get(&env.c("/images/detail?changes-since=2015-01-01T00:00Z"))
        .await;
    let gone = since.body["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == json!(id))
        .unwrap()
        .clone();
    assert_eq!(gone["status"], "DELETED");
    let base = env.delete(&env.c(&format!("/images/{CENTOS7}"))).await;
    assert_eq!(base.status, 403);
}

#[tokio::test]
async fn scheduled_images_crud_and_validation() {
    let env = start().await;
    let url = env.c(&format!("/servers/{WEB01}/rax-si-image-schedule"));
    let r = env.get(&url).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"itemNotFound": {"code": 404,
        "message": format!("Image schedule does not exist for server {WEB01}")}})
    );
    let r = env
        .post(&url, json!({"image_schedule": {"retention": 7}}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({"image_schedule": {"retention": 7}}));
    assert_eq!(
        env.get(&url).await.body,
        json!({"image_schedule": {"retention": 7}})
    );
    let r = env
        .post(
            &url,
            json!({"image_schedule": {"retention": "5", "day_of_week": "saturday"}}),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"image_schedule": {"day_of_week": "SATURDAY", "retention": 5}})
    );
    let srv = env.get(&env.c(&format!("/servers/{WEB01}"))).await;
    assert_eq!(
        srv.body["server"]["RAX-SI:image_schedule"],
        json!({"day_of_week": "SATURDAY", "retention": 5})
    );
    let cases = [
        (
            json!({}),
            "The request body is invalid. Key image_schedule is missing in the body",
        ),
        (
            json!({"image_schedule": {}}),
            "The request body is invalid. Key retention is missing in the body",
        ),
        (
            json!({"image_schedule": {"retention": "test"}}),
            "The retention value test is not allowed. It must be an integer",
        ),
        (
            json!({"image_schedule": {"retention": ""}}),
            "The retention value  is not allowed. It must be an integer",
        ),
        (
            json!({"image_schedule": {"retention": 0}}),
            "The retention value 0 is not allowed. It must be greater than 0",
        ),
        (
            json!({"image_schedule": {"retention": -3}}),
            "The retention value -3 is not allowed. It must be greater than 0",
        ),
    ];
    for (body, msg) in cases {
        let r = env.post(&url, body.clone()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.body["badRequest"]["message"], msg);
    }
    let r = env
        .post(&url, json!({"image_schedule": {"retention": 65536}}))
        .await;
    assert_eq!(r.status, 400);
    let r = env
        .post(
            &url,
            json!({"image_schedule": {"retention": 2, "day_of_week": "someday"}}),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = env
        .post(
            &env.c("/servers/nope/rax-si-image-schedule"),
            json!({"image_schedule": {"retention": 2}}),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["itemNotFound"]["message"],
        "Specified instance nope could not be found."
    );
    let r = env.delete(&url).await;
    assert_eq!(r.status, 202);
    assert!(r.text.is_empty());
    let r = env.delete(&url).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body["itemNotFound"]["message"],
        format!("Image schedule does not exist for server {WEB01}")
    );
}

#[tokio::test]
async fn state_persists_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = support::opts();
    o.data = Some(dir.path().to_path_buf());
    o.snapshot_seconds = 0.0;
    let env = start_with(o.clone()).await;
    let id = env.snapshot(WEB01, "persisted", json!({"k": "v"})).await;
    let r = env
        .post(
            &env.c(&format!("/servers/{DB01}/rax-si-image-schedule")),
            json!({"image_schedule": {"retention": 2}}),
        )
        .await;
    assert_eq!(r.status, 200);
    env.sb.shutdown().await;
    assert!(dir.path().join("sandbox-state.json").exists());
    let env2 = start_with(o).await;
    let img = env2.image(&id).await;
    assert_eq!(img["name"], "persisted");
    assert_eq!(img["status"], "ACTIVE");
    assert_eq!(img["metadata"]["k"], "v");
    let r = env2
        .get(&env2.c(&format!("/servers/{DB01}/rax-si-image-schedule")))
        .await;
    assert_eq!(r.body, json!({"image_schedule": {"retention": 2}}));
}

#[tokio::test]
async fn concurrent_writes_are_safe() {
    let env = start().await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let url = env.c(&format!("/images/{GOLDEN}/metadata"));
        let http = env.http.clone();
        let token = env.token.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .header("X-Auth-Token", token)
                .header("Content-Type", "application/json")
                .body(json!({"metadata": {format!("c{i}"): "x"}}).to_string())
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    let md = env.get(&env.c(&format!("/images/{GOLDEN}/metadata"))).await;
    assert!((0..12).all(|i| md.body["metadata"].get(format!("c{i}")).is_some()));
}
