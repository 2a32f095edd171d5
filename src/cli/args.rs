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
    /// Prepare the working directory (creates .snapform/, records the backend; -migrate-state
    /// moves the state when the backend changed).
    Init(InitArgs),
    /// Check the configuration without contacting the cloud; reports every error.
    Validate(ValidateArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Change the cloud to match the configuration (or carry out a saved plan).
    Apply(ApplyArgs),
    /// Destroy everything this configuration manages.
    Destroy(DestroyArgs),
    /// Show the outputs recorded in state.
    Output(OutputArgs),
    /// Show the state, or a saved plan.
    Show(ShowArgs),
    /// Inspect and edit the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Manage workspaces: one configuration, a separate state per workspace (staging,
    /// production, ...); `snapform.workspace` names the current one in expressions.
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Rewrite configuration files in the canonical format.
    Fmt(FmtArgs),
    /// Print the configuration's dependency graph in DOT, or the plan's graph (`-html`: a page
    /// to open in a browser).
    Graph(GraphArgs),
    /// Adopt an existing cloud object into state for a resource in the configuration.
    Import(ImportArgs),
    /// List what the `list` blocks of *.snapquery.hcl find in the cloud (and generate the
    /// configuration that adopts it).
    Query(QueryArgs),
    /// Explain or clear a state lock (a lock held by a live run is never broken).
    ForceUnlock(ForceUnlockArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  snapform completions bash > /etc/bash_completion.d/snapform\n  snapform completions zsh > \"${fpath[1]}/_snapform\"\n  snapform completions fish > ~/.config/fish/completions/snapform.fish"
    )]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write the manual pages (roff): snapform(1) on stdout, or with --out-dir one page per
    /// command (snapform-plan.1, ...) into DIR.
    #[command(
        after_help = "Examples:\n  snapform man | man -l -\n  snapform man -out-dir=/usr/local/share/man/man1"
    )]
    Man {
        /// Write snapform.1 and a page for every command into this directory.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Run the embedded emulator of the cloud API.
    #[command(
        subcommand,
        after_help = "Examples:\n  snapform sandbox serve -listen=127.0.0.1:8900 -data=/tmp/sandbox\n  snapform sandbox serve -listen=127.0.0.1:0 -cloud=openstack"
    )]
    Sandbox(SandboxCommand),
    /// Print the version.
    #[command(after_help = "Examples:\n  snapform version\n  snapform -version")]
    Version,
}

#[derive(Args, Debug, Clone, Default)]
#[command(
    after_help = "Examples:\n  snapform init\n  snapform init -migrate-state\n  snapform init -migrate-state -force-copy\n  snapform init -reconfigure\n  snapform -chdir=examples/quickstart init"
)]
pub struct InitArgs {
    /// The backend changed since the last init: copy the state of every workspace to the new
    /// backend, keeping lineage and serial (the old state is left in place).
    #[arg(long)]
    pub migrate_state: bool,
    /// With -migrate-state: overwrite a state of another lineage (or a newer serial) that the
    /// new backend already holds.
    #[arg(long)]
    pub force_copy: bool,
    /// The backend changed: use the new one as it is, copying nothing.
    #[arg(long, conflicts_with = "migrate_state")]
    pub reconfigure: bool,
    #[command(flatten)]
    pub lock: LockArgs,
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

#[derive(Args, Debug, Clone, Default)]
#[command(
    after_help = "Examples:\n  snapform validate\n  snapform validate -json -var-file=prod.snapvars.hcl"
)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Print the result as JSON on stdout (Terraform's `validate -json` format).
    #[arg(long)]
    pub json: bool,
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

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  snapform plan\n  snapform plan -out=tfplan -var-file=prod.snapvars.hcl\n  snapform plan -detailed-exitcode -input=false   # exit 0: no changes, 2: changes, 1: error"
)]
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
    #[command(flatten)]
    pub state_lock: LockFlags,
    /// Print the plan as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write resource blocks for `import` targets the configuration lacks to FILE (a new
    /// `*.snap.hcl` file here), then plan with them.
    #[arg(long, value_name = "FILE")]
    pub generate_config_out: Option<PathBuf>,
    /// Accepted for Terraform compatibility: plan asks no questions.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub input: bool,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  snapform apply\n  snapform apply -auto-approve -var region=DFW\n  snapform plan -out=tfplan && snapform apply tfplan"
)]
pub struct ApplyArgs {
    /// A plan saved with `plan -out=FILE`; it fixes the variables and the mode.
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub flags: PlanFlags,
    /// Destroy everything in state (as `snapform destroy`).
    #[arg(long)]
    pub destroy: bool,
    #[command(flatten)]
    pub run: RunFlags,
}

