//! What one plan has listed, per provider, so that every read of the plan — refresh, then
//! each round of data sources — shares it: the server listing (read once when two or more
//! lookups want it) and the full image listing (from a full refresh, or read once when enough
//! image lookups want it).

use crate::provider::{Client, ImageQuery, ProviderError};
use crate::resources::{Listing, ServerIndex, Views};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// From this many lookups on, one listing is cheaper than a request each.
pub const LIST_FROM: usize = 2;
/// Images per page of a full listing (Rackspace's page; Glance's cap).
const IMAGES_PER_PAGE: usize = 1000;

#[derive(Default)]
struct Slot {
    servers: OnceCell<Arc<ServerIndex>>,
    images: OnceCell<Arc<Listing>>,
    /// Images state holds for the provider: a lower bound of a full listing's size.
    known_images: std::sync::atomic::AtomicUsize,
}

/// The listings of one plan, by provider key.
#[derive(Default)]
pub struct Cache {
    slots: Mutex<BTreeMap<String, Arc<Slot>>>,
}

impl Cache {
    fn slot(&self, key: &str) -> Arc<Slot> {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_string())
            .or_default()
            .clone()
    }

    /// The server listing of `key`: read now when `wanted` lookups make it worth it (or it was
    /// read already), else `None`.
    pub async fn servers(
        &self,
        key: &str,
        client: &Client,
        wanted: usize,
    ) -> Result<Option<Arc<ServerIndex>>, ProviderError> {
        let slot = self.slot(key);
        if let Some(s) = slot.servers.get() {
            return Ok(Some(s.clone()));
        }
        if wanted < LIST_FROM {
            return Ok(None);
        }
        let s = slot
            .servers
            .get_or_try_init(|| async {
                let servers = client.list_servers().await?;
                Ok::<_, ProviderError>(Arc::new(ServerIndex::new(servers)))
            })
            .await?;
        Ok(Some(s.clone()))
    }

    /// Records a full image listing refresh made.
    pub fn seed_images(&self, key: &str, listing: Arc<Listing>) {
        let _ = self.slot(key).images.set(listing);
    }

    /// Notes how many images state holds for `key` (refresh knows).
    pub fn note_known_images(&self, key: &str, n: usize) {
        self.slot(key)
            .known_images
            .store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The full image listing of `key`: read now when `wanted` lookups outnumber the pages it
    /// would take (the images state holds are a lower bound of its size), or when it was read
    /// already.
    pub async fn images(
        &self,
        key: &str,
        client: &Client,
        wanted: usize,
    ) -> Result<Option<Arc<Listing>>, ProviderError> {
        let slot = self.slot(key);
        let known_images = slot.known_images.load(std::sync::atomic::Ordering::Relaxed);
        if let Some(l) = slot.images.get() {
            return Ok(Some(l.clone()));
        }
        if wanted < LIST_FROM || wanted <= known_images / IMAGES_PER_PAGE {
            return Ok(None);
        }
        let l = slot
            .images
            .get_or_try_init(|| async {
                let images = client.list_images(&ImageQuery::default()).await?;
                Ok::<_, ProviderError>(Arc::new(
                    images.into_iter().map(|i| (i.id.clone(), i)).collect(),
                ))
            })
            .await?;
        Ok(Some(l.clone()))
    }

    /// What has been listed for `key` so far, as views for reads.
    pub fn views(&self, key: &str) -> Views {
        let slot = self.slot(key);
        let images = slot.images.get().cloned();
        Views {
            images_complete: images.is_some(),
            images,
            servers: slot.servers.get().cloned(),
        }
    }
}
