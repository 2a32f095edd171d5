//! The canonical layout of HCL files (`snapform fmt`), the rules of Terraform's formatter applied
//! line by line, so comments and blank lines stay where they are written.
//!
//! Rules:
//! - Indentation is two spaces per open bracket level: a line that opens brackets (net) indents
//!   what follows by one level, the line that closes them goes back (Terraform's rule, so
//!   `foo = merge({` indents by one level, not two).
//! - `=` of consecutive single-line attributes is aligned one space after the longest name; a
//!   blank line, a comment-only line, a block header, a closing brace or an attribute whose
//!   value spans lines ends the group. Exactly one space follows `=`.
//! - Trailing comments of consecutive lines are aligned one space after the longest code.
//! - Block headers get one space between type, labels and `{`.
//! - Trailing whitespace is removed, line ends become `\n`, the file ends with one newline.
//! - Left as written: spacing inside expressions, blank lines, comment text, heredoc bodies and
//!   the body of multi-line `/* */` comments.
//!
//! The result is checked to parse to exactly the same structure as the input; if it would not,
//! formatting fails and the file is left alone.

/// A line as the formatter sees it.
enum Line {
    /// Kept byte for byte (heredoc bodies, multi-line comment bodies), trailing space removed.
    Verbatim(String),
    Code(Code),
}

struct Code {
    /// The text before `=` (the attribute name), or the whole code when there is no `=`.
    lead: String,
    /// `= value`, when the line is a single-line attribute or `= {` style opener.
    assign: Option<String>,
    /// Whether `assign` holds a complete value (so the line joins an alignment group).
    aligned: bool,
    comment: Option<String>,
    /// Brackets opened minus brackets closed on the line.
    net: i32,
    indent: usize,
}

/// What scanning one line found.
#[derive(Default)]
struct Scan {
    /// Byte offset of the first lone `=` after the line's first character.
    eq: Option<usize>,
    /// Net brackets after `eq` (Terraform aligns only assignments whose value closes).
    net_after_eq: i32,
    net: i32,
    /// Byte offset where a trailing comment starts.
    comment: Option<usize>,
    /// The line opens a heredoc with this terminator.
    heredoc: Option<String>,
    /// The line opens a `/*` comment that does not close on it.
    open_comment: bool,
}

/// Formats HCL text. Fails (with a reason) when the input does not parse or the formatted text
/// would not mean the same.
pub fn format(src: &str) -> Result<String, String> {
    let before = hcl::parse(src).map_err(|e| e.to_string())?;
    let text = src.replace("\r\n", "\n");
    let mut lines: Vec<Line> = Vec::new();
    let mut heredoc: Option<String> = None;
    let mut in_comment = false;
    for raw in text.split('\n') {
        let raw = raw.trim_end();
        if let Some(term) = &heredoc {
            if raw.trim() == term {
                heredoc = None;
            }
            lines.push(Line::Verbatim(raw.to_string()));
            continue;
        }
        if in_comment {
            if let Some(end) = raw.find("*/") {
                in_comment = false;
                if !raw[end + 2..].trim().is_empty() {
                    return Err("code after the end of a multi-line comment on the same line is not supported; move it to its own line".into());
                }
            }
            lines.push(Line::Verbatim(raw.to_string()));
            continue;
        }
        let s = raw.trim_start();
        let scan = scan(s)?;
        heredoc = scan.heredoc.clone();
        in_comment = scan.open_comment;
        lines.push(Line::Code(code_line(s, &scan)));
    }
    while matches!(lines.last(), Some(Line::Code(c)) if c.lead.is_empty() && c.comment.is_none()) {
        lines.pop();
    }
    indent(&mut lines);
    let out = render(&lines);
    match hcl::parse(&out) {
        Ok(after) if after == before => Ok(out),
        _ => Err("formatting would change the meaning of the file; it was left alone (please report this)".into()),
    }
}

fn code_line(s: &str, scan: &Scan) -> Code {
    let code_end = scan.comment.unwrap_or(s.len());
    let comment = scan.comment.map(|c| s[c..].to_string());
    let code = s[..code_end].trim_end();
    let (lead, assign, aligned) = match scan.eq {
        Some(eq) if eq < code_end => {
            let value = code[eq + 1..].trim();
            let assign = if value.is_empty() {
                "=".to_string()
            } else {
                format!("= {value}")
            };
            (
                code[..eq].trim_end().to_string(),
                Some(assign),
                scan.net_after_eq == 0,
            )
        }
        _ => (
            header(code).unwrap_or_else(|| code.to_string()),
            None,
            false,
        ),
    };
    Code {
        lead,
        assign,
        aligned,
        comment,
        net: scan.net,
        indent: 0,
    }
}

/// `resource  "a"   "b"{` → `resource "a" "b" {`; `None` when the line is not a block header.
fn header(code: &str) -> Option<String> {
    let body = code.strip_suffix('{')?;
    let mut parts = Vec::new();
    let mut rest = body.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('"') {
            let end = r.find('"')?;
            let label = &r[..end];
            if label.contains('\\') || label.contains("${") || label.contains("%{") {
                return None;
            }
            parts.push(&rest[..end + 2]);
            rest = r[end + 1..].trim_start();
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            let word = &rest[..end];
            let ident = word
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && word
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
            if !ident {
                return None;
            }
            parts.push(word);
            rest = rest[end..].trim_start();
        }
    }
    if parts.is_empty() || parts[0].starts_with('"') {
        return None;
    }
    Some(format!("{} {{", parts.join(" ")))
}

