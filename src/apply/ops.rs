//! The operations of each resource type: create, update, replace and delete through the provider.

use super::wait::Watcher;
use crate::plan::{Action, Change};
use crate::provider::{Client, Image, ProviderError, Schedule};
use crate::refresh::{image_attrs, schedule_attrs};
use crate::state::{Intent, ResourceState};
use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Messages from a worker to the coordinator, which owns the state.
pub enum Msg {
    /// Persist an intent before the mutating call; the worker waits for `ack`.
    Journal {
        intent: Intent,
        ack: oneshot::Sender<()>,
    },
    /// Persist a resource (e.g. a snapshot still saving) and clear an intent.
    Record {
        rs: ResourceState,
        clear_intent: Option<String>,
        ack: oneshot::Sender<()>,
    },
    ClearIntent {
        id: String,
    },
}

/// One change to carry out.
pub struct Task {
    pub change: Change,
    /// Arguments evaluated at apply time.
    pub args: Map,
    pub prior: Option<ResourceState>,
    pub client: Client,
    pub sem: Arc<Semaphore>,
    pub tx: mpsc::Sender<Msg>,
    /// Shared snapshot poller (it reports progress).
    pub watcher: Watcher,
}

impl Task {
    /// Runs one API call while holding a parallelism slot.
    async fn call<T, F: std::future::Future<Output = Result<T, ProviderError>>>(
        &self,
        f: F,
    ) -> Result<T, String> {
        let _permit = self.sem.acquire().await.map_err(|e| e.to_string())?;
        f.await.map_err(|e| e.to_string())
    }

    fn state(&self, id: &str, attributes: Map) -> ResourceState {
        ResourceState {
            address: self.change.address.clone(),
            kind: self.change.kind.clone(),
            name: self.change.name.clone(),
            provider: self.change.provider.clone(),
            id: id.to_string(),
            attributes: state_attrs(&attributes),
            managed_keys: self.change.managed_keys.clone(),
            tainted: false,
            dependencies: self.change.deps.clone(),
            sensitive_attributes: self.change.sensitive_attributes.clone(),
        }
    }
}

/// Attributes as stored in state: everything known.
pub fn state_attrs(m: &Map) -> Map {
    m.iter()
        .filter(|(_, v)| !v.contains_unknown())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn str_arg<'a>(args: &'a Map, k: &str) -> &'a str {
    args.get(k).and_then(Value::as_str).unwrap_or("")
}

fn map_arg(args: &Map, k: &str) -> BTreeMap<String, String> {
    args.get(k)
        .and_then(Value::to_string_map)
        .unwrap_or_default()
}

/// Carries out the change; `Ok(None)` means the object is gone (deleted).
pub async fn run(t: Task) -> Result<Option<ResourceState>, String> {
    let c = &t.change;
    match (c.kind.as_str(), c.action) {
        (_, Action::Read) => {
            let v =
                crate::refresh::read_data_one(&t.client, &c.address.to_string(), &c.kind, &t.args)
                    .await
                    .map_err(|e| e.to_string())?;
            Ok(Some(t.state("", v)))
        }
        (_, Action::Delete) => {
            delete(&t).await?;
            Ok(None)
        }
        (_, Action::Replace) if c.create_before_destroy => {
            let new = create(&t).await?;
            delete(&t).await?;
            Ok(Some(new))
        }
        (_, Action::Replace) => {
            delete(&t).await?;
            create(&t).await.map(Some)
        }
        (_, Action::Create) => create(&t).await.map(Some),
        (_, Action::Update) => update(&t).await.map(Some),
        (_, Action::NoOp) => Ok(t.prior.clone()),
    }
}

async fn delete(t: &Task) -> Result<(), String> {
    let Some(prior) = &t.prior else { return Ok(()) };
    let id = prior.id.clone();
    match t.change.kind.as_str() {
        "image" => {
            t.call(t.client.delete_image(&id)).await?;
        }
        "image_metadata" => {
            for k in &prior.managed_keys {
                t.call(t.client.delete_image_metadata_item(&id, k)).await?;
            }
        }
        "image_schedule" => {
            t.call(t.client.delete_schedule(&id)).await?;
        }
        other => return Err(format!("cannot delete unknown type {other}")),
    }
    Ok(())
}

async fn create(t: &Task) -> Result<ResourceState, String> {
    match t.change.kind.as_str() {
        "image" => create_image(t).await,
        "image_metadata" => {
            let id = str_arg(&t.args, "image_id").to_string();
            sync_metadata(t, &id, None).await?;
            metadata_state(t, &id).await
        }
        "image_schedule" => set_schedule(t).await,
        other => Err(format!("cannot create unknown type {other}")),
    }
}

