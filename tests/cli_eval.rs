//! The evaluation matrix, end to end through the binary against `snapform sandbox serve`:
//! every instance mode (single, `count`, `for_each` over a variable, `for_each` over a data
//! source) × every value source (literal, variable, sensitive variable, local, local of a local,
//! function of a local, data source attribute, attribute of a resource created in the same run)
//! × {plan, apply, second plan, destroy}. Each cell checks the exit codes and reads back, with
//! plain HTTP, the values that reached the cloud: a metadata value per instance on an image and
//! a schedule per instance whose retention is the value's length.

mod cli_support;

use cli_support::{Api, ServedSandbox, Work};
use std::sync::{Arc, Mutex};

const SECRET: &str = "Zq7-distinctive-secret-9Xw";

#[derive(Clone, Copy, Debug)]
enum Mode {
    Single,
    Count,
    ForEachVar,
    ForEachData,
}

const SOURCES: &[(&str, &str)] = &[
    ("literal", "\"lit\""),
    ("variable", "var.v"),
    ("sensitive variable", "var.s"),
    ("local", "local.l"),
    ("local of a local", "local.ll"),
    ("function of a local", "upper(local.l)"),
    ("data source attribute", "data.server.web.name"),
    ("resource created in the same run", "image.src.id"),
];

impl Mode {
    /// Meta-argument, the key expression, the server of each instance, and the instance keys.
    fn parts(
        self,
    ) -> (
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    ) {
        match self {
            Mode::Single => ("", "\"one\"", "data.server.web.id", &["one"]),
            Mode::Count => (
                "count = 2",
                "\"c${count.index}\"",
                "data.server.pool[count.index].id",
                &["c0", "c1"],
            ),
            Mode::ForEachVar => (
                "for_each = var.keys",
                "each.key",
                "data.server.byname[each.key].id",
                &["a", "b"],
            ),
            Mode::ForEachData => (
                "for_each = data.server.fleet",
                "each.key",
                "each.value.id",
                &["web-01", "web-02"],
            ),
        }
    }
}

fn config(sb: &ServedSandbox, mode: Mode, source: &str) -> String {
    let (meta, key, server, _) = mode.parts();
    format!(
        r#"{provider}
variable "v" {{
  default = "from-var"
}}
variable "s" {{
  type      = string
  sensitive = true
}}
variable "keys" {{
  type    = set(string)
  default = ["a", "b"]
}}
variable "servers" {{
  type    = map(string)
  default = {{ a = "web-01", b = "web-02" }}
}}
locals {{
  l  = "from-local"
  ll = "${{local.l}}-2"
}}
data "server" "web" {{
  name = "web-01"
}}
data "server" "pool" {{
  count = 2
  name  = ["web-01", "web-02"][count.index]
}}
data "server" "byname" {{
  for_each = var.servers
  name     = each.value
}}
data "server" "fleet" {{
  for_each = toset(["web-01", "web-02"])
  name     = each.key
}}
data "image" "golden" {{
  name = "web-01-golden"
}}
resource "image" "src" {{
  server_id = data.server.web.id
  name      = "src-image"
}}
resource "image_metadata" "cell" {{
  {meta}
  image_id = data.image.golden.id
  metadata = {{ "v-${{{key}}}" = {source} }}
}}
resource "image_schedule" "cell" {{
  {meta}
  server_id = {server}
  retention = length({source})
}}
"#,
        provider = sb.provider_block()
    )
}

/// What `source` evaluates to in the cloud; `src` is the id of `image.src`.
fn expected(source: &str, src: &str) -> String {
    match source {
        "\"lit\"" => "lit".into(),
        "var.v" => "from-var".into(),
        "var.s" => SECRET.into(),
        "local.l" => "from-local".into(),
        "local.ll" => "from-local-2".into(),
        "upper(local.l)" => "FROM-LOCAL".into(),
        "data.server.web.name" => "web-01".into(),
        "image.src.id" => src.into(),
        other => panic!("no expectation for {other}"),
    }
}

