//! Diagnostics: user-facing errors that carry a source location (`file:line:column`).
//!
//! Every configuration mistake becomes a `Diagnostic` pointing into a `SourceFile`. The CLI renders
//! them (with the source line); nothing here prints.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;

/// One configuration file's text, kept for locating and rendering diagnostics.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SourceFile {
    /// The path as the user would type it (relative to the working directory when possible).
    pub path: String,
    pub text: String,
}

/// Index into `Sources` plus a byte range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub file: usize,
    pub range: Range<usize>,
}

/// The set of configuration sources of one run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Sources {
    pub files: Vec<SourceFile>,
}

impl Sources {
    pub fn new(files: Vec<SourceFile>) -> Sources {
        Sources { files }
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: usize, offset: usize) -> (usize, usize) {
        let text = match self.files.get(file) {
            Some(f) => &f.text,
            None => return (1, 1),
        };
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// The whole text of the line holding `offset`.
    pub fn line_text(&self, file: usize, offset: usize) -> &str {
        let Some(f) = self.files.get(file) else {
            return "";
        };
        let text = &f.text;
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let start = text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let end = text[offset..]
            .find('\n')
            .map(|i| offset + i)
            .unwrap_or(text.len());
        text[start..end].trim_end_matches('\r')
    }

    pub fn path(&self, file: usize) -> &str {
        self.files
            .get(file)
            .map(|f| f.path.as_str())
            .unwrap_or("<unknown>")
    }

    /// `file:line:column` for a span.
    pub fn location(&self, span: &Span) -> String {
        let (l, c) = self.line_col(span.file, span.range.start);
        format!("{}:{}:{}", self.path(span.file), l, c)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A configuration error (or warning) at a place in the sources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// One line: what is wrong, saying what was expected and what was found.
    pub message: String,
    pub span: Option<Span>,
    /// Optional extra hint.
    pub help: Option<String>,
    /// A place outside the configuration (`prod.snapvars.hcl:3:13`), when there is no span.
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Severity {
    Error,
    Warning,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Option<Span>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            help: None,
            at: None,
        }
    }

    /// Locates a diagnostic outside the configuration files (a var file, a flag).
    pub fn located(mut self, at: impl Into<String>) -> Diagnostic {
        self.at = Some(at.into());
        self
    }

    pub fn at(file: usize, range: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message, Some(Span { file, range }))
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Plain text rendering: `error: file:line:col: message`, the source line and a caret.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = String::new();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.span {
            Some(span) => {
                let (line, col) = sources.line_col(span.file, span.range.start);
                let text = sources.line_text(span.file, span.range.start);
                out.push_str(&format!(
                    "{sev}: {}:{line}:{col}: {}\n",
                    sources.path(span.file),
                    self.message
                ));
                let gutter = line.to_string().len();
                out.push_str(&format!("{:gutter$} |\n", ""));
                out.push_str(&format!("{line} | {text}\n"));
                let width = span
                    .range
                    .len()
                    .clamp(1, text.chars().count().saturating_sub(col - 1).max(1));
                out.push_str(&format!(
                    "{:gutter$} | {:pad$}{}\n",
                    "",
                    "",
                    "^".repeat(width),
                    pad = col - 1
                ));
            }
            None => match &self.at {
                Some(at) => out.push_str(&format!("{sev}: {at}: {}\n", self.message)),
                None => out.push_str(&format!("{sev}: {}\n", self.message)),
            },
        }
        if let Some(h) = &self.help {
            out.push_str(&format!("  = help: {h}\n"));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Helper to collect diagnostics while continuing work ("loading never fails").
#[derive(Debug, Default, Clone)]
pub struct Diags(pub Vec<Diagnostic>);

impl Diags {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let s = Sources::new(vec![SourceFile {
            path: "main.snap.hcl".into(),
            text: "a = 1\nbb = é2\n".into(),
        }]);
        assert_eq!(s.line_col(0, 0), (1, 1));
        assert_eq!(s.line_col(0, 6), (2, 1));
        assert_eq!(s.line_col(0, 13), (2, 7));
        assert_eq!(s.line_text(0, 7), "bb = é2");
        let d = Diagnostic::at(0, 11..13, "bad");
        assert!(d.render(&s).starts_with("error: main.snap.hcl:2:6: bad\n"));
    }
}
