//! The test bed the integration tests run against (tests/testbed/up starts it),
//! and helpers to drive the real binary and look at what it left behind.
#![allow(dead_code)]

pub mod forge;
pub mod process;
pub mod proxy;
pub mod relay;
pub mod releases;
pub mod reports;
pub mod revisions;
pub mod rie;
pub mod rule;
pub mod runs;

use assert_cmd::Command;
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const ENGINE_A: &str = "/var/run/docker.sock";
pub const ENGINE_B: &str = "/var/run/lambda-ship-farm/docker.sock";
/// Engine B also listens here, with mutual TLS.
pub const ENGINE_B_TCP: &str = "127.0.0.1:2376";
pub const REGISTRY: &str = "127.0.0.1:5000";
pub const MOTO: &str = "127.0.0.1:5050";
/// Moto's ECR token is always base64("AWS:123456789012-auth-token").
pub const REGISTRY_AUTH: &str = "AWS:123456789012-auth-token";

/// Fails loudly, never skips, when a part of the test bed is missing.
pub fn require_testbed() {
    let mut missing = Vec::new();
    for sock in [ENGINE_A, ENGINE_B] {
        if UnixStream::connect(sock).is_err() {
            missing.push(format!("a Docker engine on {sock}"));
        }
    }
    for (what, addr) in [
        ("the registry", REGISTRY),
        ("moto", MOTO),
        ("engine B's TLS endpoint", ENGINE_B_TCP),
    ] {
        let reachable = addr
            .parse()
            .ok()
            .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok())
            .is_some();
        if !reachable {
            missing.push(format!("{what} on {addr}"));
        }
    }
    for arch in ["amd64", "arm64"] {
        if !fixture().join("busybox").join(arch).is_file() {
            missing.push(format!("the fixture's busybox for {arch}"));
        }
    }
    assert!(
        missing.is_empty(),
        "the test bed is not running (missing: {}). Start it with: sudo tests/testbed/up",
        missing.join(", ")
    );
}

/// The client certificate files for engine B's TLS endpoint (DOCKER_CERT_PATH).
pub fn engine_b_tls() -> PathBuf {
    let state = std::env::var("LAMBDA_SHIP_TESTBED_DIR")
        .unwrap_or_else(|_| "/var/lib/lambda-ship-testbed".to_string());
    Path::new(&state).join("engine-b/tls")
}

pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/function")
}

/// The environment every run gets: the test bed's engines, moto and registry.
pub fn testbed_env() -> Vec<(&'static str, String)> {
    vec![
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("HOME", std::env::var("HOME").unwrap_or_default()),
        ("DOCKER_HOST", format!("unix://{ENGINE_A}")),
        ("AWS_ENDPOINT_URL", format!("http://{MOTO}")),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("LAMBDA_SHIP_REGISTRY", REGISTRY.into()),
        ("LAMBDA_SHIP_PROGRESS", "plain".into()),
    ]
}

/// The binary, with a clean environment pointed at the test bed.
pub fn lambda_ship() -> Command {
    require_testbed();
    let mut cmd = Command::cargo_bin("lambda-ship").expect("the lambda-ship binary");
    cmd.env_clear()
        .envs(testbed_env())
        .timeout(Duration::from_secs(600));
    cmd
}

/// `lambda-ship build` of `context` into `repo` at `sha`.
pub fn build_in(context: &Path, repo: &str, sha: &str) -> Command {
    let mut cmd = lambda_ship();
    cmd.args(["build", "--repository", repo, "--sha", sha])
        .arg("--context")
        .arg(context);
    cmd
}

/// `lambda-ship build` of the fixture into `repo` at `sha`.
pub fn build_fixture(repo: &str, sha: &str) -> Command {
    build_in(&fixture(), repo, sha)
}

/// A GitHub `pull_request` event payload in `dir`, as GITHUB_EVENT_PATH names it.
pub fn pull_request_event(dir: &Path, number: u64, head: &str) -> PathBuf {
    let event = dir.join("event.json");
    let payload = serde_json::json!({"pull_request": {"number": number, "head": {"sha": head}}});
    std::fs::write(&event, payload.to_string()).unwrap();
    event
}

/// A name no other test or run uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}

/// A fresh 40-hex commit SHA.
pub fn random_sha() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{a}{}", &b[..8])
}

