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
