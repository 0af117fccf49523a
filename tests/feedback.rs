//! Feedback where people look, from the real binary against the test bed:
//! the living comment on GitHub and GitLab (their doubles), the job summary,
//! step outputs and annotations.

mod common;

use common::forge::Forge;
use common::*;
use lambda_ship::feedback::markdown;

/// Reads `$GITHUB_OUTPUT` as the runner does.
fn read_outputs(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line.split_once("<<").expect("name<<DELIMITER");
        let mut value = Vec::new();
        for l in lines.by_ref() {
            if l == delimiter {
                break;
            }
            value.push(l);
        }
        out.insert(name.to_string(), value.join("\n"));
    }
    out
}

struct GitHubRun {
    dir: tempfile::TempDir,
    event: std::path::PathBuf,
}

impl GitHubRun {
    fn new(number: u64, head: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let event = pull_request_event(dir.path(), number, head);
        GitHubRun { dir, event }
    }

    fn file(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// A deploy of `function` as a GitHub pull_request run would start it.
    fn deploy(&self, forge: &Forge, repo: &str, function: &str) -> assert_cmd::Command {
        let mut cmd = lambda_ship();
        cmd.args(["deploy", "--repository", repo, "--function", function])
            .arg("--context")
            .arg(fixture())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &self.event)
            .env("GITHUB_REPOSITORY", "acme/widgets")
            .env("GITHUB_API_URL", &forge.url)
            .env("GITHUB_TOKEN", "ghs_run_token_5d2")
            .env("GITHUB_OUTPUT", self.file("output"))
            .env("GITHUB_STEP_SUMMARY", self.file("summary"));
        cmd
    }
}

#[test]
fn three_github_runs_leave_one_comment_and_write_outputs_and_summary() {
    let repo = unique("comment");
    let name = unique("fn-comment");
    create_function(&name, "arm64", true);
    let forge = Forge::start();
    forge.seed("acme/widgets#31", 120);
    let mut heads = Vec::new();
    for _ in 0..3 {
        let head = random_sha();
        let run = GitHubRun::new(31, &head);
        let out = run.deploy(&forge, &repo, &name).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        heads.push((head, run));
    }
    let ours: Vec<String> = forge
        .comments("acme/widgets#31")
        .into_iter()
        .filter(|b| b.starts_with(&markdown::marker(&name)))
        .collect();
    assert_eq!(ours.len(), 1, "one living comment after three runs");
    let (last_head, last_run) = heads.last().unwrap();
    assert!(
        ours[0].contains(last_head.as_str()),
        "it shows the last run"
    );
    assert!(
        ours[0].contains(".lambda-url.us-east-1.on.aws"),
        "with the function URL"
    );

    let outputs = read_outputs(&std::fs::read_to_string(last_run.file("output")).unwrap());
    let arm = outputs["image-uri-arm64"].clone();
    assert!(arm.contains(&format!("/{repo}@sha256:")), "{arm}");
    assert_eq!(outputs["digest-arm64"], arm.split('@').nth(1).unwrap());
    let urls: serde_json::Value = serde_json::from_str(&outputs["function-urls"]).unwrap();
    assert!(urls[&name].as_str().unwrap().contains("lambda-url"));
    assert_eq!(outputs["smoke"], "pass");
    let report: serde_json::Value = serde_json::from_str(&outputs["report"]).unwrap();
    assert_eq!(report["commit"], last_head.as_str());
    let summary = std::fs::read_to_string(last_run.file("summary")).unwrap();
    assert!(summary.contains("lambda-ship deployed") && summary.contains(&name));
}

#[test]
fn a_comment_github_refuses_leaves_the_deploy_green_with_a_warning() {
    let repo = unique("forbidden");
    let name = unique("fn-forbidden");
    create_function(&name, "x86_64", false);
    let forge = Forge::start();
    forge.forbid_posts();
    let run = GitHubRun::new(44, &random_sha());
    let out = run.deploy(&forge, &repo, &name).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: no pull-request comment: could not post the comment: GitHub answered 403"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("::warning title=lambda-ship::no pull-request comment"),
        "{stderr}"
    );
    let summary = std::fs::read_to_string(run.file("summary")).unwrap();
    assert!(
        summary.contains("[!WARNING]") && summary.contains("403"),
        "{summary}"
    );
    assert!(!stdout.contains("ghs_run_token_5d2") && !stderr.contains("ghs_run_token_5d2"));
}

