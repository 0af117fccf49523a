//! The one place the AWS SDK configuration is made: the standard chain of
//! region, credentials and endpoints (AWS_REGION, AWS_ENDPOINT_URL, profiles),
//! with `--region` on top.

use crate::identity::AssumedRole;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::Credentials;
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

async fn load(
    region: Option<&str>,
    credentials: Option<Credentials>,
    timeout: Duration,
) -> Result<SdkConfig, AwsConfigError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .operation_attempt_timeout(timeout)
            .build(),
    );
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
