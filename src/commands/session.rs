//! The AWS session a command opens: the role assumed with the CI's OIDC
//! token through STS, or the standard credential chain.

use crate::ci::{CiContext, Env};
use crate::config::RoleConfig;
use crate::error::Error;
use crate::progress::Progress;
use crate::report::Stage;
use crate::{aws, identity};

/// The AWS session of cleanup and prune.
pub(crate) async fn housekeeping_session(
    config: &crate::config::HousekeepingConfig,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<aws_config::SdkConfig, Error> {
    aws_session(
        config.role.as_ref(),
        config.region.as_deref(),
        config.aws_timeout,
        ci,
        env,
        progress,
    )
    .await
    .map_err(|(_, e)| e)
}

/// The AWS session of history and rollback.
pub(crate) async fn release_session(
    config: &crate::config::ReleaseConfig,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<aws_config::SdkConfig, Error> {
    aws_session(
        config.role.as_ref(),
        config.region.as_deref(),
        config.aws_timeout,
        ci,
        env,
        progress,
    )
    .await
    .map_err(|(_, e)| e)
}

/// The AWS configuration of a run: the role assumed with the CI's OIDC
/// token, or the standard credential chain.
pub(crate) async fn aws_session(
    role: Option<&RoleConfig>,
    region: Option<&str>,
    aws_timeout: std::time::Duration,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<aws_config::SdkConfig, (Stage, Error)> {
    let Some(role) = role else {
        return aws::sdk_config(region, aws_timeout)
            .await
            .map_err(|e| (Stage::Configuration, e.into()));
    };
    let source =
        identity::token_source(role, ci, env).map_err(|e| (Stage::Configuration, e.into()))?;
    let base = aws::sdk_config(region, aws_timeout)
        .await
        .map_err(|e| (Stage::Configuration, e.into()))?;
    progress.say(&format!("assuming {} as {}", role.arn, role.session_name));
    let token = identity::web_identity_token(&source, &role.audience, env)
        .await
        .map_err(|e| (Stage::Identity, e.into()))?;
    let assumed = identity::assume_role(&base, role, &token)
        .await
        .map_err(|e| (Stage::Identity, e.into()))?;
    identity::mask_on_github(ci, &assumed);
    aws::sdk_config_with(region, &assumed, aws_timeout)
        .await
        .map_err(|e| (Stage::Identity, e.into()))
}

/// `deploy --local-credentials execution-role`: a short session of each
/// function's execution role (one per role), which its local run gets as
/// Lambda gives a function its role's credentials. Masked on GitHub Actions
/// before anything could print them.
pub(crate) async fn execution_role_sessions(
    sdk: &aws_config::SdkConfig,
    specs: &mut [crate::lambda::FunctionSpec],
    commit: &crate::model::CommitSha,
    ci: &CiContext,
    progress: &Progress,
) -> Result<(), (Stage, Error)> {
    let session_name = format!("lambda-ship-local-{}", &commit.as_str()[..12]);
    let mut sessions: std::collections::BTreeMap<String, crate::model::AssumedRole> =
        std::collections::BTreeMap::new();
    for spec in specs.iter_mut() {
        let Some(role) = spec.role.clone() else {
            continue;
        };
        if !sessions.contains_key(&role) {
            progress.say(&format!("assuming {role} for the local run"));
            let assumed = identity::assume_execution_role(sdk, &role, &session_name)
                .await
                .map_err(|e| (Stage::Identity, Error::NotDeployed(Box::new(e.into()))))?;
            identity::mask_on_github(ci, &assumed);
            sessions.insert(role.clone(), assumed);
        }
        spec.local.credentials = sessions.get(&role).cloned();
    }
    Ok(())
}
