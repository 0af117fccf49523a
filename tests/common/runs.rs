//! Deploys of lambda-ship running at once, each in the background through a
//! proxy in front of moto that keeps Lambda's preconditions
//! (`revisions.rs`), and what they left: each run's report, and what each
//! version published says and runs.

use super::proxy::Proxy;
use super::*;
use std::path::Path;
use std::process::{Child, Stdio};

/// A proxy in front of moto that keeps Lambda's preconditions.
pub fn lambda_proxy() -> Proxy {
    let proxy = Proxy::start(Some(&format!("http://{MOTO}")));
    proxy.keep_lambda_revisions();
    proxy
}

/// A copy of the fixture whose function says `text`: an image of its own.
pub fn context_saying(text: &str) -> tempfile::TempDir {
    let ctx = fixture_copy();
    std::fs::write(
        ctx.path().join("function/handler.sh"),
        format!("handler() {{ printf '{{\"says\":\"{text}\"}}'; }}\n"),
    )
    .unwrap();
    ctx
}

/// One run: a deploy of `context` at `sha` to `functions` behind `live`,
/// through the proxy, in the background.
pub struct Run {
    pub sha: String,
    report: tempfile::TempDir,
    child: Child,
    _context: tempfile::TempDir,
}

impl Run {
    pub fn start(proxy: &Proxy, functions: &[&str], args: &[&str]) -> Run {
        require_testbed();
        let sha = random_sha();
        let context = context_saying(&sha[..8]);
        let report = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("lambda-ship"));
        cmd.env_clear()
            .envs(testbed_env())
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .args(["deploy", "--repository", "concurrency", "--sha", &sha])
            .arg("--context")
            .arg(context.path())
            .args(["--platforms", "linux/amd64", "--alias", "live"])
            .arg("--report-json")
            .arg(report.path().join("report.json"));
        for f in functions {
            cmd.args(["--function", f]);
        }
        let child = cmd
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lambda-ship starts");
        Run {
            sha,
            report,
            child,
            _context: context,
        }
    }

    /// Its exit code, stderr and report.
    pub fn finish(self) -> Finished {
        let out = self.child.wait_with_output().expect("lambda-ship ends");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!stderr.contains("panicked"), "{stderr}");
        let report = read_report(&self.report.path().join("report.json"));
        Finished {
            sha: self.sha,
            code: out.status.code().unwrap_or(-1),
            stderr,
            report,
        }
    }
}

pub struct Finished {
    pub sha: String,
    pub code: i32,
    pub stderr: String,
    pub report: serde_json::Value,
}

impl Finished {
    pub fn digest(&self) -> String {
        image(&self.report["build"], "x86_64")["digest"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The image it deployed to `name`, by digest.
    pub fn image_of(&self, name: &str) -> String {
        self.function(name)["image_after"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn function(&self, name: &str) -> &serde_json::Value {
        self.report["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {}", self.report))
    }
}

pub fn read_report(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("the report is written")).unwrap()
}

/// The alias `live` of `function`, as moto has it now.
pub fn live_now(function: &str) -> serde_json::Value {
    aws(&[
        "lambda",
        "get-alias",
        "--function-name",
        function,
        "--name",
        "live",
    ])
}

/// The version the alias `live` of `function` serves.
pub fn alias_version(function: &str) -> String {
    live_now(function)["FunctionVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

fn version_configuration(function: &str, version: &str) -> serde_json::Value {
    aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        function,
        "--qualifier",
        version,
    ])
}

/// The commit and digest lambda-ship wrote on a version it published.
pub fn version_note(function: &str, version: &str) -> (String, String) {
    let configuration = version_configuration(function, version);
    let described = configuration["Description"].as_str().unwrap_or_default();
    let mut words = described
        .strip_prefix("lambda-ship ")
        .unwrap_or_else(|| panic!("version {version} is not a lambda-ship release: {described}"))
        .split(' ');
    let commit = words.next().unwrap().to_string();
    (commit, words.next().unwrap_or_default().to_string())
}

/// Whether `version` runs `image`: moto's `CodeSha256` of an image function
/// is the SHA-256 of its image URI, kept per version as Lambda keeps it.
pub fn version_runs(function: &str, version: &str, image: &str) -> bool {
    use sha2::Digest;
    let code = version_configuration(function, version)["CodeSha256"].clone();
    code == format!("{:x}", sha2::Sha256::digest(image.as_bytes())).as_str()
}

pub fn published_versions(function: &str) -> usize {
    aws(&[
        "lambda",
        "list-versions-by-function",
        "--function-name",
        function,
    ])["Versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["Version"] != "$LATEST")
        .count()
}
