//! The configuration layer: `*.snap.hcl` sources → a validated `Config` model, and the pure
//! evaluator of its expressions.
//!
//! Architecture Invariant: no I/O here. The CLI reads files into `Sources`; this layer only parses,
//! checks and evaluates. Loading never fails: it returns what it could build *and* the diagnostics.

pub mod backend;
mod blocks;
pub mod diag;
pub mod eval;
pub mod funcs;
pub mod generate;
mod model;
mod objects;
mod parse;
pub mod refs;
mod scan;
pub mod schema;
pub mod suggest;
pub mod vars;
pub mod version;

pub use diag::{Diagnostic, Diags, Severity, SourceFile, Sources, Span};
pub use model::*;
pub use refs::Reference;

/// Parses and checks the structure of every source file. Returns the model built so far and
/// every problem found (all of them, not only the first).
pub fn load(sources: Sources) -> (Config, Vec<Diagnostic>) {
    parse::load(sources)
}
