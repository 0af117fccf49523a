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
        let mut last = String::new();
        for attempt in 0..4u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt))).await;
            }
            let req = req
                .try_clone()
                .ok_or_else(|| "a request that cannot be retried".to_string())?
                .header("PRIVATE-TOKEN", token.expose_secret());
            match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) if resp.status().is_server_error() || resp.status() == 429 => {
                    last = format!("GitLab answered {}", resp.status());
                }
                Ok(resp) => return Err(format!("GitLab answered {}", resp.status())),
                Err(e) => last = e.without_url().to_string(),
            }
        }
        Err(last)
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
