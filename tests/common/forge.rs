//! A stateful double of the GitHub and GitLab REST APIs, for the calls the
//! living comment makes, answering with the services' documented JSON shapes:
//! GitHub's issue comments (paginated with `Link`), GitLab's merge-request
//! notes (paginated with `X-Next-Page`). Each comment has its author: the
//! runs post as the workflow token's bot (`github-actions[bot]`, GitLab's
//! `project_1_bot`), which may edit and delete only its own, as the services
//! answer (403); a participant's comments are seeded with `post_as`. It says
//! who a token is as the services do: GraphQL's `viewer` and GitLab's
//! `GET /user` answer, GitHub's `GET /user` refuses the workflow token. It
//! can refuse posts with a 403, as GitHub does to a fork's read-only token.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    /// (id, thread, body, author): a thread is `o/r#n` on GitHub,
    /// `project!iid` on GitLab; the author is a login.
    comments: Vec<(u64, String, String, String)>,
    /// Neither GraphQL's `viewer` nor `GET /user` answers.
    hide_identity: bool,
    next_id: u64,
    forbid_posts: bool,
    /// Answer the next post with GitHub's secondary rate limit (403, retry-after).
    rate_limit_next_post: bool,
    /// Answer the next request with this server error.
    fail_next: Option<u16>,
    /// Method and path of every request, and its authorization header.
    requests: Vec<(String, String, String)>,
}

pub struct Forge {
    pub url: String,
    state: Arc<Mutex<State>>,
    _runtime: tokio::runtime::Runtime,
}

impl Forge {
    pub fn start() -> Forge {
        let (runtime, listener, addr) = super::server_on_loopback(1);
        let url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State {
            next_id: 1000,
            ..State::default()
        }));
        let (shared, base) = (state.clone(), url.clone());
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (state, base) = (shared.clone(), base.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(req, state.clone(), base.clone()));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Forge {
            url,
            state,
            _runtime: runtime,
        }
    }

    /// Comments someone else wrote, to make the list long.
    pub fn seed(&self, thread: &str, count: usize) {
        let mut s = self.state.lock().unwrap();
        for i in 0..count {
            s.next_id += 1;
            let id = s.next_id;
            s.comments.push((
                id,
                thread.to_string(),
                format!("an unrelated comment {i}"),
                PARTICIPANT.to_string(),
            ));
        }
    }

    /// A comment a participant of the thread posts, whatever it says.
    pub fn post_as(&self, thread: &str, login: &str, body: &str) {
        let mut s = self.state.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        s.comments
            .push((id, thread.to_string(), body.to_string(), login.to_string()));
    }

    /// The token's identity is not said: it must be learned another way.
    pub fn hide_identity(&self) {
        self.state.lock().unwrap().hide_identity = true;
    }

    /// A thread's comments with their authors, oldest first.
    pub fn comments_by(&self, thread: &str) -> Vec<(String, String)> {
        let s = self.state.lock().unwrap();
        s.comments
            .iter()
            .filter(|(_, t, _, _)| t == thread)
            .map(|(_, _, b, a)| (a.clone(), b.clone()))
            .collect()
    }

    pub fn forbid_posts(&self) {
        self.state.lock().unwrap().forbid_posts = true;
    }

    pub fn fail_next(&self, status: u16) {
        self.state.lock().unwrap().fail_next = Some(status);
    }

    pub fn rate_limit_next_post(&self) {
        self.state.lock().unwrap().rate_limit_next_post = true;
    }

    /// The bodies of a thread's comments, oldest first.
    pub fn comments(&self, thread: &str) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.comments
            .iter()
            .filter(|(_, t, _, _)| t == thread)
            .map(|(_, _, b, _)| b.clone())
            .collect()
    }

    pub fn requests(&self) -> Vec<(String, String, String)> {
        self.state.lock().unwrap().requests.clone()
    }
}

#[path = "forge_json.rs"]
mod json;
pub use json::{GITHUB_BOT, GITLAB_BOT, PARTICIPANT};
use json::{github_comment, gitlab_note, gitlab_user};

