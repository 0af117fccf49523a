//! What `CiContext::detect` makes of an environment map: which CI, which
//! commit, which change, and what it does when the CI's word is missing.

use super::*;

const HEAD: &str = "1111111111111111111111111111111111111111";
const MERGE: &str = "2222222222222222222222222222222222222222";
const BEFORE: &str = "3333333333333333333333333333333333333333";

fn env(pairs: &[(&str, &str)]) -> Env {
    pairs.iter().copied().collect()
}

#[test]
fn no_ci_and_empty_or_false_variables_are_no_ci() {
    for pairs in [
        &[][..],
        &[("GITHUB_ACTIONS", "false")][..],
        &[("GITLAB_CI", ""), ("JENKINS_URL", "")][..],
    ] {
        let ci = CiContext::detect(&env(pairs));
        assert_eq!(ci.kind, CiKind::None, "{pairs:?}");
        assert!(!ci.kind.is_ci());
        assert!(ci.sha.is_none() && ci.forge.is_none() && ci.run_id.is_none());
    }
}

#[test]
fn github_is_asked_first_then_gitlab_then_jenkins() {
    let all = [
        ("GITHUB_ACTIONS", "true"),
        ("GITLAB_CI", "true"),
        ("JENKINS_URL", "https://ci"),
    ];
    assert_eq!(CiContext::detect(&env(&all)).kind, CiKind::GitHub);
    assert_eq!(CiContext::detect(&env(&all[1..])).kind, CiKind::GitLab);
    assert_eq!(CiContext::detect(&env(&all[2..])).kind, CiKind::Jenkins);
}

#[test]
fn a_github_run_is_named_with_its_attempt_on_its_own_server() {
    let ci = CiContext::detect(&env(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SHA", MERGE),
        ("GITHUB_REPOSITORY", "acme/fn"),
        ("GITHUB_SERVER_URL", "https://ghe.acme.io"),
        ("GITHUB_RUN_ID", "99"),
        ("GITHUB_RUN_ATTEMPT", "2"),
    ]));
    assert_eq!(ci.run_id.as_deref(), Some("99-2"));
    assert_eq!(
        ci.source_url.as_deref(),
        Some("https://ghe.acme.io/acme/fn")
    );
    assert_eq!(ci.change_number, None, "a push has no pull request");
    let first = CiContext::detect(&env(&[("GITHUB_ACTIONS", "true"), ("GITHUB_RUN_ID", "99")]));
    assert_eq!(first.run_id.as_deref(), Some("99"));
    assert_eq!(first.forge, None, "no repository, no comment");
}

#[test]
fn an_unreadable_pull_request_payload_gives_no_commit_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let detect = |event: &str| {
        CiContext::detect(&env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", event),
            ("GITHUB_EVENT_PATH", missing.to_str().unwrap()),
            ("GITHUB_SHA", MERGE),
        ]))
    };
    let ci = detect("pull_request");
    assert_eq!(ci.sha, None, "the merge commit is never the head");
    assert!(
        ci.sha_problem
            .as_deref()
            .unwrap()
            .contains("cannot be read as JSON"),
        "{:?}",
        ci.sha_problem
    );
    assert!(!ci.fork_code_with_write);
    assert!(
        detect("pull_request_target").fork_code_with_write,
        "whose code it is cannot be told: taken for a fork's"
    );
}

