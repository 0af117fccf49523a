//! Validated configuration: every value the pipeline uses, checked before any
//! side effect. The stages never see a raw string they would have to re-check.

mod deploy;
mod local;
mod parse;
#[cfg(test)]
mod tests;

pub use deploy::DeployConfig;
pub use local::LocalConfig;
use parse::dirty_digest;
pub use parse::{
    ShaSource, check_output_path, parse_build_arg, parse_env, parse_registry, resolve_sha,
    session_name_for,
};

use crate::ci::CiContext;
use crate::cli::{BuildArgs, OutputFormat, ProgressArg, TagMutabilityArg};
pub use crate::model::{
    CommitSha, Endpoint, FunctionTarget, ParseError, Platform, ProgressMode, RepositoryName,
    RoleConfig, SmokeConfig, TagMutability,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

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
    #[error(
        "no Dockerfile at '{0}': pass --file PATH, or --context DIR for a directory that has one"
    )]
    Dockerfile(String),
    #[error("'{0}' is not a build argument: write --build-arg NAME=VALUE")]
    BuildArg(String),
    #[error("two builders are named for {0}: keep one --builder per platform")]
    DuplicateBuilder(Platform),
    #[error("'{0}' is not a registry host: write HOST or HOST:PORT, without a scheme or path")]
    Registry(String),
    #[error("the build target '{0}' is not a valid stage name")]
    Target(String),
    #[error(
        "this pull_request_target run would build a fork's code while it holds this \
         repository's secrets and write token: the fork's Dockerfile could steal them. Deploy \
         forks from pull_request runs (no secrets), or pass --allow-fork-code after a \
         maintainer has reviewed the change"
    )]
    ForkCode,
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
}

/// Everything `lambda-ship build` needs, validated.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub repository: RepositoryName,
    pub context: PathBuf,
    /// The Dockerfile on disk.
    pub dockerfile: PathBuf,
    pub platforms: Vec<Platform>,
    /// Whether `--platforms` was given (deploy otherwise builds what its functions need).
    pub platforms_explicit: bool,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub builders: BTreeMap<Platform, Endpoint>,
    pub registry_override: Option<String>,
    pub sha: CommitSha,
    /// With --allow-dirty and uncommitted changes in the context: a digest of
    /// those changes, so that their image never takes the commit's own tag.
    pub dirty: Option<String>,
    /// The repository's web address, for the image's source label.
    pub source_url: Option<String>,
    pub force_rebuild: bool,
    pub build_timeout: std::time::Duration,
    pub push_timeout: std::time::Duration,
    pub aws_timeout: std::time::Duration,
    pub tag_mutability: TagMutability,
    pub region: Option<String>,
    pub output: OutputFormat,
    pub progress: ProgressMode,
}

impl BuildConfig {
    /// Validates the raw arguments against the CI context that the environment gives.
    pub fn from_args(args: BuildArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        if ci.fork_code_with_write && !args.allow_fork_code {
            return Err(ConfigError::ForkCode);
        }
        let repository: RepositoryName = args.repository.parse()?;

        let platforms_explicit = args.source.platforms.is_some();
        let requested = args
            .source
            .platforms
            .unwrap_or_else(|| Platform::ALL.iter().map(ToString::to_string).collect());
        let mut platforms = Vec::new();
        for p in requested.iter().filter(|p| !p.trim().is_empty()) {
            let platform: Platform = p.parse()?;
            if !platforms.contains(&platform) {
                platforms.push(platform);
            }
        }
        if platforms.is_empty() {
            return Err(ConfigError::NoPlatform);
        }

        let mut build_args = BTreeMap::new();
        for arg in args.source.build_args.iter().filter(|a| !a.is_empty()) {
            let (k, v) = parse_build_arg(arg)?;
            build_args.insert(k, v);
        }

        let mut builders = BTreeMap::new();
        for b in args.source.builders.iter().filter(|b| !b.trim().is_empty()) {
            let (platform, endpoint) = b
                .split_once('=')
                .ok_or_else(|| ParseError::Builder(b.clone()))?;
            let platform: Platform = platform.parse()?;
            let endpoint: Endpoint = endpoint.trim().parse()?;
            if builders.insert(platform, endpoint).is_some() {
                return Err(ConfigError::DuplicateBuilder(platform));
            }
        }

        if let Some(target) = &args.source.target {
            let ok = !target.is_empty()
                && target
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if !ok {
                return Err(ConfigError::Target(target.clone()));
            }
        }

        let registry_override = args.registry.map(|r| parse_registry(&r)).transpose()?;

        if !args.source.context.is_dir() {
            return Err(ConfigError::Context(
                args.source.context.display().to_string(),
            ));
        }
        let context = args
            .source
            .context
            .canonicalize()
            .map_err(|_| ConfigError::Context(args.source.context.display().to_string()))?;
        let dockerfile = match &args.source.file {
            Some(f) => f.clone(),
            None => context.join("Dockerfile"),
        };
        if !dockerfile.is_file() {
            return Err(ConfigError::Dockerfile(dockerfile.display().to_string()));
        }
        let dockerfile = dockerfile
            .canonicalize()
            .map_err(|_| ConfigError::Dockerfile(dockerfile.display().to_string()))?;

        let (sha, source) = resolve_sha(args.sha.as_deref(), ci, &context)?;
        // A commit from git says nothing of the working tree: changes that
        // reach the build would be shipped, and reused, as that commit.
        let dirty = if source == ShaSource::Git {
            dirty_digest(&context, &dockerfile, &sha, args.allow_dirty)?
        } else {
            None
        };

        let source_url = ci
            .source_url
            .clone()
            .or_else(|| crate::ci::git_source_url(&context));
        Ok(BuildConfig {
            repository,
            context,
            dockerfile,
            platforms,
            platforms_explicit,
            build_args,
            target: args.source.target,
            builders,
            registry_override,
            sha,
            dirty,
            source_url,
            force_rebuild: args.force_rebuild,
            build_timeout: std::time::Duration::from_secs(args.build_timeout.clamp(1, 86_400)),
            push_timeout: std::time::Duration::from_secs(args.push_timeout.clamp(1, 86_400)),
            aws_timeout: std::time::Duration::from_secs(args.aws_timeout.clamp(1, 3_600)),
            tag_mutability: match args.tag_mutability {
                TagMutabilityArg::Immutable => TagMutability::Immutable,
                TagMutabilityArg::Mutable => TagMutability::Mutable,
            },
            region: args.region,
            output: args.output,
            progress: match args.progress {
                ProgressArg::Tty => ProgressMode::Tty,
                ProgressArg::Plain => ProgressMode::Plain,
                ProgressArg::Auto if ci.kind == crate::ci::CiKind::GitHub => ProgressMode::GitHub,
                ProgressArg::Auto if ci.kind.is_ci() => ProgressMode::Plain,
                ProgressArg::Auto => {
                    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                        ProgressMode::Tty
                    } else {
                        ProgressMode::Plain
                    }
                }
            },
        })
    }

    /// The tag of a platform's image: `<sha>-<arch>`, or for uncommitted
    /// changes `<sha>-dirty-<digest of the changes>-<arch>`.
    pub fn tag(&self, platform: Platform) -> String {
        match &self.dirty {
            Some(digest) => format!("{}-dirty-{digest}-{}", self.sha, platform.lambda_arch()),
            None => format!("{}-{}", self.sha, platform.lambda_arch()),
        }
    }

    /// The engine a platform is built on.
    pub fn endpoint(&self, platform: Platform) -> Endpoint {
        self.builders
            .get(&platform)
            .cloned()
            .unwrap_or(Endpoint::Local)
    }
}
