//! Mechanical checks of the invariants in ARCHITECTURE.md, by reading the source tree.

use std::path::{Path, PathBuf};

fn files(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    assert!(!out.is_empty(), "no sources under {dir}");
    out
}

/// Source without `#[cfg(test)]` modules and comments, so tests may use what code may not.
fn code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..cut]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Files that their parent module declares under `#[cfg(test)]` (`#[cfg(test)] mod props;`).
fn test_only(all: &[(PathBuf, String)]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (p, text) in all {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for w in lines.windows(2) {
            if w[0] == "#[cfg(test)]"
                && let Some(name) = w[1].strip_prefix("mod ").and_then(|r| r.strip_suffix(';'))
                && let Some(dir) = p.parent()
            {
                out.push(dir.join(format!("{name}.rs")));
            }
        }
    }
    out
}

fn assert_none(dirs: &[&str], needles: &[&str], why: &str) {
    for dir in dirs {
        let all = files(dir);
        let skip = test_only(&all);
        for (p, text) in all.into_iter().filter(|(p, _)| !skip.contains(p)) {
            let c = code(&text);
            for n in needles {
                assert!(!c.contains(n), "{} contains `{n}`: {why}", p.display());
            }
        }
    }
}

#[test]
fn config_plan_graph_do_no_io_and_know_no_tokio_or_reqwest() {
    assert_none(
        &["src/config", "src/plan", "src/graph"],
        &[
            "tokio", "reqwest", "std::fs", "std::net", "std::env", "File::",
        ],
        "config, plan and graph are pure",
    );
}

#[test]
fn the_planner_is_deterministic() {
    assert_none(
        &["src/plan", "src/graph"],
        &[
            "Instant",
            "SystemTime",
            "Utc::now",
            "rand::",
            "HashMap",
            "thread_rng",
        ],
        "plan::plan must be a pure, deterministic function",
    );
}

#[test]
fn only_the_provider_speaks_http_to_a_cloud() {
    for dir in [
        "src/config",
        "src/plan",
        "src/graph",
        "src/apply",
        "src/refresh",
        "src/state",
        "src/cli",
        "src/sandbox",
    ] {
        for (p, text) in files(dir) {
            // The http state backend talks to a state server, not a cloud (ARCHITECTURE.md).
            if p.ends_with("src/state/http.rs") {
                continue;
            }
            assert!(
                !code(&text).contains("reqwest"),
                "{} uses reqwest: only src/provider speaks HTTP to a cloud",
                p.display()
            );
        }
    }
}

#[test]
fn the_http_state_backend_calls_no_cloud() {
    let (_, text) = files("src/state")
        .into_iter()
        .find(|(p, _)| p.ends_with("src/state/http.rs"))
        .expect("src/state/http.rs");
    for n in [
        "crate::provider",
        "crate::refresh",
        "X-Auth-Token",
        "tokens",
    ] {
        assert!(
            !code(&text).contains(n),
            "src/state/http.rs contains `{n}`: it speaks only the state protocol"
        );
    }
}

#[test]
fn the_sandbox_and_the_provider_share_no_code() {
    assert_none(
        &["src/sandbox"],
        &["crate::provider", "super::provider"],
        "the sandbox is its own implementation of the wire format",
    );
    assert_none(
        &["src/provider"],
        &["crate::sandbox", "super::sandbox"],
        "the provider must not lean on the emulator",
    );
}

#[test]
fn only_the_cli_prints_or_exits() {
    for dir in [
        "src/config",
        "src/plan",
        "src/graph",
        "src/apply",
        "src/refresh",
        "src/state",
        "src/provider",
        "src/sandbox",
    ] {
        for (p, text) in files(dir) {
            let c = code(&text);
            for n in [
                "println!",
                "eprintln!",
                "print!(",
                "eprint!(",
                "process::exit",
                "dbg!(",
            ] {
                assert!(
                    !c.contains(n),
                    "{} contains `{n}`: only src/cli prints or exits",
                    p.display()
                );
            }
        }
    }
}

#[test]
fn apply_does_not_plan() {
    assert_none(
        &["src/apply"],
        &["plan::plan(", "kinds::diff"],
        "apply only follows the plan",
    );
}

#[test]
fn every_source_file_says_what_it_is() {
    for (p, text) in files("src") {
        assert!(
            text.starts_with("//!"),
            "{} must start with a //! line saying what it is",
            p.display()
        );
    }
}

#[test]
fn only_the_graph_evaluator_evaluates_configuration() {
    assert_none(
        &[
            "src/plan",
            "src/apply",
            "src/cli",
            "src/refresh",
            "src/state",
            "src/provider",
            "src/sandbox",
        ],
        &["config::eval", "eval::eval(", "eval::Values", "eval_raw("],
        "every expression is evaluated by graph::Evaluator, the same for every command",
    );
}
