//! `graph -html` opened in a real browser: headless Chromium loads the page `snapform graph
//! -html` wrote (no network), runs the embedded layout and drawing code, and the test finds
//! every resource instance and data source in the DOM it dumps, with its planned action; a
//! screenshot is taken too. Skipped without Chromium unless SNAPFORM_CHROMIUM_REQUIRED is set
//! (`.ci/run` sets it after installing Debian's `chromium`).

mod cli_support;

use cli_support::Work;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            && o.status.success()
        {
            return Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
        }
    }
    if std::env::var_os("SNAPFORM_CHROMIUM_REQUIRED").is_some() {
        panic!("SNAPFORM_CHROMIUM_REQUIRED is set but no chromium is on PATH");
    }
    eprintln!("SKIPPED: no chromium on PATH (install Debian's chromium package)");
    None
}

/// Runs headless Chromium on `page` with `args`, bounded in time; returns stdout.
fn run_chromium(bin: &Path, page: &Path, args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).ok();
        s
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

/// `data-address` → `data-action` of every drawn instance node in a dumped DOM.
fn drawn_nodes(dom: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for tag in dom.split("<g ").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if !(tag.starts_with("class=\"node\"") || tag.starts_with("class=\"node data\"")) {
            continue;
        }
        let attr = |name: &str| {
            let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
            let end = start + tag[start..].find('"')?;
            Some(tag[start..end].replace("&quot;", "\""))
        };
        assert!(attr("transform").is_some(), "laid out: {tag}");
        out.insert(attr("data-address").unwrap(), attr("data-action").unwrap());
    }
    out
}

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}/main.snap.hcl")),
    )
    .unwrap()
}

#[test]
fn golden_images_graph_renders_in_chromium_with_every_node() {
    let Some(browser) = chromium() else { return };
    let work = Work::new();
    work.write("main.snap.hcl", &example("golden-images"));
    let r = work.run(&["graph", "-html"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        !r.stdout.contains("<script src") && !r.stdout.contains("<link"),
        "nothing loaded from elsewhere"
    );
    let page = work.path().join("plan.html");
    std::fs::write(&page, &r.stdout).unwrap();

    let dom = run_chromium(&browser, &page, &["--dump-dom"]);
    assert!(dom.contains("data-layout=\"done\""), "the drawing code ran");
    let nodes = drawn_nodes(&dom);
    let expected: BTreeMap<String, String> = [
        ("data.server.web_dfw", "read"),
        ("data.server.web_ord", "read"),
        ("data.image.base_dfw", "read"),
        ("data.image.base_ord", "read"),
        ("image.golden_dfw", "create"),
        ("image.golden_ord", "create"),
        ("image_schedule.web_dfw", "create"),
        ("image_schedule.web_ord", "create"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(nodes, expected, "one node per instance and data source");
    for (from, to) in [
        ("data.server.web_dfw", "image.golden_dfw"),
        ("data.image.base_ord", "image.golden_ord"),
        ("data.server.web_ord", "image_schedule.web_ord"),
    ] {
        assert!(
            dom.contains(&format!("data-from=\"{from}\" data-to=\"{to}\"")),
            "edge {from} -> {to}"
        );
    }

    let shot = work.path().join("plan.png");
    run_chromium(
        &browser,
        &page,
        &[
            "--window-size=1280,720",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{}",
        png.len()
    );
    if let Some(keep) = std::env::var_os("SNAPFORM_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }

    // After an apply and a new release: images renamed in place, the rest unchanged.
    let r = work.run(&["apply", "-auto-approve"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["graph", "-html", "-var", "release=2027-01"]);
    assert_eq!(r.code, 0, "{r:?}");
    std::fs::write(&page, &r.stdout).unwrap();
    let nodes = drawn_nodes(&run_chromium(&browser, &page, &["--dump-dom"]));
    assert_eq!(nodes["image.golden_dfw"], "update", "{nodes:?}");
    assert_eq!(nodes["image_schedule.web_ord"], "no-op", "{nodes:?}");
    assert_eq!(nodes.len(), 8, "{nodes:?}");
}

/// 500 instances, where 249 of them each depend on all 250 of another block: the page draws
/// them through one `image.fleet[*]` bundle (749 edges rather than 62,000) and lays out in a
/// browser.
#[test]
fn five_hundred_nodes_lay_out_in_chromium() {
    let Some(browser) = chromium() else { return };
    let work = Work::new();
    work.write(
        "main.snap.hcl",
        r#"
provider "rackspace" {
  sandbox = ".snapform/sandbox"
}
data "server" "web" {
  name = "web-01"
}
resource "image" "fleet" {
  count     = 250
  server_id = data.server.web.id
  name      = "fleet-${count.index}"
}
resource "image_metadata" "tag" {
  count    = 249
  image_id = image.fleet[count.index].id
  metadata = { n = "${count.index}" }
}
"#,
    );
    let r = work.run(&["graph", "-html"]);
    assert_eq!(r.code, 0, "{r:?}");
    let page = work.path().join("plan.html");
    std::fs::write(&page, &r.stdout).unwrap();
    let dom = run_chromium(&browser, &page, &["--dump-dom"]);
    assert!(
        dom.contains("data-nodes=\"500\" data-edges=\"749\" data-layout=\"done\""),
        "{}",
        &dom[dom.find("<svg").unwrap_or(0)..][..300.min(dom.len())]
    );
    let nodes = drawn_nodes(&dom);
    assert_eq!(nodes.len(), 500);
    assert!(nodes.contains_key("image.fleet[249]") && nodes.contains_key("image_metadata.tag[0]"));
    assert!(dom.contains("class=\"bundle\" data-address=\"image.fleet[*]\""));
}

/// `graph -plan=FILE` draws a saved plan as DOT, the instance graph with actions.
#[test]
fn graph_of_a_saved_plan_is_dot_with_actions() {
    let work = Work::new();
    work.write("main.snap.hcl", &example("golden-images"));
    let r = work.run(&["plan", "-out=tfplan"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = work.run(&["graph", "-plan=tfplan"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("digraph snapform_plan {"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\"image.golden_dfw\" [label = \"image.golden_dfw\\ncreate\"];"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\"image.golden_dfw\" -> \"data.server.web_dfw\";"),
        "{}",
        r.stdout
    );
    // for_each over a for_each data source (`each.value.id` names the whole block): one bundle
    // node stands for data.server.fleet, between its 3 instances and the 3 schedules.
    let fleet = Work::new();
    fleet.write("main.snap.hcl", &example("weekly-backups"));
    let r = fleet.run(&["plan", "-out=tfplan"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fleet.run(&["graph", "-plan=tfplan"]);
    assert_eq!(r.code, 0, "{r:?}");
    for key in ["web-01", "web-02", "db-01"] {
        for edge in [
            format!("\"data.server.fleet[*]\" -> \"data.server.fleet[\\\"{key}\\\"]\";"),
            format!("\"image_schedule.weekly[\\\"{key}\\\"]\" -> \"data.server.fleet[*]\";"),
        ] {
            assert!(r.stdout.contains(&edge), "{edge}\n{}", r.stdout);
        }
    }
    assert_eq!(r.stdout.matches(" -> ").count(), 6, "{}", r.stdout);

    let r = work.run(&["graph", "-plan=missing"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("cannot read plan"), "{r:?}");
}
