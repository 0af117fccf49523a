//! A rollout's gates, read from CloudWatch: the named alarms (metric and
//! composite), and each new version's own error rate behind its alias.

use super::{Health, Release, Verdict};
use crate::cloudwatch::{CloudWatch, VersionMetrics};
use crate::model::rollout::Gates;
use std::time::SystemTime;

pub struct CloudWatchHealth<'a> {
    pub cloudwatch: &'a CloudWatch,
    pub gates: &'a Gates,
    pub releases: &'a [Release],
    /// When the rollout began: the error rate counts from here.
    pub since: SystemTime,
}

impl Health for CloudWatchHealth<'_> {
    async fn check(&self) -> Verdict {
        if !self.gates.alarms.is_empty() {
            match self.cloudwatch.alarms(&self.gates.alarms).await {
                Err(e) => return Verdict::Failing(format!("the alarms could not be read: {e}")),
                Ok(states) => {
                    if let Some(firing) = states.iter().find(|a| a.state == "ALARM") {
                        return Verdict::Failing(format!("alarm {} in ALARM", firing.name));
                    }
                }
            }
        }
        let Some(max) = self.gates.max_error_rate else {
            return Verdict::Healthy;
        };
        let versions: Vec<VersionMetrics> = self
            .releases
            .iter()
            .map(|r| VersionMetrics {
                function: crate::lambda::plain_name(&r.function).to_string(),
                alias: r.alias.clone(),
                version: r.to.clone(),
            })
            .collect();
        let counts = match self.cloudwatch.version_counts(&versions, self.since).await {
            Ok(c) => c,
            Err(e) => return Verdict::Failing(format!("the error rate could not be read: {e}")),
        };
        let least = self.gates.min_invocations.max(1) as f64;
        let mut unjudged = Vec::new();
        for (of, counts) in versions.iter().zip(counts) {
            if counts.invocations < least {
                // No count in the words: they are said again only when
                // which versions wait changes.
                unjudged.push(format!("{} version {}", of.function, of.version));
                continue;
            }
            let rate = counts.errors / counts.invocations * 100.0;
            if rate > max {
                return Verdict::Failing(format!(
                    "error rate of {} version {} is {rate:.1}% ({} of {} invocations), over \
                     --max-error-rate {max}%",
                    of.function, of.version, counts.errors, counts.invocations
                ));
            }
        }
        if unjudged.is_empty() {
            Verdict::Healthy
        } else {
            Verdict::Unjudged(format!(
                "error rate not judged yet, too few invocations (--min-invocations {}): {}",
                self.gates.min_invocations.max(1),
                unjudged.join(", ")
            ))
        }
    }
}
