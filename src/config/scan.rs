//! A light scanner of HCL text that finds the top-level items (blocks, stray attributes) and
//! lexical mistakes (an unterminated string, comment or heredoc) with their exact positions.
//!
//! The parser stops at the first syntax error of a file. To report every mistake at once,
//! loading blanks out the item that holds a syntax error and parses again (`parse.rs`); this
//! scanner says where items begin and end. It knows strings (with `${ }` / `%{ }` templates
//! inside, which may hold strings again), heredocs, comments and bracket nesting, and it
//! resynchronises at the end of a line after an unterminated string, so one mistake does not
//! swallow the rest of the file.

use std::ops::Range;

/// One top-level item of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub range: Range<usize>,
    /// A lexical mistake inside the item: its offset and what is wrong.
    pub lex_error: Option<(usize, String)>,
}

enum Mode {
    /// Code at this bracket depth (relative to where the mode began).
    Code(usize),
    /// Inside a quoted string that opened at this offset.
    Str(usize),
    /// Inside a heredoc, until a line holding only this delimiter.
    Heredoc(String),
}

/// The top-level items of `text`, in order.
pub fn items(text: &str) -> Vec<Item> {
    let b = text.as_bytes();
    let mut out: Vec<Item> = Vec::new();
    let mut cur: Option<Item> = None;
    let mut modes: Vec<Mode> = vec![Mode::Code(0)];
    let mut i = 0;
    let note = |cur: &mut Option<Item>, at: usize, msg: &str| {
        if let Some(c) = cur
            && c.lex_error.is_none()
        {
            c.lex_error = Some((at, msg.to_string()));
        }
    };
    while i < b.len() {
        let c = b[i];
        let top = modes.len() == 1;
        match modes.last_mut() {
            Some(Mode::Code(depth)) => {
                let depth_now = *depth;
                if top && depth_now == 0 && cur.is_none() && !c.is_ascii_whitespace() {
                    let comment =
                        c == b'#' || (c == b'/' && matches!(b.get(i + 1), Some(b'/') | Some(b'*')));
                    if !comment {
                        cur = Some(Item {
                            range: i..i,
                            lex_error: None,
                        });
                    }
                }
                match c {
                    b'#' => i = line_end(b, i),
                    b'/' if b.get(i + 1) == Some(&b'/') => i = line_end(b, i),
                    b'/' if b.get(i + 1) == Some(&b'*') => match find(b, i + 2, b"*/") {
                        Some(e) => i = e + 2,
                        None => {
                            note(&mut cur, i, "unterminated comment; expected */");
                            i = b.len();
                        }
                    },
                    b'"' => {
                        modes.push(Mode::Str(i));
                        i += 1;
                    }
                    b'<' if b.get(i + 1) == Some(&b'<') => {
                        let mut j = i + 2;
                        if b.get(j) == Some(&b'-') {
                            j += 1;
                        }
                        let start = j;
                        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                            j += 1;
                        }
                        if j > start && matches!(b.get(j), Some(b'\n') | Some(b'\r')) {
                            modes.push(Mode::Heredoc(text[start..j].to_string()));
                            i = line_end(b, j) + 1;
                        } else {
                            i += 2;
                        }
                    }
                    b'{' | b'[' | b'(' => {
                        *depth += 1;
                        i += 1;
                    }
                    b'}' | b']' | b')' => {
                        if *depth == 0 {
                            if top {
                                note(&mut cur, i, "unexpected closing bracket");
                            } else {
                                // The end of a `${ ... }` inside a string.
                                modes.pop();
                            }
                        } else {
                            *depth -= 1;
                        }
                        i += 1;
                        if top
                            && depth_now == 1
                            && c == b'}'
                            && let Some(mut item) = cur.take()
                        {
                            item.range.end = i;
                            out.push(item);
                        }
                    }
                    b'\n' if top && depth_now == 0 => {
                        // An item without a body (a stray attribute) ends at its line.
                        if let Some(mut item) = cur.take() {
                            item.range.end = i;
                            out.push(item);
                        }
                        i += 1;
                    }
                    _ => i += 1,
                }
            }
            Some(Mode::Str(open)) => {
                let open = *open;
                match c {
                    b'\\' => i += 2,
                    b'"' => {
                        modes.pop();
                        i += 1;
                    }
                    b'$' | b'%' if b.get(i + 1) == Some(&b'{') => {
                        modes.push(Mode::Code(0));
                        i += 2;
                    }
                    b'\n' => {
                        note(
                            &mut cur,
                            open,
                            "unterminated string; expected a closing \" on the same line",
                        );
                        // Resynchronise: drop the string and whatever template it opened.
                        while matches!(modes.last(), Some(Mode::Str(_)) | Some(Mode::Code(_)))
                            && modes.len() > 1
                        {
                            modes.pop();
                        }
                    }
                    _ => i += 1,
                }
            }
            Some(Mode::Heredoc(delim)) => {
                let end = line_end(b, i);
                let line = text[i..end].trim();
                let matched = line == delim.as_str();
                if matched {
                    modes.pop();
                    i = end;
                } else {
                    i = end + 1;
                }
            }
            None => break,
        }
    }
    if let Some(mut item) = cur.take() {
        if let Some(Mode::Heredoc(d)) = modes.last() {
            let msg = format!("unterminated heredoc; expected a line with only {d}");
            item.lex_error.get_or_insert((item.range.start, msg));
        }
        item.range.end = b.len();
        out.push(item);
    }
    out
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p)
}

fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(pat.len())
        .position(|w| w == pat)
        .map(|p| from + p)
}

/// `text` with `range` blanked out: every byte that is not a line break becomes a space, so
/// every other offset, line and column stays where it was.
pub fn blank(text: &str, range: Range<usize>) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for b in &mut bytes[range] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        items(text).iter().map(|i| &text[i.range.clone()]).collect()
    }

    #[test]
    fn finds_top_level_blocks_through_strings_templates_and_heredocs() {
        let text = r#"# comment
resource "a" "b" {
  x = "}${upper("{")}"
  y = <<EOF
}
EOF
}
/* block
comment */
locals { z = { a = 1 } }
"#;
        let s = spans(text);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("resource") && s[0].ends_with('}'));
        assert_eq!(s[1], "locals { z = { a = 1 } }");
    }

    #[test]
    fn an_unterminated_string_is_found_where_it_opens() {
        let text = "resource \"a\" \"b\" {\n  name = \"broken\n}\nlocals {\n  x = 1\n}\n";
        let it = items(text);
        assert_eq!(it.len(), 2, "{it:?}");
        let (at, msg) = it[0].lex_error.clone().unwrap();
        assert_eq!(at, text.find("\"broken").unwrap());
        assert!(msg.contains("unterminated string"));
        assert_eq!(it[1].lex_error, None);
    }

    proptest::proptest! {
        /// Any text: the scan ends, and items are in order, inside the text and apart.
        #[test]
        fn any_text_scans_into_ordered_items(text in "[ -~\n{}\"$%<#/*-]{0,200}") {
            let it = items(&text);
            let mut last = 0;
            for i in &it {
                proptest::prop_assert!(i.range.start >= last && i.range.end <= text.len());
                proptest::prop_assert!(i.range.start <= i.range.end);
                last = i.range.end;
            }
        }
    }

    #[test]
    fn blanking_keeps_offsets() {
        let t = "ab\ncd é\nef";
        let b = blank(t, 3..9);
        assert_eq!(b.len(), t.len());
        assert_eq!(&b[9..], "ef");
        assert_eq!(b.matches('\n').count(), 2);
    }
}
