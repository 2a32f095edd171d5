//! The request core: token header, retries with backoff, 401 re-authentication, fault parsing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::ProviderError;
use super::auth::{self, ClientOptions, Session};
use super::catalog::Preset;
use super::error::{describe, parse_fault};
use super::ratelimit::Limiters;

/// Knobs that are not part of a provider block: page sizes and retry timing. The defaults
/// suit real clouds; tests shrink them.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// `limit` of each page of a compute or image listing (the servers cap it at 1000).
    pub page_size: u32,
    /// The longest single wait a Retry-After may impose.
    pub max_retry_wait: Duration,
    /// The first backoff delay (it doubles, with jitter, up to `max_backoff`).
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Tuning {
    /// Real clouds' defaults; `SNAPFORM_RETRY_MIN_BACKOFF_MS` shrinks the backoff (tests).
    fn default() -> Tuning {
        let min_backoff = std::env::var("SNAPFORM_RETRY_MIN_BACKOFF_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_millis(500));
        Tuning {
            page_size: 1000,
            max_retry_wait: Duration::from_secs(60),
            min_backoff,
            max_backoff: Duration::from_secs(20).max(min_backoff),
        }
    }
}

const JSON: &str = "application/json";

/// The compute microversion snapform speaks to OpenStack when images go through Glance:
/// 2.45 answers createImage with the new id in the body.
pub(crate) const MICROVERSION: &str = "2.45";
/// Without an image endpoint, the highest microversion that still has Nova's image proxy.
pub(crate) const MICROVERSION_PROXY: &str = "2.35";
const JSON_PATCH: &str = "application/openstack-images-v2.1-json-patch";

/// Which catalog endpoint a path is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    Compute,
    Image,
}

/// Where a request goes.
pub(crate) enum Target {
    /// Path segments under a catalog endpoint; each segment is percent-encoded.
    Path(Service, Vec<String>),
    /// An absolute URL (a pagination link, the token URL).
    Url(Url),
}

/// A request body. Not `Debug`: the token request body holds credentials.
pub(crate) enum Body {
    Empty,
    Json(Value),
    JsonPatch(Value),
}

/// One logical API call (retries and re-authentication included).
pub(crate) struct Call {
    pub method: Method,
    pub target: Target,
    pub query: Vec<(&'static str, String)>,
    pub body: Body,
    /// Human description for errors: `create image "golden" from server 1234`.
    pub operation: String,
    /// The API it goes to (`None`: the identity service).
    pub service: Option<Service>,
    /// Sending it twice has the effect of sending it once. A call that is not (createImage)
    /// is retried only when the cloud certainly did not act on it: refused by a rate limit,
    /// or never sent (the connection failed).
    pub idempotent: bool,
}

impl Call {
    pub fn new(
        method: Method,
        service: Service,
        path: &[&str],
        operation: impl Into<String>,
    ) -> Call {
        Call {
            idempotent: method != Method::POST,
            method,
            target: Target::Path(service, path.iter().map(|s| (*s).to_owned()).collect()),
            query: Vec::new(),
            body: Body::Empty,
            operation: operation.into(),
            service: Some(service),
        }
    }

    /// Marks a POST whose repetition is harmless (a metadata merge, a schedule setting).
    pub fn idempotent(mut self) -> Call {
        self.idempotent = true;
        self
    }

    pub fn json(mut self, body: Value) -> Call {
        self.body = Body::Json(body);
        self
    }

    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> Call {
        self.query.push((key, value.into()));
        self
    }
}

/// A successful (2xx) answer. 203 counts as 200; 202/204 bodies may be empty.
pub(crate) struct Reply {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON; an empty or malformed body is a transport error naming `operation`.
    pub fn json(&self, operation: &str) -> Result<Value, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ProviderError::transport(
                operation,
                format!("the cloud answered with unreadable JSON: {e}"),
            )
        })
    }
}

/// Why one attempt failed, and whether another attempt may help.
struct Failure {
    error: ProviderError,
    retryable: bool,
    /// What the cloud asked us to wait (Retry-After); capped by `Tuning::max_retry_wait`.
    wait: Option<Duration>,
}

/// The shared state behind every clone of a `Client`.
pub(crate) struct Inner {
    pub http: reqwest::Client,
    pub opts: ClientOptions,
    pub tuning: Tuning,
    session: RwLock<Arc<Session>>,
    auth_lock: tokio::sync::Mutex<()>,
    meter: Meter,
}

/// What every attempt goes through: the request counter and the client-side rate limiters.
struct Meter {
    requests: AtomicU64,
    limiters: Limiters,
}

