//! Turning provider blocks into connected clients: credentials from attributes or the
//! environment, and an in-process sandbox for `sandbox = "DIR"`.

use super::Error as CliError;
use super::credentials;
use super::workspace::Workspace;
use crate::graph::Evaluator;
use crate::provider::{Auth, Client, ClientOptions, Named, Preset, RateLimits, Secret};
use crate::refresh::Clients;
use crate::sandbox::{self, Sandbox, SandboxOptions};
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Clients plus the sandboxes they talk to (kept alive for the run).
pub struct Connected {
    pub clients: Clients,
    /// Held only to keep in-process sandboxes running until the command ends.
    #[allow(dead_code)]
    pub sandboxes: Vec<Sandbox>,
    /// What the user should know about the connections (an `insecure` provider).
    pub warnings: Vec<String>,
}

/// Connects every configured provider.
pub async fn connect(ws: &Workspace) -> Result<Connected, CliError> {
    // Provider blocks may use variables and locals (the graph checks that they use nothing
    // else); they are evaluated like every other expression.
    let ev = Evaluator::new(&ws.cfg, &ws.graph, &ws.vars);
    let mut clients = Clients::default();
    let mut sandboxes: Vec<Sandbox> = Vec::new();
    let mut sandbox_urls: BTreeMap<(PathBuf, bool), String> = BTreeMap::new();
    let mut warnings = Vec::new();
    for p in &ws.cfg.providers {
        let mut attrs: BTreeMap<String, String> = BTreeMap::new();
        for (k, def) in &p.attrs {
            let v = ev
                .eval(&def.value, None)
                .map_err(|d| CliError::Diagnostics(ws.cfg.sources.clone(), vec![d]))?;
            match v.unmarked() {
                Value::Null => {}
                Value::Unknown => {
                    return Err(CliError::msg(format!(
                        "provider \"{}\": \"{k}\" must be known before apply (it may use variables and locals only)",
                        p.key()
                    )));
                }
                other => {
                    if let Some(s) = other.to_plain_string() {
                        attrs.insert(k.clone(), s);
                    }
                }
            }
        }
        let preset = if p.kind == "openstack" {
            Preset::Openstack
        } else {
            Preset::Rackspace
        };
        let (opts, mut w) = if let Some(dir) = attrs.get("sandbox") {
            let dir = ws.dir.join(dir);
            let url = match sandbox_urls.get(&(dir.clone(), preset == Preset::Openstack)) {
                Some(u) => u.clone(),
                None => {
                    let sb = sandbox::spawn(SandboxOptions {
                        listen: "127.0.0.1:0".parse().expect("valid address"),
                        data: Some(dir.clone()),
                        snapshot_seconds: std::env::var("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS")
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(2.0),
                        // `provider "openstack"` gets a sandbox that behaves like OpenStack.
                        cloud: if preset == Preset::Openstack {
                            sandbox::CloudKind::Openstack
                        } else {
                            sandbox::CloudKind::Rackspace
                        },
                        ..SandboxOptions::default()
                    })
                    .await
                    .map_err(|e| {
                        CliError::msg(format!(
                            "cannot start the sandbox in {}: {e:#}",
                            dir.display()
                        ))
                    })?;
                    let u = match preset {
                        Preset::Rackspace => sb.auth_url(),
                        Preset::Openstack => sb.auth_url_v3(),
                    };
                    sandbox_urls.insert((dir.clone(), preset == Preset::Openstack), u.clone());
                    sandboxes.push(sb);
                    u
                }
            };
            let region = attrs.get("region").cloned().unwrap_or_else(|| "DFW".into());
            let opts = match preset {
                Preset::Rackspace => ClientOptions::rackspace(&url, "demo", "demo", &region),
                Preset::Openstack => ClientOptions {
                    preset,
                    auth: Auth::Password {
                        auth_url: url,
                        user: Named::by_name("demo"),
                        password: Secret::new("demo"),
                        project: attrs.get("project").map(Named::by_name),
                    },
                    region,
                    ..ClientOptions::default()
                },
            };
            (opts, Vec::new())
        } else {
            let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
            let read = |p: &std::path::Path| std::fs::read_to_string(p).ok();
            let inputs = credentials::Inputs {
                env: &env,
                read: &read,
                home: std::env::var_os("HOME").map(PathBuf::from),
                cwd: ws.dir.clone(),
            };
            credentials::resolve(&p.key(), preset, &attrs, &inputs)?
        };
        warnings.append(&mut w);
        let limits = |k: &str| attrs.get(k).map(String::as_str);
        let opts = ClientOptions {
            rate_limits: RateLimits::for_provider(
                limits("rate_limit_get"),
                limits("rate_limit_post"),
                &paced_host(&opts),
            )
            .map_err(|e| CliError::msg(format!("provider \"{}\": {e}", p.key())))?,
            ..opts
        };
        let client = Client::connect(opts)
            .await
            .map_err(|e| CliError::msg(format!("provider \"{}\": {e}", p.key())))?;
        clients.by_key.insert(p.key(), client);
    }
    Ok(Connected {
        clients,
        sandboxes,
        warnings,
    })
}

/// The URL that tells whether a provider is a real cloud (paced at Rackspace's limits by
/// default) or a loopback one (the sandbox, a test cloud: not paced).
fn paced_host(o: &ClientOptions) -> String {
    match &o.auth {
        Auth::RackspaceApiKey { auth_url, .. }
        | Auth::RackspacePassword { auth_url, .. }
        | Auth::Password { auth_url, .. }
        | Auth::ApplicationCredential { auth_url, .. }
        | Auth::Token { auth_url, .. } => auth_url.clone(),
        Auth::None { .. } => o.endpoints.compute.clone().unwrap_or_default(),
    }
}
