//! `lambda-ship rollback`: every named function back together. Behind an
//! alias: each target chosen (exit 2 when one cannot be), each tested, and
//! only then every alias moved, with no weights. On `$LATEST`: each
//! function back on the image it ran before, by digest, then tested.

use super::verify::SignatureCheck;
use crate::ci::{CiContext, Env};
use crate::cli::RollbackArgs;
use crate::config::RollbackConfig;
use crate::error::Error;
use crate::lambda::Lambda;
use crate::lambda::release::AliasState;
use crate::lambda::rollback::{self, RollbackError};
use crate::lambda::smoke::SmokeResult;
use crate::progress::Progress;
use crate::rollout::{CALLS_PER_SECOND, Pacer};
use futures_util::future::{join_all, try_join_all};
use std::fmt::Write as _;

/// What became of one function.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RolledBack {
    pub function: String,
    pub alias: Option<String>,
    /// The version (or image) it served.
    pub from: Option<String>,
    /// The version (or image) it goes back to.
    pub to: String,
    /// The commit of the target version, when lambda-ship published it.
    pub commit: Option<String>,
    pub smoke: Option<SmokeResult>,
    pub moved: bool,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RollbackReport {
    pub ok: bool,
    pub functions: Vec<RolledBack>,
    pub failure: Option<String>,
}

impl RollbackReport {
    fn to_text(&self) -> String {
        let mut out = String::new();
        for f in &self.functions {
            let at = f
                .alias
                .as_deref()
                .map_or(String::new(), |a| format!(":{a}"));
            let verdict = if f.moved { "back on" } else { "NOT moved to" };
            let _ = write!(out, "{}{at}: {verdict} {}", f.function, f.to);
            if let Some(c) = &f.commit {
                let _ = write!(out, " (commit {})", c.chars().take(7).collect::<String>());
            }
            if let Some(from) = &f.from {
                let _ = write!(out, ", from {from}");
            }
            out.push('\n');
        }
        out
    }
}

