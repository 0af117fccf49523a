use super::*;
use std::process::Command;

const HEAD: &str = "1111111111111111111111111111111111111111";
const MERGE: &str = "2222222222222222222222222222222222222222";

#[test]
fn github_pull_request_uses_the_head_sha_not_the_merge_commit() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        format!(r#"{{"pull_request":{{"number":42,"head":{{"sha":"{HEAD}"}}}}}}"#),
    )
    .unwrap();
    let env: Env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_SHA", MERGE),
        ("GITHUB_REPOSITORY", "acme/fn"),
    ]
    .into_iter()
    .collect();
    let ci = CiContext::detect(&env);
    assert_eq!(ci.kind, CiKind::GitHub);
    assert_eq!(ci.sha.as_deref(), Some(HEAD));
    assert_eq!(ci.change_number, Some(42));
    assert_eq!(ci.source_url.as_deref(), Some("https://github.com/acme/fn"));
}

#[test]
fn pull_request_target_from_a_fork_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    let payload = |head_repo: &str| {
        serde_json::json!({"pull_request": {"number": 3,
            "head": {"sha": HEAD, "repo": {"full_name": head_repo}},
            "base": {"repo": {"full_name": "acme/fn"}}}})
        .to_string()
    };
    let detect = |name: &str| {
        let env: Env = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", name),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ]
        .into_iter()
        .collect();
        CiContext::detect(&env).fork_code_with_write
    };
    std::fs::write(&event, payload("stranger/fn")).unwrap();
    assert!(detect("pull_request_target"));
    assert!(
        !detect("pull_request"),
        "pull_request runs hold no secrets for forks"
    );
    std::fs::write(&event, payload("acme/fn")).unwrap();
    assert!(
        !detect("pull_request_target"),
        "a branch of the same repository"
    );
}

#[test]
fn github_push_uses_github_sha() {
    let env: Env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_SHA", MERGE),
    ]
    .into_iter()
    .collect();
    assert_eq!(CiContext::detect(&env).sha.as_deref(), Some(MERGE));
}

#[test]
fn gitlab_and_jenkins() {
    let env: Env = [
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", MERGE),
        ("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", HEAD),
        ("CI_MERGE_REQUEST_IID", "7"),
    ]
    .into_iter()
    .collect();
    let ci = CiContext::detect(&env);
    assert_eq!(
        (ci.kind, ci.sha.as_deref(), ci.change_number),
        (CiKind::GitLab, Some(HEAD), Some(7))
    );

    let env: Env = [
        ("JENKINS_URL", "https://ci.example"),
        ("GIT_COMMIT", HEAD),
        ("CHANGE_ID", "9"),
        ("GIT_URL", "https://bot:s3cret@git.example/acme/fn.git"),
    ]
    .into_iter()
    .collect();
    let ci = CiContext::detect(&env);
    assert_eq!(ci.kind, CiKind::Jenkins);
    assert_eq!(
        ci.source_url.as_deref(),
        Some("https://git.example/acme/fn.git")
    );
}

#[test]
fn credentials_are_stripped_from_urls() {
    assert_eq!(strip_credentials("https://x:tok@h/a"), "https://h/a");
    assert_eq!(strip_credentials("https://h/a"), "https://h/a");
    assert_eq!(strip_credentials("git@h:a/b.git"), "git@h:a/b.git");
}

#[test]
fn renames_and_short_names_do_not_hide_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(dir.path().join("app"), "a").unwrap();
    std::fs::write(dir.path().join("handler.py"), "h").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "x"]);
    git(&["mv", "app", "main.py"]);
    std::fs::write(dir.path().join("handler.py"), "changed").unwrap();
    let root = dir.path().canonicalize().unwrap();
    let mut changed = changed_files(dir.path());
    changed.sort();
    assert_eq!(
        changed,
        [
            root.join("app"),
            root.join("handler.py"),
            root.join("main.py")
        ]
    );
}

#[test]
fn jenkins_change_urls_name_the_pull_request() {
    assert_eq!(
        parse_pull_url("https://github.com/acme/orders/pull/12"),
        Some(("github.com".into(), "acme".into(), "orders".into(), 12))
    );
    assert_eq!(
        parse_pull_url("https://gitlab.com/acme/orders/-/merge_requests/3"),
        None
    );
    assert_eq!(api_for_host("github.com"), "https://api.github.com");
    assert_eq!(api_for_host("ghe.acme.io"), "https://ghe.acme.io/api/v3");
}

#[test]
fn the_context_says_where_the_comment_goes_and_where_outputs_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        format!(r#"{{"pull_request":{{"number":7,"state":"closed","head":{{"sha":"{HEAD}"}}}}}}"#),
    )
    .unwrap();
    let env: Env = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "pull_request"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_REPOSITORY", "acme/orders"),
        ("GITHUB_API_URL", "https://ghe.acme.io/api/v3"),
        ("GITHUB_OUTPUT", "/runner/out"),
        ("GITHUB_STEP_SUMMARY", "/runner/summary"),
    ]
    .into_iter()
    .collect();
    let ci = CiContext::detect(&env);
    assert_eq!(ci.change_open, Some(false), "a closed pull request");
    assert_eq!(
        ci.forge,
        Some(Forge::GitHub {
            api: "https://ghe.acme.io/api/v3".into(),
            owner: "acme".into(),
            repo: "orders".into(),
        })
    );
    assert_eq!(
        ci.outputs.github_output.as_deref(),
        Some(std::path::Path::new("/runner/out"))
    );
    assert_eq!(
        ci.outputs.step_summary.as_deref(),
        Some(std::path::Path::new("/runner/summary"))
    );

    let env: Env = [
        ("GITLAB_CI", "true"),
        ("CI_MERGE_REQUEST_IID", "3"),
        ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
        ("CI_PROJECT_ID", "42"),
    ]
    .into_iter()
    .collect();
    let ci = CiContext::detect(&env);
    assert_eq!(
        ci.forge,
        Some(Forge::GitLab {
            api: "https://gitlab.example/api/v4".into(),
            project: "42".into(),
        })
    );
    assert_eq!(
        ci.outputs,
        OutputFiles::default(),
        "no GitHub files on GitLab"
    );

    let env: Env = [
        ("JENKINS_URL", "https://ci.example"),
        ("CHANGE_URL", "https://github.com/acme/orders/pull/12"),
    ]
    .into_iter()
    .collect();
    let ci = CiContext::detect(&env);
    assert_eq!(
        ci.change_number,
        Some(12),
        "from the address without CHANGE_ID"
    );
    assert_eq!(
        ci.forge,
        Some(Forge::GitHub {
            api: "https://api.github.com".into(),
            owner: "acme".into(),
            repo: "orders".into(),
        })
    );
}
