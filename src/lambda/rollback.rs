//! Taking a release back: the target chosen from the function's history
//! (the release its alias served before, a commit, or a version), tested,
//! then the alias moved with no weights; on `$LATEST`, the image it ran
//! before, by digest.

use super::StepError;
use super::client::{Lambda, platform_of};
use super::history::History;
use super::release::AliasState;
use super::smoke::{self, SmokeResult};
use crate::model::release::{self, Served, Target};
use crate::model::{Platform, SmokeConfig};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RollbackError {
    #[error(
        "{function} has no alias {alias}: name the alias that serves it (see lambda-ship \
         history --function {function}), or leave out --alias for a function on $LATEST"
    )]
    NoAlias { function: String, alias: String },
    #[error(
        "commit {commit} was never released on {function}: lambda-ship history --function \
         {function} lists the commits of its versions"
    )]
    UnknownCommit { function: String, commit: String },
    #[error(
        "{function} has no version {version}: lambda-ship history --function {function} lists \
         its versions"
    )]
    UnknownVersion { function: String, version: String },
    #[error(
        "{function}:{alias} has no earlier release recorded: name one with --to-version N or \
         --to-commit SHA (lambda-ship history --function {function} lists them)"
    )]
    NothingBefore { function: String, alias: String },
    #[error(
        "{0} has no earlier image recorded (lambda-ship records it when a deploy on $LATEST \
         replaces one, and a rollback uses it up): deploy the commit to go back to instead"
    )]
    NoPreviousImage(String),
    #[error(transparent)]
    Step(#[from] StepError),
}

impl RollbackError {
    /// Found before anything changed, from what was asked: exit 2.
    pub fn is_config(&self) -> bool {
        !matches!(self, RollbackError::Step(_))
    }
}

/// The version to go back to, from what the function's history says.
pub fn choose(
    history: &History,
    alias: &AliasState,
    target: &Target,
) -> Result<String, RollbackError> {
    let function = history.function.clone();
    let exists = |v: &str| history.releases.iter().any(|r| r.version == v);
    match target {
        Target::Version(v) if exists(v) => Ok(v.clone()),
        Target::Version(v) => Err(RollbackError::UnknownVersion {
            function,
            version: v.clone(),
        }),
        Target::Commit(c) => history
            .releases
            .iter()
            .find(|r| {
                r.commit
                    .as_deref()
                    .is_some_and(|rc| rc.starts_with(&c.to_ascii_lowercase()))
            })
            .map(|r| r.version.clone())
            .ok_or(RollbackError::UnknownCommit {
                function,
                commit: c.clone(),
            }),
        // Split (a rollout cut short): back to the version it still serves.
        Target::Previous if !alias.weights.is_empty() => Ok(alias.version.clone()),
        Target::Previous => {
            let current: u64 = alias.version.parse().unwrap_or(u64::MAX);
            alias
                .served()
                .0
                .into_iter()
                .find(|v| *v != alias.version && exists(v))
                // Nothing recorded: the newest release of ours before it, not rolled back.
                .or_else(|| {
                    history
                        .releases
                        .iter()
                        .find(|r| {
                            r.version.parse::<u64>().is_ok_and(|n| n < current)
                                && r.commit.is_some()
                                && !r.rolled_back
                        })
                        .map(|r| r.version.clone())
                })
                .ok_or(RollbackError::NothingBefore {
                    function,
                    alias: alias.name.clone(),
                })
        }
    }
}

/// What a rollback on `$LATEST` says when another deploy wrote in between.
const OVERTAKEN: &str = "changed it during this rollback: left as it is";

/// A function on `$LATEST`: what it runs, and what it ran before.
#[derive(Debug, Clone)]
pub struct LatestState {
    pub image: Option<String>,
    /// Its `RevisionId` as read: going back is conditional on it.
    pub revision_id: Option<String>,
    /// An update of it was in progress when read: its revision changes
    /// when that update ends, so it is read again then.
    pub updating: bool,
    /// Its code as read: an update in progress must not change it.
    pub code_sha256: Option<String>,
    pub previous: Option<String>,
    pub arch: Platform,
    pub timeout: Duration,
}

impl Lambda {
    /// What a function on `$LATEST` runs and ran before.
    pub async fn latest_state(&self, name: &str) -> Result<LatestState, StepError> {
        let out = self
            .client
            .get_function()
            .function_name(name)
            .send()
            .await
            .map_err(|e| StepError::Call {
                operation: "GetFunction",
                message: self.calls.describe(&e),
            })?;
        let config = out.configuration();
        Ok(LatestState {
            image: out.code().and_then(|c| c.image_uri()).map(str::to_string),
            revision_id: config.and_then(|c| c.revision_id()).map(str::to_string),
            updating: config
                .is_some_and(|c| super::race::is_changing(c.last_update_status(), c.state())),
            code_sha256: config.and_then(|c| c.code_sha256()).map(str::to_string),
            previous: out
                .tags()
                .and_then(|t| t.get(release::PREVIOUS_IMAGE_TAG))
                .filter(|v| !v.is_empty())
                .cloned(),
            arch: config
                .and_then(|c| c.architectures().first())
                .map_or(Platform::Amd64, platform_of),
            timeout: Duration::from_secs(
                config
                    .and_then(|c| c.timeout())
                    .map_or(3, |t| u64::try_from(t).unwrap_or(3)),
            ),
        })
    }

