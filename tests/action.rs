//! The GitHub Action: action.yml and the workflows are valid against their
//! published schemas, and the action's deploy step drives the binary with its
//! inputs and hands back its outputs, run as the Actions runner runs it.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// check-jsonschema, with SchemaStore's schemas as it ships them (no network).
fn schema_check(schema: &str, files: &[&str]) {
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", schema])
        .args(files)
        .current_dir(root())
        .output()
        .expect("check-jsonschema runs (tests/testbed/up installs it)");
    assert!(
        out.status.success(),
        "{files:?} against {schema}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn action_workflows_and_examples_match_their_published_schemas() {
    schema_check("vendor.github-actions", &["action.yml"]);
    schema_check(
        "vendor.github-workflows",
        &[
            ".github/workflows/ci.yml",
            ".github/workflows/release.yml",
            ".github/examples/deploy.yml",
            ".github/examples/matrix.yml",
            ".github/examples/preview.yml",
        ],
    );
    schema_check(
        "vendor.gitlab-ci",
        &[
            ".github/examples/.gitlab-ci.yml",
            ".github/examples/.gitlab-ci-preview.yml",
        ],
    );
}

#[test]
fn zizmor_finds_nothing_in_the_action_the_workflows_and_the_examples() {
    let mut files = vec!["action.yml".to_string(), ".github/workflows".to_string()];
    // Every GitHub workflow example (the GitLab ones are not GitHub's).
    for entry in std::fs::read_dir(root().join(".github/examples")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".yml") && !name.starts_with(".gitlab") {
            files.push(format!(".github/examples/{name}"));
        }
    }
    let out = Command::new("zizmor")
        .args(["--offline", "--persona", "pedantic", "--no-progress"])
        .args(&files)
        .current_dir(root())
        .output()
        .expect("zizmor runs (tests/testbed/up installs it)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{files:?}:\n{text}");
    assert!(text.contains("No findings to report"), "{text}");
    assert!(
        files.len() >= 5,
        "every workflow example is audited: {files:?}"
    );
}

/// Runs the action's build-and-deploy step with these inputs, as the runner
/// does, in an environment where `DOCKER_HOST` is `docker_host`.
fn run_action_step(inputs: &serde_json::Value, event: &Path, docker_host: &str) -> String {
    let dir = event.parent().unwrap();
    let out = Command::new("python3")
        .arg(root().join("tests/action/run_step.py"))
        .arg(root().join("action.yml"))
        .arg("deploy")
        .arg(inputs.to_string())
        .env_clear()
        .envs(testbed_env())
        .env("DOCKER_HOST", docker_host)
        .env(
            "LAMBDA_SHIP_BIN",
            assert_cmd::cargo::cargo_bin("lambda-ship"),
        )
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", event)
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_OUTPUT", dir.join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{inputs}:\n{stderr}");
    stderr
}

#[test]
fn the_matrix_shape_builds_each_platform_on_its_own_runner_and_deploys_without_building() {
    let repo = unique("matrix");
    let (fx86, farm) = (unique("fn-mx-x86"), unique("fn-mx-arm"));
    create_function(&fx86, "x86_64", false);
    create_function(&farm, "arm64", false);
    let dir = tempfile::tempdir().unwrap();
    let head = random_sha();
    let event = pull_request_event(dir.path(), 5, &head);
    let context = fixture().display().to_string();
    // One runner per architecture: engine A builds arm64, engine B amd64.
    for (platform, engine) in [("linux/arm64", ENGINE_A), ("linux/amd64", ENGINE_B)] {
        let inputs = serde_json::json!({
            "command": "build", "repository": repo, "platforms": platform, "context": context,
        });
        let log = run_action_step(&inputs, &event, &format!("unix://{engine}"));
        assert!(log.contains(&format!("{platform}: built")), "{log}");
    }
    // The deploy job has no engine at all: it finds both tags and builds nothing.
    let inputs = serde_json::json!({
        "repository": repo,
        "functions": format!("{fx86},{farm}:arm64"),
        "context": context,
        "comment": "never",
    });
    let log = run_action_step(&inputs, &event, "unix:///nonexistent/docker.sock");
    assert!(!log.contains("building on"), "{log}");
    for (f, arch) in [(&fx86, "x86_64"), (&farm, "arm64")] {
        let digest = manifest_digest(&repo, &format!("{head}-{arch}"));
        let live = aws(&["lambda", "get-function", "--function-name", f]);
        assert_eq!(
            live["Code"]["ImageUri"],
            format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}@{digest}"),
            "{log}"
        );
    }
}

