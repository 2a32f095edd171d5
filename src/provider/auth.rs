//! Authentication: client options, Identity v2.0 (Rackspace) and Keystone v3 token requests.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{DATE, HeaderMap};
use serde_json::{Value, json};
use url::Url;

use super::ProviderError;
use super::catalog::Preset;
use super::catalog::{self, Endpoints};
use super::secret::Secret;

/// Who a Keystone v3 user or project is: by id, or by name within a domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Named {
    pub id: Option<String>,
    pub name: Option<String>,
    /// The domain of a name: its id or its name (default: the `default` domain).
    pub domain_id: Option<String>,
    pub domain_name: Option<String>,
}

impl Named {
    pub fn by_name(name: impl Into<String>) -> Named {
        Named {
            name: Some(name.into()),
            ..Named::default()
        }
    }

    pub fn by_id(id: impl Into<String>) -> Named {
        Named {
            id: Some(id.into()),
            ..Named::default()
        }
    }

    /// The Keystone JSON for this user or project.
    fn json(&self) -> Value {
        if let Some(id) = &self.id {
            return json!({ "id": id });
        }
        let domain = match (&self.domain_id, &self.domain_name) {
            (Some(id), _) => json!({ "id": id }),
            (None, Some(name)) => json!({ "name": name }),
            (None, None) => json!({ "id": "default" }),
        };
        json!({ "name": self.name.clone().unwrap_or_default(), "domain": domain })
    }

    /// How to name it in messages: the name or the id.
    pub fn shown(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.id.clone())
            .unwrap_or_default()
    }
}

/// How the client proves who it is.
#[derive(Clone, Debug)]
pub enum Auth {
    /// Rackspace Identity v2.0 with an API key (`RAX-KSKEY:apiKeyCredentials`).
    RackspaceApiKey {
        auth_url: String,
        username: String,
        api_key: Secret,
        /// A tenant id (all digits) or name; usually unset.
        tenant: Option<String>,
    },
    /// Identity v2.0 `passwordCredentials`.
    RackspacePassword {
        auth_url: String,
        username: String,
        password: Secret,
        tenant: Option<String>,
    },
    /// Keystone v3 password, optionally scoped to a project.
    Password {
        auth_url: String,
        user: Named,
        password: Secret,
        project: Option<Named>,
    },
    /// Keystone v3 application credential (already scoped to its project): by id, or by name
    /// with its user.
    ApplicationCredential {
        auth_url: String,
        id: Option<String>,
        name: Option<String>,
        user: Option<Named>,
        secret: Secret,
    },
    /// Keystone v3 token, optionally re-scoped to a project.
    Token {
        auth_url: String,
        token: Secret,
        project: Option<Named>,
    },
    /// No identity service (`auth_type = "none"`, or `admin_token`): the endpoints are given,
    /// and a fixed token, if any, is sent as is.
    None { token: Option<Secret> },
}

impl Auth {
    fn url(&self) -> Option<&str> {
        match self {
            Auth::RackspaceApiKey { auth_url, .. }
            | Auth::RackspacePassword { auth_url, .. }
            | Auth::Password { auth_url, .. }
            | Auth::ApplicationCredential { auth_url, .. }
            | Auth::Token { auth_url, .. } => Some(auth_url),
            Auth::None { .. } => None,
        }
    }

    /// Who logs in, for messages (never a secret).
    pub fn who(&self) -> String {
        match self {
            Auth::RackspaceApiKey { username, .. } | Auth::RackspacePassword { username, .. } => {
                username.clone()
            }
            Auth::Password { user, .. } => user.shown(),
            Auth::ApplicationCredential { id, name, .. } => format!(
                "application credential {}",
                name.clone().or_else(|| id.clone()).unwrap_or_default()
            ),
            Auth::Token { .. } => "a token".into(),
            Auth::None { .. } => "nobody (no authentication)".into(),
        }
    }
}

