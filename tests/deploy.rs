//! `lambda-ship deploy` against moto and the registry, with a GitHub OIDC
//! double and a fault-injecting proxy in front of moto.

mod common;

use common::proxy::{Proxy, Rule};
use common::*;

const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvd2lkZ2V0cyJ9.c2lnbmF0dXJl";
const REQUEST_TOKEN: &str = "gha-request-token-8c1f5d";
const GITHUB_TOKEN: &str = "ghs_comment_token_41c7e2";

/// The value of `<Tag>…</Tag>` in an STS XML answer.
fn xml_value(xml: &str, tag: &str) -> String {
    let start = xml.find(&format!("<{tag}>")).expect(tag) + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>")).expect(tag) + start;
    xml[start..end].to_string()
}

#[test]
fn a_github_deploy_assumes_the_role_and_points_each_function_at_its_own_digest() {
    let repo = unique("deploy");
    let (fx86, farm) = (unique("fn-x86"), unique("fn-arm"));
    create_function(&fx86, "x86_64", false);
    create_function(&farm, "arm64", true);

    let github = Proxy::start(None);
    github.on(Rule::new("GET", "/oidc/token").respond(
        200,
        &[("Content-Type", "application/json")],
        &format!(r#"{{"count":1,"value":"{JWT}"}}"#),
    ));
    let aws_proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    let forge = common::forge::Forge::start();

    let head = random_sha();
    let dir = tempfile::tempdir().unwrap();
    let event = pull_request_event(dir.path(), 12, &head);
    let report_path = dir.path().join("report.json");

    let out = lambda_ship()
        .args([
            "deploy",
            "--repository",
            &repo,
            "--function",
            &fx86,
            "--function",
            &farm,
        ])
        .arg("--context")
        .arg(fixture())
        .args(["--role-arn", "arn:aws:iam::123456789012:role/gha-deploy"])
        // moto's Lambda answers with the event it was sent.
        .args([
            "--smoke-event",
            r#"{"probe":"smoke-7f3a"}"#,
            "--smoke-expect",
            "smoke-7f3a",
        ])
        .arg("--report-json")
        .arg(&report_path)
        .env("AWS_ENDPOINT_URL", &aws_proxy.url)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_SHA", random_sha())
        .env("GITHUB_RUN_ID", "4242")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/oidc/token?api-version=2.0", github.url),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
        // The comment, outputs and summary, to be searched for secrets too.
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_API_URL", &forge.url)
        .env("GITHUB_TOKEN", GITHUB_TOKEN)
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stdout}\n{stderr}");

    // The OIDC token was asked for with the right audience and request token.
    let asked = github.seen_matching("GET", "/oidc/token");
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].uri.contains("api-version=2.0")
            && asked[0].uri.contains("audience=sts.amazonaws.com"),
        "{}",
        asked[0].uri
    );
    assert_eq!(
        asked[0].header("authorization"),
        Some(format!("Bearer {REQUEST_TOKEN}").as_str())
    );

    // The role was assumed with it, and its credentials served ECR and Lambda.
    let sts: Vec<_> = aws_proxy
        .seen()
        .into_iter()
        .filter(|s| s.body.contains("Action=AssumeRoleWithWebIdentity"))
        .collect();
    assert_eq!(sts.len(), 1);
    assert!(
        sts[0]
            .body
            .contains("RoleSessionName=lambda-ship-github-4242-2"),
        "{}",
        sts[0].body
    );
    assert!(sts[0].body.contains(JWT));
    let key_id = xml_value(&sts[0].response_body, "AccessKeyId");
    let secret = xml_value(&sts[0].response_body, "SecretAccessKey");
    let session = xml_value(&sts[0].response_body, "SessionToken");
    let signed: Vec<_> = aws_proxy
        .seen()
        .into_iter()
        .filter(|s| {
            s.uri.contains("/functions/")
                || s.header("x-amz-target")
                    .is_some_and(|t| t.contains("EC2ContainerRegistry"))
        })
        .collect();
    assert!(!signed.is_empty());
    for s in &signed {
        let auth = s.header("authorization").unwrap_or_default();
        assert!(
            auth.contains(&format!("Credential={key_id}/")),
            "{} {auth}",
            s.uri
        );
    }

    // Each function points at the image of its own architecture, by digest.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["commit"], head.as_str());
    assert_eq!(report["change_number"], 12);
    for (name, arch) in [(&fx86, "x86_64"), (&farm, "arm64")] {
        let deploy_uri = image(&report["build"], arch)["deploy_uri"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            deploy_uri.contains(&format!("/{repo}@sha256:")),
            "{deploy_uri}"
        );
        let live = aws(&["lambda", "get-function", "--function-name", name]);
        assert_eq!(live["Code"]["ImageUri"], deploy_uri.as_str());
        let f = report["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name.as_str())
            .unwrap();
        assert_eq!(f["architecture"], arch);
        assert_eq!(f["image_after"], deploy_uri.as_str());
        assert_eq!(
            f["image_before"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest"
        );
        assert_eq!(f["smoke"]["passed"], true);
        assert_eq!(f["smoke"]["status"], 200);
        assert!(
            f["smoke"]["payload"]
                .as_str()
                .unwrap()
                .contains("smoke-7f3a")
        );
    }
    let x86_digest = image(&report["build"], "x86_64")["digest"].clone();
    assert_ne!(x86_digest, image(&report["build"], "arm64")["digest"]);
    let url_of = |name: &str| {
        report["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap()["url"]
            .clone()
    };
    assert!(
        url_of(&farm)
            .as_str()
            .unwrap()
            .contains(".lambda-url.us-east-1.on.aws")
    );
    assert!(url_of(&fx86).is_null(), "a function without a URL has none");

    // GitHub masks the credentials; nothing else ever shows a secret: not the
    // output streams, the report, the step outputs, the summary or the comment.
    assert!(stderr.contains(&format!("::add-mask::{secret}")));
    let comments = forge.comments("acme/widgets#12");
    assert_eq!(comments.len(), 1, "the deploy was commented");
    let files: Vec<String> = ["output", "summary"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join(f)).unwrap())
        .chain([std::fs::read_to_string(&report_path).unwrap()])
        .chain(comments)
        .collect();
    assert!(
        files[0].contains("image-uri-arm64<<"),
        "the outputs were written"
    );
    // The runner consumes ::add-mask:: lines; everything else is shown.
    let shown: String = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| !l.starts_with("::add-mask::"))
        .chain(files.iter().flat_map(|f| f.lines()))
        .collect::<Vec<_>>()
        .join("\n");
    for s in [
        secret.as_str(),
        session.as_str(),
        key_id.as_str(),
        "123456789012-auth-token",
        REQUEST_TOKEN,
        JWT,
        GITHUB_TOKEN,
    ] {
        assert!(!shown.contains(s), "a secret was shown: {s}");
    }
}

