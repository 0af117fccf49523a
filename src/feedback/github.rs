//! The living pull-request comment on GitHub, through octocrab: found by its
//! marker among the comments this token's identity wrote, updated in place,
//! created only when there is none; anyone else's comment is never touched.

use octocrab::Octocrab;
use octocrab::service::middleware::retry::{NoOpRateLimitMetrics, RetryConfig};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;

/// A pull request and how to reach its API.
#[derive(Debug, Clone)]
pub struct PullRequest {
    /// `https://api.github.com`, or `GITHUB_API_URL` (GitHub Enterprise).
    pub api: String,
    pub owner: String,
    pub repo: String,
    pub number: u64,
}

/// What the comment call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentAction {
    Created,
    Updated,
}

pub async fn upsert_comment(
    pr: &PullRequest,
    token: &SecretString,
    marker: &str,
    body: &str,
) -> Result<CommentAction, String> {
    let octo = Octocrab::builder()
        .base_uri(pr.api.as_str())
        .map_err(|e| format!("the GitHub API address {} is not valid: {e}", pr.api))?
        .personal_token(token.expose_secret().to_string())
        .add_retry_config(RetryConfig::HandleRateLimits {
            metrics: Arc::new(NoOpRateLimitMetrics),
            max_retries: 3,
            min_wait_seconds: 2,
            retry_on_forbidden: false,
        })
        .set_connect_timeout(Some(Duration::from_secs(15)))
        .set_read_timeout(Some(Duration::from_secs(30)))
        .build()
        .map_err(|e| format!("cannot set up the GitHub client: {e}"))?;
    let issues = octo.issues(&pr.owner, &pr.repo);
    // The marker is public (the workflow names the functions): a comment is
    // ours only when the identity this token posts as wrote it.
    let (marked, me) = tokio::join!(marked(&octo, pr, marker), identity(&octo));
    let marked = marked?;
    if let Some(me) = &me
        && let Some(c) = own(&marked, me).first()
    {
        return update(&octo, pr, c.id, body)
            .await
            .map(|()| CommentAction::Updated);
    }
    let created = issues
        .create_comment(pr.number, body)
        .await
        .map_err(|e| describe(&e, "post the comment"))?;
    // Who posted it, when the token would not say before.
    let me = me.unwrap_or_else(|| created.user.login.clone());
    // Two runs for one pull request may both have found no comment of
    // theirs and both created one. Each keeps the oldest of its own and
    // removes its own others, so one stays; no one else's is touched.
    let marked = marked_by(&octo, pr, marker, &me).await?;
    if let Some((keep, extra)) = marked.split_first()
        && !extra.is_empty()
    {
        for c in extra {
            // Already removed by the other run: nothing to do.
            let _ = issues.delete_comment(c.id).await;
        }
        update(&octo, pr, keep.id, body).await?;
        if keep.id != created.id {
            return Ok(CommentAction::Updated);
        }
    }
    Ok(CommentAction::Created)
}

/// The login this token posts as: GraphQL's `viewer`, which answers for the
/// workflow token (`github-actions[bot]`), a GitHub App's token (its bot)
/// and a personal token (its user) alike; else `GET /user`, which only a
/// user's token may call. None when neither answers: then it is learned
/// from the comment the run creates.
async fn identity(octo: &Octocrab) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Viewer {
        viewer: Login,
    }
    #[derive(serde::Deserialize)]
    struct Login {
        login: String,
    }
    let query = serde_json::json!({ "query": "query { viewer { login } }" });
    match octo.graphql::<Viewer>(&query).await {
        Ok(v) => Some(v.viewer.login),
        Err(_) => octo.current().user().await.ok().map(|u| u.login),
    }
}

/// The marked comments `me` wrote, oldest first.
fn own<'a>(
    marked: &'a [octocrab::models::issues::Comment],
    me: &str,
) -> Vec<&'a octocrab::models::issues::Comment> {
    marked.iter().filter(|c| c.user.login == me).collect()
}

async fn marked_by(
    octo: &Octocrab,
    pr: &PullRequest,
    marker: &str,
    me: &str,
) -> Result<Vec<octocrab::models::issues::Comment>, String> {
    let marked = marked(octo, pr, marker).await?;
    Ok(own(&marked, me).into_iter().cloned().collect())
}

/// Updates one comment with `PATCH`, as GitHub documents it ("update an issue
/// comment"); octocrab's `update_comment` sends `POST`, which GitHub answers 404.
async fn update(
    octo: &Octocrab,
    pr: &PullRequest,
    id: octocrab::models::CommentId,
    body: &str,
) -> Result<(), String> {
    let route = format!("/repos/{}/{}/issues/comments/{id}", pr.owner, pr.repo);
    octo.patch::<octocrab::models::issues::Comment, _, _>(
        route,
        Some(&serde_json::json!({ "body": body })),
    )
    .await
    .map(|_| ())
    .map_err(|e| describe(&e, "update the comment"))
}

/// The pull request's comments that carry `marker`, across all pages, oldest first.
async fn marked(
    octo: &Octocrab,
    pr: &PullRequest,
    marker: &str,
) -> Result<Vec<octocrab::models::issues::Comment>, String> {
    let first = octo
        .issues(&pr.owner, &pr.repo)
        .list_comments(pr.number)
        .per_page(100)
        .send()
        .await
        .map_err(|e| describe(&e, "list the pull request's comments"))?;
    let mut ours: Vec<_> = octo
        .all_pages(first)
        .await
        .map_err(|e| describe(&e, "list the pull request's comments"))?
        .into_iter()
        .filter(|c| c.body.as_deref().is_some_and(|b| b.starts_with(marker)))
        .collect();
    ours.sort_by_key(|c| c.id);
    Ok(ours)
}

fn describe(e: &octocrab::Error, what: &str) -> String {
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let hint = if source.status_code.as_u16() == 403 {
                " (a pull request from a fork gets a read-only token; the workflow needs \
                 `permissions: pull-requests: write`)"
            } else {
                ""
            };
            format!(
                "could not {what}: GitHub answered {} {}{hint}",
                source.status_code.as_u16(),
                source.message
            )
        }
        other => format!("could not {what}: {other}"),
    }
}
