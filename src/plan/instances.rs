//! Instances of a block: one, or one per `count` index or `for_each` key, with the
//! `count.index` / `each.key` / `each.value` values their expressions see.

use crate::config::eval::{self, Scope};
use crate::config::{Diagnostic, ObjectBlock};
use crate::value::{Map, Value};
use std::collections::BTreeMap;

/// One instance of a block.
#[derive(Clone, Debug)]
pub struct Instance {
    /// `image.g`, `image.g[0]` or `image.g["web"]`.
    pub address: String,
    pub key: Option<Value>,
    pub each_value: Option<Value>,
}

impl Instance {
    /// Makes `count.index` or `each.key`/`each.value` visible in `scope`.
    pub fn enter(&self, scope: &mut Scope) {
        enter(scope, self.key.as_ref(), self.each_value.as_ref());
    }

    pub fn leave(scope: &mut Scope) {
        scope.remove_root("count");
        scope.remove_root("each");
    }
}

/// Sets `count.index` (numeric key) or `each.key`/`each.value` (string key) in `scope`.
pub fn enter(scope: &mut Scope, key: Option<&Value>, each_value: Option<&Value>) {
    match key {
        Some(k @ Value::Number(_)) => {
            scope.set_root(
                "count",
                Value::Map([("index".to_string(), k.clone())].into()),
            );
        }
        Some(k) => {
            let mut m = Map::new();
            m.insert("key".into(), k.clone());
            m.insert("value".into(), each_value.cloned().unwrap_or(Value::Null));
            scope.set_root("each", Value::Map(m));
        }
        None => {}
    }
}

/// Expands a block into its instances. `count` and `for_each` must be known at plan time;
/// when they are not and `lenient` is set, the answer is `None` (unknown) instead of an error.
pub fn instances(
    block: &ObjectBlock,
    scope: &Scope,
    lenient: bool,
) -> Result<Option<Vec<Instance>>, Diagnostic> {
    let addr = &block.addr;
    if let Some(c) = &block.count {
        let v = eval::eval(c, scope)?;
        let err = |m: String| Diagnostic::error(format!("{addr}: {m}"), Some(c.span.clone()));
        if v.contains_unknown() && lenient {
            return Ok(None);
        }
        if v.contains_unknown() {
            return Err(err(
                "count depends on values known only after apply; it must be known when planning"
                    .into(),
            ));
        }
        let n = match eval::conform(v.clone(), crate::config::schema::Ty::Number)
            .ok()
            .and_then(|n| n.as_i64())
        {
            Some(n) if (0..=10_000).contains(&n) => n as u64,
            _ => {
                return Err(err(format!(
                    "count must be a whole number from 0 to 10000, found {v}"
                )));
            }
        };
        return Ok(Some(
            (0..n)
                .map(|i| Instance {
                    address: format!("{addr}[{i}]"),
                    key: Some(Value::Number(i.into())),
                    each_value: None,
                })
                .collect(),
        ));
    }
    if let Some(f) = &block.for_each {
        let v = eval::eval(f, scope)?;
        let err = |m: String| Diagnostic::error(format!("{addr}: {m}"), Some(f.span.clone()));
        if v.contains_unknown() && lenient {
            return Ok(None);
        }
        if v.contains_unknown() {
            return Err(err(
                "for_each depends on values known only after apply; it must be known when planning"
                    .into(),
            ));
        }
        let pairs: BTreeMap<String, Value> = match &v {
            Value::Map(m) => m.clone(),
            Value::List(l) => {
                let mut out = BTreeMap::new();
                for x in l {
                    match x.to_plain_string() {
                        Some(s) => {
                            out.insert(s.clone(), Value::String(s));
                        }
                        None => {
                            return Err(err(format!(
                                "for_each over a list needs strings, found an element of type {}",
                                x.type_name()
                            )));
                        }
                    }
                }
                out
            }
            other => {
                return Err(err(format!(
                    "for_each must be a map or a set of strings, found {}",
                    other.type_name()
                )));
            }
        };
        return Ok(Some(
            pairs
                .into_iter()
                .map(|(k, v)| Instance {
                    address: format!("{addr}[{}]", Value::String(k.clone())),
                    key: Some(Value::String(k)),
                    each_value: Some(v),
                })
                .collect(),
        ));
    }
    Ok(Some(vec![Instance {
        address: addr.clone(),
        key: None,
        each_value: None,
    }]))
}

/// The value other blocks see for `block`: its attributes, a list (count) or a map (for_each).
pub fn block_value(block: &ObjectBlock, values: Vec<(Option<Value>, Value)>) -> Value {
    if block.count.is_some() {
        Value::List(values.into_iter().map(|(_, v)| v).collect())
    } else if block.for_each.is_some() {
        Value::Map(
            values
                .into_iter()
                .filter_map(|(k, v)| Some((k?.as_str()?.to_string(), v)))
                .collect(),
        )
    } else {
        values
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or(Value::Unknown)
    }
}
