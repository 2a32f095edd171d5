//! A session: one command's hold on a working directory's state and clouds — the state backend
//! opened and locked, the state read, the providers connected and the intent journal of an
//! interrupted apply reconciled — through which it plans and applies, then closes (unlocks).

use super::Error;
use super::apply::{ApplyOptions, apply_plan, check_saved_plan};
use super::backend;
use super::connect::{Connected, connect};
use super::planning::{PlanOptions, make_plan, reconcile_journal};
use super::workspace::Workspace;
use crate::apply::{Outcome, Reporter};
use crate::plan::Plan;
use crate::state::{Backend, State};
use std::sync::Arc;
use std::time::Duration;

pub struct Session<'w> {
    pub ws: &'w Workspace,
    backend: Backend,
    /// The state as read (and as every apply leaves it).
    pub state: State,
    pub conn: Connected,
    /// What opening did that the user should know (a backend warning, adopted images).
    pub notes: Vec<String>,
}

impl<'w> Session<'w> {
    /// Opens the workspace's backend (waiting up to `lock_timeout` for its lock, recording
    /// `operation` with it), reads state, connects every provider and reconciles the journal.
    pub async fn open(
        ws: &'w Workspace,
        lock_timeout: Duration,
        operation: &str,
    ) -> Result<Session<'w>, Error> {
        Self::open_mode(ws, Some(lock_timeout), operation).await
    }

    /// `open`, or with `None` without taking the state lock (`-lock=false`: the caller vouches
    /// that no other run writes this state meanwhile).
    pub async fn open_mode(
        ws: &'w Workspace,
        lock_timeout: Option<Duration>,
        operation: &str,
    ) -> Result<Session<'w>, Error> {
        let settings = backend::settings(&ws.dir, &ws.cfg)?;
        let mut notes: Vec<String> = backend::warning(&settings).into_iter().collect();
        let mut backend = backend::open_settings_mode(&settings, lock_timeout, operation).await?;
        let mut state = backend.read().await?;
        let conn = connect(ws).await?;
        notes.extend(conn.warnings.iter().cloned());
        notes.extend(reconcile_journal(&mut state, &mut backend, &conn).await?);
        Ok(Session {
            ws,
            backend,
            state,
            conn,
            notes,
        })
    }

    /// Makes a plan (or a destroy plan) against the cloud and state.
    pub async fn plan(&self, destroy: bool, opts: &PlanOptions) -> Result<Plan, Error> {
        make_plan(self.ws, &self.state, &self.conn, destroy, opts).await
    }

    /// Refuses a saved plan that no longer fits the state or the cloud.
    /// Resource blocks for the `import` targets the configuration lacks
    /// (`plan -generate-config-out`); `None` when it declares them all.
    pub async fn generate_config(&self) -> Result<Option<String>, Error> {
        super::planning::generate_config(self.ws, &self.conn).await
    }

    pub async fn check_saved_plan(&mut self, p: &Plan) -> Result<(), Error> {
        check_saved_plan(self.ws, p, &mut self.state, &self.conn).await
    }

    /// Carries out `plan`, reporting progress to `reporter`.
    pub async fn apply(
        &mut self,
        plan: &Plan,
        opts: &ApplyOptions,
        reporter: Arc<dyn Reporter>,
    ) -> Result<Outcome, Error> {
        apply_plan(
            self.ws,
            plan,
            &mut self.state,
            &mut self.backend,
            &self.conn,
            opts,
            reporter,
        )
        .await
    }

    /// Requests sent to the clouds so far (authentication and retries included).
    pub fn requests(&self) -> u64 {
        self.conn.clients.request_count()
    }

    /// Releases the state lock.
    pub async fn close(self) -> Result<(), Error> {
        self.backend.unlock().await?;
        Ok(())
    }
}
