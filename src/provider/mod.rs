//! The cloud client: the only code in snapform that speaks HTTP to a cloud.
//!
//! Layout (one file per API, like gophercloud): `auth` (Identity v2.0 and Keystone v3),
//! `catalog` (endpoint selection), `http` (token, retries, 401 re-auth, faults),
//! `servers`, `compute_images`, `metadata`, `schedule` (RAX-SI), `glance` (Image API v2 actions), `glance_images` (images and
//! properties through the Image API on OpenStack),
//! `paging` (next-link loops), `ratelimit` (client-side pacing per host and verb), `types`,
//! `secret`, `error`.
//!
//! Architecture invariant: credentials and tokens never reach `Debug`, `Display`, errors or logs.

mod auth;
mod catalog;
mod compute_images;
mod error;
mod glance;
mod glance_images;
mod http;
mod metadata;
mod paging;
mod ratelimit;
mod schedule;
mod secret;
mod servers;
mod types;

use std::sync::Arc;
use std::time::Duration;

pub use auth::{Auth, ClientOptions, EndpointOverrides, Named};
pub use catalog::Preset;
pub use error::ProviderError;
pub use http::Tuning;
pub use ratelimit::{Rate, RateLimits};
pub use secret::Secret;
pub use types::{Image, ImageListing, ImageQuery, ImageV2, Schedule, Server, parse_time};

/// A connected client. Cheap to clone; clones share the token, the connection pool and the
/// request counter, and may be used from many tasks at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<http::Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let session = self.inner.current();
        f.debug_struct("Client")
            .field("compute", &session.endpoints.compute.as_str())
            .field(
                "image",
                &session.endpoints.image.as_ref().map(|u| u.as_str()),
            )
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Authenticates and picks the compute and image endpoints of `opts.region` from the catalog.
    pub async fn connect(opts: ClientOptions) -> Result<Client, ProviderError> {
        Client::connect_with(opts, Tuning::default()).await
    }

    /// [`Client::connect`] with non-default page sizes or retry timing.
    pub async fn connect_with(
        opts: ClientOptions,
        tuning: Tuning,
    ) -> Result<Client, ProviderError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("snapform/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(opts.timeout.min(Duration::from_secs(30)))
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(same_host_redirects());
        if let Some(ca) = &opts.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                ProviderError::transport("read the CA file", format!("{}: {e}", ca.display()))
            })?;
            for cert in reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ProviderError::transport("read the CA file", format!("{}: {e}", ca.display()))
            })? {
                builder = builder.add_root_certificate(cert);
            }
        }
        if opts.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| ProviderError::transport("build the HTTP client", e.to_string()))?;
        let inner = http::Inner::connect(http, opts, tuning).await?;
        Ok(Client {
            inner: Arc::new(inner),
        })
    }

    /// True when the catalog offers the Image API v2 (rename, deactivate, reactivate).
    pub fn has_image_api(&self) -> bool {
        self.inner.current().endpoints.image.is_some()
    }

    /// HTTP requests sent by this client and its clones, authentication and retries included.
    pub fn request_count(&self) -> u64 {
        self.inner.request_count()
    }

    /// The compute endpoint in use (from the catalog).
    pub fn compute_url(&self) -> String {
        self.inner.current().endpoints.compute.to_string()
    }
}

/// Follows redirects only within one host: a token must never be sent to another host.
fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt.previous().last().is_some_and(|prev| {
            prev.host_str() == attempt.url().host_str()
                && prev.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if attempt.previous().len() > 5 || !same {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// Maps a 404 to `None`.
pub(crate) fn found<T>(result: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod invariants {
    /// Architecture invariants of this module, checked on its source: it shares no code with
    /// the sandbox (the two check each other), prints nothing, and never formats a secret
    /// other than through `Secret::expose` at the wire.
    #[test]
    fn provider_source_keeps_its_invariants() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/provider");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            // Spelled in pieces so that this file does not trip its own check.
            let banned = [
                concat!("sand", "box::"),
                concat!("print", "ln!"),
                concat!("eprint", "ln!"),
                concat!("print", "!("),
                concat!("dbg", "!("),
            ];
            for banned in banned {
                assert!(!code.contains(banned), "{name} uses {banned}");
            }
            assert!(text.starts_with("//!"), "{name} must start with a //! line");
            if !matches!(
                name.as_str(),
                "auth.rs" | "http.rs" | "secret.rs" | "mod.rs"
            ) {
                assert!(!code.contains(".expose()"), "{name} exposes a secret");
            }
            checked += 1;
        }
        assert!(checked >= 10);
    }
}
