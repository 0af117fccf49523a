//! A deploy's rollout flags: a rollout needs an alias, a gate a rollout,
//! and a preview leaves aliases alone.

use super::DeployConfig;
use clap::Parser;

/// `deploy` of the fixture with `extra` flags, as validated settings.
fn deploy(extra: &[&str]) -> Result<DeployConfig, String> {
    let context = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/function");
    let mut argv = vec![
        "lambda-ship",
        "deploy",
        "--repository",
        "orders",
        "--sha",
        "0123456789abcdef0123456789abcdef01234567",
        "--function",
        "orders",
        "--context",
        context,
    ];
    argv.extend_from_slice(extra);
    let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let crate::cli::Command::Deploy(args) = cli.command else {
        panic!("a deploy")
    };
    let ci = crate::ci::CiContext::detect(&crate::ci::Env::default());
    DeployConfig::from_args(args, &ci).map_err(|e| e.to_string())
}

#[test]
fn a_rollout_needs_an_alias_and_a_gate_needs_a_rollout() {
    let config = deploy(&["--alias", "live", "--rollout", "linear:25:1m"]).unwrap();
    assert_eq!(config.rollout.unwrap().to_string(), "linear 25% every 1m");
    let e = deploy(&["--rollout", "canary:10:1m"]).unwrap_err();
    assert!(e.contains("add --alias NAME"), "{e}");
    for gate in [
        &["--rollback-alarm", "orders-5xx"][..],
        &["--max-error-rate", "5"][..],
    ] {
        let e = deploy(gate).unwrap_err();
        assert!(e.contains("gates a rollout"), "{e}");
    }
    for bad in ["0", "-1", "101", "NaN"] {
        let rate = format!("--max-error-rate={bad}");
        let e = deploy(&["--alias", "l", "--rollout", "canary:5:1m", &rate]).unwrap_err();
        assert!(e.contains("--max-error-rate"), "{bad}: {e}");
    }
    let gated = deploy(&[
        "--alias",
        "live",
        "--rollout",
        "canary:5:1m",
        "--rollback-alarm",
        "a,b",
        "--rollback-alarm",
        "a",
    ])
    .unwrap();
    assert_eq!(gated.gates.alarms, ["a", "b"], "each once");
    assert_eq!(gated.gates.min_invocations, 1);
}

#[test]
fn a_preview_with_an_alias_is_refused_by_the_settings() {
    // Not by clap, which would also refuse the action's `preview: false`
    // beside an alias (tests/action.rs).
    let e = deploy(&["--preview", "--alias", "live"]).unwrap_err();
    assert!(e.contains("--preview"), "{e}");
}
