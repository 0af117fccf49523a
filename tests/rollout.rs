//! `deploy --rollout` against moto, which keeps alias weights, alarms and
//! their states, and metric data: the canary and linear steps observed on
//! the alias while the run goes on, each gate rolling back, a cancelled job
//! leaving no alias split, and every bad spec refused before anything is made.

mod common;

use common::forge::Forge;
use common::proxy::Proxy;
use common::releases::*;
use common::*;
use std::process::{Child, Stdio};
use std::time::Duration;

/// The alias: its version and the weights it gives others.
fn alias(name: &str) -> (String, serde_json::Value) {
    let a = aws(&[
        "lambda",
        "get-alias",
        "--function-name",
        name,
        "--name",
        "live",
    ]);
    let weights = a["RoutingConfig"]["AdditionalVersionWeights"].clone();
    (a["FunctionVersion"].as_str().unwrap().to_string(), weights)
}

fn no_weights(weights: &serde_json::Value) -> bool {
    weights.is_null() || weights.as_object().is_some_and(|m| m.is_empty())
}

/// A deploy of the fixture to `functions` behind `live`, in the background.
fn spawn_deploy(functions: &[&str], args: &[&str], report: &std::path::Path) -> Child {
    spawn_deploy_with(functions, args, report, &[])
}

fn spawn_deploy_with(
    functions: &[&str],
    args: &[&str],
    report: &std::path::Path,
    env: &[(&str, String)],
) -> Child {
    require_testbed();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("lambda-ship"));
    cmd.env_clear().envs(testbed_env());
    cmd.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    cmd.args(["deploy", "--repository", "rollout", "--sha"])
        .arg(random_sha())
        .arg("--context")
        .arg(fixture())
        .args(["--platforms", "linux/amd64", "--alias", "live"])
        .arg("--report-json")
        .arg(report);
    for f in functions {
        cmd.args(["--function", f]);
    }
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lambda-ship starts")
}

/// Waits for the run's end; its exit code and stderr.
fn finish(child: Child) -> (i32, String) {
    let out = child.wait_with_output().expect("lambda-ship ends");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

fn read_report(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("the report is written")).unwrap()
}

/// Waits until the alias sends `share` of its traffic to version 2.
fn until_split(name: &str, share: f64) {
    eventually(Duration::from_secs(300), "the alias to be split", || {
        let (version, weights) = alias(name);
        (version == "1" && weights["2"].as_f64() == Some(share)).then_some(())
    });
}

#[test]
fn a_canary_serves_its_share_while_the_alias_keeps_the_old_version_then_promotes() {
    let name = released_function("canary");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = spawn_deploy(&[&name], &["--rollout", "canary:30:6s"], &report);
    until_split(&name, 0.3);
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    let (version, weights) = alias(&name);
    assert_eq!(version, "2");
    assert!(no_weights(&weights), "no weights left: {weights}");
    let described = aws(&[
        "lambda",
        "get-alias",
        "--function-name",
        &name,
        "--name",
        "live",
    ])["Description"]
        .clone();
    assert_eq!(
        described, "lambda-ship served: 1",
        "the way back is recorded"
    );
    let r = read_report(&report);
    assert_eq!(r["ok"], true);
    assert_eq!(r["rollout"]["outcome"], "promoted");
    assert_eq!(r["rollout"]["plan"], "canary 30% for 6s");
    let events = r["rollout"]["events"].as_array().unwrap();
    assert_eq!(events[0]["percent"], 30);
    assert!(events[1]["seconds"].as_f64().unwrap() >= 6.0, "{events:?}");
    assert_eq!(events.last().unwrap()["percent"], 100);
    assert_eq!(r["functions"][0]["alias"]["moved"], true);
    assert!(stderr.contains("rollout:  30%"), "{stderr}");
    // One UpdateAlias for the canary, GetAlias and UpdateAlias to promote;
    // no gate, no CloudWatch.
    assert_eq!(r["rollout"]["calls"]["lambda"], 3);
    assert_eq!(r["rollout"]["calls"]["cloudwatch"], 0);
}

