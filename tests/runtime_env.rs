//! The local run as today's Lambda: the metadata endpoint, the documented
//! environment (against the Runtime Interface Emulator on the same image),
//! and the credentials a handler gets only when they are asked for.

mod common;

use common::*;
use std::path::Path;

/// A custom runtime that does what AWS's runtime clients do, and answers
/// each event with what it was given: the names of its variables, the
/// runtime headers of the event, the metadata endpoint's answer to
/// Powertools' request (at init) and to a wrong token, `LANG`, and
/// `_X_AMZN_TRACE_ID`, which it sets from the event's trace header.
const REPORTING_RUNTIME: &str = r#"#!/bin/sh
set -u
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
names=$(env | sed 's/=.*//' | sort | tr '\n' ' ')
md="http://${AWS_LAMBDA_METADATA_API:-none}/2026-01-15/metadata/execution-environment"
metadata=$(wget -q -O - --header "Authorization: Bearer ${AWS_LAMBDA_METADATA_TOKEN:-}" "$md")
refused=$(wget -q -O - --header "Authorization: Bearer not-the-token" "$md" 2>&1 | tr -d '"\\\n')
while true; do
  wget -q -S -O /tmp/event "$api/invocation/next" 2>/tmp/headers
  id=$(sed -n 's/^ *[Ll]ambda-[Rr]untime-[Aa]ws-[Rr]equest-[Ii]d: *//p' /tmp/headers | tr -d '\r')
  trace=$(sed -n 's/^ *[Ll]ambda-[Rr]untime-[Tt]race-[Ii]d: *//p' /tmp/headers | tr -d '\r')
  headers=$(sed -n 's/^ *\([Ll]ambda-[Rr]untime-[A-Za-z-]*\):.*/\1/p' /tmp/headers | sort | tr '\n' ' ')
  export _X_AMZN_TRACE_ID="$trace"
  out=$(printf '{"env":"%s","headers":"%s","metadata":%s,"refused":"%s","lang":"%s","memory":"%s","trace_env":"%s","trace_header":"%s"}' \
    "$names" "$headers" "${metadata:-null}" "$refused" "${LANG:-}" \
    "${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-}" "$_X_AMZN_TRACE_ID" "$trace")
  wget -q -O /dev/null --post-data "$out" "$api/invocation/$id/response"
done
"#;

/// A copy of the fixture whose runtime is `bootstrap` and handler `handler`.
fn variant(bootstrap: Option<&str>, handler: Option<&str>) -> tempfile::TempDir {
    let dir = fixture_copy();
    if let Some(b) = bootstrap {
        std::fs::write(dir.path().join("bootstrap"), b).unwrap();
    }
    if let Some(h) = handler {
        std::fs::write(dir.path().join("function/handler.sh"), h).unwrap();
    }
    dir
}

/// `lambda-ship local --once` of `context`: its exit code, its results by
/// platform, and everything it printed.
fn local_once(
    context: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (i32, Vec<serde_json::Value>, String) {
    let out = lambda_ship()
        .args(["local", "--once", "--output", "json"])
        .arg("--context")
        .arg(context)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let printed = printed(&out);
    let results = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("JSON results on stdout:\n{printed}"));
    assert!(!printed.contains("panicked"), "{printed}");
    (out.status.code().unwrap_or(-1), results, printed)
}

