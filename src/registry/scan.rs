//! An image's scan on push, read from ECR and waited for within a bound:
//! the findings per severity and the critical and high ones by name and
//! package, or "pending" when the scan does not finish in time.

use super::ecr::Ecr;
use crate::metrics::{Finding, Scan};
use aws_sdk_ecr::types::{FindingSeverity, ImageIdentifier, ScanStatus};
use backon::Retryable;
use std::time::{Duration, Instant};

fn scan(status: &str) -> Scan {
    Scan {
        status: status.to_string(),
        counts: Default::default(),
        serious: Vec::new(),
    }
}

/// The scan has not finished yet.
struct Pending;

impl Ecr {
    /// The image's scan findings, waiting up to `wait` for the scan to finish.
    pub async fn scan_findings(&self, repository: &str, digest: &str, wait: Duration) -> Scan {
        let deadline = Instant::now() + wait;
        // A scan not finished yet is an error for backon, a verdict the value.
        let read = || async {
            let found = self
                .client
                .describe_image_scan_findings()
                .repository_name(repository)
                .image_id(ImageIdentifier::builder().image_digest(digest).build())
                .send()
                .await;
            match found {
                Ok(out) => {
                    let status = out.image_scan_status().and_then(|s| s.status());
                    match status {
                        Some(ScanStatus::Complete) => {
                            let findings = out.image_scan_findings();
                            let mut done = scan("complete");
                            if let Some(f) = findings {
                                for (severity, count) in
                                    f.finding_severity_counts().into_iter().flatten()
                                {
                                    done.counts.insert(
                                        severity.as_str().to_string(),
                                        u64::try_from(*count).unwrap_or(0),
                                    );
                                }
                                done.serious = f
                                    .findings()
                                    .iter()
                                    .filter(|x| {
                                        matches!(
                                            x.severity(),
                                            Some(FindingSeverity::Critical | FindingSeverity::High)
                                        )
                                    })
                                    .map(|x| Finding {
                                        severity: x
                                            .severity()
                                            .map_or("", |s| s.as_str())
                                            .to_string(),
                                        name: x.name().unwrap_or("unnamed").to_string(),
                                        package: x
                                            .attributes()
                                            .iter()
                                            .find(|a| a.key() == "package_name")
                                            .and_then(|a| a.value())
                                            .map(str::to_string),
                                    })
                                    .collect();
                            }
                            return Ok(done);
                        }
                        Some(ScanStatus::Failed) | Some(ScanStatus::UnsupportedImage) => {
                            let why = out
                                .image_scan_status()
                                .and_then(|s| s.description())
                                .unwrap_or("the scan failed");
                            return Ok(scan(&format!("no scan: {why}")));
                        }
                        // Pending, in progress, or a status this SDK does not know.
                        _ => {}
                    }
                }
                // Not started yet: as good as pending.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_scan_not_found_exception()) => {}
                Err(e)
                    if e.as_service_error().is_some_and(|s| {
                        s.is_image_not_found_exception() || s.is_repository_not_found_exception()
                    }) =>
                {
                    return Ok(scan("no scan: the image is not in ECR's own registry"));
                }
                Err(e) => return Ok(scan(&format!("no scan: {}", self.calls.describe(&e)))),
            }
            Err(Pending)
        };
        read.retry(crate::retry::until(
            Duration::from_millis(500),
            Duration::from_secs(5),
        ))
        .adjust(crate::retry::before(deadline))
        .await
        .unwrap_or_else(|Pending| scan("pending"))
    }
}
