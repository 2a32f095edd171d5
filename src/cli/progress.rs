//! Apply progress on stderr: a line per event, bars (with elapsed time) for saving snapshots
//! on a terminal, and, as Terraform prints them, `addr: Still creating... [10s elapsed]` every
//! 10 seconds for each change still running, on a terminal and in plain output alike.

use crate::addr::InstanceAddr;
use crate::engine::{Event, Reporter};
use crate::plan::Action;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often a running change is reported (`SNAPFORM_PROGRESS_INTERVAL_MS` for tests).
fn interval() -> Duration {
    std::env::var("SNAPFORM_PROGRESS_INTERVAL_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(10))
}

struct Shared {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<InstanceAddr, ProgressBar>>,
    /// Changes running: when they started, what they do, how many reports were printed.
    running: Mutex<HashMap<InstanceAddr, (Instant, Action, u32)>>,
    done: AtomicBool,
}

pub struct Progress {
    shared: Arc<Shared>,
}

impl Shared {
    fn line(&self, s: String) {
        let s = super::redact::text(&s);
        match &self.multi {
            Some(m) => {
                let _ = m.println(s);
            }
            None => eprintln!("{s}"),
        }
    }

    /// Prints "Still …" for each change that has run another interval.
    fn tick(&self, every: Duration) {
        let mut due = Vec::new();
        {
            let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
            for (addr, (since, action, told)) in running.iter_mut() {
                let n = (since.elapsed().as_millis() / every.as_millis().max(1)) as u32;
                if n > *told {
                    *told = n;
                    due.push((addr.clone(), *action, since.elapsed()));
                }
            }
        }
        due.sort_by(|a, b| a.0.cmp(&b.0));
        for (addr, action, elapsed) in due {
            self.line(format!(
                "{addr}: Still {}... [{} elapsed]",
                verb(action).0.to_lowercase(),
                human(elapsed)
            ));
        }
    }
}

/// `1m20s`, `45s` (Terraform's elapsed format).
fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl Progress {
    pub fn new() -> Progress {
        let tty = std::io::stderr().is_terminal();
        let shared = Arc::new(Shared {
            multi: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            done: AtomicBool::new(false),
        });
        let every = interval();
        let weak = Arc::downgrade(&shared);
        std::thread::spawn(move || {
            let step = (every / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
            loop {
                std::thread::sleep(step);
                let Some(s) = weak.upgrade() else { return };
                if s.done.load(Ordering::Relaxed) {
                    return;
                }
                s.tick(every);
            }
        });
        Progress { shared }
    }

    fn line(&self, s: String) {
        self.shared.line(s);
    }

    fn settle(&self, address: &InstanceAddr) {
        self.shared
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(address);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.shared.done.store(true, Ordering::Relaxed);
    }
}

fn verb(a: Action) -> (&'static str, &'static str) {
    match a {
        Action::Create => ("Creating", "Creation"),
        Action::Update => ("Modifying", "Modifications"),
        Action::Replace => ("Replacing", "Replacement"),
        Action::Delete => ("Destroying", "Destruction"),
        Action::Read => ("Reading", "Read"),
        Action::NoOp => ("Checking", "Check"),
    }
}

impl Reporter for Progress {
    fn report(&self, e: Event) {
        match e {
            Event::Started { address, action } => {
                self.line(format!("{address}: {}...", verb(action).0));
                self.shared
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(address, (Instant::now(), action, 0));
            }
            Event::Progress { address, percent } => {
                if let Some(m) = &self.shared.multi {
                    let mut bars = self.shared.bars.lock().unwrap_or_else(|p| p.into_inner());
                    let bar = bars.entry(address.clone()).or_insert_with(|| {
                        let b = m.add(ProgressBar::new(100));
                        b.set_style(
                            ProgressStyle::with_template(
                                "{msg} [{bar:30}] {pos}% [{elapsed} elapsed]",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                        );
                        b.set_message(format!("{address}: saving snapshot"));
                        b
                    });
                    bar.set_position(percent as u64);
                } else {
                    self.line(format!("{address}: saving snapshot, {percent}%"));
                }
            }
            Event::Finished {
                address,
                action,
                id,
                elapsed,
            } => {
                self.settle(&address);
                if let Some(b) = self
                    .shared
                    .bars
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&address)
                {
                    b.finish_and_clear();
                }
                let id = id
                    .filter(|i| !i.is_empty() && action != Action::Delete)
                    .map(|i| format!(" [id={i}]"))
                    .unwrap_or_default();
                self.line(format!(
                    "{address}: {} complete after {:.1}s{id}",
                    verb(action).1,
                    elapsed.as_secs_f64()
                ));
            }
            Event::Failed { address, error } => {
                self.settle(&address);
                if let Some(b) = self
                    .shared
                    .bars
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&address)
                {
                    b.abandon();
                }
                self.line(format!("{address}: FAILED: {error}"));
            }
            Event::Skipped { address, because } => {
                self.settle(&address);
                self.line(format!("{address}: skipped because {because}"));
            }
        }
    }
}
