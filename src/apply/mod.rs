//! Apply: walks the plan's execution graph and carries out each change through the provider.
//!
//! The main task coordinates everything (like cargo's job queue): it owns the state, starts the
//! changes whose dependencies are done, persists state after every completed operation and
//! journals an intent before every `createImage`. Worker tasks only talk to the cloud; API calls
//! are bounded by a semaphore, and waiting for a snapshot holds no slot.
//!
//! Architecture Invariant: apply decides nothing the plan did not. It evaluates arguments that
//! were unknown at plan time, checks them against the plan, and performs exactly the planned action.

mod ops;
mod wait;
mod walk;

#[cfg(test)]
mod props;

pub use walk::apply;
pub(crate) use walk::seeded_evaluator;

use crate::addr::InstanceAddr;
use crate::plan::Action;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    /// Cloud API calls in flight at once.
    pub parallelism: usize,
    /// How often snapshots still saving are polled.
    pub poll_interval: Duration,
    /// From this many snapshots saving at once on one endpoint, poll them with one listing
    /// per round instead of one GET per image.
    pub batch_wait_from: usize,
    /// When a wait for a snapshot first checks that the cloud is still making it (then twice
    /// as long apart each time); see `resources::image`.
    pub abandon_check: Duration,
    /// Set to `true` to interrupt (Ctrl-C): nothing new starts, calls in flight finish, waits
    /// for saving snapshots stop (they stay in state as `SAVING`, for the next apply to wait
    /// for), state is written and the apply returns.
    pub interrupt: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            parallelism: 10,
            poll_interval: Duration::from_secs(1),
            batch_wait_from: 4,
            abandon_check: Duration::from_secs(60),
            interrupt: None,
        }
    }
}

/// Progress of an apply, for the CLI to display.
#[derive(Clone, Debug)]
pub enum Event {
    Started {
        address: InstanceAddr,
        action: Action,
    },
    /// A snapshot is saving: percent from the API's `progress`.
    Progress { address: InstanceAddr, percent: u32 },
    Finished {
        address: InstanceAddr,
        action: Action,
        id: Option<String>,
        elapsed: Duration,
    },
    Failed {
        address: InstanceAddr,
        error: String,
    },
    Skipped {
        address: InstanceAddr,
        because: String,
    },
}

/// Receives apply events (implemented by the CLI).
pub trait Reporter: Send + Sync {
    fn report(&self, event: Event);
}

/// What an apply did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub done: Vec<(InstanceAddr, Action)>,
    pub failed: Vec<(InstanceAddr, String)>,
    pub skipped: Vec<InstanceAddr>,
    /// The apply was interrupted (what was not started is in `skipped`).
    pub interrupted: bool,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty() && !self.interrupted
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    #[error("the configuration no longer matches the plan: {0}")]
    Inconsistent(String),
}