/// One cell: plan, apply, plan, destroy, with the cloud read back after apply and destroy.
fn cell(mode: Mode, name: &str, source: &str) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let sb = ServedSandbox::start(&["--snapshot-seconds", "0.1"]);
    let api = rt.block_on(Api::login(&sb.url, "DFW"));
    let work = Work::new();
    work.write("main.snap.hcl", &config(&sb, mode, source));
    let env = [("SNAPFORM_VAR_s", SECRET)];
    let what = |cmd: &str| format!("{mode:?} × {name} × {cmd}");
    let check = |cmd: &str, args: &[&str], code: i32| -> Result<(), String> {
        let r = work.run_env(args, &env);
        if r.code != code {
            return Err(format!("{}: expected exit {code}\n{r:?}", what(cmd)));
        }
        if r.stdout.contains(SECRET) || r.stderr.contains(SECRET) {
            return Err(format!(
                "{}: the sensitive value was printed\n{r:?}",
                what(cmd)
            ));
        }
        Ok(())
    };
    check("plan", &["plan", "--detailed-exitcode"], 2)?;
    check("apply", &["apply", "--auto-approve"], 0)?;

    // Read back what reached the cloud.
    let (_, golden) = rt.block_on(api.get("/images/detail?name=web-01-golden"));
    let golden_id = golden["images"][0]["id"].as_str().unwrap().to_string();
    let (_, md) = rt.block_on(api.get(&format!("/images/{golden_id}/metadata")));
    let (_, srcs) = rt.block_on(api.get("/images/detail?name=src-image"));
    let src_id = srcs["images"][0]["id"].as_str().unwrap_or("").to_string();
    let want = expected(source, &src_id);
    let (_, _, _, keys) = mode.parts();
    for k in keys {
        let got = &md["metadata"][format!("v-{k}")];
        if got != want.as_str() {
            return Err(format!(
                "{}: metadata v-{k} is {got}, expected {want:?}",
                what("apply")
            ));
        }
    }
    let servers: &[&str] = match mode {
        Mode::Single => &["web-01"],
        _ => &["web-01", "web-02"],
    };
    let mut server_ids = Vec::new();
    for s in servers {
        let (_, list) = rt.block_on(api.get(&format!("/servers/detail?name={s}")));
        let id = list["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == *s)
            .and_then(|x| x["id"].as_str())
            .unwrap()
            .to_string();
        let (st, sched) = rt.block_on(api.get(&format!("/servers/{id}/rax-si-image-schedule")));
        let retention = sched["image_schedule"]["retention"].as_u64();
        if st != 200 || retention != Some(want.chars().count() as u64) {
            return Err(format!(
                "{}: the schedule of {s} is {st} {sched}, expected retention {}",
                what("apply"),
                want.chars().count()
            ));
        }
        server_ids.push(id);
    }
    if let Some(state) = work.state()
        && source == "var.s"
        && !state.contains(SECRET)
    {
        return Err(format!(
            "{}: state does not hold the sensitive value",
            what("apply")
        ));
    }

    check("second plan", &["plan", "--detailed-exitcode"], 0)?;
    check("destroy", &["destroy", "--auto-approve"], 0)?;
    let (_, md) = rt.block_on(api.get(&format!("/images/{golden_id}/metadata")));
    for k in keys {
        if !md["metadata"][format!("v-{k}")].is_null() {
            return Err(format!(
                "{}: metadata v-{k} is still there",
                what("destroy")
            ));
        }
    }
    for id in &server_ids {
        let (st, _) = rt.block_on(api.get(&format!("/servers/{id}/rax-si-image-schedule")));
        if st != 404 {
            return Err(format!(
                "{}: a schedule is still there ({st})",
                what("destroy")
            ));
        }
    }
    let (_, srcs) = rt.block_on(api.get("/images/detail?name=src-image"));
    if !srcs["images"].as_array().is_some_and(Vec::is_empty) {
        return Err(format!("{}: image.src is still there", what("destroy")));
    }
    Ok(())
}

/// Runs every value source of one mode, four cells at a time; reports every failing cell.
fn mode(m: Mode) {
    let queue = Arc::new(Mutex::new(SOURCES.to_vec()));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            let failures = failures.clone();
            std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap().pop();
                    let Some((name, source)) = next else { break };
                    if let Err(e) = cell(m, name, source) {
                        failures.lock().unwrap().push(e);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a cell panicked");
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failing cells:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn matrix_single() {
    mode(Mode::Single);
}

#[test]
fn matrix_count() {
    mode(Mode::Count);
}

#[test]
fn matrix_for_each_over_a_variable() {
    mode(Mode::ForEachVar);
}

#[test]
fn matrix_for_each_over_a_data_source() {
    mode(Mode::ForEachData);
}
