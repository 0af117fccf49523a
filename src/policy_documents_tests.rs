//! The documents for one GitHub repository, statement by statement.

use super::*;

fn request() -> PolicyRequest {
    PolicyRequest {
        partition: "aws".into(),
        account: "123456789012".into(),
        region: "eu-west-1".into(),
        repositories: vec!["orders".into()],
        functions: vec![
            "orders-api".into(),
            "arn:aws:lambda:eu-west-1:123456789012:function:orders-worker".into(),
        ],
        execution_role: Some("arn:aws:iam::123456789012:role/orders-fn".into()),
        // The same GitHub repository, audience and options as the others.
        ..super::request()
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
    assert!(github.contains("\"token.actions.githubusercontent.com:sub\":\"repo:acme/orders:*\""));
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

#[test]
fn each_image_s_repository_is_a_resource_of_its_own() {
    let mut req = request();
    req.repositories = vec!["orders-api".into(), "orders-worker".into()];
    let doc = req.permissions();
    let ecr = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "EcrRepository")
        .unwrap();
    assert_eq!(
        ecr["Resource"],
        json!([
            "arn:aws:ecr:eu-west-1:123456789012:repository/orders-api",
            "arn:aws:ecr:eu-west-1:123456789012:repository/orders-worker",
        ])
    );
}
