//! `lambda-ship local`'s settings: Lambda's defaults, and what it refuses.

use super::*;

#[test]
fn a_local_run_without_a_function_has_lambdas_defaults_and_no_credentials() {
    let ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
    let local = |extra: &[&str]| {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/function");
        let args = <crate::cli::Cli as clap::Parser>::try_parse_from(
            ["lambda-ship", "local", "--context", fixture]
                .iter()
                .chain(extra),
        )
        .unwrap();
        match args.command {
            crate::cli::Command::Local(l) => LocalConfig::from_args(l, &ci).unwrap(),
            _ => unreachable!(),
        }
    };
    let plain = local(&[]);
    assert_eq!(plain.settings.memory_mb, 128);
    assert_eq!(plain.settings.timeout, std::time::Duration::from_secs(3));
    assert!(!plain.credentials && plain.settings.credentials.is_none());
    assert!(local(&["--credentials"]).credentials);
}

#[test]
fn a_local_run_refuses_a_variable_lambda_sets_itself() {
    let ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/function");
    let args = <crate::cli::Cli as clap::Parser>::try_parse_from([
        "lambda-ship",
        "local",
        "--context",
        fixture,
        "--env",
        "AWS_LAMBDA_METADATA_TOKEN=mine",
    ])
    .unwrap();
    let crate::cli::Command::Local(l) = args.command else {
        unreachable!()
    };
    let err = LocalConfig::from_args(l, &ci).unwrap_err();
    assert!(matches!(err, ConfigError::ReservedKey(ref k) if k == "AWS_LAMBDA_METADATA_TOKEN"));
}
