//! Lambda: each function read before anything is built (`FunctionSpec`),
//! pointed at the image of its architecture by digest and waited on until
//! live (`update.rs`), published and put behind an alias only once its smoke
//! test passed (`version.rs`, `smoke.rs`), and what became of it
//! (`FunctionReport`, its `Outcome` in `outcome.rs`).

mod client;
mod configure;
mod create;
mod deploy;
pub mod history;
pub mod housekeeping;
mod outcome;
mod preflight;
pub mod preview;
mod race;
pub mod release;
pub mod rollback;
pub mod smoke;
mod update;
mod version;

pub use client::Lambda;
pub use outcome::{Outcome, deploy_failure};
#[cfg(test)]
pub(crate) use update::replay;

use crate::model::{FunctionTarget, Platform, SmokeConfig};
use smoke::SmokeResult;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error(
        "the function {0} does not exist (or this role may not read it): pass \
         --execution-role ARN (the role the function runs as) to create it, create it as a \
         container-image function, or fix --function"
    )]
    NotFound(String),
    #[error(
        "the function {0} does not exist and is to be created: name its architecture, \
         --function {0}:x86_64 or --function {0}:arm64"
    )]
    NoArchitecture(String),
    #[error(
        "{0} is a .zip function: lambda-ship deploys container images, and a function's package \
         type cannot change. Create a new function with --package-type Image"
    )]
    Zip(String),
    #[error(
        "--function {function} is in {what} {theirs}, but this run deploys in {ours}: Lambda \
         pulls images only from ECR in the function's own Region and account. Run a deploy \
         there (--region, or a role of that account), or name a function of {ours}"
    )]
    Elsewhere {
        function: String,
        what: &'static str,
        theirs: String,
        ours: String,
    },
    #[error(
        "the environment of {name}, its own variables with those asked, would be {size} bytes, \
         over Lambda's 4 KB: drop variables, or move large values out of the environment"
    )]
    EnvTooLarge { name: String, size: usize },
    #[error(
        "the preview of {function} would be {preview}, but a function of that name exists \
         that is not a lambda-ship preview of it: rename or delete it"
    )]
    NotAPreview { function: String, preview: String },
    #[error("reading the function {name} failed: {message}")]
    Api { name: String, message: String },
}

impl PreflightError {
    /// A missing or zip function is a mistake in the flags, found before any change.
    pub fn is_config(&self) -> bool {
        !matches!(self, PreflightError::Api { .. })
    }
}

/// The Region and account of a function ARN; None for a plain name.
pub fn arn_region_account(name: &str) -> Option<(&str, &str)> {
    let mut parts = name.strip_prefix("arn:")?.split(':');
    let (_partition, service, region, account) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    (service == "lambda").then_some((region, account))
}

/// A function's own name: the name of an ARN, or the name as given.
pub fn plain_name(name: &str) -> &str {
    name.rsplit_once(":function:")
        .map_or(name, |(_, plain)| plain)
}

/// Refuses a function ARN of another Region or account than the run's.
pub fn check_target(
    target: &FunctionTarget,
    region: &str,
    account: Option<&str>,
) -> Result<(), PreflightError> {
    let Some((theirs, their_account)) = arn_region_account(&target.name) else {
        return Ok(());
    };
    if theirs != region {
        return Err(PreflightError::Elsewhere {
            function: target.name.clone(),
            what: "the Region",
            theirs: theirs.to_string(),
            ours: format!("the Region {region}"),
        });
    }
    match account {
        Some(ours) if ours != their_account => Err(PreflightError::Elsewhere {
            function: target.name.clone(),
            what: "the account",
            theirs: their_account.to_string(),
            ours: format!("the account {ours}"),
        }),
        _ => Ok(()),
    }
}

/// Why a step of one function's deploy failed. Its text is what the report,
/// the error and the comment say of the function.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// A Lambda API call failed.
    #[error("{operation} failed: {message}")]
    Call {
        operation: &'static str,
        message: String,
    },
    /// After its update, the function does not run what was asked.
    #[error("after the update the {0}")]
    NotLive(String),
    #[error("the update failed: {0}")]
    UpdateFailed(String),
    #[error("the update did not finish within --wait-timeout")]
    WaitTimeout,
    #[error("PublishVersion returned no version")]
    NoVersion,
    #[error("the smoke-test invocation failed: {0}")]
    SmokeCall(String),
    /// The smoke test ran and failed; `kept` says where the alias stays.
    #[error("smoke test failed: {reason}{kept}")]
    SmokeFailed { reason: String, kept: String },
    #[error("{0}")]
    Cancelled(String),
    /// Lambda refused a write whose precondition (`RevisionId`,
    /// `CodeSha256`) no longer held: something wrote in between.
    #[error("{operation} was refused: the function changed since this run read it")]
    Precondition { operation: &'static str },
    /// Another deploy wrote in between, as found when this run read the
    /// function again: what it runs now, and what this run did not do.
    #[error("another deploy {0}")]
    Overtaken(String),
}

/// What a write of the deploy is conditional on: the function as this run
/// last wrote or read it (`RevisionId`), and the code its own update made
/// (`CodeSha256`), so that nothing is published from another run's code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Guard {
    pub revision: Option<String>,
    pub code_sha256: Option<String>,
}

