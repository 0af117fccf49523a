//! Which errors are mistakes in the input (exit 2) and which are failed work
//! (exit 1), and what a partial multi-platform failure says.

use super::*;
use crate::farm::BuildError;
use crate::identity::IdentityError;
use crate::lambda::housekeeping::HousekeepingError;
use crate::model::Platform;

fn image(platform: Platform, reused: bool) -> ImageReport {
    ImageReport {
        platform,
        architecture: platform.lambda_arch(),
        tag: format!("abc-{}", platform.lambda_arch()),
        image_uri: format!(
            "1.dkr.ecr.us-east-1.amazonaws.com/fn:abc-{}",
            platform.lambda_arch()
        ),
        digest: "sha256:d1".into(),
        deploy_uri: "1.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:d1".into(),
        pushed_to: "1.dkr.ecr.us-east-1.amazonaws.com/fn:abc".into(),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        compressed_size: 1,
        size: None,
        reused,
        unchanged_since: None,
        engine: None,
        engine_version: None,
        inputs: None,
        signed: None,
        build_seconds: 0.0,
        push_seconds: 0.0,
        local_smoke: None,
        scan: None,
    }
}

fn dockerfile(platform: Platform) -> PlatformError {
    PlatformError::Build(BuildError::Dockerfile {
        platform,
        message: "unknown instruction: RUNN".into(),
    })
}

#[test]
fn mistakes_found_before_any_change_exit_2_and_failed_work_exits_1() {
    let usage = [
        Error::Conflict("--allow-dirty and an immutable tag".into()),
        Error::Preflight(PreflightError::NotFound("orders".into())),
        Error::Preflight(PreflightError::Zip("orders".into())),
        Error::Identity(IdentityError::NoToken),
        Error::Housekeeping(HousekeepingError::NoFunction("orders".into())),
    ];
    for e in &usage {
        assert!(e.is_usage(), "{e}");
        assert_eq!(e.exit_code(), 2, "{e}");
    }
    let failed = [
        Error::Preflight(PreflightError::Api {
            name: "orders".into(),
            message: "throttled".into(),
        }),
        Error::Identity(IdentityError::CallerIdentity("no answer".into())),
        Error::Housekeeping(HousekeepingError::Api {
            operation: "ListAliases",
            name: "orders".into(),
            message: "denied".into(),
        }),
        Error::Manifest(ManifestError::NotFound { image: "x".into() }),
        Error::Deploy("orders was not updated".into()),
        Error::Incomplete("one image was not deleted".into()),
        Error::Cancelled("SIGTERM".into()),
        Error::LocalCancelled("SIGINT".into()),
    ];
    for e in &failed {
        assert!(!e.is_usage(), "{e}");
        assert_eq!(e.exit_code(), 1, "{e}");
    }
}

#[test]
fn a_run_that_deployed_nothing_keeps_the_code_of_its_cause() {
    let usage = Error::NotDeployed(Box::new(Error::Conflict("bad flags".into())));
    assert_eq!(usage.exit_code(), 2);
    assert_eq!(usage.to_string(), "bad flags\nNothing was deployed.");
    let failed = Error::NotDeployed(Box::new(Error::Deploy("orders failed".into())));
    assert_eq!(failed.exit_code(), 1);
}

#[test]
fn a_dockerfile_mistake_is_usage_only_while_nothing_new_was_pushed() {
    let platforms = |failed, done| Error::Platforms { failed, done };
    assert_eq!(
        platforms(vec![dockerfile(Platform::Arm64)], vec![]).exit_code(),
        2
    );
    assert_eq!(
        platforms(
            vec![dockerfile(Platform::Arm64)],
            vec![image(Platform::Amd64, true)]
        )
        .exit_code(),
        2,
        "the other image only reused"
    );
    assert_eq!(
        platforms(
            vec![dockerfile(Platform::Arm64)],
            vec![image(Platform::Amd64, false)]
        )
        .exit_code(),
        1,
        "the other image was pushed"
    );
    assert_eq!(
        platforms(
            vec![
                dockerfile(Platform::Arm64),
                PlatformError::Held(Platform::Amd64)
            ],
            vec![]
        )
        .exit_code(),
        1
    );
    let step = PlatformError::Build(BuildError::StepFailed {
        platform: Platform::Amd64,
        step: "RUN make".into(),
        message: "exit code: 2".into(),
        last_lines: vec![],
    });
    assert_eq!(platforms(vec![step], vec![]).exit_code(), 1);
}

#[test]
fn a_partial_failure_says_what_failed_then_what_was_pushed() {
    let e = Error::Platforms {
        failed: vec![PlatformError::Held(Platform::Arm64)],
        done: vec![image(Platform::Amd64, false)],
    };
    let text = e.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].starts_with("linux/arm64: not pushed"), "{text}");
    assert_eq!(
        lines[1],
        "linux/amd64 was pushed as 1.dkr.ecr.us-east-1.amazonaws.com/fn:abc-x86_64 (sha256:d1)."
    );
}

#[test]
fn a_local_smoke_failure_shows_only_the_last_ten_lines_of_output() {
    let output: Vec<String> = (1..=15).map(|i| format!("line {i}")).collect();
    let tail = output_tail(&output.join("\n"));
    assert!(tail.starts_with("\nits last output:\n  line 6\n"), "{tail}");
    assert!(tail.ends_with("line 15"));
    assert!(!tail.contains("line 5\n"));
    assert_eq!(output_tail(""), "", "no output, nothing said");
}
