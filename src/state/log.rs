//! One record of a state log (write-ahead log), shared by the backends that keep one: the
//! local backend appends records as JSON lines to `snapform.state.json.wal`, the pg backend
//! inserts them as rows of `state_log`. A record holds what one group of changes touched — the
//! resources put or removed, the journal's intents started and settled — and the small parts
//! (deposed objects, cursors, outputs) whole. Replaying the records newer than a checkpoint, in
//! serial order, gives the state as of the last one.

use super::{Delta, Intent, OutputState, ResourceState, State};
use crate::addr::InstanceAddr;
use std::collections::BTreeMap;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Record {
    pub lineage: String,
    pub serial: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub put: Vec<ResourceState>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<InstanceAddr>,
    /// The whole journal: in records written before journal deltas (read, never written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<Vec<Intent>>,
    /// Intents started since the previous record, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journal_add: Vec<Intent>,
    /// Ids of the intents settled since the previous record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journal_remove: Vec<String>,
    #[serde(default)]
    pub deposed: Vec<ResourceState>,
    #[serde(default)]
    pub cursors: BTreeMap<String, String>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
}

impl Record {
    /// What changed from `prev` (the last durable state) to `state`, looking only at the
    /// addresses `delta` touched; `None` when nothing did. The serial is `state.serial + 1`.
    pub fn between(prev: &State, state: &State, delta: &Delta) -> Option<Record> {
        let mut put = Vec::new();
        let mut remove = Vec::new();
        for a in &delta.touched {
            match (state.resources.get(a), prev.resources.get(a)) {
                (Some(now), Some(was)) if now == was => {}
                (Some(now), _) => put.push(now.clone()),
                (None, Some(_)) => remove.push(a.clone()),
                (None, None) => {}
            }
        }
        // The journal as a delta: what started and what settled (in flight there may be as
        // many intents as servers, so the whole of it per record would not be small).
        let (journal_add, journal_remove) = match &delta.journal {
            Some((added, settled)) => {
                // Started and settled within this group: neither is recorded.
                let added: Vec<Intent> = added
                    .iter()
                    .filter(|i| !settled.contains(&i.id))
                    .cloned()
                    .collect();
                let settled: Vec<String> = settled
                    .iter()
                    .filter(|id| prev.journal.iter().any(|i| &i.id == *id))
                    .cloned()
                    .collect();
                (added, settled)
            }
            None => journal_delta(&prev.journal, &state.journal),
        };
        let small_same = journal_add.is_empty()
            && journal_remove.is_empty()
            && prev.deposed == state.deposed
            && prev.cursors == state.cursors
            && prev.outputs == state.outputs;
        if put.is_empty() && remove.is_empty() && small_same {
            return None;
        }
        Some(Record {
            lineage: state.lineage.clone(),
            serial: state.serial + 1,
            put,
            remove,
            journal: None,
            journal_add,
            journal_remove,
            deposed: state.deposed.clone(),
            cursors: state.cursors.clone(),
            outputs: state.outputs.clone(),
        })
    }

    /// Replays this record onto `state`.
    pub fn apply_to(&self, state: &mut State) {
        if state.serial == 0 {
            state.lineage = self.lineage.clone();
        }
        state.serial = self.serial;
        for a in &self.remove {
            state.resources.remove(a);
        }
        for rs in &self.put {
            state.resources.insert(rs.address.clone(), rs.clone());
        }
        if let Some(j) = &self.journal {
            state.journal = j.clone();
        }
        state
            .journal
            .retain(|i| !self.journal_remove.contains(&i.id));
        state.journal.extend(self.journal_add.iter().cloned());
        state.deposed = self.deposed.clone();
        state.cursors = self.cursors.clone();
        state.outputs = self.outputs.clone();
    }
}

/// What changed from `was` to `now`: the intents added (or changed) and the ids removed.
fn journal_delta(was: &[Intent], now: &[Intent]) -> (Vec<Intent>, Vec<String>) {
    use std::collections::HashMap;
    let before: HashMap<&str, &Intent> = was.iter().map(|i| (i.id.as_str(), i)).collect();
    let after: HashMap<&str, &Intent> = now.iter().map(|i| (i.id.as_str(), i)).collect();
    let removed: Vec<String> = was
        .iter()
        .filter(|i| after.get(i.id.as_str()) != Some(i))
        .map(|i| i.id.clone())
        .collect();
    let added: Vec<Intent> = now
        .iter()
        .filter(|i| before.get(i.id.as_str()) != Some(i))
        .cloned()
        .collect();
    (added, removed)
}
