//! `image`: a server snapshot. Created by `createImage` (journaled first, recorded while still
//! saving, then waited for until `ACTIVE`; `ERROR` taints it), renamed, re-tagged and
//! (de)activated in place through the Image API v2 when the cloud has it.

use super::kind::{Adopted, Imported, Resource};
use super::metadata;
use super::op::BoxFut;
use super::op::Op;
use super::views::Views;
use crate::config::schema::{NestedBlock, Schema, Ty, arg, out, req, req_new};
use crate::provider::{Client, Image as CloudImage, ImageQuery, ProviderError};
use crate::state::{Intent, ResourceState};
use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct Image;

static SCHEMA: Schema = Schema {
    name: "image",
    attrs: &[
        req_new("server_id", Ty::String).doc("The server to snapshot (`createImage`)."),
        req("name", Ty::String).doc("The image name, 1 to 255 characters. Renamed in place through the Image API v2 where the cloud has it; without it a new name replaces the image."),
        arg("metadata", Ty::StringMap).doc("Metadata keys to set and keep in sync. Only these keys, and keys managed before (recorded in state), are compared; keys the cloud adds never show as drift. A key taken out of the map is deleted from the image.").default("{}"),
        arg("deactivated", Ty::Bool).doc("Deactivate the image (Image API v2 `deactivate`) so nobody can boot or download it; `false` reactivates it. In place.").default("false"),
        out("id", Ty::String).doc("The image id."),
        out("status", Ty::String).doc("As the compute API reports it: `SAVING`, `ACTIVE`, `ERROR`, `DELETED`, or `UNKNOWN` for a deactivated image."),
        out("progress", Ty::Number).doc("Snapshot progress in percent (100 once `ACTIVE`)."),
        out("min_disk", Ty::Number).doc("Minimum disk in GB to boot from the image."),
        out("min_ram", Ty::Number).doc("Minimum RAM in MB to boot from the image."),
        out("size", Ty::Number).doc("Image size in bytes, where the cloud reports it."),
        out("disk_config", Ty::String).doc("The `OS-DCF:diskConfig` of the image (`AUTO` or `MANUAL`), where the cloud reports it."),
        out("created", Ty::String).doc("When the cloud created the image (RFC 3339)."),
        out("updated", Ty::String).doc("When the cloud last changed the image (RFC 3339)."),
        out("all_metadata", Ty::StringMap).doc("Every metadata key the cloud reports, including the ones it set itself. Read only."),
    ],
    blocks: &[NestedBlock {
        name: "timeouts",
        attrs: &[arg("create", Ty::String)
            .doc("How long to wait for the snapshot to become `ACTIVE`, e.g. `\"30m\"` or `\"1h30m\"`; then the apply fails and the image is tainted.")
            .default("\"1h\"")],
    }],
};

/// Attributes refresh produces; the first three must be in state for it to stand in.
const REFRESHED: &[&str] = &[
    "id",
    "status",
    "all_metadata",
    "updated",
    "name",
    "created",
    "progress",
    "min_disk",
    "min_ram",
    "deactivated",
    "server_id",
    "size",
    "disk_config",
];

/// How many times a createImage that failed ambiguously (and, looked for, made nothing) is sent.
const AMBIGUOUS_ATTEMPTS: u32 = 4;

/// The journal's name for a `createImage` in flight.
pub const CREATE_INTENT: &str = "create_image";

