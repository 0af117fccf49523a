//! A function created where none existed (`--execution-role`): a
//! container-image function of its architecture, running the image by
//! digest, waited on until it is active.

use super::client::{Lambda, architecture, create_error};
use super::configure::{environment, ephemeral_storage, image_config, int};
use super::{FunctionSpec, Guard, StepError};
use aws_sdk_lambda::types::{FunctionCode, PackageType, State, VpcConfig};
use std::time::Instant;

impl Lambda {
    /// Returns the new function's guard: its code is this run's.
    pub(super) async fn create(
        &self,
        spec: &FunctionSpec,
        image_uri: &str,
        role: &str,
        deadline: Instant,
    ) -> Result<Guard, StepError> {
        let (asked, next) = (&spec.asked, &spec.local);
        let image_asked = asked.image_command.is_some()
            || asked.image_entrypoint.is_some()
            || asked.image_workdir.is_some();
        let created = self
            .client
            .create_function()
            .function_name(&spec.name)
            .package_type(PackageType::Image)
            .code(FunctionCode::builder().image_uri(image_uri).build())
            .architectures(architecture(spec.arch))
            .role(role)
            .set_memory_size(asked.memory.map(|_| int(next.memory_mb)))
            .set_timeout(asked.timeout.map(|_| int(next.timeout.as_secs())))
            .set_ephemeral_storage(
                asked
                    .ephemeral_storage
                    .and_then(|_| ephemeral_storage(next.ephemeral_storage_mb)),
            )
            .set_environment((!next.environment.is_empty()).then(|| environment(next)))
            .set_image_config(image_asked.then(|| image_config(&next.image_config)))
            .set_description(asked.description.clone())
            .set_tags((!spec.tags.is_empty()).then(|| spec.tags.clone().into_iter().collect()))
            .set_vpc_config(spec.vpc.as_ref().map(|(subnets, groups)| {
                VpcConfig::builder()
                    .set_subnet_ids(Some(subnets.clone()))
                    .set_security_group_ids(Some(groups.clone()))
                    .build()
            }))
            .send()
            .await
            .map_err(|e| create_error(&self.calls, "CreateFunction", &e))?;
        self.poll_until(&spec.name, deadline, |config| match config.state() {
            Some(State::Active) | None => Some(Ok(config.revision_id().map(str::to_string))),
            Some(State::Failed) => Some(Err(StepError::UpdateFailed(
                config
                    .state_reason()
                    .unwrap_or("the new function failed to become active")
                    .to_string(),
            ))),
            _ => None,
        })
        .await
        .map(|revision| Guard {
            revision,
            code_sha256: created.code_sha256().map(str::to_string),
        })
    }
}
