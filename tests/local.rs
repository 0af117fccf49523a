//! Running images as Lambda would, locally: lambda-ship's own Runtime API and
//! sandbox against the fixture on both architectures, against the real AWS
//! Runtime Interface Emulator as the reference, and against images that fail
//! in each of the ways Lambda fails them.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// A copy of the fixture whose handler is `handler` and, if given, whose Dockerfile is `dockerfile`.
fn variant(handler: &str, dockerfile: Option<&str>) -> tempfile::TempDir {
    let dir = fixture_copy();
    std::fs::write(dir.path().join("function/handler.sh"), handler).unwrap();
    if let Some(d) = dockerfile {
        std::fs::write(dir.path().join("Dockerfile"), d).unwrap();
    }
    dir
}

/// `lambda-ship local --once` on `context`; its exit code and per-architecture results.
fn local_once(context: &Path, args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let out = lambda_ship()
        .args(["local", "--once", "--output", "json"])
        .arg("--context")
        .arg(context)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let results: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "JSON results on stdout:\n{}\n{stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), results, stderr)
}

fn result<'a>(results: &'a [serde_json::Value], platform: &str) -> &'a serde_json::Value {
    results
        .iter()
        .find(|r| r["platform"] == platform)
        .unwrap_or_else(|| panic!("{platform} in {results:?}"))
}

