//! `cleanup`'s and `prune`'s settings.

use super::{ConfigError, RepositoryName, RoleConfig, function, parse, parse_registry};
use crate::ci::CiContext;
use crate::cli::{CleanupArgs, HousekeepingArgs, OutputFormat, PruneArgs};
use crate::model::{FunctionTarget, ProgressMode};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct HousekeepingConfig {
    pub repository: RepositoryName,
    /// Plain function names (an ARN's name part).
    pub functions: Vec<String>,
    pub role: Option<RoleConfig>,
    pub region: Option<String>,
    pub registry_override: Option<String>,
    pub aws_timeout: Duration,
    pub output: OutputFormat,
    pub progress: ProgressMode,
}

impl HousekeepingConfig {
    fn from_args(args: HousekeepingArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let file = function::read_file(args.config.as_deref(), &args.context)?;
        let repository: RepositoryName = args
            .repository
            .or(file.repository)
            .ok_or(ConfigError::NoRepository)?
            .parse()?;
        let named: Vec<String> = if args.functions.iter().any(|f| !f.trim().is_empty()) {
            args.functions
        } else {
            file.functions.keys().cloned().collect()
        };
        let mut functions = Vec::new();
        for f in named.iter().filter(|f| !f.trim().is_empty()) {
            let target: FunctionTarget = f.parse()?;
            let name = match target.name.rsplit_once(":function:") {
                Some((_, name)) => name.to_string(),
                None => target.name,
            };
            if !functions.contains(&name) {
                functions.push(name);
            }
        }
        if functions.is_empty() {
            return Err(ConfigError::NoFunction);
        }
        Ok(HousekeepingConfig {
            repository,
            functions,
            role: parse::role_config(
                args.role_arn,
                args.role_session_name,
                args.audience,
                args.web_identity_token_env,
                ci,
            )?,
            region: args.region,
            registry_override: args.registry.map(|r| parse_registry(&r)).transpose()?,
            aws_timeout: Duration::from_secs(args.aws_timeout.clamp(1, 3_600)),
            output: args.output,
            progress: super::progress_mode(args.progress, ci),
        })
    }
}

#[derive(Debug, Clone)]
pub struct CleanupConfig {
    pub common: HousekeepingConfig,
    pub pull_request: u64,
    /// The pull request's last head, whose images go too.
    pub head_sha: Option<String>,
    pub feedback: crate::feedback::FeedbackConfig,
}

impl CleanupConfig {
    pub fn from_args(args: CleanupArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let common = HousekeepingConfig::from_args(args.common, ci)?;
        let pull_request = args
            .pull_request
            .or(ci.change_number)
            .ok_or(ConfigError::CleanupOutsideChange)?;
        let mut names = common.functions.clone();
        names.sort_unstable();
        let feedback = crate::feedback::FeedbackConfig {
            comment: super::comment_mode(args.comment),
            github_token: args.github_token.filter(|t| !t.is_empty()).map(Into::into),
            gitlab_token: args.gitlab_token.filter(|t| !t.is_empty()).map(Into::into),
            comment_key: args.comment_key.unwrap_or_else(|| names.join(",")),
            dotenv: None,
        };
        Ok(CleanupConfig {
            common,
            pull_request,
            head_sha: ci.sha.clone(),
            feedback,
        })
    }
}

#[derive(Debug, Clone)]
pub struct PruneConfig {
    pub common: HousekeepingConfig,
    pub keep: usize,
    pub dry_run: bool,
}

impl PruneConfig {
    pub fn from_args(args: PruneArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        Ok(PruneConfig {
            common: HousekeepingConfig::from_args(args.common, ci)?,
            keep: args.keep,
            dry_run: args.dry_run,
        })
    }
}