    /// Invokes `qualifier` (a version, or `$LATEST` with None) once.
    pub async fn smoke(
        &self,
        name: &str,
        qualifier: Option<&str>,
        event: &SmokeConfig,
        limit: Duration,
    ) -> Result<SmokeResult, StepError> {
        smoke::invoke(&self.client, &self.calls, name, qualifier, event, limit)
            .await
            .map_err(StepError::SmokeCall)
    }

    /// The alias wholly back on `to`, no weights, its record of what it
    /// served moved back too.
    pub async fn alias_back(
        &self,
        alias: &AliasState,
        function: &str,
        to: &str,
    ) -> Result<(), StepError> {
        let served: Served = alias.served().back_to(to);
        let revision = alias.revision_id.as_deref();
        match (self.settle(function, &alias.name, to, Some(&served), revision)).await {
            Ok(_) => Ok(()),
            // Refused, but back on `to`: this very move landed on an
            // attempt the SDK sent again.
            Err(StepError::Precondition { .. })
                if self.landed(function, &alias.name, to, &[]).await.is_some() =>
            {
                Ok(())
            }
            Err(StepError::Precondition { .. }) => Err(StepError::Overtaken(format!(
                "moved the alias {} during this rollback: left as it is",
                alias.name
            ))),
            Err(e) => Err(e),
        }
    }

    /// The versions the alias served besides `to` (its own, and any it sent
    /// weights to), recorded as rolled back.
    pub async fn record_left(
        &self,
        alias: &AliasState,
        function: &str,
        to: &str,
    ) -> Result<(), StepError> {
        let left = std::iter::once(&alias.version).chain(alias.weights.iter().map(|(v, _)| v));
        for version in left.filter(|v| *v != to) {
            self.mark_rolled_back(function, version).await?;
        }
        Ok(())
    }

    /// A function on `$LATEST` back on the image it ran before, by digest,
    /// waited on and read back; the record is used up.
    pub async fn latest_back(
        &self,
        function: &str,
        state: &LatestState,
        wait: Duration,
    ) -> Result<String, RollbackError> {
        let image = state
            .previous
            .clone()
            .ok_or_else(|| RollbackError::NoPreviousImage(function.to_string()))?;
        let deadline = Instant::now() + wait;
        let mut revision = state.revision_id.clone();
        if state.updating {
            let (code, op) = (state.code_sha256.as_deref(), "UpdateFunctionCode");
            revision = match self.still_holds(function, code, op, deadline).await {
                Err(StepError::Precondition { .. }) => {
                    return Err(StepError::Overtaken(OVERTAKEN.to_string()).into());
                }
                other => other?.revision,
            };
        }
        let revision = revision.as_deref();
        match (self.update_code(function, &image, state.arch, revision, deadline)).await {
            Err(StepError::Precondition { .. })
                if self.latest_state(function).await?.image.as_deref() == Some(&image) => {}
            Err(StepError::Precondition { .. }) => {
                return Err(StepError::Overtaken(OVERTAKEN.to_string()).into());
            }
            other => {
                other?;
            }
        }
        self.wait_until_updated(function, deadline).await?;
        self.read_back(function, &image, state.arch).await?;
        self.tag(function, release::PREVIOUS_IMAGE_TAG, "").await?;
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::history::ReleaseEntry;

    fn entry(version: &str, commit: Option<&str>, rolled_back: bool) -> ReleaseEntry {
        ReleaseEntry {
            version: version.into(),
            commit: commit.map(str::to_string),
            digest: None,
            run_url: None,
            published: String::new(),
            served_by: Vec::new(),
            rolled_back,
        }
    }

    fn history() -> History {
        History {
            function: "orders".into(),
            aliases: Vec::new(),
            releases: vec![
                entry("5", Some("eeeeeee1"), false),
                entry("4", Some("ddddddd1"), true),
                entry("3", Some("ccccccc1"), false),
                entry("2", None, false),
                entry("1", Some("aaaaaaa1"), false),
            ],
            previous_image: None,
        }
    }

    fn alias(version: &str, description: &str) -> AliasState {
        AliasState {
            revision_id: None,
            name: "live".into(),
            version: version.into(),
            weights: Vec::new(),
            description: description.into(),
        }
    }

    #[test]
    fn by_default_the_alias_goes_back_to_what_it_served_before() {
        let a = alias("5", "lambda-ship served: 1 3");
        assert_eq!(choose(&history(), &a, &Target::Previous).unwrap(), "1");
        // Nothing recorded: the newest of ours before it that was not rolled back.
        let a = alias("5", "");
        assert_eq!(choose(&history(), &a, &Target::Previous).unwrap(), "3");
        let a = alias("1", "");
        assert!(matches!(
            choose(&history(), &a, &Target::Previous),
            Err(RollbackError::NothingBefore { .. })
        ));
    }

    #[test]
    fn a_split_alias_goes_back_to_the_version_it_still_serves() {
        let mut a = alias("3", "lambda-ship served: 1");
        a.weights = vec![("5".into(), 0.2)];
        assert_eq!(choose(&history(), &a, &Target::Previous).unwrap(), "3");
    }

    #[test]
    fn a_commit_or_version_must_have_been_released() {
        let a = alias("5", "");
        let commit = |c: &str| choose(&history(), &a, &Target::Commit(c.into()));
        assert_eq!(commit("CCCCCCC").unwrap(), "3");
        assert!(matches!(
            commit("0000000"),
            Err(RollbackError::UnknownCommit { .. })
        ));
        let version = |v: &str| choose(&history(), &a, &Target::Version(v.into()));
        assert_eq!(version("2").unwrap(), "2");
        let e = version("9").unwrap_err();
        assert!(
            e.is_config() && e.to_string().contains("has no version 9"),
            "{e}"
        );
    }
}
