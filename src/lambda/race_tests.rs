//! Two deploys of one function at once, as Lambda answers them: every write
//! carries its precondition, and a refused one stops the function's deploy
//! with what it runs now, read back, and nothing published or moved.

use super::super::update::replay::{self, IMAGE, answer, body, existing, lambda, ok, sent};
use super::super::{FunctionReport, FunctionSpec, Outcome};
use std::time::Duration;

const OTHER: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:b0b";

async fn deploy(
    lambda: &super::Lambda,
    spec: &FunctionSpec,
    alias: Option<&str>,
) -> FunctionReport {
    replay::deploy(lambda, spec, alias, None, Duration::from_secs(30)).await
}

/// GetFunction of a function that runs `image`.
fn running(image: &str) -> aws_smithy_http_client::test_util::ReplayEvent {
    ok(&format!(
        r#"{{"Configuration":{{"Architectures":["arm64"]}},"Code":{{"ImageUri":"{image}"}}}}"#
    ))
}

/// The answers to this run's code update landing (code c1, revision r2,
/// running `IMAGE`), then `rest`.
fn updated_then(
    rest: Vec<aws_smithy_http_client::test_util::ReplayEvent>,
) -> Vec<aws_smithy_http_client::test_util::ReplayEvent> {
    let mut events = vec![
        ok(r#"{"CodeSha256":"c1","RevisionId":"r1"}"#),
        ok(r#"{"LastUpdateStatus":"Successful","RevisionId":"r2","CodeSha256":"c1"}"#),
        running(IMAGE),
    ];
    events.extend(rest);
    events
}

/// An `orders` function read in preflight at revision r0, running an older image.
fn read_at_r0(lambda: &super::Lambda) -> FunctionSpec {
    let mut spec = existing(lambda, "x/fn@sha256:0ld").unwrap();
    spec.revision_id = Some("r0".into());
    spec.code_sha256 = Some("c0".into());
    spec
}

#[tokio::test]
async fn every_write_is_conditional_on_what_this_run_read_or_wrote_last() {
    let (lambda, http) = lambda(updated_then(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3","RevisionId":"a1"}"#),
        answer(201, &[], r#"{"Version":"4","CodeSha256":"c1"}"#),
        ok(r#"{"Name":"live","FunctionVersion":"4","RevisionId":"a2"}"#),
        super::super::update::replay::not_found(),
        ok(r#"{"Name":"live","FunctionVersion":"4","RevisionId":"a2"}"#),
    ]));
    let spec = read_at_r0(&lambda);
    let report = deploy(&lambda, &spec, Some("live")).await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let sent = sent(&http);
    assert_eq!(sent[0], "PUT /2015-03-31/functions/orders/code");
    assert!(
        body(&http, 0).contains(r#""RevisionId":"r0""#),
        "preflight's"
    );
    assert_eq!(sent[4], "POST /2015-03-31/functions/orders/versions");
    let publish = body(&http, 4);
    assert!(
        publish.contains(r#""CodeSha256":"c1""#) && publish.contains(r#""RevisionId":"r2""#),
        "this run's own code, as its update left it: {publish}"
    );
    assert_eq!(sent[5], "PUT /2015-03-31/functions/orders/aliases/live");
    assert!(
        body(&http, 5).contains(r#""RevisionId":"a1""#),
        "the alias as read"
    );
    assert_eq!(report.alias.unwrap().version.as_deref(), Some("4"));
}

#[tokio::test]
async fn a_publish_refused_for_another_deploys_code_publishes_nothing_and_says_what_runs() {
    let (lambda, http) = lambda(updated_then(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3","RevisionId":"a1"}"#),
        answer(
            400,
            &[("x-amzn-errortype", "InvalidParameterValueException")],
            r#"{"Type":"User","message":"CodeSHA256 (c1) is different from current CodeSHA256 in $LATEST (c9). Please try again with the current CodeSHA256."}"#,
        ),
        running(OTHER),
    ]));
    let spec = read_at_r0(&lambda);
    let report = deploy(&lambda, &spec, Some("live")).await;
    assert_eq!(
        report.outcome,
        Outcome::UpdatedThenFailed(
            "another deploy changed it during this one (now runs sha256:b0b): nothing published"
                .into()
        )
    );
    assert_eq!(report.version, None);
    assert!(report.alias.is_none(), "no alias moved");
    assert_eq!(
        report.image_after.as_deref(),
        Some(IMAGE),
        "what this run updated it to; what it runs now is said"
    );
    assert!(
        !sent(&http)
            .iter()
            .any(|r| r.contains("/aliases/live") && r.starts_with("PUT"))
    );
}

#[tokio::test]
async fn an_update_refused_for_another_deploys_write_changes_nothing() {
    let (lambda, http) = lambda(vec![
        answer(
            412,
            &[("x-amzn-errortype", "PreconditionFailedException")],
            r#"{"Type":"User","message":"The Revision Id provided does not match the latest Revision Id."}"#,
        ),
        running(OTHER),
        running(OTHER),
    ]);
    let spec = read_at_r0(&lambda);
    let report = deploy(&lambda, &spec, None).await;
    assert_eq!(
        report.outcome,
        Outcome::NotUpdated(
            "another deploy changed it during this one (now runs sha256:b0b): left as it is".into()
        )
    );
    assert_eq!(
        sent(&http).len(),
        3,
        "one refused write, nothing written after"
    );
}

#[tokio::test]
async fn an_alias_another_deploy_moved_is_left_where_it_is() {
    let (lambda, http) = lambda(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3","RevisionId":"a1"}"#),
        answer(201, &[], r#"{"Version":"4"}"#),
        answer(
            412,
            &[("x-amzn-errortype", "PreconditionFailedException")],
            r#"{"Type":"User","message":"The Revision Id provided does not match the latest Revision Id."}"#,
        ),
        ok(r#"{"Name":"live","FunctionVersion":"5","RevisionId":"a9"}"#),
        ok(r#"{"Name":"live","FunctionVersion":"5","RevisionId":"a9"}"#),
    ]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let report = deploy(&lambda, &spec, Some("live")).await;
    assert_eq!(
        report.outcome,
        Outcome::NotUpdated(
            "another deploy moved the alias live during this one (it serves version 5 now): \
             version 4 was published, the alias not moved"
                .into()
        )
    );
    let alias = report.alias.unwrap();
    assert!(!alias.moved);
    assert_eq!(alias.version.as_deref(), Some("5"), "what it serves, read");
    assert_eq!(sent(&http).len(), 5);
}

#[tokio::test]
async fn a_later_deploy_after_this_one_is_said_and_read_back() {
    let (lambda, _) = lambda(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3","RevisionId":"a1"}"#),
        answer(201, &[], r#"{"Version":"4"}"#),
        ok(r#"{"Name":"live","FunctionVersion":"4","RevisionId":"a2"}"#),
        super::super::update::replay::not_found(),
        ok(r#"{"Name":"live","FunctionVersion":"6","RevisionId":"a3"}"#),
    ]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let report = deploy(&lambda, &spec, Some("live")).await;
    assert!(report.outcome.is_success(), "{report:?}");
    assert_eq!(report.alias.as_ref().unwrap().version.as_deref(), Some("6"));
    assert_eq!(
        report.warnings,
        ["another deploy moved the alias live since this run read it: it serves version 6 now"]
    );
}

#[tokio::test]
async fn an_update_in_progress_at_preflight_is_waited_out_and_its_revision_read_again() {
    let (lambda, http) = lambda(vec![
        ok(r#"{"LastUpdateStatus":"InProgress","RevisionId":"r0","CodeSha256":"c0"}"#),
        ok(r#"{"LastUpdateStatus":"Successful","RevisionId":"r0b","CodeSha256":"c0"}"#),
        ok(r#"{"CodeSha256":"c1","RevisionId":"r1"}"#),
        ok(r#"{"LastUpdateStatus":"Successful","RevisionId":"r2","CodeSha256":"c1"}"#),
        running(IMAGE),
        super::super::update::replay::not_found(),
        running(IMAGE),
    ]);
    let mut spec = read_at_r0(&lambda);
    spec.updating = true;
    let report = deploy(&lambda, &spec, None).await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    assert_eq!(sent(&http)[2], "PUT /2015-03-31/functions/orders/code");
    assert!(
        body(&http, 2).contains(r#""RevisionId":"r0b""#),
        "the revision once the update in progress ended"
    );
}

#[tokio::test]
async fn an_update_in_progress_at_preflight_that_changed_the_code_stops_the_deploy() {
    let (lambda, http) = lambda(vec![
        ok(r#"{"LastUpdateStatus":"Successful","RevisionId":"r9","CodeSha256":"c9"}"#),
        running(OTHER),
    ]);
    let mut spec = read_at_r0(&lambda);
    spec.updating = true;
    let report = deploy(&lambda, &spec, None).await;
    assert_eq!(
        report.outcome,
        Outcome::NotUpdated(
            "another deploy changed it during this one (now runs sha256:b0b): left as it is".into()
        )
    );
    assert!(
        !sent(&http).iter().any(|r| r.starts_with("PUT")),
        "nothing written"
    );
}

const REFUSED: &str = r#"{"Type":"User","message":"The Revision Id provided does not match the latest Revision Id."}"#;

fn refused() -> aws_smithy_http_client::test_util::ReplayEvent {
    answer(
        412,
        &[("x-amzn-errortype", "PreconditionFailedException")],
        REFUSED,
    )
}

#[tokio::test]
async fn writes_refused_after_their_own_attempt_landed_go_on() {
    // The update and the alias move are refused as if an earlier attempt of
    // each had landed: the function runs this run's image, the alias is on
    // this run's version.
    let (lambda, _) = lambda(vec![
        refused(),
        running(IMAGE),
        ok(r#"{"LastUpdateStatus":"Successful","RevisionId":"r2","CodeSha256":"c1"}"#),
        running(IMAGE),
        ok(r#"{"Name":"live","FunctionVersion":"3","RevisionId":"a1"}"#),
        answer(201, &[], r#"{"Version":"4","CodeSha256":"c1"}"#),
        refused(),
        ok(r#"{"Name":"live","FunctionVersion":"4","RevisionId":"a2"}"#),
        super::super::update::replay::not_found(),
        ok(r#"{"Name":"live","FunctionVersion":"4","RevisionId":"a2"}"#),
    ]);
    let spec = read_at_r0(&lambda);
    let report = deploy(&lambda, &spec, Some("live")).await;
    assert_eq!(report.outcome, Outcome::Deployed, "{report:?}");
    let alias = report.alias.unwrap();
    assert!(alias.moved && alias.version.as_deref() == Some("4"));
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[tokio::test]
async fn a_publish_refused_while_it_runs_this_runs_image_is_another_runs_configuration() {
    let (lambda, http) = lambda(updated_then(vec![
        ok(r#"{"Name":"live","FunctionVersion":"3","RevisionId":"a1"}"#),
        refused(),
        running(IMAGE),
    ]));
    let spec = read_at_r0(&lambda);
    let report = deploy(&lambda, &spec, Some("live")).await;
    assert_eq!(
        report.outcome,
        Outcome::UpdatedThenFailed(
            "another deploy changed its configuration during this one: nothing published".into()
        )
    );
    assert_eq!(sent(&http).len(), 6, "published once, not again");
}

#[tokio::test]
async fn a_read_back_that_fails_is_a_warning_not_a_failure() {
    let (lambda, _) = lambda(vec![
        super::super::update::replay::not_found(),
        answer(500, &[], "{}"),
        answer(500, &[], "{}"),
        answer(500, &[], "{}"),
    ]);
    let spec = existing(&lambda, IMAGE).unwrap();
    let report = deploy(&lambda, &spec, None).await;
    assert_eq!(report.outcome, Outcome::Unchanged, "{report:?}");
    assert!(
        report.warnings[0].starts_with("what it runs now could not be read back"),
        "{:?}",
        report.warnings
    );
}
