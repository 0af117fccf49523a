//! `lambda-ship build` against the real test bed: two Docker engines, QEMU,
//! the distribution registry and moto's ECR.

mod common;

use common::*;
use sha2::{Digest, Sha256};

#[test]
fn both_architectures_are_pushed_as_single_image_manifests() {
    let repo = unique("both");
    let sha = random_sha();
    let (report, _) = build_ok(&mut build_fixture(&repo, &sha));

    assert_eq!(report["commit"], sha);
    for (arch, oci_arch) in [("x86_64", "amd64"), ("arm64", "arm64")] {
        let img = image(&report, arch);
        let tag = format!("{sha}-{arch}");
        assert_eq!(img["tag"], tag);
        assert_eq!(img["reused"], false);

        let raw = registry_get(&format!("{repo}/manifests/{tag}"), MANIFEST_TYPES);
        let m: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(
            m["mediaType"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert!(m.get("manifests").is_none(), "a single image, not an index");
        let digest = format!("sha256:{:x}", Sha256::digest(&raw));
        assert_eq!(img["digest"], digest.as_str());
        assert_eq!(
            img["deploy_uri"],
            format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}@{digest}").as_str()
        );

        let config: serde_json::Value =
            serde_json::from_slice(&blob(&repo, m["config"]["digest"].as_str().unwrap())).unwrap();
        assert_eq!(config["architecture"], oci_arch);
        assert_eq!(config["os"], "linux");
        assert_eq!(
            config["config"]["Labels"]["org.opencontainers.image.revision"],
            sha.as_str()
        );
    }

    // The repository lambda-ship created is as a Lambda source should be.
    let described = aws(&["ecr", "describe-repositories", "--repository-names", &repo]);
    let r = &described["repositories"][0];
    // Immutable but for the signatures' tags, which a second signature re-pushes.
    assert_eq!(r["imageTagMutability"], "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(
        r["imageTagMutabilityExclusionFilters"],
        serde_json::json!([{"filterType": "WILDCARD", "filter": "sha256-*"}])
    );
    assert_eq!(r["imageScanningConfiguration"]["scanOnPush"], true);
    assert_eq!(r["encryptionConfiguration"]["encryptionType"], "AES256");
}

#[test]
fn dockerignore_keeps_the_secret_and_the_large_folder_out_of_every_layer() {
    let repo = unique("ignore");
    let sha = random_sha();
    build_ok(build_fixture(&repo, &sha).args(["--platforms", "linux/amd64"]));
    let paths = layer_paths(&repo, &format!("{sha}-x86_64"));
    assert!(
        paths.iter().any(|p| p.ends_with("var/task/handler.sh")),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.contains("secret.env")), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.contains("node_modules")),
        "{paths:?}"
    );
}

#[test]
fn arm64_builds_on_the_second_engine_when_a_builder_names_it() {
    let repo = unique("farm");
    let head = random_sha();
    let merge = random_sha();
    // A GitHub pull_request run: the tag is the PR head, not the merge commit.
    let dir = tempfile::tempdir().unwrap();
    let event = pull_request_event(dir.path(), 7, &head);
    let (report, stderr) = build_ok(
        lambda_ship()
            .args(["build", "--repository", &repo])
            .arg("--context")
            .arg(fixture())
            // No --sha: it comes from the pull_request event.
            .arg(format!("--builder=linux/arm64=unix://{ENGINE_B}"))
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_SHA", &merge)
            .env("GITHUB_REPOSITORY", "acme/widgets")
            .env_remove("LAMBDA_SHIP_PROGRESS"),
    );
    assert_eq!(report["commit"], head.as_str());
    assert_eq!(
        image(&report, "arm64")["engine"],
        format!("unix://{ENGINE_B}").as_str()
    );
    assert_eq!(
        image(&report, "x86_64")["engine"],
        format!("unix://{ENGINE_A}").as_str()
    );

    let arm_tag = format!("lambda-ship/{repo}:{head}-arm64");
    let amd_tag = format!("lambda-ship/{repo}:{head}-x86_64");
    assert!(
        docker(ENGINE_B, &["image", "inspect", &arm_tag])
            .status
            .success()
    );
    assert!(
        !docker(ENGINE_A, &["image", "inspect", &arm_tag])
            .status
            .success()
    );
    assert!(
        docker(ENGINE_A, &["image", "inspect", &amd_tag])
            .status
            .success()
    );
    assert!(
        !docker(ENGINE_B, &["image", "inspect", &amd_tag])
            .status
            .success()
    );

    // The farm spans two engine versions, and GitHub gets each log in a group.
    assert!(
        stderr.contains("API 1.41") && stderr.contains("API 1.45"),
        "{stderr}"
    );
    assert!(
        stderr.contains("::group::linux/arm64 build log"),
        "{stderr}"
    );
    assert!(stderr.contains("::endgroup::"), "{stderr}");
}