async fn update(t: &Task) -> Result<ResourceState, String> {
    let id = t
        .prior
        .as_ref()
        .map(|p| p.id.clone())
        .ok_or_else(|| format!("{} has no state to update", t.change.address))?;
    match t.change.kind.as_str() {
        "image" => {
            let before = t.change.before.clone().unwrap_or_default();
            let name = str_arg(&t.args, "name");
            if before.get("name").and_then(Value::as_str) != Some(name) {
                t.call(t.client.rename_image_v2(&id, name)).await?;
            }
            sync_metadata(t, &id, Some(&before)).await?;
            let want = t.args.get("deactivated").and_then(Value::as_bool) == Some(true);
            let was = before.get("deactivated").and_then(Value::as_bool) == Some(true);
            if want != was {
                if want {
                    t.call(t.client.deactivate_image(&id)).await?;
                } else {
                    t.call(t.client.reactivate_image(&id)).await?;
                }
            }
            image_state(t, &id, None).await
        }
        "image_metadata" => {
            let before = t.change.before.clone().unwrap_or_default();
            sync_metadata(t, &id, Some(&before)).await?;
            metadata_state(t, &id).await
        }
        "image_schedule" => set_schedule(t).await,
        other => Err(format!("cannot update unknown type {other}")),
    }
}

