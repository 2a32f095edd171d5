//! Plan options and lifecycle rules applied to the planned changes: `--target`,
//! `--refresh-only`, `create_before_destroy` and `prevent_destroy`.

use super::{Action, Change, Options};
use crate::config::{Config, Diagnostic};
use crate::graph::Graph;
use std::collections::BTreeSet;

/// What the options and lifecycle rules do to the planned changes: `--target` keeps only the
/// targets and what they depend on, `--refresh-only` turns every change into "record what the
/// cloud has", `create_before_destroy` orders replacements, and `prevent_destroy` refuses
/// destroying a protected resource.
pub(super) fn restrict(
    cfg: &Config,
    graph: &Graph,
    changes: &mut Vec<Change>,
    diags: &mut Vec<Diagnostic>,
    opts: &Options,
) {
    use crate::config::base_address;
    if !opts.targets.is_empty() {
        let mut keep: BTreeSet<String> = BTreeSet::new();
        for t in &opts.targets {
            keep.insert(t.clone());
            keep.insert(base_address(t).to_string());
            keep.extend(graph.object_deps(base_address(t)));
        }
        changes.retain(|c| keep.contains(&c.address) || keep.contains(base_address(&c.address)));
    }
    if opts.refresh_only {
        for c in changes.iter_mut() {
            if c.action == Action::Read {
                continue;
            }
            c.action = Action::NoOp;
            c.after = c.before.clone();
            c.reason = None;
        }
        changes.retain(|c| c.action != Action::Read);
    }
    for c in changes.iter_mut() {
        let Some(block) = cfg.resources.get(base_address(&c.address)) else {
            continue;
        };
        if c.action == Action::Replace {
            c.create_before_destroy = block.lifecycle.create_before_destroy;
        }
        // Judged on the final plan only: while data sources are unread, unknown arguments can
        // look like forced replacements.
        if block.lifecycle.prevent_destroy
            && !opts.validate_only
            && matches!(c.action, Action::Delete | Action::Replace)
        {
            diags.push(Diagnostic::error(
                format!(
                    "{} has lifecycle.prevent_destroy = true, but this plan would destroy it{}; remove prevent_destroy to allow it",
                    c.address,
                    c.reason
                        .as_deref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
                Some(block.span.clone()),
            ));
        }
    }
}
