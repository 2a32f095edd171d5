//! What refresh has already read for one provider, handed to the kinds that can answer from
//! it instead of asking the cloud object by object: the image listing (full, or only what
//! changed since the cursor) and the server listing (every server's view, schedules
//! included: `RAX-SI:image_schedule`, REFERENCE §5.4).

use crate::provider::{Image, Server};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The images of one provider as refresh listed them, by id.
pub type Listing = BTreeMap<String, Image>;

/// The listings a read may use. Cheap to clone.
#[derive(Clone, Default)]
pub struct Views {
    /// Images by id, as listed.
    pub images: Option<Arc<Listing>>,
    /// `images` holds every image the project sees (a full listing), so an id missing from it
    /// does not exist; otherwise it holds only what changed since the cursor.
    pub images_complete: bool,
    /// Every server of the project, when refresh listed them.
    pub servers: Option<Arc<ServerIndex>>,
}

impl Views {
    /// The full image listing, when there is one.
    pub fn all_images(&self) -> Option<&Listing> {
        self.images.as_deref().filter(|_| self.images_complete)
    }
}

/// Every server of a project, by id and by name.
#[derive(Debug, Default)]
pub struct ServerIndex {
    servers: Vec<Server>,
    by_id: BTreeMap<String, usize>,
    by_name: BTreeMap<String, Vec<usize>>,
}

impl ServerIndex {
    pub fn new(servers: Vec<Server>) -> ServerIndex {
        let mut by_id = BTreeMap::new();
        let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, s) in servers.iter().enumerate() {
            by_id.insert(s.id.clone(), i);
            by_name.entry(s.name.clone()).or_default().push(i);
        }
        ServerIndex {
            servers,
            by_id,
            by_name,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Server> {
        self.by_id.get(id).map(|i| &self.servers[*i])
    }

    /// The servers named exactly `name`, in listing order.
    pub fn named(&self, name: &str) -> Vec<&Server> {
        self.by_name
            .get(name)
            .map(|ix| ix.iter().map(|i| &self.servers[*i]).collect())
            .unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }
}

/// Which listing can answer a data source's read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answered {
    /// Only its own request (or none of the listings).
    Alone,
    /// The server listing.
    Servers,
    /// The full image listing.
    Images,
}
