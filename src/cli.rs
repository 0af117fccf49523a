//! The command line: clap definitions only. Every flag can also come from a
//! `LAMBDA_SHIP_*` environment variable. Values stay raw strings here;
//! `config` turns them into validated types.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(name = "lambda-ship", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build one single-architecture image per platform on the build farm and push
    /// them to ECR as <commit-sha>-x86_64 and <commit-sha>-arm64.
    Build(BuildArgs),
}

#[derive(Debug, Clone, Args)]
pub struct BuildArgs {
    /// ECR repository name (created if missing).
    #[arg(long, env = "LAMBDA_SHIP_REPOSITORY")]
    pub repository: String,

    /// Build context directory.
    #[arg(long, env = "LAMBDA_SHIP_CONTEXT", default_value = ".")]
    pub context: PathBuf,

    /// Dockerfile path [default: <context>/Dockerfile].
    #[arg(long, env = "LAMBDA_SHIP_FILE")]
    pub file: Option<PathBuf>,

    /// Platforms to build, comma-separated.
    #[arg(
        long,
        env = "LAMBDA_SHIP_PLATFORMS",
        value_delimiter = ',',
        default_value = "linux/amd64,linux/arm64"
    )]
    pub platforms: Vec<String>,

    /// A build argument, K=V (repeatable).
    #[arg(
        long = "build-arg",
        env = "LAMBDA_SHIP_BUILD_ARGS",
        value_delimiter = '\n'
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

    /// Push the bytes to this registry (HOST[:PORT]) instead of the repository's own
    /// ECR registry. The ECR API still creates the repository and issues the token.
    #[arg(long, env = "LAMBDA_SHIP_REGISTRY")]
    pub registry: Option<String>,

    /// Commit SHA (40 hex) [default: from the CI's environment, else git rev-parse HEAD].
    #[arg(long, env = "LAMBDA_SHIP_SHA")]
    pub sha: Option<String>,

    /// Build and push even when both tags already exist.
    #[arg(long, env = "LAMBDA_SHIP_FORCE_REBUILD")]
    pub force_rebuild: bool,

    /// Tag mutability of a repository that lambda-ship creates.
    #[arg(long, env = "LAMBDA_SHIP_TAG_MUTABILITY", value_enum, default_value_t = TagMutabilityArg::Immutable)]
    pub tag_mutability: TagMutabilityArg,

    /// AWS Region [default: the standard AWS configuration, e.g. AWS_REGION].
    #[arg(long, env = "LAMBDA_SHIP_REGION")]
    pub region: Option<String>,

    /// How to print the result on stdout.
    #[arg(long, env = "LAMBDA_SHIP_OUTPUT", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// How to show progress on stderr: bars on a terminal, plain lines in CI.
    #[arg(long, env = "LAMBDA_SHIP_PROGRESS", value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TagMutabilityArg {
    Immutable,
    Mutable,
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
