//! The plain value types every stage shares: platforms, commits, repository
//! names, engine endpoints, function targets and a few settings. Each parses
//! and checks itself; nothing here imports from the rest of the crate, so
//! every module can use them without an import running back up.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

mod credentials;
mod image_ref;
mod local;
pub mod release;
pub mod rollout;
pub use credentials::{AssumedRole, LocalCredentials};
pub use image_ref::ImageRef;
pub use local::{ImageOverrides, LocalSettings, RESERVED_VARIABLES};

/// The defaults of the flags, shared by the command line and the settings
/// that are made without it.
pub mod defaults {
    /// Lambda's default, and smallest, `/tmp`.
    pub const EPHEMERAL_STORAGE_MB: u64 = 512;
    /// How long one platform's build may take, in seconds.
    pub const BUILD_TIMEOUT_SECS: u64 = 3600;
    /// How long one image's push may take, retries included, in seconds.
    pub const PUSH_TIMEOUT_SECS: u64 = 1800;
    /// How long one attempt of an AWS call may take, in seconds.
    pub const AWS_TIMEOUT_SECS: u64 = 60;
    /// How long a function update may take to become live, in seconds.
    pub const WAIT_TIMEOUT_SECS: u64 = 300;
    /// A local function's memory, in MB, and timeout, in seconds: Lambda's
    /// defaults for a new function.
    pub const LOCAL_MEMORY_MB: u64 = 128;
    pub const LOCAL_TIMEOUT_SECS: u64 = 3;
}

/// A value that does not parse. Its text says what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error(
        "unknown platform '{0}': Lambda runs linux/amd64 (x86_64) and linux/arm64 (arm64); \
         pass --platforms linux/amd64,linux/arm64 or a subset"
    )]
    UnknownPlatform(String),
    #[error(
        "'{0}' is not a valid ECR repository name: use lowercase letters, digits and . _ - / \
         (2 to 256 characters, starting and ending with a letter or digit), e.g. my-team/my-function"
    )]
    RepositoryName(String),
    #[error(
        "'{0}' is not a full commit SHA: lambda-ship tags images with the 40-character hex \
         commit; pass --sha $(git rev-parse HEAD)"
    )]
    Sha(String),
    #[error(
        "'{0}' is not a builder: write --builder PLATFORM=ENDPOINT, e.g. \
         linux/arm64=unix:///run/arm64/docker.sock, linux/arm64=tcp://arm-host:2376 or \
         linux/arm64=ssh://user@arm-host"
    )]
    Builder(String),
    #[error(
        "'{0}' is not a function: write --function NAME[:ARCH], where NAME is a function name \
         or ARN (letters, digits, - and _) and ARCH is x86_64 or arm64"
    )]
    Function(String),
}

/// A Lambda architecture and the Docker platform that builds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    Amd64,
    Arm64,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Amd64, Platform::Arm64];

    /// The Docker platform string, `linux/amd64`.
    pub fn docker(self) -> &'static str {
        match self {
            Platform::Amd64 => "linux/amd64",
            Platform::Arm64 => "linux/arm64",
        }
    }

    /// The architecture as an image config and the OCI spec name it.
    pub fn oci_arch(self) -> &'static str {
        match self {
            Platform::Amd64 => "amd64",
            Platform::Arm64 => "arm64",
        }
    }

    /// The architecture as Lambda names it, also the suffix of the image tag.
    pub fn lambda_arch(self) -> &'static str {
        match self {
            Platform::Amd64 => "x86_64",
            Platform::Arm64 => "arm64",
        }
    }

    /// The machine name a kernel reports (`uname -m`, binfmt's qemu-<machine>).
    pub fn machine(self) -> &'static str {
        match self {
            Platform::Amd64 => "x86_64",
            Platform::Arm64 => "aarch64",
        }
    }

    /// Reads an engine's or a kernel's name for an architecture.
    pub fn from_machine(name: &str) -> Option<Platform> {
        match name {
            "x86_64" | "amd64" => Some(Platform::Amd64),
            "aarch64" | "arm64" => Some(Platform::Arm64),
            _ => None,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.docker())
    }
}

impl serde::Serialize for Platform {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.docker())
    }
}

impl FromStr for Platform {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        let arch = name.strip_prefix("linux/").unwrap_or(name);
        match arch {
            "amd64" | "x86_64" => Ok(Platform::Amd64),
            "arm64" | "aarch64" | "arm64/v8" => Ok(Platform::Arm64),
            _ => Err(ParseError::UnknownPlatform(s.to_string())),
        }
    }
}

/// A full 40-hex commit SHA, lowercase.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct CommitSha(String);

impl CommitSha {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CommitSha {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let sha = s.trim();
        if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(CommitSha(sha.to_ascii_lowercase()))
        } else {
            Err(ParseError::Sha(s.to_string()))
        }
    }
}

