//! Which state backend a working directory uses: the configuration's `snapform { backend ... }`
//! block (or the local state file), with environment fallbacks for connection strings and
//! passwords so secrets need not be written into configuration.

use super::Error as CliError;
use super::workspace::{self, STATE_FILE, Workspace};
use crate::config::{self, Config};
use crate::state::{Backend, BackendSettings, HttpSettings, PgSettings, State, crypt};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Environment variables read when `conn_str` is not in the `pg` block, first one set wins.
pub const PG_CONN_ENV: &[&str] = &["SNAPFORM_PG_CONN_STR", "PG_CONN_STR"];

/// The backend settings of a loaded configuration, for its workspace (`Config::workspace`).
pub fn settings(dir: &Path, cfg: &Config) -> Result<BackendSettings, CliError> {
    let name = if cfg.workspace.is_empty() {
        super::selection::current(dir)?
    } else {
        cfg.workspace.clone()
    };
    Ok(crate::state::workspaces::settings_for(
        &base_settings(dir, cfg)?,
        &name,
    )?)
}

/// The backend a configuration declares, as `init` records it in `.snapform/backend.json`:
/// the kind and the block's literal settings (environment fallbacks are read when used).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Declared {
    pub kind: String,
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

impl Declared {
    pub fn of(cfg: &Config) -> Result<Declared, CliError> {
        Ok(match &cfg.backend {
            None => Declared {
                kind: "local".into(),
                values: BTreeMap::new(),
            },
            Some(block) => Declared {
                kind: block.kind.clone(),
                values: block
                    .values()
                    .map_err(|d| CliError::Diagnostics(cfg.sources.clone(), d))?,
            },
        })
    }

    /// The default workspace's settings.
    pub fn settings(&self, dir: &Path) -> Result<BackendSettings, CliError> {
        from_values(dir, &self.kind, &self.values)
    }

    /// `local`, or `pg` / `http` with where.
    pub fn describe(&self) -> String {
        let at = ["path", "address"]
            .iter()
            .find_map(|k| self.values.get(*k))
            .map(|v| format!(" ({v})"))
            .unwrap_or_default();
        format!("\"{}\"{at}", self.kind)
    }
}

/// Where `init` records the backend it set up.
pub fn declared_file(dir: &Path) -> std::path::PathBuf {
    dir.join(".snapform").join("backend.json")
}

