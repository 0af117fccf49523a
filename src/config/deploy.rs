//! `lambda-ship deploy`'s settings.

use super::function;
use super::parse::{check_output_path, read_event};
use super::{BuildConfig, ConfigError, FunctionTarget, Platform, RoleConfig, SmokeConfig};
use crate::ci::CiContext;
use crate::cli::DeployArgs;
use crate::model::rollout::{Gates, Rollout};
use crate::settings::Settings;
use std::path::PathBuf;

/// Everything `lambda-ship deploy` needs, validated.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// The one image of the flags; with `[images]`, the first image's build,
    /// whose commit, timeouts and output every image shares.
    pub build: BuildConfig,
    /// The `[images.NAME]` the functions run; empty for the flags' one image.
    pub images: Vec<super::ImageBuild>,
    /// At most this many builds at once [default: one per engine].
    pub jobs: Option<usize>,
    pub functions: Vec<FunctionTarget>,
    /// What is asked of each function's configuration, in the order of `functions`.
    pub settings: Vec<Settings>,
    pub role: Option<RoleConfig>,
    pub alias: Option<String>,
    /// The role a missing function is created with (`--execution-role`).
    pub execution_role: Option<String>,
    /// The URL each function must have, when asked.
    pub function_url: Option<crate::model::UrlAuth>,
    pub smoke: Option<SmokeConfig>,
    pub report_json: Option<PathBuf>,
    pub wait_timeout: std::time::Duration,
    pub feedback: crate::feedback::FeedbackConfig,
    /// Invoke each image locally before pushing it.
    pub local_smoke: bool,
    /// The credentials the local run gives the function.
    pub local_credentials: Option<crate::model::LocalCredentials>,
    /// Only read, and print the plan.
    pub dry_run: bool,
    /// Deploy the previews of this pull request.
    pub preview: Option<u64>,
    pub thresholds: crate::metrics::Thresholds,
    /// How long each image's scan is waited for.
    pub scan_wait: std::time::Duration,
    /// How the alias moves, when not at once.
    pub rollout: Option<Rollout>,
    pub gates: Gates,
    /// The CI run, written on each published version.
    pub run_url: Option<String>,
    /// `--require-signature`: the KMS key every image deployed must be signed by.
    pub require_signature: Option<String>,
}

impl DeployConfig {
    pub fn from_args(mut args: DeployArgs, ci: &CiContext) -> Result<Self, ConfigError> {
        let file = function::read_file(args.build.config.as_deref(), &args.build.source.context)?;
        let (functions, settings): (Vec<FunctionTarget>, Vec<Settings>) =
            function::functions(&args.functions, &file, &args.settings)?
                .into_iter()
                .unzip();
        let picked: Vec<&str> = if args.functions.iter().any(|f| !f.trim().is_empty()) {
            functions.iter().map(|f| f.name.as_str()).collect()
        } else {
            Vec::new()
        };
        let sources = super::image_sources(&file, &picked)?;
        // Checked here, not by clap: the action passes `preview: false`,
        // which clap would take for the flag given.
        if args.preview && args.alias.is_some() {
            return Err(ConfigError::PreviewWithAlias);
        }
        if args.local_credentials.is_some() && args.no_local_smoke {
            return Err(ConfigError::LocalCredentialsWithoutLocalRun);
        }
        // Flags win over the file.
        args.build.repository = args.build.repository.or(file.repository);
        args.execution_role = args.execution_role.or(file.execution_role);
        args.alias = args.alias.or(file.alias);
        args.function_url = args.function_url.or(file.function_url);
        let role = super::parse::role_config(args.role.clone(), ci)?;
        let preview = match (args.preview, ci.change_number) {
            (false, _) => None,
            (true, Some(n)) => Some(n),
            (true, None) => return Err(ConfigError::PreviewOutsideChange),
        };
        // A preview leaves the function's aliases alone, the file's included.
        if preview.is_some() {
            args.alias = None;
        }
        if let Some(alias) = &args.alias {
            check_alias(alias)?;
        }
        let (rollout, gates) = rollout(&args)?;
        let smoke = (!args.no_smoke)
            .then(|| read_event("--smoke-event", &args.smoke_event))
            .transpose()?
            .map(|event| SmokeConfig {
                event,
                expect: args.smoke_expect,
            });
        // Plain names: cleanup, which knows only those, finds the same comment.
        let names = functions
            .iter()
            .map(|f| crate::lambda::plain_name(&f.name))
            .collect();
        let feedback = super::feedback_config(args.comment, names, args.dotenv);
        let images = if sources.is_empty() {
            Vec::new()
        } else {
            super::image_builds(&args.build, sources, ci)?
        };
        let jobs = args.build.jobs.map(usize::from);
        let build = match images.first() {
            Some(first) => first.build.clone(),
            None => BuildConfig::from_args(args.build, ci)?,
        };
        if let Some(path) = &args.report_json {
            check_output_path("--report-json", path)?;
        }
        if let Some(path) = &feedback.dotenv {
            check_output_path("--dotenv", path)?;
        }
        if build.platforms_explicit {
            check_platforms(&functions, &build.platforms)?;
        }
        Ok(DeployConfig {
            build,
            images,
            jobs,
            functions,
            settings,
            role,
            alias: args.alias,
            execution_role: args
                .execution_role
                .map(|r| check_role_arn(&r).map(|()| r))
                .transpose()?,
            function_url: args.function_url,
            smoke,
            report_json: args.report_json,
            wait_timeout: std::time::Duration::from_secs(args.wait_timeout.clamp(1, 86_400)),
            feedback,
            local_smoke: !args.no_local_smoke,
            local_credentials: args.local_credentials,
            dry_run: args.dry_run,
            preview,
            thresholds: crate::metrics::Thresholds {
                cold_start_ms: args
                    .warn_cold_start_ms
                    .filter(|v| v.is_finite() && *v >= 0.0),
                size_mb: args.warn_size_mb.filter(|v| v.is_finite() && *v >= 0.0),
            },
            scan_wait: std::time::Duration::from_secs(args.scan_wait.min(3_600)),
            rollout,
            gates,
            run_url: ci.run_url.clone(),
            require_signature: args.require_signature,
        })
    }
}

