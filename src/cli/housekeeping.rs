//! The flags of `cleanup` and `prune`: which repository and functions, and
//! how to reach them.

use super::{OutputFormat, ProgressArg};
use crate::model::defaults;
use clap::Args;
use std::path::PathBuf;

/// Where the images and functions are, and who may touch them.
#[derive(Debug, Clone, Args)]
pub struct HousekeepingArgs {
    /// The ECR repository [default: the repository of lambda-ship.toml].
    #[arg(long, env = "LAMBDA_SHIP_REPOSITORY")]
    pub repository: Option<String>,
    /// A function whose images are kept while it runs them, NAME (repeatable)
    /// [default: the [functions.NAME] tables of lambda-ship.toml].
    #[arg(
        long = "function",
        env = "LAMBDA_SHIP_FUNCTIONS",
        value_delimiter = ','
    )]
    pub functions: Vec<String>,
    /// The configuration file [default: lambda-ship.toml in --context, when there is one].
    #[arg(long, env = "LAMBDA_SHIP_CONFIG")]
    pub config: Option<PathBuf>,
    /// The directory that holds lambda-ship.toml.
    #[arg(long, env = "LAMBDA_SHIP_CONTEXT", default_value = ".")]
    pub context: PathBuf,
    /// Also delete the images through this registry's API (HOST[:PORT]), where
    /// the deploys pushed them with --registry.
    #[arg(long, env = "LAMBDA_SHIP_REGISTRY")]
    pub registry: Option<String>,
    /// AWS Region [default: the standard AWS configuration].
    #[arg(long, env = "LAMBDA_SHIP_REGION")]
    pub region: Option<String>,
    #[command(flatten)]
    pub role: super::RoleArgs,
    /// How long one attempt of an AWS call may take, in seconds.
    #[arg(long, env = "LAMBDA_SHIP_AWS_TIMEOUT", default_value_t = defaults::AWS_TIMEOUT_SECS)]
    pub aws_timeout: u64,
    /// How to print the result on stdout.
    #[arg(long, env = "LAMBDA_SHIP_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// How to show progress on stderr.
    #[arg(long, env = "LAMBDA_SHIP_PROGRESS", value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
}

#[derive(Debug, Clone, Args)]
pub struct CleanupArgs {
    #[command(flatten)]
    pub common: HousekeepingArgs,
    /// The pull request whose previews go [default: the CI's].
    #[arg(long, env = "LAMBDA_SHIP_PULL_REQUEST")]
    pub pull_request: Option<u64>,
    /// The living comment, updated to say the previews were removed.
    #[command(flatten)]
    pub comment: super::CommentArgs,
}

#[derive(Debug, Clone, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub common: HousekeepingArgs,
    /// Keep the newest N images of each architecture, besides every image in use.
    #[arg(long, env = "LAMBDA_SHIP_KEEP")]
    pub keep: usize,
    /// Say what would be deleted, and delete nothing.
    #[arg(long, env = "LAMBDA_SHIP_DRY_RUN")]
    pub dry_run: bool,
}
