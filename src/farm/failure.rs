//! What a failed build is said as: a Dockerfile that cannot be built as
//! asked (a mistake in the input, exit 2), the step BuildKit marked with its
//! last lines, or the engine's own failure.

use super::Step;
use crate::model::Platform;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{platform}: step '{step}' failed: {message}{}", tail(.last_lines))]
    StepFailed {
        platform: Platform,
        step: String,
        message: String,
        last_lines: Vec<String>,
    },
    #[error("{platform}: the build on {engine} failed: {message}")]
    Engine {
        platform: Platform,
        engine: String,
        message: String,
    },
    /// The connection to the engine broke mid-build: another engine of the
    /// platform's pool may build it.
    #[error("{platform}: the build on {engine} failed: {message}")]
    EngineLost {
        platform: Platform,
        engine: String,
        message: String,
    },
    /// The Dockerfile or the build's flags are wrong: nothing was built.
    #[error(
        "{platform}: the Dockerfile cannot be built as asked: {message}. Fix the Dockerfile, \
         or --target (a stage the Dockerfile names with FROM ... AS NAME)"
    )]
    Dockerfile { platform: Platform, message: String },
    #[error(
        "{platform}: the image built is {os}/{arch}, not {platform}. Does the Dockerfile pin \
         another platform (FROM --platform=...)?"
    )]
    WrongPlatform {
        platform: Platform,
        os: String,
        arch: String,
    },
}

impl BuildError {
    /// A mistake in the Dockerfile or the flags, not in the build's work.
    pub fn is_config(&self) -> bool {
        matches!(self, BuildError::Dockerfile { .. })
    }
}

/// What BuildKit's Dockerfile frontend says when the Dockerfile cannot be
/// read or has no such target: found before any step runs. The frontend
/// only answers in words; these are its messages from BuildKit 0.8 (API 1.41)
/// to today.
fn dockerfile_mistake(message: &str) -> bool {
    // A command of the Dockerfile that failed is its step's failure, whatever
    // its own words (BuildKit quotes the command in the message).
    if message.contains("did not complete successfully") {
        return false;
    }
    [
        "dockerfile parse error",
        "failed to parse dockerfile",
        "unknown instruction",
        "failed to reach build target",
        "could not be found",
        "failed to parse stage name",
    ]
    .iter()
    .any(|m| message.to_ascii_lowercase().contains(m))
}

fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("\nlast output of that step:\n  {}", lines.join("\n  "))
    }
}

/// What a build that failed with `message` failed at: a Dockerfile that
/// cannot be built as asked, or the step BuildKit marked; None when it is
/// neither (the engine's own failure).
pub(super) fn classify_failure(
    platform: Platform,
    message: &str,
    failed: Option<&Step>,
) -> Option<BuildError> {
    if dockerfile_mistake(message) {
        return Some(BuildError::Dockerfile {
            platform,
            message: message
                .trim()
                .trim_start_matches("failed to solve: ")
                .trim_start_matches("failed to solve with frontend dockerfile.v0: ")
                .trim_start_matches("failed to create LLB definition: ")
                .to_string(),
        });
    }
    failed.map(|step| BuildError::StepFailed {
        platform,
        step: step.name.clone(),
        message: first_nonempty(message, &step.error),
        last_lines: step.lines.iter().cloned().collect(),
    })
}

fn first_nonempty(a: &str, b: &str) -> String {
    if a.trim().is_empty() { b } else { a }.trim().to_string()
}

#[cfg(test)]
#[path = "failure_tests.rs"]
mod tests;