#[test]
fn a_forks_code_is_not_built_with_write_credentials_unless_allowed() {
    let repo = unique("fork");
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    let payload = serde_json::json!({"pull_request": {"number": 9,
        "head": {"sha": random_sha(), "repo": {"full_name": "stranger/widgets"}},
        "base": {"repo": {"full_name": "acme/widgets"}}}});
    std::fs::write(&event, payload.to_string()).unwrap();
    let run = || {
        let mut cmd = lambda_ship();
        cmd.args(["build", "--repository", &repo, "--platforms", "linux/amd64"])
            .arg("--context")
            .arg(fixture())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request_target")
            .env("GITHUB_EVENT_PATH", &event);
        cmd
    };
    let stderr = fails_with(&mut run(), 2);
    assert!(
        stderr.contains("pull_request_target") && stderr.contains("--allow-fork-code"),
        "{stderr}"
    );
    build_ok(run().arg("--allow-fork-code"));
}

#[test]
fn a_tcp_builder_is_reached_with_mutual_tls_from_docker_cert_path() {
    let repo = unique("tls");
    let sha = random_sha();
    let (report, _) = build_ok(
        build_fixture(&repo, &sha)
            .args(["--platforms", "linux/arm64"])
            .arg(format!("--builder=linux/arm64=tcp://{ENGINE_B_TCP}"))
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", engine_b_tls()),
    );
    assert_eq!(
        image(&report, "arm64")["engine"],
        format!("tcp://{ENGINE_B_TCP}").as_str()
    );
    let tag = format!("lambda-ship/{repo}:{sha}-arm64");
    assert!(
        docker(ENGINE_B, &["image", "inspect", &tag])
            .status
            .success()
    );

    // Without the client certificate the engine refuses us, and we say so.
    let stderr = fails_with(
        build_fixture(&repo, &random_sha())
            .args(["--platforms", "linux/arm64"])
            .arg(format!("--builder=linux/arm64=tcp://{ENGINE_B_TCP}")),
        2,
    );
    assert!(
        stderr.contains(&format!(
            "cannot reach the Docker engine at tcp://{ENGINE_B_TCP}"
        )),
        "{stderr}"
    );
}

#[test]
fn a_terminal_gets_a_progress_bar_per_platform() {
    let repo = unique("tty");
    let bin = assert_cmd::cargo::cargo_bin("lambda-ship");
    let line = format!(
        "{} build --repository {repo} --sha {} --context {} --progress auto",
        bin.display(),
        random_sha(),
        fixture().display()
    );
    require_testbed();
    // `script` gives the run a terminal, as a person's shell would.
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_clear()
        .envs(testbed_env())
        .env_remove("LAMBDA_SHIP_PROGRESS")
        .env("TERM", "xterm")
        .output()
        .expect("script runs");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    for platform in ["linux/amd64", "linux/arm64"] {
        // A bar is as wide as the terminal: it never holds a digest to cut.
        let bar = screen
            .lines()
            .any(|l| l.contains(platform) && l.contains("pushed in"));
        assert!(bar, "no finished bar for {platform}:\n{screen}");
        assert!(
            !screen.contains(&format!("{platform}: building on")),
            "plain lines on a terminal:\n{screen}"
        );
    }
    // The summary comes after the bars have stopped, each digest whole.
    let summary = &screen[screen.find("repository 123456789012").expect("the summary")..];
    let digests = summary.matches("@sha256:").count();
    assert_eq!(digests, 2, "{summary}");
    for line in summary.lines().filter(|l| l.contains("@sha256:")) {
        let digest = line.rsplit('@').next().unwrap().trim();
        assert_eq!(digest.len(), 71, "a digest cut: {line}");
    }
}

