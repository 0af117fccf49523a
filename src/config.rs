//! Validated configuration: every value the pipeline uses, checked before any
//! side effect. The stages never see a raw string they would have to re-check.

use crate::ci::CiContext;
use crate::cli::{BuildArgs, DeployArgs, OutputFormat, ProgressArg, TagMutabilityArg};
pub use crate::model::{
    CommitSha, Endpoint, FunctionTarget, ParseError, Platform, ProgressMode, RepositoryName,
    RoleConfig, SmokeConfig, TagMutability,
};
use std::collections::BTreeMap;
use std::path::Path;
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

/// Everything `lambda-ship deploy` needs, validated.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    pub build: BuildConfig,
    pub functions: Vec<FunctionTarget>,
    pub role: Option<RoleConfig>,
    pub alias: Option<String>,
    pub smoke: Option<SmokeConfig>,
    pub report_json: Option<PathBuf>,
    pub wait_timeout: std::time::Duration,
    pub feedback: crate::feedback::FeedbackConfig,
    /// Invoke each image locally before pushing it.
    pub local_smoke: bool,
}

impl DeployConfig {
    pub fn from_args(args: DeployArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let mut functions: Vec<FunctionTarget> = Vec::new();
        for f in args.functions.iter().filter(|f| !f.trim().is_empty()) {
            let target: FunctionTarget = f.parse()?;
            if functions.iter().any(|t| t.name == target.name) {
                return Err(ConfigError::DuplicateFunction(target.name));
            }
            functions.push(target);
        }
        let role = match args.role_arn {
            Some(arn) => {
                let re = regex::Regex::new(
                    r"^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$",
                )
                .map_err(|_| ConfigError::RoleArn(arn.clone()))?;
                if !re.is_match(&arn) || arn.len() > 2048 {
                    return Err(ConfigError::RoleArn(arn));
                }
                let session_name = match args.role_session_name {
                    Some(name) => {
                        if !valid_session_name(&name) {
                            return Err(ConfigError::SessionName(name));
                        }
                        name
                    }
                    None => session_name_for(ci),
                };
                Some(RoleConfig {
                    arn,
                    audience: args.audience,
                    session_name,
                    token_env: args.web_identity_token_env,
                })
            }
            None => None,
        };
        if let Some(alias) = &args.alias {
            let ok = (1..=128).contains(&alias.len())
                && alias
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                && !alias.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(ConfigError::Alias(alias.clone()));
            }
        }
        let smoke = if args.no_smoke {
            None
        } else {
            Some(SmokeConfig {
                event: read_event("--smoke-event", &args.smoke_event)?,
                expect: args.smoke_expect,
            })
        };
        let mut names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        let feedback = crate::feedback::FeedbackConfig {
            comment: match args.comment {
                crate::cli::CommentArg::Auto => crate::feedback::CommentMode::Auto,
                crate::cli::CommentArg::Always => crate::feedback::CommentMode::Always,
                crate::cli::CommentArg::Never => crate::feedback::CommentMode::Never,
            },
            github_token: args.github_token.filter(|t| !t.is_empty()).map(Into::into),
            gitlab_token: args.gitlab_token.filter(|t| !t.is_empty()).map(Into::into),
            comment_key: args.comment_key.unwrap_or_else(|| names.join(",")),
            dotenv: args.dotenv,
        };
        let build = BuildConfig::from_args(args.build, ci)?;
        if let Some(path) = &args.report_json {
            check_output_path("--report-json", path)?;
        }
        if let Some(path) = &feedback.dotenv {
            check_output_path("--dotenv", path)?;
        }
        if build.platforms_explicit {
            for f in &functions {
                if let Some(p) = f.arch.filter(|p| !build.platforms.contains(p)) {
                    return Err(ConfigError::MissingPlatform {
                        platform: p,
                        function: f.name.clone(),
                    });
                }
            }
        }
        Ok(DeployConfig {
            build,
            functions,
            role,
            alias: args.alias,
            smoke,
            report_json: args.report_json,
            wait_timeout: std::time::Duration::from_secs(args.wait_timeout.clamp(1, 86_400)),
            feedback,
            local_smoke: !args.no_local_smoke,
        })
    }
}