impl Resource for Image {
    fn name(&self) -> &'static str {
        "image"
    }

    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn docs(&self) -> (&'static str, &'static str) {
        (
            "A server snapshot. `createImage` makes it; snapform waits until it is `ACTIVE` (a snapshot that ends in `ERROR` is tainted and replaced by the next plan). The name, metadata and `deactivated` change in place through the Image API v2 where the cloud has it; without it, a new name replaces the image.",
            r#"resource "image" "golden" {
  server_id = data.server.web.id
  name      = "golden-web"
  metadata  = { owner = "ops" }
  timeouts {
    create = "30m"
  }
}"#,
        )
    }

    fn validate(&self, args: &Map) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(Value::String(n)) = args.get("name")
            && (n.trim().is_empty() || n.chars().count() > 255)
        {
            out.push((
                "name",
                "name must be 1 to 255 characters and not blank".into(),
            ));
        }
        if let Some(Value::Map(t)) = args.get("timeouts")
            && let Some(Value::String(c)) = t.get("create")
            && parse_duration(c).is_none()
        {
            out.push((
                "timeouts",
                format!(
                    "timeouts.create must be a duration like \"30m\" or \"1h30m\", found \"{c}\""
                ),
            ));
        }
        out.extend(metadata_key_checks(args));
        out
    }

    fn normalized(&self, name: &str, v: Option<&Value>) -> Value {
        match (name, v) {
            ("metadata", Some(Value::Null) | None) => Value::Map(Map::new()),
            ("deactivated", Some(Value::Null) | None) => Value::Bool(false),
            (_, Some(Value::Null) | None) => Value::Null,
            (_, Some(v)) => v.clone(),
        }
    }

    fn view(&self, current: &Map, desired: &Map, prior: Option<&ResourceState>) -> Map {
        metadata::ownership_view(current, desired, prior)
    }

    fn replaces_on(&self, attr: &str, image_api: bool) -> bool {
        // Without the Image API a snapshot cannot be renamed.
        attr == "name" && !image_api
    }

    fn broken(&self, current: &Map) -> bool {
        current.get("status") == Some(&Value::str("ERROR"))
    }

    fn pending(&self, current: &Map) -> Option<&'static str> {
        saving(current).then_some(
            "its snapshot is still saving (an earlier apply stopped before it finished); apply waits for it",
        )
    }

    fn echoes(&self) -> &'static [(&'static str, &'static str)] {
        &[("metadata", "all_metadata")]
    }

    fn listed(&self) -> bool {
        true
    }

    fn refreshed_attributes(&self) -> (&'static [&'static str], usize) {
        (REFRESHED, 3)
    }

    fn volatile(&self, rs: &ResourceState) -> bool {
        !matches!(
            rs.attributes.get("status").and_then(Value::as_str),
            Some("ACTIVE" | "ERROR" | "UNKNOWN")
        )
    }

    fn read<'a>(
        &'a self,
        client: &'a Client,
        rs: &'a ResourceState,
        views: &'a Views,
    ) -> BoxFut<'a, Result<Option<Map>, ProviderError>> {
        Box::pin(async move {
            let img = match views.images.as_deref().and_then(|l| l.get(&rs.id)) {
                Some(i) => Some(i.clone()),
                // Refresh reads a listed kind from a listing only for the ids it holds (or
                // when it is complete); otherwise ask.
                None if views.all_images().is_some() => None,
                None => client.get_image(&rs.id).await?,
            };
            match img {
                Some(img) => Ok(Some(attributes(client, &img).await?)),
                None => Ok(None),
            }
        })
    }

    fn list_filters(&self) -> Option<&'static [&'static str]> {
        Some(&["type", "server", "name", "name_regex", "status", "metadata"])
    }

    /// Server snapshots the project sees, matching the filters (`type` defaults to
    /// `SNAPSHOT`: base images are the provider's, never adopted). Oldest first.
    fn list<'a>(
        &'a self,
        client: &'a Client,
        filters: &'a Map,
    ) -> BoxFut<'a, Result<Vec<super::kind::Found>, String>> {
        Box::pin(async move {
            let text = |k: &str| filters.get(k).and_then(Value::as_str).map(str::to_string);
            let regex =
                match text("name_regex") {
                    Some(r) => Some(regex_lite::Regex::new(&r).map_err(|e| {
                        format!("name_regex {r:?} is not a regular expression: {e}")
                    })?),
                    None => None,
                };
            let q = ImageQuery {
                name: text("name"),
                status: text("status").map(|s| s.to_uppercase()),
                server_id: text("server"),
                image_type: Some(
                    text("type")
                        .unwrap_or_else(|| "SNAPSHOT".into())
                        .to_uppercase(),
                ),
                ..ImageQuery::default()
            };
            let want: BTreeMap<String, String> = filters
                .get("metadata")
                .and_then(Value::as_map)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.to_plain_string()?)))
                        .collect()
                })
                .unwrap_or_default();
            let mut found: Vec<CloudImage> = client
                .list_images(&q)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                // The cloud's filters are hints (some ignore them): checked here again.
                .filter(|i| i.status != "DELETED" && i.server_id.is_some())
                .filter(|i| q.name.as_ref().is_none_or(|n| &i.name == n))
                .filter(|i| q.server_id.is_none() || i.server_id == q.server_id)
                .filter(|i| {
                    q.status
                        .as_ref()
                        .is_none_or(|s| i.status.eq_ignore_ascii_case(s))
                })
                .filter(|i| regex.as_ref().is_none_or(|r| r.is_match(&i.name)))
                .filter(|i| want.iter().all(|(k, v)| i.metadata.get(k) == Some(v)))
                .collect();
            found.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
            Ok(found
                .into_iter()
                .map(|i| {
                    let scheduled = i
                        .metadata
                        .iter()
                        .any(|(k, v)| SCHEDULED.contains(&(k.as_str(), v.as_str())));
                    let mut attrs = Map::new();
                    attrs.insert("name".into(), Value::str(&i.name));
                    attrs.insert("status".into(), Value::str(&i.status));
                    if let Some(sv) = &i.server_id {
                        attrs.insert("server_id".into(), Value::str(sv));
                    }
                    attrs.insert("created".into(), Value::str(&i.created));
                    super::kind::Found {
                        id: i.id.clone(),
                        name: i.name.clone(),
                        attributes: attrs,
                        note: scheduled.then(|| {
                            format!(
                                "A scheduled snapshot: the scheduled-images service deletes it once the server's schedule keeps newer ones.\nTo keep it, remove its marker with:\n  resource \"image_metadata\" \"pin\" {{\n    image_id    = \"{}\"\n    absent_keys = [\"{}\"]\n  }}",
                                i.id, SCHEDULED[0].0
                            )
                        }),
                    }
                })
                .collect())
        })
    }

    fn generate<'a>(&'a self, client: &'a Client, id: &'a str) -> BoxFut<'a, Result<Map, String>> {
        Box::pin(async move {
            let img = existing(client, id).await?;
            let base = match img.metadata.get("base_image_ref") {
                Some(b) => client.get_image(b).await.map_err(|e| e.to_string())?,
                None => None,
            };
            let keys: Vec<String> = img
                .metadata
                .keys()
                .filter(|k| !cloud_key(k, base.as_ref().map(|b| &b.metadata)))
                .cloned()
                .collect();
            let imported = imported(client, img, &keys).await?;
            Ok(super::kind::arguments_of(
                self.schema(),
                &imported.attributes,
            ))
        })
    }

    fn import<'a>(
        &'a self,
        client: &'a Client,
        id: &'a str,
        managed_keys: &'a [String],
    ) -> BoxFut<'a, Result<Imported, String>> {
        Box::pin(async move { imported(client, existing(client, id).await?, managed_keys).await })
    }

    fn reconcile<'a>(
        &'a self,
        client: &'a Client,
        intent: &'a Intent,
        known_ids: &'a [String],
    ) -> BoxFut<'a, Result<Option<Adopted>, ProviderError>> {
        Box::pin(async move {
            if intent.operation != CREATE_INTENT {
                return Ok(None);
            }
            let (Some(server), Some(name)) =
                (intent.detail.get("server_id"), intent.detail.get("name"))
            else {
                return Ok(None);
            };
            let q = ImageQuery {
                name: Some(name.clone()),
                server_id: Some(server.clone()),
                ..ImageQuery::default()
            };
            let floor = started_floor(&intent.started);
            let mut found: Vec<CloudImage> = client
                .list_images(&q)
                .await?
                .into_iter()
                .filter(|i| {
                    i.name == *name
                        && i.server_id.as_deref() == Some(server.as_str())
                        && !known_ids.contains(&i.id)
                        // Created by this intent, not an older image with the same name.
                        && i.created.as_str() >= floor.as_str()
                })
                .collect();
            found.sort_by(|a, b| b.created.cmp(&a.created));
            match found.first() {
                Some(img) => {
                    let attrs = attributes(client, img).await?;
                    Ok(Some(Adopted {
                        id: img.id.clone(),
                        attributes: attrs,
                        tainted: img.status == "ERROR",
                    }))
                }
                None => Ok(None),
            }
        })
    }

    fn create<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>> {
        Box::pin(create(op))
    }

    fn update<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<ResourceState, String>> {
        Box::pin(async move {
            let id = op.prior_id()?;
            let before = op.before.clone().unwrap_or_default();
            if saving(&before) {
                // An interrupted apply left it saving: finished first, never taken as done.
                wait_active(op, &id).await?;
            }
            let name = op.str_arg("name");
            if before.get("name").and_then(Value::as_str) != Some(name) {
                op.call(op.client.rename_image_v2(&id, name)).await?;
            }
            metadata::sync(op, &id, Some(&before)).await?;
            let want = op.args.get("deactivated").and_then(Value::as_bool) == Some(true);
            let was = before.get("deactivated").and_then(Value::as_bool) == Some(true);
            if want != was {
                if want {
                    op.call(op.client.deactivate_image(&id)).await?;
                } else {
                    op.call(op.client.reactivate_image(&id)).await?;
                }
            }
            state_of(op, &id, None).await
        })
    }

    fn delete<'a>(&'a self, op: &'a Op) -> BoxFut<'a, Result<(), String>> {
        Box::pin(async move {
            if let Some(p) = &op.prior {
                op.call(op.client.delete_image(&p.id)).await?;
            }
            Ok(())
        })
    }
}

