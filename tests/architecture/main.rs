//! Mechanical checks of the invariants in ARCHITECTURE.md. They read the code with `syn`
//! (`modgraph.rs`): paths are resolved through imports, groups, renames and re-exports, so a
//! check cannot be passed by spelling a path differently. The checks are themselves tested
//! against small in-memory crates that break each rule.

mod modgraph;

use modgraph::{Crate, Target};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn krate() -> Crate {
    Crate::load(Path::new(env!("CARGO_MANIFEST_DIR")), "snapform")
}

/// A violation: file and what it does.
type Findings = Vec<String>;

/// Files under `dirs` that reach an external path starting with one of `banned`
/// (`std::fs`, `tokio`).
fn reaches_external(c: &Crate, dirs: &[&str], banned: &[&str]) -> Findings {
    let mut out = Vec::new();
    for dir in dirs {
        for (i, f) in c.under(dir) {
            for p in c.external(i) {
                if banned
                    .iter()
                    .any(|b| p == *b || p.starts_with(&format!("{b}::")))
                {
                    out.push(format!("{} uses {p}", f.path.display()));
                }
            }
        }
    }
    out
}

/// Files under `dirs` that invoke one of `macros` (by last path segment).
fn invokes(c: &Crate, dirs: &[&str], macros: &[&str]) -> Findings {
    let mut out = Vec::new();
    for dir in dirs {
        for (_, f) in c.under(dir) {
            for (_, m) in &f.macros {
                if m.last().is_some_and(|l| macros.contains(&l.as_str())) {
                    out.push(format!("{} invokes {}!", f.path.display(), m.join("::")));
                }
            }
        }
    }
    out
}