/// Everything a run printed, stdout then stderr.
fn printed(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn answer(results: &[serde_json::Value], platform: &str) -> serde_json::Value {
    let r = results
        .iter()
        .find(|r| r["platform"] == platform)
        .unwrap_or_else(|| panic!("{platform} in {results:?}"));
    assert_eq!(r["passed"], true, "{r}");
    serde_json::from_str(r["response"].as_str().unwrap()).unwrap()
}

fn names(answer: &serde_json::Value, field: &str) -> std::collections::BTreeSet<String> {
    answer[field]
        .as_str()
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

const PLATFORMS: [(&str, &str); 2] = [("linux/amd64", "x86_64"), ("linux/arm64", "arm64")];

#[test]
fn the_metadata_endpoint_lambdas_environment_and_the_trace_header_reach_the_handler() {
    let ctx = variant(Some(REPORTING_RUNTIME), None);
    let (code, results, printed) = local_once(ctx.path(), &[], &[]);
    assert_eq!(code, 0, "{printed}");
    for (platform, _) in PLATFORMS {
        let a = answer(&results, platform);
        // Powertools' request at init: the AZ ID of the run's Region.
        assert_eq!(
            a["metadata"],
            serde_json::json!({"AvailabilityZoneID": "use1-az1"}),
            "{platform}: {a}"
        );
        assert!(
            a["refused"].as_str().unwrap().contains("401 Unauthorized"),
            "{platform}: a wrong token gets Lambda's error: {a}"
        );
        let env = names(&a, "env");
        for name in ["AWS_LAMBDA_METADATA_API", "AWS_LAMBDA_METADATA_TOKEN"] {
            assert!(env.contains(name), "{platform}: {name} in {env:?}");
        }
        assert_eq!(a["lang"], "en_US.UTF-8", "{platform}");
        assert_eq!(a["memory"], "128", "{platform}: Lambda's default memory");
        let trace = a["trace_header"].as_str().unwrap();
        assert_eq!(a["trace_env"], trace, "{platform}: the same invocation's");
        let parts: Vec<&str> = trace.split(';').collect();
        assert!(
            parts.len() == 3
                && parts[0].starts_with("Root=1-")
                && parts[1].starts_with("Parent=")
                && parts[2] == "Sampled=0",
            "{platform}: an X-Ray trace header: {trace}"
        );
    }
}

#[test]
fn every_variable_and_runtime_header_the_emulator_gives_a_function_lambda_ship_gives_too() {
    let ctx = variant(Some(REPORTING_RUNTIME), None);
    // Both are given credentials: the emulator passes its own through.
    let (code, results, printed) = local_once(
        ctx.path(),
        &["--credentials"],
        &[("AWS_SESSION_TOKEN", "testing")],
    );
    assert_eq!(code, 0, "{printed}");
    let credentials = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
    ];
    for (platform, rie_arch) in PLATFORMS {
        let ours = answer(&results, platform);
        let image = results
            .iter()
            .find(|r| r["platform"] == platform)
            .and_then(|r| r["image"].as_str())
            .unwrap();
        let reference: serde_json::Value = serde_json::from_str(&rie::invoke_under_rie(
            image,
            platform,
            rie_arch,
            "{}",
            &credentials,
        ))
        .unwrap();
        for field in ["env", "headers"] {
            let missing: Vec<String> = names(&reference, field)
                .difference(&names(&ours, field))
                .cloned()
                .collect();
            assert!(
                missing.is_empty(),
                "{platform}: the emulator gives {field} {missing:?} and lambda-ship does not"
            );
        }
        assert_eq!(ours["metadata"], reference["metadata"], "{platform}");
        // What Lambda's documentation names and the emulator leaves out.
        let env = names(&ours, "env");
        for name in [
            "_HANDLER",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_EXECUTION_ENV",
            "AWS_LAMBDA_INITIALIZATION_TYPE",
            "AWS_ACCESS_KEY",
            "LAMBDA_TASK_ROOT",
            "LAMBDA_RUNTIME_DIR",
            "LANG",
            "TZ",
            "AWS_XRAY_CONTEXT_MISSING",
            "AWS_XRAY_DAEMON_ADDRESS",
        ] {
            assert!(env.contains(name), "{platform}: {name} in {env:?}");
        }
    }
}

/// A handler that calls STS GetCallerIdentity as an SDK would, with the
/// credentials of its environment (moto reads the key id and does not check
/// the signature), and prints its secret key as a careless one might.
const CALLER_HANDLER: &str = r#"handler() {
  if [ -z "${AWS_ACCESS_KEY_ID:-}" ]; then echo "Unable to locate credentials" >&2; return 1; fi
  echo "secret=${AWS_SECRET_ACCESS_KEY}" >&2
  auth="AWS4-HMAC-SHA256 Credential=${AWS_ACCESS_KEY_ID}/20261203/${AWS_REGION}/sts/aws4_request, SignedHeaders=host, Signature=0"
  body=$(wget -q -O - --header "Authorization: $auth" \
    --header "X-Amz-Security-Token: ${AWS_SESSION_TOKEN:-}" \
    --post-data 'Action=GetCallerIdentity&Version=2011-06-15' "${AWS_ENDPOINT_URL}/") || return 1
  arn=$(echo "$body" | sed -n 's:.*<Arn>\(.*\)</Arn>.*:\1:p')
  printf '{"arn":"%s","secret":"%s"}' "$arn" "$AWS_SECRET_ACCESS_KEY"
}
"#;