fn query(uri: &hyper::Uri, key: &str) -> Option<usize> {
    uri.query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.parse().ok()).flatten()
    })
}

fn answer(status: u16, headers: Vec<(&str, String)>, body: Value) -> Response<Full<Bytes>> {
    let mut resp = Response::builder()
        .status(status)
        .header("Content-Type", "application/json");
    for (k, v) in headers {
        resp = resp.header(k, v);
    }
    resp.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
    base: String,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let auth = parts
        .headers
        .get("authorization")
        .or_else(|| parts.headers.get("private-token"))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
        .unwrap_or_default();
    let mut s = state.lock().unwrap();
    s.requests
        .push((method.clone(), parts.uri.to_string(), auth));
    let seg: Vec<&str> = path.trim_matches('/').split('/').collect();
    let per_page = query(&parts.uri, "per_page").unwrap_or(30).min(100);
    let page = query(&parts.uri, "page").unwrap_or(1).max(1);
    if let Some(status) = s.fail_next.take() {
        return Ok(answer(status, vec![], json!({"message": "Server Error"})));
    }
    // Who the token is, as each service says it.
    match (method.as_str(), seg.as_slice()) {
        ("POST", ["graphql"]) if !s.hide_identity => {
            return Ok(answer(
                200,
                vec![],
                json!({"data": {"viewer": {"login": GITHUB_BOT}}}),
            ));
        }
        ("GET", ["api", "v4", "user"]) if !s.hide_identity => {
            return Ok(answer(200, vec![], gitlab_user(GITLAB_BOT)));
        }
        ("POST", ["graphql"]) | ("GET", ["user"]) | ("GET", ["api", "v4", "user"]) => {
            return Ok(answer(
                403,
                vec![],
                json!({"message": "Resource not accessible by integration"}),
            ));
        }
        _ => {}
    }
    let posting = method != "GET";
    if posting && s.rate_limit_next_post {
        s.rate_limit_next_post = false;
        return Ok(answer(
            403,
            vec![("retry-after", "1".to_string())],
            json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                   "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}),
        ));
    }
    if posting && s.forbid_posts {
        return Ok(answer(
            403,
            vec![],
            json!({"message": "Resource not accessible by integration",
                   "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
                   "status": "403"}),
        ));
    }
    let new_body = sent["body"].as_str().unwrap_or_default().to_string();
    let forbidden = |message: &str| answer(403, vec![], json!({ "message": message }));
    // The workflow token edits and deletes only the comments it wrote.
    let not_ours = |s: &State, id: u64, bot: &str| {
        s.comments
            .iter()
            .any(|(i, _, _, author)| *i == id && author != bot)
    };
    match (method.as_str(), seg.as_slice()) {
        // GitHub: list, create, update, delete issue comments.
        ("GET", ["repos", o, r, "issues", n, "comments"]) => {
            let thread = format!("{o}/{r}#{n}");
            let all: Vec<_> = s.comments.iter().filter(|c| c.1 == thread).collect();
            let start = (page - 1) * per_page;
            let items: Vec<Value> = all
                .iter()
                .skip(start)
                .take(per_page)
                .map(|(id, _, b, a)| github_comment(&base, &format!("{o}/{r}"), n, (*id, b, a)))
                .collect();
            let mut headers = vec![];
            if start + per_page < all.len() {
                headers.push((
                    "Link",
                    format!(
                        "<{base}/repos/{o}/{r}/issues/{n}/comments?per_page={per_page}&page={}>; rel=\"next\"",
                        page + 1
                    ),
                ));
            }
            Ok(answer(200, headers, Value::Array(items)))
        }
        ("POST", ["repos", o, r, "issues", n, "comments"]) => {
            s.next_id += 1;
            let id = s.next_id;
            s.comments.push((
                id,
                format!("{o}/{r}#{n}"),
                new_body.clone(),
                GITHUB_BOT.to_string(),
            ));
            Ok(answer(
                201,
                vec![],
                github_comment(&base, &format!("{o}/{r}"), n, (id, &new_body, GITHUB_BOT)),
            ))
        }
        // GitHub documents PATCH for "update an issue comment"; a POST there is a 404.
        ("PATCH", ["repos", o, r, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            if not_ours(&s, id, GITHUB_BOT) {
                return Ok(forbidden("Resource not accessible by integration"));
            }
            match s.comments.iter_mut().find(|c| c.0 == id) {
                Some(c) => {
                    c.2 = new_body.clone();
                    let number = c.1.rsplit('#').next().unwrap_or("0").to_string();
                    Ok(answer(
                        200,
                        vec![],
                        github_comment(
                            &base,
                            &format!("{o}/{r}"),
                            &number,
                            (id, &new_body, GITHUB_BOT),
                        ),
                    ))
                }
                None => Ok(answer(404, vec![], json!({"message": "Not Found"}))),
            }
        }
        ("DELETE", ["repos", _o, _r, "issues", "comments", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            if not_ours(&s, id, GITHUB_BOT) {
                return Ok(forbidden("Resource not accessible by integration"));
            }
            Ok(delete(&mut s, id, "Not Found"))
        }
        // GitLab: list, create, update, delete merge-request notes.
        ("GET", ["api", "v4", "projects", p, "merge_requests", iid, "notes"]) => {
            let thread = format!("{p}!{iid}");
            let mut all: Vec<_> = s.comments.iter().filter(|c| c.1 == thread).collect();
            // GitLab lists the newest first unless asked otherwise.
            if !parts.uri.query().unwrap_or_default().contains("sort=asc") {
                all.reverse();
            }
            let start = (page - 1) * per_page;
            let items: Vec<Value> = all
                .iter()
                .skip(start)
                .take(per_page)
                .map(|(id, _, b, a)| gitlab_note(*id, b, a))
                .collect();
            let next = if start + per_page < all.len() {
                (page + 1).to_string()
            } else {
                String::new()
            };
            let pages = all.len().div_ceil(per_page).max(1);
            Ok(answer(
                200,
                vec![
                    ("X-Next-Page", next),
                    ("X-Page", page.to_string()),
                    ("X-Per-Page", per_page.to_string()),
                    ("X-Total", all.len().to_string()),
                    ("X-Total-Pages", pages.to_string()),
                ],
                Value::Array(items),
            ))
        }
        ("POST", ["api", "v4", "projects", p, "merge_requests", iid, "notes"]) => {
            s.next_id += 1;
            let id = s.next_id;
            s.comments.push((
                id,
                format!("{p}!{iid}"),
                new_body.clone(),
                GITLAB_BOT.to_string(),
            ));
            Ok(answer(201, vec![], gitlab_note(id, &new_body, GITLAB_BOT)))
        }
        ("PUT", ["api", "v4", "projects", _, "merge_requests", _, "notes", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            if not_ours(&s, id, GITLAB_BOT) {
                return Ok(forbidden("403 Forbidden"));
            }
            match s.comments.iter_mut().find(|c| c.0 == id) {
                Some(c) => {
                    c.2 = new_body.clone();
                    Ok(answer(200, vec![], gitlab_note(id, &new_body, GITLAB_BOT)))
                }
                None => Ok(answer(404, vec![], json!({"message": "404 Not found"}))),
            }
        }
        ("DELETE", ["api", "v4", "projects", _, "merge_requests", _, "notes", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            if not_ours(&s, id, GITLAB_BOT) {
                return Ok(forbidden("403 Forbidden"));
            }
            Ok(delete(&mut s, id, "404 Not found"))
        }
        _ => Ok(answer(404, vec![], json!({"message": "Not Found"}))),
    }
}

/// A comment removed: 204, or 404 when it is not there.
fn delete(s: &mut State, id: u64, not_found: &str) -> Response<Full<Bytes>> {
    let before = s.comments.len();
    s.comments.retain(|c| c.0 != id);
    if s.comments.len() < before {
        Response::builder()
            .status(204)
            .body(Full::new(Bytes::new()))
            .unwrap()
    } else {
        answer(404, vec![], json!({ "message": not_found }))
    }
}
