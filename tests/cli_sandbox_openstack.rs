//! The sandbox's OpenStack switch (`--cloud openstack`): the behaviours a real Nova + Glance
//! showed us (docs/sandbox.md), checked on the wire, and the binary against them through both
//! presets — so that fast tests cover what tests/openstack_real.rs covers against the real
//! stack.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use serde_json::{Value, json};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn server_id(rt: &tokio::runtime::Runtime, api: &Api, name: &str) -> String {
    let (_, v) = rt.block_on(api.get(&format!("/servers?name={name}")));
    v["servers"][0]["id"].as_str().expect("server").to_string()
}

async fn create_image(
    api: &Api,
    server: &str,
    body: Value,
    version: Option<&str>,
) -> (u16, Option<String>, Value) {
    let http = reqwest::Client::new();
    let mut req = http
        .post(format!("{}/servers/{server}/action", api.compute))
        .header("X-Auth-Token", &api.token)
        .json(&body);
    if let Some(v) = version {
        req = req.header("OpenStack-API-Version", format!("compute {v}"));
    }
    let r = req.send().await.expect("createImage");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = r.text().await.unwrap_or_default();
    (
        status,
        location,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn wait_settled(api: &Api, id: &str) {
    for _ in 0..100 {
        let (_, v) = api.get(&format!("/images/{id}")).await;
        if v["image"]["status"] == "ACTIVE" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{id} never became ACTIVE");
}

/// On the wire: a Glance Location below 2.45, the body id from 2.45, reserved properties
/// refused with Glance's (HTML-escaped) message, and no deleted images in `changes-since`;
/// the Rackspace flavour keeps its own answers.
#[test]
fn the_openstack_switch_on_the_wire() {
    let rt = rt();
    for cloud in ["openstack", "rackspace"] {
        let sb = ServedSandbox::start(&["--cloud", cloud, "--snapshot-seconds", "0.2"]);
        let api = rt.block_on(Api::login(&sb.url, "DFW"));
        let server = server_id(&rt, &api, "db-01");
        let openstack = cloud == "openstack";

        let (st, loc, _) = rt.block_on(create_image(
            &api,
            &server,
            json!({"createImage": {"name": "old-mv"}}),
            None,
        ));
        assert_eq!(st, 202, "{cloud}");
        let loc = loc.expect("a Location below 2.45");
        if openstack {
            assert!(
                loc.starts_with("http://glance.sandbox.invalid:9292/images/"),
                "{loc}"
            );
        } else {
            assert!(loc.starts_with(&api.compute), "{loc}");
        }
        let first = loc.rsplit('/').next().unwrap().to_string();
        rt.block_on(wait_settled(&api, &first));

        let (st, loc, body) = rt.block_on(create_image(
            &api,
            &server,
            json!({"createImage": {"name": "new-mv"}}),
            Some("2.45"),
        ));
        assert_eq!(st, 202, "{cloud}");
        if openstack {
            assert_eq!(loc, None);
            let id = body["image_id"].as_str().expect("image_id in the body");
            rt.block_on(wait_settled(&api, id));
        } else {
            rt.block_on(wait_settled(&api, loc.unwrap().rsplit('/').next().unwrap()));
        }

        let (st, _, body) = rt.block_on(create_image(
            &api,
            &server,
            json!({"createImage": {"name": "x", "metadata": {"owner": "me"}}}),
            Some("2.45"),
        ));
        if openstack {
            assert_eq!(st, 403, "{body}");
            assert!(body.to_string().contains("&#x27;owner&#x27;"), "{body}");
        } else {
            assert_eq!(st, 202, "{body}");
            if let Some(id) = body["image_id"].as_str() {
                rt.block_on(wait_settled(&api, id));
            }
        }

        // Deleted images in changes-since: Rackspace shows them, Nova over Glance does not.
        let since = chrono::Utc::now() - chrono::Duration::minutes(5);
        let (st, _) = rt.block_on(api.call("DELETE", &format!("/images/{first}"), None));
        assert_eq!(st, 204, "{cloud}");
        let (_, v) = rt.block_on(api.get(&format!(
            "/images/detail?changes-since={}",
            since.format("%Y-%m-%dT%H:%M:%SZ")
        )));
        let tomb = v["images"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["id"] == first.as_str() && i["status"] == "DELETED");
        assert_eq!(tomb, !openstack, "{cloud}: {v}");
    }
}

fn openstack_provider(sb: &ServedSandbox) -> String {
    format!(
        "provider \"openstack\" {{\n  auth_url = \"{}/v3\"\n  username = \"demo\"\n  password = \"demo\"\n  project_name = \"demo\"\n  region = \"DFW\"\n}}\n",
        sb.url
    )
}

const IMAGES: &str = r#"
data "server" "db" {
  name = "db-01"
}
resource "image" "a" {
  server_id = data.server.db.id
  name      = "os-a"
  metadata  = { team = "ops" }
}
resource "image" "b" {
  server_id = data.server.db.id
  name      = "os-b"
}
"#;

/// The openstack preset against the OpenStack flavour: two snapshots of one server, the right
/// ids (from the 2.45 body), an out-of-band deletion noticed without tombstones, a reserved key
/// refused before anything is made. (The rackspace preset speaks only to Rackspace, whose
/// `changes-since` does report deletions: RAX-KSKEY auth exists nowhere else.)
#[test]
fn the_openstack_preset_against_the_openstack_flavour() {
    let rt = rt();
    let sb = ServedSandbox::start(&["--cloud", "openstack", "--snapshot-seconds", "0.3"]);
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let server = server_id(&rt, &api, "db-01");
    {
        let provider = openstack_provider(&sb);
        let work = Work::new();
        work.write("main.snap.hcl", &format!("{provider}{IMAGES}"));
        let r = work.run(&["apply", "--auto-approve", "--no-color"]);
        assert_eq!(r.code, 0, "{r:?}");
        let (_, v) = rt.block_on(api.get(&format!("/images/detail?server={server}")));
        let live: Vec<&Value> = v["images"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["name"] == "os-a" || i["name"] == "os-b")
            .collect();
        assert_eq!(live.len(), 2, "{v}");
        let state: Value = serde_json::from_str(&work.state().unwrap()).unwrap();
        for img in &live {
            let addr = if img["name"] == "os-a" {
                "image.a"
            } else {
                "image.b"
            };
            assert_eq!(state["resources"][addr]["id"], img["id"], "{addr}");
        }
        let r = work.run(&["plan", "--detailed-exitcode"]);
        assert_eq!(r.code, 0, "{r:?}");
        // Out of band, the image goes; the next plan sees it.
        let b = state["resources"]["image.b"]["id"]
            .as_str()
            .unwrap()
            .to_string();
        let (st, _) = rt.block_on(api.call("DELETE", &format!("/images/{b}"), None));
        assert_eq!(st, 204);
        let r = work.run(&["plan", "--detailed-exitcode", "--no-color"]);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stdout.contains("image.b will be created"), "{r:?}");
        let r = work.run(&["destroy", "--auto-approve"]);
        assert_eq!(r.code, 0, "{r:?}");
    }

    // A key that Glance reserves: refused by name before any call changes anything.
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        &format!(
            "{}data \"server\" \"db\" {{\n  name = \"db-01\"\n}}\nresource \"image\" \"o\" {{\n  server_id = data.server.db.id\n  name = \"os-owner\"\n  metadata = {{ owner = \"me\" }}\n}}\n",
            openstack_provider(&sb)
        ),
    );
    let r = work.run(&["apply", "--auto-approve", "--no-color"]);
    assert_ne!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("\"owner\"") || r.stderr.contains("\"owner\""),
        "{r:?}"
    );
    let (_, v) = rt.block_on(api.get("/images/detail?name=os-owner"));
    assert_eq!(v["images"].as_array().unwrap().len(), 0, "{v}");
}
