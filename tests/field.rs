//! What real projects and real CI runners hand lambda-ship, beyond the test
//! bed's tidy fixture: odd build contexts, Dockerfile mistakes, uncommitted
//! changes, broken CI payloads, functions elsewhere, AWS out of reach, and
//! output paths that cannot be written. Each mistake is found before
//! anything is created, and said in words a person can act on.

mod common;

use common::*;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command as Process;

/// Whether the ECR repository exists in moto.
fn repository_exists(repo: &str) -> bool {
    aws_output(&["ecr", "describe-repositories", "--repository-names", repo])
        .status
        .success()
}

/// The stderr of a run from its `error:` line on.
fn error_of(stderr: &str) -> &str {
    &stderr[stderr
        .find("error:")
        .unwrap_or_else(|| panic!("an error line:\n{stderr}"))..]
}

/// A context of one Dockerfile and the files given.
fn context(dockerfile: &str, files: &[(&[u8], &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    for (name, data) in files {
        std::fs::write(dir.path().join(std::ffi::OsStr::from_bytes(name)), data).unwrap();
    }
    dir
}

/// `build` of `context` as a user without root's power to read everything:
/// the run drops the capabilities that let root, as a CI runner's user has
/// none of them.
fn build_unprivileged(context: &Path, repo: &str, args: &[&str]) -> std::process::Output {
    require_testbed();
    Process::new("setpriv")
        .args(["--bounding-set", "-dac_override,-dac_read_search", "--"])
        .arg(assert_cmd::cargo::cargo_bin("lambda-ship"))
        .args(["build", "--repository", repo, "--sha", &random_sha()])
        .args(args)
        .arg("--context")
        .arg(context)
        .env_clear()
        .envs(testbed_env())
        .output()
        .unwrap()
}

#[test]
fn file_names_that_are_not_utf8_reach_the_image_byte_for_byte() {
    let ctx = context(
        "FROM scratch\nCOPY . /ctx/\n",
        &[(b"caf\xe9.txt", b"e acute"), (b"caf\xe8.txt", b"e grave")],
    );
    let repo = unique("latin1");
    let sha = random_sha();
    build_ok(build_in(ctx.path(), &repo, &sha).args(["--platforms", "linux/amd64"]));
    // GNU tar lists a name that is not UTF-8 with octal escapes.
    let paths = layer_paths(&repo, &format!("{sha}-x86_64"));
    for name in ["ctx/caf\\351.txt", "ctx/caf\\350.txt"] {
        assert!(paths.iter().any(|p| p == name), "{name} in {paths:?}");
    }
    assert!(!paths.iter().any(|p| p.contains('\u{fffd}')), "{paths:?}");
}

#[test]
fn a_sparse_file_is_sent_as_docker_sends_it() {
    let ctx = context("FROM scratch\nCOPY big.bin /big.bin\n", &[]);
    let big = ctx.path().join("big.bin");
    let status = Process::new("truncate")
        .args(["-s", "64M"])
        .arg(&big)
        .status()
        .unwrap();
    assert!(status.success());
    let repo = unique("sparse");
    let sha = random_sha();
    let (report, _) =
        build_ok(build_in(ctx.path(), &repo, &sha).args(["--platforms", "linux/amd64"]));
    assert_eq!(image(&report, "x86_64")["size"], 64 * 1024 * 1024);
}

#[test]
fn an_unreadable_file_is_named_before_anything_is_created() {
    let ctx = context("FROM scratch\nCOPY . /\n", &[(b"secret.key", b"x")]);
    let locked = ctx.path().join("locked");
    std::fs::create_dir(&locked).unwrap();
    let key = ctx.path().join("secret.key");
    for p in [&key, &locked] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    }
    let repo = unique("unreadable");
    let out = build_unprivileged(ctx.path(), &repo, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let error = error_of(&stderr);
    assert!(
        error.contains("cannot read") && error.contains("Permission denied"),
        "{error}"
    );
    assert!(
        error.contains(&*locked.to_string_lossy()) || error.contains(&*key.to_string_lossy()),
        "names the path: {error}"
    );
    assert!(!error.contains("hyper"), "{error}");
    assert!(!repository_exists(&repo), "nothing is created");
}

#[test]
fn an_unreadable_folder_that_dockerignore_leaves_out_does_not_matter() {
    // An allow-list .dockerignore (with exceptions) and a folder this user
    // cannot read, left out: the Docker CLI builds it, and so does lambda-ship.
    let ctx = context(
        "FROM scratch\nCOPY app.sh /\n",
        &[
            (b".dockerignore", b"*\n!app.sh\n!Dockerfile\n"),
            (b"app.sh", b"x"),
        ],
    );
    let locked = ctx.path().join("pgdata");
    std::fs::create_dir(&locked).unwrap();
    std::fs::write(locked.join("base"), "x").unwrap();
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let out = build_unprivileged(
        ctx.path(),
        &unique("ignored"),
        &["--platforms", "linux/amd64"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_repository_name_docker_cannot_push_is_refused_before_anything_is_created() {
    let ctx = context("FROM scratch\nCOPY Dockerfile /\n", &[]);
    // ECR takes names of up to 256 characters: two components of 127.
    let repo = format!("{}/{}", "a".repeat(127), "b".repeat(128));
    assert_eq!(repo.len(), 256);
    let stderr = fails_with(&mut build_in(ctx.path(), &repo, &random_sha()), 2);
    let error = error_of(&stderr);
    assert!(
        error.contains("255") && error.contains("repository name of at most"),
        "{error}"
    );
    assert!(!repository_exists(&repo));
}

#[test]
fn dockerfile_mistakes_are_found_before_the_repository_is_created_and_said_once() {
    let cases = [
        ("FROM scratch\nCOPY --frobnicate Dockerfile /\n", vec![]),
        (
            "FROM scratch AS one\nCOPY Dockerfile /\n",
            vec!["--target", "nope"],
        ),
    ];
    for (dockerfile, extra) in cases {
        let ctx = context(dockerfile, &[]);
        let repo = unique("mistake");
        // Both engines: BuildKit's words differ between API 1.41 and 1.45.
        for builder in [
            format!("linux/amd64=unix://{ENGINE_A}"),
            format!("linux/arm64=unix://{ENGINE_B}"),
        ] {
            let mut cmd = build_in(ctx.path(), &repo, &random_sha());
            cmd.arg(format!("--builder={builder}")).args(&extra);
            let stderr = fails_with(&mut cmd, 2);
            let error = error_of(&stderr);
            assert!(
                error.contains("the Dockerfile cannot be built as asked"),
                "{error}"
            );
            assert!(
                !error.contains("Nothing was deployed"),
                "not a deploy: {error}"
            );
            // The words of the failure appear once: in the error, not also
            // in the progress lines above it.
            let words = if extra.is_empty() {
                "frobnicate"
            } else {
                "nope"
            };
            assert_eq!(stderr.matches(words).count(), 2, "{stderr}");
            assert!(!repository_exists(&repo), "{repo} was created");
        }
    }
}

#[test]
fn deploy_says_nothing_was_deployed_and_the_report_does_not_repeat_the_error() {
    let ctx = context("FROM scratch\nCOPY --frobnicate Dockerfile /\n", &[]);
    let f = unique("fn-mistake");
    create_function(&f, "x86_64", false);
    let out = deploy_in(ctx.path(), &unique("mistake"), &random_sha(), &[&f])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        error_of(&stderr).contains("Nothing was deployed"),
        "{stderr}"
    );
    assert!(
        stdout.contains("failed at the configuration stage"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("frobnicate"),
        "said once, on stderr: {stdout}"
    );
}

/// A git checkout of a copy of the fixture, committed; its head.
fn committed_fixture() -> (tempfile::TempDir, String) {
    let dir = fixture_copy();
    let git = |args: &[&str]| {
        let out = Process::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "fixture"]);
    let head = git(&["rev-parse", "HEAD"]);
    (dir, head)
}

/// `build` with the commit taken from git: no --sha.
fn build_from_git(dir: &Path, repo: &str) -> assert_cmd::Command {
    let mut cmd = lambda_ship();
    cmd.args(["build", "--repository", repo, "--platforms", "linux/amd64"])
        .arg("--context")
        .arg(dir);
    cmd
}

#[test]
fn uncommitted_changes_are_never_shipped_as_the_commit() {
    let (dir, head) = committed_fixture();
    let repo = unique("dirty");
    let (clean, _) = build_ok(&mut build_from_git(dir.path(), &repo));
    assert_eq!(image(&clean, "x86_64")["tag"], format!("{head}-x86_64"));

    // A change outside the build context's reach does not matter.
    std::fs::write(dir.path().join("function/node_modules.txt"), "x").unwrap();
    std::fs::create_dir_all(dir.path().join("function/node_modules")).unwrap();
    std::fs::write(dir.path().join("function/node_modules/a.js"), "x").unwrap();
    std::fs::write(
        dir.path().join("function/handler.sh"),
        "handler() { echo changed; }\n",
    )
    .unwrap();
    let stderr = fails_with(&mut build_from_git(dir.path(), &repo), 2);
    let error = error_of(&stderr);
    assert!(error.contains("function/handler.sh"), "{error}");
    assert!(error.contains("--allow-dirty"), "{error}");
    assert!(
        !error.contains("node_modules/a.js"),
        "ignored by .dockerignore: {error}"
    );

    let (dirty, _) = build_ok(build_from_git(dir.path(), &repo).arg("--allow-dirty"));
    let tag = image(&dirty, "x86_64")["tag"].as_str().unwrap().to_string();
    assert!(tag.starts_with(&format!("{head}-dirty-")), "{tag}");
    assert_eq!(
        image(&dirty, "x86_64")["reused"],
        false,
        "never the commit's image"
    );
    assert_ne!(
        image(&dirty, "x86_64")["digest"],
        image(&clean, "x86_64")["digest"]
    );
}

#[test]
fn an_explicit_sha_wins_over_a_broken_pull_request_payload() {
    let dir = tempfile::tempdir().unwrap();
    let not_json = dir.path().join("event.json");
    std::fs::write(&not_json, "{ not json").unwrap();
    let sha = random_sha();
    for event_path in [not_json.to_str().unwrap(), "/nonexistent/event.json"] {
        let github = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", event_path),
            ("GITHUB_SHA", "2222222222222222222222222222222222222222"),
        ];
        let repo = unique("explicit");
        let (report, _) = build_ok(
            build_fixture(&repo, &sha)
                .args(["--platforms", "linux/amd64"])
                .envs(github),
        );
        assert_eq!(report["commit"], sha);
        // Without --sha the payload is needed, and the error says so.
        let mut cmd = lambda_ship();
        cmd.args(["build", "--repository", &repo])
            .arg("--context")
            .arg(fixture())
            .envs(github);
        let stderr = fails_with(&mut cmd, 2);
        assert!(error_of(&stderr).contains("GITHUB_EVENT_PATH"), "{stderr}");
    }
}

#[test]
fn a_function_of_another_region_is_refused_naming_both() {
    let f = unique("fn-elsewhere");
    create_function(&f, "x86_64", false);
    let arn = format!("arn:aws:lambda:eu-west-1:123456789012:function:{f}");
    let repo = unique("elsewhere");
    let stderr = fails_with(&mut deploy_fixture(&repo, &random_sha(), &[&arn]), 2);
    let error = error_of(&stderr);
    assert!(
        error.contains("eu-west-1") && error.contains("us-east-1"),
        "{error}"
    );
    let other = format!("arn:aws:lambda:us-east-1:999999999999:function:{f}");
    let stderr = fails_with(&mut deploy_fixture(&repo, &random_sha(), &[&other]), 2);
    assert!(error_of(&stderr).contains("999999999999"), "{stderr}");
    assert!(!repository_exists(&repo));
}

#[test]
fn an_architecture_switch_is_said_and_read_back() {
    let f = unique("fn-switch");
    create_function(&f, "x86_64", false);
    let target = format!("{f}:arm64");
    // Moto's UpdateFunctionCode ignores Architectures, as a Lambda that did
    // not apply the switch would: the read-back must catch it.
    let out = deploy_fixture(&unique("switch"), &random_sha(), &[&target])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{f}: its architecture changes, x86_64 → arm64")),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        error_of(&stderr).contains("architecture is x86_64, not arm64"),
        "{stderr}"
    );
}

#[test]
fn aws_out_of_reach_is_said_in_words_with_what_to_check() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let stderr = fails_with(
        build_fixture(&unique("offline"), &random_sha())
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}")),
        1,
    );
    let error = error_of(&stderr);
    assert!(error.contains(&format!("127.0.0.1:{port}")), "{error}");
    assert!(error.contains("AWS_ENDPOINT_URL"), "{error}");
    for dump in ["DispatchFailure", "ConnectorError", "hyper_util", "source:"] {
        assert!(!stderr.contains(dump), "{dump}: {stderr}");
    }
}

