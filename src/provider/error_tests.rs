//! Unit tests for fault-body parsing: every shape a cloud (or a proxy in front of it) sends.

use super::*;
use reqwest::header::HeaderValue;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2015-07-09T16:12:57Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn check(status: u16, headers: &[(&str, &str)], body: &str) -> Fault {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            reqwest::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    parse_fault(
        StatusCode::from_u16(status).unwrap(),
        &map,
        body.as_bytes(),
        now(),
    )
}

#[test]
fn compute_fault_uses_message_under_first_key() {
    let f = check(
        404,
        &[],
        r#"{"itemNotFound": {"code": 404, "message": "Image not found."}}"#,
    );
    assert_eq!(f.message, "Image not found.");
    assert_eq!(f.retry_after, None);
}

#[test]
fn details_are_appended_when_they_add_something() {
    let f = check(
        400,
        &[],
        r#"{"badRequest": {"code": 400, "message": "Invalid", "details": "key too long"}}"#,
    );
    assert_eq!(f.message, "Invalid (key too long)");
}

#[test]
fn over_limit_header_wins() {
    let f = check(
        413,
        &[("Retry-After", "7")],
        r#"{"overLimit": {"code": 413, "message": "Rate limit", "retryAfter": "30"}}"#,
    );
    assert_eq!(f.message, "Rate limit");
    assert_eq!(f.retry_after, Some(7));
}

#[test]
fn retry_after_from_body_string_or_number() {
    let s = check(
        413,
        &[],
        r#"{"overLimit": {"code": 413, "message": "x", "retryAfter": "12"}}"#,
    );
    assert_eq!(s.retry_after, Some(12));
    let n = check(
        429,
        &[],
        r#"{"overLimit": {"code": 429, "message": "x", "retryAfter": 3}}"#,
    );
    assert_eq!(n.retry_after, Some(3));
    let zero = check(
        413,
        &[("Retry-After", "0")],
        r#"{"overLimit": {"code": 413, "message": "Image metadata limit exceeded"}}"#,
    );
    assert_eq!(zero.retry_after, Some(0));
}

#[test]
fn retry_at_is_turned_into_seconds() {
    let f = check(
        413,
        &[],
        r#"{"overLimit": {"code": 413, "message": "x", "retryAt": "2015-07-09T16:13:07Z"}}"#,
    );
    assert_eq!(f.retry_after, Some(10));
    let past = check(
        413,
        &[],
        r#"{"overLimit": {"message": "x", "retryAt": "2010-08-01T00:00:00Z"}}"#,
    );
    assert_eq!(past.retry_after, Some(0));
}

#[test]
fn glance_json_with_string_code_and_br_tags() {
    let f = check(
        404,
        &[],
        r#"{"message": "No image found with ID abc<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#,
    );
    assert_eq!(f.message, "No image found with ID abc");
}

#[test]
fn html_page_uses_reason_and_body_text() {
    let f = check(
        503,
        &[],
        "<html>\n <head>\n  <title>503 Service Unavailable</title>\n </head>\n <body>\n  <h1>503 Service Unavailable</h1>\n  The server is busy.<br /><br />\n </body>\n</html>",
    );
    assert_eq!(
        f.message,
        "Service Unavailable: 503 Service Unavailable The server is busy."
    );
}

#[test]
fn plain_text_empty_and_odd_json_bodies_never_fail() {
    assert_eq!(
        check(502, &[], "  upstream went away \n").message,
        "Bad Gateway: upstream went away"
    );
    assert_eq!(check(500, &[], "").message, "Internal Server Error");
    assert_eq!(check(400, &[], "[1,2]").message, "Bad Request: [1,2]");
    assert_eq!(
        check(400, &[], r#""just a string""#).message,
        "just a string"
    );
    assert_eq!(
        check(409, &[], r#"{"conflictingRequest": "busy"}"#).message,
        "busy"
    );
    let long = "x".repeat(5000);
    assert!(check(500, &[], &long).message.chars().count() < 500);
    // Not valid UTF-8.
    let f = parse_fault(
        StatusCode::BAD_GATEWAY,
        &HeaderMap::new(),
        &[0xff, 0xfe, b'h', b'i'],
        now(),
    );
    assert!(f.message.starts_with("Bad Gateway"));
}

#[test]
fn keystone_v3_error_shape() {
    let f = check(
        401,
        &[],
        r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#,
    );
    assert_eq!(
        f.message,
        "The request you have made requires authentication."
    );
}

#[test]
fn display_names_operation_status_and_message() {
    let e = ProviderError::Api {
        operation: "GET /images/detail".into(),
        status: 404,
        message: "Image not found.".into(),
        retry_after: None,
    };
    assert_eq!(
        e.to_string(),
        "GET /images/detail: HTTP 404: Image not found."
    );
    assert!(e.is_not_found());
}

#[test]
fn html_character_references_are_decoded() {
    let f = check(
        403,
        &[],
        r#"{"forbidden": {"code": 403, "message": "Attribute &#x27;owner&#x27; is read-only &amp; &lt;kept&gt; &#39;x&#39; &bogus; & alone"}}"#,
    );
    assert_eq!(
        f.message,
        "Attribute 'owner' is read-only & <kept> 'x' &bogus; & alone"
    );
}
