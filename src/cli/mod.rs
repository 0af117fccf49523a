//! The command line: clap definitions only. Every flag can also come from a
//! `LAMBDA_SHIP_*` environment variable. Values stay raw strings here;
//! `config` turns them into validated types.

use crate::model::{CommentMode, TagMutability, defaults};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

mod deploy;
mod housekeeping;
mod release;
pub use deploy::DeployArgs;
pub use housekeeping::{CleanupArgs, HousekeepingArgs, PruneArgs};
pub use release::{HistoryArgs, ReleaseArgs, RollbackArgs, VerifyArgs};

#[derive(Debug, Parser)]
#[command(name = "lambda-ship", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Build one single-architecture image per platform on the build farm and push
    /// them to ECR as <commit-sha>-x86_64 and <commit-sha>-arm64.
    Build(BuildArgs),
    /// Build and push as `build` does, then update each Lambda function to the
    /// image of its architecture by digest, wait until it is live, find its
    /// function URL and smoke-test it.
    Deploy(DeployArgs),
    /// Build every architecture, invoke each image once as Lambda would run it,
    /// then serve each on 127.0.0.1 behind a Function-URL-compatible endpoint
    /// until stopped. Needs no AWS account.
    Local(LocalArgs),
    /// Print the IAM role a deploy needs: its trust policy for the CI's OIDC
    /// provider, narrowed to one repository, and its least-privilege permissions.
    Policy(PolicyArgs),
    /// When a pull request closes: remove its previews (function, URL,
    /// permissions) and the images nothing else runs, and say so in the comment.
    Cleanup(CleanupArgs),
    /// Delete the repository's images that no version or alias of the named
    /// functions runs, beyond the newest N of each architecture.
    Prune(PruneArgs),
    /// List a function's releases: each version with its commit, image
    /// digest, date and CI run, the aliases that serve it and with what
    /// weight, and which were rolled back.
    History(HistoryArgs),
    /// Move the functions' alias back, all together, to the release it
    /// served before (or --to-commit, --to-version), once that version
    /// passed its smoke test; without --alias, back to the image each ran before.
    Rollback(RollbackArgs),
    /// Check that an image carries a valid signature by a KMS key over its
    /// digest and a provenance attested by it, and print what the provenance says.
    Verify(VerifyArgs),
}

/// What to build and where: shared by build, deploy and local.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Build context directory.
    #[arg(long, env = "LAMBDA_SHIP_CONTEXT", default_value = ".")]
    pub context: PathBuf,

    /// Dockerfile path [default: <context>/Dockerfile].
    #[arg(short = 'f', long, env = "LAMBDA_SHIP_FILE")]
    pub file: Option<PathBuf>,

    /// Platforms to build, comma-separated [default: linux/amd64,linux/arm64; for
    /// deploy, the architectures of the functions].
    #[arg(long, env = "LAMBDA_SHIP_PLATFORMS", value_delimiter = ',')]
    pub platforms: Option<Vec<String>>,

    /// A build argument, K=V (repeatable). Not for secrets: build arguments
    /// stay in the image's history.
    #[arg(
        long = "build-arg",
        env = "LAMBDA_SHIP_BUILD_ARGS",
        value_delimiter = '\n',
        hide_env_values = true
    )]
    pub build_args: Vec<String>,

    /// Build stage to target.
    #[arg(long, env = "LAMBDA_SHIP_TARGET")]
    pub target: Option<String>,

    /// The engine that builds a platform, PLATFORM=ENDPOINT (repeatable). ENDPOINT is
    /// unix:///path/docker.sock, tcp://host:2376 (TLS from DOCKER_CERT_PATH when
    /// DOCKER_TLS_VERIFY is set) or ssh://user@host. Other platforms use the local engine.
    #[arg(long = "builder", env = "LAMBDA_SHIP_BUILDERS", value_delimiter = ',')]
    pub builders: Vec<String>,
}

/// The living pull-request comment (GitHub) or merge-request note (GitLab).
#[derive(Debug, Clone, Args)]
pub struct CommentArgs {
    /// Post the comment: auto, only on pull and merge requests; always, and
    /// warn when it cannot; never.
    #[arg(long, env = "LAMBDA_SHIP_COMMENT", value_enum, default_value_t = CommentMode::Auto)]
    pub comment: CommentMode,

    /// Keeps this deploy's comment apart from other deploys' on the same pull
    /// request [default: the functions' names].
    #[arg(long, env = "LAMBDA_SHIP_COMMENT_KEY")]
    pub comment_key: Option<String>,

    /// Token for the GitHub comment.
    #[arg(long, env = "GITHUB_TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,

