//! The calls that change a function: the code updated by digest and waited
//! on until live, read back, a version published and smoke-tested, the alias
//! moved only then, and the function URL found.

use super::smoke;
use super::{AliasReport, DeployJob, FunctionReport, Outcome, StepError};
use crate::aws::CallContext;
use crate::model::Platform;
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput as FunctionConfiguration;
use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError;
use aws_sdk_lambda::types::{Architecture, LastUpdateStatus};
use backon::Retryable;
use std::time::{Duration, Instant};

/// What a cancelled function deploy says: the alias never moves untested.
fn cancelled(why: &str, alias: Option<&str>, report: &FunctionReport) -> String {
    match (alias, &report.alias) {
        (Some(alias), Some(a)) => format!(
            "cancelled by {why} before its smoke test passed; the alias {alias} stays on {}",
            a.previous_version
                .as_deref()
                .unwrap_or("nothing (it was not created)")
        ),
        _ => format!("cancelled by {why}"),
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
    .map_err(|e| StepError::Call {
        operation: what,
        message: calls.describe(&e),
    })
}

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

    /// Deploys one function; failures are kept in the report, never thrown.
    pub async fn deploy(&self, job: DeployJob<'_>) -> FunctionReport {
        let started = Instant::now();
        let mut report = FunctionReport::not_updated(job.plan, "the deploy stopped before it");
        if let Err(e) = self.deploy_steps(&job, &mut report).await {
            report.outcome = report.outcome.failed(e.to_string());
        }
        report.update_seconds = started.elapsed().as_secs_f64();
        report
    }

    async fn deploy_steps(
        &self,
        job: &DeployJob<'_>,
        report: &mut FunctionReport,
    ) -> Result<(), StepError> {
        let name = &job.plan.name;
        let deadline = Instant::now() + job.wait_timeout;
        // A function that runs this very image is left as it is: an update
        // would only cost its users a cold start.
        if let Some(role) = &job.plan.create_with_role {
            self.create(job.plan, job.image_uri, role, deadline).await?;
            report.outcome = Outcome::Deployed;
            report.created = true;
            report.configured = job.plan.changes.iter().map(ToString::to_string).collect();
            report.image_after = Some(job.image_uri.to_string());
        } else if job.plan.image_before.as_deref() == Some(job.image_uri)
            && job.plan.arch == job.plan.arch_before
        {
            self.configure(job.plan, deadline).await?;
            report.configured = job.plan.changes.iter().map(ToString::to_string).collect();
            report.outcome = Outcome::Unchanged;
            report.image_after = Some(job.image_uri.to_string());
        } else {
            // The configuration first: the new code starts with what it needs.
            self.configure(job.plan, deadline).await?;
            report.configured = job.plan.changes.iter().map(ToString::to_string).collect();
            self.update_code(name, job.image_uri, job.plan.arch, deadline)
                .await?;
            report.outcome = Outcome::Deployed;
            report.image_after = Some(job.image_uri.to_string());
            self.wait_until_updated(name, deadline).await?;
            self.read_back(name, job.image_uri, job.plan.arch).await?;
        }

        let qualifier = match job.alias {
            Some(alias) => {
                let previous = self.alias_version(name, alias).await?;
                let version = self.publish(name, deadline).await?;
                report.version = Some(version.clone());
                report.alias = Some(AliasReport {
                    name: alias.to_string(),
                    previous_version: previous.clone(),
                    version: previous,
                    moved: false,
                });
                Some(version)
            }
            None => None,
        };

        if let Some(why) = job.cancel.reason() {
            return Err(StepError::Cancelled(cancelled(why, job.alias, report)));
        }
        if let Some(smoke) = job.smoke {
            let limit = job.plan.local.timeout + job.aws_timeout;
            let result = smoke::invoke(
                &self.client,
                &self.calls,
                name,
                qualifier.as_deref(),
                smoke,
                limit,
            )
            .await
            .map_err(StepError::SmokeCall)?;
            let reason = result.reason.clone();
            let numbers = crate::metrics::Numbers {
                size_bytes: job.size_bytes,
                ..result
                    .log_tail
                    .as_deref()
                    .map(crate::metrics::Numbers::from_log)
                    .unwrap_or_default()
            };
            if let Some(before) = &job.plan.baseline {
                report.warnings = crate::metrics::warnings(&numbers, before, &job.thresholds);
            }
            report.numbers = Some(numbers);
            report.smoke = Some(result);
            if let Some(reason) = reason {
                let kept = match (job.alias, &report.alias) {
                    (Some(alias), Some(a)) => format!(
                        "; the alias {alias} stays on {}",
                        a.previous_version
                            .as_deref()
                            .unwrap_or("nothing (it was not created)")
                    ),
                    _ => String::new(),
                };
                return Err(StepError::SmokeFailed { reason, kept });
            }
        }

        if let Some(why) = job.cancel.reason() {
            return Err(StepError::Cancelled(cancelled(why, job.alias, report)));
        }
        if let (Some(alias), Some(version)) = (job.alias, &qualifier) {
            self.point_alias(name, alias, version).await?;
            if let Some(a) = &mut report.alias {
                a.version = Some(version.clone());
                a.moved = true;
            }
        }
        report.url = match job.function_url {
            Some(auth) => Some(self.ensure_url(name, job.alias, auth).await?),
            None => self.function_url(name, job.alias).await?,
        };
        // Production's numbers, kept on the function for the next change
        // (and its previews) to compare with.
        if job.plan.preview_of.is_none()
            && let Some(numbers) = report.numbers.as_ref().filter(|n| !n.is_empty())
        {
            // Not worth failing a deploy that is live and tested.
            // What this run did not measure (a warm start has no init) stays.
            let kept = numbers.or(job.plan.baseline.as_ref());
            if let Err(e) = self.keep_numbers(name, &kept).await {
                report
                    .warnings
                    .push(format!("the numbers were not kept on the function: {e}"));
            }
        }
        Ok(())
    }

    /// UpdateFunctionCode, waiting out an update already in progress.
    async fn update_code(
        &self,
        name: &str,
        image_uri: &str,
        arch: Platform,
        deadline: Instant,
    ) -> Result<(), StepError> {
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
                    .send()
            },
        )
        .await
        .map(|_| ())
    }

    /// Reads the function after its update: it must run the image and the
    /// architecture asked for, or the deploy did not happen as reported.
    async fn read_back(
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
    pub(super) async fn wait_until_updated(
        &self,
        name: &str,
        deadline: Instant,
    ) -> Result<(), StepError> {
        self.poll_until(name, deadline, |config| match config.last_update_status() {
            Some(LastUpdateStatus::Successful) | None => Some(Ok(())),
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

#[cfg(test)]
#[path = "replay.rs"]
pub(super) mod replay;
#[cfg(test)]
#[path = "update_tests.rs"]
mod update_tests;