#[test]
fn a_handler_that_calls_aws_gets_credentials_only_when_asked_and_never_shows_them() {
    let ctx = variant(None, Some(CALLER_HANDLER));
    let endpoint = format!("AWS_ENDPOINT_URL=http://{MOTO}");
    let secret = "lambda-ship-local-secret-31337";
    let args = ["--platforms", "linux/amd64", "--env", &endpoint];
    let (code, results, printed) = local_once(ctx.path(), &args, &[]);
    assert_eq!(code, 1, "no credentials unless asked: {printed}");
    assert_eq!(results[0]["failure"], "handler_error", "{printed}");
    assert!(
        results[0]["output"]
            .as_str()
            .unwrap()
            .contains("Unable to locate credentials")
    );

    let mut with = args.to_vec();
    with.push("--credentials");
    let env = [
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("GITHUB_ACTIONS", "true"),
    ];
    let (code, results, printed) = local_once(ctx.path(), &with, &env);
    assert_eq!(code, 0, "{printed}");
    let a = answer(&results, "linux/amd64");
    assert_eq!(a["arn"], "arn:aws:sts::123456789012:user/moto", "{a}");
    assert_eq!(a["secret"], "***", "masked in the answer");
    assert!(
        results[0]["output"]
            .as_str()
            .unwrap()
            .contains("secret=***")
    );
    // On GitHub Actions the runner is told to mask it, and nothing else shows it.
    let shown: Vec<&str> = printed
        .lines()
        .filter(|l| l.contains(secret) && !l.starts_with("::add-mask::"))
        .collect();
    assert!(shown.is_empty(), "the secret key in the output: {shown:?}");
    assert!(
        printed.contains(&format!("::add-mask::{secret}")),
        "{printed}"
    );
}

#[test]
fn a_deploys_local_run_can_have_a_session_of_the_execution_role() {
    let ctx = variant(None, Some(CALLER_HANDLER));
    let function = unique("fn-local-creds");
    create_function(&function, "x86_64", false);
    aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        &function,
        "--environment",
        &format!("Variables={{AWS_ENDPOINT_URL=http://{MOTO}}}"),
    ]);
    let repo = unique("local-creds");
    let out = deploy_in(ctx.path(), &repo, &random_sha(), &[&function])
        .args([
            "--local-credentials",
            "execution-role",
            "--no-smoke",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let printed = printed(&out);
    assert!(out.status.success(), "{printed}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = &image(&report["build"], "x86_64")["local_smoke"];
    let a: serde_json::Value = serde_json::from_str(local["response"].as_str().unwrap()).unwrap();
    let arn = a["arn"].as_str().unwrap();
    assert!(
        arn.starts_with(
            "arn:aws:sts::123456789012:assumed-role/lambda-ship-test-function/lambda-ship-local-"
        ),
        "the execution role's identity: {arn}"
    );
    assert_eq!(a["secret"], "***");
    assert!(local["output"].as_str().unwrap().contains("secret=***"));
    // The secret is not known here: every place it was printed is masked.
    for (at, _) in printed.match_indices("secret=") {
        let shown = &printed[at..(at + 10).min(printed.len())];
        assert_eq!(shown, "secret=***", "unmasked in:\n{printed}");
    }

    // Without the local run there is nothing to give credentials to.
    let refused = fails_with(
        deploy_in(ctx.path(), &repo, &random_sha(), &[&function]).args([
            "--local-credentials",
            "execution-role",
            "--no-local-smoke",
        ]),
        2,
    );
    assert!(refused.contains("--no-local-smoke"), "{refused}");
}

#[test]
fn a_slow_init_has_lambdas_init_limit_and_then_the_timeout() {
    // 12 s of init: past the 10 s limit, which Lambda retries within the
    // first invocation's timeout: a 3 s timeout leaves room, a 1 s one not.
    let ctx = variant(
        None,
        Some("sleep 12\nhandler() { echo '{\"ok\":true}'; }\n"),
    );
    let run = |timeout: &'static str| {
        let path = ctx.path().to_path_buf();
        std::thread::spawn(move || {
            local_once(
                &path,
                &["--platforms", "linux/amd64", "--timeout", timeout],
                &[],
            )
        })
    };
    let (roomy, tight) = (run("3"), run("1"));
    let (code, results, printed) = roomy.join().unwrap();
    assert_eq!(code, 0, "{printed}");
    assert_eq!(results[0]["passed"], true, "{printed}");
    let (code, results, printed) = tight.join().unwrap();
    assert_eq!(code, 1, "{printed}");
    assert_eq!(results[0]["failure"], "init_error", "{printed}");
    assert!(
        results[0]["reason"]
            .as_str()
            .unwrap()
            .contains("Lambda's init limit of 10 s"),
        "{printed}"
    );
}