    /// Token for the GitLab merge-request note (api scope).
    #[arg(long, env = "GITLAB_TOKEN", hide_env_values = true)]
    pub gitlab_token: Option<String>,
}

/// The role a run assumes with the CI's OIDC token.
#[derive(Debug, Clone, Args)]
pub struct RoleArgs {
    /// IAM role to assume with the CI's OIDC token (AssumeRoleWithWebIdentity).
    /// Without it, the standard AWS credential chain is used.
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
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// ECR repository name (created if missing) [for deploy, default: the
    /// repository of lambda-ship.toml].
    #[arg(long, env = "LAMBDA_SHIP_REPOSITORY")]
    pub repository: Option<String>,

    #[command(flatten)]
    pub source: SourceArgs,

    /// Push the bytes to this registry (HOST[:PORT]) instead of the repository's own
    /// ECR registry. The ECR API still creates the repository and issues the token.
    #[arg(long, env = "LAMBDA_SHIP_REGISTRY")]
    pub registry: Option<String>,

    /// Commit SHA (40 hex) [default: from the CI's environment, else git rev-parse HEAD].
    #[arg(long, env = "LAMBDA_SHIP_SHA")]
    pub sha: Option<String>,

    /// The configuration file [default: lambda-ship.toml in the context, when
    /// there is one]; with [images.NAME] tables, every image of it is built.
    #[arg(long, env = "LAMBDA_SHIP_CONFIG")]
    pub config: Option<PathBuf>,

    /// At most this many builds at once, across the farm [default: one per
    /// engine of each platform's pool].
    #[arg(long, env = "LAMBDA_SHIP_JOBS", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Sign each image pushed (and each one reused that this key has not
    /// signed) with this AWS KMS key (alias/NAME, key id or ARN; ECC_NIST_P256,
    /// SIGN_VERIFY): a cosign signature and an SLSA provenance beside the image.
    #[arg(long, env = "LAMBDA_SHIP_SIGN_KEY", value_name = "KEY")]
    pub sign_key: Option<String>,

    /// Build uncommitted changes when the commit comes from git: the image is
    /// tagged <sha>-dirty-<digest of the changes>-<arch>, never as the commit.
    #[arg(long, env = "LAMBDA_SHIP_ALLOW_DIRTY")]
    pub allow_dirty: bool,

    /// Build and push even when both tags already exist.
    #[arg(long, env = "LAMBDA_SHIP_FORCE_REBUILD")]
    pub force_rebuild: bool,

    /// Build a fork's pull request in a `pull_request_target` run, which holds
    /// the base repository's secrets and write token (refused without it).
    #[arg(long, env = "LAMBDA_SHIP_ALLOW_FORK_CODE")]
    pub allow_fork_code: bool,

    /// Expire untagged images (what a cancelled or overlapped push leaves)
    /// after this many days: a rule merged into the repository's lifecycle policy.
    #[arg(long, env = "LAMBDA_SHIP_EXPIRE_UNTAGGED_DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub expire_untagged_days: Option<u32>,

    /// Tag mutability of a repository that lambda-ship creates.
    #[arg(long, env = "LAMBDA_SHIP_TAG_MUTABILITY", value_enum, default_value_t = TagMutability::Immutable)]
    pub tag_mutability: TagMutability,

    /// AWS Region [default: the standard AWS configuration, e.g. AWS_REGION].
    #[arg(long, env = "LAMBDA_SHIP_REGION")]
    pub region: Option<String>,

    /// Also import build cache from this image, HOST/REPO:TAG or HOST/REPO@DIGEST
    /// (repeatable). By default a build imports cache from the image each target
    /// function runs now and from the previous commit's image of its architecture.
    #[arg(
        long = "cache-from",
        env = "LAMBDA_SHIP_CACHE_FROM",
        value_delimiter = ','
    )]
    pub cache_from: Vec<String>,

    /// Import no build cache from the registry.
    #[arg(long, env = "LAMBDA_SHIP_NO_CACHE_FROM", conflicts_with = "cache_from")]
    pub no_cache_from: bool,

    /// How long one platform's build may take, in seconds.
    #[arg(long, env = "LAMBDA_SHIP_BUILD_TIMEOUT", default_value_t = defaults::BUILD_TIMEOUT_SECS)]
    pub build_timeout: u64,

    /// How long one image's push may take, in seconds, retries included.
    #[arg(long, env = "LAMBDA_SHIP_PUSH_TIMEOUT", default_value_t = defaults::PUSH_TIMEOUT_SECS)]
    pub push_timeout: u64,

    /// How long one attempt of an AWS call may take, in seconds (a smoke-test
    /// invocation gets its function's timeout on top).
    #[arg(long, env = "LAMBDA_SHIP_AWS_TIMEOUT", default_value_t = defaults::AWS_TIMEOUT_SECS)]
    pub aws_timeout: u64,

    /// How to print the result on stdout.
    #[arg(long, env = "LAMBDA_SHIP_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// How to show progress on stderr: bars on a terminal, plain lines in CI.
    #[arg(long, env = "LAMBDA_SHIP_PROGRESS", value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
}