/// Endpoints given in configuration, used instead of the catalog's.
#[derive(Clone, Debug, Default)]
pub struct EndpointOverrides {
    pub compute: Option<String>,
    pub image: Option<String>,
}

/// Everything needed to connect. `Debug` shows no credential.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub preset: Preset,
    pub auth: Auth,
    /// Region of the endpoints to use, e.g. `DFW`; matched case-insensitively (empty: any).
    pub region: String,
    /// Which catalog URLs to use: `public` (the default), `internal` or `admin`.
    pub interface: String,
    pub endpoints: EndpointOverrides,
    /// A PEM bundle of CA certificates to trust (besides the system's).
    pub ca_file: Option<std::path::PathBuf>,
    /// Accept any TLS certificate (for test clouds only; the CLI warns).
    pub insecure: bool,
    /// How many times a rate-limited (413/429), unavailable (503) or failed idempotent call
    /// is retried.
    pub max_retries: u32,
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Client-side pacing per (endpoint host, verb); unlimited by default.
    pub rate_limits: super::RateLimits,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            preset: Preset::Rackspace,
            auth: Auth::None { token: None },
            region: String::new(),
            interface: "public".into(),
            endpoints: EndpointOverrides::default(),
            ca_file: None,
            insecure: false,
            max_retries: 5,
            timeout: Duration::from_secs(60),
            rate_limits: super::RateLimits::default(),
        }
    }
}

impl ClientOptions {
    /// Rackspace Identity v2.0 with an API key (the sandbox's `demo` / `demo`, for one).
    pub fn rackspace(auth_url: &str, username: &str, api_key: &str, region: &str) -> Self {
        ClientOptions {
            preset: Preset::Rackspace,
            auth: Auth::RackspaceApiKey {
                auth_url: auth_url.into(),
                username: username.into(),
                api_key: Secret::new(api_key),
                tenant: None,
            },
            region: region.into(),
            ..ClientOptions::default()
        }
    }
}

/// A token and the endpoints its catalog offers.
#[derive(Debug)]
pub(crate) struct Session {
    /// `None` when the cloud takes requests without one (`auth_type = "none"`).
    pub token: Option<Secret>,
    /// When to get a new token before this one expires, on the local monotonic clock. `None`
    /// when the expiry is unknown or already past by the cloud's own clock (not trusted).
    pub refresh_at: Option<Instant>,
    pub endpoints: Endpoints,
}

impl Session {
    /// True when the token is about to expire and should be replaced before the next call.
    pub fn needs_refresh(&self) -> bool {
        self.refresh_at.is_some_and(|at| at <= Instant::now())
    }
}

/// When to refresh: the token lives `expires - Date` (the response's own clock, so clock skew
/// between us and the cloud does not matter); refresh a minute early, or a tenth of the
/// lifetime early for short-lived tokens, so that a new token is never already "expiring".
fn refresh_deadline(expires: Option<&str>, headers: &HeaderMap) -> Option<Instant> {
    let expires = DateTime::parse_from_rfc3339(expires?.trim())
        .ok()?
        .with_timezone(&Utc);
    let server_now = headers
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    let lifetime = (expires - server_now).to_std().ok()?;
    let early = (lifetime / 10).min(Duration::from_secs(60));
    Instant::now().checked_add(lifetime - early)
}

/// The URL to POST the token request to (`None`: no identity service).
pub(crate) fn token_url(opts: &ClientOptions) -> Result<Option<Url>, ProviderError> {
    let Some(auth_url) = opts.auth.url() else {
        return Ok(None);
    };
    let suffix: &[&str] = match opts.auth {
        Auth::RackspaceApiKey { .. } | Auth::RackspacePassword { .. } => &["tokens"],
        _ => &["auth", "tokens"],
    };
    let mut url = Url::parse(auth_url.trim())
        .map_err(|e| ProviderError::Catalog(format!("invalid auth_url {auth_url:?}: {e}")))?;
    let already = url
        .path()
        .trim_end_matches('/')
        .ends_with(&format!("/{}", suffix.join("/")));
    if !already {
        let mut segs = url
            .path_segments_mut()
            .map_err(|()| ProviderError::Catalog(format!("invalid auth_url {auth_url:?}")))?;
        segs.pop_if_empty().extend(suffix);
    }
    Ok(Some(url))
}

