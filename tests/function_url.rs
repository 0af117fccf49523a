//! `--function-url public|iam`: the function (or its alias) gets a URL of
//! that auth type, and a public one the two resource-policy statements a
//! public URL needs; run again, nothing is added twice.

mod common;

use common::*;

/// The statements of a function's (or alias's) resource policy.
fn statements(function: &str, qualifier: Option<&str>) -> Vec<serde_json::Value> {
    let mut args = vec!["lambda", "get-policy", "--function-name", function];
    if let Some(q) = qualifier {
        args.extend(["--qualifier", q]);
    }
    let out = aws(&args);
    let policy: serde_json::Value =
        serde_json::from_str(out["Policy"].as_str().expect("a policy")).expect("JSON");
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_public_function_url_is_made_with_both_permissions_and_an_iam_one_on_request() {
    let repo = unique("url");
    let f = unique("fn-url");
    create_function(&f, "x86_64", false);
    let sha = random_sha();
    let deploy = |auth: &str| {
        let mut cmd = deploy_fixture(&repo, &sha, &[&f]);
        cmd.args(["--alias", "live", "--function-url", auth]);
        build_ok(&mut cmd).0
    };
    let report = deploy("public");
    let url = report["functions"][0]["url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(url.starts_with("http"), "{report}");
    let config = aws(&[
        "lambda",
        "get-function-url-config",
        "--function-name",
        &f,
        "--qualifier",
        "live",
    ]);
    assert_eq!(config["AuthType"], "NONE");
    assert_eq!(config["FunctionUrl"], url.as_str());
    let policy = statements(&f, Some("live"));
    let actions: Vec<&str> = policy.iter().filter_map(|s| s["Action"].as_str()).collect();
    assert!(actions.contains(&"lambda:InvokeFunctionUrl"), "{policy:?}");
    assert!(actions.contains(&"lambda:InvokeFunction"), "{policy:?}");
    for s in &policy {
        assert!(s["Principal"] == "*" || s["Principal"]["AWS"] == "*", "{s}");
    }

    // Again: the same URL, and no statement added twice.
    let again = deploy("public");
    assert_eq!(again["functions"][0]["url"], url.as_str());
    assert_eq!(statements(&f, Some("live")).len(), policy.len());

    // iam: the same URL, now signed requests only.
    deploy("iam");
    let config = aws(&[
        "lambda",
        "get-function-url-config",
        "--function-name",
        &f,
        "--qualifier",
        "live",
    ]);
    assert_eq!(config["AuthType"], "AWS_IAM");
}