impl Inner {
    /// Builds the shared state and authenticates once.
    pub async fn connect(
        http: reqwest::Client,
        opts: ClientOptions,
        tuning: Tuning,
    ) -> Result<Inner, ProviderError> {
        let meter = Meter {
            requests: AtomicU64::new(0),
            limiters: Limiters::new(opts.rate_limits),
        };
        let session = match opts.auth {
            auth::Auth::None { .. } => auth::unauthenticated(&opts)?,
            _ => authenticate(&http, &opts, &tuning, &meter).await?,
        };
        Ok(Inner {
            http,
            opts,
            tuning,
            session: RwLock::new(Arc::new(session)),
            auth_lock: tokio::sync::Mutex::new(()),
            meter,
        })
    }

    /// The `limit` of listing pages (at least 1: `limit=0` would return nothing at all).
    pub fn page_size(&self) -> String {
        self.tuning.page_size.max(1).to_string()
    }

    pub fn request_count(&self) -> u64 {
        self.meter.requests.load(Ordering::Relaxed)
    }

    pub fn current(&self) -> Arc<Session> {
        match self.session.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Sends `call` with the current token; on 401 re-authenticates once and resends once.
    pub async fn execute(&self, call: &Call) -> Result<Reply, ProviderError> {
        let mut session = self.current();
        if session.needs_refresh() {
            session = self.reauthenticate(&session).await?;
        }
        let first = self.send(call, &session).await;
        match first {
            // Without an identity service there is nothing to renew.
            Err(ProviderError::Api { status: 401, .. })
                if session.token.is_some()
                    && !matches!(self.opts.auth, auth::Auth::None { .. }) =>
            {
                let fresh = self.reauthenticate(&session).await?;
                self.send(call, &fresh).await
            }
            other => other,
        }
    }

    /// Replaces the session `stale` with a new one, unless another task already did.
    async fn reauthenticate(&self, stale: &Arc<Session>) -> Result<Arc<Session>, ProviderError> {
        let _guard = self.auth_lock.lock().await;
        let current = self.current();
        if !Arc::ptr_eq(&current, stale) {
            return Ok(current);
        }
        tracing::debug!("re-authenticating");
        let fresh =
            Arc::new(authenticate(&self.http, &self.opts, &self.tuning, &self.meter).await?);
        match self.session.write() {
            Ok(mut s) => *s = fresh.clone(),
            Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
        }
        Ok(fresh)
    }

    async fn send(&self, call: &Call, session: &Session) -> Result<Reply, ProviderError> {
        let url = resolve(&call.target, session, &call.operation)?;
        send_with_retries(
            &self.http,
            &self.opts,
            &self.tuning,
            &self.meter,
            call,
            &url,
            Some(session),
        )
        .await
    }
}

/// Gets a token and the catalog. Rate limits and 503s are retried like any call; a refusal
/// becomes `ProviderError::Auth`.
async fn authenticate(
    http: &reqwest::Client,
    opts: &ClientOptions,
    tuning: &Tuning,
    meter: &Meter,
) -> Result<Session, ProviderError> {
    let Some(url) = auth::token_url(opts)? else {
        return auth::unauthenticated(opts);
    };
    let operation = format!("authenticate as {:?} at {}", opts.auth.who(), url.as_str());
    let call = Call {
        method: Method::POST,
        target: Target::Url(url.clone()),
        query: Vec::new(),
        body: Body::Json(auth::token_request(opts)),
        operation,
        service: None,
        idempotent: true,
    };
    let reply = send_with_retries(http, opts, tuning, meter, &call, &url, None)
        .await
        .map_err(|e| match e {
            ProviderError::Api {
                status, message, ..
            } => ProviderError::Auth { status, message },
            other => other,
        })?;
    let body = reply.json(&call.operation)?;
    auth::read_token(opts, &reply.headers, &body)
}

/// The absolute URL of a target.
pub(crate) fn resolve(
    target: &Target,
    session: &Session,
    operation: &str,
) -> Result<Url, ProviderError> {
    match target {
        Target::Url(url) => Ok(url.clone()),
        Target::Path(service, segments) => {
            let base = base(*service, session)?;
            let mut url = base.clone();
            url.path_segments_mut()
                .map_err(|()| {
                    ProviderError::transport(operation, format!("cannot append a path to {base}"))
                })?
                .pop_if_empty()
                .extend(segments);
            Ok(url)
        }
    }
}

/// The catalog endpoint of a service.
pub(crate) fn base(service: Service, session: &Session) -> Result<&Url, ProviderError> {
    match service {
        Service::Compute => Ok(&session.endpoints.compute),
        Service::Image => session.endpoints.image.as_ref().ok_or_else(no_image_api),
    }
}

pub(crate) fn no_image_api() -> ProviderError {
    ProviderError::Catalog(
        "the Image API v2 is not available: the service catalog has no image endpoint for this region"
            .into(),
    )
}

async fn send_with_retries(
    http: &reqwest::Client,
    opts: &ClientOptions,
    tuning: &Tuning,
    meter: &Meter,
    call: &Call,
    url: &Url,
    session: Option<&Session>,
) -> Result<Reply, ProviderError> {
    let backoff = ExponentialBuilder::default()
        .with_jitter()
        .with_min_delay(tuning.min_backoff)
        .with_max_delay(tuning.max_backoff)
        .with_max_times(opts.max_retries as usize);
    let tries = std::sync::atomic::AtomicU32::new(0);
    let attempt = || {
        tries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        attempt(http, opts, meter, call, url, session)
    };
    let most = opts.max_retries + 1;
    attempt
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|f: &Failure| f.retryable)
        .adjust(|f: &Failure, next: Option<Duration>| {
            // Out of attempts → stop. Otherwise wait what the cloud asked (capped), and never
            // less than the jittered backoff.
            next.map(|d| match f.wait {
                Some(w) => w
                    .min(tuning.max_retry_wait)
                    .max(d.min(tuning.max_retry_wait)),
                None => d,
            })
        })
        .notify(|f: &Failure, wait: Duration| {
            // Shown by default (docs/cli.md): a slow or failing cloud is never silence.
            tracing::info!(
                "retrying {} in {:.1}s (attempt {} of {most} failed: {})",
                call.operation,
                wait.as_secs_f64(),
                tries.load(std::sync::atomic::Ordering::Relaxed),
                f.error
            );
        })
        .await
        .map_err(|f| {
            let n = tries.load(std::sync::atomic::Ordering::Relaxed);
            if n > 1 {
                f.error.after_attempts(n)
            } else {
                f.error
            }
        })
}