#[test]
fn an_alarm_in_alarm_mid_canary_rolls_every_function_back_within_seconds() {
    let (one, two) = (released_function("alarm-a"), released_function("alarm-b"));
    let alarm = alarm("OK");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = spawn_deploy(
        &[&one, &two],
        &["--rollout", "canary:20:5m", "--rollback-alarm", &alarm],
        &report,
    );
    until_split(&one, 0.2);
    until_split(&two, 0.2);
    set_alarm(&alarm, "ALARM");
    // How soon is the engine's to keep (src/rollout/tests.rs, on a paused
    // clock); here, that it happens at all, for every function.
    let (code, stderr) = finish(child);
    assert_eq!(code, 1, "{stderr}");
    for f in [&one, &two] {
        let (version, weights) = alias(f);
        assert_eq!(version, "1", "{f} is back");
        assert!(no_weights(&weights), "{f}: {weights}");
        let tags = aws(&["lambda", "get-function", "--function-name", f])["Tags"].clone();
        assert_eq!(tags["lambda-ship:rolled-back"], "2", "{tags}");
    }
    let reason = format!("alarm {alarm} in ALARM at 20%");
    assert!(stderr.contains(&reason), "{stderr}");
    let r = read_report(&report);
    assert_eq!(r["failure"]["stage"], "rollout");
    assert!(r["failure"]["message"].as_str().unwrap().contains(&reason));
    assert_eq!(r["rollout"]["outcome"], "rolled_back");
    assert!(r["rollout"]["rollback_seconds"].as_f64().is_some());
    // Per check one DescribeAlarms for both functions: the checks, no more.
    let seconds = r["rollout"]["events"].as_array().unwrap().last().unwrap()["seconds"]
        .as_f64()
        .unwrap();
    let cloudwatch = r["rollout"]["calls"]["cloudwatch"].as_f64().unwrap();
    assert!(
        cloudwatch <= seconds / 5.0 + 3.0,
        "{cloudwatch} calls in {seconds} s"
    );
}

#[test]
fn an_alarm_already_firing_stops_the_rollout_before_any_traffic_moves() {
    let name = released_function("firing");
    let alarm = alarm("ALARM");
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let stderr = fails_with(
        deploy_fixture("rollout", &random_sha(), &[&name])
            .args(["--platforms", "linux/amd64", "--alias", "live"])
            .args(["--rollout", "canary:20:10s", "--rollback-alarm", &alarm])
            .arg("--report-json")
            .arg(&report)
            .env("AWS_ENDPOINT_URL", &proxy.url),
        1,
    );
    assert!(
        stderr.contains(&format!("did not start: alarm {alarm} in ALARM")),
        "{stderr}"
    );
    // Composite alarms too: without AlarmTypes, only metric alarms come back.
    let described = proxy
        .seen()
        .into_iter()
        .find(|s| {
            s.header("x-amz-target")
                .is_some_and(|t| t.ends_with(".DescribeAlarms"))
        })
        .expect("the alarms were read");
    assert!(
        described.body.contains("\"CompositeAlarm\""),
        "{}",
        described.body
    );
    let alias_path = format!("/functions/{name}/aliases/live");
    assert!(
        proxy.seen_matching("PUT", &alias_path).is_empty(),
        "no traffic moved"
    );
    assert_eq!(alias(&name).0, "1");
    let r = read_report(&report);
    assert_eq!(r["rollout"]["outcome"], "not_started");
    assert_eq!(r["failure"]["stage"], "rollout");
}

