//! Tests of the function library: real HCL expressions evaluated with every function.

use super::*;

fn eval(src: &str) -> Result<Value, String> {
    let expr: hcl::Expression = src.parse().map_err(|e: hcl::Error| e.to_string())?;
    crate::config::eval::eval_raw(&expr, &crate::config::eval::Empty).map(|v| v.to_hcl())
}

#[track_caller]
fn ok(src: &str) -> Value {
    eval(src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

#[track_caller]
fn s(src: &str) -> String {
    match ok(src) {
        Value::String(s) => s,
        other => panic!("{src}: expected a string, got {other:?}"),
    }
}

#[track_caller]
fn json(src: &str) -> String {
    to_json(&ok(src)).unwrap().to_string()
}

#[track_caller]
fn err(src: &str, needle: &str) {
    match eval(src) {
        Ok(v) => panic!("{src}: expected an error containing {needle:?}, got {v:?}"),
        Err(e) => assert!(e.contains(needle), "{src}: error {e:?} lacks {needle:?}"),
    }
}

#[test]
fn names_are_sorted_and_match_defs() {
    let mut sorted = names().to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, names());
    let declared: Vec<&str> = defs().iter().map(|(n, _)| *n).collect();
    assert_eq!(declared, names());
}

/// Every `` `call` → `result` `` example in docs/functions.md evaluates as documented.
#[test]
fn docs_examples_hold() {
    let docs = include_str!("../../../docs/functions.md");
    let mut checked = 0;
    for line in docs
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains(" → "))
    {
        let cell = line
            .trim_end_matches('|')
            .rsplit(" | ")
            .next()
            .unwrap()
            .trim();
        let (call, result) = cell.split_once(" → ").unwrap();
        let unquote = |s: &str| s.trim().trim_matches('`').to_owned();
        let (call, result) = (unquote(call), unquote(result));
        assert_eq!(ok(&call), ok(&result), "docs example {call}");
        checked += 1;
    }
    assert!(
        checked >= names().len(),
        "only {checked} doc examples found"
    );
    for name in names() {
        assert!(
            docs.contains(&format!("| `{name}(")),
            "{name} is not documented"
        );
    }
}

