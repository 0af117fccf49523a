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

/// Whether Lambda refused a write because its precondition no longer holds:
/// the `RevisionId` sent is not the function's (or alias's) any more
/// (PreconditionFailedException), or the `CodeSha256` sent to PublishVersion
/// is not what `$LATEST` holds (InvalidParameterValueException naming it).
pub(super) fn is_precondition(e: &impl ProvideErrorMetadata) -> bool {
    match e.code() {
        Some("PreconditionFailedException") => true,
        Some("InvalidParameterValueException") => e
            .message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("codesha256")),
        _ => false,
    }
}

/// The error of a failed write: another deploy's write in between is told
/// apart, as `Precondition`, from any other failure.
pub(super) fn write_error<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    calls: &CallContext,
    operation: &'static str,
    e: &SdkError<E, HttpResponse>,
) -> StepError {
    if e.as_service_error().is_some_and(is_precondition) {
        StepError::Precondition { operation }
    } else {
        StepError::Call {
            operation,
            message: calls.describe(e),
        }
    }
}

/// The error of a create: what another deploy created since this run
/// found none (ResourceConflictException) is a `Precondition` too.
pub(super) fn create_error<E>(
    calls: &CallContext,
    operation: &'static str,
    e: &SdkError<E, HttpResponse>,
) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if e.as_service_error()
        .is_some_and(|s| s.code() == Some("ResourceConflictException"))
    {
        StepError::Precondition { operation }
    } else {
        write_error(calls, operation, e)
    }
}

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
    .map_err(|e| write_error(calls, what, &e))
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
    pub(super) async fn poll_until<T>(
        &self,
        name: &str,
        deadline: Instant,
        done: impl Fn(&FunctionConfiguration) -> Option<Result<T, StepError>>,
    ) -> Result<T, StepError> {
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
