//! Query strings and pagination: `limit`/`marker` parsing and the `next` link rules of
//! compute (REFERENCE §1.5) and the Image API (§6.1, §10).

use super::faults::{ApiError, ApiResult, Shape};

/// A decoded query string that keeps the order of its pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query {
    pub pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Query { pairs }
    }

    /// Last value of `key` (a repeated parameter: the last one wins, as in webob).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The same query with `marker` replaced by `marker` (appended last).
    pub fn with_marker(&self, marker: &str) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if k != "marker" {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair("marker", marker);
        ser.finish()
    }

    /// The query without `marker` (Glance `first` link).
    pub fn without_marker(&self) -> String {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if k != "marker" {
                ser.append_pair(k, v);
            }
        }
        ser.finish()
    }

    /// `limit` as a non-negative integer; 400 otherwise (nova messages).
    pub fn limit(&self, shape: Shape) -> ApiResult<Option<u64>> {
        let Some(raw) = self.get("limit") else {
            return Ok(None);
        };
        let n: i64 = raw.trim().parse().map_err(|_| {
            ApiError::bad_request(format!("limit param must be an integer, got '{raw}'"))
                .shape(shape)
        })?;
        if n < 0 {
            return Err(ApiError::bad_request("limit param must be positive").shape(shape));
        }
        Ok(Some(n as u64))
    }
}

/// Maximum page size of compute lists (`osapi_max_limit`).
pub(crate) const COMPUTE_MAX_LIMIT: u64 = 1000;
/// Default and maximum page size of the Image API (Rackspace Cloud Images).
pub(crate) const GLANCE_MAX_LIMIT: u64 = 100;

/// Takes one page from `items` (already sorted and already past the marker). Compute rule:
/// `limit=0` or no limit means the maximum; a `next` link only when the page is full.
pub(crate) fn compute_page<T>(items: Vec<T>, limit: Option<u64>) -> (Vec<T>, bool) {
    let page = match limit {
        None | Some(0) => COMPUTE_MAX_LIMIT,
        Some(n) => n.min(COMPUTE_MAX_LIMIT),
    } as usize;
    let out: Vec<T> = items.into_iter().take(page).collect();
    let full = out.len() == page && page > 0;
    (out, full)
}

/// Image API rule: no limit = the default, above the cap is clamped, `limit=0` is an empty
/// page; `next` when the page is full.
pub(crate) fn glance_page<T>(items: Vec<T>, limit: Option<u64>) -> (Vec<T>, bool) {
    let page = limit.unwrap_or(GLANCE_MAX_LIMIT).min(GLANCE_MAX_LIMIT) as usize;
    let out: Vec<T> = items.into_iter().take(page).collect();
    let full = out.len() == page && page > 0;
    (out, full)
}

/// Keeps the items that come after the marker in a list sorted descending by `key`.
pub(crate) fn after_marker<T, K: Ord>(
    items: Vec<T>,
    key: impl Fn(&T) -> K,
    marker: Option<K>,
) -> Vec<T> {
    match marker {
        None => items,
        Some(m) => items.into_iter().filter(|i| key(i) < m).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_marker_replaces_old_one_and_keeps_others() {
        let q = Query::parse(Some("limit=2&marker=a&name=x%20y"));
        assert_eq!(q.with_marker("b"), "limit=2&name=x+y&marker=b");
    }

    #[test]
    fn limits() {
        assert_eq!(
            Query::parse(Some("limit=abc"))
                .limit(Shape::Compute)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            Query::parse(Some("limit=-1"))
                .limit(Shape::Compute)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            Query::parse(Some("limit=3")).limit(Shape::Compute).unwrap(),
            Some(3)
        );
        let (page, full) = compute_page(vec![1, 2, 3], Some(3));
        assert_eq!((page.len(), full), (3, true));
        let (page, full) = compute_page(vec![1, 2], Some(3));
        assert_eq!((page.len(), full), (2, false));
        let (page, full) = glance_page(vec![1, 2], Some(0));
        assert_eq!((page.len(), full), (0, false));
    }

    #[test]
    fn marker_filter() {
        let items = vec![5, 4, 3, 2, 1];
        assert_eq!(after_marker(items, |i| *i, Some(3)), vec![2, 1]);
    }
}
