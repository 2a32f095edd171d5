//! Pagination loops: compute `*_links` next hrefs and Glance `next` paths.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::ProviderError;
use super::http::{Body, Call, Inner, Service, Target, base};

/// A hard bound on pages, so that a misbehaving cloud cannot keep us looping forever.
const MAX_PAGES: usize = 100_000;

/// How a listing says where its next page is.
#[derive(Clone, Copy)]
pub(crate) enum Next {
    /// Compute: `"<links_key>": [{"rel": "next", "href": "<absolute url>"}]`. Followed exactly
    /// as given (a relative href is resolved against the compute endpoint).
    ComputeLinks(&'static str),
    /// Glance: `"next": "/v2/images?marker=..."`, resolved against the scheme and host of the
    /// image endpoint (joining it onto `.../v2` would double the version).
    GlanceNext,
}

/// Runs `first` and follows next links until a page has none (or is empty), returning every
/// item under `items_key`.
pub(crate) async fn collect(
    inner: &Inner,
    first: Call,
    items_key: &str,
    next: Next,
) -> Result<Vec<Value>, ProviderError> {
    collect_dated(inner, first, items_key, next)
        .await
        .map(|c| c.items)
}

/// A whole listing plus what its first page says about the cloud's clock.
pub(crate) struct Collected {
    pub items: Vec<Value>,
    /// The `Date` header of the first page's answer (HTTP-date), if any.
    pub first_date: Option<String>,
    /// How many of `items` came from the first page.
    pub first_len: usize,
}

/// [`collect`], keeping the first page's `Date` header (a cursor for `changes-since`).
pub(crate) async fn collect_dated(
    inner: &Inner,
    first: Call,
    items_key: &str,
    next: Next,
) -> Result<Collected, ProviderError> {
    let operation = first.operation.clone();
    let mut call = first;
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut ids = HashSet::new();
    let mut first_date = None;
    let mut first_len = 0;
    for page in 1..=MAX_PAGES {
        let reply = inner.execute(&call).await?;
        if page == 1 {
            first_date = reply
                .headers
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
        }
        let mut body = reply.json(&call.operation)?;
        let Some(Value::Array(page_items)) = body.get_mut(items_key).map(Value::take) else {
            return Err(ProviderError::transport(
                &call.operation,
                format!("the answer has no {items_key:?} list"),
            ));
        };
        let before = items.len();
        let had_items = !page_items.is_empty();
        // An item can move across a page boundary while we page (the list changed between two
        // requests); keep its first sighting only.
        items.extend(page_items.into_iter().filter(|item| {
            match item.get("id").and_then(Value::as_str) {
                Some(id) => ids.insert(id.to_owned()),
                None => true,
            }
        }));
        // A page with nothing new ends the listing: some clouds (and mocks) ignore `marker`
        // and serve the same page again.
        let empty = !had_items || (page > 1 && items.len() == before);
        if page == 1 {
            first_len = items.len();
        }
        let done = |items| {
            Ok(Collected {
                items,
                first_date: first_date.clone(),
                first_len,
            })
        };
        let href = match next {
            Next::ComputeLinks(key) => compute_next(&body, key),
            Next::GlanceNext => body.get("next").and_then(Value::as_str).map(str::to_owned),
        };
        let Some(href) = href.filter(|h| !h.trim().is_empty()) else {
            return done(items);
        };
        if empty {
            return done(items);
        }
        let service = match next {
            Next::ComputeLinks(_) => Service::Compute,
            Next::GlanceNext => Service::Image,
        };
        let session = inner.current();
        let url = resolve_next(base(service, &session)?, &href).map_err(|e| {
            ProviderError::transport(&operation, format!("bad next link {href:?}: {e}"))
        })?;
        if !seen.insert(url.to_string()) {
            tracing::debug!(%href, "the cloud returned a next link twice; the listing ends here");
            return done(items);
        }
        call = Call {
            method: Method::GET,
            target: Target::Url(url),
            query: Vec::new(),
            body: Body::Empty,
            operation: format!("{operation} (page {})", page + 1),
            service: Some(service),
            idempotent: true,
        };
    }
    Err(ProviderError::transport(
        &operation,
        format!("more than {MAX_PAGES} pages; stopping"),
    ))
}

fn compute_next(body: &Value, links_key: &str) -> Option<String> {
    body.get(links_key)?
        .as_array()?
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))?
        .get("href")?
        .as_str()
        .map(str::to_owned)
}

/// An absolute href is used as is; a path (`/v2/images?...`) keeps the endpoint's scheme and
/// host; anything else is relative to the endpoint.
pub(crate) fn resolve_next(endpoint: &Url, href: &str) -> Result<Url, url::ParseError> {
    endpoint.join(href.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn glance_next_is_resolved_against_scheme_and_host() {
        let ep = Url::parse("https://dfw.images.api.rackspacecloud.com/v2").unwrap();
        let url = resolve_next(&ep, "/v2/images?limit=2&marker=g2").unwrap();
        assert_eq!(
            url.as_str(),
            "https://dfw.images.api.rackspacecloud.com/v2/images?limit=2&marker=g2"
        );
        let ep = Url::parse("http://127.0.0.1:8900/images/v2/").unwrap();
        let url = resolve_next(&ep, "/images/v2/images?marker=x").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8900/images/v2/images?marker=x"
        );
    }

    #[test]
    fn absolute_compute_href_is_followed_exactly() {
        let ep = Url::parse("https://dfw.servers.api.rackspacecloud.com/v2/123").unwrap();
        let href = "https://dfw.servers.api.rackspacecloud.com/v2/123/images/detail?limit=2&marker=abc&name=x%20y";
        assert_eq!(resolve_next(&ep, href).unwrap().as_str(), href);
    }

    #[test]
    fn compute_next_link_is_found_by_rel() {
        let body = json!({"images": [], "images_links": [
            {"rel": "self", "href": "a"}, {"rel": "next", "href": "b"}]});
        assert_eq!(compute_next(&body, "images_links").as_deref(), Some("b"));
        assert_eq!(compute_next(&json!({"images": []}), "images_links"), None);
    }
}
