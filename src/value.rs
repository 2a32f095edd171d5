//! `Value`: the dynamic value of configuration, plans and state, with `Unknown` for values known only after apply.
//!
//! HCL's own `hcl::Value` cannot say "unknown", so evaluation works on this type and converts at
//! the edges. An unknown is never a placeholder string: it is its own variant, rendered as
//! `(known after apply)` by the CLI and serialized as `{"$unknown": true}` in plan files.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// A configuration or state value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Known only after apply.
    Unknown,
    /// A sensitive value: shown as `(sensitive value)`, never written to plans or logs. The mark
    /// propagates through every expression that reads it.
    Sensitive(Box<Value>),
}

pub type Map = BTreeMap<String, Value>;

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    pub fn int(n: i64) -> Value {
        Value::Number(n.into())
    }

    /// Marks `v` sensitive (once: a mark is never doubled).
    pub fn sensitive(v: Value) -> Value {
        match v {
            s @ Value::Sensitive(_) => s,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// Marks `v` sensitive when `marked` is true.
    pub fn marked_if(v: Value, marked: bool) -> Value {
        if marked { Value::sensitive(v) } else { v }
    }

    /// The value under a sensitive mark (the value itself when it has none).
    pub fn peel(&self) -> &Value {
        match self {
            Value::Sensitive(v) => v.peel(),
            other => other,
        }
    }

    /// Removes a top-level mark: the bare value and whether it was marked.
    pub fn unmark(self) -> (Value, bool) {
        match self {
            Value::Sensitive(v) => (v.unmark().0, true),
            other => (other, false),
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when this value or anything inside it is marked sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(l) => l.iter().any(Value::contains_sensitive),
            Value::Map(m) => m.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// The same value with every sensitive mark removed, at any depth.
    pub fn unmarked(&self) -> Value {
        match self {
            Value::Sensitive(v) => v.unmarked(),
            Value::List(l) => Value::List(l.iter().map(Value::unmarked).collect()),
            Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), v.unmarked())).collect()),
            other => other.clone(),
        }
    }

    /// The same value with what is under each sensitive mark replaced by an unknown: what a
    /// serialized value reads back as (apply evaluates those values again from its inputs).
    pub fn redacted(&self) -> Value {
        match self {
            Value::Sensitive(_) => Value::Sensitive(Box::new(Value::Unknown)),
            Value::List(l) => Value::List(l.iter().map(Value::redacted).collect()),
            Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), v.redacted())).collect()),
            other => other.clone(),
        }
    }

    /// Every primitive under a sensitive mark, as text (for redacting logs and messages).
    pub fn sensitive_strings(&self, out: &mut Vec<String>) {
        fn leaves(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::List(l) => l.iter().for_each(|x| leaves(x, out)),
                Value::Map(m) => m.values().for_each(|x| leaves(x, out)),
                Value::Sensitive(x) => leaves(x, out),
                other => {
                    if let Some(s) = other.to_plain_string() {
                        out.push(s);
                    }
                }
            }
        }
        match self {
            Value::Sensitive(v) => leaves(v, out),
            Value::List(l) => l.iter().for_each(|x| x.sensitive_strings(out)),
            Value::Map(m) => m.values().for_each(|x| x.sensitive_strings(out)),
            _ => {}
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.peel(), Value::Unknown)
    }

    /// True when this value or anything inside it is unknown.
    pub fn contains_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(l) => l.iter().any(Value::contains_unknown),
            Value::Map(m) => m.values().any(Value::contains_unknown),
            Value::Sensitive(v) => v.contains_unknown(),
            _ => false,
        }
    }

    // The accessors below see through a sensitive mark: they are for using a value (sending it
    // to the cloud, checking a range), not for showing it. Showing goes through `Display` and
    // serialization, which keep the mark.

    pub fn as_str(&self) -> Option<&str> {
        match self.peel() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.peel() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.peel() {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            }),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&Map> {
        match self.peel() {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self.peel() {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Follows a path of attribute names / indexes; `None` when a step does not exist.
    /// Stepping into an unknown yields an unknown.
    pub fn get_path(&self, path: &[PathStep]) -> Option<&Value> {
        let mut cur = self;
        for step in path {
            cur = match (cur.peel(), step) {
                (Value::Unknown, _) => return Some(&Value::Unknown),
                (Value::Map(m), PathStep::Attr(k)) => m.get(k)?,
                (Value::Map(m), PathStep::Index(i)) => m.get(&i.to_string())?,
                (Value::List(l), PathStep::Index(i)) => l.get(*i as usize)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// A short human name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "unknown",
            Value::Sensitive(v) => v.type_name(),
        }
    }

    /// Converts a fully known value into `hcl::Value` for evaluation.
    pub fn to_hcl(&self) -> hcl::Value {
        match self {
            Value::Null | Value::Unknown => hcl::Value::Null,
            Value::Sensitive(v) => v.to_hcl(),
            Value::Bool(b) => hcl::Value::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    hcl::Value::Number(i.into())
                } else if let Some(u) = n.as_u64() {
                    hcl::Value::Number(u.into())
                } else {
                    hcl::Number::from_f64(n.as_f64().unwrap_or(0.0))
                        .map(hcl::Value::Number)
                        .unwrap_or(hcl::Value::Null)
                }
            }
            Value::String(s) => hcl::Value::String(s.clone()),
            Value::List(l) => hcl::Value::Array(l.iter().map(Value::to_hcl).collect()),
            Value::Map(m) => {
                hcl::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_hcl())).collect())
            }
        }
    }

    pub fn from_hcl(v: &hcl::Value) -> Value {
        match v {
            hcl::Value::Null => Value::Null,
            hcl::Value::Bool(b) => Value::Bool(*b),
            hcl::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::Number(u.into())
                } else {
                    serde_json::Number::from_f64(n.as_f64().unwrap_or(0.0))
                        .map(Value::Number)
                        .unwrap_or(Value::Null)
                }
            }
            hcl::Value::String(s) => Value::String(s.clone()),
            hcl::Value::Array(a) => Value::List(a.iter().map(Value::from_hcl).collect()),
            hcl::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_hcl(v)))
                    .collect(),
            ),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Unknown => serde_json::json!({ UNKNOWN_KEY: true }),
            // Never the value itself: whatever is serialized (plans, JSON output, logs) shows
            // only that there was one. State stores values unmarked, with the names of its
            // sensitive attributes beside them.
            Value::Sensitive(_) => serde_json::json!({ SENSITIVE_KEY: true }),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => {
                if o.len() == 1 && o.get(UNKNOWN_KEY) == Some(&serde_json::Value::Bool(true)) {
                    Value::Unknown
                } else if o.len() == 1
                    && o.get(SENSITIVE_KEY) == Some(&serde_json::Value::Bool(true))
                {
                    Value::sensitive(Value::Unknown)
                } else {
                    Value::Map(
                        o.iter()
                            .map(|(k, v)| (k.clone(), Value::from_json(v)))
                            .collect(),
                    )
                }
            }
        }
    }

    /// A string map from a map value whose entries are all strings (or numbers/bools, converted).
    pub fn to_string_map(&self) -> Option<BTreeMap<String, String>> {
        let m = self.as_map()?;
        m.iter()
            .map(|(k, v)| Some((k.clone(), v.to_plain_string()?)))
            .collect()
    }

    /// The string form of a primitive, as HCL converts primitives to strings.
    pub fn to_plain_string(&self) -> Option<String> {
        match self.peel() {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

const UNKNOWN_KEY: &str = "$unknown";
const SENSITIVE_KEY: &str = "$sensitive";

/// One step of a reference path: `.name` or `[index]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathStep {
    Attr(String),
    Index(u64),
}

impl fmt::Display for Value {
    /// HCL-like rendering used by plan output: strings quoted, unknown as `(known after apply)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{n}"),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::Unknown => f.write_str("(known after apply)"),
            Value::Sensitive(_) => f.write_str("(sensitive value)"),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} = {v}", serde_json::Value::String(k.clone()))?;
                }
                f.write_str("}")
            }
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Number(n) => n.serialize(s),
            Value::String(x) => s.serialize_str(x),
            Value::List(l) => {
                let mut seq = s.serialize_seq(Some(l.len()))?;
                for v in l {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Value::Unknown => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(UNKNOWN_KEY, &true)?;
                map.end()
            }
            // Never the value itself: whatever is serialized (plans, JSON output, logs) shows
            // only that there was one. State stores values unmarked, with the names of its
            // sensitive attributes beside them.
            Value::Sensitive(_) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(SENSITIVE_KEY, &true)?;
                map.end()
            }
        }
    }
}