#[test]
fn a_payload_without_a_head_commit_is_refused() {
    let err = pull_request_event("pull_request", r#"{"pull_request":{"number":3}}"#).unwrap_err();
    assert!(err.contains("no pull_request.head.sha"), "{err}");
    assert!(pull_request_event("pull_request", "[").is_err());
}

#[test]
fn a_synchronize_payload_gives_the_previous_head_and_the_state() {
    let payload = serde_json::json!({
        "before": BEFORE,
        "pull_request": {"number": 5, "state": "open", "head": {"sha": HEAD}}
    })
    .to_string();
    let pr = pull_request_event("pull_request", &payload).unwrap();
    assert_eq!(
        pr,
        PullRequestEvent {
            head_sha: HEAD.into(),
            before: Some(BEFORE.into()),
            number: Some(5),
            open: Some(true),
            fork_code_with_write: false,
        }
    );
}

#[test]
fn a_pull_request_target_from_a_deleted_fork_is_taken_for_a_forks() {
    let payload = serde_json::json!({
        "pull_request": {"number": 5, "head": {"sha": HEAD, "repo": null},
            "base": {"repo": {"full_name": "acme/fn"}}}
    })
    .to_string();
    let pr = pull_request_event("pull_request_target", &payload).unwrap();
    assert!(pr.fork_code_with_write);
}

#[test]
fn gitlab_without_a_merge_request_is_its_commit_and_project() {
    let ci = CiContext::detect(&env(&[
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", HEAD),
        ("CI_COMMIT_BEFORE_SHA", BEFORE),
        ("CI_MERGE_REQUEST_IID", "not-a-number"),
        ("CI_PROJECT_PATH", "acme/team/fn"),
        ("CI_PROJECT_URL", "https://gitlab.example/acme/team/fn"),
        ("CI_PIPELINE_ID", "812"),
        ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
    ]));
    assert_eq!(ci.sha.as_deref(), Some(HEAD));
    assert_eq!(ci.previous_sha.as_deref(), Some(BEFORE));
    assert_eq!(ci.change_number, None);
    assert_eq!(ci.repository.as_deref(), Some("acme/team/fn"));
    assert_eq!(ci.run_id.as_deref(), Some("812"));
    assert_eq!(ci.forge, None, "no project id: nowhere to comment");
    assert_eq!(ci.sha_problem, None);
}

#[test]
fn jenkins_reads_the_change_from_its_url_on_github_enterprise() {
    let ci = CiContext::detect(&env(&[
        ("JENKINS_URL", "https://ci.example"),
        ("GIT_COMMIT", HEAD),
        ("GIT_PREVIOUS_COMMIT", BEFORE),
        ("CHANGE_ID", "PR-5"),
        ("CHANGE_URL", "https://ghe.acme.io/acme/orders/pull/5/"),
        ("BUILD_TAG", "jenkins-orders-PR-5-3"),
    ]));
    assert_eq!(ci.change_number, Some(5), "CHANGE_ID is no number here");
    assert_eq!(ci.previous_sha.as_deref(), Some(BEFORE));
    assert_eq!(ci.run_id.as_deref(), Some("jenkins-orders-PR-5-3"));
    assert_eq!(
        ci.forge,
        Some(Forge::GitHub {
            api: "https://ghe.acme.io/api/v3".into(),
            owner: "acme".into(),
            repo: "orders".into(),
        })
    );
    let told = CiContext::detect(&env(&[
        ("JENKINS_URL", "https://ci.example"),
        ("CHANGE_ID", "7"),
        ("CHANGE_URL", "https://ghe.acme.io/acme/orders/pull/5"),
        ("GITHUB_API_URL", "https://api.ghe.acme.io"),
    ]));
    assert_eq!(told.change_number, Some(7), "CHANGE_ID wins");
    assert!(
        matches!(told.forge, Some(Forge::GitHub { ref api, .. }) if api == "https://api.ghe.acme.io")
    );
}

#[test]
fn pull_urls_are_read_only_from_https_pull_addresses() {
    assert_eq!(
        parse_pull_url("https://github.com/a/b/pull/12/files").map(|p| p.3),
        Some(12)
    );
    for bad in [
        "http://github.com/a/b/pull/12",
        "https://github.com/a/b/pull/x",
        "https://github.com/a/b/issues/12",
        "https://github.com/a/b",
    ] {
        assert_eq!(parse_pull_url(bad), None, "{bad}");
    }
}

#[test]
fn only_the_userinfo_of_a_url_is_stripped() {
    assert_eq!(
        strip_credentials("ssh://git:pw@host.example:22/acme/fn.git"),
        "ssh://host.example:22/acme/fn.git"
    );
    assert_eq!(
        strip_credentials("https://tok@host.example"),
        "https://host.example"
    );
    assert_eq!(
        strip_credentials("https://user:pa%20ss@host.example/x?y#z"),
        "https://host.example/x?y#z"
    );
    // A password a URL parser would end the host at: still stripped.
    for leaky in ["https://user:123#tok@host/x", "https://oauth2:?tok@host/x"] {
        assert_eq!(strip_credentials(leaky), "https://host/x", "{leaky}");
    }
    assert_eq!(
        strip_credentials("https://host.example/a@b/c"),
        "https://host.example/a@b/c",
        "an @ in the path is not userinfo"
    );
}
