//! Where a living comment lives, the way release-plz puts forges behind one
//! trait: a GitHub pull request (octocrab) or a GitLab merge request (its
//! REST API). What is posted, and what a failure is said as, is decided once
//! in `post`; each forge says only its own words and makes its own calls.

use super::github::{self, CommentAction};
use super::gitlab;
use secrecy::SecretString;

/// A pull or merge request that can hold the living comment.
pub(crate) trait Thread {
    /// What the comment is called there, as a warning starts.
    const COMMENT: &'static str;
    /// The missing token, and where to give it.
    const NO_TOKEN: &'static str;

    /// The progress line said before posting.
    fn announce(&self) -> String;

    /// The service waited on, as a wait says it.
    fn service(&self) -> String;

    /// Creates the comment that carries `marker`, or updates it with `body`.
    async fn upsert(
        &self,
        token: &SecretString,
        marker: &str,
        body: &str,
    ) -> Result<CommentAction, String>;
}

impl Thread for github::PullRequest {
    const COMMENT: &'static str = "pull-request comment";
    const NO_TOKEN: &'static str = "no GitHub token (pass --github-token or set GITHUB_TOKEN)";

    fn announce(&self) -> String {
        format!(
            "commenting on pull request #{} through {}",
            self.number, self.api
        )
    }

    fn service(&self) -> String {
        format!("GitHub's API at {}", self.api)
    }

    async fn upsert(
        &self,
        token: &SecretString,
        marker: &str,
        body: &str,
    ) -> Result<CommentAction, String> {
        github::upsert_comment(self, token, marker, body).await
    }
}

impl Thread for gitlab::MergeRequest {
    const COMMENT: &'static str = "merge-request note";
    const NO_TOKEN: &'static str = "no GitLab token (pass --gitlab-token or set GITLAB_TOKEN)";

    fn announce(&self) -> String {
        format!("noting on merge request !{}", self.iid)
    }

    fn service(&self) -> String {
        "GitLab's API".to_string()
    }

    async fn upsert(
        &self,
        token: &SecretString,
        marker: &str,
        body: &str,
    ) -> Result<CommentAction, String> {
        gitlab::upsert_note(self, token, marker, body).await
    }
}
