//! The texts people read, pinned: the pull-request comment and the job
//! summary for a handful of runs. A change to their words shows here as a
//! snapshot to review (`INSTA_UPDATE=always cargo test --test snapshots`,
//! then read the diff), never by accident. No test bed is needed.

mod common;

use common::reports::*;
use lambda_ship::feedback::{job_summary, markdown};
use lambda_ship::lambda::Outcome;
use lambda_ship::report::{Failure, RunReport, Stage};

#[test]
fn a_deploy_of_two_functions_behind_an_alias() {
    let report = run(
        vec![
            function("orders-x86", "x86_64"),
            function("orders-arm", "arm64"),
        ],
        None,
    );
    insta::assert_snapshot!(markdown::render(&report, "orders-arm,orders-x86"));
}

#[test]
fn a_smoke_test_that_fails_keeps_the_alias() {
    let mut f = function("orders-arm", "arm64");
    f.smoke = Some(smoke(false));
    f.outcome = Outcome::UpdatedThenFailed(
        "smoke test failed: the function failed: Unhandled; the alias live stays on 6".into(),
    );
    if let Some(a) = &mut f.alias {
        a.version = Some("6".into());
        a.moved = false;
    }
    let report = run(
        vec![f],
        Some(Failure {
            stage: Stage::Deploy,
            message: "the deploy did not complete:\n  orders-arm (arm64): updated to …, but smoke \
                      test failed"
                .into(),
        }),
    );
    insta::assert_snapshot!(markdown::render(&report, "orders-arm"));
}

#[test]
fn a_build_that_failed_deployed_nothing() {
    let mut f = function("orders-arm", "arm64");
    f.image_after = None;
    f.version = None;
    f.alias = None;
    f.url = None;
    f.smoke = None;
    f.outcome = Outcome::NotUpdated("not deployed: the build failed".into());
    let mut report = run(
        vec![f],
        Some(Failure {
            stage: Stage::Build,
            message: "linux/arm64: step '[2/6] RUN make' failed: exit code 2".into(),
        }),
    );
    report.build = None;
    insta::assert_snapshot!(markdown::render(&report, "orders-arm"));
}

#[test]
fn the_job_summary_adds_each_warning_inert() {
    let report = run(vec![function("orders-arm", "arm64")], None);
    let body = markdown::render(&report, "orders-arm");
    let summary = job_summary(
        &body,
        &[
            "no pull-request comment: could not post the comment: GitHub answered 403 \
           Resource not accessible by integration <b>x</b>"
                .to_string(),
        ],
    );
    insta::assert_snapshot!(summary);
}

/// The numbers of a change against production's, with a scan per architecture.
fn with_costs(
    scan_x86: lambda_ship::metrics::Scan,
    scan_arm: lambda_ship::metrics::Scan,
) -> RunReport {
    use lambda_ship::metrics::Numbers;
    let mut x86 = function("orders-x86", "x86_64");
    x86.numbers = Some(Numbers {
        size_bytes: Some(31_457_280),
        init_ms: Some(912.4),
        duration_ms: Some(35.2),
        max_memory_mb: Some(88),
    });
    x86.baseline = Some(Numbers {
        size_bytes: Some(10_485_760),
        init_ms: Some(210.0),
        duration_ms: Some(40.1),
        max_memory_mb: Some(80),
    });
    x86.warnings = vec![
        "the cold start grew by 702 ms (210 → 912 ms), more than --warn-cold-start-ms 300".into(),
        "the image grew by 21.0 MB (10.5 MB → 31.5 MB), more than --warn-size-mb 5".into(),
    ];
    let mut arm = function("orders-arm", "arm64");
    arm.numbers = Some(Numbers {
        size_bytes: Some(9_000_000),
        init_ms: Some(180.0),
        duration_ms: Some(20.0),
        max_memory_mb: Some(70),
    });
    let mut report = run(vec![arm, x86], None);
    if let Some(build) = &mut report.build {
        for image in &mut build.images {
            image.scan = Some(if image.architecture == "x86_64" {
                scan_x86.clone()
            } else {
                scan_arm.clone()
            });
        }
    }
    report
}

