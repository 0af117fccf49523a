//! Cleanup's and prune's decisions against the AWS SDK's replay client: which
//! preview is removed and in what order, and who runs which image.

use super::HousekeepingError;
use crate::lambda::update::replay::{answer, conflict, lambda as replayed, not_found, ok, sent};

const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders";

fn denied() -> aws_smithy_http_client::test_util::ReplayEvent {
    answer(
        403,
        &[("x-amzn-errortype", "AccessDeniedException")],
        r#"{"Message":"not allowed"}"#,
    )
}

/// A GetFunction answer: the function's preview tag (if any) and its image.
fn function(preview_of: Option<&str>, code: &str) -> String {
    let tags = preview_of.map_or(String::new(), |of| {
        format!(r#","Tags":{{"lambda-ship:preview-of":"{of}"}}"#)
    });
    format!(r#"{{"Configuration":{{}},"Code":{code}{tags}}}"#)
}

fn by_digest(digest: &str) -> String {
    format!(r#"{{"ImageUri":"{REPO}@sha256:{digest}"}}"#)
}

#[tokio::test]
async fn a_function_not_tagged_as_the_preview_is_left_alone() {
    let (lambda, http) = replayed(vec![ok(&function(Some("payments"), &by_digest("a")))]);
    let removal = lambda.remove_preview("orders", 12).await;
    assert_eq!(removal.preview, "orders-pr12");
    assert!(
        !removal.removed && !removal.failed,
        "left, and not a failure"
    );
    assert!(
        removal
            .note
            .as_deref()
            .unwrap()
            .contains("not a lambda-ship preview"),
        "{removal:?}"
    );
    assert_eq!(sent(&http).len(), 1, "nothing is deleted");
}

#[tokio::test]
async fn a_preview_loses_its_url_first_then_the_function_waiting_out_a_conflict() {
    let (lambda, http) = replayed(vec![
        ok(&function(Some("orders"), &by_digest("e"))),
        not_found(),
        conflict(),
        answer(204, &[], ""),
    ]);
    let removal = lambda.remove_preview("orders", 12).await;
    assert!(removal.removed, "{removal:?}");
    assert_eq!(
        removal.image.as_deref(),
        Some(format!("{REPO}@sha256:e").as_str())
    );
    assert_eq!(
        sent(&http),
        [
            "GET /2015-03-31/functions/orders-pr12",
            "DELETE /2021-10-31/functions/orders-pr12/url",
            "DELETE /2015-03-31/functions/orders-pr12",
            "DELETE /2015-03-31/functions/orders-pr12",
        ]
    );
}

#[tokio::test]
async fn a_url_that_cannot_be_deleted_keeps_the_function() {
    let (lambda, http) = replayed(vec![
        ok(&function(Some("orders"), &by_digest("e"))),
        denied(),
    ]);
    let removal = lambda.remove_preview("orders", 3).await;
    assert!(
        !removal.removed && removal.failed,
        "a cleanup run again finishes it"
    );
    assert!(
        removal
            .note
            .as_deref()
            .unwrap()
            .starts_with("DeleteFunctionUrlConfig failed"),
        "{removal:?}"
    );
    assert_eq!(sent(&http).len(), 2, "no DeleteFunction");
    let (lambda, _) = replayed(vec![not_found()]);
    let none = lambda.remove_preview("orders", 3).await;
    assert_eq!(none.note.as_deref(), Some("no preview"));
    assert!(!none.failed);
}

#[tokio::test]
async fn every_version_alias_and_preview_that_runs_an_image_is_named() {
    let (lambda, _) = replayed(vec![
        ok("{}"),
        ok(r#"{"Versions":[{"Version":"$LATEST"},{"Version":"1"}],"NextMarker":"m"}"#),
        ok(r#"{"Versions":[{"Version":"2"}]}"#),
        ok(&function(None, &by_digest("aaa"))),
        // Deployed by tag: known by the digest Lambda resolved.
        ok(&function(
            None,
            &format!(r#"{{"ImageUri":"{REPO}:v1","ResolvedImageUri":"{REPO}@sha256:bbb"}}"#),
        )),
        ok(&function(None, &by_digest("aaa"))),
        ok(r#"{"Aliases":[{"Name":"live","FunctionVersion":"2"}]}"#),
        ok(&function(None, &by_digest("aaa"))),
        ok(
            r#"{"Functions":[{"FunctionName":"orders-pr7"},{"FunctionName":"orders-pr8"},
            {"FunctionName":"payments-pr1"},{"FunctionName":"orders"}]}"#,
        ),
        ok(&function(Some("orders"), &by_digest("ccc"))),
        // Named like a preview, but of another function.
        ok(&function(Some("orders-pr8-base"), &by_digest("ddd"))),
    ]);
    let used = lambda
        .images_in_use(&["orders".to_string()], &[], true)
        .await
        .unwrap();
    let who = |d: &str| {
        used.get(&format!("sha256:{d}"))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(who("aaa"), ["orders", "orders:2", "orders:live"]);
    assert_eq!(who("bbb"), ["orders:1"]);
    assert_eq!(who("ccc"), ["orders-pr7 (preview)"]);
    assert_eq!(used.len(), 3, "{used:?}");
}

#[tokio::test]
async fn a_missing_function_is_an_error_only_when_strict() {
    let (lambda, http) = replayed(vec![not_found()]);
    let err = lambda
        .images_in_use(&["orders".to_string()], &[], true)
        .await
        .unwrap_err();
    assert!(matches!(err, HousekeepingError::NoFunction(ref f) if f == "orders"));
    assert_eq!(sent(&http).len(), 1);

    // Not strict: its previews still count, but one gone since the listing
    // and one just removed run nothing.
    let (lambda, _) = replayed(vec![
        not_found(),
        ok(r#"{"Functions":[{"FunctionName":"orders-pr3"},{"FunctionName":"orders-pr4"}]}"#),
        not_found(),
        ok(&function(Some("orders"), &by_digest("ddd"))),
    ]);
    let used = lambda
        .images_in_use(&["orders".to_string()], &["orders-pr4".to_string()], false)
        .await
        .unwrap();
    assert!(used.is_empty(), "{used:?}");
}

#[tokio::test]
async fn a_preview_that_cannot_be_read_stops_the_run() {
    let (lambda, _) = replayed(vec![
        not_found(),
        ok(r#"{"Functions":[{"FunctionName":"orders-pr3"}]}"#),
        denied(),
    ]);
    let err = lambda
        .images_in_use(&["orders".to_string()], &[], false)
        .await
        .unwrap_err();
    match err {
        HousekeepingError::Api { name, message, .. } => {
            assert_eq!(name, "orders");
            assert!(message.contains("AccessDeniedException"), "{message}");
        }
        other => panic!("{other}"),
    }
}
