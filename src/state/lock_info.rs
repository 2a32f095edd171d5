//! The lock-info document of the http state protocol (`{"ID", "Operation", "Info", "Who",
//! "Version", "Created", "Path"}`): what snapform sends with LOCK/UNLOCK and how it describes
//! the holder a 409/423 answer names.

use serde::{Deserialize, Serialize};

/// The lock-info document of the protocol.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LockInfo {
    #[serde(rename = "ID", default)]
    pub id: String,
    #[serde(default)]
    pub operation: String,
    #[serde(default)]
    pub info: String,
    #[serde(default)]
    pub who: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub path: String,
}

impl LockInfo {
    /// A fresh lock for `operation` (`apply` → `OperationTypeApply`) by this process.
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: format!("OperationType{}", capitalize(operation)),
            info: String::new(),
            who: who(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            path: String::new(),
        }
    }
}

/// The start of a response body, for messages.
pub(super) fn snippet(body: &str) -> String {
    let t = body.trim();
    if t.is_empty() {
        return "(empty body)".into();
    }
    t.chars().take(200).collect()
}

/// "held by WHO for OPERATION, lock ID ..., since ..." from a 409/423 body.
pub(super) fn describe_holder(body: &str) -> String {
    match serde_json::from_str::<LockInfo>(body) {
        Ok(l) if !l.id.is_empty() || !l.who.is_empty() => format!(
            "held by {} for {}, lock ID {}, since {}",
            if l.who.is_empty() { "?" } else { &l.who },
            if l.operation.is_empty() {
                "?"
            } else {
                &l.operation
            },
            l.id,
            if l.created.is_empty() {
                "?"
            } else {
                &l.created
            }
        ),
        _ => format!("holder unknown: {}", snippet(body)),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `user@host (snapform pid N)`.
fn who() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host} (snapform pid {})", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_info_uses_the_protocol_field_names() {
        let l = LockInfo {
            id: "1".into(),
            who: "me".into(),
            ..LockInfo::default()
        };
        let j = serde_json::to_value(&l).unwrap();
        for k in [
            "ID",
            "Operation",
            "Info",
            "Who",
            "Version",
            "Created",
            "Path",
        ] {
            assert!(j.get(k).is_some(), "{k} in {j}");
        }
        assert!(describe_holder(&j.to_string()).contains("held by me"));
        assert_eq!(capitalize("apply"), "Apply");
    }

    #[test]
    fn a_new_lock_names_this_process_and_an_unreadable_holder_is_shown_raw() {
        let l = LockInfo::new("plan");
        assert_eq!(l.operation, "OperationTypePlan");
        assert!(
            l.who.contains(&format!("pid {}", std::process::id())),
            "{}",
            l.who
        );
        assert_eq!(l.id.len(), 36);
        assert!(describe_holder("busy").contains("holder unknown: busy"));
        assert_eq!(snippet("  "), "(empty body)");
    }
}
