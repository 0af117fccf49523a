//! Feedback where people look: the living pull-request comment (GitHub) or
//! merge-request note (GitLab), the job summary, step outputs, annotations
//! and a dotenv file. Nothing here can fail a deploy: what cannot be posted
//! is a warning in the log and the summary.

pub mod actions;
mod costs;
pub mod github;
pub mod gitlab;
mod inline;
pub mod markdown;

use crate::ci::workflow;
use crate::ci::{CiContext, CiKind, Forge};
use crate::progress::Progress;
use crate::report::RunReport;
use github::CommentAction;
use secrecy::SecretString;
use std::path::PathBuf;

pub use crate::model::CommentMode;

#[derive(Debug, Clone)]
pub struct FeedbackConfig {
    pub comment: CommentMode,
    pub github_token: Option<SecretString>,
    pub gitlab_token: Option<SecretString>,
    /// Keeps the comments of different deploys on one PR apart.
    pub comment_key: String,
    pub dotenv: Option<PathBuf>,
}

/// Where the comment goes.
enum Target {
    GitHub(github::PullRequest),
    GitLab(gitlab::MergeRequest),
}

/// What publishing did: the comment, and the warnings it met.
#[derive(Debug, Default)]
pub struct Published {
    pub comment: Option<CommentAction>,
    pub warnings: Vec<String>,
}

/// The job summary: the comment's body, then each warning, whose words (a
/// service's own) stay inert as a function's do.
pub fn job_summary(body: &str, warnings: &[String]) -> String {
    let mut summary = body.to_string();
    for w in warnings {
        summary.push_str(&format!(
            "\n> [!WARNING]\n> lambda-ship could not do everything it was asked:\n\n{}\n",
            markdown::fence(w)
        ));
    }
    summary
}

/// How long the comment or note may take, retries included, and how often
/// a wait for it is said.
const FORGE_LIMIT: std::time::Duration = std::time::Duration::from_secs(90);
const FORGE_NOTICE: std::time::Duration = std::time::Duration::from_secs(15);

pub async fn publish(
    report: &RunReport,
    config: &FeedbackConfig,
    ci: &CiContext,
    progress: &Progress,
) -> Published {
    let body = markdown::render(report, &config.comment_key);
    let mut published = post(&body, config, ci, progress).await;

    let outputs = actions::outputs(report);
    let mut file_errors = Vec::new();
    if ci.kind == CiKind::GitHub {
        if let Some(path) = &ci.outputs.github_output
            && let Err(e) = actions::write_github_outputs(path, &outputs)
        {
            file_errors.push(format!("cannot write the step outputs: {e}"));
        }
        if let Some(path) = &ci.outputs.step_summary {
            let summary = job_summary(&body, &published.warnings);
            if let Err(e) = actions::append(path, &summary) {
                file_errors.push(format!("cannot write the job summary: {e}"));
            }
        }
        if let Some(failure) = &report.failure {
            eprintln!("{}", workflow::annotation("error", &failure.message));
        }
        // A regression past a threshold: seen on the run, never a failure.
        for f in &report.functions {
            for w in &f.warnings {
                eprintln!(
                    "{}",
                    workflow::annotation("warning", &format!("{}: {w}", f.name))
                );
            }
        }
    }
    if let Some(path) = &config.dotenv
        && let Err(e) = actions::write_dotenv(path, &outputs)
    {
        file_errors.push(format!("cannot write {}: {e}", path.display()));
    }
    published.warnings.extend(file_errors);
    for w in &published.warnings {
        progress.stage(&format!("warning: {w}"));
        if ci.kind == CiKind::GitHub {
            eprintln!("{}", workflow::annotation("warning", w));
        }
    }
    published
}

/// Creates or updates the living comment (GitHub) or note (GitLab) with `body`.
pub async fn post(
    body: &str,
    config: &FeedbackConfig,
    ci: &CiContext,
    progress: &Progress,
) -> Published {
    let mut published = Published::default();
    let marker = markdown::marker(&config.comment_key);
    if config.comment != CommentMode::Never {
        match (target(ci), config) {
            (Some(Target::GitHub(pr)), FeedbackConfig { github_token: Some(token), .. }) => {
                progress.stage(&format!(
                    "commenting on pull request #{} through {}",
                    pr.number, pr.api
                ));
                let posting = github::upsert_comment(&pr, token, &marker, body);
                let what = format!("GitHub's API at {}", pr.api);
                match progress.waiting(&what, FORGE_LIMIT, FORGE_NOTICE, posting).await {
                    Ok(Ok(action)) => published.comment = Some(action),
                    Ok(Err(e)) | Err(e) => {
                        published.warnings.push(format!("no pull-request comment: {e}"))
                    }
                }
            }
            (Some(Target::GitLab(mr)), FeedbackConfig { gitlab_token: Some(token), .. }) => {
                progress.stage(&format!("noting on merge request !{}", mr.iid));
                let posting = gitlab::upsert_note(&mr, token, &marker, body);
                match progress
                    .waiting("GitLab's API", FORGE_LIMIT, FORGE_NOTICE, posting)
                    .await
                {
                    Ok(Ok(action)) => published.comment = Some(action),
                    Ok(Err(e)) | Err(e) => {
                        published.warnings.push(format!("no merge-request note: {e}"))
                    }
                }
            }
            (Some(Target::GitHub(_)), _) => published.warnings.push(
                "no pull-request comment: no GitHub token (pass --github-token or set GITHUB_TOKEN)"
                    .to_string(),
            ),
            (Some(Target::GitLab(_)), _) => published.warnings.push(
                "no merge-request note: no GitLab token (pass --gitlab-token or set GITLAB_TOKEN)"
                    .to_string(),
            ),
            (None, _) if config.comment == CommentMode::Always => published
                .warnings
                .push("no comment: this run is not for a pull or merge request".to_string()),
            (None, _) => {}
        }
    }
    if let Some(action) = published.comment {
        progress.stage(&format!(
            "comment {}",
            serde_json::to_string(&action)
                .unwrap_or_default()
                .trim_matches('"')
        ));
    }

    published
}

/// The pull or merge request of this run, as the CI described it.
fn target(ci: &CiContext) -> Option<Target> {
    let number = ci.change_number?;
    match ci.forge.clone()? {
        Forge::GitHub { api, owner, repo } => Some(Target::GitHub(github::PullRequest {
            api,
            owner,
            repo,
            number,
        })),
        Forge::GitLab { api, project } => Some(Target::GitLab(gitlab::MergeRequest {
            api,
            project,
            iid: number,
        })),
    }
}
