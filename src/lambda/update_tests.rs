//! The deploy's call sequences against the AWS SDK's replay client: what is
//! left alone, what is waited out, when the alias moves, what is kept.

use super::super::Outcome;
use super::replay::{IMAGE, answer, body, conflict, deploy, existing, lambda, not_found, ok, sent};
use crate::model::{SmokeConfig, UrlAuth};
use base64::Engine as _;
use std::time::Duration;

const REPORT: &str = "START RequestId: 1\nEND RequestId: 1\nREPORT RequestId: 1\t\
    Duration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t\
    Max Memory Used: 45 MB\tInit Duration: 234.56 ms\t\n";

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_function_that_already_runs_the_image_is_not_updated_again() {
    let (lambda, http) = lambda(vec![not_found(), running(IMAGE)]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let report = deploy(&lambda, &spec, None, None, WAIT).await;
    assert_eq!(report.outcome, Outcome::Unchanged, "{report:?}");
    assert!(!report.outcome.updated() && report.url.is_none());
    assert_eq!(
        sent(&http),
        [
            "GET /2021-10-31/functions/orders/url",
            // What it runs at the end, read back.
            "GET /2015-03-31/functions/orders",
        ]
    );
}

/// GetFunction of a function that runs `image`.
fn running(image: &str) -> aws_smithy_http_client::test_util::ReplayEvent {
    ok(&format!(
        r#"{{"Configuration":{{"Architectures":["arm64"]}},"Code":{{"ImageUri":"{image}"}}}}"#
    ))
}

#[tokio::test]
async fn a_failed_update_says_lambdas_reason() {
    let (lambda, http) = lambda(vec![
        ok("{}"),
        ok(r#"{"LastUpdateStatus":"Failed","LastUpdateStatusReason":"image manifest unreadable"}"#),
    ]);
    let spec = existing(&lambda, "x/fn:old").unwrap();
    let report = deploy(&lambda, &spec, None, None, WAIT).await;
    assert_eq!(
        report.outcome,
        Outcome::UpdatedThenFailed("the update failed: image manifest unreadable".into())
    );
    assert_eq!(report.image_after.as_deref(), Some(IMAGE));
    assert_eq!(sent(&http).len(), 2, "no read-back after a failed update");
}

#[tokio::test]
async fn a_conflict_that_outlasts_the_wait_is_an_error_and_nothing_changed() {
    let (lambda, http) = lambda(vec![conflict()]);
    let spec = existing(&lambda, "x/fn:old").unwrap();
    let report = deploy(&lambda, &spec, None, None, Duration::ZERO).await;
    match &report.outcome {
        Outcome::NotUpdated(e) => assert!(
            e.starts_with("UpdateFunctionCode failed: ResourceConflictException"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(sent(&http), ["PUT /2015-03-31/functions/orders/code"]);
}

#[tokio::test]
async fn a_function_left_on_its_old_architecture_is_not_live() {
    let (lambda, _) = lambda(vec![
        ok("{}"),
        ok(r#"{"LastUpdateStatus":"Successful"}"#),
        ok(&format!(
            r#"{{"Configuration":{{"Architectures":["x86_64"]}},"Code":{{"ImageUri":"{IMAGE}"}}}}"#
        )),
    ]);
    let spec = existing(&lambda, "x/fn:old").unwrap();
    let report = deploy(&lambda, &spec, None, None, WAIT).await;
    match &report.outcome {
        Outcome::UpdatedThenFailed(e) => assert!(
            e.contains("after the update the function's architecture is x86_64, not arm64"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_alias_that_does_not_exist_is_created_on_the_new_version() {
    let (lambda, http) = lambda(vec![
        not_found(),
        answer(201, &[], r#"{"Version":"1"}"#),
        answer(201, &[], r#"{"Name":"live","FunctionVersion":"1"}"#),
        not_found(),
        ok(r#"{"Name":"live","FunctionVersion":"1"}"#),
    ]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let report = deploy(&lambda, &spec, Some("live"), None, WAIT).await;
    assert!(report.outcome.error().is_none(), "{report:?}");
    let alias = report.alias.as_ref().unwrap();
    assert_eq!(alias.previous_version, None);
    assert_eq!(alias.version.as_deref(), Some("1"));
    assert!(alias.moved);
    assert_eq!(
        sent(&http),
        [
            "GET /2015-03-31/functions/orders/aliases/live",
            "POST /2015-03-31/functions/orders/versions",
            "POST /2015-03-31/functions/orders/aliases",
            "GET /2021-10-31/functions/orders/url",
            "GET /2015-03-31/functions/orders/aliases/live",
        ]
    );
}

#[tokio::test]
async fn publishing_waits_out_an_update_in_progress_then_moves_the_alias() {
    let (lambda, http) = lambda(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3"}"#),
        conflict(),
        answer(201, &[], r#"{"Version":"4"}"#),
        ok(r#"{"Name":"live","FunctionVersion":"4"}"#),
        not_found(),
    ]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let report = deploy(&lambda, &spec, Some("live"), None, WAIT).await;
    let alias = report.alias.as_ref().unwrap();
    assert_eq!(
        (alias.previous_version.as_deref(), alias.version.as_deref()),
        (Some("3"), Some("4"))
    );
    assert_eq!(report.version.as_deref(), Some("4"));
    let sent = sent(&http);
    assert_eq!(sent.iter().filter(|r| r.ends_with("/versions")).count(), 2);
    assert!(
        !sent
            .iter()
            .any(|r| r == "POST /2015-03-31/functions/orders/aliases")
    );
}

fn log_result() -> String {
    base64::engine::general_purpose::STANDARD.encode(REPORT)
}

#[tokio::test]
async fn a_passed_smoke_test_moves_the_alias_and_keeps_the_numbers_on_the_function() {
    let log = log_result();
    let (lambda, http) = lambda(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3"}"#),
        answer(201, &[], r#"{"Version":"4"}"#),
        answer(200, &[("X-Amz-Log-Result", log.as_str())], r#"{"ok":true}"#),
        ok(r#"{"Name":"live","FunctionVersion":"4"}"#),
        not_found(),
        ok(r#"{"FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:orders"}"#),
        answer(204, &[], ""),
        ok(r#"{"Name":"live","FunctionVersion":"4"}"#),
    ]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let smoke = SmokeConfig {
        event: "{}".into(),
        expect: Some("\"ok\"".into()),
    };
    let report = deploy(&lambda, &spec, Some("live"), Some(&smoke), WAIT).await;
    assert!(report.outcome.error().is_none(), "{report:?}");
    let result = report.smoke.as_ref().unwrap();
    assert!(result.passed);
    assert_eq!(
        result.qualifier.as_deref(),
        Some("4"),
        "the version is tested"
    );
    let numbers = report.numbers.as_ref().unwrap();
    assert_eq!(
        (numbers.init_ms, numbers.size_bytes),
        (Some(234.56), Some(1000))
    );
    assert!(report.alias.as_ref().unwrap().moved);
    let sent = sent(&http);
    assert!(
        sent[2].ends_with("/functions/orders/invocations"),
        "{sent:?}"
    );
    assert!(sent[6].starts_with("POST /2017-03-31/tags/"), "{sent:?}");
    let tag = body(&http, 6);
    assert!(
        tag.contains("lambda-ship:numbers") && tag.contains("init=234.56"),
        "{tag}"
    );
}

#[tokio::test]
async fn a_response_without_the_expected_text_fails_and_the_alias_stays() {
    let (lambda, http) = lambda(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3"}"#),
        answer(201, &[], r#"{"Version":"4"}"#),
        ok(r#"{"status":"down"}"#),
    ]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let smoke = SmokeConfig {
        event: "{}".into(),
        expect: Some("\"up\"".into()),
    };
    let report = deploy(&lambda, &spec, Some("live"), Some(&smoke), WAIT).await;
    let error = report.outcome.error().unwrap();
    assert!(
        error.contains("does not contain") && error.ends_with("the alias live stays on 3"),
        "{error}"
    );
    assert!(!report.alias.as_ref().unwrap().moved);
    assert_eq!(sent(&http).len(), 3, "nothing after the smoke test");
}

#[tokio::test]
async fn a_preview_never_writes_its_numbers_over_productions() {
    let log = log_result();
    let (lambda, http) = lambda(vec![
        answer(200, &[("X-Amz-Log-Result", log.as_str())], "{}"),
        not_found(),
        running(IMAGE),
    ]);
    let mut spec = existing(&lambda, IMAGE).unwrap();
    spec.preview_of = Some("orders-main".into());
    let smoke = SmokeConfig {
        event: "{}".into(),
        expect: None,
    };
    let report = deploy(&lambda, &spec, None, Some(&smoke), WAIT).await;
    assert!(report.outcome.error().is_none(), "{report:?}");
    assert!(report.numbers.is_some());
    assert!(
        !sent(&http).iter().any(|r| r.contains("/tags/")),
        "no TagResource for a preview"
    );
}

#[tokio::test]
async fn a_public_url_gets_only_the_permission_its_policy_lacks() {
    let (lambda, http) = lambda(vec![
        not_found(),
        answer(
            201,
            &[],
            r#"{"FunctionUrl":"https://abc.lambda-url.us-east-1.on.aws/","AuthType":"NONE"}"#,
        ),
        ok(r#"{"Policy":"{\"Statement\":[{\"Sid\":\"lambda-ship-public-url\"}]}"}"#),
        answer(201, &[], r#"{"Statement":"{}"}"#),
    ]);
    let url = lambda
        .ensure_url("orders", None, UrlAuth::Public)
        .await
        .unwrap();
    assert_eq!(url, "https://abc.lambda-url.us-east-1.on.aws/");
    let sent = sent(&http);
    assert_eq!(
        sent,
        [
            "GET /2021-10-31/functions/orders/url",
            "POST /2021-10-31/functions/orders/url",
            "GET /2015-03-31/functions/orders/policy",
            "POST /2015-03-31/functions/orders/policy",
        ]
    );
    let added = body(&http, 3);
    assert!(
        added.contains("lambda-ship-public-url-invoke") && added.contains("InvokedViaFunctionUrl"),
        "{added}"
    );
}

#[tokio::test]
async fn an_iam_url_is_left_alone_or_switched_from_public_without_permissions() {
    let (lambda, http) = lambda(vec![
        ok(r#"{"FunctionUrl":"https://a/","AuthType":"AWS_IAM"}"#),
        ok(r#"{"FunctionUrl":"https://b/","AuthType":"NONE"}"#),
        ok(r#"{"FunctionUrl":"https://b/","AuthType":"AWS_IAM"}"#),
    ]);
    let kept = lambda.ensure_url("orders", None, UrlAuth::Iam).await;
    assert_eq!(kept.unwrap(), "https://a/");
    let switched = lambda
        .ensure_url("orders", Some("live"), UrlAuth::Iam)
        .await;
    assert_eq!(switched.unwrap(), "https://b/");
    assert_eq!(
        sent(&http),
        [
            "GET /2021-10-31/functions/orders/url",
            "GET /2021-10-31/functions/orders/url",
            "PUT /2021-10-31/functions/orders/url",
        ],
        "no policy is read or changed for an IAM URL"
    );
}
