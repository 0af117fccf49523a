//! Which CI runs us, and what it tells: the commit, the pull or merge request,
//! the repository and the run. Read from a snapshot of the environment so that
//! it can be tested without touching the process's own.

mod git;
#[cfg(test)]
mod tests;
pub mod workflow;

pub use git::{changed_files, git_source_url, head_commit, parent_commit, strip_credentials};
use std::collections::BTreeMap;

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
    /// The commit this change was at before this run's push, where the CI
    /// says (GitHub's `before`, GitLab's `CI_COMMIT_BEFORE_SHA`, Jenkins'
    /// `GIT_PREVIOUS_COMMIT`); all zeros on a first push.
    pub previous_sha: Option<String>,
    /// The pull request or merge request number.
    pub change_number: Option<u64>,
    /// `owner/name` or the GitLab project path.
    pub repository: Option<String>,
    /// The repository's web address.
    pub source_url: Option<String>,
    pub run_id: Option<String>,
    /// The CI run's page, when the CI says it.
    pub run_url: Option<String>,
    /// A `pull_request_target` run for a pull request from a fork: the job
    /// holds the base repository's secrets and write token, and the code
    /// under review is a stranger's.
    pub fork_code_with_write: bool,
    /// Whether the pull request is open (false once closed or merged), where
    /// the CI says.
    pub change_open: Option<bool>,
    /// Where the pull or merge request lives, for the comment.
    pub forge: Option<Forge>,
    /// The files the CI reads a step's results from.
    pub outputs: OutputFiles,
}

/// The API of the forge that holds this run's pull or merge request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forge {
    /// GitHub or GitHub Enterprise: `api` is `https://api.github.com` or
    /// `https://HOST/api/v3`.
    GitHub {
        api: String,
        owner: String,
        repo: String,
    },
    /// GitLab: `CI_API_V4_URL` and `CI_PROJECT_ID`.
    GitLab { api: String, project: String },
}

/// GitHub Actions' step outputs (`GITHUB_OUTPUT`) and job summary
/// (`GITHUB_STEP_SUMMARY`), when the run has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputFiles {
    pub github_output: Option<std::path::PathBuf>,
    pub step_summary: Option<std::path::PathBuf>,
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
            CiContext::none()
        }
    }

    /// A run outside any CI.
    fn none() -> Self {
        CiContext {
            kind: CiKind::None,
            sha: None,
            sha_problem: None,
            previous_sha: None,
            change_number: None,
            repository: None,
            source_url: None,
            run_id: None,
            run_url: None,
            fork_code_with_write: false,
            change_open: None,
            forge: None,
            outputs: OutputFiles::default(),
        }
    }
}

fn github(env: &Env) -> CiContext {
    let repository = env.get("GITHUB_REPOSITORY").map(str::to_string);
    let server = env.get("GITHUB_SERVER_URL").unwrap_or("https://github.com");
    let mut sha = env.get("GITHUB_SHA").map(str::to_string);
    let mut previous_sha = None;
    let mut change_number = None;
    let mut change_open = None;
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
                previous_sha = pr.before;
                change_number = pr.number;
                change_open = pr.open;
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
    let forge = repository
        .as_deref()
        .and_then(|r| r.split_once('/'))
        .map(|(owner, repo)| Forge::GitHub {
            api: env
                .get("GITHUB_API_URL")
                .unwrap_or("https://api.github.com")
                .to_string(),
            owner: owner.to_string(),
            repo: repo.to_string(),
        });
    let run_url = match (&repository, env.get("GITHUB_RUN_ID")) {
        (Some(r), Some(run)) => Some(format!("{server}/{r}/actions/runs/{run}")),
        _ => None,
    };
    CiContext {
        kind: CiKind::GitHub,
        run_url,
        sha,
        sha_problem,
        previous_sha,
        change_number,
        change_open,
        forge,
        outputs: OutputFiles {
            github_output: env.get("GITHUB_OUTPUT").map(Into::into),
            step_summary: env.get("GITHUB_STEP_SUMMARY").map(Into::into),
        },
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
    /// The head before this push (`synchronize` events).
    pub before: Option<String>,
    pub number: Option<u64>,
    /// `pull_request.state`: open, or closed (merged too).
    pub open: Option<bool>,
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
        before: payload["before"].as_str().map(str::to_string),
        number: pr["number"].as_u64(),
        open: pr["state"].as_str().map(|state| state == "open"),
        // A head repository that is gone (a deleted fork) cannot be told
        // apart from a fork's: taken for one, as an unreadable payload is.
        fork_code_with_write: event == "pull_request_target"
            && (head_repo.is_none() || head_repo != base_repo),
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
        previous_sha: env.get("CI_COMMIT_BEFORE_SHA").map(str::to_string),
        change_number: env.get("CI_MERGE_REQUEST_IID").and_then(|n| n.parse().ok()),
        repository: env.get("CI_PROJECT_PATH").map(str::to_string),
        source_url: env.get("CI_PROJECT_URL").map(str::to_string),
        run_id: env.get("CI_PIPELINE_ID").map(str::to_string),
        run_url: env.get("CI_JOB_URL").map(str::to_string),
        forge: match (env.get("CI_API_V4_URL"), env.get("CI_PROJECT_ID")) {
            (Some(api), Some(project)) => Some(Forge::GitLab {
                api: api.to_string(),
                project: project.to_string(),
            }),
            _ => None,
        },
        ..CiContext::none()
    }
}

fn jenkins(env: &Env) -> CiContext {
    CiContext {
        kind: CiKind::Jenkins,
        sha_problem: None,
        sha: env.get("GIT_COMMIT").map(str::to_string),
        previous_sha: env.get("GIT_PREVIOUS_COMMIT").map(str::to_string),
        // CHANGE_ID, else the number in the pull request's address.
        change_number: env
            .get("CHANGE_ID")
            .and_then(|n| n.parse().ok())
            .or_else(|| env.get("CHANGE_URL").and_then(parse_pull_url).map(|p| p.3)),
        repository: None,
        source_url: env.get("GIT_URL").map(strip_credentials),
        run_id: env.get("BUILD_TAG").map(str::to_string),
        run_url: env.get("BUILD_URL").map(strip_credentials),
        // A multibranch job of a GitHub source: the pull request's address.
        forge: env
            .get("CHANGE_URL")
            .and_then(parse_pull_url)
            .map(|(host, owner, repo, _)| Forge::GitHub {
                api: env
                    .get("GITHUB_API_URL")
                    .map(str::to_string)
                    .unwrap_or_else(|| api_for_host(&host)),
                owner,
                repo,
            }),
        ..CiContext::none()
    }
}

/// `owner/repo` and the PR number from a pull request's web address
/// (Jenkins' CHANGE_URL): `https://github.com/acme/fn/pull/12`.
pub fn parse_pull_url(url: &str) -> Option<(String, String, String, u64)> {
    let rest = url.strip_prefix("https://")?;
    let mut parts = rest.trim_end_matches('/').split('/');
    let host = parts.next()?.to_string();
    let owner = parts.next()?.to_string();
    let repo = parts.next()?.to_string();
    if parts.next()? != "pull" {
        return None;
    }
    let number = parts.next()?.parse().ok()?;
    Some((host, owner, repo, number))
}

/// The REST API of a GitHub host: api.github.com, or /api/v3 on Enterprise.
pub fn api_for_host(host: &str) -> String {
    if host == "github.com" {
        "https://api.github.com".to_string()
    } else {
        format!("https://{host}/api/v3")
    }
}

#[cfg(test)]
mod context_tests;
