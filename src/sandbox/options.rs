//! Options of `snapform sandbox serve` (and of an in-process sandbox).

use std::net::SocketAddr;
use std::path::PathBuf;

/// Longest snapshot duration (one year).
pub(crate) const MAX_SNAPSHOT_SECONDS: f64 = 365.0 * 86400.0;

/// Options of `snapform sandbox serve` (and of an in-process sandbox).
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxOptions {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8900")]
    pub listen: SocketAddr,
    /// Directory to persist state in; in-memory when absent.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// How long a snapshot stays SAVING before it becomes ACTIVE.
    #[arg(long, default_value_t = 2.0)]
    pub snapshot_seconds: f64,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of compute/image requests answered with a 503 (0..1).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Rate limit per verb, e.g. `GET=100/min` or `POST=10/min` (repeatable; `*` = any verb).
    #[arg(long = "rate-limit", value_name = "VERB=N/min")]
    pub rate_limits: Vec<String>,
    /// Account `NAME:SECRET` (secret = API key and password; repeatable). Default `demo:demo`.
    #[arg(long = "user", value_name = "NAME:SECRET")]
    pub users: Vec<String>,
    /// Latency added after a request was carried out, before the answer (the cloud acted, the
    /// answer is late: what a slow proxy does), in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub reply_latency_ms: u64,
    /// Which real cloud's behaviours to show where they differ (docs/sandbox.md): `rackspace`,
    /// or `openstack` (Nova + Glance: no deleted images in `changes-since`, createImage answers
    /// with a Glance `Location` below compute 2.45 and a body `image_id` from it, Glance's
    /// reserved properties refused with 403).
    #[arg(long, value_enum, default_value_t = CloudKind::Rackspace)]
    pub cloud: CloudKind,
    /// Extra servers `srv-00001` … in DFW, for benchmarks (on top of the fixtures).
    #[arg(long, default_value_t = 0)]
    pub servers: usize,
    /// Extra active snapshots `fleet-000001` … of those servers (or of the fixture servers),
    /// owned by the first account, for benchmarks.
    #[arg(long, default_value_t = 0)]
    pub images: usize,
}

/// The real cloud the sandbox imitates where clouds differ.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CloudKind {
    #[default]
    Rackspace,
    Openstack,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 8900)),
            data: None,
            snapshot_seconds: 2.0,
            latency_ms: 0,
            error_rate: 0.0,
            rate_limits: Vec::new(),
            users: Vec::new(),
            reply_latency_ms: 0,
            cloud: CloudKind::Rackspace,
            servers: 0,
            images: 0,
        }
    }
}
