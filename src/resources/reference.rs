//! The reference pages in `docs/reference/`, generated from the units themselves: each kind's
//! schema (types, required / optional / computed, what forces replacement, defaults, the text
//! of every attribute) and its description and example (`docs()`). A test fails when the
//! committed pages differ from what this generates; `SNAPFORM_BLESS=1 cargo test --lib
//! reference` rewrites them.

use super::{DATA_SOURCES, RESOURCES};
use crate::config::schema::{Attr, Schema};

/// Every page: its file name under docs/reference/ and its text.
pub fn pages() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in RESOURCES {
        let (about, example) = r.docs();
        let forces = |a: &Attr| match (
            a.forces_new || r.replaces_on(a.name, true),
            r.replaces_on(a.name, false),
        ) {
            (true, _) => "yes",
            (false, true) => "without the Image API v2",
            (false, false) => "",
        };
        out.push((
            format!("{}.md", r.name()),
            page(
                &format!("resource \"{}\"", r.name()),
                r.schema(),
                about,
                example,
                Some(&forces),
            ),
        ));
    }
    for d in DATA_SOURCES {
        let (about, example) = d.docs();
        out.push((
            format!("data-{}.md", d.name()),
            page(
                &format!("data \"{}\"", d.name()),
                d.schema(),
                about,
                example,
                None,
            ),
        ));
    }
    out.push(("README.md".into(), index()));
    out
}

fn index() -> String {
    let mut s = String::from(
        "# Reference\n\n<!-- Generated from the schemas in src/resources/ by src/resources/reference.rs; do not edit. -->\n\n\
         Every resource and data source, generated from the schemas the code checks\n\
         configuration against. The language itself (blocks, expressions, `count` and\n\
         `for_each`, `lifecycle`, providers) is in [configuration.md](../configuration.md).\n\n## Resources\n\n",
    );
    for r in RESOURCES {
        s.push_str(&format!(
            "- [`{}`]({}.md): {}\n",
            r.name(),
            r.name(),
            first_sentence(r.docs().0)
        ));
    }
    s.push_str("\n## Data sources\n\n");
    for d in DATA_SOURCES {
        s.push_str(&format!(
            "- [`{}`](data-{}.md): {}\n",
            d.name(),
            d.name(),
            first_sentence(d.docs().0)
        ));
    }
    s
}

fn first_sentence(s: &str) -> &str {
    match s.find(". ") {
        Some(i) => &s[..=i],
        None => s,
    }
}

type Forces<'a> = &'a dyn Fn(&Attr) -> &'static str;

fn page(title: &str, sch: &Schema, about: &str, example: &str, forces: Option<Forces>) -> String {
    let mut s = format!(
        "# `{title}`\n\n<!-- Generated from src/resources/ by src/resources/reference.rs; do not edit. -->\n\n{about}\n\n## Example\n\n```hcl\n{example}\n```\n\n## Arguments\n\n"
    );
    let args: Vec<&Attr> = sch.attrs.iter().filter(|a| !a.computed).collect();
    let header = match forces {
        Some(_) => {
            "| name | type | required | default | forces replacement | description |\n|---|---|---|---|---|---|\n"
        }
        None => "| name | type | required | default | description |\n|---|---|---|---|---|\n",
    };
    s.push_str(header);
    for a in &args {
        let default = if a.default.is_empty() {
            String::new()
        } else {
            format!("`{}`", a.default)
        };
        let req = if a.required { "yes" } else { "no" };
        match forces {
            Some(f) => s.push_str(&format!(
                "| `{}` | {} | {req} | {default} | {} | {} |\n",
                a.name,
                a.ty.name(),
                f(a),
                cell(a.doc)
            )),
            None => s.push_str(&format!(
                "| `{}` | {} | {req} | {default} | {} |\n",
                a.name,
                a.ty.name(),
                cell(a.doc)
            )),
        }
    }
    for b in sch.blocks {
        s.push_str(&format!("\n### Block `{}`\n\n", b.name));
        s.push_str("| name | type | default | description |\n|---|---|---|---|\n");
        for a in b.attrs {
            let default = if a.default.is_empty() {
                String::new()
            } else {
                format!("`{}`", a.default)
            };
            s.push_str(&format!(
                "| `{}` | {} | {default} | {} |\n",
                a.name,
                a.ty.name(),
                cell(a.doc)
            ));
        }
    }
    let computed: Vec<&Attr> = sch.attrs.iter().filter(|a| a.computed).collect();
    if !computed.is_empty() {
        s.push_str("\n## Attributes (computed)\n\nSet by the cloud; read them as `");
        s.push_str(&format!(
            "{}.NAME.ATTR`. They cannot be written in configuration.\n\n",
            title
                .replace("resource \"", "")
                .replace("data \"", "data.")
                .replace('"', "")
        ));
        s.push_str("| name | type | description |\n|---|---|---|\n");
        for a in computed {
            s.push_str(&format!(
                "| `{}` | {} | {} |\n",
                a.name,
                a.ty.name(),
                cell(a.doc)
            ));
        }
    }
    s
}

/// Text for a table cell: no line breaks, no bare `|`.
fn cell(s: &str) -> String {
    s.replace('\n', " ").replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use std::path::Path;

    /// The committed pages are what the schemas generate.
    #[test]
    fn reference_pages_match_the_schemas() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference");
        let bless = std::env::var_os("SNAPFORM_BLESS").is_some();
        let mut stale = Vec::new();
        let generated = pages();
        for (name, text) in &generated {
            let path = dir.join(name);
            if bless {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, text).unwrap();
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(name.clone());
            }
        }
        let mut extra: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !generated.iter().any(|(g, _)| g == n))
                    .collect()
            })
            .unwrap_or_default();
        extra.sort();
        assert!(
            stale.is_empty() && extra.is_empty(),
            "docs/reference is stale: {stale:?} differ, {extra:?} are not generated; \
             regenerate with SNAPFORM_BLESS=1 cargo test --lib reference"
        );
    }

    /// Every attribute has its text and every kind its description and example, and a
    /// resource's documented default is the value an unset argument plans as.
    #[test]
    fn every_attribute_is_documented_and_defaults_are_true() {
        let mut missing = Vec::new();
        let mut check = |kind: &str, sch: &Schema, about: &str, example: &str| {
            if about.is_empty() || example.is_empty() {
                missing.push(format!("{kind}: description or example"));
            }
            if let Err(e) = hcl::parse(example) {
                missing.push(format!("{kind}: the example does not parse: {e}"));
            }
            for a in sch
                .attrs
                .iter()
                .chain(sch.blocks.iter().flat_map(|b| b.attrs))
            {
                if a.doc.trim().is_empty() {
                    missing.push(format!("{kind}.{}", a.name));
                }
            }
        };
        for r in RESOURCES {
            let (about, example) = r.docs();
            check(r.name(), r.schema(), about, example);
            for a in r.schema().attrs.iter().filter(|a| !a.computed) {
                let planned = match r.normalized(a.name, None) {
                    Value::Null => String::new(),
                    v => v.to_string(),
                };
                assert_eq!(
                    planned,
                    a.default,
                    "{}.{}: the documented default is what an unset argument plans as",
                    r.name(),
                    a.name
                );
            }
        }
        for d in DATA_SOURCES {
            let (about, example) = d.docs();
            check(d.name(), d.schema(), about, example);
        }
        assert!(missing.is_empty(), "undocumented: {missing:?}");
    }
}
