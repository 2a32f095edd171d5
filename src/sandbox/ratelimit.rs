//! Rate limits of the sandbox (`--rate-limit VERB=N/min`): a sliding window per verb, as
//! Repose enforces in front of Rackspace's API (REFERENCE §1.6).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// A `VERB=N/unit` rate limit with a sliding window.
#[derive(Debug, Clone)]
pub(crate) struct RateLimit {
    pub verb: String,
    pub value: u32,
    pub unit: &'static str,
    pub window: Duration,
    hits: VecDeque<Instant>,
}

impl RateLimit {
    /// Parses `GET=100/min`; units `s|sec|second`, `min|minute`, `h|hour`, `d|day`; verb `*` = all.
    pub fn parse(spec: &str) -> anyhow::Result<RateLimit> {
        let bad = || anyhow::anyhow!("rate limit must look like VERB=N/min, got {spec:?}");
        let (verb, rest) = spec.split_once('=').ok_or_else(bad)?;
        let (n, unit) = rest.split_once('/').unwrap_or((rest, "min"));
        let value: u32 = n.trim().parse().map_err(|_| bad())?;
        let (unit, secs) = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => ("SECOND", 1),
            "m" | "min" | "minute" => ("MINUTE", 60),
            "h" | "hour" => ("HOUR", 3600),
            "d" | "day" => ("DAY", 86400),
            _ => return Err(bad()),
        };
        let verb = verb.trim().to_ascii_uppercase();
        if verb.is_empty() || value == 0 {
            return Err(bad());
        }
        Ok(RateLimit {
            verb,
            value,
            unit,
            window: Duration::from_secs(secs),
            hits: VecDeque::new(),
        })
    }

    pub fn spec(&self) -> String {
        format!(
            "{}={}/{}",
            self.verb,
            self.value,
            self.unit.to_ascii_lowercase()
        )
    }

    pub fn applies(&self, verb: &str) -> bool {
        self.verb == "*" || self.verb == verb
    }

    pub fn expire(&mut self, now: Instant) {
        while let Some(front) = self.hits.front() {
            if now.duration_since(*front) >= self.window {
                self.hits.pop_front();
            } else {
                break;
            }
        }
    }

    /// Counts a call made at `now`.
    pub fn record(&mut self, now: Instant) {
        self.hits.push_back(now);
    }

    /// Remaining calls in the window and when the next call frees up.
    pub fn status(&mut self, now: Instant) -> (u32, Duration) {
        self.expire(now);
        let remaining = self.value.saturating_sub(self.hits.len() as u32);
        let wait = match self.hits.front() {
            Some(f) if remaining == 0 => self.window.saturating_sub(now.duration_since(*f)),
            _ => Duration::ZERO,
        };
        (remaining, wait)
    }
}
