//! Functions with a release behind an alias, and CloudWatch alarms, in
//! moto: what the rollout, rollback and policy tests start from.

use super::{aws, aws_output, create_function, unique};

/// A function whose alias `live` serves version 1 of an older image: the
/// release a deploy rolls out from.
pub fn released_function(prefix: &str) -> String {
    let name = unique(prefix);
    create_function(&name, "x86_64", false);
    aws(&["lambda", "publish-version", "--function-name", &name]);
    live_alias(&name, "1");
    name
}

/// The alias `live` of `function`, on `version`.
pub fn live_alias(function: &str, version: &str) {
    aws(&[
        "lambda",
        "create-alias",
        "--function-name",
        function,
        "--name",
        "live",
        "--function-version",
        version,
    ]);
}

/// An AWS CLI call that answers nothing, which must succeed.
pub fn aws_quiet(args: &[&str]) {
    let out = aws_output(args);
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A metric alarm of its own, in `state`.
pub fn alarm(state: &str) -> String {
    let name = unique("orders-5xx");
    aws_quiet(&[
        "cloudwatch",
        "put-metric-alarm",
        "--alarm-name",
        &name,
        "--namespace",
        "AWS/Lambda",
        "--metric-name",
        "Errors",
        "--statistic",
        "Sum",
        "--period",
        "60",
        "--evaluation-periods",
        "1",
        "--threshold",
        "1",
        "--comparison-operator",
        "GreaterThanOrEqualToThreshold",
    ]);
    set_alarm(&name, state);
    name
}

pub fn set_alarm(name: &str, state: &str) {
    aws_quiet(&[
        "cloudwatch",
        "set-alarm-state",
        "--alarm-name",
        name,
        "--state-value",
        state,
        "--state-reason",
        "test",
    ]);
}
