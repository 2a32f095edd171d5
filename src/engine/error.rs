//! The one error type of the engine: configuration diagnostics (rendered with their source
//! lines by the CLI) or a plain message that says what failed and why.

use crate::config::{Diagnostic, Sources};

/// An error that ends a command.
#[derive(Debug)]
pub enum Error {
    Diagnostics(Sources, Vec<Diagnostic>),
    Message(String),
}

impl Error {
    pub fn msg(m: impl Into<String>) -> Error {
        Error::Message(m.into())
    }
}

impl From<crate::state::StateError> for Error {
    fn from(e: crate::state::StateError) -> Self {
        Error::Message(e.to_string())
    }
}

impl From<crate::refresh::RefreshError> for Error {
    fn from(e: crate::refresh::RefreshError) -> Self {
        Error::Message(e.to_string())
    }
}
