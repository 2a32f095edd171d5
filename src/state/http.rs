//! The `http` state backend: the REST protocol of Terraform's http backend and GitLab-managed
//! state. `GET address` reads, `POST address?ID=<lock id>` writes, `LOCK`/`UNLOCK` on
//! `lock_address`/`unlock_address` with a JSON lock-info body; 409/423 mean "locked" and carry the
//! holder's lock info. A state server is not a cloud: this is the one module besides the provider
//! that speaks HTTP (ARCHITECTURE.md).

use super::codec::{check_lineage, parse_state, prepare};
use super::lock_info::{LockInfo, describe_holder, snippet};
use super::{State, StateError};
use reqwest::{Method, StatusCode};
use std::time::{Duration, Instant};

/// Settings of `backend "http"`.
#[derive(Clone)]
pub struct HttpSettings {
    pub address: String,
    /// Locking is off when unset (as in Terraform).
    pub lock_address: Option<String>,
    /// Defaults to `lock_address`.
    pub unlock_address: Option<String>,
    pub lock_method: String,
    pub unlock_method: String,
    pub update_method: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for HttpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSettings")
            .field("address", &redact(&self.address))
            .field("lock_address", &self.lock_address.as_deref().map(redact))
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "(redacted)"))
            .finish_non_exhaustive()
    }
}

/// An open http state; holds the server-side lock (if locking is configured) until unlock/drop.
pub struct HttpBackend {
    http: reqwest::Client,
    s: HttpSettings,
    lock: Option<LockInfo>,
    last: Option<State>,
    stored_lineage: Option<String>,
    /// Since when changes that started no intent wait for the next write (coalesced).
    deferred: Option<Instant>,
}

/// How long changes that start no intent may wait to be sent with a later write: a second, or
/// `SNAPFORM_HTTP_COALESCE_MS`.
fn coalesce() -> Duration {
    let ms = std::env::var("SNAPFORM_HTTP_COALESCE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Duration::from_millis(ms)
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(invalid URL)".into(),
    }
}

fn fail(s: &HttpSettings, op: &'static str, message: impl Into<String>) -> StateError {
    let mut m: String = message.into();
    // The configured password and any password written into the URLs.
    let in_urls = [
        Some(&s.address),
        s.lock_address.as_ref(),
        s.unlock_address.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter_map(|u| url::Url::parse(u).ok()?.password().map(str::to_string));
    for p in s.password.iter().cloned().chain(in_urls) {
        if !p.is_empty() {
            m = m.replace(&p, "***");
        }
    }
    StateError::Backend {
        backend: "http",
        target: redact(&s.address),
        op,
        message: m,
    }
}

/// An error with its causes ("error sending request ...: connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut m = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        m.push_str(&format!(": {c}"));
        src = c.source();
    }
    m
}

fn client() -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())
}

fn method(s: &HttpSettings, name: &str) -> Result<Method, StateError> {
    Method::from_bytes(name.as_bytes()).map_err(|_| {
        fail(
            s,
            "use the configured method",
            format!("expected an HTTP method name, found \"{name}\""),
        )
    })
}

async fn send(
    http: &reqwest::Client,
    s: &HttpSettings,
    m: Method,
    url: &str,
    body: Option<String>,
) -> Result<(StatusCode, String), reqwest::Error> {
    let mut req = http.request(m, url);
    if let Some(u) = &s.username {
        req = req.basic_auth(u, s.password.as_deref());
    }
    if let Some(b) = body {
        req = req.header("Content-Type", "application/json").body(b);
    }
    let resp = req.send().await?;
    let status = resp.status();
    Ok((status, resp.text().await.unwrap_or_default()))
}