#[derive(Debug, Clone, Args)]
pub struct LocalArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// The event of the first invocation: JSON, or @FILE.
    #[arg(long, env = "LAMBDA_SHIP_SMOKE_EVENT", default_value = "{}")]
    pub event: String,
    /// The function's memory, in MB: the sandbox's memory limit.
    #[arg(long, default_value_t = defaults::LOCAL_MEMORY_MB)]
    pub memory: u64,
    /// The function's timeout, in seconds: the invocation's deadline.
    #[arg(long, default_value_t = defaults::LOCAL_TIMEOUT_SECS)]
    pub timeout: u64,
    /// An environment variable of the function, KEY=VALUE (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Serve the first architecture on this port of 127.0.0.1, the next one on
    /// the port after it [default: free ports].
    #[arg(long)]
    pub port: Option<u16>,
    /// Invoke once, print the results and exit, without serving.
    #[arg(long)]
    pub once: bool,
    /// Give the function the credentials of the standard AWS chain
    /// (environment, profile, SSO, instance role), as Lambda gives it its
    /// execution role's [default: none].
    #[arg(long)]
    pub credentials: bool,
    /// How to print the result on stdout.
    #[arg(long, env = "LAMBDA_SHIP_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// How to show progress on stderr.
    #[arg(long, env = "LAMBDA_SHIP_PROGRESS", value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
}

#[derive(Debug, Clone, Args)]
pub struct PolicyArgs {
    /// The ECR repository [default: the repository of lambda-ship.toml].
    #[arg(long, env = "LAMBDA_SHIP_REPOSITORY")]
    pub repository: Option<String>,
    /// A function the role deploys, NAME or ARN (repeatable) [default: the
    /// [functions.NAME] tables of lambda-ship.toml].
    #[arg(
        long = "function",
        env = "LAMBDA_SHIP_FUNCTIONS",
        value_delimiter = ','
    )]
    pub functions: Vec<String>,
    /// The role new functions run as: the deploy role may pass it to Lambda, and create functions.
    #[arg(long, env = "LAMBDA_SHIP_EXECUTION_ROLE")]
    pub execution_role: Option<String>,
    /// Also what deploy --preview, cleanup and prune call: the previews
    /// (<NAME>-pr<N>), which run as --execution-role.
    #[arg(long)]
    pub previews: bool,
    /// The GitHub repository that deploys, OWNER/REPO.
    #[arg(long, conflicts_with = "gitlab_project")]
    pub github_repository: Option<String>,
    /// The GitLab project that deploys, GROUP/PROJECT.
    #[arg(long)]
    pub gitlab_project: Option<String>,
    /// The GitLab instance whose OIDC provider issues the token.
    #[arg(long, default_value = "https://gitlab.com")]
    pub gitlab_url: String,
    /// The AWS account ID [default: that of --execution-role or a function ARN].
    #[arg(long)]
    pub account: Option<String>,
    /// The AWS Region of the repository and functions.
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// The audience the CI's OIDC token is requested for.
    #[arg(long, default_value = "sts.amazonaws.com")]
    pub audience: String,
    /// The configuration file [default: ./lambda-ship.toml, when there is one].
    #[arg(long, env = "LAMBDA_SHIP_CONFIG")]
    pub config: Option<PathBuf>,
    /// An alarm a rollout reads (deploy --rollback-alarm; repeatable): the
    /// role may describe it.
    #[arg(long = "rollback-alarm", value_name = "NAME")]
    pub rollback_alarms: Vec<String>,
    /// A rollout reads the new versions' error rate (deploy
    /// --max-error-rate): the role may read metric data.
    #[arg(long)]
    pub error_rate_gate: bool,
    /// The local smoke test gets the execution role's credentials (deploy
    /// --local-credentials execution-role): the role may assume --execution-role.
    #[arg(long, value_enum)]
    pub local_credentials: Option<crate::model::LocalCredentials>,
    /// The AWS KMS key deploys sign images with (deploy --sign-key): the
    /// role may describe it, read its public half and sign with it.
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<String>,
    /// The AWS KMS key deploys check signatures against (deploy
    /// --require-signature): the role may read its public half.
    #[arg(long, value_name = "KEY")]
    pub require_signature: Option<String>,
    /// How to print the documents: text, or one JSON object with both.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Tty,
    Plain,
}
