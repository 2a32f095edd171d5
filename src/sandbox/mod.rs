//! The sandbox: an embedded emulator of Rackspace Identity v2.0, Cloud Servers v2 images,
//! scheduled images and Cloud Images (Image API v2), plus Keystone v3 — its own
//! implementation of the wire format (it shares no code with `crate::provider`).
//!
//! URL layout (all on one loopback port): `/v2.0/tokens`, `/v3/auth/tokens`,
//! `/{REGION}/compute/v2/{tenant}/...`, `/{REGION}/image/v2/...`, and the control API
//! `/sandbox/v1/...`. See `docs/sandbox.md`.

mod app;
mod auth;
mod clock;
mod control;
mod faults;
mod fixtures;
mod gateway;
mod glance;
mod glance_patch;
mod identity;
mod images;
mod limits;
mod metadata;
mod options;
mod paging;
mod ratelimit;
mod schedule;
mod scheduler;
mod servers;
mod snapshot;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use fixtures::ids as fixture_ids;
pub use options::{CloudKind, SandboxOptions};

/// A running sandbox; stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// The bound address (the real port when `listen` had port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// Base URL, e.g. `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Identity v2.0 URL; clients `POST {auth_url}/tokens`.
    pub fn auth_url(&self) -> String {
        format!("{}/v2.0", self.url())
    }
    /// Keystone v3 URL; clients `POST {auth_url_v3}/auth/tokens`.
    pub fn auth_url_v3(&self) -> String {
        format!("{}/v3", self.url())
    }
    /// Control API base, `http://127.0.0.1:PORT/sandbox/v1`.
    pub fn control_url(&self) -> String {
        format!("{}/sandbox/v1", self.url())
    }
    /// Stops accepting, lets in-flight requests finish (at most 5 s), then ends the task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Builds the router for `opts` without binding (URLs in the catalog use the Host header).
pub fn router(opts: &SandboxOptions) -> anyhow::Result<Router> {
    build(opts, None)
}

fn build(opts: &SandboxOptions, public_base: Option<String>) -> anyhow::Result<Router> {
    let app = Arc::new(app::App::new(opts, public_base)?);
    Ok(routes()
        .fallback(gateway::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            gateway::gateway,
        ))
        .with_state(app))
}

fn routes() -> Router<Arc<app::App>> {
    const C: &str = "/{region}/compute/v2/{tenant}";
    const G: &str = "/{region}/image/v2";
    let c = |p: &str| format!("{C}{p}");
    let g = |p: &str| format!("{G}{p}");
    Router::new()
        .route("/v2.0", get(identity::version_v2))
        .route("/v2.0/tokens", post(identity::tokens_v2))
        .route("/v3", get(identity::version_v3))
        .route("/v3/auth/tokens", post(identity::tokens_v3))
        .route(&c("/servers"), get(servers::list_summary))
        .route(&c("/servers/detail"), get(servers::list_detail))
        .route(&c("/servers/{id}"), get(servers::show))
        .route(&c("/servers/{id}/action"), post(servers::action))
        .route(
            &c("/servers/{id}/rax-si-image-schedule"),
            get(schedule::show)
                .post(schedule::enable)
                .delete(schedule::disable),
        )
        .route(&c("/images"), get(images::list_summary))
        .route(&c("/images/detail"), get(images::list_detail))
        .route(&c("/images/{id}"), get(images::show).delete(images::delete))
        .route(
            &c("/images/{id}/metadata"),
            get(metadata::list)
                .post(metadata::merge)
                .put(metadata::replace),
        )
        .route(
            &c("/images/{id}/metadata/{key}"),
            get(metadata::show_item)
                .put(metadata::set_item)
                .delete(metadata::delete_item),
        )
        .route(&c("/limits"), get(limits::limits))
        .route(&c("/extensions"), get(limits::extensions))
        .route(&c("/extensions/{id}"), get(limits::extension))
        .route(&g("/images"), get(glance::list))
        .route(
            &g("/images/{id}"),
            get(glance::show)
                .patch(glance::update)
                .delete(glance::delete),
        )
        .route(
            &g("/images/{id}/actions/deactivate"),
            post(glance::deactivate),
        )
        .route(
            &g("/images/{id}/actions/reactivate"),
            post(glance::reactivate),
        )
        .route("/sandbox/v1/health", get(control::health))
        .route("/sandbox/v1/state", get(control::state))
        .route("/sandbox/v1/reset", post(control::reset))
        .route(
            "/sandbox/v1/clock",
            get(control::clock_get).post(control::clock_advance),
        )
        .route(
            "/sandbox/v1/requests",
            get(control::requests_get).delete(control::requests_reset),
        )
        .route(
            "/sandbox/v1/faults",
            get(control::faults_get).put(control::faults_put),
        )
        .route("/sandbox/v1/images/{id}/error", post(control::image_error))
        .route(
            "/sandbox/v1/images/{id}/abandon",
            post(control::image_abandon),
        )
        .route("/sandbox/v1/servers", post(control::server_create))
        .route(
            "/sandbox/v1/servers/{id}",
            axum::routing::delete(control::server_delete),
        )
        .route(
            "/sandbox/v1/tokens",
            axum::routing::delete(control::tokens_revoke),
        )
}

/// Binds `opts.listen` and serves in a background task.
pub async fn spawn(opts: SandboxOptions) -> anyhow::Result<Sandbox> {
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| anyhow::anyhow!("sandbox cannot listen on {}: {e}", opts.listen))?;
    let addr = listener.local_addr()?;
    // Catalog URLs point at the bound address; an unspecified IP falls back to Host.
    let public = (!addr.ip().is_unspecified()).then(|| format!("http://{addr}"));
    let router = build(&opts, public)?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    tracing::info!(%addr, "sandbox listening");
    Ok(Sandbox {
        addr,
        stop: Some(tx),
        task: Some(task),
    })
}

/// Runs a sandbox until Ctrl-C.
pub async fn serve(opts: SandboxOptions) -> anyhow::Result<()> {
    let sandbox = spawn(opts).await?;
    tracing::info!("sandbox listening on http://{}", sandbox.addr());
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(())
}