#[test]
fn an_error_rate_over_the_limit_on_the_new_versions_own_dimensions_rolls_back() {
    let name = released_function("errors");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = spawn_deploy(
        &[&name],
        &["--rollout", "canary:20:5m", "--max-error-rate", "5"],
        &report,
    );
    until_split(&name, 0.2);
    let dims = format!("FunctionName={name},Resource={name}:live,ExecutedVersion=2");
    for (metric, value) in [("Invocations", "10"), ("Errors", "4")] {
        aws_quiet(&[
            "cloudwatch",
            "put-metric-data",
            "--namespace",
            "AWS/Lambda",
            "--metric-name",
            metric,
            "--value",
            value,
            "--dimensions",
            &dims,
        ]);
    }
    let (code, stderr) = finish(child);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("is 40.0% (4 of 10 invocations)"),
        "{stderr}"
    );
    assert!(stderr.contains("error rate not judged yet"), "{stderr}");
    let (version, weights) = alias(&name);
    assert_eq!(version, "1");
    assert!(no_weights(&weights));
    assert_eq!(read_report(&report)["rollout"]["failed_percent"], 20);
}

#[test]
fn a_job_cancelled_mid_canary_leaves_the_alias_unsplit() {
    let name = released_function("sigterm");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = spawn_deploy(&[&name], &["--rollout", "canary:20:5m"], &report);
    until_split(&name, 0.2);
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let (code, stderr) = finish(child);
    assert_eq!(code, 1, "{stderr}");
    let (version, weights) = alias(&name);
    assert_eq!(version, "1");
    assert!(no_weights(&weights), "{weights}");
    let r = read_report(&report);
    assert_eq!(r["rollout"]["outcome"], "cancelled");
    assert!(stderr.contains("cancelled by SIGTERM at 20%"), "{stderr}");
}

#[test]
fn a_linear_rollout_is_seen_at_each_step_and_ends_with_no_weights() {
    let name = released_function("linear");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let child = spawn_deploy(&[&name], &["--rollout", "linear:40:4s"], &report);
    until_split(&name, 0.4);
    until_split(&name, 0.8);
    let (code, stderr) = finish(child);
    assert_eq!(code, 0, "{stderr}");
    let (version, weights) = alias(&name);
    assert_eq!(version, "2");
    assert!(no_weights(&weights));
    let r = read_report(&report);
    let shares: Vec<u64> = r["rollout"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["percent"].as_u64().unwrap())
        .collect();
    assert_eq!(shares, [40, 80, 100]);
}

#[test]
fn a_bad_spec_or_an_unknown_alarm_is_refused_before_anything_is_made() {
    let name = released_function("badspec");
    let repo = unique("badspec");
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    let unknown = unique("no-such-alarm");
    let cases: Vec<Vec<&str>> = vec![
        vec!["--alias", "live", "--rollout", "canary:0:10s"],
        vec!["--alias", "live", "--rollout", "canary:100:10s"],
        vec!["--alias", "live", "--rollout", "linear:30:0s"],
        vec!["--alias", "live", "--rollout", "canary:10:forever"],
        vec!["--alias", "live", "--rollout", "blue-green"],
        vec!["--rollout", "canary:10:10s"],
        vec!["--rollback-alarm", "orders-5xx"],
        vec![
            "--alias",
            "live",
            "--rollout",
            "canary:10:10s",
            "--rollback-alarm",
            &unknown,
        ],
    ];
    // The unknown alarm is named, with what to fix.
    for args in cases {
        let stderr = fails_with(
            deploy_fixture(&repo, &random_sha(), &[&name])
                .args(&args)
                .env("AWS_ENDPOINT_URL", &proxy.url),
            2,
        );
        assert!(
            stderr.contains("--rollout") || stderr.contains(&unknown),
            "{args:?}: {stderr}"
        );
    }
    let writes: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|r| {
            r.method != "GET"
                && !r
                    .header("x-amz-target")
                    .is_some_and(|t| t.ends_with(".DescribeAlarms"))
        })
        .map(|r| format!("{} {}", r.method, r.uri))
        .collect();
    assert!(writes.is_empty(), "nothing changed: {writes:?}");
    let out = aws_output(&["ecr", "describe-repositories", "--repository-names", &repo]);
    assert!(!out.status.success(), "no repository was created");
    assert_eq!(alias(&name).0, "1");
}

