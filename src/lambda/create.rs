//! A function created where none existed (`--execution-role`): a
//! container-image function of its architecture, running the image by
//! digest, waited on until it is active.

use super::update::{Lambda, architecture};
use super::{FunctionSpec, StepError};
use aws_sdk_lambda::types::{FunctionCode, PackageType, State};
use std::time::Instant;

impl Lambda {
    pub(super) async fn create(
        &self,
        plan: &FunctionSpec,
        image_uri: &str,
        role: &str,
        deadline: Instant,
    ) -> Result<(), StepError> {
        self.client
            .create_function()
            .function_name(&plan.name)
            .package_type(PackageType::Image)
            .code(FunctionCode::builder().image_uri(image_uri).build())
            .architectures(architecture(plan.arch))
            .role(role)
            .send()
            .await
            .map_err(|e| StepError::Call {
                operation: "CreateFunction",
                message: self.calls.describe(&e),
            })?;
        self.poll_until(&plan.name, deadline, |config| match config.state() {
            Some(State::Active) | None => Some(Ok(())),
            Some(State::Failed) => Some(Err(StepError::UpdateFailed(
                config
                    .state_reason()
                    .unwrap_or("the new function failed to become active")
                    .to_string(),
            ))),
            _ => None,
        })
        .await
    }
}