#[test]
fn the_actions_deploy_step_maps_inputs_to_the_binary_and_returns_its_outputs() {
    let repo = unique("action");
    let (fx86, farm) = (unique("fn-act-x86"), unique("fn-act-arm"));
    create_function(&fx86, "x86_64", true);
    create_function(&farm, "arm64", false);
    let dir = tempfile::tempdir().unwrap();
    let event = pull_request_event(dir.path(), 3, &random_sha());
    let inputs = serde_json::json!({
        "repository": repo,
        "functions": format!("{fx86},{farm}:arm64"),
        "context": fixture().display().to_string(),
        "smoke-event": r#"{"from":"the-action"}"#,
        "smoke-expect": "the-action",
        "comment": "never",
    });
    let out = Command::new("python3")
        .arg(root().join("tests/action/run_step.py"))
        .arg(root().join("action.yml"))
        .arg("deploy")
        .arg(inputs.to_string())
        .env_clear()
        .envs(testbed_env())
        .env(
            "LAMBDA_SHIP_BIN",
            assert_cmd::cargo::cargo_bin("lambda-ship"),
        )
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_REPOSITORY", "acme/widgets")
        .env("GITHUB_OUTPUT", dir.path().join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("{stdout}\n{stderr}"));
    assert_eq!(result["exit"], 0, "{stderr}");
    let outputs = &result["outputs"];
    for arch in ["x86_64", "arm64"] {
        let uri = outputs[format!("image-uri-{arch}")].as_str().unwrap();
        assert!(uri.contains(&format!("/{repo}@sha256:")), "{uri}");
        assert_eq!(
            outputs[format!("digest-{arch}")].as_str().unwrap(),
            uri.split('@').nth(1).unwrap()
        );
    }
    assert_eq!(outputs["smoke"], "pass");
    let urls: serde_json::Value =
        serde_json::from_str(outputs["function-urls"].as_str().unwrap()).unwrap();
    assert!(urls[&fx86].as_str().unwrap().contains("lambda-url"));
    assert!(urls[&farm].is_null());
    let report: serde_json::Value =
        serde_json::from_str(outputs["report"].as_str().unwrap()).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["functions"].as_array().unwrap().len(), 2);
}

#[test]
fn the_action_rolls_out_gradually_and_takes_the_release_back() {
    let f = common::releases::released_function("fn-act-roll");
    let alias_version = || common::runs::alias_version(&f);
    let dir = tempfile::tempdir().unwrap();
    let event = pull_request_event(dir.path(), 8, &random_sha());
    let engine = format!("unix://{ENGINE_A}");
    let inputs = serde_json::json!({
        "repository": unique("action-roll"),
        "functions": format!("{f}:x86_64"),
        "platforms": "linux/amd64",
        "context": fixture().display().to_string(),
        "alias": "live",
        "rollout": "canary:50:1s",
        "comment": "never",
    });
    let log = run_action_step(&inputs, &event, &engine);
    assert!(log.contains("rollout:  50%"), "{log}");
    assert_eq!(alias_version(), "2");
    let inputs = serde_json::json!({
        "command": "rollback",
        "functions": format!("{f}:x86_64"),
        "alias": "live",
    });
    run_action_step(&inputs, &event, &engine);
    assert_eq!(alias_version(), "1");
}
