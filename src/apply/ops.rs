//! Carrying out one change: the resource kind's create / update / delete (or a data source's
//! read) through the registry, and the journal that a running change reports to — messages to
//! the coordinator, which owns the state.

use crate::plan::{Action, Change};
use crate::resources::{self, BoxFut, Journal, Op};
use crate::state::{Intent, ResourceState};
use crate::value::Map;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

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
    /// The object `id` at `address` was deleted: drop it from state (and from the deposed).
    Forget {
        address: crate::addr::InstanceAddr,
        id: String,
        ack: oneshot::Sender<()>,
    },
}

/// The journal as the coordinator's channel.
pub struct Channel(pub mpsc::Sender<Msg>);

impl Journal for Channel {
    fn intent(&self, intent: Intent) -> BoxFut<'_, Result<(), String>> {
        Box::pin(async move {
            let (ack, done) = oneshot::channel();
            self.0
                .send(Msg::Journal { intent, ack })
                .await
                .map_err(|_| "apply was stopped")?;
            done.await.map_err(|_| "apply was stopped".to_string())
        })
    }

    fn record(&self, rs: ResourceState, clear: Option<String>) -> BoxFut<'_, Result<(), String>> {
        Box::pin(async move {
            let (ack, done) = oneshot::channel();
            self.0
                .send(Msg::Record {
                    rs,
                    clear_intent: clear,
                    ack,
                })
                .await
                .map_err(|_| "apply was stopped")?;
            done.await.map_err(|_| "apply was stopped".to_string())
        })
    }

    fn clear(&self, id: String) -> BoxFut<'_, ()> {
        Box::pin(async move {
            let _ = self.0.send(Msg::ClearIntent { id }).await;
        })
    }

    fn forget(&self, address: crate::addr::InstanceAddr, id: String) -> BoxFut<'_, ()> {
        Box::pin(async move {
            let (ack, done) = oneshot::channel();
            if self.0.send(Msg::Forget { address, id, ack }).await.is_ok() {
                let _ = done.await;
            }
        })
    }
}

/// Attributes as stored in state: everything known.
pub fn state_attrs(m: &Map) -> Map {
    resources::op::known(m)
}

/// Carries out `change`; `Ok(None)` means the object is gone (deleted).
pub async fn run(change: Change, op: Op) -> Result<Option<ResourceState>, String> {
    if change.action == Action::Read {
        let data = resources::data_source(&change.kind)
            .ok_or_else(|| format!("unknown data source type {}", change.kind))?;
        let v = data
            .read(&op.client, &op.args, &resources::Views::default())
            .await
            .map_err(|e| format!("{}: {e}", change.address))?;
        return Ok(Some(op.state("", v)));
    }
    let kind = resources::resource(&change.kind)
        .ok_or_else(|| format!("unknown resource type {}", change.kind))?;
    match change.action {
        Action::Read => unreachable!("handled above"),
        Action::Delete => {
            kind.delete(&op).await?;
            Ok(None)
        }
        // The new object is recorded as soon as it exists, which deposes the old one in state
        // (`State::put`): a run killed before the old one is deleted leaves it for the next
        // plan to destroy, never orphaned.
        Action::Replace if change.create_before_destroy => {
            let new = kind.create(&op).await?;
            kind.delete(&op).await?;
            forget_prior(&op).await;
            Ok(Some(new))
        }
        Action::Replace => {
            kind.delete(&op).await?;
            forget_prior(&op).await;
            kind.create(&op).await.map(Some)
        }
        Action::Create => kind.create(&op).await.map(Some),
        Action::Update => kind.update(&op).await.map(Some),
        Action::NoOp => Ok(op.prior.clone()),
    }
}

async fn forget_prior(op: &Op) {
    if let Some(p) = &op.prior {
        op.journal.forget(op.address.clone(), p.id.clone()).await;
    }
}

/// The journal a change reports to, shared.
pub fn channel(tx: mpsc::Sender<Msg>) -> Arc<dyn Journal> {
    Arc::new(Channel(tx))
}
