//! Validated configuration: every value the pipeline uses, checked before any
//! side effect. The stages never see a raw string they would have to re-check.

mod deploy;
mod error;
pub mod function;
mod housekeeping;
mod images;
mod local;
#[cfg(test)]
mod local_tests;
mod parse;
mod policy;
mod release;
#[cfg(test)]
mod tests;

pub use deploy::DeployConfig;
pub use error::ConfigError;
pub use housekeeping::{CleanupConfig, HousekeepingConfig, PruneConfig};
pub use images::{ImageBuild, ImageSource, image_builds, image_sources};
pub use local::LocalConfig;
pub use parse::{
    AwsAccess, ShaSource, check_output_path, parse_build_arg, parse_env, parse_registry,
    resolve_sha, session_name_for,
};
use parse::{dirty_digest, parse_cache_from, previous_sha};
pub use policy::policy_request;
pub use release::{HistoryConfig, ReleaseConfig, RollbackConfig, VerifyConfig};

use crate::ci::CiContext;
use crate::cli::{BuildArgs, OutputFormat, ProgressArg, SourceArgs};
use crate::farm::context::BuildContext;
use crate::model::defaults;
pub use crate::model::{
    CacheSources, CommitSha, Endpoint, FunctionTarget, ParseError, Platform, ProgressMode,
    RepositoryName, RoleConfig, SmokeConfig, TagMutability,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// The source every command builds, validated: the context and Dockerfile
/// found on disk, the platforms, build arguments, target and engines parsed.
struct Source {
    context: PathBuf,
    dockerfile: PathBuf,
    platforms: Vec<Platform>,
    platforms_explicit: bool,
    build_args: BTreeMap<String, String>,
    target: Option<String>,
    builders: BTreeMap<Platform, Vec<Endpoint>>,
}

impl Source {
    fn from_args(args: SourceArgs) -> Result<Self, ConfigError> {
        let platforms_explicit = args.platforms.is_some();
        let requested = args
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
        for arg in args.build_args.iter().filter(|a| !a.is_empty()) {
            let (k, v) = parse_build_arg(arg)?;
            build_args.insert(k, v);
        }

        // A platform named more than once has a pool of engines.
        let mut builders: BTreeMap<Platform, Vec<Endpoint>> = BTreeMap::new();
        for b in args.builders.iter().filter(|b| !b.trim().is_empty()) {
            let (platform, endpoint) = b
                .split_once('=')
                .ok_or_else(|| ParseError::Builder(b.clone()))?;
            let platform: Platform = platform.parse()?;
            let endpoint: Endpoint = endpoint.trim().parse()?;
            let pool = builders.entry(platform).or_default();
            if pool.contains(&endpoint) {
                return Err(ConfigError::DuplicateBuilder(
                    platform,
                    endpoint.to_string(),
                ));
            }
            pool.push(endpoint);
        }

        if let Some(target) = args.target.as_ref().filter(|t| !valid_target(t)) {
            return Err(ConfigError::Target(target.clone()));
        }

        // What needs the disk comes last, once the values are known good.
        let (context, dockerfile) = locate(&args.context, args.file.as_deref())?;
        Ok(Source {
            context,
            dockerfile,
            platforms,
            platforms_explicit,
            build_args,
            target: args.target,
            builders,
        })
    }
}

/// A build stage's name, as `--target` and an image's `target` take it.
fn valid_target(target: &str) -> bool {
    !target.is_empty()
        && target
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// The context and the Dockerfile on disk, canonical.
fn locate(
    context: &std::path::Path,
    file: Option<&std::path::Path>,
) -> Result<(PathBuf, PathBuf), ConfigError> {
    let not_a_dir = || ConfigError::Context(context.display().to_string());
    if !context.is_dir() {
        return Err(not_a_dir());
    }
    let context = context.canonicalize().map_err(|_| not_a_dir())?;
    let dockerfile = file.map_or_else(|| context.join("Dockerfile"), PathBuf::from);
    let missing = || ConfigError::Dockerfile(dockerfile.display().to_string());
    if !dockerfile.is_file() {
        return Err(missing());
    }
    let canonical = dockerfile.canonicalize().map_err(|_| missing())?;
    Ok((context, canonical))
}

/// How progress is shown, from the flag and where the run is.
pub(super) fn progress_mode(arg: ProgressArg, ci: &CiContext) -> ProgressMode {
    match arg {
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
    }
}

/// The comment flags, as the feedback takes them; the key defaults to the
/// functions' names.
pub(super) fn feedback_config(
    args: crate::cli::CommentArgs,
    mut names: Vec<&str>,
    dotenv: Option<PathBuf>,
) -> crate::feedback::FeedbackConfig {
    names.sort_unstable();
    crate::feedback::FeedbackConfig {
        comment: args.comment,
        github_token: args.github_token.filter(|t| !t.is_empty()).map(Into::into),
        gitlab_token: args.gitlab_token.filter(|t| !t.is_empty()).map(Into::into),
        comment_key: args.comment_key.unwrap_or_else(|| names.join(",")),
        dotenv,
    }
}

/// Everything `lambda-ship build` needs, validated.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    pub repository: RepositoryName,
    pub context: PathBuf,
    /// The Dockerfile on disk.
    pub dockerfile: PathBuf,
    /// The context as the engines get it, its `.dockerignore` read once.
    pub build_context: crate::farm::context::BuildContext,
    pub platforms: Vec<Platform>,
    /// Whether `--platforms` was given (deploy otherwise builds what its functions need).
    pub platforms_explicit: bool,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    /// Each platform's pool of engines, in the order given.
    pub builders: BTreeMap<Platform, Vec<Endpoint>>,
    pub registry_override: Option<String>,
    pub sha: CommitSha,
    /// With --allow-dirty and uncommitted changes in the context: a digest of
    /// those changes, so that their image never takes the commit's own tag.
    pub dirty: Option<String>,
    /// The repository's web address, for the image's source label.
    pub source_url: Option<String>,
    pub force_rebuild: bool,
    pub cache: CacheSources,
    pub build_timeout: Duration,
    pub push_timeout: Duration,
    pub aws_timeout: Duration,
    pub tag_mutability: TagMutability,
    /// `--sign-key`: the KMS key each image is signed with.
    pub sign_key: Option<String>,
    /// The CI run, named in a signed image's provenance.
    pub run_url: Option<String>,
    /// The lifecycle rule that expires untagged images, in days.
    pub expire_untagged_days: Option<u32>,
    pub region: Option<String>,
    pub output: OutputFormat,
    pub progress: ProgressMode,
}

impl BuildConfig {
    /// Validates the raw arguments against the CI context that the environment gives.
    pub fn from_args(args: BuildArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        Self::from_args_in(args, ci, None)
    }

    /// As `from_args`, with the repository's web address and previous
    /// commit already known (`known`): the images of one repository ask git
    /// once, not once each.
    fn from_args_in(
        args: BuildArgs,
        ci: &CiContext,
        known: Option<&BuildConfig>,
    ) -> Result<Self, ConfigError> {
        if ci.fork_code_with_write && !args.allow_fork_code {
            return Err(ConfigError::ForkCode);
        }
        let repository: RepositoryName = args
            .repository
            .as_deref()
            .ok_or(ConfigError::NoRepository)?
            .parse()?;
        let registry_override = args.registry.map(|r| parse_registry(&r)).transpose()?;
        let source = Source::from_args(args.source)?;
        let build_context = BuildContext::new(&source.context, &source.dockerfile)?;
        let (sha, how) = resolve_sha(args.sha.as_deref(), ci, &source.context)?;
        // A commit from git says nothing of the working tree: changes that
        // reach the build would be shipped, and reused, as that commit.
        let dirty = if how == ShaSource::Git {
            dirty_digest(&build_context, &source.context, &sha, args.allow_dirty)?
        } else {
            None
        };
        let (source_url, previous) = match known.filter(|k| k.sha == sha) {
            Some(k) => (k.source_url.clone(), k.cache.previous_sha.clone()),
            None => (
                ci.source_url
                    .clone()
                    .or_else(|| crate::ci::git_source_url(&source.context)),
                previous_sha(ci, &source.context, &sha),
            ),
        };
        Ok(BuildConfig {
            repository,
            context: source.context,
            dockerfile: source.dockerfile,
            build_context,
            platforms: source.platforms,
            platforms_explicit: source.platforms_explicit,
            build_args: source.build_args,
            target: source.target,
            builders: source.builders,
            registry_override,
            sha,
            dirty,
            source_url,
            force_rebuild: args.force_rebuild,
            cache: CacheSources {
                enabled: !args.no_cache_from,
                extra: parse_cache_from(&args.cache_from)?,
                previous_sha: previous,
                running: Vec::new(),
            },
            build_timeout: Duration::from_secs(args.build_timeout.clamp(1, 86_400)),
            push_timeout: Duration::from_secs(args.push_timeout.clamp(1, 86_400)),
            aws_timeout: Duration::from_secs(args.aws_timeout.clamp(1, 3_600)),
            tag_mutability: args.tag_mutability,
            sign_key: args.sign_key,
            run_url: ci.run_url.clone(),
            expire_untagged_days: args.expire_untagged_days,
            region: args.region,
            output: args.output,
            progress: progress_mode(args.progress, ci),
        })
    }

    /// What `lambda-ship local` builds: the source as given, nothing pushed,
    /// so no repository, registry or commit; images stay in their engines
    /// under local names.
    pub fn for_local(
        source: SourceArgs,
        output: OutputFormat,
        progress: ProgressArg,
        ci: &CiContext,
    ) -> Result<Self, ConfigError> {
        let source = Source::from_args(source)?;
        let build_context = BuildContext::new(&source.context, &source.dockerfile)?;
        let source_url = ci
            .source_url
            .clone()
            .or_else(|| crate::ci::git_source_url(&source.context));
        Ok(BuildConfig {
            repository: "lambda-ship-local".parse()?,
            context: source.context,
            dockerfile: source.dockerfile,
            build_context,
            platforms: source.platforms,
            platforms_explicit: source.platforms_explicit,
            build_args: source.build_args,
            target: source.target,
            builders: source.builders,
            registry_override: None,
            sha: "0".repeat(40).parse()?,
            dirty: None,
            source_url,
            force_rebuild: false,
            cache: CacheSources::default(),
            build_timeout: Duration::from_secs(defaults::BUILD_TIMEOUT_SECS),
            push_timeout: Duration::from_secs(defaults::PUSH_TIMEOUT_SECS),
            aws_timeout: Duration::from_secs(defaults::AWS_TIMEOUT_SECS),
            tag_mutability: TagMutability::Immutable,
            sign_key: None,
            run_url: None,
            expire_untagged_days: None,
            region: None,
            output,
            progress: progress_mode(progress, ci),
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

    /// The engines a platform may be built on, in the order given: the
    /// local engine where none is named.
    pub fn endpoints(&self, platform: Platform) -> Vec<Endpoint> {
        self.builders
            .get(&platform)
            .filter(|pool| !pool.is_empty())
            .cloned()
            .unwrap_or_else(|| vec![Endpoint::Local])
    }
}