/// The state lock of a command that plans (plan, apply, destroy).
#[derive(Args, Debug, Clone)]
pub struct LockFlags {
    /// How long to wait for the state lock, e.g. 10s.
    #[arg(long, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: String,
    /// Hold the state lock while running (`-lock=false` does not: only when nothing else can
    /// write this state).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub lock: bool,
}

/// How an apply runs (apply, destroy).
#[derive(Args, Debug, Clone)]
pub struct RunFlags {
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Ask nothing (`-input=false`): without -auto-approve, nothing is changed.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub input: bool,
    /// Cloud API calls in flight at once.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    #[command(flatten)]
    pub state_lock: LockFlags,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  snapform output\n  snapform output -raw image_id\n  snapform output -json"
)]
pub struct OutputArgs {
    /// Print this output only.
    pub name: Option<String>,
    /// Print JSON.
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
    /// Print the bare string of one output (a string, number or bool), without quotes or a
    /// trailing newline, for scripts.
    #[arg(long, requires = "name")]
    pub raw: bool,
}

/// `destroy`: the flags of a destroy-mode apply (no plan file: apply a saved `plan -destroy`
/// with `snapform apply FILE`).
#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  snapform destroy\n  snapform destroy -auto-approve -target=image.golden"
)]
pub struct DestroyArgs {
    /// Not accepted: a saved plan is carried out by `snapform apply FILE`.
    #[arg(hide = true)]
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Destroy only this resource (and what depends on it); repeatable.
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Read the cloud before planning (`-refresh=false` trusts the state).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    #[command(flatten)]
    pub run: RunFlags,
}

impl DestroyArgs {
    pub fn into_apply(self) -> ApplyArgs {
        ApplyArgs {
            plan_file: self.plan_file,
            vars: self.vars,
            flags: PlanFlags {
                targets: self.targets,
                refresh: self.refresh,
                ..PlanFlags::default()
            },
            destroy: true,
            run: self.run,
        }
    }
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  snapform graph | dot -Tsvg > graph.svg\n  snapform graph -html > plan.html\n  snapform plan -out=tfplan && snapform graph -html -plan=tfplan > plan.html"
)]
pub struct GraphArgs {
    /// Write the plan's graph as a self-contained HTML page (one node per resource instance and
    /// data source, coloured by planned action); without -plan, plans first.
    #[arg(long)]
    pub html: bool,
    /// Draw this saved plan (from `plan -out=FILE`) instead of planning: DOT, or HTML with -html.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Graph a plan to destroy everything in state.
    #[arg(long)]
    pub destroy: bool,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub flags: PlanFlags,
    #[command(flatten)]
    pub state_lock: LockFlags,
}

