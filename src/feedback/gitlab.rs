//! The living merge-request note on GitLab, through its REST API
//! (`CI_API_V4_URL`): found by its marker among the notes this token's user
//! wrote, updated in place, created only when there is none; anyone else's
//! note is never touched.

use super::github::CommentAction;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct MergeRequest {
    /// `CI_API_V4_URL`, e.g. `https://gitlab.com/api/v4`.
    pub api: String,
    /// `CI_PROJECT_ID`
    pub project: String,
    /// `CI_MERGE_REQUEST_IID`
    pub iid: u64,
}

#[derive(Clone, serde::Deserialize)]
struct Note {
    id: u64,
    #[serde(default)]
    body: String,
    author: User,
}

#[derive(Clone, serde::Deserialize)]
struct User {
    id: u64,
}

/// One merge request's notes, through one client and token.
struct Notes<'a> {
    client: reqwest::Client,
    token: &'a SecretString,
    api: String,
    url: String,
}

impl Notes<'_> {
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<reqwest::Response, String> {
        let req = req.header("PRIVATE-TOKEN", self.token.expose_secret());
        let resp = crate::http::send_with_retry("GitLab's API", 4, req).await?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(format!("GitLab answered {}", resp.status()))
        }
    }

    /// The user this token acts as (`GET /user`, which personal, project
    /// and group access tokens answer); None when it does not say.
    async fn me(&self) -> Option<u64> {
        let resp = self
            .send(self.client.get(format!("{}/user", self.api)))
            .await
            .ok()?;
        resp.json::<User>().await.ok().map(|u| u.id)
    }

    /// The notes that carry `marker`, oldest first, across all pages.
    async fn marked(&self, marker: &str) -> Result<Vec<Note>, String> {
        let mut page = Some("1".to_string());
        let mut found = Vec::new();
        while let Some(p) = page.take() {
            let resp = self
                .send(self.client.get(&self.url).query(&[
                    ("per_page", "100"),
                    ("page", p.as_str()),
                    ("order_by", "created_at"),
                    ("sort", "asc"),
                ]))
                .await
                .map_err(|e| format!("could not list the merge request's notes: {e}"))?;
            page = resp
                .headers()
                .get("x-next-page")
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .map(str::to_string);
            let notes: Vec<Note> = resp
                .json()
                .await
                .map_err(|e| format!("could not read the merge request's notes: {e}"))?;
            found.extend(notes.into_iter().filter(|n| n.body.starts_with(marker)));
        }
        found.sort_by_key(|n| n.id);
        Ok(found)
    }

    async fn update(&self, id: u64, body: &str) -> Result<(), String> {
        let json = serde_json::json!({ "body": body });
        self.send(self.client.put(format!("{}/{id}", self.url)).json(&json))
            .await
            .map(|_| ())
            .map_err(|e| format!("could not update the note: {e}"))
    }
}

pub async fn upsert_note(
    mr: &MergeRequest,
    token: &SecretString,
    marker: &str,
    body: &str,
) -> Result<CommentAction, String> {
    let api = mr.api.trim_end_matches('/').to_string();
    let notes = Notes {
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| format!("cannot set up the GitLab client: {e}"))?,
        token,
        url: format!(
            "{api}/projects/{}/merge_requests/{}/notes",
            mr.project, mr.iid
        ),
        api,
    };
    // The marker is public: a note is ours only when this token's user wrote it.
    let (marked, me) = tokio::join!(notes.marked(marker), notes.me());
    let marked = marked?;
    if let Some(me) = me
        && let Some(n) = marked.iter().find(|n| n.author.id == me)
    {
        return notes
            .update(n.id, body)
            .await
            .map(|()| CommentAction::Updated);
    }
    let created: Note = notes
        .send(
            notes
                .client
                .post(&notes.url)
                .json(&serde_json::json!({ "body": body })),
        )
        .await
        .map_err(|e| format!("could not post the note: {e}"))?
        .json()
        .await
        .map_err(|e| format!("could not read the note posted: {e}"))?;
    let me = me.unwrap_or(created.author.id);
    // Two runs may both have created one: each keeps the oldest of its own.
    let own: Vec<Note> = notes
        .marked(marker)
        .await?
        .into_iter()
        .filter(|n| n.author.id == me)
        .collect();
    if let Some((keep, extra)) = own.split_first()
        && !extra.is_empty()
    {
        for n in extra {
            // Already removed by the other run: nothing to do.
            let _ = notes
                .send(notes.client.delete(format!("{}/{}", notes.url, n.id)))
                .await;
        }
        notes.update(keep.id, body).await?;
        if keep.id != created.id {
            return Ok(CommentAction::Updated);
        }
    }
    Ok(CommentAction::Created)
}
