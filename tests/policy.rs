//! `lambda-ship policy`: every call a deploy makes (recorded through the
//! test proxy: a function created with its configuration, an alias, a public
//! then an IAM URL, a later code and configuration change) is allowed by the
//! printed permissions, each Lambda action it grants is one a deploy calls,
//! and nothing is on every resource but the ECR login.

mod common;

use common::proxy::{Proxy, Seen};
use common::*;
use std::collections::BTreeSet;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// The IAM action and resource of one recorded AWS request; None for a
/// request that needs no permission (GetCallerIdentity).
fn action_of(s: &Seen, repo: &str) -> Option<(String, String)> {
    if let Some(op) = s
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix("GraniteServiceVersion20100801."))
    {
        return Some(match op {
            "DescribeAlarms" => {
                let body: serde_json::Value = serde_json::from_str(&s.body).unwrap();
                let name = body["AlarmNames"][0].as_str().unwrap().to_string();
                (
                    "cloudwatch:DescribeAlarms".into(),
                    format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"),
                )
            }
            other => (format!("cloudwatch:{other}"), "*".into()),
        });
    }
    if let Some(target) = s.header("x-amz-target") {
        let op = target.rsplit('.').next().unwrap_or_default();
        let resource = if op == "GetAuthorizationToken" {
            "*".to_string()
        } else {
            format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repo}")
        };
        return Some((format!("ecr:{op}"), resource));
    }
    if s.body.contains("Action=GetCallerIdentity") {
        return None;
    }
    if s.body.contains("Action=AssumeRole&") {
        let role = form_urlencoded::parse(s.body.as_bytes())
            .find(|(k, _)| k == "RoleArn")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        return Some(("sts:AssumeRole".into(), role));
    }
    if let Some(arn) = s.uri.strip_prefix("/2017-03-31/tags/") {
        let arn = arn.replace("%3A", ":");
        assert_eq!(s.method, "POST", "{}", s.uri);
        return Some(("lambda:TagResource".into(), arn));
    }
    let (path, query) = s.uri.split_once('?').unwrap_or((&s.uri, ""));
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    assert!(
        parts.len() >= 2 && parts[1] == "functions",
        "not Lambda: {}",
        s.uri
    );
    let name = parts.get(2).copied().unwrap_or_default();
    let rest = parts.get(3).copied().unwrap_or_default();
    let op = match (s.method.as_str(), parts.len(), rest) {
        ("POST", 2, _) => "CreateFunction",
        ("GET", 2, _) => return Some(("lambda:ListFunctions".into(), "*".into())),
        ("GET", 3, _) => "GetFunction",
        ("DELETE", 3, _) => "DeleteFunction",
        ("DELETE", _, "url") => "DeleteFunctionUrlConfig",
        ("GET", 4, "versions") => "ListVersionsByFunction",
        ("GET", 4, "aliases") => "ListAliases",
        ("GET", _, "configuration") => "GetFunctionConfiguration",
        ("PUT", _, "configuration") => "UpdateFunctionConfiguration",
        ("PUT", _, "code") => "UpdateFunctionCode",
        ("POST", _, "versions") => "PublishVersion",
        ("GET", _, "aliases") => "GetAlias",
        ("POST", _, "aliases") => "CreateAlias",
        ("PUT", _, "aliases") => "UpdateAlias",
        ("POST", _, "invocations") => "InvokeFunction",
        ("GET", _, "url") => "GetFunctionUrlConfig",
        ("POST", _, "url") => "CreateFunctionUrlConfig",
        ("PUT", _, "url") => "UpdateFunctionUrlConfig",
        ("GET", _, "policy") => "GetPolicy",
        ("POST", _, "policy") => "AddPermission",
        other => panic!("an unmapped Lambda call {other:?}: {}", s.uri),
    };
    let qualifier = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("Qualifier="))
        .or_else(|| (rest == "aliases").then(|| parts.get(4).copied()).flatten());
    let created: serde_json::Value = serde_json::from_str(&s.body).unwrap_or_default();
    let name = if op == "CreateFunction" {
        created["FunctionName"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    } else {
        name.to_string()
    };
    let mut arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");
    if let Some(q) = qualifier {
        arn = format!("{arn}:{q}");
    }
    Some((format!("lambda:{op}"), arn))
}

/// Every IAM action one request needs: creating a function with tags
/// needs `lambda:TagResource` too.
fn actions_of(s: &Seen, repo: &str) -> Vec<(String, String)> {
    let Some((action, resource)) = action_of(s, repo) else {
        return Vec::new();
    };
    let body: serde_json::Value = serde_json::from_str(&s.body).unwrap_or_default();
    let mut all = vec![(action.clone(), resource.clone())];
    if action == "lambda:CreateFunction" && body["Tags"].is_object() {
        all.push(("lambda:TagResource".into(), resource));
    }
    all
}