/// The JSON body of the token request. This is the only place credentials are exposed.
pub(crate) fn token_request(opts: &ClientOptions) -> Value {
    let tenant = |auth: &mut Value, tenant: &Option<String>| {
        if let Some(t) = tenant.as_deref().filter(|p| !p.is_empty()) {
            let key = if t.chars().all(|c| c.is_ascii_digit()) {
                "tenantId"
            } else {
                "tenantName"
            };
            auth[key] = Value::from(t);
        }
    };
    let scoped = |identity: Value, project: &Option<Named>| {
        let mut auth = json!({ "identity": identity });
        if let Some(p) = project {
            auth["scope"] = json!({ "project": p.json() });
        }
        json!({ "auth": auth })
    };
    match &opts.auth {
        Auth::RackspaceApiKey {
            username,
            api_key,
            tenant: t,
            ..
        } => {
            let mut auth = json!({"RAX-KSKEY:apiKeyCredentials": {
                "username": username, "apiKey": api_key.expose()}});
            tenant(&mut auth, t);
            json!({ "auth": auth })
        }
        Auth::RackspacePassword {
            username,
            password,
            tenant: t,
            ..
        } => {
            let mut auth = json!({"passwordCredentials": {
                "username": username, "password": password.expose()}});
            tenant(&mut auth, t);
            json!({ "auth": auth })
        }
        Auth::Password {
            user,
            password,
            project,
            ..
        } => {
            let mut u = user.json();
            u["password"] = Value::from(password.expose());
            scoped(
                json!({"methods": ["password"], "password": {"user": u}}),
                project,
            )
        }
        Auth::ApplicationCredential {
            id,
            name,
            user,
            secret,
            ..
        } => {
            let mut cred = match (id, name) {
                (Some(id), _) => json!({ "id": id }),
                (None, name) => {
                    let mut c = json!({ "name": name.clone().unwrap_or_default() });
                    if let Some(u) = user {
                        c["user"] = u.json();
                    }
                    c
                }
            };
            cred["secret"] = Value::from(secret.expose());
            // Application credentials are scoped already; Keystone rejects an extra scope.
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": cred}}})
        }
        Auth::Token { token, project, .. } => scoped(
            json!({"methods": ["token"], "token": {"id": token.expose()}}),
            project,
        ),
        Auth::None { .. } => Value::Null,
    }
}