impl HttpBackend {
    /// Opens the state and takes its lock (waiting up to `lock_timeout`); with `None`, takes
    /// no lock (`-lock=false`).
    pub async fn open(
        s: &HttpSettings,
        lock_timeout: Option<Duration>,
        operation: &str,
    ) -> Result<HttpBackend, StateError> {
        let http = client().map_err(|m| fail(s, "start an HTTP client", m))?;
        let mut b = HttpBackend {
            http,
            s: s.clone(),
            lock: None,
            last: None,
            stored_lineage: None,
            deferred: None,
        };
        let Some(lock_url) = s.lock_address.clone() else {
            return Ok(b);
        };
        let Some(lock_timeout) = lock_timeout else {
            return Ok(b);
        };
        let info = LockInfo::new(operation);
        let body = serde_json::to_string(&info).unwrap_or_default();
        let m = method(s, &s.lock_method)?;
        let deadline = Instant::now() + lock_timeout;
        loop {
            let (status, text) = send(&b.http, s, m.clone(), &lock_url, Some(body.clone()))
                .await
                .map_err(|e| fail(s, "take the lock", chain(&e)))?;
            match status.as_u16() {
                200..=299 => break,
                409 | 423 => {
                    if Instant::now() >= deadline {
                        return Err(StateError::Locked(
                            format!(
                                "{}; state at {}",
                                describe_holder(&text),
                                redact(&s.address)
                            ),
                            "wait for it; if that run died, its lock stays on the server: \
                             release it with `snapform force-unlock ID` (ID as above)"
                                .into(),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                _ => {
                    return Err(fail(
                        s,
                        "take the lock",
                        format!(
                            "{} {}: expected 200, 409 or 423, found {status}: {}",
                            s.lock_method,
                            redact(&lock_url),
                            snippet(&text)
                        ),
                    ));
                }
            }
        }
        b.lock = Some(info);
        Ok(b)
    }

    pub fn describe(&self) -> String {
        format!("http {}", redact(&self.s.address))
    }

    pub async fn read(&mut self) -> Result<State, StateError> {
        let state = get(&self.http, &self.s).await?;
        self.stored_lineage = state.as_ref().map(|s| s.lineage.clone());
        self.last = state.clone();
        Ok(state.unwrap_or_default())
    }

    pub async fn write(&mut self, state: &mut State, check: bool) -> Result<(), StateError> {
        self.deferred = None;
        if check {
            check_lineage(self.stored_lineage.as_deref(), state)?;
        }
        let Some((serial, text)) = prepare(
            self.last.as_ref(),
            self.stored_lineage
                .as_ref()
                .and(self.last.as_ref().map(|l| l.serial)),
            state,
        )
        .map_err(|m| fail(&self.s, "encode the state", m))?
        else {
            return Ok(());
        };
        self.post(text).await?;
        state.serial = serial;
        self.stored_lineage = Some(state.lineage.clone());
        self.last = Some(state.clone());
        Ok(())
    }

    /// A change during an apply. The protocol knows only whole-state writes, so they are
    /// coalesced: a change that starts no intent (an object recorded, an intent settled) waits
    /// up to a second to go with the next write; one that starts an intent (the mutating call
    /// comes next) is written at once, with everything waiting. What waits is never needed
    /// for safety: the intents it settles are still in the stored journal, and a run after a
    /// crash reconciles them (docs/state.md). The end of the apply writes the rest.
    pub async fn write_delta(
        &mut self,
        state: &mut State,
        delta: &super::Delta,
    ) -> Result<(), StateError> {
        let starts_none = delta
            .journal
            .as_ref()
            .is_some_and(|(started, _)| started.is_empty());
        if starts_none && self.last.is_some() {
            let since = *self.deferred.get_or_insert_with(Instant::now);
            if since.elapsed() < coalesce() {
                return Ok(());
            }
        }
        self.write(state, true).await
    }

    /// Sends `text` (the state as stored) with the update method, under the lock's ID.
    async fn post(&self, text: String) -> Result<(), StateError> {
        let mut url = url::Url::parse(&self.s.address)
            .map_err(|e| fail(&self.s, "write the state", format!("address: {e}")))?;
        if let Some(l) = &self.lock {
            url.query_pairs_mut().append_pair("ID", &l.id);
        }
        let m = method(&self.s, &self.s.update_method)?;
        let (status, body) = send(&self.http, &self.s, m, url.as_str(), Some(text))
            .await
            .map_err(|e| fail(&self.s, "write the state", chain(&e)))?;
        if !status.is_success() {
            return Err(fail(
                &self.s,
                "write the state",
                format!(
                    "{} {}: expected 200, found {status}: {}",
                    self.s.update_method,
                    redact(&self.s.address),
                    snippet(&body)
                ),
            ));
        }
        Ok(())
    }

    /// Stores `state` exactly as it is, serial and lineage included (`init -migrate-state`).
    pub async fn copy_in(&mut self, state: &State) -> Result<(), StateError> {
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| fail(&self.s, "encode the state", e.to_string()))?;
        let text = super::crypt::seal(&text).map_err(StateError::Encryption)?;
        self.post(text).await?;
        self.stored_lineage = Some(state.lineage.clone());
        self.last = Some(state.clone());
        self.deferred = None;
        Ok(())
    }

    /// Deletes the stored state (`DELETE` on the address; the lock is held).
    pub async fn delete_state(&mut self) -> Result<(), StateError> {
        let mut url = url::Url::parse(&self.s.address)
            .map_err(|e| fail(&self.s, "delete the state", format!("address: {e}")))?;
        if let Some(l) = &self.lock {
            url.query_pairs_mut().append_pair("ID", &l.id);
        }
        let (status, body) = send(&self.http, &self.s, Method::DELETE, url.as_str(), None)
            .await
            .map_err(|e| fail(&self.s, "delete the state", chain(&e)))?;
        if !status.is_success() && status != StatusCode::NOT_FOUND {
            return Err(fail(
                &self.s,
                "delete the state",
                format!(
                    "DELETE {}: expected 200, found {status}: {}",
                    redact(&self.s.address),
                    snippet(&body)
                ),
            ));
        }
        self.last = None;
        self.stored_lineage = None;
        Ok(())
    }

    pub async fn unlock(mut self) -> Result<(), StateError> {
        let Some(info) = self.lock.take() else {
            return Ok(());
        };
        unlock(&self.http, &self.s, &info).await
    }
}

impl Drop for HttpBackend {
    /// An error path dropped the backend while locked: release the lock on a helper thread
    /// (its own runtime and client), waiting at most a few seconds.
    fn drop(&mut self) {
        let Some(info) = self.lock.take() else {
            return;
        };
        let s = self.s.clone();
        let t = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let (Ok(rt), Ok(http)) = (rt, client()) {
                let r = rt.block_on(async {
                    tokio::time::timeout(Duration::from_secs(5), unlock(&http, &s, &info)).await
                });
                if !matches!(r, Ok(Ok(()))) {
                    tracing::warn!("could not release the http state lock {}", info.id);
                }
            }
        });
        let _ = t.join();
    }
}

/// `force-unlock ID`: releases a lock a dead run left behind on the server, by its id.
pub async fn force_unlock(s: &HttpSettings, id: &str) -> Result<(), StateError> {
    if s.unlock_address.is_none() && s.lock_address.is_none() {
        return Err(fail(
            s,
            "force-unlock",
            "expected lock_address or unlock_address in the backend block, found neither: this state is never locked",
        ));
    }
    let http = client().map_err(|e| fail(s, "force-unlock", e))?;
    let info = LockInfo {
        id: id.to_string(),
        ..LockInfo::default()
    };
    unlock(&http, s, &info).await
}

async fn unlock(
    http: &reqwest::Client,
    s: &HttpSettings,
    info: &LockInfo,
) -> Result<(), StateError> {
    let Some(url) = s.unlock_address.as_ref().or(s.lock_address.as_ref()) else {
        return Ok(());
    };
    let body = serde_json::to_string(info).unwrap_or_default();
    let m = method(s, &s.unlock_method)?;
    let (status, text) = send(http, s, m, url, Some(body))
        .await
        .map_err(|e| fail(s, "release the lock", chain(&e)))?;
    if !status.is_success() {
        return Err(fail(
            s,
            "release the lock",
            format!(
                "{} {}: expected 200, found {status}: {}; release it with: snapform force-unlock {}",
                s.unlock_method,
                redact(url),
                snippet(&text),
                info.id
            ),
        ));
    }
    Ok(())
}

/// `GET address`: 200 with a body is a state; 204, 404 or an empty body is none.
async fn get(http: &reqwest::Client, s: &HttpSettings) -> Result<Option<State>, StateError> {
    let (status, body) = send(http, s, Method::GET, &s.address, None)
        .await
        .map_err(|e| fail(s, "read the state", chain(&e)))?;
    match status.as_u16() {
        204 | 404 => Ok(None),
        200 if body.trim().is_empty() => Ok(None),
        200 => parse_state(&body, "http", &redact(&s.address)).map(Some),
        _ => Err(fail(
            s,
            "read the state",
            format!(
                "GET {}: expected 200, 204 or 404, found {status}: {}",
                redact(&s.address),
                snippet(&body)
            ),
        )),
    }
}

/// Reads the state without taking the lock.
pub async fn read_unlocked(s: &HttpSettings) -> Result<State, StateError> {
    let http = client().map_err(|m| fail(s, "start an HTTP client", m))?;
    Ok(get(&http, s).await?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_settings_never_show_the_password() {
        assert_eq!(redact("http://u:pw@h:1/s"), "http://u:***@h:1/s");
        let s = HttpSettings {
            address: "http://127.0.0.1:1/s".into(),
            lock_address: None,
            unlock_address: None,
            lock_method: "LOCK".into(),
            unlock_method: "UNLOCK".into(),
            update_method: "POST".into(),
            username: Some("u".into()),
            password: Some("hunter2".into()),
        };
        assert!(!format!("{s:?}").contains("hunter2"));
        let mut in_url = s.clone();
        in_url.address = "http://u:urlpass@127.0.0.1:1/s".into();
        let e = fail(
            &in_url,
            "read the state",
            "GET http://u:urlpass@127.0.0.1:1/s",
        )
        .to_string();
        assert!(!e.contains("urlpass"), "{e}");
        assert!(
            !fail(&s, "read the state", "echo hunter2")
                .to_string()
                .contains("hunter2")
        );
    }
}
