//! The two traits a kind implements: [`Resource`] (managed objects) and [`DataSource`].
//!
//! The planning hooks are pure: the planner calls them with values only. The refresh, import
//! and apply hooks talk to the cloud through the provider; apply's hooks get an [`Op`] with
//! what the apply coordinator offers (a parallelism slot per call, a journal, the snapshot
//! poller).

use super::op::{BoxFut, Op};
use super::views::{Answered, Views};
use crate::config::schema::Schema;
use crate::provider::{Client, ProviderError};
use crate::state::{Intent, ResourceState};
use crate::value::{Map, Value};

pub use super::views::Listing;

/// One object a `list` block found.
#[derive(Clone, Debug)]
pub struct Found {
    /// The cloud's id (what an `import` block names).
    pub id: String,
    /// What a readable address is made from (the image's or the server's name).
    pub name: String,
    /// Key attributes, for the listing.
    pub attributes: Map,
    /// A note for generated configuration (a scheduled snapshot the service may cull).
    pub note: Option<String>,
}

/// The arguments among `attrs` a generated block needs: the schema's non-computed attributes
/// that hold something (no nulls, `false`s or empty collections: their defaults).
pub fn arguments_of(schema: &Schema, attrs: &Map) -> Map {
    schema
        .attrs
        .iter()
        .filter(|a| !a.computed)
        .filter_map(|a| {
            let v = attrs.get(a.name)?;
            let empty = match v {
                Value::Null | Value::Bool(false) => true,
                Value::Map(m) => m.is_empty(),
                Value::List(l) => l.is_empty(),
                _ => false,
            };
            (!empty).then(|| (a.name.to_string(), v.clone()))
        })
        .collect()
}

/// An object read for import: its state attributes and whether it is broken (tainted).
#[derive(Debug, Clone)]
pub struct Imported {
    pub attributes: Map,
    pub tainted: bool,
}

/// What an interrupted create made, found again: its id, state attributes and whether it is
/// broken.
#[derive(Debug, Clone)]
pub struct Adopted {
    pub id: String,
    pub attributes: Map,
    pub tainted: bool,
}

/// Why a data source could not be read.
#[derive(Debug)]
pub enum ReadError {
    Provider(ProviderError),
    /// The arguments select nothing, or too much; the message says which.
    Selection(String),
}

impl From<ProviderError> for ReadError {
    fn from(e: ProviderError) -> Self {
        ReadError::Provider(e)
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Provider(e) => write!(f, "{e}"),
            ReadError::Selection(m) => f.write_str(m),
        }
    }
}

/// A managed resource kind.
pub trait Resource: Sync {
    /// The type label in configuration: `image`.
    fn name(&self) -> &'static str;
    fn schema(&self) -> &'static Schema;
    /// A short description and an example block, for the generated reference.
    fn docs(&self) -> (&'static str, &'static str) {
        ("", "")
    }

    // --- planning (pure) ---

    /// Checks on known argument values: the attribute at fault and what is wrong.
    fn validate(&self, _args: &Map) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// The normal form of an argument, with the default of an unset optional one, so that
    /// "unset" and "default" compare equal.
    fn normalized(&self, _name: &str, v: Option<&Value>) -> Value {
        match v {
            Some(Value::Null) | None => Value::Null,
            Some(v) => v.clone(),
        }
    }

    /// The cloud's current attributes as they count for diffing (e.g. metadata restricted to
    /// the keys this resource owns).
    fn view(&self, current: &Map, _desired: &Map, _prior: Option<&ResourceState>) -> Map {
        current.clone()
    }

    /// Computed attributes that are known from the arguments (an id that is an argument).
    fn known_computed(&self, _desired: &Map) -> Map {
        Map::new()
    }

    /// Whether a change of `attr` forces replacement beyond the schema's `forces_new`, given
    /// whether the cloud offers the Image API v2.
    fn replaces_on(&self, _attr: &str, _image_api: bool) -> bool {
        false
    }

    /// The cloud's attributes say the object is broken; the next plan replaces it.
    fn broken(&self, _current: &Map) -> bool {
        false
    }

