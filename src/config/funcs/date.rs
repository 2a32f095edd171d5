//! Configuration functions: formatdate.

#[allow(unused_imports)]
use super::args::*;

pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

pub(super) fn formatdate(args: FuncArgs) -> Res {
    let spec = arg_str("formatdate", "format specification", &args[0])?;
    let ts = arg_str("formatdate", "timestamp", &args[1])?;
    let t = DateTime::parse_from_rfc3339(&ts).map_err(|e| {
        format!("formatdate: timestamp must be an RFC 3339 timestamp like \"2006-01-02T15:04:05Z\", got {ts:?} ({e})")
    })?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            // `''` is a literal quote; otherwise a quoted literal runs to the next lone quote.
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(
                            "formatdate: unterminated quoted literal in format specification"
                                .into(),
                        );
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        out.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(&lit) => {
                        out.push(lit);
                        i += 1;
                    }
                }
            }
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        date_token(&mut out, &t, c, n)?;
        i += n;
    }
    str_value(out)
}

pub(super) fn date_token(
    out: &mut String,
    t: &DateTime<FixedOffset>,
    c: char,
    n: usize,
) -> Result<(), String> {
    use std::fmt::Write;
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset = t.offset().local_minus_utc();
    let (osign, oabs) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    let (oh, om) = (oabs / 3600, (oabs % 3600) / 60);
    let _ = match (c, n) {
        ('Y', 4) => write!(out, "{:04}", t.year()),
        ('Y', 2) => write!(out, "{:02}", t.year().rem_euclid(100)),
        ('M', 4) => write!(out, "{}", MONTHS[t.month0() as usize]),
        ('M', 3) => write!(out, "{}", &MONTHS[t.month0() as usize][..3]),
        ('M', 2) => write!(out, "{:02}", t.month()),
        ('M', 1) => write!(out, "{}", t.month()),
        ('D', 2) => write!(out, "{:02}", t.day()),
        ('D', 1) => write!(out, "{}", t.day()),
        ('E', 4) => write!(
            out,
            "{}",
            WEEKDAYS[t.weekday().num_days_from_monday() as usize]
        ),
        ('E', 3) => write!(
            out,
            "{}",
            &WEEKDAYS[t.weekday().num_days_from_monday() as usize][..3]
        ),
        ('h', 2) => write!(out, "{:02}", t.hour()),
        ('h', 1) => write!(out, "{}", t.hour()),
        ('H', 2) => write!(out, "{hour12:02}"),
        ('H', 1) => write!(out, "{hour12}"),
        ('A', 2) => write!(out, "{}", if t.hour() < 12 { "AM" } else { "PM" }),
        ('a', 2) => write!(out, "{}", if t.hour() < 12 { "am" } else { "pm" }),
        ('m', 2) => write!(out, "{:02}", t.minute()),
        ('m', 1) => write!(out, "{}", t.minute()),
        ('s', 2) => write!(out, "{:02}", t.second()),
        ('s', 1) => write!(out, "{}", t.second()),
        ('Z', 5) => write!(out, "{osign}{oh:02}:{om:02}"),
        ('Z', 4) => write!(out, "{osign}{oh:02}{om:02}"),
        ('Z', 3) if offset == 0 => write!(out, "UTC"),
        ('Z', 3) => write!(out, "{osign}{oh:02}{om:02}"),
        ('Z', 1) if offset == 0 => write!(out, "Z"),
        ('Z', 1) => write!(out, "{osign}{oh:02}:{om:02}"),
        _ => {
            let seq: String = std::iter::repeat_n(c, n).collect();
            return Err(format!(
                "formatdate: invalid date format sequence {seq:?} in format specification (quote literal letters like 'T')"
            ));
        }
    };
    Ok(())
}
