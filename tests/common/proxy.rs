//! A fault-injecting HTTP double. In front of a real service (moto, the
//! registry) it forwards every request and answers the ones a rule matches as
//! the rule says: a chosen status and body, a dropped connection, or a delay.
//! Without an upstream it stands in for a service that cannot run here
//! (GitHub's OIDC endpoint). It remembers every request and answer.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use super::rule::{Action, Rule};

/// A request the double saw, and what it answered.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub status: u16,
    pub response_body: String,
    /// Whether a rule answered instead of the upstream.
    pub injected: bool,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
    /// Lambda's revisions kept (`revisions.rs`), its guarded writes one at a time.
    revisions: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Requests held now (`Rule::hold_until`).
    holding: usize,
}

pub struct Proxy {
    pub url: String,
    state: Arc<Mutex<State>>,
    _runtime: tokio::runtime::Runtime,
}

impl Proxy {
    /// Starts on a free port of 127.0.0.1, forwarding to `upstream` if given.
    pub fn start(upstream: Option<&str>) -> Proxy {
        let (runtime, std_listener, addr) = super::server_on_loopback(2);
        let url = format!("http://{addr}");
        let state = Arc::new(Mutex::new(State::default()));
        let upstream = upstream.map(|u| u.trim_end_matches('/').to_string());
        let shared = state.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (state, upstream, client) = (shared.clone(), upstream.clone(), client.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        handle(req, state.clone(), upstream.clone(), client.clone())
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Proxy {
            url,
            state,
            _runtime: runtime,
        }
    }

    /// Keeps Lambda's `RevisionId` and `CodeSha256` preconditions, which
    /// moto does not (`revisions.rs`).
    pub fn keep_lambda_revisions(&self) -> &Self {
        self.state.lock().unwrap().revisions = Some(Arc::default());
        self
    }

    /// How many requests are held now.
    pub fn holding(&self) -> usize {
        self.state.lock().unwrap().holding
    }

    pub fn on(&self, rule: Rule) -> &Self {
        self.state.lock().unwrap().rules.push(rule);
        self
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The requests whose method is `method` and whose path contains `path`.
    pub fn seen_matching(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.method == method && s.uri.contains(path))
            .collect()
    }
}

type Answer = Result<Response<Full<Bytes>>, std::io::Error>;

async fn handle(
    req: Request<hyper::body::Incoming>,
    state: Arc<Mutex<State>>,
    upstream: Option<String>,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
) -> Answer {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let uri = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let method = parts.method.to_string();
    let text = String::from_utf8_lossy(&body).to_string();
    let action = {
        let mut state = state.lock().unwrap();
        let mut chosen = None;
        for rule in state.rules.iter_mut() {
            let hit = rule.method.as_deref().is_none_or(|m| m == method)
                && uri.contains(&rule.path_contains)
                && rule
                    .body_contains
                    .as_deref()
                    .is_none_or(|b| text.contains(b))
                && rule.header_contains.as_ref().is_none_or(|(name, want)| {
                    parts.headers.get(name.as_str()).is_some_and(|v| {
                        String::from_utf8_lossy(v.as_bytes()).contains(want.as_str())
                    })
                });
            if !hit {
                continue;
            }
            rule.matched += 1;
            let n = rule.matched;
            if chosen.is_none() && n >= rule.from && n - rule.from < rule.times {
                chosen = Some(rule.action.clone());
            }
        }
        chosen
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).to_string(),
            )
        })
        .collect();
    let record = |status: u16, response_body: String, injected: bool| Seen {
        method: method.clone(),
        uri: uri.clone(),
        headers: headers.clone(),
        body: text.clone(),
        status,
        response_body,
        injected,
    };

    match action.clone() {
        Some(Action::Reset) => {
            state
                .lock()
                .unwrap()
                .seen
                .push(record(0, String::new(), true));
            return Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "injected reset",
            ));
        }
        Some(Action::Respond {
            status,
            headers,
            body: answer,
        }) => {
            state
                .lock()
                .unwrap()
                .seen
                .push(record(status, answer.clone(), true));
            let mut resp = Response::builder().status(status);
            for (k, v) in headers {
                resp = resp.header(k, v);
            }
            return Ok(resp.body(Full::new(Bytes::from(answer))).unwrap());
        }
        Some(Action::Delay(d)) => tokio::time::sleep(d).await,
        Some(Action::Hold(m, path, count)) => {
            let landed = |s: &Seen| s.method == m && s.uri.contains(&path) && s.status != 0;
            state.lock().unwrap().holding += 1;
            for _ in 0..1200 {
                if state
                    .lock()
                    .unwrap()
                    .seen
                    .iter()
                    .filter(|s| landed(s))
                    .count()
                    >= count
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            state.lock().unwrap().holding -= 1;
        }
        Some(Action::SetHeader(..)) | Some(Action::AnswerHeader(..)) | None => {}
    }

    let Some(upstream) = upstream else {
        state
            .lock()
            .unwrap()
            .seen
            .push(record(404, String::new(), false));
        return Ok(Response::builder()
            .status(404)
            .body(Full::new(Bytes::new()))
            .unwrap());
    };
    let mut forward = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{upstream}{uri}"));
    // The Host header is kept, so that a registry's upload locations point
    // back through the proxy.
    let replaced = match &action {
        Some(Action::SetHeader(name, value)) => Some((name.clone(), value.clone())),
        _ => None,
    };
    for (k, v) in parts.headers.iter() {
        if replaced
            .as_ref()
            .is_some_and(|(name, _)| k.as_str().eq_ignore_ascii_case(name))
        {
            continue;
        }
        forward = forward.header(k, v);
    }
    if let Some((name, value)) = replaced {
        forward = forward.header(name, value);
    }
    let forward = forward
        .body(Full::new(body))
        .map_err(std::io::Error::other)?;
    let revisions = state.lock().unwrap().revisions.clone();
    let _one_write = match &revisions {
        Some(writes) if method != "GET" => Some(writes.lock().await),
        _ => None,
    };
    if revisions.is_some() {
        let auth = headers.iter().find(|(k, _)| k == "authorization");
        let write = (method.as_str(), uri.as_str(), text.as_str());
        let auth = auth.map(|(_, v)| v.as_str());
        if let Some(no) = super::revisions::refusal(&client, &upstream, auth, write).await {
            let answer = format!(r#"{{"Type":"User","message":"{}"}}"#, no.message);
            state
                .lock()
                .unwrap()
                .seen
                .push(record(no.status, answer.clone(), true));
            let resp = Response::builder()
                .status(no.status)
                .header("x-amzn-ErrorType", no.kind)
                .header("Content-Type", "application/json");
            return Ok(resp.body(Full::new(Bytes::from(answer))).unwrap());
        }
    }
    let resp = client
        .request(forward)
        .await
        .map_err(std::io::Error::other)?;
    let (mut rparts, rbody) = resp.into_parts();
    if let Some(Action::AnswerHeader(name, value)) = &action {
        rparts.headers.insert(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            hyper::header::HeaderValue::from_str(value).unwrap(),
        );
    }
    let mut rbytes = rbody
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    if revisions.is_some()
        && let Some(stamped) = super::revisions::stamped(&uri, &rbytes)
    {
        rparts.headers.remove(hyper::header::CONTENT_LENGTH);
        rbytes = stamped;
    }
    state.lock().unwrap().seen.push(record(
        rparts.status.as_u16(),
        String::from_utf8_lossy(&rbytes).to_string(),
        false,
    ));
    Ok(Response::from_parts(rparts, Full::new(rbytes)))
}
