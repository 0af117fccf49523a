//! A function's versions, alias and URL: a version published from what the
//! update made live, the alias moved to it once its smoke test passed, and
//! the URL of the function or its alias.

use super::client::{Lambda, create_error, while_in_progress};
use super::{Guard, StepError};
use crate::model::UrlAuth;
use crate::model::release::Served;
use aws_sdk_lambda::operation::publish_version::PublishVersionError;
use aws_sdk_lambda::types::FunctionUrlAuthType;
use std::time::Instant;

impl Lambda {
    /// A version of `$LATEST` if it still holds this run's code and nothing
    /// wrote since (`guard`): never another run's code, nor its
    /// configuration, under this run's note.
    pub(super) async fn publish(
        &self,
        name: &str,
        description: &str,
        guard: &Guard,
        deadline: Instant,
    ) -> Result<String, StepError> {
        let out = while_in_progress(
            &self.calls,
            "PublishVersion",
            deadline,
            |e: &PublishVersionError| e.is_resource_conflict_exception(),
            || {
                self.client
                    .publish_version()
                    .function_name(name)
                    .description(description)
                    .set_code_sha256(guard.code_sha256.clone())
                    .set_revision_id(guard.revision.clone())
                    .send()
            },
        )
        .await?;
        // Lambda checked it; a service that does not is caught here.
        if let (Some(asked), Some(published)) = (&guard.code_sha256, out.code_sha256())
            && asked != published
        {
            return Err(StepError::Precondition {
                operation: "PublishVersion",
            });
        }
        out.version()
            .map(str::to_string)
            .ok_or(StepError::NoVersion)
    }

    /// The alias wholly on `version`, its description recording what it
    /// served before: moved if it is still at the revision `exists` holds,
    /// created when it did not exist. Returns its new revision.
    pub(super) async fn point_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        served: &Served,
        exists: Option<Option<&str>>,
    ) -> Result<Option<String>, StepError> {
        if let Some(revision) = exists {
            return self
                .settle(name, alias, version, Some(served), revision)
                .await;
        }
        self.client
            .create_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .description(served.to_description())
            .send()
            .await
            .map(|out| out.revision_id().map(str::to_string))
            .map_err(|e| create_error(&self.calls, "CreateAlias", &e))
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

    /// Makes sure the function (or its alias) has a URL of `auth`, and for a
    /// public URL the two resource-policy statements it needs since October
    /// 2025: `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` (only
    /// through the URL), each added once. Returns the URL.
    pub(super) async fn ensure_url(
        &self,
        name: &str,
        alias: Option<&str>,
        auth: UrlAuth,
    ) -> Result<String, StepError> {
        let auth_type = match auth {
            UrlAuth::Public => FunctionUrlAuthType::None,
            UrlAuth::Iam => FunctionUrlAuthType::AwsIam,
        };
        let call = |operation: &'static str| {
            move |e: String| StepError::Call {
                operation,
                message: e,
            }
        };
        let qualifier = alias.map(str::to_string);
        let current = self
            .client
            .get_function_url_config()
            .function_name(name)
            .set_qualifier(qualifier.clone())
            .send()
            .await;
        let url = match current {
            Ok(out) if *out.auth_type() == auth_type => out.function_url().to_string(),
            Ok(_) => self
                .client
                .update_function_url_config()
                .function_name(name)
                .set_qualifier(qualifier.clone())
                .auth_type(auth_type.clone())
                .send()
                .await
                .map_err(|e| call("UpdateFunctionUrlConfig")(self.calls.describe(&e)))?
                .function_url()
                .to_string(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                self.client
                    .create_function_url_config()
                    .function_name(name)
                    .set_qualifier(qualifier.clone())
                    .auth_type(auth_type.clone())
                    .send()
                    .await
                    .map_err(|e| call("CreateFunctionUrlConfig")(self.calls.describe(&e)))?
                    .function_url()
                    .to_string()
            }
            Err(e) => return Err(call("GetFunctionUrlConfig")(self.calls.describe(&e))),
        };
        if auth == UrlAuth::Public {
            self.allow_public_url(name, qualifier).await?;
        }
        Ok(url)
    }

    /// The statements a public URL needs, added where the policy lacks them.
    async fn allow_public_url(
        &self,
        name: &str,
        qualifier: Option<String>,
    ) -> Result<(), StepError> {
        let policy = match self
            .client
            .get_policy()
            .function_name(name)
            .set_qualifier(qualifier.clone())
            .send()
            .await
        {
            Ok(out) => out.policy().unwrap_or_default().to_string(),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                String::new()
            }
            Err(e) => {
                return Err(StepError::Call {
                    operation: "GetPolicy",
                    message: self.calls.describe(&e),
                });
            }
        };
        for (sid, action) in [
            (PUBLIC_URL_SID, "lambda:InvokeFunctionUrl"),
            (PUBLIC_INVOKE_SID, "lambda:InvokeFunction"),
        ] {
            if policy.contains(&format!("\"{sid}\"")) {
                continue;
            }
            let mut request = self
                .client
                .add_permission()
                .function_name(name)
                .set_qualifier(qualifier.clone())
                .statement_id(sid)
                .action(action)
                .principal("*");
            request = if action == "lambda:InvokeFunctionUrl" {
                request.function_url_auth_type(FunctionUrlAuthType::None)
            } else {
                request.invoked_via_function_url(true)
            };
            request.send().await.map_err(|e| StepError::Call {
                operation: "AddPermission",
                message: self.calls.describe(&e),
            })?;
        }
        Ok(())
    }
}

/// The statement ids lambda-ship gives the public URL's permissions.
const PUBLIC_URL_SID: &str = "lambda-ship-public-url";
const PUBLIC_INVOKE_SID: &str = "lambda-ship-public-url-invoke";
