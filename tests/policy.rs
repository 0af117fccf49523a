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
        ("GET", 3, _) => "GetFunction",
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
    let ctx = fixture_copy();
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

    let out = lambda_ship()
        .args(["policy", "--repository", &repo, "--function", &f])
        .args(["--execution-role", FUNCTION_ROLE])
        .args(["--github-repository", "acme/orders", "--region", REGION])
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let permissions = &printed["permissions_policy"];

    let called: BTreeSet<(String, String)> = proxy
        .seen()
        .iter()
        .filter_map(|s| action_of(s, &repo))
        .collect();
    for (action, resource) in &called {
        assert!(
            allows(permissions, action, resource),
            "{action} on {resource} is not allowed by:\n{permissions:#}"
        );
    }
    // Every Lambda action granted is one a deploy calls.
    let granted: BTreeSet<String> = permissions["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .filter(|a| a.starts_with("lambda:"))
        .collect();
    let called_actions: BTreeSet<String> = called.iter().map(|(a, _)| a.clone()).collect();
    let lambda_called: BTreeSet<String> = called_actions
        .iter()
        .filter(|a| a.starts_with("lambda:"))
        .cloned()
        .collect();
    assert_eq!(granted, lambda_called);
    // The ECR API actions a deploy calls are granted; the rest of the
    // repository's grant is what a push and a pull need of the registry.
    for statement in permissions["Statement"].as_array().unwrap() {
        if statement["Resource"] == "*" {
            assert_eq!(statement["Action"], "ecr:GetAuthorizationToken");
        }
    }
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
