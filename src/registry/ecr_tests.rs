//! ECR's calls against the AWS SDK's replay client: what is a failure and
//! what is not, pages followed, the lifecycle policy written only on change.

use super::*;
use crate::registry::lifecycle::{RULE_DESCRIPTION, merge_untagged_rule};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;

fn answer(status: u16, error: Option<&str>, body: &str) -> ReplayEvent {
    let request = hyper::http::Request::builder()
        .uri("https://api.ecr.us-east-1.amazonaws.com/")
        .body(SdkBody::empty())
        .unwrap();
    let mut response = hyper::http::Response::builder().status(status);
    if let Some(code) = error {
        response = response.header("x-amzn-errortype", code);
    }
    ReplayEvent::new(
        request,
        response.body(SdkBody::from(body.to_string())).unwrap(),
    )
}

fn ok(body: &str) -> ReplayEvent {
    answer(200, None, body)
}

fn error(code: &str) -> ReplayEvent {
    answer(
        400,
        Some(code),
        &format!(r#"{{"__type":"{code}","message":"{code}"}}"#),
    )
}

fn ecr(events: Vec<ReplayEvent>) -> (Ecr, StaticReplayClient) {
    let http = StaticReplayClient::new(events);
    let conf = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "AKID", "SECRET", None, None, "test",
        ))
        .http_client(http.clone())
        .build();
    let ecr = Ecr {
        client: aws_sdk_ecr::Client::from_conf(conf),
        calls: CallContext {
            endpoint: "ECR".into(),
            attempt_timeout: None,
        },
    };
    (ecr, http)
}

/// The operation of every request sent, and its body.
fn sent(http: &StaticReplayClient) -> Vec<(String, String)> {
    http.actual_requests()
        .map(|r| {
            let target = r.headers().get("x-amz-target").unwrap_or_default();
            (
                target.rsplit('.').next().unwrap_or_default().to_string(),
                String::from_utf8_lossy(r.body().bytes().unwrap_or_default()).into_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_image_already_gone_is_not_a_failed_delete_but_any_other_failure_is() {
    let (ecr, _) = ecr(vec![
        ok(r#"{"imageIds":[{"imageDigest":"sha256:a"}],"failures":[]}"#),
        ok(
            r#"{"imageIds":[],"failures":[{"imageId":{"imageDigest":"sha256:a"},
            "failureCode":"ImageNotFound","failureReason":"Requested image not found"}]}"#,
        ),
        ok(
            r#"{"imageIds":[],"failures":[{"imageId":{"imageDigest":"sha256:a"},
            "failureCode":"ImageReferencedByManifestList","failureReason":"in an index"}]}"#,
        ),
        error("RepositoryNotFoundException"),
        error("AccessDeniedException"),
    ]);
    assert!(ecr.delete_digest("orders", "sha256:a").await.unwrap());
    assert!(!ecr.delete_digest("orders", "sha256:a").await.unwrap());
    let err = ecr.delete_digest("orders", "sha256:a").await.unwrap_err();
    assert_eq!(err.to_string(), "ECR BatchDeleteImage failed: in an index");
    assert!(!ecr.delete_digest("orders", "sha256:a").await.unwrap());
    let err = ecr.delete_digest("orders", "sha256:a").await.unwrap_err();
    assert!(err.to_string().contains("AccessDeniedException"), "{err}");
}

#[tokio::test]
async fn every_page_of_images_is_read_and_a_missing_repository_has_none() {
    let (ecr, http) = ecr(vec![
        ok(
            r#"{"imageDetails":[{"imageDigest":"sha256:1","imageTags":["a","b"],
            "imagePushedAt":1700000000.5}],"nextToken":"page-2"}"#,
        ),
        ok(r#"{"imageDetails":[{"imageDigest":"sha256:2"},{"imageTags":["no-digest"]}]}"#),
        error("RepositoryNotFoundException"),
    ]);
    let images = ecr.list_images("orders").await.unwrap();
    assert_eq!(
        images,
        [
            crate::registry::images::StoredImage {
                digest: "sha256:1".into(),
                tags: vec!["a".into(), "b".into()],
                time: 1_700_000_000_500_000_000,
            },
            crate::registry::images::StoredImage {
                digest: "sha256:2".into(),
                tags: vec![],
                time: 0,
            },
        ]
    );
    assert!(sent(&http)[1].1.contains("page-2"), "the next page asked");
    assert!(ecr.list_images("orders").await.unwrap().is_empty());
}

