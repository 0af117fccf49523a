//! The IAM documents `lambda-ship policy` prints: each statement narrowed to
//! what a deploy names, and every preview a deploy makes inside them.

use super::*;
use crate::lambda::preview::preview_name;

fn request() -> PolicyRequest {
    PolicyRequest {
        partition: "aws-cn".into(),
        account: "123456789012".into(),
        region: "cn-north-1".into(),
        repository: "team/orders".into(),
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
mod documents {
    use super::*;

    fn request() -> PolicyRequest {
        PolicyRequest {
            partition: "aws".into(),
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            repository: "orders".into(),
            functions: vec![
                "orders-api".into(),
                "arn:aws:lambda:eu-west-1:123456789012:function:orders-worker".into(),
            ],
            execution_role: Some("arn:aws:iam::123456789012:role/orders-fn".into()),
            forge: Forge::GitHub {
                repository: "acme/orders".into(),
            },
            audience: "sts.amazonaws.com".into(),
            previews: false,
            rollback_alarms: Vec::new(),
            error_rate_gate: false,
        }
    }

    #[test]
    fn only_the_login_is_on_every_resource() {
        let doc = request().permissions();
        let statements = doc["Statement"].as_array().unwrap();
        let star: Vec<&Value> = statements.iter().filter(|s| s["Resource"] == "*").collect();
        assert_eq!(star.len(), 1);
        assert_eq!(star[0]["Action"], "ecr:GetAuthorizationToken");
        let lambda = &statements[2];
        assert_eq!(
            lambda["Resource"],
            json!([
                "arn:aws:lambda:eu-west-1:123456789012:function:orders-api",
                "arn:aws:lambda:eu-west-1:123456789012:function:orders-worker",
                "arn:aws:lambda:eu-west-1:123456789012:function:orders-api:*",
                "arn:aws:lambda:eu-west-1:123456789012:function:orders-worker:*",
            ])
        );
        assert!(
            lambda["Action"]
                .to_string()
                .contains("lambda:CreateFunction\"")
        );
        let pass = &statements[3];
        assert_eq!(pass["Resource"], "arn:aws:iam::123456789012:role/orders-fn");
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            "lambda.amazonaws.com"
        );
    }

    #[test]
    fn previews_are_narrowed_to_the_functions_names_and_only_listing_is_on_every_resource() {
        let doc = PolicyRequest {
            previews: true,
            ..request()
        }
        .permissions();
        let statements = doc["Statement"].as_array().unwrap();
        let star: Vec<String> = statements
            .iter()
            .filter(|s| s["Resource"] == "*")
            .map(|s| s["Action"].to_string())
            .collect();
        assert_eq!(
            star,
            ["\"ecr:GetAuthorizationToken\"", "\"lambda:ListFunctions\""]
        );
        let sid = |sid: &str| statements.iter().find(|s| s["Sid"] == sid).unwrap();
        let previews = sid("ChangePreviews");
        assert_eq!(
            previews["Condition"]["StringEquals"]["aws:ResourceTag/lambda-ship:preview-of"],
            json!(["orders-api", "orders-worker"]),
            "a function named like a preview is not one without the tag"
        );
        assert_eq!(
            sid("CreatePreviews")["Condition"]["StringEquals"]["aws:RequestTag/lambda-ship:preview-of"]
                [0],
            "orders-api"
        );
        assert_eq!(
            previews["Resource"][0],
            "arn:aws:lambda:eu-west-1:123456789012:function:orders-api-pr*"
        );
        assert!(
            previews["Action"]
                .to_string()
                .contains("lambda:DeleteFunction\"")
        );
    }

    #[test]
    fn without_an_execution_role_nothing_is_created_or_passed() {
        let doc = PolicyRequest {
            execution_role: None,
            ..request()
        }
        .permissions()
        .to_string();
        assert!(!doc.contains("CreateFunction\"") && !doc.contains("iam:PassRole"));
    }

    #[test]
    fn the_trust_is_narrowed_to_the_repository_or_project() {
        let github = request().trust().to_string();
        assert!(
            github.contains("\"token.actions.githubusercontent.com:sub\":\"repo:acme/orders:*\"")
        );
        let gitlab = PolicyRequest {
            forge: Forge::GitLab {
                host: "gitlab.example.com".into(),
                project: "acme/orders".into(),
            },
            ..request()
        }
        .trust()
        .to_string();
        assert!(gitlab.contains("oidc-provider/gitlab.example.com"));
        assert!(gitlab.contains("\"gitlab.example.com:sub\":\"project_path:acme/orders:*\""));
    }
}