/// GET from the registry's API, as a client other than lambda-ship sees it.
pub fn registry_get(path: &str, accept: &str) -> Vec<u8> {
    let out = std::process::Command::new("curl")
        .args(["-fsSL", "-u", REGISTRY_AUTH, "-H"])
        .arg(format!("Accept: {accept}"))
        .arg(format!("http://{REGISTRY}/v2/{path}"))
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "GET {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.index.v1+json";

pub fn manifest(repo: &str, reference: &str) -> serde_json::Value {
    let raw = registry_get(&format!("{repo}/manifests/{reference}"), MANIFEST_TYPES);
    serde_json::from_slice(&raw).expect("a JSON manifest")
}

pub fn blob(repo: &str, digest: &str) -> Vec<u8> {
    registry_get(&format!("{repo}/blobs/{digest}"), "*/*")
}

/// Each layer of an image, as the registry holds it: its digest and the
/// paths in it.
pub fn layers(repo: &str, tag: &str) -> Vec<(String, Vec<String>)> {
    let m = manifest(repo, tag);
    let mut layers = Vec::new();
    for layer in m["layers"].as_array().expect("layers") {
        let digest = layer["digest"].as_str().expect("digest");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("layer.tgz");
        std::fs::write(&file, blob(repo, digest)).unwrap();
        let out = std::process::Command::new("tar")
            .arg("tzf")
            .arg(&file)
            .output()
            .expect("tar runs");
        assert!(out.status.success());
        let paths = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        layers.push((digest.to_string(), paths));
    }
    layers
}

/// The paths in every layer of an image, as the registry holds it.
pub fn layer_paths(repo: &str, tag: &str) -> Vec<String> {
    layers(repo, tag).into_iter().flat_map(|(_, p)| p).collect()
}

/// The digest of the layer of `repo:tag` that holds `path`.
pub fn layer_holding(repo: &str, tag: &str, path: &str) -> String {
    layers(repo, tag)
        .into_iter()
        .find(|(_, paths)| paths.iter().any(|p| p.contains(path)))
        .map(|(digest, _)| digest)
        .unwrap_or_else(|| panic!("no layer of {repo}:{tag} holds {path}"))
}

/// The digest the registry gives a tag.
pub fn manifest_digest(repo: &str, tag: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-fsSI", "-u", REGISTRY_AUTH, "-H"])
        .arg(format!("Accept: {MANIFEST_TYPES}"))
        .arg(format!("http://{REGISTRY}/v2/{repo}/manifests/{tag}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("docker-content-digest:")
                .map(|d| d.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no digest for {repo}:{tag}"))
}

/// The tags a repository of the registry holds: none when the registry
/// does not know the repository; any other answer than a list or that fails
/// the test, so that "no tags" is never a registry error misread.
pub fn registry_tags(repo: &str) -> Vec<String> {
    let out = std::process::Command::new("curl")
        .args(["-sS", "-u", REGISTRY_AUTH, "-w", "\n%{http_code}"])
        .arg(format!("http://{REGISTRY}/v2/{repo}/tags/list"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", ""));
    let list: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    match status {
        "200" => list["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        "404" if list["errors"][0]["code"] == "NAME_UNKNOWN" => Vec::new(),
        _ => panic!(
            "the registry's tags of {repo}: HTTP {status} {body} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Asks `check` every 100 ms until it gives a value, and fails the test,
/// saying `what` was awaited, when `within` passes first.
pub fn eventually<T>(within: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The docker CLI against one engine.
pub fn docker(socket: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{socket}"))
        .args(args)
        .output()
        .expect("the docker CLI runs")
}

/// The AWS CLI against moto.
pub fn aws_output(args: &[&str]) -> std::process::Output {
    aws_output_at(&format!("http://{MOTO}"), args)
}

/// The AWS CLI against `endpoint` (moto, or a proxy in front of it).
pub fn aws_output_at(endpoint: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new("aws")
        .args(["--endpoint-url", endpoint, "--output", "json"])
        .args(args)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .expect("the AWS CLI runs (tests/testbed/up installs it)")
}

/// The AWS CLI against moto, which must succeed; its JSON answer.
pub fn aws(args: &[&str]) -> serde_json::Value {
    let out = aws_output(args);
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from the AWS CLI")
}

/// Runs a build to success and returns its JSON report.
pub fn build_ok(cmd: &mut Command) -> (serde_json::Value, String) {
    let out = cmd.args(["--output", "json"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "lambda-ship build failed ({:?}):\n{stderr}",
        out.status.code()
    );
    let report = serde_json::from_slice(&out.stdout).expect("a JSON report on stdout");
    (report, stderr)
}

/// The image of one architecture in a report.
pub fn image<'a>(report: &'a serde_json::Value, arch: &str) -> &'a serde_json::Value {
    report["images"]
        .as_array()
        .expect("images")
        .iter()
        .find(|i| i["architecture"] == arch)
        .unwrap_or_else(|| panic!("no {arch} image in {report}"))
}

/// Runs a command that must fail with `code` and returns its stderr.
pub fn fails_with(cmd: &mut Command, code: i32) -> String {
    let out = cmd.output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(code), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "a panic:\n{stderr}");
    stderr
}

/// A port of 127.0.0.1 that was free a moment ago, and `also` more after it,
/// for a process that binds them itself (the Runtime Interface Emulator, a
/// `lambda-ship local --port` under test): a port handed to another process
/// can only be found free, not held. A server of the test's own binds port 0
/// and keeps its listener instead (`server_on_loopback`).
pub fn free_port(also: u16) -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = first.local_addr().expect("its address").port();
        let rest = (1..=also)
            .map(|n| std::net::TcpListener::bind(("127.0.0.1", port.checked_add(n)?)).ok())
            .collect::<Option<Vec<_>>>();
        if rest.is_some() {
            return port;
        }
    }
}

/// A test server's own runtime and a listener on a free port of 127.0.0.1,
/// ready to be moved into that runtime.
pub fn server_on_loopback(
    threads: usize,
) -> (
    tokio::runtime::Runtime,
    std::net::TcpListener,
    std::net::SocketAddr,
) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("a runtime for a test server");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    (runtime, listener, addr)
}

pub const FUNCTION_ROLE: &str = "arn:aws:iam::123456789012:role/lambda-ship-test-function";

/// A container-image function in moto, of one architecture, with a function URL if asked.
pub fn create_function(name: &str, arch: &str, url: bool) {
    aws(&[
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--package-type",
        "Image",
        "--code",
        "ImageUri=123456789012.dkr.ecr.us-east-1.amazonaws.com/previous:latest",
        "--role",
        FUNCTION_ROLE,
        "--architectures",
        arch,
    ]);
    if url {
        aws(&[
            "lambda",
            "create-function-url-config",
            "--function-name",
            name,
            "--auth-type",
            "NONE",
        ]);
    }
}

/// `lambda-ship deploy` of `context` into `repo` at `sha`, for these functions.
pub fn deploy_in(context: &Path, repo: &str, sha: &str, functions: &[&str]) -> Command {
    let mut cmd = lambda_ship();
    cmd.args(["deploy", "--repository", repo, "--sha", sha])
        .arg("--context")
        .arg(context);
    for f in functions {
        cmd.args(["--function", f]);
    }
    cmd
}

/// `lambda-ship deploy` of the fixture into `repo` at `sha`, for these functions.
pub fn deploy_fixture(repo: &str, sha: &str, functions: &[&str]) -> Command {
    deploy_in(&fixture(), repo, sha, functions)
}

/// A copy of the fixture (its Dockerfile, runtime, busybox and handler, not
/// its ignored files) that a test may change.
pub fn fixture_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture();
    for f in [
        "Dockerfile",
        ".dockerignore",
        "bootstrap",
        "function/handler.sh",
    ]
    .into_iter()
    .chain(["busybox/amd64", "busybox/arm64"])
    {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(src.join(f), to).unwrap();
    }
    dir
}

/// The GitHub Actions environment of a pull request's run: its event
/// (`number`, `head`, and the `before` it was pushed on, when known) in
/// `dir`, the repository `acme/widgets`, and the forge double at `forge`.
pub fn in_pull_request(
    cmd: &mut Command,
    dir: &Path,
    (number, head, before): (u64, &str, Option<&str>),
    forge: &str,
) {
    let event = dir.join(format!("event-{number}-{}.json", &head[..7]));
    let mut payload =
        serde_json::json!({"pull_request": {"number": number, "head": {"sha": head}}});
    if let Some(before) = before {
        payload["action"] = "synchronize".into();
        payload["before"] = before.into();
    }
    std::fs::write(&event, payload.to_string()).unwrap();
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_API_URL", forge)
        .env("GITHUB_TOKEN", "ghs_test");
}
