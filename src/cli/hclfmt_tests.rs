//! Unit tests of the HCL formatter: the layout rules, idempotence and what is left alone.

use super::format;

#[test]
fn aligns_indents_and_keeps_comments() {
    let src = "# top comment\nresource   \"image\"  \"a\"{\n    name = \"x\" # the name\n  server_id= data.server.w.id\n\n\tmetadata = {\n  owner = \"ops\"\n      role=\"web\"\n  }\n  /* block\n   comment */\n}\n\n\n";
    let want = "# top comment\nresource \"image\" \"a\" {\n  name      = \"x\" # the name\n  server_id = data.server.w.id\n\n  metadata = {\n    owner = \"ops\"\n    role  = \"web\"\n  }\n  /* block\n   comment */\n}\n";
    assert_eq!(format(src).unwrap(), want);
    assert_eq!(format(want).unwrap(), want, "idempotent");
}

#[test]
fn heredocs_strings_and_operators_are_left_alone() {
    let src = "locals {\n  a = <<EOF\n   keep   this\n  x = 1\nEOF\n  b = \"${var.x == \"}\" ? \"{\" : \"]\"}\"\n  c = var.n >= 2 && var.m != 3\n  long_name = {for k, v in var.m : k => v}\n}\n";
    let want = "locals {\n  a = <<EOF\n   keep   this\n  x = 1\nEOF\n  b         = \"${var.x == \"}\" ? \"{\" : \"]\"}\"\n  c         = var.n >= 2 && var.m != 3\n  long_name = {for k, v in var.m : k => v}\n}\n";
    assert_eq!(format(src).unwrap(), want);
    assert_eq!(format(want).unwrap(), want);
}

#[test]
fn nested_openers_indent_one_level() {
    let src = "locals {\nx = merge({\na = 1\n}, var.m)\ny = [\n1,\n2,\n]\n}\n";
    let want = "locals {\n  x = merge({\n    a = 1\n  }, var.m)\n  y = [\n    1,\n    2,\n  ]\n}\n";
    assert_eq!(format(src).unwrap(), want);
}

#[test]
fn syntax_errors_are_refused() {
    assert!(format("resource \"image\" \"x\" {\n  name = \n}\n").is_err());
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(format("").unwrap(), "");
    assert_eq!(format("\n\n").unwrap(), "");
    assert_eq!(format("  # only\n").unwrap(), "# only\n");
}

#[test]
fn trailing_comments_align_within_a_group() {
    let src = "locals {\n  a = 1 # one\n  long_name = 2   // two\n\n  b = 3    # alone\n}\n";
    let want = "locals {\n  a         = 1 # one\n  long_name = 2 // two\n\n  b = 3 # alone\n}\n";
    assert_eq!(format(src).unwrap(), want);
}

#[test]
fn crlf_single_line_blocks_and_indented_heredocs() {
    let src = "data \"server\" \"w\" { name = \"web-01\" }\r\nlocals {\r\n    s = <<-EOT\r\n      kept\r\n    EOT\r\n}\r\n";
    let want = "data \"server\" \"w\" { name = \"web-01\" }\nlocals {\n  s = <<-EOT\n      kept\n    EOT\n}\n";
    assert_eq!(format(src).unwrap(), want);
    assert_eq!(format(want).unwrap(), want);
}

#[test]
fn multi_line_comments_and_blank_lines_stay() {
    let src = "/*\n   header\n*/\n\n\nvariable \"r\" {\n      /* inline */ default = 7\n}\n";
    let want = "/*\n   header\n*/\n\n\nvariable \"r\" {\n  /* inline */ default = 7\n}\n";
    assert_eq!(format(src).unwrap(), want);
}

#[test]
fn block_headers_with_odd_labels_are_left_as_written() {
    // An escaped label is not re-spaced (only plain identifiers and plain strings are).
    let src = "resource \"image\"   \"a\\\"b\" {\n}\n";
    assert_eq!(format(src).unwrap(), src);
}

