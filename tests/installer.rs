//! The action's installer, run as the runner runs it, against a local HTTP
//! server standing in for GitHub's release downloads: the asset checked
//! against the SHA-256 pinned in the action's checkout, a tampered asset
//! refused, an unpinned version checked against the release's checksum with
//! a warning, and a missing release falling back to a build from source.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

const REPO: &str = "lambda-ship/lambda-ship";
const TARGET: &str = "x86_64-unknown-linux-musl";

struct Releases {
    root: tempfile::TempDir,
    url: String,
    log: PathBuf,
    server: Child,
}

impl Drop for Releases {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Releases {
    /// python3's http.server over a directory laid out as GitHub's releases.
    fn start() -> Releases {
        let root = tempfile::tempdir().unwrap();
        let log = root.path().join("requests.log");
        // Port 0: the server takes a free port by binding it, and says which.
        let mut server = Command::new("python3")
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
            .arg("--directory")
            .arg(root.path())
            .stderr(std::fs::File::create(&log).unwrap())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(server.stdout.take().unwrap()),
            &mut first,
        )
        .unwrap();
        let port: u16 = first
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in the server's first line: {first}"));
        let url = format!("http://127.0.0.1:{port}");
        Releases {
            root,
            url,
            log,
            server,
        }
    }

    /// Publishes `version`'s asset holding a `lambda-ship` that prints `says`,
    /// with the release's checksum file; returns the asset's SHA-256.
    fn publish(&self, version: &str, says: &str) -> String {
        let dir = self
            .root
            .path()
            .join(format!("{REPO}/releases/download/{version}"));
        std::fs::create_dir_all(&dir).unwrap();
        let work = tempfile::tempdir().unwrap();
        let bin = work.path().join("lambda-ship");
        std::fs::write(&bin, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
        Command::new("chmod").arg("755").arg(&bin).status().unwrap();
        let asset = format!("lambda-ship-{version}-{TARGET}.tar.gz");
        let status = Command::new("tar")
            .arg("-czf")
            .arg(dir.join(&asset))
            .arg("-C")
            .arg(work.path())
            .arg("lambda-ship")
            .status()
            .unwrap();
        assert!(status.success());
        let sum = sha256(&dir.join(&asset));
        std::fs::write(
            dir.join(format!("{asset}.sha256")),
            format!("{sum}  {asset}\n"),
        )
        .unwrap();
        sum
    }

    /// Replaces the asset's bytes, as an attacker with the release would:
    /// the release's own checksum file is rewritten to match.
    fn tamper(&self, version: &str) {
        let sum = self.publish(version, "lambda-ship, altered");
        assert!(!sum.is_empty());
    }

    fn requested(&self, path_end: &str) -> bool {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .any(|l| l.contains("GET ") && l.contains(path_end))
    }
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A checkout of the action, with these pinned sums.
fn action_checkout(pinned: &[(String, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let action = dir.path().join(".github/action");
    std::fs::create_dir_all(&action).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join(".github/action/install.sh"),
        action.join("install.sh"),
    )
    .unwrap();
    let mut text = std::fs::read_to_string(root.join(".github/action/checksums.txt")).unwrap();
    for (sum, asset) in pinned {
        text.push_str(&format!("{sum}  {asset}\n"));
    }
    std::fs::write(action.join("checksums.txt"), text).unwrap();
    dir
}

struct Run {
    output: Output,
    github_output: String,
    bin: PathBuf,
}

/// The installer as the action's step runs it, with `cargo` stubbed to
/// stand for a build from source.
fn install(releases: &Releases, action: &Path, version: &str) -> Run {
    let temp = tempfile::tempdir().unwrap().keep();
    let stubs = temp.join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let cargo = stubs.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\n# cargo install --locked --quiet --path P --root R\nroot=\"\"\n\
         while [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\n\
         mkdir -p \"$root/bin\"\nprintf '#!/bin/sh\\necho lambda-ship, built from source\\n' > \"$root/bin/lambda-ship\"\n\
         chmod 755 \"$root/bin/lambda-ship\"\n",
    )
    .unwrap();
    Command::new("chmod")
        .arg("755")
        .arg(&cargo)
        .status()
        .unwrap();
    let github_output = temp.join("github_output");
    let output = Command::new("bash")
        .arg(action.join(".github/action/install.sh"))
        .env_clear()
        .env(
            "PATH",
            format!("{}:{}", stubs.display(), std::env::var("PATH").unwrap()),
        )
        .env("RUNNER_TEMP", &temp)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("GITHUB_SERVER_URL", &releases.url)
        .env("GITHUB_OUTPUT", &github_output)
        .env("ACTION_PATH", action)
        .env("ACTION_REPOSITORY", REPO)
        .env("ACTION_REF", version)
        .output()
        .unwrap();
    Run {
        output,
        github_output: std::fs::read_to_string(&github_output).unwrap_or_default(),
        bin: temp.join("lambda-ship/bin/lambda-ship"),
    }
}

fn says(bin: &Path) -> String {
    let out = Command::new(bin).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn log(run: &Run) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&run.output.stdout),
        String::from_utf8_lossy(&run.output.stderr)
    )
}

#[test]
fn the_release_asset_is_checked_against_the_sum_pinned_in_the_action() {
    let releases = Releases::start();
    let sum = releases.publish("v9.9.9", "lambda-ship 9.9.9");
    let asset = format!("lambda-ship-v9.9.9-{TARGET}.tar.gz");
    let action = action_checkout(&[(sum, asset.clone())]);

    let run = install(&releases, action.path(), "v9.9.9");
    assert!(run.output.status.success(), "{}", log(&run));
    assert!(log(&run).contains("release v9.9.9"), "{}", log(&run));
    assert_eq!(says(&run.bin), "lambda-ship 9.9.9");
    assert!(
        run.github_output
            .contains(&format!("bin={}", run.bin.display()))
    );
    assert!(
        !releases.requested(&format!("{asset}.sha256")),
        "a pinned sum needs nothing from the release but the asset"
    );

    // The release's asset replaced, its checksum file too: refused.
    releases.tamper("v9.9.9");
    let run = install(&releases, action.path(), "v9.9.9");
    assert_eq!(run.output.status.code(), Some(1), "{}", log(&run));
    assert!(
        log(&run).contains("does not match its SHA-256"),
        "{}",
        log(&run)
    );
    assert!(!run.bin.exists(), "nothing is installed");
    assert!(run.github_output.is_empty(), "no binary is handed on");
}

#[test]
fn an_unpinned_version_uses_the_releases_sum_with_a_warning_and_a_missing_release_builds() {
    let releases = Releases::start();
    releases.publish("v9.9.7", "lambda-ship 9.9.7");
    let action = action_checkout(&[]);

    let run = install(&releases, action.path(), "v9.9.7");
    assert!(run.output.status.success(), "{}", log(&run));
    assert!(
        log(&run).contains("::warning title=lambda-ship::no SHA-256"),
        "{}",
        log(&run)
    );
    assert_eq!(says(&run.bin), "lambda-ship 9.9.7");

    // No such release: built from the action's checkout.
    let run = install(&releases, action.path(), "v9.9.6");
    assert!(run.output.status.success(), "{}", log(&run));
    assert!(log(&run).contains("building from source"), "{}", log(&run));
    assert_eq!(says(&run.bin), "lambda-ship, built from source");
}