fn scan(
    status: &str,
    counts: &[(&str, u64)],
    serious: &[(&str, &str, &str)],
) -> lambda_ship::metrics::Scan {
    lambda_ship::metrics::Scan {
        status: status.into(),
        counts: counts.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        serious: serious
            .iter()
            .map(|(severity, name, package)| lambda_ship::metrics::Finding {
                severity: severity.to_string(),
                name: name.to_string(),
                package: Some(package.to_string()),
            })
            .collect(),
    }
}

#[test]
fn the_costs_with_their_changes_findings_and_warnings() {
    let report = with_costs(
        scan(
            "complete",
            &[("CRITICAL", 1), ("HIGH", 2), ("MEDIUM", 3)],
            &[
                ("CRITICAL", "CVE-2026-0001", "openssl"),
                ("HIGH", "CVE-2026-0002", "zlib"),
                ("HIGH", "CVE-2026-0003", "zlib"),
            ],
        ),
        scan("complete", &[], &[]),
    );
    insta::assert_snapshot!(markdown::render(&report, "orders-arm,orders-x86"));
}

#[test]
fn the_costs_while_a_scan_is_pending() {
    let report = with_costs(
        scan("pending", &[], &[]),
        scan("no scan: the image is not in ECR's own registry", &[], &[]),
    );
    insta::assert_snapshot!(markdown::render(&report, "orders-arm,orders-x86"));
}

/// A canary of both functions, as far as `outcome` took it.
fn rolled_out(outcome: lambda_ship::rollout::RolloutOutcome) -> RunReport {
    use lambda_ship::rollout::{Release, RolloutEvent, RolloutOutcome, RolloutReport};
    let mut functions = vec![
        function("orders-x86", "x86_64"),
        function("orders-arm", "arm64"),
    ];
    for f in &mut functions {
        if let Some(a) = &mut f.alias {
            a.moved = outcome == RolloutOutcome::Promoted;
            a.version = Some(if a.moved { "7" } else { "6" }.into());
        }
    }
    let mut rollout = RolloutReport::new(
        "canary:20:5m".parse().unwrap(),
        functions
            .iter()
            .map(|f| Release {
                function: f.name.clone(),
                alias: "live".into(),
                from: "6".into(),
                to: "7".into(),
                revision: None,
            })
            .collect(),
    );
    rollout.outcome = outcome;
    let event = |seconds: f64, percent: u8, what: &str| RolloutEvent {
        seconds,
        percent,
        what: what.into(),
    };
    rollout.events = vec![event(0.4, 20, "20% to the new version for 5m")];
    rollout.percent = 20;
    let mut failure = None;
    match outcome {
        RolloutOutcome::Promoted => {
            rollout
                .events
                .push(event(300.6, 100, "promoted: 100% on the new version"));
            rollout.percent = 100;
        }
        RolloutOutcome::RolledBack => {
            rollout.events.push(event(
                72.1,
                0,
                "rolled back at 20%: alarm orders-5xx in ALARM",
            ));
            rollout.percent = 0;
            rollout.reason = Some("alarm orders-5xx in ALARM at 20%".into());
            rollout.failed_percent = Some(20);
            failure = Some(Failure {
                stage: Stage::Rollout,
                message: rollout.failure().unwrap(),
            });
        }
        _ => {}
    }
    let mut report = run(functions, failure);
    report.rollout = Some(rollout);
    report
}

#[test]
fn a_canary_under_way() {
    let report = rolled_out(lambda_ship::rollout::RolloutOutcome::InProgress);
    insta::assert_snapshot!(markdown::render(&report, "orders-arm,orders-x86"));
}

#[test]
fn a_canary_promoted() {
    let report = rolled_out(lambda_ship::rollout::RolloutOutcome::Promoted);
    insta::assert_snapshot!(markdown::render(&report, "orders-arm,orders-x86"));
}

#[test]
fn a_canary_rolled_back_by_an_alarm() {
    let report = rolled_out(lambda_ship::rollout::RolloutOutcome::RolledBack);
    insta::assert_snapshot!(markdown::render(&report, "orders-arm,orders-x86"));
}
