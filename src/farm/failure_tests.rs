//! What a failed build is said as, decided from BuildKit's message and the
//! step it marked: a Dockerfile mistake (exit 2), a failed step with its
//! last lines, or the engine's own failure.

use super::*;
use crate::farm::Step;

fn step(name: &str, error: &str) -> Step {
    Step {
        name: name.into(),
        error: error.into(),
        lines: ["npm ERR! missing script: build".to_string()].into(),
        ..Step::default()
    }
}

#[test]
fn a_dockerfile_that_cannot_be_built_as_asked_is_a_mistake_in_the_input() {
    let failed = step("[2/3] RUN make", "exit code 2");
    let err = classify_failure(
        Platform::Arm64,
        "failed to solve: failed to reach build target runtime in Dockerfile",
        Some(&failed),
    )
    .unwrap();
    match err {
        BuildError::Dockerfile { message, .. } => {
            assert_eq!(
                message,
                "failed to reach build target runtime in Dockerfile"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_step_that_failed_is_named_with_its_last_lines() {
    let failed = step(
        "[2/3] RUN npm run build",
        "process did not complete successfully",
    );
    let err = classify_failure(Platform::Amd64, "  ", Some(&failed)).unwrap();
    match err {
        BuildError::StepFailed {
            step,
            message,
            last_lines,
            ..
        } => {
            assert_eq!(step, "[2/3] RUN npm run build");
            assert_eq!(
                message, "process did not complete successfully",
                "the step's own error when the message is empty"
            );
            assert_eq!(last_lines, ["npm ERR! missing script: build"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failure_with_no_step_is_the_engines_own() {
    assert!(classify_failure(Platform::Amd64, "no space left on device", None).is_none());
}

#[test]
fn a_command_whose_own_words_look_like_a_dockerfile_mistake_is_still_its_steps_failure() {
    let failed = step("[2/3] RUN ./check.sh", "exit code: 1");
    let message = "process \"/bin/sh -c ./check.sh || echo 'the config could not be found'; \
                   exit 1\" did not complete successfully: exit code: 1";
    match classify_failure(Platform::Amd64, message, Some(&failed)) {
        Some(BuildError::StepFailed { step, .. }) => assert_eq!(step, "[2/3] RUN ./check.sh"),
        other => panic!("{other:?}"),
    }
}
