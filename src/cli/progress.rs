//! Apply progress on stderr: a line per event, and bars for saving snapshots on a terminal.

use crate::engine::{Event, Reporter};
use crate::plan::Action;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

pub struct Progress {
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<crate::addr::InstanceAddr, ProgressBar>>,
}

impl Progress {
    pub fn new() -> Progress {
        let tty = std::io::stderr().is_terminal();
        Progress {
            multi: tty.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn line(&self, s: String) {
        let s = super::redact::text(&s);
        match &self.multi {
            Some(m) => {
                let _ = m.println(s);
            }
            None => eprintln!("{s}"),
        }
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
            }
            Event::Progress { address, percent } => {
                if let Some(m) = &self.multi {
                    let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
                    let bar = bars.entry(address.clone()).or_insert_with(|| {
                        let b = m.add(ProgressBar::new(100));
                        b.set_style(
                            ProgressStyle::with_template("{msg} [{bar:30}] {pos}%")
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
                if let Some(b) = self
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
                if let Some(b) = self
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
                self.line(format!("{address}: skipped because {because}"));
            }
        }
    }
}