/// Every example in the repository formats to a fixed point in one pass.
#[test]
fn repository_examples_reach_a_fixed_point() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts =
        vec![std::fs::read_to_string(root.join("examples/quickstart/main.snap.hcl")).unwrap()];
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for block in readme.split("```hcl\n").skip(1) {
        texts.push(block.split("```").next().unwrap().to_string());
    }
    for t in texts {
        let once = format(&t).unwrap();
        assert_eq!(format(&once).unwrap(), once, "not idempotent for:\n{t}");
    }
}

mod props {
    //! fmt → parse → same meaning, for generated configurations written with any spacing:
    //! formatting succeeds, the formatted text parses to the same body, and formatting it
    //! again changes nothing.
    use super::format;
    use proptest::prelude::*;

    fn ident() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9_]{0,6}".prop_map(String::from)
    }

    fn pad() -> impl Strategy<Value = String> {
        prop_oneof![Just(""), Just(" "), Just("   "), Just("\t")].prop_map(String::from)
    }

    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            (0u32..100000).prop_map(|n| n.to_string()),
            "[a-zA-Z0-9 _.-]{0,10}".prop_map(|s| format!("\"{s}\"")),
            Just("true".to_string()),
            Just("null".to_string()),
            ident().prop_map(|i| format!("var.{i}")),
            (ident(), ident()).prop_map(|(a, b)| format!("\"${{var.{a}}}-{b}\"")),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec((ident(), inner.clone()), 0..3).prop_map(|kv| {
                    let body: Vec<String> = kv.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    format!("{{ {} }}", body.join(", "))
                }),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("max({a}, {b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("var.flag ? {a} : {b}")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("({a} == {b})")),
            ]
        })
    }

    /// One line of a body: an attribute with random spacing, a comment or a blank line.
    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => (pad(), ident(), pad(), pad(), value(), prop::option::of("[a-z ]{0,8}"))
                .prop_map(|(i, k, a, b, v, c)| match c {
                    Some(c) => format!("{i}{k}{a}={b}{v} # {c}"),
                    None => format!("{i}{k}{a}={b}{v}"),
                }),
            1 => (pad(), "[a-z ]{0,12}").prop_map(|(i, c)| format!("{i}# {c}")),
            1 => Just(String::new()),
        ]
    }

    fn block(depth: u32) -> BoxedStrategy<String> {
        let lines = prop::collection::vec(line(), 0..5);
        let header = (pad(), ident(), prop::option::of("[a-z0-9-]{1,6}"), pad());
        if depth == 0 {
            (header, lines)
                .prop_map(|((i, t, l, p), ls)| render(&i, &t, l, &p, &ls, &[]))
                .boxed()
        } else {
            (header, lines, prop::collection::vec(block(depth - 1), 0..3))
                .prop_map(|((i, t, l, p), ls, inner)| render(&i, &t, l, &p, &ls, &inner))
                .boxed()
        }
    }

    fn render(
        indent: &str,
        ty: &str,
        label: Option<String>,
        pad: &str,
        lines: &[String],
        inner: &[String],
    ) -> String {
        let label = label.map(|l| format!(" \"{l}\"")).unwrap_or_default();
        let mut out = format!("{indent}{ty}{label}{pad} {{\n");
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
        for b in inner {
            out.push_str(b);
        }
        out.push_str(&format!("{indent}}}\n"));
        out
    }

    fn file() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(line(), 0..4),
            prop::collection::vec(block(2), 0..4),
        )
            .prop_map(|(top, blocks)| {
                let mut s = String::new();
                for l in top {
                    s.push_str(&l);
                    s.push('\n');
                }
                for b in blocks {
                    s.push_str(&b);
                }
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn fmt_keeps_the_meaning_and_is_idempotent(src in file()) {
            let parsed = hcl::parse(&src);
            prop_assume!(parsed.is_ok());
            let once = format(&src).map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
            prop_assert_eq!(hcl::parse(&once).ok(), parsed.ok(), "meaning changed:\n{}\n---\n{}", src, once);
            let twice = format(&once).map_err(TestCaseError::fail)?;
            prop_assert_eq!(twice, once);
        }
    }
}
