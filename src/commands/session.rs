//! The AWS session a command opens: the role assumed with the CI's OIDC
//! token through STS, or the standard credential chain.

use crate::ci::{CiContext, Env};
use crate::config::RoleConfig;
use crate::error::Error;
use crate::model::{AssumedRole, Platform};
use crate::progress::Progress;
use crate::report::Stage;
use crate::sandbox::RenewCredentials;
use crate::{aws, identity};
use futures_util::future::BoxFuture;
use std::collections::BTreeMap;

/// The AWS session of a command that stops at its first error (cleanup,
/// prune, history, rollback): the stage it failed at is not reported.
pub(crate) async fn command_session(
    access: &crate::config::AwsAccess,
    ci: &CiContext,
    env: &Env,
    progress: &Progress,
) -> Result<aws_config::SdkConfig, Error> {
    aws_session(
        access.role.as_ref(),
        access.region.as_deref(),
        access.aws_timeout,
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

/// `deploy --local-credentials execution-role`: a short session of the
/// execution role of each architecture's locally run function (the first
/// one of that architecture), assumed before anything is built, as Lambda
/// gives a function its role's credentials; and what renews it when a long
/// build would let it end before the run. Masked on GitHub Actions before
/// anything could print them.
pub(crate) async fn execution_role_sessions(
    sdk: &aws_config::SdkConfig,
    specs: &mut [crate::lambda::FunctionSpec],
    commit: &crate::model::CommitSha,
    ci: &CiContext,
    progress: &Progress,
) -> Result<std::sync::Arc<dyn RenewCredentials>, (Stage, Error)> {
    let mut sessions = RoleSessions {
        sdk: sdk.clone(),
        roles: BTreeMap::new(),
        session_name: format!("lambda-ship-local-{}", &commit.as_str()[..12]),
        ci: ci.clone(),
    };
    let mut assumed: BTreeMap<String, AssumedRole> = BTreeMap::new();
    for spec in specs.iter_mut() {
        let Some(role) = spec.role.clone() else {
            continue;
        };
        if sessions.roles.contains_key(&spec.arch) {
            continue;
        }
        sessions.roles.insert(spec.arch, role.clone());
        if !assumed.contains_key(&role) {
            progress.say(&format!("assuming {role} for the local run"));
            let session = sessions
                .assume(&role)
                .await
                .map_err(|e| (Stage::Identity, Error::NotDeployed(Box::new(e.into()))))?;
            assumed.insert(role.clone(), session);
        }
        spec.local.credentials = assumed.get(&role).cloned();
    }
    Ok(std::sync::Arc::new(sessions))
}

/// The execution role of each architecture's local run, assumed again when asked.
#[derive(Debug)]
struct RoleSessions {
    sdk: aws_config::SdkConfig,
    roles: BTreeMap<Platform, String>,
    session_name: String,
    ci: CiContext,
}

impl RoleSessions {
    async fn assume(&self, role: &str) -> Result<AssumedRole, identity::IdentityError> {
        let session = identity::assume_execution_role(&self.sdk, role, &self.session_name).await?;
        identity::mask_on_github(&self.ci, &session);
        Ok(session)
    }
}

impl RenewCredentials for RoleSessions {
    fn renew(&self, platform: Platform) -> BoxFuture<'_, Result<AssumedRole, String>> {
        Box::pin(async move {
            let role = self
                .roles
                .get(&platform)
                .ok_or_else(|| format!("{platform} has no execution role to renew"))?;
            self.assume(role).await.map_err(|e| e.to_string())
        })
    }
}