#[test]
fn the_fixture_answers_locally_on_amd64_and_on_arm64_with_its_architecture() {
    let (code, results, stderr) = local_once(&fixture(), &["--event", r#"{"ping":1}"#]);
    assert_eq!(code, 0, "{stderr}");
    for (platform, machine) in [("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")] {
        let r = result(&results, platform);
        assert_eq!(r["passed"], true, "{r}");
        let response: serde_json::Value =
            serde_json::from_str(r["response"].as_str().unwrap()).unwrap();
        assert_eq!(response["arch"], machine, "it runs on its own architecture");
        assert_eq!(response["built_on"], machine);
        assert!(r["init_ms"].as_u64().is_some() && r["invoke_ms"].as_u64().is_some());
    }
}

#[test]
fn responses_and_errors_match_the_aws_runtime_interface_emulator() {
    let failing = variant(
        "handler() { echo 'cannot parse the order' >&2; return 1; }\n",
        None,
    );
    let event = r#"{"order":42,"note":"conformance"}"#;
    for (context, expect_ok) in [(fixture(), true), (failing.path().to_path_buf(), false)] {
        let (_, results, stderr) = local_once(&context, &["--event", event]);
        for (platform, rie_arch) in [("linux/amd64", "x86_64"), ("linux/arm64", "arm64")] {
            let ours = result(&results, platform);
            let image = ours["image"].as_str().unwrap();
            let reference = rie::invoke_under_rie(image, platform, rie_arch, event, &[]);
            if expect_ok {
                assert_eq!(ours["passed"], true, "{stderr}");
                assert_eq!(ours["response"].as_str().unwrap(), reference, "{platform}");
            } else {
                let reference: serde_json::Value = serde_json::from_str(&reference).unwrap();
                assert_eq!(ours["failure"], "handler_error");
                assert_eq!(ours["error_type"], reference["errorType"], "{platform}");
                assert_eq!(
                    ours["error_message"], reference["errorMessage"],
                    "{platform}"
                );
            }
        }
    }
}

#[test]
fn each_way_of_failing_is_reported_for_what_it_is() {
    let wrong_arch = "FROM scratch\nARG TARGETARCH\nCOPY busybox/${TARGETARCH} /bin/busybox\n\
        RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
        COPY busybox/arm64 /var/runtime/arm64-busybox\nCOPY bootstrap /var/runtime/bootstrap\n\
        COPY function/ /var/task/\n\
        ENTRYPOINT [\"/var/runtime/arm64-busybox\", \"sh\", \"/var/runtime/bootstrap\"]\n";
    let cases: [(&str, Option<&str>, &[&str], &str); 5] = [
        (
            "handler() { echo done > /var/task/out.txt; }\n",
            None,
            &[],
            "write_outside_tmp",
        ),
        (
            "handler() { x=$(head -c 400000000 /dev/zero | tr '\\000' a); echo ${#x}; }\n",
            None,
            &["--memory", "128"],
            "out_of_memory",
        ),
        (
            "handler() { sleep 30; }\n",
            None,
            &["--timeout", "2"],
            "timeout",
        ),
        (
            "handler() { echo ok; }\n",
            Some(wrong_arch),
            &[],
            "exec_format",
        ),
        ("handler() { return 1; }\n", None, &[], "handler_error"),
    ];
    for (handler, dockerfile, args, kind) in cases {
        let ctx = variant(handler, dockerfile);
        let mut all = vec!["--platforms", "linux/amd64"];
        all.extend_from_slice(args);
        let (code, results, stderr) = local_once(ctx.path(), &all);
        assert_eq!(code, 1, "{kind}: {stderr}");
        let r = result(&results, "linux/amd64");
        assert_eq!(r["passed"], false, "{kind}");
        assert_eq!(r["failure"], kind, "{r}");
        assert!(r["reason"].as_str().is_some_and(|s| !s.is_empty()), "{r}");
    }
}

#[test]
fn a_function_that_answers_passes_whatever_it_logs() {
    // Words that once decided the verdict: only what the function did counts.
    let ctx = variant(
        "handler() { echo 'warning: cache dir /var/cache: Read-only file system, using /tmp \
         instead' >&2; echo 'note: no exec format error here' >&2; echo '{\"ok\":true}'; }\n",
        None,
    );
    let (code, results, stderr) = local_once(ctx.path(), &["--platforms", "linux/amd64"]);
    assert_eq!(code, 0, "{stderr}");
    let r = result(&results, "linux/amd64");
    assert_eq!(r["passed"], true, "{r}");
    assert_eq!(r["failure"], serde_json::Value::Null, "{r}");
    assert!(
        r["output"]
            .as_str()
            .unwrap()
            .contains("Read-only file system")
    );
}

#[test]
fn deploy_pushes_nothing_when_an_architecture_fails_locally() {
    let repo = unique("local-fail");
    let (fx86, farm) = (unique("fn-lf-x86"), unique("fn-lf-arm"));
    create_function(&fx86, "x86_64", false);
    create_function(&farm, "arm64", false);
    let ctx = variant("handler() { echo done > /var/task/out.txt; }\n", None);
    let out = deploy_in(ctx.path(), &repo, &random_sha(), &[&fx86, &farm])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("linux/amd64: the local smoke test failed: it wrote outside /tmp"),
        "{stderr}"
    );
    assert!(
        stderr.contains("linux/arm64: the local smoke test failed"),
        "{stderr}"
    );
    let tags = Command::new("curl")
        .args([
            "-s",
            "-u",
            REGISTRY_AUTH,
            &format!("http://{REGISTRY}/v2/{repo}/tags/list"),
        ])
        .output()
        .unwrap();
    let tags = String::from_utf8_lossy(&tags.stdout);
    assert!(
        !tags.contains("x86_64") && !tags.contains("arm64"),
        "nothing is pushed: {tags}"
    );
    for f in [&fx86, &farm] {
        let live = aws(&["lambda", "get-function", "--function-name", f]);
        assert_eq!(
            live["Code"]["ImageUri"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest"
        );
    }
    // --no-local-smoke leaves the image to the remote smoke test alone.
    let (report, _) =
        build_ok(deploy_in(ctx.path(), &repo, &random_sha(), &[&fx86]).arg("--no-local-smoke"));
    assert!(image(&report["build"], "x86_64")["local_smoke"].is_null());
}

#[test]
fn local_serves_a_function_url_request() {
    require_testbed();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("lambda-ship"))
        .args(["local", "--platforms", "linux/arm64", "--progress", "plain"])
        .arg("--context")
        .arg(fixture())
        .env_clear()
        .envs(testbed_env())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(u) = line
            .split_whitespace()
            .find(|w| w.starts_with("http://127.0.0.1:"))
        {
            url = Some(u.to_string());
            break;
        }
    }
    let url = url.expect("a URL on stdout");
    let out = Command::new("curl")
        .args([
            "-sS",
            "-i",
            "-X",
            "POST",
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"q":"hello"}"#,
        ])
        .arg(format!("{url}orders?x=1"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    // Stop it as a person would, with Ctrl-C: it removes its containers.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains(r#""arch":"aarch64""#), "{text}");
    assert!(status.success());
}

#[test]
fn the_local_run_runs_what_the_function_would_its_command_environment_and_tmp() {
    let repo = unique("image-config");
    let (fx86, farm) = (unique("fn-ic-x86"), unique("fn-ic-arm"));
    // Two handlers in one image; the function's ImageConfig picks one.
    let ctx = variant(
        "handler() { printf '{\"via\":\"handler\"}'; }\n\
         other() {\n  printf '{\"via\":\"other\",\"greeting\":\"%s\",\"tmp_mb\":%s,\"cwd\":\"%s\"}' \
         \"$GREETING\" \"$(df -m /tmp | tail -1 | awk '{print $2}')\" \"$(pwd)\"\n}\n",
        None,
    );
    let bootstrap = ctx.path().join("bootstrap");
    let text = std::fs::read_to_string(&bootstrap).unwrap().replace(
        "out=$(handler \"$event\")",
        "out=$(\"${_HANDLER:-handler}\" \"$event\")",
    );
    std::fs::write(&bootstrap, text).unwrap();
    for (f, arch) in [(&fx86, "x86_64"), (&farm, "arm64")] {
        aws(&[
            "lambda",
            "create-function",
            "--function-name",
            f,
            "--package-type",
            "Image",
            "--code",
            "ImageUri=123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest",
            "--role",
            FUNCTION_ROLE,
            "--architectures",
            arch,
            "--image-config",
            "Command=other,WorkingDirectory=/tmp",
            "--environment",
            "Variables={GREETING=hello-from-the-function}",
            "--ephemeral-storage",
            "Size=1024",
        ]);
    }
    let (report, log) = build_ok(&mut deploy_in(
        ctx.path(),
        &repo,
        &random_sha(),
        &[&fx86, &farm],
    ));
    for arch in ["x86_64", "arm64"] {
        let local = &image(&report["build"], arch)["local_smoke"];
        let answer: serde_json::Value =
            serde_json::from_str(local["response"].as_str().unwrap_or_default())
                .unwrap_or_else(|_| panic!("{arch}: {local}\n{log}"));
        assert_eq!(
            answer["via"], "other",
            "{arch}: the ImageConfig command ran"
        );
        assert_eq!(answer["greeting"], "hello-from-the-function", "{arch}");
        assert_eq!(
            answer["tmp_mb"], 1024,
            "{arch}: /tmp is the ephemeral storage"
        );
        assert_eq!(
            answer["cwd"], "/tmp",
            "{arch}: the ImageConfig working directory"
        );
    }
}