/// `lambda-ship deploy` as a plain process, with the test bed's environment.
fn deploy_process(
    repo: &str,
    context: &std::path::Path,
    functions: &[&str],
) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("lambda-ship"));
    cmd.args(["deploy", "--repository", repo, "--sha", &random_sha()])
        .arg("--context")
        .arg(context)
        .env_clear()
        .envs(testbed_env());
    for f in functions {
        cmd.args(["--function", f]);
    }
    cmd
}

#[test]
fn a_cancelled_run_stops_its_builds_and_reports_every_function() {
    let repo = unique("cancel");
    let (fx86, farm) = (unique("fn-cancel-x86"), unique("fn-cancel-arm"));
    create_function(&fx86, "x86_64", false);
    create_function(&farm, "arm64", false);
    let ctx = common::process::slow_context();
    let report = ctx.path().join("report.json");
    let mut cmd = deploy_process(&repo, ctx.path(), &[&fx86, &farm]);
    cmd.args(["--alias", "live"])
        .arg("--report-json")
        .arg(&report);
    let started = std::time::Instant::now();
    let (code, stderr) = common::process::run_until(
        cmd,
        |l| l.contains("sleep 6"),
        |pid| {
            // As a CI runner cancels a job.
            std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .unwrap();
        },
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "it stops, it does not hang"
    );
    assert!(stderr.contains("cancelled by SIGTERM"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(report["failure"]["stage"], "build");
    let functions = report["functions"].as_array().unwrap();
    assert_eq!(functions.len(), 2, "every function's state is reported");
    for f in functions {
        assert_eq!(f["updated"], false);
        assert_eq!(f["error"], "not deployed: the run was cancelled");
    }
    for f in [&fx86, &farm] {
        let live = aws(&["lambda", "get-function", "--function-name", f]);
        assert_eq!(
            live["Code"]["ImageUri"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest"
        );
    }
}

/// The path of a Lambda REST operation on one function.
fn fn_path(name: &str, rest: &str) -> String {
    format!("/functions/{name}{rest}")
}

#[test]
fn the_alias_moves_on_a_passing_smoke_test_and_stays_on_a_failing_one() {
    let repo = unique("alias");
    let name = unique("fn-alias");
    create_function(&name, "x86_64", false);
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    // An update already in progress twice, and throttling once: both waited out.
    proxy.on(Rule::new("PUT", &fn_path(&name, "/code"))
        .times(2)
        .aws_error(
            409,
            "ResourceConflictException",
            "An update is in progress for resource",
        ));
    proxy.on(Rule::new("GET", &fn_path(&name, "")).nth(1).aws_error(
        429,
        "TooManyRequestsException",
        "Rate exceeded",
    ));

    let alias_version = || {
        aws(&[
            "lambda",
            "get-alias",
            "--function-name",
            &name,
            "--name",
            "live",
        ])["FunctionVersion"]
            .clone()
    };

    let (first, _) = build_ok(
        deploy_fixture(&repo, &random_sha(), &[&name])
            .args(["--alias", "live"])
            .env("AWS_ENDPOINT_URL", &proxy.url),
    );
    assert_eq!(
        proxy.seen_matching("PUT", &fn_path(&name, "/code")).len(),
        3
    );
    let f = &first["functions"][0];
    assert_eq!(f["alias"]["moved"], true);
    let version = f["version"].as_str().unwrap().to_string();
    assert_eq!(alias_version(), version.as_str());
    assert_eq!(
        f["smoke"]["qualifier"],
        version.as_str(),
        "the new version is what is tested"
    );

    // Now the new version fails its smoke test: the alias must not move.
    proxy.on(Rule::new("POST", &fn_path(&name, "/invocations")).respond(
        200,
        &[
            ("X-Amz-Function-Error", "Unhandled"),
            ("Content-Type", "application/json"),
        ],
        r#"{"errorType":"Error","errorMessage":"boom: cannot reach the database"}"#,
    ));
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let stderr = fails_with(
        deploy_fixture(&repo, &random_sha(), &[&name])
            .args(["--alias", "live"])
            .arg("--report-json")
            .arg(&report_path)
            .env("AWS_ENDPOINT_URL", &proxy.url),
        1,
    );
    assert!(
        stderr.contains("smoke test failed") && stderr.contains("boom"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("the alias live stays on {version}")),
        "{stderr}"
    );
    assert_eq!(alias_version(), version.as_str());
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["failure"]["stage"], "deploy");
    let f = &report["functions"][0];
    assert_eq!(f["alias"]["moved"], false);
    assert_eq!(f["smoke"]["passed"], false);
    assert_eq!(f["smoke"]["function_error"], "Unhandled");
}

#[test]
fn a_deploy_that_fails_part_way_says_which_functions_were_updated() {
    let repo = unique("partial");
    let (good, bad) = (unique("fn-good"), unique("fn-bad"));
    create_function(&good, "x86_64", false);
    create_function(&bad, "x86_64", false);
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    proxy.on(Rule::new("PUT", &fn_path(&bad, "/code")).aws_error(
        400,
        "InvalidParameterValueException",
        "Source image is not valid",
    ));
    let dir = tempfile::tempdir().unwrap();
    let report_path = dir.path().join("report.json");
    let stderr = fails_with(
        deploy_fixture(&repo, &random_sha(), &[&good, &bad])
            .arg("--no-smoke")
            .arg("--report-json")
            .arg(&report_path)
            .env("AWS_ENDPOINT_URL", &proxy.url),
        1,
    );
    // The facts, from the report: one outcome each, in one shape.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
    let function = |name: &str| {
        let all = report["functions"].as_array().unwrap();
        all.iter().find(|f| f["name"] == name).unwrap().clone()
    };
    let (g, b) = (function(&good), function(&bad));
    assert_eq!(
        (&g["outcome"], &g["updated"], &g["error"]),
        (&"deployed".into(), &true.into(), &serde_json::Value::Null),
        "{g}"
    );
    assert_eq!(
        (&b["outcome"], &b["updated"]),
        (&"not updated".into(), &false.into()),
        "{b}"
    );
    assert!(
        b["error"]
            .as_str()
            .unwrap()
            .contains("Source image is not valid"),
        "{b}"
    );
    // The words a user reads.
    assert!(stderr.contains(&format!("{good} (x86_64): updated to 123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}@sha256:")), "{stderr}");
    assert!(stderr.contains(&format!("{bad} (x86_64): NOT updated, still on 123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest")), "{stderr}");
    assert!(stderr.contains("Source image is not valid"), "{stderr}");
}

#[test]
fn bad_input_is_refused_before_anything_is_built_or_deployed() {
    let repo = unique("refused");
    let image_fn = unique("fn-image");
    create_function(&image_fn, "x86_64", false);
    let zip_fn = unique("fn-zip");
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("f.zip");
    // A minimal zip archive with one empty file.
    std::process::Command::new("python3")
        .args(["-c", "import sys,zipfile; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('a.py',''); z.close()"])
        .arg(&zip)
        .status()
        .unwrap();
    aws(&[
        "lambda",
        "create-function",
        "--function-name",
        &zip_fn,
        "--runtime",
        "python3.12",
        "--handler",
        "a.b",
        "--role",
        FUNCTION_ROLE,
        "--zip-file",
        &format!("fileb://{}", zip.display()),
    ]);

    // The flags, the environment, and what the error must say.
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec!["--function".into(), unique("fn-missing")],
            vec![],
            "does not exist",
        ),
        (
            vec!["--function".into(), zip_fn.clone()],
            vec![],
            "is a .zip function",
        ),
        (
            vec![
                "--function".into(),
                image_fn.clone(),
                "--role-arn".into(),
                "arn:aws:iam::12:role/x".into(),
            ],
            vec![],
            "is not an IAM role ARN",
        ),
        (
            vec![
                "--function".into(),
                image_fn.clone(),
                "--smoke-event".into(),
                "{not json".into(),
            ],
            vec![],
            "--smoke-event is not JSON",
        ),
        (
            vec![
                "--function".into(),
                image_fn.clone(),
                "--role-arn".into(),
                "arn:aws:iam::123456789012:role/deploy".into(),
            ],
            vec![
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_SHA", "0000000000000000000000000000000000000000"),
            ],
            "id-token: write",
        ),
    ];
    for (args, env, expected) in cases {
        let mut cmd = lambda_ship();
        cmd.args(["deploy", "--repository", &repo, "--sha", &random_sha()])
            .arg("--context")
            .arg(fixture())
            .args(&args)
            .envs(env);
        let stderr = fails_with(&mut cmd, 2);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // Nothing was built or pushed for any of them, and nothing changed.
    let out = aws_output(&["ecr", "describe-repositories", "--repository-names", &repo]);
    assert!(!out.status.success(), "the repository must not exist");
    let live = aws(&["lambda", "get-function", "--function-name", &image_fn]);
    assert_eq!(
        live["Code"]["ImageUri"],
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest"
    );
}

#[test]
fn gitlab_id_tokens_and_token_files_are_exchanged_for_the_role() {
    let repo = unique("tokens");
    let name = unique("fn-tokens");
    create_function(&name, "arm64", false);
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "file-jwt-3b9e\n").unwrap();

    // The token, the environment that carries it, and the flags.
    type Run<'a> = (&'a str, Vec<(&'a str, String)>, Vec<&'a str>);
    let runs: [Run; 2] = [
        (
            "gitlab-jwt-77a1",
            vec![
                ("GITLAB_CI", "true".into()),
                ("CI_COMMIT_SHA", random_sha()),
                ("CI_PIPELINE_ID", "991".into()),
                ("AWS_ID_TOKEN", "gitlab-jwt-77a1".into()),
            ],
            vec!["--web-identity-token-env", "AWS_ID_TOKEN"],
        ),
        (
            "file-jwt-3b9e",
            vec![(
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                token_file.display().to_string(),
            )],
            vec![],
        ),
    ];
    for (jwt, env, args) in runs {
        let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
        // STS throttles and ECR fails once each: the SDK's retry gets through.
        proxy.on(
            Rule::new("POST", "/")
                .body_contains("Action=AssumeRoleWithWebIdentity")
                .nth(1)
                .respond(
                    400,
                    &[("Content-Type", "text/xml")],
                    "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>\
                     <Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>",
                ),
        );
        proxy.on(Rule::new("POST", "/")
            .header_contains("x-amz-target", "GetAuthorizationToken")
            .nth(1)
            .aws_error(500, "ServerException", "internal error"));
        let mut cmd = lambda_ship();
        cmd.args([
            "deploy",
            "--repository",
            &repo,
            "--function",
            &name,
            "--no-smoke",
        ])
        .args(["--sha", &random_sha()])
        .arg("--context")
        .arg(fixture())
        .args(["--role-arn", "arn:aws:iam::123456789012:role/deploy"])
        .args(args)
        .envs(env)
        .env("AWS_ENDPOINT_URL", &proxy.url);
        build_ok(&mut cmd);
        let sts: Vec<_> = proxy
            .seen()
            .into_iter()
            .filter(|s| s.body.contains("Action=AssumeRoleWithWebIdentity"))
            .collect();
        assert_eq!(sts.len(), 2, "throttled once, then assumed: {jwt}");
        assert!(
            sts[1].body.contains(&format!("WebIdentityToken={jwt}")),
            "{}",
            sts[1].body
        );
        let tokens = proxy
            .seen()
            .into_iter()
            .filter(|s| {
                s.header("x-amz-target")
                    .is_some_and(|t| t.contains("GetAuthorizationToken"))
            })
            .count();
        assert_eq!(tokens, 2, "ECR's 500 was retried");
    }
}