/// One function as the deploy sees it, read once in preflight: what it is
/// (name, architecture, image) and how it runs (`local`: its memory,
/// timeout, environment and Region). The update, the smoke test and the
/// local sandbox all take it from here.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    /// The architecture it is deployed as.
    pub arch: Platform,
    /// The architecture it had before.
    pub arch_before: Platform,
    pub image_before: Option<String>,
    /// Its `RevisionId` and `CodeSha256` as read in preflight: the first
    /// write is conditional on them, each later one on the write before.
    pub revision_id: Option<String>,
    pub code_sha256: Option<String>,
    /// An update of it was in progress when preflight read it: its revision
    /// changes when that update ends, so the guard is read again then.
    pub updating: bool,
    /// The image it ran before, by digest (Lambda's resolved image where
    /// it was given by tag): what a rollback on $LATEST goes back to.
    pub pinned_before: Option<String>,
    /// It does not exist yet: it is created, running as this role.
    pub create_with_role: Option<String>,
    /// What the flags and lambda-ship.toml ask of its configuration.
    pub asked: crate::settings::Settings,
    /// How its configuration differs from what is asked: what the update changes.
    pub changes: Vec<crate::settings::Change>,
    /// Its description before.
    pub description: Option<String>,
    /// The role it runs as, as read (a preview runs as its function does).
    pub role: Option<String>,
    /// Its VPC subnets and security groups, as read (a preview gets them too).
    pub vpc: Option<(Vec<String>, Vec<String>)>,
    /// Tags a function created by this deploy gets.
    pub tags: std::collections::BTreeMap<String, String>,
    /// It is the pull request's preview of this function.
    pub preview_of: Option<String>,
    /// The URL this deploy makes sure it has (a preview's own).
    pub url: Option<crate::model::UrlAuth>,
    /// Production's numbers from its last deploy (its tag), to compare with.
    pub baseline: Option<crate::metrics::Numbers>,
    /// How Lambda runs it once deployed (what it has, with what is asked
    /// applied): the settings of its local run too.
    pub local: crate::sandbox::LocalSettings,
}

/// What became of one function.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FunctionReport {
    pub name: String,
    pub architecture: &'static str,
    pub image_before: Option<String>,
    /// The image the function runs after this deploy; None when it was not updated.
    pub image_after: Option<String>,
    /// What became of it (in the JSON: `outcome`, `updated`, `unchanged`, `error`).
    #[serde(flatten)]
    pub outcome: Outcome,
    /// It did not exist: this deploy created it.
    pub created: bool,
    /// It is the pull request's preview of this function.
    pub preview_of: Option<String>,
    /// What changed of its configuration, one line each (environment keys,
    /// never values).
    pub configured: Vec<String>,
    /// The version published for the alias.
    pub version: Option<String>,
    pub alias: Option<AliasReport>,
    /// The function URL, or None when it has none.
    pub url: Option<String>,
    pub smoke: Option<SmokeResult>,
    /// This deploy's numbers: size, cold start, duration, memory.
    pub numbers: Option<crate::metrics::Numbers>,
    /// Production's, from its last deploy.
    pub baseline: Option<crate::metrics::Numbers>,
    /// Changes past a threshold (`--warn-cold-start-ms`, `--warn-size-mb`).
    pub warnings: Vec<String>,
    pub update_seconds: f64,
}

impl FunctionReport {
    /// A function as the deploy found it, not updated, for `why`.
    pub fn not_updated(spec: &FunctionSpec, why: &str) -> Self {
        FunctionReport {
            name: spec.name.clone(),
            architecture: spec.arch.lambda_arch(),
            image_before: spec.image_before.clone(),
            image_after: None,
            outcome: Outcome::NotUpdated(why.to_string()),
            created: false,
            preview_of: spec.preview_of.clone(),
            configured: Vec::new(),
            version: None,
            alias: None,
            url: None,
            smoke: None,
            numbers: None,
            baseline: spec.baseline.clone(),
            warnings: Vec::new(),
            update_seconds: 0.0,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AliasReport {
    pub name: String,
    /// The version the alias pointed at before; None when it was created.
    pub previous_version: Option<String>,
    /// The version it points at now.
    pub version: Option<String>,
    pub moved: bool,
    /// What it served before its current version, as recorded on it.
    #[serde(skip)]
    pub served: crate::model::release::Served,
    /// Its `RevisionId` as this run last read or wrote it: moving it is
    /// conditional on it.
    #[serde(skip)]
    pub revision: Option<String>,
}

/// What one function's deploy is told.
pub struct DeployJob<'a> {
    pub spec: &'a FunctionSpec,
    /// `<repositoryUri>@<digest>`
    pub image_uri: &'a str,
    pub alias: Option<&'a str>,
    /// The URL the function must have (`--function-url`).
    pub function_url: Option<crate::model::UrlAuth>,
    pub smoke: Option<&'a SmokeConfig>,
    pub wait_timeout: Duration,
    /// Checked before each step that changes what users see.
    pub cancel: &'a crate::cancel::Cancel,
    /// The bound of one AWS call's attempt.
    pub aws_timeout: Duration,
    /// The image's compressed size, for the numbers.
    pub size_bytes: Option<u64>,
    pub thresholds: crate::metrics::Thresholds,
    /// The commit deployed, and the CI run: each published version says them.
    pub commit: &'a str,
    pub run_url: Option<&'a str>,
    /// A rollout moves the alias later, with every function of the run:
    /// the deploy leaves it where it is.
    pub hold_alias: bool,
}

#[cfg(test)]
mod tests;
