//! Service catalog: reads Identity v2.0 and Keystone v3 catalogs, picks compute and image URLs.

use serde_json::Value;
use url::Url;

use super::ProviderError;

/// Which identity protocol and catalog naming the cloud uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Rackspace Identity v2.0 (`POST {auth_url}/tokens`), catalog names
    /// `cloudServersOpenStack` and `cloudImages`.
    Rackspace,
    /// OpenStack Keystone v3 (`POST {auth_url}/auth/tokens`), catalog types `compute`/`image`.
    Openstack,
}

/// The URLs this client talks to, copied from the catalog (never built by hand).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoints {
    /// Compute API base, e.g. `https://dfw.servers.api.rackspacecloud.com/v2/123456`.
    pub compute: Url,
    /// Image API v2 base ending in its version, e.g. `https://dfw.images.api.rackspacecloud.com/v2`.
    pub image: Option<Url>,
}

/// One catalog entry, in a shape common to both identity versions.
#[derive(Debug, Default)]
struct Service {
    name: String,
    kind: String,
    endpoints: Vec<Endpoint>,
}

#[derive(Debug, Default)]
struct Endpoint {
    region: Option<String>,
    url: String,
    version_id: Option<String>,
}

/// Picks the endpoints for `region` (matched case-insensitively; empty matches any) and
/// `interface` (`public`, `internal`, `admin`) out of the catalog of an authentication
/// response: `format` says which (`Rackspace`: Identity v2.0's `access.serviceCatalog`,
/// `Openstack`: Keystone v3's `token.catalog`), `preset` how services are named.
pub(crate) fn select(
    format: Preset,
    preset: Preset,
    auth_body: &Value,
    region: &str,
    interface: &str,
) -> Result<Endpoints, ProviderError> {
    let services = match format {
        Preset::Rackspace => read_v2(auth_body, interface),
        Preset::Openstack => read_v3(auth_body, interface),
    };
    let compute = match preset {
        Preset::Rackspace => {
            let by_name = candidates(&services, region, |s| {
                s.name.eq_ignore_ascii_case("cloudServersOpenStack")
            });
            if by_name.is_empty() {
                // No Rackspace name: any v2 compute service, skipping first-gen cloudServers v1.0.
                candidates(&services, region, |s| {
                    s.kind == "compute" && !s.name.eq_ignore_ascii_case("cloudServers")
                })
                .into_iter()
                .filter(|e| {
                    e.version_id
                        .as_deref()
                        .is_none_or(|v| matches!(v, "2" | "1.1" | "2.1"))
                })
                .collect()
            } else {
                by_name
            }
        }
        Preset::Openstack => candidates(&services, region, |s| s.kind == "compute"),
    };
    let compute =
        one("compute", compute, region)?.ok_or_else(|| missing("compute", &services, region))?;
    let image = candidates(&services, region, |s| {
        s.kind == "image" || s.name.eq_ignore_ascii_case("cloudImages")
    });
    let image = one("image", image, region)?.map(versioned_image_url);
    Ok(Endpoints { compute, image })
}

fn read_v2(body: &Value, interface: &str) -> Vec<Service> {
    let key = match interface {
        "internal" => "internalURL",
        "admin" => "adminURL",
        _ => "publicURL",
    };
    let list = body
        .pointer("/access/serviceCatalog")
        .and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .map(|s| Service {
            name: text(s, "name"),
            kind: text(s, "type"),
            endpoints: array(s, "endpoints")
                .map(|e| Endpoint {
                    region: opt_text(e, "region"),
                    url: text(e, key),
                    version_id: opt_text(e, "versionId"),
                })
                .collect(),
        })
        .collect()
}

fn read_v3(body: &Value, interface: &str) -> Vec<Service> {
    let list = body.pointer("/token/catalog").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .map(|s| Service {
            name: text(s, "name"),
            kind: text(s, "type"),
            endpoints: array(s, "endpoints")
                .filter(|e| opt_text(e, "interface").is_none_or(|i| i == interface))
                .map(|e| Endpoint {
                    region: opt_text(e, "region_id").or_else(|| opt_text(e, "region")),
                    url: text(e, "url"),
                    version_id: None,
                })
                .collect(),
        })
        .collect()
}

/// Endpoints of matching services in the region. Endpoints without a region count for every
/// region (pyrax's "ALL"), but only when no endpoint names the region explicitly.
fn candidates<'a>(
    services: &'a [Service],
    region: &str,
    wanted: impl Fn(&Service) -> bool,
) -> Vec<&'a Endpoint> {
    let all: Vec<&Endpoint> = services
        .iter()
        .filter(|s| wanted(s))
        .flat_map(|s| &s.endpoints)
        .filter(|e| !e.url.is_empty())
        .collect();
    let exact: Vec<&Endpoint> = all
        .iter()
        .copied()
        .filter(|e| {
            region.is_empty()
                || e.region
                    .as_deref()
                    .is_some_and(|r| r.eq_ignore_ascii_case(region))
        })
        .collect();
    if exact.is_empty() {
        all.into_iter().filter(|e| e.region.is_none()).collect()
    } else {
        exact
    }
}

fn one(what: &str, found: Vec<&Endpoint>, region: &str) -> Result<Option<Url>, ProviderError> {
    let mut urls: Vec<&str> = found.iter().map(|e| e.url.as_str()).collect();
    urls.sort_unstable();
    urls.dedup();
    match urls.as_slice() {
        [] => Ok(None),
        [url] => Url::parse(url).map(Some).map_err(|e| {
            ProviderError::Catalog(format!(
                "the service catalog has an invalid {what} URL {url:?}: {e}"
            ))
        }),
        many => Err(ProviderError::Catalog(format!(
            "the service catalog has {} {what} endpoints for region {region:?} ({}); expected one",
            many.len(),
            many.join(", ")
        ))),
    }
}

fn missing(what: &str, services: &[Service], region: &str) -> ProviderError {
    let mut regions: Vec<String> = services
        .iter()
        .filter(|s| s.kind == what)
        .flat_map(|s| &s.endpoints)
        .filter_map(|e| e.region.clone())
        .collect();
    regions.sort_unstable();
    regions.dedup();
    let offered = if regions.is_empty() {
        "none".to_owned()
    } else {
        regions.join(", ")
    };
    ProviderError::Catalog(format!(
        "the service catalog has no {what} endpoint for region {region:?} (regions offered: {offered})"
    ))
}

/// Glance catalogs often list the bare service root (`http://host:9292`); Rackspace lists
/// `.../v2`. Paths in this client are relative to the versioned root, so add `v2` when the
/// URL does not already end in a version segment.
pub(crate) fn versioned_image_url(mut url: Url) -> Url {
    let last = url
        .path_segments()
        .and_then(|mut s| s.rfind(|seg| !seg.is_empty()))
        .unwrap_or("")
        .to_owned();
    let is_version = last.strip_prefix('v').is_some_and(|rest| {
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
    });
    if !is_version && let Ok(mut segs) = url.path_segments_mut() {
        segs.pop_if_empty().push("v2");
    }
    url
}

fn text(v: &Value, key: &str) -> String {
    opt_text(v, key).unwrap_or_default()
}

fn opt_text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn array<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
