//! The deploy's logic in-process, against the AWS SDK's own replay client:
//! what Lambda answers is scripted, what lambda-ship sends is checked.

use super::update::live_matches;
use super::*;

const URI: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:abc";

#[test]
fn the_live_function_must_run_the_image_and_architecture_asked() {
    assert!(live_matches(URI, &[Platform::Arm64], URI, Platform::Arm64).is_ok());
    let err = live_matches(URI, &[Platform::Amd64], URI, Platform::Arm64)
        .unwrap_err()
        .to_string();
    assert!(err.contains("x86_64, not arm64"), "{err}");
    let err = live_matches("x/fn:old", &[Platform::Arm64], URI, Platform::Arm64)
        .unwrap_err()
        .to_string();
    assert!(err.contains("runs x/fn:old"), "{err}");
    assert!(live_matches(URI, &[], URI, Platform::Amd64).is_ok());
}

#[test]
fn function_arns_must_be_of_the_run_region_and_account() {
    let t = |name: &str| FunctionTarget {
        name: name.to_string(),
        arch: None,
    };
    let eu = t("arn:aws:lambda:eu-west-1:123456789012:function:orders");
    let err = check_target(&eu, "us-east-1", None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("eu-west-1") && err.contains("us-east-1"),
        "{err}"
    );
    assert!(check_target(&eu, "eu-west-1", Some("123456789012")).is_ok());
    let err = check_target(&eu, "eu-west-1", Some("999999999999"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("123456789012") && err.contains("999999999999"),
        "{err}"
    );
    assert!(check_target(&t("orders"), "us-east-1", Some("1")).is_ok());
}

use super::update::replay::{CONFLICT, IMAGE, answer, lambda};
use crate::cancel::Cancel;
use aws_smithy_http_client::test_util::StaticReplayClient;

fn spec() -> FunctionSpec {
    FunctionSpec {
        create_with_role: None,
        asked: crate::settings::Settings::default(),
        changes: Vec::new(),
        description: None,
        role: None,
        vpc: None,
        tags: Default::default(),
        preview_of: None,
        url: None,
        baseline: None,
        name: "orders".into(),
        arch: Platform::Arm64,
        arch_before: Platform::Arm64,
        image_before: Some("x/fn:old".into()),
        revision_id: Some("r0".into()),
        code_sha256: Some("c0".into()),
        updating: false,
        pinned_before: Some("x/fn@sha256:0ld".into()),
        local: crate::model::LocalSettings::default(),
    }
}

/// The method and path of every request the client sent.
fn sent(http: &StaticReplayClient) -> Vec<String> {
    http.actual_requests()
        .map(|r| {
            format!(
                "{} {}",
                r.method(),
                r.uri().split("amazonaws.com").last().unwrap_or("")
            )
        })
        .collect()
}

#[tokio::test]
async fn an_update_in_progress_is_waited_out_then_polled_until_live() {
    let (lambda, http) = lambda(vec![
        answer(
            409,
            CONFLICT,
            r#"{"Type":"User","message":"An update is in progress"}"#,
        ),
        answer(200, &[], "{}"),
        answer(200, &[], r#"{"LastUpdateStatus":"InProgress"}"#),
        answer(200, &[], r#"{"LastUpdateStatus":"Successful"}"#),
        answer(
            200,
            &[],
            &format!(
                r#"{{"Configuration":{{"Architectures":["arm64"]}},"Code":{{"ImageUri":"{IMAGE}"}}}}"#
            ),
        ),
        // The image it ran, kept on it as the way back.
        answer(
            200,
            &[],
            r#"{"FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:orders"}"#,
        ),
        answer(204, &[], ""),
        answer(
            404,
            &[("x-amzn-errortype", "ResourceNotFoundException")],
            r#"{"Type":"User","message":"no URL"}"#,
        ),
        answer(
            200,
            &[],
            &format!(r#"{{"Configuration":{{}},"Code":{{"ImageUri":"{IMAGE}"}}}}"#),
        ),
    ]);
    let spec = spec();
    let cancel = Cancel::on_signals();
    let report = lambda
        .deploy(DeployJob {
            spec: &spec,
            image_uri: IMAGE,
            alias: None,
            function_url: None,
            smoke: None,
            wait_timeout: Duration::from_secs(30),
            cancel: &cancel,
            aws_timeout: Duration::from_secs(5),
            size_bytes: None,
            thresholds: Default::default(),
            commit: "0123456789abcdef0123456789abcdef01234567",
            run_url: None,
            hold_alias: false,
        })
        .await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let sent = sent(&http);
    assert_eq!(
        sent.iter()
            .filter(|r| r.starts_with("PUT") && r.ends_with("/code"))
            .count(),
        2,
        "{sent:?}"
    );
    assert_eq!(
        sent.iter()
            .filter(|r| r.ends_with("/configuration"))
            .count(),
        3,
        "polled until Successful, then read for the tag: {sent:?}"
    );
    let tagged = http
        .actual_requests()
        .find(|r| r.uri().contains("/tags/"))
        .expect("the image before is tagged");
    let body = std::str::from_utf8(tagged.body().bytes().unwrap()).unwrap();
    assert!(
        body.contains(r#""lambda-ship:previous-image":"x/fn@sha256:0ld""#),
        "{body}"
    );
}

#[tokio::test]
async fn a_failed_smoke_test_never_moves_the_alias() {
    let (lambda, http) = lambda(vec![
        answer(200, &[], "{}"),
        answer(200, &[], r#"{"LastUpdateStatus":"Successful"}"#),
        answer(
            200,
            &[],
            &format!(
                r#"{{"Configuration":{{"Architectures":["arm64"]}},"Code":{{"ImageUri":"{IMAGE}"}}}}"#
            ),
        ),
        answer(200, &[], r#"{"Name":"live","FunctionVersion":"6"}"#),
        answer(201, &[], r#"{"Version":"7"}"#),
        answer(
            200,
            &[("X-Amz-Function-Error", "Unhandled")],
            r#"{"errorMessage":"boom"}"#,
        ),
    ]);
    let spec = spec();
    let cancel = Cancel::on_signals();
    let smoke = SmokeConfig {
        event: "{}".into(),
        expect: None,
    };
    let report = lambda
        .deploy(DeployJob {
            spec: &spec,
            image_uri: IMAGE,
            alias: Some("live"),
            function_url: None,
            smoke: Some(&smoke),
            wait_timeout: Duration::from_secs(30),
            cancel: &cancel,
            aws_timeout: Duration::from_secs(5),
            size_bytes: None,
            thresholds: Default::default(),
            commit: "0123456789abcdef0123456789abcdef01234567",
            run_url: None,
            hold_alias: false,
        })
        .await;
    match &report.outcome {
        Outcome::UpdatedThenFailed(e) => {
            assert!(e.contains("the alias live stays on 6"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let alias = report.alias.as_ref().unwrap();
    assert!(!alias.moved && alias.version.as_deref() == Some("6"));
    let sent = sent(&http);
    assert!(
        !sent
            .iter()
            .any(|r| r.starts_with("PUT") && r.contains("/aliases/")),
        "the alias was moved: {sent:?}"
    );
}