fn matches(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            text.starts_with(head) && text.len() >= head.len() + tail.len() && text.ends_with(tail)
        }
    }
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

fn allows(policy: &serde_json::Value, action: &str, resource: &str) -> bool {
    policy["Statement"].as_array().unwrap().iter().any(|s| {
        s["Effect"] == "Allow"
            && strings(&s["Action"]).iter().any(|a| matches(a, action))
            && strings(&s["Resource"]).iter().any(|r| matches(r, resource))
    })
}

#[test]
fn the_printed_policy_allows_every_call_a_deploy_makes_and_no_more_lambda_than_it_calls() {
    let repo = unique("policy");
    let f = unique("fn-policy");
    let target = format!("{f}:x86_64");
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    // A context of its own: the other policy test builds beside it.
    let ctx = fixture_copy();
    let handler = ctx.path().join("function/handler.sh");
    let own = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(&handler, format!("{own}\n# {repo}\n")).unwrap();
    let deploy = |extra: &[&str]| {
        let mut cmd = deploy_in(ctx.path(), &repo, &random_sha(), &[&target]);
        cmd.args(["--execution-role", FUNCTION_ROLE, "--alias", "live"])
            .args(extra)
            .env("AWS_ENDPOINT_URL", &proxy.url);
        build_ok(&mut cmd);
    };
    deploy(&[
        "--function-url",
        "public",
        "--memory",
        "256",
        "--env",
        "STAGE=one",
    ]);
    // A change of code too: the second deploy updates it.
    let handler = ctx.path().join("function/handler.sh");
    let text = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(&handler, format!("{text}\n# changed\n")).unwrap();
    deploy(&[
        "--function-url",
        "iam",
        "--memory",
        "512",
        "--env",
        "STAGE=two",
    ]);
    let mut dry = deploy_in(ctx.path(), &repo, &random_sha(), &[&target]);
    dry.args(["--alias", "live", "--dry-run"])
        .env("AWS_ENDPOINT_URL", &proxy.url);
    build_ok(&mut dry);
    // A rollout gated by an alarm and the error rate, then the history
    // read and the release taken back.
    let alarm = common::releases::alarm("OK");
    // A local run with a session of the execution role.
    deploy(&["--local-credentials", "execution-role"]);
    deploy(&[
        "--env",
        "STAGE=three",
        "--rollout",
        "canary:10:1s",
        "--rollback-alarm",
        &alarm,
        "--max-error-rate",
        "50",
    ]);
    for command in [
        vec!["history", "--function", &f],
        vec!["rollback", "--function", &f, "--alias", "live"],
    ] {
        lambda_ship()
            .args(&command)
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .assert()
            .success();
    }

    let printed = printed_policy(
        &repo,
        &f,
        &[
            "--rollback-alarm",
            &alarm,
            "--error-rate-gate",
            "--local-credentials",
            "execution-role",
        ],
    );
    let permissions = &printed["permissions_policy"];
    covers_exactly(&proxy.seen(), &repo, permissions);
    for statement in permissions["Statement"].as_array().unwrap() {
        if statement["Resource"] == "*" {
            // Neither has a resource to narrow to.
            assert!(
                statement["Action"] == "ecr:GetAuthorizationToken"
                    || statement["Action"] == "cloudwatch:GetMetricData",
                "{statement}"
            );
        }
    }
    // Without the gates' flags, no CloudWatch at all.
    let plain = printed_policy(&repo, &f, &[]);
    assert!(!plain.to_string().contains("cloudwatch:"));
    assert!(!plain.to_string().contains("\"sts:AssumeRole\""));
    // CreateFunction passed the execution role: PassRole on it, to Lambda only.
    let pass = permissions["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == "iam:PassRole")
        .expect("a PassRole statement");
    assert_eq!(pass["Resource"], FUNCTION_ROLE);
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "lambda.amazonaws.com"
    );
    let trust = &printed["trust_policy"]["Statement"][0];
    assert_eq!(
        trust["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
        "repo:acme/orders:*"
    );
}

/// `lambda-ship policy` for one repository and function, as JSON.
fn printed_policy(repo: &str, function: &str, extra: &[&str]) -> serde_json::Value {
    let out = lambda_ship()
        .args(["policy", "--repository", repo, "--function", function])
        .args(["--execution-role", FUNCTION_ROLE])
        .args(["--github-repository", "acme/orders", "--region", REGION])
        .args(["--output", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every recorded call is allowed, and every Lambda action granted was called.
fn covers_exactly(seen: &[Seen], repo: &str, permissions: &serde_json::Value) {
    let called: BTreeSet<(String, String)> =
        seen.iter().flat_map(|s| actions_of(s, repo)).collect();
    for (action, resource) in &called {
        assert!(
            allows(permissions, action, resource),
            "{action} on {resource} is not allowed by:\n{permissions:#}"
        );
    }
    let granted: BTreeSet<String> = permissions["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .filter(|a| a.starts_with("lambda:") || a.starts_with("cloudwatch:"))
        .collect();
    let lambda_called: BTreeSet<String> = called
        .iter()
        .map(|(a, _)| a.clone())
        .filter(|a| a.starts_with("lambda:") || a.starts_with("cloudwatch:"))
        .collect();
    assert_eq!(granted, lambda_called, "granted vs called");
}

#[test]
fn the_policy_with_previews_covers_exactly_preview_deploys_cleanup_and_prune() {
    let repo = unique("policy-pv");
    let f = unique("fn-policy-pv");
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    let at = |cmd: &mut assert_cmd::Command| {
        cmd.env("AWS_ENDPOINT_URL", &proxy.url);
    };
    // A context of its own: the other policy test builds beside it.
    let ctx = fixture_copy();
    let handler = ctx.path().join("function/handler.sh");
    let own = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(&handler, format!("{own}\n# {repo}\n")).unwrap();
    let mut first = deploy_in(ctx.path(), &repo, &random_sha(), &[&format!("{f}:x86_64")]);
    first.args([
        "--execution-role",
        FUNCTION_ROLE,
        "--alias",
        "live",
        "--function-url",
        "public",
    ]);
    first.args(["--memory", "256"]);
    at(&mut first);
    build_ok(&mut first);
    let handler = ctx.path().join("function/handler.sh");
    let text = std::fs::read_to_string(&handler).unwrap();
    std::fs::write(&handler, format!("{text}\n# changed\n")).unwrap();
    let mut second = deploy_in(ctx.path(), &repo, &random_sha(), &[&f]);
    second.args([
        "--alias",
        "live",
        "--function-url",
        "iam",
        "--memory",
        "512",
    ]);
    at(&mut second);
    build_ok(&mut second);

    let dir = tempfile::tempdir().unwrap();
    let head = random_sha();
    let event = pull_request_event(dir.path(), 31, &head);
    let pull_request = |cmd: &mut assert_cmd::Command| {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REPOSITORY", "acme/orders");
    };
    std::fs::write(&handler, format!("{text}\n# the pull request\n")).unwrap();
    for memory in ["640", "768"] {
        let mut preview = deploy_in(ctx.path(), &repo, &head, &[&f]);
        preview.args(["--preview", "--memory", memory]);
        at(&mut preview);
        pull_request(&mut preview);
        build_ok(&mut preview);
    }
    let mut cleanup = lambda_ship();
    cleanup.args(["cleanup", "--repository", &repo, "--function", &f]);
    at(&mut cleanup);
    pull_request(&mut cleanup);
    build_ok(&mut cleanup);
    let mut prune = lambda_ship();
    prune.args([
        "prune",
        "--repository",
        &repo,
        "--function",
        &f,
        "--keep",
        "1",
    ]);
    at(&mut prune);
    build_ok(&mut prune);

    let printed = printed_policy(&repo, &f, &["--previews"]);
    covers_exactly(&proxy.seen(), &repo, &printed["permissions_policy"]);
}

#[test]
fn the_policy_command_refuses_what_it_cannot_narrow() {
    for (args, expected) in [
        (
            vec!["--function", "fn", "--region", REGION, "--account", ACCOUNT],
            "--github-repository",
        ),
        (
            vec![
                "--function",
                "fn",
                "--github-repository",
                "acme",
                "--region",
                REGION,
                "--account",
                ACCOUNT,
            ],
            "is not OWNER/REPO",
        ),
        (
            vec![
                "--function",
                "fn",
                "--github-repository",
                "a/b",
                "--region",
                REGION,
            ],
            "--account",
        ),
        (
            vec![
                "--function",
                "fn",
                "--github-repository",
                "a/b",
                "--account",
                ACCOUNT,
                "--execution-role",
                "role/x",
            ],
            "not an IAM role ARN",
        ),
    ] {
        let err = fails_with(
            lambda_ship()
                .args(["policy", "--repository", "orders"])
                .args(&args)
                .env_remove("AWS_REGION"),
            2,
        );
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn the_examples_are_what_the_command_prints() {
    let out = lambda_ship()
        .args(["policy", "--repository", "orders"])
        .args(["--function", "orders-x86", "--function", "orders-arm"])
        .args(["--github-repository", "acme/orders", "--account", ACCOUNT])
        .args(["--region", "eu-west-1", "--output", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/examples");
    for (file, key) in [
        ("iam-trust-policy.json", "trust_policy"),
        ("iam-permissions-policy.json", "permissions_policy"),
    ] {
        let text = std::fs::read_to_string(examples.join(file)).unwrap();
        let example: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            example, printed[key],
            "{file}: regenerate it with lambda-ship policy"
        );
    }
}
