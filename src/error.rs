//! The errors a run ends with, and the exit code each gives: 2 for bad usage
//! or configuration (found before anything was changed), 1 for a stage that failed.

use crate::aws::AwsConfigError;
use crate::config::ConfigError;
use crate::farm::BuildError;
use crate::farm::context::ContextError;
use crate::farm::engine::EngineError;
use crate::farm::push::PushError;
use crate::identity::IdentityError;
use crate::lambda::PreflightError;
use crate::registry::TooLarge;
use crate::registry::ecr::EcrError;
use crate::registry::manifest::ManifestError;
use crate::report::ImageReport;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Aws(#[from] AwsConfigError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The flags ask for something the repository's state forbids.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Ecr(#[from] EcrError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    /// SIGINT or SIGTERM: the CI job was cancelled.
    #[error(
        "cancelled by {0}: the builds were stopped and nothing more was deployed; the report \
         says what state every function is in"
    )]
    Cancelled(String),
    /// SIGINT, SIGTERM or SIGHUP while `lambda-ship local` built or ran.
    #[error(
        "cancelled by {0}: the builds were stopped and every sandbox container of this run was \
         removed"
    )]
    LocalCancelled(String),
    /// One or more functions were not deployed as asked; the message says
    /// exactly which were updated and which were not.
    #[error("{0}")]
    Deploy(String),
    #[error(transparent)]
    Housekeeping(#[from] crate::lambda::housekeeping::HousekeepingError),
    #[error(transparent)]
    Rollback(#[from] crate::lambda::rollback::RollbackError),
    #[error(transparent)]
    CloudWatch(#[from] crate::cloudwatch::CloudWatchError),
    #[error(transparent)]
    Signing(#[from] crate::signing::SigningError),
    /// Cleanup or prune did part of its work: what it did is reported.
    #[error("{0}")]
    Incomplete(String),
    /// A deploy that stopped before any function was changed.
    #[error("{0}\nNothing was deployed.")]
    NotDeployed(Box<Error>),
    /// One or more images of `lambda-ship.toml` failed, each named.
    #[error("{}", images_message(.0))]
    Images(Vec<(String, Error)>),
    /// One or more platforms failed; the others' results are kept.
    #[error("{}", platforms_message(.failed, .done))]
    Platforms {
        failed: Vec<PlatformError>,
        done: Vec<ImageReport>,
    },
}

/// Why one platform's image did not make it.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    TooLarge(#[from] TooLarge),
    #[error(transparent)]
    Push(#[from] PushError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(
        "{}: the local smoke test failed: {}{}",
        .0.platform,
        .0.reason.as_deref().unwrap_or("no reason given"),
        output_tail(&.0.output)
    )]
    LocalSmoke(Box<crate::sandbox::LocalResult>),
    #[error(transparent)]
    Repository(EcrError),
    #[error("{0}: not pushed, because another architecture failed before its push")]
    Held(crate::model::Platform),
    #[error("{platform}: the build context could not be read to its end: {message}")]
    Inputs {
        platform: crate::model::Platform,
        message: String,
    },
}

impl PlatformError {
    pub fn is_config(&self) -> bool {
        matches!(self, PlatformError::Build(e) if e.is_config())
    }
}

fn output_tail(output: &str) -> String {
    let lines: Vec<&str> = output.lines().rev().take(10).collect();
    if lines.is_empty() {
        String::new()
    } else {
        let lines: Vec<&str> = lines.into_iter().rev().collect();
        format!("\nits last output:\n  {}", lines.join("\n  "))
    }
}

fn platforms_message(failed: &[PlatformError], done: &[ImageReport]) -> String {
    let mut lines: Vec<String> = failed.iter().map(ToString::to_string).collect();
    for image in done {
        lines.push(format!(
            "{} was pushed as {} ({}).",
            image.platform, image.image_uri, image.digest
        ));
    }
    lines.join("\n")
}

fn images_message(failed: &[(String, Error)]) -> String {
    let lines: Vec<String> = failed
        .iter()
        .map(|(name, e)| format!("image {name}: {e}"))
        .collect();
    lines.join("\n")
}

impl Error {
    /// A mistake in the input, found before anything was changed: the run
    /// stopped at its configuration, and exits 2.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::NotDeployed(e) => e.is_usage(),
            Error::Images(failed) => failed.iter().all(|(_, e)| e.is_usage()),
            // A Dockerfile that cannot be built as asked is a mistake in the
            // input, found before anything was pushed.
            Error::Platforms { failed, done } => {
                failed.iter().all(PlatformError::is_config) && done.iter().all(|d| d.reused)
            }
            Error::Config(_)
            | Error::Aws(_)
            | Error::Context(_)
            | Error::Engine(_)
            | Error::Conflict(_) => true,
            Error::Identity(e) => e.is_config(),
            Error::Rollback(e) => e.is_config(),
            Error::Preflight(e) => e.is_config(),
            Error::Signing(e) => e.is_config(),
            Error::Housekeeping(e) => {
                matches!(
                    e,
                    crate::lambda::housekeeping::HousekeepingError::NoFunction(_)
                )
            }
            Error::Ecr(_)
            | Error::Manifest(_)
            | Error::Deploy(_)
            | Error::CloudWatch(_)
            | Error::Incomplete(_)
            | Error::Cancelled(_)
            | Error::LocalCancelled(_) => false,
        }
    }

    /// 2 for bad usage or configuration, 1 for a stage that failed.
    pub fn exit_code(&self) -> u8 {
        if self.is_usage() { 2 } else { 1 }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod error_tests;
