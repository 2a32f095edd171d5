//! From a provider block to client options: its attributes, then (OpenStack) the cloud it
//! names in `clouds.yaml` / `secure.yaml` (or `OS_CLOUD`), then the `OS_*` (or `RAX_*`)
//! environment variables — the first that sets a value wins. Every missing setting is named
//! with the ways to give it.
//!
//! The file and environment reads are passed in (`Inputs`), so the rules are tested without
//! touching either.

use super::Error;
use crate::provider::{Auth, ClientOptions, EndpointOverrides, Named, Preset, Secret};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What resolution may read besides the block itself.
pub struct Inputs<'a> {
    /// An environment variable (empty counts as unset).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// A file's text, if it exists.
    pub read: &'a dyn Fn(&Path) -> Option<String>,
    /// The home directory (for `~/.config/openstack`).
    pub home: Option<PathBuf>,
    /// The working directory (for `./clouds.yaml`).
    pub cwd: PathBuf,
}

/// The settings of an OpenStack cloud as one flat map, keyed like the provider block.
type Settings = BTreeMap<String, String>;

/// The `OS_*` variables openstackclient reads, and the block attribute each sets.
const OS_ENV: &[(&str, &str)] = &[
    ("OS_AUTH_URL", "auth_url"),
    ("OS_AUTH_TYPE", "auth_type"),
    ("OS_USERNAME", "username"),
    ("OS_USER_ID", "user_id"),
    ("OS_PASSWORD", "password"),
    ("OS_PROJECT_NAME", "project_name"),
    ("OS_TENANT_NAME", "project_name"),
    ("OS_PROJECT_ID", "project_id"),
    ("OS_TENANT_ID", "project_id"),
    ("OS_USER_DOMAIN_NAME", "user_domain_name"),
    ("OS_USER_DOMAIN_ID", "user_domain_id"),
    ("OS_PROJECT_DOMAIN_NAME", "project_domain_name"),
    ("OS_PROJECT_DOMAIN_ID", "project_domain_id"),
    ("OS_DOMAIN_NAME", "domain_name"),
    ("OS_DOMAIN_ID", "domain_id"),
    ("OS_APPLICATION_CREDENTIAL_ID", "application_credential_id"),
    (
        "OS_APPLICATION_CREDENTIAL_NAME",
        "application_credential_name",
    ),
    (
        "OS_APPLICATION_CREDENTIAL_SECRET",
        "application_credential_secret",
    ),
    ("OS_TOKEN", "token"),
    ("OS_REGION_NAME", "region"),
    ("OS_INTERFACE", "interface"),
    ("OS_CACERT", "cacert"),
    ("OS_INSECURE", "insecure"),
];

/// Where `clouds.yaml` (and `secure.yaml`) are looked for, in order.
fn search_path(name: &str, inputs: &Inputs<'_>, var: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(f) = (inputs.env)(var) {
        out.push(PathBuf::from(f));
    }
    out.push(inputs.cwd.join(name));
    if let Some(h) = &inputs.home {
        out.push(h.join(".config/openstack").join(name));
    }
    out.push(PathBuf::from("/etc/openstack").join(name));
    out
}