/// Scans one trimmed line: brackets, the first `=`, a trailing comment, a heredoc opener.
fn scan(s: &str) -> Result<Scan, String> {
    let b = s.as_bytes();
    let mut out = Scan::default();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(s, i)?,
            b'#' => {
                out.comment = Some(i);
                break;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                out.comment = Some(i);
                break;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => match s[i + 2..].find("*/") {
                Some(end) => {
                    let after = i + 2 + end + 2;
                    if s[after..].trim().is_empty() && i > 0 {
                        out.comment = Some(i);
                        break;
                    }
                    i = after;
                }
                None => {
                    out.comment = Some(i);
                    out.open_comment = true;
                    break;
                }
            },
            b'<' if b.get(i + 1) == Some(&b'<') => {
                let rest = s[i + 2..].trim_start_matches('-');
                let term: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !term.is_empty() && rest[term.len()..].trim().is_empty() {
                    out.heredoc = Some(term);
                    break;
                }
                i += 2;
            }
            b'=' if matches!(b.get(i + 1), Some(b'=' | b'>')) => i += 2,
            b'!' | b'<' | b'>' if b.get(i + 1) == Some(&b'=') => i += 2,
            b'=' => {
                if out.eq.is_none() && i > 0 {
                    out.eq = Some(i);
                }
                i += 1;
            }
            c @ (b'{' | b'[' | b'(' | b'}' | b']' | b')') => {
                let d = if matches!(c, b'{' | b'[' | b'(') {
                    1
                } else {
                    -1
                };
                out.net += d;
                if out.eq.is_some() {
                    out.net_after_eq += d;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(out)
}

/// Index just past the quoted template starting at `start` (which is `"`), skipping `${ }` and
/// `%{ }` sequences with strings nested in them.
fn skip_string(s: &str, start: usize) -> Result<usize, String> {
    let b = s.as_bytes();
    let mut i = start + 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            b'$' | b'%' if b.get(i + 1) == Some(&b[i]) && b.get(i + 2) == Some(&b'{') => i += 3,
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                let mut depth = 1;
                i += 2;
                while i < b.len() && depth > 0 {
                    match b[i] {
                        b'"' => {
                            i = skip_string(s, i)?;
                            continue;
                        }
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        _ => {}
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    Err("a quoted string continues onto the next line, which fmt does not handle".into())
}

/// Terraform's indentation rule: a line with net opening brackets indents the lines after it by
/// one level, remembering how many brackets that level stands for; closing ones pop levels.
fn indent(lines: &mut [Line]) {
    let mut levels: Vec<i32> = Vec::new();
    for line in lines.iter_mut() {
        let Line::Code(c) = line else { continue };
        if c.net > 0 {
            c.indent = levels.len();
            levels.push(c.net);
            continue;
        }
        let mut closed = -c.net;
        while closed > 0 {
            let Some(top) = levels.last_mut() else { break };
            if closed >= *top {
                closed -= *top;
                levels.pop();
            } else {
                *top -= closed;
                closed = 0;
            }
        }
        c.indent = levels.len();
    }
}

fn width(c: &Code) -> usize {
    c.indent * 2 + c.lead.chars().count()
}

fn render(lines: &[Line]) -> String {
    // `=` columns: groups of consecutive aligned assignments.
    let mut eq_col = vec![0usize; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let is_member = |l: &Line| matches!(l, Line::Code(c) if c.aligned);
        if !is_member(&lines[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && is_member(&lines[i]) {
            i += 1;
        }
        let max = lines[start..i]
            .iter()
            .filter_map(|l| match l {
                Line::Code(c) => Some(width(c)),
                Line::Verbatim(_) => None,
            })
            .max()
            .unwrap_or(0);
        eq_col[start..i].fill(max);
    }
    let code: Vec<String> = lines
        .iter()
        .zip(&eq_col)
        .map(|(l, col)| match l {
            Line::Verbatim(v) => v.clone(),
            Line::Code(c) => {
                let mut s = format!("{}{}", "  ".repeat(c.indent), c.lead);
                if let Some(a) = &c.assign {
                    let pad = if c.aligned { col - width(c) + 1 } else { 1 };
                    if c.lead.is_empty() {
                        s.push_str(a);
                    } else {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(a);
                    }
                }
                s
            }
        })
        .collect();
    // Trailing comments: groups of consecutive lines with code and a comment.
    let has_trailing = |l: &Line, s: &str| {
        matches!(l, Line::Code(c) if c.comment.is_some()) && !s.trim().is_empty()
    };
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        if !has_trailing(&lines[i], &code[i]) {
            let line = match &lines[i] {
                Line::Code(c) if code[i].trim().is_empty() => match &c.comment {
                    Some(cm) => format!("{}{}", "  ".repeat(c.indent), cm.trim_end()),
                    None => String::new(),
                },
                _ => code[i].clone(),
            };
            out.push_str(line.trim_end());
            out.push('\n');
            i += 1;
            continue;
        }
        let start = i;
        while i < lines.len() && has_trailing(&lines[i], &code[i]) {
            i += 1;
        }
        let max = code[start..i]
            .iter()
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0);
        for j in start..i {
            let Line::Code(c) = &lines[j] else { continue };
            let cm = c.comment.as_deref().unwrap_or("").trim_end();
            let pad = max - code[j].chars().count() + 1;
            out.push_str(&format!("{}{}{cm}\n", code[j], " ".repeat(pad)));
        }
    }
    if out.trim().is_empty() {
        return String::new();
    }
    out
}

#[cfg(test)]
#[path = "hclfmt_tests.rs"]
mod tests;