#[test]
fn format_verbs() {
    assert_eq!(s(r#"format("Hello, %s!", "Ander")"#), "Hello, Ander!");
    assert_eq!(s(r#"format("%d items", 3)"#), "3 items");
    assert_eq!(s(r#"format("[%5d]", 42)"#), "[   42]");
    assert_eq!(s(r#"format("[%-5d]", 42)"#), "[42   ]");
    assert_eq!(s(r#"format("[%05d]", -42)"#), "[-0042]");
    assert_eq!(s(r#"format("%+d", 7)"#), "+7");
    assert_eq!(s(r#"format("%.2f", 3.14159)"#), "3.14");
    assert_eq!(s(r#"format("%8.3f|", 2.5)"#), "   2.500|");
    assert_eq!(s(r#"format("%f", 1)"#), "1.000000");
    assert_eq!(s(r#"format("%e", 1234.5)"#), "1.234500e+03");
    assert_eq!(s(r#"format("%v %v %v", "a", 1.5, true)"#), "a 1.5 true");
    assert_eq!(s(r#"format("%v", [1, "b"])"#), r#"[1,"b"]"#);
    assert_eq!(s(r#"format("%q", "say \"hi\"")"#), r#""say \"hi\"""#);
    assert_eq!(s(r#"format("100%%")"#), "100%");
    assert_eq!(
        s(r#"format("%x %X %o %b", 255, 255, 8, 5)"#),
        "ff FF 10 101"
    );
    assert_eq!(s(r#"format("%t", true)"#), "true");
    assert_eq!(s(r#"format("%.3s|%-4s|", "abcdef", "é")"#), "abc|é   |");
    assert_eq!(s(r#"format("%s", 12)"#), "12");
    assert_eq!(s(r#"format("%d", "12")"#), "12");
}

#[test]
fn format_errors() {
    err(r#"format("%d %d", 1)"#, "format: not enough arguments");
    err(r#"format("%d", 1, 2)"#, "format: too many arguments");
    err(r#"format("%d", 1.5)"#, "needs a whole number, got 1.5");
    err(r#"format("%d", "x")"#, "needs a number, got string");
    err(r#"format("%s", [1])"#, "needs a string, got list");
    err(r#"format("%y", 1)"#, "unsupported verb");
    err(r#"format("50%")"#, "unterminated");
    err("format()", "format: expected at least 1 arguments, found 0");
}

#[test]
fn case_and_trim() {
    assert_eq!(s(r#"lower("HeLLo")"#), "hello");
    assert_eq!(s(r#"upper("héllo")"#), "HÉLLO");
    assert_eq!(s(r#"title("hello big-world")"#), "Hello Big-World");
    assert_eq!(s(r#"strrev("abé")"#), "éba");
    assert_eq!(s("trimspace(\"  a b \\n\")"), "a b");
    assert_eq!(s("chomp(\"line\\r\\n\\n\")"), "line");
    assert_eq!(s(r#"trim("?!hello?!", "!?")"#), "hello");
    assert_eq!(s(r#"trimprefix("helloworld", "hello")"#), "world");
    assert_eq!(s(r#"trimprefix("helloworld", "x")"#), "helloworld");
    assert_eq!(s(r#"trimsuffix("helloworld", "world")"#), "hello");
    assert_eq!(ok(r#"startswith("hello", "he")"#), Value::Bool(true));
    assert_eq!(ok(r#"startswith("hello", "lo")"#), Value::Bool(false));
    assert_eq!(ok(r#"endswith("hello", "lo")"#), Value::Bool(true));
    assert_eq!(ok(r#"endswith("hello", "he")"#), Value::Bool(false));
    err("lower([])", "lower: argument must be a string, got list");
    err("upper(null)", "upper: argument must be a string, got null");
    err(
        r#"startswith("a", {})"#,
        "startswith: prefix must be a string, got map",
    );
}

#[test]
fn join_and_split() {
    assert_eq!(s(r#"join(", ", ["a", "b", "c"])"#), "a, b, c");
    assert_eq!(s(r#"join("-", ["a"], [1, true])"#), "a-1-true");
    assert_eq!(s(r#"join("-", [])"#), "");
    assert_eq!(json(r#"split(",", "a,b,,c")"#), r#"["a","b","","c"]"#);
    assert_eq!(json(r#"split(",", "")"#), r#"[""]"#);
    assert_eq!(json(r#"split("", "ab")"#), r#"["a","b"]"#);
    err(
        r#"join(",", "abc")"#,
        "join: argument 2 must be a list, got string",
    );
    err(
        r#"join(",", [[1]])"#,
        "join: element 0 of argument 2 must be a string, got list",
    );
    err(r#"join(",")"#, "join: expected at least one list");
    err(
        r#"split(",", ["a"])"#,
        "split: string must be a string, got list",
    );
}

#[test]
fn replace_plain_and_regex() {
    assert_eq!(s(r#"replace("1 + 2 + 3", "+", "-")"#), "1 - 2 - 3");
    assert_eq!(
        s(r#"replace("hello world", "/w.*d/", "there")"#),
        "hello there"
    );
    assert_eq!(s(r#"replace("a1b22", "/([0-9]+)/", "<$1>")"#), "a<1>b<22>");
    assert_eq!(s(r#"replace("a/b", "/", "_")"#), "a_b");
    err(
        r#"replace("x", "/(/", "y")"#,
        "replace: invalid regular expression",
    );
    err(
        r#"replace("x", "", "y")"#,
        "replace: substring must not be empty",
    );
}

#[test]
fn substr_semantics() {
    assert_eq!(s(r#"substr("hello world", 1, 4)"#), "ello");
    assert_eq!(s(r#"substr("hello world", 6, -1)"#), "world");
    assert_eq!(s(r#"substr("hello world", -5, 3)"#), "wor");
    assert_eq!(s(r#"substr("héllo", 1, 2)"#), "él");
    assert_eq!(s(r#"substr("abc", 10, 2)"#), "");
    assert_eq!(s(r#"substr("abc", -10, 2)"#), "ab");
    assert_eq!(s(r#"substr("abc", "1", "1")"#), "b");
    err(
        r#"substr("abc", 0, [])"#,
        "substr: length must be a number, got list",
    );
    err(
        r#"substr("abc", 0, "x")"#,
        "substr: length must be a number, got string",
    );
    err(
        r#"substr("abc", 0.5, 1)"#,
        "substr: offset must be a whole number, got 0.5",
    );
    err(
        r#"substr("abc", 1)"#,
        "substr: expected 3 arguments, found 2",
    );
}

#[test]
fn formatdate_spec() {
    let ts = r#""2018-01-02T23:12:01Z""#;
    let fd = |spec: &str| s(&format!("formatdate({spec:?}, {ts})"));
    assert_eq!(fd("DD MMM YYYY hh:mm ZZZ"), "02 Jan 2018 23:12 UTC");
    assert_eq!(
        fd("EEEE, DD-MMM-YY hh:mm:ss ZZZ"),
        "Tuesday, 02-Jan-18 23:12:01 UTC"
    );
    assert_eq!(fd("MMM DD, YYYY"), "Jan 02, 2018");
    assert_eq!(fd("HH:mmaa"), "11:12pm");
    assert_eq!(fd("H:m:s AA"), "11:12:1 PM");
    assert_eq!(fd("MMMM D, EEE"), "January 2, Tue");
    assert_eq!(fd("M/D h"), "1/2 23");
    assert_eq!(fd("YYYY-MM-DD'T'hh:mm:ssZ"), "2018-01-02T23:12:01Z");
    assert_eq!(fd("'o''clock' ''"), "o'clock '");
    assert_eq!(fd("ZZZZ ZZZZZ"), "+0000 +00:00");
    assert_eq!(
        s(r#"formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")"#),
        "Tue, 02 Jan 2018 23:12:01 -0800"
    );
    assert_eq!(
        s(r#"formatdate("Z|ZZZZZ", "2018-01-02T03:04:05+05:30")"#),
        "+05:30|+05:30"
    );
    assert_eq!(
        s(r#"formatdate("hh HH aa", "2018-01-02T00:04:05Z")"#),
        "00 12 am"
    );
}

#[test]
fn formatdate_errors() {
    err(
        r#"formatdate("YYYY", "2018-01-02")"#,
        "formatdate: timestamp must be an RFC 3339",
    );
    err(
        r#"formatdate("YYY", "2018-01-02T00:00:00Z")"#,
        "invalid date format sequence \"YYY\"",
    );
    err(
        r#"formatdate("T", "2018-01-02T00:00:00Z")"#,
        "invalid date format sequence \"T\"",
    );
    err(
        r#"formatdate("'abc", "2018-01-02T00:00:00Z")"#,
        "unterminated quoted literal",
    );
    err(
        r#"formatdate(1, [])"#,
        "formatdate: timestamp must be a string, got list",
    );
}

#[test]
fn regex_functions() {
    assert_eq!(
        s(r#"regex("[a-z]+", "53453453.345345aaabbbccc23454")"#),
        "aaabbbccc"
    );
    assert_eq!(
        json(r#"regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01")"#),
        r#"["2019","02","01"]"#
    );
    assert_eq!(
        json(r#"regex("^(?P<user>[^@]+)@(?P<domain>.+)$", "me@example.com")"#),
        // Keys come out sorted, as Terraform's objects do.
        r#"{"domain":"example.com","user":"me"}"#
    );
    assert_eq!(json(r#"regex("a(x)?b", "ab")"#), "[null]");
    assert_eq!(
        json(r#"regexall("[a-z]+", "1234abcd5678efgh9")"#),
        r#"["abcd","efgh"]"#
    );
    assert_eq!(json(r#"regexall("(\\d)x", "1x2x")"#), r#"[["1"],["2"]]"#);
    assert_eq!(json(r#"regexall("z", "abc")"#), "[]");
    err(r#"regex("z", "abc")"#, "regex: pattern \"z\" did not match");
    err(r#"regex("(", "abc")"#, "regex: invalid regular expression");
    err(
        r#"regex("(?P<a>x)(y)", "xy")"#,
        "either only named or only unnamed",
    );
    err(
        r#"regexall("(?P<a>x)(y)", "xy")"#,
        "regexall: pattern must use",
    );
}

#[test]
fn length_keys_values() {
    assert_eq!(ok(r#"length("héllo")"#), Value::from(5));
    assert_eq!(ok("length([1, 2, 3])"), Value::from(3));
    assert_eq!(ok("length({a = 1})"), Value::from(1));
    assert_eq!(json("keys({b = 1, a = 2, c = 3})"), r#"["a","b","c"]"#);
    assert_eq!(json("values({b = 1, a = 2, c = 3})"), "[2,1,3]");
    err(
        "length(5)",
        "length: argument must be a string, list or map, got number",
    );
    err("keys([1])", "keys: argument must be a map, got list");
    err(
        r#"values("x")"#,
        "values: argument must be a map, got string",
    );
}

#[test]
fn merge_lookup_zipmap() {
    assert_eq!(
        json(r#"merge({a = 1, b = 2}, {b = 3, c = 4}, null)"#),
        r#"{"a":1,"b":3,"c":4}"#
    );
    assert_eq!(json("merge()"), "{}");
    assert_eq!(ok(r#"lookup({a = "x"}, "a")"#), Value::from("x"));
    assert_eq!(ok(r#"lookup({a = "x"}, "b", "dflt")"#), Value::from("dflt"));
    assert_eq!(json(r#"zipmap(["a", "b"], [1, 2])"#), r#"{"a":1,"b":2}"#);
    err(
        r#"merge({a = 1}, [1])"#,
        "merge: argument 2 must be a map, got list",
    );
    err(r#"lookup({a = "x"}, "b")"#, "lookup: key \"b\" not found");
    err(
        r#"lookup({}, "b", 1, 2)"#,
        "lookup: expected 2 or 3 arguments",
    );
    err(
        r#"lookup([], "b")"#,
        "lookup: first argument must be a map, got list",
    );
    err(
        r#"zipmap(["a"], [])"#,
        "zipmap: keys and values must have the same length",
    );
}

#[test]
fn list_functions() {
    assert_eq!(ok(r#"contains(["a", "b"], "b")"#), Value::Bool(true));
    assert_eq!(ok(r#"contains(["a", "b"], "c")"#), Value::Bool(false));
    assert_eq!(ok("contains([1, 2.0], 2)"), Value::Bool(true));
    assert_eq!(json(r#"concat(["a"], [], ["b", "c"])"#), r#"["a","b","c"]"#);
    assert_eq!(
        json(r#"distinct(["a", "b", "a", "c", "b"])"#),
        r#"["a","b","c"]"#
    );
    assert_eq!(json("reverse([1, 2, 3])"), "[3,2,1]");
    assert_eq!(json("flatten([[1, [2]], [], 3])"), "[1,2,3]");
    assert_eq!(json(r#"compact(["a", "", null, "b"])"#), r#"["a","b"]"#);
    assert_eq!(ok(r#"element(["a", "b"], 3)"#), Value::from("b"));
    assert_eq!(ok(r#"index(["a", "b"], "b")"#), Value::from(1));
    assert_eq!(json(r#"sort(["c", "a", "b"])"#), r#"["a","b","c"]"#);
    assert_eq!(json(r#"slice(["a", "b", "c", "d"], 1, 3)"#), r#"["b","c"]"#);
    err(
        r#"contains("abc", "a")"#,
        "contains: first argument must be a list, got string",
    );
    err(
        r#"concat([1], "x")"#,
        "concat: argument 2 must be a list, got string",
    );
    err("distinct({})", "distinct: argument must be a list, got map");
    err("element([], 0)", "empty list");
    err(r#"index(["a"], "z")"#, "index: value \"z\" not found");
    err("sort([[1]])", "sort: element 0 must be a string, got list");
    err(
        "slice([1, 2], 1, 5)",
        "slice: end index must be between 1 and 2, got 5",
    );
}

#[test]
fn coalesce_values() {
    assert_eq!(ok(r#"coalesce(null, "", "b", "c")"#), Value::from("b"));
    assert_eq!(ok("coalesce(null, 1)"), Value::from(1));
    err(
        r#"coalesce(null, "")"#,
        "coalesce: all arguments are null or empty strings",
    );
    err("coalesce()", "coalesce: expected at least one argument");
}

#[test]
fn conversions() {
    assert_eq!(ok("tostring(12)"), Value::from("12"));
    assert_eq!(ok("tostring(true)"), Value::from("true"));
    assert_eq!(ok("tostring(null)"), Value::Null);
    assert_eq!(ok(r#"tonumber("1.5")"#), ok("1.5"));
    assert_eq!(ok(r#"tonumber("-3")"#), Value::from(-3));
    assert_eq!(ok("tonumber(4)"), Value::from(4));
    assert_eq!(ok(r#"tobool("true")"#), Value::Bool(true));
    assert_eq!(ok("tobool(false)"), Value::Bool(false));
    assert_eq!(json(r#"toset(["b", "a", "b"])"#), r#"["b","a"]"#);
    assert_eq!(json(r#"toset(["a", 1, "1"])"#), r#"["a","1"]"#);
    assert_eq!(json(r#"tolist(["a", true])"#), r#"["a","true"]"#);
    assert_eq!(json(r#"tomap({a = 1, b = "x"})"#), r#"{"a":"1","b":"x"}"#);
    assert_eq!(json("tomap({a = 1, b = 2})"), r#"{"a":1,"b":2}"#);
    err(
        "tostring([1])",
        "tostring: argument must be a string, number or bool, got list",
    );
    err(
        r#"tonumber("abc")"#,
        "tonumber: cannot convert \"abc\" to a number",
    );
    err(
        "tonumber(true)",
        "tonumber: argument must be a number, got bool",
    );
    err(
        r#"tobool("yes")"#,
        "tobool: cannot convert \"yes\" to a bool",
    );
    err("tobool(1)", "tobool: argument must be a bool, got number");
    err(
        r#"tolist({a = 1})"#,
        "tolist: argument must be a list, got map",
    );
    err(
        r#"tolist(["a", [1]])"#,
        "tolist: all elements must have the same type",
    );
    err("tomap([1])", "tomap: argument must be a map, got list");
}

#[test]
fn json_roundtrip() {
    assert_eq!(
        s(r#"jsonencode({a = [1, 2.5, true, null], b = "x"})"#),
        r#"{"a":[1,2.5,true,null],"b":"x"}"#
    );
    assert_eq!(
        json(r#"jsondecode("{\"b\": [1, 2.5, \"x\"], \"a\": null}")"#),
        r#"{"a":null,"b":[1,2.5,"x"]}"#
    );
    assert_eq!(ok(r#"jsondecode("42")"#), Value::from(42));
    assert_eq!(ok(r#"jsondecode(jsonencode("x\ny"))"#), Value::from("x\ny"));
    err(r#"jsondecode("{")"#, "jsondecode: invalid JSON");
    err(
        "jsondecode([])",
        "jsondecode: argument must be a string, got list",
    );
}

#[test]
fn numeric_functions() {
    assert_eq!(ok("abs(-3)"), Value::from(3));
    assert_eq!(ok("abs(-1.5)"), ok("1.5"));
    assert_eq!(ok("ceil(1.2)"), Value::from(2));
    assert_eq!(ok("floor(-1.2)"), Value::from(-2));
    assert_eq!(ok("min(3, 1, 2)"), Value::from(1));
    assert_eq!(ok("max(3, 1.5, 2)"), Value::from(3));
    assert_eq!(ok("max([4, 9]...)"), Value::from(9));
    assert_eq!(ok("sum([1, 2, 3.5])"), ok("6.5"));
    assert_eq!(ok("signum(-7)"), Value::from(-1));
    assert_eq!(ok("pow(2, 10)"), Value::from(1024));
    assert_eq!(json("range(3)"), "[0,1,2]");
    assert_eq!(json("range(1, 4)"), "[1,2,3]");
    assert_eq!(json("range(4, 1)"), "[4,3,2]");
    assert_eq!(json("range(0, 1, 0.25)"), "[0,0.25,0.5,0.75]");
    assert_eq!(json("range(0)"), "[]");
    err(r#"abs("x")"#, "abs: argument must be a number, got string");
    err("ceil([])", "ceil: argument must be a number, got list");
    err("min()", "min: expected at least one number");
    err(
        r#"max(1, [])"#,
        "max: argument 2 must be a number, got list",
    );
    err("sum([])", "sum: cannot sum an empty list");
    err("range(0, 5, 0)", "range: step must not be zero");
    err("range(0, 5, -1)", "range: step must be positive");
    err("range(0, 5000)", "range: more than 1024 elements");
    err("range()", "range: expected 1 to 3 arguments");
}