/// The rollout and its gates: a rollout needs an alias, a gate a rollout.
fn rollout(args: &DeployArgs) -> Result<(Option<Rollout>, Gates), ConfigError> {
    let rollout = args
        .rollout
        .as_deref()
        .map(str::parse::<Rollout>)
        .transpose()?;
    if rollout.is_some() && args.alias.is_none() {
        return Err(ConfigError::RolloutWithoutAlias);
    }
    if let Some(rate) = args.max_error_rate
        && !(rate > 0.0 && rate <= 100.0)
    {
        return Err(ConfigError::MaxErrorRate(rate));
    }
    let mut alarms: Vec<String> = Vec::new();
    for alarm in &args.rollback_alarms {
        let alarm = alarm.trim();
        if !alarm.is_empty() && !alarms.iter().any(|a| a == alarm) {
            alarms.push(alarm.to_string());
        }
    }
    let gates = Gates {
        alarms,
        max_error_rate: args.max_error_rate,
        min_invocations: args.min_invocations,
    };
    if rollout.is_none() {
        if !gates.alarms.is_empty() {
            return Err(ConfigError::GateWithoutRollout("--rollback-alarm"));
        }
        if gates.max_error_rate.is_some() {
            return Err(ConfigError::GateWithoutRollout("--max-error-rate"));
        }
    }
    Ok((rollout, gates))
}

/// A Lambda alias name: 1–128 letters, digits, `-` and `_`, not all digits.
pub(super) fn check_alias(alias: &str) -> Result<(), ConfigError> {
    let ok = (1..=128).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !alias.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Alias(alias.to_string()))
    }
}

/// With `--platforms` given, every function's architecture must be among them.
fn check_platforms(
    functions: &[FunctionTarget],
    platforms: &[Platform],
) -> Result<(), ConfigError> {
    match functions
        .iter()
        .find_map(|f| f.arch.filter(|p| !platforms.contains(p)).map(|p| (p, f)))
    {
        Some((platform, f)) => Err(ConfigError::MissingPlatform {
            platform,
            function: f.name.clone(),
        }),
        None => Ok(()),
    }
}

/// An IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`.
pub(super) fn check_role_arn(arn: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::ExecutionRole(arn.to_string());
    let rest = arn.strip_prefix("arn:").ok_or_else(bad)?;
    let mut parts = rest.splitn(5, ':');
    let (partition, service, region, account, resource) = (
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
        parts.next().ok_or_else(bad)?,
    );
    let name = resource.strip_prefix("role/").ok_or_else(bad)?;
    let ok = partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.ends_with('/');
    if ok { Ok(()) } else { Err(bad()) }
}

#[cfg(test)]
#[path = "rollout_tests.rs"]
mod rollout_tests;

#[cfg(test)]
mod role_tests {
    #[test]
    fn execution_roles_are_role_arns() {
        assert!(super::check_role_arn("arn:aws:iam::123456789012:role/fn-exec").is_ok());
        assert!(super::check_role_arn("arn:aws:iam::123456789012:role/svc/fn-exec").is_ok());
        for bad in [
            "fn-exec",
            "arn:aws:iam::123456789012:user/fn",
            "arn:aws:iam::12345:role/fn",
            "arn:aws:iam:us-east-1:123456789012:role/fn",
            "arn:aws:sts::123456789012:role/fn",
        ] {
            assert!(super::check_role_arn(bad).is_err(), "{bad}");
        }
    }
}
