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

/// The secret half of the login.
#[derive(Clone, Debug)]
pub enum Credential {
    /// Rackspace: an API key (`RAX-KSKEY:apiKeyCredentials`). OpenStack: an application
    /// credential secret, with `username` holding the application credential id.
    ApiKey(Secret),
    /// A password (`passwordCredentials` on v2.0, the `password` method on v3).
    Password(Secret),
}

/// Everything needed to connect. `Debug` shows no credential.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub preset: Preset,
    /// Rackspace: `.../v2.0`; OpenStack: `.../v3`.
    pub auth_url: String,
    pub username: String,
    pub credential: Credential,
    /// Region of the endpoints to use, e.g. `DFW`; matched case-insensitively.
    pub region: String,
    /// OpenStack project (name, or 32-hex id); Rackspace tenant (id if numeric, else name).
    pub project: Option<String>,
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
            auth_url: String::new(),
            username: String::new(),
            credential: Credential::ApiKey(Secret::new("")),
            region: String::new(),
            project: None,
            max_retries: 5,
            timeout: Duration::from_secs(60),
            rate_limits: super::RateLimits::default(),
        }
    }
}

/// A token and the endpoints its catalog offers.
#[derive(Debug)]
pub(crate) struct Session {
    pub token: Secret,
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

/// The URL to POST the token request to.
pub(crate) fn token_url(opts: &ClientOptions) -> Result<Url, ProviderError> {
    let suffix: &[&str] = match opts.preset {
        Preset::Rackspace => &["tokens"],
        Preset::Openstack => &["auth", "tokens"],
    };
    let mut url = Url::parse(opts.auth_url.trim()).map_err(|e| {
        ProviderError::Catalog(format!("invalid auth_url {:?}: {e}", opts.auth_url))
    })?;
    let already = url
        .path()
        .trim_end_matches('/')
        .ends_with(&format!("/{}", suffix.join("/")));
    if !already {
        let mut segs = url.path_segments_mut().map_err(|()| {
            ProviderError::Catalog(format!("invalid auth_url {:?}", opts.auth_url))
        })?;
        segs.pop_if_empty().extend(suffix);
    }
    Ok(url)
}

/// The JSON body of the token request. This is the only place credentials are exposed.
pub(crate) fn token_request(opts: &ClientOptions) -> Value {
    match opts.preset {
        Preset::Rackspace => {
            let mut auth = match &opts.credential {
                Credential::ApiKey(key) => json!({"RAX-KSKEY:apiKeyCredentials": {
                    "username": opts.username, "apiKey": key.expose()}}),
                Credential::Password(pw) => json!({"passwordCredentials": {
                    "username": opts.username, "password": pw.expose()}}),
            };
            if let Some(project) = opts.project.as_deref().filter(|p| !p.is_empty()) {
                let key = if project.chars().all(|c| c.is_ascii_digit()) {
                    "tenantId"
                } else {
                    "tenantName"
                };
                auth[key] = Value::from(project);
            }
            json!({ "auth": auth })
        }
        Preset::Openstack => {
            let identity = match &opts.credential {
                Credential::Password(pw) => json!({"methods": ["password"], "password": {"user": {
                    "name": opts.username, "domain": {"id": "default"}, "password": pw.expose()}}}),
                Credential::ApiKey(secret) => json!({"methods": ["application_credential"],
                    "application_credential": {"id": opts.username, "secret": secret.expose()}}),
            };
            let mut auth = json!({ "identity": identity });
            // Application credentials are scoped already; Keystone rejects an extra scope.
            let scoped = matches!(opts.credential, Credential::Password(_));
            if let (true, Some(project)) =
                (scoped, opts.project.as_deref().filter(|p| !p.is_empty()))
            {
                let is_id = project.len() == 32 && project.chars().all(|c| c.is_ascii_hexdigit());
                auth["scope"] = if is_id {
                    json!({"project": {"id": project}})
                } else {
                    json!({"project": {"name": project, "domain": {"id": "default"}}})
                };
            }
            json!({ "auth": auth })
        }
    }
}

/// Reads the token, its expiry and the endpoints out of a successful token response.
pub(crate) fn read_token(
    opts: &ClientOptions,
    headers: &HeaderMap,
    body: &Value,
) -> Result<Session, ProviderError> {
    let (token, expires) = match opts.preset {
        Preset::Rackspace => (
            body.pointer("/access/token/id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            body.pointer("/access/token/expires")
                .and_then(Value::as_str),
        ),
        Preset::Openstack => (
            headers
                .get("x-subject-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body.pointer("/token/expires_at").and_then(Value::as_str),
        ),
    };
    let token = token
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ProviderError::Auth {
            status: 200,
            message: "the identity service answered without a token".into(),
        })?;
    let refresh_at = refresh_deadline(expires, headers);
    let endpoints = catalog::select(opts.preset, body, &opts.region)?;
    Ok(Session {
        token: Secret::new(token),
        refresh_at,
        endpoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(preset: Preset, credential: Credential, project: Option<&str>) -> ClientOptions {
        ClientOptions {
            preset,
            auth_url: "http://127.0.0.1:1/v2.0/".into(),
            username: "demo".into(),
            credential,
            region: "DFW".into(),
            project: project.map(str::to_owned),
            ..ClientOptions::default()
        }
    }

    #[test]
    fn rackspace_bodies() {
        let key = opts(Preset::Rackspace, Credential::ApiKey("k".into()), None);
        assert_eq!(
            token_request(&key),
            json!({"auth": {"RAX-KSKEY:apiKeyCredentials": {"username": "demo", "apiKey": "k"}}})
        );
        assert_eq!(
            token_url(&key).unwrap().as_str(),
            "http://127.0.0.1:1/v2.0/tokens"
        );
        let pw = opts(
            Preset::Rackspace,
            Credential::Password("p".into()),
            Some("123456"),
        );
        assert_eq!(
            token_request(&pw),
            json!({"auth": {"passwordCredentials": {"username": "demo", "password": "p"},
                            "tenantId": "123456"}})
        );
    }

    #[test]
    fn keystone_v3_bodies_and_url() {
        let mut pw = opts(
            Preset::Openstack,
            Credential::Password("p".into()),
            Some("demo"),
        );
        pw.auth_url = "https://k.example.com/v3".into();
        assert_eq!(
            token_url(&pw).unwrap().as_str(),
            "https://k.example.com/v3/auth/tokens"
        );
        let body = token_request(&pw);
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["password"],
            "p"
        );
        assert_eq!(body["auth"]["scope"]["project"]["name"], "demo");
        let app = opts(
            Preset::Openstack,
            Credential::ApiKey("s".into()),
            Some("demo"),
        );
        let body = token_request(&app);
        assert_eq!(
            body["auth"]["identity"]["methods"][0],
            "application_credential"
        );
        assert!(body["auth"].get("scope").is_none());
    }

    #[test]
    fn debug_of_options_hides_the_credential() {
        let o = opts(
            Preset::Rackspace,
            Credential::Password("topsecret".into()),
            None,
        );
        let text = format!("{o:?}");
        assert!(!text.contains("topsecret"), "{text}");
        assert!(text.contains("***"));
    }

    #[test]
    fn reads_v2_token_and_expiry() {
        let o = opts(Preset::Rackspace, Credential::ApiKey("k".into()), None);
        let body: Value =
            serde_json::from_str(include_str!("testdata/identity_v2_rackspace.json")).unwrap();
        let s = read_token(&o, &HeaderMap::new(), &body).unwrap();
        assert_eq!(s.token.expose(), "d74f592f0c1a4e6d8b5a");
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
