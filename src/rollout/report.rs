//! What a rollout did, as plain data: the report's `rollout`, the living
//! comment's line and the job summary's steps.

use crate::model::rollout::Rollout;

/// One function's release: its alias moves from one version to another.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Release {
    pub function: String,
    pub alias: String,
    /// The version the alias served.
    pub from: String,
    /// The version published by this run.
    pub to: String,
    /// The alias's `RevisionId` as the deploy left it: every move of the
    /// rollout is conditional on it, so one changed by another deploy
    /// meanwhile is left as it is.
    #[serde(skip)]
    pub revision: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RolloutOutcome {
    InProgress,
    /// Every alias wholly on its new version.
    Promoted,
    /// A gate failed (or a step could not be made): every alias back.
    RolledBack,
    /// The job was cancelled: every alias back.
    Cancelled,
    /// A gate failed before any traffic moved.
    NotStarted,
}

/// One step of the rollout, `seconds` after it began.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RolloutEvent {
    pub seconds: f64,
    /// The new versions' share of the traffic after it.
    pub percent: u8,
    pub what: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RolloutReport {
    /// `canary 20% for 5m`
    pub plan: String,
    pub releases: Vec<Release>,
    pub outcome: RolloutOutcome,
    /// The new versions' share of the traffic now.
    pub percent: u8,
    pub events: Vec<RolloutEvent>,
    /// Why it stopped (`alarm orders-5xx in ALARM at 20%`).
    pub reason: Option<String>,
    /// The share at which it failed.
    pub failed_percent: Option<u8>,
    /// From the gate's failure to every alias moved back.
    pub rollback_seconds: Option<f64>,
    /// The rollback itself failed: the aliases may be split.
    pub restore_error: Option<String>,
    /// The last thing said of a gate that could not judge yet.
    pub unjudged: Option<String>,
    /// What went wrong without failing it (a rollback not recorded).
    pub warnings: Vec<String>,
    /// The API calls it made: what it costs against the services' limits.
    pub calls: RolloutCalls,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct RolloutCalls {
    pub lambda: u64,
    pub cloudwatch: u64,
    /// Both, per minute of the rollout.
    pub per_minute: f64,
}

impl RolloutReport {
    pub fn new(plan: Rollout, releases: Vec<Release>) -> Self {
        RolloutReport {
            plan: plan.to_string(),
            releases,
            outcome: RolloutOutcome::InProgress,
            percent: 0,
            events: Vec::new(),
            reason: None,
            failed_percent: None,
            rollback_seconds: None,
            restore_error: None,
            unjudged: None,
            warnings: Vec::new(),
            calls: RolloutCalls::default(),
        }
    }

    pub fn succeeded(&self) -> bool {
        self.outcome == RolloutOutcome::Promoted
    }

    /// One line: `canary 20% for 5m → promoted`, `rolled back at 20%: …`.
    pub fn summary(&self) -> String {
        match self.outcome {
            RolloutOutcome::InProgress => {
                format!("{}: {}% on the new version so far", self.plan, self.percent)
            }
            RolloutOutcome::Promoted => format!("{} → promoted", self.plan),
            RolloutOutcome::NotStarted => format!(
                "{} → not started: {}",
                self.plan,
                self.reason.as_deref().unwrap_or("a gate failed")
            ),
            RolloutOutcome::RolledBack | RolloutOutcome::Cancelled => {
                let back = if self.restore_error.is_some() {
                    "rolling back FAILED"
                } else {
                    "rolled back"
                };
                format!(
                    "{} → {back}: {}",
                    self.plan,
                    self.reason.as_deref().unwrap_or("a gate failed")
                )
            }
        }
    }

    /// What the run's failure says, when it did not promote.
    pub fn failure(&self) -> Option<String> {
        let functions = self
            .releases
            .iter()
            .map(|r| format!("{}:{}", r.function, r.alias))
            .collect::<Vec<_>>()
            .join(", ");
        match self.outcome {
            RolloutOutcome::InProgress | RolloutOutcome::Promoted => None,
            RolloutOutcome::NotStarted => Some(format!(
                "the rollout did not start: {}; no traffic moved, {functions} serve what they \
                 served",
                self.reason.as_deref().unwrap_or("a gate failed")
            )),
            _ => Some(match &self.restore_error {
                None => format!(
                    "rolled back: {}; {functions} are back on the versions they served, with \
                     no weights",
                    self.reason.as_deref().unwrap_or("a gate failed")
                ),
                Some(e) => format!(
                    "{}, and rolling back failed: {e}. The aliases may still be split: run \
                     lambda-ship rollback for {functions}",
                    self.reason.as_deref().unwrap_or("a gate failed")
                ),
            }),
        }
    }
}
