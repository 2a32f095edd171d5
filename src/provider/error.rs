//! `ProviderError` and the parsing of cloud fault bodies (compute faults, Glance, HTML, text).

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;

/// Everything that can go wrong while talking to a cloud. Every message names the operation;
/// none ever contains a credential or a token.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The cloud answered with an error status.
    #[error("{operation}: HTTP {status}: {message}")]
    Api {
        operation: String,
        status: u16,
        message: String,
        /// Seconds the cloud asked us to wait (Retry-After header, `retryAfter` or `retryAt`).
        retry_after: Option<u64>,
    },
    /// No usable HTTP answer: connection refused, timeout, unreadable or malformed body.
    #[error("{operation}: {message}")]
    Transport { operation: String, message: String },
    /// The service catalog lacks what we need (or the feature is not offered by this cloud).
    #[error("{0}")]
    Catalog(String),
    /// The identity service refused the credentials (or answered with another error).
    #[error("authentication failed: HTTP {status}: {message}")]
    Auth { status: u16, message: String },
}

impl ProviderError {
    /// The error after `n` attempts: the message says so (`… (gave up after 5 attempts)`).
    pub fn after_attempts(self, n: u32) -> ProviderError {
        let note = format!(" (gave up after {n} attempts)");
        match self {
            ProviderError::Api {
                operation,
                status,
                message,
                retry_after,
            } => ProviderError::Api {
                operation,
                status,
                message: message + &note,
                retry_after,
            },
            ProviderError::Transport { operation, message } => ProviderError::Transport {
                operation,
                message: message + &note,
            },
            ProviderError::Auth { status, message } => ProviderError::Auth {
                status,
                message: message + &note,
            },
            other => other,
        }
    }

    /// The HTTP status of an `Api` or `Auth` error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ProviderError::Api { status, .. } | ProviderError::Auth { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for an API 404.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ProviderError::Api { status: 404, .. })
    }

    /// True when the cloud refused the call because of a rate limit or quota (413/429).
    pub fn is_over_limit(&self) -> bool {
        matches!(
            self,
            ProviderError::Api {
                status: 413 | 429,
                ..
            }
        )
    }

    /// True when the call may have taken effect although it failed: a server error or no
    /// usable answer (a timeout, a reset connection). A mutation that failed so must be
    /// reconciled (looked for) before it is repeated or given up.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            ProviderError::Api { status, .. } => *status >= 500,
            ProviderError::Transport { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn transport(operation: &str, message: impl Into<String>) -> ProviderError {
        ProviderError::Transport {
            operation: operation.to_owned(),
            message: message.into(),
        }
    }
}

/// What we extract from an error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub message: String,
    pub retry_after: Option<u64>,
}

const MAX_MESSAGE_CHARS: usize = 400;

/// Reads the message and retry hint of an error response. Never fails: a body of any shape
/// (compute fault, Glance JSON, keystone error, HTML, text, nothing) yields a message.
pub(crate) fn parse_fault(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    now: DateTime<Utc>,
) -> Fault {
    let reason = status.canonical_reason().unwrap_or("error").to_owned();
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let message = match &json {
        Some(v) => json_message(v).unwrap_or_else(|| {
            let text = truncate(&v.to_string());
            format!("{reason}: {text}")
        }),
        None => {
            let text = strip_html(&String::from_utf8_lossy(body));
            if text.is_empty() {
                reason
            } else {
                format!("{reason}: {}", truncate(&text))
            }
        }
    };
    let retry_after = header_retry_after(headers, now)
        .or_else(|| json.as_ref().and_then(|v| body_retry_after(v, now)));
    Fault {
        message,
        retry_after,
    }
}

/// `{"<faultName>": {"message": ..., "details": ...}}`, or a top-level `message` (Glance,
/// pyrax-style), or a bare JSON string.
fn json_message(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(map) => match map.get("message") {
            Some(m) => Some(with_details(m, map.get("details"))),
            None => map.values().next().and_then(|inner| match inner {
                Value::Object(fault) => fault
                    .get("message")
                    .map(|m| with_details(m, fault.get("details"))),
                Value::String(s) => Some(s.clone()),
                _ => None,
            }),
        },
        _ => None,
    }?;
    let text = truncate(&strip_html(&text));
    (!text.is_empty()).then_some(text)
}

fn with_details(message: &Value, details: Option<&Value>) -> String {
    let message = value_text(message);
    match details.map(value_text) {
        Some(d) if !d.trim().is_empty() && d.trim() != message.trim() => {
            format!("{} ({})", message.trim(), d.trim())
        }
        _ => message,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn header_retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<u64> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(n) = raw.parse::<u64>() {
        return Some(n);
    }
    DateTime::parse_from_rfc2822(raw)
        .ok()
        .map(|at| seconds_until(at.with_timezone(&Utc), now))
}

/// `retryAfter` (string or number) and then `retryAt` (ISO time), inside the fault object or
/// at the top level.
fn body_retry_after(v: &Value, now: DateTime<Utc>) -> Option<u64> {
    let map = v.as_object()?;
    let mut scopes = vec![map];
    if let Some(Value::Object(inner)) = map.values().next() {
        scopes.insert(0, inner);
    }
    let after = scopes.iter().find_map(|s| match s.get("retryAfter")? {
        Value::Number(n) => n.as_f64().map(|f| f.max(0.0).ceil() as u64),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .map(|f| f.max(0.0).ceil() as u64),
        _ => None,
    });
    after.or_else(|| {
        scopes.iter().find_map(|s| {
            let at = s.get("retryAt")?.as_str()?;
            let at = DateTime::parse_from_rfc3339(at.trim()).ok()?;
            Some(seconds_until(at.with_timezone(&Utc), now))
        })
    })
}

fn seconds_until(at: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    let millis = (at - now).num_milliseconds().max(0) as u64;
    millis.div_ceil(1000)
}

/// Drops markup (`<br />`, whole HTML pages) and collapses whitespace.
fn strip_html(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    // In an HTML page, the <head> only repeats the title; keep what the body says.
    let text = match lower.find("<body") {
        Some(i) => &text[i..],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '<' if !in_tag
                && chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!') =>
            {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            _ => out.push(c),
        }
    }
    unescape(&out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Decodes the HTML character references clouds leave in messages (Glance, through Nova,
/// writes `Attribute &#x27;owner&#x27; is read-only.`).
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail.find(';').filter(|j| *j <= 10).and_then(|j| {
            let entity = &tail[1..j];
            let c = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => entity
                    .strip_prefix("#x")
                    .or_else(|| entity.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, j + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn truncate(text: &str) -> String {
    match text.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// A transport error with its causes ("connection refused", "operation timed out"), no URL.
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut parts = vec![if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_decode() || e.is_body() {
        "cannot read the response".to_owned()
    } else {
        "request failed".to_owned()
    }];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        // hyper-util's "client error (Connect)" wrapper repeats what `parts[0]` says.
        let wrapper = text.starts_with("client error (");
        if !wrapper && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