/// Checks that metadata keys are 1 to 255 characters (shared with `image_metadata`).
pub(super) fn metadata_key_checks(args: &Map) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(Value::Map(m)) = args.get("metadata") {
        for k in m.keys() {
            if k.trim().is_empty() || k.len() > 255 {
                out.push((
                    "metadata",
                    format!("metadata keys must be 1 to 255 characters, found \"{k}\""),
                ));
            }
        }
    }
    out
}

/// Parses `90s`, `30m`, `1h30m`, `2h` into seconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut num = String::new();
    for ch in s.trim().chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
        } else {
            let n: u64 = num.parse().ok()?;
            num.clear();
            total += n * match ch {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return None,
            };
        }
    }
    (num.is_empty() && total > 0).then_some(total)
}

/// State attributes of an image resource from the cloud's view of it.
pub async fn attributes(client: &Client, img: &CloudImage) -> Result<Map, ProviderError> {
    let mut m = Map::new();
    m.insert("id".into(), Value::str(&img.id));
    m.insert("name".into(), Value::str(&img.name));
    if let Some(s) = &img.server_id {
        m.insert("server_id".into(), Value::str(s));
    }
    m.insert("status".into(), Value::str(&img.status));
    m.insert("progress".into(), Value::int(img.progress as i64));
    m.insert("min_disk".into(), Value::int(img.min_disk as i64));
    m.insert("min_ram".into(), Value::int(img.min_ram as i64));
    if let Some(s) = img.size {
        m.insert("size".into(), Value::Number(s.into()));
    }
    if let Some(d) = &img.disk_config {
        m.insert("disk_config".into(), Value::str(d));
    }
    m.insert("created".into(), Value::str(&img.created));
    m.insert("updated".into(), Value::str(&img.updated));
    m.insert("all_metadata".into(), img.metadata.clone().into());
    // The compute API shows a deactivated image as UNKNOWN; the Image API tells the truth.
    let mut deactivated = img.glance_status.as_deref() == Some("deactivated");
    if img.status == "UNKNOWN"
        && img.glance_status.is_none()
        && client.has_image_api()
        && let Some(v2) = client.get_image_v2(&img.id).await?
    {
        deactivated = v2.status == "deactivated";
    }
    m.insert("deactivated".into(), Value::Bool(deactivated));
    Ok(m)
}