    /// The object is still being made — a snapshot still saving after an apply stopped before
    /// it finished: why, for the plan. The plan then shows no drift for it and plans an update
    /// that waits for it first, so nothing that depends on it runs against it too early.
    fn pending(&self, _current: &Map) -> Option<&'static str> {
        None
    }

    /// A key at most one instance of this kind may hold (the server of a schedule), and what
    /// two instances holding it would both do, said as "both …" continues.
    fn exclusive(&self, _args: &Map) -> Option<(String, String)> {
        None
    }

    /// Attributes that repeat another's values as the cloud reports them (`all_metadata`
    /// holds `metadata`'s): a sensitive value of the one is sensitive in the other.
    fn echoes(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The metadata keys this resource manages once the change is applied.
    fn managed_keys(&self, desired: &Map) -> Vec<String> {
        desired
            .get("metadata")
            .and_then(Value::as_map)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    // --- refresh and import ---

    /// True when refresh answers this kind from the provider's image listing.
    fn listed(&self) -> bool {
        false
    }

    /// For a listed kind: the attributes refresh produces, and how many of the first ones
    /// must be present for state to stand in for the cloud in an incremental refresh.
    fn refreshed_attributes(&self) -> (&'static [&'static str], usize) {
        (&[], 0)
    }

    /// State may go stale without the cloud's `updated` moving (a snapshot still saving).
    fn volatile(&self, _rs: &ResourceState) -> bool {
        false
    }

    /// True when refresh can answer this kind from the provider's server listing.
    fn served(&self) -> bool {
        false
    }

    /// The current attributes of a resource in state; `None` when the object is gone. `views`
    /// holds what refresh already listed (the images, for a listed kind; the servers, for a
    /// served kind, when enough of them are wanted).
    fn read<'a>(
        &'a self,
        client: &'a Client,
        rs: &'a ResourceState,
        views: &'a Views,
    ) -> BoxFut<'a, Result<Option<Map>, ProviderError>>;

    /// The filters a `list` block of this kind takes (`snapform query`); `None`: not listable.
    fn list_filters(&self) -> Option<&'static [&'static str]> {
        None
    }

    /// Everything `snapform query` finds for a `list` block with these filters, in a stable
    /// order.
    fn list<'a>(
        &'a self,
        _client: &'a Client,
        _filters: &'a Map,
    ) -> BoxFut<'a, Result<Vec<Found>, String>> {
        Box::pin(async move { Err(format!("{} objects cannot be listed", self.name())) })
    }

    /// `plan -generate-config-out`: the arguments of a resource block for the object `id` such
    /// that, imported, it plans no change. `Err` says why this kind cannot.
    fn generate<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFut<'a, Result<Map, String>> {
        Box::pin(async move {
            let imported = self.import(client, id, &[]).await?;
            Ok(arguments_of(self.schema(), &imported.attributes))
        })
    }

    /// Reads an existing object for import, or says why it cannot be managed.
    fn import<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
        managed_keys: &'a [String],
    ) -> BoxFut<'a, Result<Imported, String>>;

    /// Resolves an intent an interrupted apply journaled: the object it made (to adopt), or
    /// `None` when it made none.
    fn reconcile<'a>(
        &'a self,
        _client: &'a Client,
        _intent: &'a Intent,
        _known_ids: &'a [String],
    ) -> BoxFut<'a, Result<Option<Adopted>, ProviderError>> {
        Box::pin(async { Ok(None) })
    }

    // --- apply ---

    fn create<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>>;
    fn update<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>>;
    fn delete<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<(), String>>;
}

/// A data source.
pub trait DataSource: Sync {
    /// The type label in configuration: `server`.
    fn name(&self) -> &'static str;
    fn schema(&self) -> &'static Schema;
    /// A short description and an example block, for the generated reference.
    fn docs(&self) -> (&'static str, &'static str) {
        ("", "")
    }
    /// Reads the data source with these (known) arguments.
    /// Which listing can answer a read (so that many instances cost one listing).
    fn answered_by(&self, _args: &Map) -> Answered {
        Answered::Alone
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        args: &'a Map,
        views: &'a Views,
    ) -> BoxFut<'a, Result<Map, ReadError>>;
}
