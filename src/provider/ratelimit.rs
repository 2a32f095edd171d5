//! Client-side rate limiting: one `governor` limiter per (endpoint host, verb class), so that
//! snapform paces itself below the cloud's limits (REFERENCE §1.6) instead of running into
//! 413s and sleeping out `Retry-After`.
//!
//! A cloud limit "N per window" (Repose counts a sliding window) is never exceeded by a GCRA
//! limiter of burst `B` and period `T` when `B + floor(W / T) <= N`. We take a small burst
//! (`B = max(1, N / 10)`, so a handful of calls start at once) and
//! `T = 1.1 × W / (N - B + 1)`: the 10 % slack absorbs the jitter between the moment we send
//! and the moment the cloud counts the request.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::Method;
use url::Url;

/// A rate: `requests` per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub per: Duration,
}

impl Rate {
    pub fn per_minute(requests: u32) -> Rate {
        Rate {
            requests,
            per: Duration::from_secs(60),
        }
    }

    /// Parses `100` (per minute), `100/min`, `3/s`, `5000/hour`, `10000/day`. `0` means
    /// "no limit" and gives `None`.
    pub fn parse(text: &str) -> Result<Option<Rate>, String> {
        let bad = || {
            format!("expected requests per minute (e.g. 100) or N/unit (e.g. 3/s), found {text:?}")
        };
        let (n, unit) = text.trim().split_once('/').unwrap_or((text.trim(), "min"));
        let requests: u32 = n
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.fract() == 0.0 && (0.0..=1e9).contains(f))
            .map(|f| f as u32)
            .ok_or_else(bad)?;
        let secs = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            "d" | "day" => 86_400,
            _ => return Err(bad()),
        };
        Ok((requests > 0).then(|| Rate {
            requests,
            per: Duration::from_secs(secs),
        }))
    }

    /// The GCRA quota that stays below this rate (see the module comment).
    fn quota(&self) -> Option<Quota> {
        let n = self.requests.max(1);
        let burst = (n / 10).max(1);
        let period = self.per.mul_f64(1.1) / (n - burst + 1);
        Quota::with_period(period)
            .map(|q| q.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)))
    }
}

/// Client-side limits; `None` = unlimited. REFERENCE §1.6 gives Rackspace's defaults
/// (GET 1000/min, POST 100/min); the library default is unlimited so that tests and tools
/// against the sandbox are never slowed; the CLI sets what a provider block asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// GET and HEAD.
    pub get: Option<Rate>,
    /// POST (createImage, metadata merges, schedules, tokens).
    pub post: Option<Rate>,
}

impl RateLimits {
    /// Rackspace's documented default account limits (REFERENCE §1.6).
    pub fn rackspace() -> RateLimits {
        RateLimits {
            get: Some(Rate::per_minute(1000)),
            post: Some(Rate::per_minute(100)),
        }
    }

    /// The limits of a provider block: `rate_limit_get` / `rate_limit_post` (requests per
    /// minute, or `N/unit`; `0` = unlimited). Unset, they default to Rackspace's account limits
    /// for a real cloud and to unlimited for an emulator on loopback (the sandbox).
    pub fn for_provider(
        get: Option<&str>,
        post: Option<&str>,
        auth_url: &str,
    ) -> Result<RateLimits, String> {
        let loopback = Url::parse(auth_url).ok().is_some_and(|u| match u.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        });
        let default = if loopback {
            RateLimits::default()
        } else {
            RateLimits::rackspace()
        };
        let read = |v: Option<&str>, name: &str, d: Option<Rate>| match v {
            Some(v) => Rate::parse(v).map_err(|e| format!("{name}: {e}")),
            None => Ok(d),
        };
        Ok(RateLimits {
            get: read(get, "rate_limit_get", default.get)?,
            post: read(post, "rate_limit_post", default.post)?,
        })
    }

    fn for_method(&self, method: &Method) -> Option<(&'static str, Rate)> {
        match *method {
            Method::GET | Method::HEAD => self.get.map(|r| ("GET", r)),
            Method::POST => self.post.map(|r| ("POST", r)),
            _ => None,
        }
    }
}