#[test]
fn an_engine_lost_mid_build_fails_its_platform_and_nothing_is_deployed() {
    let repo = unique("lost");
    let (fx86, farm) = (unique("fn-lost-x86"), unique("fn-lost-arm"));
    create_function(&fx86, "x86_64", false);
    create_function(&farm, "arm64", false);
    // A build slow enough to lose its engine in the middle of.
    let dir = common::process::slow_context();
    let relay = common::relay::Relay::to_unix(ENGINE_B);
    let mut cmd = deploy_process(&repo, dir.path(), &[&fx86, &farm]);
    cmd.arg(format!("--builder=linux/arm64={}", relay.endpoint));
    let (code, stderr) = common::process::run_until(
        cmd,
        |l| l.contains("linux/arm64") && l.contains("sleep 6"),
        |_| relay.cut(),
    );
    assert_eq!(code, Some(1), "{stderr}");
    let error = &stderr[stderr.find("error:").expect("an error")..];
    assert!(
        error.contains(&format!(
            "linux/arm64: the build on {} failed",
            relay.endpoint
        )),
        "{error}"
    );
    assert!(
        error.contains("linux/amd64: not pushed"),
        "the other platform is reported: {error}"
    );
    assert!(error.contains("Nothing was deployed"), "{error}");
    for f in [&fx86, &farm] {
        let live = aws(&["lambda", "get-function", "--function-name", f]);
        assert_eq!(
            live["Code"]["ImageUri"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest"
        );
    }
}

#[test]
fn a_slow_build_and_a_silent_aws_api_are_bounded() {
    let repo = unique("bounded");
    let name = unique("fn-bounded");
    create_function(&name, "x86_64", false);
    let ctx = common::process::slow_context();
    let stderr = fails_with(
        lambda_ship()
            .args([
                "deploy",
                "--repository",
                &repo,
                "--sha",
                &random_sha(),
                "--function",
                &name,
            ])
            .arg("--context")
            .arg(ctx.path())
            .args(["--build-timeout", "2"]),
        1,
    );
    assert!(
        stderr.contains("did not finish within --build-timeout (2 s)"),
        "{stderr}"
    );

    // Lambda stops answering: every attempt gives up after --aws-timeout.
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    proxy.on(Rule::new("GET", &fn_path(&name, "")).delay(std::time::Duration::from_secs(30)));
    let started = std::time::Instant::now();
    let stderr = fails_with(
        deploy_fixture(&repo, &random_sha(), &[&name])
            .args(["--aws-timeout", "1"])
            .env("AWS_ENDPOINT_URL", &proxy.url),
        1,
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "it gave up in time"
    );
    assert!(
        stderr.contains(&format!("reading the function {name} failed")),
        "{stderr}"
    );
    assert!(
        stderr.to_lowercase().contains("timeout") || stderr.to_lowercase().contains("timed out"),
        "{stderr}"
    );
}
