//! `history`'s and `rollback`'s settings.

use super::parse::read_event;
use super::{ConfigError, SmokeConfig};
use crate::ci::CiContext;
use crate::cli::{HistoryArgs, OutputFormat, ReleaseArgs, RollbackArgs, VerifyArgs};
use crate::model::ProgressMode;
use crate::model::release::Target;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct ReleaseConfig {
    pub aws: super::AwsAccess,
    pub output: OutputFormat,
    pub progress: ProgressMode,
}

impl ReleaseConfig {
    fn from_args(args: ReleaseArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        Ok(ReleaseConfig {
            aws: super::parse::AwsAccess::from_args(args.role, args.region, args.aws_timeout, ci)?,
            output: args.output,
            progress: super::progress_mode(args.progress, ci),
        })
    }
}

#[derive(Debug, Clone)]
pub struct HistoryConfig {
    pub common: ReleaseConfig,
    pub function: String,
    pub alias: Option<String>,
}

impl HistoryConfig {
    pub fn from_args(args: HistoryArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        if let Some(alias) = &args.alias {
            super::deploy::check_alias(alias)?;
        }
        Ok(HistoryConfig {
            common: ReleaseConfig::from_args(args.common, ci)?,
            function: args.function,
            alias: args.alias,
        })
    }
}

#[derive(Debug, Clone)]
pub struct RollbackConfig {
    pub common: ReleaseConfig,
    pub functions: Vec<String>,
    pub alias: Option<String>,
    pub target: Target,
    pub smoke: Option<SmokeConfig>,
    pub wait_timeout: Duration,
    /// `--require-signature`: the KMS key each target image must be signed by.
    pub require_signature: Option<String>,
    /// Where the signatures are read, when not the repository's ECR registry.
    pub registry_override: Option<String>,
}

impl RollbackConfig {
    pub fn from_args(args: RollbackArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        if let Some(alias) = &args.alias {
            super::deploy::check_alias(alias)?;
        }
        let target = match (&args.to_commit, &args.to_version) {
            (Some(c), _) => {
                let ok = (7..=40).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    return Err(ConfigError::RollbackTarget(format!(
                        "--to-commit {c} is not a commit: give 7 to 40 hex digits of one"
                    )));
                }
                Target::Commit(c.to_ascii_lowercase())
            }
            (None, Some(v)) => {
                let ok = !v.is_empty() && v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit());
                if !ok {
                    return Err(ConfigError::RollbackTarget(format!(
                        "--to-version {v} is not a version: give its number, e.g. --to-version 7"
                    )));
                }
                Target::Version(v.clone())
            }
            (None, None) => Target::Previous,
        };
        if target != Target::Previous && args.alias.is_none() {
            return Err(ConfigError::RollbackTarget(
                "--to-commit and --to-version choose a version for an alias: add --alias NAME \
                 (without it, a function on $LATEST goes back to the image it ran before)"
                    .to_string(),
            ));
        }
        // A deploy's functions name them NAME[:ARCH].
        let plain = |f: &str| -> String {
            let f = f.trim();
            f.strip_suffix(":x86_64")
                .or_else(|| f.strip_suffix(":arm64"))
                .unwrap_or(f)
                .to_string()
        };
        let mut functions: Vec<String> = Vec::new();
        for f in args.functions.iter().map(|f| plain(f)) {
            if !f.is_empty() && !functions.contains(&f) {
                functions.push(f);
            }
        }
        let smoke = (!args.no_smoke)
            .then(|| read_event("--smoke-event", &args.smoke_event))
            .transpose()?
            .map(|event| SmokeConfig {
                event,
                expect: args.smoke_expect,
            });
        Ok(RollbackConfig {
            common: ReleaseConfig::from_args(args.common, ci)?,
            functions,
            alias: args.alias,
            target,
            smoke,
            wait_timeout: Duration::from_secs(args.wait_timeout.clamp(1, 86_400)),
            require_signature: args.require_signature,
            registry_override: args
                .registry
                .map(|r| super::parse_registry(&r))
                .transpose()?,
        })
    }
}

/// `lambda-ship verify`: the image, the key, and the commit its provenance
/// must name, when asked.
#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub common: ReleaseConfig,
    pub image: crate::model::ImageRef,
    pub key: String,
    pub commit: Option<crate::model::CommitSha>,
    pub registry: Option<String>,
}

impl VerifyConfig {
    pub fn from_args(args: VerifyArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let image = crate::model::ImageRef::parse(&args.image)
            .ok_or_else(|| ConfigError::ImageReference(args.image.clone()))?;
        Ok(VerifyConfig {
            common: ReleaseConfig::from_args(args.common, ci)?,
            image,
            key: args.key,
            commit: args.commit.as_deref().map(str::parse).transpose()?,
            registry: args
                .registry
                .map(|r| super::parse_registry(&r))
                .transpose()?,
        })
    }
}