/// Reads a value straight from the input, without an intermediate JSON tree.
struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = a.next_element()? {
            out.push(v);
        }
        Ok(Value::List(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some((k, v)) = a.next_entry::<String, Value>()? {
            out.insert(k, v);
        }
        if out.len() == 1 {
            if out.get(UNKNOWN_KEY) == Some(&Value::Bool(true)) {
                return Ok(Value::Unknown);
            }
            if out.get(SENSITIVE_KEY) == Some(&Value::Bool(true)) {
                return Ok(Value::sensitive(Value::Unknown));
            }
        }
        Ok(Value::Map(out))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<BTreeMap<String, String>> for Value {
    fn from(m: BTreeMap<String, String>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_round_trips_through_json() {
        let v = Value::Map([("id".to_string(), Value::Unknown)].into());
        let j = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(back, v);
        assert!(back.contains_unknown());
    }

    #[test]
    fn sensitive_marks_round_trip_and_redact() {
        let v = Value::Map(
            [
                ("name".to_string(), Value::sensitive(Value::str("s3cret"))),
                ("id".to_string(), Value::str("x")),
            ]
            .into(),
        );
        let j = serde_json::to_string(&v).unwrap();
        assert!(!j.contains("s3cret"), "{j}");
        assert_eq!(serde_json::from_str::<Value>(&j).unwrap(), v.redacted());
        assert!(!v.to_string().contains("s3cret"), "{v}");
        assert_eq!(v.unmarked().as_map().unwrap()["name"], Value::str("s3cret"));
        assert_eq!(v.as_map().unwrap()["name"].as_str(), Some("s3cret"));
        let mut leaves = Vec::new();
        v.sensitive_strings(&mut leaves);
        assert_eq!(leaves, ["s3cret"]);
        assert_eq!(
            Value::sensitive(Value::sensitive(Value::Null)),
            Value::sensitive(Value::Null)
        );
    }

    #[test]
    fn path_into_unknown_is_unknown() {
        let v = Value::Map([("a".to_string(), Value::Unknown)].into());
        let p = [PathStep::Attr("a".into()), PathStep::Attr("b".into())];
        assert_eq!(v.get_path(&p), Some(&Value::Unknown));
        assert_eq!(v.get_path(&[PathStep::Attr("x".into())]), None);
    }
}