#[tokio::test]
async fn the_lifecycle_policy_is_written_only_when_it_changes() {
    let current = merge_untagged_rule(None, 7).unwrap().unwrap();
    let (ecr, http) = ecr(vec![
        ok(&serde_json::json!({ "lifecyclePolicyText": current }).to_string()),
        error("LifecyclePolicyNotFoundException"),
        ok("{}"),
        error("AccessDeniedException"),
    ]);
    assert!(
        !ecr.expire_untagged("orders", 7).await.unwrap(),
        "the same rule"
    );
    assert!(
        ecr.expire_untagged("orders", 7).await.unwrap(),
        "no policy yet"
    );
    let err = ecr.expire_untagged("orders", 7).await.unwrap_err();
    assert!(
        err.to_string().starts_with("ECR GetLifecyclePolicy failed"),
        "{err}"
    );
    let sent = sent(&http);
    let ops: Vec<&str> = sent.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "GetLifecyclePolicy",
            "GetLifecyclePolicy",
            "PutLifecyclePolicy",
            "GetLifecyclePolicy"
        ]
    );
    assert!(sent[2].1.contains(RULE_DESCRIPTION), "{}", sent[2].1);
}

#[tokio::test]
async fn a_repository_another_job_created_meanwhile_is_read_instead() {
    let (ecr, http) = ecr(vec![
        error("RepositoryAlreadyExistsException"),
        ok(r#"{"repositories":[{"repositoryName":"orders",
            "repositoryUri":"1.dkr.ecr.us-east-1.amazonaws.com/orders","imageTagMutability":"MUTABLE"}]}"#),
    ]);
    let name: RepositoryName = "orders".parse().unwrap();
    let repo = ecr
        .create_repository(&name, TagMutability::Immutable)
        .await
        .unwrap();
    assert!(!repo.created, "this run did not create it");
    assert_eq!(
        repo.mutability,
        TagMutability::Mutable,
        "as it is, not as asked"
    );
    assert_eq!(repo.registry(), "1.dkr.ecr.us-east-1.amazonaws.com");
    let sent = sent(&http);
    assert_eq!(sent[0].0, "CreateRepository");
    let asked: serde_json::Value = serde_json::from_str(&sent[0].1).unwrap();
    // Immutable, but for the signatures beside the images, which a second
    // signature pushes again.
    assert_eq!(asked["imageTagMutability"], "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(
        asked["imageTagMutabilityExclusionFilters"],
        serde_json::json!([{"filterType": "WILDCARD", "filter": "sha256-*"}])
    );
    assert_eq!(asked["imageScanningConfiguration"]["scanOnPush"], true);
    assert_eq!(asked["encryptionConfiguration"]["encryptionType"], "AES256");
    assert_eq!(sent[1].0, "DescribeRepositories");
}

#[tokio::test]
async fn the_token_names_the_registry_host_without_its_scheme() {
    let (ecr, _) = ecr(vec![
        ok(r#"{"authorizationData":[{"authorizationToken":"QVdTOnB3",
            "proxyEndpoint":"https://1.dkr.ecr.us-east-1.amazonaws.com/"}]}"#),
        ok(r#"{"authorizationData":[]}"#),
    ]);
    let (host, credentials) = ecr.token().await.unwrap();
    assert_eq!(host, "1.dkr.ecr.us-east-1.amazonaws.com");
    assert_eq!(credentials.username, "AWS");
    let err = ecr.token().await.unwrap_err();
    assert_eq!(err.to_string(), "ECR returned no authorization data");
}
