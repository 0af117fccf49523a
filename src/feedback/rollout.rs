//! The rollout in the comment and the job summary: which aliases move from
//! which version to which, how it went, and each step with its time. Its
//! words may hold an alarm's name or an error's text, so they are fenced.

use super::inline::{code, fence};
use crate::rollout::{RolloutOutcome, RolloutReport};
use std::fmt::Write as _;

/// The section; empty without a rollout.
pub fn section(rollout: Option<&RolloutReport>) -> String {
    let Some(r) = rollout else {
        return String::new();
    };
    let mut out = String::from("#### Rollout\n\n");
    for rel in &r.releases {
        let _ = writeln!(
            out,
            "- {} alias {}: version {} → {}",
            code(&rel.function),
            code(&rel.alias),
            code(&rel.from),
            code(&rel.to)
        );
    }
    let mut steps = format!("{}\n", r.summary());
    for e in &r.events {
        let _ = writeln!(steps, "{:>7.1}s {:>4}%  {}", e.seconds, e.percent, e.what);
    }
    for w in &r.warnings {
        let _ = writeln!(steps, "warning: {w}");
    }
    let _ = writeln!(out, "\n{}\n", fence(&steps));
    out
}

/// The comment's heading while the rollout runs.
pub fn in_progress(rollout: Option<&RolloutReport>, short: &str) -> Option<String> {
    let r = rollout.filter(|r| r.outcome == RolloutOutcome::InProgress)?;
    Some(format!(
        "### ⏳ lambda-ship is rolling out `{short}`: {}% on the new version{}\n",
        r.percent,
        if r.percent == 0 {
            " (checking the gates)"
        } else {
            ""
        }
    ))
}