pub async fn run(args: RollbackArgs) -> Result<(), Error> {
    let env = Env::from_process();
    let ci = CiContext::detect(&env);
    let config = RollbackConfig::from_args(args, &ci)?;
    let c = &config.common;
    let progress = Progress::new(c.progress);
    let sdk = super::command_session(&c.aws, &ci, &env, &progress).await?;
    let lambda = Lambda::new(&sdk);
    let check = match &config.require_signature {
        Some(key) => {
            let opened = SignatureCheck::open(&sdk, key, config.registry_override.as_deref()).await;
            match opened {
                Ok(check) => Some(check),
                Err(e) => {
                    progress.finish();
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let check = check.as_ref();
    let result = match &config.alias {
        Some(alias) => behind_alias(&config, alias, &lambda, check, &progress).await,
        None => on_latest(&config, &lambda, check, &progress).await,
    };
    progress.finish();
    let (report, error) = match result {
        Ok(report) => (report, None),
        Err(failure) => (failure.0, Some(failure.1)),
    };
    super::print(c.output, &report, || report.to_text());
    match error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The report, and on failure the error the run ends with.
type Outcome = Result<RollbackReport, Box<(RollbackReport, Error)>>;

fn failed(functions: Vec<RolledBack>, e: Error) -> Box<(RollbackReport, Error)> {
    let report = RollbackReport {
        ok: false,
        functions,
        failure: Some(e.to_string()),
    };
    Box::new((report, e))
}

/// Each alias back on the version chosen for it, all once every target passed.
async fn behind_alias(
    config: &RollbackConfig,
    alias: &str,
    lambda: &Lambda,
    check: Option<&SignatureCheck>,
    progress: &Progress,
) -> Outcome {
    progress.say(&format!(
        "reading the releases of {}",
        config.functions.join(", ")
    ));
    // Every target is chosen before anything changes.
    // Every call paced under Lambda's control-plane quota (GetFunction,
    // which has its own, aside).
    let pacer = &Pacer::new(CALLS_PER_SECOND);
    let chosen = try_join_all(config.functions.iter().map(|f| async move {
        // ListVersionsByFunction and ListAliases.
        pacer.turn().await;
        pacer.turn().await;
        let history = lambda.history(f).await?;
        let state: AliasState = history
            .aliases
            .iter()
            .find(|a| a.name == alias)
            .cloned()
            .ok_or_else(|| RollbackError::NoAlias {
                function: f.clone(),
                alias: alias.to_string(),
            })?;
        let to = rollback::choose(&history, &state, &config.target)?;
        let release = history.releases.iter().find(|r| r.version == to);
        let commit = release.and_then(|r| r.commit.clone());
        let latest = lambda.latest_state(f).await?;
        // The target's image: its recorded digest, in the function's repository.
        let image = latest
            .image
            .as_deref()
            .and_then(crate::registry::ImageRef::parse)
            .zip(release.and_then(|r| r.digest.as_deref()))
            .map(|(r, digest)| format!("{}/{}@{digest}", r.registry, r.repository))
            .unwrap_or_else(|| format!("{f} version {to}"));
        Ok::<_, RollbackError>((f.clone(), state, to, commit, latest.timeout, image))
    }))
    .await
    .map_err(|e| failed(Vec::new(), e.into()))?;
    let (chosen, images): (Vec<_>, Vec<_>) = chosen
        .into_iter()
        .map(|(f, state, to, commit, timeout, image)| {
            let signed = (image, commit.clone());
            ((f, state, to, commit, timeout), signed)
        })
        .unzip();
    let mut functions: Vec<RolledBack> = chosen
        .iter()
        .map(|(f, state, to, commit, _)| RolledBack {
            function: f.clone(),
            alias: Some(alias.to_string()),
            from: Some(state.version.clone()),
            to: to.clone(),
            commit: commit.clone(),
            smoke: None,
            moved: false,
        })
        .collect();
    if let Some(check) = check {
        check
            .check(&images, progress)
            .await
            .map_err(|e| failed(functions.clone(), e))?;
    }
    if let Some(smoke) = &config.smoke {
        progress.say("smoke-testing each target version before any alias moves");
        let tests = chosen.iter().map(|(f, _, to, _, timeout)| {
            lambda.smoke(f, Some(to), smoke, *timeout + config.common.aws.aws_timeout)
        });
        let mut broken = Vec::new();
        for (r, result) in functions.iter_mut().zip(join_all(tests).await) {
            match result {
                Ok(s) => {
                    if let Some(why) = &s.reason {
                        broken.push(format!("{} version {}: {why}", r.function, r.to));
                    }
                    r.smoke = Some(s);
                }
                Err(e) => broken.push(format!("{} version {}: {e}", r.function, r.to)),
            }
        }
        if !broken.is_empty() {
            let e = Error::Deploy(format!(
                "not rolled back: the smoke test of the target failed, so no alias moved:\n  {}",
                broken.join("\n  ")
            ));
            return Err(failed(functions, e));
        }
    }
    // Every alias first; then the records, which can wait.
    let moves = chosen.iter().map(|(f, state, to, _, _)| async {
        pacer.turn().await;
        lambda.alias_back(state, f, to).await
    });
    let mut errors = Vec::new();
    for (r, moved) in functions.iter_mut().zip(join_all(moves).await) {
        match moved {
            Ok(()) => {
                r.moved = true;
                progress.say(&format!(
                    "{}:{alias} is back on version {}",
                    r.function, r.to
                ));
            }
            Err(e) => errors.push(format!("{}: {e}", r.function)),
        }
    }
    let records = chosen.iter().map(|(f, state, to, _, _)| async {
        // GetFunctionConfiguration and TagResource for each version left.
        for _ in 0..2 * (1 + state.weights.len()) {
            pacer.turn().await;
        }
        lambda.record_left(state, f, to).await
    });
    for ((f, _, _, _, _), recorded) in chosen.iter().zip(join_all(records).await) {
        if let Err(e) = recorded {
            progress.say(&format!(
                "warning: {f} is back, but the version it left is not recorded as rolled back: {e}"
            ));
        }
    }
    finish(functions, errors)
}

/// Each function on `$LATEST` back on the image it ran before, then tested.
async fn on_latest(
    config: &RollbackConfig,
    lambda: &Lambda,
    check: Option<&SignatureCheck>,
    progress: &Progress,
) -> Outcome {
    let states = try_join_all(config.functions.iter().map(|f| async move {
        let state = lambda.latest_state(f).await?;
        if state.previous.is_none() {
            return Err(RollbackError::NoPreviousImage(f.clone()));
        }
        Ok(state)
    }))
    .await
    .map_err(|e| failed(Vec::new(), e.into()))?;
    if let Some(check) = check {
        let images: Vec<(String, Option<String>)> = states
            .iter()
            .map(|s| (s.previous.clone().unwrap_or_default(), None))
            .collect();
        check
            .check(&images, progress)
            .await
            .map_err(|e| failed(Vec::new(), e))?;
    }
    let backs = config
        .functions
        .iter()
        .zip(&states)
        .map(|(f, state)| async move {
            progress.say(&format!("{f}: back on the image it ran before"));
            let back = lambda.latest_back(f, state, config.wait_timeout).await;
            let smoke = match (&back, &config.smoke) {
                (Ok(_), Some(smoke)) => Some(
                    lambda
                        .smoke(
                            f,
                            None,
                            smoke,
                            state.timeout + config.common.aws.aws_timeout,
                        )
                        .await,
                ),
                _ => None,
            };
            (back, smoke)
        });
    let mut functions = Vec::new();
    let mut errors = Vec::new();
    for ((f, state), (back, smoke)) in config
        .functions
        .iter()
        .zip(&states)
        .zip(join_all(backs).await)
    {
        let mut r = RolledBack {
            function: f.clone(),
            alias: None,
            from: state.image.clone(),
            to: state.previous.clone().unwrap_or_default(),
            commit: None,
            smoke: None,
            moved: back.is_ok(),
        };
        if let Err(e) = back {
            errors.push(format!("{f}: {e}"));
        }
        match smoke {
            Some(Ok(s)) => {
                if let Some(why) = &s.reason {
                    errors.push(format!(
                        "{f}: back on its old image, but its smoke test failed: {why}"
                    ));
                }
                r.smoke = Some(s);
            }
            Some(Err(e)) => errors.push(format!("{f}: back on its old image, but {e}")),
            None => {}
        }
        functions.push(r);
    }
    finish(functions, errors)
}

fn finish(functions: Vec<RolledBack>, errors: Vec<String>) -> Outcome {
    if errors.is_empty() {
        Ok(RollbackReport {
            ok: true,
            functions,
            failure: None,
        })
    } else {
        let e = Error::Deploy(format!(
            "the rollback did not complete:\n  {}",
            errors.join("\n  ")
        ));
        Err(failed(functions, e))
    }
}