#[test]
fn an_endpoint_that_never_answers_is_never_silence() {
    let proxy = proxy::Proxy::start(Some(&format!("http://{MOTO}")));
    proxy.on(proxy::Rule::new("POST", "/").delay(std::time::Duration::from_secs(30)));
    let stderr = fails_with(
        build_fixture(&unique("silent"), &random_sha())
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .args(["--aws-timeout", "1"]),
        1,
    );
    assert!(stderr.contains("trying again after"), "{stderr}");
    assert!(stderr.contains("timed out after 1 s"), "{stderr}");
    assert!(!stderr.contains("TimeoutError"), "{stderr}");
}

#[test]
fn output_files_that_cannot_be_written_are_refused_before_anything_is_done() {
    let f = unique("fn-out");
    create_function(&f, "x86_64", false);
    let dir = tempfile::tempdir().unwrap();
    for (flag, path) in [
        ("--report-json", dir.path().join("missing/report.json")),
        ("--dotenv", dir.path().join("missing/deploy.env")),
        ("--dotenv", dir.path().to_path_buf()),
    ] {
        let repo = unique("out");
        let mut cmd = deploy_fixture(&repo, &random_sha(), &[&f]);
        cmd.arg(flag).arg(&path);
        let stderr = fails_with(&mut cmd, 2);
        let error = error_of(&stderr);
        assert!(
            error.contains(flag) && error.contains("cannot be written"),
            "{error}"
        );
        assert!(!repository_exists(&repo));
    }
}

#[test]
fn the_summary_keeps_every_digest_whole_and_says_which_size_is_which() {
    let repo = unique("summary");
    let out = build_fixture(&repo, &random_sha())
        .env("COLUMNS", "80")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let digests: Vec<&str> = stdout
        .split(|c: char| c.is_whitespace() || c == '@')
        .filter(|w| w.starts_with("sha256:"))
        .collect();
    assert_eq!(digests.len(), 2, "{stdout}");
    assert!(digests.iter().all(|d| d.len() == 71), "{stdout}");
    assert!(
        stdout.contains("compressed") && stdout.contains("uncompressed"),
        "{stdout}"
    );
}
