//! Request context extractors: check region, `X-Auth-Token` and the tenant in the URL, let
//! sandbox time pass (scheduled snapshots), and carry the URL bases for building links.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use super::app::App;
use super::faults::{ApiError, Shape};
use super::fixtures::REGIONS;
use super::identity::find_token;

/// Who is calling and where: built for every compute and Image API request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub region: String,
    pub tenant: String,
    pub user_id: String,
    /// `http://host:port` of the sandbox.
    pub root: String,
    /// All path parameters of the matched route (`id`, `key`, ...).
    pub params: HashMap<String, String>,
}

impl Ctx {
    /// Compute base URL, e.g. `http://127.0.0.1:8900/DFW/compute/v2/123456`.
    pub fn compute_base(&self) -> String {
        format!("{}/{}/compute/v2/{}", self.root, self.region, self.tenant)
    }
    /// Version-less bookmark base, e.g. `http://127.0.0.1:8900/DFW/compute/123456`.
    pub fn bookmark_base(&self) -> String {
        format!("{}/{}/compute/{}", self.root, self.region, self.tenant)
    }
    /// Image API base URL, e.g. `http://127.0.0.1:8900/DFW/image/v2`.
    pub fn image_base(&self) -> String {
        format!("{}/{}/image/v2", self.root, self.region)
    }
    /// Image API base as a host-relative path (Glance `next`/`self` links).
    pub fn image_path(&self) -> String {
        format!("/{}/image/v2", self.region)
    }
    pub fn param(&self, name: &str) -> String {
        self.params.get(name).cloned().unwrap_or_default()
    }
}

const NO_TOKEN: &str =
    "No valid token provided. Please use the 'X-Auth-Token' header with a valid token.";

async fn build(parts: &mut Parts, app: &Arc<App>, shape: Shape) -> Result<Ctx, ApiError> {
    let params: HashMap<String, String> =
        Path::<HashMap<String, String>>::from_request_parts(parts, app)
            .await
            .map(|Path(p)| p)
            .map_err(|_| ApiError::not_found("The resource could not be found.").shape(shape))?;
    let region = params.get("region").cloned().unwrap_or_default();
    if !REGIONS.contains(&region.as_str()) {
        return Err(ApiError::not_found(format!("Unknown region '{region}'.")).shape(shape));
    }
    let token_id = parts
        .headers
        .get("x-auth-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = if token_id.is_empty() {
        None
    } else {
        find_token(app, token_id)
    };
    let token = token.ok_or_else(|| ApiError::unauthorized(NO_TOKEN).shape(shape))?;
    if let Some(t) = params.get("tenant")
        && *t != token.tenant
    {
        return Err(
            ApiError::unauthorized(format!("Token doesn't belong to tenant '{t}'.")).shape(shape),
        );
    }
    let user_id = app
        .find_user(&token.user)
        .map(|u| u.user_id.clone())
        .unwrap_or_default();
    // Sandbox time passes on every authenticated call: scheduled snapshots fire, snapshots
    // in progress finish and retention culling runs.
    super::scheduler::tick(app);
    Ok(Ctx {
        region,
        tenant: token.tenant,
        user_id,
        root: app.base_url(&parts.headers),
        params,
    })
}

/// Context of a compute call (`/{region}/compute/v2/{tenant}/...`); faults in compute shape.
pub(crate) struct Compute(pub Ctx);

impl FromRequestParts<Arc<App>> for Compute {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        build(parts, app, Shape::Compute).await.map(Compute)
    }
}

/// Context of an Image API v2 call (`/{region}/image/v2/...`); errors in Glance shape.
pub(crate) struct Glance(pub Ctx);

impl FromRequestParts<Arc<App>> for Glance {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        build(parts, app, Shape::Glance).await.map(Glance)
    }
}
