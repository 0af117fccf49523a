//! The one place the AWS SDK configuration is made: the standard chain of
//! region, credentials and endpoints (AWS_REGION, AWS_ENDPOINT_URL, profiles),
//! with `--region` on top.

use crate::model::AssumedRole;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::config::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use aws_smithy_types::retry::RetryConfig;
use secrecy::ExposeSecret;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AwsConfigError {
    #[error(
        "no AWS Region is set: pass --region, or set AWS_REGION (the Region of the Lambda \
         functions and their ECR repository)"
    )]
    NoRegion,
    #[error(
        "ECR has no FIPS endpoints that Lambda can pull from: unset AWS_USE_FIPS_ENDPOINT for \
         lambda-ship"
    )]
    Fips,
}

/// The configuration from the standard chain. Every attempt of every call is
/// bounded by `timeout`, and a connection by 10 s; throttling and 5xx answers
/// are retried by the SDK's standard retry.
pub async fn sdk_config(
    region: Option<&str>,
    timeout: Duration,
) -> Result<SdkConfig, AwsConfigError> {
    load(region, None, timeout).await
}

/// The same configuration with the credentials of an assumed role.
pub async fn sdk_config_with(
    region: Option<&str>,
    role: &AssumedRole,
    timeout: Duration,
) -> Result<SdkConfig, AwsConfigError> {
    let credentials = Credentials::new(
        role.access_key_id.clone(),
        role.secret_access_key.expose_secret().to_string(),
        Some(role.session_token.expose_secret().to_string()),
        role.expiration,
        "lambda-ship-web-identity",
    );
    load(region, Some(credentials), timeout).await
}

/// The standard chain as it is, with or without a Region: where `local
/// --credentials` takes the credentials it gives a function.
pub async fn standard_chain(timeout: Duration) -> SdkConfig {
    loader(timeout).load().await
}

fn loader(timeout: Duration) -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(timeout)
            .build(),
    )
}

async fn load(
    region: Option<&str>,
    credentials: Option<Credentials>,
    timeout: Duration,
) -> Result<SdkConfig, AwsConfigError> {
    let mut loader = loader(timeout);
    if let Some(credentials) = credentials {
        loader = loader.credentials_provider(credentials);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(AwsConfigError::NoRegion);
    }
    if sdk.use_fips() == Some(true) {
        return Err(AwsConfigError::Fips);
    }
    Ok(sdk)
}

/// Where the AWS calls of a run go, and how long one attempt may take: what
/// an error message needs to tell the user what to check.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// `AWS_ENDPOINT_URL`, or the Region the SDK resolves endpoints in.
    pub endpoint: String,
    pub attempt_timeout: Option<Duration>,
}

impl CallContext {
    pub fn of(sdk: &SdkConfig) -> Self {
        CallContext {
            endpoint: match sdk.endpoint_url() {
                Some(url) => url.to_string(),
                None => format!(
                    "the AWS endpoints of {}",
                    sdk.region().map_or("no Region", |r| r.as_ref())
                ),
            },
            attempt_timeout: sdk
                .timeout_config()
                .and_then(|t| t.operation_attempt_timeout()),
        }
    }

