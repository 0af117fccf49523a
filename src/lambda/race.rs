//! Another deploy of the same function at once. Every write of a deploy is
//! conditional (`Guard`); when Lambda refuses one, this run reads the
//! function again. If the refused write is found done (this very write,
//! landed on an attempt the SDK sent again), the run goes on; otherwise it
//! says what the function runs now and what this run did not do. At the
//! end of a deploy, what the function runs is read back, so the report
//! never says what the run only intended.

use super::client::Lambda;
use super::{DeployJob, FunctionReport, FunctionSpec, Guard, StepError};
use aws_sdk_lambda::types::{LastUpdateStatus, State};
use std::time::Instant;

/// Whether a function is between two states (an update in progress, or
/// still pending after its creation): its revision changes when it is done.
pub(super) fn is_changing(update: Option<&LastUpdateStatus>, state: Option<&State>) -> bool {
    update == Some(&LastUpdateStatus::InProgress) || state == Some(&State::Pending)
}

/// The digest of an image URI given by digest, or the URI as it is.
fn digest_of(uri: &str) -> &str {
    uri.rsplit_once('@').map_or(uri, |(_, digest)| digest)
}

fn serves(version: Option<&str>) -> String {
    version.map_or_else(|| "nothing".to_string(), |v| format!("version {v}"))
}

impl Lambda {
    /// What the first write of the deploy is conditional on: the function as
    /// preflight read it. An update that was in progress then changes its
    /// revision when it ends, so it is waited out and read again, and its
    /// code must still be what preflight read.
    pub(super) async fn read_guard(
        &self,
        spec: &FunctionSpec,
        deadline: Instant,
    ) -> Result<Guard, StepError> {
        if !spec.updating {
            return Ok(Guard {
                revision: spec.revision_id.clone(),
                code_sha256: spec.code_sha256.clone(),
            });
        }
        let code = spec.code_sha256.as_deref();
        (self.still_holds(&spec.name, code, "UpdateFunctionCode", deadline)).await
    }

    /// The function once no update of it is in progress (whatever became of
    /// it), if it holds `code`: the guard to write again with. Other code
    /// means another deploy changed it: the refusal of `operation` stands.
    pub(super) async fn still_holds(
        &self,
        name: &str,
        code: Option<&str>,
        operation: &'static str,
        deadline: Instant,
    ) -> Result<Guard, StepError> {
        let now = self
            .poll_until(name, deadline, |c| {
                (!is_changing(c.last_update_status(), c.state())).then(|| {
                    Ok(Guard {
                        revision: c.revision_id().map(str::to_string),
                        code_sha256: c.code_sha256().map(str::to_string),
                    })
                })
            })
            .await?;
        if now.code_sha256.as_deref() == code {
            Ok(now)
        } else {
            Err(StepError::Precondition { operation })
        }
    }

    /// The alias's revision if it is exactly as a refused move of it would
    /// have left it (on `version`, with `weights`): that move landed on an
    /// earlier attempt. None when it is any other way.
    pub async fn landed(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        weights: &[(String, f64)],
    ) -> Option<Option<String>> {
        let now = self.alias_state(name, alias).await.ok().flatten()?;
        let same_weights = now.weights.len() == weights.len()
            && now
                .weights
                .iter()
                .zip(weights)
                .all(|((v, w), (v2, w2))| v == v2 && (w - w2).abs() < 1e-9);
        (now.version == version && same_weights).then_some(now.revision_id)
    }

    /// Why the deploy stopped after Lambda refused a write of it: another
    /// deploy changed the function, or moved its alias, in between. What it
    /// runs now is read back and said.
    pub(super) async fn overtaken(
        &self,
        job: &DeployJob<'_>,
        report: &mut FunctionReport,
    ) -> StepError {
        let name = &job.spec.name;
        if let (Some(version), Some(alias), Some(a)) =
            (report.version.clone(), job.alias, report.alias.as_mut())
        {
            let now = self.alias_state(name, alias).await.ok().flatten();
            a.version = now.as_ref().map(|s| s.version.clone());
            a.revision = now.and_then(|s| s.revision_id);
            return StepError::Overtaken(format!(
                "moved the alias {alias} during this one (it serves {} now): version {version} \
                 was published, the alias not moved",
                serves(a.version.as_deref())
            ));
        }
        let now = self.latest_state(name).await.ok().and_then(|s| s.image);
        let left = if job.alias.is_some() {
            "nothing published"
        } else {
            "left as it is"
        };
        if now.as_deref() == Some(job.image_uri) {
            return StepError::Overtaken(format!(
                "changed its configuration during this one: {left}"
            ));
        }
        let runs = now.as_deref().map_or("an image it cannot read", digest_of);
        StepError::Overtaken(format!(
            "changed it during this one (now runs {runs}): {left}"
        ))
    }

    /// What the function runs at the end, read back: its alias's version,
    /// or `$LATEST`'s image. Another deploy's write since this run's is
    /// said as a warning, and the report holds what was read. The alias's
    /// revision is not taken from this read, so a rollout never moves an
    /// alias someone else has changed since.
    pub(super) async fn read_final(&self, job: &DeployJob<'_>, report: &mut FunctionReport) {
        let name = &job.spec.name;
        let unread = |e: StepError| format!("what it runs now could not be read back: {e}");
        if let (Some(alias), Some(a)) = (job.alias, report.alias.as_mut()) {
            // The revision stays the one this run read or left: any write
            // since (a version, weights) makes a rollout's move refused.
            match self.alias_state(name, alias).await {
                Ok(now) if now.as_ref().map(|s| &s.revision_id) != Some(&a.revision) => {
                    let on = now.map(|s| s.version);
                    report.warnings.push(format!(
                        "another deploy moved the alias {alias} since this run read it: it \
                         serves {} now",
                        serves(on.as_deref())
                    ));
                    a.moved = a.moved && on == a.version;
                    a.version = on;
                }
                Ok(_) => {}
                Err(e) => report.warnings.push(unread(e)),
            }
            return;
        }
        match self.latest_state(name).await {
            Ok(now) if now.image != report.image_after => {
                let runs = now
                    .image
                    .as_deref()
                    .map_or("an image it cannot read", digest_of);
                report.warnings.push(format!(
                    "another deploy changed it since this run did: it runs {runs} now"
                ));
                report.image_after = now.image;
            }
            Ok(_) => {}
            Err(e) => report.warnings.push(unread(e)),
        }
    }
}

#[cfg(test)]
#[path = "race_tests.rs"]
mod race_tests;
