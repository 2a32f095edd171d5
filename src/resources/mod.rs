//! Resource kinds and data sources as units: everything one kind *is* lives in its own file —
//! its schema, its planning rules (defaults, range checks, the metadata-ownership view, what
//! forces replacement), how it reads itself out of a refresh, how it is imported, and its
//! create / update / delete through the provider — and this registry is the one place that
//! lists them. The planner, refresh, apply, import and the docs dispatch through it.
//!
//! Adding a kind: a new file implementing [`Resource`] (or [`DataSource`]), one line in
//! [`RESOURCES`] (or [`DATA_SOURCES`]), and its docs (CONTRIBUTING.md walks through it).
//!
//! Architecture Invariant: no code outside this module compares or matches a resource-kind
//! string; it asks the registry (a check in `tests/architecture`).

mod data_image;
mod data_images;
mod data_server;
mod image;
mod image_metadata;
mod image_schedule;
mod kind;
mod metadata;
pub mod op;
pub mod reference;
mod views;

pub use image::{CREATE_INTENT, parse_duration};
pub use image_schedule::DAYS;
pub use kind::{Adopted, DataSource, Found, Imported, Listing, ReadError, Resource};
pub use op::{BoxFut, Journal, Op, Shared, Waiter};
pub use views::{Answered, ServerIndex, Views};

use crate::config::schema::Schema;

/// Every managed resource kind.
pub static RESOURCES: &[&dyn Resource] = &[
    &image::Image,
    &image_metadata::ImageMetadata,
    &image_schedule::ImageSchedule,
];

/// Every data source.
pub static DATA_SOURCES: &[&dyn DataSource] = &[
    &data_server::Server,
    &data_image::ImageData,
    &data_images::ImagesData,
];

/// The resource kind named `kind`.
pub fn resource(kind: &str) -> Option<&'static dyn Resource> {
    RESOURCES.iter().copied().find(|r| r.name() == kind)
}

/// The data source named `kind`.
pub fn data_source(kind: &str) -> Option<&'static dyn DataSource> {
    DATA_SOURCES.iter().copied().find(|d| d.name() == kind)
}

/// The schema of a resource kind.
pub fn resource_schema(kind: &str) -> Option<&'static Schema> {
    resource(kind).map(|r| r.schema())
}

/// The schema of a data source.
pub fn data_schema(kind: &str) -> Option<&'static Schema> {
    data_source(kind).map(|d| d.schema())
}

/// Names of every resource kind, in registry order (for messages and docs).
pub fn resource_kinds() -> Vec<&'static str> {
    RESOURCES.iter().map(|r| r.name()).collect()
}

/// Names of every data source, in registry order.
pub fn data_kinds() -> Vec<&'static str> {
    DATA_SOURCES.iter().map(|d| d.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_match_their_schemas() {
        let r = resource_kinds();
        let mut dedup = r.clone();
        dedup.dedup();
        assert_eq!(r, dedup);
        for k in RESOURCES {
            assert_eq!(k.schema().name, k.name());
        }
        for d in DATA_SOURCES {
            assert_eq!(d.schema().name, d.name());
        }
    }
}
