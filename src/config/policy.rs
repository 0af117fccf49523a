//! `lambda-ship policy`'s settings: what the printed documents are narrowed to.

use super::{ConfigError, function};
use crate::cli::PolicyArgs;
use crate::policy::{Forge, PolicyRequest};

pub fn policy_request(args: PolicyArgs) -> Result<PolicyRequest, ConfigError> {
    let mut file = function::read_file(args.config.as_deref(), std::path::Path::new("."))?;
    let execution_role = args.execution_role.or(file.execution_role.take());
    let (repositories, functions) =
        super::images::repository_and_names(args.repository, &args.functions, file)?;
    match &execution_role {
        Some(role) => super::deploy::check_role_arn(role)?,
        None if args.local_credentials.is_some() => {
            return Err(ConfigError::Policy(
                "--local-credentials execution-role needs the role the functions run as, which \
                 the deploy role assumes for their local run: pass --execution-role"
                    .into(),
            ));
        }
        None if args.previews => {
            return Err(ConfigError::Policy(
                "--previews needs the role the functions run as, which their previews run as \
                 too: pass --execution-role"
                    .into(),
            ));
        }
        None => {}
    }
    let forge = match (args.github_repository, args.gitlab_project) {
        (Some(repo), None) => {
            let ok = repo.split('/').count() == 2
                && repo.split('/').all(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                });
            if !ok {
                return Err(ConfigError::Policy(format!(
                    "--github-repository '{repo}' is not OWNER/REPO"
                )));
            }
            Forge::GitHub { repository: repo }
        }
        (None, Some(project)) => {
            let host = args
                .gitlab_url
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_string();
            let ok = project.contains('/')
                && project.split('/').all(|p| !p.is_empty())
                && !project.contains(['*', ':', ' '])
                && !host.is_empty()
                && !host.contains(['/', ' ']);
            if !ok {
                return Err(ConfigError::Policy(format!(
                    "--gitlab-project '{project}' is not GROUP/PROJECT on {host}"
                )));
            }
            Forge::GitLab { host, project }
        }
        _ => {
            return Err(ConfigError::Policy(
                "name the CI that deploys: --github-repository OWNER/REPO or --gitlab-project \
                 GROUP/PROJECT"
                    .into(),
            ));
        }
    };
    // The account and Region of an ARN named, else the flags.
    let from_arn = |i: usize| {
        functions
            .iter()
            .filter_map(|f| crate::lambda::arn_region_account(f))
            .map(|(region, account)| [region, account][i].to_string())
            .next()
    };
    let account = args
        .account
        .or_else(|| {
            execution_role
                .as_ref()
                .and_then(|r| r.split(':').nth(4))
                .map(str::to_string)
        })
        .or_else(|| from_arn(1))
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            ConfigError::Policy("pass --account with the 12-digit AWS account ID".into())
        })?;
    let region = args
        .region
        .or_else(|| from_arn(0))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ConfigError::Policy("pass --region, the functions' AWS Region".into()))?;
    Ok(PolicyRequest {
        partition: "aws".into(),
        account,
        region,
        repositories: repositories.iter().map(ToString::to_string).collect(),
        functions,
        execution_role,
        forge,
        audience: args.audience,
        previews: args.previews,
        rollback_alarms: args.rollback_alarms,
        error_rate_gate: args.error_rate_gate,
        local_credentials: args.local_credentials.is_some(),
        sign_key: args.sign_key,
        verify_key: args.require_signature,
    })
}
