//! The Lambda client of a run, and the two ways every call of it waits:
//! sent again while an update of the function is in progress, and the
//! function's configuration read until it reaches a state.

use super::StepError;
use crate::aws::CallContext;
use crate::model::Platform;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput as FunctionConfiguration;
use aws_sdk_lambda::types::Architecture;
use backon::Retryable;
use std::time::{Duration, Instant};

/// Sends `op` again while Lambda refuses it because an update of the function
/// is in progress (ResourceConflictException), with a backoff, until `deadline`.
pub(super) async fn while_in_progress<T, E, F, Fut>(
    calls: &CallContext,
    what: &'static str,
    deadline: Instant,
    in_progress: impl Fn(&E) -> bool,
    op: F,
) -> Result<T, StepError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    op.retry(crate::retry::until(
        Duration::from_millis(250),
        Duration::from_secs(5),
    ))
    .when(|e| e.as_service_error().is_some_and(&in_progress))
    .adjust(crate::retry::before(deadline))
    .await
    .map_err(|e| StepError::Call {
        operation: what,
        message: calls.describe(&e),
    })
}

pub struct Lambda {
    pub(super) client: aws_sdk_lambda::Client,
    pub(super) calls: CallContext,
    /// The run's Region: the functions' and the local sandbox's.
    pub(super) region: String,
}

pub(super) fn platform_of(arch: &Architecture) -> Platform {
    match arch {
        Architecture::Arm64 => Platform::Arm64,
        _ => Platform::Amd64,
    }
}

pub(super) fn architecture(platform: Platform) -> Architecture {
    match platform {
        Platform::Amd64 => Architecture::X8664,
        Platform::Arm64 => Architecture::Arm64,
    }
}

impl Lambda {
    /// A Lambda of a client made elsewhere: the SDK's own test clients.
    pub fn from_client(client: aws_sdk_lambda::Client, region: &str) -> Self {
        Lambda {
            client,
            calls: CallContext {
                endpoint: "the Lambda endpoint".to_string(),
                attempt_timeout: None,
            },
            region: region.to_string(),
        }
    }

    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Lambda {
            client: crate::aws::lambda_client(sdk),
            calls: CallContext::of(sdk),
            region: sdk
                .region()
                .map_or_else(|| "us-east-1".to_string(), ToString::to_string),
        }
    }

    /// The run's Region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// Reads the function's configuration, from 200 ms apart with a backoff,
    /// until `done` has an answer, or the deadline passes.
    pub(super) async fn poll_until(
        &self,
        name: &str,
        deadline: Instant,
        done: impl Fn(&FunctionConfiguration) -> Option<Result<(), StepError>>,
    ) -> Result<(), StepError> {
        // Not there yet is an error for backon, the answer is the value.
        let read = || async {
            let config = self
                .client
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .map_err(|e| {
                    Some(StepError::Call {
                        operation: "GetFunctionConfiguration",
                        message: self.calls.describe(&e),
                    })
                })?;
            done(&config).ok_or(None)
        };
        read.retry(crate::retry::until(
            Duration::from_millis(200),
            Duration::from_secs(3),
        ))
        .when(Option::is_none)
        .adjust(crate::retry::before(deadline))
        .await
        .unwrap_or_else(|e| Err(e.unwrap_or(StepError::WaitTimeout)))
    }
}
