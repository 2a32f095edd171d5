//! Command-line arguments (clap): the raw flags of every command.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "snapform",
    version,
    about = "Declarative provisioning of cloud images, image metadata and scheduled images",
    long_about = None
)]
pub struct Cli {
    /// Work in this directory instead of the current one.
    #[arg(long, global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Never use colour.
    #[arg(long, global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare the working directory (creates .snapform/).
    Init,
    /// Check the configuration without contacting the cloud; reports every error.
    Validate(VarArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Change the cloud to match the configuration (or carry out a saved plan).
    Apply(ApplyArgs),
    /// Destroy everything this configuration manages.
    Destroy(ApplyArgs),
    /// Show the outputs recorded in state.
    Output(OutputArgs),
    /// Show the state, or a saved plan.
    Show(ShowArgs),
    /// Inspect and edit the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Rewrite configuration files in the canonical format.
    Fmt(FmtArgs),
    /// Print the configuration's dependency graph in DOT.
    Graph,
    /// Adopt an existing cloud object into state for a resource in the configuration.
    Import(ImportArgs),
    /// Explain or clear a state lock (a lock held by a live run is never broken).
    ForceUnlock(ForceUnlockArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Run the embedded emulator of the cloud API.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Print the version.
    Version,
}

#[derive(Args, Debug, Clone, Default)]
pub struct VarArgs {
    /// Set a variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variable values from a *.snapvars.hcl file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

/// Flags that shape a plan (shared by plan, apply and destroy).
#[derive(Args, Debug, Clone)]
pub struct PlanFlags {
    /// Plan only this resource (and what it depends on); repeatable.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Replace this resource instance even if nothing changed; repeatable.
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Read the cloud before planning (`--refresh=false` trusts the state).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Change nothing in the cloud: record in state what the cloud has.
    #[arg(long)]
    pub refresh_only: bool,
}

impl Default for PlanFlags {
    fn default() -> Self {
        PlanFlags {
            targets: Vec::new(),
            replace: Vec::new(),
            refresh: true,
            refresh_only: false,
        }
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct PlanArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Write the plan to FILE, for `apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan to destroy everything in state.
    #[arg(long)]
    pub destroy: bool,
    /// How long to wait for the state lock, e.g. 10s.
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out`.
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Cloud API calls in flight at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// How long to wait for the state lock, e.g. 10s.
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
}

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Print one output only (its raw value).
    pub name: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ShowArgs {
    /// A saved plan to show instead of the state.
    pub plan_file: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List resource addresses in state.
    List,
    /// Show one resource in state.
    Show { address: String },
    /// Forget resources (the cloud objects are left alone).
    Rm {
        #[arg(required = true, value_name = "ADDR")]
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Rename a resource in state, e.g. after renaming its block.
    Mv {
        from: String,
        to: String,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the state as JSON on stdout.
    Pull {
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Replace the state with FILE (same lineage and no older serial, unless --force).
    Push {
        file: PathBuf,
        /// Accept a different lineage or an older serial.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct LockArgs {
    /// How long to wait for the state lock, e.g. 10s.
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
}

#[derive(Args, Debug, Clone, Default)]
pub struct FmtArgs {
    /// Files or directories (default: the *.snap.hcl and *.snapvars.hcl files here).
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 3 if some file is not in the canonical format.
    #[arg(long)]
    pub check: bool,
    /// Print a unified diff of the changes.
    #[arg(long)]
    pub diff: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// Resource address in the configuration, e.g. image.golden.
    pub address: String,
    /// The cloud id: an image id (image, image_metadata) or a server id (image_schedule).
    pub id: String,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ForceUnlockArgs {
    /// Lock id (accepted for Terraform compatibility; the local lock has no id).
    pub id: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Serve the emulator over HTTP until interrupted.
    Serve(crate::sandbox::SandboxOptions),
}
