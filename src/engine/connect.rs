//! Turning provider blocks into connected clients: credentials from attributes or the
//! environment, and an in-process sandbox for `sandbox = "DIR"`.

use super::Error as CliError;
use super::workspace::Workspace;
use crate::graph::Evaluator;
use crate::provider::{Client, ClientOptions, Credential, Preset, RateLimits, Secret};
use crate::refresh::Clients;
use crate::sandbox::{self, Sandbox, SandboxOptions};
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Clients plus the sandboxes they talk to (kept alive for the run).
pub struct Connected {
    pub clients: Clients,
    /// Held only to keep in-process sandboxes running until the command ends.
    #[allow(dead_code)]
    pub sandboxes: Vec<Sandbox>,
}

/// Connects every configured provider.
pub async fn connect(ws: &Workspace) -> Result<Connected, CliError> {
    // Provider blocks may use variables and locals (the graph checks that they use nothing
    // else); they are evaluated like every other expression.
    let ev = Evaluator::new(&ws.cfg, &ws.graph, &ws.vars);
    let mut clients = Clients::default();
    let mut sandboxes: Vec<Sandbox> = Vec::new();
    let mut sandbox_urls: BTreeMap<PathBuf, String> = BTreeMap::new();
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
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let opts = if let Some(dir) = attrs.get("sandbox") {
            let dir = ws.dir.join(dir);
            let url = match sandbox_urls.get(&dir) {
                Some(u) => u.clone(),
                None => {
                    let sb = sandbox::spawn(SandboxOptions {
                        listen: "127.0.0.1:0".parse().expect("valid address"),
                        data: Some(dir.clone()),
                        snapshot_seconds: std::env::var("SNAPFORM_SANDBOX_SNAPSHOT_SECONDS")
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(2.0),
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
                    sandbox_urls.insert(dir.clone(), u.clone());
                    sandboxes.push(sb);
                    u
                }
            };
            ClientOptions {
                preset,
                auth_url: url,
                username: "demo".into(),
                credential: match preset {
                    Preset::Rackspace => Credential::ApiKey(Secret::new("demo")),
                    Preset::Openstack => Credential::Password(Secret::new("demo")),
                },
                region: attrs.get("region").cloned().unwrap_or_else(|| "DFW".into()),
                project: attrs.get("project").cloned(),
                ..ClientOptions::default()
            }
        } else {
            let (pre, default_url) = match preset {
                Preset::Rackspace => ("RAX", "https://identity.api.rackspacecloud.com/v2.0"),
                Preset::Openstack => ("OS", ""),
            };
            let get = |attr: &str, var: &str| {
                attrs
                    .get(attr)
                    .cloned()
                    .or_else(|| env(&format!("{pre}_{var}")))
            };
            let auth_url = get("auth_url", "AUTH_URL").unwrap_or_else(|| default_url.to_string());
            if auth_url.is_empty() {
                return Err(CliError::msg(format!(
                    "provider \"{}\": set auth_url (or OS_AUTH_URL)",
                    p.key()
                )));
            }
            let username = get("username", "USERNAME").ok_or_else(|| {
                CliError::msg(format!(
                    "provider \"{}\": set username (or {pre}_USERNAME)",
                    p.key()
                ))
            })?;
            let credential = if let Some(k) = get("api_key", "API_KEY") {
                Credential::ApiKey(Secret::new(k))
            } else if let Some(pw) = get("password", "PASSWORD") {
                Credential::Password(Secret::new(pw))
            } else {
                return Err(CliError::msg(format!(
                    "provider \"{}\": set api_key or password (or {pre}_API_KEY / {pre}_PASSWORD)",
                    p.key()
                )));
            };
            let region = get("region", "REGION")
                .or_else(|| env("OS_REGION_NAME"))
                .ok_or_else(|| {
                    CliError::msg(format!(
                        "provider \"{}\": set region (or {pre}_REGION)",
                        p.key()
                    ))
                })?;
            ClientOptions {
                preset,
                auth_url,
                username,
                credential,
                region,
                project: get("project", "PROJECT_NAME"),
                max_retries: 5,
                timeout: Duration::from_secs(60),
                rate_limits: Default::default(),
            }
        };
        let limits = |k: &str| attrs.get(k).map(String::as_str);
        let opts = ClientOptions {
            rate_limits: RateLimits::for_provider(
                limits("rate_limit_get"),
                limits("rate_limit_post"),
                &opts.auth_url,
            )
            .map_err(|e| CliError::msg(format!("provider \"{}\": {e}", p.key())))?,
            ..opts
        };
        let client = Client::connect(opts)
            .await
            .map_err(|e| CliError::msg(format!("provider \"{}\": {e}", p.key())))?;
        clients.by_key.insert(p.key(), client);
    }
    Ok(Connected { clients, sandboxes })
}