/// Brings the managed metadata keys of `image_id` to the desired values: one merge call for the
/// keys to set, one delete per key to remove (keys managed before and no longer declared, and
/// `absent_keys`).
async fn sync_metadata(t: &Task, image_id: &str, before: Option<&Map>) -> Result<(), String> {
    let want = map_arg(&t.args, "metadata");
    let have = before.map(|b| map_arg(b, "metadata")).unwrap_or_default();
    let to_set: BTreeMap<String, String> = want
        .iter()
        .filter(|(k, v)| have.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !to_set.is_empty() {
        t.call(t.client.merge_image_metadata(image_id, &to_set))
            .await?;
    }
    let mut to_delete: Vec<String> = have
        .keys()
        .filter(|k| !want.contains_key(*k))
        .cloned()
        .collect();
    if let Some(absent) = t.args.get("absent_keys").and_then(Value::as_list) {
        let all = before.map(|b| map_arg(b, "all_metadata"));
        for k in absent.iter().filter_map(Value::as_str) {
            // Without a refreshed view (create), try every key; 404 means already absent.
            if all.as_ref().is_none_or(|a| a.contains_key(k)) {
                to_delete.push(k.to_string());
            }
        }
    }
    for k in to_delete {
        t.call(t.client.delete_image_metadata_item(image_id, &k))
            .await?;
    }
    Ok(())
}

async fn metadata_state(t: &Task, image_id: &str) -> Result<ResourceState, String> {
    let all = t.call(t.client.get_image_metadata(image_id)).await?;
    let mut m = Map::new();
    m.insert("id".into(), Value::str(image_id));
    m.insert("image_id".into(), Value::str(image_id));
    m.insert("all_metadata".into(), all.clone().into());
    let owned: BTreeMap<String, String> = all
        .into_iter()
        .filter(|(k, _)| t.change.managed_keys.contains(k))
        .collect();
    m.insert("metadata".into(), owned.into());
    if let Some(a) = t.args.get("absent_keys") {
        m.insert("absent_keys".into(), a.clone());
    }
    Ok(t.state(image_id, m))
}

async fn set_schedule(t: &Task) -> Result<ResourceState, String> {
    let server = str_arg(&t.args, "server_id").to_string();
    let retention = t
        .args
        .get("retention")
        .and_then(Value::as_i64)
        .ok_or("retention is not a number")?;
    let s = Schedule {
        retention: retention as u32,
        day_of_week: t
            .args
            .get("day_of_week")
            .and_then(Value::as_str)
            .map(str::to_uppercase),
    };
    let got = t.call(t.client.set_schedule(&server, &s)).await?;
    let attrs = schedule_attrs(&server, got.retention, got.day_of_week.as_deref());
    Ok(t.state(&server, attrs))
}

async fn create_image(t: &Task) -> Result<ResourceState, String> {
    let server = str_arg(&t.args, "server_id").to_string();
    let name = str_arg(&t.args, "name").to_string();
    let metadata = map_arg(&t.args, "metadata");
    // Journal the intent first: if we die between the call and recording its id, the next plan
    // finds the image by server and name and adopts it instead of creating a duplicate.
    let intent = Intent {
        id: uuid::Uuid::new_v4().to_string(),
        address: t.change.address.clone(),
        operation: "create_image".into(),
        detail: [
            ("server_id".to_string(), server.clone()),
            ("name".to_string(), name.clone()),
            ("provider".to_string(), t.change.provider.clone()),
        ]
        .into(),
        started: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    };
    let intent_id = intent.id.clone();
    let (ack, done) = oneshot::channel();
    t.tx.send(Msg::Journal { intent, ack })
        .await
        .map_err(|_| "apply was stopped")?;
    let _ = done.await;
    let id = match create_when_server_free(t, &server, &name, &metadata).await {
        Ok(id) => id,
        Err(e) => {
            let _ = t.tx.send(Msg::ClearIntent { id: intent_id }).await;
            return Err(e);
        }
    };
    // Record the image at once (still saving), so state knows it even if we are killed now.
    let mut attrs = t.args.clone();
    attrs.remove("timeouts");
    attrs.insert("id".into(), Value::str(&id));
    attrs.insert("status".into(), Value::str("SAVING"));
    let (ack, done) = oneshot::channel();
    t.tx.send(Msg::Record {
        rs: t.state(&id, attrs),
        clear_intent: Some(intent_id),
        ack,
    })
    .await
    .map_err(|_| "apply was stopped")?;
    let _ = done.await;
    let img = wait_active(t, &id).await?;
    if t.args.get("deactivated").and_then(Value::as_bool) == Some(true) {
        t.call(t.client.deactivate_image(&id)).await?;
        return image_state(t, &id, None).await;
    }
    image_state(t, &id, Some(img)).await
}

/// `createImage`, waiting while the server is busy with another snapshot: the cloud answers
/// 409 then (one snapshot per server at a time), so several images of one server are made one
/// after the other. Bounded by the create timeout.
async fn create_when_server_free(
    t: &Task,
    server: &str,
    name: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<String, String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(create_timeout(t));
    let mut delay = Duration::from_millis(500);
    loop {
        let result = {
            let _permit = t.sem.acquire().await.map_err(|e| e.to_string())?;
            t.client.create_image(server, name, metadata).await
        };
        match result {
            Ok(id) => return Ok(id),
            Err(e) if e.status() == Some(409) && tokio::time::Instant::now() + delay < deadline => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(15));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn create_timeout(t: &Task) -> u64 {
    t.args
        .get("timeouts")
        .and_then(|v| v.as_map())
        .and_then(|m| m.get("create"))
        .and_then(Value::as_str)
        .and_then(crate::plan::parse_duration)
        .unwrap_or(3600)
}

/// Polls until the snapshot is ACTIVE; ERROR or the create timeout fail (the resource is then
/// tainted in state so the next plan replaces it).
async fn wait_active(t: &Task, id: &str) -> Result<Image, String> {
    let timeout = create_timeout(t);
    let waited = tokio::time::timeout(
        Duration::from_secs(timeout),
        t.watcher.wait(&t.client, &t.change.address, id),
    )
    .await;
    match waited {
        Ok(Ok(img)) if img.status == "ACTIVE" => Ok(img),
        Ok(Ok(img)) => {
            taint(t, id).await;
            Err(format!(
                "snapshot {id} ended in status {}{}",
                img.status,
                img.fault.map(|f| format!(": {f}")).unwrap_or_default()
            ))
        }
        Ok(Err(e)) => Err(e),
        Err(_) => {
            taint(t, id).await;
            Err(format!(
                "snapshot {id} is still saving after the create timeout of {timeout}s"
            ))
        }
    }
}

async fn taint(t: &Task, id: &str) {
    let mut attrs = t.args.clone();
    attrs.remove("timeouts");
    attrs.insert("id".into(), Value::str(id));
    let mut rs = t.state(id, attrs);
    rs.tainted = true;
    let (ack, done) = oneshot::channel();
    if t.tx
        .send(Msg::Record {
            rs,
            clear_intent: None,
            ack,
        })
        .await
        .is_ok()
    {
        let _ = done.await;
    }
}

/// The state of an image after apply; `known` is a view just read (saves a request).
async fn image_state(t: &Task, id: &str, known: Option<Image>) -> Result<ResourceState, String> {
    let img = match known {
        Some(i) => i,
        None => t
            .call(t.client.get_image(id))
            .await?
            .ok_or_else(|| format!("image {id} not found after apply"))?,
    };
    let mut attrs = {
        let _permit = t.sem.acquire().await.map_err(|e| e.to_string())?;
        image_attrs(&t.client, &img)
            .await
            .map_err(|e| e.to_string())?
    };
    let owned: BTreeMap<String, String> = img
        .metadata
        .iter()
        .filter(|(k, _)| t.change.managed_keys.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    attrs.insert("metadata".into(), owned.into());
    if let Some(s) = t.args.get("server_id") {
        attrs.insert("server_id".into(), s.clone());
    }
    Ok(t.state(id, attrs))
}