/// Everything `lambda-ship local` needs, validated.
#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub build: BuildConfig,
    pub event: String,
    pub settings: crate::local::LocalSettings,
    pub once: bool,
    /// The first architecture's port; the next ones follow it.
    pub port: Option<u16>,
}

impl LocalConfig {
    pub fn from_args(args: crate::cli::LocalArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let event = read_event("--event", &args.event)?;
        let mut environment = BTreeMap::new();
        for pair in &args.env {
            let (k, v) = parse_env(pair)?;
            environment.insert(k, v);
        }
        // No commit is needed: images stay in their engines, under local names.
        let sha = "0".repeat(40);
        let build = BuildConfig::from_args(
            BuildArgs {
                repository: "lambda-ship-local".to_string(),
                source: args.source,
                registry: None,
                sha: Some(sha),
                allow_dirty: true,
                force_rebuild: false,
                allow_fork_code: true,
                build_timeout: 3600,
                push_timeout: 1800,
                aws_timeout: 60,
                tag_mutability: TagMutabilityArg::Immutable,
                region: None,
                output: args.output,
                progress: args.progress,
            },
            ci,
        )?;
        Ok(LocalConfig {
            build,
            event,
            settings: crate::local::LocalSettings {
                // Lambda's own bounds: 128 MB to 10 GB, up to 15 minutes.
                memory_mb: args.memory.clamp(128, 10_240),
                timeout: std::time::Duration::from_secs(args.timeout.clamp(1, 900)),
                environment,
                ..crate::local::LocalSettings::default()
            },
            once: args.once,
            port: args.port,
        })
    }
}

/// Where the commit to tag came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShaSource {
    /// `--sha`: wins over everything.
    Flag,
    /// The CI's own variables or event payload.
    Ci,
    /// `git rev-parse HEAD` in the context: the working tree may differ from it.
    Git,
}

