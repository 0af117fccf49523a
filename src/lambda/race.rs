//! Another deploy of the same function at once. Every write of a deploy is
//! conditional (`Guard`); when Lambda refuses one, this run reads the
//! function again and says what it runs now and what this run did not do.
//! At the end of a deploy, what the function runs is read back, so the
//! report never says what the run only intended.

use super::client::Lambda;
use super::{DeployJob, FunctionReport, FunctionSpec, Guard, StepError};
use std::time::Instant;

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
        let read = Guard {
            revision: spec.revision_id.clone(),
            code_sha256: spec.code_sha256.clone(),
        };
        if !spec.updating {
            return Ok(read);
        }
        let now = self.wait_until_updated(&spec.name, deadline).await?;
        if now.code_sha256 != read.code_sha256 {
            return Err(StepError::Precondition {
                operation: "UpdateFunctionCode",
            });
        }
        Ok(now)
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
        let runs = now.as_deref().map_or("an image it cannot read", digest_of);
        let left = if job.alias.is_some() {
            "nothing published"
        } else {
            "left as it is"
        };
        StepError::Overtaken(format!(
            "changed it during this one (now runs {runs}): {left}"
        ))
    }

    /// What the function runs at the end, read back: its alias's version,
    /// or `$LATEST`'s image. Another deploy's write since this run's is
    /// said as a warning, and the report holds what was read.
    pub(super) async fn read_final(
        &self,
        job: &DeployJob<'_>,
        report: &mut FunctionReport,
    ) -> Result<(), StepError> {
        let name = &job.spec.name;
        if let (Some(alias), Some(a)) = (job.alias, report.alias.as_mut()) {
            let now = self.alias_state(name, alias).await?;
            let on = now.as_ref().map(|s| s.version.clone());
            if on != a.version {
                report.warnings.push(format!(
                    "another deploy moved the alias {alias} after this one: it serves {} now",
                    serves(on.as_deref())
                ));
            }
            a.version = on;
            a.revision = now.and_then(|s| s.revision_id);
            return Ok(());
        }
        let now = self.latest_state(name).await?.image;
        if now != report.image_after {
            let runs = now.as_deref().map_or("an image it cannot read", digest_of);
            report.warnings.push(format!(
                "another deploy changed it after this one: it runs {runs} now"
            ));
        }
        report.image_after = now;
        Ok(())
    }
}

#[cfg(test)]
#[path = "race_tests.rs"]
mod race_tests;
