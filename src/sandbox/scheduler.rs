//! The scheduled-images service of the sandbox: when its clock passes a schedule's next run,
//! it snapshots the server (named `Daily-…` / `Weekly-…`, carrying the culling marker) and, once
//! such a snapshot is active, culls the server's marked snapshots beyond the retention
//! (REFERENCE §5.4). Time passes on every authenticated call and through the control API.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, Utc};

use super::app::App;
use super::snapshot::{self, MARKER_KEY, MARKER_VALUE, SnapshotSpec, has_marker};
use super::store::{Data, Schedule};

pub(crate) const DAYS: [&str; 7] = [
    "SUNDAY",
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
];
/// At most this many runs of one schedule are emulated per tick; older ones are skipped
/// (they would have been culled anyway unless the retention is larger).
const MAX_RUNS_PER_TICK: i64 = 1000;

fn period(s: &Schedule) -> Duration {
    if s.day_of_week.is_some() {
        Duration::days(7)
    } else {
        Duration::days(1)
    }
}

/// First run after `from`: a day later (daily), or the next matching weekday at the same
/// time of day, never the same day (weekly).
pub(crate) fn first_run(from: DateTime<Utc>, day: Option<&str>) -> DateTime<Utc> {
    let Some(day) = day else {
        return from + Duration::days(1);
    };
    let target = DAYS.iter().position(|d| *d == day).unwrap_or(0) as i64;
    let current = from.weekday().num_days_from_sunday() as i64;
    let mut delta = (target - current).rem_euclid(7);
    if delta == 0 {
        delta = 7;
    }
    from + Duration::days(delta)
}

/// `Daily-<server name>-<epoch>`, the server name cut so the whole fits in 255 characters.
fn snapshot_name(prefix: &str, server: &str, at: DateTime<Utc>) -> String {
    let epoch = at.timestamp().to_string();
    let room = 255usize.saturating_sub(epoch.len() + prefix.len() + 2);
    let cut: String = server.chars().take(room).collect();
    format!("{prefix}-{cut}-{epoch}")
}

/// Runs every scheduled snapshot that is due by the sandbox clock, finishes snapshots whose
/// time has come, and culls after each scheduled snapshot that became active.
/// Returns (snapshots created, images culled).
pub(crate) fn run_due(app: &App, data: &mut Data) -> (usize, usize) {
    let now = data.now();
    let mut created = 0;
    for idx in 0..data.servers().len() {
        let Some(sched) = data.servers()[idx].schedule.clone() else {
            continue;
        };
        let step = period(&sched);
        let mut next = sched.next_run;
        if next > now {
            continue;
        }
        let behind = (now - next).num_seconds() / step.num_seconds().max(1) + 1;
        if behind > MAX_RUNS_PER_TICK {
            next += step * (behind - MAX_RUNS_PER_TICK) as i32;
        }
        let mut runs = Vec::new();
        while next <= now && (runs.len() as i64) < MAX_RUNS_PER_TICK {
            runs.push(next);
            next += step;
        }
        if let Some(s) = data.server_index_mut(idx).and_then(|s| s.schedule.as_mut()) {
            s.next_run = next;
        }
        let (region, server_id, name) = {
            let s = &data.servers()[idx];
            (s.region.clone(), s.id.clone(), s.name.clone())
        };
        let prefix = if sched.day_of_week.is_some() {
            "Weekly"
        } else {
            "Daily"
        };
        for at in runs {
            let (seconds, fail) = app.next_snapshot_plan();
            let spec = SnapshotSpec {
                id: uuid::Uuid::new_v4().to_string(),
                name: snapshot_name(prefix, &name, at),
                metadata: BTreeMap::from([(MARKER_KEY.to_string(), MARKER_VALUE.to_string())]),
                tenant: sched.tenant.clone(),
                user_id: sched.user_id.clone(),
                created: at,
                duration_secs: seconds,
                fail,
            };
            if let Some(img) = snapshot::build(data, &region, &server_id, spec) {
                data.push_image(img);
                created += 1;
            }
        }
    }
    let activated = data.settle(now);
    let mut culled = 0;
    let mut done: Vec<String> = Vec::new();
    for n in activated {
        let Some(img) = data.images().get(n) else {
            continue;
        };
        let (Some(server_id), true) = (img.server_id.clone(), has_marker(img)) else {
            continue;
        };
        if done.contains(&server_id) {
            continue;
        }
        let region = img.region.clone();
        let Some(retention) = data
            .server(&region, &server_id)
            .and_then(|s| s.schedule.as_ref())
            .map(|s| s.retention)
        else {
            continue;
        };
        culled += cull(data, &server_id, retention as usize, now);
        done.push(server_id);
    }
    (created, culled)
}

/// Deletes the scheduled snapshots of a server beyond the newest `retention` (images whose
/// marker was removed are never counted nor culled).
fn cull(data: &mut Data, server_id: &str, retention: usize, now: DateTime<Utc>) -> usize {
    let mut marked: Vec<(DateTime<Utc>, u64, usize)> = data
        .images()
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            i.server_id.as_deref() == Some(server_id)
                && has_marker(i)
                && !i.is_deleted()
                && i.status != "killed"
        })
        .map(|(n, i)| (i.created, i.seq, n))
        .collect();
    marked.sort_by_key(|m| std::cmp::Reverse((m.0, m.1)));
    let mut culled = 0;
    for (_, _, n) in marked.into_iter().skip(retention) {
        if let Some(img) = data.image_index_mut(n) {
            img.status = "deleted".into();
            img.ready_at = None;
            img.updated = now;
            culled += 1;
        }
    }
    culled
}

/// Lets time pass: runs due scheduled snapshots, finishes snapshots, culls, persists if
/// anything was created or deleted. Returns (created, culled).
pub(crate) fn tick(app: &App) -> (usize, usize) {
    let mut store = app.store();
    let outcome = run_due(app, &mut store.data);
    if outcome.0 > 0 || outcome.1 > 0 {
        store.commit();
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::clock::at;

    #[test]
    fn weekly_first_run_is_next_matching_day() {
        let sat = at("2015-07-11T08:00:00Z"); // a Saturday
        assert_eq!(first_run(sat, Some("SATURDAY")), at("2015-07-18T08:00:00Z"));
        assert_eq!(first_run(sat, Some("MONDAY")), at("2015-07-13T08:00:00Z"));
        assert_eq!(first_run(sat, None), at("2015-07-12T08:00:00Z"));
    }

    #[test]
    fn names_fit_in_255() {
        let long = "x".repeat(400);
        let n = snapshot_name("Weekly", &long, at("2015-07-09T10:18:03Z"));
        assert_eq!(n.chars().count(), 255);
        assert!(n.starts_with("Weekly-xxx") && n.ends_with("-1436437083"));
    }
}
