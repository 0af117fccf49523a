//! The IAM a deploy needs (`lambda-ship policy`): the role's trust policy
//! for the CI's OIDC provider, narrowed to one repository or project, and
//! its least-privilege permissions, narrowed to one ECR repository, the
//! named functions (their versions and aliases) and one execution role.
//! Plain values in, JSON documents out.

use serde_json::{Value, json};

/// The tag that marks a preview (`lambda::preview::PREVIEW_OF_TAG`).
const PREVIEW_TAG: &str = "lambda-ship:preview-of";

/// Where the OIDC token comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forge {
    /// `OWNER/REPO` on GitHub Actions.
    GitHub { repository: String },
    /// A GitLab project path, on the GitLab at `host` (e.g. `gitlab.com`).
    GitLab { host: String, project: String },
}

/// What `--sign-key` calls on its key: checked, read, asked to sign.
const KMS_SIGN_ACTIONS: &[&str] = &["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"];
/// What `--require-signature` calls on its key: its public half, read.
const KMS_VERIFY_ACTIONS: &[&str] = &["kms:GetPublicKey"];

/// What the documents are narrowed to.
#[derive(Debug, Clone)]
pub struct PolicyRequest {
    pub partition: String,
    pub account: String,
    pub region: String,
    /// One, or with `[images]` each image's.
    pub repositories: Vec<String>,
    /// Names or function ARNs.
    pub functions: Vec<String>,
    pub execution_role: Option<String>,
    pub forge: Forge,
    pub audience: String,
    /// Also what `deploy --preview`, `cleanup` and `prune` call.
    pub previews: bool,
    /// The alarms a rollout reads (`deploy --rollback-alarm`).
    pub rollback_alarms: Vec<String>,
    /// A rollout reads the new versions' error rate (`deploy --max-error-rate`).
    pub error_rate_gate: bool,
    /// The local smoke test gets a session of the execution role (`deploy
    /// --local-credentials execution-role`).
    pub local_credentials: bool,
    /// The KMS key images are signed with (`--sign-key`).
    pub sign_key: Option<String>,
    /// The KMS key signatures are checked against (`--require-signature`).
    pub verify_key: Option<String>,
}

/// A policy's resource: a string when there is one, else a list.
fn one_or_list(mut resources: Vec<String>) -> serde_json::Value {
    if resources.len() == 1 {
        resources
            .pop()
            .map_or(serde_json::Value::Null, serde_json::Value::String)
    } else {
        json!(resources)
    }
}

/// The ECR API actions a deploy calls on its repository, and the registry
/// actions a push and the cache's reads need.
pub const ECR_REPOSITORY_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchDeleteImage",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:CreateRepository",
    "ecr:DescribeImageScanFindings",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetLifecyclePolicy",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:PutLifecyclePolicy",
    "ecr:UploadLayerPart",
];

/// What a preview's deploy and cleanup read of the preview functions (one
/// that does not exist yet has no tag to condition on).
pub const PREVIEW_READ_ACTIONS: &[&str] = &[
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionUrlConfig",
    "lambda:GetPolicy",
];

/// What creates a preview: only with its `lambda-ship:preview-of` tag.
pub const PREVIEW_CREATE_ACTIONS: &[&str] = &["lambda:CreateFunction", "lambda:TagResource"];

/// What changes a preview: only a function tagged as a preview of a named one.
pub const PREVIEW_CHANGE_ACTIONS: &[&str] = &[
    "lambda:AddPermission",
    "lambda:CreateFunctionUrlConfig",
    "lambda:DeleteFunction",
    "lambda:DeleteFunctionUrlConfig",
    "lambda:InvokeFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
];

/// The Lambda actions a deploy, `history` and `rollback` call on the functions.
pub const LAMBDA_ACTIONS: &[&str] = &[
    "lambda:AddPermission",
    "lambda:CreateAlias",
    "lambda:CreateFunctionUrlConfig",
    "lambda:GetAlias",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:GetFunctionUrlConfig",
    "lambda:GetPolicy",
    "lambda:InvokeFunction",
    "lambda:ListAliases",
    "lambda:ListVersionsByFunction",
    "lambda:PublishVersion",
    "lambda:TagResource",
    "lambda:UpdateAlias",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:UpdateFunctionUrlConfig",
];

impl PolicyRequest {
    fn function_arn(&self, name: &str) -> String {
        if name.starts_with("arn:") {
            name.to_string()
        } else {
            format!(
                "arn:{}:lambda:{}:{}:function:{name}",
                self.partition, self.region, self.account
            )
        }
    }

