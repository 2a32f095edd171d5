//! Redaction of sensitive values from everything the CLI writes that is not a rendered value:
//! log lines, error messages and progress reports. Rendered values carry their own marks
//! (`(sensitive value)`); this catches what a cloud echoes back in an error, or a URL in a log.
//!
//! The CLI registers the sensitive values of a run as it learns them (variables when the
//! configuration is loaded, derived values once a plan is made).

use std::io::Write;
use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// The shown form of a redacted value.
pub const SHOWN: &str = "(sensitive value)";

/// Adds values to redact. Very short values (under four characters) are not redacted: they
/// would blank out unrelated text.
pub fn add(values: impl IntoIterator<Item = String>) {
    let mut s = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    for v in values {
        if v.chars().count() >= 4 && !s.contains(&v) {
            s.push(v);
        }
    }
    // Longest first, so a value that contains another is replaced whole.
    s.sort_by_key(|v| std::cmp::Reverse(v.len()));
}

/// `text` with every registered value replaced by `(sensitive value)`.
pub fn text(text: &str) -> String {
    let s = SECRETS.read().unwrap_or_else(|p| p.into_inner());
    let mut out = text.to_string();
    for v in s.iter() {
        if out.contains(v.as_str()) {
            out = out.replace(v.as_str(), SHOWN);
        }
    }
    out
}

/// A writer for log lines that redacts before writing to stderr.
pub struct Stderr;

impl Write for Stderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let shown = text(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(shown.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_replaced() {
        add(["s3cret-value".to_string(), "ab".to_string()]);
        assert_eq!(
            text("GET /servers?name=s3cret-value failed: ab"),
            "GET /servers?name=(sensitive value) failed: ab"
        );
    }
}