/// The settings of cloud `name` from the first `clouds.yaml` that has it, merged with the
/// same cloud of `secure.yaml` (which holds the secrets).
fn cloud_settings(name: &str, inputs: &Inputs<'_>) -> Result<Settings, String> {
    let paths = search_path("clouds.yaml", inputs, "OS_CLIENT_CONFIG_FILE");
    let mut found: Option<(PathBuf, yaml_serde::Value)> = None;
    let mut names: Vec<String> = Vec::new();
    for p in &paths {
        let Some(text) = (inputs.read)(p) else {
            continue;
        };
        let doc: yaml_serde::Value = yaml_serde::from_str(&text)
            .map_err(|e| format!("{} is not valid YAML: {e}", p.display()))?;
        if let Some(c) = doc.get("clouds").and_then(|c| c.get(name)) {
            found = Some((p.clone(), c.clone()));
            break;
        }
        if let Some(m) = doc.get("clouds").and_then(|c| c.as_mapping()) {
            names.extend(m.keys().filter_map(|k| k.as_str().map(str::to_string)));
        }
    }
    let Some((_, entry)) = found else {
        let searched: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!(
            "no cloud named \"{name}\" in clouds.yaml (searched {}){}",
            searched.join(", "),
            if names.is_empty() {
                String::new()
            } else {
                format!("; clouds found: {}", names.join(", "))
            }
        ));
    };
    let mut s = flatten(&entry);
    for p in search_path("secure.yaml", inputs, "OS_CLIENT_SECURE_FILE") {
        if let Some(text) = (inputs.read)(&p)
            && let Ok(doc) = yaml_serde::from_str::<yaml_serde::Value>(&text)
            && let Some(c) = doc.get("clouds").and_then(|c| c.get(name))
        {
            for (k, v) in flatten(c) {
                s.entry(k).or_insert(v);
            }
            break;
        }
    }
    Ok(s)
}

