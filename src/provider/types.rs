//! The values the provider returns (servers, images, schedules) and tolerant JSON readers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A server, as `/servers/detail` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Server {
    pub id: String,
    pub name: String,
    pub status: String,
    /// The image the server was built from; `None` when booted from a volume.
    pub image_id: Option<String>,
    /// `RAX-SI:image_schedule`, when scheduled images are enabled for the server.
    pub schedule: Option<Schedule>,
    /// `OS-EXT-STS:task_state`: `image_snapshot`, `image_uploading`, ... while busy.
    #[serde(default)]
    pub task_state: Option<String>,
    /// The view has `OS-EXT-STS:task_state` at all (`null` when idle). A cloud or mock that
    /// leaves it out says nothing about whether the server is busy.
    #[serde(default)]
    pub shows_task_state: bool,
}

/// A scheduled-images setting (RAX-SI). `day_of_week: None` means daily.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub retention: u32,
    /// `SUNDAY`…`SATURDAY`; upper-cased when read from the cloud.
    pub day_of_week: Option<String>,
}

/// Filters for [`crate::provider::Client::list_images`]. Every field maps to one query
/// parameter of `GET /images/detail`: `name`, `status`, `server`, `type`, `changes-since`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageQuery {
    pub name: Option<String>,
    pub status: Option<String>,
    pub server_id: Option<String>,
    /// `BASE` or `SNAPSHOT`.
    pub image_type: Option<String>,
    /// ISO-8601 time; the answer then includes DELETED images.
    pub changes_since: Option<String>,
    /// Ask for one page of at most this many images and do not follow `images_links`.
    pub limit: Option<u32>,
}

/// A listing and what it tells about the cloud's clock.
#[derive(Clone, Debug)]
pub struct ImageListing {
    pub images: Vec<Image>,
    /// The cloud's time when the listing started, as a cursor for `changes-since`: the later
    /// of the first page's HTTP `Date` and the latest `updated` on that page. Both are read
    /// from the cloud (never our clock) and neither can be later than the moment the first
    /// page was read (give or take the second's precision and the front end's skew, which
    /// the caller's safety margin covers): anything changed after it has a later `updated`.
    /// `None` when the cloud sent no usable date and no image.
    pub cloud_time: Option<chrono::DateTime<chrono::Utc>>,
    /// The first page's `Date` header alone.
    pub http_date: Option<chrono::DateTime<chrono::Utc>>,
}

/// An image, as the compute API's detail view shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SAVING`, `ERROR`, `DELETED` or `UNKNOWN`.
    pub status: String,
    pub progress: u32,
    /// Set on snapshots only: the server the snapshot was made from.
    pub server_id: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub min_disk: u64,
    pub min_ram: u64,
    pub size: Option<u64>,
    pub disk_config: Option<String>,
    pub created: String,
    pub updated: String,
    /// The fault message of an image in `ERROR`.
    pub fault: Option<String>,
    /// The Image API's own status (`deactivated`, `queued`, ...) when the image was read
    /// through it; the compute API shows some of them only as `UNKNOWN`.
    #[serde(default)]
    pub glance_status: Option<String>,
}

/// An image, as the Image API v2 (Glance, Rackspace Cloud Images) shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageV2 {
    pub id: String,
    pub name: String,
    /// Lowercase Glance status: `active`, `queued`, `saving`, `deactivated`, `killed`, ...
    pub status: String,
    pub protected: bool,
    /// Every other top-level attribute of the entity (visibility, size, tags, custom
    /// properties such as `image_type` or `com.rackspace__1__*`), except the links
    /// `self`, `file` and `schema`.
    pub properties: BTreeMap<String, Value>,
}

// ---- tolerant readers: clouds disagree on strings vs numbers, and on null vs absent ----

/// A string field; numbers and booleans are rendered, null/absent give `None`.
pub(crate) fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An unsigned integer field given as a number or a numeric string.
pub(crate) fn u64_field(obj: &Map<String, Value>, key: &str) -> Option<u64> {
    match obj.get(key)? {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A map whose values should be strings (compute metadata); other values are rendered as JSON.
pub(crate) fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    let Some(Value::Object(map)) = v else {
        return BTreeMap::new();
    };
    map.iter()
        .filter_map(|(k, v)| {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            };
            Some((k.clone(), s))
        })
        .collect()
}

/// The wire form of a schedule: `{"retention": N, "day_of_week": "SATURDAY"}`.
pub(crate) fn schedule_to_wire(s: &Schedule) -> Value {
    let mut obj = Map::new();
    obj.insert("retention".into(), Value::from(s.retention));
    if let Some(day) = &s.day_of_week {
        obj.insert("day_of_week".into(), Value::from(day.to_ascii_uppercase()));
    }
    Value::Object(obj)
}

/// Reads `{"retention": N|"N", "day_of_week": "saturday"?}`.
pub(crate) fn schedule_from_wire(v: &Value) -> Option<Schedule> {
    let obj = v.as_object()?;
    let retention = u32::try_from(u64_field(obj, "retention")?).ok()?;
    let day_of_week = str_field(obj, "day_of_week")
        .map(|d| d.trim().to_ascii_uppercase())
        .filter(|d| !d.is_empty());
    Some(Schedule {
        retention,
        day_of_week,
    })
}

/// A cloud timestamp (`YYYY-MM-DDThh:mm:ssZ`, or any RFC 3339 time).
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn readers_accept_strings_and_numbers() {
        let v = json!({"a": "5", "b": 6, "c": null, "d": true, "e": 7.0});
        let m = v.as_object().unwrap();
        assert_eq!(u64_field(m, "a"), Some(5));
        assert_eq!(u64_field(m, "b"), Some(6));
        assert_eq!(u64_field(m, "c"), None);
        assert_eq!(u64_field(m, "e"), Some(7));
        assert_eq!(str_field(m, "b").as_deref(), Some("6"));
        assert_eq!(str_field(m, "d").as_deref(), Some("true"));
        assert_eq!(str_field(m, "zzz"), None);
    }

    #[test]
    fn metadata_values_become_strings() {
        let v = json!({"a": "x", "b": 1, "c": null});
        let m = string_map(Some(&v));
        assert_eq!(m.get("a").unwrap(), "x");
        assert_eq!(m.get("b").unwrap(), "1");
        assert!(!m.contains_key("c"));
        assert!(string_map(Some(&json!([1]))).is_empty());
    }

    #[test]
    fn schedules_round_trip_and_upper_case_the_day() {
        let weekly = schedule_from_wire(&json!({"retention": "5", "day_of_week": "saturday"}));
        assert_eq!(
            weekly,
            Some(Schedule {
                retention: 5,
                day_of_week: Some("SATURDAY".into())
            })
        );
        let daily = Schedule {
            retention: 7,
            day_of_week: None,
        };
        assert_eq!(schedule_to_wire(&daily), json!({"retention": 7}));
        assert_eq!(schedule_from_wire(&schedule_to_wire(&daily)), Some(daily));
        assert_eq!(schedule_from_wire(&json!({"retention": "many"})), None);
    }
}
