//! Feedback where people look: the living comment against GitHub and GitLab
//! doubles, the job summary and step outputs, and what a function's output
//! can and cannot do to a comment.

mod common;

use common::forge::Forge;
use common::*;
use lambda_ship::config::{CommitSha, Platform, TagMutability};
use lambda_ship::feedback::{github, markdown};
use lambda_ship::lambda::smoke::SmokeResult;
use lambda_ship::lambda::{AliasReport, FunctionReport};
use lambda_ship::registry::ecr::Repository;
use lambda_ship::report::{BuildReport, ImageReport, RunReport};

/// A run as the deploy stage reports it, with a function whose output is `payload` and `log`.
fn sample_report(payload: &str, log: &str) -> RunReport {
    let sha: CommitSha = "0123456789abcdef0123456789abcdef01234567".parse().unwrap();
    let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders";
    let image = |p: Platform| ImageReport {
        platform: p,
        architecture: p.lambda_arch(),
        tag: format!("{sha}-{}", p.lambda_arch()),
        image_uri: format!("{uri}:{sha}-{}", p.lambda_arch()),
        digest: format!("sha256:{}", "ab".repeat(32)),
        deploy_uri: format!("{uri}@sha256:{}", "ab".repeat(32)),
        pushed_to: format!("{uri}:{sha}-{}", p.lambda_arch()),
        media_type: "application/vnd.docker.distribution.manifest.v2+json".into(),
        compressed_size: 1_071_218,
        size: Some(2_000_000),
        reused: p == Platform::Arm64,
        unchanged_since: None,
        engine: Some("unix:///var/run/docker.sock".into()),
        build_seconds: 1.2,
        push_seconds: 0.4,
        local_smoke: None,
        scan: None,
    };
    RunReport {
        ok: true,
        commit: Some(sha.clone()),
        ci: lambda_ship::ci::CiKind::GitHub,
        change_number: Some(12),
        build: Some(BuildReport {
            images: vec![image(Platform::Amd64), image(Platform::Arm64)],
            commit: sha,
            repository: Repository {
                name: "orders".into(),
                uri: uri.into(),
                mutability: TagMutability::Immutable,
                created: false,
            },
            registry: uri.split('/').next().unwrap().into(),
        }),
        functions: vec![FunctionReport {
            name: "orders-arm".into(),
            architecture: "arm64",
            image_before: Some(format!("{uri}:old")),
            image_after: Some(format!("{uri}@sha256:{}", "ab".repeat(32))),
            updated: true,
            created: false,
            unchanged: false,
            configured: Vec::new(),
            preview_of: None,
            numbers: None,
            baseline: None,
            warnings: Vec::new(),
            version: Some("7".into()),
            alias: Some(AliasReport {
                name: "live".into(),
                previous_version: Some("6".into()),
                version: Some("7".into()),
                moved: true,
            }),
            url: Some("https://abc123.lambda-url.us-east-1.on.aws/".into()),
            smoke: Some(SmokeResult {
                passed: true,
                qualifier: Some("7".into()),
                status: 200,
                function_error: None,
                payload: payload.into(),
                payload_truncated: false,
                log_tail: Some(log.into()),
                duration_ms: 41,
                reason: None,
            }),
            error: None,
            update_seconds: 2.5,
        }],
        failure: None,
    }
}