#[test]
fn gitlab_gets_a_living_merge_request_note_and_a_dotenv() {
    let repo = unique("gitlab");
    let name = unique("fn-gitlab");
    create_function(&name, "x86_64", false);
    let forge = Forge::start();
    forge.seed("42!7", 105);
    // GitLab fails once: the note is still posted.
    forge.fail_next(503);
    let dir = tempfile::tempdir().unwrap();
    let dotenv = dir.path().join("deploy.env");
    for _ in 0..2 {
        let mut cmd = lambda_ship();
        cmd.args(["deploy", "--repository", &repo, "--function", &name])
            .arg("--context")
            .arg(fixture())
            .arg("--dotenv")
            .arg(&dotenv)
            .env("GITLAB_CI", "true")
            .env("CI_COMMIT_SHA", random_sha())
            .env("CI_API_V4_URL", format!("{}/api/v4", forge.url))
            .env("CI_PROJECT_ID", "42")
            .env("CI_MERGE_REQUEST_IID", "7")
            .env("GITLAB_TOKEN", "glpat-test-token");
        build_ok(&mut cmd);
    }
    let ours: Vec<String> = forge
        .comments("42!7")
        .into_iter()
        .filter(|b| b.contains("lambda-ship:"))
        .collect();
    assert_eq!(ours.len(), 1, "one living note");
    assert!(
        forge
            .requests()
            .iter()
            .any(|(m, u, _)| m == "GET" && u.contains("page=2"))
    );
    let env = std::fs::read_to_string(&dotenv).unwrap();
    assert!(
        env.lines()
            .any(|l| l.starts_with("LAMBDA_SHIP_IMAGE_URI_X86_64=") && l.contains("@sha256:")),
        "{env}"
    );
    assert!(env.lines().any(|l| l == "LAMBDA_SHIP_SMOKE=pass"), "{env}");
}

#[test]
fn jenkins_comments_on_the_github_pull_request_of_change_url() {
    let repo = unique("jenkins");
    let name = unique("fn-jenkins");
    create_function(&name, "x86_64", false);
    let forge = Forge::start();
    let mut cmd = lambda_ship();
    cmd.args(["deploy", "--repository", &repo, "--function", &name])
        .arg("--context")
        .arg(fixture())
        .env("JENKINS_URL", "https://jenkins.example/")
        .env("GIT_COMMIT", random_sha())
        .env("CHANGE_ID", "5")
        .env("CHANGE_URL", "https://github.com/acme/widgets/pull/5")
        .env("GITHUB_API_URL", &forge.url)
        .env("GITHUB_TOKEN", "ghp_jenkins");
    build_ok(&mut cmd);
    assert_eq!(forge.comments("acme/widgets#5").len(), 1);
}

#[test]
fn a_failed_deploy_is_commented_too_with_the_failure_first_and_an_annotation() {
    let repo = unique("failcomment");
    let name = unique("fn-failcomment");
    create_function(&name, "x86_64", false);
    let forge = Forge::start();
    let run = GitHubRun::new(52, &random_sha());
    let out = run
        .deploy(&forge, &repo, &name)
        .args(["--smoke-expect", "a greeting that never comes"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("::error title=lambda-ship::the deploy did not complete"),
        "{stderr}"
    );
    let comments = forge.comments("acme/widgets#52");
    assert_eq!(comments.len(), 1);
    let body = &comments[0];
    let failure = body
        .find("failed at the deploy stage")
        .expect("the failure is shown");
    let tables = body.find("#### Images").expect("the images are shown");
    assert!(failure < tables, "the failure comes first");
    assert!(body.contains("does not contain"), "with its message");

    // With --comment never, nothing is posted.
    let quiet = Forge::start();
    build_ok(
        run.deploy(&quiet, &repo, &name)
            .args(["--comment", "never"]),
    );
    assert!(quiet.requests().is_empty());
}
