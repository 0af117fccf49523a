//! Preflight against the AWS SDK's replay client: a function is read once,
//! refused when it cannot be deployed, and planned as Lambda would run it.

use crate::lambda::PreflightError;
use crate::lambda::update::replay::{lambda, not_found, ok, sent};
use crate::model::{FunctionTarget, Platform};
use crate::settings::{Change, Field, Settings};

fn target(name: &str, arch: Option<Platform>) -> FunctionTarget {
    FunctionTarget {
        name: name.into(),
        arch,
    }
}

const ROLE: &str = "arn:aws:iam::123456789012:role/fn";

#[tokio::test]
async fn a_zip_function_is_refused_as_a_mistake_in_the_flags() {
    let (lambda, _) = lambda(vec![ok(
        r#"{"Configuration":{"FunctionName":"orders","PackageType":"Zip"}}"#,
    )]);
    let err = lambda
        .preflight(&target("orders", None), None, None, &Settings::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, PreflightError::Zip(ref n) if n == "orders"),
        "{err}"
    );
    assert!(err.is_config());
}

#[tokio::test]
async fn a_missing_function_is_created_only_with_a_role_and_an_architecture() {
    let (lambda, http) = lambda(vec![not_found(), not_found(), not_found()]);
    let asked = Settings::default();
    let err = lambda
        .preflight(&target("orders", None), None, None, &asked)
        .await
        .unwrap_err();
    assert!(matches!(err, PreflightError::NotFound(_)), "{err}");
    let err = lambda
        .preflight(&target("orders", None), None, Some(ROLE), &asked)
        .await
        .unwrap_err();
    assert!(matches!(err, PreflightError::NoArchitecture(_)), "{err}");
    let spec = lambda
        .preflight(
            &target("orders", Some(Platform::Arm64)),
            None,
            Some(ROLE),
            &asked,
        )
        .await
        .unwrap();
    assert_eq!(spec.create_with_role.as_deref(), Some(ROLE));
    assert_eq!((spec.arch, spec.image_before), (Platform::Arm64, None));
    assert_eq!(
        (spec.local.memory_mb, spec.local.timeout.as_secs()),
        (128, 3),
        "what Lambda gives a new function"
    );
    assert_eq!(sent(&http).len(), 3);
}

#[tokio::test]
async fn a_function_of_another_region_is_refused_before_any_call() {
    let (lambda, http) = lambda(vec![]);
    let arn = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
    let err = lambda
        .preflight(&target(arn, None), None, None, &Settings::default())
        .await
        .unwrap_err();
    assert!(matches!(err, PreflightError::Elsewhere { .. }), "{err}");
    assert!(sent(&http).is_empty());
}

#[tokio::test]
async fn the_function_is_planned_as_it_runs_with_what_is_asked_applied() {
    let (lambda, _) = lambda(vec![ok(r#"{
        "Configuration":{"FunctionName":"orders","PackageType":"Image","Architectures":["arm64"],
          "MemorySize":1024,"Timeout":60,"Role":"arn:aws:iam::1:role/r","Description":"old",
          "Environment":{"Variables":{"MODE":"prod"}},
          "ImageConfigResponse":{"ImageConfig":{"Command":["app.handler"]}},
          "EphemeralStorage":{"Size":1024},
          "VpcConfig":{"SubnetIds":["subnet-1"],"SecurityGroupIds":["sg-1"]}},
        "Code":{"ImageUri":"1.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:old"},
        "Tags":{"lambda-ship:numbers":"size=100;init=200.00"}}"#)]);
    let asked = Settings {
        memory: Some(2048),
        timeout: Some(60),
        env: vec!["MODE=prod".into(), "NEW=1".into()],
        ..Settings::default()
    };
    let spec = lambda
        .preflight(&target("orders", None), None, None, &asked)
        .await
        .unwrap();
    assert_eq!(
        (spec.arch, spec.arch_before),
        (Platform::Arm64, Platform::Arm64)
    );
    assert_eq!(
        spec.image_before.as_deref(),
        Some("1.dkr.ecr.us-east-1.amazonaws.com/fn@sha256:old")
    );
    assert_eq!(
        spec.changes,
        [
            Change::Number(Field::Memory, 1024, 2048),
            Change::EnvAdded("NEW".into())
        ],
        "only what differs: the same timeout and value are no change"
    );
    assert_eq!(spec.local.memory_mb, 2048);
    assert_eq!(spec.local.ephemeral_storage_mb, 1024);
    assert_eq!(
        spec.local.image_config.command.as_deref(),
        Some(&["app.handler".to_string()][..])
    );
    assert_eq!(
        spec.vpc,
        Some((vec!["subnet-1".to_string()], vec!["sg-1".to_string()]))
    );
    let baseline = spec.baseline.unwrap();
    assert_eq!(
        (baseline.size_bytes, baseline.init_ms),
        (Some(100), Some(200.0))
    );
}

#[tokio::test]
async fn an_environment_over_4_kb_with_what_is_asked_is_refused() {
    let big = "x".repeat(3000);
    let (lambda, _) = lambda(vec![ok(&format!(
        r#"{{"Configuration":{{"PackageType":"Image","Environment":{{"Variables":{{"A":"{big}"}}}}}}}}"#
    ))]);
    let asked = Settings {
        env: vec![format!("B={big}")],
        ..Settings::default()
    };
    let err = lambda
        .preflight(&target("orders", None), None, None, &asked)
        .await
        .unwrap_err();
    match err {
        PreflightError::EnvTooLarge { size, .. } => assert!(size > 6000, "{size}"),
        other => panic!("{other}"),
    }
}
