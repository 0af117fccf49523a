//! A function's code changed by digest: UpdateFunctionCode, the wait until
//! the update is live, and the read-back that it runs what was asked.

use super::client::{Lambda, architecture, platform_of, while_in_progress};
use super::{Guard, StepError};
use crate::model::Platform;
use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError;
use aws_sdk_lambda::types::LastUpdateStatus;
use std::time::Instant;

/// Whether what a function runs (`image`, `archs`) is what was asked.
pub(super) fn live_matches(
    image: &str,
    archs: &[Platform],
    asked_image: &str,
    asked_arch: Platform,
) -> Result<(), StepError> {
    let digest = asked_image.rsplit_once('@').map_or(asked_image, |(_, d)| d);
    if !image.ends_with(digest) {
        return Err(StepError::NotLive(format!(
            "function runs {image}, not {asked_image}"
        )));
    }
    // A function with no architecture listed runs x86_64, Lambda's default.
    let live = archs.first().copied().unwrap_or(Platform::Amd64);
    if archs.len() > 1 || live != asked_arch {
        return Err(StepError::NotLive(format!(
            "function's architecture is {}, not {}: the update did not change it",
            live.lambda_arch(),
            asked_arch.lambda_arch()
        )));
    }
    Ok(())
}

impl Lambda {
    /// UpdateFunctionCode if the function is still at `revision`, waiting
    /// out an update already in progress. Returns the `CodeSha256` of the
    /// code it made: what this run may publish.
    pub(super) async fn update_code(
        &self,
        name: &str,
        image_uri: &str,
        arch: Platform,
        revision: Option<&str>,
        deadline: Instant,
    ) -> Result<Option<String>, StepError> {
        while_in_progress(
            &self.calls,
            "UpdateFunctionCode",
            deadline,
            |e: &UpdateFunctionCodeError| e.is_resource_conflict_exception(),
            || {
                self.client
                    .update_function_code()
                    .function_name(name)
                    .image_uri(image_uri)
                    .architectures(architecture(arch))
                    .set_revision_id(revision.map(str::to_string))
                    .send()
            },
        )
        .await
        .map(|out| out.code_sha256().map(str::to_string))
    }

    /// Reads the function after its update: it must run the image and the
    /// architecture asked for, or the deploy did not happen as reported.
    pub(super) async fn read_back(
        &self,
        name: &str,
        image_uri: &str,
        arch: Platform,
    ) -> Result<(), StepError> {
        let out = self
            .client
            .get_function()
            .function_name(name)
            .send()
            .await
            .map_err(|e| StepError::Call {
                operation: "GetFunction",
                message: self.calls.describe(&e),
            })?;
        let image = out.code().and_then(|c| c.image_uri()).unwrap_or_default();
        let archs: Vec<Platform> = out
            .configuration()
            .map(|c| c.architectures().iter().map(platform_of).collect())
            .unwrap_or_default();
        live_matches(image, &archs, image_uri, arch)
    }

    /// Polls until LastUpdateStatus is Successful; Failed gives its reason.
    /// Returns the function as it then is: the next write's precondition.
    pub(super) async fn wait_until_updated(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<Guard, StepError> {
        self.poll_until(name, deadline, |config| match config.last_update_status() {
            Some(LastUpdateStatus::Successful) | None => Some(Ok(Guard {
                revision: config.revision_id().map(str::to_string),
                code_sha256: config.code_sha256().map(str::to_string),
            })),
            Some(LastUpdateStatus::Failed) => Some(Err(StepError::UpdateFailed(
                config
                    .last_update_status_reason()
                    .unwrap_or("no reason given")
                    .to_string(),
            ))),
            _ => None,
        })
        .await
    }
}

#[cfg(test)]
#[path = "replay.rs"]
pub(crate) mod replay;
#[cfg(test)]
#[path = "update_tests.rs"]
mod update_tests;