/// One HTTP exchange.
async fn attempt(
    http: &reqwest::Client,
    opts: &ClientOptions,
    meter: &Meter,
    call: &Call,
    url: &Url,
    session: Option<&Session>,
) -> Result<Reply, Failure> {
    let mut req = http
        .request(call.method.clone(), url.clone())
        .header(ACCEPT, JSON)
        .timeout(opts.timeout);
    if let Some(t) = session.and_then(|s| s.token.as_ref()) {
        let mut token = HeaderValue::from_str(t.expose()).map_err(|_| Failure {
            error: ProviderError::Auth {
                status: 200,
                message: "the identity service issued a malformed token".into(),
            },
            retryable: false,
            wait: None,
        })?;
        token.set_sensitive(true);
        req = req.header("X-Auth-Token", token);
    }
    if !call.query.is_empty() {
        req = req.query(&call.query);
    }
    // OpenStack: the compute microversion is pinned, never left to the cloud's default.
    if opts.preset == Preset::Openstack && call.service == Some(Service::Compute) {
        let v = session.map_or(MICROVERSION_PROXY, |s| {
            if s.endpoints.image.is_some() {
                MICROVERSION
            } else {
                MICROVERSION_PROXY
            }
        });
        req = req
            .header("OpenStack-API-Version", format!("compute {v}"))
            .header("X-OpenStack-Nova-API-Version", v);
    }
    req = match &call.body {
        Body::Empty => req,
        Body::Json(v) => req.header(CONTENT_TYPE, JSON).body(v.to_string()),
        Body::JsonPatch(v) => req.header(CONTENT_TYPE, JSON_PATCH).body(v.to_string()),
    };
    // Pace ourselves below the cloud's limits (every attempt counts, retries included).
    meter.limiters.until_ready(&call.method, url).await;
    meter.requests.fetch_add(1, Ordering::Relaxed);
    let started = std::time::Instant::now();
    let idempotent = call.idempotent;
    let transport = |e: reqwest::Error| Failure {
        retryable: idempotent || e.is_connect(),
        error: ProviderError::transport(&call.operation, describe(&e)),
        wait: None,
    };
    let resp = req.send().await.map_err(transport)?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.map_err(transport)?;
    let query: Vec<&str> = call.query.iter().map(|(k, _)| *k).collect();
    tracing::debug!(method = %call.method, url = %url.path(), query = %query.join(","), status = status.as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64, "http");
    if status.is_success() {
        return Ok(Reply {
            headers,
            body: body.to_vec(),
        });
    }
    let fault = parse_fault(status, &headers, &body, chrono::Utc::now());
    let wait = fault.retry_after.map(Duration::from_secs);
    let retryable = match status {
        StatusCode::TOO_MANY_REQUESTS => true,
        // A 503 may come after the cloud acted (a proxy timing out): only repeatable calls.
        StatusCode::SERVICE_UNAVAILABLE => idempotent,
        // 413 is a rate limit only when it says when to come back; Retry-After 0 (or none)
        // means a quota such as the image metadata limit: retrying cannot help.
        StatusCode::PAYLOAD_TOO_LARGE => fault.retry_after.is_some_and(|s| s > 0),
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT => idempotent,
        _ => false,
    };
    Err(Failure {
        error: ProviderError::Api {
            operation: call.operation.clone(),
            status: status.as_u16(),
            message: fault.message,
            retry_after: fault.retry_after,
        },
        retryable,
        wait,
    })
}