/// The limiters of one client, created on first use per (host:port, verb).
#[derive(Default)]
pub(crate) struct Limiters {
    limits: RateLimits,
    by_key: Mutex<HashMap<(String, &'static str), Arc<DefaultDirectRateLimiter>>>,
}

impl Limiters {
    pub fn new(limits: RateLimits) -> Limiters {
        Limiters {
            limits,
            by_key: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request `method url` may be sent. Returns at once when unlimited.
    pub async fn until_ready(&self, method: &Method, url: &Url) {
        let Some(limiter) = self.limiter(method, url) else {
            return;
        };
        limiter.until_ready().await;
    }

    fn limiter(&self, method: &Method, url: &Url) -> Option<Arc<DefaultDirectRateLimiter>> {
        let (verb, rate) = self.limits.for_method(method)?;
        let quota = rate.quota()?;
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut map = match self.by_key.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        Some(
            map.entry((host, verb))
                .or_insert_with(|| Arc::new(RateLimiter::direct(quota)))
                .clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_defaults() {
        let real = "https://identity.api.rackspacecloud.com/v2.0";
        let r = RateLimits::for_provider(None, None, real).unwrap();
        assert_eq!(r, RateLimits::rackspace());
        let r = RateLimits::for_provider(None, Some("0"), real).unwrap();
        assert_eq!(r.post, None);
        for lo in [
            "http://127.0.0.1:8900/v2.0",
            "http://localhost:1/v2.0",
            "http://[::1]:2/v3",
        ] {
            assert_eq!(
                RateLimits::for_provider(None, None, lo).unwrap(),
                RateLimits::default()
            );
        }
        let r = RateLimits::for_provider(Some("600"), Some("3/s"), "http://127.0.0.1:1").unwrap();
        assert_eq!(r.get, Some(Rate::per_minute(600)));
        assert!(
            RateLimits::for_provider(Some("x"), None, real)
                .unwrap_err()
                .contains("rate_limit_get")
        );
    }

    #[test]
    fn parses_rates() {
        assert_eq!(Rate::parse("100").unwrap(), Some(Rate::per_minute(100)));
        assert_eq!(Rate::parse("100/min").unwrap(), Some(Rate::per_minute(100)));
        assert_eq!(
            Rate::parse(" 3/s ").unwrap(),
            Some(Rate {
                requests: 3,
                per: Duration::from_secs(1)
            })
        );
        assert_eq!(Rate::parse("0").unwrap(), None);
        assert!(Rate::parse("fast").is_err());
        assert!(Rate::parse("3/week").is_err());
        assert!(Rate::parse("-1").is_err());
    }

    /// Over any window the limiter lets through at most the cloud's N.
    #[test]
    fn quota_never_exceeds_the_rate_in_a_window() {
        for n in [1u32, 2, 3, 7, 10, 60, 100, 1000] {
            let r = Rate::per_minute(n);
            let q = r.quota().unwrap();
            let burst = q.burst_size().get();
            let period = q.replenish_interval();
            let in_window = burst as u128 + r.per.as_nanos() / period.as_nanos();
            assert!(in_window <= n as u128, "{n}: {in_window}");
            // ...while using at least 80 % of it over a long run.
            assert!(period <= r.per.mul_f64(1.25) / n, "{n}: {period:?}");
        }
    }

    #[tokio::test]
    async fn unlimited_and_other_verbs_never_wait() {
        let l = Limiters::new(RateLimits {
            get: None,
            post: Some(Rate::per_minute(1)),
        });
        let url = Url::parse("http://127.0.0.1:1/x").unwrap();
        let t = std::time::Instant::now();
        for _ in 0..50 {
            l.until_ready(&Method::GET, &url).await;
            l.until_ready(&Method::DELETE, &url).await;
        }
        l.until_ready(&Method::POST, &url).await;
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(l.limiter(&Method::GET, &url).is_none());
        assert!(l.limiter(&Method::POST, &url).is_some());
    }
}
