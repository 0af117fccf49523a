//! The real AWS Lambda Runtime Interface Emulator, the reference a local run
//! is compared with: it runs an image's runtime as the container's entrypoint.

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The emulator's binary for `arch` (`x86_64` or `arm64`), from the test bed.
pub fn rie(arch: &str) -> PathBuf {
    let state = std::env::var("LAMBDA_SHIP_TESTBED_DIR")
        .unwrap_or_else(|_| "/var/lib/lambda-ship-testbed".into());
    let path = Path::new(&state).join(format!("rie/aws-lambda-rie-{arch}"));
    assert!(
        path.is_file(),
        "the Runtime Interface Emulator is missing: run sudo tests/testbed/up"
    );
    path
}

/// Invokes `image` once under the emulator, with these variables in its
/// container's environment, and returns the body.
pub fn invoke_under_rie(
    image: &str,
    platform: &str,
    rie_arch: &str,
    event: &str,
    env: &[(&str, &str)],
) -> String {
    let front = free_port(1);
    let api = front + 1;
    let mount = format!("{}:/aws-lambda-rie:ro", rie(rie_arch).display());
    let mut args: Vec<String> = [
        "run",
        "-d",
        "--network",
        "host",
        "--platform",
        platform,
        "-v",
        &mount,
        "--entrypoint",
        "/aws-lambda-rie",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (k, v) in env {
        args.push("-e".into());
        args.push(format!("{k}={v}"));
    }
    args.extend(
        [
            image,
            "--runtime-interface-emulator-address",
            &format!("127.0.0.1:{front}"),
            "--runtime-api-address",
            &format!("127.0.0.1:{api}"),
            "/var/runtime/bootstrap",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = docker(ENGINE_A, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let container = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let url = format!("http://127.0.0.1:{front}/2015-03-31/functions/function/invocations");
    let body = eventually(Duration::from_secs(30), "the emulator answered", || {
        let out = Command::new("curl")
            .args(["-sS", "-X", "POST", "-d", event, &url])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).to_string())
    });
    docker(ENGINE_A, &["rm", "-f", &container]);
    body
}