/// The backend `init` last recorded, if it ran.
pub fn recorded(dir: &Path) -> Result<Option<Declared>, CliError> {
    let file = declared_file(dir);
    match std::fs::read_to_string(&file) {
        Ok(t) => serde_json::from_str(&t).map(Some).map_err(|e| {
            CliError::msg(format!(
                "{} is not valid: {e}; run snapform init -reconfigure",
                file.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CliError::msg(format!(
            "cannot read {}: {e}",
            file.display()
        ))),
    }
}

/// Records `d` as the backend of `dir` (only the owner may read it: it may hold a password).
pub fn record(dir: &Path, d: &Declared) -> Result<(), CliError> {
    let file = declared_file(dir);
    let text = serde_json::to_string_pretty(d).unwrap_or_default();
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    opts.open(&file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| CliError::msg(format!("cannot write {}: {e}", file.display())))
}

/// The backend settings of a configuration's default workspace. Once `init` recorded a
/// backend, a configuration that declares another is refused until `init` moves the state
/// (`-migrate-state`) or accepts the new backend as it is (`-reconfigure`): a run against an
/// empty new backend would create every object a second time.
pub fn base_settings(dir: &Path, cfg: &Config) -> Result<BackendSettings, CliError> {
    if let Some(was) = recorded(dir)? {
        let now = Declared::of(cfg)?;
        if was != now {
            return Err(CliError::msg(format!(
                "the backend changed since snapform init (from {} to {}): run snapform init -migrate-state to copy the state to the new backend, or snapform init -reconfigure to use it as it is",
                was.describe(),
                now.describe()
            )));
        }
    }
    unchecked_settings(dir, cfg)
}

/// The `encryption` block's settings, keys read from the environment where it names
/// variables; `None` without the block.
pub fn encryption_settings(cfg: &Config) -> Result<Option<crypt::Settings>, CliError> {
    let Some(block) = &cfg.encryption else {
        return Ok(None);
    };
    let v = block
        .values()
        .map_err(|d| CliError::Diagnostics(cfg.sources.clone(), d))?;
    let from_env = |setting: &str, name: &str| {
        env(name).ok_or_else(|| {
            CliError::msg(format!(
                "encryption: {setting} names the environment variable {name}, which is not set"
            ))
        })
    };
    let key = |prefix: &str| -> Result<Option<crypt::KeySource>, CliError> {
        let get = |k: &str| v.get(&format!("{prefix}{k}"));
        if let Some(p) = get("passphrase") {
            return Ok(Some(crypt::KeySource::Passphrase(p.clone())));
        }
        if let Some(n) = get("passphrase_env") {
            let p = from_env(&format!("{prefix}passphrase_env"), n)?;
            return Ok(Some(crypt::KeySource::Passphrase(p)));
        }
        if let Some(n) = get("key_env") {
            let k = from_env(&format!("{prefix}key_env"), n)?;
            return crypt::KeySource::key_from_text(&k)
                .map(Some)
                .map_err(|m| CliError::msg(format!("encryption: {prefix}key_env {n}: {m}")));
        }
        Ok(None)
    };
    let primary = key("")?.ok_or_else(|| {
        CliError::msg(
            "encryption: expected the key: passphrase_env (a variable holding a passphrase), key_env (a variable holding 32 bytes in base64) or passphrase",
        )
    })?;
    let iterations = match v.get("iterations") {
        Some(n) => n.parse().map_err(|_| {
            CliError::msg(format!(
                "encryption: iterations must be a whole number, found {n}"
            ))
        })?,
        None => crypt::DEFAULT_ITERATIONS,
    };
    Ok(Some(crypt::Settings {
        key: primary,
        fallback: key("fallback_")?,
        iterations,
        allow_unencrypted_read: v.get("allow_unencrypted_read").is_some_and(|b| b == "true"),
        plans: v.get("plans").is_none_or(|b| b != "false"),
    }))
}

/// Installs the configuration's encryption for this run (none without the block).
pub fn use_encryption(cfg: &Config) -> Result<(), CliError> {
    crypt::configure(encryption_settings(cfg)?).map_err(CliError::msg)
}

/// `use_encryption` for the configuration in `dir` (none when it has none or does not load).
pub fn use_encryption_of(dir: &Path) -> Result<(), CliError> {
    match workspace::read_sources(dir) {
        Ok(sources) => use_encryption(&config::load(sources).0),
        Err(_) => crypt::configure(None).map_err(CliError::msg),
    }
}

/// `base_settings` without the check against what `init` recorded.
pub fn unchecked_settings(dir: &Path, cfg: &Config) -> Result<BackendSettings, CliError> {
    use_encryption(cfg)?;
    let Some(block) = &cfg.backend else {
        return Ok(BackendSettings::Local {
            path: dir.join(STATE_FILE),
        });
    };
    let v = block
        .values()
        .map_err(|d| CliError::Diagnostics(cfg.sources.clone(), d))?;
    from_values(dir, &block.kind, &v)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

fn from_values(
    dir: &Path,
    kind: &str,
    v: &BTreeMap<String, String>,
) -> Result<BackendSettings, CliError> {
    let get = |k: &str| v.get(k).cloned();
    match kind {
        "pg" => {
            // As libpq (and Terraform's pg backend): without a connection string, the PG*
            // variables say where; they also fill what a connection string leaves out.
            let conn_str = get("conn_str")
                .or_else(|| PG_CONN_ENV.iter().find_map(|n| env(n)))
                .or_else(|| {
                    crate::state::PG_ENV
                        .iter()
                        .any(|(n, _)| env(n).is_some())
                        .then(String::new)
                })
                .ok_or_else(|| {
                    CliError::msg(format!(
                        "backend \"pg\": expected conn_str in the backend block, {} or the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) in the environment, found none",
                        PG_CONN_ENV.join(" or ")
                    ))
                })?;
            Ok(BackendSettings::Pg(PgSettings {
                conn_str,
                schema_name: get("schema_name").unwrap_or_else(|| "snapform".into()),
                workspace: get("workspace").unwrap_or_else(|| "default".into()),
            }))
        }
        "http" => {
            let address = get("address").unwrap_or_default();
            for (name, url) in [
                ("address", Some(&address)),
                ("lock_address", v.get("lock_address")),
                ("unlock_address", v.get("unlock_address")),
            ] {
                if let Some(u) = url {
                    check_url(name, u)?;
                }
            }
            Ok(BackendSettings::Http(HttpSettings {
                address,
                lock_address: get("lock_address"),
                unlock_address: get("unlock_address"),
                lock_method: get("lock_method").unwrap_or_else(|| "LOCK".into()),
                unlock_method: get("unlock_method").unwrap_or_else(|| "UNLOCK".into()),
                update_method: get("update_method").unwrap_or_else(|| "POST".into()),
                username: get("username").or_else(|| env("SNAPFORM_HTTP_USERNAME")),
                password: get("password").or_else(|| env("SNAPFORM_HTTP_PASSWORD")),
            }))
        }
        _ => Ok(BackendSettings::Local {
            path: dir.join(get("path").unwrap_or_else(|| STATE_FILE.into())),
        }),
    }
}

fn check_url(name: &str, u: &str) -> Result<(), CliError> {
    match url::Url::parse(u) {
        Ok(p) if matches!(p.scheme(), "http" | "https") => Ok(()),
        Ok(p) => Err(CliError::msg(format!(
            "backend \"http\": {name} must be an http:// or https:// URL, found scheme \"{}\"",
            p.scheme()
        ))),
        Err(e) => Err(CliError::msg(format!(
            "backend \"http\": {name} must be an http:// or https:// URL, found an invalid one ({e})"
        ))),
    }
}

/// The backend of a working directory that may have no (valid) configuration: `output`,
/// `show` and `state list` read state without loading the whole workspace.
pub fn settings_of_dir(dir: &Path) -> Result<BackendSettings, CliError> {
    Ok(crate::state::workspaces::settings_for(
        &base_settings_of_dir(dir)?,
        &super::selection::current(dir)?,
    )?)
}

/// `settings_of_dir` for the default workspace.
pub fn base_settings_of_dir(dir: &Path) -> Result<BackendSettings, CliError> {
    let local = BackendSettings::Local {
        path: dir.join(STATE_FILE),
    };
    let Ok(sources) = workspace::read_sources(dir) else {
        return Ok(local);
    };
    let (cfg, _) = config::load(sources);
    base_settings(dir, &cfg)
}

/// Opens the workspace's backend and takes its lock for `operation` (plan, apply, ...).
pub async fn open(
    ws: &Workspace,
    lock_timeout: Duration,
    operation: &str,
) -> Result<Backend, CliError> {
    let s = settings(&ws.dir, &ws.cfg)?;
    open_settings(&s, lock_timeout, operation).await
}

/// A warning about the settings, for the user (e.g. an http backend without locking).
pub fn warning(s: &BackendSettings) -> Option<String> {
    match s {
        BackendSettings::Http(h) if h.lock_address.is_none() => Some(
            "backend \"http\" has no lock_address, so runs sharing this state are not serialized"
                .into(),
        ),
        _ => None,
    }
}

/// Opens the backend described by `s` and takes its lock.
pub async fn open_settings(
    s: &BackendSettings,
    lock_timeout: Duration,
    operation: &str,
) -> Result<Backend, CliError> {
    open_settings_mode(s, Some(lock_timeout), operation).await
}

/// `open_settings`, or with `None` without taking the lock (`-lock=false`).
pub async fn open_settings_mode(
    s: &BackendSettings,
    lock_timeout: Option<Duration>,
    operation: &str,
) -> Result<Backend, CliError> {
    Ok(Backend::open_mode(s, lock_timeout, operation).await?)
}

/// Reads the state of a working directory without taking the lock.
pub async fn read_unlocked(dir: &Path) -> Result<State, CliError> {
    let s = settings_of_dir(dir)?;
    Ok(crate::state::read_unlocked(&s).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_and_url_checks() {
        let dir = Path::new("/w");
        let s = from_values(dir, "pg", &vals(&[("conn_str", "postgres://u@h/db")])).unwrap();
        let BackendSettings::Pg(p) = s else {
            panic!("pg expected")
        };
        assert_eq!(
            (p.schema_name.as_str(), p.workspace.as_str()),
            ("snapform", "default")
        );
        let s = from_values(dir, "http", &vals(&[("address", "http://127.0.0.1:9/s")])).unwrap();
        let BackendSettings::Http(h) = s else {
            panic!("http expected")
        };
        assert_eq!(
            (h.lock_method.as_str(), h.update_method.as_str()),
            ("LOCK", "POST")
        );
        let e = from_values(dir, "http", &vals(&[("address", "ftp://x/s")])).unwrap_err();
        let CliError::Message(m) = e else {
            panic!("a message expected")
        };
        assert!(m.contains("found scheme \"ftp\""), "{m}");
        let s = from_values(dir, "local", &vals(&[("path", "x.json")])).unwrap();
        assert!(matches!(s, BackendSettings::Local { path } if path == Path::new("/w/x.json")));
    }
}