/// The image `id`, or an error saying there is none (for import and generated configuration).
pub(super) async fn existing(client: &Client, id: &str) -> Result<CloudImage, String> {
    client
        .get_image(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("expected an image with id {id}, found none in the cloud"))
}

/// What an import of `img` records, managing `managed_keys` of its metadata; a base image is
/// refused.
async fn imported(
    client: &Client,
    img: CloudImage,
    managed_keys: &[String],
) -> Result<Imported, String> {
    if img.server_id.is_none() {
        return Err(format!(
            "expected a server snapshot, found image {} (\"{}\") with no server: it is a base image of the provider, which snapform never manages",
            img.id, img.name
        ));
    }
    let mut m = attributes(client, &img).await.map_err(|e| e.to_string())?;
    m.insert(
        "metadata".into(),
        metadata::owned(&img.metadata, managed_keys).into(),
    );
    Ok(Imported {
        attributes: m,
        tainted: img.status == "ERROR",
    })
}

/// The culling marker of scheduled snapshots (REFERENCE §5: the code's spelling, and the
/// docs').
const SCHEDULED: &[(&str, &str)] = &[
    ("org.openstack__1__created_by", "scheduled_images_service"),
    ("org.openstack__1__created-by", "scheduled-images-service"),
];

/// A metadata key the cloud set on a snapshot rather than its owner: inherited from the base
/// image (`base`'s keys), or one the cloud adds to every snapshot (REFERENCE §3).
fn cloud_key(k: &str, base: Option<&BTreeMap<String, String>>) -> bool {
    const ADDED: &[&str] = &[
        "base_image_ref",
        "image_type",
        "instance_uuid",
        "user_id",
        "owner_id",
        "image_location",
        "image_state",
        "org.openstack__1__architecture",
        "cache_in_nova",
        // Nova's snapshot properties on Glance (OpenStack).
        "owner_project_name",
        "owner_user_name",
        "boot_roles",
        "os_hash_algo",
        "os_hash_value",
        "os_hidden",
    ];
    base.is_some_and(|b| b.contains_key(k))
        || ADDED.contains(&k)
        || k.starts_with("instance_type_")
        || k.starts_with("com.rackspace__")
        || k.starts_with("org.openstack__")
        || k.starts_with("rax_")
}

