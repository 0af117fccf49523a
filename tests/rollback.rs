//! `history` and `rollback` against moto: the releases read back with their
//! commits and the alias, the alias taken back to the release it served
//! before or to a commit, every function together or none, and a function
//! on $LATEST back on the image it ran before.

mod common;

use common::proxy::{Proxy, Rule};
use common::runs::alias_version;
use common::*;

/// A function with alias `live`, released twice by lambda-ship: version 2
/// from `first`, then version 3 from `second` (a configuration change).
fn released_twice(prefix: &str) -> (String, String, String) {
    let name = common::releases::released_function(prefix);
    let (first, second) = (random_sha(), random_sha());
    for (sha, release) in [(&first, "1"), (&second, "2")] {
        build_ok(
            deploy_fixture("releases", sha, &[&name])
                .args(["--platforms", "linux/amd64", "--alias", "live"])
                .args(["--env", &format!("RELEASE={release}")])
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_REPOSITORY", "acme/orders")
                .env("GITHUB_RUN_ID", "4242"),
        );
    }
    assert_eq!(alias_version(&name), "3");
    (name, first, second)
}

fn history(name: &str) -> serde_json::Value {
    let out = lambda_ship()
        .args([
            "history",
            "--function",
            name,
            "--alias",
            "live",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rollback(functions: &[&str], args: &[&str]) -> assert_cmd::Command {
    let mut cmd = lambda_ship();
    cmd.args(["rollback", "--alias", "live", "--output", "json"]);
    for f in functions {
        cmd.args(["--function", f]);
    }
    cmd.args(args);
    cmd
}

#[test]
fn history_lists_each_release_with_its_commit_run_and_alias() {
    let (name, first, second) = released_twice("history");
    let h = history(&name);
    let releases = h["releases"].as_array().unwrap();
    let versions: Vec<&str> = releases
        .iter()
        .map(|r| r["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["3", "2", "1"], "the newest first");
    assert_eq!(releases[0]["commit"], second.as_str());
    assert_eq!(releases[1]["commit"], first.as_str());
    assert!(
        releases[2]["commit"].is_null(),
        "not published by lambda-ship"
    );
    assert!(
        releases[0]["digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(
        releases[0]["run_url"],
        "https://github.com/acme/orders/actions/runs/4242"
    );
    assert_eq!(releases[0]["served_by"][0]["alias"], "live");
    assert_eq!(releases[0]["served_by"][0]["percent"], 100.0);
    assert!(releases[1]["served_by"].as_array().unwrap().is_empty());
    assert_eq!(h["aliases"][0]["version"], "3");
    assert_eq!(h["aliases"][0]["description"], "lambda-ship served: 2 1");
}

#[test]
fn rollback_goes_back_to_the_release_the_alias_served_before_once_it_passed_its_smoke_test() {
    let (name, first, _) = released_twice("rollback");
    let out = rollback(&[&name], &[]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["functions"][0];
    assert_eq!(f["from"], "3");
    assert_eq!(f["to"], "2");
    assert_eq!(f["commit"], first.as_str());
    assert_eq!(f["smoke"]["qualifier"], "2", "the target is what is tested");
    assert_eq!(alias_version(&name), "2");
    let h = history(&name);
    assert_eq!(h["releases"][0]["rolled_back"], true, "{h}");
    assert_eq!(h["aliases"][0]["description"], "lambda-ship served: 1");
    // Once more: the release before that.
    rollback(&[&name], &[]).assert().success();
    assert_eq!(alias_version(&name), "1");
}

#[test]
fn rollback_to_a_commit_moves_every_function_or_none() {
    let (one, first, _) = released_twice("to-commit-a");
    let (two, _, _) = released_twice("to-commit-b");
    // `first` was released on one, never on two: nothing moves.
    let stderr = fails_with(
        &mut rollback(&[&one, &two], &["--to-commit", &first[..10]]),
        2,
    );
    assert!(
        stderr.contains(&format!(
            "commit {} was never released on {two}",
            &first[..10]
        )),
        "{stderr}"
    );
    assert_eq!(alias_version(&one), "3");
    assert_eq!(alias_version(&two), "3");
    rollback(&[&one], &["--to-commit", &first[..10]])
        .assert()
        .success();
    assert_eq!(alias_version(&one), "2");
    let stderr = fails_with(&mut rollback(&[&one], &["--to-version", "99"]), 2);
    assert!(stderr.contains("has no version 99"), "{stderr}");
    assert_eq!(alias_version(&one), "2");
}

#[test]
fn a_target_that_fails_its_smoke_test_moves_no_alias() {
    let (name, _, _) = released_twice("smoke-back");
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    proxy.on(
        Rule::new("POST", &format!("/functions/{name}/invocations")).respond(
            200,
            &[("X-Amz-Function-Error", "Unhandled")],
            r#"{"errorMessage":"boom"}"#,
        ),
    );
    let stderr = fails_with(
        rollback(&[&name], &[]).env("AWS_ENDPOINT_URL", &proxy.url),
        1,
    );
    assert!(stderr.contains("no alias moved"), "{stderr}");
    assert_eq!(alias_version(&name), "3");
}

#[test]
fn a_function_on_latest_goes_back_to_the_image_it_ran_before_once() {
    let name = unique("latest-back");
    create_function(&name, "x86_64", false);
    let code = |name: &str, field: &str| {
        aws(&["lambda", "get-function", "--function-name", name])["Code"][field]
            .as_str()
            .unwrap()
            .to_string()
    };
    let image = |name: &str| code(name, "ImageUri");
    // It was given by tag: the way back is the image the tag named then,
    // by digest, not whatever the tag names later.
    let before = code(&name, "ResolvedImageUri");
    assert!(before.contains("@sha256:"), "{before}");
    build_ok(
        deploy_fixture("releases", &random_sha(), &[&name]).args(["--platforms", "linux/amd64"]),
    );
    assert_ne!(image(&name), before);
    let mut cmd = lambda_ship();
    cmd.args(["rollback", "--function", &name, "--output", "json"]);
    cmd.assert().success();
    assert_eq!(image(&name), before);
    // The record is used up: a second rollback has nothing to go back to.
    let mut again = lambda_ship();
    again.args(["rollback", "--function", &name]);
    let stderr = fails_with(&mut again, 2);
    assert!(stderr.contains("has no earlier image recorded"), "{stderr}");
}
