//! snapform: declarative provisioning of cloud images, image metadata and scheduled images.
//!
//! Layers (see ARCHITECTURE.md): config → graph → plan → apply, with state, refresh, provider
//! (the only cloud HTTP client), sandbox (the emulator) and cli (the only code that prints).

pub mod addr;
pub mod apply;
pub mod cli;
pub mod config;
pub mod engine;
#[doc(hidden)]
pub mod fuzzing;
pub mod graph;
pub mod plan;
pub mod provider;
pub mod refresh;
pub mod resources;
pub mod sandbox;
pub mod state;
pub mod value;