/// The snapshot has not finished (compute `SAVING`, or `QUEUED` on Glance).
fn saving(attrs: &Map) -> bool {
    matches!(
        attrs.get("status").and_then(Value::as_str),
        Some("SAVING" | "QUEUED")
    )
}

async fn create(op: &Op) -> Result<ResourceState, String> {
    let server = op.str_arg("server_id").to_string();
    let name = op.str_arg("name").to_string();
    let md = op.map_arg("metadata");
    // One snapshot of a server at a time: Nova answers a second one with 409, or with a 500
    // (a race) that leaves a queued image behind. The lane is held until this one is settled.
    let _lane = op.shared.lane(&format!("{}/{server}", op.provider)).await;
    if op.shared.is_stopped() {
        return Err("the apply was interrupted before this snapshot was started".into());
    }
    // Journal the intent first: if we die between the call and recording its id, the next plan
    // finds the image by server and name and adopts it instead of creating a duplicate.
    let intent = Intent {
        id: uuid::Uuid::new_v4().to_string(),
        address: op.address.clone(),
        operation: CREATE_INTENT.into(),
        detail: [
            ("server_id".to_string(), server.clone()),
            ("name".to_string(), name.clone()),
            ("provider".to_string(), op.provider.clone()),
        ]
        .into(),
        started: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    let intent_id = intent.id.clone();
    let started = intent.started.clone();
    op.journal.intent(intent).await?;
    let mut attempt = 0;
    // An attempt whose outcome is not certain (it made no image that could be found): the
    // intent must stay, whatever the later attempts do.
    let mut uncertain = false;
    let id = loop {
        attempt += 1;
        match create_when_server_free(op, &server, &name, &md).await {
            Ok(named) => match discover(op, named, &server, &name, &started).await {
                Ok(Some(id)) => break id,
                Ok(None) => {
                    // The call succeeded, so an image exists; the intent stays for the next plan.
                    return Err(format!(
                        "create image {name:?} from server {server}: the cloud accepted the snapshot but named no image, and none named {name:?} of that server is listed yet; the next plan looks for it again (nothing is created twice)"
                    ));
                }
                Err(e) => return Err(e),
            },
            Err(e) if e.is_ambiguous() => {
                // The call may have taken effect: look before deciding.
                match find_created(op, &server, &name, &started, 3).await {
                    Ok(Some(img)) => {
                        // Only a 500 is Nova's own answer after its request ended; a timeout
                        // or a proxy's 502-504 may leave nova-api still between making the
                        // image and marking the server busy, so that image is adopted (the
                        // wait's watchdog still catches it if nobody fills it).
                        if e.status() != Some(500) || !abandoned(op, &server, &img).await? {
                            tracing::info!(address = %op.address, id = %img.id, error = %e, "createImage failed ambiguously, but the snapshot exists; adopting it");
                            break img.id;
                        }
                        // Nova made the Glance image, then failed (REFERENCE §10.2): no
                        // snapshot will ever fill it. It is ours (this server, this name, since
                        // this call, taken by nobody): delete it, then try again.
                        tracing::warn!(address = %op.address, id = %img.id, error = %e, attempt, "createImage failed and left an image queued with no snapshot running on the server; deleting it");
                        op.call(op.client.delete_image(&img.id)).await.map_err(|d| {
                            format!("{e}; the cloud left image {} queued that no snapshot will fill, and deleting it failed: {d}", img.id)
                        })?;
                        // Never adopted later (a cloud may list it as DELETED a while).
                        op.shared.take(&img.id);
                        if attempt >= AMBIGUOUS_ATTEMPTS {
                            if !uncertain {
                                op.journal.clear(intent_id).await;
                            }
                            return Err(format!(
                                "{e} ({attempt} times; each left an image queued that no snapshot filled, deleted again)"
                            ));
                        }
                    }
                    // Looked for and not there: the call had no effect, so sending it again
                    // is not a blind retry. The intent stays until the outcome is known.
                    Ok(None) if attempt < AMBIGUOUS_ATTEMPTS => {
                        uncertain = true;
                        tracing::warn!(address = %op.address, error = %e, attempt, "createImage failed and made no image; sending it again");
                    }
                    _ => {
                        return Err(format!(
                            "{e} (the snapshot may still appear: the next plan looks for it by server and name before creating anything)"
                        ));
                    }
                }
            }
            Err(e) => {
                op.journal.clear(intent_id).await;
                return Err(e.to_string());
            }
        }
    };
    op.shared.take(&id);
    // Record the image at once (still saving), so state knows it even if we are killed now.
    let mut attrs = op.args.clone();
    attrs.remove("timeouts");
    attrs.insert("id".into(), Value::str(&id));
    attrs.insert("status".into(), Value::str("SAVING"));
    op.journal
        .record(op.state(&id, attrs), Some(intent_id))
        .await?;
    let img = wait_active(op, &id).await?;
    if op.args.get("deactivated").and_then(Value::as_bool) == Some(true) {
        op.call(op.client.deactivate_image(&id)).await?;
        return state_of(op, &id, None).await;
    }
    state_of(op, &id, Some(img)).await
}

/// The id of the image a successful createImage made: the one its answer named once a read
/// confirms it (that server, that name), else the one found by server and name among the
/// images created since the call.
async fn discover(
    op: &Op,
    named: Option<String>,
    server: &str,
    name: &str,
    started: &str,
) -> Result<Option<String>, String> {
    if let Some(id) = named {
        let img = op.call(op.client.get_image(&id)).await?;
        match img {
            Some(img)
                if img.name == name && img.server_id.as_deref().is_none_or(|s| s == server) =>
            {
                return Ok(Some(id));
            }
            Some(img) => tracing::warn!(
                address = %op.address, %id, found_name = %img.name,
                "the image the cloud named is not this snapshot; looking it up by server and name"
            ),
            None => tracing::warn!(
                address = %op.address, %id,
                "the image the cloud named does not exist; looking it up by server and name"
            ),
        }
    } else {
        tracing::info!(address = %op.address, "the cloud named no image id (no image_id, no image Location); looking it up by server and name");
    }
    Ok(find_created(op, server, name, started, 5)
        .await?
        .map(|img| img.id))
}

/// The newest image of `server` named `name`, created since `started` (less a minute of clock
/// skew) and not already taken; asked up to `tries` times, a little longer apart each time
/// (an image may show in listings late).
async fn find_created(
    op: &Op,
    server: &str,
    name: &str,
    started: &str,
    tries: u32,
) -> Result<Option<CloudImage>, String> {
    let floor = started_floor(started);
    let q = ImageQuery {
        name: Some(name.to_string()),
        server_id: Some(server.to_string()),
        ..ImageQuery::default()
    };
    let mut delay = Duration::from_millis(500);
    for attempt in 0..tries.max(1) {
        if attempt > 0 {
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        let listed = match op.call(op.client.list_images(&q)).await {
            Ok(l) => l,
            Err(e) if attempt + 1 < tries => {
                tracing::debug!(error = %e, "looking for the new snapshot failed; trying again");
                continue;
            }
            Err(e) => return Err(e),
        };
        let mut found: Vec<CloudImage> = listed
            .into_iter()
            .filter(|i| {
                // Filters are not trusted (some clouds ignore them).
                i.name == name
                    && i.server_id.as_deref() == Some(server)
                    && i.created.as_str() >= floor.as_str()
                    && !op.shared.is_taken(&i.id)
            })
            .collect();
        found.sort_by(|a, b| b.created.cmp(&a.created));
        if let Some(img) = found.into_iter().next() {
            return Ok(Some(img));
        }
    }
    Ok(None)
}

/// How long apart the two looks of [`abandoned`] are.
const ABANDON_RECHECK: Duration = Duration::from_secs(5);

/// True when `img` is a snapshot nobody is making: still saving, while its server shows no
/// task (a snapshot in progress keeps the server in an `image_*` task state until the image is
/// active), on two looks [`ABANDON_RECHECK`] apart with no progress between them. Nova leaves
/// such an image `queued` when createImage fails after making it (REFERENCE §10.2). A server
/// view without `OS-EXT-STS:task_state` proves nothing, so then it is never abandoned.
async fn abandoned(op: &Op, server: &str, img: &CloudImage) -> Result<bool, String> {
    if !still_saving(img) {
        return Ok(false);
    }
    for look in 0..2 {
        if look > 0 {
            tokio::time::sleep(ABANDON_RECHECK).await;
        }
        // The server first: a snapshot that ends between the two reads shows active.
        match op.call(op.client.get_server(server)).await? {
            Some(s) if s.shows_task_state && s.task_state.is_none() => {}
            _ => return Ok(false),
        }
        match op.call(op.client.get_image(&img.id)).await? {
            Some(now) if still_saving(&now) && now.progress == img.progress => {}
            _ => return Ok(false),
        }
    }
    Ok(true)
}

fn still_saving(img: &CloudImage) -> bool {
    matches!(img.status.as_str(), "SAVING" | "QUEUED")
}

/// `createImage`, waiting while the server is busy with another snapshot: the cloud answers
/// 409 then (one snapshot per server at a time), so several images of one server are made one
/// after the other. Bounded by the create timeout. Any other failure is returned as is (the
/// call is not repeated: a second call could make a second snapshot).
async fn create_when_server_free(
    op: &Op,
    server: &str,
    name: &str,
    md: &BTreeMap<String, String>,
) -> Result<Option<String>, ProviderError> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(create_timeout(op));
    let mut delay = Duration::from_millis(500);
    loop {
        let result = {
            let _permit = op
                .sem
                .acquire()
                .await
                .map_err(|e| ProviderError::Catalog(e.to_string()))?;
            op.client.create_image(server, name, md).await
        };
        match result {
            Err(e) if e.status() == Some(409) && tokio::time::Instant::now() + delay < deadline => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            other => return other,
        }
    }
}

fn create_timeout(op: &Op) -> u64 {
    op.args
        .get("timeouts")
        .and_then(|v| v.as_map())
        .and_then(|m| m.get("create"))
        .and_then(Value::as_str)
        .and_then(parse_duration)
        .unwrap_or(3600)
}

/// Waits until the snapshot is ACTIVE; ERROR or the create timeout fail (the resource is then
/// tainted in state so the next plan replaces it).
async fn wait_active(op: &Op, id: &str) -> Result<CloudImage, String> {
    let timeout = create_timeout(op);
    let waited = tokio::select! {
        w = tokio::time::timeout(
            Duration::from_secs(timeout),
            op.waiter.wait(&op.client, &op.address, id),
        ) => w,
        // Nobody is making it any more: fail now, not at the timeout.
        why = watch_abandoned(op, id) => {
            taint(op, id).await;
            return Err(why);
        }
        // Interrupted: the snapshot is in state as SAVING (not tainted, not done); the next
        // plan shows it as still saving and the next apply waits for it.
        _ = op.shared.stopped() => {
            return Err(format!(
                "interrupted while snapshot {id} was saving; it is recorded in state, and the next apply waits for it"
            ));
        }
    };
    match waited {
        Ok(Ok(img)) if img.status == "ACTIVE" => Ok(img),
        Ok(Ok(img)) => {
            taint(op, id).await;
            Err(format!(
                "snapshot {id} ended in status {}{}",
                img.status,
                img.fault.map(|f| format!(": {f}")).unwrap_or_default()
            ))
        }
        Ok(Err(e)) => Err(e),
        Err(_) => {
            taint(op, id).await;
            Err(format!(
                "snapshot {id} is still saving after the create timeout of {timeout}s"
            ))
        }
    }
}

/// Resolves only when the snapshot `id` being waited for is [`abandoned`] (its server shows no
/// task while the image stays unfinished: nova-compute restarted mid-snapshot, or the cast to it
/// was lost), with the error to report. Looks after the apply's `abandon_check` (60 s unless
/// set), then twice as long apart each time, up to 16 times that: a few requests per hour per
/// snapshot, none for snapshots that finish sooner.
async fn watch_abandoned(op: &Op, id: &str) -> String {
    let server = op.str_arg("server_id").to_string();
    // Up to a quarter more, from the id: snapshots started together do not look together.
    let jitter = |d: Duration| {
        let h = id
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        d + d.mul_f64(f64::from(h % 256) / 1024.0)
    };
    let first = op.shared.abandon_check();
    let mut every = first;
    let look = || async {
        match op.call(op.client.get_image(id)).await {
            Ok(Some(img)) => abandoned(op, &server, &img)
                .await
                .ok()
                .filter(|a| *a)
                .map(|_| img),
            _ => None,
        }
    };
    loop {
        tokio::time::sleep(jitter(every)).await;
        every = (every * 2).min(first * 16);
        if look().await.is_none() {
            continue;
        }
        // Seen abandoned: confirmed once more a while later before anything is tainted (a
        // cloud's image view may lag behind its server view).
        tokio::time::sleep(first).await;
        if let Some(img) = look().await {
            return format!(
                "snapshot {id} stopped: it is still {} at {}% but server {server} is making no snapshot any more (the cloud abandoned it); it is tainted, and the next apply replaces it",
                img.status.to_lowercase(),
                img.progress
            );
        }
    }
}

async fn taint(op: &Op, id: &str) {
    let mut attrs = op.args.clone();
    attrs.remove("timeouts");
    attrs.insert("id".into(), Value::str(id));
    let mut rs = op.state(id, attrs);
    rs.tainted = true;
    let _ = op.journal.record(rs, None).await;
}

/// The state of an image after apply; `known` is a view just read (saves a request).
async fn state_of(op: &Op, id: &str, known: Option<CloudImage>) -> Result<ResourceState, String> {
    let img = match known {
        Some(i) => i,
        None => op
            .call(op.client.get_image(id))
            .await?
            .ok_or_else(|| format!("image {id} not found after apply"))?,
    };
    let mut attrs = {
        let _permit = op.sem.acquire().await.map_err(|e| e.to_string())?;
        attributes(&op.client, &img)
            .await
            .map_err(|e| e.to_string())?
    };
    attrs.insert(
        "metadata".into(),
        metadata::owned(&img.metadata, &op.managed_keys).into(),
    );
    if let Some(s) = op.args.get("server_id") {
        attrs.insert("server_id".into(), s.clone());
    }
    Ok(op.state(id, attrs))
}

/// Cloud timestamps have second precision and clocks differ a little: allow a minute.
fn started_floor(started: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(started)
        .map(|t| {
            (t.with_timezone(&chrono::Utc) - chrono::Duration::seconds(60))
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
        })
        .unwrap_or_default()
}
