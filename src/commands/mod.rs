//! One module per command: its arguments made settings, the run, and what
//! it prints. Everything below them is shared.

pub mod build;
pub mod deploy;
pub mod local;
pub mod plan;
pub mod policy;
