//! Plan options and lifecycle rules applied to the planned changes: `--target`,
//! `--refresh-only`, `create_before_destroy` and `prevent_destroy`.

use super::{Action, Change, Options};
use crate::addr::Target;
use crate::config::{Config, Diagnostic};
use crate::graph::{Graph, Node};

/// What the options and lifecycle rules do to the planned changes: `--target` keeps only the
/// targets and what they depend on, `--refresh-only` turns every change into "record what the
/// cloud has", `create_before_destroy` orders replacements, and `prevent_destroy` refuses
/// destroying a protected resource.
pub(super) fn restrict(
    cfg: &Config,
    graph: &Graph,
    changes: &mut Vec<Change>,
    diags: &mut Vec<Diagnostic>,
    deferred: &mut Vec<Diagnostic>,
    opts: &Options,
) {
    if !opts.targets.is_empty() {
        // The targets, and (whole) the blocks they depend on.
        let mut keep: Vec<Target> = opts.targets.clone();
        for t in &opts.targets {
            keep.extend(
                graph
                    .object_deps(&Node::Object(t.block().clone()))
                    .into_iter()
                    .map(Target::Block),
            );
        }
        changes.retain(|c| keep.iter().any(|t| t.matches(&c.address)));
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
        let Some(block) = cfg.resources.get(&c.address.block) else {
            continue;
        };
        if c.action == Action::Replace {
            c.create_before_destroy = block.lifecycle.create_before_destroy;
        }
        // Judged on the final plan only: while data sources are unread, unknown arguments can
        // look like forced replacements.
        if block.lifecycle.prevent_destroy && matches!(c.action, Action::Delete | Action::Replace) {
            let out = if opts.validate_only {
                &mut *deferred
            } else {
                &mut *diags
            };
            out.push(Diagnostic::error(
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
