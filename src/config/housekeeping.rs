//! `cleanup`'s and `prune`'s settings.

use super::{ConfigError, RepositoryName, function, parse, parse_registry};
use crate::ci::CiContext;
use crate::cli::{CleanupArgs, HousekeepingArgs, OutputFormat, PruneArgs};
use crate::model::ProgressMode;

#[derive(Debug, Clone)]
pub struct HousekeepingConfig {
    /// One, or with `[images]` each image's.
    pub repositories: Vec<RepositoryName>,
    /// Plain function names (an ARN's name part).
    pub functions: Vec<String>,
    pub aws: super::AwsAccess,
    pub registry_override: Option<String>,
    pub output: OutputFormat,
    pub progress: ProgressMode,
}

impl HousekeepingConfig {
    fn from_args(args: HousekeepingArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let file = function::read_file(args.config.as_deref(), &args.context)?;
        let (repositories, named) =
            super::images::repository_and_names(args.repository, &args.functions, file)?;
        // Previews are named after the plain name, in the run's account and Region.
        let mut functions: Vec<String> = Vec::new();
        for name in named {
            let name = crate::lambda::plain_name(&name).to_string();
            if !functions.contains(&name) {
                functions.push(name);
            }
        }
        Ok(HousekeepingConfig {
            repositories,
            functions,
            aws: parse::AwsAccess::from_args(args.role, args.region, args.aws_timeout, ci)?,
            registry_override: args.registry.map(|r| parse_registry(&r)).transpose()?,
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
        let names = common.functions.iter().map(String::as_str).collect();
        let feedback = super::feedback_config(args.comment, names, None);
        Ok(CleanupConfig {
            common,
            pull_request,
            // The run's commit is the pull request's head only in its own run.
            head_sha: ci
                .sha
                .clone()
                .filter(|_| ci.change_number == Some(pull_request)),
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
