//! The documentation that ships with the binary and the repository: the manual pages
//! (`snapform man`), the completion scripts, and every relative link in README.md and docs/
//! pointing at a file that exists.

mod cli_support;

use cli_support::Work;
use std::path::{Path, PathBuf};

fn subcommands() -> Vec<String> {
    let w = Work::new();
    let r = w.run(&["--help"]);
    assert_eq!(r.code, 0, "{r:?}");
    let mut out = Vec::new();
    let mut in_list = false;
    for line in r.stdout.lines() {
        if line.starts_with("Commands:") {
            in_list = true;
            continue;
        }
        if in_list {
            let Some(name) = line
                .strip_prefix("  ")
                .and_then(|l| l.split_whitespace().next())
            else {
                break;
            };
            if name != "help" {
                out.push(name.to_string());
            }
        }
    }
    assert!(out.len() > 10, "{out:?}");
    out
}

#[test]
fn man_page_lists_every_command_and_renders() {
    let w = Work::new();
    let r = w.run(&["man"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(".TH snapform 1"), "{}", r.stdout);
    for c in subcommands() {
        assert!(
            r.stdout
                .contains(&format!("snapform\\-{}(1)", c.replace('-', "\\-"))),
            "man page lists {c}"
        );
    }
    // One page per command, each with its options and examples.
    let r = w.run(&["man", "-out-dir=man1"]);
    assert_eq!(r.code, 0, "{r:?}");
    for c in subcommands() {
        let page = w.path().join(format!("man1/snapform-{c}.1"));
        let text = std::fs::read_to_string(&page).unwrap_or_else(|_| panic!("{page:?}"));
        assert!(text.contains(&format!(".TH snapform-{c} 1")), "{c}");
    }
    let plan = std::fs::read_to_string(w.path().join("man1/snapform-plan.1")).unwrap();
    assert!(plan.contains("detailed\\-exitcode") && plan.contains("Examples"));
    // Rendered by man(1) where it is installed.
    if let Ok(o) = std::process::Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(w.path().join("man1/snapform-graph.1"))
        .env("MANWIDTH", "100")
        .output()
        && o.status.success()
    {
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("snapform-graph"), "{text}");
        assert!(text.contains("--html"), "{text}");
    } else {
        eprintln!("SKIPPED: rendering with man(1): man is not installed");
    }
}

#[test]
fn completions_know_every_command() {
    let w = Work::new();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let r = w.run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {r:?}");
        for c in subcommands() {
            assert!(r.stdout.contains(&c), "{shell} completes {c}");
        }
    }
    // The bash script is valid bash.
    let r = w.run(&["completions", "bash"]);
    std::fs::write(w.path().join("c.bash"), &r.stdout).unwrap();
    let o = std::process::Command::new("bash")
        .arg("-n")
        .arg(w.path().join("c.bash"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            markdown_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
}

/// `[text](target)` links in `text`, without the `#anchor`.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            let Some(end) = rest.find(')') else { break };
            out.push(rest[..end].split('#').next().unwrap_or("").to_string());
            rest = &rest[end..];
        }
    }
    out
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![
        root.join("README.md"),
        root.join("ARCHITECTURE.md"),
        root.join("CONTRIBUTING.md"),
    ];
    markdown_files(&root.join("docs"), &mut files);
    let mut broken = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for l in links(&text) {
            if l.is_empty() || l.contains("://") || l.starts_with("mailto:") {
                continue;
            }
            let target = f.parent().unwrap().join(&l);
            if !target.exists() {
                broken.push(format!("{}: {l}", f.strip_prefix(root).unwrap().display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links: {broken:#?}");
}
