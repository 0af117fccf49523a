//! The flags of `history` and `rollback`: which functions and alias, what
//! to go back to, and how to reach them.

use super::{OutputFormat, ProgressArg, RoleArgs};
use crate::model::defaults;
use clap::Args;

/// How to reach the functions, and how to print: shared by history and rollback.
#[derive(Debug, Clone, Args)]
pub struct ReleaseArgs {
    /// AWS Region [default: the standard AWS configuration].
    #[arg(long, env = "LAMBDA_SHIP_REGION")]
    pub region: Option<String>,
    #[command(flatten)]
    pub role: RoleArgs,
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
pub struct HistoryArgs {
    /// The function, NAME or ARN.
    #[arg(long)]
    pub function: String,
    /// Only what this alias serves and served.
    #[arg(long)]
    pub alias: Option<String>,
    #[command(flatten)]
    pub common: ReleaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// A function to roll back, NAME or ARN (repeatable): all of them move
    /// together. A deploy's NAME:ARCH is taken as NAME.
    #[arg(
        long = "function",
        env = "LAMBDA_SHIP_FUNCTIONS",
        value_delimiter = ',',
        required = true
    )]
    pub functions: Vec<String>,
    /// The alias to move back. Without it, each function (deployed on
    /// $LATEST) goes back to the image it ran before, by digest.
    #[arg(long, env = "LAMBDA_SHIP_ALIAS")]
    pub alias: Option<String>,
    /// Go back to the newest version released from this commit (7 to 40 hex).
    #[arg(long, env = "LAMBDA_SHIP_TO_COMMIT", conflicts_with = "to_version")]
    pub to_commit: Option<String>,
    /// Go back to this version.
    #[arg(long, env = "LAMBDA_SHIP_TO_VERSION")]
    pub to_version: Option<String>,
    /// Skip the smoke test of the target before the alias moves.
    #[arg(long, env = "LAMBDA_SHIP_NO_SMOKE")]
    pub no_smoke: bool,
    /// The smoke-test event: JSON, or @FILE.
    #[arg(long, env = "LAMBDA_SHIP_SMOKE_EVENT", default_value = "{}")]
    pub smoke_event: String,
    /// Text the smoke-test response must contain.
    #[arg(long, env = "LAMBDA_SHIP_SMOKE_EXPECT")]
    pub smoke_expect: Option<String>,
    /// How long a function on $LATEST may take to run its old image again, in seconds.
    #[arg(long, env = "LAMBDA_SHIP_WAIT_TIMEOUT", default_value_t = defaults::WAIT_TIMEOUT_SECS)]
    pub wait_timeout: u64,
    /// Refuse to go back to an image that lacks a valid signature by this
    /// AWS KMS key over its digest, or whose provenance it did not attest.
    #[arg(long, env = "LAMBDA_SHIP_REQUIRE_SIGNATURE")]
    pub require_signature: Option<String>,
    /// Read the signatures through this registry (HOST[:PORT]), where the
    /// deploys pushed with --registry.
    #[arg(long, env = "LAMBDA_SHIP_REGISTRY")]
    pub registry: Option<String>,
    #[command(flatten)]
    pub common: ReleaseArgs,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// The image, HOST/REPOSITORY:TAG or HOST/REPOSITORY@DIGEST.
    pub image: String,
    /// The AWS KMS key whose signature it must carry (alias/NAME, key id or ARN).
    #[arg(long, env = "LAMBDA_SHIP_REQUIRE_SIGNATURE")]
    pub key: String,
    /// Also require that its provenance names this commit (40 hex).
    #[arg(long)]
    pub commit: Option<String>,
    /// The registry (HOST[:PORT]) the deploys push to with --registry: read
    /// with the ECR token, as the account's ECR registry is.
    #[arg(long, env = "LAMBDA_SHIP_REGISTRY")]
    pub registry: Option<String>,
    #[command(flatten)]
    pub common: ReleaseArgs,
}
