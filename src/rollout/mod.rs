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

/// How long one check of the gates may take before it counts as failing.
pub const CHECK_LIMIT: Duration = Duration::from_secs(15);

/// How long before the run's AWS session ends the rollout must be over,
/// rolled back if need be: time enough to move every alias back.
pub const SESSION_MARGIN: Duration = Duration::from_secs(60);

/// What a look at the gates, or a step, was cut short by.
enum Seen {
    Verdict(Verdict),
    Cancelled(&'static str),
}

/// The gates, bounded by [`CHECK_LIMIT`] and cut short by a cancel.
async fn look<H: Health>(health: &H, cancel: &Cancel) -> Seen {
    tokio::select! {
        why = cancel.cancelled() => Seen::Cancelled(why),
        verdict = tokio::time::timeout(CHECK_LIMIT, health.check()) => Seen::Verdict(
            verdict.unwrap_or_else(|_| Verdict::Failing(format!(
                "the gates did not answer within {} s",
                CHECK_LIMIT.as_secs()
            ))),
        ),
    }
}

/// Rolls the releases out as `plan` says, over by `session_ends` (when the
/// run's AWS credentials end) less [`SESSION_MARGIN`]. `notify` sees the
/// report after every change of it (for the living comment and the
/// progress lines).
pub async fn run<T: Traffic, H: Health>(
    plan: Rollout,
    releases: Vec<Release>,
    (traffic, health): (&T, &H),
    cancel: &Cancel,
    session_ends: Option<Instant>,
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
    let cancelled = |report: &mut RolloutReport, why: &str| {
        report.outcome = RolloutOutcome::Cancelled;
        format!("the job was cancelled by {why}")
    };
    // Once before any traffic moves: an alarm already firing stops it here.
    match look(health, cancel).await {
        Seen::Cancelled(why) => {
            let reason = cancelled(&mut report, why);
            return roll_back(traffic, report, 0, reason, &mut event).await;
        }
        Seen::Verdict(Verdict::Failing(reason)) => {
            event(&mut report, 0, format!("not started: {reason}"));
            report.outcome = RolloutOutcome::NotStarted;
            report.reason = Some(reason);
            return report;
        }
        Seen::Verdict(Verdict::Unjudged(why)) => {
            report.unjudged = Some(why.clone());
            event(&mut report, 0, why);
        }
        Seen::Verdict(Verdict::Healthy) => {}
    }
    let mut judged = report.unjudged.is_none();
    // Checks keep their own beat, whatever a step or a check took.
    let mut next_check = Instant::now() + CHECK_EVERY;
    for step in plan.steps() {
        let at = report.percent;
        if let Some(why) = cancel.reason() {
            let reason = cancelled(&mut report, why);
            return roll_back(traffic, report, at, reason, &mut event).await;
        }
        if let Some(ends) = session_ends
            && Instant::now() + step.hold + SESSION_MARGIN > ends
        {
            let reason = "the run's AWS session ends before the next step would: a rollout must \
                          fit in the session (a shorter rollout, or a longer role session)"
                .to_string();
            return roll_back(traffic, report, at, reason, &mut event).await;
        }
        let routed = tokio::select! {
            why = cancel.cancelled() => Err(cancelled(&mut report, why)),
            routed = traffic.route(step.percent) => routed,
        };
        if let Err(e) = routed {
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
            tokio::select! {
                () = tokio::time::sleep_until(next_check.min(until)) => {}
                why = cancel.cancelled() => {
                    let reason = cancelled(&mut report, why);
                    return roll_back(traffic, report, step.percent, reason, &mut event).await;
                }
            }
            if Instant::now() >= next_check {
                next_check = Instant::now() + CHECK_EVERY;
                let verdict = match look(health, cancel).await {
                    Seen::Verdict(v) => v,
                    Seen::Cancelled(why) => {
                        let reason = cancelled(&mut report, why);
                        return roll_back(traffic, report, step.percent, reason, &mut event).await;
                    }
                };
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
