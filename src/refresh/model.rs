//! What refresh works with: the connected clients by provider key, its error, and which kinds
//! it answers from an image listing.

use crate::provider::{Client, ProviderError};
use crate::resources;
use crate::state::ResourceState;
use std::collections::BTreeMap;

/// Connected clients by provider key (`rackspace`, `rackspace.lon`).
#[derive(Clone, Default)]
pub struct Clients {
    pub by_key: BTreeMap<String, Client>,
}

impl Clients {
    pub fn get(&self, key: &str) -> Result<&Client, RefreshError> {
        self.by_key
            .get(key)
            .or_else(|| {
                // An unaliased key also matches the only provider of that kind.
                self.by_key
                    .iter()
                    .find(|(k, _)| k.split('.').next() == Some(key))
                    .map(|(_, c)| c)
            })
            .ok_or_else(|| RefreshError::NoProvider(key.to_string()))
    }

    pub fn request_count(&self) -> u64 {
        self.by_key.values().map(Client::request_count).sum()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("no provider \"{0}\" is configured")]
    NoProvider(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{address}: {message}")]
    Data { address: String, message: String },
}

/// True when refresh answers `rs` from its provider's image listing.
pub(crate) fn listed(rs: &ResourceState) -> bool {
    resources::resource(&rs.kind).is_some_and(|k| k.listed())
}
