//! Property tests of the loaders (configuration, variables, query files): for any damage to a
//! valid configuration — bytes cut out, characters inserted, lines repeated — loading never
//! panics, and every diagnostic it returns points inside the text it names and renders (so the
//! user gets `file:line:column`, never a crash or a place that does not exist).

use proptest::prelude::*;
use snapform::config::vars::VarInputs;
use snapform::config::{SourceFile, Sources};

const BASE: &str = r#"variable "retention" {
  type    = number
  default = 7
  validation {
    condition     = var.retention > 0
    error_message = "must be positive"
  }
}
locals {
  names = ["a", "b"]
  tag   = "golden-${var.retention}"
}
provider "rackspace" {
  sandbox = ".snapform/sandbox"
}
data "server" "web" {
  name = "web-01"
}
resource "image" "g" {
  for_each  = toset(local.names)
  server_id = data.server.web.id
  name      = "${local.tag}-${each.key}"
  metadata  = { owner = "ops", n = length(local.names) }
  lifecycle {
    ignore_changes = [metadata]
  }
}
resource "image_schedule" "s" {
  server_id = data.server.web.id
  retention = var.retention
}
import {
  for_each = { a = "id-a" }
  to       = image.g[each.key]
  id       = each.value
}
list "image" "mine" {
  config {
    server     = data.server.web.id
    name_regex = "^golden"
  }
}
output "ids" {
  value = [for i in image.g : i.id]
}
"#;

#[derive(Debug, Clone)]
enum Damage {
    Cut(usize, usize),
    Insert(usize, String),
    RepeatLine(usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0..BASE.len(), 1usize..40).prop_map(|(a, n)| Damage::Cut(a, n)),
        (0..BASE.len(), "[{}\\[\\]()\"=.,$%#*/\\\\<>~!? a1\n]{1,6}")
            .prop_map(|(a, s)| Damage::Insert(a, s)),
        (0usize..60).prop_map(Damage::RepeatLine),
    ]
}

fn apply(text: &str, d: &Damage) -> String {
    let at = |i: usize| {
        let mut i = i.min(text.len());
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match d {
        Damage::Cut(a, n) => {
            let (a, b) = (at(*a), at(a + n));
            format!("{}{}", &text[..a], &text[b..])
        }
        Damage::Insert(a, s) => {
            let a = at(*a);
            format!("{}{s}{}", &text[..a], &text[a..])
        }
        Damage::RepeatLine(n) => {
            let lines: Vec<&str> = text.lines().collect();
            let k = n % lines.len();
            let mut out: Vec<&str> = lines[..=k].to_vec();
            out.extend(&lines[k..]);
            out.join("\n") + "\n"
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn damaged_configurations_give_diagnostics_inside_the_text(
        ds in proptest::collection::vec(damage(), 1..4)
    ) {
        let mut text = BASE.to_string();
        for d in &ds {
            text = apply(&text, d);
        }
        let sources = Sources::new(vec![
            SourceFile { path: "main.snap.hcl".into(), text: text.clone() },
            SourceFile { path: "prod.snapvars.hcl".into(), text: String::new() },
        ]);
        let dir = tempfile::tempdir().unwrap();
        match snapform::engine::load(dir.path(), sources, &VarInputs::default()) {
            Ok(_) => {}
            Err(snapform::engine::Error::Diagnostics(src, diags)) => {
                prop_assert!(!diags.is_empty());
                for d in &diags {
                    if let Some(span) = &d.span {
                        prop_assert!(span.file < 2, "{d:?}");
                        let len = if span.file == 0 { text.len() } else { 0 };
                        prop_assert!(span.range.start <= span.range.end, "{d:?}");
                        prop_assert!(span.range.end <= len + 1, "{d:?} in {len} bytes");
                    }
                    let shown = d.render(&src);
                    prop_assert!(shown.contains("error") || shown.contains("warning"), "{shown}");
                    if d.span.is_some() {
                        prop_assert!(shown.contains("main.snap.hcl:"), "{shown}");
                    }
                }
            }
            Err(e) => prop_assert!(false, "a configuration mistake is a diagnostic: {e:?}"),
        }
    }

    /// Variable values from the command line: any text gives a value or a message, no panic.
    #[test]
    fn any_var_assignment_parses_or_is_refused(s in "[ -~]{0,40}") {
        let _ = snapform::config::vars::parse_assignment(&s);
    }
}
