//! A function's versions, alias and URL: a version published from what the
//! update made live, the alias moved to it once its smoke test passed, and
//! the URL of the function or its alias.

use super::StepError;
use super::update::{Lambda, while_in_progress};
use aws_sdk_lambda::operation::publish_version::PublishVersionError;
use std::time::Instant;

impl Lambda {
    pub(super) async fn publish(&self, name: &str, deadline: Instant) -> Result<String, StepError> {
        let out = while_in_progress(
            &self.calls,
            "PublishVersion",
            deadline,
            |e: &PublishVersionError| e.is_resource_conflict_exception(),
            || self.client.publish_version().function_name(name).send(),
        )
        .await?;
        out.version()
            .map(str::to_string)
            .ok_or(StepError::NoVersion)
    }

    pub(super) async fn alias_version(
        &self,
        name: &str,
        alias: &str,
    ) -> Result<Option<String>, StepError> {
        match self
            .client
            .get_alias()
            .function_name(name)
            .name(alias)
            .send()
            .await
        {
            Ok(out) => Ok(out.function_version().map(str::to_string)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(StepError::Call {
                operation: "GetAlias",
                message: self.calls.describe(&e),
            }),
        }
    }

    pub(super) async fn point_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
    ) -> Result<(), StepError> {
        let updated = self
            .client
            .update_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                self.client
                    .create_alias()
                    .function_name(name)
                    .name(alias)
                    .function_version(version)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| StepError::Call {
                        operation: "CreateAlias",
                        message: self.calls.describe(&e),
                    })
            }
            Err(e) => Err(StepError::Call {
                operation: "UpdateAlias",
                message: self.calls.describe(&e),
            }),
        }
    }

    pub(super) async fn function_url(
        &self,
        name: &str,
        alias: Option<&str>,
    ) -> Result<Option<String>, StepError> {
        let out = self
            .client
            .get_function_url_config()
            .function_name(name)
            .set_qualifier(alias.map(str::to_string))
            .send()
            .await;
        match out {
            Ok(out) => Ok(Some(out.function_url().to_string())),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(StepError::Call {
                operation: "GetFunctionUrlConfig",
                message: self.calls.describe(&e),
            }),
        }
    }
}
