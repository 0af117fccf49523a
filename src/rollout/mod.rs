//! A release rolled out gradually: every function of the run moves
//! together, step by step (`--rollout canary:…` or `linear:…`), while its
//! gates are checked at least every [`CHECK_EVERY`]; a failing gate, a
//! failed step or a cancelled job puts every alias back on the version it
//! served, with no weights left. The engine knows only two seams, the
//! traffic ([`Traffic`]: Lambda aliases, `traffic.rs`) and the health
//! ([`Health`]: CloudWatch, `health.rs`), so its timing is tested in
//! process on tokio's paused clock.

mod health;
mod report;
mod traffic;

pub use health::CloudWatchHealth;
pub use report::{Release, RolloutCalls, RolloutEvent, RolloutOutcome, RolloutReport};
pub use traffic::{AliasTraffic, CALLS_PER_SECOND, Pacer};

use crate::cancel::Cancel;
use crate::model::rollout::Rollout;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// The longest a split alias goes without its gates checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Moves the traffic of every release of the run at once.
pub trait Traffic {
    /// Each alias stays on its version and sends `percent` to the new one.
    fn route(&self, percent: u8) -> impl Future<Output = Result<(), String>> + Send;
    /// Each alias wholly on its new version.
    fn promote(&self) -> impl Future<Output = Result<(), String>> + Send;
    /// Each alias wholly back on the version it served, no weights left.
    fn restore(&self) -> impl Future<Output = Result<(), String>> + Send;
    /// Once every alias is back: each new version recorded as rolled back.
    /// What could not be recorded is said, never a failure.
    fn record_rollback(&self) -> impl Future<Output = Vec<String>> + Send;
}

/// What the gates say of the new versions.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Healthy,
    /// Nothing to judge yet (too few invocations): said, not taken as either.
    Unjudged(String),
    /// Roll back, for this reason.
    Failing(String),
}

/// Reads the gates.
pub trait Health {
    fn check(&self) -> impl Future<Output = Verdict> + Send;
}

/// Rolls the releases out as `plan` says. `notify` sees the report after
/// every change of it (for the living comment and the progress lines).
pub async fn run<T: Traffic, H: Health>(
    plan: Rollout,
    releases: Vec<Release>,
    traffic: &T,
    health: &H,
    cancel: &Cancel,
    notify: &mut dyn FnMut(&RolloutReport),
) -> RolloutReport {
    let start = Instant::now();
    let mut report = RolloutReport::new(plan, releases);
    let mut event = |report: &mut RolloutReport, percent: u8, what: String| {
        report.events.push(RolloutEvent {
            seconds: start.elapsed().as_secs_f64(),
            percent,
            what,
        });
        report.percent = percent;
        notify(report);
    };
    // Once before any traffic moves: an alarm already firing stops it here.
    match health.check().await {
        Verdict::Failing(reason) => {
            event(&mut report, 0, format!("not started: {reason}"));
            report.outcome = RolloutOutcome::NotStarted;
            report.reason = Some(reason);
            return report;
        }
        Verdict::Unjudged(why) => {
            report.unjudged = Some(why.clone());
            event(&mut report, 0, why);
        }
        Verdict::Healthy => {}
    }
    let mut judged = report.unjudged.is_none();
    for step in plan.steps() {
        if let Err(e) = traffic.route(step.percent).await {
            return roll_back(traffic, report, step.percent, e, &mut event).await;
        }
        event(
            &mut report,
            step.percent,
            format!(
                "{}% to the new version for {}",
                step.percent,
                crate::model::rollout::human(step.hold)
            ),
        );
        let until = Instant::now() + step.hold;
        loop {
            let pause = CHECK_EVERY.min(until.saturating_duration_since(Instant::now()));
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                why = cancel.cancelled() => {
                    let reason = format!("the job was cancelled by {why}");
                    report.outcome = RolloutOutcome::Cancelled;
                    return roll_back(traffic, report, step.percent, reason, &mut event).await;
                }
            }
            let verdict = health.check().await;
            judged = !matches!(verdict, Verdict::Unjudged(_));
            match verdict {
                Verdict::Failing(reason) => {
                    return roll_back(traffic, report, step.percent, reason, &mut event).await;
                }
                Verdict::Unjudged(why) if report.unjudged.as_deref() != Some(why.as_str()) => {
                    report.unjudged = Some(why.clone());
                    event(&mut report, step.percent, why);
                }
                _ => {}
            }
            if Instant::now() >= until {
                break;
            }
        }
    }
    if let Err(e) = traffic.promote().await {
        let percent = report.percent;
        return roll_back(traffic, report, percent, e, &mut event).await;
    }
    report.outcome = RolloutOutcome::Promoted;
    let what = if judged {
        "promoted: 100% on the new version".to_string()
    } else {
        "promoted: 100% on the new version, its error rate never judged (too few invocations)"
            .to_string()
    };
    event(&mut report, 100, what);
    report
}

/// Every alias back on what it served; the report says why and how fast.
async fn roll_back<T: Traffic>(
    traffic: &T,
    mut report: RolloutReport,
    percent: u8,
    reason: String,
    event: &mut impl FnMut(&mut RolloutReport, u8, String),
) -> RolloutReport {
    let failed_at = Instant::now();
    if report.outcome != RolloutOutcome::Cancelled {
        report.outcome = RolloutOutcome::RolledBack;
    }
    report.reason = Some(format!("{reason} at {percent}%"));
    report.failed_percent = Some(percent);
    match traffic.restore().await {
        Ok(()) => {
            report.rollback_seconds = Some(failed_at.elapsed().as_secs_f64());
            event(
                &mut report,
                0,
                format!("rolled back at {percent}%: {reason}"),
            );
            report.warnings = traffic.record_rollback().await;
        }
        Err(e) => {
            report.restore_error = Some(e.clone());
            event(
                &mut report,
                percent,
                format!("rolling back at {percent}% failed: {e}"),
            );
        }
    }
    report
}

#[cfg(test)]
mod tests;
