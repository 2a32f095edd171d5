//! Encoding state for the remote backends (pg, http): parsing stored text (format version
//! first), deciding whether and with which serial to write, and refusing another lineage.

use super::{FORMAT_VERSION, State, StateError};

/// Refuses a state whose lineage differs from the stored one.
pub(super) fn check_lineage(stored: Option<&str>, state: &State) -> Result<(), StateError> {
    match stored {
        Some(l) if l != state.lineage => Err(StateError::Lineage {
            expected: l.to_string(),
            found: state.lineage.clone(),
        }),
        _ => Ok(()),
    }
}

/// Decides what a remote backend writes: `None` when the content is unchanged (or nothing was
/// ever stored and there is nothing to store), else the next serial (above both the state's and
/// the stored one's) and the JSON text with it.
pub(super) fn prepare(
    last: Option<&State>,
    stored_serial: Option<u64>,
    state: &State,
) -> Result<Option<(u64, String)>, String> {
    if let Some(prev) = last
        && prev.same_content(state)
        && !super::crypt::read_clear_text()
    {
        return Ok(None);
    }
    let empty = state.resources.is_empty()
        && state.journal.is_empty()
        && state.outputs.is_empty()
        && state.cursors.is_empty();
    if stored_serial.is_none() && empty {
        return Ok(None);
    }
    let serial = state.serial.max(stored_serial.unwrap_or(0)) + 1;
    let mut next = state.clone();
    next.serial = serial;
    let text = serde_json::to_string_pretty(&next).map_err(|e| e.to_string())?;
    let text = super::crypt::seal(&text)?;
    Ok(Some((serial, text)))
}

/// Parses stored state text, checking the format version first.
pub(super) fn parse_state(text: &str, backend: &str, target: &str) -> Result<State, StateError> {
    let text = super::crypt::open(text, &format!("the state at {target} ({backend} backend)"))
        .map_err(StateError::Encryption)?;
    let text = text.as_ref();
    #[derive(serde::Deserialize)]
    struct Header {
        format_version: u32,
    }
    let corrupt = |e: serde_json::Error| StateError::Corrupt {
        path: format!("{target} ({backend} backend)"),
        message: e.to_string(),
    };
    let h: Header = serde_json::from_str(text).map_err(corrupt)?;
    if h.format_version != FORMAT_VERSION {
        return Err(StateError::Version {
            path: format!("{target} ({backend} backend)"),
            found: h.format_version,
        });
    }
    serde_json::from_str(text).map_err(corrupt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_skips_unchanged_and_empty_and_bumps_serial() {
        let mut s = State::new();
        assert_eq!(
            prepare(None, None, &s).unwrap(),
            None,
            "nothing to store yet"
        );
        s.cursors.insert("c".into(), "1".into());
        let (serial, text) = prepare(None, None, &s).unwrap().unwrap();
        assert_eq!(serial, 1);
        assert!(text.contains("\"serial\": 1"), "{text}");
        s.serial = 1;
        assert_eq!(prepare(Some(&s.clone()), Some(1), &s).unwrap(), None);
        s.cursors.insert("c".into(), "2".into());
        assert_eq!(
            prepare(Some(&State::new()), Some(5), &s)
                .unwrap()
                .unwrap()
                .0,
            6
        );
    }

    #[test]
    fn another_lineage_is_refused() {
        let s = State::new();
        assert!(check_lineage(None, &s).is_ok());
        assert!(check_lineage(Some(&s.lineage), &s).is_ok());
        let err = check_lineage(Some("other"), &s).unwrap_err();
        assert!(err.to_string().contains("lineage"), "{err}");
    }
}