#[test]
fn a_rerun_of_the_same_commit_builds_nothing_and_returns_the_same_digests() {
    let repo = unique("rerun");
    let sha = random_sha();
    let run = || build_ok(&mut build_fixture(&repo, &sha));
    let (first, _) = run();
    let (second, stderr) = run();
    for arch in ["x86_64", "arm64"] {
        assert_eq!(
            image(&first, arch)["digest"],
            image(&second, arch)["digest"]
        );
        assert_eq!(image(&second, arch)["reused"], true);
    }
    assert!(
        !stderr.contains("building on"),
        "nothing is built:\n{stderr}"
    );
}

#[test]
fn force_rebuild_explains_immutable_tags_and_rebuilds_mutable_ones() {
    let sha = random_sha();
    let build = |repo: &str| {
        let mut cmd = build_fixture(repo, &sha);
        cmd.args(["--platforms", "linux/amd64"]);
        cmd
    };
    let immutable = unique("immutable");
    build_ok(&mut build(&immutable));
    let stderr = fails_with(build(&immutable).arg("--force-rebuild"), 2);
    assert!(
        stderr.contains("IMMUTABLE") && stderr.contains("--force-rebuild"),
        "{stderr}"
    );

    let mutable = unique("mutable");
    build_ok(build(&mutable).args(["--tag-mutability", "mutable"]));
    let (report, _) = build_ok(build(&mutable).arg("--force-rebuild"));
    assert_eq!(image(&report, "x86_64")["reused"], false);
}

/// A context whose Dockerfile is given, with the fixture's busybox beside it.
fn context_with(dockerfile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("busybox")).unwrap();
    for arch in ["amd64", "arm64"] {
        std::fs::copy(
            fixture().join("busybox").join(arch),
            dir.path().join("busybox").join(arch),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    dir
}

#[test]
fn a_failing_run_step_is_named_with_its_last_output() {
    let ctx = context_with(
        "FROM scratch\nARG TARGETARCH\nCOPY busybox/${TARGETARCH} /bin/busybox\n\
         RUN [\"/bin/busybox\", \"sh\", \"-c\", \"echo compiling-widget; echo broken-dependency >&2; exit 3\"]\n",
    );
    let stderr = fails_with(
        build_in(ctx.path(), &unique("failing"), &random_sha())
            .args(["--platforms", "linux/arm64"]),
        1,
    );
    let error = &stderr[stderr.find("error:").expect("an error line")..];
    assert!(error.contains("linux/arm64: step '[2/2] RUN"), "{error}");
    assert!(
        error.contains("compiling-widget") && error.contains("broken-dependency"),
        "{error}"
    );
    assert!(
        !error.contains("Nothing was deployed"),
        "not a deploy: {error}"
    );
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2_before_anything_is_done() {
    let repo = unique("bad");
    let sha = random_sha();
    let empty = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--context".into(), empty.path().display().to_string()],
            "no Dockerfile at",
        ),
        (
            vec!["--platforms".into(), "linux/s390x".into()],
            "unknown platform 'linux/s390x'",
        ),
        (
            vec![
                "--builder".into(),
                "linux/arm64=unix:///nonexistent/docker.sock".into(),
            ],
            "cannot reach the Docker engine at unix:///nonexistent/docker.sock",
        ),
        (
            vec!["--builder".into(), "linux/arm64=http://host".into()],
            "is not a builder",
        ),
        (
            vec!["--sha".into(), "abc123".into()],
            "not a full commit SHA",
        ),
        (
            vec!["--repository".into(), "Bad_Name".into()],
            "not a valid ECR repository name",
        ),
    ];
    for (args, expected) in cases {
        // The good values come from the environment; a flag overrides its variable.
        let mut cmd = lambda_ship();
        cmd.arg("build")
            .env("LAMBDA_SHIP_REPOSITORY", &repo)
            .env("LAMBDA_SHIP_SHA", &sha)
            .env("LAMBDA_SHIP_CONTEXT", fixture())
            .args(&args);
        let stderr = fails_with(&mut cmd, 2);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        let error_lines = stderr
            .lines()
            .skip_while(|l| !l.starts_with("error:"))
            .count();
        assert_eq!(error_lines, 1, "one paragraph: {stderr}");
    }
    // Nothing was created for any of them.
    let out = aws_output(&["ecr", "describe-repositories", "--repository-names", &repo]);
    assert!(!out.status.success(), "the repository must not exist");
}

