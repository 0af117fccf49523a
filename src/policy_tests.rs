//! The IAM documents `lambda-ship policy` prints: each statement narrowed to
//! what a deploy names, and every preview a deploy makes inside them.

use super::*;
use crate::lambda::preview::preview_name;

fn request() -> PolicyRequest {
    PolicyRequest {
        partition: "aws-cn".into(),
        account: "123456789012".into(),
        region: "cn-north-1".into(),
        repositories: vec!["team/orders".into()],
        functions: vec![
            "orders-api".into(),
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders-worker".into(),
        ],
        execution_role: None,
        forge: Forge::GitHub {
            repository: "acme/orders".into(),
        },
        audience: "sts.amazonaws.com".into(),
        previews: false,
        rollback_alarms: Vec::new(),
        error_rate_gate: false,
        local_credentials: false,
        sign_key: None,
        verify_key: None,
    }
}

fn sids(doc: &Value) -> Vec<String> {
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_string())
        .collect()
}

fn statement<'a>(doc: &'a Value, sid: &str) -> &'a Value {
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid}"))
}

/// IAM's wildcard match: `*` any run of characters, `?` one.
fn matches(pattern: &str, text: &str) -> bool {
    match (pattern.chars().next(), text.chars().next()) {
        (None, None) => true,
        (Some('*'), c) => {
            matches(&pattern[1..], text)
                || c.is_some_and(|c| matches(pattern, &text[c.len_utf8()..]))
        }
        (Some('?'), Some(c)) => matches(&pattern[1..], &text[c.len_utf8()..]),
        (Some(p), Some(c)) if p == c => matches(&pattern[1..], &text[c.len_utf8()..]),
        _ => false,
    }
}

