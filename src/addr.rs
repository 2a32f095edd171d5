//! Typed addresses: a block (`image.g`, `data.server.web`) and one instance of a block (`image.g`,
//! `image.g[0]`, `image.g["web"]`).
//!
//! They are different types so that handing an instance address to code that wants a block
//! address (or the reverse) does not compile: the dependency graph is keyed by blocks, state and
//! plans by instances, and `InstanceAddr::block` is the one way from one to the other. Both are
//! written to files as the strings users type.

use crate::value::Value;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A `resource` or `data` block: `image.golden`, `data.server.web`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockAddr {
    /// A `data` block (`data.TYPE.NAME`) rather than a managed resource (`TYPE.NAME`).
    pub data: bool,
    pub kind: String,
    pub name: String,
}

/// The key of one instance: a `count` index or a `for_each` key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    Index(u64),
    Key(String),
}

/// One instance of a block: `image.g` (no `count`/`for_each`), `image.g[0]`, `image.g["web"]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstanceAddr {
    pub block: BlockAddr,
    pub key: Option<InstanceKey>,
}

impl BlockAddr {
    pub fn resource(kind: impl Into<String>, name: impl Into<String>) -> BlockAddr {
        BlockAddr {
            data: false,
            kind: kind.into(),
            name: name.into(),
        }
    }

    pub fn data(kind: impl Into<String>, name: impl Into<String>) -> BlockAddr {
        BlockAddr {
            data: true,
            kind: kind.into(),
            name: name.into(),
        }
    }

    /// The instance of this block with `key` (`None` for a block without count/for_each).
    pub fn instance(&self, key: Option<InstanceKey>) -> InstanceAddr {
        InstanceAddr {
            block: self.clone(),
            key,
        }
    }
}

impl InstanceKey {
    /// `count.index` (a number) or `each.key` (a string).
    pub fn to_value(&self) -> Value {
        match self {
            InstanceKey::Index(i) => Value::Number((*i).into()),
            InstanceKey::Key(k) => Value::String(k.clone()),
        }
    }

    /// The key of a numeric (count) or string (for_each) value.
    pub fn from_value(v: &Value) -> Option<InstanceKey> {
        match v {
            Value::Number(n) => n.as_u64().map(InstanceKey::Index),
            Value::String(s) => Some(InstanceKey::Key(s.clone())),
            _ => None,
        }
    }
}

impl InstanceAddr {
    /// True when this instance belongs to `block`.
    pub fn is_in(&self, block: &BlockAddr) -> bool {
        &self.block == block
    }
}

impl fmt::Display for BlockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.data {
            write!(f, "data.{}.{}", self.kind, self.name)
        } else {
            write!(f, "{}.{}", self.kind, self.name)
        }
    }
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => write!(f, "[{}]", serde_json::Value::String(k.clone())),
        }
    }
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.block)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not an address; expected TYPE.NAME, TYPE.NAME[0], TYPE.NAME[\"key\"] or data.TYPE.NAME"
)]
pub struct AddrError(pub String);

fn ident_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl FromStr for BlockAddr {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddrError(s.to_string());
        let parts: Vec<&str> = s.split('.').collect();
        let addr = match parts.as_slice() {
            ["data", kind, name] => BlockAddr::data(*kind, *name),
            [kind, name] if *kind != "data" => BlockAddr::resource(*kind, *name),
            _ => return Err(err()),
        };
        if !ident_ok(&addr.kind) || !ident_ok(&addr.name) {
            return Err(err());
        }
        Ok(addr)
    }
}

impl FromStr for InstanceKey {
    type Err = AddrError;

    /// `0` or `"web"` (the part between the brackets).
    fn from_str(inner: &str) -> Result<Self, Self::Err> {
        if inner.starts_with('"') {
            serde_json::from_str::<String>(inner)
                .map(InstanceKey::Key)
                .map_err(|_| AddrError(inner.to_string()))
        } else {
            inner
                .parse::<u64>()
                .map(InstanceKey::Index)
                .map_err(|_| AddrError(inner.to_string()))
        }
    }
}

impl FromStr for InstanceAddr {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || AddrError(s.to_string());
        match s.find('[') {
            None => Ok(InstanceAddr {
                block: s.parse()?,
                key: None,
            }),
            Some(i) => {
                let inner = s[i + 1..].strip_suffix(']').ok_or_else(err)?;
                Ok(InstanceAddr {
                    block: s[..i].parse().map_err(|_| err())?,
                    key: Some(inner.parse().map_err(|_| err())?),
                })
            }
        }
    }
}

/// A block or one instance of it: what `--target`, `moved`, `removed` and dependency lists name.
/// A block stands for all its instances.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Block(BlockAddr),
    Instance(InstanceAddr),
}

impl Target {
    pub fn block(&self) -> &BlockAddr {
        match self {
            Target::Block(b) => b,
            Target::Instance(i) => &i.block,
        }
    }

    /// True when `addr` is this instance, or an instance of this block.
    pub fn matches(&self, addr: &InstanceAddr) -> bool {
        match self {
            Target::Block(b) => &addr.block == b,
            Target::Instance(i) => i == addr,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Block(b) => write!(f, "{b}"),
            Target::Instance(i) => write!(f, "{i}"),
        }
    }
}

impl FromStr for Target {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains('[') {
            s.parse().map(Target::Instance)
        } else {
            s.parse().map(Target::Block)
        }
    }
}

impl From<InstanceAddr> for Target {
    fn from(a: InstanceAddr) -> Self {
        Target::Instance(a)
    }
}

impl From<BlockAddr> for Target {
    fn from(b: BlockAddr) -> Self {
        Target::Block(b)
    }
}

macro_rules! string_serde {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_serde!(BlockAddr);
string_serde!(InstanceAddr);
string_serde!(Target);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_strings() {
        for s in [
            "image.g",
            "data.server.web",
            "image.g[0]",
            "image.g[\"web-01\"]",
            "data.server.s[\"a b\"]",
        ] {
            let a: InstanceAddr = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
            let j = serde_json::to_string(&a).unwrap();
            let back: InstanceAddr = serde_json::from_str(&j).unwrap();
            assert_eq!(back, a);
        }
        assert!("image".parse::<InstanceAddr>().is_err());
        assert!("image.g[x]".parse::<InstanceAddr>().is_err());
        assert!("data.server".parse::<BlockAddr>().is_err());
    }

    #[test]
    fn addresses_work_as_json_map_keys() {
        let mut m = std::collections::BTreeMap::new();
        m.insert("image.g[1]".parse::<InstanceAddr>().unwrap(), 1);
        m.insert("image.g[10]".parse::<InstanceAddr>().unwrap(), 10);
        m.insert("image.g[2]".parse::<InstanceAddr>().unwrap(), 2);
        // Numeric keys sort as numbers, not as strings.
        assert_eq!(m.values().copied().collect::<Vec<_>>(), [1, 2, 10]);
        let j = serde_json::to_string(&m).unwrap();
        let back: std::collections::BTreeMap<InstanceAddr, i32> = serde_json::from_str(&j).unwrap();
        assert_eq!(back, m);
    }
}
