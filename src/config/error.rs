//! The user errors of configuration: each says what is wrong and how to fix it.

use crate::model::{ParseError, Platform};

/// A user error in a flag, an environment variable or a file named by one.
/// Its text says what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("no platform to build: pass --platforms linux/amd64, linux/arm64 or both")]
    NoPlatform,
    #[error(
        "no commit SHA found: pass --sha, run inside a CI job, or run from a git checkout \
         ({0})"
    )]
    NoSha(String),
    #[error("the build context '{0}' is not a directory: pass --context DIR")]
    Context(String),
    /// Its `.dockerignore` cannot be read or has a bad pattern.
    #[error(transparent)]
    BuildContext(#[from] crate::farm::context::ContextError),
    #[error(
        "no Dockerfile at '{0}': pass --file PATH, or --context DIR for a directory that has one"
    )]
    Dockerfile(String),
    #[error("'{0}' is not a build argument: write --build-arg NAME=VALUE")]
    BuildArg(String),
    #[error("--builder names {1} twice for {0}: name each engine of a platform's pool once")]
    DuplicateBuilder(Platform, String),
    #[error("'{0}' is not a registry host: write HOST or HOST:PORT, without a scheme or path")]
    Registry(String),
    #[error("the build target '{0}' is not a valid stage name")]
    Target(String),
    #[error(
        "--cache-from '{0}' is not an image reference: write HOST/REPOSITORY:TAG or \
         HOST/REPOSITORY@sha256:DIGEST, with the registry host"
    )]
    CacheFrom(String),
    #[error(
        "--execution-role '{0}' is not an IAM role ARN: write \
         arn:aws:iam::ACCOUNT:role/NAME, the role the new function runs as"
    )]
    ExecutionRole(String),
    #[error(
        "this pull_request_target run would build a fork's code while it holds this \
         repository's secrets and write token: the fork's Dockerfile could steal them. Deploy \
         forks from pull_request runs (no secrets), or pass --allow-fork-code after a \
         maintainer has reviewed the change"
    )]
    ForkCode,
    /// An `[images.NAME]` or `[functions.NAME]` entry of the file that does not hold.
    #[error("{at}: [{entry}] {reason}")]
    ImageEntry {
        at: String,
        entry: String,
        reason: String,
    },
    #[error(
        "--repository names the one image of a run, and lambda-ship.toml has [images], each \
         with its own repository: drop --repository (or LAMBDA_SHIP_REPOSITORY)"
    )]
    RepositoryWithImages,
    #[error("--function {0} is given twice: name each function once")]
    DuplicateFunction(String),
    #[error(
        "'{0}' is not an IAM role ARN: write arn:aws:iam::123456789012:role/NAME (the role the \
         CI's OIDC identity may assume)"
    )]
    RoleArn(String),
    #[error(
        "'{0}' is not a valid role session name: use 2 to 64 letters, digits and + = , . @ - _"
    )]
    SessionName(String),
    #[error("'{0}' is not a valid alias name: use letters, digits, - and _, not only digits")]
    Alias(String),
    #[error(transparent)]
    Rollout(#[from] crate::model::rollout::RolloutError),
    #[error(
        "--rollout moves an alias step by step, and this deploy has none: add --alias NAME \
         (or alias in lambda-ship.toml), or drop --rollout"
    )]
    RolloutWithoutAlias,
    #[error(
        "--local-credentials gives credentials to the local smoke test, and --no-local-smoke \
         skips it: drop one of them"
    )]
    LocalCredentialsWithoutLocalRun,
    #[error("{0} gates a rollout, and this deploy has none: add --rollout, or drop {0}")]
    GateWithoutRollout(&'static str),
    #[error("--max-error-rate {0}: give a percentage above 0 and at most 100, e.g. 5")]
    MaxErrorRate(f64),
    #[error(
        "the alarm(s) {0} do not exist in this account and Region: fix --rollback-alarm (a \
         CloudWatch alarm's name, metric or composite)"
    )]
    UnknownAlarms(String),
    #[error("{0}")]
    RollbackTarget(String),
    #[error(
        "'{0}' is not an image reference: write HOST/REPOSITORY:TAG or \
         HOST/REPOSITORY@sha256:DIGEST"
    )]
    ImageReference(String),
    #[error(
        "--preview deploys each function's preview and leaves its aliases alone: drop --alias, \
         or deploy the functions themselves without --preview"
    )]
    PreviewWithAlias,
    #[error(
        "'{0}' is not an environment variable: write --env KEY=VALUE, where KEY starts with a \
         letter and has only letters, digits and _"
    )]
    Env(String),
    #[error("{flag} is not JSON ({reason}): pass a JSON document, or @FILE with one")]
    Event { flag: &'static str, reason: String },
    #[error(
        "the working tree has changes that reach the build context, which the commit {sha} does \
         not have: {}. Commit them, or pass --allow-dirty to build them under a tag of their own \
         ({sha}-dirty-…)",
        .files.join(", ")
    )]
    Dirty { sha: String, files: Vec<String> },
    #[error(
        "{flag} {path} cannot be written: {reason}. Pass a path in a folder that exists and \
         that this user may write to"
    )]
    OutputPath {
        flag: &'static str,
        path: String,
        reason: String,
    },
    #[error(
        "--platforms leaves out {platform}, which --function {function} needs: add it, or drop --platforms"
    )]
    MissingPlatform {
        platform: Platform,
        function: String,
    },
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("lambda-ship.toml: {0}")]
    FileValue(String),
    #[error(
        "no function to deploy: pass --function NAME[:ARCH], or list [functions.NAME] tables in \
         lambda-ship.toml"
    )]
    NoFunction,
    #[error(
        "no ECR repository named: pass --repository NAME, or (for deploy) set repository in \
         lambda-ship.toml"
    )]
    NoRepository,
    #[error(
        "the {what} of {function} is {value}, outside Lambda's range {low}–{high}: give a value \
         in that range"
    )]
    OutOfRange {
        what: &'static str,
        value: u32,
        low: u32,
        high: u32,
        function: String,
    },
    #[error(
        "{0} is set by Lambda itself and cannot be a function's environment variable: rename it"
    )]
    ReservedKey(String),
    #[error(
        "the environment of {function} would be {size} bytes, over Lambda's 4 KB (keys and values \
         together): move large values to a parameter store or a file in the image"
    )]
    EnvTooLarge { function: String, size: usize },
    #[error(
        "{flag} '{value}' is not a command: write words as a shell would quote them \
         (handler.sh \"two words\") or a JSON array ([\"app.handler\"])"
    )]
    Command { flag: &'static str, value: String },
    #[error("{0}")]
    Policy(String),
    #[error(
        "--preview deploys a pull request's preview, but this run is not for a pull request \
         (GitHub pull_request), merge request (GitLab) or change (Jenkins): drop --preview, or \
         run it in a pull-request job"
    )]
    PreviewOutsideChange,
    #[error(
        "no pull request to clean up after: run cleanup when a pull request closes \
         (pull_request: types: [closed]; GitLab's merge-request close), or pass --pull-request N"
    )]
    CleanupOutsideChange,
}
