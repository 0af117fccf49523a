//! One module per command: its arguments made settings, the run, and what
//! it prints; `session.rs` the AWS session they open, and here how they
//! print a result.

pub mod build;
pub mod cleanup;
pub mod deploy;
pub mod history;
mod images;
pub mod local;
pub mod plan;
pub mod policy;
pub mod prune;
pub mod rollback;
mod rollout;
mod session;
pub mod verify;

pub(crate) use session::{aws_session, command_session};

use crate::cli::OutputFormat;

/// Prints a command's result on stdout: one JSON document, or its text.
pub(crate) fn print<T: serde::Serialize + ?Sized>(
    format: OutputFormat,
    value: &T,
    text: impl FnOnce() -> String,
) {
    match format {
        OutputFormat::Json => println!("{}", json(value)),
        OutputFormat::Text => print!("{}", text()),
    }
}

/// Pretty JSON; a value that cannot be written as JSON says so as JSON.
pub(crate) fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
