//! The parsers and checks behind the settings: the commit, events, the
//! dirty-tree check, output paths, session names, build arguments,
//! environment pairs and registries.

use super::{CiContext, CommitSha, ConfigError};
use crate::model::ImageRef;
use std::path::{Path, PathBuf};

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
    let sha = crate::ci::head_commit(dir).map_err(ConfigError::NoSha)?;
    Ok((sha.parse()?, ShaSource::Git))
}

/// `--cache-from` references, each with its registry host, read once.
pub(super) fn parse_cache_from(refs: &[String]) -> Result<Vec<ImageRef>, ConfigError> {
    refs.iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(|r| ImageRef::parse(r).ok_or_else(|| ConfigError::CacheFrom(r.to_string())))
        .collect()
}

/// The commit deployed before `sha` on the same change: what the CI says
/// (a push's `before`), else `sha`'s first parent where git has it. Its
/// images are the likeliest cache for this build.
pub(super) fn previous_sha(ci: &CiContext, dir: &Path, sha: &CommitSha) -> Option<CommitSha> {
    if let Some(previous) = ci
        .previous_sha
        .as_deref()
        .and_then(|s| s.parse::<CommitSha>().ok())
        && previous.as_str().bytes().any(|b| b != b'0')
        && previous != *sha
    {
        return Some(previous);
    }
    crate::ci::parent_commit(dir, sha.as_str())?.parse().ok()
}

/// An event given by `flag`: inline JSON, or `@FILE`; checked to be JSON.
pub(super) fn read_event(flag: &'static str, arg: &str) -> Result<String, ConfigError> {
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
pub(super) fn dirty_digest(
    build_context: &crate::farm::context::BuildContext,
    context: &std::path::Path,
    sha: &CommitSha,
    allow_dirty: bool,
) -> Result<Option<String>, ConfigError> {
    let changed = crate::ci::changed_files(context);
    let reaching: Vec<PathBuf> = changed
        .into_iter()
        .filter(|f| build_context.includes(f))
        .collect();
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

pub(super) fn valid_session_name(name: &str) -> bool {
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

/// `--role-arn` and its companions, when a role is to be assumed.
/// How a command reaches AWS: the role it assumes, the Region, and how long
/// one attempt of a call may take.
#[derive(Debug, Clone)]
pub struct AwsAccess {
    pub role: Option<crate::model::RoleConfig>,
    pub region: Option<String>,
    pub aws_timeout: std::time::Duration,
}

impl AwsAccess {
    pub(super) fn from_args(
        role: crate::cli::RoleArgs,
        region: Option<String>,
        aws_timeout_secs: u64,
        ci: &CiContext,
    ) -> Result<Self, ConfigError> {
        Ok(AwsAccess {
            role: role_config(role, ci)?,
            region,
            aws_timeout: std::time::Duration::from_secs(aws_timeout_secs.clamp(1, 3_600)),
        })
    }
}

pub(super) fn role_config(
    args: crate::cli::RoleArgs,
    ci: &CiContext,
) -> Result<Option<super::RoleConfig>, ConfigError> {
    let crate::cli::RoleArgs {
        role_arn,
        audience,
        role_session_name: session_name,
        web_identity_token_env: token_env,
    } = args;
    let Some(arn) = role_arn else {
        return Ok(None);
    };
    let re = regex::Regex::new(r"^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/[A-Za-z0-9_+=,.@/-]+$")
        .map_err(|_| ConfigError::RoleArn(arn.clone()))?;
    if !re.is_match(&arn) || arn.len() > 2048 {
        return Err(ConfigError::RoleArn(arn));
    }
    let session_name = match session_name {
        Some(name) if !valid_session_name(&name) => return Err(ConfigError::SessionName(name)),
        Some(name) => name,
        None => session_name_for(ci),
    };
    Ok(Some(super::RoleConfig {
        arn,
        audience,
        session_name,
        token_env,
    }))
}