fn html(markdown: &str) -> String {
    let mut options = pulldown_cmark::Options::empty();
    options.insert(pulldown_cmark::Options::ENABLE_TABLES);
    let parser = pulldown_cmark::Parser::new_ext(markdown, options);
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

#[test]
fn a_functions_output_stays_inert_in_the_comment() {
    let hostile = "````\n</details><script>alert(1)</script>\n<img src=x onerror=alert(2)>\n\
                   [click](https://evil.example) @octocat #1 **bold**\n```";
    let body = markdown::render(&sample_report(hostile, hostile), "orders-arm");
    let rendered = html(&body);
    assert!(!rendered.contains("<script"), "{rendered}");
    assert!(!rendered.contains("<img"), "{rendered}");
    assert!(
        !rendered.contains("href=\"https://evil.example\""),
        "{rendered}"
    );
    assert!(!rendered.contains("<strong>bold"), "{rendered}");
    // Both copies are there, as text inside code blocks.
    assert_eq!(
        rendered
            .matches("&lt;script&gt;alert(1)&lt;/script&gt;")
            .count(),
        2,
        "{rendered}"
    );
    // The function URL is the one live link.
    assert!(rendered.contains("href=\"https://abc123.lambda-url.us-east-1.on.aws/\""));
}

#[test]
fn a_huge_log_tail_is_shortened_to_fit_githubs_limit() {
    let log: String = (0..40_000).map(|i| format!("log line {i}\n")).collect();
    let body = markdown::render(&sample_report("{\"ok\":true}", &log), "orders-arm");
    assert!(
        body.chars().count() <= markdown::GITHUB_BODY_LIMIT,
        "{}",
        body.len()
    );
    assert!(body.starts_with(&markdown::marker("orders-arm")));
    assert!(
        body.contains("log line 39999"),
        "the end of the log is kept"
    );
    assert!(!body.contains("log line 0\n"), "the start is cut");
    assert!(body.contains("characters cut"));
    assert!(body.contains("{\"ok\":true}"), "the payload is kept whole");
    assert!(
        body.contains("| arm64 |") && body.contains("| x86_64 |"),
        "the tables stay"
    );
}

#[test]
fn comments_are_updated_in_place_and_kept_apart_by_key() {
    let forge = Forge::start();
    forge.seed("acme/widgets#12", 130);
    let pr = github::PullRequest {
        api: forge.url.clone(),
        owner: "acme".into(),
        repo: "widgets".into(),
        number: 12,
    };
    let token = secrecy::SecretString::from("ghs_test_token".to_string());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let post = |key: &str, text: &str| {
        let marker = markdown::marker(key);
        rt.block_on(github::upsert_comment(
            &pr,
            &token,
            &marker,
            &format!("{marker}\n{text}"),
        ))
        .unwrap()
    };
    assert_eq!(post("orders", "first"), github::CommentAction::Created);
    assert_eq!(post("orders", "second"), github::CommentAction::Updated);
    assert_eq!(
        post("billing", "other workflow"),
        github::CommentAction::Created
    );
    assert_eq!(post("orders", "third"), github::CommentAction::Updated);
    let ours: Vec<String> = forge
        .comments("acme/widgets#12")
        .into_iter()
        .filter(|b| b.contains("lambda-ship:"))
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    assert!(ours[0].ends_with("third"));
    assert!(ours[1].ends_with("other workflow"));
    // The list was read across pages, with the token.
    let pages: Vec<_> = forge
        .requests()
        .into_iter()
        .filter(|(m, u, _)| m == "GET" && u.contains("page=2"))
        .collect();
    assert!(!pages.is_empty());
    assert!(
        forge
            .requests()
            .iter()
            .all(|(_, _, auth)| auth.contains("ghs_test_token"))
    );
}

#[test]
fn racing_runs_leave_one_comment_and_a_secondary_rate_limit_is_waited_out() {
    let forge = Forge::start();
    let pr = github::PullRequest {
        api: forge.url.clone(),
        owner: "acme".into(),
        repo: "widgets".into(),
        number: 77,
    };
    let token = secrecy::SecretString::from("ghs_race".to_string());
    let marker = markdown::marker("orders");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (body_a, body_b) = (format!("{marker}\nrun a"), format!("{marker}\nrun b"));
        let a = github::upsert_comment(&pr, &token, &marker, &body_a);
        let b = github::upsert_comment(&pr, &token, &marker, &body_b);
        let (a, b) = tokio::join!(a, b);
        a.unwrap();
        b.unwrap();
    });
    assert_eq!(
        forge.comments("acme/widgets#77").len(),
        1,
        "never duplicated"
    );

    // A 502 from GitHub is tried again.
    forge.fail_next(502);
    let again = rt
        .block_on(github::upsert_comment(
            &pr,
            &token,
            &marker,
            &format!("{marker}\nrun b2"),
        ))
        .unwrap();
    assert_eq!(again, github::CommentAction::Updated);

    forge.rate_limit_next_post();
    let updated = rt
        .block_on(github::upsert_comment(
            &pr,
            &token,
            &marker,
            &format!("{marker}\nrun c"),
        ))
        .unwrap();
    assert_eq!(updated, github::CommentAction::Updated);
    assert_eq!(
        forge.comments("acme/widgets#77"),
        [format!("{marker}\nrun c")]
    );
    let posts = forge
        .requests()
        .into_iter()
        .filter(|(m, _, _)| m != "GET")
        .count();
    assert!(posts >= 2, "the rate-limited post was tried again");
}

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