#[test]
fn a_push_survives_a_reset_mid_upload_and_an_expired_token() {
    let repo = unique("faults");
    let sha = random_sha();
    let proxy = common::proxy::Proxy::start(Some(&format!("http://{REGISTRY}")));
    let via = proxy.url.trim_start_matches("http://").to_string();
    // The connection drops in the middle of the first layer upload; later the
    // registry refuses the manifest once, as it does an expired ECR token.
    proxy.on(
        common::proxy::Rule::new("PATCH", &format!("/v2/{repo}/blobs/uploads/"))
            .nth(1)
            .reset(),
    );
    // The next upload gets a server error.
    proxy.on(
        common::proxy::Rule::new("PATCH", &format!("/v2/{repo}/blobs/uploads/"))
            .nth(2)
            .respond(503, &[], "Service Unavailable"),
    );
    proxy.on(
        common::proxy::Rule::new("PUT", &format!("/v2/{repo}/manifests/"))
            .nth(1)
            .respond(
                401,
                &[
                    ("WWW-Authenticate", "Basic realm=\"ecr\""),
                    ("Content-Type", "application/json"),
                ],
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            ),
    );
    // Then it is too busy once.
    proxy.on(
        common::proxy::Rule::new("PUT", &format!("/v2/{repo}/manifests/"))
            .nth(2)
            .respond(
                429,
                &[("Content-Type", "application/json")],
                r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"too many requests"}]}"#,
            ),
    );
    let (report, stderr) = build_ok(
        build_fixture(&repo, &sha)
            .args(["--platforms", "linux/amd64"])
            .env("LAMBDA_SHIP_REGISTRY", &via),
    );
    assert!(
        stderr.contains("push failed"),
        "the retry is told: {stderr}"
    );
    let injected: Vec<u16> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.injected)
        .map(|s| s.status)
        .collect();
    assert!(
        injected.contains(&0) && injected.contains(&503),
        "the upload was cut, then refused: {injected:?}"
    );
    let img = image(&report, "x86_64");
    // What the registry holds is what lambda-ship reported.
    let m = manifest(&repo, &format!("{sha}-x86_64"));
    assert_eq!(
        m["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert!(img["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(
        proxy
            .seen_matching("PUT", &format!("/v2/{repo}/manifests/"))
            .len(),
        3
    );
    // Every layer was uploaded once: none was sent again after it arrived.
    let mut completed: Vec<String> = proxy
        .seen_matching("PUT", &format!("/v2/{repo}/blobs/uploads/"))
        .into_iter()
        .filter(|s| s.status == 201)
        .filter_map(|s| s.uri.split("digest=").nth(1).map(str::to_string))
        .collect();
    let all = completed.len();
    completed.sort();
    completed.dedup();
    assert_eq!(completed.len(), all, "a layer was sent twice");
    assert!(all >= 1);
}
