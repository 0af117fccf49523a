//! The one place the AWS SDK configuration is made: the standard chain of
//! region, credentials and endpoints (AWS_REGION, AWS_ENDPOINT_URL, profiles),
//! with `--region` on top.

use aws_config::{BehaviorVersion, Region, SdkConfig};

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

pub async fn sdk_config(region: Option<&str>) -> Result<SdkConfig, AwsConfigError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
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
