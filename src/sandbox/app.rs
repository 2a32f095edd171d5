//! Shared state of a running sandbox: the store behind a mutex, the accounts, the run-time
//! knobs (faults, rate limits, snapshot time) and the request counters.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, MutexGuard};

use axum::http::HeaderMap;
use serde::Serialize;

use super::fixtures::{DEMO_TENANT, DEMO_USER_ID};
use super::options::{MAX_SNAPSHOT_SECONDS, SandboxOptions};
use super::ratelimit::RateLimit;
use super::store::Store;

/// An account: the secret is both its API key and its password.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub name: String,
    pub secret: String,
    pub tenant: String,
    pub user_id: String,
}

impl User {
    /// `demo` gets the documented ids; others get stable ids derived from the name.
    pub fn new(name: &str, secret: &str) -> User {
        if name == "demo" {
            return User {
                name: name.into(),
                secret: secret.into(),
                tenant: DEMO_TENANT.into(),
                user_id: DEMO_USER_ID.into(),
            };
        }
        // FNV-1a: stable across runs and platforms.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        User {
            name: name.into(),
            secret: secret.into(),
            tenant: format!("{}", 200_000 + h % 700_000),
            user_id: format!("{}", 300_000 + (h >> 20) % 600_000),
        }
    }
}

/// One line of the request log.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LogEntry {
    pub at: String,
    pub method: String,
    pub path: String,
    /// The raw query string (empty when none).
    #[serde(default)]
    pub query: String,
    pub route: String,
    pub status: u16,
}

/// Knobs that can change at run time through the control API, plus counters.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub latency_ms: u64,
    /// Added after the handler ran (the cloud acted; the answer is late).
    pub reply_latency_ms: u64,
    /// Which real cloud to imitate where they differ.
    pub cloud: super::options::CloudKind,
    pub error_rate: f64,
    pub rate_limits: Vec<RateLimit>,
    pub snapshot_seconds: f64,
    /// The next N snapshots (manual or scheduled) end in ERROR.
    pub fail_next_snapshots: u32,
    /// The next N manual snapshots fail as Nova does when its database write fails after the
    /// Glance image was made: a 500, and an image left `queued` forever (REFERENCE §10.2).
    pub orphan_next_snapshots: u32,
    pub total: u64,
    pub by_route: BTreeMap<String, u64>,
    pub log: VecDeque<LogEntry>,
}

/// Bound of the in-memory request log.
pub(crate) const LOG_CAP: usize = 1000;

pub(crate) struct App {
    pub store: Mutex<Store>,
    pub users: Vec<User>,
    pub runtime: Mutex<Runtime>,
    /// `http://HOST:PORT` when bound; `None` for `router()` (then the Host header is used).
    pub public_base: Option<String>,
    /// `--servers` and `--images`: the fleet `POST /sandbox/v1/reset` restores.
    pub fleet: (usize, usize),
}

impl App {
    pub fn new(opts: &SandboxOptions, public_base: Option<String>) -> anyhow::Result<App> {
        let mut users = Vec::new();
        for spec in &opts.users {
            let (name, secret) = spec
                .split_once(':')
                .filter(|(n, s)| !n.is_empty() && !s.is_empty())
                .ok_or_else(|| anyhow::anyhow!("--user expects NAME:SECRET, got {spec:?}"))?;
            users.push(User::new(name, secret));
        }
        if users.is_empty() {
            users.push(User::new("demo", "demo"));
        }
        if !(0.0..=1.0).contains(&opts.error_rate) {
            anyhow::bail!("--error-rate must be within 0..1, got {}", opts.error_rate);
        }
        if !(0.0..=MAX_SNAPSHOT_SECONDS).contains(&opts.snapshot_seconds) {
            anyhow::bail!(
                "--snapshot-seconds must be within 0..=31536000, got {}",
                opts.snapshot_seconds
            );
        }
        let rate_limits = opts
            .rate_limits
            .iter()
            .map(|s| RateLimit::parse(s))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (servers, images) = (opts.servers, opts.images);
        let store = Store::open(opts.data.as_deref(), || {
            super::fixtures::fleet_data(servers, images)
        })?;
        Ok(App {
            store: Mutex::new(store),
            users,
            runtime: Mutex::new(Runtime {
                latency_ms: opts.latency_ms,
                reply_latency_ms: opts.reply_latency_ms,
                cloud: opts.cloud,
                error_rate: opts.error_rate,
                rate_limits,
                snapshot_seconds: opts.snapshot_seconds,
                fail_next_snapshots: 0,
                orphan_next_snapshots: 0,
                total: 0,
                by_route: BTreeMap::new(),
                log: VecDeque::new(),
            }),
            public_base,
            fleet: (servers, images),
        })
    }

    /// The store, even if a panicking request poisoned the mutex.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn runtime(&self) -> MutexGuard<'_, Runtime> {
        self.runtime.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://host:port` of this sandbox as clients should see it.
    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(b) = &self.public_base {
            return b.clone();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_graphic()))
            .unwrap_or("localhost");
        format!("http://{host}")
    }

    /// Snapshot duration and whether the next snapshot must fail (consumes one failure).
    pub fn next_snapshot_plan(&self) -> (f64, bool) {
        let mut rt = self.runtime();
        let fail = rt.fail_next_snapshots > 0;
        if fail {
            rt.fail_next_snapshots -= 1;
        }
        (rt.snapshot_seconds, fail)
    }

    /// Takes one of the `orphan_next_snapshots`, if any are left.
    pub fn take_orphan(&self) -> bool {
        let mut rt = self.runtime();
        let orphan = rt.orphan_next_snapshots > 0;
        if orphan {
            rt.orphan_next_snapshots -= 1;
        }
        orphan
    }

    pub fn find_user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|u| u.name == name)
    }
}