#[test]
fn the_living_comment_and_the_job_summary_follow_the_rollout_to_its_end() {
    let name = released_function("comment");
    let alarm = alarm("OK");
    let forge = Forge::start();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let event = pull_request_event(dir.path(), 44, &random_sha());
    let summary = dir.path().join("summary");
    let env = [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_EVENT_NAME", "pull_request".into()),
        ("GITHUB_EVENT_PATH", event.display().to_string()),
        ("GITHUB_REPOSITORY", "acme/widgets".into()),
        ("GITHUB_API_URL", forge.url.clone()),
        ("GITHUB_TOKEN", "ghs_rollout_token_77".into()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ];
    let child = spawn_deploy_with(
        &[&name],
        &["--rollout", "canary:20:5m", "--rollback-alarm", &alarm],
        &report,
        &env,
    );
    until_split(&name, 0.2);
    // The comment says the rollout is under way before it ends.
    eventually(
        Duration::from_secs(30),
        "the comment to show the canary",
        || {
            forge
                .comments("acme/widgets#44")
                .iter()
                .any(|b| b.contains("is rolling out") && b.contains(": 20% on the new version"))
                .then_some(())
        },
    );
    set_alarm(&alarm, "ALARM");
    let (code, stderr) = finish(child);
    assert_eq!(code, 1, "{stderr}");
    let comments = forge.comments("acme/widgets#44");
    assert_eq!(comments.len(), 1, "one living comment");
    let ended = format!("canary 20% for 5m → rolled back: alarm {alarm} in ALARM at 20%");
    assert!(comments[0].contains(&ended), "{}", comments[0]);
    assert!(
        comments[0].contains("failed at the rollout stage"),
        "{}",
        comments[0]
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("#### Rollout") && summary.contains(&ended),
        "{summary}"
    );
    assert!(!stderr.contains("ghs_rollout_token_77"));
}

#[test]
fn a_dry_run_says_how_the_aliases_would_move_and_moves_nothing() {
    let name = released_function("dry");
    // An alarm that does not exist is found by a dry run too.
    let missing = unique("no-such-alarm");
    let stderr = fails_with(
        deploy_fixture("rollout", &random_sha(), &[&name])
            .args(["--platforms", "linux/amd64", "--alias", "live", "--dry-run"])
            .args(["--rollout", "canary:10:1m", "--rollback-alarm", &missing]),
        2,
    );
    assert!(stderr.contains(&missing), "{stderr}");
    let alarm = alarm("OK");
    let out = deploy_fixture("rollout", &random_sha(), &[&name])
        .args(["--platforms", "linux/amd64", "--alias", "live", "--dry-run"])
        .args(["--rollout", "linear:25:1m", "--rollback-alarm", &alarm])
        .args(["--max-error-rate", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "rollout linear 25% every 1m, every function together, rolled back on alarm \
             {alarm}, error rate over 2%"
        )),
        "{stdout}"
    );
    let (version, weights) = alias(&name);
    assert!(version == "1" && no_weights(&weights));
}

#[test]
fn an_alias_on_latest_cannot_be_split_and_moves_at_once() {
    let name = unique("on-latest");
    create_function(&name, "x86_64", false);
    common::releases::live_alias(&name, "$LATEST");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let (code, stderr) = finish(spawn_deploy(
        &[&name],
        &["--rollout", "canary:20:5m"],
        &report,
    ));
    assert_eq!(code, 0, "{stderr}");
    let (version, weights) = alias(&name);
    assert_eq!(version, "1", "on the published version");
    assert!(no_weights(&weights));
    assert!(
        read_report(&report)["rollout"].is_null(),
        "nothing to roll out"
    );
    assert!(stderr.contains("no alias to move gradually"), "{stderr}");
}