    /// The role's trust policy: the CI's OIDC provider, this repository only.
    pub fn trust(&self) -> Value {
        let (host, subject) = match &self.forge {
            Forge::GitHub { repository } => (
                "token.actions.githubusercontent.com".to_string(),
                format!("repo:{repository}:*"),
            ),
            Forge::GitLab { host, project } => (host.clone(), format!("project_path:{project}:*")),
        };
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "DeployFromCi",
                "Effect": "Allow",
                "Principal": {
                    "Federated": format!(
                        "arn:{}:iam::{}:oidc-provider/{host}",
                        self.partition, self.account
                    )
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": { format!("{host}:aud"): self.audience },
                    "StringLike": { format!("{host}:sub"): subject }
                }
            }]
        })
    }

    /// The role's permissions: what a deploy calls, on what it names.
    /// A KMS statement narrowed to one key: its ARN, or for an alias the
    /// account's keys that carry that alias (`kms:ResourceAliases`).
    fn narrow_to_key(&self, statement: &mut Value, key: &str) {
        let keys = format!(
            "arn:{}:kms:{}:{}:key/",
            self.partition, self.region, self.account
        );
        let alias = key
            .strip_prefix("arn:")
            .and_then(|arn| arn.split_once(":alias/"))
            .map(|(_, name)| format!("alias/{name}"))
            .or_else(|| key.starts_with("alias/").then(|| key.to_string()));
        match alias {
            Some(alias) => {
                statement["Resource"] = json!(format!("{keys}*"));
                statement["Condition"] =
                    json!({"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}});
            }
            None if key.starts_with("arn:") => statement["Resource"] = json!(key),
            None => statement["Resource"] = json!(format!("{keys}{key}")),
        }
    }

    pub fn permissions(&self) -> Value {
        // Each function, then its versions and aliases.
        let arns: Vec<String> = self
            .functions
            .iter()
            .map(|f| self.function_arn(f))
            .collect();
        let functions: Vec<String> = arns
            .iter()
            .cloned()
            .chain(arns.iter().map(|a| format!("{a}:*")))
            .collect();
        let mut lambda: Vec<&str> = LAMBDA_ACTIONS.to_vec();
        let mut statements = vec![
            json!({
                "Sid": "EcrLogin",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                // GetAuthorizationToken has no resource to narrow to.
                "Resource": "*"
            }),
            json!({
                "Sid": "EcrRepository",
                "Effect": "Allow",
                "Action": ECR_REPOSITORY_ACTIONS,
                "Resource": one_or_list(
                    self.repositories
                        .iter()
                        .map(|r| {
                            format!(
                                "arn:{}:ecr:{}:{}:repository/{r}",
                                self.partition, self.region, self.account
                            )
                        })
                        .collect()
                )
            }),
        ];
        if self.previews {
            // Each function's previews: `<name>-pr<N>`. A name too long for
            // that with a pull request number of up to ten digits is named by
            // its start and a digest (`preview_name`), which keeps at least
            // the name's first 42 characters whatever the number's length.
            let previews: Vec<String> = arns
                .iter()
                .map(|a| {
                    let (head, name) = a.rsplit_once(":function:").unwrap_or((a, ""));
                    if name.len() + "-pr".len() + 10 <= 64 {
                        format!("{head}:function:{name}-pr*")
                    } else {
                        format!("{head}:function:{}*", &name[..name.len().min(42)])
                    }
                })
                .collect();
            // The names narrow the previews loosely (`orders-pr*` also
            // matches `orders-prod`): the tag decides what may change.
            let names: Vec<&str> = arns
                .iter()
                .map(|a| a.rsplit_once(":function:").map_or(a.as_str(), |(_, n)| n))
                .collect();
            statements.push(json!({
                "Sid": "ReadPreviews",
                "Effect": "Allow",
                "Action": PREVIEW_READ_ACTIONS,
                "Resource": previews
            }));
            statements.push(json!({
                "Sid": "CreatePreviews",
                "Effect": "Allow",
                "Action": PREVIEW_CREATE_ACTIONS,
                "Resource": previews,
                "Condition": {
                    "StringEquals": { format!("aws:RequestTag/{PREVIEW_TAG}"): names }
                }
            }));
            statements.push(json!({
                "Sid": "ChangePreviews",
                "Effect": "Allow",
                "Action": PREVIEW_CHANGE_ACTIONS,
                "Resource": previews,
                "Condition": {
                    "StringEquals": { format!("aws:ResourceTag/{PREVIEW_TAG}"): names }
                }
            }));
            statements.push(json!({
                "Sid": "FindPreviews",
                "Effect": "Allow",
                "Action": "lambda:ListFunctions",
                // ListFunctions has no resource to narrow to.
                "Resource": "*"
            }));
        }
        if let Some(role) = self
            .execution_role
            .as_ref()
            .filter(|_| self.local_credentials)
        {
            // A short session of the role for the local run: the role's
            // trust policy must name the deploy role too (docs/local.md).
            statements.push(json!({
                "Sid": "LocalRunCredentials",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": role
            }));
        }
        if let Some(role) = &self.execution_role {
            lambda.push("lambda:CreateFunction");
            statements.push(json!({
                "Sid": "PassExecutionRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": role,
                "Condition": {
                    "StringEquals": { "iam:PassedToService": "lambda.amazonaws.com" }
                }
            }));
        }
        if !self.rollback_alarms.is_empty() {
            let alarms: Vec<String> = self
                .rollback_alarms
                .iter()
                .map(|a| {
                    format!(
                        "arn:{}:cloudwatch:{}:{}:alarm:{a}",
                        self.partition, self.region, self.account
                    )
                })
                .collect();
            statements.push(json!({
                "Sid": "RolloutAlarms",
                "Effect": "Allow",
                "Action": "cloudwatch:DescribeAlarms",
                "Resource": alarms
            }));
        }
        if self.error_rate_gate {
            statements.push(json!({
                "Sid": "RolloutErrorRate",
                "Effect": "Allow",
                "Action": "cloudwatch:GetMetricData",
                // GetMetricData has no resource to narrow to.
                "Resource": "*"
            }));
        }
        let keys = [
            ("SignImages", &self.sign_key, KMS_SIGN_ACTIONS),
            ("VerifySignatures", &self.verify_key, KMS_VERIFY_ACTIONS),
        ];
        for (sid, key, actions) in keys {
            if let Some(key) = key {
                let mut statement = json!({"Sid": sid, "Effect": "Allow", "Action": actions});
                self.narrow_to_key(&mut statement, key);
                statements.push(statement);
            }
        }
        lambda.sort_unstable();
        lambda.dedup();
        statements.insert(
            2,
            json!({
                "Sid": "LambdaFunctions",
                "Effect": "Allow",
                "Action": lambda,
                "Resource": functions
            }),
        );
        json!({ "Version": "2012-10-17", "Statement": statements })
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod policy_tests;