    /// An SDK error as a person reads it: the service's code and message, or
    /// for a call that never got an answer, where it went and what to check.
    /// Never the SDK's debug rendering.
    pub fn describe<E>(&self, error: &SdkError<E, HttpResponse>) -> String
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        match error {
            SdkError::ServiceError(e) => {
                let status = e.raw().status().as_u16();
                match (e.err().code(), e.err().message()) {
                    (Some(code), Some(message)) => format!("{code}: {message}"),
                    (Some(code), None) => format!("{code} (HTTP {status})"),
                    _ => format!("HTTP {status} without an error code"),
                }
            }
            SdkError::TimeoutError(_) => format!(
                "no answer from {}: timed out after {} on every attempt (--aws-timeout); check \
                 AWS_ENDPOINT_URL, the Region and the network",
                self.endpoint,
                self.attempt_timeout
                    .map_or("the time limit".to_string(), |t| format!(
                        "{} s",
                        t.as_secs()
                    ))
            ),
            SdkError::DispatchFailure(e) => {
                let cause = innermost(e.as_connector_error().map(|c| c as &dyn std::error::Error));
                let what = if e.is_timeout() {
                    "timed out connecting"
                } else {
                    "cannot connect"
                };
                format!(
                    "{what} to {}: {cause}; check AWS_ENDPOINT_URL, the Region (--region or \
                     AWS_REGION) and the network",
                    self.endpoint
                )
            }
            SdkError::ResponseError(e) => format!(
                "the answer from {} could not be read (HTTP {}): {}",
                self.endpoint,
                e.raw().status().as_u16(),
                innermost(Some(error as &dyn std::error::Error))
            ),
            SdkError::ConstructionFailure(_) => format!(
                "the request could not be made: {}",
                innermost(Some(error as &dyn std::error::Error))
            ),
            _ => innermost(Some(error as &dyn std::error::Error)),
        }
    }
}

/// An error and its causes as a person reads them: the innermost one.
pub fn plain_error(error: &(dyn std::error::Error + 'static)) -> String {
    innermost(Some(error))
}

/// The last error of a chain of sources: the one that says what happened
/// ("Connection refused (os error 111)"), not how the layers wrapped it.
fn innermost(error: Option<&dyn std::error::Error>) -> String {
    let Some(mut e) = error else {
        return "no reason given".to_string();
    };
    while let Some(source) = e.source() {
        e = source;
    }
    e.to_string()
}

/// Says on stderr when an AWS call is tried again, and why the last attempt
/// failed, so a slow or unreachable endpoint is never silence.
#[derive(Debug, Default)]
pub struct RetryNotice;

#[derive(Debug, Clone)]
struct LastFailure(String);

impl Storable for LastFailure {
    type Storer = StoreReplace<Self>;
}

impl Intercept for RetryNotice {
    fn name(&self) -> &'static str {
        "lambda-ship retry notice"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(Err(e)) = context.output_or_error() {
            let why = if let Some(response) = context.response() {
                format!("HTTP {}", response.status().as_u16())
            } else if e.is_timeout_error() {
                match cfg
                    .load::<TimeoutConfig>()
                    .and_then(|t| t.operation_attempt_timeout())
                {
                    Some(t) => format!("no answer, timed out after {} s", t.as_secs()),
                    None => "no answer in time".to_string(),
                }
            } else {
                innermost(Some(e as &dyn std::error::Error))
            };
            cfg.interceptor_state().store_put(LastFailure(why));
        }
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        if attempt > 1 {
            let operation = cfg.load::<Metadata>().map_or_else(
                || "an AWS call".to_string(),
                |m| format!("{} {}", m.service(), m.name()),
            );
            let max = cfg.load::<RetryConfig>().map_or(0, |r| r.max_attempts());
            let why = cfg
                .load::<LastFailure>()
                .map_or_else(String::new, |f| format!(" after {}", f.0));
            crate::progress::notice(&format!(
                "{operation}: trying again{why} (attempt {attempt} of {max})"
            ));
        }
        Ok(())
    }
}

/// The Lambda client of a run, which says when it tries a call again.
pub fn lambda_client(sdk: &SdkConfig) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(sdk)
            .interceptor(RetryNotice)
            .build(),
    )
}

/// The ECR client of a run, which says when it tries a call again.
pub fn ecr_client(sdk: &SdkConfig) -> aws_sdk_ecr::Client {
    aws_sdk_ecr::Client::from_conf(
        aws_sdk_ecr::config::Builder::from(sdk)
            .interceptor(RetryNotice)
            .build(),
    )
}

/// The STS client of a run, which says when it tries a call again.
pub fn sts_client(sdk: &SdkConfig) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(sdk)
            .interceptor(RetryNotice)
            .build(),
    )
}

/// The KMS client of a run, which says when it tries a call again.
pub fn kms_client(sdk: &SdkConfig) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::config::Builder::from(sdk)
            .interceptor(RetryNotice)
            .build(),
    )
}
