//! The flags of `cleanup` and `prune`: which repository and functions, and
//! how to reach them.

use super::{CommentArg, OutputFormat, ProgressArg};
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
    /// IAM role to assume with the CI's OIDC token.
    #[arg(long, env = "LAMBDA_SHIP_ROLE_ARN")]
    pub role_arn: Option<String>,
    /// Audience of the OIDC token requested from GitHub Actions.
    #[arg(
        long,
        env = "LAMBDA_SHIP_AUDIENCE",
        default_value = "sts.amazonaws.com"
    )]
    pub audience: String,
    /// STS role session name [default: derived from the CI run].
    #[arg(long, env = "LAMBDA_SHIP_ROLE_SESSION_NAME")]
    pub role_session_name: Option<String>,
    /// Environment variable that holds the OIDC token (a GitLab `id_tokens` entry).
    #[arg(long, env = "LAMBDA_SHIP_WEB_IDENTITY_TOKEN_ENV")]
    pub web_identity_token_env: Option<String>,
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
    /// Update the living comment to say the preview was removed.
    #[arg(long, env = "LAMBDA_SHIP_COMMENT", value_enum, default_value_t = CommentArg::Auto)]
    pub comment: CommentArg,
    /// The deploy's comment key [default: the functions' names].
    #[arg(long, env = "LAMBDA_SHIP_COMMENT_KEY")]
    pub comment_key: Option<String>,
    /// Token for the GitHub comment.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,
    /// Token for the GitLab merge-request note.
    #[arg(long, env = "GITLAB_TOKEN", hide_env_values = true)]
    pub gitlab_token: Option<String>,
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
