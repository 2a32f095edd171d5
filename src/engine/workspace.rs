//! Loading a working directory: reading `*.snap.hcl` and the variable inputs (files, the
//! environment, `--var`), then parsing, graph checks and a static validation pass that reports
//! every mistake before anything touches the cloud.

use super::Error as CliError;
use crate::config::vars::{self, VarInputs};
use crate::config::{self, Config, Diagnostic, SourceFile, Sources};
use crate::graph::{self, Graph};
use crate::plan::{self, Refreshed};
use crate::state::State;
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const STATE_FILE: &str = "snapform.state.json";

/// A loaded and statically valid configuration.
pub struct Workspace {
    pub dir: PathBuf,
    pub cfg: Config,
    pub graph: Graph,
    pub vars: BTreeMap<String, Value>,
}

impl Workspace {
    /// The values of the sensitive variables, as text (for redacting logs and messages).
    pub fn sensitive_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &self.vars {
            if self.cfg.variables.get(k).is_some_and(|d| d.sensitive) {
                Value::sensitive(v.clone()).sensitive_strings(&mut out);
            }
        }
        out
    }
}

/// Reads every `*.snap.hcl` in `dir` (not recursive), sorted by name.
pub fn read_sources(dir: &Path) -> Result<Sources, CliError> {
    read_sources_with(dir, false)
}

/// The configuration and the query files (`*.snapquery.hcl`, their `list` blocks), for
/// `snapform query`.
pub fn read_query_sources(dir: &Path) -> Result<Sources, CliError> {
    read_sources_with(dir, true)
}

fn read_sources_with(dir: &Path, queries: bool) -> Result<Sources, CliError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| CliError::msg(format!("cannot read directory {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.ends_with(".snap.hcl") || (queries && n.ends_with(".snapquery.hcl"))
                })
        })
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(CliError::msg(format!(
            "no configuration files (*.snap.hcl) in {}",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    for p in paths {
        let text = std::fs::read_to_string(&p)
            .map_err(|e| CliError::msg(format!("cannot read {}: {e}", p.display())))?;
        let shown = p
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| p.display().to_string());
        files.push(SourceFile { path: shown, text });
    }
    Ok(Sources::new(files))
}

/// Where variable values come from on the command line.
#[derive(Clone, Debug, Default)]
pub struct VarArgs {
    /// `--var NAME=VALUE`, in order.
    pub vars: Vec<String>,
    /// `--var-file FILE`, in order.
    pub var_files: Vec<PathBuf>,
}

/// Gathers variable inputs: auto var file, `--var-file`s, `SNAPFORM_VAR_*`, `--var`.
pub fn var_inputs(dir: &Path, args: &VarArgs) -> Result<VarInputs, CliError> {
    let mut inputs = VarInputs::default();
    let auto = dir.join("snapform.auto.snapvars.hcl");
    // (where to read, how to name it in messages: as the user wrote it)
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    if auto.is_file() {
        files.push((auto, "snapform.auto.snapvars.hcl".into()));
    }
    files.extend(args.var_files.iter().map(|f| {
        let path = if f.is_absolute() {
            f.clone()
        } else {
            dir.join(f)
        };
        (path, f.display().to_string())
    }));
    for (f, shown) in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| CliError::msg(format!("cannot read var file {shown}: {e}")))?;
        inputs.files.push(SourceFile { path: shown, text });
    }
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("SNAPFORM_VAR_") {
            inputs.env.push((name.to_string(), v));
        }
    }
    for a in &args.vars {
        inputs
            .cli
            .push(vars::parse_assignment(a).map_err(|m| CliError::msg(format!("--var: {m}")))?);
    }
    Ok(inputs)
}

/// Parses, checks references, resolves variables and runs the planner once with nothing known
/// from the cloud, so type and range errors surface before any request is sent.
pub fn load(dir: &Path, sources: Sources, inputs: &VarInputs) -> Result<Workspace, CliError> {
    let (mut cfg, mut diags) = config::load(sources);
    cfg.workspace = super::selection::current(dir)?;
    let (graph, gd) = graph::build(&cfg);
    diags.extend(gd);
    if let Some((req, span)) = &cfg.required_version {
        let have = env!("CARGO_PKG_VERSION");
        match crate::config::version::satisfies(req, have) {
            Ok(true) => {}
            Ok(false) => diags.push(Diagnostic::error(
                format!("this configuration requires snapform {req}, but this is snapform {have}"),
                Some(span.clone()),
            )),
            Err(m) => diags.push(Diagnostic::error(m, Some(span.clone()))),
        }
    }
    let (vars, vd) = vars::resolve(&cfg, inputs);
    diags.extend(vd);
    // Keep going after errors so `validate` reports every problem at once.
    let (_, pd) = plan::plan(
        &cfg,
        &graph,
        &vars,
        &State::new(),
        &Refreshed::default(),
        &plan::Options {
            validate_only: true,
            ..plan::Options::default()
        },
    );
    // A mistake found by the checks above also makes evaluation fail; report it once.
    let overlaps = |a: &Diagnostic, b: &Diagnostic| match (&a.span, &b.span) {
        (Some(x), Some(y)) => {
            x.file == y.file && x.range.start <= y.range.end && y.range.start <= x.range.end
        }
        _ => false,
    };
    for d in pd {
        if !diags.iter().any(|x| overlaps(x, &d)) {
            diags.push(d);
        }
    }
    // As Terraform: with every provider block aliased there is no default provider, so a block
    // without `provider =` is a mistake (not a silent pick of the first alias).
    if !cfg.providers.is_empty() && cfg.providers.iter().all(|p| p.alias.is_some()) {
        let keys: Vec<String> = cfg.providers.iter().map(|p| p.key()).collect();
        for b in cfg.data.values().chain(cfg.resources.values()) {
            if b.provider.is_none() {
                diags.push(Diagnostic::error(
                    format!(
                        "{} has no provider argument, and every provider block has an alias ({}): set provider = {}, or add a provider block without an alias",
                        b.addr,
                        keys.join(", "),
                        keys[0]
                    ),
                    Some(b.span.clone()),
                ));
            }
        }
    }
    // In source order; mistakes outside the files (flags, variable files) last.
    diags.sort_by_key(|d| match &d.span {
        Some(s) => (0, s.file, s.range.start),
        None => (1, 0, 0),
    });
    if diags.iter().any(Diagnostic::is_error) {
        return Err(CliError::Diagnostics(cfg.sources.clone(), diags));
    }
    if cfg.providers.is_empty() && !cfg.resources.is_empty() {
        return Err(CliError::msg(
            "no provider block: add provider \"rackspace\" { ... } (or sandbox = \".snapform/sandbox\" to try it locally)",
        ));
    }
    Ok(Workspace {
        dir: dir.to_path_buf(),
        cfg,
        graph,
        vars,
    })
}

/// The dependency graph of a configuration that loaded cleanly before (a saved plan's sources);
/// diagnostics are not repeated.
pub fn config_graph(sources: &Sources) -> Graph {
    let (cfg, _) = config::load(sources.clone());
    graph::build(&cfg).0
}
