//! The GitHub and GitLab JSON shapes the forge double answers with, as the
//! services document them: users, issue comments, merge-request notes.

use serde_json::{Value, json};

/// The login the runs' token posts as, on each service.
pub const GITHUB_BOT: &str = "github-actions[bot]";
pub const GITLAB_BOT: &str = "project_1_bot";
/// Whoever else takes part in a thread.
pub const PARTICIPANT: &str = "mallory";

fn user(base: &str, login: &str) -> Value {
    let u = format!(
        "{base}/users/{}",
        login.replace('[', "%5B").replace(']', "%5D")
    );
    let bot = login.ends_with("[bot]");
    json!({
        "login": login, "id": if bot { 41898282 } else { 583231 },
        "node_id": "MDM6Qm90NDE4OTgyODI=",
        "avatar_url": "https://avatars.githubusercontent.com/in/15368?v=4", "gravatar_id": "",
        "url": u, "html_url": "https://github.com/apps/github-actions",
        "followers_url": format!("{u}/followers"), "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"), "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"), "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"), "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": if bot { "Bot" } else { "User" }, "site_admin": false
    })
}

pub(super) fn github_comment(base: &str, repo: &str, number: &str, c: (u64, &str, &str)) -> Value {
    let (id, body, author) = c;
    json!({
        "id": id, "node_id": format!("IC_kwDO{id}"),
        "url": format!("{base}/repos/{repo}/issues/comments/{id}"),
        "html_url": format!("https://github.com/{repo}/pull/{number}#issuecomment-{id}"),
        "issue_url": format!("{base}/repos/{repo}/issues/{number}"),
        "body": body, "user": user(base, author), "author_association": "NONE",
        "created_at": "2026-11-24T04:00:00Z", "updated_at": "2026-11-24T04:00:00Z"
    })
}

pub(super) fn gitlab_user(login: &str) -> Value {
    json!({"id": if login == GITLAB_BOT { 1 } else { 2 }, "username": login, "name": login,
           "state": "active", "avatar_url": null, "web_url": format!("https://gitlab.example/{login}")})
}

pub(super) fn gitlab_note(id: u64, body: &str, author: &str) -> Value {
    json!({
        "id": id, "type": null, "body": body, "attachment": null,
        "author": gitlab_user(author),
        "created_at": "2026-11-24T04:00:00.000Z", "updated_at": "2026-11-24T04:00:00.000Z",
        "system": false, "noteable_id": 7, "noteable_type": "MergeRequest", "noteable_iid": 7,
        "resolvable": false, "confidential": false, "internal": false
    })
}
