//! What a change costs, in the comment, the summary, the step outputs and
//! annotations: size, cold start, duration and memory against production's
//! numbers (kept on the function as a tag), scan findings by severity, and a
//! warning past a threshold. Moto's invocations carry no log tail and its
//! ECR has no scans of images pushed to the registry: the test proxy adds
//! both, in Lambda's and ECR's documented shapes.

mod common;

use base64::Engine as _;
use common::proxy::{Proxy, Rule};
use common::*;

fn log_result(init_ms: f64, memory_mb: u64) -> String {
    let log = format!(
        "START RequestId: 7 Version: $LATEST\nEND RequestId: 7\nREPORT RequestId: 7\t\
         Duration: 12.00 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\t\
         Max Memory Used: {memory_mb} MB\tInit Duration: {init_ms:.2} ms\t\n"
    );
    base64::engine::general_purpose::STANDARD.encode(log)
}

fn scan_answer(status: &str) -> String {
    serde_json::json!({
        "registryId": "123456789012",
        "repositoryName": "any",
        "imageId": {"imageDigest": "sha256:00"},
        "imageScanStatus": {"status": status, "description": "as ECR says"},
        "imageScanFindings": {
            "findingSeverityCounts": {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 3},
            "findings": [
                {"name": "CVE-2026-0001", "severity": "CRITICAL", "uri": "https://example.invalid/1",
                 "attributes": [{"key": "package_version", "value": "3.0.1"}, {"key": "package_name", "value": "openssl"}]},
                {"name": "CVE-2026-0002", "severity": "HIGH", "uri": "https://example.invalid/2",
                 "attributes": [{"key": "package_name", "value": "zlib"}]},
                {"name": "CVE-2026-0003", "severity": "HIGH", "uri": "https://example.invalid/3",
                 "attributes": [{"key": "package_name", "value": "zlib"}]},
                {"name": "CVE-2026-0004", "severity": "MEDIUM", "uri": "https://example.invalid/4",
                 "attributes": [{"key": "package_name", "value": "curl"}]}
            ]
        }
    })
    .to_string()
}

/// A proxy before moto that gives the invocation a log tail and the scan an answer.
fn aws_with(function: &str, init_ms: f64, memory_mb: u64, scan_status: &str) -> Proxy {
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    proxy.on(
        Rule::new("POST", &format!("/functions/{function}/invocations"))
            .answer_header("X-Amz-Log-Result", &log_result(init_ms, memory_mb)),
    );
    proxy.on(Rule::new("POST", "/")
        .header_contains("x-amz-target", "DescribeImageScanFindings")
        .respond(
            200,
            &[("Content-Type", "application/x-amz-json-1.1")],
            &scan_answer(scan_status),
        ));
    proxy
}

#[test]
fn the_comment_shows_the_numbers_against_production_the_findings_and_a_warning() {
    let repo = unique("costs");
    let f = unique("fn-costs");
    create_function(&f, "x86_64", false);

    // Production's deploy: its numbers are kept on the function.
    let aws = aws_with(&f, 200.0, 40, "COMPLETE");
    build_ok(deploy_fixture(&repo, &random_sha(), &[&f]).env("AWS_ENDPOINT_URL", &aws.url));
    let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{f}");
    let tags = common::aws(&["lambda", "list-tags", "--resource", &arn]);
    let kept = tags["Tags"]["lambda-ship:numbers"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        kept.contains("init=200.00") && kept.contains("mem=40"),
        "{tags}"
    );

    // A pull request that grows the image and the cold start.
    let ctx = fixture_copy();
    let mut noise = vec![0u8; 400_000];
    let mut random = std::fs::File::open("/dev/urandom").unwrap();
    std::io::Read::read_exact(&mut random, &mut noise).unwrap();
    std::fs::write(ctx.path().join("function/blob.bin"), noise).unwrap();
    let forge = common::forge::Forge::start();
    let dir = tempfile::tempdir().unwrap();
    let head = random_sha();
    let event = pull_request_event(dir.path(), 41, &head);
    let aws = aws_with(&f, 900.0, 60, "COMPLETE");
    let pull_request = |cmd: &mut assert_cmd::Command| {
        cmd.env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REPOSITORY", "acme/widgets")
            .env("GITHUB_API_URL", &forge.url)
            .env("GITHUB_TOKEN", "ghs_test")
            .env("GITHUB_OUTPUT", dir.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"));
    };
    let mut cmd = deploy_in(ctx.path(), &repo, &head, &[&f]);
    cmd.args(["--warn-cold-start-ms", "300", "--warn-size-mb", "0.2"])
        .env("AWS_ENDPOINT_URL", &aws.url);
    pull_request(&mut cmd);
    let (report, log) = build_ok(&mut cmd);
    let comment = forge.comments("acme/widgets#41").join("\n");
    for text in [
        "#### What it costs",
        "900 ms (+700 ms)",
        "60 MB (+20 MB)",
        "1 critical, 2 high, 3 medium",
        "- CRITICAL `CVE-2026-0001` in `openssl` (x86_64)",
        "- HIGH `CVE-2026-0002` in `zlib` (x86_64)",
        "> [!WARNING]",
        "the cold start grew by 700 ms",
        "the image grew by",
        "Changes are against production's numbers",
    ] {
        assert!(comment.contains(text), "{text}:\n{comment}");
    }
    assert!(
        !comment.contains("CVE-2026-0004"),
        "medium findings are counted, not listed"
    );
    assert!(
        log.contains("::warning") && log.contains("the cold start grew"),
        "{log}"
    );
    let outputs = std::fs::read_to_string(dir.path().join("output")).unwrap();
    assert!(
        outputs.contains("costs<<") && outputs.contains("\"init_ms\":900.0"),
        "{outputs}"
    );
    let summary = std::fs::read_to_string(dir.path().join("summary")).unwrap();
    assert!(summary.contains("What it costs"));
    let numbers = &report["functions"][0]["numbers"];
    assert_eq!(numbers["max_memory_mb"], 60);
    assert_eq!(report["functions"][0]["baseline"]["init_ms"], 200.0);

    // The scan does not finish within --scan-wait: "scan pending", no failure.
    let aws = aws_with(&f, 250.0, 41, "IN_PROGRESS");
    let mut cmd = deploy_in(ctx.path(), &repo, &random_sha(), &[&f]);
    cmd.args(["--scan-wait", "1"])
        .env("AWS_ENDPOINT_URL", &aws.url);
    pull_request(&mut cmd);
    build_ok(&mut cmd);
    let comment = forge.comments("acme/widgets#41").join("\n");
    assert!(comment.contains("scan pending"), "{comment}");
    assert!(
        !comment.contains("[!WARNING]"),
        "no threshold, no warning:\n{comment}"
    );
}