/// Files under `dirs` that reference items defined in files under `targets` (optionally only
/// the named items).
fn references_into(c: &Crate, dirs: &[&str], targets: &[&str], items: &[&str]) -> Findings {
    let mut out = Vec::new();
    for dir in dirs {
        for (i, f) in c.under(dir) {
            for (written, t, _) in c.references(i) {
                let Target::Internal { file, item } = t else {
                    continue;
                };
                let target = &c.files[file];
                if file == i || target.test_only {
                    continue;
                }
                let hit = targets.iter().any(|p| target.path.starts_with(p))
                    && (items.is_empty() || items.contains(&item.as_str()));
                if hit {
                    out.push(format!(
                        "{} refers to {} in {}",
                        f.path.display(),
                        written.join("::"),
                        target.path.display()
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Cycles of file-to-file imports, each as the list of its files.
fn cycles(c: &Crate) -> Vec<Vec<String>> {
    let mut g = petgraph::graph::DiGraph::<usize, ()>::new();
    let nodes: Vec<_> = (0..c.files.len()).map(|i| g.add_node(i)).collect();
    for (a, b) in c.edges() {
        g.add_edge(nodes[a], nodes[b], ());
    }
    petgraph::algo::tarjan_scc(&g)
        .into_iter()
        .filter(|scc| scc.len() > 1)
        .map(|scc| {
            let mut names: Vec<String> = scc.iter().map(|n| c.name_of(g[*n])).collect();
            names.sort();
            names
        })
        .collect()
}

#[track_caller]
fn assert_clean(findings: Findings, why: &str) {
    assert!(findings.is_empty(), "{why}:\n  {}", findings.join("\n  "));
}

const PURE: &[&str] = &[
    "src/config",
    "src/plan",
    "src/graph",
    "src/value.rs",
    "src/addr.rs",
];
const IO: &[&str] = &[
    "std::fs",
    "std::net",
    "std::env",
    "std::process",
    "std::io::stdin",
    "std::io::stdout",
    "std::io::stderr",
    "tokio",
    "reqwest",
    "axum",
    "tokio_postgres",
];
const PRINTS: &[&str] = &["println", "eprintln", "print", "eprint", "dbg"];
const CLOCK: &[&str] = &[
    "std::time::Instant",
    "std::time::SystemTime",
    "chrono::Utc::now",
    "chrono::Local",
    "rand",
    "std::collections::HashMap",
    "std::collections::HashSet",
    "uuid::Uuid::new_v4",
];

fn pure_layers_do_no_io(c: &Crate) -> Findings {
    let mut f = reaches_external(c, PURE, IO);
    f.extend(invokes(c, PURE, PRINTS));
    f
}

#[test]
fn config_plan_graph_do_no_io_and_know_no_tokio_or_reqwest() {
    assert_clean(
        pure_layers_do_no_io(&krate()),
        "config, plan and graph are pure",
    );
}

#[test]
fn the_planner_is_deterministic() {
    assert_clean(
        reaches_external(&krate(), &["src/plan", "src/graph"], CLOCK),
        "plan::plan must be a pure, deterministic function",
    );
}

#[test]
fn only_the_provider_speaks_http_to_a_cloud() {
    let c = krate();
    let mut dirs: Vec<&str> = Vec::new();
    for f in &c.files {
        let p = f.path.to_string_lossy().to_string();
        if !p.starts_with("src/provider") && p != "src/state/http.rs" {
            dirs.push(Box::leak(p.into_boxed_str()));
        }
    }
    assert_clean(
        reaches_external(&c, &dirs, &["reqwest"]),
        "only the provider (and the http state backend) speaks HTTP as a client",
    );
}

#[test]
fn sandbox_and_provider_share_no_code() {
    let c = krate();
    let mut f = references_into(&c, &["src/sandbox"], &["src/provider"], &[]);
    f.extend(references_into(
        &c,
        &["src/provider"],
        &["src/sandbox"],
        &[],
    ));
    assert_clean(
        f,
        "the sandbox and the provider check each other, so they share no code",
    );
}

#[test]
fn only_the_cli_prints() {
    let c = krate();
    let dirs: Vec<&str> = c
        .files
        .iter()
        .filter(|f| !f.path.starts_with("src/cli") && !f.path.starts_with("src/main.rs"))
        .map(|f| &*Box::leak(f.path.to_string_lossy().to_string().into_boxed_str()))
        .collect();
    assert_clean(invokes(&c, &dirs, PRINTS), "only the CLI prints");
    assert_clean(
        reaches_external(
            &c,
            &dirs,
            &["std::process::exit", "std::io::stdout", "std::io::stderr"],
        ),
        "only the CLI writes to the terminal or exits",
    );
}

#[test]
fn only_the_graph_evaluator_evaluates_configuration() {
    let c = krate();
    let others: Vec<&str> = c
        .files
        .iter()
        .filter(|f| !f.path.starts_with("src/config") && !f.path.starts_with("src/graph"))
        .map(|f| &*Box::leak(f.path.to_string_lossy().to_string().into_boxed_str()))
        .collect();
    assert_clean(
        references_into(&c, &others, &["src/config/eval"], &[]),
        "every expression is evaluated by graph::Evaluator, the same for every command",
    );
}

#[test]
fn apply_does_not_plan() {
    assert_clean(
        references_into(&krate(), &["src/apply"], &["src/plan/mod.rs"], &["plan"]),
        "apply only follows the plan",
    );
}

#[test]
fn no_import_cycles_between_files() {
    let cs = cycles(&krate());
    assert!(
        cs.is_empty(),
        "files that import each other in a circle:\n  {}",
        cs.iter()
            .map(|c| c.join(" ↔ "))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

#[test]
fn every_file_says_what_it_is() {
    for f in &krate().files {
        assert!(
            f.text.starts_with("//!"),
            "{} must start with a //! line saying what it is",
            f.path.display()
        );
    }
}

#[test]
fn architecture_md_describes_every_module() {
    let c = krate();
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .unwrap();
    let mut modules: BTreeSet<String> = BTreeSet::new();
    for f in c.files.iter().filter(|f| !f.test_only) {
        let p = f.path.to_string_lossy();
        let parts: Vec<&str> = p.split('/').collect();
        let m = match parts.as_slice() {
            ["src", file] if *file != "lib.rs" => format!("src/{file}"),
            ["src", dir, _, ..] => format!("src/{dir}/"),
            _ => continue,
        };
        modules.insert(m);
    }
    let missing: Vec<&String> = modules
        .iter()
        .filter(|m| !doc.contains(&format!("### `{m}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md has no code-map section (### `src/…`) for: {missing:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The checks checked: each rule fails on a small crate that breaks it.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_io_check_sees_through_groups_renames_and_qualified_paths() {
    for (lib, plan) in [
        (
            "pub mod plan;",
            "//! p\nuse std::{fs};\npub fn f() { let _ = fs::read(\"x\"); }\n",
        ),
        (
            "pub mod plan;",
            "//! p\nuse std::fs as f;\npub fn g() { let _ = f::read(\"x\"); }\n",
        ),
        (
            "pub mod plan;",
            "//! p\npub fn g() { let _ = std::fs::read(\"x\"); }\n",
        ),
        (
            "pub mod plan;",
            "//! p\nuse std::{io::{self}, fs::File};\npub fn g() -> Option<File> { None }\n",
        ),
        ("pub mod plan;", "//! p\npub fn g() { println!(\"x\"); }\n"),
        (
            "pub mod plan;",
            "//! p\npub async fn g() { tokio::task::yield_now().await }\n",
        ),
    ] {
        let c = Crate::from_sources(&[("src/lib.rs", lib), ("src/plan/mod.rs", plan)]);
        assert!(
            !pure_layers_do_no_io(&c).is_empty(),
            "the check missed I/O in:\n{plan}"
        );
    }
    let clean = Crate::from_sources(&[
        ("src/lib.rs", "pub mod plan;"),
        (
            "src/plan/mod.rs",
            "//! p\nuse std::collections::BTreeMap;\npub fn f() -> BTreeMap<u8, u8> { BTreeMap::new() }\n",
        ),
    ]);
    assert_clean(pure_layers_do_no_io(&clean), "a pure module was flagged");
}

#[test]
fn the_cycle_check_finds_cycles_through_re_exports() {
    let c = Crate::from_sources(&[
        ("src/lib.rs", "pub mod a;\npub mod b;"),
        (
            "src/a.rs",
            "//! a\npub struct A;\npub fn f(_: crate::b::B) {}\n",
        ),
        ("src/b/mod.rs", "//! b\nmod inner;\npub use inner::B;\n"),
        ("src/b/inner.rs", "//! i\npub struct B(pub crate::a::A);\n"),
    ]);
    let cs = cycles(&c);
    assert_eq!(
        cs,
        [vec!["src/a.rs".to_string(), "src/b/inner.rs".to_string()]]
    );
    // A parent that only re-exports its child is no cycle.
    let c = Crate::from_sources(&[
        ("src/lib.rs", "pub mod b;"),
        (
            "src/b/mod.rs",
            "//! b\nmod inner;\npub use inner::B;\npub struct Shared;\n",
        ),
        (
            "src/b/inner.rs",
            "//! i\npub struct B(pub super::Shared);\n",
        ),
    ]);
    assert!(cycles(&c).is_empty());
}

#[test]
fn the_reference_check_follows_re_exports_to_the_defining_file() {
    let c = Crate::from_sources(&[
        ("src/lib.rs", "pub mod provider;\npub mod sandbox;"),
        (
            "src/provider/mod.rs",
            "//! p\nmod wire;\npub use wire::*;\n",
        ),
        ("src/provider/wire.rs", "//! w\npub struct Token;\n"),
        (
            "src/sandbox/mod.rs",
            "//! s\nuse crate::provider::Token as T;\npub fn f(_: T) {}\n",
        ),
    ]);
    assert!(!references_into(&c, &["src/sandbox"], &["src/provider"], &[]).is_empty());
}

#[allow(dead_code)]
fn debug_dump(c: &Crate) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (a, b) in c.edges() {
        out.entry(c.name_of(a))
            .or_insert_with(Vec::new)
            .push(c.name_of(b));
    }
    out
}

/// String literals compared (`==`, `!=`) or matched (`match` arms) in a file, outside tests.
fn compared_strings(text: &str) -> Vec<String> {
    struct V(Vec<String>);
    fn lit(e: &syn::Expr) -> Option<String> {
        match e {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            syn::Expr::Reference(r) => lit(&r.expr),
            syn::Expr::Paren(p) => lit(&p.expr),
            _ => None,
        }
    }
    fn pat(p: &syn::Pat, out: &mut Vec<String>) {
        match p {
            syn::Pat::Lit(syn::PatLit {
                lit: syn::Lit::Str(s),
                ..
            }) => out.push(s.value()),
            syn::Pat::Or(o) => o.cases.iter().for_each(|c| pat(c, out)),
            syn::Pat::Tuple(t) => t.elems.iter().for_each(|c| pat(c, out)),
            syn::Pat::Ident(i) => {
                if let Some((_, sub)) = &i.subpat {
                    pat(sub, out)
                }
            }
            _ => {}
        }
    }
    impl<'a> syn::visit::Visit<'a> for V {
        fn visit_expr_binary(&mut self, b: &'a syn::ExprBinary) {
            if matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) {
                self.0.extend(lit(&b.left));
                self.0.extend(lit(&b.right));
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_arm(&mut self, a: &'a syn::Arm) {
            pat(&a.pat, &mut self.0);
            syn::visit::visit_arm(self, a);
        }
        fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
            let test = m.attrs.iter().any(|a| a.path().is_ident("cfg"));
            if !test {
                syn::visit::visit_item_mod(self, m);
            }
        }
        fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
            let test = f.attrs.iter().any(|a| a.path().is_ident("test"));
            if !test {
                syn::visit::visit_item_fn(self, f);
            }
        }
    }
    let Ok(file) = syn::parse_file(text) else {
        return Vec::new();
    };
    let mut v = V(Vec::new());
    syn::visit::Visit::visit_file(&mut v, &file);
    v.0
}

/// Kind names compared or matched outside the units that own them.
fn kind_dispatch(c: &Crate, kinds: &[&str], allowed: &[&str]) -> Findings {
    let mut out = Vec::new();
    for (_, f) in c.under("src") {
        if allowed.iter().any(|a| f.path.starts_with(a)) {
            continue;
        }
        for s in compared_strings(&f.text) {
            if kinds.contains(&s.as_str()) {
                out.push(format!(
                    "{} compares or matches the kind name \"{s}\"",
                    f.path.display()
                ));
            }
        }
    }
    out
}

#[test]
fn no_kind_strings_outside_the_resource_units() {
    let mut kinds: Vec<&str> = snapform::resources::resource_kinds();
    kinds.extend(snapform::resources::data_kinds());
    assert_clean(
        kind_dispatch(
            &krate(),
            &kinds,
            // The units and their registry; the wire client and the emulator, whose strings are
            // the API's nouns ("image" is a catalog service type), not resource kinds.
            &["src/resources", "src/provider", "src/sandbox"],
        ),
        "what a kind does is asked of its unit in the registry (src/resources), not decided by comparing names",
    );
}

#[test]
fn the_kind_check_sees_matches_and_comparisons() {
    let text = "//! x\nfn f(k: &str) -> u8 { if k == \"image\" { 1 } else { match k { \"image_schedule\" | \"x\" => 2, _ => 3 } } }\n";
    let c = Crate::from_sources(&[("src/lib.rs", "pub mod plan;"), ("src/plan/mod.rs", text)]);
    let f = kind_dispatch(&c, &["image", "image_schedule"], &[]);
    assert_eq!(f.len(), 2, "{f:?}");
}

#[test]
fn the_cli_goes_through_the_engine() {
    let c = krate();
    let mut out = Vec::new();
    for (i, f) in c.under("src/cli") {
        for (written, _, _) in c.references(i) {
            let p = written.join("::");
            let banned = [
                "crate::refresh",
                "crate::apply",
                "crate::provider",
                "crate::resources",
            ]
            .iter()
            .any(|b| p == *b || p.starts_with(&format!("{b}::")))
                || p == "crate::plan::plan"
                || p.starts_with("crate::state::")
                    && !matches!(
                        p.as_str(),
                        "crate::state::State"
                            | "crate::state::ResourceState"
                            | "crate::state::OutputState"
                            | "crate::state::Backend"
                    );
            if banned {
                out.push(format!("{} uses {p}", f.path.display()));
            }
        }
    }
    out.sort();
    out.dedup();
    assert_clean(
        out,
        "the CLI parses arguments, renders and maps errors; planning, refresh, apply, providers and state backends are reached through crate::engine",
    );
}

#[test]
fn benches_use_the_engine() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches");
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap();
        for banned in [
            "snapform::apply::apply(",
            "plan::plan(",
            "apply::apply(",
            "snapform::refresh",
        ] {
            assert!(
                !text.contains(banned),
                "{} calls {banned}: benches measure what users run, through snapform::engine",
                e.path().display()
            );
        }
    }
}

#[test]
fn the_http_state_backend_calls_no_cloud() {
    let c = krate();
    assert_clean(
        references_into(
            &c,
            &["src/state/http.rs"],
            &["src/provider", "src/refresh"],
            &[],
        ),
        "src/state/http.rs speaks only the state protocol",
    );
    let text = &c
        .files
        .iter()
        .find(|f| f.path.ends_with("src/state/http.rs"))
        .unwrap()
        .text;
    for n in ["X-Auth-Token", "/tokens"] {
        assert!(!text.contains(n), "src/state/http.rs mentions {n}");
    }
}

/// `cargo test --test architecture show_cycle_edges -- --ignored --nocapture`: the imports that
/// close each cycle, for whoever has to break one.
#[test]
#[ignore]
fn show_cycle_edges() {
    let c = krate();
    for cycle in cycles(&c) {
        println!("cycle:");
        for (i, f) in c.files.iter().enumerate() {
            let name = c.name_of(i);
            if !cycle.contains(&name) {
                continue;
            }
            for (written, t, facade) in c.references(i) {
                if let Target::Internal { file, item } = t
                    && file != i
                    && !facade
                    && cycle.contains(&c.name_of(file))
                {
                    let _ = &f;
                    println!(
                        "  {name} -> {} ({} / {item})",
                        c.name_of(file),
                        written.join("::")
                    );
                }
            }
        }
    }
}