/// Reads the token, its expiry and the endpoints out of a successful token response.
pub(crate) fn read_token(
    opts: &ClientOptions,
    headers: &HeaderMap,
    body: &Value,
) -> Result<Session, ProviderError> {
    let v2 = matches!(
        opts.auth,
        Auth::RackspaceApiKey { .. } | Auth::RackspacePassword { .. }
    );
    let (token, expires) = if v2 {
        (
            body.pointer("/access/token/id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            body.pointer("/access/token/expires")
                .and_then(Value::as_str),
        )
    } else {
        (
            headers
                .get("x-subject-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body.pointer("/token/expires_at").and_then(Value::as_str),
        )
    };
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ProviderError::Auth {
            status: 200,
            message: "the identity service answered without a token".into(),
        })?;
    let refresh_at = refresh_deadline(expires, headers);
    let catalog = if v2 {
        Preset::Rackspace
    } else {
        Preset::Openstack
    };
    let endpoints = catalog::select(catalog, opts.preset, body, &opts.region, &opts.interface)
        .and_then(|e| overridden(e, &opts.endpoints))?;
    Ok(Session {
        token: Some(Secret::new(token)),
        refresh_at,
        endpoints,
    })
}

/// The catalog's endpoints with the configured ones in their place.
fn overridden(mut e: Endpoints, o: &EndpointOverrides) -> Result<Endpoints, ProviderError> {
    if let Some(c) = &o.compute {
        e.compute = parse_endpoint("compute_endpoint", c)?;
    }
    if let Some(i) = &o.image {
        e.image = Some(catalog::versioned_image_url(parse_endpoint(
            "image_endpoint",
            i,
        )?));
    }
    Ok(e)
}

fn parse_endpoint(what: &str, url: &str) -> Result<Url, ProviderError> {
    Url::parse(url.trim())
        .map_err(|e| ProviderError::Catalog(format!("{what}: expected a URL, found {url:?} ({e})")))
}

/// The session of a cloud without an identity service: the configured endpoints and token.
pub(crate) fn unauthenticated(opts: &ClientOptions) -> Result<Session, ProviderError> {
    let Auth::None { token } = &opts.auth else {
        return Err(ProviderError::Catalog(
            "an identity service is configured".into(),
        ));
    };
    let compute = opts.endpoints.compute.as_deref().ok_or_else(|| {
        ProviderError::Catalog(
            "auth_type = \"none\" needs compute_endpoint (the Nova URL, e.g. http://host:8774/v2.1)"
                .into(),
        )
    })?;
    let image = match &opts.endpoints.image {
        Some(i) => Some(catalog::versioned_image_url(parse_endpoint(
            "image_endpoint",
            i,
        )?)),
        None => None,
    };
    Ok(Session {
        token: token.clone(),
        refresh_at: None,
        endpoints: Endpoints {
            compute: parse_endpoint("compute_endpoint", compute)?,
            image,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rax(key: Option<&str>, password: Option<&str>, tenant: Option<&str>) -> ClientOptions {
        let auth_url = "http://127.0.0.1:1/v2.0/".to_string();
        let auth = match (key, password) {
            (Some(k), _) => Auth::RackspaceApiKey {
                auth_url,
                username: "demo".into(),
                api_key: Secret::new(k),
                tenant: tenant.map(str::to_owned),
            },
            (None, p) => Auth::RackspacePassword {
                auth_url,
                username: "demo".into(),
                password: Secret::new(p.unwrap_or("")),
                tenant: tenant.map(str::to_owned),
            },
        };
        ClientOptions {
            preset: Preset::Rackspace,
            auth,
            region: "DFW".into(),
            ..ClientOptions::default()
        }
    }

    fn v3(auth: Auth) -> ClientOptions {
        ClientOptions {
            preset: Preset::Openstack,
            auth,
            region: "RegionOne".into(),
            ..ClientOptions::default()
        }
    }

    #[test]
    fn rackspace_bodies() {
        let key = rax(Some("k"), None, None);
        assert_eq!(
            token_request(&key),
            json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demo", "apiKey": "k"}}})
        );
        assert_eq!(
            token_url(&key).unwrap().unwrap().as_str(),
            "http://127.0.0.1:1/v2.0/tokens"
        );
        let pw = rax(None, Some("p"), Some("123456"));
        assert_eq!(
            token_request(&pw),
            json!({"auth": {"passwordCredentials": {"username": "demo", "password": "p"},
                            "tenantId": "123456"}})
        );
    }

    #[test]
    fn keystone_v3_bodies_and_url() {
        let pw = v3(Auth::Password {
            auth_url: "https://k.example.com/v3".into(),
            user: Named {
                name: Some("demo".into()),
                domain_name: Some("Users".into()),
                ..Named::default()
            },
            password: Secret::new("p"),
            project: Some(Named {
                name: Some("demo".into()),
                domain_id: Some("d1".into()),
                ..Named::default()
            }),
        });
        assert_eq!(
            token_url(&pw).unwrap().unwrap().as_str(),
            "https://k.example.com/v3/auth/tokens"
        );
        let body = token_request(&pw);
        assert_eq!(
            body["auth"]["identity"]["password"]["user"],
            json!({"name": "demo", "domain": {"name": "Users"}, "password": "p"})
        );
        assert_eq!(
            body["auth"]["scope"]["project"],
            json!({"name": "demo", "domain": {"id": "d1"}})
        );
        let by_id = v3(Auth::Password {
            auth_url: "https://k/v3".into(),
            user: Named::by_id("u1"),
            password: Secret::new("p"),
            project: Some(Named::by_id("p1")),
        });
        let body = token_request(&by_id);
        assert_eq!(
            body["auth"]["identity"]["password"]["user"],
            json!({"id": "u1", "password": "p"})
        );
        assert_eq!(body["auth"]["scope"]["project"], json!({"id": "p1"}));
        let app = v3(Auth::ApplicationCredential {
            auth_url: "https://k/v3".into(),
            id: Some("ac".into()),
            name: None,
            user: None,
            secret: Secret::new("s"),
        });
        let body = token_request(&app);
        assert_eq!(
            body["auth"]["identity"]["application_credential"],
            json!({"id": "ac", "secret": "s"})
        );
        assert!(body["auth"].get("scope").is_none());
        let app_by_name = v3(Auth::ApplicationCredential {
            auth_url: "https://k/v3".into(),
            id: None,
            name: Some("ci".into()),
            user: Some(Named::by_name("demo")),
            secret: Secret::new("s"),
        });
        assert_eq!(
            token_request(&app_by_name)["auth"]["identity"]["application_credential"],
            json!({"name": "ci", "user": {"name": "demo", "domain": {"id": "default"}}, "secret": "s"})
        );
        let token = v3(Auth::Token {
            auth_url: "https://k/v3".into(),
            token: Secret::new("t"),
            project: Some(Named::by_name("demo")),
        });
        assert_eq!(
            token_request(&token)["auth"]["identity"],
            json!({"methods": ["token"], "token": {"id": "t"}})
        );
    }

    #[test]
    fn without_identity_the_endpoints_are_the_configured_ones() {
        let mut o = v3(Auth::None { token: None });
        assert!(token_url(&o).unwrap().is_none());
        assert!(unauthenticated(&o).is_err(), "needs compute_endpoint");
        o.endpoints.compute = Some("http://n:8774/v2.1".into());
        o.endpoints.image = Some("http://g:9292".into());
        let s = unauthenticated(&o).unwrap();
        assert!(s.token.is_none());
        assert_eq!(s.endpoints.image.unwrap().as_str(), "http://g:9292/v2");
    }

    #[test]
    fn debug_of_options_hides_the_credential() {
        let o = rax(None, Some("topsecret"), None);
        let text = format!("{o:?}");
        assert!(!text.contains("topsecret"), "{text}");
        assert!(text.contains("***"));
    }

    #[test]
    fn reads_v2_token_and_expiry() {
        let o = rax(Some("k"), None, None);
        let body: Value =
            serde_json::from_str(include_str!("testdata/identity_v2_rackspace.json")).unwrap();
        let s = read_token(&o, &HeaderMap::new(), &body).unwrap();
        assert_eq!(s.token.as_ref().unwrap().expose(), "d74f592f0c1a4e6d8b5a");
        // Expired long ago by our clock and no Date header: not trusted, so no deadline.
        assert!(s.refresh_at.is_none());
        let mut headers = HeaderMap::new();
        headers.insert(DATE, "Fri, 05 Jun 2015 16:14:57 GMT".parse().unwrap());
        let s = read_token(&o, &headers, &body).unwrap();
        let left = s.refresh_at.unwrap() - Instant::now();
        assert!(
            left > Duration::from_secs(8 * 60) && left <= Duration::from_secs(541),
            "{left:?}"
        );
        assert!(!s.needs_refresh());
        headers.insert(DATE, "Fri, 05 Jun 2015 16:24:47 GMT".parse().unwrap());
        let short = read_token(&o, &headers, &body).unwrap();
        assert!(short.refresh_at.unwrap() - Instant::now() > Duration::from_secs(8));
        assert!(!short.needs_refresh(), "a 10 s token is usable for 9 s");
    }
}
