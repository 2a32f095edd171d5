//! Tests of the evaluator: references, unknowns (and where they are refined away), sensitive
//! marks, templates, `for` expressions, splats and operators.

use super::*;
use crate::config::{Span, refs};

fn expr(src: &str) -> Expr {
    let e = hcl::edit::parser::parse_expr(src).unwrap();
    Expr {
        expr: e.clone().into(),
        span: Span {
            file: 0,
            range: 0..src.len(),
        },
        refs: refs::collect(&e, 0),
        funcs: refs::functions(&e, 0),
    }
}

fn scope() -> Values {
    let mut s = Values::new();
    s.set("var.name", Value::str("web"));
    s.set("var.secret", Value::sensitive(Value::str("s3cret")));
    s.set("var.n", Value::int(3));
    s.set(
        "image.golden",
        Value::Map([("id".into(), Value::str("abc"))].into()),
    );
    s.set(
        "image.new",
        Value::Map([("id".into(), Value::Unknown)].into()),
    );
    s.set(
        "image.g",
        Value::List(vec![
            Value::Map([("id".into(), Value::Unknown)].into()),
            Value::Map([("id".into(), Value::Unknown)].into()),
        ]),
    );
    s.set(
        "image.m",
        Value::Map(
            [
                (
                    "a".into(),
                    Value::Map([("id".into(), Value::Unknown)].into()),
                ),
                (
                    "b".into(),
                    Value::Map([("id".into(), Value::str("B"))].into()),
                ),
            ]
            .into(),
        ),
    );
    s
}

#[track_caller]
fn ok(src: &str) -> Value {
    eval(&expr(src), &scope()).unwrap_or_else(|d| panic!("{src}: {}", d.message))
}

#[track_caller]
fn err(src: &str, needle: &str) {
    match eval(&expr(src), &scope()) {
        Ok(v) => panic!("{src}: expected an error containing {needle:?}, got {v:?}"),
        Err(d) => assert!(d.message.contains(needle), "{src}: {}", d.message),
    }
}

#[test]
fn evaluates_known_references_and_templates() {
    assert_eq!(
        ok("\"${var.name}-${image.golden.id}\""),
        Value::str("web-abc")
    );
    assert_eq!(ok("var.n + 1"), Value::int(4));
    assert_eq!(ok("var.n > 2 ? \"big\" : \"small\""), Value::str("big"));
    assert_eq!(
        ok("\"%{ if var.n == 3 }three%{ endif }\""),
        Value::str("three")
    );
    assert_eq!(
        ok("\"%{ for x in [1, 2] }${x},%{ endfor }\""),
        Value::str("1,2,")
    );
    assert_eq!(
        ok("[for k, v in {a = 1, b = 2} : \"${k}${v}\"]"),
        ok("[\"a1\", \"b2\"]")
    );
    assert_eq!(
        ok("{for x in [\"a\", \"b\"] : x => upper(x)}"),
        ok("{a = \"A\", b = \"B\"}")
    );
    assert_eq!(ok("[for x in [1, 2, 3] : x if x != 2]"), ok("[1, 3]"));
    assert_eq!(ok("[{a = 1}, {a = 2}][*].a"), ok("[1, 2]"));
}

#[test]
fn unknowns_propagate_to_the_smallest_enclosing_value() {
    assert_eq!(ok("image.new.id"), Value::Unknown);
    assert_eq!(ok("\"x-${image.new.id}\""), Value::Unknown);
    assert_eq!(
        ok("{ a = \"x\", b = image.new.id }"),
        Value::Map([("a".into(), Value::str("x")), ("b".into(), Value::Unknown)].into())
    );
    assert_eq!(
        ok("[1, image.new.id]"),
        Value::List(vec![Value::int(1), Value::Unknown])
    );
    assert_eq!(ok("upper(image.new.id)"), Value::Unknown);
    assert_eq!(ok("image.new.id == \"x\""), Value::Unknown);
    assert_eq!(ok("false && image.new.id == \"x\""), Value::Bool(false));
}

#[test]
fn unknowns_are_refined_where_the_answer_does_not_depend_on_them() {
    assert_eq!(ok("length(image.g)"), Value::int(2));
    assert_eq!(ok("length(image.g[*].id)"), Value::int(2));
    assert_eq!(ok("keys(image.m)"), ok("[\"a\", \"b\"]"));
    assert_eq!(ok("length(merge(image.m, {c = 1}))"), Value::int(3));
    assert_eq!(ok("length(concat(image.g, [1]))"), Value::int(3));
    assert_eq!(ok("image.m[\"b\"].id"), Value::str("B"));
    assert_eq!(ok("lookup(image.m, \"b\").id"), Value::str("B"));
    assert_eq!(ok("[for k, v in image.m : k]"), ok("[\"a\", \"b\"]"));
}

#[test]
fn sensitive_marks_propagate_through_expressions() {
    for src in [
        "var.secret",
        "\"golden-${var.secret}\"",
        "upper(var.secret)",
        "var.secret == \"x\" ? \"a\" : \"b\"",
        "join(\"-\", [var.secret, \"x\"])",
        "[for c in [var.secret] : c][0]",
    ] {
        let v = ok(src);
        assert!(v.contains_sensitive(), "{src}: {v:?}");
        assert!(!v.to_string().contains("s3cret"), "{src}: {v}");
    }
    // Marks stay on elements: the list is not itself sensitive.
    let l = ok("[var.secret, \"x\"]");
    assert!(!l.is_sensitive() && l.contains_sensitive());
    assert_eq!(
        ok("\"golden-${var.secret}\"").unmarked(),
        Value::str("golden-s3cret")
    );
}

#[test]
fn mistakes_are_errors_with_hints() {
    err("image.golden.nope", "no attribute or key \"nope\"");
    err("lenght(var.name)", "did you mean \"length\"?");
    err("var.name + 1", "cannot be applied to string and number");
    err("[1][5]", "out of range");
    err("\"x${[1]}\"", "cannot include a list");
    // A lone interpolation is the value itself (HCL's unwrapping), not a string.
    assert_eq!(ok("\"${[1]}\""), ok("[1]"));
    err("undefined.x", "unknown reference");
}

#[test]
fn conform_converts_like_hcl() {
    assert_eq!(
        conform(Value::str("14"), Ty::Number).unwrap(),
        Value::int(14)
    );
    assert_eq!(conform(Value::int(3), Ty::String).unwrap(), Value::str("3"));
    assert!(conform(Value::str("x"), Ty::Number).is_err());
    assert_eq!(
        conform(Value::sensitive(Value::str("5")), Ty::Number).unwrap(),
        Value::sensitive(Value::int(5))
    );
}
