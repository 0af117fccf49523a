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
mod rollout;
mod thread;

use crate::ci::workflow;
use crate::ci::{CiContext, CiKind, Forge};
use crate::progress::Progress;
use crate::report::RunReport;
use github::CommentAction;
use secrecy::SecretString;
use std::path::PathBuf;
use thread::Thread;

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
        progress.say(&format!("warning: {w}"));
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
        let posted = match target(ci) {
            Some(Target::GitHub(pr)) => {
                post_on(&pr, config.github_token.as_ref(), &marker, body, progress).await
            }
            Some(Target::GitLab(mr)) => {
                post_on(&mr, config.gitlab_token.as_ref(), &marker, body, progress).await
            }
            None if config.comment == CommentMode::Always => {
                Err("no comment: this run is not for a pull or merge request".to_string())
            }
            None => Ok(None),
        };
        match posted {
            Ok(action) => published.comment = action,
            Err(warning) => published.warnings.push(warning),
        }
    }
    if let Some(action) = published.comment {
        progress.say(&format!(
            "comment {}",
            serde_json::to_string(&action)
                .unwrap_or_default()
                .trim_matches('"')
        ));
    }

    published
}

/// Posts on one pull or merge request; a failure is the warning to give.
async fn post_on<T: Thread>(
    thread: &T,
    token: Option<&SecretString>,
    marker: &str,
    body: &str,
    progress: &Progress,
) -> Result<Option<CommentAction>, String> {
    let Some(token) = token else {
        return Err(format!("no {}: {}", T::COMMENT, T::NO_TOKEN));
    };
    progress.say(&thread.announce());
    let posting = thread.upsert(token, marker, body);
    match progress
        .waiting(&thread.service(), FORGE_LIMIT, FORGE_NOTICE, posting)
        .await
    {
        Ok(Ok(action)) => Ok(Some(action)),
        Ok(Err(e)) | Err(e) => Err(format!("no {}: {e}", T::COMMENT)),
    }
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
