//! `deploy --execution-role`: a function that does not exist yet is created
//! as a container-image function of the named architecture, running the
//! image by digest; without the flag, or without an architecture, or with a
//! role that is not a role ARN, nothing is created (exit 2).

mod common;

use common::*;

fn missing(name: &str) -> bool {
    !aws_output(&["lambda", "get-function", "--function-name", name])
        .status
        .success()
}

#[test]
fn a_missing_function_is_created_with_its_architecture_and_a_public_url() {
    let repo = unique("create");
    let f = unique("fn-new");
    let sha = random_sha();

    let err = fails_with(&mut deploy_fixture(&repo, &sha, &[&f]), 2);
    assert!(
        err.contains(&format!("the function {f} does not exist")),
        "{err}"
    );
    assert!(err.contains("--execution-role ARN"), "{err}");
    let err = fails_with(
        deploy_fixture(&repo, &sha, &[&f]).args(["--execution-role", FUNCTION_ROLE]),
        2,
    );
    assert!(
        err.contains(&format!("--function {f}:x86_64 or --function {f}:arm64")),
        "{err}"
    );
    let err = fails_with(
        deploy_fixture(&repo, &sha, &[&format!("{f}:arm64")])
            .args(["--execution-role", "lambda-ship-test-function"]),
        2,
    );
    assert!(err.contains("is not an IAM role ARN"), "{err}");
    assert!(missing(&f), "nothing is created by a refused run");

    let (report, _) = build_ok(deploy_fixture(&repo, &sha, &[&format!("{f}:arm64")]).args([
        "--execution-role",
        FUNCTION_ROLE,
        "--function-url",
        "public",
    ]));
    let function = &report["functions"][0];
    assert_eq!(function["created"], true, "{function}");
    let live = aws(&["lambda", "get-function", "--function-name", &f]);
    assert_eq!(live["Configuration"]["PackageType"], "Image");
    assert_eq!(live["Configuration"]["Architectures"][0], "arm64");
    assert_eq!(
        live["Code"]["ImageUri"],
        image(&report["build"], "arm64")["deploy_uri"],
        "the new function runs the image by digest"
    );
    assert!(
        function["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http")),
        "{function}"
    );
}
