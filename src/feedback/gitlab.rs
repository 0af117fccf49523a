//! The living merge-request note on GitLab, through its REST API
//! (`CI_API_V4_URL`): found by its marker among all the notes, updated in
//! place, created only when there is none.

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

#[derive(serde::Deserialize)]
struct Note {
    id: u64,
    #[serde(default)]
    body: String,
}

pub async fn upsert_note(
    mr: &MergeRequest,
    token: &SecretString,
    marker: &str,
    body: &str,
) -> Result<CommentAction, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("cannot set up the GitLab client: {e}"))?;
    let notes_url = format!(
        "{}/projects/{}/merge_requests/{}/notes",
        mr.api.trim_end_matches('/'),
        mr.project,
        mr.iid
    );
    let send = |req: reqwest::RequestBuilder| async move {
        let req = req.header("PRIVATE-TOKEN", token.expose_secret());
        let resp = crate::http::send_with_retry("GitLab's API", 4, req).await?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(format!("GitLab answered {}", resp.status()))
        }
    };

    let mut page = Some("1".to_string());
    let mut existing = None;
    while let Some(p) = page.take() {
        let resp = send(
            client
                .get(&notes_url)
                .query(&[("per_page", "100"), ("page", p.as_str())]),
        )
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
        if let Some(n) = notes.iter().find(|n| n.body.starts_with(marker)) {
            existing = Some(n.id);
            break;
        }
    }
    let json = serde_json::json!({ "body": body });
    match existing {
        Some(id) => send(client.put(format!("{notes_url}/{id}")).json(&json))
            .await
            .map(|_| CommentAction::Updated)
            .map_err(|e| format!("could not update the note: {e}")),
        None => send(client.post(&notes_url).json(&json))
            .await
            .map(|_| CommentAction::Created)
            .map_err(|e| format!("could not post the note: {e}")),
    }
}
