//! Integration tests of `snapform::provider` against the real sandbox on a loopback port:
//! auth and catalog, servers, paginated image listings, snapshots, metadata, schedules,
//! Image API v2 and error reporting. Retry behaviour lives in `provider_retry.rs`.

mod provider_common;

use std::collections::BTreeMap;

use std::time::Duration;

use provider_common::{
    active_snapshot, client, client_with, control, options, sandbox, wait_active,
};
use reqwest::Method;
use serde_json::json;
use snapform::provider::{
    Auth, Client, ImageQuery, Named, Preset, ProviderError, Schedule, Secret, Tuning,
};
use snapform::sandbox::fixture_ids::{CENTOS7_DFW, DB01, WEB01, WEB02};

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn connects_and_picks_endpoints_from_the_catalog() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    assert!(c.has_image_api());
    assert!(c.compute_url().contains("/v2/"), "{}", c.compute_url());
    assert!(c.request_count() >= 1);

    // Regions match case-insensitively.
    let mut opts = options(&sb);
    opts.region = "dfw".into();
    let lower = Client::connect(opts).await.unwrap();
    assert_eq!(lower.compute_url(), c.compute_url());

    // An unknown region is a catalog error that names it.
    let mut opts = options(&sb);
    opts.region = "SYD".into();
    let err = Client::connect(opts).await.unwrap_err();
    assert!(matches!(err, ProviderError::Catalog(_)), "{err:?}");
    assert!(err.to_string().contains("SYD"), "{err}");
}

#[tokio::test]
async fn bad_credentials_fail_with_401_and_never_show_the_secret() {
    let sb = sandbox(0.0, &[]).await;
    let mut opts = options(&sb);
    opts.auth = Auth::RackspaceApiKey {
        auth_url: sb.auth_url(),
        username: "demo".into(),
        api_key: Secret::new("s3cr3t-not-valid"),
        tenant: None,
    };
    let err = Client::connect(opts.clone()).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Auth { status: 401, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("HTTP 401"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(!format!("{err:?}").contains("s3cr3t"));
    assert!(!format!("{opts:?}").contains("s3cr3t"));

    // Password login works with the same secret (the sandbox's secret is key and password).
    opts.auth = Auth::RackspacePassword {
        auth_url: sb.auth_url(),
        username: "demo".into(),
        password: Secret::new("demo"),
        tenant: None,
    };
    Client::connect(opts).await.expect("password login");
}

#[tokio::test]
async fn servers_list_show_and_exact_name_search() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    let servers = c.list_servers().await.unwrap();
    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    for want in ["web-01", "web-02", "db-01"] {
        assert!(names.contains(&want), "{names:?}");
    }
    assert!(!names.contains(&"web-03"), "web-03 lives in ORD: {names:?}");

    let web01 = c.get_server(WEB01).await.unwrap().expect("web-01 exists");
    assert_eq!(web01.name, "web-01");
    assert!(web01.image_id.is_some());
    assert!(
        c.get_server("00000000-0000-0000-0000-000000000000")
            .await
            .unwrap()
            .is_none()
    );

    let exact = c.find_servers_by_name("web-01").await.unwrap();
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0].id, WEB01);
    assert!(c.find_servers_by_name("web-0").await.unwrap().is_empty());
}

#[tokio::test]
async fn snapshot_create_wait_and_delete() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    let id = c
        .create_image(
            WEB02,
            "golden web",
            &map(&[("role", "web"), ("owner", "ops")]),
        )
        .await
        .unwrap()
        .unwrap();
    let img = wait_active(&c, &id).await;
    assert_eq!(img.name, "golden web");
    assert_eq!(img.server_id.as_deref(), Some(WEB02));
    assert_eq!(img.progress, 100);
    assert_eq!(img.metadata.get("role").map(String::as_str), Some("web"));
    assert_eq!(
        img.metadata.get("image_type").map(String::as_str),
        Some("snapshot")
    );

    assert!(c.delete_image(&id).await.unwrap());
    assert!(
        !c.delete_image(&id).await.unwrap(),
        "second delete finds nothing"
    );
    assert!(c.get_image(&id).await.unwrap().is_none());

    // A missing server: the error names the operation, the status and the cloud's message.
    let err = c
        .create_image("no-such-server", "x", &BTreeMap::new())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("create image \"x\" from server no-such-server: HTTP 404: "),
        "{text}"
    );
}

