//! One function's deploy, step by step: its code (created, left as it is,
//! or updated by digest and read back), a version published for the alias,
//! the smoke test, and only then the alias moved, the URL found and the
//! numbers kept. A failure stops the steps and is kept in the report.

use super::client::Lambda;
use super::smoke;
use super::{AliasReport, DeployJob, FunctionReport, Guard, Outcome, StepError};
use crate::model::release::{PREVIOUS_IMAGE_TAG, VersionNote};
use std::time::Instant;

/// What a cancelled function deploy says: the alias never moves untested.
fn cancelled(why: &str, alias: Option<&str>, report: &FunctionReport) -> String {
    match (alias, &report.alias) {
        (Some(alias), Some(a)) => format!(
            "cancelled by {why} before its smoke test passed; the alias {alias} stays on {}",
            a.previous_version
                .as_deref()
                .unwrap_or("nothing (it was not created)")
        ),
        _ => format!("cancelled by {why}"),
    }
}

/// Stops a deploy whose run was cancelled before the next step.
fn check_cancel(job: &DeployJob<'_>, report: &FunctionReport) -> Result<(), StepError> {
    match job.cancel.reason() {
        Some(why) => Err(StepError::Cancelled(cancelled(why, job.alias, report))),
        None => Ok(()),
    }
}

impl Lambda {
    /// Deploys one function; failures are kept in the report, never thrown.
    pub async fn deploy(&self, job: DeployJob<'_>) -> FunctionReport {
        let started = Instant::now();
        let mut report = FunctionReport::not_updated(job.spec, "the deploy stopped before it");
        if let Err(e) = self.deploy_steps(&job, &mut report).await {
            let e = match e {
                StepError::Precondition { .. } => self.overtaken(&job, &mut report).await,
                e => e,
            };
            report.outcome = report.outcome.failed(e.to_string());
        }
        report.update_seconds = started.elapsed().as_secs_f64();
        report
    }

    async fn deploy_steps(
        &self,
        job: &DeployJob<'_>,
        report: &mut FunctionReport,
    ) -> Result<(), StepError> {
        let deadline = Instant::now() + job.wait_timeout;
        let guard = self.put_code(job, deadline, report).await?;
        let version = self
            .publish_for_alias(job, &guard, deadline, report)
            .await?;
        check_cancel(job, report)?;
        self.smoke_test(job, version.as_deref(), report).await?;
        check_cancel(job, report)?;
        self.go_live(job, version.as_deref(), report).await?;
        self.read_final(job, report).await;
        Ok(())
    }

    /// The function's configuration and code: a missing function created, one
    /// that runs this very image left as it is (an update would only cost its
    /// users a cold start), any other updated by digest, waited on and read back.
    /// Each write is conditional on the function as preflight read it, or
    /// as the write before left it; the guard returned is the publish's.
    async fn put_code(
        &self,
        job: &DeployJob<'_>,
        deadline: Instant,
        report: &mut FunctionReport,
    ) -> Result<Guard, StepError> {
        let (name, spec) = (&job.spec.name, job.spec);
        let configured = || spec.changes.iter().map(ToString::to_string).collect();
        let read = self.read_guard(spec, deadline).await?;
        let guard = if let Some(role) = &spec.create_with_role {
            let guard = self.create(spec, job.image_uri, role, deadline).await?;
            report.outcome = Outcome::Deployed;
            report.created = true;
            report.configured = configured();
            guard
        } else if spec.image_before.as_deref() == Some(job.image_uri)
            && spec.arch == spec.arch_before
        {
            let guard = self.configure(spec, read, deadline).await?;
            report.configured = configured();
            report.outcome = Outcome::Unchanged;
            guard
        } else {
            // The configuration first: the new code starts with what it needs.
            let guard = self.configure(spec, read, deadline).await?;
            report.configured = configured();
            let revision = guard.revision.as_deref();
            let code = match (self.update_code(name, job.image_uri, spec.arch, revision, deadline))
                .await
            {
                // The refusal stands unless it runs this run's image: this
                // very update, landed on an attempt the SDK sent again.
                Err(StepError::Precondition { operation }) => {
                    if self.latest_state(name).await?.image.as_deref() != Some(job.image_uri) {
                        return Err(StepError::Precondition { operation });
                    }
                    None
                }
                other => other?,
            };
            report.outcome = Outcome::Deployed;
            report.image_after = Some(job.image_uri.to_string());
            let now = self.wait_until_updated(name, deadline).await?;
            self.read_back(name, job.image_uri, spec.arch).await?;
            // On $LATEST, the way back is the image it ran: kept on it.
            if let (None, Some(before)) = (job.alias, &spec.pinned_before)
                && let Err(e) = self.tag(name, PREVIOUS_IMAGE_TAG, before).await
            {
                report.warnings.push(format!(
                    "the image it ran before was not recorded for a rollback: {e}"
                ));
            }
            // What this run's update made, not what the function holds
            // now: another run may have written since.
            Guard {
                revision: now.revision,
                code_sha256: code.or(now.code_sha256),
            }
        };
        report.image_after = Some(job.image_uri.to_string());
        Ok(guard)
    }

