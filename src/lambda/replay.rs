//! Test helpers: a `Lambda` over the AWS SDK's replay client, whose answers
//! are scripted in order, and what it sent, as `METHOD /path`.

use crate::lambda::Lambda;
use crate::lambda::{DeployJob, FunctionReport, FunctionSpec, PreflightError};
use crate::model::{FunctionTarget, Platform};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;

pub const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:abc";

pub const CONFLICT: &[(&str, &str)] = &[("x-amzn-errortype", "ResourceConflictException")];
pub const NOT_FOUND: &[(&str, &str)] = &[("x-amzn-errortype", "ResourceNotFoundException")];

/// One scripted exchange: any request, this status, headers and JSON body.
pub fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> ReplayEvent {
    let request = hyper::http::Request::builder()
        .uri("https://lambda.us-east-1.amazonaws.com/")
        .body(SdkBody::empty())
        .unwrap();
    let mut response = hyper::http::Response::builder().status(status);
    for (k, v) in headers {
        response = response.header(*k, *v);
    }
    ReplayEvent::new(
        request,
        response.body(SdkBody::from(body.to_string())).unwrap(),
    )
}

pub fn ok(body: &str) -> ReplayEvent {
    answer(200, &[], body)
}

pub fn not_found() -> ReplayEvent {
    answer(
        404,
        NOT_FOUND,
        r#"{"Type":"User","message":"Function not found"}"#,
    )
}

pub fn conflict() -> ReplayEvent {
    answer(
        409,
        CONFLICT,
        r#"{"Type":"User","message":"An update is in progress"}"#,
    )
}

pub fn lambda(events: Vec<ReplayEvent>) -> (Lambda, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    let conf = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "AKID", "SECRET", None, None, "test",
        ))
        .http_client(http.clone())
        .build();
    (
        Lambda::from_client(aws_sdk_lambda::Client::from_conf(conf), "us-east-1"),
        http,
    )
}

/// The method and path of every request the client sent.
pub fn sent(http: &StaticReplayClient) -> Vec<String> {
    http.actual_requests()
        .map(|r| {
            format!(
                "{} {}",
                r.method(),
                r.uri()
                    .split("amazonaws.com")
                    .last()
                    .unwrap_or("")
                    .split('?')
                    .next()
                    .unwrap_or("")
            )
        })
        .collect()
}

/// The body of the `n`th request sent, as text.
pub fn body(http: &StaticReplayClient, n: usize) -> String {
    let request = http.actual_requests().nth(n).expect("no such request");
    String::from_utf8_lossy(request.body().bytes().unwrap_or_default()).into_owned()
}

/// An existing function `orders` (arm64) that runs `image_before`, planned
/// without going through preflight: what Lambda makes of a new function,
/// turned into one that exists.
pub fn existing(lambda: &Lambda, image_before: &str) -> Result<FunctionSpec, PreflightError> {
    let target = FunctionTarget {
        name: "orders".into(),
        arch: Some(Platform::Arm64),
    };
    let mut spec = lambda.to_create(&target, "arn:aws:iam::123456789012:role/fn")?;
    spec.create_with_role = None;
    spec.image_before = Some(image_before.to_string());
    Ok(spec)
}

/// One function's deploy of `IMAGE`, as a run asks it.
pub async fn deploy(
    lambda: &Lambda,
    spec: &FunctionSpec,
    alias: Option<&str>,
    smoke: Option<&crate::model::SmokeConfig>,
    wait: std::time::Duration,
) -> FunctionReport {
    let cancel = crate::cancel::Cancel::on_signals();
    lambda
        .deploy(DeployJob {
            spec,
            image_uri: IMAGE,
            alias,
            function_url: None,
            smoke,
            wait_timeout: wait,
            cancel: &cancel,
            aws_timeout: std::time::Duration::from_secs(5),
            size_bytes: Some(1000),
            thresholds: Default::default(),
            commit: "0123456789abcdef0123456789abcdef01234567",
            run_url: None,
            hold_alias: false,
        })
        .await
}