#[derive(Args, Debug, Clone)]
#[command(after_help = "Examples:\n  snapform show\n  snapform show -json tfplan")]
pub struct ShowArgs {
    /// A saved plan to show instead of the state.
    pub plan_file: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
#[command(
    after_help = "Examples:\n  snapform state list\n  snapform state show image.golden\n  snapform state mv image.old image.new\n  snapform state rm -lock-timeout=30s image.legacy\n  snapform state list-serials\n  snapform state pull -serial=12 > old.json"
)]
pub enum StateCommand {
    /// List resource addresses in state.
    List,
    /// Show one resource in state.
    Show {
        /// The resource instance, e.g. image.golden or image.nightly["web-1"].
        address: String,
    },
    /// Forget resources (the cloud objects are left alone).
    Rm {
        /// Resource instances or blocks to forget, e.g. image.golden (all its instances).
        #[arg(required = true, value_name = "ADDR")]
        addresses: Vec<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Rename a resource in state, e.g. after renaming its block.
    Mv {
        /// The address in state now, e.g. image.old.
        from: String,
        /// The address it moves to, e.g. image.new.
        to: String,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Print the state as JSON on stdout (-serial N: the state as it was at serial N).
    Pull {
        /// An earlier serial the backend keeps (see state list-serials).
        #[arg(long, value_name = "N")]
        serial: Option<u64>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// List the serials the backend keeps of the state (pg: every checkpoint), oldest first.
    ListSerials,
    /// Replace the state with FILE (same lineage and no older serial, unless --force).
    Push {
        /// A state file, e.g. one written by `state pull`.
        file: PathBuf,
        /// Accept a different lineage or an older serial.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Subcommand, Debug)]
#[command(
    after_help = "Examples:\n  snapform workspace new staging\n  snapform workspace list\n  snapform workspace select default\n  snapform workspace select -or-create production\n  snapform workspace delete -lock-timeout=30s staging\n  SNAPFORM_WORKSPACE=staging snapform plan"
)]
pub enum WorkspaceCommand {
    /// List the workspaces; the current one is marked with *.
    List,
    /// Print the name of the current workspace.
    Show,
    /// Create a workspace (with an empty state) and select it.
    New {
        /// The new workspace's name: letters, digits, - and _.
        name: String,
    },
    /// Select a workspace for the commands that follow (recorded in .snapform/environment;
    /// SNAPFORM_WORKSPACE overrides it).
    Select {
        /// The workspace to select.
        name: String,
        /// Create the workspace if it does not exist.
        #[arg(long)]
        or_create: bool,
    },
    /// Delete a workspace and its state (not the current one, not default).
    Delete {
        /// The workspace to delete.
        name: String,
        /// Delete even if its state still records resources (they are forgotten, not
        /// destroyed: the cloud objects stay).
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
#[command(
    after_help = "Examples:\n  snapform fmt\n  snapform fmt -check -diff -recursive\n  cat main.snap.hcl | snapform fmt -"
)]
pub struct FmtArgs {
    /// Files or directories (default: the *.snap.hcl and *.snapvars.hcl files here); `-`
    /// reads standard input and writes the formatted text to standard output.
    pub files: Vec<PathBuf>,
    /// Also format the files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// Change nothing; exit 3 if some file is not in the canonical format.
    #[arg(long)]
    pub check: bool,
    /// Print a unified diff of the changes.
    #[arg(long)]
    pub diff: bool,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  snapform import image.golden 0f1c2d3e-...\n  snapform import -var-file=prod.snapvars.hcl image_schedule.web 6b43d17e-..."
)]
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
#[command(
    after_help = "Examples:\n  snapform query\n  snapform query -json\n  snapform query -generate-config-out=adopted.snap.hcl"
)]
pub struct QueryArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Print what was found as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write `import` and `resource` blocks for everything found that state does not manage
    /// yet to FILE (a new *.snap.hcl file).
    #[arg(long, value_name = "FILE")]
    pub generate_config_out: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Examples:\n  snapform force-unlock\n  snapform force-unlock 8c1d9e2a-...   # http backend: the ID a refused run printed"
)]
pub struct ForceUnlockArgs {
    /// Lock id (accepted for Terraform compatibility; the local lock has no id).
    pub id: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Serve the emulator over HTTP until interrupted.
    #[command(
        after_help = "Examples:\n  snapform sandbox serve -listen=127.0.0.1:8900 -data=/tmp/sandbox\n  snapform sandbox serve -listen=127.0.0.1:0 -servers=1000 -images=10000"
    )]
    Serve(crate::sandbox::SandboxOptions),
}