#[tokio::test]
async fn image_listing_follows_pagination_with_one_request_per_page() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    for server in [WEB01, WEB02, DB01] {
        active_snapshot(&c, server, &format!("page-test-{server}")).await;
    }
    let all = c.list_images(&ImageQuery::default()).await.unwrap();
    assert!(
        all.len() >= 10,
        "7 bases, 1 fixture snapshot, 3 new: {}",
        all.len()
    );
    assert!(all.iter().any(|i| i.id == CENTOS7_DFW));

    let small = client_with(
        &sb,
        Tuning {
            page_size: 2,
            ..provider_common::fast()
        },
    )
    .await;
    let before = small.request_count();
    let paged = small.list_images(&ImageQuery::default()).await.unwrap();
    let pages = small.request_count() - before;
    let ids = |v: &[snapform::provider::Image]| v.iter().map(|i| i.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&all), "same images in the same order");
    // ceil(n/2) full pages, plus possibly one empty page after an exactly full one.
    let full = all.len().div_ceil(2) as u64;
    assert!(
        pages == full || pages == full + 1,
        "{pages} requests for {} images",
        all.len()
    );

    // Filters go to the server.
    let snaps = c
        .list_images(&ImageQuery {
            image_type: Some("SNAPSHOT".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(snaps.len() >= 4);
    assert!(snaps.iter().all(|i| i.server_id.is_some()), "{snaps:?}");
    let of_db = c
        .list_images(&ImageQuery {
            server_id: Some(DB01.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(of_db.len(), 1);
    let named = c
        .list_images(&ImageQuery {
            name: Some("page-test-".to_owned() + WEB01),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(named.len(), 1);
}

#[tokio::test]
async fn image_metadata_calls() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    let id = active_snapshot(&c, WEB01, "meta-test").await;

    let merged = c
        .merge_image_metadata(&id, &map(&[("a", "1"), ("b", "2")]))
        .await
        .unwrap();
    assert_eq!(merged.get("a").map(String::as_str), Some("1"));
    assert!(
        merged.contains_key("image_type"),
        "merge keeps other keys: {merged:?}"
    );

    let odd_key = "team name/with slash";
    c.set_image_metadata_item(&id, odd_key, "x y")
        .await
        .unwrap();
    let now = c.get_image_metadata(&id).await.unwrap();
    assert_eq!(now.get(odd_key).map(String::as_str), Some("x y"));
    assert!(c.delete_image_metadata_item(&id, odd_key).await.unwrap());
    assert!(!c.delete_image_metadata_item(&id, odd_key).await.unwrap());

    let replaced = c
        .replace_image_metadata(&id, &map(&[("only", "this")]))
        .await
        .unwrap();
    assert_eq!(replaced, map(&[("only", "this")]));
    assert_eq!(c.get_image_metadata(&id).await.unwrap(), replaced);

    let err = c.get_image_metadata("no-such-image").await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert!(
        err.to_string().contains("no-such-image: HTTP 404: "),
        "{err}"
    );
}

#[tokio::test]
async fn metadata_quota_413_is_surfaced_not_retried() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    let id = active_snapshot(&c, WEB01, "quota-test").await;
    let too_many: BTreeMap<String, String> = (0..60)
        .map(|i| (format!("k{i:02}"), "v".to_owned()))
        .collect();
    let before = c.request_count();
    let err = c.replace_image_metadata(&id, &too_many).await.unwrap_err();
    assert_eq!(c.request_count() - before, 1, "a quota 413 is not retried");
    match &err {
        ProviderError::Api {
            status,
            operation,
            retry_after,
            ..
        } => {
            assert_eq!(*status, 413);
            assert!(operation.contains(&id), "{operation}");
            assert_eq!(*retry_after, Some(0));
        }
        other => panic!("expected a 413, got {other:?}"),
    }
}

#[tokio::test]
async fn scheduled_images_lifecycle() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    assert_eq!(c.get_schedule(DB01).await.unwrap(), None);
    assert!(!c.delete_schedule(DB01).await.unwrap());

    let weekly = Schedule {
        retention: 5,
        day_of_week: Some("saturday".into()),
    };
    let stored = c.set_schedule(DB01, &weekly).await.unwrap();
    assert_eq!(
        stored,
        Schedule {
            retention: 5,
            day_of_week: Some("SATURDAY".into())
        }
    );
    assert_eq!(c.get_schedule(DB01).await.unwrap(), Some(stored.clone()));
    let server = c.get_server(DB01).await.unwrap().unwrap();
    assert_eq!(server.schedule, Some(stored));

    let daily = Schedule {
        retention: 7,
        day_of_week: None,
    };
    assert_eq!(c.set_schedule(DB01, &daily).await.unwrap(), daily);
    assert!(c.delete_schedule(DB01).await.unwrap());
    assert_eq!(c.get_schedule(DB01).await.unwrap(), None);

    let err = c
        .set_schedule(
            DB01,
            &Schedule {
                retention: 0,
                day_of_week: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");
}

#[tokio::test]
async fn image_api_v2_show_list_rename_deactivate() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    let id = active_snapshot(&c, WEB02, "v2-test").await;

    let img = c
        .get_image_v2(&id)
        .await
        .unwrap()
        .expect("visible through the Image API");
    assert_eq!(img.status, "active");
    assert!(
        c.get_image_v2("00000000-0000-0000-0000-000000000000")
            .await
            .unwrap()
            .is_none()
    );

    let renamed = c.rename_image_v2(&id, "v2-renamed").await.unwrap();
    assert_eq!(renamed.name, "v2-renamed");
    assert_eq!(c.get_image(&id).await.unwrap().unwrap().name, "v2-renamed");

    c.deactivate_image(&id).await.unwrap();
    c.deactivate_image(&id).await.unwrap();
    assert_eq!(
        c.get_image_v2(&id).await.unwrap().unwrap().status,
        "deactivated"
    );
    c.reactivate_image(&id).await.unwrap();
    assert_eq!(c.get_image_v2(&id).await.unwrap().unwrap().status, "active");

    let small = client_with(
        &sb,
        Tuning {
            page_size: 3,
            ..provider_common::fast()
        },
    )
    .await;
    let paged = small.list_images_v2().await.unwrap();
    let all = c.list_images_v2().await.unwrap();
    assert!(all.len() > 3);
    let mut a: Vec<_> = paged.iter().map(|i| i.id.clone()).collect();
    let mut b: Vec<_> = all.iter().map(|i| i.id.clone()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[tokio::test]
async fn clones_share_one_session_across_tasks() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.list_images(&ImageQuery::default()).await.map(|v| v.len())
        }));
    }
    let mut sizes = Vec::new();
    for t in tasks {
        sizes.push(t.await.unwrap().unwrap());
    }
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
    // 1 auth + 8 single-page listings, all counted on the shared counter.
    assert_eq!(c.request_count(), 9);
}

#[tokio::test]
async fn revoked_tokens_are_replaced_transparently() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    c.list_servers().await.unwrap();
    control(&sb, Method::DELETE, "/tokens", None).await;
    let before = c.request_count();
    let servers = c
        .list_servers()
        .await
        .expect("re-authenticated after a 401");
    assert!(!servers.is_empty());
    assert_eq!(c.request_count() - before, 3, "401, re-auth, resend");
}

#[tokio::test]
async fn keystone_v3_preset_against_the_sandbox() {
    let sb = sandbox(0.0, &[]).await;
    let mut opts = options(&sb);
    opts.preset = Preset::Openstack;
    opts.auth = Auth::Password {
        auth_url: sb.auth_url_v3(),
        user: Named::by_name("demo"),
        password: Secret::new("demo"),
        project: Some(Named::by_name("123456")),
    };
    let c = Client::connect(opts).await.expect("keystone v3 login");
    assert!(c.get_image(CENTOS7_DFW).await.unwrap().is_some());
    assert!(c.has_image_api());
}

#[tokio::test]
async fn failed_snapshot_reports_error_and_fault() {
    let sb = sandbox(0.0, &[]).await;
    let c = client(&sb).await;
    control(
        &sb,
        Method::PUT,
        "/faults",
        Some(json!({"fail_next_snapshots": 1})),
    )
    .await;
    let id = c
        .create_image(WEB01, "doomed", &BTreeMap::new())
        .await
        .unwrap()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let img = loop {
        let img = c.get_image(&id).await.unwrap().expect("image exists");
        if img.status != "SAVING" || std::time::Instant::now() > deadline {
            break img;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(img.status, "ERROR");
    assert!(img.fault.is_some(), "{img:?}");
}