/// An ECR repository name: `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`,
/// 2 to 256 characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct RepositoryName(String);

impl RepositoryName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RepositoryName {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let component_ok = |c: &str| {
            let b = c.as_bytes();
            !b.is_empty()
                && b.first().is_some_and(u8::is_ascii_alphanumeric)
                && b.last().is_some_and(u8::is_ascii_alphanumeric)
                && b.iter().all(|&ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || b"._-".contains(&ch)
                })
                && b.windows(2)
                    .all(|w| !(b"._-".contains(&w[0]) && b"._-".contains(&w[1])))
        };
        if (2..=256).contains(&s.len()) && s.split('/').all(component_ok) {
            Ok(RepositoryName(s.to_string()))
        } else {
            Err(ParseError::RepositoryName(s.to_string()))
        }
    }
}

/// Where a platform is built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The local engine: DOCKER_HOST, or the default socket.
    Local,
    /// `unix:///path/docker.sock`
    Unix(PathBuf),
    /// `tcp://host:port`, with TLS when DOCKER_TLS_VERIFY is set.
    Tcp(String),
    /// `ssh://user@host[:port]`
    Ssh(String),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Local => f.write_str("local engine"),
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(a) | Endpoint::Ssh(a) => f.write_str(a),
        }
    }
}

impl FromStr for Endpoint {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Builder(s.to_string());
        if let Some(path) = s.strip_prefix("unix://") {
            if !path.starts_with('/') {
                return Err(bad());
            }
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        for scheme in ["tcp://", "ssh://"] {
            if let Some(rest) = s.strip_prefix(scheme) {
                let host = rest.trim_end_matches('/');
                if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
                    return Err(bad());
                }
                return Ok(if scheme == "tcp://" {
                    Endpoint::Tcp(s.trim_end_matches('/').to_string())
                } else {
                    Endpoint::Ssh(s.trim_end_matches('/').to_string())
                });
            }
        }
        Err(bad())
    }
}

/// How a repository that lambda-ship creates treats an existing tag
/// (`--tag-mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "UPPERCASE")]
pub enum TagMutability {
    Immutable,
    Mutable,
}

/// When the pull-request comment is posted (`--comment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CommentMode {
    /// On pull and merge requests, when a token is given.
    Auto,
    /// As auto, and say so in a warning when no comment can be posted.
    Always,
    Never,
}

/// How progress is shown on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// indicatif bars, one per platform.
    Tty,
    /// Timestamped lines.
    Plain,
    /// Timestamped lines, and each platform's log in a `::group::`.
    GitHub,
}

/// A function to deploy and, when given, the architecture to deploy it as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionTarget {
    /// A name, a partial ARN or a full ARN, unqualified.
    pub name: String,
    pub arch: Option<Platform>,
}

impl FromStr for FunctionTarget {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseError::Function(s.to_string());
        let s = s.trim();
        let (name, arch) = match s.rsplit_once(':') {
            Some((name, suffix)) if !suffix.is_empty() => match suffix.parse::<Platform>() {
                Ok(p) => (name, Some(p)),
                Err(_) => (s, None),
            },
            _ => (s, None),
        };
        let re = regex::Regex::new(
            r"^(arn:aws[a-zA-Z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:function:)?[a-zA-Z0-9_-]{1,64}$",
        )
        .map_err(|_| bad())?;
        if re.is_match(name) {
            Ok(FunctionTarget {
                name: name.to_string(),
                arch,
            })
        } else {
            Err(bad())
        }
    }
}

/// Where the CI's OIDC identity comes from and which role it assumes.
#[derive(Debug, Clone)]
pub struct RoleConfig {
    pub arn: String,
    pub audience: String,
    pub session_name: String,
    /// The variable that holds the token (GitLab `id_tokens`).
    pub token_env: Option<String>,
}

/// Where a build imports its cache from: the images of earlier commits, of
/// the build's own architecture, read through the registry.
#[derive(Debug, Clone, Default)]
pub struct CacheSources {
    /// Off with `--no-cache-from`.
    pub enabled: bool,
    /// `--cache-from REF`, in the order given.
    pub extra: Vec<ImageRef>,
    /// The commit this change deployed before this one, where the CI or git says.
    pub previous_sha: Option<CommitSha>,
    /// What each target function runs now: its architecture, its name, its image.
    pub running: Vec<(Platform, String, String)>,
}

/// The auth type of a function URL lambda-ship makes sure of
/// (`--function-url`, `function-url` in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum UrlAuth {
    /// `NONE`: anyone may call it (with the resource policy that allows it).
    Public,
    /// `AWS_IAM`: signed requests only.
    Iam,
}

/// The smoke-test invocation.
#[derive(Debug, Clone)]
pub struct SmokeConfig {
    /// A JSON document.
    pub event: String,
    pub expect: Option<String>,
}