#[test]
fn names_become_arns_of_the_partition_region_and_account() {
    let doc = request().permissions();
    assert_eq!(
        statement(&doc, "EcrRepository")["Resource"],
        "arn:aws-cn:ecr:cn-north-1:123456789012:repository/team/orders"
    );
    assert_eq!(
        statement(&doc, "LambdaFunctions")["Resource"][0],
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders-api",
        "a name is made an ARN"
    );
    assert_eq!(
        statement(&doc, "LambdaFunctions")["Resource"][1],
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:orders-worker",
        "an ARN is kept as given"
    );
    let trust = request().trust();
    assert_eq!(
        trust["Statement"][0]["Principal"]["Federated"],
        "arn:aws-cn:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    );
    assert_eq!(
        trust["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
}

#[test]
fn the_statements_are_those_the_options_ask_for_and_no_more() {
    let plain = request().permissions();
    assert_eq!(
        sids(&plain),
        ["EcrLogin", "EcrRepository", "LambdaFunctions"]
    );
    let both = PolicyRequest {
        previews: true,
        execution_role: Some("arn:aws-cn:iam::123456789012:role/fn".into()),
        ..request()
    }
    .permissions();
    assert_eq!(
        sids(&both),
        [
            "EcrLogin",
            "EcrRepository",
            "LambdaFunctions",
            "ReadPreviews",
            "CreatePreviews",
            "ChangePreviews",
            "FindPreviews",
            "PassExecutionRole"
        ]
    );
}

#[test]
fn the_functions_actions_are_sorted_once_each_and_grow_only_with_a_role() {
    let actions = |r: PolicyRequest| -> Vec<String> {
        statement(&r.permissions(), "LambdaFunctions")["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    let plain = actions(request());
    assert_eq!(plain.len(), LAMBDA_ACTIONS.len());
    // history and rollback read them, with or without previews.
    assert!(plain.iter().any(|a| a == "lambda:ListAliases"));
    let all = actions(PolicyRequest {
        previews: true,
        execution_role: Some("arn:aws-cn:iam::123456789012:role/fn".into()),
        ..request()
    });
    let mut sorted = all.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(all, sorted, "sorted, each once");
    for extra in [
        "lambda:ListAliases",
        "lambda:ListVersionsByFunction",
        "lambda:CreateFunction",
    ] {
        assert!(all.iter().any(|a| a == extra), "{extra} in {all:?}");
    }
    assert_eq!(all.len(), LAMBDA_ACTIONS.len() + 1);
}

#[test]
fn a_rollouts_gates_are_granted_only_when_named_and_alarms_only_those_named() {
    let plain = request().permissions();
    assert!(!plain.to_string().contains("cloudwatch:"));
    let gated = PolicyRequest {
        rollback_alarms: vec!["orders-5xx".into(), "orders-p99".into()],
        error_rate_gate: true,
        ..request()
    }
    .permissions();
    let alarms = statement(&gated, "RolloutAlarms");
    assert_eq!(alarms["Action"], "cloudwatch:DescribeAlarms");
    assert_eq!(
        alarms["Resource"],
        serde_json::json!([
            "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:orders-5xx",
            "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:orders-p99"
        ])
    );
    let metrics = statement(&gated, "RolloutErrorRate");
    assert_eq!(metrics["Action"], "cloudwatch:GetMetricData");
    assert_eq!(metrics["Resource"], "*");
}

#[test]
fn the_local_runs_credentials_are_a_session_of_the_execution_role_only_when_asked() {
    let role = "arn:aws-cn:iam::123456789012:role/orders-fn";
    let deploying = PolicyRequest {
        execution_role: Some(role.into()),
        ..request()
    };
    assert!(!sids(&deploying.permissions()).contains(&"LocalRunCredentials".to_string()));
    let local = PolicyRequest {
        local_credentials: true,
        ..deploying
    }
    .permissions();
    let session = statement(&local, "LocalRunCredentials");
    assert_eq!(session["Action"], "sts:AssumeRole");
    assert_eq!(session["Resource"], role);
}

#[test]
fn a_name_too_long_for_a_suffix_narrows_its_previews_by_its_start() {
    let long = "a".repeat(60);
    let doc = PolicyRequest {
        functions: vec![long.clone()],
        previews: true,
        ..request()
    }
    .permissions();
    let resource = statement(&doc, "ChangePreviews")["Resource"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        resource,
        format!(
            "arn:aws-cn:lambda:cn-north-1:123456789012:function:{}*",
            "a".repeat(42)
        )
    );
    let arn = format!(
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:{}",
        preview_name(&long, 4321)
    );
    assert!(matches(&resource, &arn), "{arn} outside {resource}");
    assert!(!matches(
        &resource,
        "arn:aws-cn:lambda:cn-north-1:123456789012:function:b"
    ));
}

/// The preview each function gets for `pull_request` is inside the
/// resources of the statements that read, create and change previews.
fn previews_fit(pull_requests: &[u64]) -> Vec<String> {
    let mut outside = Vec::new();
    for len in 1..=64 {
        let name = "f".repeat(len);
        let doc = PolicyRequest {
            functions: vec![name.clone()],
            previews: true,
            ..request()
        }
        .permissions();
        let resource = statement(&doc, "CreatePreviews")["Resource"][0]
            .as_str()
            .unwrap()
            .to_string();
        for &pr in pull_requests {
            let arn = format!(
                "arn:aws-cn:lambda:cn-north-1:123456789012:function:{}",
                preview_name(&name, pr)
            );
            if !matches(&resource, &arn) {
                outside.push(format!("{len} characters, #{pr}: {arn} not in {resource}"));
            }
        }
    }
    outside
}

#[test]
fn every_preview_of_a_pull_request_numbered_below_100000_is_allowed() {
    let outside = previews_fit(&[1, 42, 999, 12_345, 99_999]);
    assert!(outside.is_empty(), "{outside:#?}");
}

#[test]
fn every_preview_up_to_a_ten_digit_pull_request_is_allowed() {
    let outside = previews_fit(&[123_456, 9_999_999_999]);
    assert!(outside.is_empty(), "{outside:#?}");
}

#[test]
fn a_gitlab_trust_is_of_its_own_host_and_audience() {
    let trust = PolicyRequest {
        forge: Forge::GitLab {
            host: "gitlab.com".into(),
            project: "acme/team/orders".into(),
        },
        audience: "https://gitlab.com".into(),
        ..request()
    }
    .trust();
    let statement = &trust["Statement"][0];
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    assert_eq!(
        statement["Condition"]["StringEquals"]["gitlab.com:aud"],
        "https://gitlab.com"
    );
    assert_eq!(
        statement["Condition"]["StringLike"]["gitlab.com:sub"],
        "project_path:acme/team/orders:*"
    );
    assert!(
        !trust.to_string().contains("githubusercontent"),
        "no GitHub provider on GitLab"
    );
}

/// The documents for one GitHub repository, statement by statement.
#[path = "policy_documents_tests.rs"]
mod documents;

#[test]
fn signing_may_use_its_key_only() {
    assert!(
        !sids(&request().permissions())
            .iter()
            .any(|s| s.contains("Sign"))
    );
    let by_id = PolicyRequest {
        sign_key: Some("1234abcd-12ab-34cd-56ef-1234567890ab".into()),
        verify_key: Some("arn:aws-cn:kms:cn-north-1:123456789012:key/k2".into()),
        ..request()
    }
    .permissions();
    let sign = statement(&by_id, "SignImages");
    assert_eq!(
        sign["Action"],
        json!(["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"])
    );
    assert_eq!(
        sign["Resource"],
        "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    );
    let verify = statement(&by_id, "VerifySignatures");
    assert_eq!(verify["Action"], json!(["kms:GetPublicKey"]));
    assert_eq!(
        verify["Resource"],
        "arn:aws-cn:kms:cn-north-1:123456789012:key/k2"
    );
    // An alias is not a resource of a KMS call: the keys carrying it are.
    for alias in [
        "alias/lambda-ship",
        "arn:aws-cn:kms:cn-north-1:123456789012:alias/lambda-ship",
    ] {
        let doc = PolicyRequest {
            sign_key: Some(alias.into()),
            ..request()
        }
        .permissions();
        let sign = statement(&doc, "SignImages");
        assert_eq!(
            sign["Resource"],
            "arn:aws-cn:kms:cn-north-1:123456789012:key/*"
        );
        assert_eq!(
            sign["Condition"]["ForAnyValue:StringEquals"]["kms:ResourceAliases"],
            "alias/lambda-ship"
        );
    }
}
