//! The engine: the library API the CLI and the benchmarks call, the way cargo's commands call
//! `ops`. It loads a working directory, connects providers, opens the state backend, makes
//! plans (reconciling the journal, refreshing, reading imports and data sources as they become
//! known), applies them with a stream of events, imports objects and edits state. It never
//! prints: it returns values, notes and errors, and the CLI renders them.

mod apply;
mod backend;
mod connect;
mod credentials;
mod error;
mod import;
mod init;
mod planning;
mod query;
mod selection;
mod session;
mod state_ops;
mod workspace;
pub mod workspaces;

pub use crate::apply::{Event, Outcome, Reporter};
pub use apply::{
    ApplyOptions, apply_plan, check_saved_plan, load_for_plan, parse_plan, read_plan_file,
    write_plan_file,
};
pub use backend::{
    PG_CONN_ENV, open, open_settings, read_unlocked, settings, settings_of_dir, use_encryption_of,
    warning,
};
pub use connect::{Connected, connect};
pub use error::Error;
pub use import::import;
pub use init::{InitOptions, init};
pub use planning::{PlanOptions, make_plan, reconcile_journal};
pub use query::{Listed, generate as generate_query_config, query};
pub use session::Session;
pub use state_ops::{force_unlock, list_serials, lock_timeout, mv, pull, pull_serial, push, rm};
pub use workspace::{
    STATE_FILE, VarArgs, Workspace, config_graph, load, read_query_sources, read_sources,
    var_inputs,
};
