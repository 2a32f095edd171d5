//! How a server snapshot is born: the image record `createImage` (and the scheduled-images
//! worker) creates, with the metadata rules of REFERENCE §3.2.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::store::{Data, Image};

/// Base-image keys a snapshot does not inherit (nova `non_inheritable_image_properties`
/// plus the keys the snapshot sets itself and the scheduled-images marker).
const NOT_INHERITED: [&str; 9] = [
    "image_type",
    "instance_uuid",
    "base_image_ref",
    "user_id",
    "cache_in_nova",
    "bittorrent",
    "img_signature",
    MARKER_KEY,
    MARKER_KEY_DOC,
];

/// The culling marker the QonoS worker puts on scheduled snapshots (code spelling).
pub(crate) const MARKER_KEY: &str = "org.openstack__1__created_by";
pub(crate) const MARKER_VALUE: &str = "scheduled_images_service";
/// The documented spelling, accepted when culling.
pub(crate) const MARKER_KEY_DOC: &str = "org.openstack__1__created-by";
pub(crate) const MARKER_VALUE_DOC: &str = "scheduled-images-service";

/// True when an image carries either spelling of the scheduled-images marker.
pub(crate) fn has_marker(img: &Image) -> bool {
    img.metadata.get(MARKER_KEY).map(String::as_str) == Some(MARKER_VALUE)
        || img.metadata.get(MARKER_KEY_DOC).map(String::as_str) == Some(MARKER_VALUE_DOC)
        || img.metadata.get(MARKER_KEY).map(String::as_str) == Some(MARKER_VALUE_DOC)
        || img.metadata.get(MARKER_KEY_DOC).map(String::as_str) == Some(MARKER_VALUE)
}

/// What the caller decides about a new snapshot.
pub(crate) struct SnapshotSpec {
    pub id: String,
    pub name: String,
    pub metadata: BTreeMap<String, String>,
    pub tenant: String,
    pub user_id: String,
    pub created: DateTime<Utc>,
    /// How long it stays `saving`.
    pub duration_secs: f64,
    /// Finish in `killed` (compute `ERROR`) instead of `active`.
    pub fail: bool,
}

/// The metadata a snapshot of `server` gets: inherited base metadata, the system keys, then
/// the caller's keys (which win).
pub(crate) fn snapshot_metadata(
    data: &Data,
    region: &str,
    server_id: &str,
    user_id: &str,
    extra: &BTreeMap<String, String>,
) -> Option<BTreeMap<String, String>> {
    let server = data.server(region, server_id)?;
    let mut md = BTreeMap::new();
    if let Some(base) = data.image_any(region, &server.image_id) {
        for (k, v) in &base.metadata {
            if !NOT_INHERITED
                .iter()
                .any(|n| k == n || k.starts_with("img_signature"))
            {
                md.insert(k.clone(), v.clone());
            }
        }
    }
    let sys = [
        ("image_type", "snapshot".to_string()),
        ("instance_uuid", server.id.clone()),
        ("base_image_ref", server.image_id.clone()),
        ("user_id", user_id.to_string()),
        ("instance_type_flavorid", server.flavor_id.clone()),
        ("instance_type_memory_mb", server.flavor_ram.to_string()),
        ("instance_type_vcpus", server.flavor_vcpus.to_string()),
        ("instance_type_root_gb", server.flavor_disk.to_string()),
        (
            "instance_type_name",
            format!("{} GB General Purpose v1", server.flavor_ram / 1024),
        ),
    ];
    for (k, v) in sys {
        md.insert(k.to_string(), v);
    }
    for (k, v) in extra {
        md.insert(k.clone(), v.clone());
    }
    Some(md)
}

/// Builds (does not insert) a new `saving` snapshot image of a server; `None` if the server
/// does not exist in `region`.
pub(crate) fn build(
    data: &mut Data,
    region: &str,
    server_id: &str,
    spec: SnapshotSpec,
) -> Option<Image> {
    let metadata = snapshot_metadata(data, region, server_id, &spec.user_id, &spec.metadata)?;
    let server = data.server(region, server_id)?.clone();
    let base_size = data
        .image_any(region, &server.image_id)
        .map(|i| i.size)
        .unwrap_or(1 << 30);
    let seq = data.next_seq();
    let millis = (spec.duration_secs.max(0.0) * 1000.0).round() as i64;
    Some(Image {
        id: spec.id,
        seq,
        region: region.to_string(),
        owner: Some(spec.tenant),
        name: spec.name,
        status: "saving".into(),
        created: spec.created,
        updated: spec.created,
        ready_at: Some(spec.created + Duration::milliseconds(millis)),
        fail: spec.fail,
        fault: None,
        server_id: Some(server.id.clone()),
        min_disk: server.flavor_disk,
        min_ram: server.flavor_ram,
        // Grows a little with every snapshot so sizes differ; deterministic.
        size: base_size + seq * 4096,
        protected: false,
        visibility: "private".into(),
        disk_format: "vhd".into(),
        container_format: "ovf".into(),
        tags: Vec::new(),
        metadata,
        checksum: Some(format!(
            "{:032x}",
            (base_size + seq).wrapping_mul(0x2545_f491_4f6c_dd1d)
        )),
    })
}
