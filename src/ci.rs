//! Which CI runs us, and what it tells: the commit, the pull or merge request,
//! the repository and the run. Read from a snapshot of the environment so that
//! it can be tested without touching the process's own.

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// A snapshot of environment variables.
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    /// A non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Env {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Env(iter
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CiKind {
    GitHub,
    GitLab,
    Jenkins,
    None,
}

impl CiKind {
    pub fn is_ci(self) -> bool {
        self != CiKind::None
    }
}

/// What the CI's environment says about this run.
#[derive(Debug, Clone)]
pub struct CiContext {
    pub kind: CiKind,
    /// The commit under test: on a pull request its head, not the merge commit.
    pub sha: Option<String>,
    /// Why the CI's commit could not be read (a pull-request payload that is
    /// missing or not JSON): an error only when no `--sha` is given.
    pub sha_problem: Option<String>,
    /// The pull request or merge request number.
    pub change_number: Option<u64>,
    /// `owner/name` or the GitLab project path.
    pub repository: Option<String>,
    /// The repository's web address.
    pub source_url: Option<String>,
    pub run_id: Option<String>,
    /// A `pull_request_target` run for a pull request from a fork: the job
    /// holds the base repository's secrets and write token, and the code
    /// under review is a stranger's.
    pub fork_code_with_write: bool,
}

impl CiContext {
    /// Never fails: what cannot be read (a broken pull-request payload) is
    /// kept as a problem for when the commit is needed.
    pub fn detect(env: &Env) -> Self {
        if env.get("GITHUB_ACTIONS") == Some("true") {
            github(env)
        } else if env.get("GITLAB_CI").is_some() {
            gitlab(env)
        } else if env.get("JENKINS_URL").is_some() {
            jenkins(env)
        } else {
            CiContext {
                kind: CiKind::None,
                sha: None,
                sha_problem: None,
                change_number: None,
                repository: None,
                source_url: None,
                run_id: None,
                fork_code_with_write: false,
            }
        }
    }
}

fn github(env: &Env) -> CiContext {
    let repository = env.get("GITHUB_REPOSITORY").map(str::to_string);
    let server = env.get("GITHUB_SERVER_URL").unwrap_or("https://github.com");
    let mut sha = env.get("GITHUB_SHA").map(str::to_string);
    let mut change_number = None;
    let mut fork_code_with_write = false;
    let mut sha_problem = None;
    // On pull_request events GITHUB_SHA is the merge commit GitHub made; the
    // commit a reviewer sees is the PR's head, in the event payload.
    if let (Some(event), Some(path)) = (env.get("GITHUB_EVENT_NAME"), env.get("GITHUB_EVENT_PATH"))
        && event.starts_with("pull_request")
    {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        match pull_request_event(event, &text) {
            Ok(pr) => {
                sha = Some(pr.head_sha);
                change_number = pr.number;
                fork_code_with_write = pr.fork_code_with_write;
            }
            Err(e) => {
                // GITHUB_SHA is the merge commit: never a stand-in for the head.
                sha = None;
                sha_problem = Some(e);
                // Whose code this is cannot be told: a pull_request_target run
                // is treated as a fork's.
                fork_code_with_write = event == "pull_request_target";
            }
        }
    }
    CiContext {
        kind: CiKind::GitHub,
        sha,
        sha_problem,
        change_number,
        source_url: repository.as_ref().map(|r| format!("{server}/{r}")),
        repository,
        run_id: env
            .get("GITHUB_RUN_ID")
            .map(|run| match env.get("GITHUB_RUN_ATTEMPT") {
                Some(attempt) => format!("{run}-{attempt}"),
                None => run.to_string(),
            }),
        fork_code_with_write,
    }
}

/// What a GitHub `pull_request*` event payload says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestEvent {
    pub head_sha: String,
    pub number: Option<u64>,
    pub fork_code_with_write: bool,
}

/// Reads a `pull_request` or `pull_request_target` event payload; the error
/// says why the payload gives no commit.
pub fn pull_request_event(event: &str, text: &str) -> Result<PullRequestEvent, String> {
    let payload = serde_json::from_str::<serde_json::Value>(text).map_err(|_| {
        format!("the {event} event payload in GITHUB_EVENT_PATH cannot be read as JSON")
    })?;
    let pr = &payload["pull_request"];
    let head = pr["head"]["sha"]
        .as_str()
        .ok_or_else(|| format!("the {event} event payload has no pull_request.head.sha"))?;
    let head_repo = pr["head"]["repo"]["full_name"].as_str();
    let base_repo = pr["base"]["repo"]["full_name"].as_str();
    Ok(PullRequestEvent {
        head_sha: head.to_string(),
        number: pr["number"].as_u64(),
        fork_code_with_write: event == "pull_request_target"
            && head_repo.is_some()
            && head_repo != base_repo,
    })
}

fn gitlab(env: &Env) -> CiContext {
    CiContext {
        kind: CiKind::GitLab,
        sha_problem: None,
        // In a merged-results pipeline CI_COMMIT_SHA is the merge; the source
        // branch's head is the commit under review.
        sha: env
            .get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
            .or_else(|| env.get("CI_COMMIT_SHA"))
            .map(str::to_string),
        change_number: env.get("CI_MERGE_REQUEST_IID").and_then(|n| n.parse().ok()),
        repository: env.get("CI_PROJECT_PATH").map(str::to_string),
        source_url: env.get("CI_PROJECT_URL").map(str::to_string),
        run_id: env.get("CI_PIPELINE_ID").map(str::to_string),
        fork_code_with_write: false,
    }
}

fn jenkins(env: &Env) -> CiContext {
    CiContext {
        kind: CiKind::Jenkins,
        sha_problem: None,
        sha: env.get("GIT_COMMIT").map(str::to_string),
        change_number: env.get("CHANGE_ID").and_then(|n| n.parse().ok()),
        repository: None,
        source_url: env.get("GIT_URL").map(strip_credentials),
        run_id: env.get("BUILD_TAG").map(str::to_string),
        fork_code_with_write: false,
    }
}

/// The files of the checkout around `dir` that differ from its HEAD commit
/// (modified, added, deleted or untracked, not ignored by git), as absolute
/// paths. Empty outside a git checkout.
pub fn changed_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| o.stdout)
    };
    let Some(top) = git(&["rev-parse", "--show-toplevel"]) else {
        return Vec::new();
    };
    let top = std::path::PathBuf::from(String::from_utf8_lossy(&top).trim());
    let Some(status) = git(&["status", "--porcelain=v1", "-z", "--untracked-files=all"]) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    // Each record is `XY path`; a rename or copy (R or C in either column)
    // is followed by one more entry, the path it came from.
    let mut entries = status.split(|&b| b == 0).filter(|e| !e.is_empty());
    while let Some(entry) = entries.next() {
        if entry.len() <= 3 {
            continue;
        }
        let (code, path) = entry.split_at(3);
        files.push(top.join(std::ffi::OsStr::from_bytes(path)));
        if code[..2].iter().any(|c| *c == b'R' || *c == b'C')
            && let Some(from) = entries.next()
        {
            files.push(top.join(std::ffi::OsStr::from_bytes(from)));
        }
    }
    files
}

/// The `origin` remote of a checkout, without any credentials in it.
pub fn git_source_url(dir: &Path) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["remote", "get-url", "origin"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| strip_credentials(String::from_utf8_lossy(&out.stdout).trim()))
        .filter(|u| !u.is_empty())
}

/// `https://user:token@host/x` → `https://host/x`: a URL's userinfo never leaves.
pub fn strip_credentials(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