/// The commit to tag: `--sha`, else the CI's, else `git rev-parse HEAD` in the context.
pub fn resolve_sha(
    explicit: Option<&str>,
    ci: &CiContext,
    dir: &Path,
) -> Result<(CommitSha, ShaSource), ConfigError> {
    if let Some(sha) = explicit {
        return Ok((sha.parse()?, ShaSource::Flag));
    }
    if let Some(sha) = &ci.sha {
        return Ok((sha.parse()?, ShaSource::Ci));
    }
    if let Some(problem) = &ci.sha_problem {
        return Err(ConfigError::NoSha(problem.clone()));
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "HEAD"])
        .output()
        .map_err(|e| ConfigError::NoSha(format!("git could not run: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().next().unwrap_or("git rev-parse HEAD failed");
        return Err(ConfigError::NoSha(why.trim().to_string()));
    }
    let sha = String::from_utf8_lossy(&out.stdout).trim().parse()?;
    Ok((sha, ShaSource::Git))
}

/// An event given by `flag`: inline JSON, or `@FILE`; checked to be JSON.
fn read_event(flag: &'static str, arg: &str) -> Result<String, ConfigError> {
    let bad = |reason: String| ConfigError::Event { flag, reason };
    let text = match arg.strip_prefix('@') {
        Some(path) => {
            std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read {path}: {e}")))?
        }
        None => arg.to_string(),
    };
    serde_json::from_str::<serde_json::Value>(&text).map_err(|e| bad(e.to_string()))?;
    Ok(text)
}

/// Refuses a working tree whose changes reach the build unless
/// `allow_dirty`; with it, a digest of those changes for the image's tag.
fn dirty_digest(
    context: &std::path::Path,
    dockerfile: &std::path::Path,
    sha: &CommitSha,
    allow_dirty: bool,
) -> Result<Option<String>, ConfigError> {
    let changed = crate::ci::changed_files(context);
    let reaching: Vec<PathBuf> = match crate::build::context::BuildContext::new(context, dockerfile)
    {
        Ok(ctx) => changed.into_iter().filter(|f| ctx.includes(f)).collect(),
        // A .dockerignore that cannot be read fails the build later, with
        // its own message; until then every change counts.
        Err(_) => changed
            .into_iter()
            .filter(|f| f.starts_with(context) || f == dockerfile)
            .collect(),
    };
    if reaching.is_empty() {
        return Ok(None);
    }
    if !allow_dirty {
        let mut files: Vec<String> = reaching
            .iter()
            .map(|f| {
                f.strip_prefix(context)
                    .unwrap_or(f)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        files.sort();
        if files.len() > 10 {
            let more = files.len() - 10;
            files.truncate(10);
            files.push(format!("and {more} more"));
        }
        return Err(ConfigError::Dirty {
            sha: sha.to_string(),
            files,
        });
    }
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let mut sorted = reaching;
    sorted.sort();
    for file in &sorted {
        hasher.update(file.as_os_str().as_encoded_bytes());
        hasher.update([0]);
        match std::fs::read(file) {
            Ok(bytes) => hasher.update(&bytes),
            Err(_) => hasher.update(b"\0deleted"),
        }
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    Ok(Some(
        digest[..6].iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// Checks that an output file can be written before anything is done, so
/// that a report or dotenv file that cannot be is an error now, not a
/// warning at the end. The file is created empty if it did not exist.
pub fn check_output_path(flag: &'static str, path: &std::path::Path) -> Result<(), ConfigError> {
    let bad = |reason: String| ConfigError::OutputPath {
        flag,
        path: path.display().to_string(),
        reason,
    };
    if path.is_dir() {
        return Err(bad("it is a folder".to_string()));
    }
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map(drop)
        .map_err(|e| bad(e.to_string()))
}

fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@-_".contains(&b))
}

/// A session name that says which CI run assumed the role, in STS's alphabet.
pub fn session_name_for(ci: &CiContext) -> String {
    let raw = match &ci.run_id {
        Some(run) => format!("lambda-ship-{:?}-{run}", ci.kind).to_lowercase(),
        None => format!(
            "lambda-ship-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        ),
    };
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while name.len() < 2 {
        name.push('-');
    }
    name
}

pub fn parse_build_arg(arg: &str) -> Result<(String, String), ConfigError> {
    // Only the name is ever shown: a value may be a secret.
    let shown = arg.split('=').next().unwrap_or_default().to_string();
    let (k, v) = arg
        .split_once('=')
        .ok_or_else(|| ConfigError::BuildArg(format!("{shown} (no =VALUE)")))?;
    let name_ok = k
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !name_ok {
        return Err(ConfigError::BuildArg(format!("{shown}=…")));
    }
    Ok((k.to_string(), v.to_string()))
}

/// `KEY=VALUE` of a function's environment, with Lambda's rule for keys.
/// Only the key is ever shown: a value may be a secret.
pub fn parse_env(pair: &str) -> Result<(String, String), ConfigError> {
    // Only what can be a key is ever shown: the rest may be a secret.
    let key_part: String = pair
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let (k, v) = pair
        .split_once('=')
        .ok_or_else(|| ConfigError::Env(format!("{key_part}…")))?;
    let ok = k.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && k.len() >= 2
        && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !ok {
        return Err(ConfigError::Env(format!("{k}=…")));
    }
    Ok((k.to_string(), v.to_string()))
}

/// `HOST[:PORT]`: a DNS name or IPv4 address, with an optional port.
pub fn parse_registry(s: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError::Registry(s.to_string());
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    let host_ok = !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    if host_ok && port_ok {
        Ok(s.to_string())
    } else {
        Err(bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_in_docker_and_lambda_spellings() {
        for s in ["linux/amd64", "amd64", "x86_64"] {
            assert_eq!(s.parse::<Platform>().unwrap(), Platform::Amd64);
        }
        for s in ["linux/arm64", "arm64", "aarch64", "linux/arm64/v8"] {
            assert_eq!(s.parse::<Platform>().unwrap(), Platform::Arm64);
        }
        let err = "linux/s390x".parse::<Platform>().unwrap_err().to_string();
        assert!(
            err.contains("linux/s390x") && err.contains("linux/amd64"),
            "{err}"
        );
        assert_eq!(Platform::Amd64.lambda_arch(), "x86_64");
        assert_eq!(Platform::Arm64.lambda_arch(), "arm64");
    }

    #[test]
    fn sha_must_be_40_hex() {
        let sha = "0123456789ABCDEF0123456789abcdef01234567";
        assert_eq!(
            sha.parse::<CommitSha>().unwrap().as_str(),
            sha.to_ascii_lowercase()
        );
        for bad in ["abc123", "g123456789abcdef0123456789abcdef01234567", ""] {
            let err = bad.parse::<CommitSha>().unwrap_err().to_string();
            assert!(err.contains("40-character"), "{err}");
        }
    }

    #[test]
    fn repository_names_follow_ecr_rules() {
        for ok in ["my-function", "team/my_function", "a1", "a.b-c_d/e"] {
            assert!(ok.parse::<RepositoryName>().is_ok(), "{ok}");
        }
        for bad in [
            "My-Function",
            "-lead",
            "trail-",
            "a//b",
            "a__b",
            "x",
            "a b",
            "/abs",
        ] {
            assert!(bad.parse::<RepositoryName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            "unix:///run/arm/docker.sock".parse::<Endpoint>().unwrap(),
            Endpoint::Unix(PathBuf::from("/run/arm/docker.sock"))
        );
        assert_eq!(
            "tcp://arm-host:2376".parse::<Endpoint>().unwrap(),
            Endpoint::Tcp("tcp://arm-host:2376".into())
        );
        assert_eq!(
            "ssh://ci@arm-host".parse::<Endpoint>().unwrap(),
            Endpoint::Ssh("ssh://ci@arm-host".into())
        );
        for bad in [
            "http://x",
            "unix://relative.sock",
            "tcp://",
            "arm-host:2376",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn function_targets() {
        let t: FunctionTarget = "orders:arm64".parse().unwrap();
        assert_eq!((t.name.as_str(), t.arch), ("orders", Some(Platform::Arm64)));
        let t: FunctionTarget = "orders".parse().unwrap();
        assert_eq!((t.name.as_str(), t.arch), ("orders", None));
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
        let t: FunctionTarget = format!("{arn}:x86_64").parse().unwrap();
        assert_eq!((t.name.as_str(), t.arch), (arn, Some(Platform::Amd64)));
        assert_eq!(arn.parse::<FunctionTarget>().unwrap().arch, None);
        for bad in ["orders:prod", "has space", "", "a/b", "orders:s390x"] {
            assert!(bad.parse::<FunctionTarget>().is_err(), "{bad}");
        }
    }

    #[test]
    fn role_arns() {
        let ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
        let check = |arn: &str| {
            let args = <crate::cli::Cli as clap::Parser>::try_parse_from([
                "lambda-ship",
                "deploy",
                "--repository",
                "fn",
                "--function",
                "f",
                "--role-arn",
                arn,
                "--sha",
                "0000000000000000000000000000000000000000",
                "--context",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/function"),
            ])
            .unwrap();
            match args.command {
                crate::cli::Command::Deploy(d) => DeployConfig::from_args(d, &ci).map(|_| ()),
                _ => unreachable!(),
            }
        };
        check("arn:aws:iam::123456789012:role/deploy").unwrap();
        check("arn:aws-cn:iam::123456789012:role/path/to/deploy").unwrap();
        for bad in [
            "arn:aws:iam::12:role/x",
            "arn:aws:iam::123456789012:user/x",
            "deploy",
        ] {
            let err = check(bad).unwrap_err().to_string();
            assert!(err.contains("is not an IAM role ARN"), "{bad}: {err}");
        }
    }

    #[test]
    fn session_names_are_valid_for_sts() {
        let mut ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
        ci.kind = crate::ci::CiKind::GitHub;
        ci.run_id = Some("123/4 attempt#2".into());
        let name = session_name_for(&ci);
        assert_eq!(name, "lambda-ship-github-123-4-attempt-2");
        ci.run_id = Some("x".repeat(100));
        assert_eq!(session_name_for(&ci).len(), 64);
        assert!(valid_session_name(&session_name_for(&ci)));
        assert!(!valid_session_name("a"));
        assert!(!valid_session_name("has space"));
    }

    #[test]
    fn smoke_events_must_be_json() {
        assert_eq!(
            read_event("--smoke-event", r#"{"a":1}"#).unwrap(),
            r#"{"a":1}"#
        );
        let err = read_event("--smoke-event", "{not json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("--smoke-event is not JSON"), "{err}");
        let err = read_event("--event", "{").unwrap_err().to_string();
        assert!(err.starts_with("--event is not JSON"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("e.json");
        std::fs::write(&f, "[1]").unwrap();
        assert_eq!(
            read_event("--event", &format!("@{}", f.display())).unwrap(),
            "[1]"
        );
    }

    #[test]
    fn environment_pairs() {
        assert_eq!(
            parse_env("TABLE_NAME=orders=1").unwrap(),
            ("TABLE_NAME".into(), "orders=1".into())
        );
        let err = parse_env("NOVALUE").unwrap_err().to_string();
        assert!(
            err.contains("'NOVALUE…'") && err.contains("KEY=VALUE"),
            "{err}"
        );
        let err = parse_env("API_KEY:s3cret").unwrap_err().to_string();
        assert!(
            err.contains("'API_KEY…'") && !err.contains("s3cret"),
            "{err}"
        );
        let err = parse_env("1BAD=s3cret").unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "a value is never shown: {err}");
    }

    #[test]
    fn build_args_and_registries() {
        assert_eq!(
            parse_build_arg("GREETING=hello=world").unwrap(),
            ("GREETING".into(), "hello=world".into())
        );
        assert!(parse_build_arg("NOVALUE").is_err());
        assert!(parse_build_arg("1BAD=x").is_err());
        assert!(parse_registry("127.0.0.1:5000").is_ok());
        assert!(parse_registry("123456789012.dkr.ecr.eu-west-1.amazonaws.com").is_ok());
        assert!(parse_registry("https://x").is_err());
        assert!(parse_registry("host:0").is_err());
        assert!(parse_registry("host/path").is_err());
    }

    #[test]
    fn unreadable_pull_request_payload_is_an_error_only_without_sha() {
        let dir = tempfile::tempdir().unwrap();
        let not_json = dir.path().join("event.json");
        std::fs::write(&not_json, "not json").unwrap();
        for path in ["/nonexistent/event.json", not_json.to_str().unwrap()] {
            let env: crate::ci::Env = [
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_EVENT_NAME", "pull_request"),
                ("GITHUB_EVENT_PATH", path),
                ("GITHUB_SHA", "2222222222222222222222222222222222222222"),
            ]
            .into_iter()
            .collect();
            let ci = crate::ci::CiContext::detect(&env);
            let err = resolve_sha(None, &ci, dir.path()).unwrap_err().to_string();
            assert!(err.contains("GITHUB_EVENT_PATH"), "{err}");
            assert_eq!(err.matches("no commit SHA found").count(), 1, "{err}");
            // An explicit --sha wins over every CI source.
            let head = "1111111111111111111111111111111111111111";
            let (sha, source) = resolve_sha(Some(head), &ci, dir.path()).unwrap();
            assert_eq!((sha.as_str(), source), (head, ShaSource::Flag));
        }
    }

    #[test]
    fn git_is_the_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let none = crate::ci::CiContext::detect(&crate::ci::Env::default());
        let err = resolve_sha(None, &none, dir.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no commit SHA found"), "{err}");
        let git = |args: &[&str]| {
            assert!(
                std::process::Command::new("git")
                    .arg("-C")
                    .arg(dir.path())
                    .args(args)
                    .output()
                    .unwrap()
                    .status
                    .success()
            );
        };
        git(&["init", "-q"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ]);
        let (sha, source) = resolve_sha(None, &none, dir.path()).unwrap();
        assert_eq!((sha.as_str().len(), source), (40, ShaSource::Git));
        assert!(crate::ci::changed_files(dir.path()).is_empty());
        std::fs::write(dir.path().join("new file.txt"), "x").unwrap();
        assert_eq!(
            crate::ci::changed_files(dir.path()),
            vec![dir.path().canonicalize().unwrap().join("new file.txt")]
        );
    }
}