/// A clouds.yaml entry in the block's terms: `auth.*` keys lifted, `region_name` → `region`,
/// `*_endpoint_override` → `*_endpoint`, `verify: false` → `insecure`.
fn flatten(entry: &yaml_serde::Value) -> Settings {
    let mut out = Settings::new();
    let text = |v: &yaml_serde::Value| -> Option<String> {
        match v {
            yaml_serde::Value::String(s) => Some(s.clone()),
            yaml_serde::Value::Bool(b) => Some(b.to_string()),
            yaml_serde::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    if let Some(m) = entry.as_mapping() {
        for (k, v) in m {
            let Some(k) = k.as_str() else { continue };
            if k == "auth" {
                if let Some(a) = v.as_mapping() {
                    for (ak, av) in a {
                        if let (Some(ak), Some(av)) = (ak.as_str(), text(av)) {
                            out.insert(ak.to_string(), av);
                        }
                    }
                }
                continue;
            }
            let Some(v) = text(v) else { continue };
            match k {
                "region_name" => {
                    out.insert("region".into(), v);
                }
                "compute_endpoint_override" => {
                    out.insert("compute_endpoint".into(), v);
                }
                "image_endpoint_override" => {
                    out.insert("image_endpoint".into(), v);
                }
                "verify" if v == "false" => {
                    out.insert("insecure".into(), "true".into());
                }
                other => {
                    out.insert(other.to_string(), v);
                }
            }
        }
    }
    out
}

fn truthy(v: Option<&String>) -> bool {
    v.is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
}

/// The client options of one provider block, with warnings for the user.
pub fn resolve(
    key: &str,
    preset: Preset,
    attrs: &BTreeMap<String, String>,
    inputs: &Inputs<'_>,
) -> Result<(ClientOptions, Vec<String>), Error> {
    let err = |m: String| Error::msg(format!("provider \"{key}\": {m}"));
    let mut warnings = Vec::new();
    let (settings, origin) = match preset {
        Preset::Rackspace => (rackspace_settings(attrs, inputs), "RAX_*"),
        Preset::Openstack => (openstack_settings(attrs, inputs).map_err(err)?, "OS_*"),
    };
    let get = |k: &str| settings.get(k).cloned().filter(|v| !v.is_empty());
    let insecure = truthy(settings.get("insecure"));
    if insecure {
        warnings.push(format!(
            "provider \"{key}\": insecure = true: TLS certificates are not checked; use it only with a test cloud"
        ));
    }
    let opts = ClientOptions {
        preset,
        auth: match preset {
            Preset::Rackspace => rackspace_auth(&get).map_err(err)?,
            Preset::Openstack => openstack_auth(&get, origin).map_err(err)?,
        },
        region: get("region").unwrap_or_default(),
        interface: get("interface").unwrap_or_else(|| "public".into()),
        endpoints: EndpointOverrides {
            compute: get("compute_endpoint"),
            image: get("image_endpoint"),
        },
        ca_file: get("cacert").map(|c| inputs.cwd.join(c)),
        insecure,
        ..ClientOptions::default()
    };
    if opts.region.is_empty() && preset == Preset::Rackspace {
        return Err(err(
            "set region (or RAX_REGION), e.g. region = \"DFW\"".into()
        ));
    }
    Ok((opts, warnings))
}

fn rackspace_settings(attrs: &BTreeMap<String, String>, inputs: &Inputs<'_>) -> Settings {
    let mut s = attrs.clone();
    for (var, k) in [
        ("RAX_AUTH_URL", "auth_url"),
        ("RAX_USERNAME", "username"),
        ("RAX_API_KEY", "api_key"),
        ("RAX_PASSWORD", "password"),
        ("RAX_REGION", "region"),
        ("OS_REGION_NAME", "region"),
    ] {
        if let Some(v) = (inputs.env)(var) {
            s.entry(k.to_string()).or_insert(v);
        }
    }
    s
}

fn rackspace_auth(get: &dyn Fn(&str) -> Option<String>) -> Result<Auth, String> {
    let auth_url =
        get("auth_url").unwrap_or_else(|| "https://identity.api.rackspacecloud.com/v2.0".into());
    let username = get("username").ok_or("set username (or RAX_USERNAME)")?;
    let tenant = get("project");
    if let Some(k) = get("api_key") {
        return Ok(Auth::RackspaceApiKey {
            auth_url,
            username,
            api_key: Secret::new(k),
            tenant,
        });
    }
    if let Some(p) = get("password") {
        return Ok(Auth::RackspacePassword {
            auth_url,
            username,
            password: Secret::new(p),
            tenant,
        });
    }
    Err("set api_key or password (or RAX_API_KEY / RAX_PASSWORD)".into())
}

/// Block attributes, over the named cloud (`cloud`, else `OS_CLOUD`), over `OS_*` variables
/// when no cloud is named.
fn openstack_settings(
    attrs: &BTreeMap<String, String>,
    inputs: &Inputs<'_>,
) -> Result<Settings, String> {
    let mut s = attrs.clone();
    let cloud = attrs
        .get("cloud")
        .cloned()
        .or_else(|| (inputs.env)("OS_CLOUD"));
    match cloud {
        Some(name) => {
            for (k, v) in cloud_settings(&name, inputs)? {
                s.entry(k).or_insert(v);
            }
        }
        None => {
            for (var, k) in OS_ENV {
                if let Some(v) = (inputs.env)(var) {
                    s.entry(k.to_string()).or_insert(v);
                }
            }
        }
    }
    // `project` (name or id) is the short form.
    if let Some(p) = s.remove("project") {
        let is_id = p.len() == 32 && p.chars().all(|c| c.is_ascii_hexdigit());
        s.entry(if is_id { "project_id" } else { "project_name" }.into())
            .or_insert(p);
    }
    Ok(s)
}

fn openstack_auth(get: &dyn Fn(&str) -> Option<String>, origin: &str) -> Result<Auth, String> {
    let auth_type = get("auth_type").map(|t| t.to_ascii_lowercase());
    let domain = |prefix: &str| -> (Option<String>, Option<String>) {
        (
            get(&format!("{prefix}_domain_id")).or_else(|| get("domain_id")),
            get(&format!("{prefix}_domain_name")).or_else(|| get("domain_name")),
        )
    };
    let project = || -> Option<Named> {
        let (domain_id, domain_name) = domain("project");
        match (get("project_id"), get("project_name")) {
            (Some(id), _) => Some(Named::by_id(id)),
            (None, Some(name)) => Some(Named {
                name: Some(name),
                domain_id,
                domain_name,
                id: None,
            }),
            _ => None,
        }
    };
    let user = || -> Option<Named> {
        let (domain_id, domain_name) = domain("user");
        match (get("user_id"), get("username")) {
            (Some(id), _) => Some(Named::by_id(id)),
            (None, Some(name)) => Some(Named {
                name: Some(name),
                domain_id,
                domain_name,
                id: None,
            }),
            _ => None,
        }
    };
    let kind = match auth_type.as_deref() {
        Some("none" | "noauth" | "admin_token") => "none",
        Some("v3applicationcredential" | "applicationcredential" | "application_credential") => {
            "appcred"
        }
        Some("token" | "v3token") => "token",
        Some("password" | "v3password") => "password",
        Some(other) => {
            return Err(format!(
                "auth_type \"{other}\" is not supported; expected password, v3applicationcredential, token or none"
            ));
        }
        None if get("application_credential_secret").is_some() => "appcred",
        None if get("token").is_some() && get("password").is_none() => "token",
        None => "password",
    };
    if kind == "none" {
        if get("compute_endpoint").is_none() {
            return Err(
                "auth_type = \"none\" needs compute_endpoint (the Nova URL, e.g. http://host:8774/v2.1) and usually image_endpoint (the Glance URL)"
                    .into(),
            );
        }
        return Ok(Auth::None {
            token: get("token").map(Secret::new),
        });
    }
    let auth_url = get("auth_url").ok_or_else(|| {
        format!(
            "set auth_url (the Keystone v3 URL), or cloud = \"NAME\" in clouds.yaml, or {origin} variables such as OS_AUTH_URL; or auth_type = \"none\" with compute_endpoint"
        )
    })?;
    Ok(match kind {
        "appcred" => {
            let secret = get("application_credential_secret").ok_or(
                "an application credential needs application_credential_secret (or OS_APPLICATION_CREDENTIAL_SECRET)",
            )?;
            let id = get("application_credential_id");
            let name = get("application_credential_name");
            if id.is_none() && name.is_none() {
                return Err(
                    "an application credential needs application_credential_id, or application_credential_name with username or user_id"
                        .into(),
                );
            }
            let user = if id.is_none() {
                Some(user().ok_or(
                    "application_credential_name needs username (or user_id) of its owner",
                )?)
            } else {
                None
            };
            Auth::ApplicationCredential {
                auth_url,
                id,
                name,
                user,
                secret: Secret::new(secret),
            }
        }
        "token" => Auth::Token {
            auth_url,
            token: Secret::new(
                get("token").ok_or("auth_type = \"token\" needs token (or OS_TOKEN)")?,
            ),
            project: project(),
        },
        _ => Auth::Password {
            auth_url,
            user: user()
                .ok_or("set username (or user_id) for password authentication, or OS_USERNAME")?,
            password: Secret::new(
                get("password")
                    .ok_or("set password (or OS_PASSWORD), or use an application credential")?,
            ),
            project: project(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(
        env: &'a dyn Fn(&str) -> Option<String>,
        read: &'a dyn Fn(&Path) -> Option<String>,
    ) -> Inputs<'a> {
        Inputs {
            env,
            read,
            home: Some(PathBuf::from("/home/u")),
            cwd: PathBuf::from("/w"),
        }
    }

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const CLOUDS: &str = r#"
clouds:
  demo:
    auth:
      auth_url: http://k:5000/v3
      username: demo
      project_name: demo
      user_domain_name: Users
      project_domain_id: abc
    region_name: RegionOne
    interface: internal
  app:
    auth_type: v3applicationcredential
    auth:
      auth_url: http://k:5000/v3
      application_credential_id: ac1
      application_credential_secret: s
  local:
    auth_type: admin_token
    auth:
      token: "admin:admin"
    compute_endpoint_override: http://n:8774/v2.1
    image_endpoint_override: http://g:9292
    verify: false
"#;

    #[test]
    fn clouds_yaml_and_secure_yaml_are_found_and_merged() {
        let env = |k: &str| (k == "OS_CLOUD").then(|| "demo".to_string());
        let read = |p: &Path| match p.to_str() {
            Some("/home/u/.config/openstack/clouds.yaml") => Some(CLOUDS.to_string()),
            Some("/etc/openstack/secure.yaml") => {
                Some("clouds:\n  demo:\n    auth:\n      password: pw\n".to_string())
            }
            _ => None,
        };
        let (o, w) = resolve(
            "openstack",
            Preset::Openstack,
            &attrs(&[]),
            &inputs(&env, &read),
        )
        .unwrap();
        assert!(w.is_empty());
        assert_eq!(o.region, "RegionOne");
        assert_eq!(o.interface, "internal");
        let Auth::Password {
            user,
            project,
            auth_url,
            ..
        } = &o.auth
        else {
            panic!("password auth expected: {:?}", o.auth)
        };
        assert_eq!(auth_url, "http://k:5000/v3");
        assert_eq!(user.domain_name.as_deref(), Some("Users"));
        assert_eq!(project.as_ref().unwrap().domain_id.as_deref(), Some("abc"));
        // The block's attributes win over the cloud's.
        let (o, _) = resolve(
            "openstack",
            Preset::Openstack,
            &attrs(&[("region", "Other")]),
            &inputs(&env, &read),
        )
        .unwrap();
        assert_eq!(o.region, "Other");
    }

    #[test]
    fn application_credentials_tokens_and_no_auth() {
        let env = |_: &str| None;
        let read = |p: &Path| (p == Path::new("/w/clouds.yaml")).then(|| CLOUDS.to_string());
        let (o, _) = resolve(
            "openstack",
            Preset::Openstack,
            &attrs(&[("cloud", "app")]),
            &inputs(&env, &read),
        )
        .unwrap();
        assert!(matches!(&o.auth, Auth::ApplicationCredential { id: Some(i), .. } if i == "ac1"));
        let (o, w) = resolve(
            "openstack",
            Preset::Openstack,
            &attrs(&[("cloud", "local")]),
            &inputs(&env, &read),
        )
        .unwrap();
        assert!(matches!(&o.auth, Auth::None { token: Some(_) }));
        assert_eq!(o.endpoints.image.as_deref(), Some("http://g:9292"));
        assert!(o.insecure && w.len() == 1, "{w:?}");
        let e = resolve(
            "openstack",
            Preset::Openstack,
            &attrs(&[("cloud", "nope")]),
            &inputs(&env, &read),
        )
        .unwrap_err();
        let Error::Message(m) = e else { panic!() };
        assert!(
            m.contains("no cloud named \"nope\"") && m.contains("clouds found: demo, app, local"),
            "{m}"
        );
    }

    #[test]
    fn os_variables_and_missing_settings() {
        let env = |k: &str| match k {
            "OS_AUTH_URL" => Some("http://k/v3".to_string()),
            "OS_USERNAME" => Some("u".to_string()),
            "OS_PASSWORD" => Some("p".to_string()),
            "OS_PROJECT_ID" => Some("0123456789abcdef0123456789abcdef".to_string()),
            _ => None,
        };
        let read = |_: &Path| None;
        let (o, _) = resolve(
            "openstack",
            Preset::Openstack,
            &attrs(&[]),
            &inputs(&env, &read),
        )
        .unwrap();
        let Auth::Password { project, .. } = &o.auth else {
            panic!()
        };
        assert_eq!(
            project.as_ref().unwrap().id.as_deref(),
            Some("0123456789abcdef0123456789abcdef")
        );
        let nothing = |_: &str| None;
        for (a, needle) in [
            (attrs(&[]), "set auth_url"),
            (attrs(&[("auth_url", "http://k/v3")]), "set username"),
            (
                attrs(&[("auth_url", "http://k/v3"), ("username", "u")]),
                "set password",
            ),
            (attrs(&[("auth_type", "none")]), "needs compute_endpoint"),
            (
                attrs(&[("auth_type", "kerberos")]),
                "auth_type \"kerberos\" is not supported",
            ),
        ] {
            let e = resolve("os", Preset::Openstack, &a, &inputs(&nothing, &read)).unwrap_err();
            let Error::Message(m) = e else { panic!() };
            assert!(
                m.starts_with("provider \"os\": ") && m.contains(needle),
                "{m}"
            );
        }
    }
}