    /// With an alias: the version published for it, the alias not moved yet.
    async fn publish_for_alias(
        &self,
        job: &DeployJob<'_>,
        guard: &Guard,
        deadline: Instant,
        report: &mut FunctionReport,
    ) -> Result<Option<String>, StepError> {
        let Some(alias) = job.alias else {
            return Ok(None);
        };
        let name = &job.spec.name;
        let before = self.alias_state(name, alias).await?;
        let previous = before.as_ref().map(|a| a.version.clone());
        let note = VersionNote {
            commit: job.commit.to_string(),
            digest: job
                .image_uri
                .rsplit_once('@')
                .map_or("", |(_, digest)| digest)
                .to_string(),
            run_url: job.run_url.map(str::to_string),
        };
        let version = (self.publish(name, &note.to_description(), guard, deadline)).await?;
        report.version = Some(version.clone());
        report.alias = Some(AliasReport {
            name: alias.to_string(),
            previous_version: previous.clone(),
            version: previous,
            moved: false,
            served: before.as_ref().map(|a| a.served()).unwrap_or_default(),
            revision: before.and_then(|a| a.revision_id),
        });
        Ok(Some(version))
    }

    /// The smoke invocation of the version (or `$LATEST`), its numbers and
    /// their warnings; a failed one keeps the alias where it was.
    async fn smoke_test(
        &self,
        job: &DeployJob<'_>,
        version: Option<&str>,
        report: &mut FunctionReport,
    ) -> Result<(), StepError> {
        let Some(smoke) = job.smoke else {
            return Ok(());
        };
        let limit = job.spec.local.timeout + job.aws_timeout;
        let name = &job.spec.name;
        let result = smoke::invoke(&self.client, &self.calls, name, version, smoke, limit)
            .await
            .map_err(StepError::SmokeCall)?;
        let reason = result.reason.clone();
        let numbers = crate::metrics::Numbers {
            size_bytes: job.size_bytes,
            ..result
                .log_tail
                .as_deref()
                .map(crate::metrics::Numbers::from_log)
                .unwrap_or_default()
        };
        if let Some(before) = &job.spec.baseline {
            report.warnings = crate::metrics::warnings(&numbers, before, &job.thresholds);
        }
        report.numbers = Some(numbers);
        report.smoke = Some(result);
        let Some(reason) = reason else {
            return Ok(());
        };
        let kept = match (job.alias, &report.alias) {
            (Some(alias), Some(a)) => format!(
                "; the alias {alias} stays on {}",
                a.previous_version
                    .as_deref()
                    .unwrap_or("nothing (it was not created)")
            ),
            _ => String::new(),
        };
        Err(StepError::SmokeFailed { reason, kept })
    }

    /// After the smoke test: the alias moved to the version, the URL found
    /// (or made as asked), and production's numbers kept on the function
    /// for the next change (and its previews) to compare with.
    async fn go_live(
        &self,
        job: &DeployJob<'_>,
        version: Option<&str>,
        report: &mut FunctionReport,
    ) -> Result<(), StepError> {
        let name = &job.spec.name;
        if let (Some(alias), Some(version), Some(a)) = (job.alias, version, &mut report.alias) {
            let previous = a.previous_version.clone();
            match previous.as_deref() {
                // Already there (nothing changed since): nothing to move.
                Some(p) if p == version => {}
                // A rollout moves it later, with every function of the run;
                // an alias on $LATEST cannot be split, and moves now.
                Some(p) if job.hold_alias && p != "$LATEST" => {}
                _ => {
                    let served = match &previous {
                        Some(p) => a.served.moved_from(p),
                        None => a.served.clone(),
                    };
                    let exists = previous.is_some().then_some(a.revision.as_deref());
                    a.revision = match self
                        .point_alias(name, alias, version, &served, exists)
                        .await
                    {
                        // Refused, but on this run's version: this very move
                        // landed on an attempt the SDK sent again.
                        Err(StepError::Precondition { operation }) => {
                            (self.landed(name, alias, version, &[]))
                                .await
                                .ok_or(StepError::Precondition { operation })?
                        }
                        other => other?,
                    };
                    a.version = Some(version.to_string());
                    a.moved = true;
                }
            }
        }
        report.url = match job.function_url {
            Some(auth) => Some(self.ensure_url(name, job.alias, auth).await?),
            None => self.function_url(name, job.alias).await?,
        };
        if job.spec.preview_of.is_none()
            && let Some(numbers) = report.numbers.as_ref().filter(|n| !n.is_empty())
        {
            // Not worth failing a deploy that is live and tested.
            // What this run did not measure (a warm start has no init) stays.
            let kept = numbers.or(job.spec.baseline.as_ref());
            if let Err(e) = self.keep_numbers(name, &kept).await {
                report
                    .warnings
                    .push(format!("the numbers were not kept on the function: {e}"));
            }
        }
        Ok(())
    }
}
