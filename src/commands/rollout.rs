//! The rollout stage of `deploy --rollout`: every function whose alias
//! waits for its new version rolls out together, gated by CloudWatch; the
//! living comment follows each step.

use crate::ci::CiContext;
use crate::cloudwatch::CloudWatch;
use crate::config::{ConfigError, DeployConfig};
use crate::error::Error;
use crate::lambda::Lambda;
use crate::model::rollout::Gates;
use crate::progress::Progress;
use crate::report::{RunReport, Stage};
use crate::rollout::{self, AliasTraffic, CloudWatchHealth, Release, RolloutCalls, RolloutReport};
use crate::{cancel::Cancel, feedback};
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;

/// Before anything is built: every named alarm exists (exit 2 otherwise).
pub(super) async fn check_alarms(
    gates: &Gates,
    cloudwatch: &CloudWatch,
) -> Result<(), (Stage, Error)> {
    if gates.alarms.is_empty() {
        return Ok(());
    }
    // CloudWatch not answering is a failed stage (exit 1), not a mistake.
    let found = cloudwatch
        .alarms(&gates.alarms)
        .await
        .map_err(|e| (Stage::Preflight, Error::CloudWatch(e)))?;
    let missing: Vec<&str> = gates
        .alarms
        .iter()
        .filter(|name| !found.iter().any(|a| &a.name == *name))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        let e = ConfigError::UnknownAlarms(missing.join(", "));
        Err((Stage::Configuration, e.into()))
    }
}

/// The aliases this run moves: each function whose alias served another
/// version and was left there for the rollout.
fn releases(report: &RunReport) -> Vec<Release> {
    report
        .functions
        .iter()
        .filter_map(|f| {
            let alias = f.alias.as_ref().filter(|a| !a.moved)?;
            let from = alias.previous_version.clone()?;
            let to = f.version.clone().filter(|v| *v != from)?;
            Some(Release {
                function: f.name.clone(),
                alias: alias.name.clone(),
                from,
                to,
                revision: alias.revision.clone(),
            })
        })
        .collect()
}

/// Rolls out what the deploy published and fills the report with it.
pub(super) async fn roll_out(
    config: &DeployConfig,
    lambda: &Lambda,
    cloudwatch: &CloudWatch,
    ci: &CiContext,
    cancel: &Cancel,
    progress: &Progress,
    report: &mut RunReport,
) -> Result<(), (Stage, Error)> {
    let Some(plan) = config.rollout else {
        return Ok(());
    };
    let releases = releases(report);
    if releases.is_empty() {
        progress
            .say("rollout: no alias to move gradually (each is new, or already on its version)");
        return Ok(());
    }
    progress.say(&format!(
        "rolling out {plan} for {}",
        releases
            .iter()
            .map(|r| format!("{}:{} {} → {}", r.function, r.alias, r.from, r.to))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let traffic = AliasTraffic::new(lambda, &releases);
    let cloudwatch_before = cloudwatch.calls.load(Ordering::Relaxed);
    let health = CloudWatchHealth {
        cloudwatch,
        gates: &config.gates,
        releases: &releases,
        since: SystemTime::now(),
    };
    // The living comment follows the rollout: the latest step is posted
    // while the next one waits, never holding the rollout up.
    let (tx, rx) = watch::channel(None::<RolloutReport>);
    let mut said = 0;
    // It owns the sender: when the rollout ends, the follower does too.
    let mut notify = move |r: &RolloutReport| {
        for e in &r.events[said..] {
            progress.say(&format!("rollout: {:>3}%  {}", e.percent, e.what));
        }
        said = r.events.len();
        let _ = tx.send(Some(r.clone()));
    };
    // The rollout must be over, rolled back if need be, before the run's
    // credentials end (an assumed role's session, an hour by default).
    let session_ends = cloudwatch.session_ends().await.map(|ends| {
        let left = ends
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        tokio::time::Instant::now() + left
    });
    let (traffic, health, to_roll) = (&traffic, &health, releases.clone());
    let rolling = async move {
        rollout::run(
            plan,
            to_roll,
            (traffic, health),
            cancel,
            session_ends,
            &mut notify,
        )
        .await
    };
    let (mut done, ()) = tokio::join!(rolling, follow(rx, report.clone(), config, ci, progress));
    let minutes = done.events.last().map_or(0.0, |e| e.seconds) / 60.0;
    let lambda_calls = traffic.calls.load(Ordering::Relaxed);
    let cloudwatch_calls = cloudwatch.calls.load(Ordering::Relaxed) - cloudwatch_before;
    done.calls = RolloutCalls {
        lambda: lambda_calls,
        cloudwatch: cloudwatch_calls,
        per_minute: if minutes > 0.0 {
            (lambda_calls + cloudwatch_calls) as f64 / minutes
        } else {
            0.0
        },
    };
    // What each alias serves at the end, read back (one at a time, well
    // under the quota), never what the rollout meant it to.
    for f in &mut report.functions {
        let Some(alias) = &mut f.alias else { continue };
        if !releases.iter().any(|r| r.function == f.name) {
            continue;
        }
        match lambda.alias_state(&f.name, &alias.name).await {
            Ok(now) => {
                let version = now.map(|a| a.version);
                alias.moved = version.is_some() && f.version == version;
                alias.version = version;
            }
            Err(_) if done.succeeded() => {
                alias.version = f.version.clone();
                alias.moved = true;
            }
            _ => {}
        }
    }
    for w in &done.warnings {
        progress.say(&format!("warning: {w}"));
    }
    let failure = done.failure();
    report.rollout = Some(done);
    match failure {
        None => Ok(()),
        Some(message) => Err((Stage::Rollout, Error::Deploy(message))),
    }
}

/// Posts the comment for each rollout state the channel gives, the latest
/// first, until the rollout is over.
async fn follow(
    mut rx: watch::Receiver<Option<RolloutReport>>,
    mut snapshot: RunReport,
    config: &DeployConfig,
    ci: &CiContext,
    progress: &Progress,
) {
    while rx.changed().await.is_ok() {
        let Some(current) = rx.borrow_and_update().clone() else {
            continue;
        };
        snapshot.rollout = Some(current);
        let body = feedback::markdown::render(&snapshot, &config.feedback.comment_key);
        feedback::post(&body, &config.feedback, ci, progress).await;
    }
}
