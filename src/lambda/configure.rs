//! A function's configuration brought to what is asked: only what differs
//! is sent (UpdateFunctionConfiguration), waited on until live, before the
//! code changes. A new function gets it with CreateFunction (`create.rs`).

use super::client::{Lambda, while_in_progress};
use super::{FunctionSpec, Guard, StepError};
use crate::model::{ImageOverrides, LocalSettings};
use crate::settings::Field;
use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError;
use aws_sdk_lambda::types::{Environment, EphemeralStorage, ImageConfig};
use std::time::Instant;

/// The function's environment as Lambda takes it.
pub(super) fn environment(settings: &LocalSettings) -> Environment {
    Environment::builder()
        .set_variables(Some(
            settings
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
        .build()
}

/// The function's `ImageConfig` as Lambda takes it.
pub(super) fn image_config(image: &ImageOverrides) -> ImageConfig {
    ImageConfig::builder()
        .set_entry_point(image.entry_point.clone())
        .set_command(image.command.clone())
        .set_working_directory(image.working_directory.clone())
        .build()
}

pub(super) fn ephemeral_storage(mb: u64) -> Option<EphemeralStorage> {
    EphemeralStorage::builder()
        .size(i32::try_from(mb).unwrap_or(i32::MAX))
        .build()
        .ok()
}

pub(super) fn int(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

impl Lambda {
    /// Sends what differs from what is asked if the function is still as
    /// `guard` says, and waits until it is live. Returns the guard of the
    /// next write: its code is the same, its revision the new one.
    pub(super) async fn configure(
        &self,
        spec: &FunctionSpec,
        guard: Guard,
        deadline: Instant,
    ) -> Result<Guard, StepError> {
        let fields: std::collections::BTreeSet<Field> =
            spec.changes.iter().map(|c| c.field()).collect();
        if fields.is_empty() {
            return Ok(guard);
        }
        (self.send_configuration(spec, &fields, guard.revision.clone(), deadline)).await?;
        let now = self.wait_until_updated(&spec.name, deadline).await?;
        Ok(Guard {
            revision: now.revision,
            code_sha256: guard.code_sha256,
        })
    }
}

impl Lambda {
    /// UpdateFunctionConfiguration of `fields`, if the function is still at `revision`.
    async fn send_configuration(
        &self,
        spec: &FunctionSpec,
        fields: &std::collections::BTreeSet<Field>,
        revision: Option<String>,
        deadline: Instant,
    ) -> Result<(), StepError> {
        let next = &spec.local;
        let has = |f: Field| fields.contains(&f);
        while_in_progress(
            &self.calls,
            "UpdateFunctionConfiguration",
            deadline,
            |e: &UpdateFunctionConfigurationError| e.is_resource_conflict_exception(),
            || {
                let mut call = self
                    .client
                    .update_function_configuration()
                    .function_name(&spec.name);
                if has(Field::Memory) {
                    call = call.memory_size(int(next.memory_mb));
                }
                if has(Field::Timeout) {
                    call = call.timeout(int(next.timeout.as_secs()));
                }
                if has(Field::EphemeralStorage) {
                    call = call.set_ephemeral_storage(ephemeral_storage(next.ephemeral_storage_mb));
                }
                if has(Field::Environment) {
                    call = call.environment(environment(next));
                }
                if fields.iter().any(|f| f.is_image_config()) {
                    call = call.image_config(image_config(&next.image_config));
                }
                if has(Field::Description) {
                    call = call.set_description(spec.asked.description.clone());
                }
                call.set_revision_id(revision.clone()).send()
            },
        )
        .await
        .map(|_| ())
    }

    /// Keeps this deploy's numbers on the function, as its
    /// `lambda-ship:numbers` tag: the next change compares with them.
    pub(super) async fn keep_numbers(
        &self,
        name: &str,
        numbers: &crate::metrics::Numbers,
    ) -> Result<(), super::StepError> {
        self.tag(name, crate::metrics::NUMBERS_TAG, &numbers.to_tag())
            .await
    }
}
